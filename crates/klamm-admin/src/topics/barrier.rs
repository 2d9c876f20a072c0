//! The create and delete barriers: a sharded Metadata request to every broker, done for a
//! broker once its metadata shows the topics as wanted, asked again after the retry backoff
//! until then.

use std::time::Duration;

use klamm_cluster::{Outcome, ResponseError, ShardedRequest, Target};
use klamm_protocol::messages::metadata_request::MetadataRequestTopic;
use klamm_protocol::messages::{MetadataRequest, MetadataResponse};
use klamm_protocol::ErrorCode;

use super::topic_resource;
use crate::{Admin, AdminError};

impl Admin {
    /// Waits until every broker's metadata shows each topic present with a leader for every
    /// partition (`present`), or absent (`!present`): a sharded request over the brokers whose
    /// unsettled brokers are asked again after the retry backoff, until the deadline.
    pub(crate) async fn wait_for_topics(
        &self,
        names: &[String],
        present: bool,
        timeout: Duration,
    ) -> Result<(), AdminError> {
        if names.is_empty() {
            return Ok(());
        }
        let broker_ids = self.cluster.metadata().await?.broker_ids();
        let barrier = TopicsSettled { names, present };
        let per_broker = self
            .cluster
            .sharded(&barrier, broker_ids, Some(timeout))
            .await;
        match per_broker
            .into_values()
            .find_map(|answer| answer.result.err())
        {
            Some(error) => Err(error.into()),
            None => Ok(()),
        }
    }
}

/// The barrier of [`Admin::wait_for_topics`]: Metadata for `names` to each broker, done when
/// that broker shows them as wanted.
struct TopicsSettled<'a> {
    names: &'a [String],
    present: bool,
}

impl ShardedRequest for TopicsSettled<'_> {
    type Item = i32;
    type Request = MetadataRequest;
    type Output = ();

    fn route(&self, broker_id: &i32) -> Target {
        Target::Broker(*broker_id)
    }

    fn build(&self, _broker: i32, _version: i16, _brokers: &[i32]) -> MetadataRequest {
        metadata_request_for(self.names)
    }

    fn max_items(&self, _version: i16) -> usize {
        1
    }

    fn classify(
        &self,
        response: MetadataResponse,
        _version: i16,
        brokers: &[i32],
    ) -> Vec<(i32, Outcome<()>)> {
        let unsettled = self
            .names
            .iter()
            .find(|name| !topic_settled(&response, name, self.present));
        let outcome = match unsettled {
            None => Outcome::Done(()),
            Some(name) => {
                // Not an error the broker made: the state is not there yet. The code says
                // which, for the deadline error.
                let code = if self.present {
                    ErrorCode::LeaderNotAvailable
                } else {
                    ErrorCode::TopicAlreadyExists
                };
                Outcome::Retry(ResponseError::new(code).with_resource(topic_resource(name)))
            }
        };
        brokers
            .iter()
            .map(|broker| (*broker, outcome.clone()))
            .collect()
    }

    fn operation(&self) -> String {
        let waiting = if self.present {
            "appear on"
        } else {
            "disappear from"
        };
        format!(
            "waiting for {} to {waiting} every broker",
            self.names.join(", ")
        )
    }

    fn describe(&self, broker_id: &i32) -> String {
        format!("broker {broker_id}")
    }
}

pub(crate) fn metadata_request_for(topics: &[String]) -> MetadataRequest {
    MetadataRequest::default()
        .with_topics(Some(
            topics
                .iter()
                .map(|name| MetadataRequestTopic::default().with_name(Some(name.as_str().into())))
                .collect(),
        ))
        .with_allow_auto_topic_creation(false)
}

/// Whether one broker's metadata shows `name` as wanted: present with a leader for every
/// partition, or absent.
pub(crate) fn topic_settled(response: &MetadataResponse, name: &str, present: bool) -> bool {
    let topic = response
        .topics
        .iter()
        .find(|t| t.name.as_deref() == Some(name));
    let exists = topic.is_some_and(|t| {
        !matches!(
            ErrorCode::from_code(t.error_code),
            ErrorCode::UnknownTopicOrPartition | ErrorCode::UnknownTopicId
        )
    });
    if !present {
        return !exists;
    }
    topic.is_some_and(|t| {
        t.error_code == 0
            && !t.partitions.is_empty()
            && t.partitions
                .iter()
                .all(|p| p.leader_id >= 0 && p.error_code == 0)
    })
}

#[cfg(test)]
mod tests {
    use klamm_protocol::messages::metadata_response::{
        MetadataResponsePartition, MetadataResponseTopic,
    };

    use super::*;

    fn response(topic: Option<(i16, Vec<i32>)>) -> MetadataResponse {
        MetadataResponse::default().with_topics(
            topic
                .map(|(code, leaders)| {
                    vec![MetadataResponseTopic::default()
                        .with_name(Some("t".into()))
                        .with_error_code(code)
                        .with_partitions(
                            leaders
                                .into_iter()
                                .enumerate()
                                .map(|(i, leader)| {
                                    MetadataResponsePartition::default()
                                        .with_partition_index(i as i32)
                                        .with_leader_id(leader)
                                })
                                .collect(),
                        )]
                })
                .unwrap_or_default(),
        )
    }

    #[test]
    fn topic_is_settled_only_with_a_leader_for_every_partition() {
        assert!(topic_settled(&response(Some((0, vec![1, 2]))), "t", true));
        assert!(!topic_settled(&response(Some((0, vec![1, -1]))), "t", true));
        assert!(!topic_settled(&response(Some((3, vec![]))), "t", true));
        assert!(topic_settled(&response(Some((3, vec![]))), "t", false));
        assert!(topic_settled(&response(None), "t", false));
        assert!(!topic_settled(&response(Some((0, vec![1]))), "t", false));
    }
}
