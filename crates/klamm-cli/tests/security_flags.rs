//! End-to-end tests of the security flags against the real single-node broker from
//! `klamm-test-harness`, with no `--command-config`: SCRAM-SHA-512 over its SASL_SSL listener
//! trusting the harness's CA, a wrong password, and mutual TLS on its SSL listener.

use std::path::PathBuf;
use std::process::{Command, Output};

use klamm_test_harness::{shared, ClusterEnv, Profile, SaslUsers, TlsFiles};

mod common;

use common::{json, stderr_lines};

/// The variables `klamm` reads passwords from; cleared so the caller's shell cannot leak in.
const SASL_PASSWORD_ENV: &str = "KLAMM_SASL_PASSWORD";
const SSL_PASSWORD_ENV: &str = "KLAMM_SSL_PASSWORD";

fn single() -> (&'static ClusterEnv, &'static SaslUsers, &'static TlsFiles) {
    let env = shared(Profile::Single);
    let sasl = env
        .sasl
        .as_ref()
        .expect("the single profile has SASL users");
    let tls = env
        .tls
        .as_ref()
        .expect("the single profile has TLS material");
    (env, sasl, tls)
}

/// `klamm` with a clean environment (no bootstrap or password variables) and a deadline.
fn klamm() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_klamm"));
    command
        .args(["--timeout", "30000"])
        .env_remove("KLAMM_BOOTSTRAP_SERVER")
        .env_remove(SASL_PASSWORD_ENV)
        .env_remove(SSL_PASSWORD_ENV);
    command
}

/// `klamm` set up for the SASL_SSL listener as `user` with SCRAM-SHA-512, trusting the
/// harness's CA; the password is left to the caller.
fn klamm_scram_sha_512(user: &str) -> Command {
    let (env, sasl, tls) = single();
    assert!(
        sasl.mechanisms.iter().any(|m| m == "SCRAM-SHA-512"),
        "the listener enables SCRAM-SHA-512: {:?}",
        sasl.mechanisms
    );
    let bootstrap = env
        .bootstrap_sasl_ssl
        .as_deref()
        .expect("the single profile has a SASL_SSL listener");
    let mut command = klamm();
    command
        .args(["-b", bootstrap])
        .args(["--security-protocol", "SASL_SSL"])
        .args(["--sasl-mechanism", "SCRAM-SHA-512"])
        .args(["--sasl-username", user])
        .arg("--ssl-cafile")
        .arg(&tls.ca_file);
    command
}

/// A file in the temporary directory holding `contents`, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(purpose: &str, contents: &str) -> TempFile {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let path = std::env::temp_dir().join(format!(
            "klamm-cli-{purpose}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::write(&path, contents).expect("the temporary directory is writable");
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn run(command: &mut Command) -> Output {
    command.output().expect("the klamm binary runs")
}

#[test]
fn flags_alone_log_in_with_scram_sha_512_over_sasl_ssl() {
    let (env, sasl, _) = single();
    let info = json(&run(klamm_scram_sha_512(&sasl.admin_user)
        .args(["cluster", "info", "-o", "json"])
        .env(SASL_PASSWORD_ENV, &sasl.admin_password)));
    assert_eq!(info["cluster_id"], env.cluster_id.as_str(), "{info}");
    let bootstrap = env.bootstrap_sasl_ssl.as_deref().unwrap_or_default();
    let port = info["brokers"][0]["port"].as_i64().map(|p| p.to_string());
    assert!(
        port.is_some_and(|port| bootstrap.ends_with(&format!(":{port}"))),
        "the brokers are described on the SASL_SSL listener {bootstrap}: {info}"
    );

    // The same login with the password in a file (its first line).
    let password = TempFile::new("scram-password", &format!("{}\n", sasl.admin_password));
    let info = json(&run(klamm_scram_sha_512(&sasl.admin_user)
        .arg("--sasl-password-file")
        .arg(&password.0)
        .args(["cluster", "info", "-o", "json"])));
    assert_eq!(info["cluster_id"], env.cluster_id.as_str(), "{info}");
}

#[test]
fn wrong_password_fails_with_an_authentication_error() {
    let (_, sasl, _) = single();
    let wrong = "definitely-not-the-password";
    let password = TempFile::new("wrong-password", &format!("{wrong}\n"));
    let output = run(klamm_scram_sha_512(&sasl.admin_user)
        .arg("--sasl-password-file")
        .arg(&password.0)
        .args(["cluster", "info"]));
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(output.stdout.is_empty(), "{output:?}");
    let lines = stderr_lines(&output);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("klamm: ")
            && lines[0].contains("SCRAM-SHA-512 authentication")
            && lines[0].contains("SASL_AUTHENTICATION_FAILED"),
        "{lines:?}"
    );
    assert!(!lines[0].contains(wrong), "{lines:?}");
}

#[test]
fn inconsistent_flags_fail_before_connecting() {
    let (_, sasl, _) = single();
    // A username with no password anywhere: one line naming the flag and the variable.
    let output = run(klamm_scram_sha_512(&sasl.admin_user).args(["cluster", "info"]));
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(
        stderr_lines(&output),
        [format!(
            "klamm: --sasl-username: needs a password: set ${SASL_PASSWORD_ENV} or give \
             --sasl-password-file"
        )]
    );
    // A SASL mechanism on a TLS-only protocol.
    let output = run(klamm()
        .args(["-b", "127.0.0.1:1", "--security-protocol", "SSL"])
        .args(["--sasl-mechanism", "PLAIN", "cluster", "info"]));
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(
        stderr_lines(&output),
        [
            "klamm: --sasl-mechanism: needs --security-protocol SASL_PLAINTEXT or SASL_SSL \
          (the protocol is SSL)"
        ]
    );
}

/// The SSL listener maps the client certificate to `User:CN=klamm-client`, which has no ACLs,
/// while a client without a certificate is `User:ANONYMOUS`, a super user: a refused dry-run
/// topic creation shows that `--ssl-certfile` and `--ssl-keyfile` were presented.
#[test]
fn client_certificate_flags_authenticate_over_ssl() {
    let (env, _, tls) = single();
    let bootstrap = env
        .bootstrap_ssl
        .as_deref()
        .expect("the single profile has an SSL listener");
    let create = |client_certificate: bool| {
        let mut command = klamm();
        command
            .args(["-b", bootstrap, "--security-protocol", "SSL"])
            .arg("--ssl-cafile")
            .arg(&tls.ca_file);
        if client_certificate {
            command
                .arg("--ssl-certfile")
                .arg(&tls.client_cert_file)
                .arg("--ssl-keyfile")
                .arg(&tls.client_key_file);
        }
        run(command.args([
            "topic",
            "create",
            "klamm-cli-mtls-dry-run",
            "--partitions",
            "1",
            "--replication-factor",
            "1",
            "--dry-run",
        ]))
    };

    let anonymous = create(false);
    assert_eq!(anonymous.status.code(), Some(0), "{anonymous:?}");
    let certified = create(true);
    assert_eq!(certified.status.code(), Some(1), "{certified:?}");
    let lines = stderr_lines(&certified);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains("TOPIC_AUTHORIZATION_FAILED"),
        "{} is denied: {lines:?}",
        tls.client_principal
    );
}
