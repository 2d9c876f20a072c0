//! Kafka's own codec in a child JVM (`xtask/java/Conformance.java`), behind a pipelined
//! line protocol.
//!
//! Requests go to a writer thread through an unbounded channel, so the caller can queue any
//! number of them before reading answers: the JVM then decodes while this process generates the
//! next values, and neither side can block the other on a full pipe. Answers come back in request
//! order.

use std::fmt::Write as _;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use bytes::Bytes;
use klamm_protocol::VersionRange;

use crate::hex;

/// What can go wrong talking to the JVM; any of these ends the run.
#[derive(Debug, thiserror::Error)]
pub enum JavaError {
    /// The `java` program could not be started.
    #[error("could not start `{program}` (is a JDK 17+ installed?): {source}")]
    Spawn {
        /// The program that was run.
        program: String,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The JVM exited or closed its output: it failed to compile or start the checker, or it
    /// crashed mid-run. Its stderr, inherited, says why.
    #[error("the Java checker {source_file} exited unexpectedly ({status}) while {doing}")]
    Exited {
        /// The checker's source file.
        source_file: PathBuf,
        /// How the JVM exited, if it has.
        status: String,
        /// What this side was waiting for.
        doing: &'static str,
    },
    /// Reading the JVM's answers failed.
    #[error("reading the Java checker's output: {0}")]
    Read(#[source] io::Error),
    /// The JVM answered something that is not part of the protocol.
    #[error("the Java checker answered {line:?} to a {request} request")]
    Protocol {
        /// The request kind that was answered.
        request: &'static str,
        /// The answer, verbatim.
        line: String,
    },
}

/// Kafka's answer to a `check`: the bytes its generated class wrote back after reading ours.
#[derive(Debug)]
pub enum Checked {
    /// Read every byte and wrote these back.
    Rewritten(Bytes),
    /// Read without error but left `unread` bytes; wrote these back.
    LeftUnread {
        /// How many input bytes the read did not consume.
        unread: usize,
        /// What the object wrote back.
        rewritten: Bytes,
    },
    /// Reading or writing threw; the exception, its first frame and its causes.
    Threw(String),
}

/// Kafka's generated class for a spec, as the JVM found it.
#[derive(Debug)]
pub struct JavaClass {
    /// The fully qualified class name.
    pub name: String,
    /// `lowestSupportedVersion()`..=`highestSupportedVersion()`.
    pub versions: VersionRange,
    /// `apiKey()`, or -1 for classes that are not API messages.
    pub api_key: i16,
}

/// A running JVM with Kafka's codec.
pub struct JavaCodec {
    child: Child,
    requests: Option<mpsc::Sender<Vec<u8>>>,
    writer: Option<JoinHandle<()>>,
    answers: BufReader<ChildStdout>,
    line: String,
    /// Requests sent and not yet answered.
    outstanding: usize,
    source_file: PathBuf,
    kafka_version: String,
}

impl JavaCodec {
    /// Starts `java -cp <class_path> <source_file>` and waits for its `ready` line.
    pub fn start(java: &str, class_path: &str, source_file: &Path) -> Result<Self, JavaError> {
        let mut child = Command::new(java)
            .arg("-cp")
            .arg(class_path)
            .arg(source_file)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|source| JavaError::Spawn {
                program: java.to_string(),
                source,
            })?;
        let stdin = child.stdin.take().expect("stdin is piped");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (requests, queue) = mpsc::channel::<Vec<u8>>();
        let writer = thread::spawn(move || write_requests(queue, stdin));
        let mut codec = JavaCodec {
            child,
            requests: Some(requests),
            writer: Some(writer),
            answers: BufReader::with_capacity(1 << 16, stdout),
            line: String::new(),
            outstanding: 1,
            source_file: source_file.to_path_buf(),
            kafka_version: String::new(),
        };
        let ready = codec.read_line("starting")?;
        match ready.strip_prefix("ready ") {
            Some(version) => codec.kafka_version = version.to_string(),
            None => {
                return Err(JavaError::Protocol {
                    request: "start",
                    line: ready.to_string(),
                })
            }
        }
        Ok(codec)
    }

    /// The kafka-clients version the JVM loaded.
    pub fn kafka_version(&self) -> &str {
        &self.kafka_version
    }

    /// Finds Kafka's generated class for `spec` (waits for the answer).
    pub fn describe(&mut self, spec: &str) -> Result<Result<JavaClass, String>, JavaError> {
        self.send(format!("describe {spec}\n").into_bytes());
        let line = self.read_line("describing a message class")?;
        if let Some(error) = line.strip_prefix("err ") {
            return Ok(Err(error.to_string()));
        }
        let parsed = line.strip_prefix("ok ").and_then(|rest| {
            let mut parts = rest.split(' ');
            let name = parts.next()?.to_string();
            let min = parts.next()?.parse().ok()?;
            let max = parts.next()?.parse().ok()?;
            let api_key = parts.next()?.parse().ok()?;
            Some(JavaClass {
                name,
                versions: VersionRange::new(min, max),
                api_key,
            })
        });
        match parsed {
            Some(class) => Ok(Ok(class)),
            None => Err(JavaError::Protocol {
                request: "describe",
                line: line.to_string(),
            }),
        }
    }

    /// Queues a `check` of `bytes` as `spec` at `version`; its answer comes from
    /// [`receive_checked`](Self::receive_checked), in queueing order.
    pub fn queue_check(&mut self, spec: &str, version: i16, bytes: &[u8]) {
        let mut line = String::with_capacity(spec.len() + 16 + 2 * bytes.len());
        write!(line, "check {spec} {version} ").expect("writing to a String");
        hex::encode_into(bytes, &mut line);
        line.push('\n');
        self.send(line.into_bytes());
    }

    /// The answer to the oldest queued `check`.
    pub fn receive_checked(&mut self) -> Result<Checked, JavaError> {
        let line = self.read_line("checking a message")?;
        let parsed = if let Some(error) = line.strip_prefix("err ") {
            Some(Checked::Threw(error.to_string()))
        } else if let Some(payload) = line.strip_prefix("ok ") {
            hex::decode(payload).map(|bytes| Checked::Rewritten(bytes.into()))
        } else if let Some(rest) = line.strip_prefix("unread ") {
            rest.split_once(' ').and_then(|(unread, payload)| {
                Some(Checked::LeftUnread {
                    unread: unread.parse().ok()?,
                    rewritten: hex::decode(payload)?.into(),
                })
            })
        } else {
            None
        };
        parsed.ok_or_else(|| JavaError::Protocol {
            request: "check",
            line: line.to_string(),
        })
    }

    fn send(&mut self, line: Vec<u8>) {
        // A closed channel means the writer stopped on a broken pipe: the JVM is gone, and the
        // next read reports that with its exit status.
        if let Some(requests) = &self.requests {
            let _ = requests.send(line);
        }
        self.outstanding += 1;
    }

    fn read_line(&mut self, doing: &'static str) -> Result<&str, JavaError> {
        self.line.clear();
        let read = self
            .answers
            .read_line(&mut self.line)
            .map_err(JavaError::Read)?;
        if read == 0 {
            return Err(JavaError::Exited {
                source_file: self.source_file.clone(),
                status: self.exit_status(),
                doing,
            });
        }
        self.outstanding -= 1;
        Ok(self.line.trim_end_matches(['\n', '\r']))
    }

    /// How the JVM exited, given a moment to do so after closing its output.
    fn exit_status(&mut self) -> String {
        for _ in 0..50 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.to_string();
            }
            thread::sleep(Duration::from_millis(20));
        }
        "closed its output but is still running".to_string()
    }
}

impl Drop for JavaCodec {
    fn drop(&mut self) {
        // Closing stdin ends the JVM's read loop and it exits on its own, unless it is blocked
        // writing answers nobody will read (a run cut short): then it is killed.
        self.requests.take();
        if self.outstanding > 0 {
            let _ = self.child.kill();
        }
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
        let _ = self.child.wait();
    }
}

fn write_requests(queue: mpsc::Receiver<Vec<u8>>, stdin: impl Write) {
    let mut stdin = BufWriter::with_capacity(1 << 16, stdin);
    // Flush only when the queue runs dry, so a burst of requests costs few writes.
    while let Ok(first) = queue.recv() {
        let mut result = stdin.write_all(&first);
        while let (Ok(()), Ok(next)) = (&result, queue.try_recv()) {
            result = stdin.write_all(&next);
        }
        if result.and_then(|()| stdin.flush()).is_err() {
            return;
        }
    }
}
