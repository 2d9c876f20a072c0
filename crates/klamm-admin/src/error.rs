//! [`AdminError`]: every way an admin operation, or one resource of it, can fail. Cluster
//! failures are wrapped [`ClusterError`]s, never strings; Kafka error codes keep their code,
//! the broker's message and the resource they concern.
//!
//! Errors print once: a variant that wraps a lower error (its `cause` field) includes it in its
//! message and does not return it from `source()`, so `{}`, `{:#}` and log reporters that walk
//! the source chain show each level exactly once.

use std::path::PathBuf;
use std::sync::Arc;

use klamm_cluster::ClusterError;
use klamm_protocol::ErrorCode;
#[cfg(feature = "serde")]
use serde::ser::SerializeStruct;

/// Every way an admin operation, or one resource of a batch, can fail.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    /// The cluster layer failed: bootstrap, routing, connection, deadline, or an error code
    /// that decided the whole request.
    #[error(transparent)]
    Cluster(ClusterError),
    /// The broker answered this resource with an error code.
    #[error("{resource}: {}{}", .code.name(), match .message { Some(m) if !m.is_empty() => format!(" ({m})"), _ => format!(" ({})", .code.message()) })]
    Kafka {
        /// The error code.
        code: ErrorCode,
        /// The broker's message, if it sent one.
        message: Option<String>,
        /// The resource concerned, e.g. "topic `orders`".
        resource: String,
    },
    /// An argument cannot be sent as given (empty name, duplicate resource, …).
    #[error("invalid argument: {reason}")]
    InvalidArgument {
        /// What is wrong.
        reason: String,
    },
    /// A configuration setting cannot be used.
    #[error("configuration `{key}`: {reason}")]
    InvalidConfig {
        /// The setting (a Java property name such as `ssl.truststore.type`, or a builder name).
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// A Java-client property Klamm does not support (JKS keystores, OAUTHBEARER, GSSAPI in a
    /// build without the `gssapi` feature …).
    #[error("unsupported property `{key}`: {reason}")]
    UnsupportedProperty {
        /// The property name.
        key: String,
        /// Why, and what to use instead.
        reason: String,
    },
    /// A properties file could not be read.
    #[error("could not read {}: {cause}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        cause: Arc<std::io::Error>,
    },
    /// The broker's answer did not mention a resource it was asked about.
    #[error("the broker's answer did not mention {resource}")]
    MissingInResponse {
        /// The resource.
        resource: String,
    },
    /// Bytes inside a response (consumer-protocol member data …) could not be decoded.
    #[error("could not decode {what}: {reason}")]
    Decode {
        /// What was being decoded.
        what: String,
        /// Why it failed.
        reason: String,
    },
}

/// A broker's error code becomes [`AdminError::Kafka`] (one home for "the broker said X",
/// whichever layer read it); every other cluster failure is wrapped as it is.
impl From<ClusterError> for AdminError {
    fn from(error: ClusterError) -> Self {
        match error {
            ClusterError::Kafka {
                api,
                broker_id,
                error_code,
                message,
                resource,
            } => AdminError::Kafka {
                code: error_code,
                message,
                resource: resource.unwrap_or_else(|| format!("{api} to broker {broker_id}")),
            },
            other => AdminError::Cluster(other),
        }
    }
}

/// The message of a response entry that has an error code but no message field, for
/// [`AdminError::check_answer`].
#[cfg(test)]
pub(crate) const NO_MESSAGE: Option<&str> = None;

impl AdminError {
    /// A per-resource error from a response's code and message, `None` for `NONE` (0).
    pub fn from_code(
        code: i16,
        message: Option<impl ToString>,
        resource: impl Into<String>,
    ) -> Option<AdminError> {
        let code = ErrorCode::from_code(code);
        code.is_error().then(|| AdminError::Kafka {
            code,
            message: message.map(|m| m.to_string()).filter(|m| !m.is_empty()),
            resource: resource.into(),
        })
    }

    /// `Ok(())` for `NONE`, the error otherwise.
    pub fn check(
        code: i16,
        message: Option<impl ToString>,
        resource: impl Into<String>,
    ) -> Result<(), AdminError> {
        match AdminError::from_code(code, message, resource) {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// What the broker answered for `resource`: `Ok(())` for an entry whose code is `NONE`, its
    /// error otherwise, and [`AdminError::MissingInResponse`] when the response has no entry
    /// for it. `answer` is that entry's error code and message.
    pub(crate) fn check_answer<M: ToString>(
        answer: Option<(i16, Option<M>)>,
        resource: impl Into<String>,
    ) -> Result<(), AdminError> {
        let resource = resource.into();
        match answer {
            Some((code, message)) => AdminError::check(code, message, resource),
            None => Err(AdminError::MissingInResponse { resource }),
        }
    }

    pub(crate) fn invalid(reason: impl Into<String>) -> AdminError {
        AdminError::InvalidArgument {
            reason: reason.into(),
        }
    }

    /// The Kafka error code, whether this resource's or the whole request's.
    pub fn error_code(&self) -> Option<ErrorCode> {
        match self {
            AdminError::Kafka { code, .. } => Some(*code),
            AdminError::Cluster(error) => error.error_code(),
            _ => None,
        }
    }

    /// Whether the request may have taken effect although no answer came back.
    pub fn may_have_applied(&self) -> bool {
        matches!(self, AdminError::Cluster(error) if error.may_have_applied())
    }

    /// A stable snake_case name for the kind of error (for `--output json`).
    pub fn kind(&self) -> &'static str {
        match self {
            AdminError::Cluster(ClusterError::DeadlineExceeded { .. }) => "timeout",
            AdminError::Cluster(_) => "cluster",
            AdminError::Kafka { .. } => "kafka",
            AdminError::InvalidArgument { .. } => "invalid_argument",
            AdminError::InvalidConfig { .. } => "invalid_config",
            AdminError::UnsupportedProperty { .. } => "unsupported_property",
            AdminError::Io { .. } => "io",
            AdminError::MissingInResponse { .. } => "missing_in_response",
            AdminError::Decode { .. } => "decode",
        }
    }
}

/// Serialized as `{"kind": "kafka", "error_code": "TOPIC_ALREADY_EXISTS", "message": "…",
/// "may_have_applied": false}`.
#[cfg(feature = "serde")]
impl serde::Serialize for AdminError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut state = serializer.serialize_struct("AdminError", 4)?;
        state.serialize_field("kind", self.kind())?;
        state.serialize_field("error_code", &self.error_code().map(ErrorCode::name))?;
        state.serialize_field("may_have_applied", &self.may_have_applied())?;
        state.serialize_field("message", &self.to_string())?;
        state.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kafka_error_keeps_code_message_and_resource() {
        let error = AdminError::from_code(36, Some("exists"), "topic `t`").unwrap();
        assert_eq!(error.error_code(), Some(ErrorCode::TopicAlreadyExists));
        assert_eq!(
            error.to_string(),
            "topic `t`: TOPIC_ALREADY_EXISTS (exists)"
        );
        assert!(AdminError::from_code(0, None::<String>, "x").is_none());
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(json["kind"], "kafka");
        assert_eq!(json["error_code"], "TOPIC_ALREADY_EXISTS");
    }

    #[test]
    fn kafka_error_without_message_uses_the_codes_description() {
        let error = AdminError::from_code(3, None::<String>, "topic `gone`").unwrap();
        assert!(error
            .to_string()
            .starts_with("topic `gone`: UNKNOWN_TOPIC_OR_PARTITION ("));
    }

    #[test]
    fn check_answer_tells_a_missing_entry_from_an_error_and_a_success() {
        assert!(AdminError::check_answer(Some((0, NO_MESSAGE)), "topic `t`").is_ok());
        let error = AdminError::check_answer(Some((36, Some("exists"))), "topic `t`").unwrap_err();
        assert_eq!(error.error_code(), Some(ErrorCode::TopicAlreadyExists));
        assert_eq!(
            error.to_string(),
            "topic `t`: TOPIC_ALREADY_EXISTS (exists)"
        );
        let missing = AdminError::check_answer(None::<(i16, Option<&str>)>, "topic `t`");
        assert!(matches!(
            missing,
            Err(AdminError::MissingInResponse { resource }) if resource == "topic `t`"
        ));
    }
}
