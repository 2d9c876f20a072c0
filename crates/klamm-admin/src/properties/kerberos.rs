//! SASL/GSSAPI (Kerberos) in a Java-client `.properties` file, mapped to klamm-net's
//! `sasl_kerberos_*` settings (feature `gssapi`; without it, choosing GSSAPI is an
//! [`AdminError::UnsupportedProperty`] naming the feature).
//!
//! Java clients say `sasl.mechanism=GSSAPI` (also their default when `sasl.jaas.config` names
//! `Krb5LoginModule` and no mechanism is set), `sasl.kerberos.service.name` (default `kafka`),
//! and the login in JAAS:
//!
//! ```text
//! sasl.jaas.config=com.sun.security.auth.module.Krb5LoginModule required \
//!     useKeyTab=true storeKey=true keyTab="/etc/security/ops.keytab" principal="ops@EXAMPLE.COM";
//! ```
//!
//! `useKeyTab=true` with `keyTab` and `principal` logs in with the keytab
//! (`sasl_kerberos_keytab`, `sasl_kerberos_principal`); otherwise (`useTicketCache=true`, or
//! neither) the Kerberos library's defaults apply: the credential cache `KRB5CCNAME`, then the
//! client keytab `KRB5_CLIENT_KTNAME`, with `principal`, if given, picking the principal. With
//! both `useTicketCache` and `useKeyTab`, where Java tries the cache first, Klamm logs in with
//! the keytab: same principal, no dependence on an earlier `kinit`.
//!
//! Options are checked rather than ignored, so that a login Klamm cannot perform fails when the
//! file is loaded and not with a confusing Kerberos error at connect time:
//! - accepted with no effect: `storeKey` (only brokers need the key), `doNotPrompt` (Klamm
//!   never prompts), `debug` (use `KRB5_TRACE=/dev/stderr`), `refreshKrb5Config` (the library
//!   reads `krb5.conf` itself), `renewTGT` (each connection reads the cache afresh, so a ticket
//!   renewed by `kinit -R` is picked up), `isInitiator=true`;
//! - refused ([`AdminError::UnsupportedProperty`]): another JDK's module (IBM's
//!   `com.ibm.security.auth.module.Krb5LoginModule` has other options), `ticketCache` (set
//!   `KRB5CCNAME` instead), `isInitiator=false`, and the password options `tryFirstPass`,
//!   `useFirstPass`, `storePass`, `clearPass` (Klamm logs in only from a keytab or a credential
//!   cache);
//! - invalid ([`AdminError::InvalidConfig`]): any other name (Java's options are
//!   case-sensitive, so `keytab=` is a typo of `keyTab=`), a flag other than `true`/`false`,
//!   `keyTab` without `useKeyTab=true` (Java ignores it then), and `useKeyTab=true` without
//!   `keyTab` or `principal` (Java would read `krb5.conf`'s `default_keytab_name` or prompt).
//!
//! Beside Java's keys, librdkafka's `sasl.kerberos.principal` and `sasl.kerberos.keytab` and
//! kafka-python's `sasl.kerberos.domain.name` (the broker principal's host, for brokers reached
//! by IP or alias) are read; they override the JAAS options, and the klamm CLI's
//! `--sasl-kerberos-*` flags are written as these keys. Java's ticket-renewal tuning
//! ([`RENEWAL_KEYS`]) is accepted and has nothing to tune. Kerberos keys are ignored, as Java
//! ignores them, unless the mechanism is GSSAPI.

#[cfg(feature = "gssapi")]
use std::path::PathBuf;

use super::JaasConfig;
use crate::{AdminError, AdminSettings};
#[cfg(feature = "gssapi")]
use crate::{KerberosSettings, MechanismSetting};

/// Java's settings for renewing tickets from the cache with `kinit -R`. Klamm renews a keytab
/// login from the keytab when its ticket expires and reads the credential cache afresh for each
/// connection, so they have nothing to tune.
pub(super) const RENEWAL_KEYS: &[&str] = &[
    "sasl.kerberos.kinit.cmd",
    "sasl.kerberos.min.time.before.relogin",
    "sasl.kerberos.ticket.renew.jitter",
    "sasl.kerberos.ticket.renew.window.factor",
];

/// The Kerberos keys of one file (Java's `sasl.kerberos.service.name`, kafka-python's
/// `sasl.kerberos.domain.name`, librdkafka's `sasl.kerberos.principal` and
/// `sasl.kerberos.keytab`); a later key of the same name replaces an earlier one, as in Java.
#[derive(Debug, Default)]
#[cfg_attr(not(feature = "gssapi"), allow(dead_code))]
pub(super) struct KerberosProperties {
    service_name: Option<String>,
    domain_name: Option<String>,
    principal: Option<String>,
    keytab: Option<String>,
}

impl KerberosProperties {
    /// The keys that were set, for the warning when the mechanism is not GSSAPI.
    pub(super) fn keys_set(&self) -> Vec<&'static str> {
        [
            ("sasl.kerberos.service.name", self.service_name.is_some()),
            ("sasl.kerberos.domain.name", self.domain_name.is_some()),
            ("sasl.kerberos.principal", self.principal.is_some()),
            ("sasl.kerberos.keytab", self.keytab.is_some()),
        ]
        .into_iter()
        .filter_map(|(key, set)| set.then_some(key))
        .collect()
    }

    /// Keeps `value` if `key` is a Kerberos key; `false` otherwise.
    pub(super) fn set(&mut self, key: &str, value: &str) -> bool {
        let slot = match key {
            "sasl.kerberos.service.name" => &mut self.service_name,
            "sasl.kerberos.domain.name" => &mut self.domain_name,
            "sasl.kerberos.principal" => &mut self.principal,
            "sasl.kerberos.keytab" => &mut self.keytab,
            _ => return false,
        };
        *slot = Some(value.trim().to_owned());
        true
    }
}

/// Whether `jaas` names a Kerberos login module (Oracle/OpenJDK's, or another JDK's, whose
/// options `krb5_login` then refuses).
pub(super) fn is_krb5_login_module(jaas: &JaasConfig) -> bool {
    jaas.login_module.rsplit('.').next() == Some("Krb5LoginModule")
}

/// The error for a GSSAPI setting `key` in a build without the `gssapi` feature.
#[cfg(not(feature = "gssapi"))]
fn feature_disabled(key: &str) -> AdminError {
    AdminError::UnsupportedProperty {
        key: key.into(),
        reason: "SASL/GSSAPI (Kerberos) needs klamm-admin's `gssapi` cargo feature, which this \
                 build lacks (for the klamm CLI: `cargo install klamm-cli --features gssapi`)"
            .into(),
    }
}

/// A `Krb5LoginModule` line where the mechanism is not GSSAPI: checked (feature `gssapi`) and
/// otherwise ignored, as Java ignores the JAAS login of a connection without SASL.
pub(super) fn check_unused_login(jaas: &JaasConfig) -> Result<(), AdminError> {
    #[cfg(feature = "gssapi")]
    return krb5_login(jaas).map(drop);
    #[cfg(not(feature = "gssapi"))]
    {
        let _ = jaas;
        Err(feature_disabled("sasl.jaas.config"))
    }
}

/// GSSAPI as the mechanism, with the login of `jaas` (if any) and `properties` on top.
/// `chosen_by` is the key that chose GSSAPI, which the feature-less build's error names.
#[cfg(feature = "gssapi")]
pub(super) fn apply(
    settings: &mut AdminSettings,
    jaas: Option<&JaasConfig>,
    properties: KerberosProperties,
    _chosen_by: &str,
) -> Result<(), AdminError> {
    let login = match jaas {
        None => Krb5Login::default(),
        Some(jaas) if is_krb5_login_module(jaas) => krb5_login(jaas)?,
        Some(jaas) => {
            return Err(AdminError::InvalidConfig {
                key: "sasl.jaas.config".into(),
                reason: format!(
                    "sasl.mechanism=GSSAPI logs in with \
                     com.sun.security.auth.module.Krb5LoginModule, not {}",
                    jaas.login_module
                ),
            })
        }
    };
    let principal = properties.principal.or(login.principal);
    let keytab = properties.keytab.map(PathBuf::from).or(login.keytab);
    if login.use_keytab && principal.is_none() {
        return Err(AdminError::InvalidConfig {
            key: "sasl.jaas.config".into(),
            reason: "Krb5LoginModule useKeyTab=true needs principal=\"user@REALM\"".into(),
        });
    }
    settings.sasl_mechanism = Some(MechanismSetting::Gssapi);
    settings.kerberos = KerberosSettings {
        service_name: properties.service_name,
        domain_name: properties.domain_name,
        principal,
        keytab,
    };
    Ok(())
}

/// GSSAPI, chosen by the key `chosen_by`, in a build without the `gssapi` feature: refused.
#[cfg(not(feature = "gssapi"))]
pub(super) fn apply(
    _: &mut AdminSettings,
    _: Option<&JaasConfig>,
    _: KerberosProperties,
    chosen_by: &str,
) -> Result<(), AdminError> {
    Err(feature_disabled(chosen_by))
}

/// The client login a `Krb5LoginModule` line describes.
#[cfg(feature = "gssapi")]
#[derive(Debug, Default, PartialEq, Eq)]
struct Krb5Login {
    /// `useKeyTab=true`.
    use_keytab: bool,
    /// `keyTab`, only with `use_keytab`.
    keytab: Option<PathBuf>,
    /// `principal`.
    principal: Option<String>,
}

/// The Kerberos login module of OpenJDK and Oracle's JDK, whose options are understood.
#[cfg(feature = "gssapi")]
const JDK_KRB5_LOGIN_MODULE: &str = "com.sun.security.auth.module.Krb5LoginModule";

/// Options accepted with no effect on a client's login (see the module docs for why).
#[cfg(feature = "gssapi")]
const NO_EFFECT_OPTIONS: &[&str] = &[
    "storeKey",
    "doNotPrompt",
    "debug",
    "refreshKrb5Config",
    "renewTGT",
];

/// Every option Java's `Krb5LoginModule` knows, for "did you mean" hints.
#[cfg(feature = "gssapi")]
const KNOWN_OPTIONS: &[&str] = &[
    "useKeyTab",
    "keyTab",
    "principal",
    "useTicketCache",
    "ticketCache",
    "isInitiator",
    "storeKey",
    "doNotPrompt",
    "debug",
    "refreshKrb5Config",
    "renewTGT",
    "tryFirstPass",
    "useFirstPass",
    "storePass",
    "clearPass",
];

/// Reads and checks the options of a `Krb5LoginModule` line.
#[cfg(feature = "gssapi")]
fn krb5_login(jaas: &JaasConfig) -> Result<Krb5Login, AdminError> {
    let invalid = |reason: String| AdminError::InvalidConfig {
        key: "sasl.jaas.config".into(),
        reason,
    };
    let unsupported = |reason: String| AdminError::UnsupportedProperty {
        key: "sasl.jaas.config".into(),
        reason,
    };
    let flag = |name: &str| -> Result<Option<bool>, AdminError> {
        match jaas.options.get(name).map(String::as_str) {
            None => Ok(None),
            Some(value) if value.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(value) if value.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(value) => Err(invalid(format!(
                "Krb5LoginModule option {name}=\"{value}\" is neither true nor false"
            ))),
        }
    };
    if jaas.login_module != JDK_KRB5_LOGIN_MODULE {
        // IBM's JDK has a Krb5LoginModule of its own, with other options (useKeytab="file:…").
        return Err(unsupported(format!(
            "login module {} is not supported; use {JDK_KRB5_LOGIN_MODULE}",
            jaas.login_module
        )));
    }
    for name in jaas.options.keys() {
        match name.as_str() {
            "useKeyTab" | "keyTab" | "principal" | "useTicketCache" | "isInitiator" => {}
            name if NO_EFFECT_OPTIONS.contains(&name) => {
                flag(name)?;
            }
            "ticketCache" => {
                return Err(unsupported(
                    "Krb5LoginModule option ticketCache is not supported: set KRB5CCNAME to the \
                     credential cache instead"
                        .into(),
                ))
            }
            "tryFirstPass" | "useFirstPass" | "storePass" | "clearPass" => {
                return Err(unsupported(format!(
                    "Krb5LoginModule option {name} is for password logins, which Klamm does not \
                     do: log in from a keytab (useKeyTab=true keyTab=\"…\") or a credential \
                     cache (kinit)"
                )))
            }
            unknown => {
                let hint = KNOWN_OPTIONS
                    .iter()
                    .find(|known| known.eq_ignore_ascii_case(unknown))
                    .map(|known| {
                        format!(" (did you mean {known}? option names are case-sensitive)")
                    })
                    .unwrap_or_default();
                return Err(invalid(format!(
                    "unknown Krb5LoginModule option {unknown}{hint}"
                )));
            }
        }
    }
    if flag("isInitiator")? == Some(false) {
        return Err(unsupported(
            "Krb5LoginModule isInitiator=false is a server-side login; a client initiates".into(),
        ));
    }
    flag("useTicketCache")?;
    let use_keytab = flag("useKeyTab")?.unwrap_or(false);
    let keytab = jaas.options.get("keyTab").map(PathBuf::from);
    match (use_keytab, &keytab) {
        (true, None) => {
            return Err(invalid(
                "Krb5LoginModule useKeyTab=true needs keyTab=\"/path/to.keytab\" (Klamm does not \
                 read krb5.conf's default_keytab_name)"
                    .into(),
            ))
        }
        (false, Some(_)) => {
            return Err(invalid(
                "Krb5LoginModule keyTab is read only with useKeyTab=true".into(),
            ))
        }
        _ => {}
    }
    Ok(Krb5Login {
        use_keytab,
        keytab,
        principal: jaas.options.get("principal").cloned(),
    })
}

#[cfg(all(test, feature = "gssapi"))]
mod tests {
    use super::*;
    use crate::properties::parse_jaas_config;
    use crate::AdminConfig;
    use klamm_net::SaslMechanism;

    /// The Kerberos settings of a loaded configuration that must have them.
    fn kerberos_of(config: &AdminConfig) -> &klamm_net::sasl::gssapi::GssapiConfig {
        config
            .cluster
            .connection
            .sasl
            .as_ref()
            .unwrap()
            .kerberos()
            .unwrap()
    }

    fn login(line: &str) -> Result<Krb5Login, AdminError> {
        krb5_login(&parse_jaas_config(line).unwrap())
    }

    const KEYTAB_LOGIN: &str = "security.protocol=SASL_SSL\n\
        ssl.truststore.type=PEM\n\
        ssl.truststore.location=/etc/kafka/ca.pem\n\
        sasl.mechanism=GSSAPI\n\
        sasl.kerberos.service.name=kfk\n\
        sasl.jaas.config=com.sun.security.auth.module.Krb5LoginModule required \\\n    \
            useKeyTab=true \\\n    \
            storeKey=true \\\n    \
            keyTab=\"/etc/security/keytabs/ops.keytab\" \\\n    \
            principal=\"ops/host.example.com@EXAMPLE.COM\";\n";

    #[test]
    fn keytab_jaas_line_maps_to_keytab_principal_and_service_name() {
        let config = AdminConfig::from_properties(KEYTAB_LOGIN).unwrap();
        let sasl = config.cluster.connection.sasl.as_ref().unwrap();
        assert_eq!(sasl.mechanism(), SaslMechanism::Gssapi);
        let kerberos = sasl.kerberos().unwrap();
        assert_eq!(kerberos.service_name, "kfk");
        assert_eq!(kerberos.domain_name, None);
        assert_eq!(
            kerberos.principal.as_deref(),
            Some("ops/host.example.com@EXAMPLE.COM")
        );
        assert_eq!(
            kerberos.keytab.as_deref(),
            Some(std::path::Path::new("/etc/security/keytabs/ops.keytab"))
        );
    }

    #[test]
    fn ticket_cache_login_uses_the_library_defaults_and_service_name_defaults_to_kafka() {
        let config = AdminConfig::from_properties(
            "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=GSSAPI\n\
             sasl.jaas.config=com.sun.security.auth.module.Krb5LoginModule required \
             useTicketCache=true renewTGT=true doNotPrompt=true debug=false;\n",
        )
        .unwrap();
        let kerberos = kerberos_of(&config);
        assert_eq!(kerberos.service_name, "kafka");
        assert_eq!((&kerberos.principal, &kerberos.keytab), (&None, &None));
        // No JAAS at all: the same defaults.
        let config = AdminConfig::from_properties(
            "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=gssapi\n",
        )
        .unwrap();
        let kerberos = kerberos_of(&config);
        assert_eq!((&kerberos.principal, &kerberos.keytab), (&None, &None));
    }

    #[test]
    fn krb5_login_module_without_a_mechanism_means_gssapi_as_in_java() {
        let config = AdminConfig::from_properties(
            "security.protocol=SASL_PLAINTEXT\n\
             sasl.jaas.config=com.sun.security.auth.module.Krb5LoginModule required \
             principal=\"ops@EXAMPLE.COM\";\n",
        )
        .unwrap();
        let sasl = config.cluster.connection.sasl.as_ref().unwrap();
        assert_eq!(sasl.mechanism(), SaslMechanism::Gssapi);
        assert_eq!(
            sasl.kerberos().unwrap().principal.as_deref(),
            Some("ops@EXAMPLE.COM")
        );
    }

    #[test]
    fn kerberos_keys_override_the_jaas_options() {
        let text = format!(
            "{KEYTAB_LOGIN}sasl.kerberos.principal=cli@EXAMPLE.COM\n\
             sasl.kerberos.keytab=/tmp/cli.keytab\nsasl.kerberos.domain.name=localhost\n"
        );
        let config = AdminConfig::from_properties(&text).unwrap();
        let kerberos = kerberos_of(&config);
        assert_eq!(kerberos.principal.as_deref(), Some("cli@EXAMPLE.COM"));
        assert_eq!(
            kerberos.keytab.as_deref(),
            Some(std::path::Path::new("/tmp/cli.keytab"))
        );
        assert_eq!(kerberos.service_principal("127.0.0.1"), "kfk@localhost");
    }

    #[test]
    fn kerberos_keys_are_ignored_for_other_mechanisms() {
        let config = AdminConfig::from_properties(
            "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\n\
             sasl.kerberos.service.name=kafka\nsasl.kerberos.kinit.cmd=/usr/bin/kinit\n\
             sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \
             username=\"u\" password=\"p\";\n",
        )
        .unwrap();
        let sasl = config.cluster.connection.sasl.as_ref().unwrap();
        assert_eq!(sasl.mechanism(), SaslMechanism::Plain);
        assert!(sasl.kerberos().is_none());
    }

    #[test]
    fn options_klamm_cannot_honour_are_unsupported() {
        assert!(matches!(
            login("com.ibm.security.auth.module.Krb5LoginModule required useKeytab=\"file:/k\";"),
            Err(AdminError::UnsupportedProperty { .. })
        ));
        for option in [
            "ticketCache=\"/tmp/krb5cc_0\"",
            "useFirstPass=true",
            "isInitiator=false",
        ] {
            let line = format!(
                "com.sun.security.auth.module.Krb5LoginModule required useTicketCache=true {option};"
            );
            match login(&line) {
                Err(AdminError::UnsupportedProperty { key, reason }) => {
                    assert_eq!(key, "sasl.jaas.config");
                    let name = option.split('=').next().unwrap();
                    assert!(reason.contains(name), "{reason}");
                }
                other => panic!("{option}: expected UnsupportedProperty, got {other:?}"),
            }
        }
    }

    #[test]
    fn misspelt_option_bad_flag_and_half_keytab_logins_are_invalid() {
        let cases = [
            (
                "useKeyTab=true keytab=\"/k\" principal=\"p@R\"",
                "did you mean keyTab?",
            ),
            (
                "useKeyTab=yes keyTab=\"/k\" principal=\"p@R\"",
                "neither true nor false",
            ),
            ("useKeyTab=true principal=\"p@R\"", "needs keyTab"),
            (
                "keyTab=\"/k\" principal=\"p@R\"",
                "only with useKeyTab=true",
            ),
        ];
        for (options, expected) in cases {
            let line = format!("com.sun.security.auth.module.Krb5LoginModule required {options};");
            match login(&line) {
                Err(AdminError::InvalidConfig { key, reason }) => {
                    assert_eq!(key, "sasl.jaas.config");
                    assert!(reason.contains(expected), "{options}: {reason}");
                }
                other => panic!("{options}: expected InvalidConfig, got {other:?}"),
            }
        }
        let error = AdminConfig::from_properties(
            "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=GSSAPI\n\
             sasl.jaas.config=com.sun.security.auth.module.Krb5LoginModule required \
             useKeyTab=true keyTab=\"/k\";\n",
        )
        .unwrap_err();
        assert!(error.to_string().contains("needs principal"), "{error}");
    }

    #[test]
    fn mechanism_and_login_module_must_agree() {
        let error = AdminConfig::from_properties(
            "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=GSSAPI\n\
             sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \
             username=\"u\" password=\"p\";\n",
        )
        .unwrap_err();
        assert!(
            matches!(&error, AdminError::InvalidConfig { key, .. } if key == "sasl.jaas.config"),
            "{error:?}"
        );
        let error = AdminConfig::from_properties(
            "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\n\
             sasl.jaas.config=com.sun.security.auth.module.Krb5LoginModule required \
             useTicketCache=true;\n",
        )
        .unwrap_err();
        assert!(error.to_string().contains("GSSAPI"), "{error}");
    }

    #[test]
    fn invalid_service_name_is_a_config_error() {
        let error = AdminConfig::from_properties(
            "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=GSSAPI\n\
             sasl.kerberos.service.name=kafka/broker.example.com\n",
        )
        .unwrap_err();
        assert!(
            error.to_string().contains("sasl_kerberos_service_name"),
            "{error}"
        );
    }
}
