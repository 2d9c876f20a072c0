//! One connection to one Apache Kafka broker, done properly.
//!
//! `klamm-net` sits between the wire codec (`klamm-protocol`) and the cluster layer: it opens
//! a TCP connection (with the configured socket options), wraps it in TLS (rustls) for `SSL` and
//! `SASL_SSL`, negotiates API versions with `ApiVersions`, authenticates with SASL (`PLAIN`,
//! `SCRAM-SHA-256`, `SCRAM-SHA-512`, `OAUTHBEARER`, and `GSSAPI` (Kerberos) with the `gssapi`
//! feature; re-authenticating before the session the broker granted expires), and then carries
//! typed requests, pipelined up to `max_in_flight_requests_per_connection`, each with its own
//! deadline.
//!
//! Everything a connection decides is the sans-IO [`engine::ConnectionState`]: it takes bytes
//! and `now` and is polled for frames to write, its next deadline and events, and is tested with
//! a scripted broker and a fake clock. Framing, correlation ids, version negotiation, the SASL
//! handshake and re-authentication, slots, deadlines and idle close live there; [`sasl`] holds
//! the mechanisms' exchanges and [`backoff`] the reconnect schedule. [`Connection`] is one thin
//! tokio task around the engine. Configuration mirrors kafka-python's names and defaults
//! ([`ConnectionConfig`]); every failure is a typed [`NetError`].
//!
//! Feature `gssapi`: SASL/GSSAPI through the system's MIT Kerberos library, opened at run time
//! (no build-time dependency); see `sasl::gssapi` for where credentials and the KDC come from.
//!
//! ```no_run
//! use klamm_net::{Connection, ConnectionConfig, SaslMechanism, SecurityProtocol};
//! use klamm_protocol::messages::MetadataRequest;
//! use klamm_protocol::ApiKey;
//!
//! # async fn demo() -> Result<(), klamm_net::NetError> {
//! let config = ConnectionConfig::builder()
//!     .security_protocol(SecurityProtocol::SaslSsl)
//!     .ssl_cafile("/etc/kafka/ca.pem")
//!     .sasl_mechanism(SaslMechanism::ScramSha512)
//!     .sasl_plain_username("admin")
//!     .sasl_plain_password("admin-secret")
//!     .build()?;
//! let connection = Connection::connect("kafka-1.example.com:9094", &config).await?;
//! println!("Metadata v{}", connection.version_for(ApiKey::Metadata)?);
//! let metadata = connection.send(MetadataRequest::default()).await?;
//! for broker in &metadata.brokers {
//!     println!("broker {} at {}:{}", broker.node_id, broker.host, broker.port);
//! }
//! # Ok(()) }
//! ```
// `unsafe` is confined to the GSSAPI library bindings (`sasl::gssapi`), which opt in module by
// module; without the `gssapi` feature the crate has none at all.
#![cfg_attr(not(feature = "gssapi"), forbid(unsafe_code))]
#![cfg_attr(feature = "gssapi", deny(unsafe_code))]
#![warn(missing_docs)]

mod address;
pub mod backoff;
mod config;
mod connection;
pub mod engine;
mod error;
mod frame;
mod inflight;
mod metrics;
pub mod oauth;
mod releases;
pub mod sasl;
mod secret;
mod tls;
mod transport;
mod versions;

pub use address::{BrokerAddress, DEFAULT_PORT};
pub use config::{
    ConnectionConfig, ConnectionConfigBuilder, SecurityProtocol, SocketHook, SocketOption,
};
pub use connection::{Connection, RequestOptions, TlsSession};
pub use error::{CloseReason, NetError, Phase, TlsFailure};
pub use metrics::{ApiMetrics, ClientMetrics, MetricsHook, MetricsRecorder, MetricsSnapshot};
pub use releases::KafkaRelease;
pub use sasl::{SaslConfig, SaslMechanism, TokenProvider};
pub use secret::Secret;
pub use tls::{KeyStore, StoreKind, TlsConfig};
pub use transport::{ConnectFuture, Connector, Transport};
pub use versions::ApiVersionTable;
