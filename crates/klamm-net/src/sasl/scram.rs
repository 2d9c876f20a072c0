//! SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677) as Kafka uses them: no channel
//! binding, no SASLprep (Kafka's server does none either), usernames escaped per RFC 5802.
//!
//! The exchange is the `sasl` crate's `Scram<S: ScramProvider>` client. The hash functions are
//! ours, on `ring` (already linked for TLS): [`RingSha256`] and [`RingSha512`] (the `sasl`
//! crate has no SHA-512). [`ScramClient`] is a guard around the exchange for what the crate
//! does not check: the server nonce must extend ours (RFC 5802 §5.1, or a replayed server-first
//! message would be accepted), a server `e=` error is reported as the server's words, an
//! unknown mandatory extension (`m=`) or a zero iteration count is refused, and the username's
//! `,` and `=` are escaped before the crate writes it.

use std::num::NonZeroU32;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use ring::{digest, hmac, pbkdf2};
use sasl::client::mechanisms::Scram;
use sasl::client::Mechanism;
use sasl::common::scram::{DeriveError, ScramProvider};
use sasl::common::{ChannelBinding, Password};

use super::SaslError;

/// The hash a SCRAM mechanism is built on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScramHash {
    /// SCRAM-SHA-256.
    Sha256,
    /// SCRAM-SHA-512.
    Sha512,
}

/// A salted SCRAM secret (what a server stores), for `sasl`'s provider trait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaltedSecret {
    /// The salt.
    pub salt: Vec<u8>,
    /// PBKDF2 iterations.
    pub iterations: u32,
    /// The salted password.
    pub digest: Vec<u8>,
}

impl sasl::secret::Secret for SaltedSecret {}

impl sasl::secret::Pbkdf2Secret for SaltedSecret {
    fn salt(&self) -> &[u8] {
        &self.salt
    }
    fn iterations(&self) -> u32 {
        self.iterations
    }
    fn digest(&self) -> &[u8] {
        &self.digest
    }
}

/// The hash functions of one SCRAM variant, on `ring`.
trait RingHash {
    const NAME: &'static str;
    fn digest() -> &'static digest::Algorithm;
    fn hmac() -> hmac::Algorithm;
    fn pbkdf2() -> pbkdf2::Algorithm;
}

fn ring_hash<H: RingHash>(data: &[u8]) -> Vec<u8> {
    digest::digest(H::digest(), data).as_ref().to_vec()
}

fn ring_hmac<H: RingHash>(data: &[u8], key: &[u8]) -> Vec<u8> {
    let key = hmac::Key::new(H::hmac(), key);
    hmac::sign(&key, data).as_ref().to_vec()
}

fn ring_derive<H: RingHash>(
    password: &Password,
    salt: &[u8],
    iterations: u32,
) -> Result<Vec<u8>, DeriveError> {
    match password {
        Password::Plain(plain) => {
            let iterations = NonZeroU32::new(iterations)
                .ok_or(DeriveError::IncompatibleIterationCount(iterations, 1))?;
            let mut salted = vec![0u8; H::digest().output_len()];
            pbkdf2::derive(H::pbkdf2(), iterations, salt, plain.as_bytes(), &mut salted);
            Ok(salted)
        }
        Password::Pbkdf2 { method, data, .. } if method == H::NAME => Ok(data.clone()),
        Password::Pbkdf2 { method, .. } => Err(DeriveError::IncompatibleHashingMethod(
            method.clone(),
            H::NAME.to_owned(),
        )),
    }
}

/// SHA-256 for SCRAM-SHA-256, on `ring`.
#[derive(Debug)]
pub struct RingSha256;

/// SHA-512 for SCRAM-SHA-512, on `ring`.
#[derive(Debug)]
pub struct RingSha512;

impl RingHash for RingSha256 {
    const NAME: &'static str = "SHA-256";
    fn digest() -> &'static digest::Algorithm {
        &digest::SHA256
    }
    fn hmac() -> hmac::Algorithm {
        hmac::HMAC_SHA256
    }
    fn pbkdf2() -> pbkdf2::Algorithm {
        pbkdf2::PBKDF2_HMAC_SHA256
    }
}

impl RingHash for RingSha512 {
    const NAME: &'static str = "SHA-512";
    fn digest() -> &'static digest::Algorithm {
        &digest::SHA512
    }
    fn hmac() -> hmac::Algorithm {
        hmac::HMAC_SHA512
    }
    fn pbkdf2() -> pbkdf2::Algorithm {
        pbkdf2::PBKDF2_HMAC_SHA512
    }
}

macro_rules! scram_provider {
    ($provider:ty) => {
        impl ScramProvider for $provider {
            type Secret = SaltedSecret;

            fn name() -> &'static str {
                <$provider as RingHash>::NAME
            }

            fn hash(data: &[u8]) -> Vec<u8> {
                ring_hash::<$provider>(data)
            }

            fn hmac(data: &[u8], key: &[u8]) -> Result<Vec<u8>, digest_error::InvalidLength> {
                // ring's HMAC takes keys of any length.
                Ok(ring_hmac::<$provider>(data, key))
            }

            fn derive(
                password: &Password,
                salt: &[u8],
                iterations: u32,
            ) -> Result<Vec<u8>, DeriveError> {
                ring_derive::<$provider>(password, salt, iterations)
            }
        }
    };
}

/// The error type `sasl`'s provider trait names (from the RustCrypto `digest` crate).
mod digest_error {
    pub use digest::InvalidLength;
}

scram_provider!(RingSha256);
scram_provider!(RingSha512);

/// The `sasl` crate's exchange for one of the two hashes.
enum Exchange {
    Sha256(Scram<RingSha256>),
    Sha512(Scram<RingSha512>),
}

impl Exchange {
    fn mechanism(&mut self) -> &mut dyn Mechanism {
        match self {
            Exchange::Sha256(scram) => scram,
            Exchange::Sha512(scram) => scram,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Initial,
    SentClientFirst,
    SentClientFinal,
    Done,
}

/// The client side of one SCRAM exchange.
pub struct ScramClient {
    hash: ScramHash,
    username: String,
    exchange: Exchange,
    /// Our nonce, as the client-first message carries it.
    nonce: String,
    state: State,
}

impl std::fmt::Debug for ScramClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScramClient")
            .field("hash", &self.hash)
            .field("username", &self.username)
            .field("password", &"***")
            .finish_non_exhaustive()
    }
}

impl ScramClient {
    /// An exchange for `username` and `password` (with a random nonce).
    pub fn new(hash: ScramHash, username: &str, password: &str) -> Result<Self, SaslError> {
        let escaped = escape_username(username);
        let password = Password::Plain(password.to_owned());
        let nonce_failed = |_| SaslError::new("the system random generator failed");
        let exchange = match hash {
            ScramHash::Sha256 => Exchange::Sha256(
                Scram::new(escaped, password, ChannelBinding::None).map_err(nonce_failed)?,
            ),
            ScramHash::Sha512 => Exchange::Sha512(
                Scram::new(escaped, password, ChannelBinding::None).map_err(nonce_failed)?,
            ),
        };
        Ok(ScramClient {
            hash,
            username: username.to_owned(),
            exchange,
            nonce: String::new(),
            state: State::Initial,
        })
    }

    /// The client-first message.
    pub fn client_first(&mut self) -> Vec<u8> {
        let message = self.exchange.mechanism().initial();
        self.nonce = String::from_utf8_lossy(&message)
            .rsplit_once(",r=")
            .map(|(_, nonce)| nonce.to_owned())
            .unwrap_or_default();
        self.state = State::SentClientFirst;
        message
    }

    /// Handles a server message: the client-final message after the server-first one, `None`
    /// after a verified server-final one.
    pub fn receive(&mut self, server_message: &[u8]) -> Result<Option<Vec<u8>>, SaslError> {
        let message = std::str::from_utf8(server_message)
            .map_err(|_| SaslError::new("server message is not UTF-8"))?;
        if let Some(error) = attribute(message, 'e') {
            self.state = State::Done;
            return Err(SaslError::new(format!("server error: {error}")));
        }
        match std::mem::replace(&mut self.state, State::Done) {
            State::SentClientFirst => {
                self.check_server_first(message)?;
                let client_final = self
                    .exchange
                    .mechanism()
                    .response(server_message)
                    .map_err(|error| SaslError::new(format!("server-first message: {error}")))?;
                self.state = State::SentClientFinal;
                Ok(Some(client_final))
            }
            State::SentClientFinal => {
                self.exchange
                    .mechanism()
                    .success(server_message)
                    .map_err(|_| {
                        SaslError::new("server signature is wrong: the broker may be an impostor")
                    })?;
                Ok(None)
            }
            State::Initial | State::Done => Err(SaslError::new("unexpected server message")),
        }
    }

    /// What the `sasl` crate does not check in a server-first message.
    fn check_server_first(&self, server_first: &str) -> Result<(), SaslError> {
        if server_first.starts_with("m=") {
            return Err(SaslError::new(
                "server requires an unsupported SCRAM extension",
            ));
        }
        let nonce = attribute(server_first, 'r')
            .ok_or_else(|| SaslError::new("server-first message has no nonce"))?;
        if self.nonce.is_empty()
            || !nonce.starts_with(&self.nonce)
            || nonce.len() <= self.nonce.len()
        {
            return Err(SaslError::new(
                "server nonce does not extend the client nonce",
            ));
        }
        attribute(server_first, 's')
            .and_then(|salt| BASE64.decode(salt).ok())
            .ok_or_else(|| SaslError::new("server-first message has no valid salt"))?;
        attribute(server_first, 'i')
            .and_then(|i| i.parse::<u32>().ok())
            .and_then(NonZeroU32::new)
            .ok_or_else(|| SaslError::new("server-first message has no valid iteration count"))?;
        Ok(())
    }
}

/// The value of attribute `name` (`name=value`) in a comma-separated SCRAM message.
fn attribute(message: &str, name: char) -> Option<&str> {
    message.split(',').find_map(|part| {
        let mut chars = part.chars();
        (chars.next() == Some(name) && chars.next() == Some('=')).then(|| &part[2..])
    })
}

/// RFC 5802 `saslname`: `=` and `,` are escaped as `=3D` and `=2C`.
fn escape_username(username: &str) -> String {
    username.replace('=', "=3D").replace(',', "=2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The client proof and server signature of a SCRAM exchange, from its messages, with
    /// provider `P`'s functions (RFC 5802 §3).
    fn proof_and_signature<P: ScramProvider>(
        password: &str,
        salt_b64: &str,
        iterations: u32,
        auth_message: &str,
    ) -> (String, String) {
        let salt = BASE64.decode(salt_b64).unwrap();
        let salted = P::derive(&Password::Plain(password.into()), &salt, iterations).unwrap();
        let client_key = P::hmac(b"Client Key", &salted).unwrap();
        let server_key = P::hmac(b"Server Key", &salted).unwrap();
        let stored_key = P::hash(&client_key);
        let signature = P::hmac(auth_message.as_bytes(), &stored_key).unwrap();
        let proof: Vec<u8> = client_key
            .iter()
            .zip(&signature)
            .map(|(a, b)| a ^ b)
            .collect();
        let server_signature = P::hmac(auth_message.as_bytes(), &server_key).unwrap();
        (BASE64.encode(proof), BASE64.encode(server_signature))
    }

    const CLIENT_FIRST_BARE: &str = "n=user,r=rOprNGfwEbeRWgbNEkqO";
    const SERVER_FIRST: &str =
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    const CLIENT_FINAL_WITHOUT_PROOF: &str =
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";

    fn vector_auth_message() -> String {
        format!("{CLIENT_FIRST_BARE},{SERVER_FIRST},{CLIENT_FINAL_WITHOUT_PROOF}")
    }

    /// RFC 7677, section 3.
    #[test]
    fn scram_sha_256_matches_rfc_7677_vector() {
        let (proof, signature) = proof_and_signature::<RingSha256>(
            "pencil",
            "W22ZaJ0SNY7soEsUEjb6gQ==",
            4096,
            &vector_auth_message(),
        );
        assert_eq!(proof, "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
        assert_eq!(signature, "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
    }

    /// The RFC 7677 inputs with SHA-512; the expected messages were computed independently with
    /// Python's `hashlib.pbkdf2_hmac` and `hmac` (which reproduce the SHA-256 vector above).
    #[test]
    fn scram_sha_512_matches_independent_vector() {
        let (proof, signature) = proof_and_signature::<RingSha512>(
            "pencil",
            "W22ZaJ0SNY7soEsUEjb6gQ==",
            4096,
            &vector_auth_message(),
        );
        assert_eq!(proof, "gMGXRcevScNtxZ6/8lQYpGtnsNAc3mGcmNomv+xnoOMw+3R2xNJdMNnzMlTN8PPC6wdp6dybEmDYXYTxwnYPJQ==");
        assert_eq!(signature, "ZQnYEgWQMFmmsM8aQMF0nDDCy/AgCzkwk8CmMZYcMg0vSVlKDanekLtifDSeVGT4+5ZxXnJq199RVG2rR7N7Zw==");
    }

    /// Plays the server with the vector's salt and iterations and this exchange's nonce.
    fn exchange(hash: ScramHash) -> (ScramClient, String, String) {
        let mut client = ScramClient::new(hash, "user", "pencil").unwrap();
        let first = String::from_utf8(client.client_first()).unwrap();
        let bare = first.strip_prefix("n,,").unwrap().to_owned();
        let server_first = format!("r={}SERVER,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", client.nonce);
        (client, bare, server_first)
    }

    #[test]
    fn a_whole_exchange_proves_the_password_and_checks_the_server() {
        for hash in [ScramHash::Sha256, ScramHash::Sha512] {
            let (mut client, bare, server_first) = exchange(hash);
            let client_final =
                String::from_utf8(client.receive(server_first.as_bytes()).unwrap().unwrap())
                    .unwrap();
            let (without_proof, proof) = client_final.rsplit_once(",p=").unwrap();
            let auth_message = format!("{bare},{server_first},{without_proof}");
            let (expected_proof, signature) = match hash {
                ScramHash::Sha256 => proof_and_signature::<RingSha256>(
                    "pencil",
                    "W22ZaJ0SNY7soEsUEjb6gQ==",
                    4096,
                    &auth_message,
                ),
                ScramHash::Sha512 => proof_and_signature::<RingSha512>(
                    "pencil",
                    "W22ZaJ0SNY7soEsUEjb6gQ==",
                    4096,
                    &auth_message,
                ),
            };
            assert_eq!(proof, expected_proof, "{hash:?}");
            let server_final = format!("v={signature}");
            assert_eq!(client.receive(server_final.as_bytes()).unwrap(), None);
        }
    }

    #[test]
    fn wrong_server_signature_is_rejected() {
        let (mut client, _, server_first) = exchange(ScramHash::Sha256);
        client.receive(server_first.as_bytes()).unwrap();
        let error = client
            .receive(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
            .unwrap_err();
        assert!(error.to_string().contains("impostor"), "{error}");
    }

    #[test]
    fn server_nonce_must_extend_the_client_nonce() {
        for server_first in [
            "r=xyz123,s=AAAA,i=4096".to_owned(),
            "r=NONCE,s=AAAA,i=4096".to_owned(),
        ] {
            let (mut client, _, _) = exchange(ScramHash::Sha256);
            let server_first = server_first.replace("NONCE", &client.nonce);
            let error = client.receive(server_first.as_bytes()).unwrap_err();
            assert!(
                error.to_string().contains("nonce"),
                "{server_first}: {error}"
            );
        }
    }

    #[test]
    fn a_zero_iteration_count_or_a_mandatory_extension_is_refused() {
        let (mut client, _, server_first) = exchange(ScramHash::Sha512);
        let zero = server_first.replace("i=4096", "i=0");
        assert!(client.receive(zero.as_bytes()).is_err());
        let (mut client, _, server_first) = exchange(ScramHash::Sha512);
        let extension = format!("m=foo,{server_first}");
        assert!(client.receive(extension.as_bytes()).is_err());
    }

    #[test]
    fn server_error_attribute_is_reported() {
        let (mut client, _, _) = exchange(ScramHash::Sha512);
        let error = client.receive(b"e=unknown-user").unwrap_err();
        assert!(error.to_string().contains("unknown-user"), "{error}");
    }

    #[test]
    fn username_commas_and_equals_are_escaped() {
        let mut client = ScramClient::new(ScramHash::Sha256, "a=b,c", "pw").unwrap();
        let first = String::from_utf8(client.client_first()).unwrap();
        assert!(first.starts_with("n,,n=a=3Db=2Cc,r="), "{first}");
        assert!(client.nonce.len() >= 32);
    }

    #[test]
    fn debug_hides_the_password() {
        let client = ScramClient::new(ScramHash::Sha256, "user", "pencil").unwrap();
        assert!(!format!("{client:?}").contains("pencil"));
    }
}
