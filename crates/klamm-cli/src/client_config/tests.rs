use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use super::*;
use crate::cli::{Kerberos, SaslMechanism};
use crate::output::Format;

fn global(bootstrap: Option<&str>, timeout: Option<u64>) -> Global {
    Global {
        bootstrap_server: bootstrap.map(str::to_owned),
        command_config: None,
        output: Format::Table,
        timeout,
        api_version: None,
        verbose: 0,
        security: Security::default(),
        kerberos: Kerberos::default(),
    }
}

fn no_env(_: &str) -> Option<OsString> {
    None
}

/// `client_config` with `variables` as the whole environment.
fn config_with_env(
    global: &Global,
    variables: &[(&str, &str)],
) -> Result<AdminConfig, ClientConfigError> {
    let lookup = |name: &str| {
        variables
            .iter()
            .find(|(variable, _)| *variable == name)
            .map(|(_, value)| OsString::from(value))
    };
    client_config(global, &lookup)
}

/// A file in the temporary directory, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, contents: &str) -> TempFile {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "klamm-cli-{}-{}-{name}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&path, contents).unwrap();
        TempFile(path)
    }

    fn path(&self) -> PathBuf {
        self.0.clone()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

const SCRAM_FILE: &str = "bootstrap.servers=file-host:9093\n\
     security.protocol=SASL_PLAINTEXT\n\
     sasl.mechanism=SCRAM-SHA-256\n\
     sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \
     username=\"file-user\" password=\"file-secret\";\n\
     ssl.truststore.location=/etc/kafka/trust.jks\n";

fn sasl_ssl_scram(username: &str) -> Security {
    Security {
        security_protocol: Some(SecurityProtocol::SaslSsl),
        sasl_mechanism: Some(SaslMechanism::ScramSha512),
        sasl_username: Some(username.to_owned()),
        ..Security::default()
    }
}

#[test]
fn flags_override_defaults_in_client_config() {
    let config = client_config(&global(Some("k1:9093,k2:9093"), Some(1500)), &no_env).unwrap();
    assert_eq!(config.default_api_timeout(), Duration::from_millis(1500));
    assert_eq!(
        config.cluster.bootstrap_servers.to_string(),
        "k1:9093,k2:9093"
    );
    assert_eq!(
        config.cluster.connection.security_protocol.name(),
        "PLAINTEXT"
    );
}

#[test]
fn command_config_bootstrap_is_kept_without_the_flag() {
    let file = TempFile::new(
        "bootstrap.properties",
        "bootstrap.servers = file-host:9092\n",
    );
    let global = Global {
        command_config: Some(file.path()),
        ..global(None, None)
    };
    let config = client_config(&global, &no_env).unwrap();
    assert_eq!(
        config.cluster.bootstrap_servers.to_string(),
        "file-host:9092"
    );
}

#[test]
fn security_flags_override_the_command_config() {
    let file = TempFile::new("scram.properties", SCRAM_FILE);
    let ca = TempFile::new("ca.pem", "not parsed before connecting");
    let global = Global {
        command_config: Some(file.path()),
        security: Security {
            ssl_cafile: Some(ca.path()),
            ..sasl_ssl_scram("flag-user")
        },
        ..global(None, None)
    };
    let config = config_with_env(&global, &[(SASL_PASSWORD_ENV, "env-secret")]).unwrap();
    let connection = &config.cluster.connection;
    assert_eq!(connection.security_protocol.name(), "SASL_SSL");
    let sasl = connection.sasl.as_ref().expect("SASL is configured");
    assert_eq!(sasl.mechanism().name(), "SCRAM-SHA-512");
    assert_eq!(sasl.username(), "flag-user");
    // The file's JKS trust store would be refused; the flag's PEM file replaced it.
    assert_eq!(connection.tls.cafile.as_deref(), Some(ca.path().as_path()));
    assert!(connection.tls.check_hostname);
    assert_eq!(
        config.cluster.bootstrap_servers.to_string(),
        "file-host:9093"
    );
}

#[test]
fn command_config_login_stays_when_no_sasl_flag_is_given() {
    let file = TempFile::new(
        "scram.properties",
        &SCRAM_FILE.replace("ssl.truststore.location=/etc/kafka/trust.jks\n", ""),
    );
    let global = Global {
        command_config: Some(file.path()),
        security: Security {
            security_protocol: Some(SecurityProtocol::SaslSsl),
            ssl_no_check_hostname: true,
            ..Security::default()
        },
        ..global(None, None)
    };
    let config = config_with_env(&global, &[(SASL_PASSWORD_ENV, "ignored")]).unwrap();
    let connection = &config.cluster.connection;
    let sasl = connection.sasl.as_ref().unwrap();
    assert_eq!(sasl.mechanism().name(), "SCRAM-SHA-256");
    assert_eq!(sasl.username(), "file-user");
    assert!(!connection.tls.check_hostname);
}

#[test]
fn non_sasl_protocol_flag_drops_the_command_config_login() {
    let file = TempFile::new(
        "scram.properties",
        &SCRAM_FILE.replace("ssl.truststore.location=/etc/kafka/trust.jks\n", ""),
    );
    let global = Global {
        command_config: Some(file.path()),
        security: Security {
            security_protocol: Some(SecurityProtocol::Ssl),
            ..Security::default()
        },
        ..global(None, None)
    };
    let config = client_config(&global, &no_env).unwrap();
    assert_eq!(config.cluster.connection.security_protocol.name(), "SSL");
    assert!(config.cluster.connection.sasl.is_none());
}

#[test]
fn sasl_password_comes_from_the_file_before_the_environment() {
    let password = TempFile::new("password", "from-file\r\nsecond line\n");
    let global = Global {
        security: Security {
            sasl_password_file: Some(password.path()),
            ..sasl_ssl_scram("ops")
        },
        ..global(Some("k1:9093"), None)
    };
    let config = config_with_env(&global, &[(SASL_PASSWORD_ENV, "from-env")]).unwrap();
    let debug = format!("{config:?}");
    assert!(debug.contains("ops"), "{debug}");
    assert!(
        !debug.contains("from-file") && !debug.contains("from-env"),
        "{debug}"
    );
    let read = password_from_file("--sasl-password-file", &password.path()).unwrap();
    assert_eq!(read.expose(), "from-file");
}

#[test]
fn sasl_password_comes_from_the_environment() {
    let global = Global {
        security: sasl_ssl_scram("ops"),
        ..global(Some("k1:9093"), None)
    };
    let config = config_with_env(&global, &[(SASL_PASSWORD_ENV, "from-env")]).unwrap();
    assert_eq!(
        config.cluster.connection.sasl.as_ref().unwrap().username(),
        "ops"
    );
    assert!(!format!("{config:?}").contains("from-env"));
}

#[test]
fn debug_output_never_shows_a_password() {
    let password = password_from_env("--sasl-username", "P", &|_| Some("hunter2".into()))
        .unwrap()
        .unwrap();
    assert_eq!(format!("{password:?}"), "***");
    let password_file = TempFile::new("password", "hunter2\n");
    let global = Global {
        security: Security {
            sasl_password_file: Some(password_file.path()),
            ..sasl_ssl_scram("ops")
        },
        ..global(Some("k1:9093"), None)
    };
    assert!(!format!("{global:?}").contains("hunter2"));
    let config = client_config(&global, &no_env).unwrap();
    assert!(!format!("{config:?}").contains("hunter2"));
}

#[test]
fn username_without_a_password_fails_naming_the_variable() {
    let global = Global {
        security: sasl_ssl_scram("ops"),
        ..global(Some("k1:9093"), None)
    };
    // An empty variable is no password.
    let error = config_with_env(&global, &[(SASL_PASSWORD_ENV, "")]).unwrap_err();
    assert!(
        matches!(error, ClientConfigError::MissingSaslPassword),
        "{error:?}"
    );
    assert_eq!(error.subject(), "--sasl-username");
    assert!(error.to_string().contains(SASL_PASSWORD_ENV), "{error}");
}

#[test]
fn password_file_problems_name_the_file() {
    let missing = std::env::temp_dir().join("klamm-cli-no-such-password-file");
    let empty = TempFile::new("empty-password", "\nsecond line\n");
    for (path, expected) in [(missing.clone(), "cannot read"), (empty.path(), "holds no")] {
        let global = Global {
            security: Security {
                sasl_password_file: Some(path.clone()),
                ..sasl_ssl_scram("ops")
            },
            ..global(Some("k1:9093"), None)
        };
        let error = client_config(&global, &no_env).unwrap_err();
        assert_eq!(error.subject(), "--sasl-password-file");
        let message = error.to_string();
        assert!(message.contains(expected), "{message}");
        assert!(message.contains(&path.display().to_string()), "{message}");
    }
}

#[cfg(unix)]
#[test]
fn non_utf8_password_variable_is_an_error() {
    use std::os::unix::ffi::OsStringExt;

    let global = Global {
        security: sasl_ssl_scram("ops"),
        ..global(Some("k1:9093"), None)
    };
    let error =
        client_config(&global, &|_| Some(OsString::from_vec(vec![0xff, 0xfe]))).unwrap_err();
    assert!(
        matches!(error, ClientConfigError::PasswordNotUtf8 { .. }),
        "{error:?}"
    );
}

/// The error `security` gives on its own (no file, bootstrap k1:9093, no environment).
fn security_error(security: Security) -> ClientConfigError {
    let global = Global {
        security,
        ..global(Some("k1:9093"), None)
    };
    client_config(&global, &no_env).expect_err("an error")
}

#[test]
fn sasl_flags_without_a_sasl_protocol_fail() {
    let error = security_error(Security {
        security_protocol: Some(SecurityProtocol::Ssl),
        sasl_mechanism: Some(SaslMechanism::Plain),
        ..Security::default()
    });
    assert!(
        matches!(
            error,
            ClientConfigError::NeedsSaslProtocol {
                flag: "--sasl-mechanism",
                protocol: "SSL"
            }
        ),
        "{error:?}"
    );
    // The default protocol is PLAINTEXT.
    let error = security_error(Security {
        sasl_username: Some("ops".into()),
        ..Security::default()
    });
    assert_eq!(error.subject(), "--sasl-username");
    assert!(error.to_string().contains("PLAINTEXT"), "{error}");
}

#[test]
fn tls_flags_without_a_tls_protocol_fail() {
    let error = security_error(Security {
        security_protocol: Some(SecurityProtocol::SaslPlaintext),
        sasl_mechanism: Some(SaslMechanism::Plain),
        sasl_username: Some("ops".into()),
        ssl_no_check_hostname: true,
        ..Security::default()
    });
    assert!(
        matches!(
            error,
            ClientConfigError::NeedsTlsProtocol {
                flag: "--ssl-no-check-hostname",
                protocol: "SASL_PLAINTEXT"
            }
        ),
        "{error:?}"
    );
    let error = security_error(Security {
        ssl_cafile: Some("/etc/ca.pem".into()),
        ..Security::default()
    });
    assert_eq!(error.subject(), "--ssl-cafile");
}

#[test]
fn incomplete_sasl_settings_fail_before_connecting() {
    let cases = [
        (
            Security {
                security_protocol: Some(SecurityProtocol::SaslSsl),
                ..Security::default()
            },
            "--security-protocol",
            "needs a SASL mechanism",
        ),
        (
            Security {
                security_protocol: Some(SecurityProtocol::SaslSsl),
                sasl_username: Some("ops".into()),
                ..Security::default()
            },
            "--sasl-username",
            "needs a SASL mechanism",
        ),
        (
            Security {
                security_protocol: Some(SecurityProtocol::SaslSsl),
                sasl_mechanism: Some(SaslMechanism::ScramSha256),
                ..Security::default()
            },
            "--sasl-mechanism",
            "SCRAM-SHA-256 needs --sasl-username",
        ),
        (
            Security {
                security_protocol: Some(SecurityProtocol::SaslSsl),
                sasl_mechanism: Some(SaslMechanism::ScramSha256),
                sasl_password_file: Some("/run/secrets/kafka".into()),
                ..Security::default()
            },
            "--sasl-password-file",
            "needs --sasl-username",
        ),
        (
            Security {
                security_protocol: Some(SecurityProtocol::SaslSsl),
                sasl_mechanism: Some(SaslMechanism::OAuthBearer),
                ..Security::default()
            },
            "--sasl-mechanism",
            "sasl.oauthbearer.token.endpoint.url",
        ),
    ];
    for (security, subject, message) in cases {
        let error = security_error(security);
        assert_eq!(error.subject(), subject, "{error:?}");
        assert!(error.to_string().contains(message), "{error}");
    }
}

#[test]
fn username_with_a_mechanism_that_takes_no_password_fails() {
    let file = TempFile::new(
        "oauth.properties",
        "security.protocol=SASL_SSL\nsasl.mechanism=OAUTHBEARER\n",
    );
    let global = Global {
        command_config: Some(file.path()),
        security: Security {
            sasl_username: Some("ops".into()),
            ..Security::default()
        },
        ..global(Some("k1:9093"), None)
    };
    let error = config_with_env(&global, &[(SASL_PASSWORD_ENV, "p")]).unwrap_err();
    assert!(
        matches!(
            error,
            ClientConfigError::NotAPasswordMechanism {
                mechanism: "OAUTHBEARER"
            }
        ),
        "{error:?}"
    );
}

#[cfg(not(feature = "gssapi"))]
#[test]
fn gssapi_mechanism_without_the_feature_fails_naming_it() {
    let error = security_error(Security {
        security_protocol: Some(SecurityProtocol::SaslPlaintext),
        sasl_mechanism: Some(SaslMechanism::Gssapi),
        ..Security::default()
    });
    assert_eq!(error.subject(), "--sasl-mechanism");
    assert!(error.to_string().contains("`gssapi` feature"), "{error}");
}

#[test]
fn unreadable_tls_files_fail_naming_flag_and_file() {
    let missing = std::env::temp_dir().join("klamm-cli-no-such-ca.pem");
    let error = security_error(Security {
        security_protocol: Some(SecurityProtocol::Ssl),
        ssl_cafile: Some(missing.clone()),
        ..Security::default()
    });
    assert_eq!(error.subject(), "--ssl-cafile");
    assert!(
        error.to_string().contains(&missing.display().to_string()),
        "{error}"
    );
    // A directory opens but does not read.
    let error = security_error(Security {
        security_protocol: Some(SecurityProtocol::Ssl),
        ssl_cafile: Some(std::env::temp_dir()),
        ..Security::default()
    });
    assert!(
        matches!(error, ClientConfigError::UnreadableFile { .. }),
        "{error:?}"
    );
}

#[test]
fn client_key_needs_a_certificate() {
    let key = TempFile::new("client.key", "key");
    for security in [
        Security {
            security_protocol: Some(SecurityProtocol::Ssl),
            ssl_keyfile: Some(key.path()),
            ..Security::default()
        },
        Security {
            security_protocol: Some(SecurityProtocol::Ssl),
            ssl_password_file: Some(key.path()),
            ..Security::default()
        },
    ] {
        let error = security_error(security);
        assert!(
            matches!(error, ClientConfigError::NeedsClientCertificate { .. }),
            "{error:?}"
        );
    }
}

#[test]
fn tls_flags_set_separate_certificate_key_and_key_password() {
    let ca = TempFile::new("ca.pem", "ca");
    let cert = TempFile::new("client.crt", "cert");
    let key = TempFile::new("client.key", "key");
    let file = TempFile::new(
        "tls.properties",
        "security.protocol=SSL\nssl.keystore.password=from-file\n",
    );
    let global = Global {
        command_config: Some(file.path()),
        security: Security {
            ssl_cafile: Some(ca.path()),
            ssl_certfile: Some(cert.path()),
            ssl_keyfile: Some(key.path()),
            ..Security::default()
        },
        ..global(Some("k1:9093"), None)
    };
    let config = config_with_env(&global, &[(SSL_PASSWORD_ENV, "key-secret")]).unwrap();
    let tls = &config.cluster.connection.tls;
    assert_eq!(tls.cafile.as_deref(), Some(ca.path().as_path()));
    assert_eq!(tls.certfile.as_deref(), Some(cert.path().as_path()));
    assert_eq!(tls.keyfile.as_deref(), Some(key.path().as_path()));
    assert_eq!(
        tls.password.as_ref().map(|password| password.expose()),
        Some("key-secret")
    );
    assert!(!format!("{config:?}").contains("key-secret"));

    // Without a key flag the variable is not read, and the file's password stays.
    let global = Global {
        security: Security {
            ssl_cafile: Some(ca.path()),
            ..Security::default()
        },
        ..global
    };
    let config = config_with_env(&global, &[(SSL_PASSWORD_ENV, "key-secret")]).unwrap();
    let tls = &config.cluster.connection.tls;
    assert_eq!(
        tls.password.as_ref().map(|password| password.expose()),
        Some("from-file")
    );
}

fn keytab_flags() -> Kerberos {
    Kerberos {
        sasl_kerberos_principal: Some("cli@EXAMPLE.COM".into()),
        sasl_kerberos_keytab: Some("/tmp/back\\slash.keytab".into()),
        sasl_kerberos_domain_name: Some("localhost".into()),
        ..Kerberos::default()
    }
}

#[cfg(feature = "gssapi")]
#[test]
fn kerberos_flags_override_the_command_config_login() {
    let file = TempFile::new(
        "kerberos-flags.properties",
        "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=GSSAPI\n\
         sasl.jaas.config=com.sun.security.auth.module.Krb5LoginModule required \
         useKeyTab=true storeKey=true keyTab=\"/etc/file.keytab\" principal=\"file@EXAMPLE.COM\";\n",
    );
    let global = Global {
        command_config: Some(file.path()),
        kerberos: keytab_flags(),
        ..global(Some("k1:9092"), None)
    };
    let config = client_config(&global, &no_env).unwrap();
    let sasl = config.cluster.connection.sasl.as_ref().unwrap();
    let kerberos = sasl.kerberos().unwrap();
    assert_eq!(kerberos.principal.as_deref(), Some("cli@EXAMPLE.COM"));
    assert_eq!(
        kerberos.keytab.as_deref(),
        Some(Path::new("/tmp/back\\slash.keytab"))
    );
    assert_eq!(kerberos.service_principal("127.0.0.1"), "kafka@localhost");
}

#[cfg(feature = "gssapi")]
#[test]
fn gssapi_mechanism_flag_takes_the_kerberos_flags() {
    let global = Global {
        security: Security {
            security_protocol: Some(SecurityProtocol::SaslPlaintext),
            sasl_mechanism: Some(SaslMechanism::Gssapi),
            ..Security::default()
        },
        kerberos: keytab_flags(),
        ..global(Some("k1:9092"), None)
    };
    let config = client_config(&global, &no_env).unwrap();
    let sasl = config.cluster.connection.sasl.as_ref().unwrap();
    assert_eq!(sasl.mechanism().name(), "GSSAPI");
    assert_eq!(
        sasl.kerberos().unwrap().principal.as_deref(),
        Some("cli@EXAMPLE.COM")
    );
}

#[cfg(feature = "gssapi")]
#[test]
fn kerberos_flags_without_gssapi_fail_naming_the_flag() {
    let global = Global {
        kerberos: keytab_flags(),
        ..global(Some("k1:9092"), None)
    };
    let error = client_config(&global, &no_env).expect_err("an error");
    assert_eq!(error.subject(), "--sasl-kerberos-domain-name");
    assert!(
        error.to_string().contains("sasl.mechanism=GSSAPI"),
        "{error}"
    );
}

#[cfg(not(feature = "gssapi"))]
#[test]
fn kerberos_flags_without_the_feature_fail_naming_it() {
    let global = Global {
        kerberos: keytab_flags(),
        ..global(Some("k1:9092"), None)
    };
    let failure = Failure::from(client_config(&global, &no_env).expect_err("an error"));
    assert_eq!(failure.what, "--sasl-kerberos-domain-name");
    assert!(failure.why.contains("`gssapi` feature"), "{failure}");
}

#[test]
fn ignored_command_config_keys_come_back_as_one_warning_line_each() {
    let file = TempFile::new(
        "warn.properties",
        "bootstrap.servers=h:9092\ngroup.id=ops\nretries.typo=3\n",
    );
    let global = Global {
        command_config: Some(file.path()),
        ..global(None, None)
    };
    let (_, warnings) = layered_config(&global, &no_env).unwrap();
    let lines: Vec<_> = warnings.iter().map(warning_line).collect();
    assert_eq!(
        lines,
        [
            "warning: ignoring property `group.id` (no meaning for an admin client)",
            "warning: ignoring property `retries.typo` (unknown property)",
        ]
    );
}
