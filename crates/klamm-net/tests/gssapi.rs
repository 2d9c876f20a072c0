//! SASL/GSSAPI against a real MIT Kerberos KDC and a real broker: the harness's `single`
//! profile runs `krb5kdc` for the realm `KLAMM.TEST` and enables GSSAPI on both SASL listeners
//! for `kafka/localhost@KLAMM.TEST`. Needs the `gssapi` feature (`--all-features`).
//!
//! The Kerberos library reads `KRB5_CONFIG` (and the default credential cache `KRB5CCNAME`)
//! from the process environment, so this file is its own test process and sets both once,
//! before the first GSS-API call, to the harness's `krb5.conf` and a cache filled by `kinit`.
#![cfg(feature = "gssapi")]

use std::future::Future;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use klamm_net::sasl::gssapi::GssapiError;
use klamm_net::{
    Connection, ConnectionConfig, ConnectionConfigBuilder, NetError, SaslMechanism,
    SecurityProtocol,
};
use klamm_protocol::messages::MetadataRequest;
use klamm_protocol::ApiKey;
use klamm_test_harness::{shared, ClusterEnv, KerberosEnv, Profile};

/// The shared broker, with the process environment pointed at its KDC.
fn env() -> &'static ClusterEnv {
    static READY: OnceLock<&'static ClusterEnv> = OnceLock::new();
    READY.get_or_init(|| {
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
        // Every test calls env() first and no GSS-API call happens before this point, so no
        // other thread reads the environment meanwhile.
        std::env::set_var("KRB5_CONFIG", &kerberos.krb5_conf);
        std::env::set_var("KRB5CCNAME", format!("FILE:{}", cache.display()));
        env
    })
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
            service, source, ..
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
                source,
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
