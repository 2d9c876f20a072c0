//! Where encoded bytes go: the [`Sink`] trait, and [`Writer`], the sink generated messages
//! write into.
//!
//! A message knows its encoded size before it writes anything, so the bytes can go into a
//! buffer of exactly that size. [`Writer`] fills such a buffer with a cursor that stays in a
//! register: no capacity check or length update in memory per field, which is what makes
//! writing through [`bytes::BufMut`] slow.

use bytes::{BufMut, BytesMut};

use crate::EncodeError;

/// Something bytes can be appended to: a [`BytesMut`] or a [`Writer`].
///
/// The fixed-width writers are big-endian, as Kafka's wire format is.
pub trait Sink {
    /// Appends a fixed number of bytes.
    fn put_array<const N: usize>(&mut self, bytes: [u8; N]);

    /// Appends a slice.
    fn put_slice(&mut self, bytes: &[u8]);

    /// Appends one byte.
    #[inline(always)]
    fn put_u8(&mut self, value: u8) {
        self.put_array([value]);
    }

    /// Appends a signed byte.
    #[inline(always)]
    fn put_i8(&mut self, value: i8) {
        self.put_array(value.to_be_bytes());
    }

    /// Appends a big-endian `i16`.
    #[inline(always)]
    fn put_i16(&mut self, value: i16) {
        self.put_array(value.to_be_bytes());
    }

    /// Appends a big-endian `u16`.
    #[inline(always)]
    fn put_u16(&mut self, value: u16) {
        self.put_array(value.to_be_bytes());
    }

    /// Appends a big-endian `i32`.
    #[inline(always)]
    fn put_i32(&mut self, value: i32) {
        self.put_array(value.to_be_bytes());
    }

    /// Appends a big-endian `u32`.
    #[inline(always)]
    fn put_u32(&mut self, value: u32) {
        self.put_array(value.to_be_bytes());
    }

    /// Appends a big-endian `i64`.
    #[inline(always)]
    fn put_i64(&mut self, value: i64) {
        self.put_array(value.to_be_bytes());
    }

    /// Appends a big-endian IEEE 754 double.
    #[inline(always)]
    fn put_f64(&mut self, value: f64) {
        self.put_array(value.to_be_bytes());
    }
}

impl Sink for BytesMut {
    #[inline(always)]
    fn put_array<const N: usize>(&mut self, bytes: [u8; N]) {
        BufMut::put_slice(self, &bytes);
    }

    #[inline(always)]
    fn put_slice(&mut self, bytes: &[u8]) {
        BufMut::put_slice(self, bytes);
    }
}

/// A cursor filling a buffer sized up front.
///
/// Writing past the end writes nothing; [`finish`](Self::finish) then reports how far the
/// value overran, so a size computed wrong is an error, never a panic or a short frame.
///
/// ```
/// use klamm_protocol::primitives::{Sink, Writer};
///
/// let mut frame = [0u8; 6];
/// let mut writer = Writer::new(&mut frame);
/// writer.put_i16(7);
/// writer.put_i32(-1);
/// writer.finish()?;
/// assert_eq!(frame, [0, 7, 0xff, 0xff, 0xff, 0xff]);
/// # Ok::<(), klamm_protocol::EncodeError>(())
/// ```
#[derive(Debug)]
pub struct Writer<'a> {
    out: &'a mut [u8],
    position: usize,
}

impl<'a> Writer<'a> {
    /// A writer that fills `out` from its start.
    pub fn new(out: &'a mut [u8]) -> Self {
        Writer { out, position: 0 }
    }

    /// Bytes written so far (or that would have been, past the end).
    pub fn position(&self) -> usize {
        self.position
    }

    /// Runs `write` on this writer moved into a local variable, then takes it back.
    ///
    /// A writer behind a `&mut` lives in memory, and every byte written through its buffer
    /// could, for all the compiler knows, change it: so each write reloads the buffer and
    /// stores the position back. A local copy nobody else can see stays in registers.
    #[inline(always)]
    pub(crate) fn in_place<R>(&mut self, write: impl FnOnce(&mut Writer<'_>) -> R) -> R {
        let mut local = Writer {
            out: std::mem::take(&mut self.out),
            position: self.position,
        };
        let result = write(&mut local);
        self.out = local.out;
        self.position = local.position;
        result
    }

    /// Checks that exactly the whole buffer was written.
    pub fn finish(self) -> Result<(), EncodeError> {
        if self.position == self.out.len() {
            Ok(())
        } else {
            Err(EncodeError::SizeMismatch {
                expected: self.out.len(),
                written: self.position,
            })
        }
    }
}

impl Sink for Writer<'_> {
    #[inline(always)]
    fn put_array<const N: usize>(&mut self, bytes: [u8; N]) {
        let end = self.position.saturating_add(N);
        if let Some(target) = self.out.get_mut(self.position..end) {
            target.copy_from_slice(&bytes);
        }
        self.position = end;
    }

    #[inline(always)]
    fn put_slice(&mut self, bytes: &[u8]) {
        let end = self.position.saturating_add(bytes.len());
        if let Some(target) = self.out.get_mut(self.position..end) {
            copy_short(target, bytes);
        }
        self.position = end;
    }
}

/// Copies `source` into `target` (of the same length), with fixed-size moves for the short
/// slices Kafka is full of (names, hosts, config values) instead of a call to `memcpy`.
#[inline(always)]
fn copy_short(target: &mut [u8], source: &[u8]) {
    let len = source.len();
    if len > 32 || len != target.len() {
        target.copy_from_slice(source);
    } else if len >= 16 {
        // Two 16-byte moves that overlap in the middle.
        target[..16].copy_from_slice(&source[..16]);
        target[len - 16..].copy_from_slice(&source[len - 16..]);
    } else if len >= 8 {
        // Two 8-byte moves that overlap in the middle.
        target[..8].copy_from_slice(&source[..8]);
        target[len - 8..].copy_from_slice(&source[len - 8..]);
    } else if len >= 4 {
        target[..4].copy_from_slice(&source[..4]);
        target[len - 4..].copy_from_slice(&source[len - 4..]);
    } else {
        for (to, from) in target.iter_mut().zip(source) {
            *to = *from;
        }
    }
}

/// Appends `len` bytes to `buf` and has `write` fill them, as [`Writer`] does. On error the
/// buffer is left as it was.
pub(crate) fn append_exact(
    buf: &mut BytesMut,
    len: usize,
    write: impl FnOnce(&mut Writer<'_>) -> Result<(), EncodeError>,
) -> Result<(), EncodeError> {
    let start = buf.len();
    buf.resize(start + len, 0);
    let mut writer = Writer::new(&mut buf[start..]);
    let result = write(&mut writer).and_then(|()| writer.finish());
    if result.is_err() {
        buf.truncate(start);
    }
    result
}

/// Appends what `write` writes to `buf` in one pass when it fits the room `buf` has: into its
/// spare capacity, with no size computed first. A pass that ran past the end has measured the
/// exact size on the way (a [`Writer`] counts what it could not write), so the value is then
/// written again into room of that size. With no spare capacity at all there is nothing to
/// write into, and the size is computed first, as [`append_exact`] does. On error the buffer is
/// left as it was.
pub(crate) fn append_single_pass(
    buf: &mut BytesMut,
    encoded_len: impl FnOnce() -> usize,
    write: impl Fn(&mut Writer<'_>) -> Result<(), EncodeError>,
) -> Result<(), EncodeError> {
    let start = buf.len();
    let room = buf.capacity() - start;
    if room == 0 {
        return append_exact(buf, encoded_len(), write);
    }
    // Filling the spare capacity with zeros is what lets a safe `Writer` write into it; it is
    // one `memset`, which touches the pages the writes would touch anyway.
    buf.resize(start + room, 0);
    let mut writer = Writer::new(&mut buf[start..]);
    let result = write(&mut writer);
    let written = writer.position();
    match result {
        Ok(()) if written <= room => {
            buf.truncate(start + written);
            Ok(())
        }
        Ok(()) => {
            buf.truncate(start);
            append_exact(buf, written, write)
        }
        Err(error) => {
            buf.truncate(start);
            Err(error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_writer_moved_in_place_carries_on_where_it_was() {
        let mut frame = [0u8; 7];
        let mut writer = Writer::new(&mut frame);
        writer.put_u8(1);
        let written = writer.in_place(|local| {
            local.put_i16(2);
            local.put_i32(3);
            local.position()
        });
        assert_eq!(written, 7);
        assert_eq!(writer.position(), 7);
        writer.finish().unwrap();
        assert_eq!(frame, [1, 0, 2, 0, 0, 0, 3]);
    }

    #[test]
    fn overrun_is_reported_not_written() {
        let mut frame = [0u8; 3];
        let mut writer = Writer::new(&mut frame);
        writer.put_i16(1);
        writer.put_i32(2);
        assert_eq!(writer.position(), 6);
        assert_eq!(
            writer.finish(),
            Err(EncodeError::SizeMismatch {
                expected: 3,
                written: 6
            })
        );
        assert_eq!(frame, [0, 1, 0]);
    }

    #[test]
    fn short_copies_of_every_length_are_exact() {
        let source: Vec<u8> = (1..=40).collect();
        for len in 0..=40 {
            let mut target = vec![0u8; len];
            copy_short(&mut target, &source[..len]);
            assert_eq!(target, source[..len], "length {len}");
        }
    }

    #[test]
    fn short_write_is_reported() {
        let mut frame = [0u8; 3];
        let mut writer = Writer::new(&mut frame);
        writer.put_u8(1);
        assert!(writer.finish().is_err());
    }

    fn write_seven(writer: &mut Writer<'_>) -> Result<(), EncodeError> {
        writer.put_u8(1);
        writer.put_i16(2);
        writer.put_i32(3);
        Ok(())
    }

    #[test]
    fn a_single_pass_writes_into_the_spare_room_without_sizing() {
        let mut buf = BytesMut::with_capacity(64);
        buf.extend_from_slice(b"head");
        append_single_pass(&mut buf, || unreachable!("no size pass"), write_seven).unwrap();
        assert_eq!(&buf[..], b"head\x01\x00\x02\x00\x00\x00\x03");
        assert_eq!(buf.capacity(), 64);
    }

    #[test]
    fn a_single_pass_that_overruns_writes_again_at_the_measured_size() {
        let mut buf = BytesMut::with_capacity(3);
        append_single_pass(
            &mut buf,
            || unreachable!("the overrun measured it"),
            write_seven,
        )
        .unwrap();
        assert_eq!(&buf[..], b"\x01\x00\x02\x00\x00\x00\x03");
        let mut empty = BytesMut::new();
        append_single_pass(&mut empty, || 7, write_seven).unwrap();
        assert_eq!(empty, buf);
    }

    #[test]
    fn a_failed_single_pass_leaves_the_buffer_alone() {
        let mut buf = BytesMut::with_capacity(16);
        buf.extend_from_slice(b"head");
        let failed = append_single_pass(
            &mut buf,
            || 0,
            |writer| {
                writer.put_i32(9);
                Err(EncodeError::NullNotAllowed {
                    field: "X.Y",
                    version: 0,
                })
            },
        );
        assert!(failed.is_err());
        assert_eq!(&buf[..], b"head");
    }

    #[test]
    fn append_exact_leaves_the_buffer_alone_on_error() {
        let mut buf = BytesMut::from(&b"head"[..]);
        let result = append_exact(&mut buf, 2, |writer| {
            writer.put_i32(1);
            Ok(())
        });
        assert!(result.is_err());
        assert_eq!(&buf[..], b"head");
        append_exact(&mut buf, 2, |writer| {
            writer.put_i16(0x0102);
            Ok(())
        })
        .unwrap();
        assert_eq!(&buf[..], b"head\x01\x02");
    }
}
