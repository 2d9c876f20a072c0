//! ACL operations: `create_acls`, `describe_acls`, `delete_acls`, with typed [`AclBinding`]s
//! and [`AclBindingFilter`]s. Requests go to any broker (KRaft brokers forward them to the
//! controller).

use std::fmt;

use klamm_cluster::{Call, Outcome, ResponseError, ShardedRequest, Target};
use klamm_protocol::messages::create_acls_request::AclCreation;
use klamm_protocol::messages::delete_acls_request::DeleteAclsFilter;
use klamm_protocol::messages::{
    CreateAclsRequest, CreateAclsResponse, DeleteAclsRequest, DeleteAclsResponse,
    DescribeAclsRequest,
};

use crate::options::options;
use crate::{AclOperation, Admin, AdminError, Results, WriteOutcome};

macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $code:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize))]
        #[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
            /// A code this build does not know (from a newer broker), kept as sent.
            Other(i8),
        }

        impl $name {
            /// The wire code.
            pub fn code(self) -> i8 {
                match self { $($name::$variant => $code,)+ $name::Other(code) => code }
            }

            /// The value of a wire code (codes this build does not know are kept as `Other`).
            pub fn from_code(code: i8) -> Self {
                match code { $($code => $name::$variant,)+ other => $name::Other(other) }
            }
        }
    };
}

wire_enum!(
    /// The type of resource an ACL protects.
    AclResourceType {
        /// Kafka's `UNKNOWN`.
        Unknown = 0,
        /// Any type (filters only).
        Any = 1,
        /// Topic.
        Topic = 2,
        /// Group.
        Group = 3,
        /// The cluster (name `kafka-cluster`).
        Cluster = 4,
        /// Transactional id.
        TransactionalId = 5,
        /// Delegation token.
        DelegationToken = 6,
        /// User (for token and quota operations).
        User = 7,
    }
);

wire_enum!(
    /// How an ACL's resource name matches.
    PatternType {
        /// Kafka's `UNKNOWN`.
        Unknown = 0,
        /// Any pattern type (filters only).
        Any = 1,
        /// Every binding that would apply to the named resource: literal, `*` and matching
        /// prefixes (filters only).
        Match = 2,
        /// The exact name (or `*` for all).
        Literal = 3,
        /// Names starting with the given prefix.
        Prefixed = 4,
    }
);

wire_enum!(
    /// Allow or deny.
    AclPermissionType {
        /// Kafka's `UNKNOWN`.
        Unknown = 0,
        /// Either (filters only).
        Any = 1,
        /// Deny.
        Deny = 2,
        /// Allow.
        Allow = 3,
    }
);

/// One ACL: `principal` is `permission`ed `operation` on a resource from `host`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct AclBinding {
    /// Resource type.
    pub resource_type: AclResourceType,
    /// Resource name (`*` for all, `kafka-cluster` for the cluster).
    pub resource_name: String,
    /// How the name matches (`Literal` or `Prefixed`).
    pub pattern_type: PatternType,
    /// Principal, e.g. `User:alice`.
    pub principal: String,
    /// Host, `*` for any.
    pub host: String,
    /// Operation.
    pub operation: AclOperation,
    /// Allow or deny.
    pub permission: AclPermissionType,
}

impl AclBinding {
    /// Allows `principal` to do `operation` on the literal resource, from any host.
    pub fn allow(
        resource_type: AclResourceType,
        resource_name: impl Into<String>,
        principal: impl Into<String>,
        operation: AclOperation,
    ) -> Self {
        AclBinding {
            resource_type,
            resource_name: resource_name.into(),
            pattern_type: PatternType::Literal,
            principal: principal.into(),
            host: "*".into(),
            operation,
            permission: AclPermissionType::Allow,
        }
    }

    /// The filter matching exactly this binding.
    pub fn to_filter(&self) -> AclBindingFilter {
        AclBindingFilter {
            resource_type: self.resource_type,
            resource_name: Some(self.resource_name.clone()),
            pattern_type: self.pattern_type,
            principal: Some(self.principal.clone()),
            host: Some(self.host.clone()),
            operation: self.operation,
            permission: self.permission,
        }
    }

    fn validate(&self) -> Result<(), AdminError> {
        if matches!(
            self.resource_type,
            AclResourceType::Any | AclResourceType::Unknown
        ) || matches!(
            self.pattern_type,
            PatternType::Any | PatternType::Match | PatternType::Unknown
        ) || matches!(self.operation, AclOperation::Any | AclOperation::Unknown)
            || matches!(
                self.permission,
                AclPermissionType::Any | AclPermissionType::Unknown
            )
        {
            return Err(AdminError::invalid(format!(
                "{self}: a binding needs a concrete resource type, LITERAL or PREFIXED pattern, operation and permission (ANY/MATCH are for filters)"
            )));
        }
        if self.resource_name.is_empty() || self.principal.is_empty() || self.host.is_empty() {
            return Err(AdminError::invalid(format!(
                "{self}: empty resource name, principal or host"
            )));
        }
        Ok(())
    }
}

impl fmt::Display for AclBinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} {} {:?} on {:?} `{}` ({:?}) from {}",
            self.permission,
            self.principal,
            self.operation,
            self.resource_type,
            self.resource_name,
            self.pattern_type,
            self.host
        )
    }
}

/// A filter over ACLs: `None` and the `Any` variants match everything.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct AclBindingFilter {
    /// Resource type.
    pub resource_type: AclResourceType,
    /// Resource name.
    pub resource_name: Option<String>,
    /// Pattern type (`Match` finds every binding that applies to `resource_name`).
    pub pattern_type: PatternType,
    /// Principal.
    pub principal: Option<String>,
    /// Host.
    pub host: Option<String>,
    /// Operation.
    pub operation: AclOperation,
    /// Permission.
    pub permission: AclPermissionType,
}

impl From<&AclBindingFilter> for AclBindingFilter {
    fn from(value: &AclBindingFilter) -> Self {
        value.clone()
    }
}

impl From<&AclBinding> for AclBinding {
    fn from(value: &AclBinding) -> Self {
        value.clone()
    }
}

impl From<&AclBinding> for AclBindingFilter {
    fn from(binding: &AclBinding) -> Self {
        binding.to_filter()
    }
}

impl AclBindingFilter {
    /// Matches every ACL.
    pub fn any() -> Self {
        AclBindingFilter {
            resource_type: AclResourceType::Any,
            resource_name: None,
            pattern_type: PatternType::Any,
            principal: None,
            host: None,
            operation: AclOperation::Any,
            permission: AclPermissionType::Any,
        }
    }

    fn to_request(&self) -> DeleteAclsFilter {
        DeleteAclsFilter::default()
            .with_resource_type_filter(self.resource_type.code())
            .with_resource_name_filter(self.resource_name.as_deref().map(Into::into))
            .with_pattern_type_filter(self.pattern_type.code())
            .with_principal_filter(self.principal.as_deref().map(Into::into))
            .with_host_filter(self.host.as_deref().map(Into::into))
            .with_operation(self.operation.code())
            .with_permission_type(self.permission.code())
    }
}

/// One ACL a delete filter matched.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct DeletedAcl {
    /// The binding.
    pub binding: AclBinding,
    /// Why this one was not deleted, if it was not.
    pub error: Option<AdminError>,
}

options! {
    /// Options of [`Admin::create_acls`].
    pub struct CreateAclsOptions {}
}

options! {
    /// Options of [`Admin::describe_acls`].
    pub struct DescribeAclsOptions {}
}

options! {
    /// Options of [`Admin::delete_acls`].
    pub struct DeleteAclsOptions {}
}

/// What a delete filter matched.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct DeletedAcls {
    /// The bindings the broker matched (each with its own error, if it was not deleted).
    pub deleted: Vec<DeletedAcl>,
    /// [`WriteOutcome::ConfirmedAfterRetry`] when an earlier attempt got no answer: it may
    /// have deleted bindings this answer no longer lists.
    pub outcome: WriteOutcome,
}

/// A binding from a response's fields.
fn binding(
    resource_type: i8,
    resource_name: &str,
    pattern_type: i8,
    principal: &str,
    host: &str,
    operation: i8,
    permission: i8,
) -> AclBinding {
    AclBinding {
        resource_type: AclResourceType::from_code(resource_type),
        resource_name: resource_name.to_owned(),
        pattern_type: PatternType::from_code(pattern_type),
        principal: principal.to_owned(),
        host: host.to_owned(),
        operation: AclOperation::from_code(operation),
        permission: AclPermissionType::from_code(permission),
    }
}

/// An ACL answer's outcome: answers come back in request order, one per binding or filter.
fn acl_outcome<T>(
    code: i16,
    message: Option<impl ToString>,
    resource: String,
    value: impl FnOnce() -> T,
) -> Outcome<T> {
    match ResponseError::check(code) {
        Ok(()) => Outcome::Done(value()),
        Err(error) => Outcome::Failed(error.with_message(message).with_resource(resource)),
    }
}

/// The planner and classifier of `create_acls`: the bindings in one CreateAcls request to any
/// broker (KRaft brokers forward it to the controller).
struct CreateAclsShards;

impl ShardedRequest for CreateAclsShards {
    type Item = AclBinding;
    type Request = CreateAclsRequest;
    type Output = WriteOutcome;

    fn route(&self, _: &AclBinding) -> Target {
        Target::Any
    }

    fn build(&self, _broker: i32, _version: i16, bindings: &[AclBinding]) -> CreateAclsRequest {
        let creations = bindings.iter().map(|b| {
            AclCreation::default()
                .with_resource_type(b.resource_type.code())
                .with_resource_name(b.resource_name.as_str().into())
                .with_resource_pattern_type(b.pattern_type.code())
                .with_principal(b.principal.as_str().into())
                .with_host(b.host.as_str().into())
                .with_operation(b.operation.code())
                .with_permission_type(b.permission.code())
        });
        CreateAclsRequest::default().with_creations(creations.collect())
    }

    fn classify(
        &self,
        response: CreateAclsResponse,
        _version: i16,
        bindings: &[AclBinding],
    ) -> Vec<(AclBinding, Outcome<WriteOutcome>)> {
        bindings
            .iter()
            .zip(&response.results)
            .map(|(binding, answer)| {
                let outcome = acl_outcome(
                    answer.error_code,
                    answer.error_message.as_ref(),
                    format!("ACL {binding}"),
                    || WriteOutcome::Applied,
                );
                (binding.clone(), outcome)
            })
            .collect()
    }

    fn describe(&self, binding: &AclBinding) -> String {
        format!("ACL {binding}")
    }
}

/// The planner and classifier of `delete_acls`: the filters in one DeleteAcls request.
struct DeleteAclsShards;

impl ShardedRequest for DeleteAclsShards {
    type Item = AclBindingFilter;
    type Request = DeleteAclsRequest;
    type Output = Vec<DeletedAcl>;

    fn route(&self, _: &AclBindingFilter) -> Target {
        Target::Any
    }

    fn build(
        &self,
        _broker: i32,
        _version: i16,
        filters: &[AclBindingFilter],
    ) -> DeleteAclsRequest {
        DeleteAclsRequest::default()
            .with_filters(filters.iter().map(AclBindingFilter::to_request).collect())
    }

    fn classify(
        &self,
        response: DeleteAclsResponse,
        _version: i16,
        filters: &[AclBindingFilter],
    ) -> Vec<(AclBindingFilter, Outcome<Vec<DeletedAcl>>)> {
        filters
            .iter()
            .zip(&response.filter_results)
            .map(|(filter, answer)| {
                let deleted = || {
                    answer
                        .matching_acls
                        .iter()
                        .map(|m| {
                            let binding = binding(
                                m.resource_type,
                                &m.resource_name,
                                m.pattern_type,
                                &m.principal,
                                &m.host,
                                m.operation,
                                m.permission_type,
                            );
                            let error = AdminError::from_code(
                                m.error_code,
                                m.error_message.as_ref(),
                                format!("ACL {binding}"),
                            );
                            DeletedAcl { binding, error }
                        })
                        .collect()
                };
                let outcome = acl_outcome(
                    answer.error_code,
                    answer.error_message.as_ref(),
                    format!("ACL filter {filter:?}"),
                    deleted,
                );
                (filter.clone(), outcome)
            })
            .collect()
    }

    fn describe(&self, filter: &AclBindingFilter) -> String {
        format!("ACL filter {filter:?}")
    }
}

impl Admin {
    /// Creates ACLs, one result per binding.
    ///
    /// ```no_run
    /// # use klamm_admin::{AclBinding, AclOperation, AclResourceType, Admin, CreateAclsOptions};
    /// # async fn demo(admin: Admin) -> Result<(), klamm_admin::AdminError> {
    /// let acl = AclBinding::allow(AclResourceType::Topic, "orders", "User:alice", AclOperation::Read);
    /// let results = admin.create_acls([acl], CreateAclsOptions::default()).await?;
    /// assert!(results.all_ok());
    /// # Ok(()) }
    /// ```
    ///
    /// Creating a binding that exists succeeds (Kafka's CreateAcls is idempotent), so a retry
    /// after an unanswered attempt needs no read-back.
    pub async fn create_acls(
        &self,
        bindings: impl IntoIterator<Item = impl Into<AclBinding>>,
        options: CreateAclsOptions,
    ) -> Result<Results<AclBinding, WriteOutcome>, AdminError> {
        let mut results = Results::default();
        let mut valid = Vec::new();
        for binding in bindings.into_iter().map(Into::into) {
            match binding.validate() {
                Ok(()) => valid.push(binding),
                Err(error) => results.insert(binding, Err(error)),
            }
        }
        let timeout = Some(self.timeout(options.timeout));
        let answers = self
            .cluster
            .sharded(&CreateAclsShards, valid, timeout)
            .await;
        results.0.extend(Results::from_items(answers).0);
        Ok(results)
    }

    /// The ACLs matching `filter`.
    pub async fn describe_acls(
        &self,
        filter: impl Into<AclBindingFilter>,
        options: DescribeAclsOptions,
    ) -> Result<Vec<AclBinding>, AdminError> {
        let f = filter.into().to_request();
        let describe = Call::new(Target::Any, move |_| {
            DescribeAclsRequest::default()
                .with_resource_type_filter(f.resource_type_filter)
                .with_resource_name_filter(f.resource_name_filter.clone())
                .with_pattern_type_filter(f.pattern_type_filter)
                .with_principal_filter(f.principal_filter.clone())
                .with_host_filter(f.host_filter.clone())
                .with_operation(f.operation)
                .with_permission_type(f.permission_type)
        })
        .classify(|response| {
            ResponseError::check(response.error_code).map_err(|e| {
                e.with_message(response.error_message.as_ref())
                    .with_resource("ACLs")
            })
        })
        .timeout(self.timeout(options.timeout));
        let response = self.cluster.call(describe).await?;
        let mut bindings: Vec<AclBinding> = response
            .resources
            .iter()
            .flat_map(|resource| {
                resource.acls.iter().map(move |acl| {
                    binding(
                        resource.resource_type,
                        &resource.resource_name,
                        resource.pattern_type,
                        &acl.principal,
                        &acl.host,
                        acl.operation,
                        acl.permission_type,
                    )
                })
            })
            .collect();
        bindings.sort();
        Ok(bindings)
    }

    /// Deletes the ACLs matching each filter; one result per filter listing what it matched.
    pub async fn delete_acls(
        &self,
        filters: impl IntoIterator<Item = impl Into<AclBindingFilter>>,
        options: DeleteAclsOptions,
    ) -> Result<Results<AclBindingFilter, DeletedAcls>, AdminError> {
        let timeout = Some(self.timeout(options.timeout));
        let filters = filters.into_iter().map(Into::into);
        let answers = self
            .cluster
            .sharded(&DeleteAclsShards, filters, timeout)
            .await;
        Ok(answers
            .into_iter()
            .map(|(filter, answer)| {
                let outcome = match answer.may_have_applied {
                    true => WriteOutcome::ConfirmedAfterRetry,
                    false => WriteOutcome::Applied,
                };
                let result = answer
                    .result
                    .map(|deleted| DeletedAcls { deleted, outcome })
                    .map_err(AdminError::from);
                (filter, result)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_codes_match_kafka() {
        assert_eq!(AclResourceType::Topic.code(), 2);
        assert_eq!(PatternType::Prefixed.code(), 4);
        assert_eq!(PatternType::from_code(2), PatternType::Match);
        assert_eq!(AclPermissionType::Allow.code(), 3);
        assert_eq!(AclResourceType::from_code(42), AclResourceType::Other(42));
        assert_eq!(AclResourceType::Other(42).code(), 42);
    }

    #[test]
    fn bindings_with_filter_only_values_are_rejected() {
        let mut binding =
            AclBinding::allow(AclResourceType::Topic, "t", "User:a", AclOperation::Read);
        assert!(binding.validate().is_ok());
        binding.pattern_type = PatternType::Match;
        assert!(binding.validate().is_err());
    }

    #[test]
    fn filter_of_binding_matches_it_exactly() {
        let binding = AclBinding::allow(
            AclResourceType::Group,
            "g",
            "User:a",
            AclOperation::Describe,
        );
        let request = binding.to_filter().to_request();
        assert_eq!(request.resource_type_filter, 3);
        assert_eq!(request.pattern_type_filter, 3);
        assert_eq!(request.principal_filter.as_deref(), Some("User:a"));
        assert_eq!(request.operation, 8);
        let any = AclBindingFilter::any().to_request();
        assert_eq!(
            (
                any.resource_type_filter,
                any.pattern_type_filter,
                any.operation
            ),
            (1, 1, 1)
        );
        assert!(any.resource_name_filter.is_none());
    }
}
