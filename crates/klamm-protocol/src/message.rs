//! The traits every generated message implements.

use bytes::{Bytes, BytesMut};

use crate::primitives::{append_exact, append_single_pass, Decoder, Writer};
#[cfg(feature = "view")]
use crate::view::View;
use crate::{DecodeError, EncodeError, VersionRange};

/// A value that can be written at a given message version.
pub trait Encode {
    /// Appends `self` as `version` to `buf`; on error `buf` is left as it was.
    ///
    /// Fails if a field holds a value the version cannot carry (unless Kafka marks the field
    /// ignorable), or a length does not fit its prefix.
    fn encode(&self, buf: &mut BytesMut, version: i16) -> Result<(), EncodeError> {
        append_exact(buf, self.encoded_len(version), |writer| {
            self.write_to(writer, version)
        })
    }

    /// Appends `self` as `version` to `buf` in one pass, without computing its size first:
    /// into the spare capacity `buf` already has, as a client does that writes a frame and then
    /// patches its length prefix. Reserve what you expect the value to take; if it does not
    /// fit, the pass has measured it and it is written again into room of that size (so a
    /// guess too small costs a second pass, never a wrong frame). On error `buf` is left as it
    /// was.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use klamm_protocol::messages::MetadataRequest;
    /// use klamm_protocol::{Encode, Message};
    ///
    /// let request = MetadataRequest::default().with_allow_auto_topic_creation(false);
    /// let mut buf = BytesMut::with_capacity(1024);
    /// request.encode_single_pass(&mut buf, 12)?;
    /// assert_eq!(buf.freeze(), request.to_bytes(12)?);
    /// # Ok::<(), klamm_protocol::EncodeError>(())
    /// ```
    fn encode_single_pass(&self, buf: &mut BytesMut, version: i16) -> Result<(), EncodeError> {
        append_single_pass(
            buf,
            || self.encoded_len(version),
            |writer| self.write_to(writer, version),
        )
    }

    /// Writes `self` as `version` into `writer`, which has room for exactly
    /// [`encoded_len`](Self::encoded_len) bytes. [`encode`](Self::encode) is the usual entry.
    fn write_to(&self, writer: &mut Writer<'_>, version: i16) -> Result<(), EncodeError>;

    /// The number of bytes [`encode`](Self::encode) writes for `version`.
    fn encoded_len(&self, version: i16) -> usize;
}

/// A value that can be read at a given message version.
pub trait Decode: Sized {
    /// Reads a value of `version` from `decoder`.
    fn decode(decoder: &mut Decoder<'_>, version: i16) -> Result<Self, DecodeError>;
}

/// A top-level message from Kafka's specs: a request, a response, a header or a data schema.
pub trait Message: Encode + Decode + Clone + Default + PartialEq + std::fmt::Debug {
    /// The spec's name, e.g. `MetadataRequest`.
    const NAME: &'static str;
    /// The versions the message has.
    const VERSIONS: VersionRange;
    /// The versions that use compact encodings and tagged fields, if any.
    const FLEXIBLE_VERSIONS: Option<VersionRange>;

    /// The message's zero-copy view: checked once, read in place (see [`crate::view`]).
    #[cfg(feature = "view")]
    type View<'a>: View<'a, Message = Self>;

    /// Encodes into a new buffer of exactly the right size.
    fn to_bytes(&self, version: i16) -> Result<Bytes, EncodeError> {
        let len = self.encoded_len(version);
        let mut buf = BytesMut::with_capacity(len);
        append_exact(&mut buf, len, |writer| self.write_to(writer, version))?;
        Ok(buf.freeze())
    }

    /// Decodes a whole buffer, failing if bytes are left over.
    fn from_bytes(bytes: &Bytes, version: i16) -> Result<Self, DecodeError> {
        let mut decoder = Decoder::new(bytes);
        let value = Self::decode(&mut decoder, version)?;
        decoder.finish(Self::NAME)?;
        Ok(value)
    }
}

/// A request message, tied to its API and its response type.
pub trait Request: Message {
    /// The API the request belongs to.
    const API_KEY: crate::ApiKey;
    /// The message the broker answers with.
    type Response: Message;
}
