//! Bounded fuzzing of every reader of untrusted input: the `/async` parser, Slack's event,
//! command and interaction payloads (and the message model behind them), request signatures,
//! the audit's Slack-export reader and the store's import. Each target is one proptest block
//! fed arbitrary and mutated inputs; whatever comes in, the reader answers with a value or a
//! clear error, never a panic, and keeps the promises its docs make.
//!
//! Cases per target: `PROPTEST_CASES` when set, otherwise a small default so the file runs
//! in seconds in debug (CI runs it), always the same cases from a fixed seed. `scripts/fuzz.sh` runs each target for a fixed time in
//! release. A failing case leaves its minimal input in `target/fuzz-failures/`. Every input
//! that once made a reader panic, hang or break a promise lives in
//! `tests/fixtures/fuzz-regressions/`, named `<target>-<what>.<ext>`, and
//! [`every_saved_input_replays_through_its_target`] feeds each back to its target.

#[path = "fuzz/export.rs"]
mod export;
#[path = "fuzz/parser.rs"]
mod parser;
#[path = "fuzz/payloads.rs"]
mod payloads;
#[path = "fuzz/signature.rs"]
mod signature;
#[path = "fuzz/strategies.rs"]
mod strategies;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use proptest::test_runner::{Config, FileFailurePersistence, RngSeed, TestCaseError};

/// Where proptest writes the seed of a failing case; `scripts/fuzz.sh` reports it.
const PERSISTED_FAILURES: &str = "proptest-regressions/fuzz.txt";

/// The seed every target draws its cases from in `cargo test`, so one commit runs the same
/// cases every time. `scripts/fuzz.sh` sets `PROPTEST_RNG_SEED` to a new seed per batch to
/// explore; what it finds is kept in `PERSISTED_FAILURES` and replayed here first.
const FIXED_SEED: u64 = 0x5EED_0001;

/// A target's configuration: `default_cases` cases from [`FIXED_SEED`] unless
/// `PROPTEST_CASES` or `PROPTEST_RNG_SEED` say otherwise (the `proptest!` macro applies the
/// environment over this), failing seeds kept in one committed file.
fn config(default_cases: u32) -> Config {
    Config {
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(PERSISTED_FAILURES))),
        rng_seed: RngSeed::Fixed(FIXED_SEED),
        ..Config::with_cases(default_cases)
    }
}

/// Runs one case's checks; when they fail or panic, the input is written by `save` to
/// `target/fuzz-failures/<name>` and the failure names that path. Each failure of a target
/// overwrites the last, and proptest only keeps a simpler input while it still fails, so
/// after shrinking the file holds the minimal input, ready to copy into
/// `tests/fixtures/fuzz-regressions/`.
fn keep_failing_input(
    name: &str,
    save: impl FnOnce(&Path) -> std::io::Result<()>,
    check: impl FnOnce() -> Result<(), TestCaseError>,
) -> Result<(), TestCaseError> {
    let reason = match catch_unwind(AssertUnwindSafe(check)) {
        Ok(Ok(())) => return Ok(()),
        Ok(Err(TestCaseError::Reject(why))) => return Err(TestCaseError::Reject(why)),
        Ok(Err(TestCaseError::Fail(why))) => why.to_string(),
        Err(panic) => format!("panicked: {}", panic_text(&panic)),
    };
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/fuzz-failures")
        .join(name);
    let _ = std::fs::remove_dir_all(&path);
    let _ = std::fs::remove_file(&path);
    let kept =
        std::fs::create_dir_all(path.parent().unwrap_or(Path::new("."))).and_then(|()| save(&path));
    let whereabouts = match kept {
        Ok(()) => format!("input kept in {}", path.display()),
        Err(e) => format!("input not kept: {e}"),
    };
    Err(TestCaseError::fail(format!("{reason} ({whereabouts})")))
}

/// [`keep_failing_input`] for inputs that are one file.
fn keep_failing_bytes(
    name: &str,
    bytes: &[u8],
    check: impl FnOnce() -> Result<(), TestCaseError>,
) -> Result<(), TestCaseError> {
    keep_failing_input(name, |path| std::fs::write(path, bytes), check)
}

fn regressions_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz-regressions")
}

/// Runs one saved input through the target its name starts with.
fn replay(path: &Path) -> Result<(), TestCaseError> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| TestCaseError::fail("the file name is not UTF-8"))?;
    let (target, _) = name
        .split_once('-')
        .ok_or_else(|| TestCaseError::fail("the name does not start with `<target>-`"))?;
    // The audit reads folders as well as files; everything else is one file.
    if target == "audit" {
        return export::check_audit_of(path);
    }
    let bytes = std::fs::read(path).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let text = || {
        String::from_utf8(bytes.clone()).map_err(|_| TestCaseError::fail("the input is not UTF-8"))
    };
    match target {
        "parse" => parser::check_command_text(&text()?),
        "zone" => parser::check_zone_word(&text()?),
        "envelope" | "event" | "command" | "interaction" | "payload" => {
            payloads::check_body(&bytes)
        }
        "message" => payloads::check_message_json(&bytes),
        "signature" => signature::check_saved_request(&bytes),
        "import" => export::check_import(&bytes),
        other => Err(TestCaseError::fail(format!(
            "no target is called `{other}`"
        ))),
    }
}

#[test]
fn every_saved_input_replays_through_its_target() {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(regressions_dir())
        .expect("tests/fixtures/fuzz-regressions exists")
        .map(|entry| entry.expect("a readable folder entry").path())
        .filter(|path| path.file_name().is_some_and(|n| n != "README.md"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no saved inputs to replay");
    let mut failures = Vec::new();
    for path in &paths {
        let shown = path.file_name().unwrap_or_default().to_string_lossy();
        match catch_unwind(AssertUnwindSafe(|| replay(path))) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failures.push(format!("{shown}: {e}")),
            Err(panic) => failures.push(format!("{shown}: panicked: {}", panic_text(&panic))),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} saved inputs fail:\n{}",
        failures.len(),
        paths.len(),
        failures.join("\n")
    );
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "(no message)".into())
}
