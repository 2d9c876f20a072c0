//! The security-layer negotiation that ends a SASL/GSSAPI exchange (RFC 4752, section 3.1), as
//! plain bytes: the broker offers the layers it supports and the largest message it accepts, the
//! client picks one and names the identity to act as.
//!
//! Both messages are four octets — a bit mask of layers, then a 24-bit big-endian size — and the
//! client's is followed by the UTF-8 authorization identity. They travel inside `gss_wrap`
//! tokens; wrapping is the caller's business, this module only encodes and decodes the inside.
//!
//! Kafka never protects the byte stream with GSSAPI (it uses TLS for that), so the client always
//! chooses [`NO_SECURITY_LAYER`] and, as RFC 4752 demands for that choice, a maximum size of 0 —
//! which is also what Java's `GssKrb5Client` sends.

use super::GssapiError;

/// Bit of the "no security layer" choice.
pub const NO_SECURITY_LAYER: u8 = 0x01;
/// Bit of the integrity-protection layer.
pub const INTEGRITY_LAYER: u8 = 0x02;
/// Bit of the confidentiality-protection layer.
pub const CONFIDENTIALITY_LAYER: u8 = 0x04;

/// The largest size the 24-bit field can carry.
pub const MAX_MESSAGE_SIZE: u32 = 0x00ff_ffff;

/// The server's message: the layers it supports and the largest message it can receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecurityLayerOffer {
    /// Bit mask of [`NO_SECURITY_LAYER`], [`INTEGRITY_LAYER`], [`CONFIDENTIALITY_LAYER`].
    pub layers: u8,
    /// Largest wrapped message the server accepts (0 when it offers no protection layer).
    pub max_message_size: u32,
}

impl SecurityLayerOffer {
    /// Reads the unwrapped server message, which must be exactly four octets.
    pub fn decode(message: &[u8]) -> Result<Self, GssapiError> {
        let [layers, high, middle, low] = <[u8; 4]>::try_from(message).map_err(|_| {
            layer_error(format!(
                "the broker's security-layer message has {} bytes, RFC 4752 says 4",
                message.len()
            ))
        })?;
        Ok(SecurityLayerOffer {
            layers,
            max_message_size: u32::from_be_bytes([0, high, middle, low]),
        })
    }

    /// The four octets (for tests and fakes: brokers send this).
    pub fn encode(&self) -> [u8; 4] {
        let size = self.max_message_size.min(MAX_MESSAGE_SIZE).to_be_bytes();
        [self.layers, size[1], size[2], size[3]]
    }

    /// Whether the server lets the client go without a security layer.
    pub fn allows_no_security_layer(&self) -> bool {
        self.layers & NO_SECURITY_LAYER != 0
    }
}

/// The client's answer: the chosen layer, its own maximum size and the authorization identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityLayerChoice {
    /// Exactly one layer bit.
    pub layer: u8,
    /// Largest wrapped message the client accepts; 0 with [`NO_SECURITY_LAYER`].
    pub max_message_size: u32,
    /// Identity to act as; empty means "the authenticated principal itself".
    pub authorization_id: String,
}

impl SecurityLayerChoice {
    /// The only answer Kafka needs: no security layer, size 0, acting as `authorization_id`
    /// (Java sends the client's own principal name here).
    pub fn no_security_layer(authorization_id: impl Into<String>) -> Self {
        SecurityLayerChoice {
            layer: NO_SECURITY_LAYER,
            max_message_size: 0,
            authorization_id: authorization_id.into(),
        }
    }

    /// The answer to `offer`, or an error if the broker insists on a protection layer.
    pub fn answer(
        offer: &SecurityLayerOffer,
        authorization_id: impl Into<String>,
    ) -> Result<Self, GssapiError> {
        if !offer.allows_no_security_layer() {
            return Err(layer_error(format!(
                "the broker offers only security layers {:#04x} (integrity or confidentiality \
                 protection), which Kafka clients do not use; it must allow 0x01 (none)",
                offer.layers
            )));
        }
        Ok(Self::no_security_layer(authorization_id))
    }

    /// The octets to wrap and send.
    pub fn encode(&self) -> Vec<u8> {
        let size = self.max_message_size.min(MAX_MESSAGE_SIZE).to_be_bytes();
        let mut message = Vec::with_capacity(4 + self.authorization_id.len());
        message.extend_from_slice(&[self.layer, size[1], size[2], size[3]]);
        message.extend_from_slice(self.authorization_id.as_bytes());
        message
    }

    /// Reads a client answer (what a broker does; for tests and fakes).
    pub fn decode(message: &[u8]) -> Result<Self, GssapiError> {
        if message.len() < 4 {
            return Err(layer_error(format!(
                "a security-layer answer has at least 4 bytes, got {}",
                message.len()
            )));
        }
        let authorization_id = std::str::from_utf8(&message[4..])
            .map_err(|_| layer_error("the authorization identity is not UTF-8".to_owned()))?;
        Ok(SecurityLayerChoice {
            layer: message[0],
            max_message_size: u32::from_be_bytes([0, message[1], message[2], message[3]]),
            authorization_id: authorization_id.to_owned(),
        })
    }
}

fn layer_error(reason: String) -> GssapiError {
    GssapiError::SecurityLayer { reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offer_decodes_layers_and_big_endian_24_bit_size() {
        // What Kafka's GssKrb5Server sends: no layer only, and its 65536-byte buffer.
        let offer = SecurityLayerOffer::decode(&[0x01, 0x01, 0x00, 0x00]).unwrap();
        assert_eq!(offer.layers, NO_SECURITY_LAYER);
        assert_eq!(offer.max_message_size, 65_536);
        assert!(offer.allows_no_security_layer());
        assert_eq!(offer.encode(), [0x01, 0x01, 0x00, 0x00]);
        let all = SecurityLayerOffer::decode(&[0x07, 0xff, 0xff, 0xff]).unwrap();
        assert_eq!(all.max_message_size, MAX_MESSAGE_SIZE);
    }

    #[test]
    fn offer_of_other_than_four_bytes_is_rejected() {
        for bad in [&[][..], &[0x01], &[0x01, 0, 0], &[0x01, 0, 0, 0, 0]] {
            let error = SecurityLayerOffer::decode(bad).unwrap_err();
            assert!(
                matches!(&error, GssapiError::SecurityLayer { reason } if reason.contains("RFC 4752")),
                "{error}"
            );
        }
    }

    #[test]
    fn answer_without_layer_has_zero_size_and_trailing_authzid() {
        let offer = SecurityLayerOffer {
            layers: NO_SECURITY_LAYER | INTEGRITY_LAYER,
            max_message_size: 65_536,
        };
        let choice = SecurityLayerChoice::answer(&offer, "klamm-client@KLAMM.TEST").unwrap();
        let bytes = choice.encode();
        assert_eq!(&bytes[..4], &[0x01, 0x00, 0x00, 0x00]);
        assert_eq!(&bytes[4..], b"klamm-client@KLAMM.TEST");
        assert_eq!(SecurityLayerChoice::decode(&bytes).unwrap(), choice);
        let anonymous = SecurityLayerChoice::no_security_layer("").encode();
        assert_eq!(anonymous, vec![0x01, 0, 0, 0]);
    }

    #[test]
    fn answer_refuses_a_broker_that_demands_protection() {
        let offer = SecurityLayerOffer {
            layers: INTEGRITY_LAYER | CONFIDENTIALITY_LAYER,
            max_message_size: 4096,
        };
        let error = SecurityLayerChoice::answer(&offer, "x").unwrap_err();
        assert!(error.to_string().contains("0x06"), "{error}");
    }

    #[test]
    fn answer_decode_rejects_short_and_non_utf8_messages() {
        assert!(SecurityLayerChoice::decode(&[0x01, 0, 0]).is_err());
        assert!(SecurityLayerChoice::decode(&[0x01, 0, 0, 0, 0xff]).is_err());
    }
}
