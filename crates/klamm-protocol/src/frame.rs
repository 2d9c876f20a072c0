//! Request frames as a client sends them: a 4-byte size, the request header, then the body.
//!
//! [`encode_request`] writes the three in one pass into the room a buffer already has and
//! patches the size afterwards, so no size is computed first; `klamm-net` sends what it writes.

use bytes::BytesMut;

use crate::messages::RequestHeader;
use crate::primitives::{append_single_pass, Sink};
use crate::{Encode, EncodeError};

/// The bytes of the size prefix.
const SIZE_PREFIX: usize = 4;

/// Appends a size-prefixed request frame to `buf`: `header` as `header_version`, then `body`
/// as `version`, in one pass into `buf`'s spare capacity (see
/// [`Encode::encode_single_pass`]), the size patched in at the end. On error `buf` is left as
/// it was.
///
/// ```
/// use bytes::BytesMut;
/// use klamm_protocol::messages::{MetadataRequest, RequestHeader};
/// use klamm_protocol::{frame, ApiKey};
///
/// let header = RequestHeader::default()
///     .with_request_api_key(ApiKey::Metadata.key())
///     .with_request_api_version(12)
///     .with_correlation_id(7);
/// let mut buf = BytesMut::with_capacity(256);
/// frame::encode_request(&mut buf, &header, 2, &MetadataRequest::default(), 12)?;
/// let size = u32::from_be_bytes(buf[..4].try_into().unwrap()) as usize;
/// assert_eq!(size, buf.len() - 4);
/// # Ok::<(), klamm_protocol::EncodeError>(())
/// ```
pub fn encode_request(
    buf: &mut BytesMut,
    header: &RequestHeader,
    header_version: i16,
    body: &impl Encode,
    version: i16,
) -> Result<(), EncodeError> {
    let start = buf.len();
    append_single_pass(
        buf,
        || SIZE_PREFIX + header.encoded_len(header_version) + body.encoded_len(version),
        |writer| {
            writer.put_u32(0); // patched below, once the size is known
            header.write_to(writer, header_version)?;
            body.write_to(writer, version)
        },
    )?;
    let size = buf.len() - start - SIZE_PREFIX;
    let Ok(size) = i32::try_from(size) else {
        buf.truncate(start);
        return Err(EncodeError::TooLong {
            what: "request frame",
            length: size,
            max: i32::MAX as usize,
        });
    };
    buf[start..start + SIZE_PREFIX].copy_from_slice(&size.to_be_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::MetadataRequest;
    use crate::Message;

    #[test]
    fn a_request_frame_is_the_size_the_header_and_the_body() {
        let header = RequestHeader::default()
            .with_request_api_key(3)
            .with_request_api_version(12)
            .with_correlation_id(9)
            .with_client_id(Some("klamm".into()));
        let body = MetadataRequest::default().with_topics(None);
        for capacity in [0, 5, 4096] {
            let mut buf = BytesMut::with_capacity(capacity);
            encode_request(&mut buf, &header, 2, &body, 12).unwrap();
            let mut expected = Vec::new();
            let (head, rest) = (header.to_bytes(2).unwrap(), body.to_bytes(12).unwrap());
            expected.extend_from_slice(&((head.len() + rest.len()) as u32).to_be_bytes());
            expected.extend_from_slice(&head);
            expected.extend_from_slice(&rest);
            assert_eq!(&buf[..], &expected[..], "capacity {capacity}");
        }
    }

    #[test]
    fn a_body_that_cannot_be_written_leaves_the_buffer_alone() {
        let header = RequestHeader::default();
        let body = MetadataRequest::default().with_topics(None);
        let mut buf = BytesMut::with_capacity(64);
        buf.extend_from_slice(b"queued");
        // Version 0 has no "all topics" null.
        assert!(encode_request(&mut buf, &header, 1, &body, 0).is_err());
        assert_eq!(&buf[..], b"queued");
    }
}
