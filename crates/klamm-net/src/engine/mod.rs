//! [`ConnectionState`]: everything one broker connection decides, with no socket, no clock and
//! no task of its own (the style of `quinn-proto`).
//!
//! Bytes from the broker go in with [`handle_input`](ConnectionState::handle_input), bytes to
//! write come out of [`poll_transmit`](ConnectionState::poll_transmit); time goes in as `now`,
//! and [`poll_timeout`](ConnectionState::poll_timeout) says when
//! [`handle_timeout`](ConnectionState::handle_timeout) is next due. What happens is read with
//! [`poll_event`](ConnectionState::poll_event): the handshake finished, the SASL mechanism must
//! compute its next message, a response (or a request's failure), the connection closed.
//!
//! The engine owns the whole life of a connection: the `ApiVersions` negotiation (with the
//! fall-back for brokers that do not know our version), the SASL handshake and exchange, the
//! KIP-368 re-authentication before the session the broker granted runs out, the in-flight
//! slots (`max_in_flight_requests_per_connection`), correlation ids, per-request deadlines,
//! idle close, and the detection of a broker that stopped answering.
//!
//! # The timeout policy
//!
//! A request whose deadline passes fails with [`NetError::Timeout`] and frees its in-flight
//! slot at once; its correlation id stays known, so that its late answer is dropped quietly.
//! The connection itself is closed (with [`CloseReason::Unresponsive`]) when `request_timeout`
//! passes without a byte from the broker while written requests wait for their answers. A
//! Kafka broker answers the requests of one connection in order, so such a silence means every
//! request behind the stuck one is stuck too; the owner then opens a new connection.
//!
//! Java's `NetworkClient` closes the connection as soon as any one request times out. Klamm
//! does not, because its per-request timeouts are often the caller's remaining deadline: one
//! caller's short deadline must not fail the other callers' requests on the same connection.
//! A silent broker is still detected within `request_timeout`.
//!
//! # SASL
//!
//! The mechanism's own computation (a SCRAM proof, a Kerberos token from a KDC, an OAuth token
//! from an identity provider) may block or wait on the network, so it is not done here: the
//! engine emits [`Event::SaslStep`] with the broker's challenge and waits, at most
//! `request_timeout`, for [`handle_sasl_step`](ConnectionState::handle_sasl_step) with the
//! mechanism's answer.

mod handshake;
mod requests;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use klamm_protocol::messages::ResponseHeader;
use klamm_protocol::primitives::Decoder;
use klamm_protocol::{ApiKey, Decode, DecodeErrorKind, Encode, EncodeError};

use crate::frame::FrameDecoder;
use crate::metrics::{Metrics, MetricsSnapshot};
use crate::versions::ApiVersionTable;
use crate::{CloseReason, ConnectionConfig, NetError, SaslMechanism};
use handshake::Handshake;
use requests::{Answered, Origin, Requests};

/// The correlation id of a request: what its response carries to be matched with it.
pub type CorrelationId = i32;

/// The settings an engine needs, taken from a [`ConnectionConfig`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EngineConfig {
    /// The broker's address, for error messages.
    pub addr: String,
    /// Sent in every request header.
    pub client_id: String,
    /// `client_software_name` and `client_software_version` of `ApiVersions` v3+.
    pub client_software: (String, String),
    /// User requests written and not yet answered, at most.
    pub max_in_flight: usize,
    /// Largest response frame accepted.
    pub max_frame_size: usize,
    /// Deadline of each SASL request and step; the silence after which the connection closes.
    pub request_timeout: Duration,
    /// Deadline of the `ApiVersions` exchange.
    pub api_version_timeout: Duration,
    /// The connection closes after this long without a request.
    pub max_idle: Duration,
    /// API versions to use instead of the highest common one.
    pub api_version_pins: BTreeMap<ApiKey, i16>,
    /// The Kafka release (`api_version`) whose highest versions cap negotiation.
    pub api_version: Option<crate::KafkaRelease>,
    /// The SASL mechanism to authenticate with, if any.
    pub sasl_mechanism: Option<SaslMechanism>,
    /// Seeds the jitter of the re-authentication schedule.
    pub seed: u64,
    /// Told of every counter update (`ConnectionConfig::metrics`).
    pub metrics: Option<crate::metrics::MetricsHook>,
}

impl EngineConfig {
    /// The engine settings of `config` for a connection to `addr`; `seed` seeds its jitter.
    pub fn new(addr: impl Into<String>, config: &ConnectionConfig, seed: u64) -> Self {
        EngineConfig {
            addr: addr.into(),
            client_id: config.client_id.clone(),
            client_software: config.client_software.clone(),
            max_in_flight: config.max_in_flight_requests_per_connection.max(1),
            max_frame_size: config.max_frame_size,
            request_timeout: config.request_timeout,
            api_version_timeout: config.api_version_auto_timeout,
            max_idle: config.connections_max_idle,
            api_version_pins: config.api_version_pins.clone(),
            api_version: config.api_version,
            sasl_mechanism: config.sasl.as_ref().map(|sasl| sasl.mechanism()),
            seed,
            metrics: config.metrics.clone(),
        }
    }
}

/// A request encoded into its frame (length prefix, header, body), ready for
/// [`ConnectionState::send_request`], which writes its correlation id into it.
///
/// Encoding is the costly part of sending; it needs no connection state, so a caller does it
/// before taking whatever lock guards the engine.
#[derive(Debug)]
pub struct EncodedRequest {
    frame: BytesMut,
    api: ApiKey,
    version: i16,
}

impl EncodedRequest {
    /// Encodes `body` as `version` of `api` with a request header naming `client_id`.
    pub fn new(
        api: ApiKey,
        version: i16,
        client_id: &str,
        body: &impl Encode,
    ) -> Result<Self, EncodeError> {
        let frame = crate::inflight::encode_request_frame(api, version, 0, client_id, body)?;
        Ok(EncodedRequest {
            frame,
            api,
            version,
        })
    }

    /// The API.
    pub fn api(&self) -> ApiKey {
        self.api
    }

    /// The version it is encoded as.
    pub fn version(&self) -> i16 {
        self.version
    }

    /// The frame's size in bytes, length prefix included.
    pub fn len(&self) -> usize {
        self.frame.len()
    }

    /// Whether the frame is empty (never, for a frame made by [`EncodedRequest::new`]).
    pub fn is_empty(&self) -> bool {
        self.frame.is_empty()
    }
}

/// Something that happened on the connection, for its owner to act on.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// The handshake finished: versions are negotiated ([`ConnectionState::versions`]) and
    /// SASL, if configured, succeeded. User requests are written from now on.
    Ready,
    /// The SASL mechanism must compute its next message: the first one when `challenge` is
    /// `None`, else the answer to the broker's `auth_bytes`. Reply with
    /// [`ConnectionState::handle_sasl_step`].
    SaslStep {
        /// The broker's `auth_bytes`, `None` for the mechanism's first message.
        challenge: Option<Bytes>,
    },
    /// The answer to a user request: its response body (after the response header), or why
    /// there is none.
    Response {
        /// The request's correlation id, as [`ConnectionState::send_request`] returned it.
        correlation_id: CorrelationId,
        /// The body, or the request's failure.
        result: Result<Bytes, NetError>,
    },
    /// The connection closed; every request somebody waited for got its `Response` first.
    Closed(CloseReason),
}

/// The state of one broker connection, without I/O. See the [module documentation](self).
#[derive(Debug)]
pub struct ConnectionState {
    config: EngineConfig,
    decoder: FrameDecoder,
    requests: Requests,
    handshake: Handshake,
    transmit: VecDeque<Bytes>,
    events: VecDeque<Event>,
    metrics: Metrics,
    versions: Option<ApiVersionTable>,
    /// When a user request was last sent or answered (idle close).
    last_activity: Instant,
    /// When the broker last sent anything (unresponsive close).
    last_received: Instant,
    closed: Option<CloseReason>,
    random: u64,
}

impl ConnectionState {
    /// A new connection at `now`: its first output is the `ApiVersions` request.
    pub fn new(now: Instant, config: EngineConfig) -> Self {
        let mut state = ConnectionState {
            decoder: FrameDecoder::new(config.max_frame_size),
            requests: Requests::new(config.max_in_flight),
            handshake: Handshake::new(),
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            metrics: Metrics::new(&config.addr, config.metrics.clone()),
            versions: None,
            last_activity: now,
            last_received: now,
            closed: None,
            random: config.seed | 1,
            config,
        };
        state.start_handshake(now);
        state
    }

    /// Queues a user request with its deadline `timeout` from `now` (waiting for a slot
    /// counts against it). It is written as soon as the handshake is done and a slot is free.
    pub fn send_request(
        &mut self,
        now: Instant,
        request: EncodedRequest,
        timeout: Duration,
    ) -> Result<CorrelationId, NetError> {
        if let Some(reason) = &self.closed {
            return Err(self.closed_error(reason.clone()));
        }
        let id = self.requests.add(
            request.frame,
            request.api,
            request.version,
            Origin::User,
            now,
            timeout,
        );
        self.last_activity = now;
        self.release(now);
        Ok(id)
    }

    /// The caller of `correlation_id` gave up: it gets no `Response` event. A request not yet
    /// written is dropped; a written one keeps its slot until it is answered (the answer is
    /// dropped) or its deadline passes.
    pub fn cancel(&mut self, correlation_id: CorrelationId) {
        self.requests.cancel(correlation_id);
    }

    /// Bytes read from the broker at `now`.
    pub fn handle_input(&mut self, now: Instant, data: &[u8]) {
        if self.closed.is_some() {
            return;
        }
        self.metrics.record_received_bytes(data.len());
        self.last_received = now;
        self.decoder.extend_from_slice(data);
        while self.closed.is_none() {
            match self.decoder.next_frame() {
                Ok(Some(frame)) => self.handle_frame(now, frame),
                Ok(None) => break,
                Err(too_large) => {
                    let error = NetError::FrameTooLarge {
                        addr: self.config.addr.clone(),
                        size: too_large.size,
                        max: too_large.max,
                    };
                    self.fail(error);
                }
            }
        }
        self.after_progress(now);
    }

    /// The broker closed the connection (the socket read returned end of stream).
    pub fn handle_peer_closed(&mut self) {
        self.close_with(CloseReason::PeerClosed);
    }

    /// Reading or writing the socket failed: the connection is closed with `error`.
    pub fn handle_io_error(&mut self, error: NetError) {
        self.fail(error);
    }

    /// Closes the connection at the owner's request; waiting requests fail with
    /// [`CloseReason::ClosedByClient`].
    pub fn close(&mut self) {
        self.close_with(CloseReason::ClosedByClient);
    }

    /// The next frame to write to the socket, in order.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.transmit.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) is next due, `None` while nothing is
    /// timed (or once closed).
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.closed.is_some() {
            return None;
        }
        [
            self.requests.next_deadline(),
            self.handshake.deadline(),
            self.unresponsive_deadline(),
            self.idle_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Acts on every deadline due at `now`: requests time out, a silent broker or an idle
    /// connection is closed, re-authentication begins.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.closed.is_some() {
            return;
        }
        for expired in self.requests.expire(now) {
            let error = NetError::Timeout {
                addr: self.config.addr.clone(),
                phase: crate::Phase::Request(expired.api),
                after: expired.timeout,
            };
            match expired.origin {
                Origin::User => {
                    if expired.written {
                        self.metrics.record_timeout(expired.api);
                    }
                    self.events.push_back(Event::Response {
                        correlation_id: expired.correlation_id,
                        result: Err(error),
                    });
                }
                Origin::Handshake => {
                    let phase = handshake::phase_of(expired.api);
                    return self.fail(NetError::Timeout {
                        addr: self.config.addr.clone(),
                        phase,
                        after: expired.timeout,
                    });
                }
            }
        }
        if self.unresponsive_deadline().is_some_and(|at| at <= now) {
            return self.close_with(CloseReason::Unresponsive(self.config.request_timeout));
        }
        if self.idle_deadline().is_some_and(|at| at <= now) {
            return self.close_with(CloseReason::Idle(self.config.max_idle));
        }
        self.handshake_timeout(now);
        self.after_progress(now);
    }

    /// The negotiated versions, once `ApiVersions` was answered.
    pub fn versions(&self) -> Option<&ApiVersionTable> {
        self.versions.as_ref()
    }

    /// Why the connection closed, `None` while open.
    pub fn close_reason(&self) -> Option<&CloseReason> {
        self.closed.as_ref()
    }

    /// Whether the connection is closed.
    pub fn is_closed(&self) -> bool {
        self.closed.is_some()
    }

    /// Whether the handshake finished and the connection carries user requests.
    pub fn is_ready(&self) -> bool {
        self.closed.is_none() && self.handshake.has_been_ready()
    }

    /// How many times the connection re-authenticated (KIP-368).
    pub fn reauthentications(&self) -> u32 {
        self.handshake.reauthentications()
    }

    /// The connection's counters.
    pub fn metrics(&self) -> MetricsSnapshot {
        self.metrics.snapshot(self.requests.slots_used())
    }

    /// User requests written and counted against `max_in_flight`.
    pub fn in_flight(&self) -> usize {
        self.requests.slots_used()
    }

    /// User requests waiting for a slot.
    pub fn queued(&self) -> usize {
        self.requests.queued()
    }

    /// The broker's address, as configured.
    pub fn addr(&self) -> &str {
        &self.config.addr
    }

    fn handle_frame(&mut self, now: Instant, frame: Bytes) {
        let malformed = |addr: &str, source| NetError::MalformedFrame {
            addr: addr.to_owned(),
            what: "ResponseHeader",
            cause: source,
        };
        if frame.len() < 4 {
            let source = DecodeErrorKind::UnexpectedEnd {
                what: "ResponseHeader.CorrelationId",
                needed: 4,
                remaining: frame.len(),
            };
            return self.fail(malformed(&self.config.addr, source.into()));
        }
        let correlation_id = i32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]);
        let Some(answered) = self.requests.answer(correlation_id) else {
            let error = NetError::UnknownCorrelationId {
                addr: self.config.addr.clone(),
                correlation_id,
                in_flight: self.requests.unanswered(),
            };
            return self.fail(error);
        };
        let (entry, wanted) = match answered {
            Answered::Wanted(entry) => (entry, true),
            Answered::Unwanted(entry) => (entry, false),
        };
        let mut decoder = Decoder::new(&frame);
        let header_version = entry.api.response_header_version(entry.version);
        if let Err(source) = ResponseHeader::decode(&mut decoder, header_version) {
            return self.fail(malformed(&self.config.addr, source));
        }
        let body = frame.slice(frame.len() - decoder.remaining()..);
        let latency = entry
            .sent_at
            .map_or(Duration::ZERO, |sent| now.saturating_duration_since(sent));
        self.metrics.record_response(entry.api, latency);
        match (entry.origin, wanted) {
            (Origin::User, true) => {
                self.last_activity = now;
                self.events.push_back(Event::Response {
                    correlation_id,
                    result: Ok(body),
                });
            }
            (Origin::User, false) => self.last_activity = now,
            (Origin::Handshake, _) => self.handshake_answer(now, correlation_id, &entry, body),
        }
    }

    /// After input or a timeout: write what may be written, start a due re-authentication.
    fn after_progress(&mut self, now: Instant) {
        if self.closed.is_some() {
            return;
        }
        self.maybe_reauthenticate(now);
        self.release(now);
    }

    /// Writes queued user requests while slots are free, once the handshake is done.
    fn release(&mut self, now: Instant) {
        if !self.handshake.is_ready() || self.closed.is_some() {
            return;
        }
        while let Some((frame, api)) = self.requests.start_next(now) {
            self.metrics.record_sent(api, frame.len());
            self.transmit.push_back(frame);
            self.last_activity = now;
        }
    }

    /// Queues and writes a request of the connection's own (no slot, not queued behind users).
    fn send_own(
        &mut self,
        now: Instant,
        api: ApiKey,
        version: i16,
        body: &impl Encode,
        timeout: Duration,
    ) -> Option<CorrelationId> {
        let frame = match EncodedRequest::new(api, version, &self.config.client_id, body) {
            Ok(request) => request.frame,
            Err(source) => {
                self.fail(NetError::Encode {
                    api,
                    version,
                    cause: source,
                });
                return None;
            }
        };
        let id = self
            .requests
            .add(frame, api, version, Origin::Handshake, now, timeout);
        let (frame, api) = self.requests.start_handshake(id, now)?;
        self.metrics.record_sent(api, frame.len());
        self.transmit.push_back(frame);
        Some(id)
    }

    /// When the broker's silence closes the connection: `request_timeout` after it last sent
    /// anything, or after the oldest unanswered request was written if that is later.
    fn unresponsive_deadline(&self) -> Option<Instant> {
        let oldest = self.requests.oldest_unanswered()?;
        Some(oldest.max(self.last_received) + self.config.request_timeout)
    }

    /// When an idle connection closes: `max_idle` after the last user request, if no request
    /// is waiting or unanswered and the handshake is not running.
    fn idle_deadline(&self) -> Option<Instant> {
        (self.requests.is_empty() && self.handshake.is_ready())
            .then(|| self.last_activity + self.config.max_idle)
    }

    /// A number uniformly drawn from `[0, 1)` (xorshift64*, seeded by the config).
    fn next_random(&mut self) -> f64 {
        let mut x = self.random;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.random = x;
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn closed_error(&self, reason: CloseReason) -> NetError {
        NetError::ConnectionClosed {
            addr: self.config.addr.clone(),
            reason,
        }
    }

    fn fail(&mut self, error: NetError) {
        self.close_with(CloseReason::Failed(Arc::new(error)));
    }

    /// Closes once: every request somebody waits for fails with `reason`, nothing more is
    /// written, and `Closed` is the last event.
    fn close_with(&mut self, reason: CloseReason) {
        if self.closed.is_some() {
            return;
        }
        tracing::debug!(addr = %self.config.addr, %reason, "closing connection");
        for (correlation_id, entry) in self.requests.drain_wanted() {
            if entry.origin == Origin::User {
                let result = Err(self.closed_error(reason.clone()));
                self.events.push_back(Event::Response {
                    correlation_id,
                    result,
                });
            }
        }
        self.transmit.clear();
        self.handshake.close();
        self.closed = Some(reason.clone());
        self.events.push_back(Event::Closed(reason));
    }
}
