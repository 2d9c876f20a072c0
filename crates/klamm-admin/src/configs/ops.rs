//! The describe and alter calls, each a sharded request over config resources: BROKER and
//! BROKER_LOGGER resources go to that broker, the rest to any broker; the resources of one
//! broker share a request.

use std::collections::BTreeMap;

use klamm_cluster::{Outcome, ResponseError, ShardedRequest, Target};
use klamm_protocol::messages::{
    alter_configs_request, describe_configs_request, describe_configs_response,
    incremental_alter_configs_request, AlterConfigsRequest, AlterConfigsResponse,
    DescribeConfigsRequest, DescribeConfigsResponse, IncrementalAlterConfigsRequest,
    IncrementalAlterConfigsResponse,
};
use klamm_protocol::primitives::KafkaString;

use super::*;
use crate::{Admin, AdminError, Results, WriteOutcome};

/// The resource a response entry answers.
fn answered(resource_type: i8, name: &KafkaString) -> ConfigResource {
    ConfigResource {
        resource_type: ConfigResourceType::from_code(resource_type),
        name: name.to_string(),
    }
}

/// A resource's outcome from its error code and message.
fn resource_outcome<T>(
    resource: &ConfigResource,
    code: i16,
    message: Option<&KafkaString>,
    value: impl FnOnce() -> T,
) -> Outcome<T> {
    match ResponseError::check(code) {
        Ok(()) => Outcome::Done(value()),
        Err(error) => {
            let error = error
                .with_message(message)
                .with_resource(resource.to_string());
            Outcome::Failed(error)
        }
    }
}

/// Where each resource goes, and the resources that cannot be routed (a broker resource
/// whose name is not a broker id).
fn routed(
    resources: impl IntoIterator<Item = ConfigResource>,
) -> (Vec<ConfigResource>, Vec<(ConfigResource, AdminError)>) {
    let mut valid = Vec::new();
    let mut invalid = Vec::new();
    for resource in resources {
        match resource.target() {
            Ok(_) => valid.push(resource),
            Err(error) => invalid.push((resource, error)),
        }
    }
    (valid, invalid)
}

fn entry(c: &describe_configs_response::DescribeConfigsResourceResult) -> ConfigEntry {
    let source = ConfigSource::from_code(c.config_source);
    ConfigEntry {
        name: c.name.to_string(),
        value: c.value.as_ref().map(|v| v.to_string()),
        source,
        is_default: source == ConfigSource::DefaultConfig,
        is_read_only: c.read_only,
        is_sensitive: c.is_sensitive,
        synonyms: c
            .synonyms
            .iter()
            .map(|s| ConfigSynonym {
                name: s.name.to_string(),
                value: s.value.as_ref().map(|v| v.to_string()),
                source: ConfigSource::from_code(s.source),
            })
            .collect(),
        config_type: (c.config_type != 0).then(|| ConfigType::from_code(c.config_type)),
        documentation: c.documentation.as_ref().map(|d| d.to_string()),
    }
}

/// The planner and classifier of `describe_configs`.
struct DescribeConfigsShards<'a> {
    options: &'a DescribeConfigsOptions,
}

impl ShardedRequest for DescribeConfigsShards<'_> {
    type Item = ConfigResource;
    type Request = DescribeConfigsRequest;
    type Output = Vec<ConfigEntry>;

    fn route(&self, resource: &ConfigResource) -> Target {
        resource.target().unwrap_or(Target::Any)
    }

    fn build(
        &self,
        _broker: i32,
        _version: i16,
        resources: &[ConfigResource],
    ) -> DescribeConfigsRequest {
        let names = self
            .options
            .names
            .as_ref()
            .map(|names| names.iter().map(|n| n.as_str().into()).collect::<Vec<_>>());
        let entries = resources.iter().map(|r| {
            describe_configs_request::DescribeConfigsResource::default()
                .with_resource_type(r.resource_type.code())
                .with_resource_name(r.name.as_str().into())
                .with_configuration_keys(names.clone())
        });
        DescribeConfigsRequest::default()
            .with_resources(entries.collect())
            .with_include_synonyms(self.options.include_synonyms)
            .with_include_documentation(self.options.include_documentation)
    }

    fn classify(
        &self,
        response: DescribeConfigsResponse,
        _version: i16,
        _resources: &[ConfigResource],
    ) -> Vec<(ConfigResource, Outcome<Vec<ConfigEntry>>)> {
        response
            .results
            .iter()
            .map(|r| {
                let resource = answered(r.resource_type, &r.resource_name);
                let outcome =
                    resource_outcome(&resource, r.error_code, r.error_message.as_ref(), || {
                        r.configs.iter().map(entry).collect()
                    });
                (resource, outcome)
            })
            .collect()
    }

    fn describe(&self, resource: &ConfigResource) -> String {
        resource.to_string()
    }
}

/// The planner and classifier of `incremental_alter_configs` and `alter_configs`: `build`
/// makes one request for a broker's resources, `answers` reads each resource's error.
struct AlterConfigsShards<R, B, A> {
    build: B,
    answers: A,
    validate_only: bool,
    _request: std::marker::PhantomData<fn() -> R>,
}

impl<R, B, A> ShardedRequest for AlterConfigsShards<R, B, A>
where
    R: klamm_protocol::Request + Send + Sync,
    R::Response: Send,
    B: Fn(&[ConfigResource]) -> R + Send + Sync,
    A: Fn(&R::Response) -> Vec<(ConfigResource, i16, Option<KafkaString>)> + Send + Sync,
{
    type Item = ConfigResource;
    type Request = R;
    type Output = WriteOutcome;

    fn route(&self, resource: &ConfigResource) -> Target {
        resource.target().unwrap_or(Target::Any)
    }

    fn build(&self, _broker: i32, _version: i16, resources: &[ConfigResource]) -> R {
        (self.build)(resources)
    }

    fn classify(
        &self,
        response: R::Response,
        _version: i16,
        _resources: &[ConfigResource],
    ) -> Vec<(ConfigResource, Outcome<WriteOutcome>)> {
        let done = match self.validate_only {
            true => WriteOutcome::Validated,
            false => WriteOutcome::Applied,
        };
        (self.answers)(&response)
            .into_iter()
            .map(|(resource, code, message)| {
                let outcome = resource_outcome(&resource, code, message.as_ref(), || done);
                (resource, outcome)
            })
            .collect()
    }

    fn describe(&self, resource: &ConfigResource) -> String {
        resource.to_string()
    }
}

impl Admin {
    /// Describes the configs of resources, one result per resource; BROKER and
    /// BROKER_LOGGER resources are asked of that broker.
    ///
    /// ```no_run
    /// # use klamm_admin::{Admin, ConfigResource, DescribeConfigsOptions};
    /// # async fn demo(admin: Admin) -> Result<(), klamm_admin::AdminError> {
    /// let described = admin
    ///     .describe_configs([ConfigResource::topic("orders")], DescribeConfigsOptions::default())
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn describe_configs(
        &self,
        resources: impl IntoIterator<Item = impl Into<ConfigResource>>,
        options: DescribeConfigsOptions,
    ) -> Result<Results<ConfigResource, Vec<ConfigEntry>>, AdminError> {
        let (valid, invalid) = routed(resources.into_iter().map(Into::into));
        let shards = DescribeConfigsShards { options: &options };
        let timeout = Some(self.timeout(options.timeout));
        let answers = self.cluster.sharded(&shards, valid, timeout).await;
        let mut results = Results::from_items(answers);
        for (resource, error) in invalid {
            results.insert(resource, Err(error));
        }
        Ok(results)
    }

    /// Changes configs with IncrementalAlterConfigs (Kafka 2.3+): set, delete, append to and
    /// subtract from list values, one result per resource. Setting a value again is
    /// idempotent, so a retry needs no read-back.
    pub async fn incremental_alter_configs(
        &self,
        changes: impl IntoIterator<Item = (ConfigResource, Vec<AlterConfigOp>)>,
        options: AlterConfigsOptions,
    ) -> Result<Results<ConfigResource, WriteOutcome>, AdminError> {
        let changes: BTreeMap<ConfigResource, Vec<AlterConfigOp>> = changes.into_iter().collect();
        let validate_only = options.validate_only;
        let build = |resources: &[ConfigResource]| {
            let entries = resources.iter().map(|r| {
                incremental_alter_configs_request::AlterConfigsResource::default()
                    .with_resource_type(r.resource_type.code())
                    .with_resource_name(r.name.as_str().into())
                    .with_configs(changes[r].iter().map(AlterConfigOp::to_request).collect())
            });
            IncrementalAlterConfigsRequest::default()
                .with_resources(entries.collect())
                .with_validate_only(validate_only)
        };
        let answers = |response: &IncrementalAlterConfigsResponse| {
            let answer = |x: &klamm_protocol::messages::incremental_alter_configs_response::AlterConfigsResourceResponse| {
                (answered(x.resource_type, &x.resource_name), x.error_code, x.error_message.clone())
            };
            response.responses.iter().map(answer).collect()
        };
        let shards = AlterConfigsShards {
            build,
            answers,
            validate_only,
            _request: std::marker::PhantomData,
        };
        self.alter_routed(&shards, changes.keys().cloned(), options)
            .await
    }

    /// Replaces every dynamic config of each resource with AlterConfigs (the legacy API: a
    /// config left out is reset to its default), one result per resource.
    pub async fn alter_configs(
        &self,
        configs: impl IntoIterator<Item = (ConfigResource, BTreeMap<String, String>)>,
        options: AlterConfigsOptions,
    ) -> Result<Results<ConfigResource, WriteOutcome>, AdminError> {
        let configs: BTreeMap<ConfigResource, BTreeMap<String, String>> =
            configs.into_iter().collect();
        let validate_only = options.validate_only;
        let build = |resources: &[ConfigResource]| {
            let entries = resources.iter().map(|r| {
                let values = configs[r].iter().map(|(name, value)| {
                    alter_configs_request::AlterableConfig::default()
                        .with_name(name.as_str().into())
                        .with_value(Some(value.as_str().into()))
                });
                alter_configs_request::AlterConfigsResource::default()
                    .with_resource_type(r.resource_type.code())
                    .with_resource_name(r.name.as_str().into())
                    .with_configs(values.collect())
            });
            AlterConfigsRequest::default()
                .with_resources(entries.collect())
                .with_validate_only(validate_only)
        };
        let answers = |response: &AlterConfigsResponse| {
            let answer = |x: &klamm_protocol::messages::alter_configs_response::AlterConfigsResourceResponse| {
                (answered(x.resource_type, &x.resource_name), x.error_code, x.error_message.clone())
            };
            response.responses.iter().map(answer).collect()
        };
        let shards = AlterConfigsShards {
            build,
            answers,
            validate_only,
            _request: std::marker::PhantomData,
        };
        self.alter_routed(&shards, configs.keys().cloned(), options)
            .await
    }

    async fn alter_routed<S>(
        &self,
        shards: &S,
        resources: impl Iterator<Item = ConfigResource>,
        options: AlterConfigsOptions,
    ) -> Result<Results<ConfigResource, WriteOutcome>, AdminError>
    where
        S: ShardedRequest<Item = ConfigResource, Output = WriteOutcome>,
    {
        let (valid, invalid) = routed(resources);
        let timeout = Some(self.timeout(options.timeout));
        let answers = self.cluster.sharded(shards, valid, timeout).await;
        let mut results = Results::from_items(answers);
        for (resource, error) in invalid {
            results.insert(resource, Err(error));
        }
        Ok(results)
    }
}
