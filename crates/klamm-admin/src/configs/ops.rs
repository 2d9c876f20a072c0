//! Routing config resources to brokers and the describe / alter calls.

use std::collections::BTreeMap;
use std::time::Duration;

use klamm_cluster::{Call, Target};
use klamm_protocol::messages::{
    alter_configs_request, alter_configs_response, describe_configs_request,
    incremental_alter_configs_request, incremental_alter_configs_response, AlterConfigsRequest,
    AlterConfigsResponse, DescribeConfigsRequest, IncrementalAlterConfigsRequest,
    IncrementalAlterConfigsResponse,
};
use klamm_protocol::primitives::KafkaString;
use klamm_protocol::Request;

use super::*;
use crate::client::join_all;
use crate::{Admin, AdminError, Results};

/// Groups resources by the broker they must go to; resources that cannot be routed get their
/// error in `results`.
fn route<T: Clone>(
    items: &[(ConfigResource, T)],
    results: &mut Results<ConfigResource, impl Sized>,
) -> BTreeMap<TargetKey, Vec<(ConfigResource, T)>> {
    let mut batches: BTreeMap<TargetKey, Vec<(ConfigResource, T)>> = BTreeMap::new();
    for (resource, item) in items {
        match resource.target() {
            Ok(Target::Broker(id)) => batches
                .entry(TargetKey::Broker(id))
                .or_default()
                .push((resource.clone(), item.clone())),
            Ok(_) => batches
                .entry(TargetKey::Any)
                .or_default()
                .push((resource.clone(), item.clone())),
            Err(error) => results.insert(resource.clone(), Err(error)),
        }
    }
    batches
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum TargetKey {
    Any,
    Broker(i32),
}

impl TargetKey {
    fn target(self) -> Target {
        match self {
            TargetKey::Any => Target::Any,
            TargetKey::Broker(id) => Target::Broker(id),
        }
    }
}

impl Admin {
    /// Describes configs, one result per resource.
    ///
    /// ```no_run
    /// # use klamm_admin::{Admin, ConfigResource, DescribeConfigsOptions};
    /// # async fn demo(admin: Admin) -> Result<(), klamm_admin::AdminError> {
    /// let resources = [ConfigResource::topic("orders"), ConfigResource::broker(1)];
    /// let described = admin.describe_configs(&resources, DescribeConfigsOptions::default()).await?;
    /// for (resource, entries) in described.iter() {
    ///     for entry in entries.iter().flatten().filter(|e| !e.is_default) {
    ///         println!("{resource}: {} = {:?}", entry.name, entry.value);
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn describe_configs(
        &self,
        resources: &[ConfigResource],
        options: DescribeConfigsOptions,
    ) -> Result<Results<ConfigResource, Vec<ConfigEntry>>, AdminError> {
        let timeout = Some(self.timeout(options.timeout));
        let mut results = Results::default();
        let items: Vec<(ConfigResource, ())> = resources.iter().map(|r| (r.clone(), ())).collect();
        let batches = route(&items, &mut results);
        let mut calls = Vec::new();
        for (key, batch) in batches {
            let cluster = self.cluster.clone();
            let options = options.clone();
            calls.push(async move {
                let request_resources: Vec<_> = batch
                    .iter()
                    .map(|(r, ())| {
                        describe_configs_request::DescribeConfigsResource::default()
                            .with_resource_type(r.resource_type.code())
                            .with_resource_name(r.name.as_str().into())
                            .with_configuration_keys(
                                options
                                    .names
                                    .as_ref()
                                    .map(|names| names.iter().map(|n| n.as_str().into()).collect()),
                            )
                    })
                    .collect();
                let response = cluster
                    .call(
                        Call::new(key.target(), move |_| {
                            DescribeConfigsRequest::default()
                                .with_resources(request_resources.clone())
                                .with_include_synonyms(options.include_synonyms)
                                .with_include_documentation(options.include_documentation)
                        })
                        .timeout(timeout),
                    )
                    .await;
                (batch, response)
            });
        }
        for (batch, response) in join_all(calls).await.into_iter().flatten() {
            for (resource, ()) in batch {
                let result = match &response {
                    Err(error) => Err(AdminError::from(error.clone())),
                    Ok(response) => match response.results.iter().find(|r| {
                        r.resource_type == resource.resource_type.code()
                            && r.resource_name == resource.name.as_str()
                    }) {
                        None => Err(AdminError::MissingInResponse {
                            resource: resource.to_string(),
                        }),
                        Some(r) => AdminError::check(
                            r.error_code,
                            r.error_message.as_ref(),
                            resource.to_string(),
                        )
                        .map(|()| {
                            r.configs
                                .iter()
                                .map(|c| {
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
                                        config_type: (c.config_type != 0)
                                            .then(|| ConfigType::from_code(c.config_type)),
                                        documentation: c
                                            .documentation
                                            .as_ref()
                                            .map(|d| d.to_string()),
                                    }
                                })
                                .collect()
                        }),
                    },
                };
                results.insert(resource, result);
            }
        }
        Ok(results)
    }

    /// Changes configs key by key (IncrementalAlterConfigs, Kafka 2.3+): set, delete (back to
    /// the default), append to or subtract from lists. Keys not named are left alone. One
    /// result per resource.
    ///
    /// ```no_run
    /// # use klamm_admin::{Admin, AlterConfigOp, AlterConfigsOptions, ConfigResource};
    /// # async fn demo(admin: Admin) -> Result<(), klamm_admin::AdminError> {
    /// let changes = [(ConfigResource::topic("orders"), vec![AlterConfigOp::set("retention.ms", "86400000")])];
    /// let results = admin.incremental_alter_configs(&changes, AlterConfigsOptions::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn incremental_alter_configs(
        &self,
        changes: &[(ConfigResource, Vec<AlterConfigOp>)],
        options: AlterConfigsOptions,
    ) -> Result<Results<ConfigResource, ()>, AdminError> {
        let validate_only = options.validate_only;
        let build = move |batch: &[(ConfigResource, Vec<AlterConfigOp>)]| {
            IncrementalAlterConfigsRequest::default()
                .with_resources(
                    batch
                        .iter()
                        .map(|(r, ops)| {
                            incremental_alter_configs_request::AlterConfigsResource::default()
                                .with_resource_type(r.resource_type.code())
                                .with_resource_name(r.name.as_str().into())
                                .with_configs(ops.iter().map(AlterConfigOp::to_request).collect())
                        })
                        .collect(),
                )
                .with_validate_only(validate_only)
        };
        let answers = |response: &IncrementalAlterConfigsResponse| {
            let answer = |x: &incremental_alter_configs_response::AlterConfigsResourceResponse| {
                alter_answer(
                    x.resource_type,
                    &x.resource_name,
                    x.error_code,
                    &x.error_message,
                )
            };
            response.responses.iter().map(answer).collect()
        };
        self.alter_routed(changes, options.timeout, build, answers)
            .await
    }

    /// **Replaces** every dynamic config of each resource with exactly `configs`
    /// (legacy AlterConfigs).
    ///
    /// **Every dynamic config the map does not name is reset to its default.** This is the
    /// call that silently wiped settings in kafka-python and elsewhere; prefer
    /// [`incremental_alter_configs`](Self::incremental_alter_configs) unless a full replace
    /// is what you mean (describe first, and diff). Removed from the Java client in Kafka 4.0;
    /// brokers still accept it.
    pub async fn alter_configs(
        &self,
        configs: &[(ConfigResource, BTreeMap<String, String>)],
        options: AlterConfigsOptions,
    ) -> Result<Results<ConfigResource, ()>, AdminError> {
        let validate_only = options.validate_only;
        let build = move |batch: &[(ConfigResource, BTreeMap<String, String>)]| {
            AlterConfigsRequest::default()
                .with_resources(
                    batch
                        .iter()
                        .map(|(r, map)| {
                            alter_configs_request::AlterConfigsResource::default()
                                .with_resource_type(r.resource_type.code())
                                .with_resource_name(r.name.as_str().into())
                                .with_configs(
                                    map.iter()
                                        .map(|(name, value)| {
                                            alter_configs_request::AlterableConfig::default()
                                                .with_name(name.as_str().into())
                                                .with_value(Some(value.as_str().into()))
                                        })
                                        .collect(),
                                )
                        })
                        .collect(),
                )
                .with_validate_only(validate_only)
        };
        let answers = |response: &AlterConfigsResponse| {
            let answer = |x: &alter_configs_response::AlterConfigsResourceResponse| {
                alter_answer(
                    x.resource_type,
                    &x.resource_name,
                    x.error_code,
                    &x.error_message,
                )
            };
            response.responses.iter().map(answer).collect()
        };
        self.alter_routed(configs, options.timeout, build, answers)
            .await
    }

    /// Sends one alter request per broker the resources route to (`build` makes it from that
    /// broker's batch) and gives each resource the result `answers` reads for it.
    async fn alter_routed<T, R>(
        &self,
        changes: &[(ConfigResource, T)],
        timeout: Option<Duration>,
        build: impl Fn(&[(ConfigResource, T)]) -> R,
        answers: fn(&R::Response) -> Vec<AlterAnswer>,
    ) -> Result<Results<ConfigResource, ()>, AdminError>
    where
        T: Clone,
        R: Request + Clone + Send + Sync + 'static,
        R::Response: Send,
    {
        let timeout = Some(self.timeout(timeout));
        let mut results = Results::default();
        let mut calls = Vec::new();
        for (key, batch) in route(changes, &mut results) {
            let cluster = self.cluster.clone();
            let request = build(&batch);
            let resources: Vec<_> = batch.into_iter().map(|(r, _)| r).collect();
            calls.push(async move {
                let response = cluster
                    .call(Call::new(key.target(), move |_| request.clone()).timeout(timeout))
                    .await
                    .map(|r| answers(&r));
                (resources, response)
            });
        }
        collect_alter_results(join_all(calls).await, &mut results);
        Ok(results)
    }
}

type AlterAnswer = (i8, String, i16, Option<String>);

/// One resource's answer in an (incremental) AlterConfigs response.
fn alter_answer(
    resource_type: i8,
    name: &KafkaString,
    error_code: i16,
    message: &Option<KafkaString>,
) -> AlterAnswer {
    let message = message.as_ref().map(|m| m.to_string());
    (resource_type, name.to_string(), error_code, message)
}
type AlterBatch = (
    Vec<ConfigResource>,
    Result<Vec<AlterAnswer>, klamm_cluster::ClusterError>,
);

fn collect_alter_results(
    answers: Vec<Option<AlterBatch>>,
    results: &mut Results<ConfigResource, ()>,
) {
    for (batch, response) in answers.into_iter().flatten() {
        for resource in batch {
            let result = match &response {
                Err(error) => Err(AdminError::from(error.clone())),
                Ok(answers) => AdminError::check_answer(
                    answers
                        .iter()
                        .find(|(kind, name, _, _)| {
                            *kind == resource.resource_type.code() && *name == resource.name
                        })
                        .map(|(_, _, code, message)| (*code, message.as_ref())),
                    resource.to_string(),
                ),
            };
            results.insert(resource, result);
        }
    }
}
