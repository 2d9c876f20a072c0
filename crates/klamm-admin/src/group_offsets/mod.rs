//! Committed group offsets: `list_consumer_group_offsets` (a sharded request: the groups of one
//! coordinator in one OffsetFetch v8+ request, one group per request before; log-end offsets
//! and lag from ListOffsets, deleted topics tolerated), `alter_consumer_group_offsets`
//! (OffsetCommit as a simple group: generation -1) and `delete_consumer_group_offsets`
//! (OffsetDelete).
//!
//! OffsetFetch and OffsetCommit are sent at v9 at most, as Java's admin client does: v10 names
//! topics by id only, and mapping ids back to names would cost a metadata request for every
//! topic of the cluster.

use std::collections::BTreeMap;

use klamm_cluster::{CoordinatorType, Outcome, ResponseError, ShardedRequest, Target};
use klamm_protocol::messages::offset_fetch_request::{
    OffsetFetchRequestGroup, OffsetFetchRequestTopic, OffsetFetchRequestTopics,
};
use klamm_protocol::messages::{OffsetFetchRequest, OffsetFetchResponse};
use klamm_protocol::VersionRange;

use crate::groups::{coordinator_retry, group_resource};
use crate::offsets::{ListOffsetsOptions, OffsetSpec};
use crate::options::options;
use crate::{Admin, AdminError, Results, TopicPartition};

/// The highest OffsetFetch / OffsetCommit version sent: the last that names topics.
pub(crate) const NAMED_TOPICS: VersionRange = VersionRange::new(0, 9);

/// The groups (and optionally partitions) whose offsets to list.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
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

    /// The committed offsets of `group_id` for these partitions only.
    pub fn partitions(
        group_id: impl Into<String>,
        partitions: impl IntoIterator<Item = TopicPartition>,
    ) -> Self {
        GroupOffsetsSpec {
            group_id: group_id.into(),
            partitions: Some(partitions.into_iter().collect()),
        }
    }
}

impl From<&GroupOffsetsSpec> for GroupOffsetsSpec {
    fn from(spec: &GroupOffsetsSpec) -> Self {
        spec.clone()
    }
}

impl From<&str> for GroupOffsetsSpec {
    fn from(group_id: &str) -> Self {
        GroupOffsetsSpec::all(group_id)
    }
}

impl From<String> for GroupOffsetsSpec {
    fn from(group_id: String) -> Self {
        GroupOffsetsSpec::all(group_id)
    }
}

impl From<&String> for GroupOffsetsSpec {
    fn from(group_id: &String) -> Self {
        GroupOffsetsSpec::all(group_id.clone())
    }
}

options! {
    /// Options of [`Admin::list_consumer_group_offsets`].
    pub struct ListGroupOffsetsOptions {
        /// Wait for pending transactional commits (`require_stable`, OffsetFetch v7+).
        require_stable: bool,
        /// Skip the ListOffsets round trip: no log-end offsets or lag.
        skip_lag: bool,
    }
}

options! {
    /// Options of [`Admin::alter_consumer_group_offsets`].
    pub struct AlterGroupOffsetsOptions {}
}

options! {
    /// Options of [`Admin::delete_consumer_group_offsets`].
    pub struct DeleteGroupOffsetsOptions {}
}

/// One partition's committed offset (and lag).
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
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
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct GroupOffsets {
    /// Group id.
    pub group_id: String,
    /// Partitions, sorted.
    pub partitions: Vec<CommittedOffset>,
    /// Sum of the known lags.
    pub total_lag: Option<i64>,
}

/// An offset to commit.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct OffsetAndMetadata {
    /// The next offset to consume.
    pub offset: i64,
    /// Leader epoch, if known.
    pub leader_epoch: Option<i32>,
    /// Metadata string.
    pub metadata: Option<String>,
}

impl From<&OffsetAndMetadata> for OffsetAndMetadata {
    fn from(offset: &OffsetAndMetadata) -> Self {
        offset.clone()
    }
}

impl From<i64> for OffsetAndMetadata {
    fn from(offset: i64) -> Self {
        OffsetAndMetadata::new(offset)
    }
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

fn fetch_request(
    specs: &[&GroupOffsetsSpec],
    version: i16,
    require_stable: bool,
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

/// One partition's committed offset as an OffsetFetch response entry says it.
fn committed(
    topic: String,
    partition: i32,
    offset: i64,
    epoch: i32,
    metadata: Option<String>,
    code: i16,
) -> CommittedOffset {
    CommittedOffset {
        error: AdminError::from_code(
            code,
            None::<String>,
            format!("partition {topic}-{partition}"),
        ),
        offset: (offset >= 0).then_some(offset),
        leader_epoch: (epoch >= 0).then_some(epoch),
        metadata,
        topic,
        partition,
        log_end_offset: None,
        lag: None,
        log_end_error: None,
    }
}

/// A group's outcome from its error code: `offsets` when there is none; coordinator errors
/// are retried (after forgetting the coordinator).
fn group_outcome(
    group: &str,
    code: i16,
    offsets: impl FnOnce() -> Vec<CommittedOffset>,
) -> Outcome<Vec<CommittedOffset>> {
    match ResponseError::check(code) {
        Ok(()) => Outcome::Done(offsets()),
        Err(error) => {
            let error = error.with_resource(group_resource(group));
            match coordinator_retry(code) {
                Err(_) => Outcome::Retry(error),
                Ok(()) => Outcome::Failed(error),
            }
        }
    }
}

/// Each group's outcome in an OffsetFetch response (either layout); groups it does not
/// mention are left out.
fn fetch_results(
    response: &OffsetFetchResponse,
    groups: &[String],
) -> Vec<(String, Outcome<Vec<CommittedOffset>>)> {
    if response.groups.is_empty() {
        // v0-7: one group, top-level error.
        let Some(group) = groups.first() else {
            return Vec::new();
        };
        let outcome = group_outcome(group, response.error_code, || {
            response
                .topics
                .iter()
                .flat_map(|t| {
                    t.partitions.iter().map(move |p| {
                        committed(
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
        return vec![(group.clone(), outcome)];
    }
    response
        .groups
        .iter()
        .map(|g| {
            let group = g.group_id.to_string();
            let outcome = group_outcome(&group, g.error_code, || {
                g.topics
                    .iter()
                    .flat_map(|t| {
                        t.partitions.iter().map(move |p| {
                            committed(
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
            (group, outcome)
        })
        .collect()
}

/// `list_consumer_group_offsets` as a sharded request: OffsetFetch to each coordinator, every
/// group of one coordinator in one request from v8 on.
struct OffsetFetchShards<'a> {
    specs: BTreeMap<&'a str, &'a GroupOffsetsSpec>,
    require_stable: bool,
}

impl ShardedRequest for OffsetFetchShards<'_> {
    type Item = String;
    type Request = OffsetFetchRequest;
    type Output = Vec<CommittedOffset>;

    fn route(&self, group: &String) -> Target {
        Target::Coordinator(CoordinatorType::Group, group.clone())
    }

    fn versions(&self) -> VersionRange {
        NAMED_TOPICS
    }

    fn max_items(&self, version: i16) -> usize {
        if version >= 8 {
            usize::MAX
        } else {
            1
        }
    }

    fn build(&self, _broker: i32, version: i16, groups: &[String]) -> OffsetFetchRequest {
        let specs: Vec<&GroupOffsetsSpec> = groups
            .iter()
            .filter_map(|group| self.specs.get(group.as_str()).copied())
            .collect();
        fetch_request(&specs, version, self.require_stable)
    }

    fn classify(
        &self,
        response: OffsetFetchResponse,
        _version: i16,
        groups: &[String],
    ) -> Vec<(String, Outcome<Vec<CommittedOffset>>)> {
        fetch_results(&response, groups)
    }

    fn describe(&self, group: &String) -> String {
        group_resource(group)
    }
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
    ///     .list_consumer_group_offsets(["billing"], ListGroupOffsetsOptions::default())
    ///     .await?;
    /// println!("lag {:?}", offsets["billing"].as_ref().map(|g| g.total_lag));
    /// # Ok(()) }
    /// ```
    pub async fn list_consumer_group_offsets(
        &self,
        groups: impl IntoIterator<Item = impl Into<GroupOffsetsSpec>>,
        options: ListGroupOffsetsOptions,
    ) -> Result<Results<String, GroupOffsets>, AdminError> {
        let specs: Vec<GroupOffsetsSpec> = groups.into_iter().map(Into::into).collect();
        let specs = specs.as_slice();
        let timeout = self.timeout(options.timeout);
        let mut results: Results<String, GroupOffsets> = Results::default();
        if specs.is_empty() {
            return Ok(results);
        }
        let shards = OffsetFetchShards {
            specs: specs
                .iter()
                .map(|spec| (spec.group_id.as_str(), spec))
                .collect(),
            require_stable: options.require_stable,
        };
        let groups = shards.specs.keys().map(|group| (*group).to_owned());
        let fetched: Vec<(String, Result<Vec<CommittedOffset>, AdminError>)> = self
            .cluster
            .sharded(&shards, groups, Some(timeout))
            .await
            .into_iter()
            .map(|(group, answer)| (group, answer.result.map_err(AdminError::from)))
            .collect();

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
                    .list_offsets(wanted, ListOffsetsOptions::default().timeout(timeout))
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
        let specs = specs();
        let all: Vec<&GroupOffsetsSpec> = specs.iter().collect();
        let v8 = fetch_request(&all, 8, true);
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
        let v7 = fetch_request(&all[1..], 7, false);
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
        let results = fetch_results(&response, &["a".to_owned(), "b".to_owned()]);
        assert!(
            matches!(results[0].1, Outcome::Retry(_)),
            "NOT_COORDINATOR is retried"
        );
        let Outcome::Done(b) = &results[1].1 else {
            panic!("{:?}", results[1]);
        };
        assert_eq!(b[0].offset, Some(5));
        assert_eq!(b[1].offset, None);
        assert_eq!(
            b[1].error.as_ref().unwrap().error_code(),
            Some(klamm_protocol::ErrorCode::UnknownTopicOrPartition)
        );
    }
}
