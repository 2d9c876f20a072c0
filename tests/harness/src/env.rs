//! `target/kafka/<profile>/cluster.env`: how to reach a running profile, as `KEY=value` lines that
//! a shell can `source` and that [`ClusterEnv`] parses back.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{HarnessError, IoContext, Result};
use crate::profile::{KafkaVersion, Profile};

/// SASL users known to every SASL listener (for PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 alike).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaslUsers {
    /// Enabled mechanisms, e.g. `PLAIN`, `SCRAM-SHA-256`, `SCRAM-SHA-512`.
    pub mechanisms: Vec<String>,
    /// A super user (`super.users`): allowed everything.
    pub admin_user: String,
    /// The super user's password.
    pub admin_password: String,
    /// An ordinary user without ACLs: every authorized operation is denied until a test grants it.
    pub user: String,
    /// The ordinary user's password.
    pub password: String,
}

/// PEM files of the throw-away PKI the harness generated for this start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// CA that signed the broker and client certificates (`SSL_CA_FILE`).
    pub ca_file: PathBuf,
    /// Client certificate for mutual TLS on the SSL listener (`SSL_CLIENT_CERT_FILE`).
    pub client_cert_file: PathBuf,
    /// Its PKCS#8 private key (`SSL_CLIENT_KEY_FILE`).
    pub client_key_file: PathBuf,
    /// The principal the SSL listener derives from that certificate, e.g. `User:CN=klamm-client`.
    /// It has no ACLs, so writes are denied (while an SSL client without a certificate is
    /// `User:ANONYMOUS`, a super user).
    pub client_principal: String,
    /// An unrelated CA: trusting only it must make the handshake fail.
    pub untrusted_ca_file: PathBuf,
    /// A client certificate signed by the unrelated CA: the broker must refuse it.
    pub untrusted_client_cert_file: PathBuf,
    /// Its private key.
    pub untrusted_client_key_file: PathBuf,
    /// Certificate revocation lists from the CA, for clients' `ssl_crlfile`; `None` in a
    /// `cluster.env` written before they existed (restart the profile to get them).
    pub crls: Option<CrlFiles>,
}

/// PEM certificate revocation lists signed by the harness CA (`SSL_CRL_*_FILE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlFiles {
    /// Revokes nothing (`SSL_CRL_EMPTY_FILE`).
    pub empty: PathBuf,
    /// Revokes the mutual-TLS client certificate only (`SSL_CRL_CLIENT_REVOKED_FILE`): a client
    /// checking the broker's chain against it connects.
    pub client_revoked: PathBuf,
    /// Revokes the broker certificate (`SSL_CRL_BROKER_REVOKED_FILE`): a client checking the
    /// broker's chain against it must refuse the handshake.
    pub broker_revoked: PathBuf,
}

/// The throw-away Kerberos realm of the `single` profile: the broker's SASL listeners accept
/// GSSAPI for principals of this realm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KerberosEnv {
    /// The realm (`KERBEROS_REALM`), e.g. `KLAMM.TEST`.
    pub realm: String,
    /// The KDC's `host:port` (`KERBEROS_KDC`), TCP and UDP.
    pub kdc: String,
    /// A `krb5.conf` for clients (`KERBEROS_KRB5_CONF`): point `KRB5_CONFIG` at it.
    pub krb5_conf: PathBuf,
    /// The broker's service name (`KERBEROS_SERVICE_NAME`, `kafka`).
    pub service_name: String,
    /// The host part of the broker's principal (`KERBEROS_SERVICE_HOST`, `localhost`): clients
    /// reach the broker as 127.0.0.1, so they must name this host (`sasl_kerberos_domain_name`).
    pub service_host: String,
    /// A client principal (`KERBEROS_CLIENT_PRINCIPAL`), Kafka principal `User:klamm-client`,
    /// with no ACLs.
    pub client_principal: String,
    /// The client principal's keytab (`KERBEROS_CLIENT_KEYTAB`).
    pub client_keytab: PathBuf,
    /// A principal the KDC knows but no keytab holds (`KERBEROS_KEYLESS_PRINCIPAL`): logging
    /// in as it with the client keytab must fail.
    pub keyless_principal: String,
}

/// One KRaft controller of the profile as it was started (`CONTROLLER_<id>`,
/// `CONTROLLER_<id>_DIRECTORY_ID`): what AddRaftVoter and RemoveRaftVoter name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControllerEnv {
    /// `node.id`.
    pub node_id: u32,
    /// The CONTROLLER listener, `127.0.0.1:port` (PLAINTEXT, `User:ANONYMOUS`, a super user).
    pub address: String,
    /// The metadata log directory's `directory.id` from `meta.properties`, a Kafka `Uuid`.
    pub directory_id: String,
}

/// Client credentials for the OAUTHBEARER listener of the `single` profile, accepted by the
/// harness's token endpoint ([`crate::oauth::TokenEndpoint`]); the broker's principal is the
/// token's `sub` claim, which the endpoint sets to the client id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthEnv {
    /// A client whose principal is a super user (`OAUTH_CLIENT_ID`, the SASL admin's name).
    pub client_id: String,
    /// Its secret (`OAUTH_CLIENT_SECRET`).
    pub client_secret: String,
    /// A client whose principal has no ACLs (`OAUTH_USER_CLIENT_ID`, the SASL user's name).
    pub user_client_id: String,
    /// Its secret (`OAUTH_USER_CLIENT_SECRET`).
    pub user_client_secret: String,
    /// The scope granted when a request names none (`OAUTH_SCOPE`).
    pub scope: String,
}

/// How to reach a running profile; parsed from, and written to, `cluster.env`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterEnv {
    /// The profile (`KAFKA_PROFILE`).
    pub profile: Profile,
    /// The broker version (`KAFKA_VERSION`).
    pub version: KafkaVersion,
    /// The cluster id (`CLUSTER_ID`), checked by probes so a stale file never passes for live.
    pub cluster_id: String,
    /// `target/kafka/<profile>` (`STATE_DIR`): pids, logs, data and certificates.
    pub state_dir: PathBuf,
    /// Node ids (`BROKER_IDS`).
    pub broker_ids: Vec<u32>,
    /// Each broker's PLAINTEXT address (`BROKER_<id>_PLAINTEXT`), by id.
    pub broker_plaintext: BTreeMap<u32, String>,
    /// `host:port[,host:port…]` of the PLAINTEXT listeners (`BOOTSTRAP_PLAINTEXT`); the client
    /// is `User:ANONYMOUS`, a super user.
    pub bootstrap_plaintext: String,
    /// SASL_PLAINTEXT listeners (`BOOTSTRAP_SASL_PLAINTEXT`), `single` profile only.
    pub bootstrap_sasl_plaintext: Option<String>,
    /// SSL listeners (`BOOTSTRAP_SSL`), `single` profile only.
    pub bootstrap_ssl: Option<String>,
    /// SASL_SSL listeners (`BOOTSTRAP_SASL_SSL`), `single` profile only.
    pub bootstrap_sasl_ssl: Option<String>,
    /// The OAUTHBEARER listener (`BOOTSTRAP_SASL_OAUTHBEARER`, security protocol
    /// SASL_PLAINTEXT, mechanism OAUTHBEARER only), `single` profile only.
    pub bootstrap_sasl_oauthbearer: Option<String>,
    /// Each broker's `log.dirs` (`BROKER_<id>_LOG_DIRS`, comma-separated), by id: two per
    /// broker in `cluster` (for AlterReplicaLogDirs), one elsewhere.
    pub broker_log_dirs: BTreeMap<u32, Vec<PathBuf>>,
    /// The controllers the profile started with (`CONTROLLER_IDS`, …); in `single` and
    /// `cluster` these are the combined nodes.
    pub controllers: Vec<ControllerEnv>,
    /// `host:port[,…]` of the CONTROLLER listeners (`BOOTSTRAP_CONTROLLER`), for
    /// `--bootstrap-controller` and `bootstrap.controllers`.
    pub bootstrap_controller: String,
    /// Whether the quorum is dynamic (`KRAFT_QUORUM=dynamic`: `controller.quorum.bootstrap.servers`,
    /// voters can be added and removed) or static (`static`: `controller.quorum.voters`).
    pub dynamic_quorum: bool,
    /// SASL mechanisms a delegation token logs in with (`DELEGATION_TOKEN_MECHANISMS`), empty
    /// where delegation tokens are disabled; `single`: SCRAM-SHA-256 and SCRAM-SHA-512.
    pub delegation_token_mechanisms: Vec<String>,
    /// OAUTHBEARER client credentials, `single` profile only.
    pub oauth: Option<OAuthEnv>,
    /// SASL users, `single` profile only.
    pub sasl: Option<SaslUsers>,
    /// TLS material, `single` profile only.
    pub tls: Option<TlsFiles>,
    /// The Kerberos realm for SASL/GSSAPI, `single` profile only.
    pub kerberos: Option<KerberosEnv>,
}

impl ClusterEnv {
    /// Reads and parses a `cluster.env` file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = fs::read_to_string(path).context(|| format!("reading {}", path.display()))?;
        Self::parse(&text, path)
    }

    /// Parses `KEY=value` lines (values may be single-quoted); `path` is only for messages.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let malformed = |reason: String| HarnessError::MalformedEnv {
            path: path.to_owned(),
            reason,
        };
        let mut vars = BTreeMap::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, value) = line
                .split_once('=')
                .ok_or_else(|| malformed(format!("line {} has no `=`", index + 1)))?;
            vars.insert(key.trim().to_owned(), unquote(value.trim()));
        }
        let required = |key: &str| {
            vars.get(key)
                .cloned()
                .ok_or_else(|| malformed(format!("missing {key}")))
        };
        let optional = |key: &str| vars.get(key).filter(|v| !v.is_empty()).cloned();

        let profile = required("KAFKA_PROFILE")?.parse()?;
        let version = required("KAFKA_VERSION")?.parse()?;
        let broker_ids = required("BROKER_IDS")?
            .split(',')
            .map(|id| {
                id.trim()
                    .parse::<u32>()
                    .map_err(|_| malformed(format!("bad broker id `{id}`")))
            })
            .collect::<Result<Vec<_>>>()?;
        let broker_plaintext = broker_ids
            .iter()
            .filter_map(|id| optional(&format!("BROKER_{id}_PLAINTEXT")).map(|addr| (*id, addr)))
            .collect();
        let sasl = match optional("SASL_ADMIN_USER") {
            None => None,
            Some(admin_user) => Some(SaslUsers {
                mechanisms: required("SASL_MECHANISMS")?
                    .split(',')
                    .map(str::to_owned)
                    .collect(),
                admin_user,
                admin_password: required("SASL_ADMIN_PASSWORD")?,
                user: required("SASL_USER")?,
                password: required("SASL_PASSWORD")?,
            }),
        };
        let tls = match optional("SSL_CA_FILE") {
            None => None,
            Some(ca_file) => Some(TlsFiles {
                ca_file: ca_file.into(),
                client_cert_file: required("SSL_CLIENT_CERT_FILE")?.into(),
                client_key_file: required("SSL_CLIENT_KEY_FILE")?.into(),
                client_principal: required("SSL_CLIENT_PRINCIPAL")?,
                untrusted_ca_file: required("SSL_UNTRUSTED_CA_FILE")?.into(),
                untrusted_client_cert_file: required("SSL_UNTRUSTED_CLIENT_CERT_FILE")?.into(),
                untrusted_client_key_file: required("SSL_UNTRUSTED_CLIENT_KEY_FILE")?.into(),
                crls: match optional("SSL_CRL_EMPTY_FILE") {
                    None => None,
                    Some(empty) => Some(CrlFiles {
                        empty: empty.into(),
                        client_revoked: required("SSL_CRL_CLIENT_REVOKED_FILE")?.into(),
                        broker_revoked: required("SSL_CRL_BROKER_REVOKED_FILE")?.into(),
                    }),
                },
            }),
        };
        let kerberos = match optional("KERBEROS_REALM") {
            None => None,
            Some(realm) => Some(KerberosEnv {
                realm,
                kdc: required("KERBEROS_KDC")?,
                krb5_conf: required("KERBEROS_KRB5_CONF")?.into(),
                service_name: required("KERBEROS_SERVICE_NAME")?,
                service_host: required("KERBEROS_SERVICE_HOST")?,
                client_principal: required("KERBEROS_CLIENT_PRINCIPAL")?,
                client_keytab: required("KERBEROS_CLIENT_KEYTAB")?.into(),
                keyless_principal: required("KERBEROS_KEYLESS_PRINCIPAL")?,
            }),
        };
        let controller_ids = required("CONTROLLER_IDS")?
            .split(',')
            .map(|id| {
                id.trim()
                    .parse::<u32>()
                    .map_err(|_| malformed(format!("bad controller id `{id}`")))
            })
            .collect::<Result<Vec<_>>>()?;
        let controllers = controller_ids
            .iter()
            .map(|id| {
                Ok(ControllerEnv {
                    node_id: *id,
                    address: required(&format!("CONTROLLER_{id}"))?,
                    directory_id: required(&format!("CONTROLLER_{id}_DIRECTORY_ID"))?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let broker_log_dirs = broker_ids
            .iter()
            .filter_map(|id| {
                optional(&format!("BROKER_{id}_LOG_DIRS"))
                    .map(|dirs| (*id, dirs.split(',').map(PathBuf::from).collect()))
            })
            .collect();
        let dynamic_quorum = match required("KRAFT_QUORUM")?.as_str() {
            "dynamic" => true,
            "static" => false,
            other => return Err(malformed(format!("bad KRAFT_QUORUM `{other}`"))),
        };
        let oauth = match optional("OAUTH_CLIENT_ID") {
            None => None,
            Some(client_id) => Some(OAuthEnv {
                client_id,
                client_secret: required("OAUTH_CLIENT_SECRET")?,
                user_client_id: required("OAUTH_USER_CLIENT_ID")?,
                user_client_secret: required("OAUTH_USER_CLIENT_SECRET")?,
                scope: required("OAUTH_SCOPE")?,
            }),
        };
        Ok(ClusterEnv {
            profile,
            version,
            cluster_id: required("CLUSTER_ID")?,
            state_dir: required("STATE_DIR")?.into(),
            broker_ids,
            broker_plaintext,
            bootstrap_plaintext: required("BOOTSTRAP_PLAINTEXT")?,
            bootstrap_sasl_plaintext: optional("BOOTSTRAP_SASL_PLAINTEXT"),
            bootstrap_ssl: optional("BOOTSTRAP_SSL"),
            bootstrap_sasl_ssl: optional("BOOTSTRAP_SASL_SSL"),
            bootstrap_sasl_oauthbearer: optional("BOOTSTRAP_SASL_OAUTHBEARER"),
            broker_log_dirs,
            controllers,
            bootstrap_controller: required("BOOTSTRAP_CONTROLLER")?,
            dynamic_quorum,
            delegation_token_mechanisms: optional("DELEGATION_TOKEN_MECHANISMS")
                .map(|list| list.split(',').map(str::to_owned).collect())
                .unwrap_or_default(),
            oauth,
            sasl,
            tls,
            kerberos,
        })
    }

    /// The file's text: `KEY=value` lines, quoted where a shell needs it.
    pub fn to_env_file(&self) -> String {
        let mut out = String::from(
            "# Written by klamm-test-harness; `source` it or parse it with ClusterEnv::load.\n",
        );
        let mut put = |key: &str, value: &str| {
            let _ = writeln!(out, "{key}={}", quote(value));
        };
        let path = |p: &Path| p.display().to_string();
        put("KAFKA_PROFILE", self.profile.name());
        put("KAFKA_VERSION", self.version.as_str());
        put("CLUSTER_ID", &self.cluster_id);
        put("STATE_DIR", &path(&self.state_dir));
        let ids: Vec<String> = self.broker_ids.iter().map(u32::to_string).collect();
        put("BROKER_IDS", &ids.join(","));
        for (id, addr) in &self.broker_plaintext {
            put(&format!("BROKER_{id}_PLAINTEXT"), addr);
        }
        for (id, dirs) in &self.broker_log_dirs {
            let dirs: Vec<String> = dirs.iter().map(|dir| path(dir)).collect();
            put(&format!("BROKER_{id}_LOG_DIRS"), &dirs.join(","));
        }
        put("BOOTSTRAP_PLAINTEXT", &self.bootstrap_plaintext);
        let controller_ids: Vec<String> = self
            .controllers
            .iter()
            .map(|c| c.node_id.to_string())
            .collect();
        put("CONTROLLER_IDS", &controller_ids.join(","));
        for controller in &self.controllers {
            let id = controller.node_id;
            put(&format!("CONTROLLER_{id}"), &controller.address);
            put(
                &format!("CONTROLLER_{id}_DIRECTORY_ID"),
                &controller.directory_id,
            );
        }
        put("BOOTSTRAP_CONTROLLER", &self.bootstrap_controller);
        put(
            "KRAFT_QUORUM",
            if self.dynamic_quorum {
                "dynamic"
            } else {
                "static"
            },
        );
        for (key, value) in [
            ("BOOTSTRAP_SASL_PLAINTEXT", &self.bootstrap_sasl_plaintext),
            ("BOOTSTRAP_SSL", &self.bootstrap_ssl),
            ("BOOTSTRAP_SASL_SSL", &self.bootstrap_sasl_ssl),
            (
                "BOOTSTRAP_SASL_OAUTHBEARER",
                &self.bootstrap_sasl_oauthbearer,
            ),
        ] {
            if let Some(value) = value {
                put(key, value);
            }
        }
        if let Some(sasl) = &self.sasl {
            put("SASL_MECHANISMS", &sasl.mechanisms.join(","));
            put("SASL_ADMIN_USER", &sasl.admin_user);
            put("SASL_ADMIN_PASSWORD", &sasl.admin_password);
            put("SASL_USER", &sasl.user);
            put("SASL_PASSWORD", &sasl.password);
        }
        if !self.delegation_token_mechanisms.is_empty() {
            put(
                "DELEGATION_TOKEN_MECHANISMS",
                &self.delegation_token_mechanisms.join(","),
            );
        }
        if let Some(oauth) = &self.oauth {
            put("OAUTH_CLIENT_ID", &oauth.client_id);
            put("OAUTH_CLIENT_SECRET", &oauth.client_secret);
            put("OAUTH_USER_CLIENT_ID", &oauth.user_client_id);
            put("OAUTH_USER_CLIENT_SECRET", &oauth.user_client_secret);
            put("OAUTH_SCOPE", &oauth.scope);
        }
        if let Some(tls) = &self.tls {
            put("SSL_CA_FILE", &path(&tls.ca_file));
            put("SSL_CLIENT_CERT_FILE", &path(&tls.client_cert_file));
            put("SSL_CLIENT_KEY_FILE", &path(&tls.client_key_file));
            put("SSL_CLIENT_PRINCIPAL", &tls.client_principal);
            put("SSL_UNTRUSTED_CA_FILE", &path(&tls.untrusted_ca_file));
            put(
                "SSL_UNTRUSTED_CLIENT_CERT_FILE",
                &path(&tls.untrusted_client_cert_file),
            );
            put(
                "SSL_UNTRUSTED_CLIENT_KEY_FILE",
                &path(&tls.untrusted_client_key_file),
            );
            if let Some(crls) = &tls.crls {
                put("SSL_CRL_EMPTY_FILE", &path(&crls.empty));
                put("SSL_CRL_CLIENT_REVOKED_FILE", &path(&crls.client_revoked));
                put("SSL_CRL_BROKER_REVOKED_FILE", &path(&crls.broker_revoked));
            }
        }
        if let Some(kerberos) = &self.kerberos {
            put("KERBEROS_REALM", &kerberos.realm);
            put("KERBEROS_KDC", &kerberos.kdc);
            put("KERBEROS_KRB5_CONF", &path(&kerberos.krb5_conf));
            put("KERBEROS_SERVICE_NAME", &kerberos.service_name);
            put("KERBEROS_SERVICE_HOST", &kerberos.service_host);
            put("KERBEROS_CLIENT_PRINCIPAL", &kerberos.client_principal);
            put("KERBEROS_CLIENT_KEYTAB", &path(&kerberos.client_keytab));
            put("KERBEROS_KEYLESS_PRINCIPAL", &kerberos.keyless_principal);
        }
        out
    }

    /// Writes the file atomically (temp file + rename), so readers never see half of it.
    pub fn write(&self, path: &Path) -> Result<()> {
        let temp = path.with_extension("env.tmp");
        fs::write(&temp, self.to_env_file()).context(|| format!("writing {}", temp.display()))?;
        fs::rename(&temp, path)
            .context(|| format!("renaming {} to {}", temp.display(), path.display()))
    }
}

/// Single-quotes a value unless every character is shell-safe.
fn quote(value: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_.,:/@%+=".contains(c);
    if !value.is_empty() && value.chars().all(safe) {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

/// Inverse of [`quote`] (also accepts plain double quotes without escapes).
fn unquote(value: &str) -> String {
    if value.len() >= 2 && value.starts_with('\'') && value.ends_with('\'') {
        value[1..value.len() - 1].replace(r"'\''", "'")
    } else if value.len() >= 2 && value.starts_with('"') && value.ends_with('"') {
        value[1..value.len() - 1].to_owned()
    } else {
        value.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ClusterEnv {
        ClusterEnv {
            profile: Profile::Single,
            version: "4.4.0".parse().unwrap(),
            cluster_id: "q1Sh-9_jQ5mZ0pC6t3Lx0w".into(),
            state_dir: "/work/my repo/target/kafka/single".into(),
            broker_ids: vec![1],
            broker_plaintext: [(1, "127.0.0.1:20001".to_owned())].into(),
            bootstrap_plaintext: "127.0.0.1:20001".into(),
            bootstrap_sasl_plaintext: Some("127.0.0.1:20002".into()),
            bootstrap_ssl: Some("127.0.0.1:20003".into()),
            bootstrap_sasl_ssl: Some("127.0.0.1:20004".into()),
            bootstrap_sasl_oauthbearer: Some("127.0.0.1:20006".into()),
            broker_log_dirs: [(
                1,
                vec![
                    "/work/my repo/target/kafka/single/node-1/data".into(),
                    "/d/node-1/data-b".into(),
                ],
            )]
            .into(),
            controllers: vec![ControllerEnv {
                node_id: 1,
                address: "127.0.0.1:20007".into(),
                directory_id: "Jm4WpyPwQvSQ6F3rJ4EXbA".into(),
            }],
            bootstrap_controller: "127.0.0.1:20007".into(),
            dynamic_quorum: false,
            delegation_token_mechanisms: vec!["SCRAM-SHA-256".into(), "SCRAM-SHA-512".into()],
            oauth: Some(OAuthEnv {
                client_id: "klamm-admin".into(),
                client_secret: "it's secret".into(),
                user_client_id: "klamm-user".into(),
                user_client_secret: "user-secret".into(),
                scope: "klamm".into(),
            }),
            sasl: Some(SaslUsers {
                mechanisms: vec!["PLAIN".into(), "SCRAM-SHA-256".into()],
                admin_user: "klamm-admin".into(),
                admin_password: "it's secret".into(),
                user: "klamm-user".into(),
                password: "user-secret".into(),
            }),
            tls: Some(TlsFiles {
                ca_file: "/t/ca.crt".into(),
                client_cert_file: "/t/client.crt".into(),
                client_key_file: "/t/client.key".into(),
                client_principal: "User:CN=klamm-client".into(),
                untrusted_ca_file: "/t/untrusted-ca.crt".into(),
                untrusted_client_cert_file: "/t/untrusted-client.crt".into(),
                untrusted_client_key_file: "/t/untrusted-client.key".into(),
                crls: Some(CrlFiles {
                    empty: "/t/crl-empty.crl".into(),
                    client_revoked: "/t/crl-client-revoked.crl".into(),
                    broker_revoked: "/t/crl-broker-revoked.crl".into(),
                }),
            }),
            kerberos: Some(KerberosEnv {
                realm: "KLAMM.TEST".into(),
                kdc: "127.0.0.1:20005".into(),
                krb5_conf: "/work/my repo/target/kafka/single/kerberos/krb5.conf".into(),
                service_name: "kafka".into(),
                service_host: "localhost".into(),
                client_principal: "klamm-client@KLAMM.TEST".into(),
                client_keytab: "/k/client.keytab".into(),
                keyless_principal: "klamm-keyless@KLAMM.TEST".into(),
            }),
        }
    }

    #[test]
    fn env_file_round_trips_including_quoted_values() {
        let env = sample();
        let text = env.to_env_file();
        assert!(
            text.contains("STATE_DIR='/work/my repo/target/kafka/single'\n"),
            "{text}"
        );
        assert!(text.contains("BOOTSTRAP_SASL_SSL=127.0.0.1:20004\n"));
        assert!(text.contains("KERBEROS_CLIENT_PRINCIPAL=klamm-client@KLAMM.TEST\n"));
        assert!(text.contains(
            "BROKER_1_LOG_DIRS='/work/my repo/target/kafka/single/node-1/data,/d/node-1/data-b'\n"
        ));
        assert!(text.contains("CONTROLLER_1_DIRECTORY_ID=Jm4WpyPwQvSQ6F3rJ4EXbA\n"));
        assert!(text.contains("KRAFT_QUORUM=static\n"));
        assert_eq!(ClusterEnv::parse(&text, Path::new("x")).unwrap(), env);
    }

    #[test]
    fn env_file_without_security_parses_to_none() {
        let mut env = sample();
        env.profile = Profile::Cluster;
        env.bootstrap_sasl_plaintext = None;
        env.bootstrap_ssl = None;
        env.bootstrap_sasl_ssl = None;
        env.sasl = None;
        env.tls = None;
        env.kerberos = None;
        env.bootstrap_sasl_oauthbearer = None;
        env.oauth = None;
        env.delegation_token_mechanisms.clear();
        env.dynamic_quorum = true;
        let parsed = ClusterEnv::parse(&env.to_env_file(), Path::new("x")).unwrap();
        assert_eq!(parsed, env);
    }

    #[test]
    fn parse_reports_the_missing_key() {
        let error = ClusterEnv::parse("KAFKA_PROFILE=single\n", Path::new("c.env")).unwrap_err();
        assert!(
            error.to_string().contains("missing KAFKA_VERSION"),
            "{error}"
        );
    }
}
