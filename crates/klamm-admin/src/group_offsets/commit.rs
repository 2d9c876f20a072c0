//! `alter_consumer_group_offsets` (OffsetCommit as a simple group) and
//! `delete_consumer_group_offsets` (OffsetDelete).

use std::collections::BTreeMap;
use std::time::Duration;

use klamm_cluster::{Call, CoordinatorType, ResponseError, Target};
use klamm_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use klamm_protocol::messages::offset_delete_request::{
    OffsetDeleteRequestPartition, OffsetDeleteRequestTopic,
};
use klamm_protocol::messages::{OffsetCommitRequest, OffsetDeleteRequest};
use klamm_protocol::ErrorCode;

use super::*;
use crate::error::NO_MESSAGE;
use crate::groups::{coordinator_retry, group_resource};
use crate::{Admin, AdminError, Results, TopicPartition};

impl Admin {
    /// Commits offsets for a group as a simple consumer (generation -1), one result per
    /// partition. The group must have no active members (`UNKNOWN_MEMBER_ID` otherwise).
    pub async fn alter_consumer_group_offsets(
        &self,
        group_id: &str,
        offsets: &BTreeMap<TopicPartition, OffsetAndMetadata>,
        timeout: Option<Duration>,
    ) -> Result<Results<TopicPartition, ()>, AdminError> {
        let mut by_topic: BTreeMap<String, Vec<OffsetCommitRequestPartition>> = BTreeMap::new();
        for (tp, commit) in offsets {
            by_topic.entry(tp.topic.clone()).or_default().push(
                OffsetCommitRequestPartition::default()
                    .with_partition_index(tp.partition)
                    .with_committed_offset(commit.offset)
                    .with_committed_leader_epoch(commit.leader_epoch.unwrap_or(-1))
                    .with_committed_metadata(Some(commit.metadata.as_deref().unwrap_or("").into())),
            );
        }
        let request_topics: Vec<OffsetCommitRequestTopic> = by_topic
            .into_iter()
            .map(|(name, partitions)| {
                OffsetCommitRequestTopic::default()
                    .with_name(name.into())
                    .with_partitions(partitions)
            })
            .collect();
        let group = group_id.to_owned();
        let response = self
            .cluster
            .call(
                Call::new(
                    Target::Coordinator(CoordinatorType::Group, group_id.to_owned()),
                    move |_| {
                        OffsetCommitRequest::default()
                            .with_group_id(group.as_str().into())
                            .with_topics(request_topics.clone())
                    },
                )
                .classify(|response| {
                    let code = response
                        .topics
                        .iter()
                        .flat_map(|t| &t.partitions)
                        .map(|p| p.error_code)
                        .find(|c| coordinator_retry(*c).is_err());
                    code.map_or(Ok(()), |c| Err(ResponseError::new(ErrorCode::from_code(c))))
                })
                .versions(NAMED_TOPICS)
                .timeout(Some(self.timeout(timeout))),
            )
            .await?;
        let mut results = Results::default();
        for tp in offsets.keys() {
            let answer = response
                .topics
                .iter()
                .find(|t| t.name == tp.topic.as_str())
                .and_then(|t| {
                    t.partitions
                        .iter()
                        .find(|p| p.partition_index == tp.partition)
                });
            let resource = format!("partition {tp} of {}", group_resource(group_id));
            let result =
                AdminError::check_answer(answer.map(|p| (p.error_code, NO_MESSAGE)), resource);
            results.insert(tp.clone(), result);
        }
        Ok(results)
    }

    /// Deletes committed offsets of a group for partitions it is not subscribed to (OffsetDelete,
    /// Kafka 2.4+), one result per partition. A group-level error fails the call.
    pub async fn delete_consumer_group_offsets(
        &self,
        group_id: &str,
        partitions: &[TopicPartition],
        timeout: Option<Duration>,
    ) -> Result<Results<TopicPartition, ()>, AdminError> {
        let mut by_topic: BTreeMap<String, Vec<OffsetDeleteRequestPartition>> = BTreeMap::new();
        for tp in partitions {
            by_topic
                .entry(tp.topic.clone())
                .or_default()
                .push(OffsetDeleteRequestPartition::default().with_partition_index(tp.partition));
        }
        let topics: Vec<OffsetDeleteRequestTopic> = by_topic
            .into_iter()
            .map(|(name, partitions)| {
                OffsetDeleteRequestTopic::default()
                    .with_name(name.into())
                    .with_partitions(partitions)
            })
            .collect();
        let group = group_id.to_owned();
        let response = self
            .cluster
            .call(
                Call::new(
                    Target::Coordinator(CoordinatorType::Group, group_id.to_owned()),
                    move |_| {
                        OffsetDeleteRequest::default()
                            .with_group_id(group.as_str().into())
                            .with_topics(topics.clone())
                    },
                )
                .classify(|response| coordinator_retry(response.error_code))
                .timeout(Some(self.timeout(timeout))),
            )
            .await?;
        AdminError::check(
            response.error_code,
            None::<String>,
            group_resource(group_id),
        )?;
        let mut results = Results::default();
        for tp in partitions {
            let answer = response
                .topics
                .iter()
                .find(|t| t.name == tp.topic.as_str())
                .and_then(|t| {
                    t.partitions
                        .iter()
                        .find(|p| p.partition_index == tp.partition)
                });
            let resource = format!("partition {tp} of {}", group_resource(group_id));
            let result =
                AdminError::check_answer(answer.map(|p| (p.error_code, NO_MESSAGE)), resource);
            results.insert(tp.clone(), result);
        }
        Ok(results)
    }
}
