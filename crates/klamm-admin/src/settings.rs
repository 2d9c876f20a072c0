//! [`AdminSettings`]: one typed, partial configuration (every field optional) that each source
//! of settings produces - a Java `.properties` file ([`AdminSettings::from_properties`]), the
//! `klamm` CLI's flags, and later profiles and environment variables - merged field by field
//! and then turned into an [`AdminConfig`]. No secret travels through property text.
//!
//! Precedence is the order of [`merge`](AdminSettings::merge): a later layer wins where it sets
//! a field. Tools layer, lowest first: defaults (fields left `None`), a profile, the
//! `--command-config` file, environment variables, flags. A field is the unit: the trusted CAs
//! from a flag replace the file's trust store whatever its type, a flag's login replaces the
//! file's whole login.

use std::path::PathBuf;
use std::time::Duration;

use klamm_net::oauth::{ClientCredentials, OAuthTokenProvider, RefreshConfig, TokenFile};
use klamm_net::{KafkaRelease, KeyStore, SaslMechanism, Secret, SecurityProtocol};

use crate::{AdminConfig, AdminConfigBuilder, AdminError};

/// Where the trusted CAs come from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrustSource {
    /// A PEM file (`ssl_cafile`, a PEM `ssl.truststore.location`).
    PemFile(PathBuf),
    /// PEM text (`ssl.truststore.certificates`).
    Pem(String),
    /// A PKCS#12 trust store (`ssl.truststore.location`).
    Store(KeyStore),
}

/// Where the client certificate and key (mutual TLS) come from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdentitySource {
    /// PEM files: the chain, and the key if apart from it (`ssl_certfile`, `ssl_keyfile`).
    PemFiles {
        /// The certificate chain (may hold the key too).
        certfile: PathBuf,
        /// The private key, if not in `certfile`.
        keyfile: Option<PathBuf>,
    },
    /// PEM text (`ssl.keystore.certificate.chain`, `ssl.keystore.key`).
    Pem {
        /// The certificate chain.
        chain: String,
        /// The private key.
        key: Secret,
    },
    /// A PKCS#12 key store (`ssl.keystore.location`).
    Store(KeyStore),
}

/// The SASL mechanism as configured; GSSAPI is a name here whether or not this build has the
/// `gssapi` feature, so that a build without it can refuse it with a clear error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MechanismSetting {
    /// PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER.
    Named(SaslMechanism),
    /// GSSAPI (Kerberos).
    Gssapi,
}

/// Where OAUTHBEARER tokens come from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OAuthSource {
    /// A JWT in a file (`sasl.oauthbearer.token.endpoint.url=file:///…`).
    TokenFile(PathBuf),
    /// The client-credentials grant at `url` (KIP-768).
    ClientCredentials {
        /// The token endpoint.
        url: String,
        /// The client id.
        client_id: String,
        /// The client secret.
        client_secret: Secret,
        /// The scope asked for, if any.
        scope: Option<String>,
    },
}

/// OAUTHBEARER settings.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct OAuthSettings {
    /// The token source.
    pub source: Option<OAuthSource>,
    /// `sasl.login.refresh.*` (Java's defaults where unset).
    pub refresh: RefreshConfig,
    /// Deadline of one token request (`sasl.login.connect.timeout.ms` +
    /// `sasl.login.read.timeout.ms`).
    pub timeout: Option<Duration>,
}

/// The Kerberos settings (GSSAPI).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct KerberosSettings {
    /// `sasl_kerberos_service_name`.
    pub service_name: Option<String>,
    /// `sasl_kerberos_domain_name`.
    pub domain_name: Option<String>,
    /// `sasl_kerberos_principal`.
    pub principal: Option<String>,
    /// `sasl_kerberos_keytab`.
    pub keytab: Option<PathBuf>,
}

/// Every setting an [`AdminConfig`] takes, each optional; see the [module docs](self).
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct AdminSettings {
    /// `bootstrap_servers`.
    pub bootstrap_servers: Option<String>,
    /// `client_id`.
    pub client_id: Option<String>,
    /// `request_timeout_ms`.
    pub request_timeout: Option<Duration>,
    /// `default.api.timeout.ms`.
    pub default_api_timeout: Option<Duration>,
    /// `metadata_max_age_ms`.
    pub metadata_max_age: Option<Duration>,
    /// `retry_backoff_ms`.
    pub retry_backoff: Option<Duration>,
    /// `retry.backoff.max.ms`.
    pub retry_backoff_max: Option<Duration>,
    /// `reconnect_backoff_ms`.
    pub reconnect_backoff: Option<Duration>,
    /// `reconnect_backoff_max_ms`.
    pub reconnect_backoff_max: Option<Duration>,
    /// `connections_max_idle_ms`.
    pub connections_max_idle: Option<Duration>,
    /// `socket.connection.setup.timeout.ms`.
    pub connect_timeout: Option<Duration>,
    /// `api_version_auto_timeout_ms`.
    pub api_version_auto_timeout: Option<Duration>,
    /// `max_in_flight_requests_per_connection`.
    pub max_in_flight_requests_per_connection: Option<usize>,
    /// `receive_buffer_bytes`.
    pub receive_buffer_bytes: Option<usize>,
    /// `send_buffer_bytes`.
    pub send_buffer_bytes: Option<usize>,
    /// `api_version`.
    pub api_version: Option<KafkaRelease>,
    /// `security_protocol`.
    pub security_protocol: Option<SecurityProtocol>,
    /// The trusted CAs.
    pub trust: Option<TrustSource>,
    /// The client certificate and key.
    pub identity: Option<IdentitySource>,
    /// `ssl_password`: the password of an encrypted PEM key.
    pub key_password: Option<Secret>,
    /// `ssl_crlfile`.
    pub crlfile: Option<PathBuf>,
    /// `ssl_check_hostname`.
    pub check_hostname: Option<bool>,
    /// `sasl_mechanism`.
    pub sasl_mechanism: Option<MechanismSetting>,
    /// `sasl_plain_username` and `sasl_plain_password`, which go together.
    pub sasl_login: Option<(String, Secret)>,
    /// Kerberos, field by field.
    pub kerberos: KerberosSettings,
    /// OAUTHBEARER.
    pub oauth: Option<OAuthSettings>,
}

impl AdminSettings {
    /// `self` with every field `over` sets replaced by `over`'s: `over` is the higher layer.
    pub fn merge(self, over: AdminSettings) -> AdminSettings {
        macro_rules! pick {
            ($($field:ident),* $(,)?) => {
                AdminSettings {
                    $($field: over.$field.or(self.$field),)*
                    kerberos: KerberosSettings {
                        service_name: over.kerberos.service_name.or(self.kerberos.service_name),
                        domain_name: over.kerberos.domain_name.or(self.kerberos.domain_name),
                        principal: over.kerberos.principal.or(self.kerberos.principal),
                        keytab: over.kerberos.keytab.or(self.kerberos.keytab),
                    },
                }
            };
        }
        pick!(
            bootstrap_servers,
            client_id,
            request_timeout,
            default_api_timeout,
            metadata_max_age,
            retry_backoff,
            retry_backoff_max,
            reconnect_backoff,
            reconnect_backoff_max,
            connections_max_idle,
            connect_timeout,
            api_version_auto_timeout,
            max_in_flight_requests_per_connection,
            receive_buffer_bytes,
            send_buffer_bytes,
            api_version,
            security_protocol,
            trust,
            identity,
            key_password,
            crlfile,
            check_hostname,
            sasl_mechanism,
            sasl_login,
            oauth,
        )
    }

    /// The configuration these settings describe (defaults for what they leave unset).
    pub fn into_config(self) -> Result<AdminConfig, AdminError> {
        self.apply(AdminConfig::builder())?.build()
    }

    /// `builder` with every set field applied, for code that adds what settings cannot hold
    /// (a custom token provider, socket hook or rustls configuration).
    pub fn apply(self, mut b: AdminConfigBuilder) -> Result<AdminConfigBuilder, AdminError> {
        macro_rules! set {
            ($($field:ident),* $(,)?) => {
                $(if let Some(value) = self.$field { b = b.$field(value); })*
            };
        }
        set!(
            bootstrap_servers,
            client_id,
            request_timeout,
            default_api_timeout,
            metadata_max_age,
            retry_backoff,
            retry_backoff_max,
            reconnect_backoff,
            reconnect_backoff_max,
            connections_max_idle,
            connect_timeout,
            api_version_auto_timeout,
            max_in_flight_requests_per_connection,
            receive_buffer_bytes,
            send_buffer_bytes,
            api_version,
            security_protocol,
        );
        if let Some(path) = self.crlfile {
            b = b.ssl_crlfile(path);
        }
        if let Some(check) = self.check_hostname {
            b = b.ssl_check_hostname(check);
        }
        let trust = self.trust.clone();
        match self.trust {
            None => {}
            Some(TrustSource::PemFile(path)) => b = b.ssl_cafile(path),
            Some(TrustSource::Pem(pem)) => b = b.ssl_cadata(pem),
            Some(TrustSource::Store(store)) => b = b.ssl_truststore(store),
        }
        match self.identity {
            None => {}
            Some(IdentitySource::PemFiles { certfile, keyfile }) => {
                b = b.ssl_certfile(certfile);
                if let Some(keyfile) = keyfile {
                    b = b.ssl_keyfile(keyfile);
                }
            }
            Some(IdentitySource::Pem { chain, key }) => b = b.ssl_client_pem(chain, key),
            Some(IdentitySource::Store(store)) => b = b.ssl_keystore(store),
        }
        if let Some(password) = self.key_password {
            b = b.ssl_password(password);
        }
        match self.sasl_mechanism {
            None => {}
            Some(MechanismSetting::Named(SaslMechanism::OAuthBearer)) => {
                let oauth = self.oauth.unwrap_or_default();
                b = b.sasl_oauth_token_provider(oauth_provider(oauth, trust)?);
            }
            Some(MechanismSetting::Named(mechanism)) => b = b.sasl_mechanism(mechanism),
            Some(MechanismSetting::Gssapi) => b = gssapi(b, self.kerberos)?,
        }
        if let Some((username, password)) = self.sasl_login {
            b = b
                .sasl_plain_username(username)
                .sasl_plain_password(password);
        }
        Ok(b)
    }
}

fn oauth_provider(
    oauth: OAuthSettings,
    trust: Option<TrustSource>,
) -> Result<OAuthTokenProvider, AdminError> {
    let invalid = |reason: String| AdminError::InvalidConfig {
        key: "sasl.oauthbearer.token.endpoint.url".into(),
        reason,
    };
    let provider =
        match oauth.source {
            None => return Err(invalid(
                "OAUTHBEARER needs a token source: sasl.oauthbearer.token.endpoint.url (https:// \
                 with a client id and secret, or file:///…), or a token provider in code"
                    .into(),
            )),
            Some(OAuthSource::TokenFile(path)) => {
                OAuthTokenProvider::new(TokenFile::new(path), oauth.refresh)
            }
            Some(OAuthSource::ClientCredentials {
                url,
                client_id,
                client_secret,
                scope,
            }) => {
                let mut credentials = ClientCredentials::new(url, client_id, client_secret);
                if let Some(scope) = scope {
                    credentials = credentials.scope(scope);
                }
                if let Some(timeout) = oauth.timeout {
                    credentials = credentials.timeout(timeout);
                }
                // The token endpoint is verified with the CAs trusted for the brokers.
                let mut tls = klamm_net::TlsConfig::default();
                match trust {
                    Some(TrustSource::PemFile(path)) => tls.cafile = Some(path),
                    Some(TrustSource::Pem(pem)) => tls.ca_pem = Some(pem),
                    Some(TrustSource::Store(store)) => tls.truststore = Some(store),
                    None => {}
                }
                OAuthTokenProvider::new(credentials.trust(&tls), oauth.refresh)
            }
        };
    provider.map_err(|error| invalid(error.to_string()))
}

#[cfg(feature = "gssapi")]
fn gssapi(
    mut b: AdminConfigBuilder,
    kerberos: KerberosSettings,
) -> Result<AdminConfigBuilder, AdminError> {
    b = b.sasl_mechanism(SaslMechanism::Gssapi);
    if let Some(name) = kerberos.service_name {
        b = b.sasl_kerberos_service_name(name);
    }
    if let Some(name) = kerberos.domain_name {
        b = b.sasl_kerberos_domain_name(name);
    }
    if let Some(principal) = kerberos.principal {
        b = b.sasl_kerberos_principal(principal);
    }
    if let Some(keytab) = kerberos.keytab {
        b = b.sasl_kerberos_keytab(keytab);
    }
    Ok(b)
}

#[cfg(not(feature = "gssapi"))]
fn gssapi(_: AdminConfigBuilder, _: KerberosSettings) -> Result<AdminConfigBuilder, AdminError> {
    Err(AdminError::UnsupportedProperty {
        key: "sasl.mechanism".into(),
        reason: "SASL/GSSAPI (Kerberos) needs klamm-admin's `gssapi` cargo feature, which this \
                 build lacks"
            .into(),
    })
}

#[cfg(test)]
mod tests;
