//! Fault injection against an in-process fake broker that speaks just enough Kafka
//! (ApiVersions, Metadata) and misbehaves on cue: slow answers, out-of-order answers, unknown
//! correlation ids, garbage, truncated bodies, abrupt closes, silence.
//!
//! The fake is reached through a [`Connector`] that hands out in-memory pipes, so every test
//! runs on tokio's paused clock: the waits are virtual and the outcomes exact.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use klamm_net::{
    BrokerAddress, CloseReason, ConnectFuture, Connection, ConnectionConfig, Connector, NetError,
    Phase, RequestOptions, SaslMechanism, SecurityProtocol, Transport,
};
use klamm_protocol::messages::api_versions_response::ApiVersion;
use klamm_protocol::messages::metadata_response::MetadataResponseBroker;
use klamm_protocol::messages::{
    ApiVersionsResponse, CreateTopicsRequest, MetadataRequest, MetadataResponse, RequestHeader,
    ResponseHeader, SaslAuthenticateResponse, SaslHandshakeResponse,
};
use klamm_protocol::primitives::Decoder;
use klamm_protocol::{ApiKey, Decode, Encode, ErrorCode};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::Mutex;

/// What the fake does with the n-th Metadata request (0-based) of a connection.
#[derive(Debug, Clone)]
enum Action {
    Answer,
    AnswerAfter(Duration),
    AnswerWithCorrelationId(i32),
    TruncatedBody,
    Garbage(Vec<u8>),
    Close,
    /// Never answered.
    Ignore,
}

#[derive(Clone)]
struct Script {
    /// Highest ApiVersions version the fake understands.
    api_versions_max: i16,
    /// Whether ApiVersions is answered at all.
    answer_api_versions: bool,
    metadata: Arc<dyn Fn(usize) -> Action + Send + Sync>,
    /// `session_lifetime_ms` granted by SaslAuthenticate (PLAIN, any credentials).
    session_lifetime_ms: i64,
}

impl Default for Script {
    fn default() -> Self {
        Script {
            api_versions_max: ApiKey::ApiVersions.versions().max,
            answer_api_versions: true,
            metadata: Arc::new(|_| Action::Answer),
            session_lifetime_ms: 0,
        }
    }
}

struct FakeBroker {
    addr: String,
    connector: FakeConnector,
    /// Metadata requests received and not yet answered, and the most ever at once.
    outstanding: Arc<AtomicUsize>,
    max_outstanding: Arc<AtomicUsize>,
    /// SaslAuthenticate requests received.
    authentications: Arc<AtomicUsize>,
}

/// Connects to the fake: each connection is a fresh in-memory pipe with the fake serving the
/// other end.
#[derive(Clone)]
struct FakeConnector {
    script: Script,
    counters: Counters,
}

impl Connector for FakeConnector {
    fn connect<'a>(&'a self, _broker: &'a BrokerAddress) -> ConnectFuture<'a> {
        let (client, server) = tokio::io::duplex(64 * 1024);
        tokio::spawn(serve(server, self.script.clone(), self.counters.clone()));
        Box::pin(async move { Ok(Box::new(client) as Box<dyn Transport>) })
    }
}

async fn start(script: Script) -> FakeBroker {
    let addr = "fake:9092".to_owned();
    let outstanding = Arc::new(AtomicUsize::new(0));
    let max_outstanding = Arc::new(AtomicUsize::new(0));
    let authentications = Arc::new(AtomicUsize::new(0));
    let counters = Counters {
        outstanding: outstanding.clone(),
        max_outstanding: max_outstanding.clone(),
        authentications: authentications.clone(),
    };
    FakeBroker {
        addr,
        connector: FakeConnector { script, counters },
        outstanding,
        max_outstanding,
        authentications,
    }
}

fn frame(
    header: &ResponseHeader,
    header_version: i16,
    body: &impl Encode,
    version: i16,
) -> Vec<u8> {
    let mut buf = BytesMut::new();
    header.encode(&mut buf, header_version).unwrap();
    body.encode(&mut buf, version).unwrap();
    let mut out = (buf.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(&buf);
    out
}

#[derive(Clone)]
struct Counters {
    outstanding: Arc<AtomicUsize>,
    max_outstanding: Arc<AtomicUsize>,
    authentications: Arc<AtomicUsize>,
}

async fn serve<S>(socket: S, script: Script, counters: Counters)
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let Counters {
        outstanding,
        max_outstanding,
        authentications,
    } = counters;
    let (mut read, write) = tokio::io::split(socket);
    let write = Arc::new(Mutex::new(write));
    let mut metadata_count = 0;
    loop {
        let mut len = [0u8; 4];
        if read.read_exact(&mut len).await.is_err() {
            return;
        }
        let mut payload = vec![0u8; u32::from_be_bytes(len) as usize];
        if read.read_exact(&mut payload).await.is_err() {
            return;
        }
        let payload = Bytes::from(payload);
        let api = ApiKey::from_key(i16::from_be_bytes([payload[0], payload[1]])).unwrap();
        let version = i16::from_be_bytes([payload[2], payload[3]]);
        let mut decoder = Decoder::new(&payload);
        let header =
            RequestHeader::decode(&mut decoder, api.request_header_version(version)).unwrap();
        let response_header = ResponseHeader::default().with_correlation_id(header.correlation_id);
        let header_version = api.response_header_version(version);
        let bytes = match api {
            ApiKey::ApiVersions if !script.answer_api_versions => continue,
            ApiKey::ApiVersions if version > script.api_versions_max => {
                // What a real broker does: error 35 in a v0 body listing what it knows.
                let body = ApiVersionsResponse::default()
                    .with_error_code(ErrorCode::UnsupportedVersion.code())
                    .with_api_keys(vec![ApiVersion::default()
                        .with_api_key(ApiKey::ApiVersions.key())
                        .with_min_version(0)
                        .with_max_version(script.api_versions_max)]);
                frame(&response_header, 0, &body, 0)
            }
            ApiKey::ApiVersions => {
                let api_keys = [
                    ApiKey::ApiVersions,
                    ApiKey::Metadata,
                    ApiKey::SaslHandshake,
                    ApiKey::SaslAuthenticate,
                ]
                .iter()
                .map(|api| {
                    ApiVersion::default()
                        .with_api_key(api.key())
                        .with_min_version(0)
                        .with_max_version(if *api == ApiKey::ApiVersions {
                            script.api_versions_max
                        } else {
                            api.versions().max
                        })
                })
                .collect();
                let body = ApiVersionsResponse::default().with_api_keys(api_keys);
                frame(&response_header, header_version, &body, version)
            }
            ApiKey::Metadata => {
                let action = (script.metadata)(metadata_count);
                metadata_count += 1;
                let body = MetadataResponse::default().with_brokers(vec![
                    MetadataResponseBroker::default()
                        .with_node_id(1)
                        .with_host("fake".into())
                        .with_port(9092),
                ]);
                let answer = frame(&response_header, header_version, &body, version);
                let now = outstanding.fetch_add(1, Ordering::SeqCst) + 1;
                max_outstanding.fetch_max(now, Ordering::SeqCst);
                let (write, outstanding) = (write.clone(), outstanding.clone());
                match action {
                    Action::Answer | Action::AnswerAfter(_) => {
                        // Answered from a task, so a slow answer is overtaken by later ones.
                        let delay = match action {
                            Action::AnswerAfter(delay) => delay,
                            _ => Duration::from_millis(20),
                        };
                        tokio::spawn(async move {
                            tokio::time::sleep(delay).await;
                            outstanding.fetch_sub(1, Ordering::SeqCst);
                            let _ = write.lock().await.write_all(&answer).await;
                        });
                        continue;
                    }
                    Action::AnswerWithCorrelationId(id) => {
                        let wrong = ResponseHeader::default().with_correlation_id(id);
                        frame(&wrong, header_version, &body, version)
                    }
                    Action::TruncatedBody => {
                        let mut short = answer[4..answer.len() - 3].to_vec();
                        let mut out = (short.len() as u32).to_be_bytes().to_vec();
                        out.append(&mut short);
                        out
                    }
                    Action::Garbage(bytes) => bytes,
                    Action::Close => return,
                    Action::Ignore => continue,
                }
            }
            ApiKey::SaslHandshake => {
                let body = SaslHandshakeResponse::default()
                    .with_mechanisms(vec!["PLAIN".into(), "OAUTHBEARER".into()]);
                frame(&response_header, header_version, &body, version)
            }
            ApiKey::SaslAuthenticate => {
                authentications.fetch_add(1, Ordering::SeqCst);
                let body = SaslAuthenticateResponse::default()
                    .with_session_lifetime_ms(script.session_lifetime_ms);
                frame(&response_header, header_version, &body, version)
            }
            other => panic!("the fake broker does not speak {other}"),
        };
        if write.lock().await.write_all(&bytes).await.is_err() {
            return;
        }
    }
}

fn config(broker: &FakeBroker) -> ConnectionConfig {
    ConnectionConfig::builder()
        .request_timeout(Duration::from_secs(5))
        .connector(broker.connector.clone())
        .build()
        .unwrap()
}

async fn connect(script: Script) -> (FakeBroker, Connection) {
    let broker = start(script).await;
    let connection = Connection::connect(&broker.addr, &config(&broker))
        .await
        .unwrap();
    (broker, connection)
}

fn script(metadata: impl Fn(usize) -> Action + Send + Sync + 'static) -> Script {
    Script {
        metadata: Arc::new(metadata),
        ..Default::default()
    }
}

#[tokio::test(start_paused = true)]
async fn slow_response_times_out_only_that_request_and_its_late_answer_is_discarded() {
    let (_broker, connection) = connect(script(|n| match n {
        0 => Action::AnswerAfter(Duration::from_millis(600)),
        _ => Action::Answer,
    }))
    .await;
    let options = RequestOptions {
        timeout: Some(Duration::from_millis(150)),
        ..Default::default()
    };
    let error = connection
        .send_with(MetadataRequest::default(), options)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            NetError::Timeout {
                phase: Phase::Request(ApiKey::Metadata),
                ..
            }
        ),
        "{error}"
    );
    // The next request is answered (before the slow one: the fake answers out of order).
    let metadata = connection.send(MetadataRequest::default()).await.unwrap();
    assert_eq!(metadata.brokers[0].host, "fake");
    // After the late answer arrives and is dropped, the connection still works.
    tokio::time::sleep(Duration::from_millis(600)).await;
    connection.send(MetadataRequest::default()).await.unwrap();
    assert!(!connection.is_closed());
    let metrics = connection.metrics();
    let metadata_metrics = metrics.api(ApiKey::Metadata);
    assert_eq!(
        (metadata_metrics.requests, metadata_metrics.responses),
        (3, 3)
    );
    assert_eq!(metadata_metrics.timeouts, 1);
    assert_eq!(metrics.in_flight, 0);
    assert!(metrics.bytes_sent > 0 && metrics.bytes_received > 0);
}

#[tokio::test(start_paused = true)]
async fn unanswered_requests_free_their_slots_and_a_silent_broker_is_disconnected() {
    let (_broker, connection) = connect(script(|_| Action::Ignore)).await;
    let started = tokio::time::Instant::now();
    let options = RequestOptions {
        timeout: Some(Duration::from_secs(1)),
        ..Default::default()
    };
    // Twice max_in_flight requests, none answered: each times out on its own deadline.
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let connection = connection.clone();
            tokio::spawn(async move {
                connection
                    .send_with(MetadataRequest::default(), options)
                    .await
            })
        })
        .collect();
    for task in tasks {
        let error = task.await.unwrap().unwrap_err();
        assert!(matches!(error, NetError::Timeout { .. }), "{error}");
    }
    assert_eq!(started.elapsed(), Duration::from_secs(1));
    assert_eq!(connection.metrics().in_flight, 0);
    // request_timeout (5 s) after the first unanswered request, the connection gives up.
    tokio::time::sleep_until(started + Duration::from_millis(4999)).await;
    assert!(!connection.is_closed());
    tokio::time::sleep_until(started + Duration::from_millis(5001)).await;
    assert!(
        matches!(connection.close_reason(), Some(CloseReason::Unresponsive(after)) if after == Duration::from_secs(5)),
        "{:?}",
        connection.close_reason()
    );
}

#[tokio::test(start_paused = true)]
async fn unknown_correlation_id_closes_the_connection_with_a_clear_error() {
    let (_broker, connection) = connect(script(|_| Action::AnswerWithCorrelationId(4242))).await;
    let error = connection
        .send(MetadataRequest::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error.root_cause(),
            NetError::UnknownCorrelationId {
                correlation_id: 4242,
                ..
            }
        ),
        "{error}"
    );
    assert!(error.to_string().contains("correlation id 4242"), "{error}");
    assert!(connection.is_closed());
    let next = connection
        .send(MetadataRequest::default())
        .await
        .unwrap_err();
    assert!(matches!(next, NetError::ConnectionClosed { .. }), "{next}");
}

#[tokio::test(start_paused = true)]
async fn abrupt_close_mid_request_fails_it_as_peer_closed() {
    let (_broker, connection) = connect(script(|_| Action::Close)).await;
    let error = connection
        .send(MetadataRequest::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            NetError::ConnectionClosed {
                reason: CloseReason::PeerClosed,
                ..
            }
        ),
        "{error}"
    );
    assert!(error.is_retriable());
}

#[tokio::test(start_paused = true)]
async fn garbage_length_prefix_is_rejected_as_too_large() {
    let (_broker, connection) = connect(script(|_| {
        Action::Garbage(vec![0x7f, 0xff, 0xff, 0xff, 1, 2])
    }))
    .await;
    let error = connection
        .send(MetadataRequest::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error.root_cause(),
            NetError::FrameTooLarge {
                size: 0x7fff_ffff,
                ..
            }
        ),
        "{error}"
    );
}

#[tokio::test(start_paused = true)]
async fn truncated_body_fails_only_that_request() {
    let (_broker, connection) = connect(script(|n| match n {
        0 => Action::TruncatedBody,
        _ => Action::Answer,
    }))
    .await;
    let error = connection
        .send(MetadataRequest::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            NetError::MalformedFrame {
                what: "MetadataResponse",
                ..
            }
        ),
        "{error}"
    );
    connection.send(MetadataRequest::default()).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn many_tasks_pipeline_within_max_in_flight() {
    let broker = start(Script::default()).await;
    let config = ConnectionConfig::builder()
        .connector(broker.connector.clone())
        .max_in_flight_requests_per_connection(3)
        .build()
        .unwrap();
    let connection = Connection::connect(&broker.addr, &config).await.unwrap();
    let tasks: Vec<_> = (0..12)
        .map(|_| {
            let connection = connection.clone();
            tokio::spawn(async move { connection.send(MetadataRequest::default()).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let max = broker.max_outstanding.load(Ordering::SeqCst);
    assert!(max >= 2, "requests were not pipelined (max {max} at once)");
    assert!(max <= 3, "{max} requests in flight, limit is 3");
    assert_eq!(broker.outstanding.load(Ordering::SeqCst), 0);
}

#[tokio::test(start_paused = true)]
async fn dropping_a_request_future_leaves_the_connection_usable() {
    let (broker, connection) = connect(script(|n| match n {
        0 => Action::AnswerAfter(Duration::from_millis(300)),
        _ => Action::Answer,
    }))
    .await;
    tokio::select! {
        _ = connection.send(MetadataRequest::default()) => panic!("answered too early"),
        _ = tokio::time::sleep(Duration::from_millis(50)) => {}
    }
    assert_eq!(broker.outstanding.load(Ordering::SeqCst), 1);
    connection.send(MetadataRequest::default()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    connection.send(MetadataRequest::default()).await.unwrap();
    assert_eq!(connection.metrics().in_flight, 0);
}

#[tokio::test(start_paused = true)]
async fn api_versions_falls_back_when_the_broker_knows_only_older_versions() {
    let (_broker, connection) = connect(Script {
        api_versions_max: 2,
        ..Default::default()
    })
    .await;
    assert_eq!(connection.version_for(ApiKey::ApiVersions).unwrap(), 2);
    assert_eq!(
        connection.version_for(ApiKey::Metadata).unwrap(),
        ApiKey::Metadata.versions().max
    );
    // The fake lists no CreateTopics: a typed error, before anything is sent.
    let error = connection
        .send(CreateTopicsRequest::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            NetError::UnsupportedVersion {
                api: ApiKey::CreateTopics,
                broker_range: None,
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(connection.metrics().api(ApiKey::ApiVersions).requests, 2);
}

#[tokio::test(start_paused = true)]
async fn silent_broker_times_out_in_the_api_versions_phase() {
    let broker = start(Script {
        answer_api_versions: false,
        ..Default::default()
    })
    .await;
    let config = ConnectionConfig::builder()
        .connector(broker.connector.clone())
        .api_version_auto_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let started = tokio::time::Instant::now();
    let error = Connection::connect(&broker.addr, &config)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            NetError::Timeout {
                phase: Phase::ApiVersions,
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(started.elapsed(), Duration::from_millis(200));
}

#[tokio::test(start_paused = true)]
async fn idle_connection_closes_after_connections_max_idle() {
    let broker = start(Script::default()).await;
    let config = ConnectionConfig::builder()
        .connector(broker.connector.clone())
        .connections_max_idle(Duration::from_millis(200))
        .build()
        .unwrap();
    let connection = Connection::connect(&broker.addr, &config).await.unwrap();
    connection.send(MetadataRequest::default()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        matches!(connection.close_reason(), Some(CloseReason::Idle(_))),
        "{:?}",
        connection.close_reason()
    );
}

#[tokio::test]
async fn refused_port_fails_fast_naming_the_address() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let addr = format!("127.0.0.1:{port}");
    let error = Connection::connect(&addr, &ConnectionConfig::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, NetError::Connect { addr: a, .. } if *a == addr),
        "{error}"
    );
    assert!(error.to_string().contains(&addr));
}

#[tokio::test(start_paused = true)]
async fn reauthenticates_before_the_session_lifetime_runs_out() {
    let broker = start(Script {
        session_lifetime_ms: 300,
        ..Default::default()
    })
    .await;
    let config = ConnectionConfig::builder()
        .connector(broker.connector.clone())
        .security_protocol(SecurityProtocol::SaslPlaintext)
        .sasl_mechanism(SaslMechanism::Plain)
        .sasl_plain_username("alice")
        .sasl_plain_password("pw")
        .build()
        .unwrap();
    let connection = Connection::connect(&broker.addr, &config).await.unwrap();
    assert_eq!(broker.authentications.load(Ordering::SeqCst), 1);
    // Requests keep flowing while sessions are renewed every 255–285 ms.
    for _ in 0..8 {
        connection.send(MetadataRequest::default()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let renewals = broker.authentications.load(Ordering::SeqCst) - 1;
    assert!((2..=4).contains(&renewals), "{renewals} re-authentications");
    assert!(!connection.is_closed());
}

#[tokio::test(start_paused = true)]
async fn client_side_sasl_step_that_never_finishes_times_out_in_the_sasl_phase() {
    let broker = start(Script::default()).await;
    // A token provider that never answers stands for any client-side step that hangs: an
    // identity provider, or a KDC that accepts the connection and stays silent (GSSAPI).
    let config = ConnectionConfig::builder()
        .connector(broker.connector.clone())
        .security_protocol(SecurityProtocol::SaslPlaintext)
        .request_timeout(Duration::from_millis(300))
        .sasl_oauth_token_provider(
            std::future::pending::<Result<klamm_net::Secret, klamm_net::sasl::BoxError>>,
        )
        .build()
        .unwrap();
    let started = tokio::time::Instant::now();
    let error = Connection::connect(&broker.addr, &config)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            NetError::Timeout {
                phase: Phase::Sasl,
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(started.elapsed(), Duration::from_millis(300));
    assert_eq!(broker.authentications.load(Ordering::SeqCst), 0);
}
