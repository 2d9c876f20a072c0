//! `cargo xtask fetch-specs`: gets Kafka's message specs and error table out of the pinned
//! `kafka-clients` jar, via Maven, into a cache outside the source tree.
//!
//! The cache holds `libs/` (kafka-clients and its runtime dependencies, also the class path of
//! the conformance checker), `message/*.json` and `errors.json`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

/// The kafka-clients release the generated code is made from.
pub const KAFKA_CLIENTS_VERSION: &str = "4.4.0";

/// The workspace root (the parent of `xtask/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}

/// A command running the cargo that runs this xtask (`$CARGO`, else `cargo`) in the workspace
/// root.
pub fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(workspace_root());
    command
}

/// Where downloaded jars and exported specs live: `$KLAMM_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/klamm`, else `~/.cache/klamm`.
pub fn cache_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("KLAMM_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(dir).join("klamm");
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| ".".into());
    PathBuf::from(home).join(".cache").join("klamm")
}

/// The exported specs of one kafka-clients version.
pub struct Specs {
    /// The cache directory of this version.
    pub dir: PathBuf,
}

impl Specs {
    /// The directory of `*.json` message specs.
    pub fn message_dir(&self) -> PathBuf {
        self.dir.join("message")
    }

    /// The exported error table.
    pub fn errors_file(&self) -> PathBuf {
        self.dir.join("errors.json")
    }

    /// A Java class path holding kafka-clients and its runtime dependencies.
    pub fn class_path(&self) -> String {
        format!("{}/*", self.dir.join("libs").display())
    }
}

/// Makes sure the specs of `version` are in the cache, fetching them if not.
pub fn ensure(version: &str) -> Result<Specs> {
    let dir = cache_root().join("kafka-clients").join(version);
    let specs = Specs { dir };
    let complete =
        specs.errors_file().is_file() && specs.message_dir().join("MetadataRequest.json").is_file();
    if complete {
        return Ok(specs);
    }
    fetch(version, &specs)?;
    Ok(specs)
}

fn fetch(version: &str, specs: &Specs) -> Result<()> {
    std::fs::create_dir_all(&specs.dir)
        .with_context(|| format!("creating {}", specs.dir.display()))?;
    let pom = format!(
        r#"<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.klamm</groupId>
  <artifactId>kafka-clients-specs</artifactId>
  <version>0</version>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka-clients</artifactId>
      <version>{version}</version>
    </dependency>
  </dependencies>
</project>
"#
    );
    std::fs::write(specs.dir.join("pom.xml"), pom)?;
    eprintln!("fetch-specs: resolving org.apache.kafka:kafka-clients:{version} with Maven");
    let status = Command::new("mvn")
        .args([
            "-q",
            "-B",
            "dependency:copy-dependencies",
            "-DoutputDirectory=libs",
            "-DincludeScope=runtime",
        ])
        .current_dir(&specs.dir)
        .status()
        .context("running mvn (is Maven installed?)")?;
    if !status.success() {
        bail!("mvn could not resolve kafka-clients {version} ({status})");
    }
    let exporter = workspace_root().join("xtask/java/ExportSpecs.java");
    let status = Command::new("java")
        .arg("-cp")
        .arg(specs.class_path())
        .arg(&exporter)
        .arg(&specs.dir)
        .status()
        .context("running java (is a JDK 17+ installed?)")?;
    if !status.success() {
        bail!("exporting specs from kafka-clients {version} failed ({status})");
    }
    Ok(())
}

/// `cargo xtask fetch-specs`.
pub fn run(version: &str) -> Result<()> {
    let specs = ensure(version)?;
    println!("{}", specs.dir.display());
    Ok(())
}
