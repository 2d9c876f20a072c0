//! The engine driven by a scripted broker and a fake clock: no socket, no sleep.

// Messages are built by setting fields on a default value, which keeps working once generated
// structs are `#[non_exhaustive]`.
#![allow(clippy::field_reassign_with_default)]

use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use klamm_protocol::messages::api_versions_response::ApiVersion;
use klamm_protocol::messages::{
    ApiVersionsRequest, ApiVersionsResponse, MetadataRequest, MetadataResponse, RequestHeader,
    ResponseHeader, SaslAuthenticateRequest, SaslAuthenticateResponse, SaslHandshakeRequest,
    SaslHandshakeResponse,
};
use klamm_protocol::primitives::Decoder;
use klamm_protocol::{ApiKey, Decode, Encode, ErrorCode, Message};

use super::*;
use crate::{ConnectionConfig, Phase};

const MS: Duration = Duration::from_millis(1);

/// A request as the broker reads it.
struct Received {
    api: ApiKey,
    version: i16,
    correlation_id: i32,
    body: Bytes,
}

/// The broker side of the test: reads what the engine wrote, writes what the test says.
struct Broker {
    engine: ConnectionState,
    now: Instant,
}

impl Broker {
    fn new(config: ConnectionConfig) -> Self {
        let now = Instant::now();
        let engine = ConnectionState::new(now, EngineConfig::new("b:9092", &config, 7));
        Broker { engine, now }
    }

    /// Connects without SASL: answers ApiVersions with every API this build knows.
    fn ready(config: ConnectionConfig) -> Self {
        let mut broker = Broker::new(config);
        let api_versions = broker.receive_one();
        assert_eq!(api_versions.api, ApiKey::ApiVersions);
        broker.answer(&api_versions, &all_apis());
        assert!(matches!(broker.engine.poll_event(), Some(Event::Ready)));
        broker
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
        self.engine.handle_timeout(self.now);
    }

    /// Every frame the engine wrote since the last call, decoded.
    fn receive(&mut self) -> Vec<Received> {
        let mut received = Vec::new();
        while let Some(frame) = self.engine.poll_transmit() {
            received.push(decode_request(frame));
        }
        received
    }

    fn receive_one(&mut self) -> Received {
        let mut all = self.receive();
        assert_eq!(all.len(), 1, "expected exactly one request");
        all.remove(0)
    }

    fn answer(&mut self, request: &Received, body: &impl Encode) {
        let frame = response_frame(request.correlation_id, request.api, request.version, body);
        self.engine.handle_input(self.now, &frame);
    }

    fn send_metadata(&mut self, timeout: Duration) -> CorrelationId {
        let request = EncodedRequest::new(
            ApiKey::Metadata,
            12,
            "klamm-test",
            &MetadataRequest::default(),
        )
        .unwrap();
        self.engine
            .send_request(self.now, request, timeout)
            .unwrap()
    }

    fn events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.engine.poll_event()).collect()
    }
}

fn decode_request(frame: Bytes) -> Received {
    let size = u32::from_be_bytes(frame[..4].try_into().unwrap()) as usize;
    assert_eq!(size, frame.len() - 4, "length prefix");
    let payload = frame.slice(4..);
    let api = ApiKey::from_key(i16::from_be_bytes([payload[0], payload[1]])).unwrap();
    let version = i16::from_be_bytes([payload[2], payload[3]]);
    let mut decoder = Decoder::new(&payload);
    let header = RequestHeader::decode(&mut decoder, api.request_header_version(version)).unwrap();
    let body = payload.slice(payload.len() - decoder.remaining()..);
    Received {
        api,
        version,
        correlation_id: header.correlation_id,
        body,
    }
}

fn response_frame(correlation_id: i32, api: ApiKey, version: i16, body: &impl Encode) -> Vec<u8> {
    let mut header = ResponseHeader::default();
    header.correlation_id = correlation_id;
    let mut payload = BytesMut::new();
    header
        .encode(&mut payload, api.response_header_version(version))
        .unwrap();
    body.encode(&mut payload, version).unwrap();
    let mut frame = Vec::with_capacity(payload.len() + 4);
    frame.put_u32(payload.len() as u32);
    frame.extend_from_slice(&payload);
    frame
}

fn all_apis() -> ApiVersionsResponse {
    let mut response = ApiVersionsResponse::default();
    response.api_keys = ApiKey::ALL
        .iter()
        .map(|api| {
            let mut entry = ApiVersion::default();
            entry.api_key = api.key();
            entry.min_version = api.versions().min;
            entry.max_version = api.versions().max;
            entry
        })
        .collect();
    response
}

fn metadata_answer(host: &str) -> MetadataResponse {
    let mut response = MetadataResponse::default();
    response.cluster_id = Some(host.into());
    response
}

fn responses(events: Vec<Event>) -> Vec<(CorrelationId, Result<Bytes, NetError>)> {
    events
        .into_iter()
        .filter_map(|event| match event {
            Event::Response {
                correlation_id,
                result,
            } => Some((correlation_id, result)),
            _ => None,
        })
        .collect()
}

fn cluster_id(body: &Bytes) -> String {
    MetadataResponse::from_bytes(body, 12)
        .unwrap()
        .cluster_id
        .unwrap()
        .to_string()
}

#[test]
fn the_first_request_is_api_versions_and_user_requests_wait_for_the_answer() {
    let mut broker = Broker::new(ConnectionConfig::default());
    let first = broker.receive_one();
    assert_eq!(first.api, ApiKey::ApiVersions);
    assert_eq!(first.version, ApiKey::ApiVersions.versions().max);
    let request = ApiVersionsRequest::from_bytes(&first.body, first.version).unwrap();
    assert_eq!(request.client_software_name.as_str(), "klamm");
    broker.send_metadata(Duration::from_secs(1));
    assert!(
        broker.receive().is_empty(),
        "held until the handshake is done"
    );
    broker.answer(&first, &all_apis());
    assert!(matches!(broker.engine.poll_event(), Some(Event::Ready)));
    assert_eq!(broker.receive_one().api, ApiKey::Metadata);
    assert_eq!(
        broker
            .engine
            .versions()
            .unwrap()
            .choose(ApiKey::Metadata)
            .unwrap(),
        ApiKey::Metadata.versions().max
    );
}

#[test]
fn api_versions_falls_back_to_the_version_the_broker_knows() {
    let mut broker = Broker::new(ConnectionConfig::default());
    let first = broker.receive_one();
    // A broker that knows ApiVersions up to v2 answers a newer request with a v0 error body.
    let mut refusal = ApiVersionsResponse::default();
    refusal.error_code = ErrorCode::UnsupportedVersion.code();
    let mut entry = ApiVersion::default();
    entry.api_key = ApiKey::ApiVersions.key();
    entry.max_version = 2;
    refusal.api_keys = vec![entry];
    let frame = response_frame(first.correlation_id, ApiKey::ApiVersions, 0, &refusal);
    broker.engine.handle_input(broker.now, &frame);
    let second = broker.receive_one();
    assert_eq!((second.api, second.version), (ApiKey::ApiVersions, 2));
    broker.answer(&second, &all_apis());
    assert!(matches!(broker.engine.poll_event(), Some(Event::Ready)));
}

#[test]
fn pipelined_requests_are_matched_by_id_even_out_of_order() {
    let mut broker = Broker::ready(ConnectionConfig::default());
    let ids: Vec<_> = (0..3)
        .map(|_| broker.send_metadata(Duration::from_secs(1)))
        .collect();
    let written = broker.receive();
    assert_eq!(written.len(), 3, "all three written at once");
    for (request, host) in written.iter().rev().zip(["c", "b", "a"]) {
        broker.answer(request, &metadata_answer(host));
    }
    let answers = responses(broker.events());
    let by_id: Vec<(CorrelationId, String)> = answers
        .into_iter()
        .map(|(id, result)| (id, cluster_id(&result.unwrap())))
        .collect();
    assert_eq!(
        by_id,
        vec![
            (ids[2], "c".to_owned()),
            (ids[1], "b".to_owned()),
            (ids[0], "a".to_owned())
        ]
    );
    assert_eq!(broker.engine.in_flight(), 0);
}

#[test]
fn requests_beyond_max_in_flight_wait_for_a_slot() {
    let config = ConnectionConfig::builder()
        .max_in_flight_requests_per_connection(2)
        .build()
        .unwrap();
    let mut broker = Broker::ready(config);
    for _ in 0..3 {
        broker.send_metadata(Duration::from_secs(1));
    }
    let written = broker.receive();
    assert_eq!(written.len(), 2);
    assert_eq!(broker.engine.queued(), 1);
    broker.answer(&written[0], &metadata_answer("a"));
    assert_eq!(
        broker.receive().len(),
        1,
        "the freed slot goes to the queued one"
    );
}

#[test]
fn a_half_written_frame_is_completed_by_later_input() {
    let mut broker = Broker::ready(ConnectionConfig::default());
    let id = broker.send_metadata(Duration::from_secs(1));
    let request = broker.receive_one();
    let frame = response_frame(
        request.correlation_id,
        request.api,
        request.version,
        &metadata_answer("x"),
    );
    for byte in &frame[..frame.len() - 1] {
        broker
            .engine
            .handle_input(broker.now, std::slice::from_ref(byte));
        assert!(broker.engine.poll_event().is_none());
    }
    broker
        .engine
        .handle_input(broker.now, &frame[frame.len() - 1..]);
    let answers = responses(broker.events());
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0].0, id);
    assert_eq!(cluster_id(answers[0].1.as_ref().unwrap()), "x");
}

#[test]
fn an_unknown_correlation_id_closes_the_connection_and_fails_what_waits() {
    let mut broker = Broker::ready(ConnectionConfig::default());
    let id = broker.send_metadata(Duration::from_secs(1));
    broker.receive_one();
    let frame = response_frame(4242, ApiKey::Metadata, 12, &metadata_answer("x"));
    broker.engine.handle_input(broker.now, &frame);
    let events = broker.events();
    assert!(matches!(
        events.last(),
        Some(Event::Closed(CloseReason::Failed(error)))
            if matches!(**error, NetError::UnknownCorrelationId { correlation_id: 4242, in_flight: 1, .. })
    ));
    let answers = responses(events);
    assert_eq!(answers[0].0, id);
    let error = answers[0].1.as_ref().unwrap_err();
    assert!(
        matches!(error.root_cause(), NetError::UnknownCorrelationId { .. }),
        "{error}"
    );
    assert!(broker.engine.is_closed());
}

#[test]
fn an_oversized_or_negative_length_prefix_closes_before_anything_is_allocated() {
    for prefix in [(200 * 1024 * 1024u32).to_be_bytes(), (-1i32).to_be_bytes()] {
        let mut broker = Broker::ready(ConnectionConfig::default());
        broker.send_metadata(Duration::from_secs(1));
        broker.receive_one();
        broker.engine.handle_input(broker.now, &prefix);
        let events = broker.events();
        assert!(
            matches!(events.last(), Some(Event::Closed(CloseReason::Failed(error))) if matches!(**error, NetError::FrameTooLarge { .. })),
            "{events:?}"
        );
    }
}

#[test]
fn a_timed_out_request_frees_its_slot_and_its_late_answer_is_dropped() {
    let config = ConnectionConfig::builder()
        .max_in_flight_requests_per_connection(1)
        .build()
        .unwrap();
    let mut broker = Broker::ready(config);
    let slow = broker.send_metadata(100 * MS);
    let slow_request = broker.receive_one();
    let next = broker.send_metadata(Duration::from_secs(5));
    assert!(broker.receive().is_empty(), "the only slot is taken");
    assert_eq!(broker.engine.poll_timeout(), Some(broker.now + 100 * MS));
    broker.advance(100 * MS);
    let answers = responses(broker.events());
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0].0, slow);
    assert!(matches!(
        answers[0].1,
        Err(NetError::Timeout {
            phase: Phase::Request(ApiKey::Metadata),
            ..
        })
    ));
    let next_request = broker.receive_one();
    broker.answer(&slow_request, &metadata_answer("late"));
    broker.answer(&next_request, &metadata_answer("next"));
    let answers = responses(broker.events());
    assert_eq!(answers.len(), 1, "the late answer is dropped");
    assert_eq!(answers[0].0, next);
    assert!(!broker.engine.is_closed());
    let metrics = broker.engine.metrics();
    assert_eq!(metrics.api(ApiKey::Metadata).timeouts, 1);
    assert_eq!(metrics.api(ApiKey::Metadata).responses, 2);
}

#[test]
fn five_unanswered_requests_do_not_wedge_the_connection_a_silent_broker_closes_it() {
    let config = ConnectionConfig::builder()
        .request_timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let mut broker = Broker::ready(config);
    for _ in 0..5 {
        broker.send_metadata(Duration::from_secs(1));
    }
    assert_eq!(broker.receive().len(), 5);
    broker.advance(Duration::from_secs(1));
    assert_eq!(responses(broker.events()).len(), 5, "all five time out");
    assert_eq!(broker.engine.in_flight(), 0, "and free their slots");
    // A new request is written at once although the broker owes five answers.
    let sixth = broker.send_metadata(Duration::from_secs(60));
    assert_eq!(broker.receive().len(), 1);
    // The broker stays silent: request_timeout after the first unanswered request was written
    // the connection closes, and the sixth request fails with it.
    assert_eq!(
        broker.engine.poll_timeout(),
        Some(broker.now + Duration::from_secs(29))
    );
    broker.advance(Duration::from_secs(29));
    let events = broker.events();
    let answers = responses(events);
    assert_eq!(answers[0].0, sixth);
    assert!(matches!(
        &answers[0].1,
        Err(NetError::ConnectionClosed { reason: CloseReason::Unresponsive(after), .. })
            if *after == Duration::from_secs(30)
    ));
    assert!(broker.engine.is_closed());
}

#[test]
fn input_from_the_broker_postpones_the_unresponsive_close() {
    let config = ConnectionConfig::builder()
        .request_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut broker = Broker::ready(config);
    broker.send_metadata(Duration::from_secs(60));
    broker.send_metadata(Duration::from_secs(60));
    let written = broker.receive();
    broker.advance(Duration::from_secs(9));
    broker.answer(&written[0], &metadata_answer("a"));
    broker.advance(Duration::from_secs(9));
    assert!(!broker.engine.is_closed(), "the broker spoke 9 s ago");
    broker.advance(Duration::from_secs(1));
    assert!(broker.engine.is_closed());
}

#[test]
fn an_idle_connection_closes_after_max_idle_but_not_while_requests_wait() {
    let config = ConnectionConfig::builder()
        .connections_max_idle(Duration::from_secs(60))
        .build()
        .unwrap();
    let mut broker = Broker::ready(config);
    broker.advance(Duration::from_secs(50));
    let id = broker.send_metadata(Duration::from_secs(100));
    let request = broker.receive_one();
    broker.advance(Duration::from_secs(20));
    assert!(!broker.engine.is_closed(), "a request is in flight");
    broker.answer(&request, &metadata_answer("a"));
    assert_eq!(responses(broker.events())[0].0, id);
    assert_eq!(
        broker.engine.poll_timeout(),
        Some(broker.now + Duration::from_secs(60))
    );
    broker.advance(Duration::from_secs(60));
    assert!(matches!(
        broker.engine.close_reason(),
        Some(CloseReason::Idle(_))
    ));
}

#[test]
fn closing_fails_every_waiting_request_once_and_refuses_new_ones() {
    let config = ConnectionConfig::builder()
        .max_in_flight_requests_per_connection(1)
        .build()
        .unwrap();
    let mut broker = Broker::ready(config);
    let written = broker.send_metadata(Duration::from_secs(1));
    let queued = broker.send_metadata(Duration::from_secs(1));
    broker.receive_one();
    broker.engine.close();
    broker.engine.close();
    let events = broker.events();
    assert!(matches!(
        events.last(),
        Some(Event::Closed(CloseReason::ClosedByClient))
    ));
    let ids: Vec<_> = responses(events).into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, vec![written, queued]);
    let request =
        EncodedRequest::new(ApiKey::Metadata, 12, "t", &MetadataRequest::default()).unwrap();
    assert!(matches!(
        broker.engine.send_request(broker.now, request, MS),
        Err(NetError::ConnectionClosed {
            reason: CloseReason::ClosedByClient,
            ..
        })
    ));
    assert_eq!(broker.engine.poll_timeout(), None);
}

#[test]
fn the_peer_closing_mid_request_fails_it_as_peer_closed() {
    let mut broker = Broker::ready(ConnectionConfig::default());
    let id = broker.send_metadata(Duration::from_secs(1));
    let request = broker.receive_one();
    let frame = response_frame(
        request.correlation_id,
        request.api,
        request.version,
        &metadata_answer("x"),
    );
    broker.engine.handle_input(broker.now, &frame[..10]);
    broker.engine.handle_peer_closed();
    let answers = responses(broker.events());
    assert_eq!(answers[0].0, id);
    assert!(matches!(
        answers[0].1,
        Err(NetError::ConnectionClosed {
            reason: CloseReason::PeerClosed,
            ..
        })
    ));
}

#[test]
fn a_cancelled_request_gets_no_event_and_a_queued_one_is_never_written() {
    let config = ConnectionConfig::builder()
        .max_in_flight_requests_per_connection(1)
        .build()
        .unwrap();
    let mut broker = Broker::ready(config);
    let written = broker.send_metadata(Duration::from_secs(1));
    let queued = broker.send_metadata(Duration::from_secs(1));
    let request = broker.receive_one();
    broker.engine.cancel(written);
    broker.engine.cancel(queued);
    broker.answer(&request, &metadata_answer("a"));
    assert!(responses(broker.events()).is_empty());
    assert!(broker.receive().is_empty(), "the queued one was dropped");
}

#[test]
fn a_silent_broker_times_out_in_the_api_versions_phase() {
    let config = ConnectionConfig::builder()
        .api_version_auto_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let mut broker = Broker::new(config);
    broker.receive_one();
    assert_eq!(
        broker.engine.poll_timeout(),
        Some(broker.now + Duration::from_secs(2))
    );
    broker.advance(Duration::from_secs(2));
    assert!(matches!(
        broker.engine.close_reason(),
        Some(CloseReason::Failed(error))
            if matches!(**error, NetError::Timeout { phase: Phase::ApiVersions, .. })
    ));
}

fn sasl_config() -> ConnectionConfig {
    ConnectionConfig::builder()
        .security_protocol(crate::SecurityProtocol::SaslPlaintext)
        .sasl_mechanism(crate::SaslMechanism::Plain)
        .sasl_plain_username("alice")
        .sasl_plain_password("pw")
        .request_timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Runs the broker side of a PLAIN exchange after ApiVersions, granting `lifetime_ms`.
fn authenticate(broker: &mut Broker, lifetime_ms: i64) {
    let handshake = broker.receive_one();
    assert_eq!(handshake.api, ApiKey::SaslHandshake);
    let request = SaslHandshakeRequest::from_bytes(&handshake.body, handshake.version).unwrap();
    assert_eq!(request.mechanism.as_str(), "PLAIN");
    let mut accepted = SaslHandshakeResponse::default();
    accepted.mechanisms = vec!["PLAIN".into()];
    broker.answer(&handshake, &accepted);
    let step = broker.engine.poll_event();
    assert!(
        matches!(step, Some(Event::SaslStep { challenge: None })),
        "{step:?}"
    );
    broker
        .engine
        .handle_sasl_step(broker.now, Ok(Some(b"\0alice\0pw".to_vec())));
    let authenticate = broker.receive_one();
    assert_eq!(authenticate.api, ApiKey::SaslAuthenticate);
    let request =
        SaslAuthenticateRequest::from_bytes(&authenticate.body, authenticate.version).unwrap();
    assert_eq!(request.auth_bytes.as_ref(), b"\0alice\0pw");
    let mut granted = SaslAuthenticateResponse::default();
    granted.session_lifetime_ms = lifetime_ms;
    broker.answer(&authenticate, &granted);
    let step = broker.engine.poll_event();
    assert!(
        matches!(step, Some(Event::SaslStep { challenge: Some(_) })),
        "{step:?}"
    );
    broker.engine.handle_sasl_step(broker.now, Ok(None));
}

#[test]
fn sasl_runs_after_api_versions_and_reauthenticates_before_the_session_expires() {
    let mut broker = Broker::new(sasl_config());
    let api_versions = broker.receive_one();
    broker.answer(&api_versions, &all_apis());
    authenticate(&mut broker, 100_000);
    assert!(matches!(broker.engine.poll_event(), Some(Event::Ready)));
    // Re-authentication is due between 85 and 95 s into the 100 s session.
    let due = broker.engine.poll_timeout().unwrap() - broker.now;
    assert!(
        (Duration::from_secs(85)..=Duration::from_secs(95)).contains(&due),
        "{due:?}"
    );
    // A request in flight when it falls due is answered first; requests sent meanwhile wait.
    broker.advance(due - MS);
    let before = broker.send_metadata(Duration::from_secs(10));
    let before_request = broker.receive_one();
    broker.advance(MS);
    let during = broker.send_metadata(Duration::from_secs(10));
    assert!(
        broker.receive().is_empty(),
        "nothing is written while re-authentication drains"
    );
    broker.answer(&before_request, &metadata_answer("a"));
    assert_eq!(responses(broker.events())[0].0, before);
    authenticate(&mut broker, 100_000);
    assert_eq!(broker.engine.reauthentications(), 1);
    let during_request = broker.receive_one();
    assert_eq!(during_request.api, ApiKey::Metadata);
    broker.answer(&during_request, &metadata_answer("b"));
    assert_eq!(responses(broker.events())[0].0, during);
    assert!(!broker.engine.is_closed());
}

#[test]
fn a_sasl_step_that_never_answers_times_out_in_the_sasl_phase() {
    let mut broker = Broker::new(sasl_config());
    let api_versions = broker.receive_one();
    broker.answer(&api_versions, &all_apis());
    let handshake = broker.receive_one();
    let mut accepted = SaslHandshakeResponse::default();
    accepted.mechanisms = vec!["PLAIN".into()];
    broker.answer(&handshake, &accepted);
    assert!(matches!(
        broker.engine.poll_event(),
        Some(Event::SaslStep { .. })
    ));
    broker.advance(Duration::from_secs(30));
    assert!(matches!(
        broker.engine.close_reason(),
        Some(CloseReason::Failed(error))
            if matches!(**error, NetError::Timeout { phase: Phase::Sasl, .. })
    ));
}

#[test]
fn a_rejected_password_closes_with_the_brokers_message() {
    let mut broker = Broker::new(sasl_config());
    let api_versions = broker.receive_one();
    broker.answer(&api_versions, &all_apis());
    let handshake = broker.receive_one();
    let mut accepted = SaslHandshakeResponse::default();
    accepted.mechanisms = vec!["PLAIN".into()];
    broker.answer(&handshake, &accepted);
    broker.events();
    broker
        .engine
        .handle_sasl_step(broker.now, Ok(Some(b"\0alice\0wrong".to_vec())));
    let authenticate = broker.receive_one();
    let mut refused = SaslAuthenticateResponse::default();
    refused.error_code = ErrorCode::SaslAuthenticationFailed.code();
    refused.error_message = Some("Invalid username or password".into());
    broker.answer(&authenticate, &refused);
    let Some(CloseReason::Failed(error)) = broker.engine.close_reason() else {
        panic!("still open");
    };
    assert!(
        error.to_string().contains("Invalid username or password"),
        "{error}"
    );
    assert!(!error.is_retriable());
}

#[test]
fn a_mechanism_the_broker_does_not_enable_lists_the_ones_it_does() {
    let mut broker = Broker::new(sasl_config());
    let api_versions = broker.receive_one();
    broker.answer(&api_versions, &all_apis());
    let handshake = broker.receive_one();
    let mut refused = SaslHandshakeResponse::default();
    refused.error_code = ErrorCode::UnsupportedSaslMechanism.code();
    refused.mechanisms = vec!["SCRAM-SHA-512".into()];
    broker.answer(&handshake, &refused);
    let Some(CloseReason::Failed(error)) = broker.engine.close_reason() else {
        panic!("still open");
    };
    assert!(
        matches!(&**error, NetError::UnsupportedSaslMechanism { enabled, .. } if enabled == &["SCRAM-SHA-512"]),
        "{error}"
    );
}
