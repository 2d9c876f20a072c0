//! Loading an [`AdminConfig`] from a Java-client `.properties` file, the format every Kafka
//! tool takes with `--command-config`: `bootstrap.servers`, `security.protocol`,
//! `sasl.mechanism`, `sasl.jaas.config` (PLAIN and SCRAM login modules), PEM trust and key
//! stores, timeouts. Settings Klamm cannot honour (JKS/PKCS12 stores, Kerberos, custom callback
//! classes) are refused with [`AdminError::UnsupportedProperty`] instead of being silently
//! ignored; unknown keys are ignored as the Java client does (with a warning).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use klamm_net::{SaslMechanism, SecurityProtocol};

use crate::{AdminConfig, AdminError};

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

fn split_entry(line: &str) -> (&str, &str) {
    let mut escaped = false;
    for (index, c) in line.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '=' | ':' => return (line[..index].trim_end(), &line[index + 1..]),
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

/// The login module and options of a `sasl.jaas.config` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JaasConfig {
    /// The login module class, e.g. `org.apache.kafka.common.security.plain.PlainLoginModule`.
    pub login_module: String,
    /// `required`, `optional`, …
    pub flag: String,
    /// The `key="value"` options.
    pub options: BTreeMap<String, String>,
}

/// Parses `Module flag key="value" key2=value2;`.
pub fn parse_jaas_config(text: &str) -> Result<JaasConfig, AdminError> {
    let error = |reason: &str| AdminError::InvalidConfig {
        key: "sasl.jaas.config".into(),
        reason: reason.into(),
    };
    let text = text.trim();
    let text = text.strip_suffix(';').unwrap_or(text).trim();
    let mut rest = text;
    let next_word = |rest: &mut &str| -> Option<String> {
        let trimmed = rest.trim_start();
        let end = trimmed.find(char::is_whitespace).unwrap_or(trimmed.len());
        let word = &trimmed[..end];
        *rest = &trimmed[end..];
        (!word.is_empty()).then(|| word.to_owned())
    };
    let login_module = next_word(&mut rest).ok_or_else(|| error("empty"))?;
    let flag = next_word(&mut rest).ok_or_else(|| error("no control flag (`required`)"))?;
    let mut options = BTreeMap::new();
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        let eq = rest.find('=').ok_or_else(|| error("option without `=`"))?;
        let key = rest[..eq].trim().to_owned();
        rest = rest[eq + 1..].trim_start();
        let value = if let Some(quoted) = rest.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = None;
            while let Some((index, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            value.push(escaped);
                        }
                    }
                    '"' => {
                        end = Some(index);
                        break;
                    }
                    c => value.push(c),
                }
            }
            let end = end.ok_or_else(|| error("unterminated quoted value"))?;
            rest = &quoted[end + 1..];
            value
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let value = rest[..end].to_owned();
            rest = &rest[end..];
            value
        };
        options.insert(key, value);
    }
    Ok(JaasConfig {
        login_module,
        flag,
        options,
    })
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
    pub fn from_properties(text: &str) -> Result<AdminConfig, AdminError> {
        let properties = parse_properties(text);
        let get = |key: &str| properties.get(key).map(String::as_str);
        let mut builder = AdminConfig::builder();
        for (key, value) in &properties {
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
                    builder.security_protocol(protocol)
                }
                "sasl.mechanism" => {
                    let mechanism: SaslMechanism = value.parse().map_err(|error: klamm_net::NetError| {
                        unsupported(key, error.to_string())
                    })?;
                    if mechanism == SaslMechanism::OAuthBearer {
                        return Err(unsupported(
                            key,
                            "OAUTHBEARER needs a token provider; build the config in code with \
                             klamm_net::ConnectionConfigBuilder::sasl_oauth_token_provider",
                        ));
                    }
                    if mechanism.name() == "GSSAPI" {
                        return Err(unsupported(
                            key,
                            "GSSAPI is not read from .properties (its Krb5LoginModule options \
                             are not mapped); build the config in code with klamm-net's \
                             sasl_kerberos_* settings (feature `gssapi`)",
                        ));
                    }
                    builder.sasl_mechanism(mechanism)
                }
                "sasl.jaas.config" => {
                    let jaas = parse_jaas_config(value)?;
                    let module = jaas.login_module.rsplit('.').next().unwrap_or_default();
                    if module != "PlainLoginModule" && module != "ScramLoginModule" {
                        return Err(unsupported(
                            key,
                            format!(
                                "login module {} is not supported (only PlainLoginModule and \
                                 ScramLoginModule with username and password)",
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
                    builder
                        .sasl_plain_username(username.clone())
                        .sasl_plain_password(password.clone())
                }
                "sasl.kerberos.service.name" | "sasl.login.callback.handler.class"
                | "sasl.client.callback.handler.class" | "sasl.login.class" => {
                    return Err(unsupported(
                        key,
                        "Kerberos and custom SASL callback classes are not supported",
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
        builder.build()
    }

    /// Loads a Java-client `.properties` file (see [`from_properties`](Self::from_properties)).
    pub fn from_properties_file(path: impl AsRef<Path>) -> Result<AdminConfig, AdminError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| AdminError::Io {
            path: path.to_owned(),
            source: Arc::new(source),
        })?;
        AdminConfig::from_properties(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn jaas_config_yields_module_and_quoted_options() {
        let jaas = parse_jaas_config(
            r#"org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="a \"b\" c";"#,
        )
        .unwrap();
        assert!(jaas.login_module.ends_with("PlainLoginModule"));
        assert_eq!(jaas.flag, "required");
        assert_eq!(jaas.options["username"], "admin");
        assert_eq!(jaas.options["password"], "a \"b\" c");
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

    #[test]
    fn gssapi_and_kerberos_modules_are_unsupported() {
        assert!(matches!(
            AdminConfig::from_properties("sasl.mechanism=GSSAPI"),
            Err(AdminError::UnsupportedProperty { .. })
        ));
        assert!(matches!(
            AdminConfig::from_properties(
                "sasl.jaas.config=com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true;"
            ),
            Err(AdminError::UnsupportedProperty { .. })
        ));
    }

    #[test]
    fn bad_number_names_the_key() {
        let error = AdminConfig::from_properties("request.timeout.ms=soon").unwrap_err();
        assert!(error.to_string().contains("request.timeout.ms"), "{error}");
    }
}
