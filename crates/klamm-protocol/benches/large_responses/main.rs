//! Decoding and encoding two large responses — a 10,000-partition Metadata and a 1,000-topic
//! DescribeConfigs — with klamm-protocol, side by side in the same run with the kafka-protocol
//! crate and with a plain copy of the frame as the floor. Two more decode rows use klamm's
//! zero-copy views: "klamm view" makes the view and reads every field through it, "view parse"
//! only makes it (which checks the whole frame). The view's full read is compared with the
//! peer's decode followed by the same reads of its value ("peer + read").
//!
//! Before criterion's runs it checks that both codecs read each frame the same way and write
//! it back byte for byte, then prints one table per frame: median times from interleaved
//! rounds (so a noisy machine slows every contender alike), the ratio to klamm, and what each
//! decode and encode allocates, counted by this benchmark's global allocator.
//!
//! ```text
//! cargo bench -p klamm-protocol --bench large_responses
//! cargo bench -p klamm-protocol --bench large_responses -- metadata   # one frame only
//! # profile one routine (no table, no analysis):
//! perf record -g target/release/deps/large_responses-<hash> --bench \
//!     --profile-time 10 metadata_v12_10k_partitions/decode/klamm
//! ```

mod alloc;
mod codecs;
mod fixtures;
mod views;

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{BenchmarkGroup, Criterion, Throughput};
use klamm_protocol::messages::{DescribeConfigsResponse, MetadataResponse};
use klamm_protocol::Message;

use alloc::{measure, settle, Allocations, CountingAllocator};
use codecs::{Codec, KafkaProtocol, Klamm, Memcpy};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// How the table names the view rows: reading every field, and only making the view.
const VIEW: &str = "klamm view";
const VIEW_PARSE: &str = "view parse";
/// How the table names kafka-protocol's decode followed by reading every field.
const PEER_READ: &str = "peer + read";

/// Interleaved rounds behind each median in the table.
const ROUNDS: usize = 101;

type PeerMetadata = kafka_protocol::messages::MetadataResponse;
type PeerDescribeConfigs = kafka_protocol::messages::DescribeConfigsResponse;

/// One frame to benchmark.
struct Case {
    name: &'static str,
    version: i16,
    frame: Bytes,
    /// Reads every field through the message's view.
    walk: views::Walk,
    /// Only makes the view, which checks the frame.
    parse: views::Walk,
}

fn cases() -> [Case; 2] {
    let metadata = Case {
        name: "metadata_v12_10k_partitions",
        version: fixtures::METADATA_VERSION,
        frame: fixtures::metadata_response()
            .to_bytes(fixtures::METADATA_VERSION)
            .expect("the Metadata fixture encodes"),
        walk: views::walk_metadata,
        parse: views::parse_only::<MetadataResponse>,
    };
    codecs::check_metadata(&metadata.frame, metadata.version);
    let describe_configs = Case {
        name: "describe_configs_v4_1k_topics",
        version: fixtures::DESCRIBE_CONFIGS_VERSION,
        frame: fixtures::describe_configs_response()
            .to_bytes(fixtures::DESCRIBE_CONFIGS_VERSION)
            .expect("the DescribeConfigs fixture encodes"),
        walk: views::walk_describe_configs,
        parse: views::parse_only::<DescribeConfigsResponse>,
    };
    codecs::check_describe_configs(&describe_configs.frame, describe_configs.version);
    views::check_all(
        &metadata.frame,
        metadata.version,
        &describe_configs.frame,
        describe_configs.version,
    );
    [metadata, describe_configs]
}

fn main() {
    // Listing prints names only; profiling (`--profile-time`) should see only the routine.
    let quiet = std::env::args().any(|arg| arg == "--list" || arg.starts_with("--profile-time"));
    let [metadata, describe_configs] = cases();
    if !quiet {
        report::<Klamm<MetadataResponse>, KafkaProtocol<PeerMetadata>>(
            &metadata,
            views::read_peer_metadata,
        );
        report::<Klamm<DescribeConfigsResponse>, KafkaProtocol<PeerDescribeConfigs>>(
            &describe_configs,
            views::read_peer_describe_configs,
        );
    }

    let mut criterion = Criterion::default().configure_from_args();
    bench_case::<Klamm<MetadataResponse>, KafkaProtocol<PeerMetadata>>(&mut criterion, &metadata);
    bench_case::<Klamm<DescribeConfigsResponse>, KafkaProtocol<PeerDescribeConfigs>>(
        &mut criterion,
        &describe_configs,
    );
    criterion.final_summary();
}

/// Criterion groups `<case>/decode` and `<case>/encode`, each timing klamm, the peer and the
/// copy. Decoded values are dropped outside the timed region, as in the table.
fn bench_case<K: Codec, P: Codec>(criterion: &mut Criterion, case: &Case) {
    let mut group = criterion.benchmark_group(format!("{}/decode", case.name));
    group.throughput(Throughput::Bytes(case.frame.len() as u64));
    bench_decode::<K>(&mut group, case);
    bench_decode::<P>(&mut group, case);
    bench_decode::<Memcpy>(&mut group, case);
    group.bench_function(VIEW, |b| {
        b.iter(|| (case.walk)(black_box(&case.frame), case.version))
    });
    group.finish();

    let mut group = criterion.benchmark_group(format!("{}/encode", case.name));
    group.throughput(Throughput::Bytes(case.frame.len() as u64));
    bench_encode::<K>(&mut group, case);
    bench_encode::<P>(&mut group, case);
    bench_encode::<Memcpy>(&mut group, case);
    group.finish();
}

fn bench_decode<C: Codec>(
    group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    case: &Case,
) {
    // Each decoded value is dropped right after its decode, untimed, so the allocator reuses
    // memory as it would in a client (`iter_with_large_drop` would keep thousands of values
    // alive and time page faults instead).
    group.bench_function(C::NAME, |b| {
        b.iter_custom(|iterations| {
            (0..iterations)
                .map(|_| time_decode::<C>(&case.frame, case.version))
                .sum()
        })
    });
}

fn bench_encode<C: Codec>(
    group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    case: &Case,
) {
    let value = C::decode(&case.frame, case.version);
    group.bench_function(C::NAME, |b| {
        b.iter(|| C::encode(black_box(&value), case.version))
    });
}

/// One contender's numbers for one operation.
struct Row {
    codec: &'static str,
    median: Duration,
    allocations: Allocations,
}

/// Prints the side-by-side table for `case`; `read_peer` reads every field of the peer's value.
fn report<K: Codec, P: Codec>(case: &Case, read_peer: fn(&P::Value) -> u64) {
    let version = case.version;
    let frame = &case.frame;
    let row = |codec, median, allocations| Row {
        codec,
        median,
        allocations,
    };

    // Decodes are timed without the drop of what they return; allocations are one decode's.
    let (walk, parse) = (case.walk, case.parse);
    let [klamm, peer, copy, peer_read, view, parsed] = interleaved([
        &mut || time_decode::<K>(frame, version),
        &mut || time_decode::<P>(frame, version),
        &mut || time_decode::<Memcpy>(frame, version),
        &mut || time_decode_and_read::<P>(frame, version, read_peer),
        &mut || time_walk(walk, frame, version),
        &mut || time_walk(parse, frame, version),
    ]);
    let peer_read_row = row(
        PEER_READ,
        peer_read,
        measure(|| read_peer(&P::decode(frame, version))).1,
    );
    let view_row = row(VIEW, view, measure(|| walk(frame, version)).1);
    let parse_row = row(VIEW_PARSE, parsed, measure(|| parse(frame, version)).1);
    let decode_rows = [
        row(K::NAME, klamm, measure(|| K::decode(frame, version)).1),
        row(P::NAME, peer, measure(|| P::decode(frame, version)).1),
        row(
            Memcpy::NAME,
            copy,
            measure(|| Memcpy::decode(frame, version)).1,
        ),
    ];

    // Each codec encodes the value it decoded itself.
    let klamm_value = K::decode(frame, version);
    let peer_value = P::decode(frame, version);
    let copy_value = Memcpy::decode(frame, version);
    let [klamm, peer, copy] = interleaved([
        &mut || time_encode::<K>(&klamm_value, version),
        &mut || time_encode::<P>(&peer_value, version),
        &mut || time_encode::<Memcpy>(&copy_value, version),
    ]);
    let encode_rows = [
        row(
            K::NAME,
            klamm,
            measure(|| K::encode(&klamm_value, version)).1,
        ),
        row(P::NAME, peer, measure(|| P::encode(&peer_value, version)).1),
        row(
            Memcpy::NAME,
            copy,
            measure(|| Memcpy::encode(&copy_value, version)).1,
        ),
    ];

    println!();
    println!(
        "{} ({} bytes, v{version}): medians of {ROUNDS} interleaved rounds",
        case.name,
        frame.len()
    );
    println!(
        "  {:<7} {:<15} {:>10} {:>9} {:>9} {:>11} {:>12}",
        "op", "codec", "median", "MB/s", "vs klamm", "allocs", "alloc bytes"
    );
    let decode_with_view: Vec<&Row> = decode_rows
        .iter()
        .chain([&peer_read_row, &view_row, &parse_row])
        .collect();
    let encode: Vec<&Row> = encode_rows.iter().collect();
    for (op, rows) in [("decode", &decode_with_view), ("encode", &encode)] {
        let klamm = rows[0];
        for row in rows.iter() {
            let throughput = frame.len() as f64 / row.median.as_secs_f64() / 1e6;
            println!(
                "  {:<7} {:<15} {:>10} {:>9.0} {:>8.2}x {:>11} {:>12}",
                op,
                row.codec,
                format!("{:.1?}", row.median),
                throughput,
                row.median.as_secs_f64() / klamm.median.as_secs_f64(),
                row.allocations.count,
                row.allocations.bytes,
            );
        }
    }
    let speedup = |rows: &[Row; 3]| rows[1].median.as_secs_f64() / rows[0].median.as_secs_f64();
    let bytes_ratio =
        decode_rows[0].allocations.bytes as f64 / decode_rows[1].allocations.bytes as f64;
    println!(
        "  klamm vs {}: decode {:.2}x faster (target 3x), encode {:.2}x faster (target 1.5x), \
         decode allocates {:.2} of its bytes (target 0.5); decoded value retains {} vs {} bytes",
        P::NAME,
        speedup(&decode_rows),
        speedup(&encode_rows),
        bytes_ratio,
        decode_rows[0].allocations.retained,
        decode_rows[1].allocations.retained,
    );
    println!(
        "  klamm view vs {}: parse + read every field {:.2}x faster than its decode + the same \
         reads ({:.2}x than its decode alone), parse alone {:.2}x; allocates {} bytes",
        P::NAME,
        peer_read_row.median.as_secs_f64() / view_row.median.as_secs_f64(),
        decode_rows[1].median.as_secs_f64() / view_row.median.as_secs_f64(),
        decode_rows[1].median.as_secs_f64() / parse_row.median.as_secs_f64(),
        view_row.allocations.bytes,
    );
}

fn time_walk(walk: views::Walk, frame: &Bytes, version: i16) -> Duration {
    let start = Instant::now();
    black_box(walk(black_box(frame), version));
    start.elapsed()
}

fn time_decode<C: Codec>(frame: &Bytes, version: i16) -> Duration {
    let start = Instant::now();
    let value = black_box(C::decode(black_box(frame), version));
    let elapsed = start.elapsed();
    drop(value);
    settle();
    elapsed
}

/// Times a decode and the reads of every field of its value, not the drop.
fn time_decode_and_read<C: Codec>(
    frame: &Bytes,
    version: i16,
    read: fn(&C::Value) -> u64,
) -> Duration {
    let start = Instant::now();
    let value = C::decode(black_box(frame), version);
    black_box(read(&value));
    let elapsed = start.elapsed();
    drop(value);
    settle();
    elapsed
}

fn time_encode<C: Codec>(value: &C::Value, version: i16) -> Duration {
    let start = Instant::now();
    let bytes = black_box(C::encode(black_box(value), version));
    let elapsed = start.elapsed();
    // No `settle` here: an encode frees one buffer, which leaves no small chunks to merge,
    // and the extra allocation would have the allocator hand the heap's top back to the
    // system, so that the next encode's buffer started on fresh pages.
    drop(bytes);
    elapsed
}

/// Runs the contenders in turn for [`ROUNDS`] rounds after a warm-up round, and returns each
/// one's median.
fn interleaved<const N: usize>(mut runs: [&mut dyn FnMut() -> Duration; N]) -> [Duration; N] {
    for run in runs.iter_mut() {
        run();
    }
    let mut samples: [Vec<Duration>; N] = std::array::from_fn(|_| Vec::with_capacity(ROUNDS));
    for _ in 0..ROUNDS {
        for (run, samples) in runs.iter_mut().zip(samples.iter_mut()) {
            samples.push(run());
        }
    }
    samples.map(|mut samples| {
        samples.sort_unstable();
        samples[samples.len() / 2]
    })
}
