#![doc = include_str!("../README.md")]
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod error;
pub mod frame;
mod generated;
mod message;
pub mod primitives;
pub mod records;
mod version;
mod version_cap;
#[cfg(feature = "view")]
pub mod view;

pub use error::{DecodeError, DecodeErrorKind, EncodeError};
pub use generated::{AnyRequest, AnyResponse, ApiKey, ErrorCode};
pub use message::{Decode, Encode, Message, Request};

/// Every message of the protocol: each top-level message by its name (`messages::MetadataRequest`),
/// and one module per spec holding the structures nested in it
/// (`messages::metadata_request::MetadataRequestTopic`) and its views.
///
/// ```
/// use klamm_protocol::messages::MetadataRequest;
/// use klamm_protocol::Message;
///
/// let request = MetadataRequest::default();
/// let bytes = request.to_bytes(12)?;
/// assert_eq!(MetadataRequest::from_bytes(&bytes, 12)?, request);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub mod messages {
    pub use crate::generated::messages::*;
}
pub use version::VersionRange;
