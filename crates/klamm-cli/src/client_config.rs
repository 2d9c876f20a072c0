//! The client settings `klamm` connects with: the `--command-config` file read into klamm-admin's
//! typed [`AdminSettings`], the flags as another `AdminSettings` layered on top (a flag wins
//! over the file, field by field), checked for combinations that cannot work before any
//! connection is attempted, then turned into an [`AdminConfig`]. No flag becomes property text,
//! so no password is ever escaped into a JAAS line and parsed back.
//!
//! The file's keys that have no effect come back as warnings; [`admin_config`] prints one line
//! for each on stderr.

mod error;
mod password;

use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;

use klamm_admin::properties::PropertyWarning;
use klamm_admin::{
    AdminConfig, AdminSettings, IdentitySource, MechanismSetting, SaslMechanism as Mechanism,
    Secret, SecurityProtocol, TrustSource,
};

pub use error::ClientConfigError;
use password::{password_from_env, password_from_file};

use crate::cli::{Global, Security, DEFAULT_BOOTSTRAP};
use crate::output::Failure;

/// Environment variable holding the `--sasl-username` password.
pub const SASL_PASSWORD_ENV: &str = "KLAMM_SASL_PASSWORD";
/// Environment variable holding the password of an encrypted `--ssl-keyfile`.
pub const SSL_PASSWORD_ENV: &str = "KLAMM_SSL_PASSWORD";

/// The client settings for the command line, with passwords from the process environment;
/// prints one `warning:` line on stderr per `--command-config` key that has no effect.
pub fn admin_config(global: &Global) -> Result<AdminConfig, Failure> {
    let (config, warnings) =
        layered_config(global, &|name| std::env::var_os(name)).map_err(Failure::from)?;
    for warning in &warnings {
        eprintln!("{}", warning_line(warning));
    }
    Ok(config)
}

/// The line printed for a key that has no effect.
pub fn warning_line(warning: &PropertyWarning) -> String {
    format!(
        "warning: ignoring property `{}` ({})",
        warning.key, warning.reason
    )
}

/// The `--command-config` settings with `-b`, `--timeout`, the security and the
/// `--sasl-kerberos-*` flags on top, checked; `env` looks up environment variables.
fn layered_config(
    global: &Global,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<(AdminConfig, Vec<PropertyWarning>), ClientConfigError> {
    let kerberos = global.kerberos.given();
    if let (Some((flag, _, _)), false) = (kerberos.first(), cfg!(feature = "gssapi")) {
        return Err(ClientConfigError::NeedsGssapiFeature { flag });
    }
    let file_subject = || match &global.command_config {
        Some(path) => format!("client config {}", path.display()),
        None => "client config".to_owned(),
    };
    let (file, warnings) = match &global.command_config {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| {
                ClientConfigError::CommandConfig {
                    path: path.clone(),
                    cause: source,
                }
            })?;
            let loaded = AdminSettings::from_properties(&text).map_err(|cause| {
                ClientConfigError::Admin {
                    what: file_subject(),
                    cause,
                }
            })?;
            (loaded.settings, loaded.warnings)
        }
        None => (AdminSettings::default(), Vec::new()),
    };
    let mut flags = AdminSettings::default();
    flags.bootstrap_servers = global.bootstrap_server.clone();
    flags.default_api_timeout = global.timeout.map(Duration::from_millis);
    flags.api_version = global.api_version;
    flags.kerberos.service_name = global.kerberos.sasl_kerberos_service_name.clone();
    flags.kerberos.domain_name = global.kerberos.sasl_kerberos_domain_name.clone();
    flags.kerberos.principal = global.kerberos.sasl_kerberos_principal.clone();
    flags.kerberos.keytab = global.kerberos.sasl_kerberos_keytab.clone();
    let protocol = security_flags(&mut flags, &file, &global.security, env)?;

    let mut merged = file.merge(flags);
    if merged.bootstrap_servers.is_none() {
        merged.bootstrap_servers = Some(DEFAULT_BOOTSTRAP.to_owned());
    }
    if !protocol.uses_sasl() {
        // A protocol flag turned SASL off: the file's login no longer applies (Java ignores it
        // too, where klamm-admin would refuse SASL settings without a SASL protocol).
        merged.sasl_mechanism = None;
        merged.sasl_login = None;
        merged.oauth = None;
    }
    let gssapi = merged.sasl_mechanism == Some(MechanismSetting::Gssapi);
    let config = merged
        .into_config()
        .map_err(|cause| ClientConfigError::Admin {
            what: file_subject(),
            cause,
        })?;
    // Without GSSAPI the Kerberos settings are ignored (as Java does); a flag is not ignored.
    if let (Some((flag, _, _)), false) = (kerberos.first(), gssapi) {
        return Err(ClientConfigError::KerberosWithoutGssapi { flag });
    }
    Ok((config, warnings))
}

/// Sets the security flags on `flags`, checked against each other and the `file`; returns the
/// security protocol in effect.
fn security_flags(
    flags: &mut AdminSettings,
    file: &AdminSettings,
    security: &Security,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<SecurityProtocol, ClientConfigError> {
    flags.security_protocol = security.security_protocol;
    let protocol = security
        .security_protocol
        .or(file.security_protocol)
        .unwrap_or(SecurityProtocol::Plaintext);
    tls_flags(flags, file, security, protocol, env)?;
    sasl_flags(flags, file, security, protocol, env)?;
    Ok(protocol)
}

fn sasl_flags(
    flags: &mut AdminSettings,
    file: &AdminSettings,
    security: &Security,
    protocol: SecurityProtocol,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<(), ClientConfigError> {
    use crate::cli::SaslMechanism;

    let given = [
        ("--sasl-mechanism", security.sasl_mechanism.is_some()),
        ("--sasl-username", security.sasl_username.is_some()),
        (
            "--sasl-password-file",
            security.sasl_password_file.is_some(),
        ),
    ];
    if let Some(&(flag, _)) = given.iter().find(|(_, given)| *given) {
        if !protocol.uses_sasl() {
            return Err(ClientConfigError::NeedsSaslProtocol {
                flag,
                protocol: protocol.name(),
            });
        }
    }
    flags.sasl_mechanism = match security.sasl_mechanism {
        None => None,
        Some(SaslMechanism::Gssapi) if !cfg!(feature = "gssapi") => {
            return Err(ClientConfigError::NeedsGssapiFeature {
                flag: "--sasl-mechanism",
            })
        }
        Some(SaslMechanism::Gssapi) => Some(MechanismSetting::Gssapi),
        Some(SaslMechanism::OAuthBearer) if file.oauth.is_none() => {
            return Err(ClientConfigError::OAuthBearerUnsupported)
        }
        Some(SaslMechanism::OAuthBearer) => Some(MechanismSetting::Named(Mechanism::OAuthBearer)),
        Some(SaslMechanism::Plain) => Some(MechanismSetting::Named(Mechanism::Plain)),
        Some(SaslMechanism::ScramSha256) => Some(MechanismSetting::Named(Mechanism::ScramSha256)),
        Some(SaslMechanism::ScramSha512) => Some(MechanismSetting::Named(Mechanism::ScramSha512)),
    };
    let mechanism = flags.sasl_mechanism.or(file.sasl_mechanism);
    let password_mechanism = |mechanism: Option<MechanismSetting>| match mechanism {
        Some(MechanismSetting::Named(
            m @ (Mechanism::Plain | Mechanism::ScramSha256 | Mechanism::ScramSha512),
        )) => Some(m),
        _ => None,
    };

    match (&security.sasl_username, &security.sasl_password_file) {
        (None, Some(_)) => return Err(ClientConfigError::PasswordWithoutUsername),
        (None, None) => {}
        (Some(username), password_file) => {
            let mechanism_name = mechanism.ok_or(ClientConfigError::NeedsSaslMechanism {
                flag: "--sasl-username",
            })?;
            if password_mechanism(Some(mechanism_name)).is_none() {
                return Err(ClientConfigError::NotAPasswordMechanism {
                    mechanism: mechanism_label(mechanism_name),
                });
            }
            let password = match password_file {
                Some(path) => password_from_file("--sasl-password-file", path)?,
                None => password_from_env("--sasl-username", SASL_PASSWORD_ENV, env)?
                    .ok_or(ClientConfigError::MissingSaslPassword)?,
            };
            flags.sasl_login = Some((username.clone(), Secret::new(password.expose())));
        }
    }

    // A SASL protocol or mechanism asked for by a flag must come with what it needs.
    let asked_by = match (security.sasl_mechanism, security.security_protocol) {
        (Some(_), _) => Some("--sasl-mechanism"),
        (None, Some(protocol)) if protocol.uses_sasl() => Some("--security-protocol"),
        _ => None,
    };
    if let Some(flag) = asked_by {
        let has_login = flags.sasl_login.is_some() || file.sasl_login.is_some();
        match mechanism {
            None => return Err(ClientConfigError::NeedsSaslMechanism { flag }),
            Some(m) if password_mechanism(Some(m)).is_some() && !has_login => {
                return Err(ClientConfigError::NeedsSaslLogin {
                    flag,
                    mechanism: mechanism_label(m),
                })
            }
            Some(_) => {}
        }
    }
    Ok(())
}

fn mechanism_label(mechanism: MechanismSetting) -> &'static str {
    match mechanism {
        MechanismSetting::Named(mechanism) => mechanism.name(),
        _ => "GSSAPI",
    }
}

/// Sets the TLS flags on `flags`.
fn tls_flags(
    flags: &mut AdminSettings,
    file: &AdminSettings,
    security: &Security,
    protocol: SecurityProtocol,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<(), ClientConfigError> {
    let given = [
        ("--ssl-cafile", security.ssl_cafile.is_some()),
        ("--ssl-certfile", security.ssl_certfile.is_some()),
        ("--ssl-keyfile", security.ssl_keyfile.is_some()),
        ("--ssl-password-file", security.ssl_password_file.is_some()),
        ("--ssl-crlfile", security.ssl_crlfile.is_some()),
        ("--ssl-no-check-hostname", security.ssl_no_check_hostname),
    ];
    if let Some(&(flag, _)) = given.iter().find(|(_, given)| *given) {
        if !protocol.uses_tls() {
            return Err(ClientConfigError::NeedsTlsProtocol {
                flag,
                protocol: protocol.name(),
            });
        }
    }
    if let Some(path) = &security.ssl_cafile {
        check_readable("--ssl-cafile", path)?;
        flags.trust = Some(TrustSource::PemFile(path.clone()));
    }
    if let Some(path) = &security.ssl_crlfile {
        check_readable("--ssl-crlfile", path)?;
        flags.crlfile = Some(path.clone());
    }
    if let Some(path) = &security.ssl_certfile {
        check_readable("--ssl-certfile", path)?;
    }
    // The certificate --ssl-keyfile belongs to: the flag's, or the file's PEM chain.
    let certfile = security.ssl_certfile.clone().or(match &file.identity {
        Some(IdentitySource::PemFiles { certfile, .. }) => Some(certfile.clone()),
        _ => None,
    });
    let has_certificate = security.ssl_certfile.is_some() || file.identity.is_some();
    if let Some(path) = &security.ssl_keyfile {
        let Some(certfile) = &certfile else {
            return Err(ClientConfigError::NeedsClientCertificate {
                flag: "--ssl-keyfile",
            });
        };
        check_readable("--ssl-keyfile", path)?;
        flags.identity = Some(IdentitySource::PemFiles {
            certfile: certfile.clone(),
            keyfile: Some(path.clone()),
        });
    } else if let Some(certfile) = &security.ssl_certfile {
        // A PEM chain that holds the key too: kafka-python's ssl_certfile.
        flags.identity = Some(IdentitySource::PemFiles {
            certfile: certfile.clone(),
            keyfile: None,
        });
    }
    let password = match &security.ssl_password_file {
        Some(_) if !has_certificate => {
            return Err(ClientConfigError::NeedsClientCertificate {
                flag: "--ssl-password-file",
            })
        }
        Some(path) => Some(password_from_file("--ssl-password-file", path)?),
        // The variable is read only beside a flag that names a client key.
        None => match key_flag(security) {
            Some(flag) => password_from_env(flag, SSL_PASSWORD_ENV, env)?,
            None => None,
        },
    };
    if let Some(password) = password {
        flags.key_password = Some(Secret::new(password.expose()));
    }
    if security.ssl_no_check_hostname {
        flags.check_hostname = Some(false);
    }
    Ok(())
}

/// The flag that names the client key: `--ssl-keyfile`, or `--ssl-certfile` holding it.
fn key_flag(flags: &Security) -> Option<&'static str> {
    match (&flags.ssl_keyfile, &flags.ssl_certfile) {
        (Some(_), _) => Some("--ssl-keyfile"),
        (None, Some(_)) => Some("--ssl-certfile"),
        (None, None) => None,
    }
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

/// [`layered_config`] without the warnings, for the tests.
#[cfg(test)]
fn client_config(
    global: &Global,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<AdminConfig, ClientConfigError> {
    layered_config(global, env).map(|(config, _)| config)
}

#[cfg(test)]
mod tests;
