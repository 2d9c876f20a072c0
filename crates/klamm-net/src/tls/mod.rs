//! TLS settings (kafka-python's `ssl_*`) and their translation into a rustls `ClientConfig`
//! (ring provider), plus the mapping of rustls failures onto [`TlsFailure`] kinds that say
//! what to fix.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{
    CertificateDer, CertificateRevocationListDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName,
    UnixTime,
};
use rustls::{AlertDescription, CertificateError, DigitallySignedStruct, RootCertStore};

use crate::{NetError, Secret, TlsFailure};

mod stores;

pub use stores::{KeyStore, StoreKind};

/// TLS settings, used with `SSL` and `SASL_SSL`.
#[derive(Clone)]
#[non_exhaustive]
pub struct TlsConfig {
    /// `ssl_cafile`: PEM CA certificates to trust; `None` trusts the system's store.
    pub cafile: Option<PathBuf>,
    /// `ssl_certfile`: PEM client certificate chain for mutual TLS (may also hold the key).
    pub certfile: Option<PathBuf>,
    /// `ssl_keyfile`: PEM private key (PKCS#8, PKCS#1 or SEC1) of the client certificate.
    pub keyfile: Option<PathBuf>,
    /// `ssl_password`: passphrase of an encrypted PKCS#8 key (`ENCRYPTED PRIVATE KEY`, PBES2);
    /// unused when the key is not encrypted.
    pub password: Option<Secret>,
    /// `ssl_crlfile`: PEM CRLs; every certificate of the broker's chain is checked.
    pub crlfile: Option<PathBuf>,
    /// A PKCS#12 trust store (Java's `ssl.truststore.location`), instead of `cafile`.
    pub truststore: Option<KeyStore>,
    /// PEM CA certificates as text (Java's `ssl.truststore.certificates`, Python's `cadata`),
    /// instead of `cafile`.
    pub ca_pem: Option<String>,
    /// A PKCS#12 key store holding the client key and chain (Java's `ssl.keystore.location`),
    /// instead of `certfile`/`keyfile`.
    pub keystore: Option<KeyStore>,
    /// The client certificate chain as PEM text (Java's `ssl.keystore.certificate.chain`),
    /// with `key_pem`.
    pub certificate_chain_pem: Option<String>,
    /// The client private key as PEM text (Java's `ssl.keystore.key`), decrypted with
    /// `password` if encrypted.
    pub key_pem: Option<Secret>,
    /// `ssl_check_hostname` (default `true`). When `false` the chain is still verified.
    pub check_hostname: bool,
    /// Name to verify (and send as SNI) instead of the host connected to.
    pub server_name: Option<String>,
    /// A ready rustls configuration (kafka-python's `ssl_context`); overrides the rest.
    pub client_config: Option<Arc<rustls::ClientConfig>>,
    /// The rustls configuration built from the settings above on the first TLS connection,
    /// shared by every clone of these settings: the files are read once, and TLS sessions
    /// resume across reconnects through its session cache.
    built: Arc<tokio::sync::OnceCell<Arc<rustls::ClientConfig>>>,
}

impl Default for TlsConfig {
    fn default() -> Self {
        TlsConfig {
            cafile: None,
            certfile: None,
            keyfile: None,
            password: None,
            crlfile: None,
            truststore: None,
            ca_pem: None,
            keystore: None,
            certificate_chain_pem: None,
            key_pem: None,
            check_hostname: true,
            server_name: None,
            client_config: None,
            built: Arc::default(),
        }
    }
}

impl TlsConfig {
    /// The rustls configuration of these settings, built on first use off the async threads
    /// (reading the CA, certificate, key and CRL files blocks) and shared afterwards.
    ///
    /// The settings are read when it is first built: change them on a fresh `TlsConfig`, not
    /// on one that connections have used.
    pub(crate) async fn rustls_config(&self) -> Result<Arc<rustls::ClientConfig>, NetError> {
        let built = self
            .built
            .get_or_try_init(|| async {
                if let Some(ready) = &self.client_config {
                    return Ok(ready.clone());
                }
                let settings = self.clone();
                tokio::task::spawn_blocking(move || client_config(&settings))
                    .await
                    .map_err(|error| config_error("building the TLS configuration", error))?
            })
            .await?;
        Ok(built.clone())
    }
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("cafile", &self.cafile)
            .field("certfile", &self.certfile)
            .field("keyfile", &self.keyfile)
            .field("password", &self.password)
            .field("crlfile", &self.crlfile)
            .field("truststore", &self.truststore)
            .field("ca_pem", &self.ca_pem.as_ref().map(|_| ".."))
            .field("keystore", &self.keystore)
            .field(
                "certificate_chain_pem",
                &self.certificate_chain_pem.as_ref().map(|_| ".."),
            )
            .field("key_pem", &self.key_pem)
            .field("check_hostname", &self.check_hostname)
            .field("server_name", &self.server_name)
            .field("client_config", &self.client_config.as_ref().map(|_| ".."))
            .finish()
    }
}

fn config_error(what: impl Into<String>, reason: impl fmt::Display) -> NetError {
    NetError::TlsConfig {
        what: what.into(),
        reason: reason.to_string(),
    }
}

fn read_pem(path: &Path) -> Result<Vec<u8>, NetError> {
    std::fs::read(path).map_err(|error| config_error(path.display().to_string(), error))
}

fn load_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, NetError> {
    let pem = read_pem(path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| config_error(path.display().to_string(), error))?;
    if certs.is_empty() {
        return Err(config_error(
            path.display().to_string(),
            "no PEM certificate found",
        ));
    }
    Ok(certs)
}

fn load_private_key(
    path: &Path,
    password: Option<&Secret>,
) -> Result<PrivateKeyDer<'static>, NetError> {
    let pem = read_pem(path)?;
    parse_private_key(&path.display().to_string(), &pem, password, Some(path))
}

/// The private key in `pem` (`what` names its file or setting in errors; `keyfile` is the file
/// a wrong password is reported against).
fn parse_private_key(
    what: &str,
    pem: &[u8],
    password: Option<&Secret>,
    keyfile: Option<&Path>,
) -> Result<PrivateKeyDer<'static>, NetError> {
    if let Some(block) = encrypted_key_block(pem) {
        let Some(password) = password else {
            return Err(config_error(
                what,
                "the private key is encrypted; set ssl_password",
            ));
        };
        return decrypt_private_key(what, block, password, keyfile);
    }
    // Like Python's `load_cert_chain`, a password for a key that is not encrypted is unused.
    PrivateKeyDer::from_pem_slice(pem).map_err(|error| config_error(what, error))
}

const ENCRYPTED_BEGIN: &str = "-----BEGIN ENCRYPTED PRIVATE KEY-----";
const ENCRYPTED_END: &str = "-----END ENCRYPTED PRIVATE KEY-----";

/// The `ENCRYPTED PRIVATE KEY` PEM block of a file that may hold other blocks too.
fn encrypted_key_block(pem: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(pem).ok()?;
    let start = text.find(ENCRYPTED_BEGIN)?;
    let end = start + text[start..].find(ENCRYPTED_END)? + ENCRYPTED_END.len();
    Some(&text[start..end])
}

/// Decrypts a PKCS#8 `EncryptedPrivateKeyInfo` (PBES2: PBKDF2 or scrypt with AES, what
/// `openssl pkcs8 -topk8 -v2` writes).
fn decrypt_private_key(
    what: &str,
    block: &str,
    password: &Secret,
    keyfile: Option<&Path>,
) -> Result<PrivateKeyDer<'static>, NetError> {
    use pkcs8::der::Document;
    use pkcs8::{pkcs5, EncryptedPrivateKeyInfoRef, PrivateKeyInfoRef};

    let malformed = |error: &dyn std::fmt::Display| {
        config_error(what, format!("malformed encrypted private key: {error}"))
    };
    let wrong_password = || match keyfile {
        Some(path) => NetError::WrongKeyPassword {
            keyfile: path.to_path_buf(),
        },
        None => config_error(
            what,
            "ssl_password does not decrypt this private key (wrong password?)",
        ),
    };
    let (_, document) = Document::from_pem(block).map_err(|error| malformed(&error))?;
    let info =
        EncryptedPrivateKeyInfoRef::try_from(document.as_bytes()).map_err(|e| malformed(&e))?;
    let decrypted = match info.decrypt(password.expose()) {
        Ok(decrypted) => decrypted,
        // A wrong key shows as bad padding, or (rarely) as garbage that is not DER.
        Err(pkcs8::Error::EncryptedPrivateKey(pkcs5::Error::DecryptFailed))
        | Err(pkcs8::Error::Asn1(_)) => return Err(wrong_password()),
        Err(error) => {
            return Err(config_error(
                what,
                format!("cannot decrypt the private key: {error}"),
            ))
        }
    };
    if PrivateKeyInfoRef::try_from(decrypted.as_bytes()).is_err() {
        return Err(wrong_password());
    }
    Ok(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        decrypted.as_bytes().to_vec(),
    )))
}

/// The CAs to trust: exactly one of `ssl_cafile`, inline PEM and a trust store, else the
/// system's; with the name of their source for errors.
pub(crate) fn trusted_certificates(
    config: &TlsConfig,
) -> Result<(String, Vec<CertificateDer<'static>>), NetError> {
    Ok(match (&config.cafile, &config.ca_pem, &config.truststore) {
        (None, None, None) => {
            let native = rustls_native_certs::load_native_certs();
            if native.certs.is_empty() {
                return Err(config_error(
                    "system trust store",
                    "no CA certificates found; set ssl_cafile",
                ));
            }
            ("system trust store".to_owned(), native.certs)
        }
        (Some(path), None, None) => (path.display().to_string(), load_certificates(path)?),
        (None, Some(pem), None) => (
            "ssl.truststore.certificates".to_owned(),
            stores::pem_certificates("ssl.truststore.certificates", pem)?,
        ),
        (None, None, Some(store)) => (
            store.path.display().to_string(),
            stores::trusted_certificates(store)?,
        ),
        _ => {
            return Err(config_error(
                "trusted CAs",
                "set only one of ssl_cafile, inline PEM certificates and a trust store",
            ))
        }
    })
}

fn load_root_store(config: &TlsConfig) -> Result<RootCertStore, NetError> {
    let (what, certs) = trusted_certificates(config)?;
    let mut roots = RootCertStore::empty();
    if config.cafile.is_none() && config.ca_pem.is_none() && config.truststore.is_none() {
        // The system's store may hold certificates rustls cannot parse; skip those.
        roots.add_parsable_certificates(certs);
        return Ok(roots);
    }
    for cert in certs {
        roots
            .add(cert)
            .map_err(|error| config_error(&what, error))?;
    }
    Ok(roots)
}

/// The client certificate and key, for mutual TLS: from PEM files, inline PEM or a key store.
fn load_identity(config: &TlsConfig) -> Result<Option<stores::Identity>, NetError> {
    let files = config.certfile.is_some() || config.keyfile.is_some();
    let inline = config.certificate_chain_pem.is_some() || config.key_pem.is_some();
    let store = config.keystore.is_some();
    if [files, inline, store].iter().filter(|set| **set).count() > 1 {
        return Err(config_error(
            "client certificate",
            "set only one of ssl_certfile/ssl_keyfile, inline PEM and a key store",
        ));
    }
    if let Some(store) = &config.keystore {
        return stores::identity(store).map(Some);
    }
    match (&config.certificate_chain_pem, &config.key_pem) {
        (Some(chain), Some(key)) => {
            return stores::pem_identity(chain, key, config.password.as_ref()).map(Some)
        }
        (None, None) => {}
        _ => {
            return Err(config_error(
                "ssl.keystore.certificate.chain",
                "an inline PEM client certificate chain and key go together",
            ))
        }
    }
    match (&config.certfile, &config.keyfile) {
        (None, None) => Ok(None),
        (Some(certfile), keyfile) => {
            let certs = load_certificates(certfile)?;
            let key = load_private_key(
                keyfile.as_deref().unwrap_or(certfile),
                config.password.as_ref(),
            )?;
            Ok(Some((certs, key)))
        }
        (None, Some(_)) => Err(config_error(
            "ssl_keyfile",
            "a client key needs ssl_certfile too",
        )),
    }
}

/// Builds the rustls configuration `config` describes (or returns the caller's own).
pub fn client_config(config: &TlsConfig) -> Result<Arc<rustls::ClientConfig>, NetError> {
    if let Some(ready) = &config.client_config {
        return Ok(ready.clone());
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = Arc::new(load_root_store(config)?);
    let mut verifier = WebPkiServerVerifier::builder_with_provider(roots, provider.clone());
    if let Some(path) = &config.crlfile {
        let pem = read_pem(path)?;
        let crls = CertificateRevocationListDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| config_error(path.display().to_string(), error))?;
        verifier = verifier.with_crls(crls);
    }
    let verifier = verifier
        .build()
        .map_err(|error| config_error("certificate verifier", error))?;
    let verifier: Arc<dyn ServerCertVerifier> = if config.check_hostname {
        verifier
    } else {
        Arc::new(ChainOnlyVerifier { inner: verifier })
    };
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| config_error("protocol versions", error))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let tls = match load_identity(config)? {
        None => builder.with_no_client_auth(),
        Some((certs, key)) => builder
            .with_client_auth_cert(certs, key)
            .map_err(|error| config_error("client certificate", error))?,
    };
    Ok(Arc::new(tls))
}

/// The name the broker's certificate is verified against.
pub fn server_name(config: &TlsConfig, host: &str) -> Result<ServerName<'static>, NetError> {
    let name = config.server_name.as_deref().unwrap_or(host);
    ServerName::try_from(name.to_owned())
        .map_err(|error| config_error(format!("server name `{name}`"), error))
}

/// Verifies the chain (and CRLs) like the default verifier, but accepts a certificate issued
/// for another name: `ssl_check_hostname = false`.
#[derive(Debug)]
struct ChainOnlyVerifier {
    inner: Arc<WebPkiServerVerifier>,
}

impl ServerCertVerifier for ChainOnlyVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // The webpki verifier checks the chain first and the name last, so a name error means
        // the chain was good.
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// What kind of failure a rustls error is.
pub fn classify(error: &rustls::Error) -> TlsFailure {
    use rustls::Error;
    match error {
        Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => TlsFailure::HostnameMismatch,
        Error::InvalidCertificate(CertificateError::Revoked) => TlsFailure::CertificateRevoked,
        Error::InvalidCertificate(CertificateError::UnknownRevocationStatus) => {
            TlsFailure::RevocationStatusUnknown
        }
        Error::InvalidCertificate(_) | Error::InvalidCertRevocationList(_) => {
            TlsFailure::UntrustedCertificate
        }
        Error::AlertReceived(
            AlertDescription::CertificateRequired
            | AlertDescription::BadCertificate
            | AlertDescription::UnknownCA
            | AlertDescription::CertificateUnknown
            | AlertDescription::UnsupportedCertificate
            | AlertDescription::CertificateRevoked
            | AlertDescription::CertificateExpired
            | AlertDescription::AccessDenied,
        ) => TlsFailure::ClientCertificateRejected,
        _ => TlsFailure::Other,
    }
}

/// The rustls error inside an I/O error from tokio-rustls, if there is one.
pub fn rustls_error(error: &io::Error) -> Option<&rustls::Error> {
    error.get_ref()?.downcast_ref::<rustls::Error>()
}

/// Turns an I/O error on a (possibly TLS) stream into [`NetError::Tls`] when rustls caused it,
/// [`NetError::Io`] otherwise.
pub fn map_io_error(addr: &str, error: io::Error) -> NetError {
    match rustls_error(&error) {
        Some(tls) => NetError::Tls {
            addr: addr.to_owned(),
            kind: classify(tls),
            cause: tls.clone(),
        },
        None => NetError::Io {
            addr: addr.to_owned(),
            cause: Arc::new(error),
        },
    }
}

#[cfg(test)]
mod tests;
