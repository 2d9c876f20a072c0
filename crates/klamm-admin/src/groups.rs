//! Consumer-group operations: `list_consumer_groups` (every broker at once),
//! `describe_consumer_groups` (ConsumerGroupDescribe first, so KIP-848 groups show their real
//! members, then DescribeGroups for classic groups, with member subscriptions and assignments
//! decoded), `delete_consumer_groups` and `remove_members_from_consumer_group`. Committed
//! offsets live in [`group_offsets`](crate::group_offsets).

use std::collections::BTreeMap;
use std::time::Duration;

use klamm_cluster::{
    Call, CoordinatorType, FanOut, Outcome, ResponseError, ShardedRequest, Target,
};
use klamm_protocol::messages::leave_group_request::MemberIdentity;
use klamm_protocol::messages::{
    ConsumerGroupDescribeRequest, DeleteGroupsRequest, DeleteGroupsResponse, DescribeGroupsRequest,
    LeaveGroupRequest, ListGroupsRequest,
};
use klamm_protocol::ErrorCode;
use serde::Serialize;

use crate::client::{is_unsupported, join_all};
use crate::consumer_protocol::{
    decode_assignment, decode_subscription, MemberSubscription, TopicPartitions,
};
use crate::error::NO_MESSAGE;
use crate::{AclOperation, Admin, AdminError, Results};

/// A coordinator error that means "ask again (elsewhere)": `call` retries it.
pub(crate) fn coordinator_retry(code: i16) -> Result<(), ResponseError> {
    match ErrorCode::from_code(code) {
        code @ (ErrorCode::NotCoordinator
        | ErrorCode::CoordinatorNotAvailable
        | ErrorCode::CoordinatorLoadInProgress) => Err(ResponseError::new(code)),
        _ => Ok(()),
    }
}

pub(crate) fn group_resource(group: &str) -> String {
    format!("group `{group}`")
}

/// Options of [`Admin::list_consumer_groups`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListConsumerGroupsOptions {
    /// Deadline (per broker; brokers are asked concurrently).
    pub timeout: Option<Duration>,
    /// Only groups in these states (`Stable`, `Empty`, … ; ListGroups v4+).
    pub states: Vec<String>,
    /// Only groups of these types (`classic`, `consumer`; ListGroups v5+, ignored before).
    pub types: Vec<String>,
    /// Also list groups that are not consumer groups (Connect, share, streams).
    pub include_non_consumer: bool,
}

/// A group as ListGroups reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupListing {
    /// Group id.
    pub group_id: String,
    /// Protocol type (`consumer`, `connect`, empty for simple groups).
    pub protocol_type: String,
    /// State (v4+).
    pub state: Option<String>,
    /// Type: `classic` or `consumer` (v5+).
    pub group_type: Option<String>,
    /// The broker that listed it (its coordinator).
    pub coordinator: i32,
}

/// All groups found, and the brokers that could not be asked.
#[derive(Debug, Clone, Serialize)]
pub struct ConsumerGroupListing {
    /// Groups, sorted by id.
    pub groups: Vec<GroupListing>,
    /// Brokers that failed, with their errors: the listing is partial when this is not empty.
    pub errors: BTreeMap<i32, AdminError>,
}

/// A member of a described group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberDescription {
    /// Member id.
    pub member_id: String,
    /// Static membership id.
    pub group_instance_id: Option<String>,
    /// Client id.
    pub client_id: String,
    /// Client host.
    pub client_host: String,
    /// Subscribed topics (decoded from the consumer protocol for classic groups).
    pub subscribed_topics: Vec<String>,
    /// Subscribed regex (KIP-848 groups).
    pub subscribed_topic_regex: Option<String>,
    /// Current assignment.
    pub assignment: Vec<TopicPartitions>,
    /// Target assignment (KIP-848 groups).
    pub target_assignment: Option<Vec<TopicPartitions>>,
    /// The full decoded subscription (classic `consumer` groups).
    pub subscription: Option<MemberSubscription>,
    /// Member epoch (KIP-848 groups).
    pub member_epoch: Option<i32>,
    /// Rack (KIP-848 groups, or subscription v3).
    pub rack_id: Option<String>,
    /// Why the member bytes could not be decoded, if they could not.
    pub decode_error: Option<String>,
}

/// A described consumer group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupDescription {
    /// Group id.
    pub group_id: String,
    /// `consumer` (KIP-848, described with ConsumerGroupDescribe) or `classic`.
    pub group_type: String,
    /// State as the broker names it (`Stable`, `Empty`, `Dead`, …).
    pub state: String,
    /// Protocol type (classic groups).
    pub protocol_type: Option<String>,
    /// Assignor: the classic protocol name or the KIP-848 server assignor.
    pub assignor: Option<String>,
    /// Group epoch (KIP-848 groups).
    pub group_epoch: Option<i32>,
    /// Whether it has no members and an empty protocol type (offsets committed directly).
    pub is_simple_consumer_group: bool,
    /// Members.
    pub members: Vec<MemberDescription>,
    /// What the caller may do on the group, `None` if not sent.
    pub authorized_operations: Option<Vec<AclOperation>>,
}

/// A member to remove from a group.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberToRemove {
    /// A static member, by `group.instance.id`.
    Static(String),
    /// A dynamic member, by member id (LeaveGroup v3+ through a KIP-345 broker).
    Dynamic(String),
}

impl Admin {
    /// Lists consumer groups by asking every broker concurrently; a broker that fails costs
    /// only its own groups (see [`ConsumerGroupListing::errors`]).
    pub async fn list_consumer_groups(
        &self,
        options: ListConsumerGroupsOptions,
    ) -> Result<ConsumerGroupListing, AdminError> {
        let broker_ids = self.cluster.metadata().await?.broker_ids();
        let list = FanOut::new(|_, version| {
            ListGroupsRequest::default()
                .with_states_filter(options.states.iter().map(|s| s.as_str().into()).collect())
                .with_types_filter(if version >= 5 {
                    options.types.iter().map(|s| s.as_str().into()).collect()
                } else {
                    vec![]
                })
        })
        .classify(|response| ResponseError::check(response.error_code));
        let per_broker = self
            .cluster
            .sharded(&list, broker_ids, Some(self.timeout(options.timeout)))
            .await;
        let mut listing = ConsumerGroupListing {
            groups: Vec::new(),
            errors: BTreeMap::new(),
        };
        for (broker, answer) in per_broker {
            match answer.result {
                Ok(response) => {
                    for group in &response.groups {
                        let protocol_type = group.protocol_type.to_string();
                        if !(options.include_non_consumer
                            || protocol_type.is_empty()
                            || protocol_type == "consumer")
                        {
                            continue;
                        }
                        listing.groups.push(GroupListing {
                            group_id: group.group_id.to_string(),
                            protocol_type,
                            state: (!group.group_state.is_empty())
                                .then(|| group.group_state.to_string()),
                            group_type: (!group.group_type.is_empty())
                                .then(|| group.group_type.to_string()),
                            coordinator: broker,
                        });
                    }
                }
                Err(error) => {
                    listing.errors.insert(broker, error.into());
                }
            }
        }
        listing.groups.sort_by(|a, b| a.group_id.cmp(&b.group_id));
        Ok(listing)
    }

    /// Describes consumer groups, one result per group, each asked of its coordinator
    /// concurrently: ConsumerGroupDescribe (KIP-848) first, DescribeGroups for classic groups
    /// and brokers without it.
    ///
    /// ```no_run
    /// # async fn demo(admin: klamm_admin::Admin) -> Result<(), klamm_admin::AdminError> {
    /// let described = admin.describe_consumer_groups(&["billing".to_owned()], None).await?;
    /// for member in described["billing"].as_ref().map(|g| &g.members).into_iter().flatten() {
    ///     println!("{} {:?}", member.client_id, member.assignment);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn describe_consumer_groups(
        &self,
        group_ids: &[String],
        timeout: Option<Duration>,
    ) -> Result<Results<String, GroupDescription>, AdminError> {
        let timeout = Some(self.timeout(timeout));
        let calls: Vec<_> = group_ids
            .iter()
            .map(|group| {
                let admin = self.clone();
                let group = group.clone();
                async move {
                    let result = admin.describe_one_group(&group, timeout).await;
                    (group, result)
                }
            })
            .collect();
        Ok(join_all(calls).await.into_iter().flatten().collect())
    }

    async fn describe_one_group(
        &self,
        group: &str,
        timeout: Option<Duration>,
    ) -> Result<GroupDescription, AdminError> {
        let target = Target::Coordinator(CoordinatorType::Group, group.to_owned());
        let id = group.to_owned();
        let described = self
            .cluster
            .call(
                Call::new(target.clone(), move |_| {
                    ConsumerGroupDescribeRequest::default()
                        .with_group_ids(vec![id.as_str().into()])
                        .with_include_authorized_operations(true)
                })
                .classify(|response| {
                    response
                        .groups
                        .first()
                        .map_or(Ok(()), |g| coordinator_retry(g.error_code))
                })
                .timeout(timeout),
            )
            .await;
        match described {
            Ok(response) => {
                let g = response
                    .groups
                    .first()
                    .ok_or_else(|| AdminError::MissingInResponse {
                        resource: group_resource(group),
                    })?;
                let code = ErrorCode::from_code(g.error_code);
                // A classic group (or none at all) is not a "consumer" group to this API.
                if code != ErrorCode::GroupIdNotFound {
                    AdminError::check(
                        g.error_code,
                        g.error_message.as_ref(),
                        group_resource(group),
                    )?;
                    let partitions = |a: &klamm_protocol::messages::consumer_group_describe_response::Assignment| {
                        a.topic_partitions
                            .iter()
                            .map(|tp| TopicPartitions { topic: tp.topic_name.to_string(), partitions: tp.partitions.to_vec() })
                            .collect::<Vec<_>>()
                    };
                    return Ok(GroupDescription {
                        group_id: g.group_id.to_string(),
                        group_type: "consumer".into(),
                        state: g.group_state.to_string(),
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
                    });
                }
            }
            Err(error) if is_unsupported(&error) => {}
            Err(error) => return Err(error.into()),
        }
        self.describe_classic_group(group, timeout).await
    }

    async fn describe_classic_group(
        &self,
        group: &str,
        timeout: Option<Duration>,
    ) -> Result<GroupDescription, AdminError> {
        let id = group.to_owned();
        let response = self
            .cluster
            .call(
                Call::new(
                    Target::Coordinator(CoordinatorType::Group, group.to_owned()),
                    move |_| {
                        DescribeGroupsRequest::default()
                            .with_groups(vec![id.as_str().into()])
                            .with_include_authorized_operations(true)
                    },
                )
                .classify(|response| {
                    response
                        .groups
                        .first()
                        .map_or(Ok(()), |g| coordinator_retry(g.error_code))
                })
                .timeout(timeout),
            )
            .await?;
        let g = response
            .groups
            .first()
            .ok_or_else(|| AdminError::MissingInResponse {
                resource: group_resource(group),
            })?;
        AdminError::check(
            g.error_code,
            g.error_message.as_ref(),
            group_resource(group),
        )?;
        let protocol_type = g.protocol_type.to_string();
        let is_consumer = protocol_type == "consumer";
        let members = g
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
            .collect::<Vec<_>>();
        Ok(GroupDescription {
            group_id: g.group_id.to_string(),
            group_type: "classic".into(),
            state: g.group_state.to_string(),
            is_simple_consumer_group: protocol_type.is_empty() && members.is_empty(),
            protocol_type: Some(protocol_type),
            assignor: (!g.protocol_data.is_empty()).then(|| g.protocol_data.to_string()),
            group_epoch: None,
            members,
            authorized_operations: AclOperation::from_bitfield(g.authorized_operations),
        })
    }

    /// Deletes consumer groups (they must be empty), one result per group: every group of one
    /// coordinator in one DeleteGroups request.
    pub async fn delete_consumer_groups(
        &self,
        group_ids: &[String],
        timeout: Option<Duration>,
    ) -> Result<Results<String, ()>, AdminError> {
        let results = self
            .cluster
            .sharded(
                &DeleteGroupsShards,
                group_ids.iter().cloned(),
                Some(self.timeout(timeout)),
            )
            .await;
        Ok(Results::from_items(results))
    }

    /// Removes members from a classic group (LeaveGroup v3+), one result per member.
    pub async fn remove_members_from_consumer_group(
        &self,
        group_id: &str,
        members: &[MemberToRemove],
        timeout: Option<Duration>,
    ) -> Result<Results<MemberToRemove, ()>, AdminError> {
        let identities: Vec<MemberIdentity> = members
            .iter()
            .map(|m| match m {
                MemberToRemove::Static(instance) => MemberIdentity::default()
                    .with_member_id("".into())
                    .with_group_instance_id(Some(instance.as_str().into()))
                    .with_reason(Some("removed by klamm".into())),
                MemberToRemove::Dynamic(id) => MemberIdentity::default()
                    .with_member_id(id.as_str().into())
                    .with_group_instance_id(None)
                    .with_reason(Some("removed by klamm".into())),
            })
            .collect();
        let id = group_id.to_owned();
        let response = self
            .cluster
            .call(
                Call::new(
                    Target::Coordinator(CoordinatorType::Group, group_id.to_owned()),
                    move |_| {
                        LeaveGroupRequest::default()
                            .with_group_id(id.as_str().into())
                            .with_members(identities.clone())
                    },
                )
                .classify(|response| coordinator_retry(response.error_code))
                .timeout(Some(self.timeout(timeout))),
            )
            .await?;
        AdminError::check(
            response.error_code,
            None::<String>,
            group_resource(group_id),
        )?;
        let mut results = Results::default();
        for member in members {
            let answer = response.members.iter().find(|r| match member {
                MemberToRemove::Static(instance) => {
                    r.group_instance_id.as_deref() == Some(instance.as_str())
                }
                MemberToRemove::Dynamic(id) => r.member_id == id.as_str(),
            });
            let resource = format!("member {member:?} of {}", group_resource(group_id));
            let result =
                AdminError::check_answer(answer.map(|r| (r.error_code, NO_MESSAGE)), resource);
            results.insert(member.clone(), result);
        }
        Ok(results)
    }
}

/// `delete_consumer_groups` as a sharded request: DeleteGroups to each coordinator.
struct DeleteGroupsShards;

impl ShardedRequest for DeleteGroupsShards {
    type Item = String;
    type Request = DeleteGroupsRequest;
    type Output = ();

    fn route(&self, group: &String) -> Target {
        Target::Coordinator(CoordinatorType::Group, group.clone())
    }

    fn build(&self, _broker: i32, _version: i16, groups: &[String]) -> DeleteGroupsRequest {
        DeleteGroupsRequest::default()
            .with_groups_names(groups.iter().map(|group| group.as_str().into()).collect())
    }

    fn classify(
        &self,
        response: DeleteGroupsResponse,
        _version: i16,
        _groups: &[String],
    ) -> Vec<(String, Outcome<()>)> {
        response
            .results
            .iter()
            .map(|result| {
                let group = result.group_id.to_string();
                let outcome = match ResponseError::check(result.error_code) {
                    Ok(()) => Outcome::Done(()),
                    Err(error) => {
                        let error = error
                            .with_message(result.error_message.as_ref())
                            .with_resource(group_resource(&group));
                        match coordinator_retry(result.error_code) {
                            Err(_) => Outcome::Retry(error),
                            Ok(()) => Outcome::Failed(error),
                        }
                    }
                };
                (group, outcome)
            })
            .collect()
    }

    fn describe(&self, group: &String) -> String {
        group_resource(group)
    }
}
