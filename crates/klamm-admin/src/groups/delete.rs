//! `delete_consumer_groups` (DeleteGroups, the groups of each coordinator in one request) and
//! `remove_members_from_consumer_group` (LeaveGroup v3+), with the read-back of what an
//! unanswered attempt may already have done.

use klamm_cluster::{ClusterError, CoordinatorType, ShardedRequest, Target};
use klamm_protocol::messages::leave_group_request::MemberIdentity;
use klamm_protocol::messages::{
    DeleteGroupsRequest, DeleteGroupsResponse, LeaveGroupRequest, LeaveGroupResponse,
};

use super::*;
use crate::results::settle;
use crate::{Admin, Results, WriteOutcome};

/// The planner and classifier of `delete_consumer_groups`: DeleteGroups to each coordinator,
/// every group it coordinates in one request.
struct DeleteGroupsShards;

impl ShardedRequest for DeleteGroupsShards {
    type Item = String;
    type Request = DeleteGroupsRequest;
    type Output = WriteOutcome;

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
    ) -> Vec<(String, Outcome<WriteOutcome>)> {
        response
            .results
            .iter()
            .map(|result| {
                let group = result.group_id.to_string();
                let outcome = group_outcome(
                    &group,
                    result.error_code,
                    result.error_message.as_ref(),
                    || WriteOutcome::Applied,
                );
                (group, outcome)
            })
            .collect()
    }

    fn describe(&self, group: &String) -> String {
        group_resource(group)
    }
}

/// The planner and classifier of `remove_members_from_consumer_group`: one LeaveGroup to the
/// group's coordinator naming every member.
struct LeaveGroupShards {
    group: String,
}

impl ShardedRequest for LeaveGroupShards {
    type Item = MemberToRemove;
    type Request = LeaveGroupRequest;
    type Output = WriteOutcome;

    fn route(&self, _: &MemberToRemove) -> Target {
        Target::Coordinator(CoordinatorType::Group, self.group.clone())
    }

    fn build(&self, _broker: i32, _version: i16, members: &[MemberToRemove]) -> LeaveGroupRequest {
        let identities = members.iter().map(|member| {
            let identity = MemberIdentity::default().with_reason(Some("removed by klamm".into()));
            match member {
                MemberToRemove::Static(instance) => identity
                    .with_member_id("".into())
                    .with_group_instance_id(Some(instance.as_str().into())),
                MemberToRemove::Dynamic(id) => identity
                    .with_member_id(id.as_str().into())
                    .with_group_instance_id(None),
            }
        });
        LeaveGroupRequest::default()
            .with_group_id(self.group.as_str().into())
            .with_members(identities.collect())
    }

    fn classify(
        &self,
        response: LeaveGroupResponse,
        _version: i16,
        members: &[MemberToRemove],
    ) -> Vec<(MemberToRemove, Outcome<WriteOutcome>)> {
        if response.error_code != 0 {
            // A group-level error answers every member.
            return members
                .iter()
                .map(|m| {
                    let outcome =
                        group_outcome(&self.group, response.error_code, None::<&str>, || {
                            WriteOutcome::Applied
                        });
                    (m.clone(), outcome)
                })
                .collect();
        }
        response
            .members
            .iter()
            .filter_map(|answer| {
                let member = members.iter().find(|m| match m {
                    MemberToRemove::Static(instance) => {
                        answer.group_instance_id.as_deref() == Some(instance.as_str())
                    }
                    MemberToRemove::Dynamic(id) => answer.member_id == id.as_str(),
                })?;
                let outcome = match ResponseError::check(answer.error_code) {
                    Ok(()) => Outcome::Done(WriteOutcome::Applied),
                    Err(error) => Outcome::Failed(error.with_resource(self.describe(member))),
                };
                Some((member.clone(), outcome))
            })
            .collect()
    }

    fn describe(&self, member: &MemberToRemove) -> String {
        format!("member {member:?} of {}", group_resource(&self.group))
    }
}

impl Admin {
    /// Deletes consumer groups (they must be empty), one result per group; the groups of one
    /// coordinator go in one DeleteGroups request.
    ///
    /// A group whose delete got no answer and whose retry finds it gone
    /// (`GROUP_ID_NOT_FOUND`) is [`WriteOutcome::ConfirmedAfterRetry`].
    pub async fn delete_consumer_groups(
        &self,
        groups: impl IntoIterator<Item = impl Into<String>>,
        options: DeleteConsumerGroupsOptions,
    ) -> Result<Results<String, WriteOutcome>, AdminError> {
        let groups: Vec<String> = groups.into_iter().map(Into::into).collect();
        let timeout = Some(self.timeout(options.timeout));
        let answers = self
            .cluster
            .sharded(&DeleteGroupsShards, groups, timeout)
            .await;
        let gone = |error: &ClusterError| error.error_code() == Some(ErrorCode::GroupIdNotFound);
        let mut settled = settle(answers, gone);
        for (group, error) in settled.doubtful {
            let result = match error.error_code() {
                Some(ErrorCode::GroupIdNotFound) => Ok(WriteOutcome::ConfirmedAfterRetry),
                _ => Err(error),
            };
            settled.results.insert(group, result);
        }
        Ok(settled.results)
    }

    /// Removes members from a classic group (LeaveGroup v3+), one result per member.
    ///
    /// A member whose removal got no answer and whose retry finds it gone
    /// (`UNKNOWN_MEMBER_ID`) is [`WriteOutcome::ConfirmedAfterRetry`].
    pub async fn remove_members_from_consumer_group(
        &self,
        group_id: impl Into<String>,
        members: impl IntoIterator<Item = impl Into<MemberToRemove>>,
        options: RemoveMembersOptions,
    ) -> Result<Results<MemberToRemove, WriteOutcome>, AdminError> {
        let shards = LeaveGroupShards {
            group: group_id.into(),
        };
        let timeout = Some(self.timeout(options.timeout));
        let members = members.into_iter().map(Into::into);
        let answers = self.cluster.sharded(&shards, members, timeout).await;
        let gone = |error: &ClusterError| error.error_code() == Some(ErrorCode::UnknownMemberId);
        let mut settled = settle(answers, gone);
        for (member, error) in settled.doubtful {
            let result = match error.error_code() {
                Some(ErrorCode::UnknownMemberId) => Ok(WriteOutcome::ConfirmedAfterRetry),
                _ => Err(error),
            };
            settled.results.insert(member, result);
        }
        Ok(settled.results)
    }
}
