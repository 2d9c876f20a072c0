//! Fanning one kind of request out to many brokers at once (ListGroups on every broker,
//! DescribeLogDirs, broker configs …), each with its own retries under one shared deadline, and
//! merging the per-broker results. One slow or dead broker costs only its own result.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use klamm_protocol::Request;
use tokio::task::{JoinError, JoinSet};

use super::Cluster;
use crate::routing::Target;
use crate::{ClusterError, ResponseError};

impl Cluster {
    /// Sends a request to each broker in `broker_ids` concurrently, as
    /// [`call`](Self::call) does for one, and returns each broker's result. `build` gets the
    /// broker id and the version negotiated with it.
    ///
    /// Cancel-safe: dropping the future aborts the requests still running.
    ///
    /// ```no_run
    /// use klamm_cluster::{Cluster, ResponseError};
    /// use klamm_protocol::messages::ListGroupsRequest;
    ///
    /// # async fn demo(cluster: Cluster) -> Result<(), klamm_cluster::ClusterError> {
    /// let ids = cluster.metadata().await?.broker_ids();
    /// let per_broker = cluster
    ///     .fan_out(ids, None, |_broker, _version| ListGroupsRequest::default(), |response| {
    ///         ResponseError::check(response.error_code)
    ///     })
    ///     .await;
    /// for (broker, result) in per_broker {
    ///     match result {
    ///         Ok(response) => println!("broker {broker}: {} groups", response.groups.len()),
    ///         Err(error) => println!("broker {broker}: {error}"),
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn fan_out<R, B, C>(
        &self,
        broker_ids: impl IntoIterator<Item = i32>,
        timeout: Option<Duration>,
        build: B,
        classify: C,
    ) -> BTreeMap<i32, Result<R::Response, ClusterError>>
    where
        R: Request + Send + Sync + 'static,
        R::Response: Send + 'static,
        B: Fn(i32, i16) -> R + Send + Sync + 'static,
        C: Fn(&R::Response) -> Result<(), ResponseError> + Send + Sync + 'static,
    {
        let build = Arc::new(build);
        let classify = Arc::new(classify);
        let timeout = Some(timeout.unwrap_or(self.inner.config.default_api_timeout));
        let mut tasks = JoinSet::new();
        let mut broker_of_task = HashMap::new();
        for broker_id in broker_ids {
            let cluster = self.clone();
            let build = build.clone();
            let classify = classify.clone();
            let task = tasks.spawn(async move {
                let result = cluster
                    .call(
                        Target::Broker(broker_id),
                        timeout,
                        |version| build(broker_id, version),
                        |response| classify(response),
                    )
                    .await;
                (broker_id, result)
            });
            broker_of_task.insert(task.id(), broker_id);
        }
        let mut results = BTreeMap::new();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((broker_id, result)) => {
                    results.insert(broker_id, result);
                }
                // A panicking task must not make its broker vanish from the answer. (Tasks are
                // only cancelled when this future is dropped, and then nobody reads this.)
                Err(error) => {
                    if let Some(&broker_id) = broker_of_task.get(&error.id()) {
                        let message = panic_message(error);
                        results.insert(
                            broker_id,
                            Err(ClusterError::TaskPanicked { broker_id, message }),
                        );
                    }
                }
            }
        }
        results
    }
}

/// The panic's message when it was a string, as `panic!` makes it.
fn panic_message(error: JoinError) -> String {
    if !error.is_panic() {
        return "cancelled".to_owned();
    }
    let payload = error.into_panic();
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(not a string)".to_owned())
}
