//! The admin API of Klamm: typed, async operations on an Apache Kafka cluster, built on
//! [`klamm_cluster`] (bootstrap, metadata, routing, retries under one deadline).
//!
//! An [`Admin`] is connected with an [`AdminConfig`] (a builder mirroring kafka-python's
//! `KafkaAdminClient` settings, or a Java-client `.properties` file). Operations take typed
//! requests and return typed results: batch operations return [`Results`], one
//! `Result<_, AdminError>` per topic, config resource, ACL filter or group, so one bad item never
//! fails the others, and an error keeps the Kafka error code, the broker's message and the
//! resource. Everything the CLI prints implements `serde::Serialize` with snake_case keys.
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
//! use klamm_admin::{Admin, AdminConfig, CreateTopicsOptions, NewTopic, TopicRef};
//!
//! # async fn demo() -> Result<(), klamm_admin::AdminError> {
//! let config = AdminConfig::builder()
//!     .bootstrap_servers("kafka-1:9092")
//!     .default_api_timeout(Duration::from_secs(30))
//!     .build()?;
//! let admin = Admin::connect(config).await?;
//! let options = CreateTopicsOptions { wait_for_metadata: true, ..Default::default() };
//! admin.create_topics(&[NewTopic::new("orders", 3, 1)], options).await?;
//! let described = admin.describe_topics(&[TopicRef::from("orders")], None).await?;
//! for (topic, description) in described.iter() {
//!     println!("{topic}: {:?}", description.as_ref().map(|d| d.partitions.len()));
//! }
//! println!("{}", admin.cluster_health(None).await?.summary());
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
pub mod properties;
mod replicas;
mod results;
mod settings;
mod topics;
mod types;

pub use acls::{
    AclBinding, AclBindingFilter, AclPermissionType, AclResourceType, DeletedAcl, PatternType,
};
pub use client::Admin;
pub use cluster_info::{BrokerDescription, ClusterDescription};
pub use config::{AdminConfig, AdminConfigBuilder};
pub use configs::{
    AlterConfigOp, AlterConfigsOptions, ConfigEntry, ConfigResource, ConfigResourceType,
    ConfigSource, ConfigSynonym, ConfigType, DescribeConfigsOptions,
};
pub use error::AdminError;
pub use group_offsets::{
    CommittedOffset, GroupOffsets, GroupOffsetsSpec, ListGroupOffsetsOptions, OffsetAndMetadata,
};
pub use groups::{
    ConsumerGroupListing, GroupDescription, GroupListing, ListConsumerGroupsOptions,
    MemberDescription, MemberToRemove,
};
pub use health::{BrokerLeadership, HealthReport, PartitionHealth};
pub use offsets::{ListOffsetsOptions, ListedOffset, OffsetSpec};
pub use replicas::{
    ElectionOutcome, ElectionType, LogDirDescription, OngoingReassignment, ReplicaLogInfo,
};
pub use results::Results;
pub use settings::{
    AdminSettings, IdentitySource, KerberosSettings, MechanismSetting, OAuthSettings, OAuthSource,
    TrustSource,
};
pub use topics::{
    CreateOutcome, CreatePartitionsOptions, CreateTopicsOptions, CreatedTopic, DeleteOutcome,
    DeleteTopicsOptions, NewPartitions, NewTopic, PartitionDescription, TopicDescription,
    TopicListing, TopicRef,
};
pub use types::{AclOperation, CallOptions, TopicPartition};

pub use klamm_cluster::{ClusterConfig, ClusterError};
/// Re-exported because [`AdminConfigBuilder`] takes them.
pub use klamm_net::{
    ClientMetrics, KafkaRelease, KeyStore, MetricsRecorder, SaslMechanism, Secret,
    SecurityProtocol, SocketOption, StoreKind, TokenProvider,
};
pub use klamm_protocol::ErrorCode;
