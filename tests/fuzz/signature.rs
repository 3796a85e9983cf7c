//! Target 3: Slack request signatures (`verify`, `verify_at`, `sign`).
//!
//! Arbitrary header strings, bodies, timestamps and clocks never panic; a request signed with
//! `sign` verifies within five minutes; changing any one byte of the body, the timestamp or
//! the signature refuses it (except writing a hex digit of the signature in the other case,
//! which names the same digest); a timestamp more than five minutes away is stale.

use async_norms::config::Secret;
use async_norms::slack::signature::{MAX_SKEW_SECONDS, SignatureError, sign, verify, verify_at};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;
use serde::{Deserialize, Serialize};

use crate::strategies::junk;

/// Timestamps as a header may carry them.
fn timestamp_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|t| t.to_string()),
        (0..4_000_000_000i64).prop_map(|t| t.to_string()),
        prop::sample::select(
            &[
                "",
                " ",
                "0",
                "-0",
                "+1531420618",
                " 1531420618 ",
                "1531420618.5",
                "1e9",
                "9223372036854775807",
                "-9223372036854775808",
                "9223372036854775808",
                "-99999999999999999999",
                "١٥٣١٤٢٠٦١٨",
                "0x5b4",
                "1531420618\0",
                "NaN",
            ][..]
        )
        .prop_map(str::to_string),
        junk(40),
    ]
}

/// Signature headers: well-formed, odd-length hex, wrong prefixes, junk.
fn signature_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "v0=[0-9a-f]{64}",
        "v0=[0-9a-fA-F]{0,130}",
        "(v0|V0|v1|v0=v0|)=?[0-9a-f]{63}",
        prop::sample::select(&["", "v0=", "v0", "=", "v0=0", "v0=zz", "v0=é1"][..])
            .prop_map(str::to_string),
        junk(80),
    ]
}

fn body_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        junk(200).prop_map(String::into_bytes),
        Just(b"token=x&team_id=T1&text=%2Fasync+hours".to_vec()),
        Just(vec![b'a'; 200_000]),
    ]
}

fn clock() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        (0..4_000_000_000i64),
        Just(i64::MIN),
        Just(i64::MAX),
        Just(-1i64),
        Just(-2i64),
    ]
}

/// One arbitrary request: nothing but a `Result` may come out.
fn check_request(
    secret: &Secret,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), TestCaseError> {
    let outcome = verify_at(secret, timestamp, signature, body, now);
    if let Err(error) = &outcome {
        prop_assert!(!error.to_string().is_empty());
        if let SignatureError::BadTimestamp(shown) = error {
            prop_assert!(shown.chars().count() <= 32, "the timestamp is quoted whole");
        }
    }
    if let Ok(()) = outcome {
        // Accepted only when the signature is the one `sign` makes for this request.
        let timestamp = timestamp.unwrap_or_default();
        let expected = sign(secret, timestamp, body);
        prop_assert_eq!(
            signature.map(str::to_ascii_lowercase),
            Some(expected),
            "accepted a signature that is not the body's"
        );
    }
    let _ = verify(secret, timestamp, signature, body);
    Ok(())
}

/// A request saved in `tests/fixtures/fuzz-regressions/signature-*.json`; `body_bytes`,
/// when present, is the body where it is not UTF-8.
#[derive(Serialize, Deserialize)]
struct SavedRequest {
    secret: String,
    timestamp: Option<String>,
    signature: Option<String>,
    body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body_bytes: Option<Vec<u8>>,
    now: i64,
}

pub fn check_saved_request(bytes: &[u8]) -> Result<(), TestCaseError> {
    let saved: SavedRequest = serde_json::from_slice(bytes)
        .map_err(|e| TestCaseError::fail(format!("not a saved request: {e}")))?;
    check_request(
        &Secret::new(saved.secret),
        saved.timestamp.as_deref(),
        saved.signature.as_deref(),
        saved.body_bytes.as_deref().unwrap_or(saved.body.as_bytes()),
        saved.now,
    )
}

/// Replaces the byte at `at` of an ASCII string with another printable ASCII byte.
fn change_byte(text: &str, at: Index, new: u8) -> Option<String> {
    let mut bytes = text.as_bytes().to_vec();
    if bytes.is_empty() {
        return None;
    }
    let i = at.index(bytes.len());
    if bytes[i] == new {
        return None;
    }
    bytes[i] = new;
    String::from_utf8(bytes).ok()
}

proptest! {
    #![proptest_config(crate::config(256))]

    #[test]
    fn signature_check_takes_any_headers_and_clock_without_panicking(
        secret in junk(40),
        timestamp in prop::option::of(timestamp_text()),
        signature in prop::option::of(signature_text()),
        body in body_bytes(),
        now in clock(),
    ) {
        let saved = serde_json::to_vec(&SavedRequest {
            body: String::from_utf8_lossy(&body).into_owned(),
            body_bytes: std::str::from_utf8(&body).is_err().then(|| body.clone()),
            secret: secret.clone(),
            timestamp: timestamp.clone(),
            signature: signature.clone(),
            now,
        })
        .expect("JSON encodes");
        crate::keep_failing_bytes("signature-failure.json", &saved, || {
            check_request(&Secret::new(secret), timestamp.as_deref(), signature.as_deref(), &body, now)
        })?;
    }

    #[test]
    fn signed_requests_verify_and_any_one_byte_changed_is_refused(
        secret in junk(40),
        sent_at in 0..4_000_000_000i64,
        skew in -MAX_SKEW_SECONDS..=MAX_SKEW_SECONDS,
        body in body_bytes(),
        at in any::<Index>(),
        new_byte in 0x20u8..0x7f,
        mask in 1..=255u8,
    ) {
        let secret = Secret::new(secret);
        let timestamp = sent_at.to_string();
        let signature = sign(&secret, &timestamp, &body);
        let now = sent_at + skew;
        prop_assert_eq!(verify_at(&secret, Some(&timestamp), Some(&signature), &body, now), Ok(()));

        if !body.is_empty() {
            let mut changed = body.clone();
            changed[at.index(body.len())] ^= mask;
            prop_assert_eq!(
                verify_at(&secret, Some(&timestamp), Some(&signature), &changed, now),
                Err(SignatureError::Mismatch)
            );
        }
        if let Some(changed) = change_byte(&timestamp, at, new_byte) {
            prop_assert!(verify_at(&secret, Some(&changed), Some(&signature), &body, now).is_err());
        }
        if let Some(changed) = change_byte(&signature, at, new_byte) {
            // `A` and `a` are the same hex digit: the digest is unchanged, so is the answer.
            let same_digest = changed.eq_ignore_ascii_case(&signature) && changed.starts_with("v0=");
            let outcome = verify_at(&secret, Some(&timestamp), Some(&changed), &body, now);
            match same_digest {
                true => prop_assert_eq!(outcome, Ok(())),
                false => prop_assert_eq!(outcome, Err(SignatureError::Mismatch)),
            }
        }
    }

    #[test]
    fn a_request_more_than_five_minutes_away_is_stale(
        secret in junk(20),
        sent_at in any::<i64>(),
        distance in (MAX_SKEW_SECONDS + 1)..i64::MAX,
        later in any::<bool>(),
        body in body_bytes(),
    ) {
        let secret = Secret::new(secret);
        // One of the two directions always fits in an i64.
        let (ahead, behind) = (sent_at.checked_add(distance), sent_at.checked_sub(distance));
        let now = match later {
            true => ahead.or(behind),
            false => behind.or(ahead),
        };
        let now = now.expect("a clock within i64");
        let timestamp = sent_at.to_string();
        let signature = sign(&secret, &timestamp, &body);
        let outcome = verify_at(&secret, Some(&timestamp), Some(&signature), &body, now);
        prop_assert!(matches!(outcome, Err(SignatureError::Stale { .. })), "{:?}", outcome);
    }
}
