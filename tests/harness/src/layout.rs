//! Where a profile keeps its state (`target/kafka/<profile>/`), plus the few random things a start
//! needs: free ports and a cluster id.
//!
//! ```text
//! target/kafka/<profile>/
//!   cluster.env            how to reach the brokers (present only while they run)
//!   start.lock users.lock  who may start/stop; which test processes use the brokers
//!   watchdog.pid/.log      only for brokers a test process started (see `shared`)
//!   log4j*.properties      logging config
//!   tls/                   throw-away PKI (single profile)
//!   kerberos/              KDC config, database, keytabs, kdc.pid, kdc.log (single profile)
//!   node-<id>/             server.properties, broker.pid, broker.log, data/
//! ```
//!
//! A second broker of another Kafka version can run beside a profile's own, for tests that
//! compare versions: it lives in `target/kafka/<profile>-<version>/` (see [`Layout::side`]),
//! with the same structure, its own ports and its own KDC.

use std::collections::hash_map::RandomState;
use std::collections::BTreeSet;
use std::fs;
use std::hash::{BuildHasher, Hasher};
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{IoContext, Result};
use crate::profile::{KafkaVersion, Profile};

/// Environment variable overriding the state root (default `<workspace>/target/kafka`).
pub const STATE_ENV_VAR: &str = "KLAMM_KAFKA_STATE_DIR";

/// `$KLAMM_KAFKA_STATE_DIR`, else `target/kafka` under the workspace root.
pub fn state_root() -> PathBuf {
    if let Some(dir) = std::env::var_os(STATE_ENV_VAR).filter(|v| !v.is_empty()) {
        return PathBuf::from(dir);
    }
    // This crate is `<workspace>/tests/harness`.
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let workspace = manifest.parent().and_then(Path::parent).unwrap_or(manifest);
    workspace.join("target").join("kafka")
}

/// The `cluster.env` path of `profile`.
pub fn env_file(profile: Profile) -> PathBuf {
    Layout::new(profile).env_file()
}

/// Paths inside one profile's state directory.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub(crate) profile: Profile,
    root: PathBuf,
}

impl Layout {
    pub(crate) fn new(profile: Profile) -> Self {
        Self::at(profile, state_root().join(profile.name()))
    }

    pub(crate) fn at(profile: Profile, root: PathBuf) -> Self {
        Layout { profile, root }
    }

    /// The state directory of a side-by-side instance of `profile` running `version`.
    pub(crate) fn side(profile: Profile, version: &KafkaVersion) -> Self {
        Self::at(profile, state_root().join(side_dir_name(profile, version)))
    }

    /// The side-by-side instances of `profile` that have a state directory, by version.
    pub(crate) fn sides(profile: Profile) -> Vec<Layout> {
        side_versions_in(&state_root(), profile)
            .iter()
            .map(|version| Self::side(profile, version))
            .collect()
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn create(&self) -> Result<()> {
        fs::create_dir_all(&self.root).context(|| format!("creating {}", self.root.display()))
    }

    pub(crate) fn env_file(&self) -> PathBuf {
        self.root.join("cluster.env")
    }

    pub(crate) fn start_lock(&self) -> PathBuf {
        self.root.join("start.lock")
    }

    pub(crate) fn users_lock(&self) -> PathBuf {
        self.root.join("users.lock")
    }

    pub(crate) fn watchdog_pid(&self) -> PathBuf {
        self.root.join("watchdog.pid")
    }

    pub(crate) fn watchdog_log(&self) -> PathBuf {
        self.root.join("watchdog.log")
    }

    /// What the watchdog's command line contains: its name and this state directory.
    pub(crate) fn watchdog_marker(&self) -> String {
        format!("klamm-kafka-watchdog {}", self.root.display())
    }

    pub(crate) fn tls_dir(&self) -> PathBuf {
        self.root.join("tls")
    }

    pub(crate) fn kerberos_dir(&self) -> PathBuf {
        self.root.join("kerberos")
    }

    pub(crate) fn node_dir(&self, node_id: u32) -> PathBuf {
        self.root.join(format!("node-{node_id}"))
    }

    pub(crate) fn config_file(&self, node_id: u32) -> PathBuf {
        self.node_dir(node_id).join("server.properties")
    }

    pub(crate) fn pid_file(&self, node_id: u32) -> PathBuf {
        self.node_dir(node_id).join("broker.pid")
    }

    pub(crate) fn log_file(&self, node_id: u32) -> PathBuf {
        self.node_dir(node_id).join("broker.log")
    }

    pub(crate) fn data_dir(&self, node_id: u32) -> PathBuf {
        self.node_dir(node_id).join("data")
    }

    /// A node's `log.dirs`: `data` (which also holds the metadata log), then `data-b`, `data-c`…
    pub(crate) fn log_dirs(&self, node_id: u32, count: usize) -> Vec<PathBuf> {
        (0..count)
            .map(|index| match index {
                0 => self.data_dir(node_id),
                n => self
                    .node_dir(node_id)
                    .join(format!("data-{}", char::from(b'a' + n as u8))),
            })
            .collect()
    }

    /// The ids of every `node-<id>` directory: the profile's own nodes and any a test added.
    pub(crate) fn node_ids_on_disk(&self) -> Vec<u32> {
        let Ok(entries) = fs::read_dir(&self.root) else {
            return Vec::new();
        };
        let mut ids: Vec<u32> = entries
            .filter_map(|entry| entry.ok())
            .filter(|entry| entry.path().is_dir())
            .filter_map(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                name.strip_prefix("node-")?.parse().ok()
            })
            .collect();
        ids.sort_unstable();
        ids
    }

    /// The profile's nodes and any a test added, without duplicates.
    pub(crate) fn all_node_ids(&self) -> Vec<u32> {
        let mut ids = self.profile.node_ids().to_vec();
        ids.extend(self.node_ids_on_disk());
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// What a node's JVM command line contains (its config path), to recognise it by pid.
    pub(crate) fn node_marker(&self, node_id: u32) -> String {
        self.config_file(node_id).display().to_string()
    }

    /// Removes everything a previous start left, except the lock files (which other processes
    /// may hold open: deleting them would split one lock into two).
    pub(crate) fn clean(&self) -> Result<()> {
        let entries =
            fs::read_dir(&self.root).context(|| format!("listing {}", self.root.display()))?;
        for entry in entries {
            let entry = entry.context(|| format!("listing {}", self.root.display()))?;
            let name = entry.file_name();
            if name.to_string_lossy().ends_with(".lock") {
                continue;
            }
            let path = entry.path();
            let removed = if path.is_dir() {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
            removed.context(|| format!("removing {}", path.display()))?;
        }
        Ok(())
    }
}

/// The versions of `profile`'s side-by-side instances that have a directory in `root`, sorted.
pub(crate) fn side_versions_in(root: &Path, profile: Profile) -> Vec<KafkaVersion> {
    let Ok(entries) = fs::read_dir(root) else {
        return Vec::new();
    };
    let mut versions: Vec<KafkaVersion> = entries
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().is_dir())
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            name.strip_prefix(profile.name())?
                .strip_prefix('-')?
                .parse()
                .ok()
        })
        .collect();
    versions.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    versions
}

/// `<profile>-<version>`, e.g. `single-3.9.2`.
fn side_dir_name(profile: Profile, version: &KafkaVersion) -> String {
    format!("{}-{version}", profile.name())
}

/// A random `u64` from std's per-process SipHash keys (no `rand` dependency needed for this).
pub(crate) fn random_u64() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    hasher.write_u128(nanos);
    hasher.write_u32(std::process::id());
    hasher.finish()
}

/// A fresh cluster id in Kafka's `Uuid` text form: 16 random bytes, URL-safe base64, no padding,
/// never starting with `-` (Kafka avoids those so they cannot be mistaken for CLI flags).
pub(crate) fn random_cluster_id() -> String {
    loop {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&random_u64().to_be_bytes());
        bytes[8..].copy_from_slice(&random_u64().to_be_bytes());
        let id = base64_url(&bytes);
        if !id.starts_with('-') && bytes.iter().any(|b| *b > 1) {
            return id;
        }
    }
}

pub(crate) fn base64_url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 0x3f) as usize] as char);
        }
    }
    out
}

/// `count` distinct free ports on 127.0.0.1, picked below the kernel's ephemeral range so that a
/// client socket cannot take one while a killed broker is down and waiting to be restarted.
pub(crate) fn allocate_ports(count: usize) -> Result<Vec<u16>> {
    let ephemeral_low = fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|text| {
            text.split_whitespace()
                .next()
                .and_then(|n| n.parse::<u16>().ok())
        })
        .unwrap_or(32768);
    let (start, end) = if ephemeral_low > 12_000 {
        (ephemeral_low - 10_000, ephemeral_low)
    } else {
        (40_000, 50_000)
    };
    // Ports handed out earlier in this process may still be unbound (a JVM takes seconds to
    // listen), e.g. when `single` and `cluster` start side by side: never hand them out twice.
    static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    let mut handed_out = HANDED_OUT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let span = u64::from(end - start);
    let mut offset = random_u64() % span;
    let mut held = Vec::with_capacity(count);
    for _ in 0..span {
        if held.len() == count {
            break;
        }
        let port = start + offset as u16;
        if handed_out.contains(&port) {
            offset = (offset + 1) % span;
            continue;
        }
        if let Ok(listener) = TcpListener::bind((Ipv4Addr::LOCALHOST, port)) {
            held.push(listener);
        }
        offset = (offset + 1 + random_u64() % 7) % span;
    }
    let ports: Vec<u16> = held
        .iter()
        .filter_map(|l| l.local_addr().ok())
        .map(|a| a.port())
        .collect();
    if ports.len() < count {
        return Err(crate::error::HarnessError::Io {
            action: format!("finding {count} free ports between {start} and {end}"),
            source: std::io::Error::new(std::io::ErrorKind::AddrInUse, "not enough free ports"),
        });
    }
    handed_out.extend(&ports);
    Ok(ports)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_url_matches_known_vectors() {
        assert_eq!(base64_url(b"f"), "Zg");
        assert_eq!(base64_url(b"foob"), "Zm9vYg");
        assert_eq!(base64_url(&[0xfb, 0xff]), "-_8");
        assert_eq!(base64_url(&[0u8; 16]), "AAAAAAAAAAAAAAAAAAAAAA");
    }

    #[test]
    fn cluster_ids_are_22_chars_and_differ() {
        let a = random_cluster_id();
        let b = random_cluster_id();
        assert_eq!(a.len(), 22);
        assert!(!a.starts_with('-'));
        assert_ne!(a, b);
    }

    #[test]
    fn log_dirs_start_with_the_data_dir_and_nodes_are_found_on_disk() {
        let root = std::env::temp_dir().join(format!("klamm-layout-nodes-{}", std::process::id()));
        let layout = Layout::at(Profile::Quorum, root.clone());
        let dirs = layout.log_dirs(2, 2);
        assert_eq!(dirs[0], layout.data_dir(2));
        assert!(dirs[1].ends_with("node-2/data-b"), "{dirs:?}");
        for id in [7, 3] {
            fs::create_dir_all(layout.node_dir(id)).unwrap();
        }
        fs::create_dir_all(root.join("node-x")).unwrap();
        assert_eq!(layout.node_ids_on_disk(), [3, 7]);
        assert_eq!(layout.all_node_ids(), [1, 2, 3, 7]);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn side_instances_live_beside_the_profile_under_their_version() {
        let version: KafkaVersion = "3.9.2".parse().unwrap();
        let side = Layout::side(Profile::Single, &version);
        assert_eq!(side.root(), state_root().join("single-3.9.2"));
        assert_ne!(side.root(), Layout::new(Profile::Single).root());
        assert!(side.env_file().ends_with("single-3.9.2/cluster.env"));
    }

    #[test]
    fn side_versions_come_from_directory_names_of_the_profile_only() {
        let root = std::env::temp_dir().join(format!("klamm-layout-sides-{}", std::process::id()));
        for dir in [
            "single",
            "single-4.4.0",
            "single-3.9.2",
            "cluster-3.9.2",
            "single-x",
        ] {
            fs::create_dir_all(root.join(dir)).unwrap();
        }
        fs::write(root.join("single-3.9.1"), "a file, not an instance").unwrap();
        let versions = side_versions_in(&root, Profile::Single);
        let names: Vec<&str> = versions.iter().map(KafkaVersion::as_str).collect();
        assert_eq!(names, ["3.9.2", "4.4.0"]);
        let cluster = side_versions_in(&root, Profile::Cluster);
        assert_eq!(cluster.len(), 1);
        assert!(side_versions_in(&root.join("missing"), Profile::Single).is_empty());
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn allocated_ports_are_distinct_and_bindable() {
        let ports = allocate_ports(5).unwrap();
        let mut sorted = ports.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 5);
        for port in ports {
            TcpListener::bind((Ipv4Addr::LOCALHOST, port)).unwrap();
        }
    }
}
