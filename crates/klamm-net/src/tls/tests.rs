//! Unit tests of the TLS settings: failure mapping, key loading, names.
use super::*;

#[test]
fn rustls_errors_map_to_what_to_fix() {
    use rustls::Error;
    let cases = [
        (
            Error::InvalidCertificate(CertificateError::UnknownIssuer),
            TlsFailure::UntrustedCertificate,
        ),
        (
            Error::InvalidCertificate(CertificateError::Expired),
            TlsFailure::UntrustedCertificate,
        ),
        (
            Error::InvalidCertificate(CertificateError::NotValidForName),
            TlsFailure::HostnameMismatch,
        ),
        (
            Error::InvalidCertificate(CertificateError::Revoked),
            TlsFailure::CertificateRevoked,
        ),
        (
            Error::InvalidCertificate(CertificateError::UnknownRevocationStatus),
            TlsFailure::RevocationStatusUnknown,
        ),
        (
            Error::AlertReceived(AlertDescription::CertificateRequired),
            TlsFailure::ClientCertificateRejected,
        ),
        (
            Error::AlertReceived(AlertDescription::BadCertificate),
            TlsFailure::ClientCertificateRejected,
        ),
        (
            Error::AlertReceived(AlertDescription::HandshakeFailure),
            TlsFailure::Other,
        ),
    ];
    for (error, kind) in cases {
        assert_eq!(classify(&error), kind, "{error}");
    }
}

#[test]
fn rustls_error_is_found_inside_io_error() {
    let io = io::Error::new(
        io::ErrorKind::InvalidData,
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
    );
    let mapped = map_io_error("b:9093", io);
    assert!(matches!(
        mapped,
        NetError::Tls {
            kind: TlsFailure::UntrustedCertificate,
            ..
        }
    ));
}

#[test]
fn missing_cafile_is_a_config_error_naming_the_file() {
    let config = TlsConfig {
        cafile: Some("/nonexistent/ca.pem".into()),
        ..Default::default()
    };
    let error = client_config(&config).unwrap_err();
    assert!(
        matches!(&error, NetError::TlsConfig { what, .. } if what.contains("/nonexistent/ca.pem")),
        "{error}"
    );
}

/// An encrypted copy of a fresh key, made by `openssl`; `None` (test skipped) without it.
fn encrypted_key(dir: &Path) -> Option<(std::path::PathBuf, std::path::PathBuf)> {
    let plain = dir.join("plain.key");
    let encrypted = dir.join("enc.key");
    let ok = |args: &[&str]| {
        std::process::Command::new("openssl")
            .args(args)
            .output()
            .is_ok_and(|out| out.status.success())
    };
    let made = ok(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        plain.to_str()?,
    ]) && ok(&[
        "pkcs8",
        "-topk8",
        "-v2",
        "aes-256-cbc",
        "-in",
        plain.to_str()?,
        "-out",
        encrypted.to_str()?,
        "-passout",
        "pass:secret",
    ]);
    made.then_some((plain, encrypted))
}

#[test]
fn encrypted_key_decrypts_with_its_password_and_names_the_file_when_wrong() {
    let dir = std::env::temp_dir().join(format!("klamm-net-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let Some((plain, encrypted)) = encrypted_key(&dir) else {
        eprintln!("openssl not available; skipped");
        return;
    };
    let expected = load_private_key(&plain, None).unwrap();
    let decrypted = load_private_key(&encrypted, Some(&Secret::new("secret"))).unwrap();
    assert_eq!(decrypted.secret_der(), expected.secret_der());

    let error = load_private_key(&encrypted, Some(&Secret::new("wrong-pw"))).unwrap_err();
    assert!(
        matches!(&error, NetError::WrongKeyPassword { keyfile } if *keyfile == encrypted),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(text.contains(&encrypted.display().to_string()), "{text}");
    assert!(!text.contains("wrong-pw") && !format!("{error:?}").contains("wrong-pw"));

    let error = load_private_key(&encrypted, None).unwrap_err();
    assert!(error.to_string().contains("set ssl_password"), "{error}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn server_name_override_wins_over_host() {
    let config = TlsConfig {
        server_name: Some("kafka.internal".into()),
        ..Default::default()
    };
    assert_eq!(
        server_name(&config, "127.0.0.1").unwrap(),
        ServerName::try_from("kafka.internal").unwrap()
    );
    assert!(matches!(
        server_name(&TlsConfig::default(), "127.0.0.1").unwrap(),
        ServerName::IpAddress(_)
    ));
}
