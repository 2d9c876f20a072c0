//! The cluster layer of Klamm: everything between one broker connection (`klamm-net`) and the
//! admin operations (`klamm-admin`).
//!
//! A [`Cluster`] bootstraps from any reachable address of `bootstrap_servers` (all tried at
//! once), keeps a metadata cache ([`ClusterMetadata`]: cluster id, brokers, controller, topics,
//! partitions with leaders, epochs, replicas and ISR) fresh for `metadata_max_age` or until an
//! error says it is stale, holds one connection per broker (opened lazily, shared, single-flight
//! connects, reconnect backoff), and routes requests ([`Target`]): to the least-loaded broker,
//! the controller, a group or transaction coordinator (found with batched `FindCoordinator` and
//! cached), a partition leader, or a broker by id. [`Cluster::call`] retries under one deadline
//! per operation, reading Kafka's in-body error codes through a classifier;
//! [`Cluster::fan_out`] sends to many brokers at once. Failures are typed [`ClusterError`]s that
//! say what went wrong, where, and while waiting for what: a broker advertising an unreachable
//! address is named as such.
//!
//! The decisions are sans-IO and unit-tested without sockets or sleeping: [`metadata`] (cache
//! and freshness), [`routing`] (least-loaded choice, what an error invalidates),
//! [`coordinator`] (requests per version, the cache), [`retry`] (deadline and backoff), and the
//! pool's slot state ([`pool`]).
//!
//! ```no_run
//! use std::time::Duration;
//! use klamm_cluster::{Cluster, ClusterConfig, CoordinatorType, ResponseError, Target};
//! use klamm_protocol::messages::{DescribeGroupsRequest, MetadataRequest};
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
//! let described = cluster
//!     .call(
//!         Target::Coordinator(CoordinatorType::Group, "billing".into()),
//!         None,
//!         |_version| DescribeGroupsRequest::default().with_groups(vec!["billing".into()]),
//!         |response| match response.groups.first() {
//!             Some(group) => ResponseError::check(group.error_code),
//!             None => Ok(()),
//!         },
//!     )
//!     .await?;
//! println!("{:?}", described.groups[0].group_state);
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod bootstrap;
mod cluster;
mod config;
pub mod coordinator;
mod error;
pub mod metadata;
pub mod pool;
mod response;
pub mod retry;
pub mod routing;

pub use bootstrap::{BootstrapServers, DEFAULT_BOOTSTRAP};
pub use cluster::Cluster;
pub use config::{ClusterConfig, ClusterConfigBuilder};
pub use coordinator::{Coordinator, CoordinatorType};
pub use error::{BootstrapAttempt, ClusterError, Waiting};
pub use metadata::{BrokerInfo, ClusterMetadata, PartitionMetadata, TopicMetadata};
pub use response::{accept_any, ResponseError};
pub use routing::Target;
