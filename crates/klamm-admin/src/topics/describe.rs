//! `list_topics`, `describe_topics` (by name or id) and `describe_all_topics`, from Metadata
//! asked of any broker.

use klamm_cluster::{Call, Outcome, ResponseError, ShardedRequest, Target};
use klamm_protocol::messages::metadata_request::MetadataRequestTopic;
use klamm_protocol::messages::metadata_response::MetadataResponseTopic;
use klamm_protocol::messages::{MetadataRequest, MetadataResponse};
use klamm_protocol::primitives::Uuid;
use klamm_protocol::{ErrorCode, VersionRange};

use super::*;
use crate::{AclOperation, Admin, AdminError, Results};

/// The first Metadata version that names topics by id (KIP-516).
const BY_ID: i16 = 10;

/// A topic's description from its Metadata entry.
fn description(topic: &MetadataResponseTopic) -> TopicDescription {
    let mut partitions: Vec<PartitionDescription> = topic
        .partitions
        .iter()
        .map(|p| PartitionDescription {
            partition: p.partition_index,
            leader: (p.leader_id >= 0).then_some(p.leader_id),
            leader_epoch: (p.leader_epoch >= 0).then_some(p.leader_epoch),
            replicas: p.replica_nodes.to_vec(),
            isr: p.isr_nodes.to_vec(),
            offline_replicas: p.offline_replicas.to_vec(),
            error: Some(ErrorCode::from_code(p.error_code)).filter(|code| code.is_error()),
        })
        .collect();
    partitions.sort_by_key(|p| p.partition);
    TopicDescription {
        name: topic
            .name
            .as_ref()
            .map(|n| n.to_string())
            .unwrap_or_default(),
        topic_id: topic_id(&topic.topic_id),
        is_internal: topic.is_internal,
        partitions,
        authorized_operations: AclOperation::from_bitfield(topic.topic_authorized_operations),
    }
}

/// The planner and classifier of `describe_topics`: the topics in one Metadata request.
struct DescribeTopicsShards<'a> {
    options: &'a DescribeTopicsOptions,
    by_id: bool,
}

impl ShardedRequest for DescribeTopicsShards<'_> {
    type Item = TopicRef;
    type Request = MetadataRequest;
    type Output = TopicDescription;

    fn route(&self, _: &TopicRef) -> Target {
        Target::Any
    }

    fn versions(&self) -> VersionRange {
        let all = klamm_protocol::ApiKey::Metadata.versions();
        match self.by_id {
            true => VersionRange::new(BY_ID, all.max),
            false => all,
        }
    }

    fn build(&self, _broker: i32, _version: i16, topics: &[TopicRef]) -> MetadataRequest {
        let entries = topics.iter().map(|topic| match topic {
            TopicRef::Name(name) => MetadataRequestTopic::default()
                .with_name(Some(name.as_str().into()))
                .with_topic_id(Uuid::ZERO),
            TopicRef::Id(id) => MetadataRequestTopic::default()
                .with_name(None)
                .with_topic_id(*id),
        });
        MetadataRequest::default()
            .with_topics(Some(entries.collect()))
            .with_allow_auto_topic_creation(false)
            .with_include_topic_authorized_operations(self.options.include_authorized_operations)
    }

    fn classify(
        &self,
        response: MetadataResponse,
        _version: i16,
        topics: &[TopicRef],
    ) -> Vec<(TopicRef, Outcome<TopicDescription>)> {
        response
            .topics
            .iter()
            .map(|topic| {
                let named = topic.name.as_ref().map(|n| TopicRef::Name(n.to_string()));
                let key = match named {
                    Some(key) if topics.contains(&key) => key,
                    _ => TopicRef::Id(topic.topic_id),
                };
                let outcome = match ResponseError::check(topic.error_code) {
                    Ok(()) => Outcome::Done(description(topic)),
                    Err(error) => Outcome::Failed(error.with_resource(key.to_string())),
                };
                (key, outcome)
            })
            .collect()
    }

    fn describe(&self, topic: &TopicRef) -> String {
        topic.to_string()
    }
}

impl Admin {
    /// Lists topic names (with ids); internal topics only with `include_internal`.
    pub async fn list_topics(
        &self,
        options: ListTopicsOptions,
    ) -> Result<Vec<TopicListing>, AdminError> {
        let all = self.all_topics(options.timeout, false).await?;
        let mut topics: Vec<TopicListing> = all
            .topics
            .iter()
            .filter(|t| options.include_internal || !t.is_internal)
            .filter(|t| !ErrorCode::from_code(t.error_code).is_error())
            .filter_map(|t| {
                Some(TopicListing {
                    name: t.name.as_ref()?.to_string(),
                    topic_id: topic_id(&t.topic_id),
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
    ///
    /// ```no_run
    /// # async fn demo(admin: klamm_admin::Admin) -> Result<(), klamm_admin::AdminError> {
    /// use klamm_admin::DescribeTopicsOptions;
    /// let described = admin.describe_topics(["orders"], DescribeTopicsOptions::default()).await?;
    /// println!("{} partitions", described["orders"].as_ref().map_or(0, |t| t.partitions.len()));
    /// # Ok(()) }
    /// ```
    pub async fn describe_topics(
        &self,
        topics: impl IntoIterator<Item = impl Into<TopicRef>>,
        options: DescribeTopicsOptions,
    ) -> Result<Results<TopicRef, TopicDescription>, AdminError> {
        let (ids, names): (Vec<TopicRef>, Vec<TopicRef>) = topics
            .into_iter()
            .map(Into::into)
            .partition(|topic| topic.name().is_none());
        let timeout = Some(self.timeout(options.timeout));
        let mut results = Results::default();
        for (by_id, topics) in [(false, names), (true, ids)] {
            if topics.is_empty() {
                continue;
            }
            let shards = DescribeTopicsShards {
                options: &options,
                by_id,
            };
            let answers = self.cluster.sharded(&shards, topics, timeout).await;
            results.0.extend(Results::from_items(answers).0);
        }
        Ok(results)
    }

    /// Describes every topic the caller may describe (kafka-python's `describe_topics()`
    /// with no names), internal ones included; keyed by name.
    pub async fn describe_all_topics(
        &self,
        options: DescribeTopicsOptions,
    ) -> Result<Results<TopicRef, TopicDescription>, AdminError> {
        let all = self
            .all_topics(options.timeout, options.include_authorized_operations)
            .await?;
        Ok(all
            .topics
            .iter()
            .filter_map(|topic| {
                let key = TopicRef::Name(topic.name.as_ref()?.to_string());
                let result = AdminError::check(topic.error_code, None::<String>, key.to_string())
                    .map(|()| description(topic));
                Some((key, result))
            })
            .collect())
    }

    /// Metadata of every topic, from any broker.
    async fn all_topics(
        &self,
        timeout: Option<std::time::Duration>,
        authorized_operations: bool,
    ) -> Result<MetadataResponse, AdminError> {
        let all = Call::new(Target::Any, move |_| {
            MetadataRequest::default()
                .with_topics(None)
                .with_allow_auto_topic_creation(false)
                .with_include_topic_authorized_operations(authorized_operations)
        })
        .timeout(self.timeout(timeout));
        Ok(self.cluster.call(all).await?)
    }
}
