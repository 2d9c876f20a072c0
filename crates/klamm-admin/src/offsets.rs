//! Partition-offset operations routed to partition leaders: `list_offsets` (earliest, latest,
//! by timestamp, max timestamp) and `delete_records`. Partitions are grouped by leader, one
//! request per leader, concurrently; partitions answered with a stale-leader error
//! (`NOT_LEADER_OR_FOLLOWER`, `LEADER_NOT_AVAILABLE`, … — a new topic's leader on Kafka 4.4
//! can say so briefly) are retried with fresh metadata until the deadline.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use klamm_cluster::{accept_any, ClusterError, Target};
use klamm_protocol::messages::delete_records_request::{
    DeleteRecordsPartition, DeleteRecordsTopic,
};
use klamm_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use klamm_protocol::messages::{DeleteRecordsRequest, ListOffsetsRequest};
use klamm_protocol::ErrorCode;
use serde::Serialize;

use crate::client::{join_all, timeout_ms};
use crate::{Admin, AdminError, Results, TopicPartition};

/// Which offset [`Admin::list_offsets`] looks up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
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

/// Options of [`Admin::list_offsets`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListOffsetsOptions {
    /// Deadline.
    pub timeout: Option<Duration>,
    /// `read_committed`: `Latest` is the last stable offset.
    pub read_committed: bool,
}

/// An offset [`Admin::list_offsets`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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

/// One partition's answer: final, or to be retried with this error.
pub(crate) enum Answer<T> {
    Done(Result<T, AdminError>),
    Retry(AdminError),
}

type LeaderFuture<T> =
    Pin<Box<dyn Future<Output = Result<Vec<(TopicPartition, Answer<T>)>, ClusterError>> + Send>>;

/// Sends `partitions` to their leaders (grouped, concurrently) with `send`, retrying
/// partitions answered with [`Answer::Retry`] or without a leader until `timeout`.
pub(crate) async fn per_leader<T, F>(
    admin: &Admin,
    partitions: Vec<TopicPartition>,
    timeout: Duration,
    send: F,
) -> Results<TopicPartition, T>
where
    T: Send + 'static,
    F: Fn(i32, Vec<TopicPartition>, Duration) -> LeaderFuture<T>,
{
    let deadline = Instant::now() + timeout;
    let mut results = Results::default();
    let mut pending: BTreeMap<TopicPartition, AdminError> = partitions
        .into_iter()
        .map(|tp| {
            let error = AdminError::MissingInResponse {
                resource: format!("partition {tp}"),
            };
            (tp, error)
        })
        .collect();
    let mut delay = Duration::from_millis(50);
    while !pending.is_empty() {
        let mut topics: Vec<String> = pending.keys().map(|tp| tp.topic.clone()).collect();
        topics.dedup();
        let metadata = match admin.cluster.metadata_for_topics(&topics).await {
            Ok(metadata) => metadata,
            Err(error) => {
                let error = AdminError::from(error);
                for (tp, _) in std::mem::take(&mut pending) {
                    results.insert(tp, Err(error.clone()));
                }
                break;
            }
        };
        let mut by_leader: BTreeMap<i32, Vec<TopicPartition>> = BTreeMap::new();
        for (tp, last) in pending.iter_mut() {
            match metadata.topic(&tp.topic) {
                None => {
                    *last = AdminError::Kafka {
                        code: ErrorCode::UnknownTopicOrPartition,
                        message: None,
                        resource: format!("topic `{}`", tp.topic),
                    }
                }
                Some(topic) => match topic.partitions.get(&tp.partition) {
                    None => {
                        *last = AdminError::Kafka {
                            code: ErrorCode::UnknownTopicOrPartition,
                            message: None,
                            resource: format!("partition {tp}"),
                        }
                    }
                    Some(p) => match p.leader {
                        Some(leader) => by_leader.entry(leader).or_default().push(tp.clone()),
                        None => {
                            *last = AdminError::Kafka {
                                code: ErrorCode::LeaderNotAvailable,
                                message: None,
                                resource: format!("partition {tp}"),
                            }
                        }
                    },
                },
            }
        }
        // Unknown topics are final: the metadata was fetched just now.
        let unknown: Vec<TopicPartition> = pending
            .iter()
            .filter(|(tp, _)| metadata.topic(&tp.topic).is_none())
            .map(|(tp, _)| tp.clone())
            .collect();
        for tp in unknown {
            let error = pending.remove(&tp).expect("pending");
            results.insert(tp, Err(error));
        }
        let remaining = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1));
        let calls: Vec<_> = by_leader
            .into_iter()
            .map(|(leader, tps)| {
                let future = send(leader, tps.clone(), remaining);
                async move { (tps, future.await) }
            })
            .collect();
        for (tps, outcome) in join_all(calls).await.into_iter().flatten() {
            match outcome {
                Err(error) => {
                    let error = AdminError::from(error);
                    for tp in tps {
                        pending.remove(&tp);
                        results.insert(tp, Err(error.clone()));
                    }
                }
                Ok(answers) => {
                    for (tp, answer) in answers {
                        match answer {
                            Answer::Done(result) => {
                                pending.remove(&tp);
                                results.insert(tp, result);
                            }
                            Answer::Retry(error) => {
                                if let Some(last) = pending.get_mut(&tp) {
                                    *last = error;
                                }
                            }
                        }
                    }
                }
            }
        }
        if pending.is_empty() || Instant::now() + delay >= deadline {
            for (tp, error) in std::mem::take(&mut pending) {
                results.insert(tp, Err(error));
            }
            break;
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_millis(1000));
    }
    results
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

fn answer<T>(code: i16, tp: &TopicPartition, value: impl FnOnce() -> T) -> Answer<T> {
    let error_code = ErrorCode::from_code(code);
    match AdminError::from_code(code, None::<String>, format!("partition {tp}")) {
        None => Answer::Done(Ok(value())),
        Some(error) if leader_retriable(error_code) => Answer::Retry(error),
        Some(error) => Answer::Done(Err(error)),
    }
}

impl Admin {
    /// Looks up offsets per partition, each asked of its leader.
    ///
    /// ```no_run
    /// # use std::collections::BTreeMap;
    /// # use klamm_admin::{Admin, ListOffsetsOptions, OffsetSpec, TopicPartition};
    /// # async fn demo(admin: Admin) -> Result<(), klamm_admin::AdminError> {
    /// let wanted = BTreeMap::from([(TopicPartition::new("orders", 0), OffsetSpec::Latest)]);
    /// let offsets = admin.list_offsets(&wanted, ListOffsetsOptions::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn list_offsets(
        &self,
        partitions: &BTreeMap<TopicPartition, OffsetSpec>,
        options: ListOffsetsOptions,
    ) -> Result<Results<TopicPartition, ListedOffset>, AdminError> {
        let timeout = self.timeout(options.timeout);
        let specs = partitions.clone();
        let cluster = self.cluster.clone();
        let results = per_leader(
            self,
            partitions.keys().cloned().collect(),
            timeout,
            move |leader, tps, remaining| {
                let cluster = cluster.clone();
                let topics = topic_entries(
                    &tps,
                    |name, partition| {
                        ListOffsetsPartition::default()
                            .with_partition_index(partition)
                            .with_timestamp(specs[&TopicPartition::new(name, partition)].wire())
                            .with_current_leader_epoch(-1)
                    },
                    |name, partitions| {
                        ListOffsetsTopic::default()
                            .with_name(name.into())
                            .with_partitions(partitions)
                    },
                );
                Box::pin(async move {
                    let response = cluster
                        .call(
                            Target::Broker(leader),
                            Some(remaining),
                            move |_| {
                                ListOffsetsRequest::default()
                                    .with_replica_id(-1)
                                    .with_isolation_level(i8::from(options.read_committed))
                                    .with_topics(topics.clone())
                                    .with_timeout_ms(timeout_ms(remaining))
                            },
                            accept_any,
                        )
                        .await?;
                    let mut answers = Vec::new();
                    for topic in &response.topics {
                        for p in &topic.partitions {
                            let tp = TopicPartition::new(topic.name.to_string(), p.partition_index);
                            let listed = answer(p.error_code, &tp, || ListedOffset {
                                offset: (p.offset >= 0).then_some(p.offset),
                                timestamp: (p.timestamp >= 0).then_some(p.timestamp),
                                leader_epoch: (p.leader_epoch >= 0).then_some(p.leader_epoch),
                            });
                            answers.push((tp, listed));
                        }
                    }
                    Ok(answers)
                })
            },
        )
        .await;
        Ok(results)
    }

    /// Deletes records before `offset` in each partition (moves the log start offset); one
    /// result per partition with the new low watermark. `-1` means "up to the high watermark".
    pub async fn delete_records(
        &self,
        before: &BTreeMap<TopicPartition, i64>,
        timeout: Option<Duration>,
    ) -> Result<Results<TopicPartition, i64>, AdminError> {
        let timeout = self.timeout(timeout);
        let offsets = before.clone();
        let cluster = self.cluster.clone();
        let results = per_leader(
            self,
            before.keys().cloned().collect(),
            timeout,
            move |leader, tps, remaining| {
                let cluster = cluster.clone();
                let topics = topic_entries(
                    &tps,
                    |name, partition| {
                        DeleteRecordsPartition::default()
                            .with_partition_index(partition)
                            .with_offset(offsets[&TopicPartition::new(name, partition)])
                    },
                    |name, partitions| {
                        DeleteRecordsTopic::default()
                            .with_name(name.into())
                            .with_partitions(partitions)
                    },
                );
                Box::pin(async move {
                    let response = cluster
                        .call(
                            Target::Broker(leader),
                            Some(remaining),
                            move |_| {
                                DeleteRecordsRequest::default()
                                    .with_topics(topics.clone())
                                    .with_timeout_ms(timeout_ms(remaining))
                            },
                            accept_any,
                        )
                        .await?;
                    let mut answers = Vec::new();
                    for topic in &response.topics {
                        for p in &topic.partitions {
                            let tp = TopicPartition::new(topic.name.to_string(), p.partition_index);
                            answers
                                .push((tp.clone(), answer(p.error_code, &tp, || p.low_watermark)));
                        }
                    }
                    Ok(answers)
                })
            },
        )
        .await;
        Ok(results)
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
        let tp = TopicPartition::new("t", 0);
        assert!(
            matches!(answer(6, &tp, || 1), Answer::Retry(_)),
            "NOT_LEADER_OR_FOLLOWER"
        );
        assert!(matches!(answer(0, &tp, || 1), Answer::Done(Ok(1))));
        assert!(
            matches!(answer(29, &tp, || 1), Answer::Done(Err(_))),
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
