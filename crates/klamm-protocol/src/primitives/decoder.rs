//! [`Decoder`]: a cursor over one frame that reads Kafka's primitive types.
//!
//! Strings and byte fields come out as cheap slices of the frame's shared [`Bytes`], so decoding
//! a large response copies almost nothing. Every length prefix is checked against the bytes
//! actually left before anything is allocated.

use std::sync::Arc;

use bytes::Bytes;

use super::parse::{self, ParseError, ParseResult};
#[cfg(feature = "view")]
use super::string::is_utf8;
use super::{Int32Vec, KafkaString, UnknownTaggedFields, Uuid};
#[cfg(feature = "view")]
use crate::view::Cursor;
use crate::{DecodeError, DecodeErrorKind};

/// A cursor over a frame that reads Kafka's primitive types.
///
/// ```
/// use bytes::Bytes;
/// use klamm_protocol::primitives::Decoder;
///
/// let frame = Bytes::from_static(&[0, 5, b'h', b'e', b'l', b'l', b'o', 0, 0, 0, 7]);
/// let mut decoder = Decoder::new(&frame);
/// assert_eq!(decoder.string("greeting", false)?, "hello");
/// assert_eq!(decoder.int32("count")?, 7);
/// assert!(decoder.is_empty());
/// # Ok::<(), klamm_protocol::DecodeError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Decoder<'a> {
    frame: &'a Bytes,
    rest: &'a [u8],
    /// `frame` behind an `Arc`, made at the first string: every decoded string shares it.
    shared: Option<Arc<Bytes>>,
}

/// `items.push(item)` where the vector must grow: never, for the arrays the decoder sizes.
#[cold]
#[inline(never)]
fn push_growing<T>(items: &mut Vec<T>, item: T) {
    items.push(item);
}

#[cold]
#[inline(never)]
fn decode_error(what: &'static str, error: ParseError, remaining: usize) -> DecodeError {
    match error {
        ParseError::Incomplete { needed } => DecodeErrorKind::UnexpectedEnd {
            what,
            needed,
            remaining,
        }
        .into(),
        ParseError::VarintTooLong { max_bytes } => {
            DecodeErrorKind::VarintTooLong { what, max_bytes }.into()
        }
    }
}

impl<'a> Decoder<'a> {
    /// Starts reading at the beginning of `frame`.
    pub fn new(frame: &'a Bytes) -> Self {
        Decoder {
            frame,
            rest: frame.as_ref(),
            shared: None,
        }
    }

    /// Starts reading `frame` at `offset` (at its end, if it is shorter than that).
    #[cfg(feature = "view")]
    #[inline(always)]
    pub(crate) fn at(frame: &'a Bytes, offset: u32) -> Self {
        let offset = (offset as usize).min(frame.len());
        Decoder {
            frame,
            rest: &frame[offset..],
            shared: None,
        }
    }

    /// Where the next read starts in the frame; frames views read are under 4 GiB.
    #[cfg(feature = "view")]
    #[inline(always)]
    pub(crate) fn position(&self) -> u32 {
        self.offset() as u32
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// Whether everything has been read.
    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// Runs `read` on this decoder moved into a local variable, then takes it back.
    ///
    /// A decoder behind a `&mut` lives in memory, and every value the read stores (each
    /// element pushed onto an array) could, for all the compiler knows, change it: so each
    /// read reloads the position. A local copy nobody else can see stays in registers.
    #[inline(always)]
    pub(crate) fn in_place<R>(&mut self, read: impl FnOnce(&mut Decoder<'a>) -> R) -> R {
        let mut local = Decoder {
            frame: self.frame,
            rest: self.rest,
            shared: self.shared.take(),
        };
        let result = read(&mut local);
        self.rest = local.rest;
        self.shared = local.shared;
        result
    }

    /// Fails unless everything has been read.
    pub fn finish(&self, what: &'static str) -> Result<(), DecodeError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(DecodeErrorKind::TrailingBytes {
                what,
                remaining: self.rest.len(),
            }
            .into())
        }
    }

    #[inline(always)]
    fn run<T>(
        &mut self,
        what: &'static str,
        parser: impl FnOnce(&'a [u8]) -> ParseResult<'a, T>,
    ) -> Result<T, DecodeError> {
        match parser(self.rest) {
            Ok((rest, value)) => {
                self.rest = rest;
                Ok(value)
            }
            Err(nom::Err::Error(error) | nom::Err::Failure(error)) => {
                Err(decode_error(what, error, self.rest.len()))
            }
            Err(nom::Err::Incomplete(_)) => Err(decode_error(
                what,
                ParseError::Incomplete {
                    needed: self.rest.len() + 1,
                },
                self.rest.len(),
            )),
        }
    }

    /// Reads a signed 8-bit integer.
    #[inline]
    pub fn int8(&mut self, what: &'static str) -> Result<i8, DecodeError> {
        self.run(what, parse::int8)
    }

    /// Reads a signed 16-bit integer.
    #[inline]
    pub fn int16(&mut self, what: &'static str) -> Result<i16, DecodeError> {
        self.run(what, parse::int16)
    }

    /// Reads a signed 32-bit integer.
    #[inline]
    pub fn int32(&mut self, what: &'static str) -> Result<i32, DecodeError> {
        self.run(what, parse::int32)
    }

    /// Reads a signed 64-bit integer.
    #[inline]
    pub fn int64(&mut self, what: &'static str) -> Result<i64, DecodeError> {
        self.run(what, parse::int64)
    }

    /// Reads an unsigned 16-bit integer.
    #[inline]
    pub fn uint16(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        self.run(what, parse::uint16)
    }

    /// Reads an unsigned 32-bit integer.
    #[inline]
    pub fn uint32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        self.run(what, parse::uint32)
    }

    /// Reads a 64-bit float.
    #[inline]
    pub fn float64(&mut self, what: &'static str) -> Result<f64, DecodeError> {
        self.run(what, parse::float64)
    }

    /// Reads a boolean: any non-zero byte is `true`, as in Kafka's own reader.
    #[inline]
    pub fn boolean(&mut self, what: &'static str) -> Result<bool, DecodeError> {
        self.run(what, parse::int8).map(|byte| byte != 0)
    }

    /// Reads a UUID.
    #[inline]
    pub fn uuid(&mut self, what: &'static str) -> Result<Uuid, DecodeError> {
        self.run(what, parse::uuid_bytes).map(Uuid::from_bytes)
    }

    /// Reads an unsigned varint.
    #[inline]
    pub fn unsigned_varint(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        // Lengths and counts almost always fit one byte.
        if let Some((&byte, rest)) = self.rest.split_first() {
            if byte < 0x80 {
                self.rest = rest;
                return Ok(u32::from(byte));
            }
        }
        self.run(what, parse::unsigned_varint)
    }

    /// Reads a zig-zag signed varint.
    #[inline]
    pub fn varint(&mut self, what: &'static str) -> Result<i32, DecodeError> {
        self.run(what, parse::varint)
    }

    /// Reads a zig-zag signed varlong.
    #[inline]
    pub fn varlong(&mut self, what: &'static str) -> Result<i64, DecodeError> {
        self.run(what, parse::varlong)
    }

    /// Takes the next `length` bytes as a slice of the frame.
    #[inline(always)]
    pub fn take(&mut self, what: &'static str, length: usize) -> Result<Bytes, DecodeError> {
        let start = self.offset();
        self.take_slice(what, length)?;
        Ok(self.frame.slice(start..start + length))
    }

    /// Takes the next `length` bytes as a string sharing the frame.
    #[inline(always)]
    pub fn take_string(
        &mut self,
        what: &'static str,
        length: usize,
    ) -> Result<KafkaString, DecodeError> {
        let start = self.offset();
        self.take_slice(what, length)?;
        let shared = self
            .shared
            .get_or_insert_with(|| Arc::new(self.frame.clone()));
        KafkaString::from_utf8_range(shared, start..start + length)
            .ok_or_else(|| DecodeErrorKind::InvalidUtf8 { what }.into())
    }

    /// Where `rest` starts in `frame`.
    #[inline(always)]
    fn offset(&self) -> usize {
        // `rest` always lies inside `frame` (a tagged field's decoder reads a window of it), so
        // its offset there is a pointer difference; `slice` with it skips `slice_ref`'s checks.
        self.rest.as_ptr() as usize - self.frame.as_ptr() as usize
    }

    /// Takes the next `length` bytes as a plain slice.
    #[inline(always)]
    fn take_slice(&mut self, what: &'static str, length: usize) -> Result<&'a [u8], DecodeError> {
        match self.rest.split_at_checked(length) {
            Some((slice, rest)) => {
                self.rest = rest;
                Ok(slice)
            }
            None => Err(self.length_exceeds(what, length as u64)),
        }
    }

    #[cold]
    #[inline(never)]
    fn length_exceeds(&self, what: &'static str, length: u64) -> DecodeError {
        DecodeErrorKind::LengthExceedsInput {
            what,
            length,
            remaining: self.rest.len(),
        }
        .into()
    }

    /// Reads a length that may be `-1` for null and checks it against the bytes left.
    ///
    /// `raw` is the prefix as read: a signed int for classic encodings, or the unsigned
    /// varint minus one for compact ones.
    #[inline(always)]
    fn checked_length(
        &self,
        what: &'static str,
        raw: i64,
        min_element_size: usize,
    ) -> Result<Option<usize>, DecodeError> {
        match raw {
            -1 => Ok(None),
            length if length < -1 => Err(DecodeErrorKind::InvalidLength { what, length }.into()),
            length => {
                let length = length as u64;
                let needed = length.saturating_mul(min_element_size.max(1) as u64);
                if needed > self.rest.len() as u64 {
                    return Err(self.length_exceeds(what, length));
                }
                Ok(Some(length as usize))
            }
        }
    }

    #[inline(always)]
    fn length_prefix(
        &mut self,
        what: &'static str,
        compact: bool,
        wide: bool,
        min_element_size: usize,
    ) -> Result<Option<usize>, DecodeError> {
        let raw = if compact {
            i64::from(self.unsigned_varint(what)?) - 1
        } else if wide {
            i64::from(self.int32(what)?)
        } else {
            i64::from(self.int16(what)?)
        };
        self.checked_length(what, raw, min_element_size)
    }

    /// Reads a nullable string: compact (unsigned varint length + 1) or classic (int16 length).
    #[inline(always)]
    pub fn nullable_string(
        &mut self,
        what: &'static str,
        compact: bool,
    ) -> Result<Option<KafkaString>, DecodeError> {
        match self.length_prefix(what, compact, false, 1)? {
            None => Ok(None),
            Some(length) => self.take_string(what, length).map(Some),
        }
    }

    /// Reads a non-null string, compact or classic.
    #[inline(always)]
    pub fn string(
        &mut self,
        what: &'static str,
        compact: bool,
    ) -> Result<KafkaString, DecodeError> {
        self.nullable_string(what, compact)?
            .ok_or_else(|| DecodeErrorKind::UnexpectedNull { what }.into())
    }

    /// Reads nullable bytes: compact (unsigned varint length + 1) or classic (int32 length).
    #[inline(always)]
    pub fn nullable_bytes(
        &mut self,
        what: &'static str,
        compact: bool,
    ) -> Result<Option<Bytes>, DecodeError> {
        match self.length_prefix(what, compact, true, 1)? {
            None => Ok(None),
            Some(length) => self.take(what, length).map(Some),
        }
    }

    /// Reads non-null bytes, compact or classic.
    #[inline(always)]
    pub fn bytes(&mut self, what: &'static str, compact: bool) -> Result<Bytes, DecodeError> {
        self.nullable_bytes(what, compact)?
            .ok_or_else(|| DecodeErrorKind::UnexpectedNull { what }.into())
    }

    /// Reads a nullable array whose elements each take at least `min_element_size` bytes.
    #[inline]
    pub fn nullable_array<T>(
        &mut self,
        what: &'static str,
        compact: bool,
        min_element_size: usize,
        mut element: impl FnMut(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<Option<Vec<T>>, DecodeError> {
        let Some(length) = self.length_prefix(what, compact, true, min_element_size)? else {
            return Ok(None);
        };
        let mut items = Vec::with_capacity(length);
        for _ in 0..length {
            let item = element(self)?;
            // Always true, as the vector was made with room for every element; saying so
            // lets the compiler drop `push`'s call to grow, around which it would otherwise
            // park each element on the stack and copy it back.
            if items.len() < items.capacity() {
                items.push(item);
            } else {
                push_growing(&mut items, item);
            }
        }
        Ok(Some(items))
    }

    /// Reads a non-null array whose elements each take at least `min_element_size` bytes.
    #[inline]
    pub fn array<T>(
        &mut self,
        what: &'static str,
        compact: bool,
        min_element_size: usize,
        element: impl FnMut(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<Vec<T>, DecodeError> {
        self.nullable_array(what, compact, min_element_size, element)?
            .ok_or_else(|| DecodeErrorKind::UnexpectedNull { what }.into())
    }

    /// Reads a nullable array of `int32`, keeping up to three values inline.
    #[inline(always)]
    pub fn nullable_int32_array(
        &mut self,
        what: &'static str,
        compact: bool,
    ) -> Result<Option<Int32Vec>, DecodeError> {
        let Some(length) = self.length_prefix(what, compact, true, 4)? else {
            return Ok(None);
        };
        let raw = self.take_slice(what, length * 4)?;
        Ok(Some(Int32Vec::from_be_bytes(raw)))
    }

    /// Reads a non-null array of `int32`, keeping up to three values inline.
    #[inline(always)]
    pub fn int32_array(
        &mut self,
        what: &'static str,
        compact: bool,
    ) -> Result<Int32Vec, DecodeError> {
        self.nullable_int32_array(what, compact)?
            .ok_or_else(|| DecodeErrorKind::UnexpectedNull { what }.into())
    }

    /// Reads a tagged-field section.
    ///
    /// `known` is called with each tag and a decoder over exactly that field's bytes; it returns
    /// `Ok(false)` for a tag it does not know, whose bytes are then kept in the returned
    /// [`UnknownTaggedFields`] so they can be written back unchanged.
    #[inline(always)]
    pub fn tagged_fields(
        &mut self,
        what: &'static str,
        known: impl FnMut(u32, &mut Decoder<'a>) -> Result<bool, DecodeError>,
    ) -> Result<UnknownTaggedFields, DecodeError> {
        // Almost every section is empty: a single zero byte.
        if let Some((0, rest)) = self.rest.split_first() {
            self.rest = rest;
            return Ok(UnknownTaggedFields::default());
        }
        self.tagged_fields_slow(what, known)
    }

    #[inline(never)]
    fn tagged_fields_slow(
        &mut self,
        what: &'static str,
        known: impl FnMut(u32, &mut Decoder<'a>) -> Result<bool, DecodeError>,
    ) -> Result<UnknownTaggedFields, DecodeError> {
        let mut unknown = UnknownTaggedFields::default();
        let frame = self.frame;
        self.visit_tagged_fields(what, known, |tag, value| {
            unknown.push(tag, frame.slice_ref(value));
        })?;
        Ok(unknown)
    }

    /// Reads a tagged-field section like [`tagged_fields`](Self::tagged_fields), handing each
    /// unknown field's tag and bytes to `unknown` instead of keeping them.
    #[inline]
    pub fn visit_tagged_fields(
        &mut self,
        what: &'static str,
        mut known: impl FnMut(u32, &mut Decoder<'a>) -> Result<bool, DecodeError>,
        mut unknown: impl FnMut(u32, &'a [u8]),
    ) -> Result<(), DecodeError> {
        if let Some((0, rest)) = self.rest.split_first() {
            self.rest = rest;
            return Ok(());
        }
        let count = self.unsigned_varint(what)?;
        // Each field takes at least two bytes (tag and size), so the count is bounded by the input.
        self.checked_length(what, i64::from(count), 2)?;
        for _ in 0..count {
            let tag = self.unsigned_varint(what)?;
            let size = self.unsigned_varint(what)? as usize;
            let value = self.take_slice(what, size)?;
            let mut field = Decoder {
                frame: self.frame,
                rest: value,
                shared: self.shared.take(),
            };
            let is_known = known(tag, &mut field)?;
            self.shared = field.shared.take();
            if is_known {
                if !field.is_empty() {
                    return Err(DecodeErrorKind::TaggedFieldSize {
                        what,
                        tag,
                        declared: size,
                        used: size - field.remaining(),
                    }
                    .into());
                }
            } else {
                unknown(tag, value);
            }
        }
        Ok(())
    }

    /// Skips whatever is left: for a tagged field's decoder whose value is not wanted.
    #[inline(always)]
    pub fn skip_rest(&mut self) {
        self.rest = &self.rest[self.rest.len()..];
    }
}

/// The checking cursor: views scan a frame with it when they are made.
#[cfg(feature = "view")]
impl<'a> Cursor<'a> for Decoder<'a> {
    type Error = DecodeError;

    #[inline(always)]
    fn frame(&self) -> &'a Bytes {
        self.frame
    }

    #[inline(always)]
    fn position(&self) -> u32 {
        Decoder::position(self)
    }

    #[inline(always)]
    fn skip_fixed(&mut self, what: &'static str, size: usize) -> Result<(), DecodeError> {
        match self.rest.get(size..) {
            Some(rest) => {
                self.rest = rest;
                Ok(())
            }
            None => Err(decode_error(
                what,
                ParseError::Incomplete { needed: size },
                self.rest.len(),
            )),
        }
    }

    #[inline(always)]
    fn marker(&mut self, what: &'static str) -> Result<i8, DecodeError> {
        self.int8(what)
    }

    #[inline(always)]
    fn skip_string(
        &mut self,
        what: &'static str,
        compact: bool,
        nullable: bool,
    ) -> Result<(), DecodeError> {
        match self.length_prefix(what, compact, false, 1)? {
            None if nullable => Ok(()),
            None => Err(DecodeErrorKind::UnexpectedNull { what }.into()),
            Some(length) => {
                if is_utf8(self.take_slice(what, length)?) {
                    Ok(())
                } else {
                    Err(DecodeErrorKind::InvalidUtf8 { what }.into())
                }
            }
        }
    }

    #[inline(always)]
    fn skip_bytes(
        &mut self,
        what: &'static str,
        compact: bool,
        nullable: bool,
    ) -> Result<(), DecodeError> {
        match self.length_prefix(what, compact, true, 1)? {
            None if nullable => Ok(()),
            None => Err(DecodeErrorKind::UnexpectedNull { what }.into()),
            Some(length) => self.take_slice(what, length).map(drop),
        }
    }

    #[inline(always)]
    fn array_length(
        &mut self,
        what: &'static str,
        compact: bool,
        nullable: bool,
        min_element_size: usize,
    ) -> Result<Option<usize>, DecodeError> {
        match self.length_prefix(what, compact, true, min_element_size)? {
            None if !nullable => Err(DecodeErrorKind::UnexpectedNull { what }.into()),
            length => Ok(length),
        }
    }

    #[inline(always)]
    fn tagged_fields(
        &mut self,
        what: &'static str,
        known: impl FnMut(u32, &mut Self) -> Result<bool, DecodeError>,
    ) -> Result<(), DecodeError> {
        self.visit_tagged_fields(what, known, |_, _| {})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(bytes: &[u8]) -> Bytes {
        Bytes::copy_from_slice(bytes)
    }

    #[test]
    fn decode_rejects_array_longer_than_frame() {
        // Four bytes claiming 2^31 - 1 entries must fail before allocating anything.
        let input = frame(&[0x7f, 0xff, 0xff, 0xff]);
        let mut decoder = Decoder::new(&input);
        let result = decoder.array("Topics", false, 4, |d| d.int32("x"));
        assert_eq!(
            result,
            Err(DecodeErrorKind::LengthExceedsInput {
                what: "Topics",
                length: i32::MAX as u64,
                remaining: 0
            }
            .into())
        );
    }

    #[test]
    fn decode_rejects_compact_array_longer_than_frame() {
        let input = frame(&[0xff, 0xff, 0xff, 0xff, 0x07]);
        let mut decoder = Decoder::new(&input);
        assert!(matches!(
            decoder
                .array("Topics", true, 1, |d| d.int8("x"))
                .map_err(DecodeError::into_kind),
            Err(DecodeErrorKind::LengthExceedsInput { .. })
        ));
    }

    #[test]
    fn a_decoder_moved_in_place_carries_on_where_it_was() {
        let input = frame(&[0, 1, 0, 2, b'h', b'i', 7]);
        let mut decoder = Decoder::new(&input);
        assert_eq!(decoder.int16("first"), Ok(1));
        let text = decoder
            .in_place(|local| local.string("name", false))
            .unwrap();
        assert_eq!(text, "hi");
        assert_eq!(decoder.int8("last"), Ok(7));
        assert!(decoder.is_empty());
        // The shared frame handle the string made inside is kept, for the strings after it.
        assert!(decoder.shared.is_some());
    }

    #[test]
    fn strings_share_the_frame() {
        let input = frame(&[0, 3, b'a', b'b', b'c']);
        let mut decoder = Decoder::new(&input);
        let text = decoder.string("name", false).unwrap();
        assert_eq!(text, "abc");
        assert_eq!(text.as_bytes().as_ptr(), input[2..].as_ptr());
    }

    #[test]
    fn null_string_is_rejected_where_not_nullable() {
        let input = frame(&[0xff, 0xff]);
        assert_eq!(
            Decoder::new(&input).string("name", false),
            Err(DecodeErrorKind::UnexpectedNull { what: "name" }.into())
        );
        assert_eq!(
            Decoder::new(&input).nullable_string("name", false),
            Ok(None)
        );
    }

    #[test]
    fn negative_lengths_other_than_null_are_invalid() {
        let input = frame(&[0xff, 0xfe]);
        assert_eq!(
            Decoder::new(&input).nullable_string("name", false),
            Err(DecodeErrorKind::InvalidLength {
                what: "name",
                length: -2
            }
            .into())
        );
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        let input = frame(&[0, 2, 0xc3, 0x28]);
        assert_eq!(
            Decoder::new(&input).string("name", false),
            Err(DecodeErrorKind::InvalidUtf8 { what: "name" }.into())
        );
    }

    #[test]
    fn unknown_tagged_fields_are_kept() {
        // Two fields: tag 0 (known, int8 = 7) and tag 5 (unknown, 2 bytes).
        let input = frame(&[2, 0, 1, 7, 5, 2, 0xaa, 0xbb]);
        let mut decoder = Decoder::new(&input);
        let mut seen = None;
        let unknown = decoder
            .tagged_fields("tags", |tag, field| match tag {
                0 => {
                    seen = Some(field.int8("t0")?);
                    Ok(true)
                }
                _ => Ok(false),
            })
            .unwrap();
        assert_eq!(seen, Some(7));
        assert_eq!(
            unknown.iter().collect::<Vec<_>>(),
            vec![(5, &[0xaa, 0xbb][..])]
        );
        assert!(decoder.is_empty());
    }

    #[test]
    fn strings_inside_tagged_fields_are_sliced_from_the_right_place() {
        // A known tag 0 holding the classic string "ab", then two trailing bytes.
        let input = frame(&[1, 0, 4, 0, 2, b'a', b'b', 9, 9]);
        let mut decoder = Decoder::new(&input);
        let mut seen = None;
        decoder
            .tagged_fields("tags", |_, field| {
                seen = Some(field.string("t0", false)?);
                Ok(true)
            })
            .unwrap();
        let text = seen.unwrap();
        assert_eq!(text, "ab");
        assert_eq!(text.as_bytes().as_ptr(), input[5..].as_ptr());
        assert_eq!(decoder.remaining(), 2);
    }

    #[test]
    fn known_tagged_field_must_fill_its_size() {
        let input = frame(&[1, 0, 2, 7, 8]);
        let mut decoder = Decoder::new(&input);
        let result = decoder.tagged_fields("tags", |_, field| field.int8("t0").map(|_| true));
        assert!(matches!(
            result.map_err(DecodeError::into_kind),
            Err(DecodeErrorKind::TaggedFieldSize { .. })
        ));
    }

    #[test]
    fn truncated_int_names_the_field() {
        let input = frame(&[0, 1]);
        assert_eq!(
            Decoder::new(&input).int32("ThrottleTimeMs"),
            Err(DecodeErrorKind::UnexpectedEnd {
                what: "ThrottleTimeMs",
                needed: 4,
                remaining: 2
            }
            .into())
        );
    }
}
