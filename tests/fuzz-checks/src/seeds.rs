//! Seed inputs: real encodings, laid out as [`crate::input`] reads them, so each fuzz target
//! starts from bytes that decode and mutates outward from there.
//!
//! Messages come from klamm-protocol's own proptest strategies, drawn with a fixed seed so
//! the corpus is the same on every run; record batches are built with the batch builder, one
//! per codec and feature. Nothing is committed: `examples/write_seeds.rs` writes them on demand.

use klamm_protocol::messages::catalog::{visit_all, MessageKind, MessageVisitor};
use klamm_protocol::records::{Compression, Record, RecordBatch};
use klamm_protocol::Message;
use proptest::strategy::{BoxedStrategy, Strategy, ValueTree};
use proptest::test_runner::TestRunner;

use crate::input::{HeaderInput, HeaderKind, MessageInput, RecordsInput};

/// Seeds for every fuzz target, by target name.
#[derive(Debug, Default)]
pub struct Seeds {
    /// For `decode_request`.
    pub requests: Vec<Vec<u8>>,
    /// For `decode_response`.
    pub responses: Vec<Vec<u8>>,
    /// For `decode_header`.
    pub headers: Vec<Vec<u8>>,
    /// For `decode_record_batch`.
    pub record_batches: Vec<Vec<u8>>,
}

impl Seeds {
    /// Makes the default value plus `per_version` drawn values of every request, response and
    /// header at each of its versions, and the record batch seeds.
    pub fn generate(per_version: usize) -> Self {
        let mut collector = Collector {
            per_version,
            runner: TestRunner::deterministic(),
            seeds: Seeds::default(),
        };
        visit_all(&mut collector);
        let mut seeds = collector.seeds;
        seeds.record_batches = record_batch_seeds();
        seeds
    }

    /// The seeds of each target, as `(target name, inputs)`.
    pub fn by_target(&self) -> [(&'static str, &[Vec<u8>]); 4] {
        [
            ("decode_request", &self.requests),
            ("decode_response", &self.responses),
            ("decode_header", &self.headers),
            ("decode_record_batch", &self.record_batches),
        ]
    }
}

struct Collector {
    per_version: usize,
    runner: TestRunner,
    seeds: Seeds,
}

impl MessageVisitor for Collector {
    fn visit<M: Message + 'static>(
        &mut self,
        kind: MessageKind,
        strategy: fn(i16) -> BoxedStrategy<M>,
    ) {
        for version in M::VERSIONS.iter() {
            let mut values = vec![M::default()];
            for _ in 0..self.per_version {
                let tree = strategy(version)
                    .new_tree(&mut self.runner)
                    .expect("klamm-protocol strategies never reject");
                values.push(tree.current());
            }
            for value in values {
                // A default can hold a value a version cannot carry; such a seed is skipped.
                let Ok(body) = value.to_bytes(version) else {
                    continue;
                };
                match kind {
                    MessageKind::Request(api_key) => self
                        .seeds
                        .requests
                        .push(MessageInput::write(api_key, version, &body)),
                    MessageKind::Response(api_key) => self
                        .seeds
                        .responses
                        .push(MessageInput::write(api_key, version, &body)),
                    MessageKind::Header => {
                        let kind = if M::NAME == "RequestHeader" {
                            HeaderKind::Request
                        } else {
                            HeaderKind::Response
                        };
                        self.seeds
                            .headers
                            .push(HeaderInput::write(kind, version, &body));
                    }
                    MessageKind::Data => {}
                }
            }
        }
    }
}

/// One `records` field per codec, plus batches exercising each header flag, null and empty
/// keys, values and headers, two batches back to back and a cut-off tail.
fn record_batch_seeds() -> Vec<Vec<u8>> {
    let record = |i: u8| {
        Record::new()
            .with_key(vec![b'k', i])
            .with_value(vec![i; usize::from(i) * 3])
            .with_header("trace", vec![i])
            .with_null_header("empty")
    };
    let mut batches: Vec<RecordBatch> = Compression::ALL
        .iter()
        .map(|&codec| {
            RecordBatch::builder()
                .base_offset(100)
                .compression(codec)
                .record(1_700_000_000_000, record(1))
                .record(1_700_000_000_005, record(2))
                .record(1_700_000_000_003, Record::new())
                .build()
        })
        .collect();
    batches.push(
        RecordBatch::builder()
            .producer(7, 1, 42)
            .transactional(true)
            .partition_leader_epoch(3)
            .record(5, Record::new().with_value(""))
            .build(),
    );
    batches.push(
        RecordBatch::builder()
            .control(true)
            .transactional(true)
            .record(
                9,
                Record::new()
                    .with_key(vec![0, 0, 0, 1])
                    .with_value(vec![0, 0, 0, 0, 0, 5]),
            )
            .build(),
    );
    batches.push(
        RecordBatch::builder()
            .log_append_time(1_700_000_000_999)
            .record_at(4, 10, record(3))
            .build(),
    );
    batches.push(
        RecordBatch::builder()
            .delete_horizon(1_700_000_100_000)
            .record(11, Record::new().with_key("gone"))
            .build(),
    );
    batches.push(RecordBatch::builder().build());

    let encode = |batch: &RecordBatch| {
        batch
            .to_bytes()
            .expect("seed batches encode with every codec on")
            .to_vec()
    };
    let mut fields: Vec<Vec<u8>> = batches.iter().map(encode).collect();
    let mut two = encode(&batches[0]);
    two.extend_from_slice(&encode(&batches[5]));
    fields.push(two.clone());
    two.extend_from_slice(&encode(&batches[1])[..30]);
    fields.push(two);
    fields
        .iter()
        .map(|field| RecordsInput::write(field))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Outcome;

    #[test]
    fn every_seed_passes_its_check() {
        let seeds = Seeds::generate(2);
        assert!(seeds.requests.len() > 500, "{}", seeds.requests.len());
        assert!(seeds.responses.len() > 500, "{}", seeds.responses.len());
        assert!(seeds.headers.len() >= 4, "{}", seeds.headers.len());
        type Check = fn(&[u8]) -> Outcome;
        let checks: [(&str, &[Vec<u8>], Check); 4] = [
            ("request", &seeds.requests, crate::check_request),
            ("response", &seeds.responses, crate::check_response),
            ("header", &seeds.headers, crate::check_header),
            (
                "record batch",
                &seeds.record_batches,
                crate::check_record_batches,
            ),
        ];
        for (what, inputs, check) in checks {
            for data in inputs {
                assert_eq!(
                    check(data),
                    Outcome::RoundTripped,
                    "{what} seed {data:02x?}"
                );
            }
        }
    }

    #[test]
    fn record_seeds_decode_to_batches() {
        for data in record_batch_seeds() {
            let input = RecordsInput::parse(&data).unwrap();
            let field = bytes::Bytes::from(input.field);
            let batches = klamm_protocol::records::decode_batches(&field).unwrap();
            assert!(!batches.is_empty());
        }
    }
}
