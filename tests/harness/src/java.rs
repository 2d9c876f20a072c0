//! A second, Java oracle: Kafka's own command-line tools (`MetadataQuorumCommand`,
//! `DelegationTokenCommand`, `FeatureCommand`, `ConfigCommand`, …) and the small single-file
//! programs in `tests/harness/java/`, all run on the tools classpath of the brokers' version
//! ([`crate::fetch::ensure_tools_libs`]), so a test checks Klamm against the reference client of
//! exactly the release it talks to.
//!
//! A program is compiled with `javac` once per source text and version into
//! `target/kafka/java/<version>/<Name>-<hash>/` (under a lock, so parallel tests compile it
//! once) and then started as `java -cp <classes>:<tools>/* <Name>`. Programs that finish print
//! one JSON object on stdout; programs that hold something open (a transaction, a group member)
//! print a line `READY <json>` once it is in place and keep it until their stdin closes, which
//! [`JavaProcess`] does when dropped.
//!
//! ```no_run
//! use std::time::Duration;
//! use klamm_test_harness::{java::Java, shared, Profile};
//!
//! let env = shared(Profile::Single);
//! let mut member = Java::new(&env.version)
//!     .program("ShareConsumer.java")?
//!     .args([env.bootstrap_plaintext.as_str(), "my-share-group", "my-topic"])
//!     .spawn()?;
//! let ready = member.wait_for_line("READY", Duration::from_secs(60))?;
//! println!("{ready}"); // READY {"group":"my-share-group",...}
//! // … describe the share group with Klamm …
//! drop(member); // closes its stdin: the member leaves the group and the JVM exits
//! # Ok::<(), klamm_test_harness::HarnessError>(())
//! ```

use std::collections::hash_map::DefaultHasher;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::command::{render, run_checked, tail, JAVA, JAVAC};
use crate::error::{HarnessError, IoContext, Result};
use crate::fetch::ensure_tools_libs;
use crate::layout::state_root;
use crate::lock::FileLock;
use crate::profile::KafkaVersion;

/// Lines of output kept for error messages.
const OUTPUT_TAIL_LINES: usize = 40;
/// A cold `javac` on a busy 2-core machine takes a few seconds; a stuck one should still end.
const COMPILE_LOCK_TIMEOUT: Duration = Duration::from_secs(300);

/// The directory of the harness's Java programs, `tests/harness/java`.
pub fn programs_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("java")
}

/// Builds `java` command lines for one Kafka version: the JVM options every tool and program
/// gets, plus any a test adds.
#[derive(Debug, Clone)]
pub struct Java {
    version: KafkaVersion,
    jvm_args: Vec<OsString>,
    /// Further programs whose classes go on the classpath (e.g. a plugin class).
    companions: Vec<String>,
}

impl Java {
    /// A small JVM for a 2-core machine (`-Xmx256m`, serial GC, C1 only) that logs warnings
    /// and errors to stderr.
    pub fn new(version: &KafkaVersion) -> Self {
        let jvm_args = [
            "-Xms32m",
            "-Xmx256m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-Djava.awt.headless=true",
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
            "-Dorg.slf4j.simpleLogger.logFile=System.err",
        ]
        .map(OsString::from)
        .to_vec();
        Java {
            version: version.clone(),
            jvm_args,
            companions: Vec::new(),
        }
    }

    /// Puts the compiled classes of another file in `tests/harness/java/` on the classpath,
    /// e.g. `UnsecuredJwsValidator.java` for a client that names it in its configuration.
    pub fn with_classes_of(mut self, source_name: &str) -> Self {
        self.companions.push(source_name.to_owned());
        self
    }

    /// The classpath: companions' classes, then `extra`, then the tools jars.
    fn classpath(&self, extra: Option<&Path>) -> Result<String> {
        let tools = ensure_tools_libs(&self.version)?;
        let mut entries = Vec::new();
        for companion in &self.companions {
            let classes = compile(&self.version, &tools, &programs_dir().join(companion))?;
            entries.push(classes.display().to_string());
        }
        entries.extend(extra.map(|dir| dir.display().to_string()));
        entries.push(format!("{}/*", tools.display()));
        Ok(entries.join(":"))
    }

    /// Adds a JVM option (before the main class), e.g. a `-D` system property.
    pub fn jvm_arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.jvm_args.push(arg.as_ref().to_owned());
        self
    }

    /// `java … <main_class>` on the tools classpath, e.g.
    /// `org.apache.kafka.tools.MetadataQuorumCommand`; add the tool's own arguments.
    pub fn tool(&self, main_class: &str) -> Result<JavaCommand> {
        let classpath = self.classpath(None)?;
        let mut command = JAVA.command()?;
        command
            .args(&self.jvm_args)
            .arg("-cp")
            .arg(classpath)
            .arg(main_class);
        let name = main_class
            .rsplit('.')
            .next()
            .unwrap_or(main_class)
            .to_owned();
        Ok(JavaCommand { name, command })
    }

    /// `java … <Name>` for `tests/harness/java/<Name>.java`, compiled first if this source
    /// text has not been compiled for this version yet; add the program's own arguments.
    pub fn program(&self, source_name: &str) -> Result<JavaCommand> {
        let tools = ensure_tools_libs(&self.version)?;
        let classes = compile(&self.version, &tools, &programs_dir().join(source_name))?;
        let classpath = self.classpath(Some(&classes))?;
        let main_class = source_name.trim_end_matches(".java");
        let mut command = JAVA.command()?;
        command
            .args(&self.jvm_args)
            .arg("-cp")
            .arg(classpath)
            .arg(main_class);
        Ok(JavaCommand {
            name: source_name.to_owned(),
            command,
        })
    }
}

/// Compiles `source` for `version` unless done before, and returns its classes directory.
fn compile(version: &KafkaVersion, tools: &Path, source: &Path) -> Result<PathBuf> {
    let text = fs::read(source).context(|| format!("reading {}", source.display()))?;
    let mut hasher = DefaultHasher::new();
    text.hash(&mut hasher);
    let name = source
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_default();
    let root = state_root().join("java").join(version.as_str());
    let classes = root.join(format!("{name}-{:016x}", hasher.finish()));
    let done = classes.join(".compiled");
    if done.is_file() {
        return Ok(classes);
    }
    fs::create_dir_all(&root).context(|| format!("creating {}", root.display()))?;
    let _lock = FileLock::exclusive(&root.join("compile.lock"), COMPILE_LOCK_TIMEOUT)?;
    if done.is_file() {
        return Ok(classes);
    }
    if classes.exists() {
        fs::remove_dir_all(&classes).context(|| format!("removing {}", classes.display()))?;
    }
    let mut javac = JAVAC.command()?;
    javac
        .args([
            "-J-Xmx256m",
            "-J-XX:+UseSerialGC",
            "-J-XX:TieredStopAtLevel=1",
        ])
        .args(["--release", "17", "-nowarn", "-encoding", "UTF-8", "-d"])
        .arg(&classes)
        .arg("-cp")
        .arg(format!("{}/*", tools.display()))
        .arg(source);
    run_checked(&mut javac)?;
    fs::write(&done, "").context(|| format!("writing {}", done.display()))?;
    Ok(classes)
}

/// A `java` command line for one tool or program, with ways to run it.
#[derive(Debug)]
pub struct JavaCommand {
    name: String,
    command: Command,
}

impl JavaCommand {
    /// Appends an argument of the tool or program.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.command.arg(arg);
        self
    }

    /// Appends arguments of the tool or program.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.command.args(args);
        self
    }

    /// Sets an environment variable of the JVM.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.command.env(key, value);
        self
    }

    /// The underlying [`Command`], to run it some other way.
    pub fn into_command(self) -> Command {
        self.command
    }

    /// Runs it to completion and returns its stdout; fails with its output if it exits
    /// unsuccessfully.
    pub fn run(mut self) -> Result<String> {
        let output = run_checked(&mut self.command).map_err(|error| match error {
            HarnessError::CommandFailed { status, output, .. } => HarnessError::Program {
                program: self.name.clone(),
                problem: format!("exited ({status})"),
                waiting_for: "its result".to_owned(),
                output,
            },
            other => other,
        })?;
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// Runs it to completion and returns the last stdout line that starts with `{`: the JSON
    /// verdict of the harness's programs (parse it with the test's own JSON parser).
    pub fn run_json(self) -> Result<String> {
        let name = self.name.clone();
        let stdout = self.run()?;
        stdout
            .lines()
            .rev()
            .find(|line| line.trim_start().starts_with('{'))
            .map(|line| line.trim().to_owned())
            .ok_or_else(|| HarnessError::Program {
                program: name,
                problem: "printed no JSON line".to_owned(),
                waiting_for: "its result".to_owned(),
                output: tail(&stdout, OUTPUT_TAIL_LINES),
            })
    }

    /// Starts it in the background with piped stdin and stdout (see [`JavaProcess`]).
    pub fn spawn(self) -> Result<JavaProcess> {
        JavaProcess::spawn(self.command, &self.name)
    }
}

/// A Java program running beside a test, e.g. a transaction left open or a group member.
///
/// Its stdout is read line by line ([`JavaProcess::wait_for_line`]); its stderr is kept for
/// error messages. Dropping it closes its stdin, which the harness's programs take as the
/// signal to finish cleanly (leave the group, close the producer), waits up to 10 s for that,
/// and then kills it.
pub struct JavaProcess {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    seen: Vec<String>,
    stderr: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for JavaProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JavaProcess")
            .field("name", &self.name)
            .field("pid", &self.child.id())
            .finish_non_exhaustive()
    }
}

/// How long a program gets to finish after its stdin closed.
const FINISH_GRACE: Duration = Duration::from_secs(10);

impl JavaProcess {
    fn spawn(mut command: Command, name: &str) -> Result<Self> {
        let rendered = render(&command);
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context(|| format!("starting `{rendered}`"))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut stderr_pipe = child.stderr.take().expect("stderr is piped");
        let (sender, lines) = mpsc::channel();
        let stdout_reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let stderr_sink = Arc::clone(&stderr);
        let stderr_reader = std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(read) = stderr_pipe.read(&mut buffer) {
                if read == 0 {
                    break;
                }
                let mut sink = stderr_sink.lock().unwrap_or_else(|p| p.into_inner());
                sink.push_str(&String::from_utf8_lossy(&buffer[..read]));
                // Keep the tail only: a chatty program must not grow the test's memory.
                if sink.len() > 256 * 1024 {
                    let cut = sink.len() - 128 * 1024;
                    let cut = (cut..sink.len())
                        .find(|i| sink.is_char_boundary(*i))
                        .unwrap_or(sink.len());
                    sink.drain(..cut);
                }
            }
        });
        Ok(JavaProcess {
            name: name.to_owned(),
            child,
            stdin,
            lines,
            seen: Vec::new(),
            stderr,
            readers: vec![stdout_reader, stderr_reader],
        })
    }

    /// The program's pid.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Waits until the program prints a line starting with `prefix` and returns that line;
    /// fails (with its output) if it exits first or prints no such line within `timeout`.
    pub fn wait_for_line(&mut self, prefix: &str, timeout: Duration) -> Result<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.starts_with(prefix) {
                        return Ok(line);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    return Err(
                        self.failure(&format!("printed no such line within {timeout:?}"), prefix)
                    )
                }
                Err(RecvTimeoutError::Disconnected) => {
                    // stdout closed: the program has exited (or is about to).
                    let status = self
                        .child
                        .wait()
                        .map(|s| s.to_string())
                        .unwrap_or_else(|e| e.to_string());
                    return Err(self.failure(&format!("exited ({status})"), prefix));
                }
            }
        }
    }

    /// Sends one line to the program's stdin (e.g. `commit` to `OpenTransaction.java`).
    pub fn send_line(&mut self, line: &str) -> Result<()> {
        let stdin = self.stdin.as_mut().ok_or_else(|| HarnessError::Program {
            program: self.name.clone(),
            problem: "has its stdin closed".to_owned(),
            waiting_for: format!("`{line}` to be sent"),
            output: String::new(),
        })?;
        writeln!(stdin, "{line}")
            .and_then(|()| stdin.flush())
            .context(|| format!("writing to {}", self.name))
    }

    /// Closes its stdin, waits (bounded) for it to finish, and returns its exit status and
    /// every stdout line not yet consumed by [`JavaProcess::wait_for_line`].
    pub fn finish(mut self) -> Result<(std::process::ExitStatus, Vec<String>)> {
        self.stdin = None;
        let deadline = Instant::now() + FINISH_GRACE;
        let status = loop {
            if let Some(status) = self
                .child
                .try_wait()
                .context(|| format!("waiting for {}", self.name))?
            {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                break self
                    .child
                    .wait()
                    .context(|| format!("waiting for {}", self.name))?;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        let rest = self.lines.try_iter().collect();
        Ok((status, rest))
    }

    fn failure(&self, problem: &str, prefix: &str) -> HarnessError {
        let stderr = self
            .stderr
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let mut output = self.seen.join("\n");
        if !stderr.is_empty() {
            output.push_str("\n--- stderr ---\n");
            output.push_str(&stderr);
        }
        HarnessError::Program {
            program: self.name.clone(),
            problem: problem.to_owned(),
            waiting_for: format!("a line starting with `{prefix}`"),
            output: tail(&output, OUTPUT_TAIL_LINES),
        }
    }
}

impl Drop for JavaProcess {
    fn drop(&mut self) {
        if self.readers.is_empty() {
            return; // finish() ran
        }
        self.stdin = None;
        let deadline = Instant::now() + FINISH_GRACE;
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(Some(_)) | Err(_) => return,
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
