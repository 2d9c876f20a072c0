//! The properties Klamm's fuzz targets check, in a library so the libFuzzer binaries, the seed
//! writer and plain `cargo test` share them.
//!
//! Each `check_*` function takes a fuzzer's raw input (laid out as [`input`] describes),
//! decodes it, and returns quietly when it does not decode: refusing bad input is the
//! decoder's job. When it does decode, the value must survive a round trip, or the function
//! panics, which is what libFuzzer reports as a crash:
//!
//! 1. `encoded_len` equals the number of bytes `encode` writes;
//! 2. encoding never fails for a value the decoder produced;
//! 3. those bytes decode, with nothing left over, to a value equal to the first;
//! 4. encoding that second value gives the same bytes again (the encoding is a fixed point).
//!
//! Every message input is also read through the message's zero-copy view, which must accept
//! exactly the bodies the decoder reads whole and read the same value from them.

pub mod input;
#[cfg(feature = "seeds")]
pub mod seeds;

use std::fmt::Debug;

use bytes::{Bytes, BytesMut};
use klamm_protocol::primitives::Decoder;
use klamm_protocol::records::{DecompressionLimits, RecordBatch, RecordBatches};
use klamm_protocol::view::View;
use klamm_protocol::{AnyRequest, AnyResponse, DecodeError, EncodeError, Message};

use input::{HeaderInput, HeaderKind, MessageInput, RecordsInput};

use klamm_protocol::messages::{RequestHeader, ResponseHeader};

/// What a check did with its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The input was too short for its prefix, or the decoder refused it.
    Refused,
    /// The input decoded and the value round-tripped.
    RoundTripped,
}

/// Decompression limits for fuzzing: small, so a compression bomb costs milliseconds, not
/// the default 64 MiB per batch.
pub const FUZZ_LIMITS: DecompressionLimits = DecompressionLimits::DEFAULT
    .with_max_batch_size(1 << 20)
    .with_max_total_size(4 << 20);

/// Decodes a request body of any API (see [`MessageInput`]) and checks the round trip.
pub fn check_request(data: &[u8]) -> Outcome {
    let Some(MessageInput {
        api_key,
        version,
        body,
    }) = MessageInput::parse(data)
    else {
        return Outcome::Refused;
    };
    check_body(
        &format!("{api_key} request v{version}"),
        body,
        |decoder| AnyRequest::decode(api_key, decoder, version),
        |frame| AnyRequest::decode_through_view(api_key, frame, version),
        |value| value.encoded_len(version),
        |value, buf| value.encode(buf, version),
    )
}

/// Decodes a response body of any API (see [`MessageInput`]) and checks the round trip.
pub fn check_response(data: &[u8]) -> Outcome {
    let Some(MessageInput {
        api_key,
        version,
        body,
    }) = MessageInput::parse(data)
    else {
        return Outcome::Refused;
    };
    check_body(
        &format!("{api_key} response v{version}"),
        body,
        |decoder| AnyResponse::decode(api_key, decoder, version),
        |frame| AnyResponse::decode_through_view(api_key, frame, version),
        |value| value.encoded_len(version),
        |value, buf| value.encode(buf, version),
    )
}

/// Decodes a request or response header (see [`HeaderInput`]) and checks the round trip.
pub fn check_header(data: &[u8]) -> Outcome {
    let Some(input) = HeaderInput::parse(data) else {
        return Outcome::Refused;
    };
    match input.kind {
        HeaderKind::Request => {
            check_message::<RequestHeader>(input.body, input.version(RequestHeader::VERSIONS))
        }
        HeaderKind::Response => {
            check_message::<ResponseHeader>(input.body, input.version(ResponseHeader::VERSIONS))
        }
    }
}

/// Decodes a `records` field (see [`RecordsInput`]) and checks that the batches read before
/// any error re-encode to a field holding exactly those batches, whose encoding is stable.
pub fn check_record_batches(data: &[u8]) -> Outcome {
    let Some(input) = RecordsInput::parse(data) else {
        return Outcome::Refused;
    };
    let field = Bytes::from(input.field);
    let decoded: Vec<RecordBatch> = RecordBatches::new(&field)
        .with_limits(FUZZ_LIMITS)
        .map_while(Result::ok)
        .collect();
    if decoded.is_empty() {
        return Outcome::Refused;
    }
    let encoded = encode_batches(&decoded);
    let mut reread = RecordBatches::new(&encoded).with_limits(FUZZ_LIMITS);
    let again = reread
        .by_ref()
        .collect::<Result<Vec<_>, _>>()
        .unwrap_or_else(|error| {
            panic!("re-encoded batches do not decode: {error}\nbatches: {decoded:#?}")
        });
    assert_eq!(
        reread.incomplete_tail(),
        0,
        "re-encoded batches end in a partial batch\nbatches: {decoded:#?}"
    );
    assert_eq!(again, decoded, "batches changed in a round trip");
    assert_eq!(
        encode_batches(&again),
        encoded,
        "batches encode differently the second time"
    );
    Outcome::RoundTripped
}

fn encode_batches(batches: &[RecordBatch]) -> Bytes {
    let mut buf = BytesMut::new();
    for batch in batches {
        batch
            .encode(&mut buf)
            .unwrap_or_else(|error| panic!("decoded batch does not encode: {error}\n{batch:#?}"));
    }
    buf.freeze()
}

/// Decodes `body` as `M` at `version` and checks the round trip.
pub fn check_message<M: Message>(body: &[u8], version: i16) -> Outcome {
    check_body(
        &format!("{} v{version}", M::NAME),
        body,
        |decoder| M::decode(decoder, version),
        |frame| M::View::parse(frame, version).map(|view| view.to_message()),
        |value| value.encoded_len(version),
        |value, buf| value.encode(buf, version),
    )
}

/// Decodes `body` with `decode`; checks that the view (`through_view`) agrees on whether it
/// is a whole value and on which, and, when it decodes, that the value round-trips.
fn check_body<T: PartialEq + Debug>(
    what: &str,
    body: &[u8],
    decode: impl Fn(&mut Decoder<'_>) -> Result<T, DecodeError>,
    through_view: impl FnOnce(&Bytes) -> Result<T, DecodeError>,
    encoded_len: impl Fn(&T) -> usize,
    encode: impl Fn(&T, &mut BytesMut) -> Result<(), EncodeError>,
) -> Outcome {
    let frame = Bytes::copy_from_slice(body);
    let mut decoder = Decoder::new(&frame);
    let decoded = decode(&mut decoder);
    assert_view_agrees(
        what,
        decoded.as_ref().ok().filter(|_| decoder.is_empty()),
        through_view(&frame),
    );
    let Ok(value) = decoded else {
        return Outcome::Refused;
    };
    assert_round_trip(what, &value, encoded_len, encode, decode);
    Outcome::RoundTripped
}

/// Panics unless the view accepted the body exactly when the decoder read all of it
/// (`decoded`), and read the same value.
fn assert_view_agrees<T: PartialEq + Debug>(
    what: &str,
    decoded: Option<&T>,
    viewed: Result<T, DecodeError>,
) {
    match (decoded, viewed) {
        (None, Err(_)) => {}
        // A NaN never equals itself: equal Debug output stands in, as in the round trip.
        (Some(value), Ok(seen)) => {
            if seen != *value {
                assert_eq!(
                    format!("{seen:?}"),
                    format!("{value:?}"),
                    "{what}: the view reads another value"
                );
            }
        }
        (Some(value), Err(error)) => {
            panic!("{what}: the view refuses a body the decoder reads: {error}\nvalue: {value:#?}")
        }
        (None, Ok(seen)) => {
            panic!("{what}: the view reads a body the decoder refuses\nvalue: {seen:#?}")
        }
    }
}

/// Panics unless `value` survives encode → decode → encode as the [crate docs](crate) say.
fn assert_round_trip<T: PartialEq + Debug>(
    what: &str,
    value: &T,
    encoded_len: impl Fn(&T) -> usize,
    encode: impl Fn(&T, &mut BytesMut) -> Result<(), EncodeError>,
    decode: impl Fn(&mut Decoder<'_>) -> Result<T, DecodeError>,
) {
    let encode_all = |value: &T| {
        let mut buf = BytesMut::new();
        if let Err(error) = encode(value, &mut buf) {
            panic!("{what}: decoded value does not encode: {error}\nvalue: {value:#?}");
        }
        buf.freeze()
    };
    let encoded = encode_all(value);
    assert_eq!(
        encoded_len(value),
        encoded.len(),
        "{what}: encoded_len disagrees with encode\nvalue: {value:#?}"
    );
    let mut decoder = Decoder::new(&encoded);
    let again = decode(&mut decoder).unwrap_or_else(|error| {
        panic!("{what}: re-encoded value does not decode: {error}\nvalue: {value:#?}")
    });
    assert_eq!(
        decoder.remaining(),
        0,
        "{what}: re-encoded value decodes with bytes left over\nvalue: {value:#?}"
    );
    // Values holding a NaN never equal themselves; for those, equal Debug output (checked
    // here) and equal bytes (checked below) stand in for equality.
    if again != *value {
        assert_eq!(
            format!("{again:?}"),
            format!("{value:?}"),
            "{what}: value changed in a round trip"
        );
    }
    assert_eq!(
        encode_all(&again),
        encoded,
        "{what}: value encodes differently the second time\nvalue: {value:#?}"
    );
}
