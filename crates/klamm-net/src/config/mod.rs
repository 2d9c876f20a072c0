//! [`ConnectionConfig`]: every setting of a broker connection, named and defaulted as in
//! kafka-python (and so the Java client), built with [`ConnectionConfigBuilder`].

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use klamm_protocol::ApiKey;

use crate::frame::DEFAULT_MAX_FRAME_SIZE;
use crate::metrics::{MetricsHook, MetricsRecorder};
use crate::sasl::{SaslConfig, SaslMechanism, TokenProvider};
use crate::tls::{KeyStore, TlsConfig};
use crate::{Connector, KafkaRelease, NetError, Secret};

/// How bytes travel to the broker (`security_protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SecurityProtocol {
    /// Plain TCP.
    #[default]
    Plaintext,
    /// TLS.
    Ssl,
    /// SASL over plain TCP.
    SaslPlaintext,
    /// SASL over TLS.
    SaslSsl,
}

impl SecurityProtocol {
    /// Kafka's name for it, e.g. `SASL_SSL`.
    pub const fn name(self) -> &'static str {
        match self {
            SecurityProtocol::Plaintext => "PLAINTEXT",
            SecurityProtocol::Ssl => "SSL",
            SecurityProtocol::SaslPlaintext => "SASL_PLAINTEXT",
            SecurityProtocol::SaslSsl => "SASL_SSL",
        }
    }

    /// Whether the connection uses TLS.
    pub const fn uses_tls(self) -> bool {
        matches!(self, SecurityProtocol::Ssl | SecurityProtocol::SaslSsl)
    }

    /// Whether the connection authenticates with SASL.
    pub const fn uses_sasl(self) -> bool {
        matches!(
            self,
            SecurityProtocol::SaslPlaintext | SecurityProtocol::SaslSsl
        )
    }
}

impl fmt::Display for SecurityProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SecurityProtocol {
    type Err = NetError;

    fn from_str(name: &str) -> Result<Self, NetError> {
        match name.to_ascii_uppercase().as_str() {
            "PLAINTEXT" => Ok(SecurityProtocol::Plaintext),
            "SSL" => Ok(SecurityProtocol::Ssl),
            "SASL_PLAINTEXT" => Ok(SecurityProtocol::SaslPlaintext),
            "SASL_SSL" => Ok(SecurityProtocol::SaslSsl),
            _ => Err(NetError::InvalidConfig {
                reason: format!("unknown security_protocol `{name}`"),
            }),
        }
    }
}

/// A socket option applied before connecting (kafka-python's `socket_options`).
///
/// Raw `setsockopt` calls would need `unsafe`; these are the options `socket2` exposes safely.
/// For anything else, see [`ConnectionConfigBuilder::socket_hook`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SocketOption {
    /// `TCP_NODELAY` (on by default).
    NoDelay(bool),
    /// `SO_KEEPALIVE`, with the idle time before the first probe if given.
    KeepAlive(Option<Duration>),
    /// `SO_LINGER`.
    Linger(Option<Duration>),
    /// `IP_TTL` / `IPV6_UNICAST_HOPS`.
    Ttl(u32),
    /// `TCP_USER_TIMEOUT` (Linux only; ignored elsewhere).
    UserTimeout(Option<Duration>),
}

/// A function given the socket before it connects, for options [`SocketOption`] lacks.
pub type SocketHook = Arc<dyn Fn(&socket2::SockRef<'_>) -> std::io::Result<()> + Send + Sync>;

/// Every setting of one broker connection. Build it with [`ConnectionConfig::builder`];
/// defaults are kafka-python's.
#[derive(Clone)]
#[non_exhaustive]
pub struct ConnectionConfig {
    /// Sent in every request header. Default `klamm-<version>`.
    pub client_id: String,
    /// `client_software_name` / `client_software_version` of `ApiVersions` v3+.
    pub client_software: (String, String),
    /// Deadline of each request (`request_timeout_ms`, default 30 000 ms).
    pub request_timeout: Duration,
    /// Requests pipelined before `send` waits (default 5).
    pub max_in_flight_requests_per_connection: usize,
    /// The connection closes after this long without traffic (default 540 000 ms).
    pub connections_max_idle: Duration,
    /// First reconnect delay (default 50 ms); see [`crate::backoff`].
    pub reconnect_backoff: Duration,
    /// Longest reconnect delay (default 1000 ms).
    pub reconnect_backoff_max: Duration,
    /// `SO_RCVBUF`; `None` keeps the system default.
    pub receive_buffer_bytes: Option<usize>,
    /// `SO_SNDBUF`; `None` keeps the system default.
    pub send_buffer_bytes: Option<usize>,
    /// Socket options (default `[NoDelay(true)]`).
    pub socket_options: Vec<SocketOption>,
    /// Called with the socket after `socket_options`, before connecting.
    pub socket_hook: Option<SocketHook>,
    /// Opens the byte stream instead of a TCP connection (the socket settings above are then
    /// unused).
    pub connector: Option<Arc<dyn Connector>>,
    /// Deadline of TCP connect and, separately, of the TLS handshake (default 10 000 ms, the
    /// Java client's `socket.connection.setup.timeout.ms`).
    pub connect_timeout: Duration,
    /// PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.
    pub security_protocol: SecurityProtocol,
    /// API versions to use instead of negotiating the highest common one (per API; they win
    /// over `api_version`).
    pub api_version_pins: BTreeMap<ApiKey, i16>,
    /// `api_version`: the Kafka release whose highest version of each API caps negotiation
    /// (`None`, the default, negotiates freely). See [`KafkaRelease`].
    pub api_version: Option<KafkaRelease>,
    /// Deadline of the `ApiVersions` exchange (`api_version_auto_timeout_ms`, default 2000 ms).
    pub api_version_auto_timeout: Duration,
    /// Largest response frame accepted (default 100 MiB).
    pub max_frame_size: usize,
    /// TLS settings, used with SSL and SASL_SSL.
    pub tls: TlsConfig,
    /// SASL mechanism and credentials, required with SASL_PLAINTEXT and SASL_SSL.
    pub sasl: Option<SaslConfig>,
    /// kafka-python's `metrics`: told of every counter update of every connection made with
    /// these settings (see [`MetricsRecorder`]); `None` (default) keeps only each connection's
    /// own counters ([`Connection::metrics`](crate::Connection::metrics)).
    pub metrics: Option<MetricsHook>,
}

impl fmt::Debug for ConnectionConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionConfig")
            .field("client_id", &self.client_id)
            .field("request_timeout", &self.request_timeout)
            .field(
                "max_in_flight_requests_per_connection",
                &self.max_in_flight_requests_per_connection,
            )
            .field("connections_max_idle", &self.connections_max_idle)
            .field("security_protocol", &self.security_protocol)
            .field("socket_options", &self.socket_options)
            .field("api_version_pins", &self.api_version_pins)
            .field("api_version", &self.api_version)
            .field("tls", &self.tls)
            .field("sasl", &self.sasl)
            .field("metrics", &self.metrics)
            .finish_non_exhaustive()
    }
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        let version = env!("CARGO_PKG_VERSION");
        ConnectionConfig {
            client_id: format!("klamm-{version}"),
            client_software: ("klamm".to_owned(), version.to_owned()),
            request_timeout: Duration::from_millis(30_000),
            max_in_flight_requests_per_connection: 5,
            connections_max_idle: Duration::from_millis(540_000),
            reconnect_backoff: Duration::from_millis(50),
            reconnect_backoff_max: Duration::from_millis(1000),
            receive_buffer_bytes: None,
            send_buffer_bytes: None,
            socket_options: vec![SocketOption::NoDelay(true)],
            socket_hook: None,
            connector: None,
            connect_timeout: Duration::from_millis(10_000),
            security_protocol: SecurityProtocol::Plaintext,
            api_version_pins: BTreeMap::new(),
            api_version: None,
            api_version_auto_timeout: Duration::from_millis(2000),
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
            tls: TlsConfig::default(),
            sasl: None,
            metrics: None,
        }
    }
}

impl ConnectionConfig {
    /// A builder starting from the defaults.
    ///
    /// ```
    /// use std::time::Duration;
    /// use klamm_net::{ConnectionConfig, SecurityProtocol, SaslMechanism};
    ///
    /// let config = ConnectionConfig::builder()
    ///     .client_id("ops-tool")
    ///     .request_timeout(Duration::from_secs(10))
    ///     .security_protocol(SecurityProtocol::SaslSsl)
    ///     .sasl_mechanism(SaslMechanism::ScramSha512)
    ///     .sasl_plain_username("admin")
    ///     .sasl_plain_password("secret")
    ///     .ssl_cafile("/etc/kafka/ca.pem")
    ///     .build()?;
    /// assert_eq!(config.max_in_flight_requests_per_connection, 5);
    /// assert!(!format!("{config:?}").contains("secret"));
    /// # Ok::<(), klamm_net::NetError>(())
    /// ```
    pub fn builder() -> ConnectionConfigBuilder {
        ConnectionConfigBuilder::default()
    }

    /// Checks that the settings fit together.
    pub fn validate(&self) -> Result<(), NetError> {
        let invalid = |reason: &str| {
            Err(NetError::InvalidConfig {
                reason: reason.to_owned(),
            })
        };
        if self.max_in_flight_requests_per_connection == 0 {
            return invalid("max_in_flight_requests_per_connection must be at least 1");
        }
        if self.request_timeout.is_zero() || self.connect_timeout.is_zero() {
            return invalid("timeouts must be positive");
        }
        match (self.security_protocol.uses_sasl(), &self.sasl) {
            (true, None) => {
                invalid("security_protocol SASL_* needs sasl_mechanism and its credentials")
            }
            (false, Some(_)) => invalid(
                "SASL is configured but security_protocol is not SASL_PLAINTEXT or SASL_SSL",
            ),
            _ => Ok(()),
        }
    }
}

/// Builds a [`ConnectionConfig`]; setter names follow kafka-python's settings.
#[derive(Default)]
pub struct ConnectionConfigBuilder {
    config: ConnectionConfig,
    sasl_mechanism: Option<SaslMechanism>,
    sasl_username: Option<String>,
    sasl_password: Option<Secret>,
    token_provider: Option<SaslConfig>,
    #[cfg(feature = "gssapi")]
    kerberos: crate::sasl::gssapi::GssapiConfig,
}

impl fmt::Debug for ConnectionConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("ConnectionConfigBuilder");
        debug
            .field("config", &self.config)
            .field("sasl_mechanism", &self.sasl_mechanism)
            .field("sasl_username", &self.sasl_username)
            .field("sasl_password", &self.sasl_password);
        #[cfg(feature = "gssapi")]
        debug.field("kerberos", &self.kerberos);
        debug.finish_non_exhaustive()
    }
}

macro_rules! setter {
    ($(#[$doc:meta])* $name:ident: $ty:ty => $($field:ident).+) => {
        $(#[$doc])*
        pub fn $name(mut self, value: $ty) -> Self {
            self.config.$($field).+ = value.into();
            self
        }
    };
}

impl ConnectionConfigBuilder {
    setter!(/// `client_id`.
        client_id: impl Into<String> => client_id);
    setter!(/// `request_timeout_ms`.
        request_timeout: Duration => request_timeout);
    setter!(/// `max_in_flight_requests_per_connection`.
        max_in_flight_requests_per_connection: usize => max_in_flight_requests_per_connection);
    setter!(/// `connections_max_idle_ms`.
        connections_max_idle: Duration => connections_max_idle);
    setter!(/// `reconnect_backoff_ms`.
        reconnect_backoff: Duration => reconnect_backoff);
    setter!(/// `reconnect_backoff_max_ms`.
        reconnect_backoff_max: Duration => reconnect_backoff_max);
    setter!(/// `connect_timeout` (TCP connect, and separately the TLS handshake).
        connect_timeout: Duration => connect_timeout);
    setter!(/// `security_protocol`.
        security_protocol: SecurityProtocol => security_protocol);
    setter!(/// `api_version_auto_timeout_ms`.
        api_version_auto_timeout: Duration => api_version_auto_timeout);
    setter!(/// Largest response frame accepted.
        max_frame_size: usize => max_frame_size);
    setter!(/// `ssl_check_hostname`: `false` still verifies the chain, only not the name.
        ssl_check_hostname: bool => tls.check_hostname);

    /// `receive_buffer_bytes` (`SO_RCVBUF`).
    pub fn receive_buffer_bytes(mut self, bytes: usize) -> Self {
        self.config.receive_buffer_bytes = Some(bytes);
        self
    }

    /// `send_buffer_bytes` (`SO_SNDBUF`).
    pub fn send_buffer_bytes(mut self, bytes: usize) -> Self {
        self.config.send_buffer_bytes = Some(bytes);
        self
    }

    /// Replaces `socket_options` (the default is `[NoDelay(true)]`).
    pub fn socket_options(mut self, options: Vec<SocketOption>) -> Self {
        self.config.socket_options = options;
        self
    }

    /// Adds one socket option.
    pub fn socket_option(mut self, option: SocketOption) -> Self {
        self.config.socket_options.push(option);
        self
    }

    /// A function that may set any option on the socket before it connects.
    pub fn socket_hook(
        mut self,
        hook: impl Fn(&socket2::SockRef<'_>) -> std::io::Result<()> + Send + Sync + 'static,
    ) -> Self {
        self.config.socket_hook = Some(Arc::new(hook));
        self
    }

    /// Opens broker connections with `connector` instead of TCP (TLS still runs on top).
    pub fn connector(mut self, connector: impl Connector) -> Self {
        self.config.connector = Some(Arc::new(connector));
        self
    }

    /// `api_version`: holds every API to at most the highest version Kafka `release`
    /// supports, for brokers of that release (or clusters that must not see newer requests);
    /// an API the release lacks fails with [`NetError::NotInRelease`] before anything is sent.
    /// Versions are still negotiated with `ApiVersions`; [`pin_api_version`](Self::pin_api_version)
    /// wins for its API.
    ///
    /// ```
    /// use klamm_net::{ConnectionConfig, KafkaRelease};
    ///
    /// let config = ConnectionConfig::builder().api_version("2.8".parse()?).build()?;
    /// assert_eq!(config.api_version, Some(KafkaRelease::try_from((2, 8))?));
    /// # Ok::<(), klamm_net::NetError>(())
    /// ```
    pub fn api_version(mut self, release: KafkaRelease) -> Self {
        self.config.api_version = Some(release);
        self
    }

    /// kafka-python's `metrics`: `recorder` is told of every request, response, timeout and
    /// byte count of every connection made with these settings, with the broker's address.
    /// [`ClientMetrics`](crate::ClientMetrics) is a ready recorder.
    pub fn metrics(mut self, recorder: Arc<dyn MetricsRecorder>) -> Self {
        self.config.metrics = Some(MetricsHook(recorder));
        self
    }

    /// Uses `version` for `api` instead of the negotiated maximum.
    pub fn pin_api_version(mut self, api: ApiKey, version: i16) -> Self {
        self.config.api_version_pins.insert(api, version);
        self
    }

    /// `client_software_name` and `client_software_version` sent in `ApiVersions`.
    pub fn client_software(mut self, name: impl Into<String>, version: impl Into<String>) -> Self {
        self.config.client_software = (name.into(), version.into());
        self
    }

    /// `ssl_cafile`: PEM CA certificates to trust instead of the system's.
    pub fn ssl_cafile(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.config.tls.cafile = Some(path.into());
        self
    }

    /// `ssl_certfile`: PEM client certificate chain, for mutual TLS.
    pub fn ssl_certfile(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.config.tls.certfile = Some(path.into());
        self
    }

    /// `ssl_keyfile`: PEM private key of the client certificate.
    pub fn ssl_keyfile(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.config.tls.keyfile = Some(path.into());
        self
    }

    /// `ssl_password`: passphrase of an encrypted `ssl_keyfile`.
    pub fn ssl_password(mut self, password: impl Into<Secret>) -> Self {
        self.config.tls.password = Some(password.into());
        self
    }

    /// `ssl_crlfile`: PEM certificate revocation lists checked against the broker's chain.
    pub fn ssl_crlfile(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.config.tls.crlfile = Some(path.into());
        self
    }

    /// A PKCS#12 trust store instead of `ssl_cafile` (Java's `ssl.truststore.location`).
    pub fn ssl_truststore(mut self, store: KeyStore) -> Self {
        self.config.tls.truststore = Some(store);
        self
    }

    /// PEM CA certificates as text instead of `ssl_cafile` (Python's `cadata`, Java's
    /// `ssl.truststore.certificates`).
    pub fn ssl_cadata(mut self, pem: impl Into<String>) -> Self {
        self.config.tls.ca_pem = Some(pem.into());
        self
    }

    /// A PKCS#12 key store with the client key and chain instead of `ssl_certfile`/`ssl_keyfile`
    /// (Java's `ssl.keystore.location`).
    pub fn ssl_keystore(mut self, store: KeyStore) -> Self {
        self.config.tls.keystore = Some(store);
        self
    }

    /// The client certificate chain and private key as PEM text instead of files (Java's
    /// `ssl.keystore.certificate.chain` and `ssl.keystore.key`); an encrypted key is decrypted
    /// with `ssl_password`.
    pub fn ssl_client_pem(mut self, chain: impl Into<String>, key: impl Into<Secret>) -> Self {
        self.config.tls.certificate_chain_pem = Some(chain.into());
        self.config.tls.key_pem = Some(key.into());
        self
    }

    /// The name to verify the broker's certificate against (and send as SNI) instead of the
    /// host connected to.
    pub fn ssl_server_name(mut self, name: impl Into<String>) -> Self {
        self.config.tls.server_name = Some(name.into());
        self
    }

    /// A ready rustls configuration (kafka-python's `ssl_context`); the other `ssl_*` settings
    /// are then ignored.
    pub fn ssl_context(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        self.config.tls.client_config = Some(config);
        self
    }

    /// `sasl_mechanism`.
    pub fn sasl_mechanism(mut self, mechanism: SaslMechanism) -> Self {
        self.sasl_mechanism = Some(mechanism);
        self
    }

    /// `sasl_plain_username` (PLAIN and SCRAM).
    pub fn sasl_plain_username(mut self, username: impl Into<String>) -> Self {
        self.sasl_username = Some(username.into());
        self
    }

    /// `sasl_plain_password` (PLAIN and SCRAM).
    pub fn sasl_plain_password(mut self, password: impl Into<Secret>) -> Self {
        self.sasl_password = Some(password.into());
        self
    }

    /// `sasl_oauth_token_provider` (OAUTHBEARER); implies `sasl_mechanism(OAuthBearer)`.
    pub fn sasl_oauth_token_provider(mut self, provider: impl TokenProvider) -> Self {
        self.sasl_mechanism = Some(SaslMechanism::OAuthBearer);
        self.token_provider = Some(SaslConfig::oauthbearer(provider));
        self
    }

    /// `sasl_kerberos_service_name` (GSSAPI): the broker principal's service part, default
    /// `kafka`.
    #[cfg(feature = "gssapi")]
    pub fn sasl_kerberos_service_name(mut self, name: impl Into<String>) -> Self {
        self.kerberos.service_name = name.into();
        self
    }

    /// `sasl_kerberos_domain_name` (GSSAPI): the broker principal's host part, instead of the
    /// host connected to.
    #[cfg(feature = "gssapi")]
    pub fn sasl_kerberos_domain_name(mut self, name: impl Into<String>) -> Self {
        self.kerberos.domain_name = Some(name.into());
        self
    }

    /// `sasl_kerberos_principal` (GSSAPI, librdkafka's name): the client principal.
    #[cfg(feature = "gssapi")]
    pub fn sasl_kerberos_principal(mut self, principal: impl Into<String>) -> Self {
        self.kerberos.principal = Some(principal.into());
        self
    }

    /// `sasl_kerberos_keytab` (GSSAPI, librdkafka's name): log in with this keytab (as
    /// `sasl_kerberos_principal`) instead of using the credential cache.
    #[cfg(feature = "gssapi")]
    pub fn sasl_kerberos_keytab(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.kerberos.keytab = Some(path.into());
        self
    }

    /// The configuration, if it is consistent.
    pub fn build(self) -> Result<ConnectionConfig, NetError> {
        let mut config = self.config;
        config.sasl = match self.sasl_mechanism {
            None => None,
            #[cfg(feature = "gssapi")]
            Some(SaslMechanism::Gssapi) => Some(SaslConfig::gssapi(self.kerberos)?),
            Some(SaslMechanism::OAuthBearer) => {
                Some(self.token_provider.ok_or_else(|| NetError::InvalidConfig {
                    reason: "OAUTHBEARER needs sasl_oauth_token_provider".to_owned(),
                })?)
            }
            Some(mechanism) => match (self.sasl_username, self.sasl_password) {
                (Some(username), Some(password)) => {
                    Some(SaslConfig::password(mechanism, username, password)?)
                }
                _ => {
                    return Err(NetError::InvalidConfig {
                        reason: format!(
                            "{mechanism} needs sasl_plain_username and sasl_plain_password"
                        ),
                    })
                }
            },
        };
        config.validate()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests;
