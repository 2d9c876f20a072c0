//! [`Cluster`]: the public face. Thin async glue around the sans-IO pieces: the metadata cache
//! and its freshness, routing choices, the coordinator cache, the pool's slot states and the
//! retry decisions.

mod refresh;
mod route;
mod run;
mod sharded;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

use klamm_net::{Connection, RequestOptions};
use klamm_protocol::Request;

use crate::coordinator::{Coordinator, CoordinatorCache};
use crate::metadata::{BrokerInfo, ClusterMetadata, MetadataFreshness};
use crate::pool::Pool;
use crate::retry::{Deadline, RetryPolicy};
use crate::routing::Target;
use crate::{Call, ClusterConfig, ClusterError, CoordinatorType, Waiting};
use run::{Failure, Progress, Run};

/// A client for one Kafka cluster: metadata, connections and request routing.
///
/// Cheap to clone; clones share everything. Every operation has a deadline
/// (`default_api_timeout` unless it takes its own) covering metadata, connecting and retries,
/// and every future is cancel-safe: dropping it abandons the operation and leaves the client
/// usable (a request already sent is answered into the void).
///
/// ```no_run
/// use klamm_cluster::{Call, Cluster, ClusterConfig, Target, ResponseError};
/// use klamm_protocol::messages::DescribeClusterRequest;
///
/// # async fn demo() -> Result<(), klamm_cluster::ClusterError> {
/// let cluster = Cluster::connect(ClusterConfig::builder().bootstrap_servers("kafka-1:9092").build()?).await?;
/// let metadata = cluster.metadata().await?;
/// println!("cluster {:?} with brokers {:?}", metadata.cluster_id, metadata.broker_ids());
/// let describe = Call::new(Target::Any, |_version| DescribeClusterRequest::default())
///     .classify(|response| ResponseError::check(response.error_code));
/// let described = cluster.call(describe).await?;
/// println!("controller {}", described.controller_id);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Cluster {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("bootstrap_servers", &self.inner.config.bootstrap_servers)
            .field("brokers", &self.cached_metadata().broker_ids())
            .finish_non_exhaustive()
    }
}

struct Inner {
    config: ClusterConfig,
    policy: RetryPolicy,
    metadata: RwLock<Arc<ClusterMetadata>>,
    freshness: Mutex<MetadataFreshness>,
    /// Held while refreshing, so that concurrent callers share one refresh.
    refreshing: tokio::sync::Mutex<()>,
    pool: Pool,
    coordinators: Mutex<CoordinatorCache>,
    /// The bootstrap address that answered last.
    bootstrap_addr: Mutex<Option<String>>,
    rotation: AtomicUsize,
    closed: AtomicBool,
}

impl Inner {
    fn freshness(&self) -> MutexGuard<'_, MetadataFreshness> {
        self.freshness.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn coordinators(&self) -> MutexGuard<'_, CoordinatorCache> {
        self.coordinators.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Cluster {
    /// Connects to the bootstrap servers (all at once; the first to answer wins) and fetches
    /// the cluster metadata, retrying until `default_api_timeout`. Broker connections are
    /// opened later, when first needed.
    pub async fn connect(config: ClusterConfig) -> Result<Cluster, ClusterError> {
        config.validate()?;
        let cluster = Cluster {
            inner: Arc::new(Inner {
                policy: RetryPolicy::new(config.retry_backoff, config.retry_backoff_max),
                metadata: RwLock::new(Arc::new(ClusterMetadata::empty())),
                freshness: Mutex::new(MetadataFreshness::new(config.metadata_max_age)),
                refreshing: tokio::sync::Mutex::new(()),
                pool: Pool::new(config.connection.clone()),
                coordinators: Mutex::new(CoordinatorCache::new()),
                bootstrap_addr: Mutex::new(None),
                rotation: AtomicUsize::new(0),
                closed: AtomicBool::new(false),
                config,
            }),
        };
        let operation = format!("bootstrap from {}", cluster.inner.config.bootstrap_servers);
        let mut run = Run::new(&cluster, operation, None, Waiting::Bootstrap);
        loop {
            let deadline = run.deadline();
            match run.bounded(cluster.bootstrap(deadline)).await {
                None => return Err(run.timed_out()),
                Some(Ok((addr, connection, fetched))) => {
                    cluster.install_bootstrap(addr, connection, fetched);
                    return Ok(cluster);
                }
                Some(Err(error)) => run.failed(Failure::new(error)).await?,
            }
        }
    }

    /// The settings.
    pub fn config(&self) -> &ClusterConfig {
        &self.inner.config
    }

    /// The cached metadata as it is, however old.
    pub fn cached_metadata(&self) -> Arc<ClusterMetadata> {
        self.inner
            .metadata
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The metadata, refreshed first if older than `metadata_max_age` or marked stale by an
    /// error.
    pub async fn metadata(&self) -> Result<Arc<ClusterMetadata>, ClusterError> {
        self.metadata_with(false).await
    }

    /// Fetches all metadata now.
    pub async fn refresh_metadata(&self) -> Result<Arc<ClusterMetadata>, ClusterError> {
        self.metadata_with(true).await
    }

    async fn metadata_with(&self, force: bool) -> Result<Arc<ClusterMetadata>, ClusterError> {
        self.check_open()?;
        let mut run = Run::new(self, "Metadata".into(), None, Waiting::Metadata);
        let mut force = force;
        loop {
            let attempt = async {
                if force {
                    self.refresh_once(&run.progress, run.deadline(), true).await
                } else {
                    self.ensure_metadata(&run.progress, run.deadline()).await
                }
            };
            match run.bounded(attempt).await {
                None => return Err(run.timed_out()),
                Some(Ok(metadata)) => return Ok(metadata),
                Some(Err(failure)) => {
                    force = true;
                    run.failed(failure).await?;
                }
            }
        }
    }

    /// Fetches metadata for `topics` now and merges it into the cache (topics that turn out
    /// not to exist are removed from it). Returns the updated snapshot.
    pub async fn metadata_for_topics<S: AsRef<str>>(
        &self,
        topics: &[S],
    ) -> Result<Arc<ClusterMetadata>, ClusterError> {
        self.check_open()?;
        let topics: Vec<String> = topics.iter().map(|t| t.as_ref().to_owned()).collect();
        if topics.is_empty() {
            return Ok(self.cached_metadata());
        }
        let operation = format!("Metadata for {}", topics.join(", "));
        let mut run = Run::new(self, operation, None, Waiting::Metadata);
        loop {
            match run
                .bounded(self.fetch_topics(&topics, &run.progress, run.deadline()))
                .await
            {
                None => return Err(run.timed_out()),
                Some(Ok(metadata)) => return Ok(metadata),
                Some(Err(failure)) => run.failed(failure).await?,
            }
        }
    }

    pub(crate) async fn fetch_topics(
        &self,
        topics: &[String],
        progress: &Progress,
        deadline: Deadline,
    ) -> Result<Arc<ClusterMetadata>, Failure> {
        self.ensure_metadata(progress, deadline).await?;
        progress.set(Waiting::Metadata);
        let fetched = self
            .fetch_from_any(Some(topics), progress, deadline)
            .await?;
        let mut merged = self
            .cached_metadata()
            .merged_with(&fetched.response, fetched.version);
        // A topic asked for and not answered does not exist (brokers usually say so with
        // UNKNOWN_TOPIC_OR_PARTITION; some leave it out).
        for topic in topics {
            let answered = fetched
                .response
                .topics
                .iter()
                .any(|t| t.name.as_deref() == Some(topic.as_str()));
            if !answered {
                merged.topics.remove(topic);
            }
        }
        Ok(self.install(merged, false))
    }

    /// The brokers in the cached metadata.
    pub fn brokers(&self) -> Vec<BrokerInfo> {
        self.cached_metadata().brokers.values().cloned().collect()
    }

    /// The open connection to broker `broker_id`, connecting if needed.
    pub async fn connection(&self, broker_id: i32) -> Result<Connection, ClusterError> {
        self.connection_to(&Target::Broker(broker_id)).await
    }

    /// An open connection to the broker `target` resolves to, connecting if needed.
    pub async fn connection_to(&self, target: &Target) -> Result<Connection, ClusterError> {
        self.check_open()?;
        let mut run = Run::new(
            self,
            format!("connecting to {target}"),
            None,
            Waiting::Metadata,
        )
        .for_target(target);
        loop {
            match run
                .bounded(self.route(target, &run.progress, run.deadline()))
                .await
            {
                None => return Err(run.timed_out()),
                Some(Ok((_, connection))) => return Ok(connection),
                Some(Err(failure)) => run.failed(failure).await?,
            }
        }
    }

    /// Sends `request` once to `target` and returns the response as the broker sent it (errors
    /// inside the body are the caller's to read). Finding the broker and connecting are retried
    /// within `default_api_timeout`; the request itself is never sent twice.
    pub async fn send<R>(&self, target: Target, request: R) -> Result<R::Response, ClusterError>
    where
        R: Request + Clone + Send + Sync,
        R::Response: Send,
    {
        self.call(Call::new(target, move |_version| request.clone()).no_resend())
            .await
    }

    /// [`send`](Self::send) to one broker by id.
    pub async fn send_to_broker<R>(
        &self,
        broker_id: i32,
        request: R,
    ) -> Result<R::Response, ClusterError>
    where
        R: Request + Clone + Send + Sync,
        R::Response: Send,
    {
        self.send(Target::Broker(broker_id), request).await
    }

    /// [`send`](Self::send) to the least-loaded broker.
    pub async fn send_to_any<R>(&self, request: R) -> Result<R::Response, ClusterError>
    where
        R: Request + Clone + Send + Sync,
        R::Response: Send,
    {
        self.send(Target::Any, request).await
    }

    /// [`send`](Self::send) to the controller (see [`Target::Controller`]).
    pub async fn send_to_controller<R>(&self, request: R) -> Result<R::Response, ClusterError>
    where
        R: Request + Clone + Send + Sync,
        R::Response: Send,
    {
        self.send(Target::Controller, request).await
    }

    /// [`send`](Self::send) to the group or transaction coordinator of `key`.
    pub async fn send_to_coordinator<R>(
        &self,
        coordinator_type: CoordinatorType,
        key: impl Into<String>,
        request: R,
    ) -> Result<R::Response, ClusterError>
    where
        R: Request + Clone + Send + Sync,
        R::Response: Send,
    {
        self.send(Target::Coordinator(coordinator_type, key.into()), request)
            .await
    }

    /// [`send`](Self::send) to the leader of a partition.
    pub async fn send_to_leader<R>(
        &self,
        topic: impl Into<String>,
        partition: i32,
        request: R,
    ) -> Result<R::Response, ClusterError>
    where
        R: Request + Clone + Send + Sync,
        R::Response: Send,
    {
        let target = Target::Leader {
            topic: topic.into(),
            partition,
        };
        self.send(target, request).await
    }

    /// The coordinators of `keys` (batched in one `FindCoordinator` from v4 on), each with its
    /// own result; keys whose coordinator is loading or unavailable are asked again until the
    /// deadline. Found coordinators are cached for routing.
    pub async fn coordinators<S: AsRef<str>>(
        &self,
        coordinator_type: CoordinatorType,
        keys: &[S],
        timeout: Option<Duration>,
    ) -> Result<BTreeMap<String, Result<Coordinator, ClusterError>>, ClusterError> {
        self.check_open()?;
        let mut pending = unique_keys(keys);
        let mut results = BTreeMap::new();
        let operation = format!(
            "FindCoordinator for {coordinator_type} {}",
            pending.join(", ")
        );
        let mut run = Run::new(self, operation, timeout, Waiting::Metadata);
        while !pending.is_empty() {
            let attempt =
                self.find_coordinators(coordinator_type, &pending, &run.progress, run.deadline());
            let failure = match run.bounded(attempt).await {
                None => {
                    let error = run.timed_out();
                    for key in pending.drain(..) {
                        results.insert(key, Err(error.clone()));
                    }
                    break;
                }
                Some(Err(failure)) => failure,
                Some(Ok(found)) => {
                    let mut retry = None;
                    for (key, result) in found {
                        match result {
                            Ok(coordinator) => {
                                pending.retain(|k| *k != key);
                                results.insert(key, Ok(coordinator));
                            }
                            Err(failure) if failure.error.is_retriable() => retry = Some(failure),
                            Err(failure) => {
                                pending.retain(|k| *k != key);
                                results.insert(key, Err(failure.error));
                            }
                        }
                    }
                    match retry {
                        Some(failure) => failure,
                        None if pending.is_empty() => break,
                        // Keys the answer did not mention: ask again.
                        None => Failure::new(ClusterError::NoBrokers).retriable(true),
                    }
                }
            };
            if let Err(error) = run.failed(failure).await {
                for key in pending.drain(..) {
                    results.insert(key, Err(error.clone()));
                }
            }
        }
        Ok(results)
    }

    /// Closes every connection; later operations fail with [`ClusterError::Closed`].
    pub fn close(&self) {
        self.inner.closed.store(true, Ordering::SeqCst);
        self.inner.pool.close_all();
    }

    /// The open connections, by broker id.
    pub fn open_connections(&self) -> Vec<(i32, Connection)> {
        self.inner.pool.open_connections()
    }

    fn check_open(&self) -> Result<(), ClusterError> {
        if self.inner.closed.load(Ordering::SeqCst) {
            return Err(ClusterError::Closed);
        }
        Ok(())
    }

    fn next_rotation(&self) -> usize {
        self.inner.rotation.fetch_add(1, Ordering::Relaxed)
    }

    fn request_options(&self, deadline: Deadline, version: Option<i16>) -> RequestOptions {
        RequestOptions {
            version,
            timeout: Some(deadline.cap(now(), self.inner.config.connection.request_timeout)),
        }
    }
}

/// The time on tokio's clock, so that paused-time tests drive every timing decision.
pub(crate) fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// The keys without repeats, in the order first given.
fn unique_keys<S: AsRef<str>>(keys: &[S]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    keys.iter()
        .map(|key| key.as_ref())
        .filter(|key| seen.insert(*key))
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::unique_keys;

    #[test]
    fn unique_keys_drops_non_adjacent_repeats_and_keeps_first_seen_order() {
        assert_eq!(
            unique_keys(&["b", "a", "b", "c", "a", "a"]),
            ["b", "a", "c"]
        );
        assert!(unique_keys::<&str>(&[]).is_empty());
    }
}
