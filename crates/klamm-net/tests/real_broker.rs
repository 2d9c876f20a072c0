//! Against a real Kafka broker (the harness's `single` profile: PLAINTEXT, SSL, SASL_PLAINTEXT
//! and SASL_SSL listeners; PLAIN and SCRAM users; a throw-away CA whose broker certificate is for
//! `localhost` and `127.0.0.1`). The broker starts on first use (~10–20 s) and is shared.

use std::future::Future;
use std::time::Duration;

use klamm_net::{
    Connection, ConnectionConfig, ConnectionConfigBuilder, NetError, SaslMechanism, Secret,
    SecurityProtocol, TlsFailure,
};
use klamm_protocol::messages::MetadataRequest;
use klamm_protocol::{ApiKey, ErrorCode};
use klamm_test_harness::{shared, ClusterEnv, Profile};

fn env() -> &'static ClusterEnv {
    shared(Profile::Single)
}

fn run<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

fn base(protocol: SecurityProtocol) -> ConnectionConfigBuilder {
    ConnectionConfig::builder()
        .client_id("klamm-net-tests")
        .request_timeout(Duration::from_secs(15))
        .api_version_auto_timeout(Duration::from_secs(10))
        .security_protocol(protocol)
}

fn with_ca(builder: ConnectionConfigBuilder) -> ConnectionConfigBuilder {
    builder.ssl_cafile(&env().tls.as_ref().expect("single profile has TLS").ca_file)
}

fn with_user(
    builder: ConnectionConfigBuilder,
    mechanism: SaslMechanism,
    password: Option<&str>,
) -> ConnectionConfigBuilder {
    let sasl = env().sasl.as_ref().expect("single profile has SASL");
    builder
        .sasl_mechanism(mechanism)
        .sasl_plain_username(&sasl.admin_user)
        .sasl_plain_password(password.unwrap_or(&sasl.admin_password))
}

/// Connects and checks the connection carries a Metadata request naming this broker.
async fn connect_and_fetch_metadata(addr: &str, config: &ConnectionConfig) -> Connection {
    let connection = Connection::connect(addr, config)
        .await
        .unwrap_or_else(|error| panic!("connect to {addr}: {error}"));
    let metadata = connection.send(MetadataRequest::default()).await.unwrap();
    let ids: Vec<i32> = metadata.brokers.iter().map(|b| b.node_id).collect();
    assert_eq!(ids, vec![env().broker_ids[0] as i32], "{metadata:?}");
    connection
}

#[test]
fn plaintext_negotiates_sensible_versions_and_metadata_returns_the_broker() {
    let env = env();
    run(async {
        let config = base(SecurityProtocol::Plaintext).build().unwrap();
        let connection = connect_and_fetch_metadata(&env.bootstrap_plaintext, &config).await;
        let versions = connection.api_versions();
        // Kafka 3.9 and 4.x know ApiVersions v3+ (client software name) and Metadata v12+.
        assert!(versions.choose(ApiKey::ApiVersions).unwrap() >= 3);
        let metadata = versions.choose(ApiKey::Metadata).unwrap();
        let broker = versions.broker_range(ApiKey::Metadata).unwrap();
        assert_eq!(metadata, broker.max.min(ApiKey::Metadata.versions().max));
        assert!(metadata >= 12, "Metadata v{metadata}");
        // The broker lists dozens of APIs; a controller-only one (Vote) is not among them.
        assert!(versions.broker_ranges().count() > 30);
        assert!(matches!(
            versions.choose(ApiKey::Vote),
            Err(NetError::UnsupportedVersion {
                broker_range: None,
                ..
            })
        ));
        let metrics = connection.metrics();
        assert_eq!(metrics.api(ApiKey::Metadata).responses, 1);
        // A broker older than our newest ApiVersions (3.9.2 knows v0-4) refuses the first
        // attempt, telling us its range, and answers the second.
        let broker_api_versions = versions.broker_range(ApiKey::ApiVersions).unwrap();
        let attempts = if broker_api_versions.max < ApiKey::ApiVersions.versions().max {
            2
        } else {
            1
        };
        assert_eq!(metrics.api(ApiKey::ApiVersions).responses, attempts);
    });
}

#[test]
fn ssl_with_the_ca_connects_and_mutual_tls_with_a_client_certificate_too() {
    let env = env();
    let tls = env.tls.as_ref().unwrap();
    let addr = env.bootstrap_ssl.as_deref().unwrap();
    run(async {
        let config = with_ca(base(SecurityProtocol::Ssl)).build().unwrap();
        connect_and_fetch_metadata(addr, &config).await;
        let mtls = with_ca(base(SecurityProtocol::Ssl))
            .ssl_certfile(&tls.client_cert_file)
            .ssl_keyfile(&tls.client_key_file)
            .build()
            .unwrap();
        connect_and_fetch_metadata(addr, &mtls).await;
    });
}

#[test]
fn sasl_plaintext_authenticates_with_plain_and_both_scram_mechanisms() {
    let env = env();
    let addr = env.bootstrap_sasl_plaintext.as_deref().unwrap();
    run(async {
        for mechanism in [
            SaslMechanism::Plain,
            SaslMechanism::ScramSha256,
            SaslMechanism::ScramSha512,
        ] {
            let config = with_user(base(SecurityProtocol::SaslPlaintext), mechanism, None)
                .build()
                .unwrap();
            connect_and_fetch_metadata(addr, &config).await;
        }
    });
}

#[test]
fn sasl_ssl_authenticates_with_scram_sha_512() {
    let env = env();
    let addr = env.bootstrap_sasl_ssl.as_deref().unwrap();
    run(async {
        let config = with_user(
            with_ca(base(SecurityProtocol::SaslSsl)),
            SaslMechanism::ScramSha512,
            None,
        )
        .build()
        .unwrap();
        connect_and_fetch_metadata(addr, &config).await;
    });
}

#[test]
fn wrong_password_fails_with_the_brokers_message() {
    let env = env();
    let addr = env.bootstrap_sasl_plaintext.as_deref().unwrap();
    run(async {
        for mechanism in [SaslMechanism::Plain, SaslMechanism::ScramSha256] {
            let config = with_user(
                base(SecurityProtocol::SaslPlaintext),
                mechanism,
                Some("definitely-wrong"),
            )
            .build()
            .unwrap();
            let error = Connection::connect(addr, &config).await.unwrap_err();
            match &error {
                NetError::AuthenticationFailed {
                    error_code,
                    message,
                    mechanism: used,
                    ..
                } => {
                    assert_eq!(*error_code, ErrorCode::SaslAuthenticationFailed);
                    assert_eq!(used, mechanism.name());
                    let message = message.as_deref().unwrap_or_default();
                    assert!(message.contains("Authentication failed"), "{message}");
                }
                other => panic!("{mechanism}: {other}"),
            }
            assert!(!error.to_string().contains("definitely-wrong"), "{error}");
            assert!(!error.is_retriable());
        }
    });
}

#[test]
fn mechanism_the_broker_does_not_enable_lists_the_ones_it_does() {
    let env = env();
    let addr = env.bootstrap_sasl_plaintext.as_deref().unwrap();
    run(async {
        let config = base(SecurityProtocol::SaslPlaintext)
            .sasl_oauth_token_provider(|| async { Ok(Secret::new("not-a-jwt")) })
            .build()
            .unwrap();
        let error = Connection::connect(addr, &config).await.unwrap_err();
        match &error {
            NetError::UnsupportedSaslMechanism {
                mechanism, enabled, ..
            } => {
                assert_eq!(mechanism, "OAUTHBEARER");
                assert!(enabled.iter().any(|m| m == "SCRAM-SHA-512"), "{enabled:?}");
            }
            other => panic!("{other}"),
        }
    });
}

#[test]
fn untrusted_ca_is_a_chain_error() {
    let env = env();
    let tls = env.tls.as_ref().unwrap();
    run(async {
        let config = base(SecurityProtocol::Ssl)
            .ssl_cafile(&tls.untrusted_ca_file)
            .build()
            .unwrap();
        let error = Connection::connect(env.bootstrap_ssl.as_deref().unwrap(), &config)
            .await
            .unwrap_err();
        assert!(
            matches!(
                error,
                NetError::Tls {
                    kind: TlsFailure::UntrustedCertificate,
                    ..
                }
            ),
            "{error}"
        );
    });
}

/// `ssl_crlfile` checks the broker's chain: a CRL revoking nothing or only the client
/// certificate lets the handshake through, one revoking the broker certificate stops it with
/// its own error kind.
#[test]
fn crl_file_refuses_a_revoked_broker_certificate_and_accepts_others() {
    let env = env();
    let tls = env.tls.as_ref().unwrap();
    let crls = tls
        .crls
        .as_ref()
        .expect("cluster.env predates the harness CRLs: cargo xtask kafka down, then up");
    let addr = env.bootstrap_ssl.as_deref().unwrap();
    let with_crl = |crl: &std::path::Path| {
        with_ca(base(SecurityProtocol::Ssl))
            .ssl_crlfile(crl)
            .build()
            .unwrap()
    };
    run(async {
        connect_and_fetch_metadata(addr, &with_crl(&crls.empty)).await;
        // Client-side CRLs are about the broker's chain; mutual TLS still works with a
        // client certificate the CRL revokes, because the broker does not read it.
        let mutual = with_ca(base(SecurityProtocol::Ssl))
            .ssl_crlfile(&crls.client_revoked)
            .ssl_certfile(&tls.client_cert_file)
            .ssl_keyfile(&tls.client_key_file)
            .build()
            .unwrap();
        connect_and_fetch_metadata(addr, &mutual).await;

        let error = Connection::connect(addr, &with_crl(&crls.broker_revoked))
            .await
            .unwrap_err();
        match &error {
            NetError::Tls {
                kind: TlsFailure::CertificateRevoked,
                ..
            } => {}
            other => panic!("expected a revoked certificate, got {other}"),
        }
        let text = error.to_string();
        assert!(text.contains("revoked"), "{text}");
        assert!(!error.is_retriable(), "{text}");
    });
}

#[test]
fn hostname_mismatch_is_its_own_error_and_check_hostname_off_accepts_it() {
    let env = env();
    let addr = env.bootstrap_ssl.as_deref().unwrap();
    run(async {
        let config = with_ca(base(SecurityProtocol::Ssl))
            .ssl_server_name("kafka.not-in-the-san.example")
            .build()
            .unwrap();
        let error = Connection::connect(addr, &config).await.unwrap_err();
        assert!(
            matches!(
                error,
                NetError::Tls {
                    kind: TlsFailure::HostnameMismatch,
                    ..
                }
            ),
            "{error}"
        );
        // Without the name check the chain is still verified, so the right CA connects…
        let relaxed = with_ca(base(SecurityProtocol::Ssl))
            .ssl_server_name("kafka.not-in-the-san.example")
            .ssl_check_hostname(false)
            .build()
            .unwrap();
        connect_and_fetch_metadata(addr, &relaxed).await;
        // …and the wrong one does not.
        let untrusted = base(SecurityProtocol::Ssl)
            .ssl_cafile(&env.tls.as_ref().unwrap().untrusted_ca_file)
            .ssl_check_hostname(false)
            .build()
            .unwrap();
        let error = Connection::connect(addr, &untrusted).await.unwrap_err();
        assert!(
            matches!(
                error,
                NetError::Tls {
                    kind: TlsFailure::UntrustedCertificate,
                    ..
                }
            ),
            "{error}"
        );
    });
}

#[test]
fn client_certificate_from_an_unknown_ca_is_rejected_by_the_broker() {
    let env = env();
    let tls = env.tls.as_ref().unwrap();
    run(async {
        let config = with_ca(base(SecurityProtocol::Ssl))
            .ssl_certfile(&tls.untrusted_client_cert_file)
            .ssl_keyfile(&tls.untrusted_client_key_file)
            .build()
            .unwrap();
        let error = Connection::connect(env.bootstrap_ssl.as_deref().unwrap(), &config)
            .await
            .unwrap_err();
        assert!(
            matches!(
                error,
                NetError::Tls {
                    kind: TlsFailure::ClientCertificateRejected,
                    ..
                }
            ),
            "{error}"
        );
    });
}

#[test]
fn mutual_tls_with_an_encrypted_client_key_needs_its_password() {
    let env = env();
    let tls = env.tls.as_ref().unwrap();
    let addr = env.bootstrap_ssl.as_deref().unwrap();
    let dir = std::env::temp_dir().join(format!("klamm-net-enc-key-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let encrypted = dir.join("client-enc.key");
    let status = std::process::Command::new("openssl")
        .args(["pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in"])
        .arg(&tls.client_key_file)
        .arg("-out")
        .arg(&encrypted)
        .args(["-passout", "pass:secret"])
        .status()
        .expect("openssl runs");
    assert!(status.success());
    let pem = std::fs::read_to_string(&encrypted).unwrap();
    assert!(pem.contains("BEGIN ENCRYPTED PRIVATE KEY"), "{pem}");
    let mtls = |password: &str| {
        with_ca(base(SecurityProtocol::Ssl))
            .ssl_certfile(&tls.client_cert_file)
            .ssl_keyfile(&encrypted)
            .ssl_password(password)
    };
    run(async {
        let config = mtls("secret").build().unwrap();
        connect_and_fetch_metadata(addr, &config).await;

        // The TLS configuration may be checked when building or when connecting.
        let error = match mtls("not-the-secret").build() {
            Err(error) => error,
            Ok(config) => Connection::connect(addr, &config).await.unwrap_err(),
        };
        assert!(
            matches!(&error, NetError::WrongKeyPassword { keyfile } if *keyfile == encrypted),
            "{error:?}"
        );
        let text = error.to_string();
        assert!(text.contains(&encrypted.display().to_string()), "{text}");
        assert!(!text.contains("not-the-secret"), "{text}");
    });
    std::fs::remove_dir_all(&dir).ok();
}
