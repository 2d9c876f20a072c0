//! The client-credentials grant (RFC 6749 §4.4, KIP-768): `POST grant_type=client_credentials`
//! (and `scope`) to the token endpoint with the client id and secret as HTTP Basic auth, over
//! `ureq` (blocking, so each fetch runs on tokio's blocking pool). HTTPS verifies the endpoint
//! with the configured trusted CAs (the connection's, unless set apart), else the system's.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;

use super::{jwt_lifetime, FetchedToken, TokenSource};
use crate::sasl::{BoxError, BoxFuture};
use crate::{Secret, TlsConfig};

/// Settings of the client-credentials grant (Java's `sasl.oauthbearer.token.endpoint.url`,
/// `clientId`, `clientSecret` and `scope`).
#[derive(Clone)]
pub struct ClientCredentials {
    url: String,
    client_id: String,
    client_secret: Secret,
    scope: Option<String>,
    trust: TlsConfig,
    timeout: Duration,
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("url", &self.url)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl ClientCredentials {
    /// Tokens from the endpoint at `url` for this client.
    pub fn new(
        url: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
    ) -> Self {
        ClientCredentials {
            url: url.into(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            scope: None,
            trust: TlsConfig::default(),
            timeout: Duration::from_secs(10),
        }
    }

    /// The `scope` to ask for.
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// Verifies an `https` endpoint with the trusted CAs of `tls` (its `cafile`, `ca_pem` or
    /// `truststore`; none set means the system's).
    pub fn trust(mut self, tls: &TlsConfig) -> Self {
        let mut trust = TlsConfig::default();
        trust.cafile = tls.cafile.clone();
        trust.ca_pem = tls.ca_pem.clone();
        trust.truststore = tls.truststore.clone();
        self.trust = trust;
        self
    }

    /// Deadline of one request to the endpoint (Java's `sasl.login.connect.timeout.ms` and
    /// `sasl.login.read.timeout.ms` together; default 10 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The endpoint's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn agent(&self) -> Result<ureq::Agent, BoxError> {
        let mut config = ureq::Agent::config_builder()
            .timeout_global(Some(self.timeout))
            .http_status_as_error(false);
        if self.url.starts_with("https:") {
            let (_, certs) = crate::tls::trusted_certificates(&self.trust)?;
            let roots = certs
                .iter()
                .map(|cert| ureq::tls::Certificate::from_der(cert.as_ref()).to_owned())
                .collect();
            config = config.tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(ureq::tls::RootCerts::Specific(Arc::new(roots)))
                    .build(),
            );
        }
        Ok(config.build().into())
    }

    /// One blocking request for a token.
    fn request(&self) -> Result<FetchedToken, BoxError> {
        let fail =
            |reason: String| BoxError::from(format!("token endpoint {}: {reason}", self.url));
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            self.client_id,
            self.client_secret.expose()
        ));
        let mut body = "grant_type=client_credentials".to_owned();
        if let Some(scope) = &self.scope {
            body.push_str("&scope=");
            body.push_str(&form_encode(scope));
        }
        let mut response = self
            .agent()?
            .post(&self.url)
            .header("Authorization", &format!("Basic {basic}"))
            .header("Accept", "application/json")
            .content_type("application/x-www-form-urlencoded")
            .send(body.as_str())
            .map_err(|error| fail(error.to_string()))?;
        let status = response.status();
        let text = response
            .body_mut()
            .with_config()
            .limit(1024 * 1024)
            .read_to_string()
            .map_err(|error| fail(error.to_string()))?;
        if !status.is_success() {
            // The endpoint's JSON error (`invalid_client` …) says what is wrong; it holds no
            // secret of ours.
            return Err(fail(format!("HTTP {status}: {}", text.trim())));
        }
        let answer: serde_json::Value =
            serde_json::from_str(&text).map_err(|_| fail("the answer is not JSON".into()))?;
        let token = answer
            .get("access_token")
            .and_then(serde_json::Value::as_str)
            .filter(|token| !token.is_empty())
            .ok_or_else(|| fail("the answer has no access_token".into()))?;
        let lifetime = match jwt_lifetime(token) {
            Ok(lifetime) => lifetime,
            Err(reason) => match answer.get("expires_in").and_then(serde_json::Value::as_f64) {
                Some(seconds) if seconds > 0.0 => Duration::from_secs_f64(seconds),
                _ => {
                    return Err(fail(format!(
                        "the access token {reason}, and no expires_in"
                    )))
                }
            },
        };
        Ok(FetchedToken {
            token: Secret::new(token),
            lifetime,
        })
    }
}

impl TokenSource for ClientCredentials {
    fn fetch(&self) -> BoxFuture<'_, Result<FetchedToken, BoxError>> {
        let this = self.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || this.request())
                .await
                .map_err(|error| BoxError::from(error.to_string()))?
        })
    }
}

/// `application/x-www-form-urlencoded` for one value.
fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}
