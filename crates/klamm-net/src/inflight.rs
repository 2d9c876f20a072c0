//! A request on the wire: encoding it with its request header into one length-prefixed frame.

use bytes::BytesMut;
use klamm_protocol::messages::RequestHeader;
use klamm_protocol::primitives::KafkaString;
use klamm_protocol::{ApiKey, Encode, EncodeError};


/// Encodes `body` as `version` of `api`, with a request header, into one length-prefixed frame.
///
/// The header version follows [`ApiKey::request_header_version`].
pub fn encode_request_frame(
    api: ApiKey,
    version: i16,
    correlation_id: i32,
    client_id: &str,
    body: &impl Encode,
) -> Result<BytesMut, EncodeError> {
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
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use klamm_protocol::messages::MetadataRequest;
    use klamm_protocol::primitives::Decoder;
    use klamm_protocol::{Decode, Message};

    #[test]
    fn request_frame_has_prefix_header_and_body() {
        let body = MetadataRequest::default();
        let frame = encode_request_frame(ApiKey::Metadata, 12, 42, "klamm", &body)
            .unwrap()
            .freeze();
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
}
