//! Kafka's primitive types: how each is read (with `nom`) and written (through a [`Sink`]).
//!
//! Generated messages are built from these; most users never call them directly.

#[cfg(any(test, feature = "proptest"))]
pub mod arbitrary;
mod decoder;
pub mod encoder;
pub mod inline_vec;
pub mod parse;
mod string;
mod tagged;
mod uuid;
mod writer;

pub use decoder::Decoder;
pub use encoder::UnknownTagWriter;
pub use inline_vec::{InlineVec, Int32Vec};
pub use string::KafkaString;
pub use tagged::UnknownTaggedFields;
pub use uuid::{ParseUuidError, Uuid};
pub(crate) use writer::append_exact;
pub use writer::{Sink, Writer};
