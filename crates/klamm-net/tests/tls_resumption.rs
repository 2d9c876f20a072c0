//! TLS sessions resume across reconnects: the rustls configuration (and its session cache) is
//! built once per connection configuration.
//!
//! Kafka's broker (JDK 17's TLS) never resumes a session, whatever the client (OpenSSL's
//! `s_client -sess_in` gets a full handshake from it too), so the proof puts a TLS terminator
//! that does resume (rustls, with the harness's broker certificate) in front of the real
//! broker's PLAINTEXT listener: Klamm speaks Kafka over TLS through it to the real broker.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use klamm_net::{Connection, ConnectionConfig, SecurityProtocol};
use klamm_protocol::messages::MetadataRequest;
use klamm_test_harness::{shared, Profile};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};

/// Accepts TLS on an ephemeral port and forwards the plaintext to `upstream`; counts the
/// handshakes that resumed a session.
async fn tls_terminator(upstream: String, resumed: Arc<AtomicUsize>) -> SocketAddr {
    let env = shared(Profile::Single);
    let dir = env
        .tls
        .as_ref()
        .unwrap()
        .ca_file
        .parent()
        .unwrap()
        .to_owned();
    let certs = CertificateDer::pem_file_iter(dir.join("broker.crt"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(dir.join("broker.key")).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let (acceptor, upstream, resumed) =
                (acceptor.clone(), upstream.clone(), resumed.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(socket).await else {
                    return;
                };
                if tls.get_ref().1.handshake_kind() == Some(rustls::HandshakeKind::Resumed) {
                    resumed.fetch_add(1, Ordering::SeqCst);
                }
                let mut broker = TcpStream::connect(&upstream).await.unwrap();
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut broker).await;
            });
        }
    });
    addr
}

async fn connect(addr: &str, config: &ConnectionConfig) -> Connection {
    let connection = Connection::connect(addr, config).await.unwrap();
    // A real broker behind the terminator answers; reading its answer also takes in the
    // session ticket the terminator sent after the handshake.
    let metadata = connection.send(MetadataRequest::default()).await.unwrap();
    assert!(!metadata.brokers.is_empty());
    connection
}

#[tokio::test]
async fn a_reconnect_with_the_same_settings_resumes_the_tls_session() {
    let env = shared(Profile::Single);
    let resumed = Arc::new(AtomicUsize::new(0));
    let terminator = tls_terminator(env.bootstrap_plaintext.clone(), resumed.clone()).await;
    let addr = format!("localhost:{}", terminator.port());
    let settings = || {
        ConnectionConfig::builder()
            .security_protocol(SecurityProtocol::Ssl)
            .ssl_cafile(&env.tls.as_ref().unwrap().ca_file)
            .request_timeout(Duration::from_secs(15))
            .build()
            .unwrap()
    };
    let config = settings();
    let first = connect(&addr, &config).await;
    assert_eq!(first.tls_session().map(|s| s.resumed), Some(false));
    first.close();
    let second = connect(&addr, &config).await;
    assert_eq!(second.tls_session().map(|s| s.resumed), Some(true));
    assert_eq!(
        resumed.load(Ordering::SeqCst),
        1,
        "the server saw it resume too"
    );
    // Settings built anew share no session cache: a full handshake again.
    let third = connect(&addr, &settings()).await;
    assert_eq!(third.tls_session().map(|s| s.resumed), Some(false));
    assert_eq!(resumed.load(Ordering::SeqCst), 1);
}
