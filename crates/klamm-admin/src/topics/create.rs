//! `create_topics`: CreateTopics to the controller as a sharded request, the read-back of
//! topics an unanswered attempt may have created, and the `wait_for_metadata` barrier.

use std::collections::BTreeMap;

use klamm_cluster::{Outcome, ShardedRequest, Target};
use klamm_protocol::messages::{CreateTopicsRequest, CreateTopicsResponse};
use klamm_protocol::{ApiKey, ErrorCode, VersionRange};

use super::*;
use crate::client::timeout_ms;
use crate::results::settle;
use crate::{Admin, AdminError, Results};

/// The planner and classifier of `create_topics`: every topic in one request to the controller.
struct CreateTopicsShards<'a> {
    topics: BTreeMap<TopicRef, &'a NewTopic>,
    options: &'a CreateTopicsOptions,
    timeout_ms: i32,
}

impl ShardedRequest for CreateTopicsShards<'_> {
    type Item = TopicRef;
    type Request = CreateTopicsRequest;
    type Output = CreatedTopic;

    fn route(&self, _: &TopicRef) -> Target {
        Target::Controller
    }

    fn versions(&self) -> VersionRange {
        let all = ApiKey::CreateTopics.versions();
        match self.options.include_configs {
            true => all,
            // v5 added the configs (and counts) of each created topic to the answer.
            false => VersionRange::new(all.min, 4),
        }
    }

    fn build(&self, _broker: i32, _version: i16, topics: &[TopicRef]) -> CreateTopicsRequest {
        CreateTopicsRequest::default()
            .with_topics(topics.iter().map(|t| self.topics[t].to_request()).collect())
            .with_timeout_ms(self.timeout_ms)
            .with_validate_only(self.options.validate_only)
    }

    fn classify(
        &self,
        response: CreateTopicsResponse,
        _version: i16,
        _topics: &[TopicRef],
    ) -> Vec<(TopicRef, Outcome<CreatedTopic>)> {
        let outcome = match self.options.validate_only {
            true => WriteOutcome::Validated,
            false => WriteOutcome::Applied,
        };
        response
            .topics
            .iter()
            .map(|topic| {
                let name = topic.name.to_string();
                let created = topic_outcome(
                    topic.error_code,
                    topic.error_message.as_ref(),
                    topic_resource(&name),
                    || CreatedTopic {
                        name: name.clone(),
                        topic_id: topic_id(&topic.topic_id),
                        num_partitions: (topic.num_partitions > 0).then_some(topic.num_partitions),
                        replication_factor: (topic.replication_factor > 0)
                            .then_some(topic.replication_factor),
                        configs: topic
                            .configs
                            .iter()
                            .flatten()
                            .map(|c| (c.name.to_string(), c.value.as_ref().map(|v| v.to_string())))
                            .collect(),
                        outcome,
                    },
                );
                (TopicRef::Name(name), created)
            })
            .collect()
    }

    fn operation(&self) -> String {
        "CreateTopics to the controller".into()
    }

    fn describe(&self, topic: &TopicRef) -> String {
        topic.to_string()
    }
}

impl Admin {
    /// Creates topics, one result per topic (keyed by name).
    ///
    /// ```no_run
    /// # use klamm_admin::{Admin, CreateTopicsOptions, NewTopic};
    /// # async fn demo(admin: Admin) -> Result<(), klamm_admin::AdminError> {
    /// let topic = NewTopic::new("orders", 6, 3).config("cleanup.policy", "compact");
    /// let options = CreateTopicsOptions::default().wait_for_metadata(true);
    /// let results = admin.create_topics([topic], options).await?;
    /// assert!(results.all_ok());
    /// println!("{:?}", results["orders"].as_ref().map(|t| t.topic_id));
    /// # Ok(()) }
    /// ```
    ///
    /// A topic whose create got no answer (and so may have happened) is looked up in fresh
    /// metadata rather than reported as `TOPIC_ALREADY_EXISTS` on the retry: present, it is
    /// [`WriteOutcome::ConfirmedAfterRetry`]. The outer `Err` is only for failures before any
    /// topic could be answered.
    pub async fn create_topics(
        &self,
        topics: impl IntoIterator<Item = impl Into<NewTopic>>,
        options: CreateTopicsOptions,
    ) -> Result<Results<TopicRef, CreatedTopic>, AdminError> {
        let started = tokio::time::Instant::now();
        let timeout = self.timeout(options.timeout);
        let topics: Vec<NewTopic> = topics.into_iter().map(Into::into).collect();
        let mut invalid = Results::default();
        let mut planned = BTreeMap::new();
        for topic in &topics {
            let key = TopicRef::Name(topic.name.clone());
            if topic.name.is_empty() {
                invalid.insert(key, Err(AdminError::invalid("empty topic name")));
            } else if planned.insert(key.clone(), topic).is_some() {
                let duplicate = format!("topic `{}` given twice", topic.name);
                invalid.insert(key, Err(AdminError::invalid(duplicate)));
            }
        }
        let shards = CreateTopicsShards {
            topics: planned,
            options: &options,
            timeout_ms: timeout_ms(timeout),
        };
        let keys = shards
            .topics
            .keys()
            .filter(|key| !invalid.contains_key(*key))
            .cloned();
        let answers = self.cluster.sharded(&shards, keys, Some(timeout)).await;
        let own_trace = |error: &klamm_cluster::ClusterError| {
            error.error_code() == Some(ErrorCode::TopicAlreadyExists)
        };
        let mut settled = settle(answers, own_trace);
        if !options.validate_only {
            self.confirm_created(&mut settled.results, settled.doubtful)
                .await;
        } else {
            for (key, error) in settled.doubtful {
                settled.results.insert(key, Err(error));
            }
        }
        let mut results = settled.results;
        if options.wait_for_metadata && !options.validate_only {
            let created: Vec<String> = results
                .successes()
                .map(|(_, topic)| topic.name.clone())
                .collect();
            let remaining = timeout.saturating_sub(started.elapsed());
            if let Err(error) = self.wait_for_topics(&created, true, remaining).await {
                for name in created {
                    results.insert(TopicRef::Name(name), Err(error.clone()));
                }
            }
        }
        results.0.extend(invalid.0);
        Ok(results)
    }

    /// Looks the doubtful topics up in fresh metadata: present ones were created (most likely
    /// by the attempt that got no answer), absent ones keep their error.
    async fn confirm_created(
        &self,
        results: &mut Results<TopicRef, CreatedTopic>,
        doubtful: Vec<(TopicRef, AdminError)>,
    ) {
        if doubtful.is_empty() {
            return;
        }
        let names: Vec<String> = doubtful
            .iter()
            .filter_map(|(key, _)| key.name().map(str::to_owned))
            .collect();
        let metadata = self.cluster.metadata_for_topics(&names).await.ok();
        for (key, error) in doubtful {
            let found = metadata
                .as_ref()
                .zip(key.name())
                .and_then(|(metadata, name)| metadata.topics.get(name));
            let result = match found {
                Some(topic) => Ok(CreatedTopic {
                    name: topic.name.clone(),
                    topic_id: topic.id.filter(|id| !id.is_zero()),
                    num_partitions: Some(topic.partitions.len() as i32),
                    replication_factor: topic
                        .partitions
                        .values()
                        .next()
                        .map(|p| p.replicas.len() as i16),
                    configs: BTreeMap::new(),
                    outcome: WriteOutcome::ConfirmedAfterRetry,
                }),
                None => Err(error),
            };
            results.insert(key, result);
        }
    }
}
