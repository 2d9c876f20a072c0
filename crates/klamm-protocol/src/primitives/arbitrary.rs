//! proptest strategies for the primitive types, used by the generated `strategy` functions.
//!
//! Available with the `proptest` feature (and in this crate's tests). Sizes are mostly small so
//! nested messages stay cheap to generate, with an occasional long value so that length
//! prefixes needing a multi-byte varint (128 and up) are exercised too.

use bytes::Bytes;
use proptest::prelude::*;

use super::{KafkaString, UnknownTaggedFields, Uuid};

/// Strings of 0 to 8 characters, ASCII and beyond, now and then 130 to 300.
pub fn string() -> BoxedStrategy<KafkaString> {
    prop_oneof![
        16 => "[a-zA-Z0-9._-]{0,8}",
        4 => ".{0,4}",
        1 => "[a-z]{130,300}",
    ]
    .prop_map(KafkaString::from)
    .boxed()
}

/// Byte strings of 0 to 8 bytes, now and then 130 to 300.
pub fn bytes() -> BoxedStrategy<Bytes> {
    prop_oneof![
        20 => proptest::collection::vec(any::<u8>(), 0..=8),
        1 => proptest::collection::vec(any::<u8>(), 130..=300),
    ]
    .prop_map(Bytes::from)
    .boxed()
}

/// Any UUID.
pub fn uuid() -> BoxedStrategy<Uuid> {
    any::<[u8; 16]>().prop_map(Uuid::from_bytes).boxed()
}

/// Any double but NaN, which would not compare equal to itself.
pub fn float64() -> BoxedStrategy<f64> {
    any::<f64>().prop_filter("NaN", |v| !v.is_nan()).boxed()
}

/// Arrays of 0 to 3 elements, for elements that may nest further arrays.
pub fn vec<T: std::fmt::Debug + 'static>(element: BoxedStrategy<T>) -> BoxedStrategy<Vec<T>> {
    proptest::collection::vec(element, 0..=3).boxed()
}

/// Arrays of 0 to 3 elements, now and then 130 to 140, for elements that nest nothing.
pub fn long_vec<T: std::fmt::Debug + 'static>(element: BoxedStrategy<T>) -> BoxedStrategy<Vec<T>> {
    prop_oneof![
        20 => proptest::collection::vec(element.clone(), 0..=3),
        1 => proptest::collection::vec(element, 130..=140),
    ]
    .boxed()
}

/// Unknown tagged fields with tags from `first_free_tag` up, so they never collide with
/// the struct's known tags.
pub fn unknown_tagged_fields(first_free_tag: u32) -> BoxedStrategy<UnknownTaggedFields> {
    prop_oneof![
        3 => Just(UnknownTaggedFields::default()),
        1 => proptest::collection::vec((first_free_tag..first_free_tag + 300, bytes()), 1..3).prop_map(
            |fields| {
                let mut unknown = UnknownTaggedFields::default();
                for (tag, value) in fields {
                    unknown.push(tag, value);
                }
                unknown
            }
        ),
    ]
    .boxed()
}
