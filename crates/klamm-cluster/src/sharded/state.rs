//! The bookkeeping of one sharded request, without I/O: which items are done, which wait to be
//! tried again and until when, how many attempts each took, and whether an attempt that got
//! no answer may have applied. The glue in `cluster::sharded` asks it which items are due,
//! tells it what happened to each, and sleeps until [`ShardState::next_wake`].

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::retry::{Deadline, RetryPolicy};
use crate::{ClusterError, Waiting};

use super::ItemResult;

/// Where one item is.
#[derive(Debug)]
struct ItemState<T> {
    /// Attempts made (routing or sending it).
    attempts: u32,
    /// Failed attempts, for the backoff.
    failures: u32,
    /// When it may be tried again.
    next_at: Instant,
    /// Whether an attempt may have reached the broker without an answer.
    may_have_applied: bool,
    /// The last failure, for the deadline error.
    last_error: Option<ClusterError>,
    /// What its current attempt waits for.
    waiting: Waiting,
    /// Its final result, once decided.
    result: Option<Result<T, ClusterError>>,
}

/// How a failed attempt of an item ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retried {
    /// It is tried again after a pause.
    Later,
    /// It failed for good.
    Final,
}

/// A failed attempt of one item, as the glue reports it.
#[derive(Debug)]
pub(crate) struct AttemptFailure {
    pub error: ClusterError,
    /// Whether the item may be tried again.
    pub retriable: bool,
    /// A pause the failure demands (a broker's reconnect backoff).
    pub retry_in: Duration,
    /// Whether the request may have reached the broker.
    pub sent: bool,
}

/// The state of every item of one sharded request.
#[derive(Debug)]
pub(crate) struct ShardState<K, T> {
    items: BTreeMap<K, ItemState<T>>,
    policy: RetryPolicy,
    deadline: Deadline,
    operation: String,
    /// Whether a request that may have reached the broker is sent again.
    resend: bool,
}

impl<K: Ord + Clone, T> ShardState<K, T> {
    pub fn new(
        items: impl IntoIterator<Item = K>,
        now: Instant,
        policy: RetryPolicy,
        deadline: Deadline,
        operation: String,
        resend: bool,
    ) -> Self {
        let items = items
            .into_iter()
            .map(|key| {
                let state = ItemState {
                    attempts: 0,
                    failures: 0,
                    next_at: now,
                    may_have_applied: false,
                    last_error: None,
                    waiting: Waiting::Metadata,
                    result: None,
                };
                (key, state)
            })
            .collect();
        ShardState {
            items,
            policy,
            deadline,
            operation,
            resend,
        }
    }

    /// Items not yet decided whose pause is over at `now`; each starts an attempt.
    pub fn start_due(&mut self, now: Instant) -> Vec<K> {
        self.items
            .iter_mut()
            .filter(|(_, item)| item.result.is_none() && item.next_at <= now)
            .map(|(key, item)| {
                item.attempts += 1;
                item.waiting = Waiting::Metadata;
                key.clone()
            })
            .collect()
    }

    /// When the next undecided item may be tried, `None` once every item is decided.
    pub fn next_wake(&self) -> Option<Instant> {
        self.items
            .values()
            .filter(|item| item.result.is_none())
            .map(|item| item.next_at)
            .min()
    }

    /// Records what the current attempt of `key` waits for.
    pub fn waiting(&mut self, key: &K, waiting: Waiting) {
        if let Some(item) = self.items.get_mut(key) {
            item.waiting = waiting;
        }
    }

    /// The item succeeded.
    pub fn succeeded(&mut self, key: &K, value: T) {
        if let Some(item) = self.items.get_mut(key) {
            item.result.get_or_insert(Ok(value));
        }
    }

    /// The current attempt of `key` failed at `now`: it is tried again after a pause unless
    /// the failure is final, the pause would overrun the deadline, or the request may have
    /// reached the broker and must not be sent again.
    pub fn failed(
        &mut self,
        key: &K,
        failure: AttemptFailure,
        now: Instant,
        random: f64,
    ) -> Retried {
        let Some(item) = self.items.get_mut(key) else {
            return Retried::Final;
        };
        if item.result.is_some() {
            return Retried::Final;
        }
        item.failures = item.failures.saturating_add(1);
        item.may_have_applied |= failure.sent || failure.error.may_have_applied();
        if !failure.retriable || (failure.sent && !self.resend) {
            item.result = Some(Err(failure.error));
            return Retried::Final;
        }
        let pause = self
            .policy
            .pause(item.failures, random)
            .max(failure.retry_in);
        item.last_error = Some(failure.error);
        if now + pause >= self.deadline.at() {
            item.result = Some(Err(deadline_error(&self.operation, item, self.deadline)));
            return Retried::Final;
        }
        item.next_at = now + pause;
        item.waiting = Waiting::RetryBackoff;
        Retried::Later
    }

    /// The deadline passed: every undecided item fails with what it was waiting for.
    pub fn expire(&mut self) {
        for item in self.items.values_mut() {
            if item.result.is_none() {
                let error = deadline_error(&self.operation, item, self.deadline);
                item.result = Some(Err(error));
            }
        }
    }

    /// Every item's result; undecided items (there are none after `expire`) count as timed out.
    pub fn finish(mut self) -> BTreeMap<K, ItemResult<T>> {
        self.expire();
        self.items
            .into_iter()
            .map(|(key, item)| {
                let result = item.result.expect("decided by expire");
                let outcome = ItemResult {
                    result,
                    attempts: item.attempts,
                    may_have_applied: item.may_have_applied,
                };
                (key, outcome)
            })
            .collect()
    }
}

fn deadline_error<T>(operation: &str, item: &ItemState<T>, deadline: Deadline) -> ClusterError {
    ClusterError::DeadlineExceeded {
        operation: operation.to_owned(),
        waiting: item.waiting.clone(),
        timeout: deadline.timeout(),
        attempts: item.attempts.max(1),
        last_error: item.last_error.clone().map(Box::new),
        may_have_applied: item.may_have_applied,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use klamm_protocol::{ApiKey, ErrorCode};

    const MS: Duration = Duration::from_millis(1);

    fn state(now: Instant, timeout: Duration, resend: bool) -> ShardState<&'static str, u32> {
        ShardState::new(
            ["a", "b"],
            now,
            RetryPolicy::new(100 * MS, 100 * MS),
            Deadline::after(now, timeout),
            "ListOffsets".into(),
            resend,
        )
    }

    fn kafka(code: ErrorCode) -> ClusterError {
        ClusterError::Kafka {
            api: ApiKey::ListOffsets,
            broker_id: 1,
            error_code: code,
            message: None,
            resource: None,
        }
    }

    fn failure(retriable: bool, sent: bool) -> AttemptFailure {
        AttemptFailure {
            error: kafka(ErrorCode::NotLeaderOrFollower),
            retriable,
            retry_in: Duration::ZERO,
            sent,
        }
    }

    #[test]
    fn only_the_failed_item_is_retried_after_the_backoff() {
        let t0 = Instant::now();
        let mut state = state(t0, 1000 * MS, true);
        assert_eq!(state.start_due(t0), ["a", "b"]);
        state.succeeded(&"a", 1);
        assert_eq!(
            state.failed(&"b", failure(true, false), t0, 0.5),
            Retried::Later
        );
        assert_eq!(state.next_wake(), Some(t0 + 100 * MS));
        assert!(state.start_due(t0 + 99 * MS).is_empty());
        assert_eq!(state.start_due(t0 + 100 * MS), ["b"]);
        state.succeeded(&"b", 2);
        assert_eq!(state.next_wake(), None);
        let results = state.finish();
        assert_eq!(results[&"a"].attempts, 1);
        assert_eq!(results[&"b"].attempts, 2);
        assert_eq!(*results[&"b"].result.as_ref().unwrap(), 2);
        assert!(!results[&"b"].may_have_applied);
    }

    #[test]
    fn a_final_error_is_kept_and_a_retry_past_the_deadline_times_out_with_the_last_error() {
        let t0 = Instant::now();
        let mut state = state(t0, 150 * MS, true);
        state.start_due(t0);
        assert_eq!(
            state.failed(&"a", failure(false, false), t0, 0.5),
            Retried::Final
        );
        assert_eq!(
            state.failed(&"b", failure(true, false), t0, 0.5),
            Retried::Later
        );
        state.start_due(t0 + 100 * MS);
        assert_eq!(
            state.failed(&"b", failure(true, false), t0 + 100 * MS, 0.5),
            Retried::Final
        );
        let results = state.finish();
        assert!(matches!(
            results[&"a"].result,
            Err(ClusterError::Kafka {
                error_code: ErrorCode::NotLeaderOrFollower,
                ..
            })
        ));
        match &results[&"b"].result {
            Err(ClusterError::DeadlineExceeded {
                attempts,
                last_error: Some(last),
                waiting,
                ..
            }) => {
                assert_eq!(*attempts, 2);
                assert_eq!(last.error_code(), Some(ErrorCode::NotLeaderOrFollower));
                assert_eq!(*waiting, Waiting::Metadata);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_attempt_that_may_have_applied_is_remembered_even_on_success() {
        let t0 = Instant::now();
        let mut state = state(t0, 1000 * MS, true);
        state.start_due(t0);
        state.failed(&"a", failure(true, true), t0, 0.5);
        state.start_due(t0 + 100 * MS);
        state.succeeded(&"a", 7);
        state.succeeded(&"b", 8);
        let results = state.finish();
        assert!(results[&"a"].may_have_applied);
        assert_eq!(results[&"a"].attempts, 2);
        assert!(!results[&"b"].may_have_applied);
    }

    #[test]
    fn without_resend_a_request_that_may_have_arrived_is_not_sent_again() {
        let t0 = Instant::now();
        let mut state = state(t0, 1000 * MS, false);
        state.start_due(t0);
        assert_eq!(
            state.failed(&"a", failure(true, true), t0, 0.5),
            Retried::Final
        );
        assert_eq!(
            state.failed(&"b", failure(true, false), t0, 0.5),
            Retried::Later
        );
    }

    #[test]
    fn expiry_fails_undecided_items_naming_what_they_waited_for() {
        let t0 = Instant::now();
        let mut state = state(t0, 1000 * MS, true);
        state.start_due(t0);
        state.succeeded(&"a", 1);
        state.waiting(
            &"b",
            Waiting::Response {
                api: ApiKey::ListOffsets,
                broker_id: 2,
            },
        );
        state.expire();
        let results = state.finish();
        assert!(results[&"a"].result.is_ok());
        assert!(matches!(
            &results[&"b"].result,
            Err(ClusterError::DeadlineExceeded {
                waiting: Waiting::Response { broker_id: 2, .. },
                ..
            })
        ));
    }

    #[test]
    fn a_pause_the_failure_demands_wins_when_longer() {
        let t0 = Instant::now();
        let mut state = state(t0, 1000 * MS, true);
        state.start_due(t0);
        let demanded = AttemptFailure {
            retry_in: 300 * MS,
            ..failure(true, false)
        };
        state.failed(&"a", demanded, t0, 0.5);
        state.succeeded(&"b", 1);
        assert_eq!(state.next_wake(), Some(t0 + 300 * MS));
    }
}
