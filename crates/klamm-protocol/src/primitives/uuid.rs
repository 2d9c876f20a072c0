//! [`Uuid`]: Kafka's 128-bit identifiers for topics and clusters.

use std::fmt;
use std::str::FromStr;

/// A 128-bit identifier, shown the way Kafka shows it: 22 characters of URL-safe base64.
///
/// ```
/// use klamm_protocol::primitives::Uuid;
///
/// let id: Uuid = "AAAAAAAAAAAAAAAAAAAAAQ".parse().unwrap();
/// assert_eq!(id.as_bytes()[15], 1);
/// assert_eq!(id.to_string(), "AAAAAAAAAAAAAAAAAAAAAQ");
/// assert!(Uuid::ZERO.is_zero());
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Uuid([u8; 16]);

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

impl Uuid {
    /// The all-zero id Kafka uses for "no id".
    pub const ZERO: Uuid = Uuid([0; 16]);

    /// An id from its 16 bytes, most significant first.
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Uuid(bytes)
    }

    /// The 16 bytes, most significant first.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Whether this is the all-zero id.
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 16]
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = [0u8; 22];
        let mut bits: u32 = 0;
        let mut count = 0;
        let mut index = 0;
        for &byte in &self.0 {
            bits = (bits << 8) | u32::from(byte);
            count += 8;
            while count >= 6 {
                count -= 6;
                out[index] = ALPHABET[((bits >> count) & 0x3f) as usize];
                index += 1;
            }
        }
        // 128 bits leave 2 over: pad them to a final 6-bit group.
        out[index] = ALPHABET[((bits << (6 - count)) & 0x3f) as usize];
        f.write_str(std::str::from_utf8(&out).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Uuid({self})")
    }
}

/// A string that is not a Kafka UUID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a Kafka UUID (22 characters of URL-safe base64)")]
pub struct ParseUuidError(String);

impl FromStr for Uuid {
    type Err = ParseUuidError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = || ParseUuidError(text.to_owned());
        let text = text.strip_suffix("==").unwrap_or(text);
        if text.len() != 22 {
            return Err(error());
        }
        let mut out = [0u8; 16];
        let mut bits: u32 = 0;
        let mut count = 0;
        let mut index = 0;
        for (position, character) in text.bytes().enumerate() {
            let value = ALPHABET
                .iter()
                .position(|&c| c == character)
                .ok_or_else(error)? as u32;
            if position == 21 {
                // The last character carries 2 bits; the 4 padding bits must be zero.
                if value & 0x0f != 0 {
                    return Err(error());
                }
                out[index] = ((bits << 2) | (value >> 4)) as u8;
                break;
            }
            bits = (bits << 6) | value;
            count += 6;
            if count >= 8 {
                count -= 8;
                out[index] = (bits >> count) as u8;
                index += 1;
            }
        }
        Ok(Uuid(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_text() {
        let id =
            Uuid::from_bytes(*b"\x8f\x01\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\xff");
        let text = id.to_string();
        assert_eq!(text.len(), 22);
        assert_eq!(text.parse::<Uuid>(), Ok(id));
    }

    #[test]
    fn matches_kafka_text_form() {
        // Kafka's Uuid.METADATA_TOPIC_ID is 0x...01 and prints as "AAAAAAAAAAAAAAAAAAAAAQ".
        let mut bytes = [0u8; 16];
        bytes[15] = 1;
        assert_eq!(
            Uuid::from_bytes(bytes).to_string(),
            "AAAAAAAAAAAAAAAAAAAAAQ"
        );
    }

    #[test]
    fn rejects_bad_text() {
        assert!("short".parse::<Uuid>().is_err());
        assert!("AAAAAAAAAAAAAAAAAAAAA!".parse::<Uuid>().is_err());
        assert!("AAAAAAAAAAAAAAAAAAAAAB".parse::<Uuid>().is_err());
    }
}
