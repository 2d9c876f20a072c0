//! ACL operations: `create_acls`, `describe_acls`, `delete_acls`, with typed [`AclBinding`]s
//! and [`AclBindingFilter`]s. Requests go to any broker (KRaft brokers forward them to the
//! controller).

use std::fmt;

use klamm_cluster::{Call, ResponseError, Target};
use klamm_protocol::messages::create_acls_request::AclCreation;
use klamm_protocol::messages::delete_acls_request::DeleteAclsFilter;
use klamm_protocol::messages::{CreateAclsRequest, DeleteAclsRequest, DescribeAclsRequest};
use serde::Serialize;

use crate::{AclOperation, Admin, AdminError, Results};

macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $code:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// The wire code.
            pub fn code(self) -> i8 {
                match self { $($name::$variant => $code),+ }
            }

            /// The value of a wire code (`Unknown` for codes this build does not know).
            pub fn from_code(code: i8) -> Self {
                match code { $($code => $name::$variant,)+ _ => $name::Unknown }
            }
        }
    };
}

wire_enum!(
    /// The type of resource an ACL protects.
    AclResourceType {
        /// A code this build does not know.
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
        /// A code this build does not know.
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
        /// A code this build does not know.
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
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
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
#[derive(Debug, Clone, Serialize)]
pub struct DeletedAcl {
    /// The binding.
    pub binding: AclBinding,
    /// Why this one was not deleted, if it was not.
    pub error: Option<AdminError>,
}

impl Admin {
    /// Creates ACLs, one result per binding.
    ///
    /// ```no_run
    /// # use klamm_admin::{AclBinding, AclOperation, AclResourceType, Admin, CallOptions};
    /// # async fn demo(admin: Admin) -> Result<(), klamm_admin::AdminError> {
    /// let acl = AclBinding::allow(AclResourceType::Topic, "orders", "User:alice", AclOperation::Read);
    /// let results = admin.create_acls(&[acl], CallOptions::default()).await?;
    /// assert!(results.all_ok());
    /// # Ok(()) }
    /// ```
    pub async fn create_acls(
        &self,
        bindings: &[AclBinding],
        options: crate::CallOptions,
    ) -> Result<Results<AclBinding, ()>, AdminError> {
        let mut results = Results::default();
        let mut valid = Vec::new();
        for binding in bindings {
            match binding.validate() {
                Ok(()) => valid.push(binding.clone()),
                Err(error) => results.insert(binding.clone(), Err(error)),
            }
        }
        if valid.is_empty() {
            return Ok(results);
        }
        let creations: Vec<AclCreation> = valid
            .iter()
            .map(|b| {
                AclCreation::default()
                    .with_resource_type(b.resource_type.code())
                    .with_resource_name(b.resource_name.as_str().into())
                    .with_resource_pattern_type(b.pattern_type.code())
                    .with_principal(b.principal.as_str().into())
                    .with_host(b.host.as_str().into())
                    .with_operation(b.operation.code())
                    .with_permission_type(b.permission.code())
            })
            .collect();
        let response = self
            .cluster
            .call(
                Call::new(Target::Any, move |_| {
                    CreateAclsRequest::default().with_creations(creations.clone())
                })
                .timeout(Some(self.timeout(options.timeout))),
            )
            .await;
        match response {
            Ok(response) => {
                // Results come back in request order.
                for (index, binding) in valid.into_iter().enumerate() {
                    let answer = response.results.get(index);
                    let result = AdminError::check_answer(
                        answer.map(|r| (r.error_code, r.error_message.as_ref())),
                        format!("ACL {binding}"),
                    );
                    results.insert(binding, result);
                }
            }
            Err(error) => {
                let error = AdminError::from(error);
                for binding in valid {
                    results.insert(binding, Err(error.clone()));
                }
            }
        }
        Ok(results)
    }

    /// The ACLs matching `filter`.
    pub async fn describe_acls(
        &self,
        filter: &AclBindingFilter,
        options: crate::CallOptions,
    ) -> Result<Vec<AclBinding>, AdminError> {
        let f = filter.to_request();
        let response = self
            .cluster
            .call(
                Call::new(Target::Any, move |_| {
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
                .timeout(Some(self.timeout(options.timeout))),
            )
            .await?;
        let mut bindings: Vec<AclBinding> = response
            .resources
            .iter()
            .flat_map(|resource| {
                resource.acls.iter().map(move |acl| AclBinding {
                    resource_type: AclResourceType::from_code(resource.resource_type),
                    resource_name: resource.resource_name.to_string(),
                    pattern_type: PatternType::from_code(resource.pattern_type),
                    principal: acl.principal.to_string(),
                    host: acl.host.to_string(),
                    operation: AclOperation::from_code(acl.operation),
                    permission: AclPermissionType::from_code(acl.permission_type),
                })
            })
            .collect();
        bindings.sort();
        Ok(bindings)
    }

    /// Deletes the ACLs matching each filter; one result per filter listing what it matched.
    pub async fn delete_acls(
        &self,
        filters: &[AclBindingFilter],
        options: crate::CallOptions,
    ) -> Result<Results<AclBindingFilter, Vec<DeletedAcl>>, AdminError> {
        let mut results = Results::default();
        if filters.is_empty() {
            return Ok(results);
        }
        let request_filters: Vec<DeleteAclsFilter> =
            filters.iter().map(AclBindingFilter::to_request).collect();
        let response = self
            .cluster
            .call(
                Call::new(Target::Any, move |_| {
                    DeleteAclsRequest::default().with_filters(request_filters.clone())
                })
                .timeout(Some(self.timeout(options.timeout))),
            )
            .await;
        match response {
            Ok(response) => {
                for (index, filter) in filters.iter().enumerate() {
                    let result = match response.filter_results.get(index) {
                        None => Err(AdminError::MissingInResponse {
                            resource: format!("ACL filter {index}"),
                        }),
                        Some(r) => AdminError::check(
                            r.error_code,
                            r.error_message.as_ref(),
                            format!("ACL filter {index}"),
                        )
                        .map(|()| {
                            r.matching_acls
                                .iter()
                                .map(|m| {
                                    let binding = AclBinding {
                                        resource_type: AclResourceType::from_code(m.resource_type),
                                        resource_name: m.resource_name.to_string(),
                                        pattern_type: PatternType::from_code(m.pattern_type),
                                        principal: m.principal.to_string(),
                                        host: m.host.to_string(),
                                        operation: AclOperation::from_code(m.operation),
                                        permission: AclPermissionType::from_code(m.permission_type),
                                    };
                                    let error = AdminError::from_code(
                                        m.error_code,
                                        m.error_message.as_ref(),
                                        format!("ACL {binding}"),
                                    );
                                    DeletedAcl { binding, error }
                                })
                                .collect()
                        }),
                    };
                    results.insert(filter.clone(), result);
                }
            }
            Err(error) => {
                let error = AdminError::from(error);
                for filter in filters {
                    results.insert(filter.clone(), Err(error.clone()));
                }
            }
        }
        Ok(results)
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
        assert_eq!(AclResourceType::from_code(42), AclResourceType::Unknown);
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
