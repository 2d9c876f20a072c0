//! The check itself: for every message type and version, random values go through Klamm's
//! encoder, Kafka's reader and writer, and Klamm's decoder, and every disagreement is recorded.
//!
//! Each (message, version) draws from its own random stream derived from the run's seed, so a
//! mismatch found in a full run reproduces with `--seed <seed> --message <name>` alone.

use std::collections::VecDeque;

use bytes::Bytes;
use klamm_protocol::messages::catalog::{MessageKind, MessageVisitor};
use klamm_protocol::view::View;
use klamm_protocol::Message;
use proptest::strategy::{BoxedStrategy, Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use crate::findings::{Findings, Mismatch, MismatchClass, Outcome};
use crate::java::{Checked, JavaCodec, JavaError};

/// How many checks may wait in the JVM's queue; half are settled at a time so the JVM keeps
/// working while the next values are generated.
const WINDOW: usize = 2048;

/// What to check.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Random values per message version.
    pub cases: u32,
    /// The run's seed.
    pub seed: u64,
    /// Spec names to check; all when empty.
    pub only: Vec<String>,
}

/// Visits every message type (see [`klamm_protocol::messages::catalog::visit_all`]) and checks it
/// against the JVM.
pub struct Checker<'a> {
    java: &'a mut JavaCodec,
    settings: Settings,
    findings: Findings,
    failure: Option<JavaError>,
}

/// A value sent to the JVM whose answer has not been read yet.
struct Pending<M> {
    version: i16,
    value: M,
    bytes: Bytes,
}

impl<'a> Checker<'a> {
    /// A checker talking to `java`; `max_details` mismatches are kept in full for the report.
    pub fn new(java: &'a mut JavaCodec, settings: Settings, max_details: usize) -> Self {
        Checker {
            java,
            settings,
            findings: Findings::new(max_details),
            failure: None,
        }
    }

    /// What was found, or the error that cut the run short.
    pub fn finish(self) -> Result<Findings, JavaError> {
        match self.failure {
            Some(error) => Err(error),
            None => Ok(self.findings),
        }
    }

    fn check_message<M: Message + 'static>(
        &mut self,
        kind: MessageKind,
        strategy: fn(i16) -> BoxedStrategy<M>,
    ) -> Result<(), JavaError> {
        let mut outcome = Outcome::new(M::NAME, kind);
        if !self.check_class::<M>(kind, &mut outcome)? {
            self.findings.outcomes.push(outcome);
            return Ok(());
        }
        let mut pending = VecDeque::new();
        for version in M::VERSIONS.iter() {
            outcome.versions.push(version);
            let strategy = strategy(version);
            let mut runner = runner_for(self.settings.seed, M::NAME, version);
            for _ in 0..self.settings.cases {
                outcome.messages += 1;
                let value = match strategy.new_tree(&mut runner) {
                    Ok(tree) => tree.current(),
                    Err(reason) => {
                        let mismatch =
                            Mismatch::new(M::NAME, Some(version), MismatchClass::Strategy)
                                .detail(reason.to_string());
                        self.findings.record(&mut outcome, mismatch);
                        continue;
                    }
                };
                match value.to_bytes(version) {
                    Ok(bytes) => {
                        self.java.queue_check(M::NAME, version, &bytes);
                        pending.push_back(Pending {
                            version,
                            value,
                            bytes,
                        });
                    }
                    Err(error) => {
                        let mismatch =
                            Mismatch::new(M::NAME, Some(version), MismatchClass::KlammEncode)
                                .detail(format!("{error}; value: {}", debug(&value)));
                        self.findings.record(&mut outcome, mismatch);
                    }
                }
                if pending.len() >= WINDOW {
                    self.settle(&mut outcome, &mut pending, WINDOW / 2)?;
                }
            }
        }
        let all = pending.len();
        self.settle(&mut outcome, &mut pending, all)?;
        self.findings.outcomes.push(outcome);
        Ok(())
    }

    /// Compares Kafka's class for `M` with Klamm's; false if there is no class to check against.
    fn check_class<M: Message>(
        &mut self,
        kind: MessageKind,
        outcome: &mut Outcome,
    ) -> Result<bool, JavaError> {
        let class = match self.java.describe(M::NAME)? {
            Ok(class) => class,
            Err(error) => {
                let mismatch =
                    Mismatch::new(M::NAME, None, MismatchClass::JavaClassMissing).detail(error);
                self.findings.record(outcome, mismatch);
                return Ok(false);
            }
        };
        if class.versions != M::VERSIONS {
            let mismatch =
                Mismatch::new(M::NAME, None, MismatchClass::VersionRange).detail(format!(
                    "Kafka's {} has versions {}, Klamm's {} has {}",
                    class.name,
                    class.versions,
                    M::NAME,
                    M::VERSIONS
                ));
            self.findings.record(outcome, mismatch);
        }
        if let MessageKind::Request(api) | MessageKind::Response(api) = kind {
            if class.api_key != api.key() {
                let mismatch = Mismatch::new(M::NAME, None, MismatchClass::ApiKey).detail(format!(
                    "Kafka's {} has API key {}, Klamm says {} ({})",
                    class.name,
                    class.api_key,
                    api.key(),
                    api.name()
                ));
                self.findings.record(outcome, mismatch);
            }
        }
        Ok(true)
    }

    /// Reads the JVM's answers to the `count` oldest pending values and compares.
    fn settle<M: Message>(
        &mut self,
        outcome: &mut Outcome,
        pending: &mut VecDeque<Pending<M>>,
        count: usize,
    ) -> Result<(), JavaError> {
        for _ in 0..count {
            let Some(sent) = pending.pop_front() else {
                break;
            };
            let answer = self.java.receive_checked()?;
            if let Some(mismatch) = compare(sent, answer) {
                self.findings.record(outcome, mismatch);
            }
        }
        Ok(())
    }
}

impl MessageVisitor for Checker<'_> {
    fn visit<M: Message + 'static>(
        &mut self,
        kind: MessageKind,
        strategy: fn(i16) -> BoxedStrategy<M>,
    ) {
        let selected =
            self.settings.only.is_empty() || self.settings.only.iter().any(|name| name == M::NAME);
        if self.failure.is_some() || !selected {
            return;
        }
        if let Err(error) = self.check_message(kind, strategy) {
            self.failure = Some(error);
        }
    }
}

/// The first of the three checks that fails for one value, if any: (a) Kafka reads Klamm's
/// bytes whole, (b) writes back the same bytes, (c) Klamm reads those back to the same value.
fn compare<M: Message>(sent: Pending<M>, answer: Checked) -> Option<Mismatch> {
    let Pending {
        version,
        value,
        bytes,
    } = sent;
    let mismatch = |class| Mismatch::new(M::NAME, Some(version), class).klamm(bytes.clone());
    match answer {
        Checked::Threw(error) => Some(mismatch(MismatchClass::JavaRead).detail(error)),
        Checked::LeftUnread { unread, rewritten } => Some(
            mismatch(MismatchClass::JavaUnread)
                .detail(format!(
                    "Kafka read {} of {} bytes; value: {}",
                    bytes.len() - unread.min(bytes.len()),
                    bytes.len(),
                    debug(&value)
                ))
                .java(rewritten),
        ),
        Checked::Rewritten(rewritten) if rewritten != bytes => {
            let offset = bytes
                .iter()
                .zip(rewritten.iter())
                .position(|(ours, theirs)| ours != theirs)
                .unwrap_or(bytes.len().min(rewritten.len()));
            let reread = match M::from_bytes(&rewritten, version) {
                Ok(reread) if reread == value => {
                    "Klamm decodes Kafka's bytes to the original value".to_string()
                }
                Ok(reread) => format!("Klamm decodes Kafka's bytes to {}", debug(&reread)),
                Err(error) => format!("Klamm cannot decode Kafka's bytes: {error}"),
            };
            Some(
                mismatch(MismatchClass::BytesDiffer)
                    .detail(format!(
                        "first difference at byte {offset} (Klamm {} bytes, Kafka {}); {reread}; \
                         original value: {}",
                        bytes.len(),
                        rewritten.len(),
                        debug(&value)
                    ))
                    .java(rewritten),
            )
        }
        Checked::Rewritten(rewritten) => match M::from_bytes(&rewritten, version) {
            Ok(reread) if reread == value => {
                match M::View::parse(&rewritten, version).map(|view| view.to_message()) {
                    Ok(viewed) if viewed == value => None,
                    Ok(viewed) => Some(mismatch(MismatchClass::ViewDiffer).detail(format!(
                        "original: {}; read through the view: {}",
                        debug(&value),
                        debug(&viewed)
                    ))),
                    Err(error) => Some(
                        mismatch(MismatchClass::ViewDiffer)
                            .detail(format!("{error}; original value: {}", debug(&value))),
                    ),
                }
            }
            Ok(reread) => Some(mismatch(MismatchClass::ValueDiffer).detail(format!(
                "original: {}; decoded: {}",
                debug(&value),
                debug(&reread)
            ))),
            Err(error) => Some(
                mismatch(MismatchClass::KlammDecode)
                    .detail(format!("{error}; original value: {}", debug(&value))),
            ),
        },
    }
}

/// A value's `Debug`, cut short so one huge value cannot drown the report.
fn debug(value: &impl std::fmt::Debug) -> String {
    const LIMIT: usize = 2000;
    let mut text = format!("{value:?}");
    if text.len() > LIMIT {
        let mut end = LIMIT;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

/// A runner whose random stream depends only on the run's seed, the message and the version.
fn runner_for(seed: u64, name: &str, version: i16) -> TestRunner {
    // FNV-1a of the name, then splitmix64 to spread seed, name and version over a ChaCha key.
    let name_hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    let mut state = seed ^ name_hash.rotate_left(17) ^ u64::from(version as u16);
    let mut key = [0u8; 32];
    for chunk in key.chunks_exact_mut(8) {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut mixed = state;
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        chunk.copy_from_slice(&(mixed ^ (mixed >> 31)).to_le_bytes());
    }
    // Values come from `new_tree` one at a time, so rejections (the float strategy filters out
    // NaN) pile up over a whole version instead of being reset per case.
    let config = Config {
        max_local_rejects: u32::MAX,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runner_streams_repeat_for_a_seed_and_differ_between_versions() {
        let draw = |seed, version| {
            let mut runner = runner_for(seed, "MetadataRequest", version);
            (0..4)
                .map(|_| {
                    proptest::prelude::any::<u64>()
                        .new_tree(&mut runner)
                        .unwrap()
                        .current()
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(7, 3), draw(7, 3));
        assert_ne!(draw(7, 3), draw(7, 4));
        assert_ne!(draw(7, 3), draw(8, 3));
    }
}
