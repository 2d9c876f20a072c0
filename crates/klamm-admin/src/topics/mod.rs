//! Topic operations: `create_topics`, `delete_topics`, `create_partitions`, `list_topics`,
//! `describe_topics`, `describe_all_topics`. Every one is keyed by [`TopicRef`] (a name or a
//! topic id, as the caller gave it). Creates, deletes and new partitions go to the controller
//! as sharded requests; an item whose attempt got no answer (and so may have applied) is
//! checked against fresh metadata instead of reporting `TOPIC_ALREADY_EXISTS` /
//! `UNKNOWN_TOPIC_OR_PARTITION` for our own earlier success. Optional barriers wait until every
//! broker's metadata agrees.

mod barrier;
mod create;
mod delete;
mod describe;
mod partitions;

use std::collections::BTreeMap;
use std::fmt;

use klamm_cluster::{Outcome, ResponseError};
use klamm_protocol::ErrorCode;

use klamm_protocol::messages::create_topics_request::{
    CreatableReplicaAssignment, CreatableTopic, CreatableTopicConfig,
};
use klamm_protocol::primitives::Uuid;

use crate::options::options;
use crate::{AclOperation, WriteOutcome};

/// A topic to create.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct NewTopic {
    /// The name.
    pub name: String,
    /// Partitions; `None` for the broker's `num.partitions` (needs CreateTopics v4+).
    pub num_partitions: Option<i32>,
    /// Replication factor; `None` for `default.replication.factor`.
    pub replication_factor: Option<i16>,
    /// Manual replica assignment, partition → brokers (preferred leader first). When set,
    /// partitions and replication factor come from it.
    pub assignments: BTreeMap<i32, Vec<i32>>,
    /// Topic configs (`cleanup.policy`, `retention.ms`, …).
    pub configs: BTreeMap<String, String>,
}

impl From<&NewTopic> for NewTopic {
    fn from(value: &NewTopic) -> Self {
        value.clone()
    }
}

impl NewTopic {
    /// A topic with this many partitions and replicas.
    pub fn new(name: impl Into<String>, num_partitions: i32, replication_factor: i16) -> Self {
        NewTopic {
            name: name.into(),
            num_partitions: Some(num_partitions),
            replication_factor: Some(replication_factor),
            assignments: BTreeMap::new(),
            configs: BTreeMap::new(),
        }
    }

    /// A topic with the broker's default partitions and replication factor.
    pub fn with_broker_defaults(name: impl Into<String>) -> Self {
        NewTopic {
            num_partitions: None,
            replication_factor: None,
            ..NewTopic::new(name, -1, -1)
        }
    }

    /// Assigns `partition` to `brokers` (preferred leader first).
    pub fn assign(mut self, partition: i32, brokers: Vec<i32>) -> Self {
        self.assignments.insert(partition, brokers);
        self
    }

    /// Sets a topic config.
    pub fn config(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.configs.insert(key.into(), value.into());
        self
    }

    fn to_request(&self) -> CreatableTopic {
        let manual = !self.assignments.is_empty();
        CreatableTopic::default()
            .with_name(self.name.as_str().into())
            .with_num_partitions(if manual {
                -1
            } else {
                self.num_partitions.unwrap_or(-1)
            })
            .with_replication_factor(if manual {
                -1
            } else {
                self.replication_factor.unwrap_or(-1)
            })
            .with_assignments(
                self.assignments
                    .iter()
                    .map(|(partition, brokers)| {
                        CreatableReplicaAssignment::default()
                            .with_partition_index(*partition)
                            .with_broker_ids(brokers.as_slice().into())
                    })
                    .collect(),
            )
            .with_configs(
                self.configs
                    .iter()
                    .map(|(name, value)| {
                        CreatableTopicConfig::default()
                            .with_name(name.as_str().into())
                            .with_value(Some(value.as_str().into()))
                    })
                    .collect(),
            )
    }
}

options! {
    /// Options of [`Admin::create_topics`](crate::Admin::create_topics).
    pub struct CreateTopicsOptions {
        /// Only check that the topics could be created.
        validate_only: bool,
        /// Return only once every broker's metadata shows each created topic with a leader for
        /// every partition (Kafka creates asynchronously across the cluster).
        wait_for_metadata: bool,
        /// Ask for each created topic's configs and counts back (CreateTopics v5+). Without it
        /// CreateTopics v4 is sent, which the broker answers faster (it looks up no configs),
        /// and the results carry no configs, counts or topic ids.
        include_configs: bool = true,
    }
}

/// A created topic.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct CreatedTopic {
    /// The name.
    pub name: String,
    /// Its id (CreateTopics v7+, or from metadata).
    #[cfg_attr(
        feature = "serde",
        serde(serialize_with = "crate::types::uuid_text::option")
    )]
    pub topic_id: Option<Uuid>,
    /// Partitions (`None` if the broker did not say: before v5).
    pub num_partitions: Option<i32>,
    /// Replication factor (`None` if the broker did not say).
    pub replication_factor: Option<i16>,
    /// The topic's configs as the broker reported them (v5+).
    pub configs: BTreeMap<String, Option<String>>,
    /// How it came to exist: created, validated only, or confirmed after a retry (an attempt
    /// that got no answer was retried and found the topic there; Kafka cannot tell whether
    /// our lost attempt created it or someone else did just before).
    pub outcome: WriteOutcome,
}

/// A topic by name or by id, as the caller names it; the key of every topic operation's
/// results.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum TopicRef {
    /// By name.
    Name(String),
    /// By topic id (DeleteTopics v6+, Metadata v10+).
    Id(Uuid),
}

impl TopicRef {
    /// The name, for a topic named by name.
    pub fn name(&self) -> Option<&str> {
        match self {
            TopicRef::Name(name) => Some(name),
            TopicRef::Id(_) => None,
        }
    }
}

impl From<&str> for TopicRef {
    fn from(name: &str) -> Self {
        TopicRef::Name(name.to_owned())
    }
}

impl From<&String> for TopicRef {
    fn from(name: &String) -> Self {
        TopicRef::Name(name.clone())
    }
}

impl From<String> for TopicRef {
    fn from(name: String) -> Self {
        TopicRef::Name(name)
    }
}

impl From<&TopicRef> for TopicRef {
    fn from(topic: &TopicRef) -> Self {
        topic.clone()
    }
}

impl From<Uuid> for TopicRef {
    fn from(id: Uuid) -> Self {
        TopicRef::Id(id)
    }
}

impl fmt::Display for TopicRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TopicRef::Name(name) => write!(f, "topic `{name}`"),
            TopicRef::Id(id) => write!(f, "topic id {id}"),
        }
    }
}

/// Serialized as `{"name": "orders"}` or `{"id": "<base64 topic id>"}`.
#[cfg(feature = "serde")]
impl serde::Serialize for TopicRef {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(1))?;
        match self {
            TopicRef::Name(name) => map.serialize_entry("name", name)?,
            TopicRef::Id(id) => map.serialize_entry("id", &id.to_string())?,
        }
        map.end()
    }
}

impl crate::ResultKey<TopicRef> for &str {
    fn key(&self) -> std::borrow::Cow<'_, TopicRef> {
        std::borrow::Cow::Owned(TopicRef::from(*self))
    }
}

impl crate::ResultKey<TopicRef> for &String {
    fn key(&self) -> std::borrow::Cow<'_, TopicRef> {
        std::borrow::Cow::Owned(TopicRef::from(self.as_str()))
    }
}

options! {
    /// Options of [`Admin::delete_topics`](crate::Admin::delete_topics).
    pub struct DeleteTopicsOptions {
        /// Return only once no broker's metadata lists the deleted topics any more.
        wait_until_gone: bool,
    }
}

/// Partitions to add to a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct NewPartitions {
    /// The new total partition count.
    pub total_count: i32,
    /// Replica assignment of each new partition, in order; empty for the broker's choice.
    pub assignments: Vec<Vec<i32>>,
}

impl NewPartitions {
    /// Grow to `total_count` partitions.
    pub fn increase_to(total_count: i32) -> Self {
        NewPartitions {
            total_count,
            assignments: Vec::new(),
        }
    }
}

options! {
    /// Options of [`Admin::create_partitions`](crate::Admin::create_partitions).
    pub struct CreatePartitionsOptions {
        /// Only check that the partitions could be added.
        validate_only: bool,
    }
}

options! {
    /// Options of [`Admin::list_topics`](crate::Admin::list_topics).
    pub struct ListTopicsOptions {
        /// List internal topics too (`__consumer_offsets`, `__transaction_state`, …).
        include_internal: bool,
    }
}

options! {
    /// Options of [`Admin::describe_topics`](crate::Admin::describe_topics) and
    /// [`Admin::describe_all_topics`](crate::Admin::describe_all_topics).
    pub struct DescribeTopicsOptions {
        /// Ask for the caller's authorized operations on each topic (Metadata v8+).
        include_authorized_operations: bool = true,
    }
}

/// A topic in [`Admin::list_topics`](crate::Admin::list_topics).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct TopicListing {
    /// The name.
    pub name: String,
    /// Its id, if the broker sent one.
    #[cfg_attr(
        feature = "serde",
        serde(serialize_with = "crate::types::uuid_text::option")
    )]
    pub topic_id: Option<Uuid>,
    /// Whether it is internal (`__consumer_offsets`, …).
    pub is_internal: bool,
}

/// One partition of a described topic.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct PartitionDescription {
    /// Index.
    pub partition: i32,
    /// Leader, `None` when it has none.
    pub leader: Option<i32>,
    /// Leader epoch, if sent.
    pub leader_epoch: Option<i32>,
    /// Replicas, preferred leader first.
    pub replicas: Vec<i32>,
    /// In-sync replicas.
    pub isr: Vec<i32>,
    /// Replicas with offline log dirs.
    pub offline_replicas: Vec<i32>,
    /// A partition-level error (e.g. `LEADER_NOT_AVAILABLE`).
    #[cfg_attr(
        feature = "serde",
        serde(serialize_with = "crate::types::error_code_name")
    )]
    pub error: Option<ErrorCode>,
}

/// A described topic.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct TopicDescription {
    /// The name.
    pub name: String,
    /// Its id.
    #[cfg_attr(
        feature = "serde",
        serde(serialize_with = "crate::types::uuid_text::option")
    )]
    pub topic_id: Option<Uuid>,
    /// Internal topic.
    pub is_internal: bool,
    /// Partitions by index order.
    pub partitions: Vec<PartitionDescription>,
    /// What the caller may do with it (Metadata v8+), `None` if not sent.
    pub authorized_operations: Option<Vec<AclOperation>>,
}

/// A topic id from the wire, `None` for the all-zero id brokers send when they have none.
fn topic_id(id: &Uuid) -> Option<Uuid> {
    (!id.is_zero()).then_some(*id)
}

fn topic_resource(name: &str) -> String {
    format!("topic `{name}`")
}

/// A topic's outcome in a controller's answer: `value` when its code is none. A request that
/// reached a broker which is no longer the controller is retried after refreshing the brokers;
/// one over the controller's mutation quota (KIP-599) after the retry backoff.
fn topic_outcome<T>(
    code: i16,
    message: Option<impl ToString>,
    resource: String,
    value: impl FnOnce() -> T,
) -> Outcome<T> {
    match ResponseError::check(code) {
        Ok(()) => Outcome::Done(value()),
        Err(error) => {
            let error = error.with_message(message).with_resource(resource);
            match error.error_code {
                ErrorCode::NotController | ErrorCode::ThrottlingQuotaExceeded => {
                    Outcome::Retry(error)
                }
                _ => Outcome::Failed(error),
            }
        }
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn manual_assignment_sends_minus_one_counts() {
        let request = NewTopic::new("t", 3, 2)
            .assign(0, vec![1, 2])
            .assign(1, vec![2, 1])
            .to_request();
        assert_eq!(request.num_partitions, -1);
        assert_eq!(request.replication_factor, -1);
        assert_eq!(request.assignments.len(), 2);
        assert_eq!(request.assignments[1].broker_ids, vec![2, 1]);
    }

    #[test]
    fn broker_defaults_and_configs_are_encoded() {
        let request = NewTopic::with_broker_defaults("t")
            .config("retention.ms", "1000")
            .to_request();
        assert_eq!(
            (request.num_partitions, request.replication_factor),
            (-1, -1)
        );
        assert_eq!(request.configs[0].name, "retention.ms");
        assert_eq!(request.configs[0].value.as_deref(), Some("1000"));
    }
}
