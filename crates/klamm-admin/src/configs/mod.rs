//! Config operations: `describe_configs`, `incremental_alter_configs` and the legacy
//! `alter_configs`. Each resource is routed where Kafka needs it: BROKER and BROKER_LOGGER
//! resources to that broker (`Target::Broker(id)`), everything else (and the cluster-wide
//! broker default, an empty broker name) to any broker. Requests to different brokers run
//! concurrently; each resource gets its own result.

use std::fmt;

use klamm_cluster::Target;
use klamm_protocol::messages::incremental_alter_configs_request;

use crate::options::options;
use crate::AdminError;

/// The kind of a config resource (Kafka's `ConfigResource.Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum ConfigResourceType {
    /// A topic.
    Topic,
    /// A broker (by id; empty name for the cluster-wide default).
    Broker,
    /// A broker's log4j loggers.
    BrokerLogger,
    /// A client-metrics subscription.
    ClientMetrics,
    /// A group (KIP-848 group configs).
    Group,
    /// A type this build does not know (from a newer broker), kept as sent.
    Other(i8),
}

impl ConfigResourceType {
    /// The wire code.
    pub fn code(self) -> i8 {
        match self {
            ConfigResourceType::Topic => 2,
            ConfigResourceType::Broker => 4,
            ConfigResourceType::BrokerLogger => 8,
            ConfigResourceType::ClientMetrics => 16,
            ConfigResourceType::Group => 32,
            ConfigResourceType::Other(code) => code,
        }
    }

    /// The type of a wire code.
    pub fn from_code(code: i8) -> Self {
        match code {
            2 => ConfigResourceType::Topic,
            4 => ConfigResourceType::Broker,
            8 => ConfigResourceType::BrokerLogger,
            16 => ConfigResourceType::ClientMetrics,
            32 => ConfigResourceType::Group,
            other => ConfigResourceType::Other(other),
        }
    }
}

/// A resource that has configs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ConfigResource {
    /// Its kind.
    pub resource_type: ConfigResourceType,
    /// Its name (topic name, broker id, group id).
    pub name: String,
}

impl From<&ConfigResource> for ConfigResource {
    fn from(value: &ConfigResource) -> Self {
        value.clone()
    }
}

impl ConfigResource {
    /// A topic.
    pub fn topic(name: impl Into<String>) -> Self {
        ConfigResource {
            resource_type: ConfigResourceType::Topic,
            name: name.into(),
        }
    }

    /// A broker by id.
    pub fn broker(id: i32) -> Self {
        ConfigResource {
            resource_type: ConfigResourceType::Broker,
            name: id.to_string(),
        }
    }

    /// The cluster-wide default broker config (`--entity-default`).
    pub fn broker_default() -> Self {
        ConfigResource {
            resource_type: ConfigResourceType::Broker,
            name: String::new(),
        }
    }

    /// A broker's loggers.
    pub fn broker_logger(id: i32) -> Self {
        ConfigResource {
            resource_type: ConfigResourceType::BrokerLogger,
            name: id.to_string(),
        }
    }

    /// A group.
    pub fn group(id: impl Into<String>) -> Self {
        ConfigResource {
            resource_type: ConfigResourceType::Group,
            name: id.into(),
        }
    }

    /// Where requests about this resource must go.
    pub fn target(&self) -> Result<Target, AdminError> {
        match self.resource_type {
            ConfigResourceType::Broker | ConfigResourceType::BrokerLogger => {
                if self.name.is_empty() {
                    if self.resource_type == ConfigResourceType::BrokerLogger {
                        return Err(AdminError::invalid(
                            "a BROKER_LOGGER resource needs a broker id",
                        ));
                    }
                    return Ok(Target::Any);
                }
                self.name.parse::<i32>().map(Target::Broker).map_err(|_| {
                    AdminError::invalid(format!("{self}: `{}` is not a broker id", self.name))
                })
            }
            _ => Ok(Target::Any),
        }
    }
}

impl fmt::Display for ConfigResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.resource_type {
            ConfigResourceType::Topic => "topic",
            ConfigResourceType::Broker => "broker",
            ConfigResourceType::BrokerLogger => "broker logger",
            ConfigResourceType::ClientMetrics => "client metrics",
            ConfigResourceType::Group => "group",
            ConfigResourceType::Other(_) => "config resource",
        };
        if self.name.is_empty() {
            write!(f, "{kind} default")
        } else {
            write!(f, "{kind} `{}`", self.name)
        }
    }
}

/// Where a config value comes from (Kafka's `ConfigSource`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum ConfigSource {
    /// Unknown or not sent.
    Unknown,
    /// Set on the topic.
    DynamicTopicConfig,
    /// Set dynamically for this broker.
    DynamicBrokerConfig,
    /// Set dynamically as the cluster-wide default.
    DynamicDefaultBrokerConfig,
    /// From the broker's `server.properties`.
    StaticBrokerConfig,
    /// Kafka's built-in default.
    DefaultConfig,
    /// A dynamic logger level.
    DynamicBrokerLoggerConfig,
    /// Set on a client-metrics resource.
    ClientMetricsConfig,
    /// Set on a group.
    GroupConfig,
}

impl ConfigSource {
    fn from_code(code: i8) -> Self {
        match code {
            1 => ConfigSource::DynamicTopicConfig,
            2 => ConfigSource::DynamicBrokerConfig,
            3 => ConfigSource::DynamicDefaultBrokerConfig,
            4 => ConfigSource::StaticBrokerConfig,
            5 => ConfigSource::DefaultConfig,
            6 => ConfigSource::DynamicBrokerLoggerConfig,
            7 => ConfigSource::ClientMetricsConfig,
            8 => ConfigSource::GroupConfig,
            _ => ConfigSource::Unknown,
        }
    }
}

/// A config's value type (DescribeConfigs v3+).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum ConfigType {
    /// Unknown.
    Unknown,
    /// Boolean.
    Boolean,
    /// String.
    String,
    /// Int.
    Int,
    /// Short.
    Short,
    /// Long.
    Long,
    /// Double.
    Double,
    /// List.
    List,
    /// Class.
    Class,
    /// Password.
    Password,
}

impl ConfigType {
    fn from_code(code: i8) -> Self {
        match code {
            1 => ConfigType::Boolean,
            2 => ConfigType::String,
            3 => ConfigType::Int,
            4 => ConfigType::Short,
            5 => ConfigType::Long,
            6 => ConfigType::Double,
            7 => ConfigType::List,
            8 => ConfigType::Class,
            9 => ConfigType::Password,
            _ => ConfigType::Unknown,
        }
    }
}

/// Another source's value for the same config, in precedence order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ConfigSynonym {
    /// Name (may differ, e.g. `log.retention.hours` for `retention.ms`).
    pub name: String,
    /// Value (`None` when sensitive).
    pub value: Option<String>,
    /// Where it comes from.
    pub source: ConfigSource,
}

/// One config of a described resource.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ConfigEntry {
    /// Name.
    pub name: String,
    /// Value (`None` when sensitive or unset).
    pub value: Option<String>,
    /// Where the value comes from.
    pub source: ConfigSource,
    /// Whether it is Kafka's default.
    pub is_default: bool,
    /// Read only.
    pub is_read_only: bool,
    /// Sensitive (value hidden).
    pub is_sensitive: bool,
    /// Synonyms, if asked for.
    pub synonyms: Vec<ConfigSynonym>,
    /// Value type (v3+).
    pub config_type: Option<ConfigType>,
    /// Documentation (v3+, if asked for).
    pub documentation: Option<String>,
}

options! {
    /// Options of [`Admin::describe_configs`](crate::Admin::describe_configs).
    pub struct DescribeConfigsOptions {
        /// Only these config names (for every resource); all if `None`.
        names: Option<Vec<String>>,
        /// Include each config's synonyms.
        include_synonyms: bool,
        /// Include documentation (DescribeConfigs v3+).
        include_documentation: bool,
    }
}

/// One change of [`Admin::incremental_alter_configs`](crate::Admin::incremental_alter_configs).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case", tag = "op"))]
pub enum AlterConfigOp {
    /// Set `name` to `value`.
    Set {
        /// Config name.
        name: String,
        /// New value.
        value: String,
    },
    /// Remove the override: back to the next source's value.
    Delete {
        /// Config name.
        name: String,
    },
    /// Add `value` to a list config.
    Append {
        /// Config name.
        name: String,
        /// Element(s) to add.
        value: String,
    },
    /// Remove `value` from a list config.
    Subtract {
        /// Config name.
        name: String,
        /// Element(s) to remove.
        value: String,
    },
}

impl AlterConfigOp {
    /// `Set`.
    pub fn set(name: impl Into<String>, value: impl Into<String>) -> Self {
        AlterConfigOp::Set {
            name: name.into(),
            value: value.into(),
        }
    }

    /// `Delete`.
    pub fn delete(name: impl Into<String>) -> Self {
        AlterConfigOp::Delete { name: name.into() }
    }

    fn to_request(&self) -> incremental_alter_configs_request::AlterableConfig {
        let (name, op, value) = match self {
            AlterConfigOp::Set { name, value } => (name, 0, Some(value)),
            AlterConfigOp::Delete { name } => (name, 1, None),
            AlterConfigOp::Append { name, value } => (name, 2, Some(value)),
            AlterConfigOp::Subtract { name, value } => (name, 3, Some(value)),
        };
        incremental_alter_configs_request::AlterableConfig::default()
            .with_name(name.as_str().into())
            .with_config_operation(op)
            .with_value(value.map(|v| v.as_str().into()))
    }
}

options! {
    /// Options of [`Admin::incremental_alter_configs`](crate::Admin::incremental_alter_configs)
    /// and [`Admin::alter_configs`](crate::Admin::alter_configs).
    pub struct AlterConfigsOptions {
        /// Only check that the changes could be made.
        validate_only: bool,
    }
}

mod ops;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_resources_route_to_their_broker_and_topics_to_any() {
        assert_eq!(
            ConfigResource::broker(2).target().unwrap(),
            Target::Broker(2)
        );
        assert_eq!(
            ConfigResource::broker_logger(3).target().unwrap(),
            Target::Broker(3)
        );
        assert_eq!(ConfigResource::topic("t").target().unwrap(), Target::Any);
        assert_eq!(
            ConfigResource::broker_default().target().unwrap(),
            Target::Any
        );
        let bad = ConfigResource {
            resource_type: ConfigResourceType::Broker,
            name: "one".into(),
        };
        assert!(matches!(
            bad.target(),
            Err(AdminError::InvalidArgument { .. })
        ));
    }

    #[test]
    fn alter_ops_encode_their_operation_codes() {
        let codes: Vec<i8> = [
            AlterConfigOp::set("a", "1"),
            AlterConfigOp::delete("a"),
            AlterConfigOp::Append {
                name: "a".into(),
                value: "x".into(),
            },
            AlterConfigOp::Subtract {
                name: "a".into(),
                value: "x".into(),
            },
        ]
        .iter()
        .map(|op| op.to_request().config_operation)
        .collect();
        assert_eq!(codes, vec![0, 1, 2, 3]);
        assert_eq!(AlterConfigOp::delete("a").to_request().value, None);
    }

    #[test]
    fn resource_type_codes_round_trip() {
        for kind in [
            ConfigResourceType::Topic,
            ConfigResourceType::Broker,
            ConfigResourceType::BrokerLogger,
            ConfigResourceType::ClientMetrics,
            ConfigResourceType::Group,
        ] {
            assert_eq!(ConfigResourceType::from_code(kind.code()), kind);
        }
        assert_eq!(
            ConfigResourceType::from_code(64),
            ConfigResourceType::Other(64)
        );
    }
}
