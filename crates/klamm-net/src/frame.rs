//! Kafka's framing on a byte stream: every request and response is a 4-byte big-endian length
//! followed by that many bytes.
//!
//! [`FrameDecoder`] is sans-IO: the glue appends whatever the socket produced and takes out whole
//! frames. The length prefix is checked against the configured maximum *before* anything is
//! reserved, so a hostile or confused peer cannot make us allocate gigabytes.

use bytes::{Buf, Bytes, BytesMut};

/// The largest frame accepted by default: 100 MiB (the broker's own `socket.request.max.bytes`
/// is 100 MiB too).
pub const DEFAULT_MAX_FRAME_SIZE: usize = 100 * 1024 * 1024;

/// Size of the length prefix.
pub const LENGTH_PREFIX: usize = 4;

/// A frame's length prefix claims more than the allowed maximum (or is negative).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameTooLarge {
    /// The length the prefix claimed (a negative `i32` reads as a huge `u32`).
    pub size: u64,
    /// The maximum allowed.
    pub max: usize,
}

/// Splits a byte stream into frames.
#[derive(Debug)]
pub struct FrameDecoder {
    buffer: BytesMut,
    max_frame_size: usize,
}

impl FrameDecoder {
    /// A decoder that rejects frames longer than `max_frame_size` bytes (prefix excluded).
    pub fn new(max_frame_size: usize) -> Self {
        FrameDecoder {
            buffer: BytesMut::with_capacity(8 * 1024),
            max_frame_size,
        }
    }

    /// Appends bytes received from the peer.
    pub fn extend_from_slice(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// Bytes buffered that do not yet form a whole frame.
    #[cfg(test)]
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// The next whole frame (without its prefix), `None` if more bytes are needed.
    ///
    /// After an error the stream is out of sync and must be abandoned.
    pub fn next_frame(&mut self) -> Result<Option<Bytes>, FrameTooLarge> {
        if self.buffer.len() < LENGTH_PREFIX {
            return Ok(None);
        }
        let size = u32::from_be_bytes([
            self.buffer[0],
            self.buffer[1],
            self.buffer[2],
            self.buffer[3],
        ]);
        if size as u64 > self.max_frame_size as u64 || size > i32::MAX as u32 {
            return Err(FrameTooLarge {
                size: size.into(),
                max: self.max_frame_size,
            });
        }
        let size = size as usize;
        if self.buffer.len() < LENGTH_PREFIX + size {
            // Reserve once for the whole frame rather than growing in steps; the size was
            // checked against the maximum above.
            self.buffer
                .reserve(LENGTH_PREFIX + size - self.buffer.len());
            return Ok(None);
        }
        self.buffer.advance(LENGTH_PREFIX);
        Ok(Some(self.buffer.split_to(size).freeze()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(payloads: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for payload in payloads {
            out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
            out.extend_from_slice(payload);
        }
        out
    }

    #[test]
    fn reassembles_frames_fed_one_byte_at_a_time() {
        let stream = framed(&[b"first", b"", b"third frame"]);
        let mut decoder = FrameDecoder::new(64);
        let mut frames = Vec::new();
        for byte in stream {
            decoder.extend_from_slice(&[byte]);
            while let Some(frame) = decoder.next_frame().unwrap() {
                frames.push(frame);
            }
        }
        assert_eq!(
            frames,
            vec![
                Bytes::from_static(b"first"),
                Bytes::new(),
                Bytes::from_static(b"third frame")
            ]
        );
        assert_eq!(decoder.buffered(), 0);
    }

    #[test]
    fn yields_several_frames_from_one_read_and_keeps_the_tail() {
        let mut stream = framed(&[b"ab", b"cd"]);
        stream.extend_from_slice(&[0, 0, 0, 9, b'x']);
        let mut decoder = FrameDecoder::new(64);
        decoder.extend_from_slice(&stream);
        assert_eq!(decoder.next_frame().unwrap().unwrap().as_ref(), b"ab");
        assert_eq!(decoder.next_frame().unwrap().unwrap().as_ref(), b"cd");
        assert_eq!(decoder.next_frame(), Ok(None));
        assert_eq!(decoder.buffered(), 5);
    }

    #[test]
    fn rejects_a_length_over_the_maximum_before_reading_the_body() {
        let mut decoder = FrameDecoder::new(10);
        decoder.extend_from_slice(&11u32.to_be_bytes());
        assert_eq!(
            decoder.next_frame(),
            Err(FrameTooLarge { size: 11, max: 10 })
        );
        let mut exact = FrameDecoder::new(10);
        exact.extend_from_slice(&10u32.to_be_bytes());
        assert_eq!(exact.next_frame(), Ok(None));
    }

    #[test]
    fn rejects_a_negative_length() {
        let mut decoder = FrameDecoder::new(usize::MAX);
        decoder.extend_from_slice(&(-1i32).to_be_bytes());
        assert!(decoder.next_frame().is_err());
    }
}
