#!/usr/bin/env bash
# Runs every fuzz target for a short, bounded time; fails if any target finds a crash.
#
#   fuzz/ci.sh                          # 20 s per target, no sanitizer
#   FUZZ_SECONDS=300 fuzz/ci.sh
#   FUZZ_SANITIZER=address fuzz/ci.sh   # with AddressSanitizer (a build minutes longer)
#
# Works on the stable toolchain: cargo-fuzz passes nightly-only flags (-Zsanitizer=...),
# which RUSTC_BOOTSTRAP=1 lets stable rustc accept. See README.md.
#
# The short runs build without a sanitizer by default. ASan instruments Rust code only, and
# klamm-protocol's two `unsafe` blocks (in `KafkaString`) check their preconditions with
# `debug_assert!`, which cargo-fuzz builds keep on, with overflow checks. ASan would add over
# three minutes to building the generated code, and slows every execution.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

seconds="${FUZZ_SECONDS:-20}"
sanitizer="${FUZZ_SANITIZER:-none}"

export RUSTC_BOOTSTRAP=1
# Cargo caches rustc's answers in target/.rustc_info.json keyed by arguments but not by
# RUSTC_BOOTSTRAP, so one run without it would leave a cached "-Z needs nightly" failure
# behind for every later run. Never trust that cache here.
export CARGO_CACHE_RUSTC_INFO=0

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

# The seed corpus: valid encodings of every message, header and record batch layout. The
# properties and the seed tests (every seed decodes and round-trips) are the workspace crate
# tests/fuzz-checks, which `cargo test` runs; `cargo xtask test` writes the seeds itself from
# its test build and says so.
if [[ "${KLAMM_FUZZ_SEEDS_WRITTEN:-}" != 1 ]]; then
    cargo run --quiet --manifest-path ../Cargo.toml -p klamm-fuzz-checks \
        --features seeds --example write_seeds -- "$PWD/corpus"
fi

cargo fuzz build --sanitizer "${sanitizer}"

failed=()
for target in $(cargo fuzz list); do
    echo "=== fuzzing ${target} for ${seconds}s"
    log="$(mktemp)"
    # -timeout: an input running this long is a hang; -rss_limit_mb: a runaway allocation.
    if cargo fuzz run --sanitizer "${sanitizer}" "${target}" -- \
        -max_total_time="${seconds}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        >"${log}" 2>&1; then
        grep -E '^(Done|stat::number_of_executed_units)' "${log}" || true
    else
        tail -n 60 "${log}"
        echo "!!! ${target} failed; reproducers are in fuzz/artifacts/${target}/"
        failed+=("${target}")
    fi
    rm -f "${log}"
done

if ((${#failed[@]})); then
    echo "fuzz targets that failed: ${failed[*]}"
    exit 1
fi
echo "all fuzz targets ran ${seconds}s without a crash"
