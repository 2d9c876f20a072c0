//! Requests on the wire: encoding a request with its header into a frame, allocating correlation
//! ids, and matching each response frame to the request it answers.
//!
//! [`InFlight`] is sans-IO and generic over what waits for the answer (a `oneshot::Sender` in the
//! tokio glue, `()` in tests). Kafka answers in order on one connection, but responses are matched
//! by correlation id all the same, so a broker (or a proxy) that reorders is still understood; a
//! correlation id that matches nothing means the stream is out of sync and is fatal.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use klamm_protocol::messages::{RequestHeader, ResponseHeader};
use klamm_protocol::primitives::{Decoder, KafkaString};
use klamm_protocol::{ApiKey, Decode, DecodeError, DecodeErrorKind, Encode, EncodeError};

/// Encodes `body` as `version` of `api`, with a request header, into one length-prefixed frame.
///
/// The header version follows [`ApiKey::request_header_version`].
pub fn encode_request_frame(
    api: ApiKey,
    version: i16,
    correlation_id: i32,
    client_id: &str,
    body: &impl Encode,
) -> Result<Bytes, EncodeError> {
    let header = RequestHeader::default()
        .with_request_api_key(api.key())
        .with_request_api_version(version)
        .with_correlation_id(correlation_id)
        .with_client_id(Some(KafkaString::from(client_id)));
    // Written in one pass into room for most requests, the size patched in afterwards: no
    // pass to size the frame first. A larger request is written again once that pass has
    // measured it.
    const ROOM: usize = 4096;
    let mut buf = BytesMut::with_capacity(ROOM);
    klamm_protocol::frame::encode_request(
        &mut buf,
        &header,
        api.request_header_version(version),
        body,
        version,
    )?;
    Ok(buf.freeze())
}

/// A request waiting for its response.
#[derive(Debug)]
pub struct Pending<W> {
    /// The API.
    pub api: ApiKey,
    /// The version it was sent as (the response has the same version).
    pub version: i16,
    /// When it was handed to the connection.
    pub sent_at: Instant,
    /// What waits for the answer.
    pub waiter: W,
}

/// A response matched to its request.
#[derive(Debug)]
pub struct Completed<W> {
    /// The correlation id.
    pub correlation_id: i32,
    /// The request it answers.
    pub request: Pending<W>,
    /// The response body, after the response header.
    pub body: Bytes,
    /// Time from sending to the response.
    pub latency: Duration,
}

/// Why a response frame could not be matched.
#[derive(Debug, Clone, PartialEq)]
pub enum MatchError {
    /// No request in flight has this correlation id.
    UnknownCorrelationId {
        /// The id read.
        correlation_id: i32,
        /// How many requests were in flight.
        in_flight: usize,
    },
    /// The response header could not be decoded.
    MalformedHeader(DecodeError),
}

/// Correlation ids and the requests in flight on one connection.
#[derive(Debug)]
pub struct InFlight<W> {
    next_correlation_id: i32,
    pending: HashMap<i32, Pending<W>>,
}

impl<W> Default for InFlight<W> {
    fn default() -> Self {
        InFlight {
            next_correlation_id: 0,
            pending: HashMap::new(),
        }
    }
}

impl<W> InFlight<W> {
    /// No requests in flight; ids start at 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// Allocates the next free correlation id (wrapping past `i32::MAX` to 0).
    pub fn next_correlation_id(&mut self) -> i32 {
        loop {
            let id = self.next_correlation_id;
            self.next_correlation_id = id.checked_add(1).unwrap_or(0);
            if !self.pending.contains_key(&id) {
                return id;
            }
        }
    }

    /// Records a request sent with `correlation_id` (from
    /// [`next_correlation_id`](Self::next_correlation_id)).
    pub fn insert(
        &mut self,
        correlation_id: i32,
        api: ApiKey,
        version: i16,
        now: Instant,
        waiter: W,
    ) {
        self.pending.insert(
            correlation_id,
            Pending {
                api,
                version,
                sent_at: now,
                waiter,
            },
        );
    }

    /// Matches a response frame (length prefix already removed) to its request, decoding the
    /// response header with the version the request's API and version call for.
    pub fn complete(&mut self, frame: Bytes, now: Instant) -> Result<Completed<W>, MatchError> {
        if frame.len() < 4 {
            return Err(MatchError::MalformedHeader(
                DecodeErrorKind::UnexpectedEnd {
                    what: "ResponseHeader.CorrelationId",
                    needed: 4,
                    remaining: frame.len(),
                }
                .into(),
            ));
        }
        let correlation_id = i32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]);
        let request =
            self.pending
                .remove(&correlation_id)
                .ok_or(MatchError::UnknownCorrelationId {
                    correlation_id,
                    in_flight: self.pending.len(),
                })?;
        let header_version = request.api.response_header_version(request.version);
        let mut decoder = Decoder::new(&frame);
        ResponseHeader::decode(&mut decoder, header_version)
            .map_err(MatchError::MalformedHeader)?;
        let body = frame.slice(frame.len() - decoder.remaining()..);
        Ok(Completed {
            correlation_id,
            latency: now.saturating_duration_since(request.sent_at),
            request,
            body,
        })
    }

    /// Removes a request that will never be answered (e.g. its frame was never written).
    pub fn remove(&mut self, correlation_id: i32) -> Option<Pending<W>> {
        self.pending.remove(&correlation_id)
    }

    /// Takes every request in flight, e.g. to fail them all when the connection closes.
    pub fn drain(&mut self) -> impl Iterator<Item = (i32, Pending<W>)> + '_ {
        self.pending.drain()
    }

    /// How many requests are in flight.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether no request is in flight.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use klamm_protocol::messages::{MetadataRequest, MetadataResponse};
    use klamm_protocol::Message;

    fn response_frame(
        correlation_id: i32,
        header_version: i16,
        body: &impl Encode,
        v: i16,
    ) -> Bytes {
        let header = ResponseHeader::default().with_correlation_id(correlation_id);
        let mut buf = BytesMut::new();
        header.encode(&mut buf, header_version).unwrap();
        body.encode(&mut buf, v).unwrap();
        buf.freeze()
    }

    #[test]
    fn request_frame_has_prefix_header_and_body() {
        let body = MetadataRequest::default();
        let frame = encode_request_frame(ApiKey::Metadata, 12, 42, "klamm", &body).unwrap();
        let size = u32::from_be_bytes(frame[..4].try_into().unwrap()) as usize;
        assert_eq!(size, frame.len() - 4);
        let payload = frame.slice(4..);
        let mut decoder = Decoder::new(&payload);
        // Metadata v12 is flexible: request header v2.
        let header = RequestHeader::decode(&mut decoder, 2).unwrap();
        assert_eq!(header.request_api_key, 3);
        assert_eq!(header.request_api_version, 12);
        assert_eq!(header.correlation_id, 42);
        assert_eq!(header.client_id.as_deref(), Some("klamm"));
        let rest = payload.slice(payload.len() - decoder.remaining()..);
        assert_eq!(MetadataRequest::from_bytes(&rest, 12).unwrap(), body);
    }

    #[test]
    fn pipelined_responses_match_by_id_even_out_of_order() {
        let t0 = Instant::now();
        let mut in_flight = InFlight::new();
        let mut ids = Vec::new();
        for waiter in ["a", "b", "c"] {
            let id = in_flight.next_correlation_id();
            in_flight.insert(id, ApiKey::Metadata, 12, t0, waiter);
            ids.push(id);
        }
        assert_eq!(ids, vec![0, 1, 2]);
        let body = MetadataResponse::default();
        let later = t0 + Duration::from_millis(5);
        for (id, waiter) in [(2, "c"), (0, "a"), (1, "b")] {
            let done = in_flight
                .complete(response_frame(id, 1, &body, 12), later)
                .unwrap();
            assert_eq!(done.request.waiter, waiter);
            assert_eq!(done.latency, Duration::from_millis(5));
            assert_eq!(MetadataResponse::from_bytes(&done.body, 12).unwrap(), body);
        }
        assert!(in_flight.is_empty());
    }

    #[test]
    fn response_header_version_follows_the_request() {
        // ApiVersions always answers with header v0 even at flexible v3; Metadata v1 is not
        // flexible (header v0), Metadata v9+ is (header v1 with a tagged-field count).
        let mut in_flight = InFlight::new();
        let now = Instant::now();
        in_flight.insert(0, ApiKey::ApiVersions, 3, now, ());
        in_flight.insert(1, ApiKey::Metadata, 1, now, ());
        let api_versions = klamm_protocol::messages::ApiVersionsResponse::default();
        let done = in_flight
            .complete(response_frame(0, 0, &api_versions, 3), now)
            .unwrap();
        assert_eq!(done.body, api_versions.to_bytes(3).unwrap());
        let metadata = MetadataResponse::default();
        let done = in_flight
            .complete(response_frame(1, 0, &metadata, 1), now)
            .unwrap();
        assert_eq!(done.body, metadata.to_bytes(1).unwrap());
    }

    #[test]
    fn unknown_or_repeated_correlation_id_is_an_error() {
        let mut in_flight = InFlight::new();
        let now = Instant::now();
        in_flight.insert(5, ApiKey::Metadata, 12, now, ());
        let body = MetadataResponse::default();
        assert_eq!(
            in_flight
                .complete(response_frame(9, 1, &body, 12), now)
                .unwrap_err(),
            MatchError::UnknownCorrelationId {
                correlation_id: 9,
                in_flight: 1
            }
        );
        in_flight
            .complete(response_frame(5, 1, &body, 12), now)
            .unwrap();
        assert!(matches!(
            in_flight.complete(response_frame(5, 1, &body, 12), now),
            Err(MatchError::UnknownCorrelationId { .. })
        ));
    }

    #[test]
    fn short_frame_is_a_malformed_header() {
        let mut in_flight = InFlight::<()>::new();
        assert!(matches!(
            in_flight.complete(Bytes::from_static(&[0, 0]), Instant::now()),
            Err(MatchError::MalformedHeader(_))
        ));
    }

    #[test]
    fn correlation_ids_wrap_and_skip_ids_still_in_flight() {
        let mut in_flight = InFlight::new();
        in_flight.next_correlation_id = i32::MAX;
        in_flight.insert(0, ApiKey::Metadata, 12, Instant::now(), ());
        assert_eq!(in_flight.next_correlation_id(), i32::MAX);
        assert_eq!(in_flight.next_correlation_id(), 1);
    }
}
