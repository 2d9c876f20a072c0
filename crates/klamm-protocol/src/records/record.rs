//! [`Record`] and [`RecordHeader`]: one record inside a v2 batch, as Kafka's `DefaultRecord`
//! lays it out.
//!
//! ```text
//! length: varint            bytes that follow, up to the end of the headers
//! attributes: int8          unused, written as 0
//! timestampDelta: varlong   from the batch's baseTimestamp
//! offsetDelta: varint       from the batch's baseOffset
//! keyLength: varint, key    -1 for a null key
//! valueLength: varint, value
//! headerCount: varint, then per header:
//!   keyLength: varint, key (UTF-8, never null)
//!   valueLength: varint, value (-1 for null)
//! ```

use bytes::{BufMut, Bytes, BytesMut};

use crate::primitives::encoder::{put_varint, put_varlong, varint_len, varlong_len};
use crate::primitives::{Decoder, KafkaString};
use crate::{DecodeError, DecodeErrorKind, EncodeError};

/// The fewest bytes a record can take: a one-byte length and six one-byte fields.
pub(super) const MIN_RECORD_LEN: usize = 7;
/// The fewest bytes a header can take: two one-byte lengths.
const MIN_HEADER_LEN: usize = 2;

/// One record of a [`RecordBatch`](super::RecordBatch).
///
/// Offsets and timestamps are deltas from the batch's base; the batch turns them into absolute
/// values with [`offset_of`](super::RecordBatch::offset_of) and
/// [`timestamp_of`](super::RecordBatch::timestamp_of). Decoded keys, values and headers are
/// slices of the batch's bytes (or of its decompressed records), not copies.
///
/// ```
/// use klamm_protocol::records::Record;
///
/// let record = Record::new()
///     .with_key("user-17")
///     .with_value(r#"{"clicks":3}"#)
///     .with_header("trace-id", "abc123");
/// assert_eq!(record.key.as_deref(), Some(&b"user-17"[..]));
/// assert_eq!(record.headers[0].key, "trace-id");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Record {
    /// Offset relative to the batch's base offset.
    pub offset_delta: i32,
    /// Timestamp relative to the batch's base timestamp, in milliseconds.
    pub timestamp_delta: i64,
    /// The key; `None` is a null key (as opposed to an empty one).
    pub key: Option<Bytes>,
    /// The value; `None` is a null value, a tombstone on compacted topics.
    pub value: Option<Bytes>,
    /// The headers, in order; keys may repeat.
    pub headers: Vec<RecordHeader>,
}

/// One header of a [`Record`]: a UTF-8 key and an optional value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct RecordHeader {
    /// The header's name.
    pub key: KafkaString,
    /// Its value; `None` is null.
    pub value: Option<Bytes>,
}

impl RecordHeader {
    /// A header with a value.
    pub fn new(key: impl Into<KafkaString>, value: impl Into<Bytes>) -> Self {
        RecordHeader {
            key: key.into(),
            value: Some(value.into()),
        }
    }

    /// A header whose value is null.
    pub fn null(key: impl Into<KafkaString>) -> Self {
        RecordHeader {
            key: key.into(),
            value: None,
        }
    }

    fn body_len(&self) -> usize {
        length_prefixed_len(Some(self.key.len()))
            + length_prefixed_len(self.value.as_ref().map(Bytes::len))
    }
}

impl Record {
    /// A record with a null key, a null value, no headers and zero deltas.
    ///
    /// [`RecordBatchBuilder::record`](super::RecordBatchBuilder::record) sets the deltas.
    pub fn new() -> Self {
        Record::default()
    }

    /// Sets the key.
    #[must_use]
    pub fn with_key(mut self, key: impl Into<Bytes>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Sets the value.
    #[must_use]
    pub fn with_value(mut self, value: impl Into<Bytes>) -> Self {
        self.value = Some(value.into());
        self
    }

    /// Adds a header with a value.
    #[must_use]
    pub fn with_header(mut self, key: impl Into<KafkaString>, value: impl Into<Bytes>) -> Self {
        self.headers.push(RecordHeader::new(key, value));
        self
    }

    /// Adds a header whose value is null.
    #[must_use]
    pub fn with_null_header(mut self, key: impl Into<KafkaString>) -> Self {
        self.headers.push(RecordHeader::null(key));
        self
    }

    /// Bytes the record takes after its length prefix.
    fn body_len(&self) -> usize {
        let headers = self
            .headers
            .iter()
            .fold(0usize, |sum, header| sum.saturating_add(header.body_len()));
        1usize
            .saturating_add(varlong_len(self.timestamp_delta))
            .saturating_add(varint_len(self.offset_delta))
            .saturating_add(length_prefixed_len(self.key.as_ref().map(Bytes::len)))
            .saturating_add(length_prefixed_len(self.value.as_ref().map(Bytes::len)))
            .saturating_add(count_len(self.headers.len()))
            .saturating_add(headers)
    }

    /// Bytes the record takes on the wire, length prefix included.
    pub fn encoded_len(&self) -> usize {
        let body = self.body_len();
        count_len(body).saturating_add(body)
    }

    /// Writes the record. Fails if a length does not fit the varint Kafka gives it.
    pub(super) fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let body = checked_i32("Record.length", self.body_len())?;
        buf.reserve(varint_len(body) + body as usize);
        put_varint(buf, body);
        buf.put_i8(0);
        put_varlong(buf, self.timestamp_delta);
        put_varint(buf, self.offset_delta);
        put_nullable(buf, "Record.key", self.key.as_deref())?;
        put_nullable(buf, "Record.value", self.value.as_deref())?;
        put_varint(buf, checked_i32("Record.headers", self.headers.len())?);
        for header in &self.headers {
            put_nullable(buf, "RecordHeader.key", Some(header.key.as_bytes()))?;
            put_nullable(buf, "RecordHeader.value", header.value.as_deref())?;
        }
        Ok(())
    }

    /// Reads the record at the decoder's position, checking its length prefix against the bytes
    /// its fields take. `base_offset` and `index` only label errors.
    pub(super) fn decode(
        decoder: &mut Decoder<'_>,
        base_offset: i64,
        index: usize,
    ) -> Result<Self, DecodeError> {
        let declared = decoder.varint("Record.length")?;
        let declared = usize::try_from(declared).map_err(|_| DecodeErrorKind::InvalidLength {
            what: "Record.length",
            length: i64::from(declared),
        })?;
        if declared > decoder.remaining() {
            return Err(DecodeErrorKind::LengthExceedsInput {
                what: "Record.length",
                length: declared as u64,
                remaining: decoder.remaining(),
            }
            .into());
        }
        let start = decoder.remaining();
        // Kafka ignores the record attributes; there is nothing in them to keep.
        decoder.int8("Record.attributes")?;
        let timestamp_delta = decoder.varlong("Record.timestampDelta")?;
        let offset_delta = decoder.varint("Record.offsetDelta")?;
        let key = nullable(decoder, "Record.key")?;
        let value = nullable(decoder, "Record.value")?;
        let count = decoder.varint("Record.headers")?;
        let count = checked_count(decoder, "Record.headers", count, MIN_HEADER_LEN)?;
        let mut headers = Vec::with_capacity(count);
        for _ in 0..count {
            let key = header_key(decoder)?;
            let value = nullable(decoder, "RecordHeader.value")?;
            headers.push(RecordHeader { key, value });
        }
        let used = start - decoder.remaining();
        if used != declared {
            return Err(DecodeErrorKind::RecordLengthMismatch {
                base_offset,
                index,
                declared,
                used,
            }
            .into());
        }
        Ok(Record {
            offset_delta,
            timestamp_delta,
            key,
            value,
            headers,
        })
    }
}

/// Checks a count read from the wire: not negative, and not more elements of at least
/// `min_len` bytes each than the bytes left could hold. Runs before anything is allocated.
pub(super) fn checked_count(
    decoder: &Decoder<'_>,
    what: &'static str,
    count: i32,
    min_len: usize,
) -> Result<usize, DecodeError> {
    let count = usize::try_from(count).map_err(|_| DecodeErrorKind::InvalidLength {
        what,
        length: i64::from(count),
    })?;
    if count.saturating_mul(min_len) > decoder.remaining() {
        return Err(DecodeErrorKind::LengthExceedsInput {
            what,
            length: count as u64,
            remaining: decoder.remaining(),
        }
        .into());
    }
    Ok(count)
}

/// Reads varint-length-prefixed bytes where -1 means null.
fn nullable(decoder: &mut Decoder<'_>, what: &'static str) -> Result<Option<Bytes>, DecodeError> {
    varint_length(decoder, what)?
        .map(|length| decoder.take(what, length))
        .transpose()
}

/// Reads a header key: a varint-length-prefixed string that may not be null.
fn header_key(decoder: &mut Decoder<'_>) -> Result<KafkaString, DecodeError> {
    const WHAT: &str = "RecordHeader.key";
    let length =
        varint_length(decoder, WHAT)?.ok_or(DecodeErrorKind::UnexpectedNull { what: WHAT })?;
    decoder.take_string(WHAT, length)
}

/// Reads a varint length prefix: `None` for -1 (null), an error below that.
fn varint_length(
    decoder: &mut Decoder<'_>,
    what: &'static str,
) -> Result<Option<usize>, DecodeError> {
    match decoder.varint(what)? {
        -1 => Ok(None),
        length if length < -1 => Err(DecodeErrorKind::InvalidLength {
            what,
            length: i64::from(length),
        }
        .into()),
        length => Ok(Some(length as usize)),
    }
}

/// Writes varint-length-prefixed bytes, -1 for null.
fn put_nullable(
    buf: &mut BytesMut,
    what: &'static str,
    value: Option<&[u8]>,
) -> Result<(), EncodeError> {
    match value {
        None => put_varint(buf, -1),
        Some(value) => {
            put_varint(buf, checked_i32(what, value.len())?);
            buf.put_slice(value);
        }
    }
    Ok(())
}

/// Bytes a varint-length-prefixed field takes, prefix included.
fn length_prefixed_len(length: Option<usize>) -> usize {
    match length {
        None => varint_len(-1),
        Some(length) => count_len(length).saturating_add(length),
    }
}

/// Bytes a length or count takes as a varint; oversized values are caught when writing.
fn count_len(count: usize) -> usize {
    varint_len(i32::try_from(count).unwrap_or(i32::MAX))
}

/// A length or count as the i32 Kafka stores it, or [`EncodeError::TooLong`].
pub(super) fn checked_i32(what: &'static str, length: usize) -> Result<i32, EncodeError> {
    i32::try_from(length).map_err(|_| EncodeError::TooLong {
        what,
        length,
        max: i32::MAX as usize,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(record: &Record) -> Bytes {
        let mut buf = BytesMut::new();
        record.encode(&mut buf).unwrap();
        assert_eq!(buf.len(), record.encoded_len());
        buf.freeze()
    }

    fn decode(bytes: &Bytes) -> Result<Record, DecodeError> {
        let mut decoder = Decoder::new(bytes);
        let record = Record::decode(&mut decoder, 0, 0)?;
        decoder.finish("test")?;
        Ok(record)
    }

    #[test]
    fn encodes_a_record_byte_for_byte() {
        let record = Record::new()
            .with_key("key")
            .with_value("value")
            .with_header("h1", "v1");
        let expected: &[u8] = &[
            0x28, // length 20, zig-zag
            0x00, // attributes
            0x00, // timestampDelta 0
            0x00, // offsetDelta 0
            0x06, b'k', b'e', b'y', // key, length 3
            0x0a, b'v', b'a', b'l', b'u', b'e', // value, length 5
            0x02, // one header
            0x04, b'h', b'1', 0x04, b'v', b'1',
        ];
        assert_eq!(&encode(&record)[..], expected);
    }

    #[test]
    fn null_and_empty_are_different() {
        let record = Record::new().with_value("").with_null_header("h");
        let bytes = encode(&record);
        // key -1 is 0x01 zig-zag; value length 0 is 0x00; header value -1 is 0x01.
        assert_eq!(
            &bytes[..],
            &[0x12, 0, 0, 0, 0x01, 0x00, 0x02, 0x02, b'h', 0x01]
        );
        assert_eq!(decode(&bytes), Ok(record));
    }

    #[test]
    fn decoded_fields_share_the_input() {
        let bytes = encode(&Record::new().with_key("kk").with_value("vvv"));
        let record = decode(&bytes).unwrap();
        let value = record.value.unwrap();
        assert_eq!(value.as_ptr(), bytes[bytes.len() - 4..].as_ptr());
    }

    #[test]
    fn length_prefix_must_match_the_fields() {
        let mut bytes = encode(&Record::new().with_value("abc")).to_vec();
        bytes.push(0xee);
        // Declares one byte more than the fields take.
        bytes[0] += 2;
        assert_eq!(
            decode(&Bytes::from(bytes.clone())),
            Err(DecodeErrorKind::RecordLengthMismatch {
                base_offset: 0,
                index: 0,
                declared: 10,
                used: 9
            }
            .into())
        );
        // Declares one byte fewer than the fields take.
        bytes[0] -= 4;
        assert!(matches!(
            decode(&Bytes::from(bytes)).map_err(DecodeError::into_kind),
            Err(DecodeErrorKind::RecordLengthMismatch {
                declared: 8,
                used: 9,
                ..
            })
        ));
    }

    #[test]
    fn header_count_is_checked_before_allocating() {
        // length 5, attributes, deltas, null key and value, then 2^30 headers.
        let bytes = Bytes::from_static(&[0x0e, 0, 0, 0, 0x01, 0x01, 0x80, 0x80, 0x80, 0x80, 0x08]);
        assert!(matches!(
            decode(&bytes).map_err(DecodeError::into_kind),
            Err(DecodeErrorKind::LengthExceedsInput {
                what: "Record.headers",
                ..
            })
        ));
    }

    #[test]
    fn rejects_bad_lengths_and_header_keys() {
        // Negative record length.
        assert!(matches!(
            decode(&Bytes::from_static(&[0x03])).map_err(DecodeError::into_kind),
            Err(DecodeErrorKind::InvalidLength {
                what: "Record.length",
                length: -2
            })
        ));
        // Key length -2.
        assert!(matches!(
            decode(&Bytes::from_static(&[0x0c, 0, 0, 0, 0x03, 0x01, 0x00]))
                .map_err(DecodeError::into_kind),
            Err(DecodeErrorKind::InvalidLength {
                what: "Record.key",
                length: -2
            })
        ));
        // A null header key.
        assert!(matches!(
            decode(&Bytes::from_static(&[
                0x0e, 0, 0, 0, 0x01, 0x01, 0x02, 0x01, 0x01
            ]))
            .map_err(DecodeError::into_kind),
            Err(DecodeErrorKind::UnexpectedNull {
                what: "RecordHeader.key"
            })
        ));
        // A header key that is not UTF-8.
        assert!(matches!(
            decode(&Bytes::from_static(&[
                0x10, 0, 0, 0, 0x01, 0x01, 0x02, 0x02, 0xff, 0x01
            ]))
            .map_err(DecodeError::into_kind),
            Err(DecodeErrorKind::InvalidUtf8 {
                what: "RecordHeader.key"
            })
        ));
    }
}
