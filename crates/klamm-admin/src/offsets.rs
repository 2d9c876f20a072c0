//! Partition-offset operations routed to partition leaders: `list_offsets` (earliest, latest,
//! by timestamp, max timestamp) and `delete_records`, each a sharded request: partitions are
//! grouped by leader, one request per leader, concurrently; partitions answered with a
//! stale-leader error (`NOT_LEADER_OR_FOLLOWER`, `LEADER_NOT_AVAILABLE`, … — a new topic's
//! leader on Kafka 4.4 can say so briefly) are retried with fresh metadata until the deadline.

use std::collections::BTreeMap;
use std::time::Duration;

use klamm_cluster::{Outcome, ResponseError, ShardedRequest, Target};
use klamm_protocol::messages::delete_records_request::{
    DeleteRecordsPartition, DeleteRecordsTopic,
};
use klamm_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use klamm_protocol::messages::{
    DeleteRecordsRequest, DeleteRecordsResponse, ListOffsetsRequest, ListOffsetsResponse,
};
use klamm_protocol::ErrorCode;

use crate::client::timeout_ms;
use crate::options::options;
use crate::{Admin, AdminError, IsolationLevel, Results, TopicPartition};

/// Which offset [`Admin::list_offsets`] looks up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum OffsetSpec {
    /// The log start offset.
    Earliest,
    /// The log end offset (high watermark, or last stable offset with `read_committed`).
    Latest,
    /// The offset of the record with the largest timestamp (ListOffsets v7+, Kafka 3.0+).
    MaxTimestamp,
    /// The earliest offset whose timestamp is at or after this many ms since the epoch.
    Timestamp(i64),
}

impl From<&OffsetSpec> for OffsetSpec {
    fn from(spec: &OffsetSpec) -> Self {
        *spec
    }
}

impl OffsetSpec {
    fn wire(self) -> i64 {
        match self {
            OffsetSpec::Earliest => -2,
            OffsetSpec::Latest => -1,
            OffsetSpec::MaxTimestamp => -3,
            OffsetSpec::Timestamp(ts) => ts,
        }
    }
}

options! {
    /// Options of [`Admin::list_offsets`].
    pub struct ListOffsetsOptions {
        /// `ReadCommitted`: `Latest` is the last stable offset (no open transaction's records).
        isolation_level: IsolationLevel,
    }
}

options! {
    /// Options of [`Admin::delete_records`].
    pub struct DeleteRecordsOptions {}
}

/// An offset [`Admin::list_offsets`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ListedOffset {
    /// The offset; `None` when no record matches a timestamp.
    pub offset: Option<i64>,
    /// The record's timestamp, for timestamp lookups.
    pub timestamp: Option<i64>,
    /// The leader epoch, if sent.
    pub leader_epoch: Option<i32>,
}

/// Whether a partition error means "the leader moved or is not ready": retry with fresh
/// metadata.
pub(crate) fn leader_retriable(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::NotLeaderOrFollower
            | ErrorCode::LeaderNotAvailable
            | ErrorCode::UnknownTopicOrPartition
            | ErrorCode::FencedLeaderEpoch
            | ErrorCode::UnknownLeaderEpoch
            | ErrorCode::OffsetNotAvailable
            | ErrorCode::KafkaStorageError
            | ErrorCode::NotEnoughReplicas
            | ErrorCode::RequestTimedOut
    )
}

/// A partition's outcome from its error code: `value` when there is none.
fn partition_outcome<T>(code: i16, value: impl FnOnce() -> T) -> Outcome<T> {
    match ResponseError::check(code) {
        Ok(()) => Outcome::Done(value()),
        Err(error) if leader_retriable(error.error_code) => Outcome::Retry(error),
        Err(error) => Outcome::Failed(error),
    }
}

/// Where a partition's requests go: its leader.
fn to_leader(tp: &TopicPartition) -> Target {
    Target::Leader {
        topic: tp.topic.clone(),
        partition: tp.partition,
    }
}

/// Groups partitions by topic, in order.
fn by_topic(partitions: &[TopicPartition]) -> BTreeMap<String, Vec<i32>> {
    let mut topics: BTreeMap<String, Vec<i32>> = BTreeMap::new();
    for tp in partitions {
        topics
            .entry(tp.topic.clone())
            .or_default()
            .push(tp.partition);
    }
    topics
}

/// One request entry per topic of `partitions`: `partition` makes each partition's entry and
/// `topic` wraps a topic's entries.
fn topic_entries<T, P>(
    partitions: &[TopicPartition],
    partition: impl Fn(&str, i32) -> P,
    topic: impl Fn(String, Vec<P>) -> T,
) -> Vec<T> {
    by_topic(partitions)
        .into_iter()
        .map(|(name, indexes)| {
            let entries = indexes
                .iter()
                .map(|&index| partition(&name, index))
                .collect();
            topic(name, entries)
        })
        .collect()
}

/// `list_offsets` as a sharded request: ListOffsets to each leader.
struct ListOffsetsShards {
    specs: BTreeMap<TopicPartition, OffsetSpec>,
    isolation_level: IsolationLevel,
    timeout: Duration,
}

impl ShardedRequest for ListOffsetsShards {
    type Item = TopicPartition;
    type Request = ListOffsetsRequest;
    type Output = ListedOffset;

    fn route(&self, tp: &TopicPartition) -> Target {
        to_leader(tp)
    }

    fn build(
        &self,
        _broker: i32,
        _version: i16,
        partitions: &[TopicPartition],
    ) -> ListOffsetsRequest {
        let topics = topic_entries(
            partitions,
            |name, partition| {
                ListOffsetsPartition::default()
                    .with_partition_index(partition)
                    .with_timestamp(self.specs[&TopicPartition::new(name, partition)].wire())
                    .with_current_leader_epoch(-1)
            },
            |name, partitions| {
                ListOffsetsTopic::default()
                    .with_name(name.into())
                    .with_partitions(partitions)
            },
        );
        ListOffsetsRequest::default()
            .with_replica_id(-1)
            .with_isolation_level(self.isolation_level.code())
            .with_topics(topics)
            .with_timeout_ms(timeout_ms(self.timeout))
    }

    fn classify(
        &self,
        response: ListOffsetsResponse,
        _version: i16,
        _partitions: &[TopicPartition],
    ) -> Vec<(TopicPartition, Outcome<ListedOffset>)> {
        let mut outcomes = Vec::new();
        for topic in &response.topics {
            for p in &topic.partitions {
                let tp = TopicPartition::new(topic.name.to_string(), p.partition_index);
                let outcome = partition_outcome(p.error_code, || ListedOffset {
                    offset: (p.offset >= 0).then_some(p.offset),
                    timestamp: (p.timestamp >= 0).then_some(p.timestamp),
                    leader_epoch: (p.leader_epoch >= 0).then_some(p.leader_epoch),
                });
                outcomes.push((tp, outcome));
            }
        }
        outcomes
    }

    fn describe(&self, tp: &TopicPartition) -> String {
        format!("partition {tp}")
    }
}

/// `delete_records` as a sharded request: DeleteRecords to each leader.
struct DeleteRecordsShards {
    before: BTreeMap<TopicPartition, i64>,
    timeout: Duration,
}

impl ShardedRequest for DeleteRecordsShards {
    type Item = TopicPartition;
    type Request = DeleteRecordsRequest;
    type Output = i64;

    fn route(&self, tp: &TopicPartition) -> Target {
        to_leader(tp)
    }

    fn build(
        &self,
        _broker: i32,
        _version: i16,
        partitions: &[TopicPartition],
    ) -> DeleteRecordsRequest {
        let topics = topic_entries(
            partitions,
            |name, partition| {
                DeleteRecordsPartition::default()
                    .with_partition_index(partition)
                    .with_offset(self.before[&TopicPartition::new(name, partition)])
            },
            |name, partitions| {
                DeleteRecordsTopic::default()
                    .with_name(name.into())
                    .with_partitions(partitions)
            },
        );
        DeleteRecordsRequest::default()
            .with_topics(topics)
            .with_timeout_ms(timeout_ms(self.timeout))
    }

    fn classify(
        &self,
        response: DeleteRecordsResponse,
        _version: i16,
        _partitions: &[TopicPartition],
    ) -> Vec<(TopicPartition, Outcome<i64>)> {
        let mut outcomes = Vec::new();
        for topic in &response.topics {
            for p in &topic.partitions {
                let tp = TopicPartition::new(topic.name.to_string(), p.partition_index);
                outcomes.push((tp, partition_outcome(p.error_code, || p.low_watermark)));
            }
        }
        outcomes
    }

    fn describe(&self, tp: &TopicPartition) -> String {
        format!("partition {tp}")
    }
}

impl Admin {
    /// Looks up offsets per partition, each asked of its leader.
    ///
    /// ```no_run
    /// # use klamm_admin::{Admin, ListOffsetsOptions, OffsetSpec, TopicPartition};
    /// # async fn demo(admin: Admin) -> Result<(), klamm_admin::AdminError> {
    /// let wanted = [(TopicPartition::new("orders", 0), OffsetSpec::Latest)];
    /// let offsets = admin.list_offsets(wanted, ListOffsetsOptions::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn list_offsets(
        &self,
        partitions: impl IntoIterator<Item = (impl Into<TopicPartition>, impl Into<OffsetSpec>)>,
        options: ListOffsetsOptions,
    ) -> Result<Results<TopicPartition, ListedOffset>, AdminError> {
        let timeout = self.timeout(options.timeout);
        let shards = ListOffsetsShards {
            specs: partitions
                .into_iter()
                .map(|(tp, spec)| (tp.into(), spec.into()))
                .collect(),
            isolation_level: options.isolation_level,
            timeout,
        };
        let items: Vec<TopicPartition> = shards.specs.keys().cloned().collect();
        let results = self.cluster.sharded(&shards, items, Some(timeout)).await;
        Ok(Results::from_items(results))
    }

    /// Deletes records before `offset` in each partition (moves the log start offset); one
    /// result per partition with the new low watermark. `-1` means "up to the high watermark".
    /// Deleting before an offset again changes nothing, so a retry needs no read-back.
    pub async fn delete_records(
        &self,
        before: impl IntoIterator<Item = (impl Into<TopicPartition>, i64)>,
        options: DeleteRecordsOptions,
    ) -> Result<Results<TopicPartition, i64>, AdminError> {
        let timeout = self.timeout(options.timeout);
        let shards = DeleteRecordsShards {
            before: before
                .into_iter()
                .map(|(tp, offset)| (tp.into(), offset))
                .collect(),
            timeout,
        };
        let items: Vec<TopicPartition> = shards.before.keys().cloned().collect();
        let results = self.cluster.sharded(&shards, items, Some(timeout)).await;
        Ok(Results::from_items(results))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_specs_use_kafkas_sentinels() {
        assert_eq!(OffsetSpec::Earliest.wire(), -2);
        assert_eq!(OffsetSpec::Latest.wire(), -1);
        assert_eq!(OffsetSpec::MaxTimestamp.wire(), -3);
        assert_eq!(
            OffsetSpec::Timestamp(1_700_000_000_000).wire(),
            1_700_000_000_000
        );
    }

    #[test]
    fn stale_leader_errors_are_retried_and_others_are_final() {
        assert!(
            matches!(partition_outcome(6, || 1), Outcome::Retry(_)),
            "NOT_LEADER_OR_FOLLOWER"
        );
        assert!(matches!(partition_outcome(0, || 1), Outcome::Done(1)));
        assert!(
            matches!(partition_outcome(29, || 1), Outcome::Failed(_)),
            "TOPIC_AUTHORIZATION_FAILED"
        );
    }

    #[test]
    fn partitions_are_grouped_by_topic() {
        let grouped = by_topic(&[
            TopicPartition::new("b", 1),
            TopicPartition::new("a", 0),
            TopicPartition::new("b", 0),
        ]);
        assert_eq!(grouped["b"], vec![1, 0]);
        assert_eq!(grouped.len(), 2);
    }

    #[test]
    fn topic_entries_wrap_each_topics_partitions_in_order() {
        let entries = topic_entries(
            &[
                TopicPartition::new("b", 1),
                TopicPartition::new("a", 0),
                TopicPartition::new("b", 0),
            ],
            |name, partition| format!("{name}-{partition}"),
            |name, partitions| (name, partitions),
        );
        assert_eq!(
            entries,
            vec![
                ("a".to_owned(), vec!["a-0".to_owned()]),
                ("b".to_owned(), vec!["b-1".to_owned(), "b-0".to_owned()]),
            ]
        );
    }
}
