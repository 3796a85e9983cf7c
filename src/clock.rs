//! The one source of "now". Everything that depends on the time takes a `Clock` (or an
//! instant read from one), so tests can stand at any moment without sleeping. Waiting for an
//! instant goes through the clock too: the check-in runner sleeps on it, so a test that moves
//! a [`FixedClock`] forward wakes the runner at once instead of waiting for real time.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

/// A future a clock hands out to wait on; boxed so `Clock` stays object-safe.
pub(crate) type ClockFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Tells the current instant, and waits for a later one.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;

    /// Resolves once `now()` is at or past `at` (at once if it already is).
    fn sleep_until(&self, at: DateTime<Utc>) -> ClockFuture<'_>;
}

/// The wall clock of the machine.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

/// The longest single timer the system clock sets. The wall clock can jump (suspend, NTP),
/// and tokio's timer runs on the monotonic clock, so a long wait is cut into pieces, each
/// checked against the wall clock; ten minutes costs nothing measurable while idle.
const LONGEST_TIMER: Duration = Duration::from_secs(600);

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep_until(&self, at: DateTime<Utc>) -> ClockFuture<'_> {
        Box::pin(async move {
            loop {
                let Ok(left) = (at - Utc::now()).to_std() else {
                    return;
                };
                if left.is_zero() {
                    return;
                }
                tokio::time::sleep(left.min(LONGEST_TIMER)).await;
            }
        })
    }
}

/// A clock that stands where it is put: for tests and for replaying history (the audit).
/// Moving it with [`FixedClock::set`] wakes every sleeper whose instant has come.
#[derive(Debug)]
pub struct FixedClock(watch::Sender<DateTime<Utc>>);

impl FixedClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        Self(watch::Sender::new(at))
    }

    pub fn set(&self, at: DateTime<Utc>) {
        self.0.send_replace(at);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.borrow()
    }

    fn sleep_until(&self, at: DateTime<Utc>) -> ClockFuture<'_> {
        let mut moves = self.0.subscribe();
        Box::pin(async move {
            // The sender lives as long as the clock, which outlives this borrow.
            let _ = moves.wait_for(|now| *now >= at).await;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[tokio::test]
    async fn a_fixed_clock_wakes_a_sleeper_only_when_set_to_its_instant() {
        let clock = std::sync::Arc::new(FixedClock::new(at("2026-03-02T09:00:00Z")));
        let sleeper = clock.clone();
        let (woke_tx, mut woke) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            sleeper.sleep_until(at("2026-03-02T09:30:00Z")).await;
            let _ = woke_tx.send(sleeper.now());
        });
        clock.set(at("2026-03-02T09:29:59Z"));
        // Let the sleeper see the move; it must still be asleep.
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert!(woke.try_recv().is_err(), "woke before its instant");
        clock.set(at("2026-03-02T09:31:00Z"));
        assert_eq!(woke.await.unwrap(), at("2026-03-02T09:31:00Z"));
    }

    #[tokio::test]
    async fn sleeping_until_a_past_instant_returns_at_once() {
        let clock = FixedClock::new(at("2026-03-02T09:00:00Z"));
        clock.sleep_until(at("2026-03-02T08:00:00Z")).await;
        SystemClock.sleep_until(Utc::now()).await;
    }
}
