//! # klamm-protocol
//!
//! The Apache Kafka wire protocol as plain Rust values, with no I/O: bytes in, values out, and
//! back. Every request, response and header of every API at every version is generated from
//! the JSON message specs shipped in Kafka's own `kafka-clients` jar, on top of a small set of
//! hand-written primitives parsed with `nom`.
//!
//! Decoding takes a shared [`bytes::Bytes`] frame and hands out slices of it for strings and byte
//! fields, so large responses are read without copying. Every failure is a typed
//! [`DecodeError`] or [`EncodeError`] naming the field; nothing panics on bad input.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod message;
pub mod primitives;
mod version;

pub use error::{DecodeError, EncodeError};
pub use message::{Decode, Encode, Message};
pub use version::VersionRange;
