//! Asking a broker whether it is up, in Kafka's own wire format and without any Klamm crate, so
//! that the harness can test those crates without trusting them.
//!
//! Two requests are enough: ApiVersions v0 (answered by every broker since 0.10, before
//! authentication) and Metadata v4 (the lowest version both 3.9 and 4.x serve), whose broker list
//! and cluster id tell that the node has registered with the controller and belongs to our cluster.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

const API_KEY_METADATA: i16 = 3;
const API_KEY_API_VERSIONS: i16 = 18;
const CLIENT_ID: &str = "klamm-test-harness";
/// Probe responses are tiny; anything larger means we are not talking to a Kafka broker.
const MAX_RESPONSE_BYTES: usize = 1 << 20;

/// One broker as listed in a Metadata response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerAddress {
    /// `node.id`.
    pub node_id: i32,
    /// Advertised host.
    pub host: String,
    /// Advertised port.
    pub port: i32,
}

/// What a Metadata v4 response says about the cluster (topics are not requested).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataSnapshot {
    /// Live, unfenced brokers.
    pub brokers: Vec<BrokerAddress>,
    /// The cluster id written by `kafka-storage format`.
    pub cluster_id: Option<String>,
    /// The node the broker believes is the active controller (a random broker in KRaft).
    pub controller_id: i32,
}

/// One API as listed in an ApiVersions response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiVersionRange {
    /// The API key, e.g. 18 for ApiVersions.
    pub api_key: i16,
    /// The lowest version the broker serves.
    pub min_version: i16,
    /// The highest version the broker serves.
    pub max_version: i16,
}

/// Sends ApiVersions v0 and returns how many API keys the broker lists.
pub fn api_versions(addr: SocketAddr, timeout: Duration) -> io::Result<usize> {
    api_version_ranges(addr, timeout).map(|ranges| ranges.len())
}

/// Sends ApiVersions v0 and returns every API the broker lists with its version range, in the
/// broker's order: an independent account of what a client should negotiate.
pub fn api_version_ranges(addr: SocketAddr, timeout: Duration) -> io::Result<Vec<ApiVersionRange>> {
    let body = exchange(addr, timeout, API_KEY_API_VERSIONS, 0, &[])?;
    let mut reader = Reader::new(&body);
    let error_code = reader.i16()?;
    if error_code != 0 {
        return Err(invalid(format!("ApiVersions error code {error_code}")));
    }
    let count = reader.array_len()?;
    let mut ranges = Vec::with_capacity(count);
    for _ in 0..count {
        ranges.push(ApiVersionRange {
            api_key: reader.i16()?,
            min_version: reader.i16()?,
            max_version: reader.i16()?,
        });
    }
    Ok(ranges)
}

/// Sends Metadata v4 for no topics and returns the brokers and cluster id.
pub fn metadata(addr: SocketAddr, timeout: Duration) -> io::Result<MetadataSnapshot> {
    // topics: empty array (not null, which would mean "all topics"); allow_auto_topic_creation: false.
    let request = [0, 0, 0, 0, 0];
    let body = exchange(addr, timeout, API_KEY_METADATA, 4, &request)?;
    let mut reader = Reader::new(&body);
    let _throttle_time_ms = reader.i32()?;
    let count = reader.array_len()?;
    let mut brokers = Vec::with_capacity(count);
    for _ in 0..count {
        let node_id = reader.i32()?;
        let host = reader.string()?.unwrap_or_default();
        let port = reader.i32()?;
        let _rack = reader.string()?;
        brokers.push(BrokerAddress {
            node_id,
            host,
            port,
        });
    }
    let cluster_id = reader.string()?;
    let controller_id = reader.i32()?;
    Ok(MetadataSnapshot {
        brokers,
        cluster_id,
        controller_id,
    })
}

/// Writes one request with a v1 header and reads the matching v0-header response body.
fn exchange(
    addr: SocketAddr,
    timeout: Duration,
    api_key: i16,
    api_version: i16,
    body: &[u8],
) -> io::Result<Vec<u8>> {
    const CORRELATION_ID: i32 = 0x6b6c_616d; // "klam"
    let mut frame = Vec::with_capacity(14 + CLIENT_ID.len() + body.len());
    frame.extend_from_slice(&[0; 4]);
    frame.extend_from_slice(&api_key.to_be_bytes());
    frame.extend_from_slice(&api_version.to_be_bytes());
    frame.extend_from_slice(&CORRELATION_ID.to_be_bytes());
    frame.extend_from_slice(&(CLIENT_ID.len() as i16).to_be_bytes());
    frame.extend_from_slice(CLIENT_ID.as_bytes());
    frame.extend_from_slice(body);
    let size = (frame.len() - 4) as i32;
    frame[..4].copy_from_slice(&size.to_be_bytes());

    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    stream.write_all(&frame)?;

    let mut size = [0; 4];
    stream.read_exact(&mut size)?;
    let size = i32::from_be_bytes(size);
    let size =
        usize::try_from(size).map_err(|_| invalid(format!("negative response size {size}")))?;
    if !(4..=MAX_RESPONSE_BYTES).contains(&size) {
        return Err(invalid(format!("implausible response size {size}")));
    }
    let mut response = vec![0; size];
    stream.read_exact(&mut response)?;
    let correlation_id = i32::from_be_bytes([response[0], response[1], response[2], response[3]]);
    if correlation_id != CORRELATION_ID {
        return Err(invalid(format!(
            "response correlation id {correlation_id} does not match request {CORRELATION_ID}"
        )));
    }
    response.drain(..4);
    Ok(response)
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// A cursor that refuses to read past the bytes it was given.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes }
    }

    fn take(&mut self, n: usize) -> io::Result<&'a [u8]> {
        if n > self.bytes.len() {
            return Err(invalid(format!(
                "response truncated: wanted {n} bytes, {} left",
                self.bytes.len()
            )));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn i16(&mut self) -> io::Result<i16> {
        let b = self.take(2)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }

    fn i32(&mut self) -> io::Result<i32> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// An array length, checked against the bytes left (each element is at least one byte).
    fn array_len(&mut self) -> io::Result<usize> {
        let len = self.i32()?;
        let len =
            usize::try_from(len).map_err(|_| invalid(format!("negative array length {len}")))?;
        if len > self.bytes.len() {
            return Err(invalid(format!(
                "array length {len} exceeds the {} bytes left",
                self.bytes.len()
            )));
        }
        Ok(len)
    }

    /// A nullable string with an i16 length.
    fn string(&mut self) -> io::Result<Option<String>> {
        let len = self.i16()?;
        if len < 0 {
            return Ok(None);
        }
        let bytes = self.take(len as usize)?;
        String::from_utf8(bytes.to_vec())
            .map(Some)
            .map_err(|_| invalid("string is not UTF-8".to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn reader_rejects_array_longer_than_remaining_bytes() {
        let bytes = [0, 0, 0, 9, 1, 2];
        assert!(Reader::new(&bytes).array_len().is_err());
    }

    #[test]
    fn reader_rejects_string_past_the_end() {
        let bytes = [0, 5, b'a', b'b'];
        assert!(Reader::new(&bytes).string().is_err());
        assert_eq!(Reader::new(&[0xff, 0xff]).string().unwrap(), None);
    }

    /// A one-shot server on a free port: it reads one request, checks its API key and version
    /// (the first four bytes), and answers with the correlation id followed by `body`.
    fn answer_once(
        api_key_and_version: [u8; 4],
        body: Vec<u8>,
    ) -> (SocketAddr, std::thread::JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut socket, _) = listener.accept().unwrap();
            let mut size = [0; 4];
            socket.read_exact(&mut size).unwrap();
            let mut request = vec![0; i32::from_be_bytes(size) as usize];
            socket.read_exact(&mut request).unwrap();
            assert_eq!(request[..4], api_key_and_version);
            let mut answer = request[4..8].to_vec(); // echo the correlation id
            answer.extend_from_slice(&body);
            let mut frame = (answer.len() as i32).to_be_bytes().to_vec();
            frame.extend_from_slice(&answer);
            socket.write_all(&frame).unwrap();
        });
        (addr, server)
    }

    #[test]
    fn metadata_parses_a_canned_response_and_checks_correlation() {
        // Metadata v4.
        let mut body = Vec::new();
        body.extend_from_slice(&0i32.to_be_bytes()); // throttle
        body.extend_from_slice(&1i32.to_be_bytes()); // one broker
        body.extend_from_slice(&7i32.to_be_bytes());
        body.extend_from_slice(&9i16.to_be_bytes());
        body.extend_from_slice(b"127.0.0.1");
        body.extend_from_slice(&9092i32.to_be_bytes());
        body.extend_from_slice(&(-1i16).to_be_bytes()); // rack
        body.extend_from_slice(&3i16.to_be_bytes());
        body.extend_from_slice(b"abc");
        body.extend_from_slice(&7i32.to_be_bytes()); // controller
        body.extend_from_slice(&0i32.to_be_bytes()); // topics
        let (addr, server) = answer_once([0, 3, 0, 4], body);
        let snapshot = metadata(addr, Duration::from_secs(5)).unwrap();
        server.join().unwrap();
        assert_eq!(snapshot.cluster_id.as_deref(), Some("abc"));
        assert_eq!(snapshot.controller_id, 7);
        assert_eq!(
            snapshot.brokers,
            vec![BrokerAddress {
                node_id: 7,
                host: "127.0.0.1".into(),
                port: 9092
            }]
        );
    }

    #[test]
    fn api_version_ranges_parse_a_canned_response() {
        // ApiVersions v0.
        let mut body = Vec::new();
        body.extend_from_slice(&0i16.to_be_bytes()); // error code
        body.extend_from_slice(&2i32.to_be_bytes());
        for (key, min, max) in [(3i16, 0i16, 12i16), (18, 0, 3)] {
            for value in [key, min, max] {
                body.extend_from_slice(&value.to_be_bytes());
            }
        }
        let (addr, server) = answer_once([0, 18, 0, 0], body);
        let ranges = api_version_ranges(addr, Duration::from_secs(5)).unwrap();
        server.join().unwrap();
        assert_eq!(
            ranges,
            vec![
                ApiVersionRange {
                    api_key: 3,
                    min_version: 0,
                    max_version: 12
                },
                ApiVersionRange {
                    api_key: 18,
                    min_version: 0,
                    max_version: 3
                }
            ]
        );
    }
}
