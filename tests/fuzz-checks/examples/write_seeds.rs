//! Writes the seed corpus of every fuzz target to `fuzz/corpus/<target>/` (or under the
//! directory given as the first argument), as `cargo fuzz run <target>` expects to find it.
//!
//! `cargo run -p klamm-fuzz-checks --example write_seeds --features seeds`.

use std::path::{Path, PathBuf};

use klamm_fuzz_checks::seeds::Seeds;

/// Drawn values per message version, besides the default value.
const PER_VERSION: usize = 3;

fn main() -> std::io::Result<()> {
    let root = std::env::args_os().nth(1).map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus"),
        PathBuf::from,
    );
    let seeds = Seeds::generate(PER_VERSION);
    for (target, inputs) in seeds.by_target() {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir)?;
        for (index, data) in inputs.iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{index:05}")), data)?;
        }
        println!("{target}: {} seeds in {}", inputs.len(), dir.display());
    }
    Ok(())
}
