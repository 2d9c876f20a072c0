//! SASL authentication, sans-IO: which mechanism, with which credentials, and the client side of
//! each mechanism's exchange as a state machine fed with the broker's `auth_bytes`.
//!
//! The tokio glue (`connection::handshake`) sends `SaslHandshake` and then one
//! `SaslAuthenticate` per message [`SaslClient`] produces, until it says it is done. GSSAPI
//! (feature `gssapi`) runs its exchange on a worker thread instead, because the Kerberos
//! library blocks; [`gssapi`] has the details.

#[cfg(feature = "gssapi")]
pub mod gssapi;
mod oauthbearer;
mod scram;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

pub use oauthbearer::{BoxError, BoxFuture, OAuthBearerClient, TokenProvider};
pub use scram::{ScramClient, ScramHash};

use klamm_protocol::messages::SaslHandshakeResponse;
use klamm_protocol::ErrorCode;

use crate::{NetError, Secret};

/// A SASL mechanism Kafka supports and this crate implements.
///
/// GSSAPI (Kerberos) needs the crate feature `gssapi` (and MIT Kerberos' `libgssapi_krb5.so.2`
/// at run time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SaslMechanism {
    /// `PLAIN`: username and password in clear (use with TLS).
    Plain,
    /// `SCRAM-SHA-256`.
    ScramSha256,
    /// `SCRAM-SHA-512`.
    ScramSha512,
    /// `OAUTHBEARER` with tokens from a [`TokenProvider`].
    OAuthBearer,
    /// `GSSAPI`: Kerberos V5 through the system's GSS-API library (feature `gssapi`).
    #[cfg(feature = "gssapi")]
    Gssapi,
}

impl SaslMechanism {
    /// The name Kafka uses (`sasl.enabled.mechanisms`).
    pub const fn name(self) -> &'static str {
        match self {
            SaslMechanism::Plain => "PLAIN",
            SaslMechanism::ScramSha256 => "SCRAM-SHA-256",
            SaslMechanism::ScramSha512 => "SCRAM-SHA-512",
            SaslMechanism::OAuthBearer => "OAUTHBEARER",
            #[cfg(feature = "gssapi")]
            SaslMechanism::Gssapi => "GSSAPI",
        }
    }
}

impl fmt::Display for SaslMechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SaslMechanism {
    type Err = NetError;

    fn from_str(name: &str) -> Result<Self, NetError> {
        match name.to_ascii_uppercase().as_str() {
            "PLAIN" => Ok(SaslMechanism::Plain),
            "SCRAM-SHA-256" => Ok(SaslMechanism::ScramSha256),
            "SCRAM-SHA-512" => Ok(SaslMechanism::ScramSha512),
            "OAUTHBEARER" => Ok(SaslMechanism::OAuthBearer),
            #[cfg(feature = "gssapi")]
            "GSSAPI" => Ok(SaslMechanism::Gssapi),
            #[cfg(not(feature = "gssapi"))]
            "GSSAPI" => Err(NetError::InvalidConfig {
                reason: "SASL mechanism GSSAPI (Kerberos) is not supported by this build: \
                         enable klamm-net's `gssapi` feature"
                    .to_owned(),
            }),
            _ => Err(NetError::InvalidConfig {
                reason: format!("unknown SASL mechanism `{name}`"),
            }),
        }
    }
}

/// The SASL mechanism and its credentials.
#[derive(Clone)]
pub struct SaslConfig {
    mechanism: SaslMechanism,
    username: String,
    password: Secret,
    token_provider: Option<Arc<dyn TokenProvider>>,
    #[cfg(feature = "gssapi")]
    kerberos: Option<gssapi::GssapiConfig>,
}

impl fmt::Debug for SaslConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("SaslConfig");
        debug
            .field("mechanism", &self.mechanism)
            .field("username", &self.username)
            .field("password", &self.password)
            .field(
                "token_provider",
                &self.token_provider.as_ref().map(|_| ".."),
            );
        #[cfg(feature = "gssapi")]
        debug.field("kerberos", &self.kerberos);
        debug.finish()
    }
}

impl SaslConfig {
    /// `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512` with a username and password.
    pub fn password(
        mechanism: SaslMechanism,
        username: impl Into<String>,
        password: impl Into<Secret>,
    ) -> Result<Self, NetError> {
        match mechanism {
            SaslMechanism::OAuthBearer => {
                return Err(NetError::InvalidConfig {
                    reason: "OAUTHBEARER takes a token provider, not a password".to_owned(),
                })
            }
            #[cfg(feature = "gssapi")]
            SaslMechanism::Gssapi => {
                return Err(NetError::InvalidConfig {
                    reason: "GSSAPI takes Kerberos settings (SaslConfig::gssapi), not a password"
                        .to_owned(),
                })
            }
            _ => {}
        }
        Ok(SaslConfig {
            mechanism,
            username: username.into(),
            password: password.into(),
            token_provider: None,
            #[cfg(feature = "gssapi")]
            kerberos: None,
        })
    }

    /// `OAUTHBEARER` with tokens from `provider`.
    pub fn oauthbearer(provider: impl TokenProvider) -> Self {
        SaslConfig {
            mechanism: SaslMechanism::OAuthBearer,
            username: String::new(),
            password: Secret::new(""),
            token_provider: Some(Arc::new(provider)),
            #[cfg(feature = "gssapi")]
            kerberos: None,
        }
    }

    /// `GSSAPI` (Kerberos) with `config`'s service name and credentials.
    #[cfg(feature = "gssapi")]
    pub fn gssapi(config: gssapi::GssapiConfig) -> Result<Self, NetError> {
        config.validate().map_err(|error| NetError::InvalidConfig {
            reason: error.to_string(),
        })?;
        Ok(SaslConfig {
            mechanism: SaslMechanism::Gssapi,
            username: config.principal.clone().unwrap_or_default(),
            password: Secret::new(""),
            token_provider: None,
            kerberos: Some(config),
        })
    }

    /// The Kerberos settings, for GSSAPI.
    #[cfg(feature = "gssapi")]
    pub fn kerberos(&self) -> Option<&gssapi::GssapiConfig> {
        self.kerberos.as_ref()
    }

    /// The mechanism.
    pub fn mechanism(&self) -> SaslMechanism {
        self.mechanism
    }

    /// The username (empty for OAUTHBEARER; the principal, if configured, for GSSAPI).
    pub fn username(&self) -> &str {
        &self.username
    }

    /// A client for one exchange. For OAUTHBEARER this asks the token provider for a token.
    ///
    /// GSSAPI has no `SaslClient`: its exchange needs the broker's host name and a worker
    /// thread, and [`Connection`](crate::Connection) runs it; asking for one is an error.
    pub async fn client(&self) -> Result<SaslClient, SaslError> {
        let (user, password) = (self.username.as_str(), self.password.expose());
        Ok(match self.mechanism {
            SaslMechanism::Plain => {
                use sasl::client::Mechanism;
                let initial = sasl::client::mechanisms::Plain::new(user, password).initial();
                // Made of two strings and NUL separators: UTF-8.
                let message = String::from_utf8(initial)
                    .map_err(|_| SaslError::new("PLAIN message is not UTF-8"))?;
                SaslClient::Plain {
                    message: Secret::new(message),
                }
            }
            SaslMechanism::ScramSha256 => SaslClient::Scram(Box::new(ScramClient::new(
                ScramHash::Sha256,
                user,
                password,
            )?)),
            SaslMechanism::ScramSha512 => SaslClient::Scram(Box::new(ScramClient::new(
                ScramHash::Sha512,
                user,
                password,
            )?)),
            SaslMechanism::OAuthBearer => {
                let provider = self
                    .token_provider
                    .as_ref()
                    .ok_or_else(|| SaslError::new("no token provider"))?;
                let token = provider
                    .token()
                    .await
                    .map_err(|error| SaslError::new(format!("token provider failed: {error}")))?;
                SaslClient::OAuthBearer(OAuthBearerClient::new(&token, &provider.extensions())?)
            }
            #[cfg(feature = "gssapi")]
            SaslMechanism::Gssapi => {
                return Err(SaslError::new(
                    "GSSAPI exchanges are run by Connection (they need the broker host)",
                ))
            }
        })
    }

    /// Starts one exchange with the broker at `host`.
    pub(crate) async fn exchange(&self, host: &str) -> Result<Exchange, ExchangeError> {
        #[cfg(feature = "gssapi")]
        if self.mechanism == SaslMechanism::Gssapi {
            let config = self.kerberos.clone().unwrap_or_default();
            return gssapi::GssapiExchange::start(&config, host)
                .map(Exchange::Gssapi)
                .map_err(|error| ExchangeError::Gssapi {
                    service: config.service_principal(host),
                    error,
                });
        }
        let _ = host;
        self.client()
            .await
            .map(Exchange::Local)
            .map_err(ExchangeError::Sasl)
    }
}

/// One running exchange: a [`SaslClient`] in this task, or GSSAPI on its worker thread.
#[derive(Debug)]
pub(crate) enum Exchange {
    Local(SaslClient),
    #[cfg(feature = "gssapi")]
    Gssapi(gssapi::GssapiExchange),
}

/// Why an [`Exchange`] failed on the client side.
#[derive(Debug)]
pub(crate) enum ExchangeError {
    Sasl(SaslError),
    #[cfg(feature = "gssapi")]
    Gssapi {
        /// The broker's service name, e.g. `kafka@broker-1`.
        service: String,
        error: gssapi::GssapiError,
    },
}

impl Exchange {
    /// The first message to send.
    pub(crate) async fn client_first(&mut self) -> Result<Vec<u8>, ExchangeError> {
        match self {
            Exchange::Local(client) => Ok(client.client_first()),
            #[cfg(feature = "gssapi")]
            Exchange::Gssapi(exchange) => {
                exchange
                    .client_first()
                    .await
                    .map_err(|error| ExchangeError::Gssapi {
                        service: exchange.target().to_owned(),
                        error,
                    })
            }
        }
    }

    /// The answer to the broker's `auth_bytes`, `None` once the exchange is complete.
    pub(crate) async fn receive(
        &mut self,
        server_message: &[u8],
    ) -> Result<Option<Vec<u8>>, ExchangeError> {
        match self {
            Exchange::Local(client) => client.receive(server_message).map_err(ExchangeError::Sasl),
            #[cfg(feature = "gssapi")]
            Exchange::Gssapi(exchange) => {
                exchange
                    .receive(server_message)
                    .await
                    .map_err(|error| ExchangeError::Gssapi {
                        service: exchange.target().to_owned(),
                        error,
                    })
            }
        }
    }
}

/// The client side of one SASL exchange.
#[derive(Debug)]
#[non_exhaustive]
pub enum SaslClient {
    /// PLAIN: one message, `\0user\0password`.
    Plain {
        /// The message.
        message: Secret,
    },
    /// SCRAM-SHA-256 / SCRAM-SHA-512.
    Scram(Box<ScramClient>),
    /// OAUTHBEARER.
    OAuthBearer(OAuthBearerClient),
}

impl SaslClient {
    /// The first message to send.
    pub fn client_first(&mut self) -> Vec<u8> {
        match self {
            SaslClient::Plain { message } => message.expose().as_bytes().to_vec(),
            SaslClient::Scram(scram) => scram.client_first(),
            SaslClient::OAuthBearer(oauth) => oauth.client_first(),
        }
    }

    /// Handles the broker's `auth_bytes` from a successful `SaslAuthenticate`: the next message
    /// to send, or `None` when the exchange is complete.
    pub fn receive(&mut self, server_message: &[u8]) -> Result<Option<Vec<u8>>, SaslError> {
        match self {
            SaslClient::Plain { .. } => Ok(None),
            SaslClient::Scram(scram) => scram.receive(server_message),
            SaslClient::OAuthBearer(oauth) => oauth.receive(server_message),
        }
    }
}

/// A SASL exchange failed on the client side (not a broker rejection).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct SaslError {
    reason: String,
}

impl SaslError {
    /// An error with this reason (must not contain secrets).
    pub fn new(reason: impl Into<String>) -> Self {
        SaslError {
            reason: reason.into(),
        }
    }
}

/// What a `SaslHandshake` response means for `mechanism`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandshakeOutcome {
    /// The broker enables the mechanism: go on with `SaslAuthenticate`.
    Accepted,
    /// The broker does not enable it; these are the ones it does.
    UnsupportedMechanism(Vec<String>),
    /// Another error.
    Failed(ErrorCode),
}

/// Interprets a `SaslHandshake` response.
pub fn interpret_handshake(
    mechanism: SaslMechanism,
    response: &SaslHandshakeResponse,
) -> HandshakeOutcome {
    let enabled = || {
        response
            .mechanisms
            .iter()
            .map(|m| m.as_str().to_owned())
            .collect()
    };
    match ErrorCode::from_code(response.error_code) {
        ErrorCode::None
            if response
                .mechanisms
                .iter()
                .any(|m| m.as_str() == mechanism.name()) =>
        {
            HandshakeOutcome::Accepted
        }
        ErrorCode::None | ErrorCode::UnsupportedSaslMechanism => {
            HandshakeOutcome::UnsupportedMechanism(enabled())
        }
        error => HandshakeOutcome::Failed(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use klamm_protocol::primitives::KafkaString;

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(future)
    }

    #[test]
    fn plain_sends_authzid_user_and_password_once() {
        let config = SaslConfig::password(SaslMechanism::Plain, "alice", "pw").unwrap();
        let mut client = block_on(config.client()).unwrap();
        assert_eq!(client.client_first(), b"\0alice\0pw".to_vec());
        assert_eq!(client.receive(b"").unwrap(), None);
        assert!(!format!("{config:?} {client:?}").contains("pw\""));
    }

    #[test]
    fn oauthbearer_asks_the_provider_for_a_token() {
        let config = SaslConfig::oauthbearer(|| async { Ok(Secret::new("t0k")) });
        let mut client = block_on(config.client()).unwrap();
        assert_eq!(
            client.client_first(),
            b"n,,\x01auth=Bearer t0k\x01\x01".to_vec()
        );
        let failing =
            SaslConfig::oauthbearer(|| async { Err::<Secret, BoxError>("idp down".into()) });
        let error = block_on(failing.client()).unwrap_err();
        assert!(error.to_string().contains("idp down"), "{error}");
    }

    #[test]
    fn mechanism_names_parse() {
        assert_eq!(
            "scram-sha-512".parse::<SaslMechanism>().unwrap(),
            SaslMechanism::ScramSha512
        );
        assert!("KERBEROS".parse::<SaslMechanism>().is_err());
    }

    #[cfg(not(feature = "gssapi"))]
    #[test]
    fn gssapi_without_the_feature_is_refused_naming_the_feature() {
        let error = "GSSAPI".parse::<SaslMechanism>().unwrap_err();
        assert!(error.to_string().contains("`gssapi` feature"), "{error}");
    }

    #[cfg(feature = "gssapi")]
    #[test]
    fn gssapi_parses_takes_no_password_and_shows_its_settings() {
        let mechanism = "gssapi".parse::<SaslMechanism>().unwrap();
        assert_eq!(mechanism, SaslMechanism::Gssapi);
        assert_eq!(mechanism.name(), "GSSAPI");
        assert!(SaslConfig::password(mechanism, "u", "p").is_err());
        let config = SaslConfig::gssapi(
            gssapi::GssapiConfig::default()
                .principal("ops@KLAMM.TEST")
                .keytab("/k/ops.keytab"),
        )
        .unwrap();
        assert_eq!(config.username(), "ops@KLAMM.TEST");
        let text = format!("{config:?}");
        assert!(
            text.contains("ops.keytab") && text.contains("kafka"),
            "{text}"
        );
        // There is no SaslClient for GSSAPI; asking for one says who runs it.
        let error = block_on(config.client()).unwrap_err();
        assert!(error.to_string().contains("Connection"), "{error}");
    }

    #[test]
    fn handshake_lists_enabled_mechanisms_when_ours_is_missing() {
        let response = SaslHandshakeResponse::default()
            .with_error_code(ErrorCode::UnsupportedSaslMechanism.code())
            .with_mechanisms(vec![
                KafkaString::from("PLAIN"),
                KafkaString::from("SCRAM-SHA-256"),
            ]);
        assert_eq!(
            interpret_handshake(SaslMechanism::ScramSha512, &response),
            HandshakeOutcome::UnsupportedMechanism(vec![
                "PLAIN".to_owned(),
                "SCRAM-SHA-256".to_owned()
            ])
        );
        let ok = response.with_error_code(0);
        assert_eq!(
            interpret_handshake(SaslMechanism::Plain, &ok),
            HandshakeOutcome::Accepted
        );
    }
}
