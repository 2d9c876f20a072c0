//! The `nom` parsers for Kafka's primitive types, over plain byte slices.
//!
//! They know nothing of field names: [`Decoder`](super::Decoder) runs them and turns a
//! [`ParseError`] into a [`DecodeError`](crate::DecodeError) that says what was being read.

use nom::error::{ErrorKind, ParseError as NomParseError};
use nom::{IResult, Parser};

/// Why a primitive parser stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// The input ended; `needed` bytes were required in all.
    Incomplete {
        /// How many bytes the value needed from where it started.
        needed: usize,
    },
    /// A variable-length integer had more than `max_bytes` bytes.
    VarintTooLong {
        /// The most bytes the integer may take.
        max_bytes: usize,
    },
}

impl<'a> NomParseError<&'a [u8]> for ParseError {
    fn from_error_kind(_input: &'a [u8], _kind: ErrorKind) -> Self {
        ParseError::Incomplete { needed: 0 }
    }

    fn append(_input: &'a [u8], _kind: ErrorKind, other: Self) -> Self {
        other
    }
}

/// Result of a primitive parser.
pub type ParseResult<'a, T> = IResult<&'a [u8], T, ParseError>;

fn incomplete<T>(needed: usize) -> ParseResult<'static, T> {
    Err(nom::Err::Error(ParseError::Incomplete { needed }))
}

/// Takes exactly `N` bytes.
fn fixed<const N: usize>(input: &[u8]) -> ParseResult<'_, [u8; N]> {
    match input.split_first_chunk::<N>() {
        Some((head, rest)) => Ok((rest, *head)),
        None => incomplete(N),
    }
}

macro_rules! big_endian {
    ($($(#[$doc:meta])* $name:ident -> $ty:ty;)*) => {$(
        $(#[$doc])*
        pub fn $name(input: &[u8]) -> ParseResult<'_, $ty> {
            fixed::<{ std::mem::size_of::<$ty>() }>
                .map(<$ty>::from_be_bytes)
                .parse(input)
        }
    )*};
}

big_endian! {
    /// A signed 8-bit integer.
    int8 -> i8;
    /// A signed big-endian 16-bit integer.
    int16 -> i16;
    /// A signed big-endian 32-bit integer.
    int32 -> i32;
    /// A signed big-endian 64-bit integer.
    int64 -> i64;
    /// An unsigned big-endian 16-bit integer.
    uint16 -> u16;
    /// An unsigned big-endian 32-bit integer.
    uint32 -> u32;
    /// An IEEE 754 double, big-endian.
    float64 -> f64;
}

/// Sixteen raw bytes, as a UUID is sent.
pub fn uuid_bytes(input: &[u8]) -> ParseResult<'_, [u8; 16]> {
    fixed::<16>(input)
}

/// An unsigned LEB128 integer of at most `max_bytes` bytes (5 for 32 bits, 10 for 64).
fn unsigned_leb128(input: &[u8], max_bytes: usize) -> ParseResult<'_, u64> {
    let mut value: u64 = 0;
    for (index, &byte) in input.iter().enumerate() {
        if index == max_bytes {
            return Err(nom::Err::Error(ParseError::VarintTooLong { max_bytes }));
        }
        value |= u64::from(byte & 0x7f) << (7 * index);
        if byte & 0x80 == 0 {
            return Ok((&input[index + 1..], value));
        }
    }
    if input.len() >= max_bytes {
        return Err(nom::Err::Error(ParseError::VarintTooLong { max_bytes }));
    }
    incomplete(input.len() + 1)
}

/// An unsigned varint (at most 5 bytes), as used for compact lengths and tags.
///
/// Like Kafka's own reader, the high bits of a fifth byte are dropped rather than rejected.
pub fn unsigned_varint(input: &[u8]) -> ParseResult<'_, u32> {
    unsigned_leb128(input, 5).map(|(rest, value)| (rest, value as u32))
}

/// A zig-zag encoded signed varint (at most 5 bytes).
pub fn varint(input: &[u8]) -> ParseResult<'_, i32> {
    unsigned_varint(input).map(|(rest, raw)| (rest, ((raw >> 1) as i32) ^ -((raw & 1) as i32)))
}

/// A zig-zag encoded signed varlong (at most 10 bytes).
pub fn varlong(input: &[u8]) -> ParseResult<'_, i64> {
    unsigned_leb128(input, 10).map(|(rest, raw)| (rest, ((raw >> 1) as i64) ^ -((raw & 1) as i64)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_big_endian_integers() {
        assert_eq!(int32(&[0, 0, 1, 2, 9]), Ok((&[9u8][..], 258)));
        assert_eq!(int16(&[0xff, 0xfe]), Ok((&[][..], -2)));
        assert_eq!(
            int64(&[0, 0, 0]),
            Err(nom::Err::Error(ParseError::Incomplete { needed: 8 }))
        );
    }

    #[test]
    fn reads_zigzag_varints() {
        assert_eq!(varint(&[0x00]), Ok((&[][..], 0)));
        assert_eq!(varint(&[0x01]), Ok((&[][..], -1)));
        assert_eq!(varint(&[0x02]), Ok((&[][..], 1)));
        assert_eq!(
            varint(&[0xff, 0xff, 0xff, 0xff, 0x0f]),
            Ok((&[][..], i32::MIN))
        );
        assert_eq!(unsigned_varint(&[0xac, 0x02]), Ok((&[][..], 300)));
    }

    #[test]
    fn varint_rejects_a_sixth_byte() {
        assert_eq!(
            unsigned_varint(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),
            Err(nom::Err::Error(ParseError::VarintTooLong { max_bytes: 5 }))
        );
    }

    #[test]
    fn varint_reports_truncation() {
        assert_eq!(
            unsigned_varint(&[0x80, 0x80]),
            Err(nom::Err::Error(ParseError::Incomplete { needed: 3 }))
        );
    }
}
