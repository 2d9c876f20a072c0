//! `list_topics` and `describe_topics` (by name or id), from Metadata.

use std::time::Duration;

use klamm_cluster::{Call, Target};
use klamm_protocol::messages::metadata_request::MetadataRequestTopic;
use klamm_protocol::messages::MetadataRequest;
use klamm_protocol::primitives::Uuid;
use klamm_protocol::ErrorCode;

use super::*;
use crate::{AclOperation, Admin, AdminError, Results};

impl Admin {
    /// Lists topic names (with ids); internal topics only if `include_internal`.
    pub async fn list_topics(
        &self,
        include_internal: bool,
        timeout: Option<Duration>,
    ) -> Result<Vec<TopicListing>, AdminError> {
        let response = self
            .cluster
            .call(
                Call::new(Target::Any, |_| {
                    MetadataRequest::default()
                        .with_topics(None)
                        .with_allow_auto_topic_creation(false)
                })
                .timeout(Some(self.timeout(timeout))),
            )
            .await?;
        let mut topics: Vec<TopicListing> = response
            .topics
            .iter()
            .filter(|t| include_internal || !t.is_internal)
            .filter(|t| !ErrorCode::from_code(t.error_code).is_error())
            .filter_map(|t| {
                Some(TopicListing {
                    name: t.name.as_ref()?.to_string(),
                    topic_id: id_text(&t.topic_id),
                    is_internal: t.is_internal,
                })
            })
            .collect();
        topics.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(topics)
    }

    /// Describes topics by name or id: partitions, leaders, replicas, ISR and the caller's
    /// authorized operations. One result per topic (`UNKNOWN_TOPIC_OR_PARTITION`,
    /// `TOPIC_AUTHORIZATION_FAILED` … per topic).
    pub async fn describe_topics(
        &self,
        topics: &[TopicRef],
        timeout: Option<Duration>,
    ) -> Result<Results<TopicRef, TopicDescription>, AdminError> {
        let mut ids = Vec::new();
        let mut results = Results::default();
        for topic in topics {
            match topic {
                TopicRef::Name(name) => ids.push((topic.clone(), Some(name.clone()), Uuid::ZERO)),
                TopicRef::Id(id) => match id.parse::<Uuid>() {
                    Ok(uuid) => ids.push((topic.clone(), None, uuid)),
                    Err(_) => results.insert(
                        topic.clone(),
                        Err(AdminError::invalid(format!("`{id}` is not a topic id"))),
                    ),
                },
            }
        }
        if ids.is_empty() {
            return Ok(results);
        }
        let request_topics: Vec<MetadataRequestTopic> = ids
            .iter()
            .map(|(_, name, id)| {
                MetadataRequestTopic::default()
                    .with_name(name.as_deref().map(Into::into))
                    .with_topic_id(*id)
            })
            .collect();
        let response = self
            .cluster
            .call(
                Call::new(Target::Any, move |_| {
                    MetadataRequest::default()
                        .with_topics(Some(request_topics.clone()))
                        .with_allow_auto_topic_creation(false)
                        .with_include_topic_authorized_operations(true)
                })
                .timeout(Some(self.timeout(timeout))),
            )
            .await?;
        for (topic, name, id) in ids {
            let answer = response.topics.iter().find(|t| match &name {
                Some(name) => t.name.as_deref() == Some(name.as_str()),
                None => t.topic_id == id,
            });
            let result = match answer {
                None => Err(AdminError::MissingInResponse {
                    resource: topic.to_string(),
                }),
                Some(t) => {
                    AdminError::check(t.error_code, None::<String>, topic.to_string()).map(|()| {
                        let mut partitions: Vec<PartitionDescription> = t
                            .partitions
                            .iter()
                            .map(|p| PartitionDescription {
                                partition: p.partition_index,
                                leader: (p.leader_id >= 0).then_some(p.leader_id),
                                leader_epoch: (p.leader_epoch >= 0).then_some(p.leader_epoch),
                                replicas: p.replica_nodes.to_vec(),
                                isr: p.isr_nodes.to_vec(),
                                offline_replicas: p.offline_replicas.to_vec(),
                                error: ErrorCode::from_code(p.error_code)
                                    .is_error()
                                    .then(|| ErrorCode::from_code(p.error_code).name().to_owned()),
                            })
                            .collect();
                        partitions.sort_by_key(|p| p.partition);
                        TopicDescription {
                            name: t.name.as_ref().map(|n| n.to_string()).unwrap_or_default(),
                            topic_id: id_text(&t.topic_id),
                            is_internal: t.is_internal,
                            partitions,
                            authorized_operations: AclOperation::from_bitfield(
                                t.topic_authorized_operations,
                            ),
                        }
                    })
                }
            };
            results.insert(topic, result);
        }
        Ok(results)
    }
}
