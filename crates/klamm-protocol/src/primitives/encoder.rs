//! Writers for Kafka's primitive types, and the sizes they take on the wire.
//!
//! Fixed-width integers are written with the [`Sink`] methods directly; this module adds the
//! variable-length and length-prefixed types. Each writer has a `*_len` twin so a message can
//! compute its encoded size up front and write into a buffer of exactly that size.

use super::{Sink, UnknownTaggedFields};
use crate::EncodeError;

/// Bytes an unsigned varint takes.
#[inline(always)]
pub const fn unsigned_varint_len(value: u32) -> usize {
    match value {
        0..=0x7f => 1,
        0x80..=0x3fff => 2,
        0x4000..=0x1f_ffff => 3,
        0x20_0000..=0xfff_ffff => 4,
        _ => 5,
    }
}

/// Bytes an unsigned 64-bit LEB128 value takes.
const fn unsigned_varlong_len(mut value: u64) -> usize {
    let mut len = 1;
    while value >= 0x80 {
        value >>= 7;
        len += 1;
    }
    len
}

/// Writes an unsigned varint.
#[inline]
pub fn put_unsigned_varint(buf: &mut impl Sink, mut value: u32) {
    while value >= 0x80 {
        buf.put_u8((value as u8) | 0x80);
        value >>= 7;
    }
    buf.put_u8(value as u8);
}

fn put_unsigned_varlong(buf: &mut impl Sink, mut value: u64) {
    while value >= 0x80 {
        buf.put_u8((value as u8) | 0x80);
        value >>= 7;
    }
    buf.put_u8(value as u8);
}

fn zigzag32(value: i32) -> u32 {
    ((value << 1) ^ (value >> 31)) as u32
}

fn zigzag64(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

/// Writes a zig-zag signed varint.
pub fn put_varint(buf: &mut impl Sink, value: i32) {
    put_unsigned_varint(buf, zigzag32(value));
}

/// Bytes a zig-zag signed varint takes.
pub fn varint_len(value: i32) -> usize {
    unsigned_varint_len(zigzag32(value))
}

/// Writes a zig-zag signed varlong.
pub fn put_varlong(buf: &mut impl Sink, value: i64) {
    put_unsigned_varlong(buf, zigzag64(value));
}

/// Bytes a zig-zag signed varlong takes.
pub fn varlong_len(value: i64) -> usize {
    unsigned_varlong_len(zigzag64(value))
}

/// Writes a boolean as one byte, 1 or 0.
#[inline]
pub fn put_bool(buf: &mut impl Sink, value: bool) {
    buf.put_u8(u8::from(value));
}

/// Writes the length prefix of a nullable sequence: `None` is null.
///
/// Compact prefixes are an unsigned varint of length + 1 (0 for null); classic ones are int16
/// for strings (`wide == false`) and int32 for bytes and arrays.
#[inline(always)]
pub fn put_length(
    buf: &mut impl Sink,
    what: &'static str,
    length: Option<usize>,
    compact: bool,
    wide: bool,
) -> Result<(), EncodeError> {
    let max = if compact {
        u32::MAX as usize - 1
    } else if wide {
        i32::MAX as usize
    } else {
        i16::MAX as usize
    };
    match length {
        Some(length) if length > max => Err(too_long(what, length, max)),
        Some(length) if compact => {
            put_unsigned_varint(buf, length as u32 + 1);
            Ok(())
        }
        Some(length) if wide => {
            buf.put_i32(length as i32);
            Ok(())
        }
        Some(length) => {
            buf.put_i16(length as i16);
            Ok(())
        }
        None if compact => {
            put_unsigned_varint(buf, 0);
            Ok(())
        }
        None if wide => {
            buf.put_i32(-1);
            Ok(())
        }
        None => {
            buf.put_i16(-1);
            Ok(())
        }
    }
}

#[cold]
#[inline(never)]
fn too_long(what: &'static str, length: usize, max: usize) -> EncodeError {
    EncodeError::TooLong { what, length, max }
}

/// Bytes a length prefix takes.
#[inline(always)]
pub fn length_len(length: Option<usize>, compact: bool, wide: bool) -> usize {
    match (compact, wide) {
        (true, _) => unsigned_varint_len(length.map_or(0, |l| (l as u32).saturating_add(1))),
        (false, true) => 4,
        (false, false) => 2,
    }
}

/// Writes a nullable string, compact or classic.
#[inline(always)]
pub fn put_nullable_string(
    buf: &mut impl Sink,
    what: &'static str,
    value: Option<&str>,
    compact: bool,
) -> Result<(), EncodeError> {
    put_length(buf, what, value.map(str::len), compact, false)?;
    if let Some(value) = value {
        buf.put_slice(value.as_bytes());
    }
    Ok(())
}

/// Bytes a nullable string of `len` bytes takes, `None` being null.
///
/// It takes the length rather than the string so a [`KafkaString`](super::KafkaString) can
/// answer from its handle without reading the buffer it shares.
#[inline(always)]
pub fn nullable_string_len(len: Option<usize>, compact: bool) -> usize {
    length_len(len, compact, false) + len.unwrap_or(0)
}

/// Writes nullable bytes, compact or classic.
#[inline(always)]
pub fn put_nullable_bytes(
    buf: &mut impl Sink,
    what: &'static str,
    value: Option<&[u8]>,
    compact: bool,
) -> Result<(), EncodeError> {
    put_length(buf, what, value.map(<[u8]>::len), compact, true)?;
    if let Some(value) = value {
        buf.put_slice(value);
    }
    Ok(())
}

/// Bytes a nullable byte array takes.
#[inline(always)]
pub fn nullable_bytes_len(value: Option<&[u8]>, compact: bool) -> usize {
    let len = value.map(<[u8]>::len);
    length_len(len, compact, true) + len.unwrap_or(0)
}

/// Writes a nullable array of `int32`, compact or classic.
#[inline(always)]
pub fn put_int32_array(
    buf: &mut impl Sink,
    what: &'static str,
    values: Option<&[i32]>,
    compact: bool,
) -> Result<(), EncodeError> {
    put_length(buf, what, values.map(<[i32]>::len), compact, true)?;
    if let Some(values) = values {
        for value in values {
            buf.put_i32(*value);
        }
    }
    Ok(())
}

/// Writes the unknown tagged fields kept from decoding, interleaved in tag order with the
/// known ones a message writes itself.
///
/// A message writes the field count, then for each known tag in ascending order calls
/// [`write_before`](Self::write_before) before writing that field, then [`finish`](Self::finish).
pub struct UnknownTagWriter<'a> {
    fields: std::iter::Peekable<super::tagged::Iter<'a>>,
}

impl<'a> UnknownTagWriter<'a> {
    /// Starts writing `unknown`.
    #[inline]
    pub fn new(unknown: &'a UnknownTaggedFields) -> Self {
        UnknownTagWriter {
            fields: unknown.iter().peekable(),
        }
    }

    /// Writes every unknown field whose tag sorts before `tag`.
    #[inline]
    pub fn write_before(&mut self, buf: &mut impl Sink, tag: u32) {
        while let Some((unknown_tag, value)) = self.fields.next_if(|(t, _)| *t < tag) {
            put_unsigned_varint(buf, unknown_tag);
            put_unsigned_varint(buf, value.len() as u32);
            buf.put_slice(value);
        }
    }

    /// Writes the unknown fields that are left.
    #[inline]
    pub fn finish(mut self, buf: &mut impl Sink) {
        self.write_before(buf, u32::MAX);
        if let Some((tag, value)) = self.fields.next() {
            put_unsigned_varint(buf, tag);
            put_unsigned_varint(buf, value.len() as u32);
            buf.put_slice(value);
        }
    }
}

/// Writes the tagged-field section of a struct that has no known tagged fields: just the
/// unknown ones kept from decoding, usually none (a single zero byte).
#[inline(always)]
pub fn put_unknown_tagged_fields(buf: &mut impl Sink, unknown: &UnknownTaggedFields) {
    if unknown.is_empty() {
        buf.put_u8(0);
    } else {
        put_unknown_tagged_fields_slow(buf, unknown);
    }
}

#[cold]
#[inline(never)]
fn put_unknown_tagged_fields_slow(buf: &mut impl Sink, unknown: &UnknownTaggedFields) {
    put_unsigned_varint(buf, unknown.len() as u32);
    UnknownTagWriter::new(unknown).finish(buf);
}

/// Bytes [`put_unknown_tagged_fields`] writes.
#[inline(always)]
pub fn unknown_tagged_fields_len(unknown: &UnknownTaggedFields) -> usize {
    unsigned_varint_len(unknown.len() as u32) + unknown.encoded_len()
}

/// Bytes one tagged field takes: its tag, its size and its value.
#[inline]
pub fn tagged_field_len(tag: u32, size: usize) -> usize {
    unsigned_varint_len(tag) + unsigned_varint_len(size as u32) + size
}

#[cfg(test)]
mod tests {
    use bytes::BytesMut;

    use super::*;
    use crate::primitives::Decoder;

    #[test]
    fn varint_lengths_match_the_bytes_written() {
        for value in [0, 1, -1, 63, -64, 64, 8191, -8192, i32::MAX, i32::MIN] {
            let mut buf = BytesMut::new();
            put_varint(&mut buf, value);
            assert_eq!(buf.len(), varint_len(value), "value {value}");
            let frozen = buf.freeze();
            assert_eq!(Decoder::new(&frozen).varint("v"), Ok(value));
        }
        for value in [0, 1, -1, i64::MAX, i64::MIN, 1 << 40] {
            let mut buf = BytesMut::new();
            put_varlong(&mut buf, value);
            assert_eq!(buf.len(), varlong_len(value), "value {value}");
            let frozen = buf.freeze();
            assert_eq!(Decoder::new(&frozen).varlong("v"), Ok(value));
        }
    }

    #[test]
    fn classic_string_longer_than_int16_is_refused() {
        let long = "x".repeat(40_000);
        let mut buf = BytesMut::new();
        assert_eq!(
            put_nullable_string(&mut buf, "name", Some(&long), false),
            Err(EncodeError::TooLong {
                what: "name",
                length: 40_000,
                max: i16::MAX as usize
            })
        );
        assert!(put_nullable_string(&mut buf, "name", Some(&long), true).is_ok());
    }

    #[test]
    fn compact_null_is_zero() {
        let mut buf = BytesMut::new();
        put_nullable_string(&mut buf, "s", None, true).unwrap();
        put_nullable_bytes(&mut buf, "b", None, false).unwrap();
        assert_eq!(&buf[..], &[0, 0xff, 0xff, 0xff, 0xff]);
    }
}
