//! OAUTHBEARER (RFC 7628) as Kafka speaks it (KIP-255): the token comes from a caller-supplied
//! [`TokenProvider`], the client sends `n,,\x01auth=Bearer <token>\x01[key=value\x01]*\x01`.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use super::SaslError;
use crate::Secret;

/// A boxed error from a token provider.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Supplies OAuth bearer tokens (counterpart of kafka-python's `AbstractTokenProvider`).
///
/// Called for every authentication, including re-authentication, so it may refresh the token.
/// Any `Fn() -> impl Future<Output = Result<Secret, BoxError>>` is a provider:
///
/// ```
/// use klamm_net::{Secret, sasl::TokenProvider};
///
/// fn assert_provider(_: impl TokenProvider) {}
/// assert_provider(|| async { Ok(Secret::new("eyJhbGciOi…")) });
/// ```
pub trait TokenProvider: Send + Sync + 'static {
    /// A current token.
    fn token(&self) -> BoxFuture<'_, Result<Secret, BoxError>>;

    /// SASL extensions sent with the token (e.g. `logicalCluster` for some hosted Kafkas).
    fn extensions(&self) -> BTreeMap<String, String> {
        BTreeMap::new()
    }
}

impl<F, Fut> TokenProvider for F
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Secret, BoxError>> + Send + 'static,
{
    fn token(&self) -> BoxFuture<'_, Result<Secret, BoxError>> {
        Box::pin(self())
    }
}

/// The client side of one OAUTHBEARER exchange.
#[derive(Debug)]
pub struct OAuthBearerClient {
    initial: Secret,
    sent_error_ack: bool,
    server_error: Option<String>,
}

impl OAuthBearerClient {
    /// An exchange presenting `token` with `extensions`.
    pub fn new(token: &Secret, extensions: &BTreeMap<String, String>) -> Result<Self, SaslError> {
        // `auth` is reserved, and keys/values must not contain the separator.
        for (key, value) in extensions {
            let valid_key =
                !key.is_empty() && key != "auth" && key.chars().all(|c| c.is_ascii_alphabetic());
            if !valid_key || value.contains('\x01') {
                return Err(SaslError::new(format!("invalid SASL extension `{key}`")));
            }
        }
        if token.expose().is_empty() || token.expose().contains('\x01') {
            return Err(SaslError::new(
                "the token provider returned an invalid token",
            ));
        }
        let mut message = format!("n,,\x01auth=Bearer {}\x01", token.expose());
        for (key, value) in extensions {
            message.push_str(&format!("{key}={value}\x01"));
        }
        message.push('\x01');
        Ok(OAuthBearerClient {
            initial: Secret::new(message),
            sent_error_ack: false,
            server_error: None,
        })
    }

    /// The initial client response.
    pub fn client_first(&mut self) -> Vec<u8> {
        self.initial.expose().as_bytes().to_vec()
    }

    /// Handles a server message. An empty one means success; a non-empty one is an error
    /// (a JSON status), which RFC 7628 has us acknowledge with `\x01` before the server fails
    /// the exchange.
    pub fn receive(&mut self, server_message: &[u8]) -> Result<Option<Vec<u8>>, SaslError> {
        if server_message.is_empty() {
            return Ok(None);
        }
        if self.sent_error_ack {
            return Err(SaslError::new("unexpected server message after an error"));
        }
        self.sent_error_ack = true;
        self.server_error = Some(String::from_utf8_lossy(server_message).into_owned());
        Ok(Some(b"\x01".to_vec()))
    }

    /// The server's error status, if it sent one.
    pub fn server_error(&self) -> Option<&str> {
        self.server_error.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_response_follows_rfc_7628() {
        let extensions = BTreeMap::from([("logicalCluster".to_owned(), "lkc-1".to_owned())]);
        let mut client = OAuthBearerClient::new(&Secret::new("tok"), &extensions).unwrap();
        assert_eq!(
            client.client_first(),
            b"n,,\x01auth=Bearer tok\x01logicalCluster=lkc-1\x01\x01".to_vec()
        );
        assert_eq!(client.receive(b"").unwrap(), None);
        assert!(!format!("{client:?}").contains("tok\u{1}"));
    }

    #[test]
    fn server_error_is_acknowledged_once_and_kept() {
        let mut client = OAuthBearerClient::new(&Secret::new("tok"), &BTreeMap::new()).unwrap();
        client.client_first();
        let ack = client.receive(br#"{"status":"invalid_token"}"#).unwrap();
        assert_eq!(ack, Some(b"\x01".to_vec()));
        assert_eq!(client.server_error(), Some(r#"{"status":"invalid_token"}"#));
        assert!(client.receive(b"again").is_err());
    }

    #[test]
    fn reserved_or_malformed_extensions_are_refused() {
        for key in ["auth", "", "bad key"] {
            let extensions = BTreeMap::from([(key.to_owned(), "v".to_owned())]);
            assert!(
                OAuthBearerClient::new(&Secret::new("t"), &extensions).is_err(),
                "{key}"
            );
        }
    }
}
