//! Reconnect backoff: exponential from `reconnect_backoff` up to `reconnect_backoff_max`, with
//! ±20 % jitter so that many clients losing a broker at once do not reconnect in lockstep.
//!
//! Sans-IO: time comes in as `now`, randomness as a number in `[0, 1)`, so the schedule is
//! unit-tested without sleeping. The formula is the Java client's `ExponentialBackoff`:
//! `min(base · 2^failures, max) · uniform(0.8, 1.2)`.

use std::time::{Duration, Instant};

/// The jitter kafka-python and the Java client apply: ±20 %.
pub const DEFAULT_JITTER: f64 = 0.2;

/// An exponential backoff schedule.
///
/// ```
/// use std::time::Duration;
/// use klamm_net::backoff::Backoff;
///
/// let backoff = Backoff::new(Duration::from_millis(50), Duration::from_millis(1000));
/// // With the random source at its midpoint, there is no jitter:
/// assert_eq!(backoff.delay(0, 0.5), Duration::from_millis(50));
/// assert_eq!(backoff.delay(3, 0.5), Duration::from_millis(400));
/// assert_eq!(backoff.delay(30, 0.5), Duration::from_millis(1000));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    jitter: f64,
}

impl Backoff {
    /// From `base` doubling up to `max`, with the default ±20 % jitter.
    pub fn new(base: Duration, max: Duration) -> Self {
        Backoff {
            base,
            max: max.max(base),
            jitter: DEFAULT_JITTER,
        }
    }

    /// The same schedule with another jitter fraction (clamped to `0..=1`).
    pub fn with_jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter.clamp(0.0, 1.0);
        self
    }

    /// The delay after `failures` consecutive failures (0 for the first retry), with `random`
    /// drawn uniformly from `[0, 1)` (0.5 means no jitter).
    pub fn delay(&self, failures: u32, random: f64) -> Duration {
        let exponent = failures.min(62) as i32;
        let term = (self.base.as_secs_f64() * 2f64.powi(exponent)).min(self.max.as_secs_f64());
        let factor = 1.0 + self.jitter * (2.0 * random.clamp(0.0, 1.0) - 1.0);
        Duration::from_secs_f64(term * factor)
    }
}

/// Reconnect state of one broker: when the next attempt may start.
///
/// ```
/// use std::time::{Duration, Instant};
/// use klamm_net::backoff::{Backoff, ReconnectSchedule};
///
/// let backoff = Backoff::new(Duration::from_millis(50), Duration::from_secs(1));
/// let mut schedule = ReconnectSchedule::new(backoff);
/// let now = Instant::now();
/// assert!(schedule.may_connect(now));
/// let next = schedule.record_failure(now, 0.5);
/// assert_eq!(next, now + Duration::from_millis(50));
/// assert!(!schedule.may_connect(now));
/// schedule.record_success();
/// assert!(schedule.may_connect(now));
/// ```
#[derive(Debug, Clone)]
pub struct ReconnectSchedule {
    backoff: Backoff,
    failures: u32,
    next_attempt: Option<Instant>,
}

impl ReconnectSchedule {
    /// No failures yet: connecting is allowed at once.
    pub fn new(backoff: Backoff) -> Self {
        ReconnectSchedule {
            backoff,
            failures: 0,
            next_attempt: None,
        }
    }

    /// Records a failed attempt at `now` and returns when the next one may start.
    pub fn record_failure(&mut self, now: Instant, random: f64) -> Instant {
        let next = now + self.backoff.delay(self.failures, random);
        self.failures = self.failures.saturating_add(1);
        self.next_attempt = Some(next);
        next
    }

    /// Records a successful connection: the schedule starts over.
    pub fn record_success(&mut self) {
        self.failures = 0;
        self.next_attempt = None;
    }

    /// Consecutive failures so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Whether an attempt may start at `now`.
    pub fn may_connect(&self, now: Instant) -> bool {
        self.next_attempt.is_none_or(|next| now >= next)
    }

    /// How long to wait at `now` before the next attempt (zero if it may start now).
    pub fn wait(&self, now: Instant) -> Duration {
        self.next_attempt
            .map_or(Duration::ZERO, |next| next.saturating_duration_since(now))
    }
}

/// A number uniformly drawn from `[0, 1)` from the operating system's generator, for
/// [`Backoff::delay`] and [`ReconnectSchedule::record_failure`].
pub fn system_random() -> f64 {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 8];
    if ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
        return 0.5; // no jitter rather than no backoff
    }
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn doubles_from_base_and_caps_at_max() {
        let backoff = Backoff::new(50 * MS, 1000 * MS);
        let delays: Vec<_> = (0..7).map(|n| backoff.delay(n, 0.5)).collect();
        assert_eq!(
            delays,
            [50, 100, 200, 400, 800, 1000, 1000].map(|ms| ms * MS)
        );
        assert_eq!(backoff.delay(u32::MAX, 0.5), 1000 * MS);
    }

    #[test]
    fn jitter_stays_within_twenty_percent() {
        let backoff = Backoff::new(50 * MS, 1000 * MS);
        for failures in [0, 2, 10] {
            let nominal = backoff.delay(failures, 0.5).as_secs_f64();
            for step in 0..=100 {
                let random = step as f64 / 100.0;
                let delay = backoff.delay(failures, random).as_secs_f64();
                assert!(delay >= nominal * 0.8 - 1e-9, "{delay} < 0.8 × {nominal}");
                assert!(delay <= nominal * 1.2 + 1e-9, "{delay} > 1.2 × {nominal}");
            }
            assert!((backoff.delay(failures, 0.0).as_secs_f64() - nominal * 0.8).abs() < 1e-9);
            assert!((backoff.delay(failures, 1.0).as_secs_f64() - nominal * 1.2).abs() < 1e-9);
        }
    }

    #[test]
    fn zero_jitter_is_deterministic() {
        let backoff = Backoff::new(10 * MS, 100 * MS).with_jitter(0.0);
        assert_eq!(backoff.delay(1, 0.0), backoff.delay(1, 0.99));
    }

    #[test]
    fn schedule_grows_with_failures_and_resets_on_success() {
        let mut schedule = ReconnectSchedule::new(Backoff::new(50 * MS, 1000 * MS));
        let t0 = Instant::now();
        assert_eq!(schedule.record_failure(t0, 0.5), t0 + 50 * MS);
        assert_eq!(schedule.record_failure(t0, 0.5), t0 + 100 * MS);
        assert_eq!(schedule.failures(), 2);
        assert_eq!(schedule.wait(t0 + 40 * MS), 60 * MS);
        assert!(schedule.may_connect(t0 + 100 * MS));
        schedule.record_success();
        assert_eq!(schedule.record_failure(t0, 0.5), t0 + 50 * MS);
    }

    #[test]
    fn system_random_is_in_unit_interval() {
        for _ in 0..100 {
            let r = system_random();
            assert!((0.0..1.0).contains(&r), "{r}");
        }
    }
}
