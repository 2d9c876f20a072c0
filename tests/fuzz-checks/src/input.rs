//! How a fuzzer's raw bytes are read as "which message, which version, which bytes".
//!
//! Every layout here maps *any* input onto a valid choice (an API that exists, a version it
//! has), so the fuzzer spends its time inside the decoders rather than on inputs refused at
//! the door. The same layouts are written back by the seed writer, so a seed is a real
//! encoding with a small prefix.

use klamm_protocol::{ApiKey, VersionRange};

/// A request or response body to decode: `api_key` (2 bytes, big-endian), `version`
/// (2 bytes, big-endian), then the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageInput<'a> {
    /// The API whose body this is.
    pub api_key: ApiKey,
    /// A version the API has.
    pub version: i16,
    /// The bytes to decode.
    pub body: &'a [u8],
}

impl<'a> MessageInput<'a> {
    /// Reads the prefix. A key that names no API picks one by its value modulo the number of
    /// APIs; a version outside the API's range is folded into it. `None` if the input is
    /// shorter than the prefix.
    pub fn parse(data: &'a [u8]) -> Option<Self> {
        let (&[k0, k1, v0, v1], body) = data.split_first_chunk::<4>()?;
        let raw_key = i16::from_be_bytes([k0, k1]);
        let api_key = ApiKey::from_key(raw_key)
            .unwrap_or_else(|| ApiKey::ALL[usize::from(raw_key as u16) % ApiKey::ALL.len()]);
        let version = fold_version(i16::from_be_bytes([v0, v1]), api_key.versions());
        Some(MessageInput {
            api_key,
            version,
            body,
        })
    }

    /// The input [`parse`](Self::parse) reads back as `api_key`, `version` and `body`.
    pub fn write(api_key: ApiKey, version: i16, body: &[u8]) -> Vec<u8> {
        let mut data = Vec::with_capacity(4 + body.len());
        data.extend_from_slice(&api_key.key().to_be_bytes());
        data.extend_from_slice(&version.to_be_bytes());
        data.extend_from_slice(body);
        data
    }
}

/// Which header a [`HeaderInput`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderKind {
    /// A `RequestHeader`.
    Request,
    /// A `ResponseHeader`.
    Response,
}

/// A header to decode: one byte whose low bit picks request (0) or response (1) and whose
/// other bits pick the version, then the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderInput<'a> {
    /// Request or response.
    pub kind: HeaderKind,
    /// The raw version, before it is folded into the header's range.
    pub raw_version: u8,
    /// The bytes to decode.
    pub body: &'a [u8],
}

impl<'a> HeaderInput<'a> {
    /// Reads the selector byte; `None` for an empty input.
    pub fn parse(data: &'a [u8]) -> Option<Self> {
        let (&selector, body) = data.split_first()?;
        let kind = if selector & 1 == 0 {
            HeaderKind::Request
        } else {
            HeaderKind::Response
        };
        Some(HeaderInput {
            kind,
            raw_version: selector >> 1,
            body,
        })
    }

    /// The version folded into `versions`.
    pub fn version(&self, versions: VersionRange) -> i16 {
        fold_version(i16::from(self.raw_version), versions)
    }

    /// The input [`parse`](Self::parse) reads back as a `kind` header of `version`.
    pub fn write(kind: HeaderKind, version: i16, body: &[u8]) -> Vec<u8> {
        let low = match kind {
            HeaderKind::Request => 0,
            HeaderKind::Response => 1,
        };
        let mut data = Vec::with_capacity(1 + body.len());
        data.push(((version as u8) << 1) | low);
        data.extend_from_slice(body);
        data
    }
}

/// A `records` field: one flags byte, then the field. With bit 0 of the flags clear, each
/// batch's CRC is recomputed before decoding (see [`fix_crcs`]); with it set, the bytes are
/// decoded as they are, so the CRC check itself is fuzzed too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordsInput {
    /// The field to decode, CRCs already fixed when asked.
    pub field: Vec<u8>,
}

impl RecordsInput {
    /// Reads the flags byte; `None` for an empty input.
    pub fn parse(data: &[u8]) -> Option<Self> {
        let (&flags, field) = data.split_first()?;
        let mut field = field.to_vec();
        if flags & 1 == 0 {
            fix_crcs(&mut field);
        }
        Some(RecordsInput { field })
    }

    /// The input whose CRCs are kept as `field` has them (valid, for an encoded batch).
    pub fn write(field: &[u8]) -> Vec<u8> {
        let mut data = Vec::with_capacity(1 + field.len());
        data.push(1);
        data.extend_from_slice(field);
        data
    }
}

/// `version` if `versions` holds it, else the version it lands on counting through the range.
fn fold_version(version: i16, versions: VersionRange) -> i16 {
    if versions.contains(version) {
        return version;
    }
    let span = i32::from(versions.max) - i32::from(versions.min) + 1;
    let offset = i32::from(version).rem_euclid(span);
    // `offset < span`, so the sum is at most `versions.max`.
    (i32::from(versions.min) + offset) as i16
}

/// Rewrites the CRC-32C of every complete magic-v2 batch in a `records` field.
///
/// A mutated batch almost never carries a matching CRC, so without this the fuzzer would
/// stop at the checksum and never reach the record parser. Layout as in Kafka's
/// `DefaultRecordBatch`: batchLength at 8, magic at 16, crc at 17 covering 21 to the end.
pub fn fix_crcs(field: &mut [u8]) {
    const LOG_OVERHEAD: usize = 12;
    const MAGIC_OFFSET: usize = 16;
    const CRC_OFFSET: usize = 17;
    const ATTRIBUTES_OFFSET: usize = 21;
    let mut at = 0;
    while field.len() - at >= LOG_OVERHEAD {
        let length =
            i32::from_be_bytes([field[at + 8], field[at + 9], field[at + 10], field[at + 11]]);
        let Ok(length) = usize::try_from(length) else {
            return;
        };
        let Some(end) = (at + LOG_OVERHEAD)
            .checked_add(length)
            .filter(|&end| end <= field.len())
        else {
            return;
        };
        if end >= at + ATTRIBUTES_OFFSET && field[at + MAGIC_OFFSET] == 2 {
            let crc = crc32c::crc32c(&field[at + ATTRIBUTES_OFFSET..end]);
            field[at + CRC_OFFSET..at + ATTRIBUTES_OFFSET].copy_from_slice(&crc.to_be_bytes());
        }
        at = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_api_key_and_version_are_folded_into_range() {
        let input = MessageInput::parse(&[0x7f, 0xff, 0x7f, 0xff, 9]).unwrap();
        assert!(input.api_key.versions().contains(input.version));
        assert_eq!(input.body, &[9]);
    }

    #[test]
    fn written_message_input_parses_back() {
        let data = MessageInput::write(ApiKey::Metadata, 12, b"body");
        assert_eq!(
            MessageInput::parse(&data),
            Some(MessageInput {
                api_key: ApiKey::Metadata,
                version: 12,
                body: b"body"
            })
        );
    }

    #[test]
    fn written_header_input_parses_back() {
        let data = HeaderInput::write(HeaderKind::Response, 1, b"h");
        let input = HeaderInput::parse(&data).unwrap();
        assert_eq!(input.kind, HeaderKind::Response);
        assert_eq!(input.version(VersionRange::new(0, 1)), 1);
        assert_eq!(input.body, b"h");
    }

    #[test]
    fn fold_version_handles_negative_versions() {
        for raw in [i16::MIN, -1, 0, 5, 14, i16::MAX] {
            let folded = fold_version(raw, VersionRange::new(3, 9));
            assert!((3..=9).contains(&folded), "{raw} -> {folded}");
        }
    }

    #[test]
    fn fix_crcs_stops_at_a_length_past_the_end() {
        let mut field = vec![0u8; 30];
        field[11] = 200;
        let before = field.clone();
        fix_crcs(&mut field);
        assert_eq!(field, before);
    }
}
