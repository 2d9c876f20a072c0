//! `describe_consumer_groups`: ConsumerGroupDescribe to each coordinator for every group it
//! coordinates, so KIP-848 groups show their real members; groups it does not know as
//! consumer groups (classic ones) and brokers without the API then get DescribeGroups, with the
//! classic members' subscriptions and assignments decoded from the consumer protocol.

use klamm_cluster::{ClusterError, CoordinatorType, ShardedRequest, Target};
use klamm_protocol::messages::consumer_group_describe_response::{
    Assignment, DescribedGroup as ConsumerGroup,
};
use klamm_protocol::messages::describe_groups_response::DescribedGroup as ClassicGroup;
use klamm_protocol::messages::{
    ConsumerGroupDescribeRequest, ConsumerGroupDescribeResponse, DescribeGroupsRequest,
    DescribeGroupsResponse,
};

use super::*;
use crate::client::is_unsupported;
use crate::consumer_protocol::{decode_assignment, decode_subscription};
use crate::{Admin, Results};

fn partitions(assignment: &Assignment) -> Vec<TopicPartitions> {
    assignment
        .topic_partitions
        .iter()
        .map(|tp| TopicPartitions {
            topic: tp.topic_name.to_string(),
            partitions: tp.partitions.to_vec(),
        })
        .collect()
}

/// A KIP-848 group from its ConsumerGroupDescribe entry.
fn consumer_group(g: &ConsumerGroup) -> GroupDescription {
    GroupDescription {
        group_id: g.group_id.to_string(),
        group_type: GroupType::Consumer,
        state: GroupState::from(g.group_state.as_str()),
        protocol_type: Some("consumer".into()),
        assignor: Some(g.assignor_name.to_string()),
        group_epoch: Some(g.group_epoch),
        is_simple_consumer_group: false,
        members: g
            .members
            .iter()
            .map(|m| MemberDescription {
                member_id: m.member_id.to_string(),
                group_instance_id: m.instance_id.as_ref().map(|i| i.to_string()),
                client_id: m.client_id.to_string(),
                client_host: m.client_host.to_string(),
                subscribed_topics: m
                    .subscribed_topic_names
                    .iter()
                    .map(|t| t.to_string())
                    .collect(),
                // Brokers send "" (not null) when there is no regex.
                subscribed_topic_regex: m
                    .subscribed_topic_regex
                    .as_ref()
                    .filter(|r| !r.is_empty())
                    .map(|r| r.to_string()),
                assignment: partitions(&m.assignment),
                target_assignment: Some(partitions(&m.target_assignment)),
                subscription: None,
                member_epoch: Some(m.member_epoch),
                rack_id: m.rack_id.as_ref().map(|r| r.to_string()),
                decode_error: None,
            })
            .collect(),
        authorized_operations: AclOperation::from_bitfield(g.authorized_operations),
    }
}

/// A classic group from its DescribeGroups entry, the consumer protocol's member bytes decoded.
fn classic_group(g: &ClassicGroup) -> GroupDescription {
    let protocol_type = g.protocol_type.to_string();
    let is_consumer = protocol_type == "consumer";
    let members: Vec<MemberDescription> = g
        .members
        .iter()
        .map(|m| {
            let mut member = MemberDescription {
                member_id: m.member_id.to_string(),
                group_instance_id: m.group_instance_id.as_ref().map(|i| i.to_string()),
                client_id: m.client_id.to_string(),
                client_host: m.client_host.to_string(),
                subscribed_topics: Vec::new(),
                subscribed_topic_regex: None,
                assignment: Vec::new(),
                target_assignment: None,
                subscription: None,
                member_epoch: None,
                rack_id: None,
                decode_error: None,
            };
            if is_consumer {
                match decode_subscription(&m.member_metadata) {
                    Ok(subscription) => {
                        member.subscribed_topics = subscription.topics.clone();
                        member.rack_id = subscription.rack_id.clone();
                        member.subscription = Some(subscription);
                    }
                    Err(error) => member.decode_error = Some(error.to_string()),
                }
                match decode_assignment(&m.member_assignment) {
                    Ok(assignment) => member.assignment = assignment.partitions,
                    Err(error) => member.decode_error = Some(error.to_string()),
                }
            }
            member
        })
        .collect();
    GroupDescription {
        group_id: g.group_id.to_string(),
        group_type: GroupType::Classic,
        state: GroupState::from(g.group_state.as_str()),
        is_simple_consumer_group: protocol_type.is_empty() && members.is_empty(),
        protocol_type: Some(protocol_type),
        assignor: (!g.protocol_data.is_empty()).then(|| g.protocol_data.to_string()),
        group_epoch: None,
        members,
        authorized_operations: AclOperation::from_bitfield(g.authorized_operations),
    }
}

/// ConsumerGroupDescribe for the groups of one coordinator. A group the broker does not know
/// as a KIP-848 group comes back as `None`: it is asked again as a classic group.
struct ConsumerGroupDescribeShards<'a> {
    options: &'a DescribeConsumerGroupsOptions,
}

impl ShardedRequest for ConsumerGroupDescribeShards<'_> {
    type Item = String;
    type Request = ConsumerGroupDescribeRequest;
    type Output = Option<GroupDescription>;

    fn route(&self, group: &String) -> Target {
        Target::Coordinator(CoordinatorType::Group, group.clone())
    }

    fn build(
        &self,
        _broker: i32,
        _version: i16,
        groups: &[String],
    ) -> ConsumerGroupDescribeRequest {
        ConsumerGroupDescribeRequest::default()
            .with_group_ids(groups.iter().map(|g| g.as_str().into()).collect())
            .with_include_authorized_operations(self.options.include_authorized_operations)
    }

    fn classify(
        &self,
        response: ConsumerGroupDescribeResponse,
        _version: i16,
        _groups: &[String],
    ) -> Vec<(String, Outcome<Option<GroupDescription>>)> {
        response
            .groups
            .iter()
            .map(|g| {
                let group = g.group_id.to_string();
                // A classic group (or none at all) is not a "consumer" group to this API.
                let outcome = match ErrorCode::from_code(g.error_code) {
                    ErrorCode::GroupIdNotFound => Outcome::Done(None),
                    _ => group_outcome(&group, g.error_code, g.error_message.as_ref(), || {
                        Some(consumer_group(g))
                    }),
                };
                (group, outcome)
            })
            .collect()
    }

    fn describe(&self, group: &String) -> String {
        group_resource(group)
    }
}

/// DescribeGroups for the classic groups of one coordinator.
struct DescribeGroupsShards<'a> {
    options: &'a DescribeConsumerGroupsOptions,
}

impl ShardedRequest for DescribeGroupsShards<'_> {
    type Item = String;
    type Request = DescribeGroupsRequest;
    type Output = GroupDescription;

    fn route(&self, group: &String) -> Target {
        Target::Coordinator(CoordinatorType::Group, group.clone())
    }

    fn build(&self, _broker: i32, _version: i16, groups: &[String]) -> DescribeGroupsRequest {
        DescribeGroupsRequest::default()
            .with_groups(groups.iter().map(|g| g.as_str().into()).collect())
            .with_include_authorized_operations(self.options.include_authorized_operations)
    }

    fn classify(
        &self,
        response: DescribeGroupsResponse,
        _version: i16,
        _groups: &[String],
    ) -> Vec<(String, Outcome<GroupDescription>)> {
        response
            .groups
            .iter()
            .map(|g| {
                let group = g.group_id.to_string();
                let outcome = group_outcome(&group, g.error_code, g.error_message.as_ref(), || {
                    classic_group(g)
                });
                (group, outcome)
            })
            .collect()
    }

    fn describe(&self, group: &String) -> String {
        group_resource(group)
    }
}

/// Whether a ConsumerGroupDescribe failure means "ask DescribeGroups instead".
fn needs_classic(error: &ClusterError) -> bool {
    is_unsupported(error)
}

impl Admin {
    /// Describes consumer groups, one result per group, the groups of each coordinator in one
    /// request: ConsumerGroupDescribe (KIP-848) first, DescribeGroups for classic groups and
    /// brokers without it.
    ///
    /// ```no_run
    /// # async fn demo(admin: klamm_admin::Admin) -> Result<(), klamm_admin::AdminError> {
    /// use klamm_admin::DescribeConsumerGroupsOptions;
    /// let described = admin
    ///     .describe_consumer_groups(["billing"], DescribeConsumerGroupsOptions::default())
    ///     .await?;
    /// for member in described["billing"].as_ref().map(|g| &g.members).into_iter().flatten() {
    ///     println!("{} {:?}", member.client_id, member.assignment);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn describe_consumer_groups(
        &self,
        groups: impl IntoIterator<Item = impl Into<String>>,
        options: DescribeConsumerGroupsOptions,
    ) -> Result<Results<String, GroupDescription>, AdminError> {
        let groups: std::collections::BTreeSet<String> =
            groups.into_iter().map(Into::into).collect();
        let timeout = self.timeout(options.timeout);
        let started = tokio::time::Instant::now();
        let consumer = ConsumerGroupDescribeShards { options: &options };
        let answers = self.cluster.sharded(&consumer, groups, Some(timeout)).await;
        let mut results = Results::default();
        let mut classic = Vec::new();
        for (group, answer) in answers {
            match answer.result {
                Ok(Some(description)) => results.insert(group, Ok(description)),
                Ok(None) => classic.push(group),
                Err(error) if needs_classic(&error) => classic.push(group),
                Err(error) => results.insert(group, Err(error.into())),
            }
        }
        if !classic.is_empty() {
            let shards = DescribeGroupsShards { options: &options };
            let remaining = timeout.saturating_sub(started.elapsed());
            let answers = self
                .cluster
                .sharded(&shards, classic, Some(remaining))
                .await;
            results.0.extend(Results::from_items(answers).0);
        }
        Ok(results)
    }
}
