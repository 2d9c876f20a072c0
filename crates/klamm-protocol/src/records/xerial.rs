//! Snappy as Kafka stores it: the xerial framing of `snappy-java`'s `SnappyOutputStream`.
//!
//! A xerial stream is a 16-byte header (the magic `\x82SNAPPY\0`, then a big-endian i32 version
//! and minimum compatible version, both 1) followed by chunks, each a big-endian i32 length and
//! one raw snappy block. Kafka's Java client writes 32 KiB chunks. Its reader
//! (`SnappyInputStream`) also accepts a plain raw snappy block with no header, which some
//! non-Java clients write, and a second header where a chunk would start (two streams back to
//! back); so do we.
//!
//! Every block states its uncompressed length up front, so the limit is checked before anything
//! is allocated.

use snap::raw::{decompress_len, Decoder, Encoder};

use super::compression::InflateError;

/// The xerial stream magic.
const MAGIC: [u8; 8] = [0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0];
/// The magic, then the version and the oldest version that can read the stream.
const HEADER_LEN: usize = MAGIC.len() + 8;
/// The version snappy-java writes and the oldest it reads.
const VERSION: i32 = 1;
/// How much raw data goes into one chunk, as in snappy-java's default.
const CHUNK_LEN: usize = 32 * 1024;
/// A snappy block cannot inflate more than this: its densest element, a 3-byte copy, makes 64
/// bytes. A block claiming more is corrupt, and is refused before its output is allocated.
const MAX_EXPANSION: usize = 22;

/// Compresses `raw` into a xerial stream, as Kafka's Java client does.
pub(super) fn compress(raw: &[u8]) -> Result<Vec<u8>, snap::Error> {
    let mut out = Vec::with_capacity(HEADER_LEN + raw.len() / 2 + 64);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&VERSION.to_be_bytes());
    out.extend_from_slice(&VERSION.to_be_bytes());
    let mut encoder = Encoder::new();
    for chunk in raw.chunks(CHUNK_LEN) {
        let block = encoder.compress_vec(chunk)?;
        // A compressed 32 KiB chunk is far below i32::MAX, so the cast is exact.
        out.extend_from_slice(&(block.len() as i32).to_be_bytes());
        out.extend_from_slice(&block);
    }
    Ok(out)
}

/// Decompresses a xerial stream or a raw snappy block, holding at most `limit` bytes.
pub(super) fn decompress(data: &[u8], limit: usize) -> Result<Vec<u8>, InflateError> {
    if !data.starts_with(&MAGIC) {
        let mut out = Vec::new();
        append_block(data, limit, &mut out)?;
        return Ok(out);
    }
    let mut out = Vec::new();
    let mut rest = read_header(data)?;
    while !rest.is_empty() {
        if rest.starts_with(&MAGIC[..4]) {
            rest = read_header(rest)?;
            continue;
        }
        let (length, after) = rest
            .split_first_chunk::<4>()
            .ok_or_else(|| failed("chunk length cut short"))?;
        let length = i32::from_be_bytes(*length);
        let block = usize::try_from(length)
            .ok()
            .and_then(|length| after.get(..length))
            .ok_or_else(|| {
                failed(&format!(
                    "chunk length {length} but {} bytes remain",
                    after.len()
                ))
            })?;
        append_block(block, limit, &mut out)?;
        rest = &after[block.len()..];
    }
    Ok(out)
}

/// Checks a xerial header at the start of `data` and returns what follows it.
fn read_header(data: &[u8]) -> Result<&[u8], InflateError> {
    let header = data
        .get(..HEADER_LEN)
        .ok_or_else(|| failed("xerial header cut short"))?;
    if header[..MAGIC.len()] != MAGIC {
        return Err(failed("bad xerial magic"));
    }
    let version = i32::from_be_bytes([header[8], header[9], header[10], header[11]]);
    if version < VERSION {
        return Err(failed(&format!(
            "xerial version {version} is not supported"
        )));
    }
    Ok(&data[HEADER_LEN..])
}

/// Decompresses one raw snappy block onto the end of `out`, keeping `out` within `limit`.
fn append_block(block: &[u8], limit: usize, out: &mut Vec<u8>) -> Result<(), InflateError> {
    let length = decompress_len(block).map_err(|e| failed(&e.to_string()))?;
    if length > limit.saturating_sub(out.len()) {
        return Err(InflateError::TooLarge);
    }
    if length > block.len().saturating_mul(MAX_EXPANSION) {
        return Err(failed(&format!(
            "a {}-byte block claims {length} bytes",
            block.len()
        )));
    }
    let start = out.len();
    out.resize(start + length, 0);
    let written = Decoder::new()
        .decompress(block, &mut out[start..])
        .map_err(|e| failed(&e.to_string()))?;
    out.truncate(start + written);
    Ok(())
}

fn failed(reason: &str) -> InflateError {
    InflateError::Failed(format!("snappy: {reason}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 % 13) as u8 + b'a').collect()
    }

    #[test]
    fn writes_the_header_and_32_kib_chunks_snappy_java_writes() {
        let raw = sample(CHUNK_LEN * 2 + 100);
        let packed = compress(&raw).unwrap();
        assert_eq!(
            &packed[..16],
            b"\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01"
        );
        let first = i32::from_be_bytes(packed[16..20].try_into().unwrap()) as usize;
        let block = &packed[20..20 + first];
        assert_eq!(decompress_len(block).unwrap(), CHUNK_LEN);
        assert_eq!(decompress(&packed, raw.len()), Ok(raw));
    }

    #[test]
    fn reads_raw_snappy_without_framing() {
        let raw = sample(1000);
        let block = Encoder::new().compress_vec(&raw).unwrap();
        assert_eq!(decompress(&block, 1000), Ok(raw));
        assert_eq!(decompress(&block, 999), Err(InflateError::TooLarge));
    }

    #[test]
    fn a_block_claiming_more_than_snappy_can_hold_is_refused_up_front() {
        // A varint length of 2^31 followed by nothing: no allocation, just an error.
        let block = [0x80, 0x80, 0x80, 0x80, 0x08];
        assert!(matches!(
            decompress(&block, usize::MAX),
            Err(InflateError::Failed(reason)) if reason.contains("claims")
        ));
        // The densest real block stays under the bound.
        let zeros = vec![0u8; 1 << 20];
        let packed = Encoder::new().compress_vec(&zeros).unwrap();
        assert!(zeros.len() <= packed.len() * MAX_EXPANSION);
        assert_eq!(decompress(&packed, usize::MAX), Ok(zeros));
    }

    #[test]
    fn reads_two_streams_back_to_back() {
        let mut packed = compress(b"hello ").unwrap();
        packed.extend(compress(b"world").unwrap());
        assert_eq!(decompress(&packed, 100), Ok(b"hello world".to_vec()));
    }

    #[test]
    fn limit_counts_every_chunk() {
        let raw = sample(CHUNK_LEN * 3);
        let packed = compress(&raw).unwrap();
        assert_eq!(
            decompress(&packed, CHUNK_LEN * 3 - 1),
            Err(InflateError::TooLarge)
        );
    }

    #[test]
    fn rejects_broken_framing() {
        let packed = compress(b"some data to frame").unwrap();
        // Cut inside the chunk, inside the length, and inside the header.
        for cut in [packed.len() - 1, HEADER_LEN + 2, 10] {
            assert!(
                matches!(
                    decompress(&packed[..cut], 100),
                    Err(InflateError::Failed(_))
                ),
                "cut at {cut}"
            );
        }
        let mut negative = packed.clone();
        negative[HEADER_LEN..HEADER_LEN + 4].copy_from_slice(&(-5i32).to_be_bytes());
        assert!(matches!(
            decompress(&negative, 100),
            Err(InflateError::Failed(_))
        ));
        let mut old = packed;
        old[8..12].copy_from_slice(&0i32.to_be_bytes());
        assert!(matches!(
            decompress(&old, 100),
            Err(InflateError::Failed(_))
        ));
    }
}
