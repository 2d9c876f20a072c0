//! `delete_topics` (by name or id, with the `wait_until_gone` barrier) and `create_partitions`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use klamm_cluster::{Call, ResponseError, Target};
use klamm_protocol::messages::create_partitions_request::{
    CreatePartitionsAssignment, CreatePartitionsTopic,
};
use klamm_protocol::messages::delete_topics_request::DeleteTopicState;
use klamm_protocol::messages::{CreatePartitionsRequest, DeleteTopicsRequest};
use klamm_protocol::primitives::Uuid;
use klamm_protocol::ErrorCode;

use super::*;
use crate::client::timeout_ms;
use crate::{Admin, AdminError, Results};

impl Admin {
    /// Deletes topics by name or id, one result per topic.
    ///
    /// ```no_run
    /// # use klamm_admin::{Admin, DeleteTopicsOptions, TopicRef};
    /// # async fn demo(admin: Admin) -> Result<(), klamm_admin::AdminError> {
    /// let results = admin.delete_topics(&["orders".into()], DeleteTopicsOptions::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete_topics(
        &self,
        topics: &[TopicRef],
        options: DeleteTopicsOptions,
    ) -> Result<Results<TopicRef, DeleteOutcome>, AdminError> {
        let started = tokio::time::Instant::now();
        let timeout = self.timeout(options.timeout);
        let mut results = Results::default();
        let mut states = Vec::new();
        for topic in topics {
            match topic {
                TopicRef::Name(name) if name.is_empty() => {
                    results.insert(topic.clone(), Err(AdminError::invalid("empty topic name")));
                }
                TopicRef::Name(name) => {
                    states.push((topic.clone(), Some(name.clone()), Uuid::ZERO))
                }
                TopicRef::Id(id) => match id.parse::<Uuid>() {
                    Ok(uuid) => states.push((topic.clone(), None, uuid)),
                    Err(_) => results.insert(
                        topic.clone(),
                        Err(AdminError::invalid(format!("`{id}` is not a topic id"))),
                    ),
                },
            }
        }
        if states.is_empty() {
            return Ok(results);
        }
        let attempts = Arc::new(AtomicU32::new(0));
        let counter = attempts.clone();
        let request_states = states.clone();
        let response =
            self.cluster
                .call(
                    Call::new(Target::Controller, move |version| {
                        counter.fetch_add(1, Ordering::SeqCst);
                        let mut request =
                            DeleteTopicsRequest::default().with_timeout_ms(timeout_ms(timeout));
                        if version >= 6 {
                            request.topics = request_states
                                .iter()
                                .map(|(_, name, id)| {
                                    DeleteTopicState::default()
                                        .with_name(name.as_deref().map(Into::into))
                                        .with_topic_id(*id)
                                })
                                .collect();
                        } else {
                            request.topic_names = request_states
                                .iter()
                                .filter_map(|(_, name, _)| name.as_deref().map(Into::into))
                                .collect();
                        }
                        request
                    })
                    .classify(|response| {
                        match response.responses.iter().find(|t| {
                            ErrorCode::from_code(t.error_code) == ErrorCode::NotController
                        }) {
                            Some(_) => Err(ResponseError::new(ErrorCode::NotController)),
                            None => Ok(()),
                        }
                    })
                    .timeout(Some(timeout)),
                )
                .await;
        let retried = attempts.load(Ordering::SeqCst) > 1;
        match response {
            Ok(response) => {
                for (topic, name, id) in &states {
                    let answer = response.responses.iter().find(|r| match name {
                        Some(name) => r.name.as_deref() == Some(name.as_str()),
                        None => r.topic_id == *id,
                    });
                    let result = match answer {
                        None if name.is_none() => Err(AdminError::invalid(format!(
                            "{topic}: deleting by id needs DeleteTopics v6 (Kafka 2.8+)"
                        ))),
                        None => Err(AdminError::MissingInResponse {
                            resource: topic.to_string(),
                        }),
                        Some(answer) => {
                            let code = ErrorCode::from_code(answer.error_code);
                            let gone = matches!(
                                code,
                                ErrorCode::UnknownTopicOrPartition | ErrorCode::UnknownTopicId
                            );
                            if retried && gone {
                                Ok(DeleteOutcome::ConfirmedAfterRetry)
                            } else {
                                AdminError::check(
                                    answer.error_code,
                                    answer.error_message.as_ref(),
                                    topic.to_string(),
                                )
                                .map(|()| DeleteOutcome::Deleted)
                            }
                        }
                    };
                    results.insert(topic.clone(), result);
                }
            }
            Err(error) => {
                let may_have_applied = error.may_have_applied();
                let error = AdminError::from(error);
                let names: Vec<String> = states.iter().filter_map(|(_, n, _)| n.clone()).collect();
                let metadata = if may_have_applied {
                    self.cluster.metadata_for_topics(&names).await.ok()
                } else {
                    None
                };
                for (topic, name, _) in &states {
                    let gone = match (&metadata, name) {
                        (Some(metadata), Some(name)) => !metadata.topics.contains_key(name),
                        _ => false,
                    };
                    let result = if gone {
                        Ok(DeleteOutcome::ConfirmedAfterRetry)
                    } else {
                        Err(error.clone())
                    };
                    results.insert(topic.clone(), result);
                }
            }
        }
        if options.wait_until_gone {
            let deleted: Vec<String> = results
                .iter()
                .filter(|(_, r)| r.is_ok())
                .filter_map(|(topic, _)| match topic {
                    TopicRef::Name(name) => Some(name.clone()),
                    TopicRef::Id(_) => None,
                })
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

    /// Adds partitions to existing topics, one result per topic.
    pub async fn create_partitions(
        &self,
        topics: &BTreeMap<String, NewPartitions>,
        options: CreatePartitionsOptions,
    ) -> Result<Results<String, ()>, AdminError> {
        let timeout = self.timeout(options.timeout);
        let request_topics: Vec<CreatePartitionsTopic> = topics
            .iter()
            .map(|(name, new)| {
                CreatePartitionsTopic::default()
                    .with_name(name.as_str().into())
                    .with_count(new.total_count)
                    .with_assignments((!new.assignments.is_empty()).then(|| {
                        new.assignments
                            .iter()
                            .map(|brokers| {
                                CreatePartitionsAssignment::default()
                                    .with_broker_ids(brokers.as_slice().into())
                            })
                            .collect()
                    }))
            })
            .collect();
        let response =
            self.cluster
                .call(
                    Call::new(Target::Controller, move |_| {
                        CreatePartitionsRequest::default()
                            .with_topics(request_topics.clone())
                            .with_timeout_ms(timeout_ms(timeout))
                            .with_validate_only(options.validate_only)
                    })
                    .classify(|response| {
                        match response.results.iter().find(|t| {
                            ErrorCode::from_code(t.error_code) == ErrorCode::NotController
                        }) {
                            Some(_) => Err(ResponseError::new(ErrorCode::NotController)),
                            None => Ok(()),
                        }
                    })
                    .timeout(Some(timeout)),
                )
                .await;
        let mut results = Results::default();
        match response {
            Ok(response) => {
                for name in topics.keys() {
                    let answer = response.results.iter().find(|r| r.name == name.as_str());
                    let result = AdminError::check_answer(
                        answer.map(|r| (r.error_code, r.error_message.as_ref())),
                        topic_resource(name),
                    );
                    results.insert(name.clone(), result);
                }
            }
            Err(error) => {
                let error = AdminError::from(error);
                for name in topics.keys() {
                    results.insert(name.clone(), Err(error.clone()));
                }
            }
        }
        Ok(results)
    }
}
