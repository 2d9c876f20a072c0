//! `create_topics`, with the retry check against metadata and the `wait_for_metadata` barrier.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use klamm_cluster::{Call, Outcome, ResponseError, ShardedRequest, Target};
use klamm_protocol::messages::metadata_request::MetadataRequestTopic;
use klamm_protocol::messages::{CreateTopicsRequest, MetadataRequest, MetadataResponse};
use klamm_protocol::ErrorCode;

use super::*;
use crate::client::timeout_ms;
use crate::{Admin, AdminError, Results};

impl Admin {
    /// Creates topics, one result per topic name.
    ///
    /// ```no_run
    /// # use klamm_admin::{Admin, CreateTopicsOptions, NewTopic};
    /// # async fn demo(admin: Admin) -> Result<(), klamm_admin::AdminError> {
    /// let topic = NewTopic::new("orders", 6, 3).config("cleanup.policy", "compact");
    /// let options = CreateTopicsOptions { wait_for_metadata: true, ..Default::default() };
    /// let results = admin.create_topics(&[topic], options).await?;
    /// assert!(results.all_ok());
    /// # Ok(()) }
    /// ```
    ///
    /// The outer `Err` is only for failures before any topic could be answered (bootstrap,
    /// closed client); a failed request is reported on each topic it concerned.
    pub async fn create_topics(
        &self,
        topics: &[NewTopic],
        options: CreateTopicsOptions,
    ) -> Result<Results<String, CreatedTopic>, AdminError> {
        let started = tokio::time::Instant::now();
        let timeout = self.timeout(options.timeout);
        let mut results = Results::default();
        let mut to_send = Vec::new();
        let mut seen = BTreeSet::new();
        for topic in topics {
            if topic.name.is_empty() {
                results.insert(
                    topic.name.clone(),
                    Err(AdminError::invalid("empty topic name")),
                );
            } else if !seen.insert(topic.name.clone()) {
                results.insert(
                    topic.name.clone(),
                    Err(AdminError::invalid(format!(
                        "topic `{}` given twice",
                        topic.name
                    ))),
                );
            } else {
                to_send.push(topic.to_request());
            }
        }
        if to_send.is_empty() {
            return Ok(results);
        }
        // NOT_CONTROLLER on a topic means the request went to the wrong node: retry it whole.
        // Everything else is per topic.
        let create = Call::new(Target::Controller, move |_version| {
            CreateTopicsRequest::default()
                .with_topics(to_send.clone())
                .with_timeout_ms(timeout_ms(timeout))
                .with_validate_only(options.validate_only)
        })
        .classify(|response| {
            let wrong_node = response
                .topics
                .iter()
                .any(|t| ErrorCode::from_code(t.error_code) == ErrorCode::NotController);
            match wrong_node {
                true => Err(ResponseError::new(ErrorCode::NotController)),
                false => Ok(()),
            }
        })
        .timeout(timeout);
        let outcome = self.cluster.call_outcome(create).await;
        let retried = outcome.attempts > 1;
        let response = outcome.result;
        let names: Vec<String> = topics
            .iter()
            .map(|t| t.name.clone())
            .filter(|n| seen.contains(n))
            .collect();
        let mut confirm = Vec::new();
        match response {
            Ok(response) => {
                for topic in &response.topics {
                    let name = topic.name.to_string();
                    let code = ErrorCode::from_code(topic.error_code);
                    if retried && code == ErrorCode::TopicAlreadyExists {
                        confirm.push(name);
                        continue;
                    }
                    let result = match AdminError::from_code(
                        topic.error_code,
                        topic.error_message.as_ref(),
                        topic_resource(&name),
                    ) {
                        Some(error) => Err(error),
                        None => Ok(CreatedTopic {
                            name: name.clone(),
                            topic_id: id_text(&topic.topic_id),
                            num_partitions: (topic.num_partitions > 0)
                                .then_some(topic.num_partitions),
                            replication_factor: (topic.replication_factor > 0)
                                .then_some(topic.replication_factor),
                            configs: topic
                                .configs
                                .iter()
                                .flatten()
                                .map(|c| {
                                    (c.name.to_string(), c.value.as_ref().map(|v| v.to_string()))
                                })
                                .collect(),
                            outcome: if options.validate_only {
                                CreateOutcome::Validated
                            } else {
                                CreateOutcome::Created
                            },
                        }),
                    };
                    results.insert(name, result);
                }
                for name in &names {
                    if !results.contains_key(name) && !confirm.contains(name) {
                        results.insert(
                            name.clone(),
                            Err(AdminError::MissingInResponse {
                                resource: topic_resource(name),
                            }),
                        );
                    }
                }
            }
            Err(error) if error.may_have_applied() && !options.validate_only => {
                // The last attempt may have created them: the metadata decides.
                let error = AdminError::from(error);
                let existing = self.existing_topics(&names).await;
                for name in &names {
                    let result = match existing.as_ref().ok().and_then(|m| m.get(name)) {
                        Some(topic) => Ok(topic.clone()),
                        None => Err(error.clone()),
                    };
                    results.insert(name.clone(), result);
                }
            }
            Err(error) => {
                let error = AdminError::from(error);
                for name in &names {
                    results.insert(name.clone(), Err(error.clone()));
                }
            }
        }
        if !confirm.is_empty() {
            let existing = self.existing_topics(&confirm).await;
            for name in confirm {
                let result = match existing.as_ref().ok().and_then(|m| m.get(&name)) {
                    Some(topic) => Ok(topic.clone()),
                    None => Err(AdminError::Kafka {
                        code: ErrorCode::TopicAlreadyExists,
                        message: None,
                        resource: topic_resource(&name),
                    }),
                };
                results.insert(name, result);
            }
        }
        if options.wait_for_metadata && !options.validate_only {
            let created: Vec<String> = results
                .iter()
                .filter(|(_, r)| r.is_ok())
                .map(|(name, _)| name.clone())
                .collect();
            let remaining = timeout.saturating_sub(started.elapsed());
            if let Err(error) = self.wait_for_topics(&created, true, remaining).await {
                for name in created {
                    results.insert(name, Err(error.clone()));
                }
            }
        }
        Ok(results)
    }

    /// Topics of `names` that fresh metadata shows, as [`CreatedTopic`]s confirmed after retry.
    async fn existing_topics(
        &self,
        names: &[String],
    ) -> Result<BTreeMap<String, CreatedTopic>, AdminError> {
        let metadata = self.cluster.metadata_for_topics(names).await?;
        Ok(names
            .iter()
            .filter_map(|name| metadata.topics.get(name))
            .map(|topic| {
                let created = CreatedTopic {
                    name: topic.name.clone(),
                    topic_id: topic.id.as_ref().and_then(id_text),
                    num_partitions: Some(topic.partitions.len() as i32),
                    replication_factor: topic
                        .partitions
                        .values()
                        .next()
                        .map(|p| p.replicas.len() as i16),
                    configs: BTreeMap::new(),
                    outcome: CreateOutcome::ConfirmedAfterRetry,
                };
                (topic.name.clone(), created)
            })
            .collect())
    }

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
