//! Committed group offsets: `list_consumer_group_offsets` (several groups per OffsetFetch v8+
//! request to each coordinator, log-end offsets and lag from ListOffsets, deleted topics
//! tolerated), `alter_consumer_group_offsets` (OffsetCommit as a simple group: generation -1)
//! and `delete_consumer_group_offsets` (OffsetDelete).
//!
//! OffsetFetch and OffsetCommit v10 name topics by id only; ids and names are mapped through
//! the cluster metadata.

use std::collections::BTreeMap;
use std::time::Duration;

use klamm_cluster::{ClusterMetadata, CoordinatorType, Target};
use klamm_protocol::messages::offset_fetch_request::{
    OffsetFetchRequestGroup, OffsetFetchRequestTopic, OffsetFetchRequestTopics,
};
use klamm_protocol::messages::{OffsetFetchRequest, OffsetFetchResponse};
use klamm_protocol::primitives::Uuid;
use klamm_protocol::{ApiKey, ErrorCode};
use serde::Serialize;

use crate::client::join_all;
use crate::groups::{coordinator_retry, group_resource};
use crate::offsets::{ListOffsetsOptions, OffsetSpec};
use crate::{Admin, AdminError, Results, TopicPartition};

/// The groups (and optionally partitions) whose offsets to list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupOffsetsSpec {
    /// Group id.
    pub group_id: String,
    /// Only these partitions; every partition with a committed offset if `None`.
    pub partitions: Option<Vec<TopicPartition>>,
}

impl GroupOffsetsSpec {
    /// Every committed offset of `group_id`.
    pub fn all(group_id: impl Into<String>) -> Self {
        GroupOffsetsSpec {
            group_id: group_id.into(),
            partitions: None,
        }
    }
}

/// Options of [`Admin::list_consumer_group_offsets`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListGroupOffsetsOptions {
    /// Deadline.
    pub timeout: Option<Duration>,
    /// Wait for pending transactional commits (`require_stable`, OffsetFetch v7+).
    pub require_stable: bool,
    /// Skip the ListOffsets round trip: no log-end offsets or lag.
    pub skip_lag: bool,
}

/// One partition's committed offset (and lag).
#[derive(Debug, Clone, Serialize)]
pub struct CommittedOffset {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Committed offset, `None` when nothing is committed.
    pub offset: Option<i64>,
    /// Leader epoch of the commit, if known.
    pub leader_epoch: Option<i32>,
    /// Commit metadata.
    pub metadata: Option<String>,
    /// The partition's error in OffsetFetch, if any.
    pub error: Option<AdminError>,
    /// Log-end offset (high watermark).
    pub log_end_offset: Option<i64>,
    /// `log_end_offset - offset`, when both are known.
    pub lag: Option<i64>,
    /// Why the log-end offset is unknown (deleted topic, no leader, …).
    pub log_end_error: Option<AdminError>,
}

/// A group's committed offsets.
#[derive(Debug, Clone, Serialize)]
pub struct GroupOffsets {
    /// Group id.
    pub group_id: String,
    /// Partitions, sorted.
    pub partitions: Vec<CommittedOffset>,
    /// Sum of the known lags.
    pub total_lag: Option<i64>,
}

/// An offset to commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OffsetAndMetadata {
    /// The next offset to consume.
    pub offset: i64,
    /// Leader epoch, if known.
    pub leader_epoch: Option<i32>,
    /// Metadata string.
    pub metadata: Option<String>,
}

impl OffsetAndMetadata {
    /// Just an offset.
    pub fn new(offset: i64) -> Self {
        OffsetAndMetadata {
            offset,
            leader_epoch: None,
            metadata: None,
        }
    }
}

fn topic_id(metadata: &ClusterMetadata, topic: &str) -> Uuid {
    metadata
        .topic(topic)
        .and_then(|t| t.id)
        .unwrap_or(Uuid::ZERO)
}

fn topic_name(metadata: &ClusterMetadata, name: &str, id: &Uuid) -> Option<String> {
    if !name.is_empty() {
        return Some(name.to_owned());
    }
    metadata
        .topics
        .values()
        .find(|t| t.id.as_ref() == Some(id))
        .map(|t| t.name.clone())
}

fn fetch_request(
    specs: &[GroupOffsetsSpec],
    version: i16,
    require_stable: bool,
    metadata: &ClusterMetadata,
) -> OffsetFetchRequest {
    fn grouped(spec: &GroupOffsetsSpec) -> Option<BTreeMap<&str, Vec<i32>>> {
        spec.partitions.as_ref().map(|partitions| {
            let mut topics: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
            for tp in partitions {
                topics
                    .entry(tp.topic.as_str())
                    .or_default()
                    .push(tp.partition);
            }
            topics
        })
    }
    if version >= 8 {
        OffsetFetchRequest::default()
            .with_groups(
                specs
                    .iter()
                    .map(|spec| {
                        OffsetFetchRequestGroup::default()
                            .with_group_id(spec.group_id.as_str().into())
                            .with_topics(grouped(spec).map(|topics| {
                                topics
                                    .into_iter()
                                    .map(|(name, partitions)| {
                                        OffsetFetchRequestTopics::default()
                                            .with_name(name.into())
                                            .with_topic_id(topic_id(metadata, name))
                                            .with_partition_indexes(partitions.into())
                                    })
                                    .collect()
                            }))
                    })
                    .collect(),
            )
            .with_require_stable(require_stable)
    } else {
        let spec = &specs[0];
        OffsetFetchRequest::default()
            .with_group_id(spec.group_id.as_str().into())
            .with_topics(grouped(spec).map(|topics| {
                topics
                    .into_iter()
                    .map(|(name, partitions)| {
                        OffsetFetchRequestTopic::default()
                            .with_name(name.into())
                            .with_partition_indexes(partitions.into())
                    })
                    .collect()
            }))
            .with_require_stable(require_stable)
    }
}

/// Each group's outcome in an OffsetFetch response (either layout).
fn fetch_results(
    response: &OffsetFetchResponse,
    specs: &[GroupOffsetsSpec],
    metadata: &ClusterMetadata,
) -> Vec<(String, Result<Vec<CommittedOffset>, AdminError>)> {
    let entry = |topic: String,
                 partition: i32,
                 offset: i64,
                 epoch: i32,
                 meta: Option<String>,
                 code: i16| CommittedOffset {
        error: AdminError::from_code(
            code,
            None::<String>,
            format!("partition {topic}-{partition}"),
        ),
        offset: (offset >= 0).then_some(offset),
        leader_epoch: (epoch >= 0).then_some(epoch),
        metadata: meta,
        topic,
        partition,
        log_end_offset: None,
        lag: None,
        log_end_error: None,
    };
    if response.groups.is_empty() && !specs.is_empty() {
        // v0-7: one group, top-level error.
        let group = specs[0].group_id.clone();
        let result = AdminError::check(response.error_code, None::<String>, group_resource(&group))
            .map(|()| {
                response
                    .topics
                    .iter()
                    .flat_map(|t| {
                        t.partitions.iter().map(move |p| {
                            entry(
                                t.name.to_string(),
                                p.partition_index,
                                p.committed_offset,
                                p.committed_leader_epoch,
                                p.metadata.as_ref().map(|m| m.to_string()),
                                p.error_code,
                            )
                        })
                    })
                    .collect()
            });
        return vec![(group, result)];
    }
    specs
        .iter()
        .map(|spec| {
            let group = spec.group_id.clone();
            let result = match response
                .groups
                .iter()
                .find(|g| g.group_id == group.as_str())
            {
                None => Err(AdminError::MissingInResponse {
                    resource: group_resource(&group),
                }),
                Some(g) => AdminError::check(g.error_code, None::<String>, group_resource(&group))
                    .map(|()| {
                        g.topics
                            .iter()
                            .flat_map(|t| {
                                let name = topic_name(metadata, &t.name, &t.topic_id)
                                    .unwrap_or_else(|| t.topic_id.to_string());
                                t.partitions.iter().map(move |p| {
                                    entry(
                                        name.clone(),
                                        p.partition_index,
                                        p.committed_offset,
                                        p.committed_leader_epoch,
                                        p.metadata.as_ref().map(|m| m.to_string()),
                                        p.error_code,
                                    )
                                })
                            })
                            .collect()
                    }),
            };
            (group, result)
        })
        .collect()
}

fn needs_retry(result: &Result<Vec<CommittedOffset>, AdminError>) -> bool {
    matches!(result, Err(e) if matches!(e.error_code(), Some(ErrorCode::NotCoordinator | ErrorCode::CoordinatorLoadInProgress | ErrorCode::CoordinatorNotAvailable)))
}

impl Admin {
    /// Lists committed offsets of groups, with log-end offsets and lag per partition; one
    /// result per group. Groups sharing a coordinator are fetched in one OffsetFetch v8+
    /// request. Partitions of deleted topics keep their committed offset and report why the
    /// log end is unknown instead of failing the group.
    ///
    /// ```no_run
    /// # use klamm_admin::{Admin, GroupOffsetsSpec, ListGroupOffsetsOptions};
    /// # async fn demo(admin: Admin) -> Result<(), klamm_admin::AdminError> {
    /// let offsets = admin
    ///     .list_consumer_group_offsets(&[GroupOffsetsSpec::all("billing")], ListGroupOffsetsOptions::default())
    ///     .await?;
    /// println!("lag {:?}", offsets["billing"].as_ref().map(|g| g.total_lag));
    /// # Ok(()) }
    /// ```
    pub async fn list_consumer_group_offsets(
        &self,
        specs: &[GroupOffsetsSpec],
        options: ListGroupOffsetsOptions,
    ) -> Result<Results<String, GroupOffsets>, AdminError> {
        let timeout = self.timeout(options.timeout);
        let mut results: Results<String, GroupOffsets> = Results::default();
        if specs.is_empty() {
            return Ok(results);
        }
        let mut explicit: Vec<String> = specs
            .iter()
            .flat_map(|s| s.partitions.iter().flatten().map(|tp| tp.topic.clone()))
            .collect();
        explicit.sort();
        explicit.dedup();
        let metadata = if explicit.is_empty() {
            self.cluster.refresh_metadata().await?
        } else {
            self.cluster.metadata_for_topics(&explicit).await?
        };
        let ids: Vec<String> = specs.iter().map(|s| s.group_id.clone()).collect();
        let coordinators = self
            .cluster
            .coordinators(CoordinatorType::Group, &ids, Some(timeout))
            .await?;
        let mut batches: BTreeMap<i32, Vec<GroupOffsetsSpec>> = BTreeMap::new();
        let mut fetched: Vec<(String, Result<Vec<CommittedOffset>, AdminError>)> = Vec::new();
        for spec in specs {
            match coordinators.get(&spec.group_id) {
                Some(Ok(coordinator)) => batches
                    .entry(coordinator.broker_id)
                    .or_default()
                    .push(spec.clone()),
                Some(Err(error)) => {
                    fetched.push((spec.group_id.clone(), Err(error.clone().into())))
                }
                None => fetched.push((
                    spec.group_id.clone(),
                    Err(AdminError::MissingInResponse {
                        resource: group_resource(&spec.group_id),
                    }),
                )),
            }
        }
        let mut singles: Vec<GroupOffsetsSpec> = Vec::new();
        for (broker, batch) in batches {
            let batched = batch.len() > 1
                && match self.cluster.connection(broker).await {
                    Ok(connection) => connection
                        .version_for(ApiKey::OffsetFetch)
                        .is_ok_and(|v| v >= 8),
                    Err(_) => false,
                };
            if !batched {
                singles.extend(batch);
                continue;
            }
            let request_specs = batch.clone();
            let request_metadata = metadata.clone();
            let response = self
                .cluster
                .call(
                    Target::Broker(broker),
                    Some(timeout),
                    move |version| {
                        fetch_request(
                            &request_specs,
                            version,
                            options.require_stable,
                            &request_metadata,
                        )
                    },
                    klamm_cluster::accept_any,
                )
                .await;
            match response {
                Ok(response) => {
                    for (group, result) in fetch_results(&response, &batch, &metadata) {
                        if needs_retry(&result) {
                            singles.extend(batch.iter().filter(|s| s.group_id == group).cloned());
                        } else {
                            fetched.push((group, result));
                        }
                    }
                }
                Err(_) => singles.extend(batch),
            }
        }
        let calls: Vec<_> = singles
            .into_iter()
            .map(|spec| {
                let cluster = self.cluster.clone();
                let metadata = metadata.clone();
                async move {
                    let request_spec = vec![spec.clone()];
                    let request_metadata = metadata.clone();
                    let response = cluster
                        .call(
                            Target::Coordinator(CoordinatorType::Group, spec.group_id.clone()),
                            Some(timeout),
                            move |version| {
                                fetch_request(
                                    &request_spec,
                                    version,
                                    options.require_stable,
                                    &request_metadata,
                                )
                            },
                            |response| match response.groups.first() {
                                Some(g) => coordinator_retry(g.error_code),
                                None => coordinator_retry(response.error_code),
                            },
                        )
                        .await;
                    match response {
                        Ok(response) => {
                            fetch_results(&response, std::slice::from_ref(&spec), &metadata)
                        }
                        Err(error) => vec![(spec.group_id.clone(), Err(error.into()))],
                    }
                }
            })
            .collect();
        fetched.extend(join_all(calls).await.into_iter().flatten().flatten());

        // Log-end offsets for every committed partition, one ListOffsets per leader.
        let mut log_ends = BTreeMap::new();
        if !options.skip_lag {
            let wanted: BTreeMap<TopicPartition, OffsetSpec> = fetched
                .iter()
                .filter_map(|(_, r)| r.as_ref().ok())
                .flatten()
                .map(|c| {
                    (
                        TopicPartition::new(c.topic.clone(), c.partition),
                        OffsetSpec::Latest,
                    )
                })
                .collect();
            if !wanted.is_empty() {
                log_ends = self
                    .list_offsets(
                        &wanted,
                        ListOffsetsOptions {
                            timeout: Some(timeout),
                            read_committed: false,
                        },
                    )
                    .await?
                    .into_inner();
            }
        }
        for (group, result) in fetched {
            let result = result.map(|mut partitions| {
                for committed in &mut partitions {
                    match log_ends.get(&TopicPartition::new(
                        committed.topic.clone(),
                        committed.partition,
                    )) {
                        Some(Ok(listed)) => {
                            committed.log_end_offset = listed.offset;
                            committed.lag = match (listed.offset, committed.offset) {
                                (Some(end), Some(offset)) => Some((end - offset).max(0)),
                                _ => None,
                            };
                        }
                        Some(Err(error)) => committed.log_end_error = Some(error.clone()),
                        None => {}
                    }
                }
                partitions.sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
                let lags: Vec<i64> = partitions.iter().filter_map(|p| p.lag).collect();
                GroupOffsets {
                    group_id: group.clone(),
                    total_lag: (!lags.is_empty()).then(|| lags.iter().sum()),
                    partitions,
                }
            });
            results.insert(group, result);
        }
        Ok(results)
    }
}

mod commit;

#[cfg(test)]
mod tests {
    use klamm_protocol::messages::offset_fetch_response::{
        OffsetFetchResponseGroup, OffsetFetchResponsePartitions, OffsetFetchResponseTopics,
    };

    use super::*;

    fn specs() -> Vec<GroupOffsetsSpec> {
        vec![
            GroupOffsetsSpec::all("a"),
            GroupOffsetsSpec {
                group_id: "b".into(),
                partitions: Some(vec![
                    TopicPartition::new("t", 1),
                    TopicPartition::new("t", 0),
                ]),
            },
        ]
    }

    #[test]
    fn v8_request_batches_groups_and_v7_sends_one() {
        let metadata = ClusterMetadata::empty();
        let v8 = fetch_request(&specs(), 8, true, &metadata);
        assert_eq!(v8.groups.len(), 2);
        assert!(
            v8.groups[0].topics.is_none(),
            "None asks for every partition"
        );
        assert_eq!(
            v8.groups[1].topics.as_ref().unwrap()[0].partition_indexes,
            vec![1, 0]
        );
        assert!(v8.require_stable);
        let v7 = fetch_request(&specs()[1..], 7, false, &metadata);
        assert_eq!(v7.group_id, "b");
        assert_eq!(v7.topics.as_ref().unwrap()[0].name, "t");
    }

    #[test]
    fn response_maps_each_group_and_keeps_partition_errors() {
        let response = OffsetFetchResponse::default().with_groups(vec![
            OffsetFetchResponseGroup::default()
                .with_group_id("a".into())
                .with_error_code(16),
            OffsetFetchResponseGroup::default()
                .with_group_id("b".into())
                .with_topics(vec![OffsetFetchResponseTopics::default()
                    .with_name("t".into())
                    .with_partitions(vec![
                        OffsetFetchResponsePartitions::default()
                            .with_partition_index(0)
                            .with_committed_offset(5),
                        OffsetFetchResponsePartitions::default()
                            .with_partition_index(1)
                            .with_committed_offset(-1)
                            .with_error_code(3),
                    ])]),
        ]);
        let results = fetch_results(&response, &specs(), &ClusterMetadata::empty());
        assert!(
            needs_retry(&results[0].1),
            "NOT_COORDINATOR is retried alone"
        );
        let b = results[1].1.as_ref().unwrap();
        assert_eq!(b[0].offset, Some(5));
        assert_eq!(b[1].offset, None);
        assert_eq!(
            b[1].error.as_ref().unwrap().error_code(),
            Some(ErrorCode::UnknownTopicOrPartition)
        );
    }
}
