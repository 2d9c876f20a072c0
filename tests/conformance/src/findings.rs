//! What a run found: one [`Outcome`] per message type, and every [`Mismatch`] tallied by class,
//! with the first few kept whole for the report.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use bytes::Bytes;
use klamm_protocol::messages::catalog::MessageKind;

/// The ways Klamm and Kafka can disagree, in the order a value meets them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MismatchClass {
    /// Kafka has no generated class for the spec.
    JavaClassMissing,
    /// Kafka's class supports other versions than Klamm's type.
    VersionRange,
    /// Kafka's class belongs to another API key.
    ApiKey,
    /// Klamm's strategy could not make a value.
    Strategy,
    /// Klamm refused to encode a value its own strategy made.
    KlammEncode,
    /// Kafka threw reading Klamm's bytes (or writing them back).
    JavaRead,
    /// Kafka read Klamm's bytes but left some unread.
    JavaUnread,
    /// Kafka wrote back other bytes than Klamm's.
    BytesDiffer,
    /// Klamm could not decode the bytes Kafka wrote back.
    KlammDecode,
    /// Klamm decoded Kafka's bytes to another value than the original.
    ValueDiffer,
    /// Klamm's zero-copy view refused Kafka's bytes or read another value from them.
    ViewDiffer,
}

impl fmt::Display for MismatchClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MismatchClass::JavaClassMissing => "no Kafka class",
            MismatchClass::VersionRange => "version range differs",
            MismatchClass::ApiKey => "API key differs",
            MismatchClass::Strategy => "Klamm strategy failed",
            MismatchClass::KlammEncode => "Klamm cannot encode",
            MismatchClass::JavaRead => "Kafka cannot read",
            MismatchClass::JavaUnread => "Kafka leaves bytes unread",
            MismatchClass::BytesDiffer => "Kafka writes other bytes",
            MismatchClass::KlammDecode => "Klamm cannot decode Kafka's bytes",
            MismatchClass::ViewDiffer => "Klamm's view reads Kafka's bytes differently",
            MismatchClass::ValueDiffer => "Klamm decodes another value",
        })
    }
}

/// One disagreement.
#[derive(Debug, Clone)]
pub struct Mismatch {
    /// The spec name.
    pub message: &'static str,
    /// The version, unless the mismatch is about the message type as a whole.
    pub version: Option<i16>,
    /// What kind of disagreement.
    pub class: MismatchClass,
    /// What each side said: Kafka's exception, the values involved.
    pub detail: String,
    /// The bytes Klamm wrote, if it wrote any.
    pub klamm: Option<Bytes>,
    /// The bytes Kafka wrote back, if it wrote any.
    pub java: Option<Bytes>,
}

impl Mismatch {
    /// A mismatch of `class` in `message` (at `version`) with no detail yet.
    pub fn new(message: &'static str, version: Option<i16>, class: MismatchClass) -> Self {
        Mismatch {
            message,
            version,
            class,
            detail: String::new(),
            klamm: None,
            java: None,
        }
    }

    /// Sets the explanation.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }

    /// Sets Klamm's bytes.
    pub fn klamm(mut self, bytes: Bytes) -> Self {
        self.klamm = Some(bytes);
        self
    }

    /// Sets Kafka's bytes.
    pub fn java(mut self, bytes: Bytes) -> Self {
        self.java = Some(bytes);
        self
    }
}

/// The result for one message type: one row of the report's table.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The spec name.
    pub name: &'static str,
    /// Request, response, header or data.
    pub kind: MessageKind,
    /// The versions values were made for.
    pub versions: Vec<i16>,
    /// Values checked.
    pub messages: u64,
    /// Mismatches found, of any class.
    pub mismatches: u64,
}

impl Outcome {
    /// An outcome with nothing checked yet.
    pub fn new(name: &'static str, kind: MessageKind) -> Self {
        Outcome {
            name,
            kind,
            versions: Vec::new(),
            messages: 0,
            mismatches: 0,
        }
    }
}

/// All mismatches of one class.
#[derive(Debug, Clone)]
pub struct ClassTally {
    /// How many.
    pub count: u64,
    /// The affected messages and, for each, the affected versions.
    pub messages: BTreeMap<&'static str, BTreeSet<i16>>,
    /// The first one found.
    pub example: Mismatch,
}

/// Everything a run found.
#[derive(Debug)]
pub struct Findings {
    /// One per message type checked, in visiting order.
    pub outcomes: Vec<Outcome>,
    /// The first mismatches, in full.
    pub details: Vec<Mismatch>,
    /// Every mismatch, by class.
    pub classes: BTreeMap<MismatchClass, ClassTally>,
    max_details: usize,
}

impl Findings {
    /// Nothing found yet; up to `max_details` mismatches will be kept whole.
    pub fn new(max_details: usize) -> Self {
        Findings {
            outcomes: Vec::new(),
            details: Vec::new(),
            classes: BTreeMap::new(),
            max_details,
        }
    }

    /// Counts `mismatch` against `outcome` and its class.
    pub fn record(&mut self, outcome: &mut Outcome, mismatch: Mismatch) {
        outcome.mismatches += 1;
        let tally = self
            .classes
            .entry(mismatch.class)
            .or_insert_with(|| ClassTally {
                count: 0,
                messages: BTreeMap::new(),
                example: mismatch.clone(),
            });
        tally.count += 1;
        let versions = tally.messages.entry(mismatch.message).or_default();
        versions.extend(mismatch.version);
        if self.details.len() < self.max_details {
            self.details.push(mismatch);
        }
    }

    /// Mismatches of every class.
    pub fn mismatches(&self) -> u64 {
        self.outcomes.iter().map(|outcome| outcome.mismatches).sum()
    }
}
