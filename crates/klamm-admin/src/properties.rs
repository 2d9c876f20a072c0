//! Loading settings from a Java-client `.properties` file, the format every Kafka tool takes
//! with `--command-config`, into [`AdminSettings`] ([`AdminSettings::from_properties`]):
//! `bootstrap.servers`, `security.protocol`, `sasl.mechanism`, `sasl.jaas.config` (PLAIN and
//! SCRAM login modules, `OAuthBearerLoginModule`, and Kerberos' `Krb5LoginModule` with the
//! `gssapi` feature), trust and key stores (PEM, PKCS#12; JKS is refused with the `keytool`
//! conversion when the store is read), inline PEM (`ssl.truststore.certificates`,
//! `ssl.keystore.certificate.chain`, `ssl.keystore.key`), OAUTHBEARER tokens
//! (`sasl.oauthbearer.token.endpoint.url`: `file:///…` or a KIP-768 client-credentials
//! endpoint, with `sasl.login.refresh.*`), timeouts. Settings Klamm cannot honour (custom
//! callback classes, GSSAPI in a build without the `gssapi` feature) are refused with
//! [`AdminError::UnsupportedProperty`]. A key Klamm does not know, or knowingly ignores, is
//! never silent: it is a [`PropertyWarning`] in [`LoadedProperties::warnings`], for the caller
//! to show (the `klamm` CLI prints one line each).
//!
//! Beside Java's keys, a few from kafka-python and librdkafka have no Java spelling:
//! `api.version` (a release such as `2.8`), `api.version.request.timeout.ms`,
//! `ssl.crl.location` (PEM CRLs), `max.in.flight.requests.per.connection` (Java's name too).
//!
//! GSSAPI (`sasl.mechanism=GSSAPI`, `sasl.kerberos.service.name`, a `Krb5LoginModule` JAAS line
//! with `useKeyTab`/`keyTab`/`principal` or `useTicketCache`) maps to klamm-net's
//! `sasl_kerberos_*` settings; which `Krb5LoginModule` options are accepted, ignored or refused
//! is listed in `src/properties/kerberos.rs`.

mod jaas;
mod kerberos;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use klamm_net::{KeyStore, SaslMechanism, Secret, SecurityProtocol, StoreKind};

use crate::settings::{
    AdminSettings, IdentitySource, MechanismSetting, OAuthSettings, OAuthSource, TrustSource,
};
use crate::{AdminConfig, AdminError};

pub use jaas::{parse_jaas_config, JaasConfig};

/// Parses Java `.properties` text into key/value pairs: `key=value`, `key: value` or
/// `key value`; `#` and `!` comments; a trailing `\` continues a line; `\t`, `\n`, `\\`,
/// `\uXXXX` escapes.
pub fn parse_properties(text: &str) -> BTreeMap<String, String> {
    let mut properties = BTreeMap::new();
    let mut logical = String::new();
    for raw in text.lines() {
        let line = raw.trim_start();
        if logical.is_empty() && (line.is_empty() || line.starts_with('#') || line.starts_with('!'))
        {
            continue;
        }
        let trailing = line.chars().rev().take_while(|c| *c == '\\').count();
        if trailing % 2 == 1 {
            logical.push_str(&line[..line.len() - 1]);
            continue;
        }
        logical.push_str(line);
        let (key, value) = split_entry(&logical);
        properties.insert(unescape(key), unescape(value.trim_start()));
        logical.clear();
    }
    if !logical.is_empty() {
        let (key, value) = split_entry(&logical);
        properties.insert(unescape(key), unescape(value.trim_start()));
    }
    properties
}

/// `key` without its trailing whitespace, except a whitespace character escaped with `\`,
/// which belongs to the key (`a\ =v` has the key `"a "`).
fn trim_end_unescaped(key: &str) -> &str {
    let trimmed = key.trim_end();
    let backslashes = trimmed.chars().rev().take_while(|c| *c == '\\').count();
    match key[trimmed.len()..].chars().next() {
        Some(space) if backslashes % 2 == 1 => &key[..trimmed.len() + space.len_utf8()],
        _ => trimmed,
    }
}

fn split_entry(line: &str) -> (&str, &str) {
    let mut escaped = false;
    for (index, c) in line.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '=' | ':' => return (trim_end_unescaped(&line[..index]), &line[index + 1..]),
            c if c.is_whitespace() => {
                let rest = line[index..].trim_start();
                let rest = rest
                    .strip_prefix('=')
                    .or_else(|| rest.strip_prefix(':'))
                    .unwrap_or(rest);
                return (&line[..index], rest);
            }
            _ => {}
        }
    }
    (line, "")
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(c) => out.push(c),
                    None => out.push_str(&hex),
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

fn unsupported(key: &str, reason: impl Into<String>) -> AdminError {
    AdminError::UnsupportedProperty {
        key: key.into(),
        reason: reason.into(),
    }
}

fn millis(key: &str, value: &str) -> Result<Duration, AdminError> {
    value
        .trim()
        .parse::<u64>()
        .map(Duration::from_millis)
        .map_err(|_| AdminError::InvalidConfig {
            key: key.into(),
            reason: format!("`{value}` is not a number of milliseconds"),
        })
}

fn bytes(key: &str, value: &str) -> Result<Option<usize>, AdminError> {
    let parsed: i64 = value
        .trim()
        .parse()
        .map_err(|_| AdminError::InvalidConfig {
            key: key.into(),
            reason: format!("`{value}` is not a number"),
        })?;
    // -1 means "the OS default" in the Java client.
    Ok(usize::try_from(parsed).ok())
}

/// A key that was read but has no effect, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyWarning {
    /// The property name.
    pub key: String,
    /// Why it has no effect.
    pub reason: String,
}

/// The settings a `.properties` text describes, and the keys it ignores.
#[derive(Debug, Clone, Default)]
pub struct LoadedProperties {
    /// The settings.
    pub settings: AdminSettings,
    /// One per key that has no effect (unknown, or without a meaning for an admin client).
    pub warnings: Vec<PropertyWarning>,
}

/// `sasl.mechanism` as read.
fn read_mechanism(key: &str, value: &str) -> Result<MechanismSetting, AdminError> {
    let value = value.trim();
    if value.eq_ignore_ascii_case("GSSAPI") {
        return Ok(MechanismSetting::Gssapi);
    }
    value
        .parse()
        .map(MechanismSetting::Named)
        .map_err(|error: klamm_net::NetError| unsupported(key, error.to_string()))
}

/// Keys with no meaning for an admin client: read, and reported as ignored.
const NO_MEANING: &[&str] = &[
    "key.serializer",
    "value.serializer",
    "key.deserializer",
    "value.deserializer",
    "group.id",
    "acks",
    "client.dns.lookup",
    "ssl.protocol",
    "ssl.enabled.protocols",
    "ssl.cipher.suites",
    "ssl.keymanager.algorithm",
    "ssl.trustmanager.algorithm",
    "ssl.secure.random.implementation",
    "sasl.login.retry.backoff.ms",
    "sasl.login.retry.backoff.max.ms",
];

fn store_kind(key: &str, value: Option<&String>) -> Result<Option<StoreKind>, AdminError> {
    match value.map(|v| v.trim().to_ascii_uppercase()).as_deref() {
        None | Some("JKS") => Ok(Some(StoreKind::Jks)),
        Some("PKCS12") => Ok(Some(StoreKind::Pkcs12)),
        Some("PEM") => Ok(None),
        Some(other) => Err(unsupported(
            key,
            format!(
                "store type {other} is not supported (PEM, PKCS12, or JKS converted by keytool)"
            ),
        )),
    }
}

fn seconds(key: &str, value: &str) -> Result<Duration, AdminError> {
    value
        .trim()
        .parse::<u64>()
        .map(Duration::from_secs)
        .map_err(|_| AdminError::InvalidConfig {
            key: key.into(),
            reason: format!("`{value}` is not a number of seconds"),
        })
}

fn fraction(key: &str, value: &str) -> Result<f64, AdminError> {
    value.trim().parse().map_err(|_| AdminError::InvalidConfig {
        key: key.into(),
        reason: format!("`{value}` is not a number"),
    })
}

impl AdminSettings {
    /// Reads a Java-client `.properties` text.
    ///
    /// ```
    /// use klamm_admin::AdminSettings;
    ///
    /// let loaded = AdminSettings::from_properties(
    ///     "bootstrap.servers=kafka-1:9092\ngroup.id=ops\nretries.typo=3\n",
    /// )?;
    /// assert_eq!(loaded.settings.bootstrap_servers.as_deref(), Some("kafka-1:9092"));
    /// let ignored: Vec<_> = loaded.warnings.iter().map(|w| w.key.as_str()).collect();
    /// assert_eq!(ignored, ["group.id", "retries.typo"]);
    /// # Ok::<(), klamm_admin::AdminError>(())
    /// ```
    pub fn from_properties(text: &str) -> Result<LoadedProperties, AdminError> {
        Self::from_property_map(&parse_properties(text))
    }

    /// Reads properties already parsed into key/value pairs.
    pub fn from_property_map(
        properties: &BTreeMap<String, String>,
    ) -> Result<LoadedProperties, AdminError> {
        let get = |key: &str| properties.get(key);
        let mut s = AdminSettings::default();
        let mut warnings = Vec::new();
        let mut warn = |key: &str, reason: &str| {
            warnings.push(PropertyWarning {
                key: key.to_owned(),
                reason: reason.to_owned(),
            })
        };
        // SASL is settled after the loop: the mechanism, the JAAS line, the Kerberos and OAuth
        // keys depend on each other.
        let mut jaas = None;
        let mut kerberos = kerberos::KerberosProperties::default();
        let mut oauth = OAuthSettings::default();
        let mut oauth_url = None;
        let mut oauth_client = (None, None, None);
        let invalid = |key: &str, error: klamm_net::NetError| AdminError::InvalidConfig {
            key: key.into(),
            reason: error.to_string(),
        };
        for (key, value) in properties {
            let key = key.as_str();
            match key {
                "bootstrap.servers" => s.bootstrap_servers = Some(value.clone()),
                "client.id" => s.client_id = Some(value.clone()),
                "security.protocol" => {
                    s.security_protocol = Some(value.parse().map_err(|e| invalid(key, e))?)
                }
                "sasl.mechanism" => s.sasl_mechanism = Some(read_mechanism(key, value)?),
                "sasl.jaas.config" => jaas = Some(parse_jaas_config(value)?),
                key if kerberos.set(key, value) => {}
                key if kerberos::RENEWAL_KEYS.contains(&key) => warn(
                    key,
                    "nothing to tune: Klamm reads the credential cache afresh for each connection",
                ),
                "sasl.login.callback.handler.class"
                    if value.trim().ends_with(".OAuthBearerLoginCallbackHandler") => {}
                "sasl.login.callback.handler.class"
                | "sasl.client.callback.handler.class"
                | "sasl.login.class" => {
                    return Err(unsupported(
                        key,
                        "custom SASL callback and login classes are not supported",
                    ))
                }
                "sasl.oauthbearer.token.endpoint.url" => oauth_url = Some(value.trim().to_owned()),
                "sasl.oauthbearer.client.credentials.client.id" => {
                    oauth_client.0 = Some(value.clone())
                }
                "sasl.oauthbearer.client.credentials.client.secret" => {
                    oauth_client.1 = Some(Secret::new(value.clone()))
                }
                "sasl.oauthbearer.scope" => oauth_client.2 = Some(value.clone()),
                "sasl.login.refresh.window.factor" => {
                    oauth.refresh.window_factor = fraction(key, value)?
                }
                "sasl.login.refresh.window.jitter" => {
                    oauth.refresh.window_jitter = fraction(key, value)?
                }
                "sasl.login.refresh.min.period.seconds" => {
                    oauth.refresh.min_period = seconds(key, value)?
                }
                "sasl.login.refresh.buffer.seconds" => oauth.refresh.buffer = seconds(key, value)?,
                "sasl.login.connect.timeout.ms" | "sasl.login.read.timeout.ms" => {
                    oauth.timeout = Some(oauth.timeout.unwrap_or_default() + millis(key, value)?)
                }
                key if key.starts_with("sasl.oauthbearer.") => warn(
                    key,
                    "a setting of token validation or of Java's JWT retrieval; Klamm sends the \
                     token as the endpoint issued it and the broker validates it",
                ),
                "ssl.truststore.location" => {
                    let path = value.trim().into();
                    s.trust = Some(match store_kind(key, get("ssl.truststore.type"))? {
                        None => TrustSource::PemFile(path),
                        Some(kind) => TrustSource::Store(KeyStore::new(
                            path,
                            kind,
                            get("ssl.truststore.password").map(|p| Secret::new(p.clone())),
                        )),
                    });
                }
                "ssl.keystore.location" => {
                    let path: std::path::PathBuf = value.trim().into();
                    s.identity = Some(match store_kind(key, get("ssl.keystore.type"))? {
                        // A PEM key store holds the private key and the certificate chain.
                        None => IdentitySource::PemFiles {
                            certfile: path,
                            keyfile: None,
                        },
                        Some(kind) => IdentitySource::Store(KeyStore::new(
                            path,
                            kind,
                            get("ssl.keystore.password").map(|p| Secret::new(p.clone())),
                        )),
                    });
                }
                "ssl.truststore.type" | "ssl.keystore.type" => {}
                "ssl.truststore.certificates" => s.trust = Some(TrustSource::Pem(value.clone())),
                "ssl.keystore.certificate.chain" => match get("ssl.keystore.key") {
                    Some(key_pem) => {
                        s.identity = Some(IdentitySource::Pem {
                            chain: value.clone(),
                            key: Secret::new(key_pem.clone()),
                        })
                    }
                    None => {
                        return Err(AdminError::InvalidConfig {
                            key: key.into(),
                            reason: "needs ssl.keystore.key beside it".into(),
                        })
                    }
                },
                "ssl.keystore.key" if get("ssl.keystore.certificate.chain").is_none() => {
                    return Err(AdminError::InvalidConfig {
                        key: key.into(),
                        reason: "needs ssl.keystore.certificate.chain beside it".into(),
                    })
                }
                "ssl.keystore.key" => {}
                "ssl.truststore.password" => {
                    if store_kind(key, get("ssl.truststore.type"))?.is_none() {
                        warn(key, "a PEM trust store has no password");
                    }
                }
                "ssl.keystore.password" => {
                    // A PEM key store's password is its key's, unless ssl.key.password says.
                    // (Without a key store location, it can only be a PEM key's.)
                    let pem = store_kind(key, get("ssl.keystore.type"))?.is_none()
                        || get("ssl.keystore.location").is_none();
                    if pem && get("ssl.key.password").is_none() {
                        s.key_password = Some(Secret::new(value.clone()));
                    }
                }
                "ssl.key.password" => s.key_password = Some(Secret::new(value.clone())),
                "ssl.endpoint.identification.algorithm" => {
                    s.check_hostname = Some(!value.trim().is_empty())
                }
                "ssl.crl.location" => s.crlfile = Some(value.trim().into()),
                "api.version" => s.api_version = Some(value.parse().map_err(|e| invalid(key, e))?),
                "request.timeout.ms" => s.request_timeout = Some(millis(key, value)?),
                "default.api.timeout.ms" => s.default_api_timeout = Some(millis(key, value)?),
                "retry.backoff.ms" => s.retry_backoff = Some(millis(key, value)?),
                "retry.backoff.max.ms" => s.retry_backoff_max = Some(millis(key, value)?),
                "metadata.max.age.ms" => s.metadata_max_age = Some(millis(key, value)?),
                "reconnect.backoff.ms" => s.reconnect_backoff = Some(millis(key, value)?),
                "reconnect.backoff.max.ms" => s.reconnect_backoff_max = Some(millis(key, value)?),
                "connections.max.idle.ms" => s.connections_max_idle = Some(millis(key, value)?),
                "socket.connection.setup.timeout.ms" => {
                    s.connect_timeout = Some(millis(key, value)?)
                }
                "api.version.request.timeout.ms" => {
                    s.api_version_auto_timeout = Some(millis(key, value)?)
                }
                "max.in.flight.requests.per.connection" => {
                    s.max_in_flight_requests_per_connection = bytes(key, value)?
                }
                "receive.buffer.bytes" => s.receive_buffer_bytes = bytes(key, value)?,
                "send.buffer.bytes" => s.send_buffer_bytes = bytes(key, value)?,
                key if NO_MEANING.contains(&key) => warn(key, "no meaning for an admin client"),
                key => warn(key, "unknown property"),
            }
        }
        apply_sasl(
            &mut s,
            &mut warnings,
            jaas,
            kerberos,
            oauth,
            oauth_url,
            oauth_client,
        )?;
        Ok(LoadedProperties {
            settings: s,
            warnings,
        })
    }
}

type OAuthClient = (Option<String>, Option<Secret>, Option<String>);

/// Settles the SASL mechanism and its login. Java's default mechanism is GSSAPI; it is assumed
/// only when the JAAS line is Kerberos' (without any JAAS line Java would need a JAAS file,
/// which Klamm does not read).
fn apply_sasl(
    s: &mut AdminSettings,
    warnings: &mut Vec<PropertyWarning>,
    jaas: Option<JaasConfig>,
    kerberos: kerberos::KerberosProperties,
    mut oauth: OAuthSettings,
    oauth_url: Option<String>,
    (client_id, client_secret, scope): OAuthClient,
) -> Result<(), AdminError> {
    let krb5 = jaas.as_ref().is_some_and(kerberos::is_krb5_login_module);
    let uses_sasl = s.security_protocol.is_some_and(SecurityProtocol::uses_sasl);
    let gssapi_chosen_by = match s.sasl_mechanism {
        Some(MechanismSetting::Gssapi) => Some("sasl.mechanism"),
        None if krb5 && uses_sasl => Some("sasl.jaas.config"),
        _ => None,
    };
    if let Some(chosen_by) = gssapi_chosen_by {
        return kerberos::apply(s, jaas.as_ref(), kerberos, chosen_by);
    }
    for key in kerberos.keys_set() {
        warnings.push(PropertyWarning {
            key: key.to_owned(),
            reason: "the SASL mechanism is not GSSAPI".into(),
        });
    }
    let key = "sasl.jaas.config";
    let module = |jaas: &JaasConfig| {
        jaas.login_module
            .rsplit('.')
            .next()
            .unwrap_or_default()
            .to_owned()
    };
    match s.sasl_mechanism {
        Some(MechanismSetting::Named(mechanism)) if krb5 => Err(AdminError::InvalidConfig {
            key: key.into(),
            reason: format!(
                "Krb5LoginModule is the login of sasl.mechanism=GSSAPI, not {mechanism}"
            ),
        }),
        Some(MechanismSetting::Named(SaslMechanism::OAuthBearer)) => {
            let options = match &jaas {
                Some(jaas) if module(jaas) == "OAuthBearerLoginModule" => jaas.options.clone(),
                Some(jaas) => {
                    return Err(AdminError::InvalidConfig {
                        key: key.into(),
                        reason: format!(
                        "sasl.mechanism=OAUTHBEARER logs in with OAuthBearerLoginModule, not {}",
                        jaas.login_module
                    ),
                    })
                }
                None => BTreeMap::new(),
            };
            if options.keys().any(|k| k.starts_with("unsecuredLogin")) {
                return Err(unsupported(
                    key,
                    "unsecuredLogin* options (tokens made up by the client) are not supported; \
                     use sasl.oauthbearer.token.endpoint.url",
                ));
            }
            let url_key = "sasl.oauthbearer.token.endpoint.url";
            oauth.source = match oauth_url {
                None => None,
                Some(url) => Some(match url.strip_prefix("file://") {
                    Some(path) => OAuthSource::TokenFile(path.into()),
                    None if url.starts_with("https://") || url.starts_with("http://") => {
                        let client_id = client_id.or_else(|| options.get("clientId").cloned());
                        let client_secret = client_secret.or_else(|| {
                            options.get("clientSecret").map(|v| Secret::new(v.clone()))
                        });
                        let (Some(client_id), Some(client_secret)) = (client_id, client_secret)
                        else {
                            return Err(AdminError::InvalidConfig {
                                key: url_key.into(),
                                reason: "the client-credentials grant needs clientId and \
                                         clientSecret in sasl.jaas.config (or \
                                         sasl.oauthbearer.client.credentials.client.id/.secret)"
                                    .into(),
                            });
                        };
                        OAuthSource::ClientCredentials {
                            url,
                            client_id,
                            client_secret,
                            scope: scope.or_else(|| options.get("scope").cloned()),
                        }
                    }
                    None => {
                        return Err(AdminError::InvalidConfig {
                            key: url_key.into(),
                            reason: format!("`{url}` is neither https://, http:// nor file://"),
                        })
                    }
                }),
            };
            s.oauth = Some(oauth);
            Ok(())
        }
        _ if krb5 => kerberos::check_unused_login(jaas.as_ref().expect("krb5 has a JAAS line")),
        mechanism => {
            let Some(jaas) = jaas else {
                return Ok(());
            };
            let name = module(&jaas);
            if name != "PlainLoginModule" && name != "ScramLoginModule" {
                return Err(unsupported(
                    key,
                    format!(
                        "login module {} is not supported (PlainLoginModule and ScramLoginModule \
                         with username and password, OAuthBearerLoginModule with \
                         sasl.mechanism=OAUTHBEARER, Krb5LoginModule with sasl.mechanism=GSSAPI)",
                        jaas.login_module
                    ),
                ));
            }
            let (Some(username), Some(password)) =
                (jaas.options.get("username"), jaas.options.get("password"))
            else {
                return Err(AdminError::InvalidConfig {
                    key: key.into(),
                    reason: "the login module needs username=\"…\" and password=\"…\"".into(),
                });
            };
            let _ = mechanism;
            s.sasl_login = Some((username.clone(), Secret::new(password.clone())));
            Ok(())
        }
    }
}

impl AdminConfig {
    /// Loads a Java-client `.properties` text (see [`AdminSettings::from_properties`]); the
    /// keys it ignores are logged as `tracing` warnings.
    ///
    /// ```
    /// use klamm_admin::AdminConfig;
    ///
    /// let config = AdminConfig::from_properties(r#"
    /// bootstrap.servers=kafka-1:9093,kafka-2:9093
    /// security.protocol=SASL_PLAINTEXT
    /// sasl.mechanism=SCRAM-SHA-512
    /// sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \
    ///     username="ops" password="s3cret";
    /// default.api.timeout.ms=20000
    /// "#)?;
    /// assert_eq!(config.cluster.default_api_timeout.as_secs(), 20);
    /// assert!(AdminConfig::from_properties("ssl.truststore.type=BCFKS\nssl.truststore.location=/x").is_err());
    /// # Ok::<(), klamm_admin::AdminError>(())
    /// ```
    ///
    /// Kerberos, with the `gssapi` feature (without it this is
    /// [`AdminError::UnsupportedProperty`] naming the feature):
    ///
    /// ```text
    /// security.protocol=SASL_SSL
    /// sasl.mechanism=GSSAPI
    /// sasl.kerberos.service.name=kafka
    /// sasl.jaas.config=com.sun.security.auth.module.Krb5LoginModule required \
    ///     useKeyTab=true storeKey=true keyTab="/etc/security/ops.keytab" principal="ops@EXAMPLE.COM";
    /// ```
    pub fn from_properties(text: &str) -> Result<AdminConfig, AdminError> {
        Self::from_property_map(&parse_properties(text))
    }

    /// Loads properties already parsed into key/value pairs, as
    /// [`from_properties`](Self::from_properties) does.
    pub fn from_property_map(
        properties: &BTreeMap<String, String>,
    ) -> Result<AdminConfig, AdminError> {
        let loaded = AdminSettings::from_property_map(properties)?;
        for warning in &loaded.warnings {
            tracing::warn!(key = %warning.key, reason = %warning.reason, "ignoring property");
        }
        loaded.settings.into_config()
    }

    /// Loads a Java-client `.properties` file (see [`from_properties`](Self::from_properties)).
    pub fn from_properties_file(path: impl AsRef<Path>) -> Result<AdminConfig, AdminError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| AdminError::Io {
            path: path.to_owned(),
            cause: Arc::new(source),
        })?;
        AdminConfig::from_properties(&text)
    }
}

#[cfg(test)]
mod tests;
