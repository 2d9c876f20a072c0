//! Retry decisions under one deadline, sans-IO: [`Deadline`] says how much time an operation
//! has left, [`RetryPolicy`] how long to pause between attempts, and [`Retry`] combines them
//! into "retry after X" or "give up". The async glue in `cluster` only sleeps for what they say,
//! so all of this is unit-tested without sleeping.

use std::time::{Duration, Instant};

use klamm_net::backoff::Backoff;

/// The point in time an operation must finish by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    start: Instant,
    at: Instant,
}

impl Deadline {
    /// A deadline `timeout` after `now`.
    pub fn after(now: Instant, timeout: Duration) -> Self {
        Deadline {
            start: now,
            at: now + timeout,
        }
    }

    /// When it passes.
    pub fn at(&self) -> Instant {
        self.at
    }

    /// The whole time the operation was given.
    pub fn timeout(&self) -> Duration {
        self.at - self.start
    }

    /// Time left at `now` (zero once passed).
    pub fn remaining(&self, now: Instant) -> Duration {
        self.at.saturating_duration_since(now)
    }

    /// Whether it has passed at `now`.
    pub fn is_expired(&self, now: Instant) -> bool {
        now >= self.at
    }

    /// `timeout` capped by the time left at `now`: the per-attempt timeout of one request.
    pub fn cap(&self, now: Instant, timeout: Duration) -> Duration {
        timeout.min(self.remaining(now))
    }
}

/// How long to pause between attempts: from `retry_backoff`, doubling up to
/// `retry_backoff_max`, ±20 % jitter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    backoff: Backoff,
}

impl RetryPolicy {
    /// Pauses from `retry_backoff` doubling up to `retry_backoff_max`.
    pub fn new(retry_backoff: Duration, retry_backoff_max: Duration) -> Self {
        let backoff = Backoff::new(retry_backoff, retry_backoff_max);
        // Equal bounds mean kafka-python's fixed pause: no jitter either.
        let backoff = if retry_backoff_max <= retry_backoff {
            backoff.with_jitter(0.0)
        } else {
            backoff
        };
        RetryPolicy { backoff }
    }

    /// The pause after `failures` failed attempts (1 for the first), with `random` uniform in
    /// `[0, 1)`.
    pub fn pause(&self, failures: u32, random: f64) -> Duration {
        self.backoff.delay(failures.saturating_sub(1), random)
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Try again after this pause.
    RetryAfter(Duration),
    /// The error is not retriable: report it now.
    GiveUp,
    /// Retrying would overrun the deadline: report a timeout with the last error.
    DeadlineExceeded,
}

/// The retry state of one operation.
///
/// ```
/// use std::time::{Duration, Instant};
/// use klamm_cluster::retry::{Deadline, Retry, RetryDecision, RetryPolicy};
///
/// let now = Instant::now();
/// let policy = RetryPolicy::new(Duration::from_millis(100), Duration::from_millis(100));
/// let mut retry = Retry::new(policy, Deadline::after(now, Duration::from_millis(250)));
/// let pause = Duration::from_millis(100);
/// assert_eq!(retry.on_failure(now, true, Duration::ZERO, 0.5), RetryDecision::RetryAfter(pause));
/// assert_eq!(retry.on_failure(now, false, Duration::ZERO, 0.5), RetryDecision::GiveUp);
/// let later = now + Duration::from_millis(200);
/// assert_eq!(retry.on_failure(later, true, Duration::ZERO, 0.5), RetryDecision::DeadlineExceeded);
/// ```
#[derive(Debug, Clone)]
pub struct Retry {
    policy: RetryPolicy,
    deadline: Deadline,
    failures: u32,
}

impl Retry {
    /// No attempt failed yet.
    pub fn new(policy: RetryPolicy, deadline: Deadline) -> Self {
        Retry {
            policy,
            deadline,
            failures: 0,
        }
    }

    /// The operation's deadline.
    pub fn deadline(&self) -> Deadline {
        self.deadline
    }

    /// Failed attempts so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Records a failed attempt at `now`. `retriable` says whether the error allows another
    /// try; `at_least` is a pause the failure itself demands (e.g. a broker's reconnect
    /// backoff), used when longer than the policy's.
    pub fn on_failure(
        &mut self,
        now: Instant,
        retriable: bool,
        at_least: Duration,
        random: f64,
    ) -> RetryDecision {
        self.failures = self.failures.saturating_add(1);
        if !retriable {
            return RetryDecision::GiveUp;
        }
        let pause = self.policy.pause(self.failures, random).max(at_least);
        // Waking after the deadline only to time out is pointless: report the timeout now.
        if now + pause >= self.deadline.at() {
            return RetryDecision::DeadlineExceeded;
        }
        RetryDecision::RetryAfter(pause)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn deadline_reports_remaining_and_caps_attempt_timeouts() {
        let t0 = Instant::now();
        let deadline = Deadline::after(t0, 1000 * MS);
        assert_eq!(deadline.timeout(), 1000 * MS);
        assert_eq!(deadline.remaining(t0 + 400 * MS), 600 * MS);
        assert_eq!(deadline.cap(t0 + 400 * MS, 30_000 * MS), 600 * MS);
        assert_eq!(deadline.cap(t0, 200 * MS), 200 * MS);
        assert!(!deadline.is_expired(t0 + 999 * MS));
        assert!(deadline.is_expired(t0 + 1000 * MS));
        assert_eq!(deadline.remaining(t0 + 2000 * MS), Duration::ZERO);
    }

    #[test]
    fn pauses_double_from_retry_backoff_up_to_max() {
        let policy = RetryPolicy::new(100 * MS, 1000 * MS);
        let pauses: Vec<_> = (1..=6).map(|n| policy.pause(n, 0.5)).collect();
        assert_eq!(pauses, [100, 200, 400, 800, 1000, 1000].map(|ms| ms * MS));
    }

    #[test]
    fn equal_bounds_give_a_fixed_pause_without_jitter() {
        let policy = RetryPolicy::new(100 * MS, 100 * MS);
        for (failures, random) in [(1, 0.0), (5, 0.99), (50, 0.3)] {
            assert_eq!(policy.pause(failures, random), 100 * MS);
        }
    }

    #[test]
    fn retries_retriable_errors_until_the_deadline() {
        let t0 = Instant::now();
        let policy = RetryPolicy::new(100 * MS, 100 * MS);
        let mut retry = Retry::new(policy, Deadline::after(t0, 1000 * MS));
        let mut now = t0;
        let mut attempts = 1;
        loop {
            match retry.on_failure(now, true, Duration::ZERO, 0.5) {
                RetryDecision::RetryAfter(pause) => {
                    now += pause + 10 * MS; // the attempt itself takes 10 ms
                    attempts += 1;
                }
                RetryDecision::DeadlineExceeded => break,
                RetryDecision::GiveUp => panic!("retriable error given up"),
            }
        }
        // Attempts start every 110 ms; the one at 990 ms fails with no time left to retry.
        assert_eq!(attempts, 10);
        assert_eq!(retry.failures(), 10);
    }

    #[test]
    fn non_retriable_error_gives_up_at_once() {
        let t0 = Instant::now();
        let policy = RetryPolicy::new(100 * MS, 1000 * MS);
        let mut retry = Retry::new(policy, Deadline::after(t0, 60_000 * MS));
        assert_eq!(
            retry.on_failure(t0, false, Duration::ZERO, 0.5),
            RetryDecision::GiveUp
        );
    }

    #[test]
    fn demanded_pause_wins_when_longer_and_may_exceed_the_deadline() {
        let t0 = Instant::now();
        let policy = RetryPolicy::new(100 * MS, 100 * MS);
        let mut retry = Retry::new(policy, Deadline::after(t0, 1000 * MS));
        assert_eq!(
            retry.on_failure(t0, true, 300 * MS, 0.5),
            RetryDecision::RetryAfter(300 * MS)
        );
        assert_eq!(
            retry.on_failure(t0, true, 1000 * MS, 0.5),
            RetryDecision::DeadlineExceeded
        );
    }
}
