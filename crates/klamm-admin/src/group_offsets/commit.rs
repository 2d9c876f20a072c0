//! `alter_consumer_group_offsets` (OffsetCommit as a simple group) and
//! `delete_consumer_group_offsets` (OffsetDelete).

use std::collections::BTreeMap;

use klamm_cluster::{CoordinatorType, Outcome, ResponseError, ShardedRequest, Target};
use klamm_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use klamm_protocol::messages::offset_delete_request::{
    OffsetDeleteRequestPartition, OffsetDeleteRequestTopic,
};
use klamm_protocol::messages::{
    OffsetCommitRequest, OffsetCommitResponse, OffsetDeleteRequest, OffsetDeleteResponse,
};
use klamm_protocol::VersionRange;

use super::*;
use crate::groups::{coordinator_retry, group_resource};
use crate::{Admin, AdminError, Results, TopicPartition, WriteOutcome};

/// The partitions of `partitions`, grouped by topic in request order.
fn by_topic<P>(
    partitions: &[TopicPartition],
    entry: impl Fn(&TopicPartition) -> P,
) -> Vec<(String, Vec<P>)> {
    let mut topics: BTreeMap<String, Vec<P>> = BTreeMap::new();
    for tp in partitions {
        topics.entry(tp.topic.clone()).or_default().push(entry(tp));
    }
    topics.into_iter().collect()
}

/// A partition's outcome in a group's answer: coordinator errors are retried.
fn partition_outcome(group: &str, tp: &TopicPartition, code: i16) -> Outcome<WriteOutcome> {
    match ResponseError::check(code) {
        Ok(()) => Outcome::Done(WriteOutcome::Applied),
        Err(error) => {
            let error = error.with_resource(format!("partition {tp} of {}", group_resource(group)));
            match coordinator_retry(code) {
                Err(_) => Outcome::Retry(error),
                Ok(()) => Outcome::Failed(error),
            }
        }
    }
}

/// The planner and classifier of `alter_consumer_group_offsets`: OffsetCommit to the group's
/// coordinator as a simple consumer (generation -1), at v9 at most (topic names).
struct OffsetCommitShards {
    group: String,
    offsets: BTreeMap<TopicPartition, OffsetAndMetadata>,
}

impl ShardedRequest for OffsetCommitShards {
    type Item = TopicPartition;
    type Request = OffsetCommitRequest;
    type Output = WriteOutcome;

    fn route(&self, _: &TopicPartition) -> Target {
        Target::Coordinator(CoordinatorType::Group, self.group.clone())
    }

    fn versions(&self) -> VersionRange {
        NAMED_TOPICS
    }

    fn build(
        &self,
        _broker: i32,
        _version: i16,
        partitions: &[TopicPartition],
    ) -> OffsetCommitRequest {
        let topics = by_topic(partitions, |tp| {
            let commit = &self.offsets[tp];
            OffsetCommitRequestPartition::default()
                .with_partition_index(tp.partition)
                .with_committed_offset(commit.offset)
                .with_committed_leader_epoch(commit.leader_epoch.unwrap_or(-1))
                .with_committed_metadata(Some(commit.metadata.as_deref().unwrap_or("").into()))
        });
        OffsetCommitRequest::default()
            .with_group_id(self.group.as_str().into())
            .with_topics(
                topics
                    .into_iter()
                    .map(|(name, partitions)| {
                        OffsetCommitRequestTopic::default()
                            .with_name(name.into())
                            .with_partitions(partitions)
                    })
                    .collect(),
            )
    }

    fn classify(
        &self,
        response: OffsetCommitResponse,
        _version: i16,
        _partitions: &[TopicPartition],
    ) -> Vec<(TopicPartition, Outcome<WriteOutcome>)> {
        response
            .topics
            .iter()
            .flat_map(|t| {
                t.partitions.iter().map(move |p| {
                    let tp = TopicPartition::new(t.name.to_string(), p.partition_index);
                    let outcome = partition_outcome(&self.group, &tp, p.error_code);
                    (tp, outcome)
                })
            })
            .collect()
    }

    fn describe(&self, tp: &TopicPartition) -> String {
        format!("partition {tp} of {}", group_resource(&self.group))
    }
}

/// The planner and classifier of `delete_consumer_group_offsets`: OffsetDelete to the group's
/// coordinator.
struct OffsetDeleteShards {
    group: String,
}

impl ShardedRequest for OffsetDeleteShards {
    type Item = TopicPartition;
    type Request = OffsetDeleteRequest;
    type Output = WriteOutcome;

    fn route(&self, _: &TopicPartition) -> Target {
        Target::Coordinator(CoordinatorType::Group, self.group.clone())
    }

    fn build(
        &self,
        _broker: i32,
        _version: i16,
        partitions: &[TopicPartition],
    ) -> OffsetDeleteRequest {
        let topics = by_topic(partitions, |tp| {
            OffsetDeleteRequestPartition::default().with_partition_index(tp.partition)
        });
        OffsetDeleteRequest::default()
            .with_group_id(self.group.as_str().into())
            .with_topics(
                topics
                    .into_iter()
                    .map(|(name, partitions)| {
                        OffsetDeleteRequestTopic::default()
                            .with_name(name.into())
                            .with_partitions(partitions)
                    })
                    .collect(),
            )
    }

    fn classify(
        &self,
        response: OffsetDeleteResponse,
        _version: i16,
        partitions: &[TopicPartition],
    ) -> Vec<(TopicPartition, Outcome<WriteOutcome>)> {
        if response.error_code != 0 {
            // A group-level error (GROUP_ID_NOT_FOUND, GROUP_SUBSCRIBED_TO_TOPIC, a moved
            // coordinator …) answers every partition.
            return partitions
                .iter()
                .map(|tp| {
                    (
                        tp.clone(),
                        partition_outcome(&self.group, tp, response.error_code),
                    )
                })
                .collect();
        }
        response
            .topics
            .iter()
            .flat_map(|t| {
                t.partitions.iter().map(move |p| {
                    let tp = TopicPartition::new(t.name.to_string(), p.partition_index);
                    let outcome = partition_outcome(&self.group, &tp, p.error_code);
                    (tp, outcome)
                })
            })
            .collect()
    }

    fn describe(&self, tp: &TopicPartition) -> String {
        format!("partition {tp} of {}", group_resource(&self.group))
    }
}

impl Admin {
    /// Commits offsets for a group as a simple consumer (generation -1), one result per
    /// partition. The group must have no active members (`UNKNOWN_MEMBER_ID` otherwise).
    /// Committing the same offset again changes nothing, so a retry needs no read-back.
    pub async fn alter_consumer_group_offsets(
        &self,
        group_id: impl Into<String>,
        offsets: impl IntoIterator<Item = (impl Into<TopicPartition>, impl Into<OffsetAndMetadata>)>,
        options: AlterGroupOffsetsOptions,
    ) -> Result<Results<TopicPartition, WriteOutcome>, AdminError> {
        let shards = OffsetCommitShards {
            group: group_id.into(),
            offsets: offsets
                .into_iter()
                .map(|(tp, offset)| (tp.into(), offset.into()))
                .collect(),
        };
        let items: Vec<TopicPartition> = shards.offsets.keys().cloned().collect();
        let timeout = Some(self.timeout(options.timeout));
        let answers = self.cluster.sharded(&shards, items, timeout).await;
        Ok(Results::from_items(answers))
    }

    /// Deletes committed offsets of a group for partitions it is not subscribed to
    /// (OffsetDelete, Kafka 2.4+), one result per partition. Deleting offsets that are gone
    /// succeeds, so a partition whose first attempt got no answer is
    /// [`WriteOutcome::ConfirmedAfterRetry`].
    pub async fn delete_consumer_group_offsets(
        &self,
        group_id: impl Into<String>,
        partitions: impl IntoIterator<Item = impl Into<TopicPartition>>,
        options: DeleteGroupOffsetsOptions,
    ) -> Result<Results<TopicPartition, WriteOutcome>, AdminError> {
        let shards = OffsetDeleteShards {
            group: group_id.into(),
        };
        let timeout = Some(self.timeout(options.timeout));
        let partitions = partitions.into_iter().map(Into::into);
        let answers = self.cluster.sharded(&shards, partitions, timeout).await;
        Ok(answers
            .into_iter()
            .map(|(tp, answer)| {
                let result = match (answer.result, answer.may_have_applied) {
                    (Ok(_), true) => Ok(WriteOutcome::ConfirmedAfterRetry),
                    (result, _) => result.map_err(AdminError::from),
                };
                (tp, result)
            })
            .collect())
    }
}
