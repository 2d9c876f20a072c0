//! [`ClusterError`]: everything that can go wrong above one connection: bootstrapping, routing,
//! errors the broker put in a response, and deadlines. Connection failures are wrapped
//! [`NetError`]s, never strings, so callers can still match on them.
//!
//! Errors print once: a variant that wraps a lower error (its `cause` field) includes it in its
//! message and does not return it from `source()`, so `{}`, `{:#}` and log reporters that walk
//! the source chain show each level exactly once.

use std::fmt;
use std::time::Duration;

use klamm_net::NetError;
use klamm_protocol::{ApiKey, ErrorCode, VersionRange};

use crate::CoordinatorType;

/// One failed bootstrap address and why.
#[derive(Debug, Clone)]
pub struct BootstrapAttempt {
    /// The address as configured.
    pub addr: String,
    /// What went wrong.
    pub error: NetError,
}

/// What an operation was doing when its deadline passed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Waiting {
    /// Connecting to the bootstrap servers and fetching the first metadata.
    Bootstrap,
    /// Fetching cluster metadata.
    Metadata,
    /// Opening a connection to a broker.
    Connect {
        /// The broker.
        broker_id: i32,
    },
    /// Looking up a group or transaction coordinator.
    Coordinator {
        /// The kind of coordinator.
        coordinator_type: CoordinatorType,
        /// The group or transactional id.
        key: String,
    },
    /// A broker's response to a request.
    Response {
        /// The API of the request.
        api: ApiKey,
        /// The broker it went to.
        broker_id: i32,
    },
    /// Pausing between attempts (`retry_backoff`).
    RetryBackoff,
}

impl fmt::Display for Waiting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Waiting::Bootstrap => f.write_str("connecting to the bootstrap servers"),
            Waiting::Metadata => f.write_str("fetching cluster metadata"),
            Waiting::Connect { broker_id } => write!(f, "connecting to broker {broker_id}"),
            Waiting::Coordinator {
                coordinator_type,
                key,
            } => write!(f, "finding the {coordinator_type} coordinator for `{key}`"),
            Waiting::Response { api, broker_id } => {
                write!(f, "waiting for broker {broker_id} to answer {api}")
            }
            Waiting::RetryBackoff => f.write_str("waiting to retry"),
        }
    }
}

/// Every way a cluster operation can fail.
///
/// `Clone`, so that one failure can be reported to every caller that waited on it (fan-outs,
/// shared metadata refreshes).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// The settings do not fit together.
    #[error("invalid configuration: {reason}")]
    InvalidConfig {
        /// What is wrong.
        reason: String,
    },
    /// A `bootstrap_servers` entry is not `host[:port]`.
    #[error("invalid bootstrap server `{entry}`: {cause}")]
    InvalidBootstrapAddress {
        /// The entry as given.
        entry: String,
        /// Why it does not parse.
        cause: Box<NetError>,
    },
    /// No bootstrap server answered.
    #[error("none of the bootstrap servers could be reached: {}", attempts_text(.attempts))]
    BootstrapUnreachable {
        /// Each address with its error, in configuration order.
        attempts: Vec<BootstrapAttempt>,
    },
    /// The bootstrap server answered, but the address a broker advertises cannot be reached:
    /// almost always `advertised.listeners` naming a host only visible inside the broker's
    /// network (a container name, an internal DNS name).
    #[error(
        "broker {broker_id} advertises {advertised}, but {advertised} cannot be reached ({cause}); \
         the bootstrap server {bootstrap} answered and returned that address in its metadata. \
         Check the broker's `advertised.listeners`: it must name a host and port this client can reach"
    )]
    AdvertisedListenerUnreachable {
        /// The broker whose address fails.
        broker_id: i32,
        /// The `host:port` it advertises.
        advertised: String,
        /// The bootstrap address that answered.
        bootstrap: String,
        /// The connection error.
        cause: Box<NetError>,
    },
    /// Connecting to a broker failed (it was reachable before, or is not known to be).
    #[error("could not connect to broker {broker_id} at {addr}: {cause}")]
    BrokerConnection {
        /// The broker.
        broker_id: i32,
        /// Its address.
        addr: String,
        /// The connection error.
        cause: Box<NetError>,
    },
    /// The request was sent (or was being sent) and its connection failed or timed out.
    #[error("{api} request to broker {broker_id} failed: {cause}")]
    Request {
        /// The API.
        api: ApiKey,
        /// The broker.
        broker_id: i32,
        /// The connection error.
        cause: Box<NetError>,
    },
    /// The broker answered with an error code.
    #[error("broker {broker_id} answered {api}{} with {}{}", resource_text(.resource), .error_code, message_text(.message))]
    Kafka {
        /// The API.
        api: ApiKey,
        /// The broker that answered.
        broker_id: i32,
        /// The error code.
        error_code: ErrorCode,
        /// The broker's error message, if it sent one.
        message: Option<String>,
        /// The resource the error concerns (topic, group, …), if known.
        resource: Option<String>,
    },
    /// The broker answered a request without mentioning one of the items it was asked about.
    #[error("broker {broker_id} answered {api} without mentioning {resource}")]
    NotInResponse {
        /// The API.
        api: ApiKey,
        /// The broker that answered.
        broker_id: i32,
        /// The item it did not mention.
        resource: String,
    },
    /// No broker with this id is in the cluster metadata.
    #[error("broker {broker_id} is not in the cluster metadata (known brokers: {})", ids_text(.known))]
    UnknownBroker {
        /// The id asked for.
        broker_id: i32,
        /// The ids the metadata lists.
        known: Vec<i32>,
    },
    /// The cluster metadata lists no brokers at all.
    #[error("the cluster metadata lists no brokers")]
    NoBrokers,
    /// The topic or partition does not exist, according to fresh metadata.
    #[error("{}", match .partition { Some(p) => format!("partition {p} of topic `{topic}` does not exist"), None => format!("topic `{topic}` does not exist") })]
    UnknownTopicOrPartition {
        /// The topic.
        topic: String,
        /// The partition, when the topic exists but the partition does not.
        partition: Option<i32>,
    },
    /// The partition has no leader right now (an election is pending or every replica is
    /// offline).
    #[error("partition {partition} of topic `{topic}` has no leader{}", match .error_code { Some(code) => format!(" ({})", code.name()), None => String::new() })]
    NoLeader {
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
        /// The partition's error code in the metadata, if any.
        error_code: Option<ErrorCode>,
    },
    /// The broker supports no version of the API that we could use for this (nothing was
    /// sent).
    #[error("{what} needs {api} version {wanted} but broker {broker_id} {}", match .broker_range { Some(range) => format!("supports {range}"), None => "does not support it".to_owned() })]
    UnsupportedByBroker {
        /// What we tried to do.
        what: &'static str,
        /// The API.
        api: ApiKey,
        /// The versions that can do it.
        wanted: VersionRange,
        /// The broker.
        broker_id: i32,
        /// The versions the broker supports, `None` if it does not list the API.
        broker_range: Option<VersionRange>,
    },
    /// The operation's deadline passed.
    #[error("{operation} timed out after {} ms while {waiting} ({attempts} attempt{}){}", .timeout.as_millis(), if *.attempts == 1 { "" } else { "s" }, match .last_error { Some(error) => format!("; last error: {error}"), None => String::new() })]
    DeadlineExceeded {
        /// The operation (e.g. `CreateTopics to the controller`).
        operation: String,
        /// What it was waiting for when time ran out.
        waiting: Waiting,
        /// The deadline it had.
        timeout: Duration,
        /// Attempts made.
        attempts: u32,
        /// The error of the last failed attempt, if any failed.
        last_error: Option<Box<ClusterError>>,
        /// Whether any attempt, not only the last, may have reached the broker: a request that
        /// is not idempotent may then have been applied although every attempt failed.
        may_have_applied: bool,
    },
    /// [`Cluster::close`](crate::Cluster::close) was called.
    #[error("the cluster client is closed")]
    Closed,
}

impl ClusterError {
    /// Whether the same operation may succeed when tried again (the retry loop uses this).
    pub fn is_retriable(&self) -> bool {
        match self {
            ClusterError::BootstrapUnreachable { attempts } => {
                attempts.iter().any(|attempt| attempt.error.is_retriable())
            }
            ClusterError::AdvertisedListenerUnreachable { cause: source, .. }
            | ClusterError::BrokerConnection { cause: source, .. }
            | ClusterError::Request { cause: source, .. } => source.is_retriable(),
            ClusterError::Kafka { error_code, .. } => error_code.is_retriable(),
            ClusterError::NoLeader { .. }
            | ClusterError::NoBrokers
            | ClusterError::NotInResponse { .. } => true,
            _ => false,
        }
    }

    /// The Kafka error code, if the broker answered with one (or fresh metadata said the same:
    /// an unknown topic or partition, a partition without a leader).
    pub fn error_code(&self) -> Option<ErrorCode> {
        match self {
            ClusterError::Kafka { error_code, .. } => Some(*error_code),
            ClusterError::UnknownTopicOrPartition { .. } => {
                Some(ErrorCode::UnknownTopicOrPartition)
            }
            ClusterError::NoLeader { error_code, .. } => {
                Some(error_code.unwrap_or(ErrorCode::LeaderNotAvailable))
            }
            ClusterError::DeadlineExceeded {
                last_error: Some(error),
                ..
            } => error.error_code(),
            _ => None,
        }
    }

    /// The connection error underneath, if there is one.
    pub fn net_error(&self) -> Option<&NetError> {
        match self {
            ClusterError::InvalidBootstrapAddress { cause: source, .. }
            | ClusterError::AdvertisedListenerUnreachable { cause: source, .. }
            | ClusterError::BrokerConnection { cause: source, .. }
            | ClusterError::Request { cause: source, .. } => Some(source.as_ref()),
            ClusterError::DeadlineExceeded {
                last_error: Some(error),
                ..
            } => error.net_error(),
            _ => None,
        }
    }

    /// Whether a request may have reached the broker and taken effect even though no answer
    /// came back (the connection broke or timed out after sending). Callers of non-idempotent
    /// operations should re-read the state before reporting failure.
    ///
    /// `false` for failures before the request was written (no broker, unsupported version,
    /// connection refused, handshake failures), where nothing can have happened.
    pub fn may_have_applied(&self) -> bool {
        match self {
            ClusterError::Request { cause: source, .. } => source.may_have_reached_broker(),
            ClusterError::DeadlineExceeded {
                may_have_applied, ..
            } => *may_have_applied,
            _ => false,
        }
    }
}

impl ClusterError {
    /// The error for a request to `broker_id` that failed on its connection; a broker that
    /// lacks every version we can use becomes [`ClusterError::UnsupportedByBroker`].
    pub(crate) fn request(api: ApiKey, broker_id: i32, source: NetError) -> ClusterError {
        match source {
            NetError::UnsupportedVersion {
                api,
                wanted,
                broker_range,
            } => ClusterError::UnsupportedByBroker {
                what: "the request",
                api,
                wanted,
                broker_id,
                broker_range,
            },
            source => ClusterError::Request {
                api,
                broker_id,
                cause: Box::new(source),
            },
        }
    }
}

fn attempts_text(attempts: &[BootstrapAttempt]) -> String {
    attempts
        .iter()
        .map(|attempt| format!("{}: {}", attempt.addr, attempt.error))
        .collect::<Vec<_>>()
        .join("; ")
}

fn ids_text(ids: &[i32]) -> String {
    if ids.is_empty() {
        return "none".to_owned();
    }
    ids.iter()
        .map(i32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn resource_text(resource: &Option<String>) -> String {
    resource
        .as_ref()
        .map(|resource| format!(" for {resource}"))
        .unwrap_or_default()
}

fn message_text(message: &Option<String>) -> String {
    match message {
        Some(message) if !message.is_empty() => format!(" ({message})"),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::Arc;

    use super::*;

    fn refused(addr: &str) -> NetError {
        NetError::Connect {
            addr: addr.into(),
            cause: Arc::new(io::Error::from(io::ErrorKind::ConnectionRefused)),
        }
    }

    #[test]
    fn bootstrap_error_lists_every_address_with_its_reason() {
        let error = ClusterError::BootstrapUnreachable {
            attempts: vec![
                BootstrapAttempt {
                    addr: "a:1".into(),
                    error: refused("a:1"),
                },
                BootstrapAttempt {
                    addr: "b:2".into(),
                    error: refused("b:2"),
                },
            ],
        };
        let text = error.to_string();
        assert!(text.contains("a:1: could not connect to a:1"), "{text}");
        assert!(text.contains("b:2: could not connect to b:2"), "{text}");
        assert!(error.is_retriable());
    }

    #[test]
    fn advertised_listener_error_names_address_broker_and_bootstrap() {
        let error = ClusterError::AdvertisedListenerUnreachable {
            broker_id: 1,
            advertised: "kafka:29092".into(),
            bootstrap: "localhost:9092".into(),
            cause: Box::new(refused("kafka:29092")),
        };
        let text = error.to_string();
        for needle in [
            "broker 1 advertises kafka:29092",
            "localhost:9092 answered",
            "advertised.listeners",
        ] {
            assert!(text.contains(needle), "{needle} not in {text}");
        }
    }

    #[test]
    fn deadline_error_names_phase_and_last_error() {
        let error = ClusterError::DeadlineExceeded {
            operation: "CreateTopics to the controller".into(),
            waiting: Waiting::Connect { broker_id: 2 },
            timeout: Duration::from_millis(1500),
            attempts: 3,
            last_error: Some(Box::new(ClusterError::Kafka {
                api: ApiKey::CreateTopics,
                broker_id: 1,
                error_code: ErrorCode::NotController,
                message: None,
                resource: None,
            })),
            may_have_applied: false,
        };
        let text = error.to_string();
        assert!(
            text.starts_with("CreateTopics to the controller timed out after 1500 ms while connecting to broker 2 (3 attempts); last error: broker 1 answered CreateTopics with NOT_CONTROLLER"),
            "{text}"
        );
        assert_eq!(error.error_code(), Some(ErrorCode::NotController));
    }

    #[test]
    fn request_error_may_have_applied_only_after_sending() {
        let unsupported = ClusterError::Request {
            api: ApiKey::CreateTopics,
            broker_id: 1,
            cause: Box::new(NetError::UnsupportedVersion {
                api: ApiKey::CreateTopics,
                wanted: VersionRange::new(2, 7),
                broker_range: Some(VersionRange::new(0, 1)),
            }),
        };
        assert!(!unsupported.may_have_applied());
        let refused = ClusterError::Request {
            api: ApiKey::CreateTopics,
            broker_id: 1,
            cause: Box::new(refused("b:1")),
        };
        assert!(!refused.may_have_applied());
        let lost = ClusterError::Request {
            api: ApiKey::CreateTopics,
            broker_id: 1,
            cause: Box::new(NetError::ConnectionClosed {
                addr: "b:1".into(),
                reason: klamm_net::CloseReason::PeerClosed,
            }),
        };
        assert!(lost.may_have_applied());
        let timed_out = ClusterError::Request {
            api: ApiKey::CreateTopics,
            broker_id: 1,
            cause: Box::new(NetError::Timeout {
                addr: "b:1".into(),
                phase: klamm_net::Phase::Request(ApiKey::CreateTopics),
                after: Duration::from_secs(1),
            }),
        };
        assert!(timed_out.may_have_applied());
        let deadline = ClusterError::DeadlineExceeded {
            operation: "CreateTopics to the controller".into(),
            waiting: Waiting::RetryBackoff,
            timeout: Duration::from_secs(1),
            attempts: 2,
            last_error: Some(Box::new(lost)),
            may_have_applied: true,
        };
        assert!(deadline.may_have_applied());
        // The last attempt was refused before sending, but an earlier one may have landed.
        let refused_last = ClusterError::DeadlineExceeded {
            operation: "CreateTopics to the controller".into(),
            waiting: Waiting::RetryBackoff,
            timeout: Duration::from_secs(1),
            attempts: 2,
            last_error: None,
            may_have_applied: true,
        };
        assert!(refused_last.may_have_applied());
    }

    #[test]
    fn unsupported_version_becomes_unsupported_by_broker() {
        let error = ClusterError::request(
            ApiKey::DescribeConfigs,
            2,
            NetError::UnsupportedVersion {
                api: ApiKey::DescribeConfigs,
                wanted: VersionRange::new(4, 4),
                broker_range: Some(VersionRange::new(0, 3)),
            },
        );
        assert!(
            matches!(
                error,
                ClusterError::UnsupportedByBroker {
                    api: ApiKey::DescribeConfigs,
                    broker_id: 2,
                    broker_range: Some(_),
                    ..
                }
            ),
            "{error:?}"
        );
        assert_eq!(
            error.to_string(),
            "the request needs DescribeConfigs version 4 but broker 2 supports 0-3"
        );
        assert!(!error.is_retriable() && !error.may_have_applied());
        let missing = ClusterError::request(
            ApiKey::DescribeConfigs,
            2,
            NetError::UnsupportedVersion {
                api: ApiKey::DescribeConfigs,
                wanted: VersionRange::new(0, 4),
                broker_range: None,
            },
        );
        assert!(
            missing
                .to_string()
                .ends_with("broker 2 does not support it"),
            "{missing}"
        );
    }

    #[test]
    fn kafka_error_retriability_follows_the_code() {
        let kafka = |error_code| ClusterError::Kafka {
            api: ApiKey::Metadata,
            broker_id: 1,
            error_code,
            message: Some("detail".into()),
            resource: Some("topic `t`".into()),
        };
        assert!(kafka(ErrorCode::NotController).is_retriable());
        assert!(!kafka(ErrorCode::TopicAuthorizationFailed).is_retriable());
        let text = kafka(ErrorCode::TopicAuthorizationFailed).to_string();
        assert!(
            text.contains("for topic `t`") && text.contains("(detail)"),
            "{text}"
        );
    }

    #[test]
    fn a_wrapped_error_prints_its_cause_once() {
        let error = ClusterError::BrokerConnection {
            broker_id: 2,
            addr: "b:1".into(),
            cause: Box::new(refused("b:1")),
        };
        let text = error.to_string();
        assert_eq!(
            text.matches("could not connect to b:1").count(),
            1,
            "{text}"
        );
        assert!(std::error::Error::source(&error).is_none());
    }
}
