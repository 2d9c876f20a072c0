//! Loading an [`AdminConfig`] from a Java-client `.properties` file, the format every Kafka
//! tool takes with `--command-config`: `bootstrap.servers`, `security.protocol`,
//! `sasl.mechanism`, `sasl.jaas.config` (PLAIN and SCRAM login modules, and Kerberos'
//! `Krb5LoginModule` with the `gssapi` feature), PEM trust and key stores, timeouts. Settings
//! Klamm cannot honour (JKS/PKCS12 stores, OAUTHBEARER, custom callback classes, GSSAPI in a
//! build without the `gssapi` feature) are refused with [`AdminError::UnsupportedProperty`]
//! instead of being silently ignored; unknown keys are ignored as the Java client does (with a
//! warning).
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

use klamm_net::{SaslMechanism, SecurityProtocol};

use crate::{AdminConfig, AdminConfigBuilder, AdminError};

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

/// `sasl.mechanism` as read. GSSAPI is told apart before klamm-net parses the name, because
/// without the `gssapi` feature klamm-net has no variant for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mechanism {
    Gssapi,
    Other(SaslMechanism),
}

fn read_mechanism(key: &str, value: &str) -> Result<Mechanism, AdminError> {
    let value = value.trim();
    if value.eq_ignore_ascii_case("GSSAPI") {
        return Ok(Mechanism::Gssapi);
    }
    let mechanism: SaslMechanism = value
        .parse()
        .map_err(|error: klamm_net::NetError| unsupported(key, error.to_string()))?;
    if mechanism == SaslMechanism::OAuthBearer {
        return Err(unsupported(
            key,
            "OAUTHBEARER needs a token provider; build the config in code with \
             klamm_net::ConnectionConfigBuilder::sasl_oauth_token_provider",
        ));
    }
    Ok(Mechanism::Other(mechanism))
}

/// Applies the SASL mechanism and its login. Java's default mechanism is GSSAPI; it is assumed
/// only when the JAAS line is Kerberos' (without any JAAS line Java would need a JAAS file,
/// which Klamm does not read).
fn apply_sasl(
    mut builder: AdminConfigBuilder,
    security_protocol: Option<SecurityProtocol>,
    mechanism: Option<Mechanism>,
    jaas: Option<JaasConfig>,
    kerberos: kerberos::KerberosProperties,
) -> Result<AdminConfigBuilder, AdminError> {
    let krb5 = jaas.as_ref().is_some_and(kerberos::is_krb5_login_module);
    let uses_sasl = security_protocol.is_some_and(SecurityProtocol::uses_sasl);
    let gssapi_chosen_by = match mechanism {
        Some(Mechanism::Gssapi) => Some("sasl.mechanism"),
        None if krb5 && uses_sasl => Some("sasl.jaas.config"),
        _ => None,
    };
    if let Some(chosen_by) = gssapi_chosen_by {
        return kerberos::apply(builder, jaas.as_ref(), kerberos, chosen_by);
    }
    match mechanism {
        Some(Mechanism::Other(mechanism)) if krb5 => {
            return Err(AdminError::InvalidConfig {
                key: "sasl.jaas.config".into(),
                reason: format!(
                    "Krb5LoginModule is the login of sasl.mechanism=GSSAPI, not {mechanism}"
                ),
            })
        }
        Some(Mechanism::Other(mechanism)) => builder = builder.sasl_mechanism(mechanism),
        Some(Mechanism::Gssapi) | None => {}
    }
    let Some(jaas) = jaas else {
        return Ok(builder);
    };
    if krb5 {
        kerberos::check_unused_login(&jaas)?;
        return Ok(builder);
    }
    let key = "sasl.jaas.config";
    let module = jaas.login_module.rsplit('.').next().unwrap_or_default();
    if module != "PlainLoginModule" && module != "ScramLoginModule" {
        return Err(unsupported(
            key,
            format!(
                "login module {} is not supported (only PlainLoginModule and ScramLoginModule \
                 with username and password, and Krb5LoginModule with sasl.mechanism=GSSAPI)",
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
    Ok(builder
        .sasl_plain_username(username.clone())
        .sasl_plain_password(password.clone()))
}

/// Keys accepted and ignored without a warning: they have no meaning for an admin client.
const HARMLESS: &[&str] = &[
    "key.serializer",
    "value.serializer",
    "key.deserializer",
    "value.deserializer",
    "group.id",
    "acks",
    "client.dns.lookup",
    "ssl.protocol",
    "ssl.enabled.protocols",
    "ssl.truststore.type",
    "ssl.keystore.type",
];

impl AdminConfig {
    /// Loads a Java-client `.properties` text.
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
    /// assert!(AdminConfig::from_properties("ssl.truststore.location=/x.jks").is_err());
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

    /// Builds a configuration from properties already parsed into key/value pairs, read as
    /// [`from_properties`](Self::from_properties) reads a file. Tools that layer their own
    /// settings over a file (as the `klamm` CLI does with its flags) edit the map and load it.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use klamm_admin::AdminConfig;
    ///
    /// let mut properties = BTreeMap::new();
    /// properties.insert("bootstrap.servers".to_owned(), "kafka-1:9092".to_owned());
    /// properties.insert("client.id".to_owned(), "ops".to_owned());
    /// let config = AdminConfig::from_property_map(&properties)?;
    /// # Ok::<(), klamm_admin::AdminError>(())
    /// ```
    pub fn from_property_map(
        properties: &BTreeMap<String, String>,
    ) -> Result<AdminConfig, AdminError> {
        let get = |key: &str| properties.get(key).map(String::as_str);
        let mut builder = AdminConfig::builder();
        // SASL is settled after the loop: the mechanism, the JAAS line and the Kerberos keys
        // depend on each other.
        let mut security_protocol = None;
        let mut mechanism = None;
        let mut jaas = None;
        let mut kerberos = kerberos::KerberosProperties::default();
        for (key, value) in properties {
            let key = key.as_str();
            builder = match key {
                "bootstrap.servers" => builder.bootstrap_servers(value.clone()),
                "client.id" => builder.client_id(value.clone()),
                "security.protocol" => {
                    let protocol: SecurityProtocol =
                        value.parse().map_err(|error: klamm_net::NetError| {
                            AdminError::InvalidConfig {
                                key: key.into(),
                                reason: error.to_string(),
                            }
                        })?;
                    security_protocol = Some(protocol);
                    builder.security_protocol(protocol)
                }
                "sasl.mechanism" => {
                    mechanism = Some(read_mechanism(key, value)?);
                    builder
                }
                "sasl.jaas.config" => {
                    jaas = Some(parse_jaas_config(value)?);
                    builder
                }
                key if kerberos.set(key, value) => builder,
                key if kerberos::RENEWAL_KEYS.contains(&key) => builder,
                "sasl.login.callback.handler.class"
                | "sasl.client.callback.handler.class"
                | "sasl.login.class" => {
                    return Err(unsupported(
                        key,
                        "custom SASL callback and login classes are not supported",
                    ))
                }
                "ssl.truststore.location" => match get("ssl.truststore.type") {
                    Some(kind) if kind.eq_ignore_ascii_case("PEM") => builder.ssl_cafile(value),
                    other => {
                        return Err(unsupported(
                            key,
                            format!(
                                "trust store type {} is not supported: convert it to PEM \
                                 (keytool -exportcert -rfc) and set ssl.truststore.type=PEM",
                                other.unwrap_or("JKS (the default)")
                            ),
                        ))
                    }
                },
                "ssl.keystore.location" => match get("ssl.keystore.type") {
                    // A PEM key store holds the private key and the certificate chain.
                    Some(kind) if kind.eq_ignore_ascii_case("PEM") => {
                        builder.ssl_certfile(value).ssl_keyfile(value)
                    }
                    other => {
                        return Err(unsupported(
                            key,
                            format!(
                                "key store type {} is not supported: convert it to a PEM file \
                                 holding the key and certificate chain and set ssl.keystore.type=PEM",
                                other.unwrap_or("JKS (the default)")
                            ),
                        ))
                    }
                },
                "ssl.truststore.certificates" | "ssl.keystore.certificate.chain"
                | "ssl.keystore.key" => {
                    return Err(unsupported(
                        key,
                        "inline PEM is not supported; put it in a file and use the .location key",
                    ))
                }
                "ssl.truststore.password" => builder,
                "ssl.key.password" | "ssl.keystore.password" => builder.ssl_password(value.clone()),
                "ssl.endpoint.identification.algorithm" => {
                    builder.ssl_check_hostname(!value.trim().is_empty())
                }
                "request.timeout.ms" => builder.request_timeout(millis(key, value)?),
                "default.api.timeout.ms" => builder.default_api_timeout(millis(key, value)?),
                "retry.backoff.ms" => builder.retry_backoff(millis(key, value)?),
                "retry.backoff.max.ms" => builder.retry_backoff_max(millis(key, value)?),
                "metadata.max.age.ms" => builder.metadata_max_age(millis(key, value)?),
                "reconnect.backoff.ms" => builder.reconnect_backoff(millis(key, value)?),
                "reconnect.backoff.max.ms" => builder.reconnect_backoff_max(millis(key, value)?),
                "connections.max.idle.ms" => builder.connections_max_idle(millis(key, value)?),
                "socket.connection.setup.timeout.ms" => builder.connect_timeout(millis(key, value)?),
                "receive.buffer.bytes" => match bytes(key, value)? {
                    Some(size) => builder.receive_buffer_bytes(size),
                    None => builder,
                },
                "send.buffer.bytes" => match bytes(key, value)? {
                    Some(size) => builder.send_buffer_bytes(size),
                    None => builder,
                },
                key if HARMLESS.contains(&key) => builder,
                other => {
                    tracing::warn!(key = other, "ignoring unknown admin client property");
                    builder
                }
            };
        }
        builder = apply_sasl(builder, security_protocol, mechanism, jaas, kerberos)?;
        builder.build()
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
mod tests {
    use super::*;

    #[test]
    fn an_escaped_space_before_the_separator_stays_in_the_key() {
        let properties = parse_properties("a\\ =1\nb\\\\ =2\nc\\ d = 3\n");
        assert_eq!(properties.get("a "), Some(&"1".to_owned()));
        // An escaped backslash does not escape the space after it.
        assert_eq!(properties.get("b\\"), Some(&"2".to_owned()));
        assert_eq!(properties.get("c d"), Some(&"3".to_owned()));
    }

    #[test]
    fn properties_parse_separators_comments_continuations_and_escapes() {
        let parsed = parse_properties(
            "# comment\n! other\n a = 1\nb:2\nc 3\nlong=x\\\n    y\nesc=tab\\there\\u0041\nempty=\n",
        );
        assert_eq!(parsed["a"], "1");
        assert_eq!(parsed["b"], "2");
        assert_eq!(parsed["c"], "3");
        assert_eq!(parsed["long"], "xy");
        assert_eq!(parsed["esc"], "tab\there\u{41}");
        assert_eq!(parsed["empty"], "");
        assert_eq!(parsed.len(), 6);
    }

    #[test]
    fn sasl_and_timeouts_are_applied() {
        let config = AdminConfig::from_properties(
            "bootstrap.servers=h1:9092,h2:9092\nclient.id=ops\nsecurity.protocol=SASL_PLAINTEXT\n\
             sasl.mechanism=PLAIN\nsasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"p\";\n\
             request.timeout.ms=1234\ndefault.api.timeout.ms=5000\n",
        )
        .unwrap();
        let connection = &config.cluster.connection;
        assert_eq!(connection.client_id, "ops");
        assert_eq!(
            connection.security_protocol,
            SecurityProtocol::SaslPlaintext
        );
        assert!(connection.sasl.is_some());
        assert_eq!(connection.request_timeout, Duration::from_millis(1234));
        assert_eq!(config.cluster.default_api_timeout, Duration::from_secs(5));
        assert_eq!(config.cluster.bootstrap_servers.addresses().len(), 2);
    }

    #[test]
    fn jks_truststore_is_refused_with_a_typed_error() {
        let error = AdminConfig::from_properties("ssl.truststore.location=/etc/kafka/trust.jks\n")
            .unwrap_err();
        match error {
            AdminError::UnsupportedProperty { key, reason } => {
                assert_eq!(key, "ssl.truststore.location");
                assert!(reason.contains("PEM"), "{reason}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn pem_truststore_sets_the_ca_file() {
        let config = AdminConfig::from_properties(
            "security.protocol=SSL\nssl.truststore.type=PEM\nssl.truststore.location=/tmp/ca.pem\n",
        )
        .unwrap();
        assert_eq!(
            config.cluster.connection.security_protocol,
            SecurityProtocol::Ssl
        );
    }

    #[cfg(not(feature = "gssapi"))]
    #[test]
    fn gssapi_without_the_feature_is_unsupported_naming_the_feature() {
        let jaas = "sasl.jaas.config=com.sun.security.auth.module.Krb5LoginModule required \
                    useKeyTab=true keyTab=\"/etc/ops.keytab\" principal=\"ops@EXAMPLE.COM\";\n";
        for (text, expected_key) in [
            (
                "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=GSSAPI\n".to_owned(),
                "sasl.mechanism",
            ),
            (
                format!("security.protocol=SASL_PLAINTEXT\nsasl.mechanism=GSSAPI\n{jaas}"),
                "sasl.mechanism",
            ),
            // Java's default mechanism with a Kerberos login is GSSAPI.
            (
                format!("security.protocol=SASL_PLAINTEXT\n{jaas}"),
                "sasl.jaas.config",
            ),
            (jaas.to_owned(), "sasl.jaas.config"),
        ] {
            match AdminConfig::from_properties(&text) {
                Err(AdminError::UnsupportedProperty { key, reason }) => {
                    assert_eq!(key, expected_key, "{text}");
                    assert!(reason.contains("`gssapi` cargo feature"), "{reason}");
                }
                other => panic!("{text}: expected UnsupportedProperty, got {other:?}"),
            }
        }
        // Kerberos keys beside another mechanism are ignored, as in Java.
        let config = AdminConfig::from_properties(
            "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\n\
             sasl.kerberos.service.name=kafka\n\
             sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \
             username=\"u\" password=\"p\";\n",
        )
        .unwrap();
        assert!(config.cluster.connection.sasl.is_some());
    }

    #[test]
    fn oauthbearer_and_custom_login_classes_are_unsupported() {
        for text in [
            "sasl.mechanism=OAUTHBEARER",
            "sasl.login.callback.handler.class=com.example.Handler",
            "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.jaas.config=\
             org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;",
        ] {
            assert!(
                matches!(
                    AdminConfig::from_properties(text),
                    Err(AdminError::UnsupportedProperty { .. })
                ),
                "{text}"
            );
        }
    }

    #[test]
    fn bad_number_names_the_key() {
        let error = AdminConfig::from_properties("request.timeout.ms=soon").unwrap_err();
        assert!(error.to_string().contains("request.timeout.ms"), "{error}");
    }
}
