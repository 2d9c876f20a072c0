//! Kafka's primitive types: how each is read (with `nom`) and written (through a [`Sink`]).
//!
//! Generated messages are built from these; most users never call them directly.

#[cfg(any(test, feature = "proptest"))]
pub(crate) mod arbitrary;
mod decoder;
pub(crate) mod encoder;
mod inline_vec;
mod parse;
mod string;
mod tagged;
mod uuid;
mod writer;

pub use decoder::Decoder;
pub(crate) use encoder::UnknownTagWriter;
pub use inline_vec::{InlineVec, Int32Vec, IntoIter as InlineVecIntoIter};
pub use string::KafkaString;
pub use tagged::UnknownTaggedFields;
pub use uuid::{ParseUuidError, Uuid};
pub(crate) use writer::{append_exact, append_single_pass};
pub use writer::{Sink, Writer};
