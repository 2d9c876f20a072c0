//! Getting a Kafka release's broker jars from Maven Central into a cache outside the source tree.
//!
//! No tarball: a tiny generated pom names `org.apache.kafka:kafka_2.13:<version>` plus the logging
//! binding that version's tarball would have shipped, and `mvn dependency:copy-dependencies` copies
//! the runtime classpath into `<cache>/<version>/libs`. A `.complete` marker written last makes
//! later runs skip Maven; an interrupted download is redone from scratch.
//!
//! A second classpath per version, `<cache>/<version>/tools`, holds what runs beside the
//! brokers: Kafka's own command-line tools and Kafka Streams ([`ensure_tools_libs`]), used by
//! the smoke tests and by [`crate::java`] programs.

use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use crate::command::{run_checked, MAVEN};
use crate::error::{IoContext, Result};
use crate::lock::FileLock;
use crate::profile::KafkaVersion;

/// Environment variable overriding where the jars are cached.
pub const CACHE_ENV_VAR: &str = "KLAMM_KAFKA_CACHE";

/// Pinned so that a fresh `~/.m2` resolves the same plugin everywhere.
const DEPENDENCY_PLUGIN: &str = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1";

/// Marker file written once `libs/` holds the whole classpath.
const COMPLETE_MARKER: &str = ".complete";

/// A download of ~50 jars on a slow mirror can take minutes; a stuck one should still end.
const FETCH_LOCK_TIMEOUT: Duration = Duration::from_secs(900);

/// `$KLAMM_KAFKA_CACHE`, else `$XDG_CACHE_HOME/klamm/kafka`, else `~/.cache/klamm/kafka`.
pub fn cache_root() -> PathBuf {
    if let Some(dir) = std::env::var_os(CACHE_ENV_VAR).filter(|v| !v.is_empty()) {
        return PathBuf::from(dir);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME").unwrap_or_else(|| "/tmp".into());
            PathBuf::from(home).join(".cache")
        });
    base.join("klamm").join("kafka")
}

/// Where `version`'s broker jars live once fetched: pass `'<dir>/*'` to `java -cp`.
pub fn libs_dir(version: &KafkaVersion) -> PathBuf {
    Classpath::Broker.dir(version)
}

/// Where `version`'s client-side jars live once fetched: Kafka's command-line tools
/// (`kafka-tools`: `MetadataQuorumCommand`, `DelegationTokenCommand`, `FeatureCommand`, …),
/// Kafka Streams and the Java clients, with `slf4j-simple` for logging. A classpath of its own,
/// so that the brokers run on exactly what their Maven POM names.
pub fn tools_libs_dir(version: &KafkaVersion) -> PathBuf {
    Classpath::Tools.dir(version)
}

/// Whether `version`'s broker jars are already fully in the cache.
pub fn is_fetched(version: &KafkaVersion) -> bool {
    Classpath::Broker.is_fetched(version)
}

/// Makes sure `version`'s broker classpath is in the cache, running Maven only when it is not,
/// and returns the `libs` directory. Safe to call from several processes at once.
pub fn ensure_libs(version: &KafkaVersion) -> Result<PathBuf> {
    Classpath::Broker.ensure(version)
}

/// Like [`ensure_libs`], for the client-side classpath of [`tools_libs_dir`].
pub fn ensure_tools_libs(version: &KafkaVersion) -> Result<PathBuf> {
    Classpath::Tools.ensure(version)
}

/// The two classpaths cached per version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Classpath {
    /// `kafka_2.13` and its logging binding: what `kafka.Kafka` runs on.
    Broker,
    /// `kafka-tools`, `kafka-streams` and `slf4j-simple`: what tools and test programs run on.
    Tools,
}

impl Classpath {
    /// The directory name under `<cache>/<version>/`.
    fn name(self) -> &'static str {
        match self {
            Classpath::Broker => "libs",
            Classpath::Tools => "tools",
        }
    }

    fn dir(self, version: &KafkaVersion) -> PathBuf {
        cache_root().join(version.as_str()).join(self.name())
    }

    fn is_fetched(self, version: &KafkaVersion) -> bool {
        self.dir(version).join(COMPLETE_MARKER).is_file()
    }

    fn pom(self, version: &KafkaVersion) -> String {
        match self {
            Classpath::Broker => broker_pom_xml(version),
            Classpath::Tools => tools_pom_xml(version),
        }
    }

    fn ensure(self, version: &KafkaVersion) -> Result<PathBuf> {
        let libs = self.dir(version);
        if self.is_fetched(version) {
            return Ok(libs);
        }
        let version_dir = cache_root().join(version.as_str());
        fs::create_dir_all(&version_dir)
            .context(|| format!("creating {}", version_dir.display()))?;
        let _lock = FileLock::exclusive(&version_dir.join("fetch.lock"), FETCH_LOCK_TIMEOUT)?;
        if self.is_fetched(version) {
            return Ok(libs);
        }

        // The broker's pom keeps its old name, so that caches filled before the tools
        // classpath existed stay valid.
        let pom = match self {
            Classpath::Broker => version_dir.join("pom.xml"),
            Classpath::Tools => version_dir.join("tools-pom.xml"),
        };
        fs::write(&pom, self.pom(version)).context(|| format!("writing {}", pom.display()))?;
        let partial = version_dir.join(format!("{}.partial", self.name()));
        if partial.exists() {
            fs::remove_dir_all(&partial).context(|| format!("removing {}", partial.display()))?;
        }
        eprintln!(
            "klamm-test-harness: fetching Kafka {version} {} jars from Maven Central into {}",
            match self {
                Classpath::Broker => "broker",
                Classpath::Tools => "tools and streams",
            },
            libs.display()
        );
        let mut mvn = MAVEN.command()?;
        mvn.current_dir(&version_dir)
            .arg("-q")
            .arg("-B")
            .arg("-f")
            .arg(&pom)
            .arg(format!("{DEPENDENCY_PLUGIN}:copy-dependencies"))
            .arg("-DincludeScope=runtime")
            .arg(format!("-DoutputDirectory={}", partial.display()));
        run_checked(&mut mvn)?;

        let jars = fs::read_dir(&partial)
            .context(|| format!("listing {}", partial.display()))?
            .filter_map(|entry| entry.ok())
            .filter(|entry| entry.file_name().to_string_lossy().ends_with(".jar"))
            .count();
        let marker = partial.join(COMPLETE_MARKER);
        fs::write(&marker, format!("kafka {version}\njars {jars}\n"))
            .context(|| format!("writing {}", marker.display()))?;
        if libs.exists() {
            fs::remove_dir_all(&libs).context(|| format!("removing stale {}", libs.display()))?;
        }
        fs::rename(&partial, &libs)
            .context(|| format!("moving {} to {}", partial.display(), libs.display()))?;
        Ok(libs)
    }
}

/// The generated pom: the broker plus the SLF4J binding its release tarball ships.
///
/// 3.x logs through reload4j (`slf4j-reload4j`), which core only declares `compileOnly`. 4.x
/// brings log4j-api/core through `:server` but no SLF4J binding, so without `log4j-slf4j-impl`
/// the broker would log nothing at all.
fn broker_pom_xml(version: &KafkaVersion) -> String {
    let logging = if version.is_4x() {
        dependency(
            "org.apache.logging.log4j",
            "log4j-slf4j-impl",
            "2.25.5",
            &[],
        )
    } else {
        dependency("org.slf4j", "slf4j-reload4j", "1.7.36", &[])
            + &dependency("ch.qos.reload4j", "reload4j", "1.2.25", &[])
    };
    pom_xml(
        "kafka-broker-libs",
        &format!("the runtime classpath of an Apache Kafka {version} broker"),
        version,
        &(dependency("org.apache.kafka", "kafka_2.13", version.as_str(), &[]) + &logging),
    )
}

/// The client-side pom: Kafka's tools and Streams, logging through `slf4j-simple` (stderr).
///
/// 3.x `kafka-tools` brings `slf4j-reload4j` at runtime; it is excluded so that exactly one
/// SLF4J binding is on the classpath. 4.x brings no binding.
fn tools_pom_xml(version: &KafkaVersion) -> String {
    let reload4j: &[(&str, &str)] = &[
        ("org.slf4j", "slf4j-reload4j"),
        ("ch.qos.reload4j", "reload4j"),
    ];
    let dependencies = dependency(
        "org.apache.kafka",
        "kafka-tools",
        version.as_str(),
        reload4j,
    ) + &dependency(
        "org.apache.kafka",
        "kafka-streams",
        version.as_str(),
        reload4j,
    ) + &dependency("org.slf4j", "slf4j-simple", "1.7.36", &[]);
    pom_xml(
        "kafka-tools-libs",
        &format!("Apache Kafka {version} tools, Streams and clients"),
        version,
        &dependencies,
    )
}

fn pom_xml(artifact: &str, what: &str, version: &KafkaVersion, dependencies: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by klamm-test-harness: {what}. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.klamm.test</groupId>
  <artifactId>{artifact}</artifactId>
  <version>{version}</version>
  <packaging>pom</packaging>
  <dependencies>
{dependencies}  </dependencies>
</project>
"#
    )
}

fn dependency(group: &str, artifact: &str, version: &str, exclusions: &[(&str, &str)]) -> String {
    let exclusions: String = exclusions
        .iter()
        .map(|(group, artifact)| {
            format!("<exclusion><groupId>{group}</groupId><artifactId>{artifact}</artifactId></exclusion>")
        })
        .collect();
    let exclusions = if exclusions.is_empty() {
        String::new()
    } else {
        format!("<exclusions>{exclusions}</exclusions>")
    };
    format!(
        "    <dependency><groupId>{group}</groupId><artifactId>{artifact}</artifactId><version>{version}</version>{exclusions}</dependency>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pom_picks_the_logging_binding_by_major_version() {
        let v4 = broker_pom_xml(&"4.4.0".parse().unwrap());
        assert!(v4.contains("<artifactId>kafka_2.13</artifactId><version>4.4.0</version>"));
        assert!(v4.contains("log4j-slf4j-impl"));
        assert!(!v4.contains("reload4j"));

        let v3 = broker_pom_xml(&"3.9.2".parse().unwrap());
        assert!(v3.contains("slf4j-reload4j"));
        assert!(!v3.contains("log4j-slf4j-impl"));
    }

    #[test]
    fn tools_pom_has_tools_and_streams_of_the_same_version_and_one_logging_binding() {
        let v3 = tools_pom_xml(&"3.9.2".parse().unwrap());
        assert!(v3.contains("<artifactId>kafka-tools</artifactId><version>3.9.2</version>"));
        assert!(v3.contains("<artifactId>kafka-streams</artifactId><version>3.9.2</version>"));
        assert!(v3.contains("<exclusion><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId></exclusion>"));
        assert!(v3.contains("<artifactId>slf4j-simple</artifactId>"));
        assert_ne!(Classpath::Tools.name(), Classpath::Broker.name());
    }
}
