//! A throw-away PKI for the `single` profile, made with the `openssl` command-line tool: a CA, a
//! broker certificate for `localhost` and 127.0.0.1, a client certificate for mutual TLS, and an
//! unrelated CA with its own client certificate for the negative tests, and three certificate
//! revocation lists from the CA (one revoking nothing, one the client certificate, one the
//! broker's) for clients' `ssl_crlfile`. Keys are EC P-256 in PKCS#8 PEM (`BEGIN PRIVATE KEY`),
//! the only private-key encoding Kafka's PEM keystore reads.

use std::fs;
use std::path::{Path, PathBuf};

use crate::command::{run_checked, OPENSSL};
use crate::env::{CrlFiles, TlsFiles};
use crate::error::{IoContext, Result};

/// Subject of the mutual-TLS client certificate; the SSL listener's principal is `User:<DN>`.
pub const CLIENT_DN: &str = "CN=klamm-client";

/// The generated files: what clients need plus the broker's PEM keystore.
#[derive(Debug, Clone)]
pub(crate) struct Pki {
    pub(crate) files: TlsFiles,
    /// Broker private key followed by its certificate chain.
    pub(crate) broker_keystore: PathBuf,
}

/// Generates all certificates into `dir` (created if missing).
pub(crate) fn generate(dir: &Path) -> Result<Pki> {
    fs::create_dir_all(dir).context(|| format!("creating {}", dir.display()))?;
    let ca = self_signed_ca(dir, "ca", "klamm-test-ca")?;
    let broker = signed_leaf(
        dir,
        "broker",
        "localhost",
        &ca,
        2,
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n",
    )?;
    let client = signed_leaf(
        dir,
        "client",
        "klamm-client",
        &ca,
        3,
        "extendedKeyUsage=clientAuth\n",
    )?;
    let untrusted_ca = self_signed_ca(dir, "untrusted-ca", "klamm-untrusted-ca")?;
    let untrusted_client = signed_leaf(
        dir,
        "untrusted-client",
        "klamm-client",
        &untrusted_ca,
        4,
        "extendedKeyUsage=clientAuth\n",
    )?;

    let crls = CrlFiles {
        empty: revocation_list(dir, "crl-empty", &ca, &[])?,
        client_revoked: revocation_list(dir, "crl-client-revoked", &ca, &[&client.cert])?,
        broker_revoked: revocation_list(dir, "crl-broker-revoked", &ca, &[&broker.cert])?,
    };

    let broker_keystore = dir.join("broker-keystore.pem");
    let mut keystore = read(&broker.key)?;
    keystore.push_str(&read(&broker.cert)?);
    keystore.push_str(&read(&ca.cert)?);
    fs::write(&broker_keystore, keystore)
        .context(|| format!("writing {}", broker_keystore.display()))?;

    Ok(Pki {
        files: TlsFiles {
            ca_file: ca.cert,
            client_cert_file: client.cert,
            client_key_file: client.key,
            client_principal: format!("User:{CLIENT_DN}"),
            untrusted_ca_file: untrusted_ca.cert,
            untrusted_client_cert_file: untrusted_client.cert,
            untrusted_client_key_file: untrusted_client.key,
            crls: Some(crls),
        },
        broker_keystore,
    })
}

struct KeyPair {
    key: PathBuf,
    cert: PathBuf,
}

fn read(path: &Path) -> Result<String> {
    fs::read_to_string(path).context(|| format!("reading {}", path.display()))
}

fn private_key(dir: &Path, name: &str) -> Result<PathBuf> {
    let key = dir.join(format!("{name}.key"));
    run_checked(
        OPENSSL
            .command()?
            .args([
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
            ])
            .arg(&key),
    )?;
    Ok(key)
}

fn self_signed_ca(dir: &Path, name: &str, common_name: &str) -> Result<KeyPair> {
    let key = private_key(dir, name)?;
    let cert = dir.join(format!("{name}.crt"));
    run_checked(
        OPENSSL
            .command()?
            .args(["req", "-x509", "-new", "-days", "365", "-subj"])
            .arg(format!("/CN={common_name}"))
            .args(["-addext", "basicConstraints=critical,CA:TRUE"])
            .args(["-addext", "keyUsage=critical,keyCertSign,cRLSign"])
            .arg("-key")
            .arg(&key)
            .arg("-out")
            .arg(&cert),
    )?;
    Ok(KeyPair { key, cert })
}

fn signed_leaf(
    dir: &Path,
    name: &str,
    common_name: &str,
    issuer: &KeyPair,
    serial: u32,
    extensions: &str,
) -> Result<KeyPair> {
    let key = private_key(dir, name)?;
    let csr = dir.join(format!("{name}.csr"));
    run_checked(
        OPENSSL
            .command()?
            .args(["req", "-new", "-subj"])
            .arg(format!("/CN={common_name}"))
            .arg("-key")
            .arg(&key)
            .arg("-out")
            .arg(&csr),
    )?;
    let ext = dir.join(format!("{name}.ext"));
    let extensions = format!(
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyAgreement\n{extensions}"
    );
    fs::write(&ext, extensions).context(|| format!("writing {}", ext.display()))?;
    let cert = dir.join(format!("{name}.crt"));
    run_checked(
        OPENSSL
            .command()?
            .args(["x509", "-req", "-days", "365", "-set_serial"])
            .arg(serial.to_string())
            .arg("-in")
            .arg(&csr)
            .arg("-CA")
            .arg(&issuer.cert)
            .arg("-CAkey")
            .arg(&issuer.key)
            .arg("-extfile")
            .arg(&ext)
            .arg("-out")
            .arg(&cert),
    )?;
    Ok(KeyPair { key, cert })
}

/// A CRL signed by `issuer` that revokes `revoked` (certificates it issued), written to
/// `<dir>/<name>.crl` (PEM). `openssl ca` keeps its revocation database in `<dir>/<name>/`.
fn revocation_list(dir: &Path, name: &str, issuer: &KeyPair, revoked: &[&Path]) -> Result<PathBuf> {
    let database = dir.join(name);
    fs::create_dir_all(&database).context(|| format!("creating {}", database.display()))?;
    let index = database.join("index.txt");
    fs::write(&index, "").context(|| format!("writing {}", index.display()))?;
    let number = database.join("crlnumber");
    fs::write(&number, "01\n").context(|| format!("writing {}", number.display()))?;
    let config = database.join("ca.cnf");
    let text = format!(
        "[ca]\ndefault_ca = klamm\n[klamm]\ndatabase = {}\ncrlnumber = {}\n\
         default_md = sha256\ndefault_crl_days = 365\n",
        index.display(),
        number.display()
    );
    fs::write(&config, text).context(|| format!("writing {}", config.display()))?;
    let ca = |command: &mut std::process::Command| {
        command
            .arg("-config")
            .arg(&config)
            .arg("-cert")
            .arg(&issuer.cert)
            .arg("-keyfile")
            .arg(&issuer.key);
    };
    for cert in revoked {
        let mut command = OPENSSL.command()?;
        command.arg("ca");
        ca(&mut command);
        run_checked(command.arg("-revoke").arg(cert))?;
    }
    let crl = dir.join(format!("{name}.crl"));
    let mut command = OPENSSL.command()?;
    command.arg("ca");
    ca(&mut command);
    run_checked(command.arg("-gencrl").arg("-out").arg(&crl))?;
    Ok(crl)
}
