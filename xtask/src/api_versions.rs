//! `cargo xtask api-versions`: writes `crates/klamm-net/src/releases/table.rs`, the highest
//! version of each request that each Kafka release from 2.0 to 4.4 supports, read from that
//! release's own `kafka-clients` jar (Maven Central, through `mvn dependency:get`).
//!
//! From 2.2 on the jar carries the request specs (`common/message/*Request.json`): the highest
//! of `validVersions`, less one when `latestVersionUnstable` (a version a broker only offers
//! with `unstable.api.versions.enable`). 2.0 and 2.1 predate the specs; there the jar's
//! `ApiKeys.latestVersion()` is read instead. `--check` regenerates in memory and fails if the
//! committed file differs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use serde::Deserialize;

use crate::codegen::{rustfmt, spec::strip_comments};
use crate::specs::{cache_root, workspace_root};

/// The generated file, relative to the workspace root.
const OUTPUT: &str = "crates/klamm-net/src/releases/table.rs";

/// Each minor release with the kafka-clients version read for it (a newer patch release
/// changes no protocol version).
const RELEASES: &[(u16, u16, &str)] = &[
    (2, 0, "2.0.1"),
    (2, 1, "2.1.1"),
    (2, 2, "2.2.2"),
    (2, 3, "2.3.1"),
    (2, 4, "2.4.1"),
    (2, 5, "2.5.1"),
    (2, 6, "2.6.3"),
    (2, 7, "2.7.2"),
    (2, 8, "2.8.2"),
    (3, 0, "3.0.2"),
    (3, 1, "3.1.2"),
    (3, 2, "3.2.3"),
    (3, 3, "3.3.2"),
    (3, 4, "3.4.1"),
    (3, 5, "3.5.2"),
    (3, 6, "3.6.2"),
    (3, 7, "3.7.2"),
    (3, 8, "3.8.1"),
    (3, 9, "3.9.2"),
    (4, 0, "4.0.0"),
    (4, 1, "4.1.0"),
    (4, 2, "4.2.0"),
    (4, 3, "4.3.0"),
    (4, 4, "4.4.0"),
];

/// The logging API the old `ApiKeys` needs on its class path.
const SLF4J_API: &str = "org.slf4j:slf4j-api:1.7.36";

/// Generates (or with `check`, verifies) the release table.
pub fn run(check: bool) -> Result<()> {
    let slf4j = maven_jar(SLF4J_API)?;
    let mut releases = Vec::new();
    for &(major, minor, version) in RELEASES {
        let jar = maven_jar(&format!("org.apache.kafka:kafka-clients:{version}"))?;
        let dir = export(version, &jar, &slf4j)?;
        let highest = highest_versions(&dir).with_context(|| format!("reading {version}"))?;
        releases.push(((major, minor), version, highest));
    }
    let code = rustfmt(&emit(&releases))?;
    let path = workspace_root().join(OUTPUT);
    let current = std::fs::read_to_string(&path).ok();
    if check {
        if current.as_deref() != Some(code.as_str()) {
            bail!("{OUTPUT} is stale: run `cargo xtask api-versions`");
        }
        println!("api-versions: {OUTPUT} is fresh");
    } else if current.as_deref() != Some(code.as_str()) {
        std::fs::write(&path, code).with_context(|| format!("writing {}", path.display()))?;
        println!("api-versions: wrote {OUTPUT} ({} releases)", releases.len());
    }
    Ok(())
}

/// The local Maven repository's copy of `artifact` (`group:name:version`), fetched if missing.
fn maven_jar(artifact: &str) -> Result<PathBuf> {
    let [group, name, version] = artifact.split(':').collect::<Vec<_>>()[..] else {
        bail!("bad artifact `{artifact}`");
    };
    let home = std::env::var_os("HOME").unwrap_or_else(|| ".".into());
    let jar = PathBuf::from(home)
        .join(".m2/repository")
        .join(group.replace('.', "/"))
        .join(name)
        .join(version)
        .join(format!("{name}-{version}.jar"));
    if jar.is_file() {
        return Ok(jar);
    }
    eprintln!("api-versions: fetching {artifact} with Maven");
    let status = Command::new("mvn")
        .args([
            "-q",
            "-B",
            "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:get",
            "-Dtransitive=false",
        ])
        .arg(format!("-Dartifact={artifact}"))
        .status()
        .context("running mvn (is Maven installed?)")?;
    if !status.success() || !jar.is_file() {
        bail!("mvn could not fetch {artifact} ({status})");
    }
    Ok(jar)
}

/// The request specs (or `api-keys.tsv`) of one jar, exported into the cache once.
fn export(version: &str, jar: &Path, slf4j: &Path) -> Result<PathBuf> {
    let dir = cache_root().join("request-specs").join(version);
    let done = dir.join(".complete");
    if done.is_file() {
        return Ok(dir);
    }
    let program = workspace_root().join("xtask/java/RequestSpecs.java");
    let output = Command::new("java")
        .arg(&program)
        .arg(jar)
        .arg(slf4j)
        .arg(&dir)
        .output()
        .context("running java (is a JDK 17+ installed?)")?;
    if !output.status.success() {
        bail!(
            "exporting the request specs of {version} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    std::fs::write(&done, "")?;
    Ok(dir)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RequestSpec {
    api_key: i16,
    #[serde(rename = "type")]
    kind: String,
    valid_versions: String,
    #[serde(default)]
    latest_version_unstable: bool,
}

/// Each API's highest stable version in one exported release, by API key.
fn highest_versions(dir: &Path) -> Result<BTreeMap<i16, i16>> {
    let tsv = dir.join("api-keys.tsv");
    if tsv.is_file() {
        let text = std::fs::read_to_string(&tsv)?;
        return text
            .lines()
            .map(|line| {
                let (key, version) = line.split_once('\t').context("malformed api-keys.tsv")?;
                Ok((key.parse()?, version.parse()?))
            })
            .collect();
    }
    let mut highest = BTreeMap::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_none_or(|ext| ext != "json") {
            continue;
        }
        let text = std::fs::read_to_string(&path)?;
        // The first JSON value only: 2.8's DescribeProducersRequest.json has a stray `]` after
        // it, which Kafka's own generator (Jackson) never read.
        let text = strip_comments(&text);
        let spec: RequestSpec = serde_json::Deserializer::from_str(&text)
            .into_iter()
            .next()
            .context("empty spec")?
            .with_context(|| format!("parsing {}", path.display()))?;
        if spec.kind != "request" {
            continue;
        }
        let Some(max) = spec.valid_versions.rsplit('-').next() else {
            continue;
        };
        // "none": an API that no longer has any version.
        let Ok(max) = max.trim_end_matches('+').parse::<i16>() else {
            continue;
        };
        let min = spec
            .valid_versions
            .split('-')
            .next()
            .and_then(|min| min.parse::<i16>().ok())
            .unwrap_or(max);
        let max = if spec.latest_version_unstable {
            max - 1
        } else {
            max
        };
        if max >= min {
            highest.insert(spec.api_key, max);
        }
    }
    if highest.is_empty() {
        bail!("no request specs in {}", dir.display());
    }
    Ok(highest)
}

type Release = ((u16, u16), &'static str, BTreeMap<i16, i16>);

fn emit(releases: &[Release]) -> String {
    let first = releases.first().map_or("", |r| r.1);
    let last = releases.last().map_or("", |r| r.1);
    let mut out = format!(
        "// @generated by `cargo xtask api-versions` from the kafka-clients jars {first} to \
         {last}. Do not edit.\n\
         //! The highest version of each request each Kafka release supports: the top of\n\
         //! `validVersions` in its request specs (less an unstable latest version), or\n\
         //! `ApiKeys.latestVersion()` before 2.2.\n\n\
         use klamm_protocol::ApiKey;\n\n\
         use super::ReleaseRow;\n\n\
         /// Every release, oldest first.\n\
         pub(super) const RELEASES: &[ReleaseRow] = &[\n"
    );
    for ((major, minor), version, highest) in releases {
        out.push_str(&format!("(({major}, {minor}), \"{version}\", &["));
        for (key, max) in highest {
            // Keys this build has no spec for (APIs removed before 4.4) cannot be sent anyway.
            if let Some(api) = klamm_protocol::ApiKey::from_key(*key) {
                out.push_str(&format!("(ApiKey::{api:?}, {max}),"));
            }
        }
        out.push_str("]),\n");
    }
    out.push_str("];\n");
    out
}
