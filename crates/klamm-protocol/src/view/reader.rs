//! [`Reader`]: the trusting cursor over a frame a view has already checked.

use std::convert::Infallible;

use bytes::Bytes;

use super::Cursor;
use crate::primitives::Uuid;

/// Reads Kafka's primitive types from a frame that a view's scan has already checked, so no
/// read can fail: each returns its value directly.
///
/// Were the frame short after all (it cannot be, for a checked view), reads would give zeros
/// and empty values rather than panic.
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    frame: &'a Bytes,
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Starts reading `frame` at `offset`.
    #[inline(always)]
    pub fn at(frame: &'a Bytes, offset: u32) -> Self {
        let offset = (offset as usize).min(frame.len());
        Reader {
            frame,
            rest: &frame[offset..],
        }
    }

    /// The frame being read.
    #[inline(always)]
    pub fn frame(&self) -> &'a Bytes {
        self.frame
    }

    /// Where the next read starts in the frame.
    #[inline(always)]
    pub fn position(&self) -> u32 {
        // `rest` always lies inside `frame`: it starts as a suffix and only ever shrinks from
        // the front, or is a window taken from it.
        (self.rest.as_ptr() as usize - self.frame.as_ptr() as usize) as u32
    }

    /// Takes the next `length` bytes, or whatever is left.
    ///
    /// The in-frame case is a predicted branch rather than a clamp: a clamp would put a compare
    /// and a conditional move on the chain from one read's position to the next, and walking a
    /// frame is bound by that chain.
    #[inline(always)]
    fn take(&mut self, length: usize) -> &'a [u8] {
        let (taken, rest) = match self.rest.split_at_checked(length) {
            Some(split) => split,
            None => all_of(self.rest),
        };
        self.rest = rest;
        taken
    }

    #[inline(always)]
    fn fixed<const N: usize>(&mut self) -> [u8; N] {
        match self.rest.split_first_chunk::<N>() {
            Some((head, rest)) => {
                self.rest = rest;
                *head
            }
            None => {
                self.rest = all_of(self.rest).1;
                [0; N]
            }
        }
    }

    /// Reads a signed 8-bit integer.
    #[inline(always)]
    pub fn int8(&mut self) -> i8 {
        i8::from_be_bytes(self.fixed())
    }

    /// Reads a big-endian signed 16-bit integer.
    #[inline(always)]
    pub fn int16(&mut self) -> i16 {
        i16::from_be_bytes(self.fixed())
    }

    /// Reads a big-endian unsigned 16-bit integer.
    #[inline(always)]
    pub fn uint16(&mut self) -> u16 {
        u16::from_be_bytes(self.fixed())
    }

    /// Reads a big-endian signed 32-bit integer.
    #[inline(always)]
    pub fn int32(&mut self) -> i32 {
        i32::from_be_bytes(self.fixed())
    }

    /// Reads a big-endian unsigned 32-bit integer.
    #[inline(always)]
    pub fn uint32(&mut self) -> u32 {
        u32::from_be_bytes(self.fixed())
    }

    /// Reads a big-endian signed 64-bit integer.
    #[inline(always)]
    pub fn int64(&mut self) -> i64 {
        i64::from_be_bytes(self.fixed())
    }

    /// Reads a big-endian IEEE 754 double.
    #[inline(always)]
    pub fn float64(&mut self) -> f64 {
        f64::from_be_bytes(self.fixed())
    }

    /// Reads a boolean: any non-zero byte is `true`.
    #[inline(always)]
    pub fn boolean(&mut self) -> bool {
        self.int8() != 0
    }

    /// Reads a UUID.
    #[inline(always)]
    pub fn uuid(&mut self) -> Uuid {
        Uuid::from_bytes(self.fixed())
    }

    /// Reads an unsigned varint (at most five bytes).
    #[inline(always)]
    pub fn unsigned_varint(&mut self) -> u32 {
        // Lengths and tag counts almost always fit in one byte.
        if let Some((&byte, rest)) = self.rest.split_first() {
            if byte < 0x80 {
                self.rest = rest;
                return u32::from(byte);
            }
        }
        let mut value = 0u32;
        for shift in [0, 7, 14, 21, 28] {
            let [byte] = self.fixed::<1>();
            value |= u32::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                break;
            }
        }
        value
    }

    /// Reads a length prefix: compact (unsigned varint, length + 1), or classic `int32`
    /// (`wide`) or `int16`. `None` is null.
    #[inline(always)]
    pub fn length(&mut self, compact: bool, wide: bool) -> Option<usize> {
        let raw = if compact {
            i64::from(self.unsigned_varint()) - 1
        } else if wide {
            i64::from(self.int32())
        } else {
            i64::from(self.int16())
        };
        usize::try_from(raw).ok()
    }

    /// Reads a string; `None` for null.
    #[inline(always)]
    pub fn str(&mut self, compact: bool) -> Option<&'a str> {
        let length = self.length(compact, false)?;
        std::str::from_utf8(self.take(length)).ok()
    }

    /// Reads a bytes value; `None` for null.
    #[inline(always)]
    pub fn bytes(&mut self, compact: bool) -> Option<&'a [u8]> {
        let length = self.length(compact, true)?;
        Some(self.take(length))
    }
}

/// `rest` split at its end: what a read past the end takes, on the path a checked frame never
/// reaches. It takes and returns slices, not the reader, so the reader can stay in registers.
#[cold]
#[inline(never)]
fn all_of(rest: &[u8]) -> (&[u8], &[u8]) {
    rest.split_at(rest.len())
}

/// The trusting cursor: views find fields again with it in frames already checked.
impl<'a> Cursor<'a> for Reader<'a> {
    type Error = Infallible;

    #[inline(always)]
    fn frame(&self) -> &'a Bytes {
        self.frame
    }

    #[inline(always)]
    fn position(&self) -> u32 {
        Reader::position(self)
    }

    #[inline(always)]
    fn skip_fixed(&mut self, _what: &'static str, size: usize) -> Result<(), Infallible> {
        self.take(size);
        Ok(())
    }

    #[inline(always)]
    fn marker(&mut self, _what: &'static str) -> Result<i8, Infallible> {
        Ok(self.int8())
    }

    #[inline(always)]
    fn skip_string(
        &mut self,
        _what: &'static str,
        compact: bool,
        _nullable: bool,
    ) -> Result<(), Infallible> {
        if let Some(length) = self.length(compact, false) {
            self.take(length);
        }
        Ok(())
    }

    #[inline(always)]
    fn skip_bytes(
        &mut self,
        _what: &'static str,
        compact: bool,
        _nullable: bool,
    ) -> Result<(), Infallible> {
        if let Some(length) = self.length(compact, true) {
            self.take(length);
        }
        Ok(())
    }

    #[inline(always)]
    fn array_length(
        &mut self,
        _what: &'static str,
        compact: bool,
        _nullable: bool,
        _min_element_size: usize,
    ) -> Result<Option<usize>, Infallible> {
        Ok(self.length(compact, true))
    }

    #[inline(always)]
    fn tagged_fields(
        &mut self,
        _what: &'static str,
        mut known: impl FnMut(u32, &mut Self) -> Result<bool, Infallible>,
    ) -> Result<(), Infallible> {
        let count = self.unsigned_varint();
        if count == 0 {
            return Ok(());
        }
        for _ in 0..count {
            if self.rest.is_empty() {
                break;
            }
            let tag = self.unsigned_varint();
            let size = self.unsigned_varint() as usize;
            let mut field = Reader {
                frame: self.frame,
                rest: self.take(size),
            };
            known(tag, &mut field)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_primitives_and_reports_its_position() {
        let frame = Bytes::from_static(&[0, 0, 0, 7, 0x96, 0x01, 3, b'a', b'b', 0xff, 0xff]);
        let mut reader = Reader::at(&frame, 0);
        assert_eq!(reader.int32(), 7);
        assert_eq!(reader.unsigned_varint(), 150);
        assert_eq!(reader.position(), 6);
        assert_eq!(reader.str(true), Some("ab"));
        assert_eq!(reader.str(false), None, "an int16 length of -1 is null");
    }

    #[test]
    fn reading_past_the_end_gives_zeros_instead_of_panicking() {
        let frame = Bytes::from_static(&[0, 1]);
        let mut reader = Reader::at(&frame, 1);
        assert_eq!(reader.int32(), 0);
        assert_eq!(reader.position(), 2);
        assert_eq!(reader.bytes(false), Some(&[][..]));
        let mut beyond = Reader::at(&frame, 99);
        assert_eq!(beyond.int16(), 0);
        assert_eq!(beyond.str(true), None);
    }
}
