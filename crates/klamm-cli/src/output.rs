//! How `klamm` prints: aligned tables for people, exactly one JSON document for scripts, one
//! line per failure on stderr, and the exit status that sums up a batch.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::io::Write;

use clap::ValueEnum;
use klamm_admin::{AdminError, Results};
use serde::Serialize;

/// The `--output` format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns.
    Table,
    /// One JSON document on stdout.
    Json,
}

/// How a command ended; `main` turns it into the process exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Everything worked (exit 0).
    Success,
    /// The command failed, or every item of a batch did (exit 1).
    Failure,
    /// Some items of a batch failed and some did not (exit 3).
    Partial,
}

impl Status {
    /// The status of a batch with `failed` failures among `total` items.
    pub fn of_batch(failed: usize, total: usize) -> Status {
        match failed {
            0 => Status::Success,
            n if n == total => Status::Failure,
            _ => Status::Partial,
        }
    }

    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Status::Success => 0,
            Status::Failure => 1,
            Status::Partial => 3,
        }
    }
}

/// A command's failure: what was being done and why it failed, printed as one line.
#[derive(Debug)]
pub struct Failure {
    /// What failed, e.g. `topic "orders"` or `connecting to localhost:9092`.
    pub what: String,
    /// Why.
    pub why: String,
}

impl Failure {
    /// A failure of `what` caused by an admin error.
    pub fn admin(what: impl Into<String>, error: &AdminError) -> Failure {
        Failure {
            what: what.into(),
            why: explain(error),
        }
    }

    /// A failure with a reason of our own.
    pub fn new(what: impl Into<String>, why: impl Into<String>) -> Failure {
        Failure {
            what: what.into(),
            why: why.into(),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.what, self.why)
    }
}

/// One line explaining an admin error: `CODE: broker message` for Kafka errors (the resource is
/// named by the caller), the error's own text otherwise.
pub fn explain(error: &AdminError) -> String {
    let text = match error {
        AdminError::Kafka { code, message, .. } => {
            let message = message.as_deref().unwrap_or(code.message());
            format!("{}: {message}", code.name())
        }
        other => other.to_string(),
    };
    single_line(&text)
}

fn single_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Prints one failure line on stderr: `klamm: what: why`.
pub fn report(failure: &Failure) {
    eprintln!("klamm: {failure}");
}

/// Reports every failed item of a batch on stderr (named by `name`) and returns the batch status.
pub fn report_batch<K: Ord, T>(results: &Results<K, T>, name: impl Fn(&K) -> String) -> Status {
    let mut failed = 0;
    for (key, error) in results.errors() {
        failed += 1;
        report(&Failure::admin(name(key), error));
    }
    Status::of_batch(failed, results.len())
}

/// Prints `value` as one pretty JSON document on stdout.
pub fn print_json<T: Serialize + ?Sized>(value: &T) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Failure::new("writing JSON", e.to_string()))?;
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`klamm … | head`) is not worth a panic.
    let _ = writeln!(stdout, "{text}");
    Ok(())
}

/// The successful values of a batch, in key order (for JSON of read commands).
pub fn successes<K: Ord, T>(results: &Results<K, T>) -> Vec<&T> {
    results.values().filter_map(|r| r.as_ref().ok()).collect()
}

/// How a value serializes as a JSON string (`snake_case` enum names), else its `Debug`.
pub fn label<T: Serialize + Debug>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => text,
        _ => format!("{value:?}"),
    }
}

/// `Some(x)` as `x`, `None` as `-`.
pub fn opt<T: ToString>(value: Option<T>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

/// `[1, 2, 3]` as `1,2,3`.
pub fn ids(values: &[i32]) -> String {
    values
        .iter()
        .map(i32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// Topic → partitions, as `orders:0,1 payments:2`.
pub fn assignment<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a [i32])>) -> String {
    let mut by_topic: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
    for (topic, partitions) in pairs {
        by_topic
            .entry(topic)
            .or_default()
            .extend_from_slice(partitions);
    }
    if by_topic.is_empty() {
        return "-".to_owned();
    }
    by_topic
        .iter()
        .map(|(topic, partitions)| format!("{topic}:{}", ids(partitions)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A table with a header row, printed with columns padded to their widest cell.
#[derive(Debug)]
pub struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers.
    pub fn new(headers: &[&'static str]) -> Table {
        Table {
            headers: headers.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (missing cells print empty).
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Whether no row was added.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as text, one line per row, each ending in `\n`.
    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate().take(widths.len()) {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let mut out = String::new();
        let headers = self.headers.iter().map(|h| h.to_string()).collect();
        for row in std::iter::once(&headers).chain(&self.rows) {
            let mut line = String::new();
            for (i, width) in widths.iter().enumerate() {
                let cell = row.get(i).map(String::as_str).unwrap_or("");
                if i + 1 == widths.len() {
                    line.push_str(cell);
                } else {
                    line.push_str(cell);
                    let pad = width - cell.chars().count() + 2;
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    /// Prints the table on stdout.
    pub fn print(&self) {
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(self.render().as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_pads_columns_to_widest_cell() {
        let mut table = Table::new(&["NAME", "PARTITIONS"]);
        table.row(vec!["orders-long".into(), "3".into()]);
        table.row(vec!["x".into(), "12".into()]);
        assert_eq!(
            table.render(),
            "NAME         PARTITIONS\norders-long  3\nx            12\n"
        );
    }

    #[test]
    fn batch_status_is_partial_only_for_mixed_results() {
        assert_eq!(Status::of_batch(0, 2), Status::Success);
        assert_eq!(Status::of_batch(1, 2), Status::Partial);
        assert_eq!(Status::of_batch(2, 2), Status::Failure);
        assert_eq!(Status::Partial.code(), 3);
    }

    #[test]
    fn kafka_error_explains_as_code_and_broker_message() {
        let error = AdminError::from_code(36, Some("Topic 'x' already exists."), "topic `x`")
            .expect("36 is an error");
        assert_eq!(
            explain(&error),
            "TOPIC_ALREADY_EXISTS: Topic 'x' already exists."
        );
    }

    #[test]
    fn assignment_groups_partitions_by_topic() {
        let a = [0, 2];
        let b = [1];
        assert_eq!(
            assignment([("orders", &a[..]), ("audit", &b[..])]),
            "audit:1 orders:0,2"
        );
        assert_eq!(assignment(std::iter::empty()), "-");
    }
}
