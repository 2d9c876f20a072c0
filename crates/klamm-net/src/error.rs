//! [`NetError`]: everything that can go wrong on one broker connection, typed so that callers
//! (and people reading logs) can tell a refused port from an untrusted certificate from a wrong
//! password without parsing strings.
//!
//! Every variant names the broker address it concerns. Secrets never appear in any variant.
//!
//! Errors print once: a variant that wraps a lower error (its `cause` field) includes it in its
//! message and does not return it from `source()`, so `{}`, `{:#}` and log reporters that walk
//! the source chain show each level exactly once.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use klamm_protocol::{ApiKey, DecodeError, EncodeError, ErrorCode, VersionRange};

/// The phase of a connection's life a timeout interrupted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Phase {
    /// Resolving the address and opening the TCP connection.
    Connect,
    /// The TLS handshake.
    TlsHandshake,
    /// The `ApiVersions` exchange that negotiates versions.
    ApiVersions,
    /// The SASL handshake and authentication (including re-authentication).
    Sasl,
    /// An ordinary request of the named API.
    Request(ApiKey),
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Phase::Connect => f.write_str("TCP connect"),
            Phase::TlsHandshake => f.write_str("TLS handshake"),
            Phase::ApiVersions => f.write_str("ApiVersions negotiation"),
            Phase::Sasl => f.write_str("SASL authentication"),
            Phase::Request(api) => write!(f, "{api} request"),
        }
    }
}

/// What kind of TLS failure ended a handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsFailure {
    /// The broker's certificate chain does not lead to a trusted CA (unknown issuer, bad
    /// signature, expired …): check `ssl_cafile`.
    UntrustedCertificate,
    /// A certificate of the broker's chain is revoked by a CRL of `ssl_crlfile`.
    CertificateRevoked,
    /// `ssl_crlfile` holds no CRL from the issuer of a certificate in the broker's chain, so its
    /// revocation cannot be checked: add that CA's CRL.
    RevocationStatusUnknown,
    /// The broker's certificate is valid but not for the name we connected to: check the
    /// address, the certificate's SANs, or `ssl_check_hostname`.
    HostnameMismatch,
    /// The broker refused our client certificate (or wanted one and got none).
    ClientCertificateRejected,
    /// Any other TLS failure (protocol mismatch, no common cipher suite, …).
    Other,
}

impl fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TlsFailure::UntrustedCertificate => "broker certificate is not trusted",
            TlsFailure::CertificateRevoked => {
                "broker certificate is revoked (by a CRL in ssl_crlfile)"
            }
            TlsFailure::RevocationStatusUnknown => {
                "no CRL in ssl_crlfile is from the issuer of the broker certificate"
            }
            TlsFailure::HostnameMismatch => "broker certificate does not match the host name",
            TlsFailure::ClientCertificateRejected => "broker rejected the client certificate",
            TlsFailure::Other => "TLS failure",
        })
    }
}

/// Why a connection is closed; shared by every request that was waiting on it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum CloseReason {
    /// The broker closed the TCP connection.
    PeerClosed,
    /// No request was sent or answered for `connections_max_idle`.
    Idle(Duration),
    /// The broker sent nothing for this long (`request_timeout`) while written requests
    /// waited for their answers: it is stuck, or the network path to it is gone.
    Unresponsive(Duration),
    /// The [`Connection`](crate::Connection) was closed or dropped by its owner.
    ClosedByClient,
    /// A fatal error (I/O failure, malformed frame, unknown correlation id, failed
    /// re-authentication …).
    Failed(Arc<NetError>),
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CloseReason::PeerClosed => f.write_str("the broker closed the connection"),
            CloseReason::Idle(after) => write!(f, "idle for {} ms", after.as_millis()),
            CloseReason::Unresponsive(after) => write!(
                f,
                "the broker sent nothing for {} ms while requests waited for answers",
                after.as_millis()
            ),
            CloseReason::ClosedByClient => f.write_str("closed by the client"),
            CloseReason::Failed(error) => write!(f, "{error}"),
        }
    }
}

/// Every way a broker connection can fail.
///
/// `Clone`, so that one fatal error can be handed to every request that was in flight; I/O
/// errors are kept behind an `Arc` for that.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// The address is not `host:port` (or `host`, `[v6]:port`).
    #[error("invalid broker address `{addr}`: {reason}")]
    InvalidAddress {
        /// The address as given.
        addr: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The configuration is inconsistent (e.g. SASL without credentials).
    #[error("invalid configuration: {reason}")]
    InvalidConfig {
        /// What is wrong.
        reason: String,
    },
    /// The host name did not resolve.
    #[error("could not resolve {addr}: {cause}")]
    Resolve {
        /// The broker address.
        addr: String,
        /// The resolver's error.
        cause: Arc<io::Error>,
    },
    /// The TCP connection was refused or the host is unreachable.
    #[error("could not connect to {addr}: {cause}")]
    Connect {
        /// The broker address.
        addr: String,
        /// The socket error (`ConnectionRefused`, `HostUnreachable`, …).
        cause: Arc<io::Error>,
    },
    /// A phase did not finish within its deadline.
    #[error("{phase} with {addr} timed out after {} ms", after.as_millis())]
    Timeout {
        /// The broker address.
        addr: String,
        /// What was being done.
        phase: Phase,
        /// The deadline that passed.
        after: Duration,
    },
    /// Reading a TLS file (CA, certificate, key, CRL) or building the TLS configuration failed.
    #[error("TLS configuration: {what}: {reason}")]
    TlsConfig {
        /// Which file or setting.
        what: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `ssl_password` does not decrypt the encrypted private key (the password is never
    /// shown).
    #[error("TLS configuration: {}: ssl_password does not decrypt this private key (wrong password?)", keyfile.display())]
    WrongKeyPassword {
        /// The key file.
        keyfile: PathBuf,
    },
    /// The TLS handshake (or a TLS alert right after it) failed.
    #[error("TLS with {addr} failed: {kind}: {cause}")]
    Tls {
        /// The broker address.
        addr: String,
        /// The kind of failure.
        kind: TlsFailure,
        /// rustls' own error.
        cause: rustls::Error,
    },
    /// The broker does not offer the SASL mechanism we are configured for.
    #[error("{addr} does not enable SASL mechanism {mechanism} (enabled: {})", enabled.join(", "))]
    UnsupportedSaslMechanism {
        /// The broker address.
        addr: String,
        /// The mechanism we asked for.
        mechanism: String,
        /// The mechanisms the broker enables.
        enabled: Vec<String>,
    },
    /// The broker rejected our credentials.
    #[error("SASL {mechanism} authentication with {addr} failed ({}): {}", error_code.name(), message.as_deref().unwrap_or("no message from broker"))]
    AuthenticationFailed {
        /// The broker address.
        addr: String,
        /// The mechanism used.
        mechanism: String,
        /// The broker's error code.
        error_code: ErrorCode,
        /// The broker's error message, if it sent one.
        message: Option<String>,
    },
    /// The SASL exchange broke down on our side (malformed server message, bad server
    /// signature, token provider failure).
    #[error("SASL {mechanism} exchange with {addr} failed: {reason}")]
    SaslProtocol {
        /// The broker address.
        addr: String,
        /// The mechanism used.
        mechanism: String,
        /// What went wrong.
        reason: String,
    },
    /// GSSAPI (Kerberos) failed on the client side: the library is missing, no credentials,
    /// the KDC does not know the broker's service, the security layer broke down… The source
    /// carries the GSS-API status codes and the library's text for them.
    #[cfg(feature = "gssapi")]
    #[error("SASL GSSAPI with {addr} (service {service}) failed: {cause}")]
    Gssapi {
        /// The broker address.
        addr: String,
        /// The broker's service name asked for, e.g. `kafka@broker-1.example.com`.
        service: String,
        /// What failed.
        cause: crate::sasl::gssapi::GssapiError,
    },
    /// No version both we and the broker support (or a pinned version the broker lacks).
    #[error("{api} needs version {wanted} but {}", match broker_range { Some(range) => format!("the broker supports {range}"), None => "the broker does not support it".to_owned() })]
    UnsupportedVersion {
        /// The API.
        api: ApiKey,
        /// The versions we could use (or the one pinned / asked for).
        wanted: VersionRange,
        /// The versions the broker supports, `None` if it does not list the API.
        broker_range: Option<VersionRange>,
    },
    /// `api_version` names a Kafka release this build has no request versions for.
    #[error("unknown Kafka release `{release}` for api_version (known: {known})")]
    UnknownKafkaRelease {
        /// The release as given.
        release: String,
        /// The releases this build knows, e.g. `2.0 to 4.4`.
        known: String,
    },
    /// `api_version` holds the client to a Kafka release that does not have the version of
    /// `api` an operation needs, or does not have `api` at all.
    #[error("{api} needs version {wanted}, but Kafka {release} (api_version) {}", match highest { Some(v) => format!("supports up to v{v}"), None => format!("does not have {api}") })]
    NotInRelease {
        /// The API.
        api: ApiKey,
        /// The versions the operation can use.
        wanted: VersionRange,
        /// The release of `api_version`.
        release: crate::KafkaRelease,
        /// Its highest version of `api`, `None` if it does not have it.
        highest: Option<i16>,
    },
    /// The broker answered a request with an error code where the connection layer needs
    /// success (ApiVersions, SaslHandshake).
    #[error("{addr} answered {api} with {}: {}", error_code.name(), error_code.message())]
    BrokerError {
        /// The broker address.
        addr: String,
        /// The API.
        api: ApiKey,
        /// The error code.
        error_code: ErrorCode,
    },
    /// A frame's length prefix exceeds the configured maximum.
    #[error("frame from {addr} claims {size} bytes, more than the maximum of {max}")]
    FrameTooLarge {
        /// The broker address.
        addr: String,
        /// The length the prefix claimed.
        size: u64,
        /// The configured maximum.
        max: usize,
    },
    /// A frame could not be decoded.
    #[error("malformed {what} from {addr}: {cause}")]
    MalformedFrame {
        /// The broker address.
        addr: String,
        /// What was being decoded (a response name or "response header").
        what: &'static str,
        /// The decoder's error.
        cause: DecodeError,
    },
    /// A request could not be encoded.
    #[error("could not encode {api} v{version}: {cause}")]
    Encode {
        /// The API.
        api: ApiKey,
        /// The version.
        version: i16,
        /// The encoder's error.
        cause: EncodeError,
    },
    /// The broker answered with a correlation id we never sent (or already answered): the
    /// stream is out of sync and the connection is closed.
    #[error("{addr} sent a response with correlation id {correlation_id}, which matches no request in flight ({in_flight} in flight); closing the connection")]
    UnknownCorrelationId {
        /// The broker address.
        addr: String,
        /// The correlation id read.
        correlation_id: i32,
        /// How many requests were in flight.
        in_flight: usize,
    },
    /// Reading or writing the socket failed after the connection was established.
    #[error("I/O error on connection to {addr}: {cause}")]
    Io {
        /// The broker address.
        addr: String,
        /// The error.
        cause: Arc<io::Error>,
    },
    /// The connection is closed; the reason says why.
    #[error("connection to {addr} is closed: {reason}")]
    ConnectionClosed {
        /// The broker address.
        addr: String,
        /// Why it closed.
        reason: CloseReason,
    },
}

impl NetError {
    /// The error that closed the connection, if `self` is [`NetError::ConnectionClosed`] with a
    /// [`CloseReason::Failed`]; otherwise `self`.
    ///
    /// Requests that were in flight when a fatal error struck all see `ConnectionClosed`; this
    /// gets at the error itself.
    pub fn root_cause(&self) -> &NetError {
        match self {
            NetError::ConnectionClosed {
                reason: CloseReason::Failed(inner),
                ..
            } => inner.root_cause(),
            other => other,
        }
    }

    /// Whether retrying on a new connection may succeed (timeouts, refused or closed
    /// connections, I/O errors, a Kerberos KDC out of reach), as opposed to errors a retry would
    /// repeat (bad credentials, untrusted certificates, unsupported versions, bad
    /// configuration).
    pub fn is_retriable(&self) -> bool {
        match self.root_cause() {
            NetError::Connect { .. }
            | NetError::Resolve { .. }
            | NetError::Timeout { .. }
            | NetError::Io { .. }
            | NetError::UnknownCorrelationId { .. } => true,
            NetError::ConnectionClosed { reason, .. } => {
                !matches!(reason, CloseReason::ClosedByClient)
            }
            #[cfg(feature = "gssapi")]
            NetError::Gssapi { cause: source, .. } => source.is_retriable(),
            _ => false,
        }
    }

    /// Whether the request this error ended may have reached the broker, so that the broker
    /// may have acted on it although no answer came back.
    ///
    /// `false` only for errors that happen before the request is written: connecting and the
    /// handshakes, version negotiation, encoding. Any failure of the connection afterwards
    /// (closed, I/O error, request timeout, an unreadable or unmatched response) counts as
    /// "may have", even when the connection had in fact closed before the request was queued:
    /// [`NetError::ConnectionClosed`] does not say which, and erring this way is the safe one.
    pub fn may_have_reached_broker(&self) -> bool {
        match self {
            NetError::ConnectionClosed { .. }
            | NetError::Io { .. }
            | NetError::UnknownCorrelationId { .. }
            | NetError::MalformedFrame { .. }
            | NetError::FrameTooLarge { .. }
            | NetError::Timeout {
                phase: Phase::Request(_),
                ..
            } => true,
            NetError::InvalidAddress { .. }
            | NetError::InvalidConfig { .. }
            | NetError::Resolve { .. }
            | NetError::Connect { .. }
            | NetError::Timeout { .. }
            | NetError::TlsConfig { .. }
            | NetError::WrongKeyPassword { .. }
            | NetError::Tls { .. }
            | NetError::UnsupportedSaslMechanism { .. }
            | NetError::AuthenticationFailed { .. }
            | NetError::SaslProtocol { .. }
            | NetError::UnsupportedVersion { .. }
            | NetError::UnknownKafkaRelease { .. }
            | NetError::NotInRelease { .. }
            | NetError::BrokerError { .. }
            | NetError::Encode { .. } => false,
            #[cfg(feature = "gssapi")]
            NetError::Gssapi { .. } => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsupported_version_names_api_and_both_ranges() {
        let error = NetError::UnsupportedVersion {
            api: ApiKey::DescribeConfigs,
            wanted: VersionRange::new(4, 4),
            broker_range: Some(VersionRange::new(0, 3)),
        };
        assert_eq!(
            error.to_string(),
            "DescribeConfigs needs version 4 but the broker supports 0-3"
        );
    }

    #[test]
    fn root_cause_unwraps_closed_connections() {
        let inner = NetError::UnknownCorrelationId {
            addr: "b:9092".into(),
            correlation_id: 7,
            in_flight: 1,
        };
        let outer = NetError::ConnectionClosed {
            addr: "b:9092".into(),
            reason: CloseReason::Failed(Arc::new(inner)),
        };
        assert!(matches!(
            outer.root_cause(),
            NetError::UnknownCorrelationId {
                correlation_id: 7,
                ..
            }
        ));
        assert!(outer.to_string().contains("correlation id 7"), "{outer}");
    }

    #[test]
    fn only_errors_after_writing_may_have_reached_the_broker() {
        let addr = || "b:9092".to_owned();
        let before = [
            NetError::UnsupportedVersion {
                api: ApiKey::CreateTopics,
                wanted: VersionRange::new(2, 7),
                broker_range: None,
            },
            NetError::Connect {
                addr: addr(),
                cause: Arc::new(io::Error::from(io::ErrorKind::ConnectionRefused)),
            },
            NetError::Timeout {
                addr: addr(),
                phase: Phase::Connect,
                after: Duration::from_secs(1),
            },
        ];
        for error in &before {
            assert!(!error.may_have_reached_broker(), "{error}");
        }
        let after = [
            NetError::Timeout {
                addr: addr(),
                phase: Phase::Request(ApiKey::CreateTopics),
                after: Duration::from_secs(1),
            },
            NetError::ConnectionClosed {
                addr: addr(),
                reason: CloseReason::PeerClosed,
            },
            NetError::Io {
                addr: addr(),
                cause: Arc::new(io::Error::from(io::ErrorKind::ConnectionReset)),
            },
        ];
        for error in &after {
            assert!(error.may_have_reached_broker(), "{error}");
        }
    }

    #[test]
    fn authentication_failure_is_not_retriable_but_timeout_is() {
        let auth = NetError::AuthenticationFailed {
            addr: "b:9092".into(),
            mechanism: "PLAIN".into(),
            error_code: ErrorCode::SaslAuthenticationFailed,
            message: Some("Authentication failed: Invalid username or password".into()),
        };
        assert!(!auth.is_retriable());
        assert!(auth.to_string().contains("Invalid username or password"));
        let timeout = NetError::Timeout {
            addr: "b:9092".into(),
            phase: Phase::Request(ApiKey::Metadata),
            after: Duration::from_millis(1500),
        };
        assert!(timeout.is_retriable());
        assert_eq!(
            timeout.to_string(),
            "Metadata request with b:9092 timed out after 1500 ms"
        );
    }

    #[cfg(feature = "gssapi")]
    #[test]
    fn gssapi_error_is_retriable_only_when_the_kdc_was_out_of_reach() {
        use crate::sasl::gssapi::GssapiError;

        let gssapi = |minor| NetError::Gssapi {
            addr: "b:9092".into(),
            service: "kafka@b".into(),
            cause: GssapiError::Call {
                call: "gss_init_sec_context",
                major: 0x000d_0000,
                minor,
                message: String::new(),
            },
        };
        // KRB5_KDC_UNREACH; KRB5KDC_ERR_PREAUTH_FAILED.
        assert!(gssapi(0x96c7_3a9c).is_retriable());
        assert!(!gssapi(0x96c7_3a18).is_retriable());
        let closed = NetError::ConnectionClosed {
            addr: "b:9092".into(),
            reason: CloseReason::Failed(Arc::new(gssapi(0x96c7_3a9c))),
        };
        assert!(closed.is_retriable());
    }
}
