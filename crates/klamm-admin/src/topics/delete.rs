//! `delete_topics` (by name or id): DeleteTopics to the controller as a sharded request, the
//! read-back of topics an unanswered attempt may have deleted, and the `wait_until_gone`
//! barrier.

use std::collections::BTreeMap;

use klamm_cluster::{Outcome, ShardedRequest, Target};
use klamm_protocol::messages::delete_topics_request::DeleteTopicState;
use klamm_protocol::messages::{DeleteTopicsRequest, DeleteTopicsResponse};
use klamm_protocol::primitives::Uuid;
use klamm_protocol::ErrorCode;

use super::*;
use crate::client::timeout_ms;
use crate::results::settle;
use crate::{Admin, AdminError, Results};

/// The planner and classifier of `delete_topics`: every topic in one request to the
/// controller, by name before v6 and by name or id from v6 (Kafka 2.8).
struct DeleteTopicsShards {
    timeout_ms: i32,
}

/// The first DeleteTopics version that can name topics by id.
const BY_ID: i16 = 6;

impl ShardedRequest for DeleteTopicsShards {
    type Item = TopicRef;
    type Request = DeleteTopicsRequest;
    type Output = WriteOutcome;

    fn route(&self, _: &TopicRef) -> Target {
        Target::Controller
    }

    fn build(&self, _broker: i32, version: i16, topics: &[TopicRef]) -> DeleteTopicsRequest {
        let request = DeleteTopicsRequest::default().with_timeout_ms(self.timeout_ms);
        if version >= BY_ID {
            let states = topics.iter().map(|topic| match topic {
                TopicRef::Name(name) => DeleteTopicState::default()
                    .with_name(Some(name.as_str().into()))
                    .with_topic_id(Uuid::ZERO),
                TopicRef::Id(id) => DeleteTopicState::default()
                    .with_name(None)
                    .with_topic_id(*id),
            });
            request.with_topics(states.collect())
        } else {
            // Topics by id are left out: the answer does not mention them, and they fail
            // below with what the broker lacks.
            let names = topics.iter().filter_map(TopicRef::name).map(Into::into);
            request.with_topic_names(names.collect())
        }
    }

    fn classify(
        &self,
        response: DeleteTopicsResponse,
        version: i16,
        topics: &[TopicRef],
    ) -> Vec<(TopicRef, Outcome<WriteOutcome>)> {
        let mut outcomes: Vec<(TopicRef, Outcome<WriteOutcome>)> = response
            .responses
            .iter()
            .map(|answer| {
                let key = match &answer.name {
                    Some(name) if topics.contains(&TopicRef::Name(name.to_string())) => {
                        TopicRef::Name(name.to_string())
                    }
                    _ => TopicRef::Id(answer.topic_id),
                };
                let outcome = topic_outcome(
                    answer.error_code,
                    answer.error_message.as_ref(),
                    key.to_string(),
                    || WriteOutcome::Applied,
                );
                (key, outcome)
            })
            .collect();
        if version < BY_ID {
            for topic in topics.iter().filter(|t| t.name().is_none()) {
                let unsupported = klamm_cluster::ResponseError::new(ErrorCode::UnsupportedVersion)
                    .with_message(Some(
                        "deleting a topic by id needs DeleteTopics v6 (Kafka 2.8)",
                    ))
                    .with_resource(topic.to_string());
                outcomes.push((topic.clone(), Outcome::Failed(unsupported)));
            }
        }
        outcomes
    }

    fn operation(&self) -> String {
        "DeleteTopics to the controller".into()
    }

    fn describe(&self, topic: &TopicRef) -> String {
        topic.to_string()
    }
}

impl Admin {
    /// Deletes topics by name or id, one result per topic.
    ///
    /// ```no_run
    /// # use klamm_admin::{Admin, DeleteTopicsOptions};
    /// # async fn demo(admin: Admin) -> Result<(), klamm_admin::AdminError> {
    /// let results = admin.delete_topics(["orders", "billing"], DeleteTopicsOptions::default()).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// A topic whose delete got no answer is looked up in fresh metadata rather than reported
    /// as `UNKNOWN_TOPIC_OR_PARTITION` on the retry: gone, it is
    /// [`WriteOutcome::ConfirmedAfterRetry`].
    pub async fn delete_topics(
        &self,
        topics: impl IntoIterator<Item = impl Into<TopicRef>>,
        options: DeleteTopicsOptions,
    ) -> Result<Results<TopicRef, WriteOutcome>, AdminError> {
        let started = tokio::time::Instant::now();
        let timeout = self.timeout(options.timeout);
        let mut results = Results::default();
        let mut keys = Vec::new();
        for topic in topics.into_iter().map(Into::into) {
            match &topic {
                TopicRef::Name(name) if name.is_empty() => {
                    results.insert(topic, Err(AdminError::invalid("empty topic name")));
                }
                _ => keys.push(topic),
            }
        }
        let shards = DeleteTopicsShards {
            timeout_ms: timeout_ms(timeout),
        };
        let answers = self.cluster.sharded(&shards, keys, Some(timeout)).await;
        let own_trace = |error: &klamm_cluster::ClusterError| {
            matches!(
                error.error_code(),
                Some(ErrorCode::UnknownTopicOrPartition | ErrorCode::UnknownTopicId)
            )
        };
        let settled = settle(answers, own_trace);
        results.0.extend(settled.results.0);
        self.confirm_deleted(&mut results, settled.doubtful).await;
        if options.wait_until_gone {
            let deleted: Vec<String> = results
                .successes()
                .filter_map(|(topic, _)| topic.name().map(str::to_owned))
                .collect();
            let remaining = timeout.saturating_sub(started.elapsed());
            if let Err(error) = self.wait_for_topics(&deleted, false, remaining).await {
                for name in deleted {
                    results.insert(TopicRef::Name(name), Err(error.clone()));
                }
            }
        }
        Ok(results)
    }

    /// Settles the doubtful topics: a retry that found the topic unknown is our own earlier
    /// delete; a topic that got no answer at all is looked up in fresh metadata (absent, it
    /// was deleted; present, it keeps its error).
    async fn confirm_deleted(
        &self,
        results: &mut Results<TopicRef, WriteOutcome>,
        doubtful: Vec<(TopicRef, AdminError)>,
    ) {
        let (gone, doubtful): (Vec<_>, Vec<_>) = doubtful.into_iter().partition(|(_, error)| {
            matches!(
                error.error_code(),
                Some(ErrorCode::UnknownTopicOrPartition | ErrorCode::UnknownTopicId)
            ) && !error.may_have_applied()
        });
        for (key, _) in gone {
            results.insert(key, Ok(WriteOutcome::ConfirmedAfterRetry));
        }
        if doubtful.is_empty() {
            return;
        }
        let names: Vec<String> = doubtful
            .iter()
            .filter_map(|(key, _)| key.name().map(str::to_owned))
            .collect();
        // Topics named by id are only found in a fetch of every topic.
        let by_id = doubtful.iter().any(|(key, _)| key.name().is_none());
        let metadata = match by_id {
            true => self.cluster.refresh_metadata().await.ok(),
            false => self.cluster.metadata_for_topics(&names).await.ok(),
        };
        let ids: BTreeMap<Uuid, &str> = metadata
            .iter()
            .flat_map(|m| m.topics.values())
            .filter_map(|t| Some((t.id?, t.name.as_str())))
            .collect();
        for (key, error) in doubtful {
            let gone = metadata.as_ref().is_some_and(|metadata| match &key {
                TopicRef::Name(name) => !metadata.topics.contains_key(name),
                TopicRef::Id(id) => !ids.contains_key(id),
            });
            let result = match gone {
                true => Ok(WriteOutcome::ConfirmedAfterRetry),
                false => Err(error),
            };
            results.insert(key, result);
        }
    }
}
