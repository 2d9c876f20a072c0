//! A throw-away MIT Kerberos KDC for the `single` profile, so that SASL/GSSAPI is tested against
//! a real KDC and a real broker.
//!
//! Everything lives in `target/kafka/<profile>/kerberos/`: `krb5.conf` (for the broker JVM and
//! clients), `kdc.conf` (the KDC's own profile: a loopback port above 1024, a database in this
//! directory), the database made with `kdb5_util create -s`, principals and keytabs made with
//! `kadmin.local`, and the KDC itself, `krb5kdc -n` (no fork), a child of whoever started the
//! profile and stopped with the brokers. The environment variables `KRB5_CONFIG` and
//! `KRB5_KDC_PROFILE` point the tools at these files only, so the machine's `/etc/krb5.conf` and
//! any system KDC are never touched.
//!
//! Principals (realm [`REALM`]): `kafka/localhost` for the broker (`broker.keytab`),
//! `klamm-client` for clients (`client.keytab`), and `klamm-keyless`, which exists in the KDC
//! but is in no keytab, for the "no key" refusal.

use std::fs;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::command::{run_checked, tail_file, Tool, KADMIN_LOCAL, KDB5_UTIL, KINIT, KRB5KDC};
use crate::env::KerberosEnv;
use crate::error::{HarnessError, IoContext, Result};
use crate::process::{is_running, read_pid, spawn_detached, terminate};

/// The test realm.
pub const REALM: &str = "KLAMM.TEST";
/// `sasl.kerberos.service.name` of the broker.
pub const SERVICE_NAME: &str = "kafka";
/// Host part of the broker's principal; clients reach the broker as 127.0.0.1 and must name
/// this host with `sasl_kerberos_domain_name`.
pub const SERVICE_HOST: &str = "localhost";
const CLIENT: &str = "klamm-client";
const KEYLESS: &str = "klamm-keyless";
/// The database master password (a throw-away database on loopback).
const MASTER_PASSWORD: &str = "klamm-kdc-master";
const READY_TIMEOUT: Duration = Duration::from_secs(15);
const LOG_TAIL_LINES: usize = 30;

/// The KDC's own profile, in the KDC directory.
const KDC_CONF: &str = "kdc.conf";

/// Debian packages providing the KDC, `kdb5_util`, `kadmin.local` and `kinit`.
pub const PACKAGES: [&str; 3] = ["krb5-kdc", "krb5-admin-server", "krb5-user"];

/// The programs a KDC start needs, plus `kinit` for tests that fill a credential cache.
const TOOLS: [Tool; 4] = [KRB5KDC, KDB5_UTIL, KADMIN_LOCAL, KINIT];

/// Makes sure the MIT Kerberos programs are installed: nothing to do if they are; otherwise, as
/// root on a Debian-like system, `apt-get install`s [`PACKAGES`] (after `apt-get update` if the
/// first attempt fails); otherwise fails naming what to install.
pub fn ensure_tools() -> Result<()> {
    let Some(missing) = TOOLS.iter().find(|tool| tool.locate().is_err()) else {
        return Ok(());
    };
    // SAFETY: `geteuid` takes no arguments, cannot fail and has no memory effects.
    let root = unsafe { libc::geteuid() } == 0;
    let apt_get = Path::new("/usr/bin/apt-get");
    if !root || !apt_get.exists() {
        return Err(missing.locate().unwrap_err());
    }
    eprintln!(
        "klamm-test-harness: installing {} with apt-get (the single profile runs a Kerberos KDC)",
        PACKAGES.join(" ")
    );
    let install = || {
        let mut command = Command::new(apt_get);
        command
            .args(["install", "-y", "-q", "--no-install-recommends"])
            .args(PACKAGES)
            .env("DEBIAN_FRONTEND", "noninteractive");
        run_checked(&mut command)
    };
    if install().is_err() {
        let mut update = Command::new(apt_get);
        update
            .args(["update", "-q"])
            .env("DEBIAN_FRONTEND", "noninteractive");
        run_checked(&mut update)?;
        install()?;
    }
    for tool in TOOLS {
        tool.locate()?;
    }
    Ok(())
}

/// The files of one KDC directory.
#[derive(Debug, Clone)]
pub(crate) struct KdcFiles {
    pub(crate) dir: PathBuf,
    pub(crate) port: u16,
}

impl KdcFiles {
    pub(crate) fn new(dir: PathBuf, port: u16) -> Self {
        KdcFiles { dir, port }
    }

    pub(crate) fn krb5_conf(&self) -> PathBuf {
        self.dir.join("krb5.conf")
    }

    fn kdc_conf(&self) -> PathBuf {
        self.dir.join(KDC_CONF)
    }

    pub(crate) fn pid_file(&self) -> PathBuf {
        pid_file(&self.dir)
    }

    fn log_file(&self) -> PathBuf {
        self.dir.join("kdc.log")
    }

    /// The broker's keytab, for its JAAS `Krb5LoginModule`.
    pub(crate) fn broker_keytab(&self) -> PathBuf {
        self.dir.join("broker.keytab")
    }

    /// `kafka/localhost@KLAMM.TEST`.
    pub(crate) fn broker_principal(&self) -> String {
        format!("{SERVICE_NAME}/{SERVICE_HOST}@{REALM}")
    }

    /// What clients need, as `cluster.env` carries it.
    pub(crate) fn env(&self) -> KerberosEnv {
        KerberosEnv {
            realm: REALM.to_owned(),
            kdc: format!("127.0.0.1:{}", self.port),
            krb5_conf: self.krb5_conf(),
            service_name: SERVICE_NAME.to_owned(),
            service_host: SERVICE_HOST.to_owned(),
            client_principal: format!("{CLIENT}@{REALM}"),
            client_keytab: self.dir.join("client.keytab"),
            keyless_principal: format!("{KEYLESS}@{REALM}"),
        }
    }

    fn tool(&self, tool: Tool) -> Result<Command> {
        let mut command = tool.command()?;
        command
            .env("KRB5_CONFIG", self.krb5_conf())
            .env("KRB5_KDC_PROFILE", self.kdc_conf())
            .env_remove("KRB5CCNAME");
        Ok(command)
    }
}

/// The pid file of the KDC in `dir`; the path is also on the KDC's command line (`-P`), which
/// is how a pid is recognised as ours.
pub(crate) fn pid_file(dir: &Path) -> PathBuf {
    dir.join("kdc.pid")
}

/// Writes the configuration, creates the database, principals and keytabs, starts `krb5kdc`
/// and waits until it accepts connections. Returns the running child.
pub(crate) fn start(files: &KdcFiles) -> Result<Child> {
    ensure_tools()?;
    fs::create_dir_all(&files.dir).context(|| format!("creating {}", files.dir.display()))?;
    write(&files.krb5_conf(), &krb5_conf(files.port))?;
    write(&files.kdc_conf(), &kdc_conf(&files.dir, files.port))?;
    write(&files.dir.join("kadm5.acl"), "")?;

    run_checked(files.tool(KDB5_UTIL)?.args([
        "create",
        "-s",
        "-W",
        "-r",
        REALM,
        "-P",
        MASTER_PASSWORD,
    ]))?;
    let env = files.env();
    let keytab = |path: &Path, principal: &str| format!("ktadd -k {} {principal}", path.display());
    let service = format!("{SERVICE_NAME}/{SERVICE_HOST}");
    for query in [
        format!("addprinc -randkey {service}"),
        format!("addprinc -randkey {CLIENT}"),
        format!("addprinc -randkey {KEYLESS}"),
        keytab(&files.broker_keytab(), &service),
        keytab(&env.client_keytab, CLIENT),
    ] {
        run_checked(files.tool(KADMIN_LOCAL)?.args(["-r", REALM, "-q", &query]))?;
    }

    let mut command = files.tool(KRB5KDC)?;
    command
        .args(["-n", "-r", REALM, "-P"])
        .arg(files.pid_file());
    let mut child = spawn_detached(&mut command, &files.log_file())?;
    // Written by us too (krb5kdc writes it when it is up), so `stop` finds a KDC that is slow
    // to start.
    write(&files.pid_file(), &format!("{}\n", child.id()))?;
    match wait_until_listening(files, &mut child) {
        Ok(()) => Ok(child),
        Err(error) => {
            let _ = child.kill();
            let _ = child.wait();
            Err(error)
        }
    }
}

fn wait_until_listening(files: &KdcFiles, child: &mut Child) -> Result<()> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, files.port));
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().context(|| "checking krb5kdc".to_owned())? {
            return Err(HarnessError::CommandFailed {
                command: "krb5kdc -n".to_owned(),
                status: status.to_string(),
                output: tail_file(&files.log_file(), LOG_TAIL_LINES),
            });
        }
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(HarnessError::CommandFailed {
                command: "krb5kdc -n".to_owned(),
                status: format!("not listening on {addr} after {READY_TIMEOUT:?}"),
                output: tail_file(&files.log_file(), LOG_TAIL_LINES),
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Stops the KDC of `dir` if it runs; returns its pid.
pub(crate) fn stop(dir: &Path) -> Option<u32> {
    let pid_file = pid_file(dir);
    let marker = pid_file.display().to_string();
    let pid = read_pid(&pid_file).filter(|pid| is_running(*pid, &marker))?;
    terminate(&[(pid, marker)], Duration::from_secs(5));
    let _ = fs::remove_file(&pid_file);
    Some(pid)
}

/// Whether the KDC of `dir` runs.
pub(crate) fn is_kdc_running(dir: &Path) -> bool {
    let pid_file = pid_file(dir);
    read_pid(&pid_file).is_some_and(|pid| is_running(pid, &pid_file.display().to_string()))
}

fn write(path: &Path, text: &str) -> Result<()> {
    fs::write(path, text).context(|| format!("writing {}", path.display()))
}

/// `krb5.conf` for clients and the broker JVM. Java reads the same file
/// (`-Djava.security.krb5.conf`); the keys it does not know are ignored.
fn krb5_conf(port: u16) -> String {
    format!(
        "# Generated by klamm-test-harness; regenerated on every start.
[libdefaults]
    default_realm = {REALM}
    dns_lookup_kdc = false
    dns_lookup_realm = false
    # The broker is reached as 127.0.0.1 but its principal names `localhost`: no DNS games.
    dns_canonicalize_hostname = false
    rdns = false
    # TCP only (the KDC listens on both; TCP never truncates).
    udp_preference_limit = 1
    ticket_lifetime = 24h
    forwardable = false

[realms]
    {REALM} = {{
        kdc = 127.0.0.1:{port}
    }}

[domain_realm]
    {SERVICE_HOST} = {REALM}
"
    )
}

fn kdc_conf(dir: &Path, port: u16) -> String {
    let dir = dir.display();
    format!(
        "# Generated by klamm-test-harness; regenerated on every start.
[kdcdefaults]
    kdc_listen = 127.0.0.1:{port}
    kdc_tcp_listen = 127.0.0.1:{port}

[realms]
    {REALM} = {{
        database_name = {dir}/principal
        key_stash_file = {dir}/stash
        acl_file = {dir}/kadm5.acl
        max_life = 24h
        max_renewable_life = 7d
        # What Java 17 and MIT 1.20 both speak.
        supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
    }}

[logging]
    kdc = FILE:{dir}/kdc.log
    default = FILE:{dir}/kdc.log
"
    )
}

/// Where the KDC of `dir` listens, from its `kdc.conf` (present whether or not it runs).
pub(crate) fn listen_address(dir: &Path) -> Option<String> {
    let text = fs::read_to_string(dir.join(KDC_CONF)).ok()?;
    listen_address_in_kdc_conf(&text)
}

/// The `host:port` a `kdc.conf` of [`kdc_conf`] makes the KDC listen on (TCP and UDP alike).
fn listen_address_in_kdc_conf(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        (key.trim() == "kdc_tcp_listen").then(|| value.trim().to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn krb5_conf_points_at_the_loopback_kdc_and_maps_localhost() {
        let text = krb5_conf(40123);
        assert!(text.contains("default_realm = KLAMM.TEST"));
        assert!(text.contains("kdc = 127.0.0.1:40123"));
        assert!(text.contains("localhost = KLAMM.TEST"));
        assert!(text.contains("dns_lookup_kdc = false"));
    }

    #[test]
    fn kdc_conf_keeps_everything_in_its_directory() {
        let text = kdc_conf(Path::new("/s/kerberos"), 40123);
        assert!(text.contains("kdc_tcp_listen = 127.0.0.1:40123"));
        assert!(text.contains("database_name = /s/kerberos/principal"));
        assert!(text.contains("kdc = FILE:/s/kerberos/kdc.log"));
        assert_eq!(
            listen_address_in_kdc_conf(&text).as_deref(),
            Some("127.0.0.1:40123")
        );
        assert_eq!(listen_address_in_kdc_conf("[kdcdefaults]\n"), None);
    }

    #[test]
    fn env_names_the_three_principals_and_the_files() {
        let files = KdcFiles::new(PathBuf::from("/s/kerberos"), 40123);
        let env = files.env();
        assert_eq!(env.kdc, "127.0.0.1:40123");
        assert_eq!(env.client_principal, "klamm-client@KLAMM.TEST");
        assert_eq!(env.keyless_principal, "klamm-keyless@KLAMM.TEST");
        assert_eq!(
            env.client_keytab,
            PathBuf::from("/s/kerberos/client.keytab")
        );
        assert_eq!(files.broker_principal(), "kafka/localhost@KLAMM.TEST");
    }
}
