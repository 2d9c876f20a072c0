//! The cluster layer of Klamm: everything between one broker connection (`klamm-net`) and the
//! admin operations (`klamm-admin`).
//!
//! A [`Cluster`] bootstraps from any reachable address of `bootstrap_servers` (all tried at
//! once), keeps a metadata cache ([`ClusterMetadata`]: cluster id, brokers, controller, topics,
//! partitions with leaders, epochs, replicas and ISR) fresh for `metadata_max_age` or until an
//! error says it is stale, holds one connection per broker (opened lazily, shared, single-flight
//! connects, reconnect backoff), and routes requests ([`Target`]): to the least-loaded broker,
//! the controller, a group or transaction coordinator (found with batched `FindCoordinator` and
//! cached), a partition leader, or a broker by id.
//!
//! Every operation above is a [`ShardedRequest`]: items (partitions, groups, brokers …), a
//! route per item, a request per broker and a classifier per item. [`Cluster::sharded`] sends
//! the shards concurrently and retries only the items that need it, under the configured
//! retry backoff and one deadline, and returns each item's [`ItemResult`] with its attempt count
//! and whether an unanswered attempt may have applied. [`Call`] (one request to one target)
//! and [`FanOut`] (one request per broker) are its simplest cases. Failures are typed
//! [`ClusterError`]s that say what went wrong, where, and while waiting for what: a broker
//! advertising an unreachable address is named as such.
//!
//! The decisions are sans-IO and unit-tested without sockets or sleeping: the metadata cache
//! and its freshness, routing (least-loaded choice, what an error invalidates), coordinators
//! (requests per version, the cache), [`retry`] (deadline and backoff), the per-item
//! bookkeeping of [`sharded`], and the pool's slot state. Every timing path reads tokio's
//! clock, so the glue is tested on paused time too.
//!
//! ```no_run
//! use std::time::Duration;
//! use klamm_cluster::{Call, Cluster, ClusterConfig, CoordinatorType, ResponseError, Target};
//! use klamm_protocol::messages::DescribeGroupsRequest;
//!
//! # async fn demo() -> Result<(), klamm_cluster::ClusterError> {
//! let config = ClusterConfig::builder()
//!     .bootstrap_servers("kafka-1:9092,kafka-2:9092")
//!     .default_api_timeout(Duration::from_secs(30))
//!     .build()?;
//! let cluster = Cluster::connect(config).await?;
//! for broker in cluster.metadata().await?.brokers.values() {
//!     println!("broker {} at {}:{} (rack {:?})", broker.id, broker.host, broker.port, broker.rack);
//! }
//! let billing = Target::Coordinator(CoordinatorType::Group, "billing".into());
//! let describe = Call::new(billing, |_version| {
//!     DescribeGroupsRequest::default().with_groups(vec!["billing".into()])
//! })
//! .classify(|response| match response.groups.first() {
//!     Some(group) => ResponseError::check(group.error_code),
//!     None => Ok(()),
//! });
//! let described = cluster.call(describe).await?;
//! println!("{:?}", described.groups[0].group_state);
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod bootstrap;
mod cluster;
mod config;
mod coordinator;
mod error;
mod metadata;
mod pool;
mod response;
pub mod retry;
mod routing;
pub mod sharded;

pub use bootstrap::{BootstrapServers, DEFAULT_BOOTSTRAP};
pub use cluster::Cluster;
pub use config::{ClusterConfig, ClusterConfigBuilder};
pub use coordinator::{Coordinator, CoordinatorType};
pub use error::{BootstrapAttempt, ClusterError, Waiting};
pub use metadata::{BrokerInfo, ClusterMetadata, PartitionMetadata, TopicMetadata};
pub use response::{accept_any, ResponseError};
pub use routing::Target;
pub use sharded::{Call, FanOut, ItemResult, Outcome, Resend, ShardedRequest};
