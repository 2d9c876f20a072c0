//! [`Compression`]: the codec a record batch's records are compressed with, and the bounded
//! compress/decompress calls behind the `gzip`, `snappy`, `lz4` and `zstd` cargo features.
//!
//! Each codec writes the same framing Kafka's Java client writes (gzip members, xerial-framed
//! snappy, LZ4 frames with independent 64 KiB blocks, zstd frames), so brokers and other clients
//! read what we write. A codec whose feature is off is still named here: decoding a batch that
//! uses it fails with [`DecodeErrorKind::UnsupportedCompression.into()`](crate::DecodeError) instead of
//! misreading the bytes.
//!
//! Decompression is bounded: a batch may not inflate past the limit its caller passes, so a
//! small hostile batch cannot exhaust memory.

use std::fmt;

use crate::EncodeError;

/// How a record batch's records are compressed: bits 0-2 of the batch attributes.
///
/// ```
/// use klamm_protocol::records::Compression;
///
/// assert_eq!(Compression::from_id(4), Some(Compression::Zstd));
/// assert_eq!(Compression::Zstd.id(), 4);
/// assert_eq!(Compression::Snappy.to_string(), "snappy");
/// assert!(Compression::None.is_available());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Compression {
    /// Records are stored as they are.
    #[default]
    None,
    /// gzip (RFC 1952), feature `gzip`.
    Gzip,
    /// Snappy in the xerial framing Kafka's Java client writes, feature `snappy`.
    Snappy,
    /// The LZ4 frame format, feature `lz4`.
    Lz4,
    /// Zstandard, feature `zstd`.
    Zstd,
}

impl Compression {
    /// Every codec, in id order.
    pub const ALL: [Compression; 5] = [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ];

    /// The id stored in the batch attributes.
    pub const fn id(self) -> u8 {
        match self {
            Compression::None => 0,
            Compression::Gzip => 1,
            Compression::Snappy => 2,
            Compression::Lz4 => 3,
            Compression::Zstd => 4,
        }
    }

    /// The codec with this attribute id, if Kafka defines one.
    pub const fn from_id(id: u8) -> Option<Self> {
        match id {
            0 => Some(Compression::None),
            1 => Some(Compression::Gzip),
            2 => Some(Compression::Snappy),
            3 => Some(Compression::Lz4),
            4 => Some(Compression::Zstd),
            _ => None,
        }
    }

    /// Kafka's name for the codec, as in the `compression.type` config.
    pub const fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Snappy => "snappy",
            Compression::Lz4 => "lz4",
            Compression::Zstd => "zstd",
        }
    }

    /// Whether this build can compress and decompress with the codec (its feature is on).
    pub const fn is_available(self) -> bool {
        match self {
            Compression::None => true,
            Compression::Gzip => cfg!(feature = "gzip"),
            Compression::Snappy => cfg!(feature = "snappy"),
            Compression::Lz4 => cfg!(feature = "lz4"),
            Compression::Zstd => cfg!(feature = "zstd"),
        }
    }

    /// Compresses a batch's encoded records.
    pub(crate) fn compress(self, raw: &[u8]) -> Result<Vec<u8>, EncodeError> {
        #[cfg_attr(
            not(any(
                feature = "gzip",
                feature = "snappy",
                feature = "lz4",
                feature = "zstd"
            )),
            allow(unused_variables)
        )]
        let failed = |reason: &dyn fmt::Display| EncodeError::CompressionFailed {
            codec: self.name(),
            reason: reason.to_string(),
        };
        match self {
            Compression::None => Ok(raw.to_vec()),
            #[cfg(feature = "gzip")]
            Compression::Gzip => gzip::compress(raw).map_err(|e| failed(&e)),
            #[cfg(feature = "snappy")]
            Compression::Snappy => super::xerial::compress(raw).map_err(|e| failed(&e)),
            #[cfg(feature = "lz4")]
            Compression::Lz4 => lz4::compress(raw).map_err(|e| failed(&e)),
            #[cfg(feature = "zstd")]
            Compression::Zstd => zstd::compress(raw).map_err(|e| failed(&e)),
            #[allow(unreachable_patterns)]
            _ => Err(EncodeError::UnsupportedCompression { codec: self.name() }),
        }
    }

    /// Decompresses a batch's records, failing once the output would pass `limit` bytes.
    #[cfg_attr(
        not(any(
            feature = "gzip",
            feature = "snappy",
            feature = "lz4",
            feature = "zstd"
        )),
        allow(unused_variables)
    )]
    pub(crate) fn decompress(self, data: &[u8], limit: usize) -> Result<Vec<u8>, InflateError> {
        // Every codec frames even empty input in at least 7 bytes, so no bytes at all is a
        // corrupt batch; some readers (lz4_flex) would quietly take it for empty records.
        if data.is_empty() && self != Compression::None && self.is_available() {
            return Err(InflateError::Failed("no compressed data".to_owned()));
        }
        match self {
            Compression::None => Ok(data.to_vec()),
            #[cfg(feature = "gzip")]
            Compression::Gzip => read_bounded(flate2::read::MultiGzDecoder::new(data), limit),
            #[cfg(feature = "snappy")]
            Compression::Snappy => super::xerial::decompress(data, limit),
            #[cfg(feature = "lz4")]
            Compression::Lz4 => read_bounded(lz4_flex::frame::FrameDecoder::new(data), limit),
            #[cfg(feature = "zstd")]
            Compression::Zstd => {
                let decoder = ::zstd::stream::read::Decoder::with_buffer(data)
                    .map_err(|e| InflateError::Failed(e.to_string()))?;
                read_bounded(decoder, limit)
            }
            #[allow(unreachable_patterns)]
            _ => Err(InflateError::Unsupported),
        }
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why decompression failed; the batch decoder adds the base offset and codec name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum InflateError {
    /// The codec's feature is off.
    Unsupported,
    /// The data is not valid for the codec.
    Failed(String),
    /// The output would pass the limit.
    #[cfg_attr(
        not(any(
            feature = "gzip",
            feature = "snappy",
            feature = "lz4",
            feature = "zstd"
        )),
        allow(dead_code)
    )]
    TooLarge,
}

/// Reads `reader` to the end, refusing to hold more than `limit` bytes.
#[cfg(any(feature = "gzip", feature = "lz4", feature = "zstd"))]
fn read_bounded(reader: impl std::io::Read, limit: usize) -> Result<Vec<u8>, InflateError> {
    use std::io::Read;

    let mut out = Vec::new();
    // One byte past the limit tells "exactly at the limit" from "over it".
    reader
        .take((limit as u64).saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| InflateError::Failed(e.to_string()))?;
    if out.len() > limit {
        return Err(InflateError::TooLarge);
    }
    Ok(out)
}

#[cfg(feature = "gzip")]
mod gzip {
    use std::io::Write;

    pub(super) fn compress(raw: &[u8]) -> std::io::Result<Vec<u8>> {
        // Level 6, the level Java's GZIPOutputStream (and so Kafka by default) uses.
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
        encoder.write_all(raw)?;
        encoder.finish()
    }
}

#[cfg(feature = "lz4")]
mod lz4 {
    use std::io::Write;

    use lz4_flex::frame::{BlockMode, BlockSize, FrameEncoder, FrameInfo};

    pub(super) fn compress(raw: &[u8]) -> Result<Vec<u8>, lz4_flex::frame::Error> {
        // Kafka's reader decompresses every block on its own, so blocks must be independent;
        // 64 KiB blocks without checksums is what Kafka's own writer emits.
        let info = FrameInfo::new()
            .block_size(BlockSize::Max64KB)
            .block_mode(BlockMode::Independent);
        let mut encoder = FrameEncoder::with_frame_info(info, Vec::new());
        encoder.write_all(raw)?;
        encoder.finish()
    }
}

#[cfg(feature = "zstd")]
mod zstd {
    /// Level 3, Kafka's default for `compression.zstd.level`.
    const LEVEL: i32 = 3;

    pub(super) fn compress(raw: &[u8]) -> std::io::Result<Vec<u8>> {
        ::zstd::bulk::compress(raw, LEVEL)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_unknown_ids_are_none() {
        for codec in Compression::ALL {
            assert_eq!(Compression::from_id(codec.id()), Some(codec));
        }
        assert_eq!(Compression::from_id(5), None);
        assert_eq!(Compression::from_id(7), None);
    }

    #[test]
    fn every_available_codec_round_trips() {
        let raw: Vec<u8> = (0..200_000u32)
            .map(|i| (i % 251) as u8 ^ (i / 997) as u8)
            .collect();
        for codec in Compression::ALL.into_iter().filter(|c| c.is_available()) {
            let packed = codec.compress(&raw).unwrap();
            assert_eq!(
                codec.decompress(&packed, raw.len()),
                Ok(raw.clone()),
                "{codec}"
            );
            assert_eq!(
                codec.decompress(&packed, raw.len() - 1),
                if codec == Compression::None {
                    Ok(raw.clone())
                } else {
                    Err(InflateError::TooLarge)
                },
                "{codec} must stop at the limit"
            );
        }
    }

    #[test]
    fn codecs_left_out_of_the_build_are_refused() {
        for codec in Compression::ALL.into_iter().filter(|c| !c.is_available()) {
            assert_eq!(
                codec.compress(b"x"),
                Err(EncodeError::UnsupportedCompression {
                    codec: codec.name()
                })
            );
            assert_eq!(codec.decompress(b"x", 10), Err(InflateError::Unsupported));
        }
    }

    #[test]
    fn a_bomb_stops_at_the_limit() {
        // 64 MiB of zeros compress to a few KiB with every codec; none may inflate them past
        // the 1 MiB limit.
        let zeros = vec![0u8; 64 << 20];
        for codec in Compression::ALL
            .into_iter()
            .filter(|c| c.is_available() && *c != Compression::None)
        {
            let packed = codec.compress(&zeros).unwrap();
            assert!(packed.len() < 4 << 20, "{codec}: {} bytes", packed.len());
            assert_eq!(
                codec.decompress(&packed, 1 << 20),
                Err(InflateError::TooLarge),
                "{codec}"
            );
        }
    }

    #[test]
    fn garbage_is_a_failure_not_a_panic() {
        for codec in Compression::ALL
            .into_iter()
            .filter(|c| c.is_available() && *c != Compression::None)
        {
            for input in [
                &b""[..],
                b"\xff\xff\xff",
                b"garbage that is not compressed at all",
            ] {
                assert!(
                    matches!(
                        codec.decompress(input, 1 << 20),
                        Err(InflateError::Failed(_))
                    ),
                    "{codec} on {input:?}"
                );
            }
        }
    }
}
