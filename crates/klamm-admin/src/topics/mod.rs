//! Topic operations: `create_topics`, `delete_topics`, `create_partitions`, `list_topics`,
//! `describe_topics`. Creates and deletes go to the controller; a retry of an attempt that got
//! no answer (and so may have applied) is checked against fresh metadata instead of reporting
//! `TOPIC_ALREADY_EXISTS` / `UNKNOWN_TOPIC_OR_PARTITION` for our own earlier success. Optional
//! barriers wait until every broker's metadata agrees.

mod create;
mod delete;
mod describe;

use std::collections::BTreeMap;
use std::time::Duration;

use klamm_protocol::messages::create_topics_request::{
    CreatableReplicaAssignment, CreatableTopic, CreatableTopicConfig,
};
use klamm_protocol::primitives::Uuid;
use serde::Serialize;

use crate::AclOperation;

/// A topic to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

/// Options of [`Admin::create_topics`](crate::Admin::create_topics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CreateTopicsOptions {
    /// Deadline of the whole call, waiting included; `default_api_timeout` if `None`.
    pub timeout: Option<Duration>,
    /// Only check that the topics could be created.
    pub validate_only: bool,
    /// Return only once every broker's metadata shows each created topic with a leader for
    /// every partition (Kafka creates asynchronously across the cluster).
    pub wait_for_metadata: bool,
}

/// How a topic came to exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CreateOutcome {
    /// The controller said so.
    Created,
    /// Validated only (`validate_only`); nothing was created.
    Validated,
    /// An attempt that got no answer was retried and the retry found the topic already there;
    /// fresh metadata shows it exists. Kafka cannot tell whether our lost attempt created it
    /// or someone else did just before.
    ConfirmedAfterRetry,
}

/// A created topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreatedTopic {
    /// The name.
    pub name: String,
    /// Its id (CreateTopics v7+, or from metadata).
    pub topic_id: Option<String>,
    /// Partitions (`None` if the broker did not say: before v5).
    pub num_partitions: Option<i32>,
    /// Replication factor (`None` if the broker did not say).
    pub replication_factor: Option<i16>,
    /// The topic's configs as the broker reported them (v5+).
    pub configs: BTreeMap<String, Option<String>>,
    /// How the outcome was established.
    pub outcome: CreateOutcome,
}

/// A topic to delete, by name or by id (DeleteTopics v6+).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TopicRef {
    /// By name.
    Name(String),
    /// By id (base64 as Kafka prints it).
    Id(String),
}

impl From<&str> for TopicRef {
    fn from(name: &str) -> Self {
        TopicRef::Name(name.to_owned())
    }
}

impl From<String> for TopicRef {
    fn from(name: String) -> Self {
        TopicRef::Name(name)
    }
}

impl std::fmt::Display for TopicRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TopicRef::Name(name) => write!(f, "topic `{name}`"),
            TopicRef::Id(id) => write!(f, "topic id {id}"),
        }
    }
}

/// Options of [`Admin::delete_topics`](crate::Admin::delete_topics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeleteTopicsOptions {
    /// Deadline of the whole call, waiting included.
    pub timeout: Option<Duration>,
    /// Return only once no broker's metadata lists the deleted topics any more.
    pub wait_until_gone: bool,
}

/// How a topic came to be gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeleteOutcome {
    /// The controller said so.
    Deleted,
    /// A retry of an attempt that got no answer found the topic already gone.
    ConfirmedAfterRetry,
}

/// Partitions to add to a topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

/// Options of [`Admin::create_partitions`](crate::Admin::create_partitions).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CreatePartitionsOptions {
    /// Deadline.
    pub timeout: Option<Duration>,
    /// Only validate.
    pub validate_only: bool,
}

/// A topic in [`Admin::list_topics`](crate::Admin::list_topics).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopicListing {
    /// The name.
    pub name: String,
    /// Its id, if the broker sent one.
    pub topic_id: Option<String>,
    /// Whether it is internal (`__consumer_offsets`, …).
    pub is_internal: bool,
}

/// One partition of a described topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    /// A partition-level error (e.g. `LEADER_NOT_AVAILABLE`), by name.
    pub error: Option<String>,
}

/// A described topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopicDescription {
    /// The name.
    pub name: String,
    /// Its id.
    pub topic_id: Option<String>,
    /// Internal topic.
    pub is_internal: bool,
    /// Partitions by index order.
    pub partitions: Vec<PartitionDescription>,
    /// What the caller may do with it (Metadata v8+), `None` if not sent.
    pub authorized_operations: Option<Vec<AclOperation>>,
}

fn id_text(id: &Uuid) -> Option<String> {
    (!id.is_zero()).then(|| id.to_string())
}

fn topic_resource(name: &str) -> String {
    format!("topic `{name}`")
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
