//! SASL/GSSAPI against a real MIT Kerberos KDC and a real broker: the harness's `single`
//! profile runs `krb5kdc` for the realm `KLAMM.TEST` and enables GSSAPI on both SASL listeners
//! for `kafka/localhost@KLAMM.TEST`. Needs the `gssapi` feature (`--all-features`).
//!
//! The Kerberos library reads `KRB5_CONFIG` (and the default credential cache `KRB5CCNAME`)
//! from the process environment, so this file is its own test process and sets both once,
//! before the first GSS-API call, to the harness's `krb5.conf` and a cache filled by `kinit`.
//! `KRB5_CONFIG` also names a second file of this process's own, with two realms whose KDCs are
//! out of reach (see [`OfflineKdcs`]).
#![cfg(feature = "gssapi")]

use std::future::Future;
use std::net::{Ipv4Addr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use klamm_net::sasl::gssapi::GssapiError;
use klamm_net::{
    Connection, ConnectionConfig, ConnectionConfigBuilder, NetError, Phase, SaslMechanism,
    SecurityProtocol,
};
use klamm_protocol::messages::MetadataRequest;
use klamm_protocol::ApiKey;
use klamm_test_harness::{shared, ClusterEnv, KerberosEnv, Profile};

/// MIT's `KRB5_KDC_UNREACH`, "Cannot contact any KDC for requested realm".
const KRB5_KDC_UNREACH: u32 = 0x96c7_3a9c;

/// What the tests share, set up once per process.
struct Setup {
    env: &'static ClusterEnv,
    offline: OfflineKdcs,
}

/// Two realms of this process's own whose KDCs cannot serve: `UNREACHABLE.KLAMM.TEST` names a
/// closed port (connections are refused), `SILENT.KLAMM.TEST` a TCP listener and a UDP socket
/// that accept but never answer. A keytab holds a client principal of each, so that logging in
/// has to ask their KDC.
struct OfflineKdcs {
    /// `krb5.conf` fragment with both realms.
    conf: PathBuf,
    /// Keys for `klamm-client@UNREACHABLE.KLAMM.TEST` and `klamm-client@SILENT.KLAMM.TEST`.
    keytab: PathBuf,
    /// Held for the process's lifetime: the silent KDC.
    _silent: (TcpListener, UdpSocket),
}

const UNREACHABLE_PRINCIPAL: &str = "klamm-client@UNREACHABLE.KLAMM.TEST";
const SILENT_PRINCIPAL: &str = "klamm-client@SILENT.KLAMM.TEST";

impl OfflineKdcs {
    fn create(dir: &Path) -> Self {
        // A port that was free a moment ago and is closed now: nothing listens there.
        let closed = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let silent_tcp = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let silent_port = silent_tcp.local_addr().unwrap().port();
        let silent_udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, silent_port)).unwrap();
        let conf = dir.join(format!(
            "klamm-net-tests-{}-offline.conf",
            std::process::id()
        ));
        let realms = [
            "[realms]".to_owned(),
            format!("    UNREACHABLE.KLAMM.TEST = {{\n        kdc = 127.0.0.1:{closed}\n    }}"),
            format!("    SILENT.KLAMM.TEST = {{\n        kdc = 127.0.0.1:{silent_port}\n    }}"),
        ];
        std::fs::write(&conf, realms.join("\n") + "\n").unwrap();
        let keytab = dir.join(format!(
            "klamm-net-tests-{}-offline.keytab",
            std::process::id()
        ));
        // ktutil makes keys from a password offline; the KDCs never see them anyway.
        let mut script = String::new();
        for principal in [UNREACHABLE_PRINCIPAL, SILENT_PRINCIPAL] {
            script.push_str(&format!(
                "addent -password -p {principal} -k 1 -e aes256-cts-hmac-sha1-96\nklamm-offline\n"
            ));
        }
        script.push_str(&format!("wkt {}\nquit\n", keytab.display()));
        let mut ktutil = Command::new("ktutil")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("ktutil runs (krb5-user is installed by `cargo xtask kafka fetch`)");
        std::io::Write::write_all(ktutil.stdin.as_mut().unwrap(), script.as_bytes()).unwrap();
        let status = ktutil.wait().unwrap();
        assert!(
            status.success() && keytab.exists(),
            "ktutil failed: {status}"
        );
        OfflineKdcs {
            conf,
            keytab,
            _silent: (silent_tcp, silent_udp),
        }
    }
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let env = shared(Profile::Single);
        let kerberos = kerberos(env);
        // In the profile's state directory, which the next start wipes.
        let cache = kerberos
            .krb5_conf
            .with_file_name(format!("klamm-net-tests-{}.ccache", std::process::id()));
        // A credential cache as an operator's `kinit` would leave it, for the default path.
        let status = Command::new("kinit")
            .args(["-k", "-t"])
            .arg(&kerberos.client_keytab)
            .arg("-c")
            .arg(format!("FILE:{}", cache.display()))
            .arg(&kerberos.client_principal)
            .env("KRB5_CONFIG", &kerberos.krb5_conf)
            .status()
            .expect("kinit runs (krb5-user is installed by `cargo xtask kafka fetch`)");
        assert!(status.success(), "kinit failed: {status}");
        let offline = OfflineKdcs::create(kerberos.krb5_conf.parent().unwrap());
        // Every test calls setup() first and no GSS-API call happens before this point, so no
        // other thread reads the environment meanwhile. MIT reads a colon-separated list.
        std::env::set_var(
            "KRB5_CONFIG",
            format!(
                "{}:{}",
                kerberos.krb5_conf.display(),
                offline.conf.display()
            ),
        );
        std::env::set_var("KRB5CCNAME", format!("FILE:{}", cache.display()));
        Setup { env, offline }
    })
}

/// The shared broker, with the process environment pointed at its KDC.
fn env() -> &'static ClusterEnv {
    setup().env
}

fn kerberos(env: &ClusterEnv) -> &KerberosEnv {
    env.kerberos
        .as_ref()
        .expect("the single profile runs a KDC")
}

fn run<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// GSSAPI on SASL_PLAINTEXT, naming the broker principal's host (the broker is reached as
/// 127.0.0.1, its principal is `kafka/localhost`).
fn gssapi(env: &ClusterEnv) -> ConnectionConfigBuilder {
    ConnectionConfig::builder()
        .client_id("klamm-net-gssapi-tests")
        .request_timeout(Duration::from_secs(15))
        .api_version_auto_timeout(Duration::from_secs(10))
        .security_protocol(SecurityProtocol::SaslPlaintext)
        .sasl_mechanism(SaslMechanism::Gssapi)
        .sasl_kerberos_service_name(&kerberos(env).service_name)
        .sasl_kerberos_domain_name(&kerberos(env).service_host)
}

fn sasl_plaintext(env: &ClusterEnv) -> &str {
    env.bootstrap_sasl_plaintext.as_deref().unwrap()
}

/// Connects (ApiVersions, SaslHandshake, the GSSAPI exchange) and sends a Metadata request.
async fn connect_and_fetch_metadata(addr: &str, config: &ConnectionConfig) {
    let connection = Connection::connect(addr, config)
        .await
        .unwrap_or_else(|error| panic!("GSSAPI connect to {addr}: {error}"));
    assert!(connection.version_for(ApiKey::Metadata).unwrap() >= 12);
    let metadata = connection.send(MetadataRequest::default()).await.unwrap();
    let ids: Vec<i32> = metadata.brokers.iter().map(|b| b.node_id).collect();
    assert_eq!(ids, vec![env().broker_ids[0] as i32], "{metadata:?}");
    let metrics = connection.metrics();
    // The mutual exchange: AP-REQ, empty token, security-layer answer.
    assert_eq!(metrics.api(ApiKey::SaslAuthenticate).responses, 3);
    assert_eq!(metrics.api(ApiKey::SaslHandshake).responses, 1);
}

/// The GSS-API error inside `error`, or a panic saying what came instead.
fn gss_error(error: &NetError) -> (&str, &GssapiError) {
    match error {
        NetError::Gssapi {
            service,
            cause: source,
            ..
        } => (service.as_str(), source),
        other => panic!("expected NetError::Gssapi, got {other:?}"),
    }
}

#[test]
fn keytab_login_authenticates_and_metadata_round_trips() {
    let env = env();
    let kerberos = kerberos(env);
    run(async {
        let config = gssapi(env)
            .sasl_kerberos_principal(&kerberos.client_principal)
            .sasl_kerberos_keytab(&kerberos.client_keytab)
            .build()
            .unwrap();
        connect_and_fetch_metadata(sasl_plaintext(env), &config).await;
        // A second connection reuses the tickets of the in-memory cache.
        connect_and_fetch_metadata(sasl_plaintext(env), &config).await;
    });
}

#[test]
fn credential_cache_from_kinit_authenticates_on_both_sasl_listeners() {
    let env = env();
    let tls = env.tls.as_ref().unwrap();
    run(async {
        // No principal, no keytab: the library's default cache, KRB5CCNAME.
        let config = gssapi(env).build().unwrap();
        connect_and_fetch_metadata(sasl_plaintext(env), &config).await;
        let over_tls = gssapi(env)
            .security_protocol(SecurityProtocol::SaslSsl)
            .ssl_cafile(&tls.ca_file)
            .build()
            .unwrap();
        connect_and_fetch_metadata(env.bootstrap_sasl_ssl.as_deref().unwrap(), &over_tls).await;
    });
}

#[test]
fn principal_without_a_key_in_the_keytab_fails_naming_it_with_the_gss_message() {
    let env = env();
    let kerberos = kerberos(env);
    run(async {
        let config = gssapi(env)
            .sasl_kerberos_principal(&kerberos.keyless_principal)
            .sasl_kerberos_keytab(&kerberos.client_keytab)
            .build()
            .unwrap();
        let error = Connection::connect(sasl_plaintext(env), &config)
            .await
            .unwrap_err();
        let (service, source) = gss_error(&error);
        assert_eq!(service, "kafka@localhost");
        match source {
            GssapiError::NoCredentials {
                principal,
                keytab,
                cause: source,
            } => {
                assert_eq!(
                    principal.as_deref(),
                    Some(kerberos.keyless_principal.as_str())
                );
                assert_eq!(keytab.as_ref(), Some(&kerberos.client_keytab));
                // The keytab has no key for it, so MIT falls back to the (empty) credential
                // cache and reports GSS_S_NO_CRED with the cache's complaint.
                match &**source {
                    GssapiError::Call {
                        call,
                        major,
                        message,
                        ..
                    } => {
                        assert_eq!(*call, "gss_acquire_cred_from");
                        assert_eq!(*major, 0x0007_0000, "GSS_S_NO_CRED: {message}");
                        assert!(message.contains("No credentials"), "{message}");
                    }
                    other => panic!("expected the failed call, got {other:?}"),
                }
            }
            other => panic!("expected NoCredentials, got {other:?}"),
        }
        let text = error.to_string();
        assert!(text.contains(&kerberos.keyless_principal), "{text}");
        assert!(text.contains("No credentials"), "{text}");
        assert!(!error.is_retriable());
        assert!(!error.may_have_reached_broker());
        assert!(error.to_string().contains("GSSAPI"), "{error}");
    });
}

#[test]
fn wrong_service_name_fails_with_the_kdc_message() {
    let env = env();
    let kerberos = kerberos(env);
    run(async {
        let config = gssapi(env)
            .sasl_kerberos_service_name("not-kafka")
            .sasl_kerberos_principal(&kerberos.client_principal)
            .sasl_kerberos_keytab(&kerberos.client_keytab)
            .build()
            .unwrap();
        let error = Connection::connect(sasl_plaintext(env), &config)
            .await
            .unwrap_err();
        let (service, source) = gss_error(&error);
        assert_eq!(service, "not-kafka@localhost");
        match source {
            GssapiError::Call {
                call,
                major,
                minor,
                message,
            } => {
                assert_eq!(*call, "gss_init_sec_context");
                assert_ne!((*major, *minor), (0, 0));
                // MIT: "Server not-kafka/localhost@KLAMM.TEST not found in Kerberos database".
                assert!(
                    message.contains("not found in Kerberos database"),
                    "{message}"
                );
                assert!(error.to_string().contains(message.as_str()), "{error}");
            }
            other => panic!("expected gss_init_sec_context to fail, got {other:?}"),
        }
        // The KDC answered: asking again gets the same answer.
        assert!(!error.is_retriable(), "{error}");
    });
}

#[test]
fn debug_output_names_principal_and_keytab_but_no_key_material() {
    let env = env();
    let kerberos = kerberos(env);
    let config = gssapi(env)
        .sasl_kerberos_principal(&kerberos.client_principal)
        .sasl_kerberos_keytab(&kerberos.client_keytab)
        .build()
        .unwrap();
    let text = format!("{config:?}");
    assert!(text.contains(&kerberos.client_principal), "{text}");
    assert!(
        text.contains(&kerberos.client_keytab.display().to_string()),
        "{text}"
    );
    // The keys in the keytab never leave the Kerberos library: no run of keytab bytes long
    // enough to be a key (16 bytes) shows up in the Debug output, raw or in hex.
    let keytab = std::fs::read(&kerberos.client_keytab).unwrap();
    let hex: String = keytab.iter().map(|b| format!("{b:02x}")).collect();
    for start in (0..keytab.len().saturating_sub(16)).step_by(4) {
        let window = &keytab[start..start + 16];
        if window.iter().all(|b| b.is_ascii_graphic()) {
            continue; // principal names and the realm are in the keytab too
        }
        assert!(!text.contains(&hex[start * 2..start * 2 + 32]), "{text}");
        assert!(!text.contains(&*String::from_utf8_lossy(window)), "{text}");
    }
}

/// The call that failed inside `error`, directly or as the reason for missing credentials.
fn failed_call(error: &GssapiError) -> (&'static str, u32, &str) {
    match error {
        GssapiError::Call {
            call,
            minor,
            message,
            ..
        } => (call, *minor, message.as_str()),
        GssapiError::NoCredentials { cause: source, .. } => failed_call(source),
        other => panic!("expected a failed GSS-API call, got {other:?}"),
    }
}

/// Connects as `principal` of the offline realms (keys in their keytab) with `timeout`; the
/// error it must fail with, and how long that took.
fn connect_offline(principal: &str, timeout: Duration) -> (NetError, Duration) {
    let env = env();
    let offline = &setup().offline;
    run(async {
        let config = gssapi(env)
            .request_timeout(timeout)
            .sasl_kerberos_principal(principal)
            .sasl_kerberos_keytab(&offline.keytab)
            .build()
            .unwrap();
        let started = Instant::now();
        let error = Connection::connect(sasl_plaintext(env), &config)
            .await
            .unwrap_err();
        (error, started.elapsed())
    })
}

#[test]
fn unreachable_kdc_fails_within_the_timeout_with_a_retriable_error() {
    let timeout = Duration::from_secs(5);
    let (error, elapsed) = connect_offline(UNREACHABLE_PRINCIPAL, timeout);
    let (_, source) = gss_error(&error);
    let (call, minor, message) = failed_call(source);
    // The library's own minor status is the code the classification retries.
    assert_eq!(minor, KRB5_KDC_UNREACH, "{call}: {message}");
    assert!(message.contains("Cannot contact any KDC"), "{message}");
    assert!(source.is_retriable(), "{source}");
    assert!(error.is_retriable(), "{error}");
    assert!(!error.may_have_reached_broker());
    // A refused connection is reported at once, not after the SASL step's deadline.
    assert!(elapsed < timeout, "took {elapsed:?}");
}

#[test]
fn silent_kdc_is_cut_off_at_the_request_timeout_and_retriable() {
    let timeout = Duration::from_secs(2);
    let (error, elapsed) = connect_offline(SILENT_PRINCIPAL, timeout);
    // MIT itself would wait for the KDC for half a minute before KRB5_KDC_UNREACH.
    assert!(
        matches!(
            error,
            NetError::Timeout {
                phase: Phase::Sasl,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.is_retriable(), "{error}");
    assert!(elapsed >= timeout, "took {elapsed:?}");
    assert!(elapsed < timeout * 4, "took {elapsed:?}");
}
