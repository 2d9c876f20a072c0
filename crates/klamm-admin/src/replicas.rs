//! Replica placement: `elect_leaders` (preferred or unclean), `alter_partition_reassignments`,
//! `list_partition_reassignments` (every partition when none are named, unlike kadm) and
//! `describe_log_dirs` (every broker at once).

use std::collections::BTreeMap;

use klamm_cluster::{Call, FanOut, ResponseError, Target};
use klamm_protocol::messages::alter_partition_reassignments_request::{
    ReassignablePartition, ReassignableTopic,
};
use klamm_protocol::messages::elect_leaders_request::TopicPartitions as ElectTopic;
use klamm_protocol::messages::list_partition_reassignments_request::ListPartitionReassignmentsTopics;
use klamm_protocol::messages::{
    AlterPartitionReassignmentsRequest, DescribeLogDirsRequest, ElectLeadersRequest,
    ListPartitionReassignmentsRequest,
};
use klamm_protocol::ErrorCode;

use crate::client::timeout_ms;
use crate::options::options;
use crate::{Admin, AdminError, Results, Selection, TopicPartition, WriteOutcome};

/// Which leader [`Admin::elect_leaders`] elects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum ElectionType {
    /// The preferred (first) replica, if it is in sync.
    Preferred,
    /// Any live replica, even out of sync: **may lose committed records**.
    Unclean,
}

/// What an election did to a partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum ElectionOutcome {
    /// A new leader was elected.
    Elected,
    /// The partition already had the wanted leader (`ELECTION_NOT_NEEDED`).
    NotNeeded,
}

/// A reassignment in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct OngoingReassignment {
    /// The full replica set during the move.
    pub replicas: Vec<i32>,
    /// Replicas being added.
    pub adding_replicas: Vec<i32>,
    /// Replicas being removed.
    pub removing_replicas: Vec<i32>,
}

/// One replica in a log directory.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ReplicaLogInfo {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Size in bytes.
    pub size: i64,
    /// How far this replica is behind the leader (or the current replica for a future one).
    pub offset_lag: i64,
    /// Whether it is the future replica of an intra-broker move.
    pub is_future: bool,
}

/// One log directory of a broker.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct LogDirDescription {
    /// Path.
    pub path: String,
    /// The directory's error (`KAFKA_STORAGE_ERROR` for an offline disk).
    pub error: Option<AdminError>,
    /// Capacity (v4+).
    pub total_bytes: Option<i64>,
    /// Free space (v4+).
    pub usable_bytes: Option<i64>,
    /// Replicas in it.
    pub replicas: Vec<ReplicaLogInfo>,
}

options! {
    /// Options of [`Admin::elect_leaders`].
    pub struct ElectLeadersOptions {}
}

options! {
    /// Options of [`Admin::alter_partition_reassignments`].
    pub struct AlterReassignmentsOptions {}
}

options! {
    /// Options of [`Admin::list_partition_reassignments`].
    pub struct ListReassignmentsOptions {}
}

options! {
    /// Options of [`Admin::describe_log_dirs`].
    pub struct DescribeLogDirsOptions {}
}

/// The items of a selection, `None` for all.
fn only<T>(selection: Selection<T>) -> Option<Vec<T>> {
    match selection {
        Selection::Only(items) => Some(items),
        _ => None,
    }
}

fn group(partitions: &[TopicPartition]) -> BTreeMap<String, Vec<i32>> {
    let mut topics: BTreeMap<String, Vec<i32>> = BTreeMap::new();
    for tp in partitions {
        topics
            .entry(tp.topic.clone())
            .or_default()
            .push(tp.partition);
    }
    topics
}

impl Admin {
    /// Elects leaders for `partitions` (every partition when `None`, preferred elections
    /// only), one result per partition the controller answered for.
    pub async fn elect_leaders(
        &self,
        election: ElectionType,
        partitions: impl Into<Selection<TopicPartition>>,
        options: ElectLeadersOptions,
    ) -> Result<Results<TopicPartition, ElectionOutcome>, AdminError> {
        let timeout = self.timeout(options.timeout);
        let topics: Option<Vec<ElectTopic>> = only(partitions.into()).map(|partitions| {
            group(&partitions)
                .into_iter()
                .map(|(topic, partitions)| {
                    ElectTopic::default()
                        .with_topic(topic.into())
                        .with_partitions(partitions.into())
                })
                .collect()
        });
        let response = self
            .cluster
            .call(
                Call::new(Target::Controller, move |_| {
                    ElectLeadersRequest::default()
                        .with_election_type(match election {
                            ElectionType::Preferred => 0,
                            ElectionType::Unclean => 1,
                        })
                        .with_topic_partitions(topics.clone())
                        .with_timeout_ms(timeout_ms(timeout))
                })
                .classify(|response| ResponseError::check(response.error_code))
                .timeout(Some(timeout)),
            )
            .await?;
        let mut results = Results::default();
        for topic in &response.replica_election_results {
            for p in &topic.partition_result {
                let tp = TopicPartition::new(topic.topic.to_string(), p.partition_id);
                let result = match ErrorCode::from_code(p.error_code) {
                    ErrorCode::None => Ok(ElectionOutcome::Elected),
                    ErrorCode::ElectionNotNeeded => Ok(ElectionOutcome::NotNeeded),
                    _ => AdminError::check(
                        p.error_code,
                        p.error_message.as_ref(),
                        format!("partition {tp}"),
                    )
                    .map(|()| ElectionOutcome::Elected),
                };
                results.insert(tp, result);
            }
        }
        Ok(results)
    }

    /// Starts (`Some(replicas)`) or cancels (`None`) partition reassignments, one result per
    /// partition. Progress shows in [`list_partition_reassignments`](Self::list_partition_reassignments).
    pub async fn alter_partition_reassignments(
        &self,
        reassignments: impl IntoIterator<Item = (TopicPartition, Option<Vec<i32>>)>,
        options: AlterReassignmentsOptions,
    ) -> Result<Results<TopicPartition, WriteOutcome>, AdminError> {
        let timeout = self.timeout(options.timeout);
        let reassignments: BTreeMap<TopicPartition, Option<Vec<i32>>> =
            reassignments.into_iter().collect();
        let mut topics: BTreeMap<String, Vec<ReassignablePartition>> = BTreeMap::new();
        for (tp, replicas) in &reassignments {
            topics.entry(tp.topic.clone()).or_default().push(
                ReassignablePartition::default()
                    .with_partition_index(tp.partition)
                    .with_replicas(replicas.clone().map(Into::into)),
            );
        }
        let topics: Vec<ReassignableTopic> = topics
            .into_iter()
            .map(|(name, partitions)| {
                ReassignableTopic::default()
                    .with_name(name.into())
                    .with_partitions(partitions)
            })
            .collect();
        let response = self
            .cluster
            .call(
                Call::new(Target::Controller, move |_| {
                    AlterPartitionReassignmentsRequest::default()
                        .with_timeout_ms(timeout_ms(timeout))
                        .with_topics(topics.clone())
                })
                .classify(|response| match ErrorCode::from_code(response.error_code) {
                    ErrorCode::NotController => Err(ResponseError::new(ErrorCode::NotController)),
                    _ => Ok(()),
                })
                .timeout(Some(timeout)),
            )
            .await?;
        let top = AdminError::from_code(
            response.error_code,
            response.error_message.as_ref(),
            "partition reassignments",
        );
        let mut results = Results::default();
        for tp in reassignments.keys() {
            let result = match &top {
                Some(error) => Err(error.clone()),
                None => {
                    let answer = response
                        .responses
                        .iter()
                        .find(|t| t.name == tp.topic.as_str())
                        .and_then(|t| {
                            t.partitions
                                .iter()
                                .find(|p| p.partition_index == tp.partition)
                        });
                    AdminError::check_answer(
                        answer.map(|p| (p.error_code, p.error_message.as_ref())),
                        format!("partition {tp}"),
                    )
                    .map(|()| WriteOutcome::Applied)
                }
            };
            results.insert(tp.clone(), result);
        }
        Ok(results)
    }

    /// Reassignments in progress: of `partitions`, or of every partition when `None`.
    pub async fn list_partition_reassignments(
        &self,
        partitions: impl Into<Selection<TopicPartition>>,
        options: ListReassignmentsOptions,
    ) -> Result<BTreeMap<TopicPartition, OngoingReassignment>, AdminError> {
        let timeout = self.timeout(options.timeout);
        let topics: Option<Vec<ListPartitionReassignmentsTopics>> =
            only(partitions.into()).map(|partitions| {
                group(&partitions)
                    .into_iter()
                    .map(|(name, partition_indexes)| {
                        ListPartitionReassignmentsTopics::default()
                            .with_name(name.into())
                            .with_partition_indexes(partition_indexes.into())
                    })
                    .collect()
            });
        let response = self
            .cluster
            .call(
                Call::new(Target::Controller, move |_| {
                    ListPartitionReassignmentsRequest::default()
                        .with_timeout_ms(timeout_ms(timeout))
                        .with_topics(topics.clone())
                })
                .classify(|response| {
                    ResponseError::check(response.error_code)
                        .map_err(|e| e.with_message(response.error_message.as_ref()))
                })
                .timeout(Some(timeout)),
            )
            .await?;
        Ok(response
            .topics
            .iter()
            .flat_map(|t| {
                t.partitions.iter().map(move |p| {
                    (
                        TopicPartition::new(t.name.to_string(), p.partition_index),
                        OngoingReassignment {
                            replicas: p.replicas.to_vec(),
                            adding_replicas: p.adding_replicas.to_vec(),
                            removing_replicas: p.removing_replicas.to_vec(),
                        },
                    )
                })
            })
            .collect())
    }

    /// Log directories of each broker (every broker when `None`), asked concurrently; one
    /// result per broker.
    pub async fn describe_log_dirs(
        &self,
        brokers: impl Into<Selection<i32>>,
        options: DescribeLogDirsOptions,
    ) -> Result<Results<i32, Vec<LogDirDescription>>, AdminError> {
        let timeout = options.timeout;
        let ids = match brokers.into() {
            Selection::Only(ids) => ids,
            _ => self.cluster.metadata().await?.broker_ids(),
        };
        let describe = FanOut::new(|_, _| DescribeLogDirsRequest::default().with_topics(None))
            .classify(|response| ResponseError::check(response.error_code));
        let per_broker = self
            .cluster
            .sharded(&describe, ids, Some(self.timeout(timeout)))
            .await;
        Ok(per_broker
            .into_iter()
            .map(|(broker, answer)| {
                let dirs = answer.result.map_err(AdminError::from).map(|response| {
                    response
                        .results
                        .iter()
                        .map(|dir| LogDirDescription {
                            path: dir.log_dir.to_string(),
                            error: AdminError::from_code(
                                dir.error_code,
                                None::<String>,
                                format!("log dir {} on broker {broker}", dir.log_dir),
                            ),
                            total_bytes: (dir.total_bytes >= 0).then_some(dir.total_bytes),
                            usable_bytes: (dir.usable_bytes >= 0).then_some(dir.usable_bytes),
                            replicas: dir
                                .topics
                                .iter()
                                .flat_map(|t| {
                                    t.partitions.iter().map(move |p| ReplicaLogInfo {
                                        topic: t.name.to_string(),
                                        partition: p.partition_index,
                                        size: p.partition_size,
                                        offset_lag: p.offset_lag,
                                        is_future: p.is_future_key,
                                    })
                                })
                                .collect(),
                        })
                        .collect()
                });
                (broker, dirs)
            })
            .collect())
    }
}
