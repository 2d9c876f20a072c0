//! [`AdminConfig`]: the settings of an [`Admin`](crate::Admin) client, named and defaulted as
//! kafka-python's `KafkaAdminClient` (and so the Java client), built with
//! [`AdminConfigBuilder`] or loaded from a Java-client `.properties` file
//! ([`AdminConfig::from_properties`], in [`properties`](crate::properties)).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use klamm_cluster::{ClusterConfig, ClusterConfigBuilder};
use klamm_net::{
    ConnectionConfigBuilder, KafkaRelease, KeyStore, MetricsRecorder, SaslMechanism, Secret,
    SecurityProtocol, SocketOption, TokenProvider,
};
use klamm_protocol::ApiKey;

use crate::AdminError;

/// Every setting of an [`Admin`](crate::Admin) client: the cluster settings underneath it.
///
/// ```
/// use std::time::Duration;
/// use klamm_admin::AdminConfig;
///
/// let config = AdminConfig::builder()
///     .bootstrap_servers("kafka-1:9092,kafka-2:9092")
///     .client_id("ops")
///     .request_timeout(Duration::from_secs(10))
///     .build()?;
/// assert_eq!(config.cluster.connection.client_id, "ops");
/// assert_eq!(config.cluster.default_api_timeout, Duration::from_secs(60));
/// # Ok::<(), klamm_admin::AdminError>(())
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct AdminConfig {
    /// Bootstrap, metadata, retry and per-connection settings.
    pub cluster: ClusterConfig,
}

impl AdminConfig {
    /// A builder starting from kafka-python's defaults.
    pub fn builder() -> AdminConfigBuilder {
        AdminConfigBuilder::default()
    }

    /// The default deadline of each operation (`default.api.timeout.ms`).
    pub fn default_api_timeout(&self) -> Duration {
        self.cluster.default_api_timeout
    }
}

impl From<ClusterConfig> for AdminConfig {
    fn from(cluster: ClusterConfig) -> Self {
        AdminConfig { cluster }
    }
}

/// Builds an [`AdminConfig`]; setter names follow kafka-python's `KafkaAdminClient` settings
/// (durations instead of `_ms` integers).
#[derive(Debug, Default)]
pub struct AdminConfigBuilder {
    bootstrap_servers: Option<String>,
    connection: ConnectionConfigBuilder,
    metadata_max_age: Option<Duration>,
    retry_backoff: Option<Duration>,
    retry_backoff_max: Option<Duration>,
    default_api_timeout: Option<Duration>,
}

macro_rules! connection_setter {
    ($(#[$doc:meta])* $name:ident: $ty:ty) => {
        $(#[$doc])*
        pub fn $name(mut self, value: $ty) -> Self {
            self.connection = self.connection.$name(value);
            self
        }
    };
}

impl AdminConfigBuilder {
    /// `bootstrap_servers`, comma-separated `host[:port]` (default `localhost:9092`).
    pub fn bootstrap_servers(mut self, servers: impl Into<String>) -> Self {
        self.bootstrap_servers = Some(servers.into());
        self
    }

    /// `metadata_max_age_ms` (300 000 ms).
    pub fn metadata_max_age(mut self, age: Duration) -> Self {
        self.metadata_max_age = Some(age);
        self
    }

    /// `retry_backoff_ms` (100 ms).
    pub fn retry_backoff(mut self, backoff: Duration) -> Self {
        self.retry_backoff = Some(backoff);
        self
    }

    /// Java's `retry.backoff.max.ms` (1000 ms).
    pub fn retry_backoff_max(mut self, backoff: Duration) -> Self {
        self.retry_backoff_max = Some(backoff);
        self
    }

    /// Java's `default.api.timeout.ms` (60 000 ms): the deadline of an operation that does not
    /// pass its own.
    pub fn default_api_timeout(mut self, timeout: Duration) -> Self {
        self.default_api_timeout = Some(timeout);
        self
    }

    connection_setter!(/// `client_id`.
        client_id: impl Into<String>);
    connection_setter!(/// `request_timeout_ms` (30 000 ms): one request on one connection.
        request_timeout: Duration);
    connection_setter!(/// `connections_max_idle_ms` (540 000 ms).
        connections_max_idle: Duration);
    connection_setter!(/// `reconnect_backoff_ms` (50 ms).
        reconnect_backoff: Duration);
    connection_setter!(/// `reconnect_backoff_max_ms` (1000 ms).
        reconnect_backoff_max: Duration);
    connection_setter!(/// Java's `socket.connection.setup.timeout.ms`.
        connect_timeout: Duration);
    connection_setter!(/// `security_protocol` (`PLAINTEXT`).
        security_protocol: SecurityProtocol);
    connection_setter!(/// `ssl_check_hostname` (true).
        ssl_check_hostname: bool);
    connection_setter!(/// `sasl_mechanism` (`SaslMechanism::Gssapi` with the `gssapi` feature).
        sasl_mechanism: SaslMechanism);
    connection_setter!(/// `max_in_flight_requests_per_connection` (5).
        max_in_flight_requests_per_connection: usize);
    connection_setter!(/// `api_version_auto_timeout_ms` (2000 ms): deadline of the `ApiVersions` exchange.
        api_version_auto_timeout: Duration);
    connection_setter!(/// `receive_buffer_bytes`.
        receive_buffer_bytes: usize);
    connection_setter!(/// `send_buffer_bytes`.
        send_buffer_bytes: usize);
    connection_setter!(/// `sasl_kerberos_service_name` (GSSAPI, default `kafka`): the service part of
        /// the broker's principal, `kafka/<host>@REALM`.
        #[cfg(feature = "gssapi")]
        sasl_kerberos_service_name: impl Into<String>);
    connection_setter!(/// `sasl_kerberos_domain_name` (GSSAPI): the host part of the broker's
        /// principal, instead of the host connected to (brokers reached by IP or an alias).
        #[cfg(feature = "gssapi")]
        sasl_kerberos_domain_name: impl Into<String>);
    connection_setter!(/// `sasl_kerberos_principal` (GSSAPI, librdkafka's name): the client principal
        /// (default: the credential cache's).
        #[cfg(feature = "gssapi")]
        sasl_kerberos_principal: impl Into<String>);
    connection_setter!(/// `sasl_kerberos_keytab` (GSSAPI, librdkafka's name): log in with this keytab
        /// instead of using the credential cache (`KRB5CCNAME`).
        #[cfg(feature = "gssapi")]
        sasl_kerberos_keytab: impl Into<PathBuf>);

    /// `ssl_cafile`: PEM file of the CAs to trust.
    pub fn ssl_cafile(mut self, path: impl Into<PathBuf>) -> Self {
        self.connection = self.connection.ssl_cafile(path);
        self
    }

    /// `ssl_certfile`: PEM client certificate chain.
    pub fn ssl_certfile(mut self, path: impl Into<PathBuf>) -> Self {
        self.connection = self.connection.ssl_certfile(path);
        self
    }

    /// `ssl_keyfile`: PEM private key of the client certificate.
    pub fn ssl_keyfile(mut self, path: impl Into<PathBuf>) -> Self {
        self.connection = self.connection.ssl_keyfile(path);
        self
    }

    /// `ssl_password`: password of an encrypted `ssl_keyfile` (or inline PEM key).
    pub fn ssl_password(mut self, password: impl Into<Secret>) -> Self {
        self.connection = self.connection.ssl_password(password);
        self
    }

    /// `sasl_plain_username` (PLAIN and SCRAM).
    pub fn sasl_plain_username(mut self, username: impl Into<String>) -> Self {
        self.connection = self.connection.sasl_plain_username(username);
        self
    }

    /// `sasl_plain_password` (PLAIN and SCRAM); kept in a type whose `Debug` prints `***`.
    pub fn sasl_plain_password(mut self, password: impl Into<Secret>) -> Self {
        self.connection = self.connection.sasl_plain_password(password);
        self
    }

    /// `ssl_crlfile`: PEM CRLs checked against the broker's certificate chain; a revoked broker
    /// certificate fails the handshake with `TlsFailure::CertificateRevoked`.
    pub fn ssl_crlfile(mut self, path: impl Into<PathBuf>) -> Self {
        self.connection = self.connection.ssl_crlfile(path);
        self
    }

    /// PEM CA certificates as text (Java's `ssl.truststore.certificates`).
    pub fn ssl_cadata(mut self, pem: impl Into<String>) -> Self {
        self.connection = self.connection.ssl_cadata(pem);
        self
    }

    /// A PKCS#12 trust store (Java's `ssl.truststore.location`).
    pub fn ssl_truststore(mut self, store: KeyStore) -> Self {
        self.connection = self.connection.ssl_truststore(store);
        self
    }

    /// A PKCS#12 key store with the client key and chain (Java's `ssl.keystore.location`).
    pub fn ssl_keystore(mut self, store: KeyStore) -> Self {
        self.connection = self.connection.ssl_keystore(store);
        self
    }

    /// The client certificate chain and key as PEM text (Java's
    /// `ssl.keystore.certificate.chain` and `ssl.keystore.key`).
    pub fn ssl_client_pem(mut self, chain: impl Into<String>, key: impl Into<Secret>) -> Self {
        self.connection = self.connection.ssl_client_pem(chain, key);
        self
    }

    /// `ssl_context`: a ready rustls configuration; the other `ssl_*` settings are then unused.
    pub fn ssl_context(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        self.connection = self.connection.ssl_context(config);
        self
    }

    /// `socket_options`: replaces the options applied to each socket (default `[NoDelay(true)]`).
    pub fn socket_options(mut self, options: Vec<SocketOption>) -> Self {
        self.connection = self.connection.socket_options(options);
        self
    }

    /// A function given each socket before it connects, for options [`SocketOption`] lacks.
    pub fn socket_hook(
        mut self,
        hook: impl Fn(&socket2::SockRef<'_>) -> std::io::Result<()> + Send + Sync + 'static,
    ) -> Self {
        self.connection = self.connection.socket_hook(hook);
        self
    }

    /// `api_version`: holds every API to the highest version Kafka `release` supports
    /// (`"2.8".parse()?` or `KafkaRelease::try_from((2, 8))?`); see [`KafkaRelease`].
    pub fn api_version(mut self, release: KafkaRelease) -> Self {
        self.connection = self.connection.api_version(release);
        self
    }

    /// Uses `version` of `api` instead of the negotiated one (wins over `api_version`).
    pub fn pin_api_version(mut self, api: ApiKey, version: i16) -> Self {
        self.connection = self.connection.pin_api_version(api, version);
        self
    }

    /// `sasl_oauth_token_provider`: OAUTHBEARER with tokens from `provider` (for example a
    /// `klamm_net::oauth::OAuthTokenProvider`); implies `sasl_mechanism(OAuthBearer)`.
    pub fn sasl_oauth_token_provider(mut self, provider: impl TokenProvider) -> Self {
        self.connection = self.connection.sasl_oauth_token_provider(provider);
        self
    }

    /// kafka-python's `metrics`: `recorder` is told of every request, response, timeout and
    /// byte count of every broker connection; [`ClientMetrics`](klamm_net::ClientMetrics)
    /// keeps them per broker.
    pub fn metrics(mut self, recorder: Arc<dyn MetricsRecorder>) -> Self {
        self.connection = self.connection.metrics(recorder);
        self
    }

    /// The configuration, if it is consistent.
    pub fn build(self) -> Result<AdminConfig, AdminError> {
        let connection = self
            .connection
            .build()
            .map_err(|error| AdminError::InvalidConfig {
                key: "connection".into(),
                reason: error.to_string(),
            })?;
        let mut cluster: ClusterConfigBuilder = ClusterConfig::builder().connection(connection);
        if let Some(servers) = self.bootstrap_servers {
            cluster = cluster.bootstrap_servers(servers);
        }
        if let Some(age) = self.metadata_max_age {
            cluster = cluster.metadata_max_age(age);
        }
        if let Some(backoff) = self.retry_backoff {
            cluster = cluster.retry_backoff(backoff);
        }
        if let Some(backoff) = self.retry_backoff_max {
            cluster = cluster.retry_backoff_max(backoff);
        }
        if let Some(timeout) = self.default_api_timeout {
            cluster = cluster.default_api_timeout(timeout);
        }
        let cluster = cluster.build()?;
        Ok(AdminConfig { cluster })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_mirror_kafka_python() {
        let config = AdminConfig::builder().build().unwrap();
        assert_eq!(
            config.cluster.metadata_max_age,
            Duration::from_millis(300_000)
        );
        assert_eq!(config.cluster.retry_backoff, Duration::from_millis(100));
        assert_eq!(
            config.cluster.connection.request_timeout,
            Duration::from_millis(30_000)
        );
        assert_eq!(config.default_api_timeout(), Duration::from_millis(60_000));
    }

    #[test]
    fn sasl_without_password_is_a_config_error() {
        let error = AdminConfig::builder()
            .security_protocol(SecurityProtocol::SaslPlaintext)
            .sasl_mechanism(SaslMechanism::Plain)
            .sasl_plain_username("alice")
            .build()
            .unwrap_err();
        assert!(matches!(error, AdminError::InvalidConfig { .. }), "{error}");
    }
}
