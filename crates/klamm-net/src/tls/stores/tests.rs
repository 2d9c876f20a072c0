//! Stores made by `openssl` and `keytool` (each test is skipped, saying so, without them).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::*;

fn run(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|out| out.status.success())
}

/// A fresh directory with a self-signed EC certificate and its key (`cert.pem`, `key.pem`).
fn material(name: &str) -> Option<PathBuf> {
    let dir = std::env::temp_dir().join(format!("klamm-net-stores-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let key = dir.join("key.pem");
    let cert = dir.join("cert.pem");
    let made = run(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-subj",
            "/CN=klamm-store-test",
            "-days",
            "1",
            "-keyout",
            key.to_str()?,
            "-out",
            cert.to_str()?,
        ],
    );
    made.then_some(dir)
}

fn path(dir: &Path, name: &str) -> String {
    dir.join(name).display().to_string()
}

fn store(dir: &Path, name: &str, kind: StoreKind, password: &str) -> KeyStore {
    KeyStore::new(dir.join(name), kind, Some(Secret::new(password)))
}

#[test]
fn pkcs12_key_store_from_openssl_yields_the_key_and_chain() {
    let Some(dir) = material("openssl") else {
        eprintln!("openssl not available; skipped");
        return;
    };
    let exported = run(
        "openssl",
        &[
            "pkcs12",
            "-export",
            "-in",
            &path(&dir, "cert.pem"),
            "-inkey",
            &path(&dir, "key.pem"),
            "-out",
            &path(&dir, "client.p12"),
            "-passout",
            "pass:s3cret",
        ],
    );
    assert!(exported, "openssl pkcs12 -export failed");
    let (certs, key) = identity(&store(&dir, "client.p12", StoreKind::Pkcs12, "s3cret")).unwrap();
    assert_eq!(certs.len(), 1);
    let pem_cert = std::fs::read_to_string(dir.join("cert.pem")).unwrap();
    assert_eq!(certs, pem_certificates("cert.pem", &pem_cert).unwrap());
    let pem_key = std::fs::read(dir.join("key.pem")).unwrap();
    let expected = PrivateKeyDer::from_pem_slice(&pem_key).unwrap();
    assert_eq!(key.secret_der(), expected.secret_der());

    let error = identity(&store(&dir, "client.p12", StoreKind::Pkcs12, "wrong")).unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("password") && text.contains("client.p12"),
        "{text}"
    );
    assert!(!text.contains("wrong"), "{text}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn keytool_trust_stores_read_as_pkcs12_and_real_jks_names_the_conversion() {
    let Some(dir) = material("keytool") else {
        eprintln!("openssl not available; skipped");
        return;
    };
    let import = |file: &str, kind: &str| {
        run(
            "keytool",
            &[
                "-importcert",
                "-noprompt",
                "-alias",
                "ca",
                "-file",
                &path(&dir, "cert.pem"),
                "-keystore",
                &path(&dir, file),
                "-storetype",
                kind,
                "-storepass",
                "changeit",
            ],
        )
    };
    if !import("trust.p12", "PKCS12") {
        eprintln!("keytool not available; skipped");
        return;
    }
    let pem_cert = std::fs::read_to_string(dir.join("cert.pem")).unwrap();
    let expected = pem_certificates("cert.pem", &pem_cert).unwrap();
    let certs = trusted_certificates(&store(&dir, "trust.p12", StoreKind::Pkcs12, "changeit"));
    assert_eq!(certs.unwrap(), expected);
    // Labelled JKS (Kafka's default type) but PKCS#12 inside: read as Java reads it.
    let certs = trusted_certificates(&store(&dir, "trust.p12", StoreKind::Jks, "changeit"));
    assert_eq!(certs.unwrap(), expected);

    assert!(import("trust.jks", "JKS"), "keytool -storetype JKS failed");
    let error = trusted_certificates(&store(&dir, "trust.jks", StoreKind::Jks, "changeit"))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("keytool -importkeystore") && error.contains("trust.jks"),
        "{error}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn inline_pem_needs_a_certificate_and_decrypts_an_encrypted_key() {
    assert!(pem_certificates("ssl.truststore.certificates", "no pem here").is_err());
    let Some(dir) = material("inline") else {
        eprintln!("openssl not available; skipped");
        return;
    };
    let encrypted = run(
        "openssl",
        &[
            "pkcs8",
            "-topk8",
            "-v2",
            "aes-256-cbc",
            "-in",
            &path(&dir, "key.pem"),
            "-out",
            &path(&dir, "enc.pem"),
            "-passout",
            "pass:pw",
        ],
    );
    assert!(encrypted, "openssl pkcs8 failed");
    let chain = std::fs::read_to_string(dir.join("cert.pem")).unwrap();
    let key = Secret::new(std::fs::read_to_string(dir.join("enc.pem")).unwrap());
    let (certs, _) = pem_identity(&chain, &key, Some(&Secret::new("pw"))).unwrap();
    assert_eq!(certs.len(), 1);
    let error = pem_identity(&chain, &key, Some(&Secret::new("nope"))).unwrap_err();
    assert!(error.to_string().contains("ssl.keystore.key"), "{error}");
    let error = pem_identity(&chain, &key, None).unwrap_err();
    assert!(error.to_string().contains("set ssl_password"), "{error}");
    std::fs::remove_dir_all(&dir).ok();
}
