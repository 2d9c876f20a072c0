//! The admin API of Klamm: typed, async operations on an Apache Kafka cluster, built on
//! [`klamm_cluster`] (bootstrap, metadata, routing, retries under one deadline).
//!
//! An [`Admin`] is connected with an [`AdminConfig`] (a builder mirroring kafka-python's
//! `KafkaAdminClient` settings, or a Java-client `.properties` file). Every operation has one
//! shape:
//!
//! - items go in as `impl IntoIterator<Item = impl Into<…>>` (`["orders", "billing"]` works);
//! - its own options type is the last argument (`Default`, a builder method per setting,
//!   `#[non_exhaustive]`, a `timeout` in each);
//! - a batch operation returns [`Results`]: one `Result<_, AdminError>` per item, keyed by what
//!   the caller passed (a [`TopicRef`], a group id, a [`ConfigResource`], a
//!   [`TopicPartition`] …), so one bad item never fails the others; a single-answer operation
//!   returns `Result<T, AdminError>`;
//! - a write that is not idempotent reports [`WriteOutcome::ConfirmedAfterRetry`] when an
//!   attempt that got no answer was retried and the cluster's state shows it took effect, and
//!   every error says whether it [`may_have_applied`](AdminError::may_have_applied).
//!
//! Each operation is a planner and a classifier over klamm-cluster's sharded request: items are
//! routed to the broker that owns them (the controller, a coordinator, a partition leader, a
//! named broker), sent concurrently, and only the items that need it are retried, under the
//! configured backoff and one deadline. Values are typed where types exist (topic ids as
//! [`Uuid`], [`GroupState`], [`GroupType`], [`IsolationLevel`], ACL and config resource types;
//! values a newer broker sends are kept, not dropped). With the default `serde` feature every
//! result and error implements `serde::Serialize` with snake_case keys.
//!
//! Feature `gssapi`: SASL/GSSAPI (Kerberos) through klamm-net's feature of that name, from the
//! builder's `sasl_kerberos_*` settings or a `.properties` file's `sasl.mechanism=GSSAPI` and
//! `Krb5LoginModule` line (see [`properties`]); without it, GSSAPI is a typed error naming the
//! feature.
//!
//! Routing follows what each API needs: creates and deletes to the controller, BROKER and
//! BROKER_LOGGER config resources to that broker, group operations to the group coordinator,
//! offsets to partition leaders, group listings to every broker at once.
//!
//! ```no_run
//! use std::time::Duration;
//! use klamm_admin::{Admin, AdminConfig, ClusterHealthOptions, CreateTopicsOptions, DescribeTopicsOptions, NewTopic};
//!
//! # async fn demo() -> Result<(), klamm_admin::AdminError> {
//! let config = AdminConfig::builder()
//!     .bootstrap_servers("kafka-1:9092")
//!     .default_api_timeout(Duration::from_secs(30))
//!     .build()?;
//! let admin = Admin::connect(config).await?;
//! let options = CreateTopicsOptions::default().wait_for_metadata(true);
//! admin.create_topics([NewTopic::new("orders", 3, 1)], options).await?;
//! let described = admin.describe_topics(["orders"], DescribeTopicsOptions::default()).await?;
//! for (topic, description) in described.iter() {
//!     println!("{topic}: {:?}", description.as_ref().map(|d| d.partitions.len()));
//! }
//! println!("{}", admin.cluster_health(ClusterHealthOptions::default()).await?.summary());
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod acls;
mod client;
mod cluster_info;
mod config;
mod configs;
pub mod consumer_protocol;
mod error;
mod group_offsets;
mod groups;
mod health;
mod offsets;
mod options;
pub mod properties;
mod replicas;
mod results;
mod settings;
mod topics;
mod types;

pub use acls::{
    AclBinding, AclBindingFilter, AclPermissionType, AclResourceType, CreateAclsOptions,
    DeleteAclsOptions, DeletedAcl, DeletedAcls, DescribeAclsOptions, PatternType,
};
pub use client::Admin;
pub use cluster_info::{BrokerDescription, ClusterDescription, DescribeClusterOptions};
pub use config::{AdminConfig, AdminConfigBuilder};
pub use configs::{
    AlterConfigOp, AlterConfigsOptions, ConfigEntry, ConfigResource, ConfigResourceType,
    ConfigSource, ConfigSynonym, ConfigType, DescribeConfigsOptions,
};
pub use error::AdminError;
pub use group_offsets::{
    AlterGroupOffsetsOptions, CommittedOffset, DeleteGroupOffsetsOptions, GroupOffsets,
    GroupOffsetsSpec, ListGroupOffsetsOptions, OffsetAndMetadata,
};
pub use groups::{
    ConsumerGroupListing, DeleteConsumerGroupsOptions, DescribeConsumerGroupsOptions,
    GroupDescription, GroupListing, ListConsumerGroupsOptions, MemberDescription, MemberToRemove,
    RemoveMembersOptions,
};
pub use health::{BrokerLeadership, ClusterHealthOptions, HealthReport, PartitionHealth};
pub use offsets::{DeleteRecordsOptions, ListOffsetsOptions, ListedOffset, OffsetSpec};
pub use replicas::{
    AlterReassignmentsOptions, DescribeLogDirsOptions, ElectLeadersOptions, ElectionOutcome,
    ElectionType, ListReassignmentsOptions, LogDirDescription, OngoingReassignment, ReplicaLogInfo,
};
pub use results::{ResultKey, Results};
pub use settings::{
    AdminSettings, IdentitySource, KerberosSettings, MechanismSetting, OAuthSettings, OAuthSource,
    TrustSource,
};
pub use topics::{
    CreatePartitionsOptions, CreateTopicsOptions, CreatedTopic, DeleteTopicsOptions,
    DescribeTopicsOptions, ListTopicsOptions, NewPartitions, NewTopic, PartitionDescription,
    TopicDescription, TopicListing, TopicRef,
};
pub use types::{
    AclOperation, GroupState, GroupType, IsolationLevel, Selection, TopicPartition, WriteOutcome,
};

pub use klamm_cluster::{ClusterConfig, ClusterError};
/// Re-exported because [`AdminConfigBuilder`] takes them.
pub use klamm_net::{
    ClientMetrics, KafkaRelease, KeyStore, MetricsRecorder, SaslMechanism, Secret,
    SecurityProtocol, SocketOption, StoreKind, TokenProvider,
};
pub use klamm_protocol::primitives::Uuid;
pub use klamm_protocol::ErrorCode;
