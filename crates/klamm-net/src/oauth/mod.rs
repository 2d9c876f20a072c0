//! OAUTHBEARER token providers as Java clients configure them: a static token read from a
//! file (`sasl.oauthbearer.token.endpoint.url=file:///…`) and the client-credentials grant of
//! KIP-768 (`POST` to the token endpoint with the client id and secret as HTTP Basic auth and an
//! optional scope).
//!
//! [`OAuthTokenProvider`] caches the token and fetches a new one once the [`RefreshConfig`]
//! schedule says so (Java's window factor, jitter, min period and buffer). The connection asks
//! its provider at every authentication, including the re-authentication (KIP-368) it runs
//! before the broker's session ends, so a long-lived connection moves to the fresh token. When a
//! refresh fails while the cached token is still valid, the cached one is used (and the next
//! authentication tries again). The lifetime of a token is its JWT `exp` claim, or the token
//! endpoint's `expires_in` for a token that is not a JWT.

mod http;
mod refresh;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use tokio::sync::Mutex;
use tokio::time::Instant;

pub use http::ClientCredentials;
pub use refresh::RefreshConfig;

use crate::sasl::{BoxError, BoxFuture, TokenProvider};
use crate::Secret;

/// A token as fetched: the token and how long it is valid from now.
#[derive(Debug, Clone)]
pub struct FetchedToken {
    /// The bearer token.
    pub token: Secret,
    /// How long it stays valid from the moment it was fetched.
    pub lifetime: Duration,
}

/// Where tokens come from, one fetch at a time (blocking work is the source's to move off the
/// async threads).
pub trait TokenSource: Send + Sync + 'static {
    /// A new token.
    fn fetch(&self) -> BoxFuture<'_, Result<FetchedToken, BoxError>>;
}

/// A token in a file, re-read at each refresh (so tooling that rotates the file is followed);
/// it must be a JWT, whose `exp` claim gives its lifetime.
#[derive(Debug, Clone)]
pub struct TokenFile {
    path: PathBuf,
}

impl TokenFile {
    /// The token in `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        TokenFile { path: path.into() }
    }
}

impl TokenSource for TokenFile {
    fn fetch(&self) -> BoxFuture<'_, Result<FetchedToken, BoxError>> {
        let path = self.path.clone();
        Box::pin(async move {
            let read = tokio::task::spawn_blocking(move || {
                std::fs::read_to_string(&path).map_err(|error| {
                    BoxError::from(format!(
                        "reading the token file {}: {error}",
                        path.display()
                    ))
                })
            });
            let text = read
                .await
                .map_err(|error| BoxError::from(error.to_string()))??;
            let token = text.trim().to_owned();
            let lifetime = jwt_lifetime(&token)
                .map_err(|reason| BoxError::from(format!("the token file's token {reason}")))?;
            Ok(FetchedToken {
                token: Secret::new(token),
                lifetime,
            })
        })
    }
}

/// How long the JWT `token` is still valid, from its `exp` claim.
pub(crate) fn jwt_lifetime(token: &str) -> Result<Duration, String> {
    let payload = token
        .split('.')
        .nth(1)
        .ok_or("is not a JWT (header.payload.signature)")?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| "has a payload that is not base64url")?;
    let claims: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|_| "has a payload that is not JSON")?;
    let exp = claims
        .get("exp")
        .and_then(serde_json::Value::as_f64)
        .ok_or("has no numeric `exp` claim")?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|_| "cannot be checked: the system clock is before 1970")?
        .as_secs_f64();
    if exp <= now {
        return Err(format!("expired {:.0} s ago", now - exp));
    }
    Ok(Duration::from_secs_f64(exp - now))
}

struct Cached {
    token: Secret,
    expires: Instant,
    refresh_at: Instant,
}

/// A [`TokenProvider`] that caches the token of a [`TokenSource`] and refreshes it on the
/// [`RefreshConfig`] schedule; clones share the cache.
///
/// ```no_run
/// use klamm_net::oauth::{ClientCredentials, OAuthTokenProvider, RefreshConfig};
/// use klamm_net::{ConnectionConfig, SecurityProtocol};
///
/// let credentials = ClientCredentials::new(
///     "https://idp.example.com/oauth2/token",
///     "kafka-ops",
///     "client-secret",
/// )
/// .scope("kafka");
/// let provider = OAuthTokenProvider::new(credentials, RefreshConfig::default())?;
/// let config = ConnectionConfig::builder()
///     .security_protocol(SecurityProtocol::SaslSsl)
///     .sasl_oauth_token_provider(provider)
///     .build()?;
/// # Ok::<(), klamm_net::NetError>(())
/// ```
#[derive(Clone)]
pub struct OAuthTokenProvider {
    source: Arc<dyn TokenSource>,
    refresh: RefreshConfig,
    cached: Arc<Mutex<Option<Cached>>>,
}

impl std::fmt::Debug for OAuthTokenProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthTokenProvider")
            .field("refresh", &self.refresh)
            .finish_non_exhaustive()
    }
}

impl OAuthTokenProvider {
    /// Tokens from `source`, refreshed as `refresh` says.
    pub fn new(source: impl TokenSource, refresh: RefreshConfig) -> Result<Self, crate::NetError> {
        refresh.validate()?;
        Ok(OAuthTokenProvider {
            source: Arc::new(source),
            refresh,
            cached: Arc::default(),
        })
    }

    async fn current(&self) -> Result<Secret, BoxError> {
        // One fetch at a time: connections authenticating together share it.
        let mut cached = self.cached.lock().await;
        let now = Instant::now();
        if let Some(token) = cached.as_ref().filter(|token| now < token.refresh_at) {
            return Ok(token.token.clone());
        }
        match self.source.fetch().await {
            Ok(fetched) => {
                let obtained = Instant::now();
                let expires = obtained + fetched.lifetime;
                let refresh_at = self
                    .refresh
                    .refresh_at(obtained, expires, random_fraction());
                tracing::debug!(
                    lifetime_ms = fetched.lifetime.as_millis() as u64,
                    refresh_in_ms = (refresh_at - obtained).as_millis() as u64,
                    "fetched an OAuth token"
                );
                *cached = Some(Cached {
                    token: fetched.token.clone(),
                    expires,
                    refresh_at,
                });
                Ok(fetched.token)
            }
            Err(error) => match cached.as_ref().filter(|token| now < token.expires) {
                Some(token) => {
                    tracing::warn!(%error, "refreshing the OAuth token failed; the current one is still valid");
                    Ok(token.token.clone())
                }
                None => Err(error),
            },
        }
    }
}

impl TokenProvider for OAuthTokenProvider {
    fn token(&self) -> BoxFuture<'_, Result<Secret, BoxError>> {
        Box::pin(self.current())
    }
}

/// A uniform draw from `[0, 1)` for the refresh jitter.
fn random_fraction() -> f64 {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 4];
    match ring::rand::SystemRandom::new().fill(&mut bytes) {
        Ok(()) => f64::from(u32::from_le_bytes(bytes)) / (f64::from(u32::MAX) + 1.0),
        Err(_) => 0.5,
    }
}

#[cfg(test)]
mod tests;
