//! Consumer-group operations: `list_consumer_groups` (every broker at once),
//! `describe_consumer_groups` (ConsumerGroupDescribe first, so KIP-848 groups show their real
//! members, then DescribeGroups for classic groups, with member subscriptions and assignments
//! decoded), `delete_consumer_groups` and `remove_members_from_consumer_group`, each keyed by
//! group id (or member) and sharded by coordinator. Committed offsets live in
//! [`group_offsets`](crate::group_offsets).

mod delete;
mod describe;
mod list;

use std::collections::BTreeMap;

use klamm_cluster::{Outcome, ResponseError};
use klamm_protocol::ErrorCode;

use crate::consumer_protocol::{MemberSubscription, TopicPartitions};
use crate::options::options;
use crate::{AclOperation, AdminError, GroupState, GroupType};

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

/// A group's outcome from its error code: `value` when there is none; coordinator errors
/// are retried (after forgetting the coordinator).
pub(crate) fn group_outcome<T>(
    group: &str,
    code: i16,
    message: Option<impl ToString>,
    value: impl FnOnce() -> T,
) -> Outcome<T> {
    match ResponseError::check(code) {
        Ok(()) => Outcome::Done(value()),
        Err(error) => {
            let error = error
                .with_message(message)
                .with_resource(group_resource(group));
            match coordinator_retry(code) {
                Err(_) => Outcome::Retry(error),
                Ok(()) => Outcome::Failed(error),
            }
        }
    }
}

options! {
    /// Options of [`Admin::list_consumer_groups`](crate::Admin::list_consumer_groups).
    pub struct ListConsumerGroupsOptions {
        /// Only groups in these states (ListGroups v4+).
        states: Vec<GroupState>,
        /// Only groups of these types (ListGroups v5+, ignored before).
        types: Vec<GroupType>,
        /// Also list groups that are not consumer groups (Connect, share, streams).
        include_non_consumer: bool,
    }
}

options! {
    /// Options of [`Admin::describe_consumer_groups`](crate::Admin::describe_consumer_groups).
    pub struct DescribeConsumerGroupsOptions {
        /// Ask for the caller's authorized operations on each group.
        include_authorized_operations: bool = true,
    }
}

options! {
    /// Options of [`Admin::delete_consumer_groups`](crate::Admin::delete_consumer_groups).
    pub struct DeleteConsumerGroupsOptions {}
}

options! {
    /// Options of
    /// [`Admin::remove_members_from_consumer_group`](crate::Admin::remove_members_from_consumer_group).
    pub struct RemoveMembersOptions {}
}

/// A group as ListGroups reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct GroupListing {
    /// Group id.
    pub group_id: String,
    /// Protocol type (`consumer`, `connect`, empty for simple groups).
    pub protocol_type: String,
    /// State (v4+).
    pub state: Option<GroupState>,
    /// Type (v5+).
    pub group_type: Option<GroupType>,
    /// The broker that listed it (its coordinator).
    pub coordinator: i32,
}

/// All groups found, and the brokers that could not be asked.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ConsumerGroupListing {
    /// Groups, sorted by id.
    pub groups: Vec<GroupListing>,
    /// Brokers that failed, with their errors: the listing is partial when this is not empty.
    pub errors: BTreeMap<i32, AdminError>,
}

/// A member of a described group.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
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
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct GroupDescription {
    /// Group id.
    pub group_id: String,
    /// `Consumer` (KIP-848, described with ConsumerGroupDescribe) or `Classic`.
    pub group_type: GroupType,
    /// State as the broker names it.
    pub state: GroupState,
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
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum MemberToRemove {
    /// A static member, by `group.instance.id`.
    Static(String),
    /// A dynamic member, by member id (LeaveGroup v3+ through a KIP-345 broker).
    Dynamic(String),
}

impl From<&MemberToRemove> for MemberToRemove {
    fn from(value: &MemberToRemove) -> Self {
        value.clone()
    }
}
