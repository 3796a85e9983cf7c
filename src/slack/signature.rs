//! Slack request signing (v0): `v0=` + hex(HMAC-SHA256(secret, "v0:{timestamp}:{raw body}")).
//! Every `/slack/*` request is checked here before its body is even parsed, so a forged or
//! replayed request costs one HMAC and nothing else.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::secret::Secret;

/// Requests older or newer than this are replays (or a badly wrong clock).
pub const MAX_SKEW_SECONDS: i64 = 5 * 60;

pub(crate) const SIGNATURE_HEADER: &str = "x-slack-signature";
pub(crate) const TIMESTAMP_HEADER: &str = "x-slack-request-timestamp";

/// Why a request was refused. None of these reveal the secret or the expected signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the request has no X-Slack-Request-Timestamp header")]
    MissingTimestamp,
    #[error("the request has no X-Slack-Signature header")]
    MissingSignature,
    #[error("X-Slack-Request-Timestamp `{0}` is not a Unix time")]
    BadTimestamp(String),
    #[error("the request is {age_seconds}s away from now; more than 5 minutes means a replay")]
    Stale { age_seconds: i64 },
    #[error("X-Slack-Signature does not match the body")]
    Mismatch,
}

/// Checks a request against the current time of the machine.
pub fn verify(
    secret: &Secret,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
) -> Result<(), SignatureError> {
    verify_at(
        secret,
        timestamp,
        signature,
        body,
        chrono::Utc::now().timestamp(),
    )
}

/// Checks a request as if the time were `now_unix`: the twin of [`verify`] that tests call.
pub fn verify_at(
    secret: &Secret,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now_unix: i64,
) -> Result<(), SignatureError> {
    let (timestamp, signature) = check_headers_at(timestamp, signature, now_unix)?;
    let claimed = signature
        .strip_prefix("v0=")
        .and_then(|hex_digest| hex::decode(hex_digest).ok())
        .ok_or(SignatureError::Mismatch)?;
    // `verify_slice` compares in constant time.
    mac(secret, timestamp, body)
        .verify_slice(&claimed)
        .map_err(|_| SignatureError::Mismatch)
}

/// The checks that need no body: both headers there, the timestamp within
/// [`MAX_SKEW_SECONDS`] of `now_unix`. The listener runs them before it reads a body, so a
/// request that will be refused anyway never makes it wait for one. Gives the two headers.
pub(crate) fn check_headers_at<'a>(
    timestamp: Option<&'a str>,
    signature: Option<&'a str>,
    now_unix: i64,
) -> Result<(&'a str, &'a str), SignatureError> {
    let timestamp = timestamp.ok_or(SignatureError::MissingTimestamp)?;
    let signature = signature.ok_or(SignatureError::MissingSignature)?;
    let sent_at: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| SignatureError::BadTimestamp(timestamp.chars().take(32).collect()))?;
    let age_seconds = now_unix.saturating_sub(sent_at);
    // `unsigned_abs`: the age saturates at i64::MIN, which `abs` cannot negate.
    if age_seconds.unsigned_abs() > MAX_SKEW_SECONDS.unsigned_abs() {
        return Err(SignatureError::Stale { age_seconds });
    }
    Ok((timestamp, signature))
}

/// The `X-Slack-Signature` value Slack would send for this body: used by tools that play
/// Slack's part (the load tool, the tests).
pub fn sign(secret: &Secret, timestamp: &str, body: &[u8]) -> String {
    format!(
        "v0={}",
        hex::encode(mac(secret, timestamp, body).finalize().into_bytes())
    )
}

fn mac(secret: &Secret, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.expose().as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of Slack's "Verifying requests from Slack" page.
    const DOC_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const DOC_TIMESTAMP: &str = "1531420618";
    const DOC_BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const DOC_SIGNATURE: &str =
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
    const DOC_NOW: i64 = 1_531_420_618;

    fn check(signature: &str, body: &str, now: i64) -> Result<(), SignatureError> {
        verify_at(
            &Secret::new(DOC_SECRET),
            Some(DOC_TIMESTAMP),
            Some(signature),
            body.as_bytes(),
            now,
        )
    }

    #[test]
    fn slacks_documented_example_verifies() {
        assert_eq!(check(DOC_SIGNATURE, DOC_BODY, DOC_NOW), Ok(()));
        assert_eq!(
            sign(&Secret::new(DOC_SECRET), DOC_TIMESTAMP, DOC_BODY.as_bytes()),
            DOC_SIGNATURE
        );
    }

    #[test]
    fn slack_morphisms_precoded_example_verifies() {
        let secret = Secret::new("fa2c05deeef5a4077494e89f54394de0");
        let expected = "v0=baa91ef62d346e56607bbdd278a8acd570b91226854f15a382f43d33be42f666";
        assert_eq!(sign(&secret, "1531420618", b"test-body"), expected);
        assert_eq!(
            verify_at(
                &secret,
                Some("1531420618"),
                Some(expected),
                b"test-body",
                1_531_420_620
            ),
            Ok(())
        );
    }

    #[test]
    fn a_changed_body_or_signature_is_a_mismatch() {
        let tampered = DOC_BODY.replace("roadrunner", "coyote");
        assert_eq!(
            check(DOC_SIGNATURE, &tampered, DOC_NOW),
            Err(SignatureError::Mismatch)
        );
        let wrong = DOC_SIGNATURE.replace("a2114d", "a2114e");
        assert_eq!(
            check(&wrong, DOC_BODY, DOC_NOW),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            check("v1=abc", DOC_BODY, DOC_NOW),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            check("v0=not-hex", DOC_BODY, DOC_NOW),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(check("", DOC_BODY, DOC_NOW), Err(SignatureError::Mismatch));
    }

    #[test]
    fn requests_outside_five_minutes_are_replays() {
        assert_eq!(check(DOC_SIGNATURE, DOC_BODY, DOC_NOW + 300), Ok(()));
        assert_eq!(check(DOC_SIGNATURE, DOC_BODY, DOC_NOW - 300), Ok(()));
        assert_eq!(
            check(DOC_SIGNATURE, DOC_BODY, DOC_NOW + 301),
            Err(SignatureError::Stale { age_seconds: 301 })
        );
        assert_eq!(
            check(DOC_SIGNATURE, DOC_BODY, DOC_NOW - 301),
            Err(SignatureError::Stale { age_seconds: -301 })
        );
    }

    #[test]
    fn missing_or_nonsense_headers_are_refused() {
        let secret = Secret::new(DOC_SECRET);
        let body = DOC_BODY.as_bytes();
        assert_eq!(
            verify_at(&secret, None, Some(DOC_SIGNATURE), body, DOC_NOW),
            Err(SignatureError::MissingTimestamp)
        );
        assert_eq!(
            verify_at(&secret, Some(DOC_TIMESTAMP), None, body, DOC_NOW),
            Err(SignatureError::MissingSignature)
        );
        assert_eq!(
            verify_at(
                &secret,
                Some("yesterday"),
                Some(DOC_SIGNATURE),
                body,
                DOC_NOW
            ),
            Err(SignatureError::BadTimestamp("yesterday".into()))
        );
        assert_eq!(
            verify_at(
                &secret,
                Some("-99999999999999999999"),
                Some(DOC_SIGNATURE),
                body,
                DOC_NOW
            ),
            Err(SignatureError::BadTimestamp("-99999999999999999999".into()))
        );
    }
}
