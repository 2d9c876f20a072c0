//! Real Apache Kafka brokers for Klamm's integration tests, with no Docker and no Kafka tarball.
//!
//! The broker jars of a release (4.4.0 by default, or 3.9.2) come from Maven Central into
//! `~/.cache/klamm/kafka/<version>/libs` ([`fetch`]). A [`Profile`] is started in KRaft mode with
//! `java -cp 'libs/*' kafka.Kafka` ([`up`]): `single` is one combined broker+controller with
//! PLAINTEXT, SASL_PLAINTEXT, SSL and SASL_SSL listeners, SCRAM and PLAIN users, GSSAPI against a
//! throw-away MIT Kerberos KDC ([`kerberos`]) and ACLs;
//! `cluster` is three combined nodes on PLAINTEXT with two log directories each; `quorum` is a
//! broker and two controllers in a dynamic KRaft quorum, to which tests add voters and nodes
//! ([`ClusterEnv::start_extra_node`]). Kafka's own tools and small Java programs of the same
//! release run as a second oracle ([`java`]), and [`oauth`] is a local OAuth token endpoint for
//! the OAUTHBEARER listener. What clients need to connect is written to
//! `target/kafka/<profile>/cluster.env` and parsed as a [`ClusterEnv`]. `cargo xtask kafka` wraps
//! these functions for the command line.
//!
//! Tests ask for a running profile with [`shared`]; it reuses brokers that `cargo xtask kafka up`
//! started, or starts them once for the test run and stops them after it:
//!
//! ```no_run
//! use klamm_test_harness::{shared, Profile};
//!
//! let env = shared(Profile::Single);
//! let sasl = env.sasl.as_ref().expect("the single profile has SASL users");
//! println!("connect to {} as {}", env.bootstrap_plaintext, sasl.admin_user);
//! ```
#![warn(missing_docs)]

mod cluster;
mod command;
mod config;
mod env;
mod error;
#[cfg(feature = "fake-broker")]
pub mod fake_broker;
pub mod fetch;
pub mod java;
pub mod kerberos;
mod layout;
mod lock;
mod node;
pub mod oauth;
pub mod oracle;
pub mod probe;
mod process;
mod profile;
mod quorum;
mod shared;
mod status;
mod tls;

pub use cluster::{down, up, StopReport, START_TIMEOUT_ENV_VAR};
pub use command::check_tools;
pub use env::{ClusterEnv, ControllerEnv, CrlFiles, KerberosEnv, OAuthEnv, SaslUsers, TlsFiles};
pub use error::{HarnessError, Result};
pub use layout::{env_file, state_root, STATE_ENV_VAR};
pub use process::peak_rss_kib;
pub use profile::{KafkaVersion, NodeRole, Profile};
pub use quorum::ExtraNode;
pub use shared::{shared, shared_version, try_shared, try_shared_version, LINGER_ENV_VAR};
pub use status::{status, status_all, KdcStatus, NodeStatus, PidState, Status};
