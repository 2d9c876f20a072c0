//! `klamm acl …`: create, list and delete ACLs.

use clap::{Args, Subcommand, ValueEnum};
use klamm_admin::{
    AclBinding, AclBindingFilter, AclOperation, AclPermissionType, AclResourceType, PatternType,
};

use super::Context;
use crate::output::{label, print_json, report_batch, Failure, Status, Table};

/// ACL commands.
#[derive(Debug, Subcommand)]
pub enum AclCommand {
    /// Create ACLs: each principal × each operation on the resource.
    #[command(after_help = "\
Examples:
  klamm acl create --allow-principal User:alice --operation read --operation describe --topic orders
  klamm acl create --allow-principal User:etl --operation write --topic raw- --pattern prefixed
  klamm acl create --deny-principal User:mallory --operation all --cluster")]
    Create(Change),
    /// List ACLs matching the given filters (all ACLs without any).
    #[command(after_help = "\
Examples:
  klamm acl list
  klamm acl list --topic orders --pattern match -o json")]
    List(Filter),
    /// Delete the ACLs matching the filters; a resource is required.
    #[command(after_help = "\
Example:
  klamm acl delete --allow-principal User:alice --operation read --topic orders")]
    Delete(Change),
}

/// Principals, operations, host and resource of a create or delete.
#[derive(Debug, Args)]
pub struct Change {
    /// Principal to allow, e.g. `User:alice`, repeatable.
    #[arg(long, value_name = "PRINCIPAL")]
    allow_principal: Vec<String>,
    /// Principal to deny, repeatable.
    #[arg(long, value_name = "PRINCIPAL")]
    deny_principal: Vec<String>,
    /// Operation, repeatable (create: at least one; delete: any operation if none).
    #[arg(long, value_enum)]
    operation: Vec<Operation>,
    /// Host the principal connects from (`*` for any).
    #[arg(long, default_value = "*")]
    host: String,
    /// The resource.
    #[command(flatten)]
    resource: Resource,
    /// How the resource name matches.
    #[arg(long, value_enum, default_value = "literal")]
    pattern: Pattern,
}

/// Optional filters of a listing.
#[derive(Debug, Args)]
pub struct Filter {
    /// Only this principal.
    #[arg(long)]
    principal: Option<String>,
    /// Only this operation.
    #[arg(long, value_enum)]
    operation: Option<Operation>,
    /// Only this host.
    #[arg(long)]
    host: Option<String>,
    /// The resource, if any.
    #[command(flatten)]
    resource: OptionalResource,
    /// How the resource name matches (`match`: every ACL that applies to the name).
    #[arg(long, value_enum, default_value = "any")]
    pattern: Pattern,
}

/// Exactly one resource.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct Resource {
    /// A topic (or prefix).
    #[arg(long, value_name = "NAME")]
    topic: Option<String>,
    /// A consumer group (or prefix).
    #[arg(long, value_name = "NAME")]
    group: Option<String>,
    /// The cluster.
    #[arg(long)]
    cluster: bool,
    /// A transactional id (or prefix).
    #[arg(long, value_name = "ID")]
    transactional_id: Option<String>,
}

/// At most one resource.
#[derive(Debug, Args)]
#[group(required = false, multiple = false)]
pub struct OptionalResource {
    /// A topic.
    #[arg(long, value_name = "NAME")]
    topic: Option<String>,
    /// A consumer group.
    #[arg(long, value_name = "NAME")]
    group: Option<String>,
    /// The cluster.
    #[arg(long)]
    cluster: bool,
    /// A transactional id.
    #[arg(long, value_name = "ID")]
    transactional_id: Option<String>,
}

fn resource(
    topic: &Option<String>,
    group: &Option<String>,
    cluster: bool,
    transactional_id: &Option<String>,
) -> Option<(AclResourceType, String)> {
    match (topic, group, cluster, transactional_id) {
        (Some(name), ..) => Some((AclResourceType::Topic, name.clone())),
        (_, Some(name), ..) => Some((AclResourceType::Group, name.clone())),
        (_, _, true, _) => Some((AclResourceType::Cluster, "kafka-cluster".to_owned())),
        (.., Some(id)) => Some((AclResourceType::TransactionalId, id.clone())),
        _ => None,
    }
}

/// An ACL operation.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Operation {
    /// Every operation.
    All,
    /// Read.
    Read,
    /// Write.
    Write,
    /// Create.
    Create,
    /// Delete.
    Delete,
    /// Alter.
    Alter,
    /// Describe.
    Describe,
    /// Cluster action.
    ClusterAction,
    /// Describe configs.
    DescribeConfigs,
    /// Alter configs.
    AlterConfigs,
    /// Idempotent write.
    IdempotentWrite,
}

impl From<Operation> for AclOperation {
    fn from(operation: Operation) -> Self {
        match operation {
            Operation::All => AclOperation::All,
            Operation::Read => AclOperation::Read,
            Operation::Write => AclOperation::Write,
            Operation::Create => AclOperation::Create,
            Operation::Delete => AclOperation::Delete,
            Operation::Alter => AclOperation::Alter,
            Operation::Describe => AclOperation::Describe,
            Operation::ClusterAction => AclOperation::ClusterAction,
            Operation::DescribeConfigs => AclOperation::DescribeConfigs,
            Operation::AlterConfigs => AclOperation::AlterConfigs,
            Operation::IdempotentWrite => AclOperation::IdempotentWrite,
        }
    }
}

/// How a resource name matches.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Pattern {
    /// The exact name.
    Literal,
    /// Names starting with it.
    Prefixed,
    /// Literal or prefixed (filters only).
    Any,
    /// Every ACL that applies to the name: literal, `*` and prefixes (filters only).
    Match,
}

impl From<Pattern> for PatternType {
    fn from(pattern: Pattern) -> Self {
        match pattern {
            Pattern::Literal => PatternType::Literal,
            Pattern::Prefixed => PatternType::Prefixed,
            Pattern::Any => PatternType::Any,
            Pattern::Match => PatternType::Match,
        }
    }
}

/// Runs an ACL command.
pub async fn run(context: &Context, command: AclCommand) -> Result<Status, Failure> {
    let timeout = context.timeout;
    match command {
        AclCommand::Create(change) => {
            let bindings = bindings(&change)?;
            let results = context
                .admin
                .create_acls(
                    &bindings,
                    klamm_admin::CreateAclsOptions::default().timeout(timeout),
                )
                .await
                .map_err(|e| Failure::admin("creating ACLs", &e))?;
            if context.json() {
                print_json(&results)?;
            } else {
                print_bindings(results.iter().filter(|(_, r)| r.is_ok()).map(|(b, _)| b));
            }
            Ok(report_batch(&results, |b| format!("ACL {b}")))
        }
        AclCommand::List(filter) => {
            let filter = list_filter(&filter);
            let bindings = context
                .admin
                .describe_acls(
                    &filter,
                    klamm_admin::DescribeAclsOptions::default().timeout(timeout),
                )
                .await
                .map_err(|e| Failure::admin("listing ACLs", &e))?;
            if context.json() {
                print_json(&bindings)?;
            } else {
                print_bindings(bindings.iter());
            }
            Ok(Status::Success)
        }
        AclCommand::Delete(change) => {
            let filters = delete_filters(&change);
            let results = context
                .admin
                .delete_acls(
                    &filters,
                    klamm_admin::DeleteAclsOptions::default().timeout(timeout),
                )
                .await
                .map_err(|e| Failure::admin("deleting ACLs", &e))?;
            if context.json() {
                print_json(&results)?;
            } else {
                let deleted = results
                    .values()
                    .filter_map(|r| r.as_ref().ok())
                    .flat_map(|d| &d.deleted)
                    .filter(|d| d.error.is_none())
                    .map(|d| &d.binding);
                print_bindings(deleted);
            }
            Ok(report_batch(&results, |_| "ACL filter".to_owned()))
        }
    }
}

fn principals(change: &Change) -> Vec<(String, AclPermissionType)> {
    let allow = change
        .allow_principal
        .iter()
        .map(|p| (p.clone(), AclPermissionType::Allow));
    let deny = change
        .deny_principal
        .iter()
        .map(|p| (p.clone(), AclPermissionType::Deny));
    allow.chain(deny).collect()
}

fn change_resource(change: &Change) -> (AclResourceType, String) {
    let r = &change.resource;
    resource(&r.topic, &r.group, r.cluster, &r.transactional_id)
        .expect("clap requires exactly one resource")
}

fn bindings(change: &Change) -> Result<Vec<AclBinding>, Failure> {
    let principals = principals(change);
    if principals.is_empty() || change.operation.is_empty() {
        return Err(Failure::new(
            "acl create",
            "give at least one --allow-principal/--deny-principal and one --operation",
        ));
    }
    let (resource_type, resource_name) = change_resource(change);
    let mut bindings = Vec::new();
    for (principal, permission) in &principals {
        for operation in &change.operation {
            bindings.push(AclBinding {
                resource_type,
                resource_name: resource_name.clone(),
                pattern_type: change.pattern.into(),
                principal: principal.clone(),
                host: change.host.clone(),
                operation: (*operation).into(),
                permission: *permission,
            });
        }
    }
    Ok(bindings)
}

fn delete_filters(change: &Change) -> Vec<AclBindingFilter> {
    let (resource_type, resource_name) = change_resource(change);
    let base = AclBindingFilter {
        resource_type,
        resource_name: Some(resource_name),
        pattern_type: change.pattern.into(),
        host: Some(change.host.clone()).filter(|h| h != "*"),
        ..AclBindingFilter::any()
    };
    let principals: Vec<(Option<String>, AclPermissionType)> = match principals(change) {
        p if p.is_empty() => vec![(None, AclPermissionType::Any)],
        p => p.into_iter().map(|(n, t)| (Some(n), t)).collect(),
    };
    let operations: Vec<AclOperation> = match change.operation.as_slice() {
        [] => vec![AclOperation::Any],
        ops => ops.iter().map(|o| (*o).into()).collect(),
    };
    let mut filters = Vec::new();
    for (principal, permission) in &principals {
        for operation in &operations {
            filters.push(AclBindingFilter {
                principal: principal.clone(),
                permission: *permission,
                operation: *operation,
                ..base.clone()
            });
        }
    }
    filters
}

fn list_filter(filter: &Filter) -> AclBindingFilter {
    let r = &filter.resource;
    let (resource_type, resource_name) =
        match resource(&r.topic, &r.group, r.cluster, &r.transactional_id) {
            Some((kind, name)) => (kind, Some(name)),
            None => (AclResourceType::Any, None),
        };
    AclBindingFilter {
        resource_type,
        resource_name,
        pattern_type: filter.pattern.into(),
        principal: filter.principal.clone(),
        host: filter.host.clone(),
        operation: filter.operation.map_or(AclOperation::Any, Into::into),
        permission: AclPermissionType::Any,
    }
}

fn print_bindings<'a>(bindings: impl Iterator<Item = &'a AclBinding>) {
    let mut table = Table::new(&[
        "PRINCIPAL",
        "PERMISSION",
        "OPERATION",
        "HOST",
        "RESOURCE",
        "NAME",
        "PATTERN",
    ]);
    for b in bindings {
        table.row(vec![
            b.principal.clone(),
            label(&b.permission),
            label(&b.operation),
            b.host.clone(),
            label(&b.resource_type),
            b.resource_name.clone(),
            label(&b.pattern_type),
        ]);
    }
    table.print();
}
