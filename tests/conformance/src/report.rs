//! The report: a table of every message type, the mismatches by class with the first few in
//! full, and the one summary line that scripts grep for.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use bytes::Bytes;
use klamm_protocol::messages::catalog::MessageKind;

use crate::findings::{Findings, Mismatch, Outcome};
use crate::hex;

/// Hex dumps longer than this are cut short.
const MAX_HEX_BYTES: usize = 256;

/// The totals of the summary line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Distinct API keys whose request or response was checked.
    pub apis: usize,
    /// Distinct (API key, version) pairs checked.
    pub api_versions: usize,
    /// Values checked, of every kind.
    pub messages: u64,
    /// Mismatches of every class.
    pub mismatches: u64,
}

impl Summary {
    /// Totals `findings`.
    pub fn of(findings: &Findings) -> Self {
        let mut apis = BTreeSet::new();
        let mut api_versions = BTreeSet::new();
        for outcome in &findings.outcomes {
            if let MessageKind::Request(api) | MessageKind::Response(api) = outcome.kind {
                for &version in &outcome.versions {
                    apis.insert(api.key());
                    api_versions.insert((api.key(), version));
                }
            }
        }
        Summary {
            apis: apis.len(),
            api_versions: api_versions.len(),
            messages: findings.outcomes.iter().map(|o| o.messages).sum(),
            mismatches: findings.mismatches(),
        }
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "conformance: {} APIs, {} api-versions, {} messages, {} mismatches",
            self.apis, self.api_versions, self.messages, self.mismatches
        )
    }
}

/// The table, one row per message type.
pub fn table(outcomes: &[Outcome]) -> String {
    let width = outcomes
        .iter()
        .map(|outcome| outcome.name.len())
        .max()
        .unwrap_or(0)
        .max("MESSAGE".len());
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<width$}  {:<8}  {:>14}  {:>9}  {:>10}",
        "MESSAGE", "KIND", "VERSIONS", "MESSAGES", "MISMATCHES"
    );
    for outcome in outcomes {
        let kind = match outcome.kind {
            MessageKind::Request(_) => "request",
            MessageKind::Response(_) => "response",
            MessageKind::Header => "header",
            MessageKind::Data => "data",
        };
        let versions = format!(
            "{} ({})",
            version_list(&outcome.versions),
            outcome.versions.len()
        );
        let _ = writeln!(
            out,
            "{:<width$}  {:<8}  {:>14}  {:>9}  {:>10}",
            outcome.name, kind, versions, outcome.messages, outcome.mismatches
        );
    }
    out
}

/// Every mismatch class with its count, the messages and versions it hit, and one example.
pub fn classes(findings: &Findings) -> String {
    let mut out = String::new();
    for (class, tally) in &findings.classes {
        let _ = writeln!(
            out,
            "{class}: {} mismatches in {} message types",
            tally.count,
            tally.messages.len()
        );
        for (message, versions) in &tally.messages {
            let versions: Vec<i16> = versions.iter().copied().collect();
            if versions.is_empty() {
                let _ = writeln!(out, "    {message}");
            } else {
                let _ = writeln!(out, "    {message} v{}", version_list(&versions));
            }
        }
        let _ = write!(out, "  example: {}", mismatch(&tally.example));
    }
    out
}

/// The first mismatches in full.
pub fn details(findings: &Findings) -> String {
    let mut out = String::new();
    for (index, found) in findings.details.iter().enumerate() {
        let _ = write!(out, "{}. {}", index + 1, mismatch(found));
    }
    out
}

fn mismatch(found: &Mismatch) -> String {
    let mut out = String::new();
    let version = found.version.map(|v| format!(" v{v}")).unwrap_or_default();
    let _ = writeln!(out, "{}{version}: {}", found.message, found.class);
    if !found.detail.is_empty() {
        let _ = writeln!(out, "     {}", found.detail);
    }
    for (side, bytes) in [("Klamm", &found.klamm), ("Kafka", &found.java)] {
        if let Some(bytes) = bytes {
            let _ = writeln!(out, "     {side} ({} bytes): {}", bytes.len(), dump(bytes));
        }
    }
    out
}

fn dump(bytes: &Bytes) -> String {
    if bytes.len() <= MAX_HEX_BYTES {
        hex::encode(bytes)
    } else {
        format!("{}…", hex::encode(&bytes[..MAX_HEX_BYTES]))
    }
}

/// Sorted versions as ranges: `0-3, 5, 7-9`.
fn version_list(versions: &[i16]) -> String {
    let mut ranges: Vec<(i16, i16)> = Vec::new();
    for &version in versions {
        match ranges.last_mut() {
            Some((_, end)) if *end + 1 == version => *end = version,
            _ => ranges.push((version, version)),
        }
    }
    let parts: Vec<String> = ranges
        .into_iter()
        .map(|(start, end)| {
            if start == end {
                start.to_string()
            } else {
                format!("{start}-{end}")
            }
        })
        .collect();
    if parts.is_empty() {
        "-".to_string()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_list_joins_consecutive_versions_into_ranges() {
        assert_eq!(version_list(&[0, 1, 2, 4, 6, 7]), "0-2, 4, 6-7");
        assert_eq!(version_list(&[3]), "3");
        assert_eq!(version_list(&[]), "-");
    }

    #[test]
    fn summary_counts_api_versions_once_for_request_and_response() {
        use klamm_protocol::ApiKey;
        let mut findings = Findings::new(0);
        for kind in [
            MessageKind::Request(ApiKey::Metadata),
            MessageKind::Response(ApiKey::Metadata),
        ] {
            let mut outcome = Outcome::new("Metadata", kind);
            outcome.versions = vec![0, 1];
            outcome.messages = 200;
            findings.outcomes.push(outcome);
        }
        let mut header = Outcome::new("RequestHeader", MessageKind::Header);
        header.versions = vec![1, 2];
        header.messages = 200;
        findings.outcomes.push(header);
        assert_eq!(
            Summary::of(&findings).to_string(),
            "conformance: 1 APIs, 2 api-versions, 600 messages, 0 mismatches"
        );
    }
}
