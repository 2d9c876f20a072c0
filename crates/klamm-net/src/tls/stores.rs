//! Trust and key material beyond PEM files, as Java clients have it: PKCS#12 stores
//! (`ssl.truststore.location` / `ssl.keystore.location` with type `PKCS12`) through the
//! `p12-keystore` crate, and inline PEM (`ssl.truststore.certificates`,
//! `ssl.keystore.certificate.chain`, `ssl.keystore.key`). JKS stores are refused with the
//! `keytool` command that converts them, unless the file is PKCS#12 after all (keytool's default
//! since Java 9; Java reads it whatever the configured type says, and so do we).

use std::fmt;
use std::path::{Path, PathBuf};

use p12_keystore::{KeyStoreEntry, Pkcs12ImportPolicy};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use super::{config_error, parse_private_key};
use crate::{NetError, Secret};

/// The format of a trust or key store (Java's `ssl.truststore.type` / `ssl.keystore.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreKind {
    /// PKCS#12 (`.p12`, `.pfx`), keytool's default since Java 9.
    Pkcs12,
    /// Java's legacy JKS: refused with the keytool conversion, unless the file is PKCS#12.
    Jks,
}

impl fmt::Display for StoreKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StoreKind::Pkcs12 => "PKCS12",
            StoreKind::Jks => "JKS",
        })
    }
}

/// A trust or key store file and its password.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyStore {
    /// The file.
    pub path: PathBuf,
    /// Its format.
    pub kind: StoreKind,
    /// `ssl.truststore.password` / `ssl.keystore.password` (PKCS#12 uses one password for the
    /// store and the keys in it).
    pub password: Option<Secret>,
}

impl KeyStore {
    /// The store at `path` of `kind`, opened with `password`.
    pub fn new(path: impl Into<PathBuf>, kind: StoreKind, password: Option<Secret>) -> Self {
        KeyStore {
            path: path.into(),
            kind,
            password,
        }
    }
}

impl fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyStore")
            .field("path", &self.path)
            .field("kind", &self.kind)
            .field("password", &self.password)
            .finish()
    }
}

const JKS_MAGIC: [u8; 4] = [0xfe, 0xed, 0xfe, 0xed];
const JCEKS_MAGIC: [u8; 4] = [0xce, 0xce, 0xce, 0xce];

fn open(store: &KeyStore) -> Result<p12_keystore::KeyStore, NetError> {
    let what = store.path.display().to_string();
    let data = std::fs::read(&store.path).map_err(|error| config_error(&what, error))?;
    if data.starts_with(&JKS_MAGIC) || data.starts_with(&JCEKS_MAGIC) {
        return Err(config_error(&what, jks_refusal(&store.path)));
    }
    // A PKCS#12 file is a DER SEQUENCE; a store labelled JKS may be one (keytool's default).
    if data.first() != Some(&0x30) {
        return Err(config_error(
            &what,
            format!("not a {} store (nor PKCS#12)", store.kind),
        ));
    }
    let password = store.password.as_ref().map_or("", Secret::expose);
    p12_keystore::KeyStore::from_pkcs12(&data, password, Pkcs12ImportPolicy::Relaxed).map_err(
        |error| match error {
            p12_keystore::error::Error::MacError(_) => {
                config_error(&what, "the store password does not open this PKCS#12 store")
            }
            other => config_error(&what, format!("cannot read the PKCS#12 store: {other}")),
        },
    )
}

fn jks_refusal(path: &Path) -> String {
    let path = path.display();
    format!(
        "JKS stores are not supported; convert it to PKCS#12 with `keytool -importkeystore \
         -srckeystore {path} -srcstoretype JKS -destkeystore {path}.p12 -deststoretype PKCS12` \
         and set the store type to PKCS12 (or export PEM)"
    )
}

/// The trusted certificates of a trust store.
pub(super) fn trusted_certificates(
    store: &KeyStore,
) -> Result<Vec<CertificateDer<'static>>, NetError> {
    let opened = open(store)?;
    let mut certs = Vec::new();
    for (_, entry) in opened.entries() {
        match entry {
            KeyStoreEntry::Certificate(cert) => certs.push(cert.as_der().to_vec().into()),
            KeyStoreEntry::PrivateKeyChain(chain) => {
                certs.extend(chain.certs().iter().map(|c| c.as_der().to_vec().into()));
            }
            KeyStoreEntry::Secret(_) => {}
        }
    }
    if certs.is_empty() {
        return Err(config_error(
            store.path.display().to_string(),
            "the trust store holds no certificate",
        ));
    }
    Ok(certs)
}

/// A client identity: certificate chain (leaf first) and its private key.
pub(super) type Identity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

/// The private key and certificate chain of a key store (its first key entry).
pub(super) fn identity(store: &KeyStore) -> Result<Identity, NetError> {
    let opened = open(store)?;
    let what = store.path.display().to_string();
    let (_, chain) = opened
        .private_key_chain()
        .ok_or_else(|| config_error(&what, "the key store holds no private key entry"))?;
    if chain.certs().is_empty() {
        return Err(config_error(&what, "the private key has no certificate"));
    }
    let certs = chain
        .certs()
        .iter()
        .map(|c| c.as_der().to_vec().into())
        .collect();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(chain.key().as_der().to_vec()));
    Ok((certs, key))
}

/// Certificates in inline PEM (`what` names the setting in errors).
pub(super) fn pem_certificates(
    what: &str,
    pem: &str,
) -> Result<Vec<CertificateDer<'static>>, NetError> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| config_error(what, error))?;
    if certs.is_empty() {
        return Err(config_error(what, "no PEM certificate found"));
    }
    Ok(certs)
}

/// An inline PEM chain and key (`ssl.keystore.certificate.chain`, `ssl.keystore.key`), the key
/// decrypted with `password` if it is encrypted.
pub(super) fn pem_identity(
    chain: &str,
    key: &Secret,
    password: Option<&Secret>,
) -> Result<Identity, NetError> {
    let certs = pem_certificates("ssl.keystore.certificate.chain", chain)?;
    let key = parse_private_key("ssl.keystore.key", key.expose().as_bytes(), password, None)?;
    Ok((certs, key))
}

#[cfg(test)]
mod tests;
