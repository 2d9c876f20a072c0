//! The client settings `klamm` connects with: the `--command-config` file's properties with the
//! flags layered on top (a flag wins over the file), checked for combinations that cannot work
//! before any connection is attempted, then loaded by klamm-admin's
//! [`AdminConfig::from_property_map`], the one place that decides what each setting means.
//!
//! Every flag becomes the Java-client key the file would carry (`--security-protocol` is
//! `security.protocol`, `--ssl-cafile` a PEM `ssl.truststore.location`, `--sasl-username` and its
//! password a `sasl.jaas.config` login line, …). The exception is `--ssl-keyfile`: Java has no key
//! for a private key apart from its certificate, so it is set on the loaded configuration.

mod error;
mod password;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use klamm_admin::properties::parse_properties;
use klamm_admin::{AdminConfig, AdminError, SecurityProtocol};

pub use error::ClientConfigError;
pub use password::Password;
use password::{password_from_env, password_from_file};

use crate::cli::{Global, Security, DEFAULT_BOOTSTRAP};
use crate::output::Failure;

/// Environment variable holding the `--sasl-username` password.
pub const SASL_PASSWORD_ENV: &str = "KLAMM_SASL_PASSWORD";
/// Environment variable holding the password of an encrypted `--ssl-keyfile`.
pub const SSL_PASSWORD_ENV: &str = "KLAMM_SSL_PASSWORD";

/// The client settings for the command line, with passwords from the process environment.
pub fn admin_config(global: &Global) -> Result<AdminConfig, Failure> {
    client_config(global, &|name| std::env::var_os(name)).map_err(Failure::from)
}

/// The `--command-config` properties with `-b`, `--timeout`, the security and the
/// `--sasl-kerberos-*` flags on top, loaded and checked; `env` looks up environment variables.
fn client_config(
    global: &Global,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<AdminConfig, ClientConfigError> {
    let kerberos = global.kerberos.given();
    if let (Some((flag, _, _)), false) = (kerberos.first(), cfg!(feature = "gssapi")) {
        return Err(ClientConfigError::NeedsGssapiFeature { flag });
    }
    let mut layered = match &global.command_config {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| {
                ClientConfigError::CommandConfig {
                    path: path.clone(),
                    cause: source,
                }
            })?;
            Layered::new(parse_properties(&text))
        }
        None => Layered::new(BTreeMap::new()),
    };
    match &global.bootstrap_server {
        Some(servers) => layered.set("--bootstrap-server", "bootstrap.servers", servers),
        None if layered.get("bootstrap.servers").is_some() => {}
        None => layered.set("--bootstrap-server", "bootstrap.servers", DEFAULT_BOOTSTRAP),
    }
    if let Some(ms) = global.timeout {
        layered.set("--timeout", "default.api.timeout.ms", &ms.to_string());
    }
    for (flag, key, value) in &kerberos {
        layered.set(flag, key, value);
    }
    let keyfile = layer_security(&mut layered, &global.security, env)?;

    let mut config = AdminConfig::from_property_map(&layered.properties).map_err(|source| {
        ClientConfigError::Admin {
            what: layered.subject_of(&source, global.command_config.as_deref()),
            cause: source,
        }
    })?;
    if let Some(keyfile) = keyfile {
        config.cluster.connection.tls.keyfile = Some(keyfile);
    }
    // Without GSSAPI the loader ignores Kerberos keys (as Java does); a flag is not ignored.
    let gssapi = config
        .cluster
        .connection
        .sasl
        .as_ref()
        .is_some_and(|sasl| sasl.mechanism().name() == "GSSAPI");
    if let (Some((flag, _, _)), false) = (kerberos.first(), gssapi) {
        return Err(ClientConfigError::KerberosWithoutGssapi { flag });
    }
    Ok(config)
}

/// Properties being layered, remembering which flag set which key so that a refusal by the
/// loader can name the flag rather than the file.
struct Layered {
    properties: BTreeMap<String, String>,
    set_by: BTreeMap<&'static str, &'static str>,
}

impl Layered {
    fn new(properties: BTreeMap<String, String>) -> Layered {
        Layered {
            properties,
            set_by: BTreeMap::new(),
        }
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.properties.get(key).map(String::as_str)
    }

    fn set(&mut self, flag: &'static str, key: &'static str, value: &str) {
        self.properties.insert(key.to_owned(), value.to_owned());
        self.set_by.insert(key, flag);
    }

    fn remove(&mut self, key: &str) {
        self.properties.remove(key);
    }

    /// The flag that set the key `error` is about, or else the configuration file.
    fn subject_of(&self, error: &AdminError, file: Option<&Path>) -> String {
        let key = match error {
            AdminError::InvalidConfig { key, .. } | AdminError::UnsupportedProperty { key, .. } => {
                Some(key.as_str())
            }
            _ => None,
        };
        match (key.and_then(|key| self.set_by.get(key)), file) {
            (Some(flag), _) => (*flag).to_owned(),
            (None, Some(path)) => format!("client config {}", path.display()),
            (None, None) => "client config".to_owned(),
        }
    }
}

/// Layers the security flags and checks them against each other and the file; returns the
/// `--ssl-keyfile` to set on the loaded configuration.
fn layer_security(
    layered: &mut Layered,
    flags: &Security,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<Option<PathBuf>, ClientConfigError> {
    let protocol = match flags.security_protocol {
        Some(protocol) => {
            layered.set("--security-protocol", "security.protocol", protocol.name());
            if !protocol.uses_sasl() {
                // The flag turns SASL off: the file's login no longer applies (Java ignores it
                // too, where klamm-admin would refuse SASL settings without a SASL protocol).
                layered.remove("sasl.mechanism");
                layered.remove("sasl.jaas.config");
            }
            Some(protocol)
        }
        // A value the loader does not know is left for it to report.
        None => match layered.get("security.protocol") {
            Some(value) => value.trim().parse().ok(),
            None => Some(SecurityProtocol::Plaintext),
        },
    };
    let keyfile = layer_tls(layered, flags, protocol, env)?;
    layer_sasl(layered, flags, protocol, env)?;
    Ok(keyfile)
}

fn layer_sasl(
    layered: &mut Layered,
    flags: &Security,
    protocol: Option<SecurityProtocol>,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<(), ClientConfigError> {
    use crate::cli::SaslMechanism;

    let given = [
        ("--sasl-mechanism", flags.sasl_mechanism.is_some()),
        ("--sasl-username", flags.sasl_username.is_some()),
        ("--sasl-password-file", flags.sasl_password_file.is_some()),
    ];
    if let (Some(&(flag, _)), Some(protocol)) = (given.iter().find(|(_, given)| *given), protocol) {
        if !protocol.uses_sasl() {
            return Err(ClientConfigError::NeedsSaslProtocol {
                flag,
                protocol: protocol.name(),
            });
        }
    }
    match flags.sasl_mechanism {
        Some(SaslMechanism::OAuthBearer) => return Err(ClientConfigError::OAuthBearerUnsupported),
        Some(SaslMechanism::Gssapi) if !cfg!(feature = "gssapi") => {
            return Err(ClientConfigError::NeedsGssapiFeature {
                flag: "--sasl-mechanism",
            })
        }
        Some(mechanism) => layered.set("--sasl-mechanism", "sasl.mechanism", mechanism.name()),
        None => {}
    }
    let mechanism = layered
        .get("sasl.mechanism")
        .and_then(SaslMechanism::from_property);

    match (&flags.sasl_username, &flags.sasl_password_file) {
        (None, Some(_)) => return Err(ClientConfigError::PasswordWithoutUsername),
        (None, None) => {}
        (Some(username), password_file) => {
            let mechanism = mechanism.ok_or(ClientConfigError::NeedsSaslMechanism {
                flag: "--sasl-username",
            })?;
            let module = mechanism.password_login_module().ok_or(
                ClientConfigError::NotAPasswordMechanism {
                    mechanism: mechanism.name(),
                },
            )?;
            let password = match password_file {
                Some(path) => password_from_file("--sasl-password-file", path)?,
                None => password_from_env("--sasl-username", SASL_PASSWORD_ENV, env)?
                    .ok_or(ClientConfigError::MissingSaslPassword)?,
            };
            layered.set(
                "--sasl-username",
                "sasl.jaas.config",
                &jaas_login(module, username, &password),
            );
        }
    }

    // A SASL protocol or mechanism asked for by a flag must come with what it needs.
    let asked_by = match (flags.sasl_mechanism, flags.security_protocol) {
        (Some(_), _) => Some("--sasl-mechanism"),
        (None, Some(protocol)) if protocol.uses_sasl() => Some("--security-protocol"),
        _ => None,
    };
    if let Some(flag) = asked_by {
        let has_login = layered.get("sasl.jaas.config").is_some();
        match mechanism {
            // Java's default mechanism with a Kerberos login line is GSSAPI; the loader decides.
            None if has_login => {}
            None => return Err(ClientConfigError::NeedsSaslMechanism { flag }),
            Some(mechanism) if mechanism.password_login_module().is_some() && !has_login => {
                return Err(ClientConfigError::NeedsSaslLogin {
                    flag,
                    mechanism: mechanism.name(),
                })
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Layers the TLS flags; returns the `--ssl-keyfile` to set on the loaded configuration.
fn layer_tls(
    layered: &mut Layered,
    flags: &Security,
    protocol: Option<SecurityProtocol>,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<Option<PathBuf>, ClientConfigError> {
    let given = [
        ("--ssl-cafile", flags.ssl_cafile.is_some()),
        ("--ssl-certfile", flags.ssl_certfile.is_some()),
        ("--ssl-keyfile", flags.ssl_keyfile.is_some()),
        ("--ssl-password-file", flags.ssl_password_file.is_some()),
        ("--ssl-no-check-hostname", flags.ssl_no_check_hostname),
    ];
    if let (Some(&(flag, _)), Some(protocol)) = (given.iter().find(|(_, given)| *given), protocol) {
        if !protocol.uses_tls() {
            return Err(ClientConfigError::NeedsTlsProtocol {
                flag,
                protocol: protocol.name(),
            });
        }
    }
    if let Some(path) = &flags.ssl_cafile {
        check_readable("--ssl-cafile", path)?;
        layered.set("--ssl-cafile", "ssl.truststore.type", "PEM");
        layered.set("--ssl-cafile", "ssl.truststore.location", &display(path));
    }
    if let Some(path) = &flags.ssl_certfile {
        check_readable("--ssl-certfile", path)?;
        // A PEM key store is the certificate chain, and the key unless --ssl-keyfile says
        // otherwise: kafka-python's ssl_certfile.
        layered.set("--ssl-certfile", "ssl.keystore.type", "PEM");
        layered.set("--ssl-certfile", "ssl.keystore.location", &display(path));
    }
    let has_certificate = layered.get("ssl.keystore.location").is_some();
    if let Some(path) = &flags.ssl_keyfile {
        if !has_certificate {
            return Err(ClientConfigError::NeedsClientCertificate {
                flag: "--ssl-keyfile",
            });
        }
        check_readable("--ssl-keyfile", path)?;
    }
    let password = match &flags.ssl_password_file {
        Some(_) if !has_certificate => {
            return Err(ClientConfigError::NeedsClientCertificate {
                flag: "--ssl-password-file",
            })
        }
        Some(path) => Some((
            "--ssl-password-file",
            password_from_file("--ssl-password-file", path)?,
        )),
        // The variable is read only beside a flag that names a client key.
        None => match key_flag(flags) {
            Some(flag) => password_from_env(flag, SSL_PASSWORD_ENV, env)?.map(|p| (flag, p)),
            None => None,
        },
    };
    // The flag the password came with, so that a refusal by the loader names it.
    if let Some((flag, password)) = password {
        layered.set(flag, "ssl.key.password", password.expose());
        // The loader reads both keys into the one key password; the file's must not win.
        layered.remove("ssl.keystore.password");
    }
    if flags.ssl_no_check_hostname {
        // Java's way to turn hostname verification off: an empty algorithm.
        layered.set(
            "--ssl-no-check-hostname",
            "ssl.endpoint.identification.algorithm",
            "",
        );
    }
    Ok(flags.ssl_keyfile.clone())
}

/// The flag that names the client key: `--ssl-keyfile`, or `--ssl-certfile` holding it.
fn key_flag(flags: &Security) -> Option<&'static str> {
    match (&flags.ssl_keyfile, &flags.ssl_certfile) {
        (Some(_), _) => Some("--ssl-keyfile"),
        (None, Some(_)) => Some("--ssl-certfile"),
        (None, None) => None,
    }
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

/// Fails now, naming the flag, if `path` cannot be read, rather than at the first connection.
fn check_readable(flag: &'static str, path: &Path) -> Result<(), ClientConfigError> {
    std::fs::read(path)
        .map(drop)
        .map_err(|source| ClientConfigError::UnreadableFile {
            flag,
            path: path.to_owned(),
            cause: source,
        })
}

/// A `sasl.jaas.config` login line for `module` with a username and password.
fn jaas_login(module: &str, username: &str, password: &Password) -> String {
    fn quoted(value: &str) -> String {
        let mut quoted = String::with_capacity(value.len() + 2);
        quoted.push('"');
        for c in value.chars() {
            if matches!(c, '"' | '\\') {
                quoted.push('\\');
            }
            quoted.push(c);
        }
        quoted.push('"');
        quoted
    }
    format!(
        "{module} required username={} password={};",
        quoted(username),
        quoted(password.expose())
    )
}

#[cfg(test)]
mod tests;
