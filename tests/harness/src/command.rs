//! Running the external programs the harness relies on (java, mvn, openssl, python3, flock, and
//! MIT Kerberos' KDC tools), with errors that name the missing package or show the failing
//! command's own output.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::error::{HarnessError, Result};

/// An external program and how to get it on Debian.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tool {
    pub(crate) program: &'static str,
    purpose: &'static str,
    install: &'static str,
}

pub(crate) const JAVA: Tool = Tool {
    program: "java",
    purpose: "run the Kafka brokers (Java 17 or newer)",
    install: "apt-get install -y openjdk-17-jre-headless",
};
pub(crate) const JAVAC: Tool = Tool {
    program: "javac",
    purpose: "compile the single-file Java test programs in tests/harness/java (a JDK 17 or newer)",
    install: "apt-get install -y openjdk-17-jdk-headless",
};
pub(crate) const MAVEN: Tool = Tool {
    program: "mvn",
    purpose: "download the Kafka jars from Maven Central",
    install: "apt-get install -y maven",
};
pub(crate) const OPENSSL: Tool = Tool {
    program: "openssl",
    purpose: "generate the throw-away TLS certificates",
    install: "apt-get install -y openssl",
};
pub(crate) const PYTHON: Tool = Tool {
    program: "python3",
    purpose: "run the kafka-python oracle",
    install: "apt-get install -y python3 python3-pip",
};
pub(crate) const FLOCK: Tool = Tool {
    program: "flock",
    purpose: "let the watchdog stop test-owned brokers once no test process uses them",
    install: "apt-get install -y util-linux",
};

const KERBEROS_INSTALL: &str = "apt-get install -y krb5-kdc krb5-admin-server krb5-user \
     (`cargo xtask kafka fetch` does it when run as root)";
pub(crate) const KRB5KDC: Tool = Tool {
    program: "krb5kdc",
    purpose: "run the Kerberos KDC of the single profile (SASL/GSSAPI)",
    install: KERBEROS_INSTALL,
};
pub(crate) const KDB5_UTIL: Tool = Tool {
    program: "kdb5_util",
    purpose: "create the Kerberos database of the single profile",
    install: KERBEROS_INSTALL,
};
pub(crate) const KADMIN_LOCAL: Tool = Tool {
    program: "kadmin.local",
    purpose: "create the Kerberos principals and keytabs of the single profile",
    install: KERBEROS_INSTALL,
};
pub(crate) const KINIT: Tool = Tool {
    program: "kinit",
    purpose: "fill Kerberos credential caches in the GSSAPI tests",
    install: KERBEROS_INSTALL,
};

/// Where system programs live that a non-root `PATH` often lacks (`krb5kdc`, `kdb5_util`).
const SYSTEM_DIRS: [&str; 3] = ["/usr/local/sbin", "/usr/sbin", "/sbin"];

/// Checks that every program the harness needs is on `PATH`, naming the package of the first one
/// missing.
pub fn check_tools() -> Result<()> {
    for tool in [JAVA, MAVEN, OPENSSL, PYTHON, FLOCK] {
        tool.locate()?;
    }
    Ok(())
}

impl Tool {
    /// The program's full path (searching `PATH`, then the sbin directories), or
    /// [`HarnessError::MissingTool`].
    pub(crate) fn locate(self) -> Result<PathBuf> {
        let path = std::env::var_os("PATH").unwrap_or_default();
        std::env::split_paths(&path)
            .chain(SYSTEM_DIRS.iter().map(PathBuf::from))
            .map(|dir| dir.join(self.program))
            .find(|candidate| is_executable(candidate))
            .ok_or(HarnessError::MissingTool {
                program: self.program,
                purpose: self.purpose,
                install: self.install,
            })
    }

    /// A `Command` for the program, after checking that it exists.
    pub(crate) fn command(self) -> Result<Command> {
        Ok(Command::new(self.locate()?))
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path)
        .map(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Runs `command` to completion and fails with its output when it exits unsuccessfully.
pub(crate) fn run_checked(command: &mut Command) -> Result<Output> {
    let rendered = render(command);
    let output = command.output().map_err(|source| HarnessError::Io {
        action: format!("running `{rendered}`"),
        source,
    })?;
    if output.status.success() {
        return Ok(output);
    }
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    Err(HarnessError::CommandFailed {
        command: rendered,
        status: output.status.to_string(),
        output: tail(&text, 40),
    })
}

/// The command line as a shell would show it (without quoting: for messages only).
pub(crate) fn render(command: &Command) -> String {
    let mut parts = vec![command.get_program().to_string_lossy().into_owned()];
    parts.extend(
        command
            .get_args()
            .map(|arg| arg.to_string_lossy().into_owned()),
    );
    parts.join(" ")
}

/// The last `lines` lines of `text`.
pub(crate) fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The last `lines` lines of a log file, or a note saying why there are none.
pub(crate) fn tail_file(path: &Path, lines: usize) -> String {
    match fs::read(path) {
        Ok(bytes) => tail(&String::from_utf8_lossy(&bytes), lines),
        Err(error) => format!("(cannot read {}: {error})", path.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_only_the_last_lines() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail("a", 5), "a");
        assert_eq!(tail("", 3), "");
    }

    #[test]
    fn missing_tool_names_the_package() {
        let tool = Tool {
            program: "klamm-no-such-program",
            purpose: "test",
            install: "apt-get install -y nothing",
        };
        let message = tool.locate().unwrap_err().to_string();
        assert!(message.contains("apt-get install -y nothing"), "{message}");
    }
}
