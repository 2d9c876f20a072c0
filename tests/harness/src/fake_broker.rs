//! An in-process fake broker, for tests that need a broker to say what a real one will not:
//! lose an answer, advertise an address nobody listens on, and so on (feature `fake-broker`).
//!
//! The fake owns the socket work — accepting connections, reading size-prefixed frames, parsing
//! the request header and writing the response header and frame — and asks the test's
//! `answer` function what to do with each request.
//!
//! ```no_run
//! # async fn demo() {
//! use bytes::BytesMut;
//! use klamm_protocol::messages::ApiVersionsResponse;
//! use klamm_protocol::{ApiKey, Encode};
//! use klamm_test_harness::fake_broker::{FakeBroker, Reply};
//!
//! let broker = FakeBroker::start(|call| match call.api {
//!     ApiKey::ApiVersions => Reply::encode(&ApiVersionsResponse::default(), call.version),
//!     _ => Reply::Close,
//! })
//! .await;
//! println!("bootstrap with {}", broker.addr());
//! # }
//! ```

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use klamm_protocol::messages::{RequestHeader, ResponseHeader};
use klamm_protocol::primitives::Decoder;
use klamm_protocol::{ApiKey, Decode, Encode};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

/// One request the fake received.
#[derive(Debug)]
pub struct Call {
    /// The request's API.
    pub api: ApiKey,
    /// The request's version.
    pub version: i16,
    /// The request body, after the header.
    pub body: Bytes,
    /// The fake's own address, for answers that advertise it.
    pub addr: SocketAddr,
}

/// What the fake does with a request.
#[derive(Debug)]
pub enum Reply {
    /// Answers with this encoded response body; the fake adds the header and the size.
    Answer(BytesMut),
    /// Drops the request without an answer and keeps the connection, as a broker does whose
    /// answer is lost.
    Ignore,
    /// Closes the connection.
    Close,
}

impl Reply {
    /// Answers with `response` encoded at `version`.
    pub fn encode(response: &impl Encode, version: i16) -> Reply {
        let mut body = BytesMut::new();
        match response.encode(&mut body, version) {
            Ok(()) => Reply::Answer(body),
            Err(_) => Reply::Close,
        }
    }
}

type Answer = Arc<dyn Fn(&Call) -> Reply + Send + Sync>;

/// A fake broker: on an ephemeral port of 127.0.0.1 until the runtime shuts down
/// ([`FakeBroker::start`]), or reached through in-memory pipes only
/// ([`FakeBroker::in_memory`]), which tests on tokio's paused clock need.
#[derive(Clone)]
pub struct FakeBroker {
    addr: SocketAddr,
    answer: Answer,
}

impl std::fmt::Debug for FakeBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeBroker")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl FakeBroker {
    /// Starts listening and answers every request of every connection with `answer`.
    ///
    /// # Panics
    ///
    /// If no port of 127.0.0.1 can be bound: the test cannot run.
    pub async fn start(answer: impl Fn(&Call) -> Reply + Send + Sync + 'static) -> FakeBroker {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a port for the fake broker");
        let addr = listener.local_addr().expect("the fake broker's address");
        let broker = FakeBroker {
            addr,
            answer: Arc::new(answer),
        };
        let answer = broker.answer.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serve(socket, addr, answer.clone()));
            }
        });
        broker
    }

    /// A fake that listens nowhere: it claims the address `addr` (what its answers may
    /// advertise) and serves each stream [`open_stream`](Self::open_stream) hands out.
    pub fn in_memory(
        addr: SocketAddr,
        answer: impl Fn(&Call) -> Reply + Send + Sync + 'static,
    ) -> FakeBroker {
        FakeBroker {
            addr,
            answer: Arc::new(answer),
        }
    }

    /// A new connection to the fake as an in-memory pipe (the client's end).
    pub fn open_stream(&self) -> tokio::io::DuplexStream {
        let (client, server) = tokio::io::duplex(256 * 1024);
        tokio::spawn(serve(server, self.addr, self.answer.clone()));
        client
    }

    /// The address to bootstrap with.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

async fn serve<S>(mut socket: S, addr: SocketAddr, answer: Answer)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    while let Some(frame) = read_frame(&mut socket).await {
        let Some((call, correlation_id)) = parse(frame, addr) else {
            return;
        };
        let body = match answer(&call) {
            Reply::Answer(body) => body,
            Reply::Ignore => continue,
            Reply::Close => return,
        };
        let mut response = BytesMut::new();
        let header = ResponseHeader::default().with_correlation_id(correlation_id);
        let header_version = call.api.response_header_version(call.version);
        if header.encode(&mut response, header_version).is_err() {
            return;
        }
        response.extend_from_slice(&body);
        let mut framed = (response.len() as u32).to_be_bytes().to_vec();
        framed.extend_from_slice(&response);
        if socket.write_all(&framed).await.is_err() {
            return;
        }
    }
}

async fn read_frame(socket: &mut (impl AsyncRead + Unpin)) -> Option<Bytes> {
    let mut len = [0u8; 4];
    socket.read_exact(&mut len).await.ok()?;
    let mut payload = vec![0u8; u32::from_be_bytes(len) as usize];
    socket.read_exact(&mut payload).await.ok()?;
    Some(Bytes::from(payload))
}

/// The request in `frame` and its correlation id; `None` for a frame no broker would accept.
fn parse(frame: Bytes, addr: SocketAddr) -> Option<(Call, i32)> {
    let key = i16::from_be_bytes([*frame.first()?, *frame.get(1)?]);
    let version = i16::from_be_bytes([*frame.get(2)?, *frame.get(3)?]);
    let api = ApiKey::from_key(key)?;
    let mut decoder = Decoder::new(&frame);
    let header = RequestHeader::decode(&mut decoder, api.request_header_version(version)).ok()?;
    let body = frame.slice(frame.len() - decoder.remaining()..);
    let call = Call {
        api,
        version,
        body,
        addr,
    };
    Some((call, header.correlation_id))
}

#[cfg(test)]
mod tests {
    use klamm_protocol::messages::{ApiVersionsRequest, ApiVersionsResponse};

    use super::*;

    fn request_frame(correlation_id: i32, version: i16) -> Vec<u8> {
        let mut payload = BytesMut::new();
        RequestHeader::default()
            .with_request_api_key(ApiKey::ApiVersions.key())
            .with_request_api_version(version)
            .with_correlation_id(correlation_id)
            .with_client_id(Some("test".into()))
            .encode(
                &mut payload,
                ApiKey::ApiVersions.request_header_version(version),
            )
            .unwrap();
        ApiVersionsRequest::default()
            .encode(&mut payload, version)
            .unwrap();
        let mut frame = (payload.len() as u32).to_be_bytes().to_vec();
        frame.extend_from_slice(&payload);
        frame
    }

    #[tokio::test]
    async fn answers_carry_the_correlation_id_and_ignored_requests_get_none() {
        let broker = FakeBroker::start(|call| match call.version {
            3 if call.api == ApiKey::ApiVersions => Reply::encode(
                &ApiVersionsResponse::default().with_error_code(35),
                call.version,
            ),
            _ => Reply::Ignore,
        })
        .await;
        let mut socket = tokio::net::TcpStream::connect(broker.addr()).await.unwrap();
        // Version 2 is ignored: the first answer on the connection is the second request's.
        socket.write_all(&request_frame(40, 2)).await.unwrap();
        socket.write_all(&request_frame(41, 3)).await.unwrap();
        let frame = read_frame(&mut socket).await.unwrap();
        assert_eq!(frame[..4], 41i32.to_be_bytes());
        let mut decoder = Decoder::new(&frame);
        ResponseHeader::decode(&mut decoder, 0).unwrap();
        let response = ApiVersionsResponse::decode(&mut decoder, 3).unwrap();
        assert_eq!(response.error_code, 35);
    }

    #[test]
    fn frames_no_broker_would_accept_are_refused() {
        let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
        assert!(parse(Bytes::from_static(&[0, 18]), addr).is_none());
        assert!(parse(Bytes::from_static(&[0x7f, 0x7f, 0, 0, 0, 0, 0, 1]), addr).is_none());
        let mut frame = request_frame(7, 3);
        let call = parse(Bytes::from(frame.split_off(4)), addr).unwrap();
        assert_eq!(
            (call.0.api, call.0.version, call.1),
            (ApiKey::ApiVersions, 3, 7)
        );
    }
}
