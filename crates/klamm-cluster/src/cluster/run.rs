//! The retry loop's glue: [`Run`] carries one operation's [`Retry`] state, remembers what it is
//! waiting for ([`Progress`]) so that a timeout can say so, applies what a failure invalidates,
//! and sleeps for as long as the sans-IO [`Retry`] says.

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use klamm_net::backoff::system_random;
use klamm_net::NetError;

use super::Cluster;
use crate::retry::{Deadline, Retry, RetryDecision};
use crate::routing::{Invalidation, Target};
use crate::{ClusterError, Waiting};

/// What an operation is doing right now, for the timeout error.
#[derive(Debug)]
pub(crate) struct Progress(Mutex<Waiting>);

impl Progress {
    pub fn new(waiting: Waiting) -> Self {
        Progress(Mutex::new(waiting))
    }

    pub fn set(&self, waiting: Waiting) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = waiting;
    }

    pub fn get(&self) -> Waiting {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// One failed attempt.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub error: ClusterError,
    /// A pause the failure demands (reconnect backoff) before the next attempt.
    pub retry_in: Duration,
    pub invalidation: Invalidation,
    /// The broker involved, if any (its coordinators are forgotten on a lost connection).
    pub broker_id: Option<i32>,
    /// Whether the request may have reached the broker.
    pub sent: bool,
    /// Overrides the error's own retriability.
    pub retriable: Option<bool>,
}

impl Failure {
    pub fn new(error: ClusterError) -> Self {
        Failure {
            error,
            retry_in: Duration::ZERO,
            invalidation: Invalidation::default(),
            broker_id: None,
            sent: false,
            retriable: None,
        }
    }

    pub fn refresh(mut self) -> Self {
        self.invalidation.refresh_metadata = true;
        self
    }

    pub fn retriable(mut self, retriable: bool) -> Self {
        self.retriable = Some(retriable);
        self
    }

    /// A request failed on its connection after it was handed over.
    pub fn request(error: ClusterError, broker_id: i32, net: &NetError) -> Self {
        let lost = matches!(
            net.root_cause(),
            NetError::ConnectionClosed { .. }
                | NetError::Io { .. }
                | NetError::UnknownCorrelationId { .. }
        );
        Failure {
            invalidation: if lost {
                Invalidation::for_lost_connection()
            } else {
                Invalidation::default()
            },
            broker_id: Some(broker_id),
            sent: net.may_have_reached_broker(),
            ..Failure::new(error)
        }
    }
}

/// One operation under one deadline.
pub(crate) struct Run<'c> {
    cluster: &'c Cluster,
    operation: String,
    retry: Retry,
    pub progress: Progress,
    last_error: Option<ClusterError>,
    /// Whether an earlier attempt may have reached the broker.
    may_have_applied: bool,
    target: Option<Target>,
}

impl<'c> Run<'c> {
    pub fn new(
        cluster: &'c Cluster,
        operation: String,
        timeout: Option<Duration>,
        first: Waiting,
    ) -> Self {
        let timeout = timeout.unwrap_or(cluster.inner.config.default_api_timeout);
        let deadline = Deadline::after(super::now(), timeout);
        Run {
            cluster,
            operation,
            retry: Retry::new(cluster.inner.policy, deadline),
            progress: Progress::new(first),
            last_error: None,
            may_have_applied: false,
            target: None,
        }
    }

    pub fn for_target(mut self, target: &Target) -> Self {
        self.target = Some(target.clone());
        self
    }

    pub fn deadline(&self) -> Deadline {
        self.retry.deadline()
    }

    /// Runs one attempt, `None` if the deadline passed first.
    pub async fn bounded<T>(&self, attempt: impl Future<Output = T>) -> Option<T> {
        tokio::time::timeout_at(self.deadline().at().into(), attempt)
            .await
            .ok()
    }

    /// The deadline error: what we were waiting for and the last failure.
    pub fn timed_out(&mut self) -> ClusterError {
        ClusterError::DeadlineExceeded {
            operation: std::mem::take(&mut self.operation),
            waiting: self.progress.get(),
            timeout: self.deadline().timeout(),
            attempts: self.retry.failures() + 1,
            last_error: self.last_error.take().map(Box::new),
            may_have_applied: self.may_have_applied,
        }
    }

    /// Handles a failed attempt: invalidates what it made stale, then either sleeps until the
    /// next attempt (`Ok`) or returns the error to report.
    pub async fn failed(&mut self, failure: Failure) -> Result<(), ClusterError> {
        self.invalidate(&failure);
        self.may_have_applied |= failure.error.may_have_applied();
        tracing::debug!(operation = %self.operation, error = %failure.error, "attempt failed");
        let retriable = failure
            .retriable
            .unwrap_or_else(|| failure.error.is_retriable());
        let decision =
            self.retry
                .on_failure(super::now(), retriable, failure.retry_in, system_random());
        match decision {
            RetryDecision::GiveUp => Err(failure.error),
            RetryDecision::DeadlineExceeded => {
                self.last_error = Some(failure.error);
                Err(self.timed_out())
            }
            RetryDecision::RetryAfter(pause) => {
                self.last_error = Some(failure.error);
                let waiting = self.progress.get();
                self.progress.set(Waiting::RetryBackoff);
                tokio::time::sleep(pause).await;
                self.progress.set(waiting);
                Ok(())
            }
        }
    }

    fn invalidate(&self, failure: &Failure) {
        let inner = &self.cluster.inner;
        if failure.invalidation.refresh_metadata {
            inner.freshness().mark_stale();
        }
        if failure.invalidation.forget_coordinator {
            let mut cache = inner.coordinators();
            if let Some(Target::Coordinator(kind, key)) = &self.target {
                cache.forget(*kind, key);
            }
            if let Some(broker_id) = failure.broker_id {
                if failure.invalidation == Invalidation::for_lost_connection() {
                    cache.forget_broker(broker_id);
                }
            }
        }
    }
}
