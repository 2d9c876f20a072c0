//! Decoding and encoding two large responses — a 1,000-topic (10,000-partition) Metadata and a
//! 1,000-topic × 40-config DescribeConfigs — with klamm-protocol, side by side in the same run with the kafka-protocol
//! crate and with a plain copy of the frame as the floor. With the `view` feature, three more
//! decode rows use klamm's zero-copy views: "klamm view" makes the view and reads every field
//! through it, "view parse" only makes it (which checks the whole frame), and "peer + read" is
//! the peer's decode followed by the same reads of its value, to compare with the first.
//!
//! Before criterion's runs it checks that both codecs read each frame the same way and write
//! it back byte for byte, then prints one table per frame: median times from interleaved
//! rounds (so a noisy machine slows every contender alike), the ratio to klamm, and what each
//! decode and encode allocates, counted by this benchmark's global allocator.
//!
//! ```text
//! cargo bench -p klamm-protocol --bench large_responses
//! cargo bench -p klamm-protocol --bench large_responses --features view   # with the view rows
//! cargo bench -p klamm-protocol --bench large_responses -- metadata   # one frame only
//! # profile one routine (no table, no analysis):
//! perf record -g target/release/deps/large_responses-<hash> --bench \
//!     --profile-time 10 metadata_v12_1k_topics/decode/klamm
//! ```

mod alloc;
mod codecs;
mod fixtures;
#[cfg(feature = "view")]
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
#[cfg(feature = "view")]
const VIEW: &str = "klamm view";
#[cfg(feature = "view")]
const VIEW_PARSE: &str = "view parse";
/// How the table names kafka-protocol's decode followed by reading every field.
#[cfg(feature = "view")]
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
    #[cfg(feature = "view")]
    walk: views::Walk,
    /// Only makes the view, which checks the frame.
    #[cfg(feature = "view")]
    parse: views::Walk,
    /// Decodes with the peer and reads every field of its value, as `walk` reads the view.
    #[cfg(feature = "view")]
    read_peer: fn(&Bytes, i16) -> u64,
    /// Times `read_peer` without the drop of the decoded value.
    #[cfg(feature = "view")]
    time_read_peer: fn(&Bytes, i16) -> Duration,
}

fn cases() -> [Case; 2] {
    let metadata = Case {
        name: "metadata_v12_1k_topics",
        version: fixtures::METADATA_VERSION,
        frame: fixtures::metadata_response()
            .to_bytes(fixtures::METADATA_VERSION)
            .expect("the Metadata fixture encodes"),
        #[cfg(feature = "view")]
        walk: views::walk_metadata,
        #[cfg(feature = "view")]
        parse: views::parse_only::<MetadataResponse>,
        #[cfg(feature = "view")]
        read_peer: |frame, version| {
            views::read_peer_metadata(&KafkaProtocol::<PeerMetadata>::decode(frame, version))
        },
        #[cfg(feature = "view")]
        time_read_peer: |frame, version| {
            time_decode_and_read::<KafkaProtocol<PeerMetadata>>(
                frame,
                version,
                views::read_peer_metadata,
            )
        },
    };
    codecs::check_metadata(&metadata.frame, metadata.version);
    let describe_configs = Case {
        name: "describe_configs_v4_1k_x_40",
        version: fixtures::DESCRIBE_CONFIGS_VERSION,
        frame: fixtures::describe_configs_response()
            .to_bytes(fixtures::DESCRIBE_CONFIGS_VERSION)
            .expect("the DescribeConfigs fixture encodes"),
        #[cfg(feature = "view")]
        walk: views::walk_describe_configs,
        #[cfg(feature = "view")]
        parse: views::parse_only::<DescribeConfigsResponse>,
        #[cfg(feature = "view")]
        read_peer: |frame, version| {
            views::read_peer_describe_configs(&KafkaProtocol::<PeerDescribeConfigs>::decode(
                frame, version,
            ))
        },
        #[cfg(feature = "view")]
        time_read_peer: |frame, version| {
            time_decode_and_read::<KafkaProtocol<PeerDescribeConfigs>>(
                frame,
                version,
                views::read_peer_describe_configs,
            )
        },
    };
    codecs::check_describe_configs(&describe_configs.frame, describe_configs.version);
    #[cfg(feature = "view")]
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
        report::<Klamm<MetadataResponse>, KafkaProtocol<PeerMetadata>>(&metadata);
        report::<Klamm<DescribeConfigsResponse>, KafkaProtocol<PeerDescribeConfigs>>(
            &describe_configs,
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
    #[cfg(feature = "view")]
    group.bench_function(VIEW, |b| {
        b.iter(|| (case.walk)(black_box(&case.frame), case.version))
    });
    group.finish();

    let mut group = criterion.benchmark_group(format!("{}/encode", case.name));
    group.throughput(Throughput::Bytes(case.frame.len() as u64));
    bench_encode::<K>(&mut group, case);
    bench_encode::<P>(&mut group, case);
    bench_encode::<Memcpy>(&mut group, case);
    bench_encode_single_pass::<K>(&mut group, case, KLAMM_SINGLE_PASS);
    bench_encode_single_pass::<P>(&mut group, case, PEER_SINGLE_PASS);
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

/// How the table names the single-pass encodes.
const KLAMM_SINGLE_PASS: &str = "klamm 1-pass";
const PEER_SINGLE_PASS: &str = "peer 1-pass";

/// One timed run of one contender.
type Run<'a> = Box<dyn FnMut() -> Duration + 'a>;

fn bench_encode_single_pass<C: Codec>(
    group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    case: &Case,
    name: &str,
) {
    let value = C::decode(&case.frame, case.version);
    let room = case.frame.len();
    group.bench_function(name, |b| {
        b.iter(|| C::encode_single_pass(black_box(&value), case.version, room))
    });
}

/// One contender's numbers for one operation.
struct Row {
    codec: &'static str,
    median: Duration,
    allocations: Allocations,
}

/// Prints the side-by-side table for `case`.
fn report<K: Codec, P: Codec>(case: &Case) {
    let version = case.version;
    let frame = &case.frame;
    let row = |codec, median, allocations| Row {
        codec,
        median,
        allocations,
    };

    // Decodes are timed without the drop of what they return; allocations are one decode's.
    let mut decoders: Vec<Run<'_>> = vec![
        Box::new(|| time_decode::<K>(frame, version)),
        Box::new(|| time_decode::<P>(frame, version)),
        Box::new(|| time_decode::<Memcpy>(frame, version)),
    ];
    #[cfg(feature = "view")]
    {
        let (walk, parse, time_read_peer) = (case.walk, case.parse, case.time_read_peer);
        decoders.push(Box::new(move || time_read_peer(frame, version)));
        decoders.push(Box::new(move || time_walk(walk, frame, version)));
        decoders.push(Box::new(move || time_walk(parse, frame, version)));
    }
    let medians = interleaved(&mut decoders);
    #[allow(unused_mut)] // the view rows are pushed with the `view` feature
    let mut decode_rows = vec![
        row(K::NAME, medians[0], measure(|| K::decode(frame, version)).1),
        row(P::NAME, medians[1], measure(|| P::decode(frame, version)).1),
        row(
            Memcpy::NAME,
            medians[2],
            measure(|| Memcpy::decode(frame, version)).1,
        ),
    ];
    #[cfg(feature = "view")]
    {
        let (walk, parse, read_peer) = (case.walk, case.parse, case.read_peer);
        decode_rows.push(row(
            PEER_READ,
            medians[3],
            measure(|| read_peer(frame, version)).1,
        ));
        decode_rows.push(row(VIEW, medians[4], measure(|| walk(frame, version)).1));
        decode_rows.push(row(
            VIEW_PARSE,
            medians[5],
            measure(|| parse(frame, version)).1,
        ));
    }

    // Each codec encodes the value it decoded itself: sized up front (klamm's `to_bytes`, the
    // peer's `compute_size` then `encode`), and in one pass into a buffer with room for the
    // frame, as a client that patches the length prefix afterwards writes (klamm's
    // `encode_single_pass`, the peer's `encode` alone).
    let klamm_value = K::decode(frame, version);
    let peer_value = P::decode(frame, version);
    let copy_value = Memcpy::decode(frame, version);
    let room = frame.len();
    let medians = interleaved(&mut [
        Box::new(|| time_encode(|| K::encode(&klamm_value, version))) as Run<'_>,
        Box::new(|| time_encode(|| K::encode_single_pass(&klamm_value, version, room))),
        Box::new(|| time_encode(|| P::encode(&peer_value, version))),
        Box::new(|| time_encode(|| P::encode_single_pass(&peer_value, version, room))),
        Box::new(|| time_encode(|| Memcpy::encode(&copy_value, version))),
    ]);
    let encode_rows = vec![
        row(
            K::NAME,
            medians[0],
            measure(|| K::encode(&klamm_value, version)).1,
        ),
        row(
            KLAMM_SINGLE_PASS,
            medians[1],
            measure(|| K::encode_single_pass(&klamm_value, version, room)).1,
        ),
        row(
            P::NAME,
            medians[2],
            measure(|| P::encode(&peer_value, version)).1,
        ),
        row(
            PEER_SINGLE_PASS,
            medians[3],
            measure(|| P::encode_single_pass(&peer_value, version, room)).1,
        ),
        row(
            Memcpy::NAME,
            medians[4],
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
    for (op, rows) in [("decode", &decode_rows), ("encode", &encode_rows)] {
        let klamm = &rows[0];
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
    let ratio = |peer: &Row, klamm: &Row| peer.median.as_secs_f64() / klamm.median.as_secs_f64();
    let bytes_ratio =
        decode_rows[0].allocations.bytes as f64 / decode_rows[1].allocations.bytes as f64;
    let [sized, single, peer_sized, peer_single] = [0, 1, 2, 3].map(|i| &encode_rows[i]);
    let peer_fastest = if peer_single.median < peer_sized.median {
        peer_single
    } else {
        peer_sized
    };
    println!(
        "  klamm vs {}: decode {:.2}x faster (target 3x); encode in one pass {:.2}x faster than \
         the peer's fastest ({}, target 1.5x), sized {:.2}x than the peer sized",
        P::NAME,
        ratio(&decode_rows[1], &decode_rows[0]),
        ratio(peer_fastest, single),
        peer_fastest.codec,
        ratio(peer_sized, sized),
    );
    println!(
        "  decode allocates {:.2} of the peer's bytes (target 0.5); decoded value retains {} vs \
         {} bytes",
        bytes_ratio, decode_rows[0].allocations.retained, decode_rows[1].allocations.retained,
    );
    #[cfg(feature = "view")]
    {
        let [peer_read, view, parse] = [&decode_rows[3], &decode_rows[4], &decode_rows[5]];
        println!(
            "  klamm view vs {}: parse + read every field {:.2}x faster than its decode + the \
             same reads ({:.2}x than its decode alone), parse alone {:.2}x; allocates {} bytes",
            P::NAME,
            peer_read.median.as_secs_f64() / view.median.as_secs_f64(),
            decode_rows[1].median.as_secs_f64() / view.median.as_secs_f64(),
            decode_rows[1].median.as_secs_f64() / parse.median.as_secs_f64(),
            view.allocations.bytes,
        );
    }
}

#[cfg(feature = "view")]
fn time_walk(walk: fn(&Bytes, i16) -> u64, frame: &Bytes, version: i16) -> Duration {
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
#[cfg(feature = "view")]
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

fn time_encode(encode: impl FnOnce() -> Bytes) -> Duration {
    let start = Instant::now();
    let bytes = black_box(encode());
    let elapsed = start.elapsed();
    // No `settle` here: an encode frees one buffer, which leaves no small chunks to merge,
    // and the extra allocation would have the allocator hand the heap's top back to the
    // system, so that the next encode's buffer started on fresh pages.
    drop(bytes);
    elapsed
}

/// Runs the contenders in turn for [`ROUNDS`] rounds after a warm-up round, and returns each
/// one's median, in their order.
fn interleaved(runs: &mut [Run<'_>]) -> Vec<Duration> {
    for run in runs.iter_mut() {
        run();
    }
    let mut samples: Vec<Vec<Duration>> = runs.iter().map(|_| Vec::with_capacity(ROUNDS)).collect();
    for _ in 0..ROUNDS {
        for (run, samples) in runs.iter_mut().zip(samples.iter_mut()) {
            samples.push(run());
        }
    }
    samples
        .into_iter()
        .map(|mut samples| {
            samples.sort_unstable();
            samples[samples.len() / 2]
        })
        .collect()
}
