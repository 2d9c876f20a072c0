//! SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677) as Kafka uses them: no channel
//! binding, no SASLprep (Kafka's server does none either), usernames escaped per RFC 5802.
//!
//! Written on `ring` (already linked for TLS) rather than the `sasl` crate: that crate has no
//! SHA-512, does not check that the server nonce extends ours, does not escape `,`/`=` in
//! usernames, and cannot take a fixed nonce outside its own tests, which the test vectors need.

use std::num::NonZeroU32;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use ring::{digest, hmac, pbkdf2};

use super::SaslError;

/// The hash a SCRAM mechanism is built on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScramHash {
    /// SCRAM-SHA-256.
    Sha256,
    /// SCRAM-SHA-512.
    Sha512,
}

impl ScramHash {
    fn pbkdf2(self) -> pbkdf2::Algorithm {
        match self {
            ScramHash::Sha256 => pbkdf2::PBKDF2_HMAC_SHA256,
            ScramHash::Sha512 => pbkdf2::PBKDF2_HMAC_SHA512,
        }
    }

    fn hmac(self) -> hmac::Algorithm {
        match self {
            ScramHash::Sha256 => hmac::HMAC_SHA256,
            ScramHash::Sha512 => hmac::HMAC_SHA512,
        }
    }

    fn digest(self) -> &'static digest::Algorithm {
        match self {
            ScramHash::Sha256 => &digest::SHA256,
            ScramHash::Sha512 => &digest::SHA512,
        }
    }

    fn len(self) -> usize {
        self.digest().output_len()
    }
}

enum State {
    Initial,
    SentClientFirst {
        client_first_bare: String,
    },
    SentClientFinal {
        server_key: hmac::Key,
        auth_message: String,
    },
    Done,
}

/// The client side of one SCRAM exchange.
pub struct ScramClient {
    hash: ScramHash,
    username: String,
    password: String,
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
    /// An exchange with a random 24-byte nonce.
    pub fn new(hash: ScramHash, username: &str, password: &str) -> Result<Self, SaslError> {
        use ring::rand::SecureRandom;
        let mut bytes = [0u8; 24];
        ring::rand::SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| SaslError::new("the system random generator failed"))?;
        Ok(Self::with_nonce(
            hash,
            username,
            password,
            &BASE64.encode(bytes),
        ))
    }

    /// An exchange with a given nonce (printable ASCII without `,`): for test vectors.
    pub fn with_nonce(hash: ScramHash, username: &str, password: &str, nonce: &str) -> Self {
        ScramClient {
            hash,
            username: username.to_owned(),
            password: password.to_owned(),
            nonce: nonce.to_owned(),
            state: State::Initial,
        }
    }

    /// The client-first message.
    pub fn client_first(&mut self) -> Vec<u8> {
        let client_first_bare = format!("n={},r={}", escape_username(&self.username), self.nonce);
        let message = format!("n,,{client_first_bare}");
        self.state = State::SentClientFirst { client_first_bare };
        message.into_bytes()
    }

    /// Handles a server message: the client-final message after the server-first one, `None`
    /// after a verified server-final one.
    pub fn receive(&mut self, server_message: &[u8]) -> Result<Option<Vec<u8>>, SaslError> {
        let message = std::str::from_utf8(server_message)
            .map_err(|_| SaslError::new("server message is not UTF-8"))?;
        match std::mem::replace(&mut self.state, State::Done) {
            State::SentClientFirst { client_first_bare } => {
                self.client_final(&client_first_bare, message).map(Some)
            }
            State::SentClientFinal {
                server_key,
                auth_message,
            } => {
                verify_server_final(&server_key, &auth_message, message)?;
                Ok(None)
            }
            State::Initial | State::Done => Err(SaslError::new("unexpected server message")),
        }
    }

    fn client_final(
        &mut self,
        client_first_bare: &str,
        server_first: &str,
    ) -> Result<Vec<u8>, SaslError> {
        if let Some(error) = attribute(server_first, 'e') {
            return Err(SaslError::new(format!("server error: {error}")));
        }
        if server_first.starts_with("m=") {
            return Err(SaslError::new(
                "server requires an unsupported SCRAM extension",
            ));
        }
        let nonce = attribute(server_first, 'r')
            .ok_or_else(|| SaslError::new("server-first message has no nonce"))?;
        if !nonce.starts_with(&self.nonce) || nonce.len() <= self.nonce.len() {
            return Err(SaslError::new(
                "server nonce does not extend the client nonce",
            ));
        }
        let salt = attribute(server_first, 's')
            .and_then(|salt| BASE64.decode(salt).ok())
            .ok_or_else(|| SaslError::new("server-first message has no valid salt"))?;
        let iterations = attribute(server_first, 'i')
            .and_then(|i| i.parse::<u32>().ok())
            .and_then(NonZeroU32::new)
            .ok_or_else(|| SaslError::new("server-first message has no valid iteration count"))?;

        let mut salted_password = vec![0u8; self.hash.len()];
        pbkdf2::derive(
            self.hash.pbkdf2(),
            iterations,
            &salt,
            self.password.as_bytes(),
            &mut salted_password,
        );
        let salted_key = hmac::Key::new(self.hash.hmac(), &salted_password);
        let client_key = hmac::sign(&salted_key, b"Client Key");
        let server_key = hmac::Key::new(
            self.hash.hmac(),
            hmac::sign(&salted_key, b"Server Key").as_ref(),
        );
        let stored_key = digest::digest(self.hash.digest(), client_key.as_ref());

        // "biws" is base64("n,,"): no channel binding, no authorization identity.
        let client_final_without_proof = format!("c=biws,r={nonce}");
        let auth_message =
            format!("{client_first_bare},{server_first},{client_final_without_proof}");
        let client_signature = hmac::sign(
            &hmac::Key::new(self.hash.hmac(), stored_key.as_ref()),
            auth_message.as_bytes(),
        );
        let proof: Vec<u8> = client_key
            .as_ref()
            .iter()
            .zip(client_signature.as_ref())
            .map(|(key, signature)| key ^ signature)
            .collect();
        self.state = State::SentClientFinal {
            server_key,
            auth_message,
        };
        Ok(format!("{client_final_without_proof},p={}", BASE64.encode(proof)).into_bytes())
    }
}

fn verify_server_final(
    server_key: &hmac::Key,
    auth_message: &str,
    server_final: &str,
) -> Result<(), SaslError> {
    if let Some(error) = attribute(server_final, 'e') {
        return Err(SaslError::new(format!("server error: {error}")));
    }
    let signature = attribute(server_final, 'v')
        .and_then(|v| BASE64.decode(v).ok())
        .ok_or_else(|| SaslError::new("server-final message has no valid signature"))?;
    // Constant-time comparison: a wrong signature means the server does not know the password.
    hmac::verify(server_key, auth_message.as_bytes(), &signature)
        .map_err(|_| SaslError::new("server signature is wrong: the broker may be an impostor"))
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

    fn run(
        hash: ScramHash,
        nonce: &str,
        server_first: &str,
        expected_client_first: &str,
        expected_client_final: &str,
        server_final: &str,
    ) {
        let mut client = ScramClient::with_nonce(hash, "user", "pencil", nonce);
        assert_eq!(
            String::from_utf8(client.client_first()).unwrap(),
            expected_client_first
        );
        let client_final = client.receive(server_first.as_bytes()).unwrap().unwrap();
        assert_eq!(
            String::from_utf8(client_final).unwrap(),
            expected_client_final
        );
        assert_eq!(client.receive(server_final.as_bytes()).unwrap(), None);
    }

    /// RFC 7677, section 3.
    #[test]
    fn scram_sha_256_matches_rfc_7677_vector() {
        run(
            ScramHash::Sha256,
            "rOprNGfwEbeRWgbNEkqO",
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
            "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
            "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
        );
    }

    /// The RFC 7677 inputs with SHA-512; the expected messages were computed independently with
    /// Python's `hashlib.pbkdf2_hmac` and `hmac` (which reproduce the SHA-256 vector above).
    #[test]
    fn scram_sha_512_matches_independent_vector() {
        run(
            ScramHash::Sha512,
            "rOprNGfwEbeRWgbNEkqO",
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
            "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
            SHA512_CLIENT_FINAL,
            SHA512_SERVER_FINAL,
        );
    }

    const SHA512_CLIENT_FINAL: &str = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=gMGXRcevScNtxZ6/8lQYpGtnsNAc3mGcmNomv+xnoOMw+3R2xNJdMNnzMlTN8PPC6wdp6dybEmDYXYTxwnYPJQ==";
    const SHA512_SERVER_FINAL: &str = "v=ZQnYEgWQMFmmsM8aQMF0nDDCy/AgCzkwk8CmMZYcMg0vSVlKDanekLtifDSeVGT4+5ZxXnJq199RVG2rR7N7Zw==";

    #[test]
    fn wrong_server_signature_is_rejected() {
        let mut client = ScramClient::with_nonce(ScramHash::Sha256, "user", "pencil", "abc");
        client.client_first();
        client
            .receive(b"r=abcdef,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
            .unwrap();
        let error = client
            .receive(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
            .unwrap_err();
        assert!(error.to_string().contains("impostor"), "{error}");
    }

    #[test]
    fn server_nonce_must_extend_the_client_nonce() {
        let mut client = ScramClient::with_nonce(ScramHash::Sha256, "user", "pencil", "abc");
        client.client_first();
        for server_first in ["r=xyz123,s=AAAA,i=4096", "r=abc,s=AAAA,i=4096"] {
            let mut copy = ScramClient::with_nonce(ScramHash::Sha256, "user", "pencil", "abc");
            copy.client_first();
            assert!(
                copy.receive(server_first.as_bytes()).is_err(),
                "{server_first}"
            );
        }
    }

    #[test]
    fn server_error_attribute_is_reported() {
        let mut client = ScramClient::with_nonce(ScramHash::Sha512, "user", "pencil", "abc");
        client.client_first();
        let error = client.receive(b"e=unknown-user").unwrap_err();
        assert!(error.to_string().contains("unknown-user"), "{error}");
    }

    #[test]
    fn username_commas_and_equals_are_escaped() {
        let mut client = ScramClient::with_nonce(ScramHash::Sha256, "a=b,c", "pw", "n0nce");
        assert_eq!(client.client_first(), b"n,,n=a=3Db=2Cc,r=n0nce".to_vec());
    }

    #[test]
    fn debug_hides_the_password() {
        let client = ScramClient::with_nonce(ScramHash::Sha256, "user", "pencil", "abc");
        assert!(!format!("{client:?}").contains("pencil"));
    }
}
