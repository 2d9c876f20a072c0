//! One request over many items, each sent to the broker that owns it: [`ShardedRequest`] and
//! [`Cluster::sharded`](crate::Cluster::sharded), the mechanism every admin operation is built
//! on (franz-go's `RequestSharded`, Java's `AdminApiDriver`).
//!
//! An operation says, for its items (partitions, group ids, transactional ids, config
//! resources, broker ids …), where each goes ([`ShardedRequest::route`]: a partition's leader,
//! a coordinator, a named broker, the controller, any broker), how to build one request for
//! the items that go to one broker, and what the response says about each item
//! ([`ShardedRequest::classify`]: done, retry, retry after refreshing what routed it, failed).
//! The cluster resolves the routes (one `Metadata` request for the topics it lacks, one batched
//! `FindCoordinator` for the keys it has not cached), sends the shards concurrently, and sends
//! again only the items that need it, under the configured retry backoff and one deadline.
//!
//! Each item comes back with its own [`ItemResult`]: its value or error, how many attempts it
//! took, and whether an attempt that got no answer may have taken effect — so that an
//! operation that is not idempotent can tell "created" from "created by my earlier attempt".
//!
//! [`Call`] is the one-item case: one request to one target; [`FanOut`] sends one request to
//! each of several brokers.

mod call;
mod fan_out;
mod state;

use std::fmt;

use klamm_protocol::{Request, VersionRange};

pub use call::Call;
pub use fan_out::FanOut;
pub(crate) use state::{AttemptFailure, Retried, ShardState};

use crate::{ClusterError, ResponseError, Target};

/// What a response says about one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome<T> {
    /// The item is done.
    Done(T),
    /// Try the item again after the retry backoff; what the error code makes stale (a leader,
    /// a coordinator) is forgotten first.
    Retry(ResponseError),
    /// Try the item again after refreshing what routed it (its topic's metadata, its
    /// coordinator), whatever the error code.
    RetryAfterRefresh(ResponseError),
    /// The item failed for good.
    Failed(ResponseError),
}

/// Whether a request that may have reached the broker is sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Resend {
    /// Send it again when its failure is retriable (the result says
    /// [`may_have_applied`](ItemResult::may_have_applied)).
    #[default]
    Allowed,
    /// Never send it twice: retry only routing and connecting.
    Never,
}

/// One item's result.
#[derive(Debug, Clone)]
pub struct ItemResult<T> {
    /// The item's value, or why it failed.
    pub result: Result<T, ClusterError>,
    /// Attempts made (routing included).
    pub attempts: u32,
    /// Whether an attempt that got no answer (a lost connection, a request timeout) may have
    /// reached the broker, so that the item may have taken effect earlier than the attempt
    /// that decided it. Set on successes too: a retried create that the broker answers "already
    /// exists" was most likely created by the earlier attempt.
    pub may_have_applied: bool,
}

impl<T> ItemResult<T> {
    /// The result, dropping the attempt details.
    pub fn into_result(self) -> Result<T, ClusterError> {
        self.result
    }
}

/// An operation over items, each routed to the broker that owns it. See the
/// [module documentation](self).
///
/// Implementations are small: a planner ([`route`](Self::route) and [`build`](Self::build))
/// and a classifier ([`classify`](Self::classify)), with no loop, sleep or clock of their own.
pub trait ShardedRequest: Send + Sync {
    /// One item: a partition, a group id, a broker id …
    type Item: Clone + Ord + fmt::Debug + Send + Sync;
    /// The request sent to each broker.
    type Request: Request + Send;
    /// What a done item yields.
    type Output: Send;

    /// Where `item` goes.
    fn route(&self, item: &Self::Item) -> Target;

    /// One request carrying `items`, all routed to `broker_id`, at `version`.
    fn build(&self, broker_id: i32, version: i16, items: &[Self::Item]) -> Self::Request;

    /// What `response` (to the request [`build`](Self::build) made for `items` at `version`)
    /// says about each item. An item it does not mention fails with "the broker's answer did
    /// not mention it".
    fn classify(
        &self,
        response: <Self::Request as Request>::Response,
        version: i16,
        items: &[Self::Item],
    ) -> Vec<(Self::Item, Outcome<Self::Output>)>;

    /// The versions that can do the operation; a broker supporting none of them fails its
    /// items with [`ClusterError::UnsupportedByBroker`]. Every version of the API by default.
    fn versions(&self) -> VersionRange {
        <Self::Request as Request>::API_KEY.versions()
    }

    /// How many items one request may carry at `version` (say, one group per `OffsetFetch`
    /// before v8); the items of a broker are split into as many requests as needed.
    fn max_items(&self, version: i16) -> usize {
        let _ = version;
        usize::MAX
    }

    /// Whether a request that may have reached the broker is sent again.
    fn resend(&self) -> Resend {
        Resend::Allowed
    }

    /// What the operation is called in errors, e.g. `ListOffsets`.
    fn operation(&self) -> String {
        <Self::Request as Request>::API_KEY.to_string()
    }

    /// How an item is named in errors.
    fn describe(&self, item: &Self::Item) -> String {
        format!("{item:?}")
    }
}

/// What `ResponseError` becomes once it is known which broker said it about which item.
pub(crate) fn item_error(
    api: klamm_protocol::ApiKey,
    broker_id: i32,
    error: ResponseError,
    describe: impl FnOnce() -> String,
) -> ClusterError {
    ClusterError::Kafka {
        api,
        broker_id,
        error_code: error.error_code,
        message: error.message,
        resource: Some(error.resource.unwrap_or_else(describe)),
    }
}
