//! The requests a connection sends on its own behalf: `ApiVersions` (with the fall-back for
//! brokers that do not know our version), the SASL exchange, and its repetition before the
//! session lifetime the broker granted runs out (KIP-368).

use std::sync::Arc;
use std::time::Duration;

use klamm_protocol::messages::{
    ApiVersionsRequest, SaslAuthenticateRequest, SaslAuthenticateResponse, SaslHandshakeRequest,
    SaslHandshakeResponse,
};
use klamm_protocol::{ApiKey, ErrorCode, Message, VersionRange};

use super::{Connection, Slot};
use crate::backoff::system_random;
use crate::sasl::{interpret_handshake, ExchangeError, HandshakeOutcome, SaslConfig};
use crate::versions::{interpret_api_versions, ApiVersionTable, ApiVersionsOutcome};
use crate::{NetError, Phase};

impl Connection {
    /// Sends `ApiVersions` (newest version first) and builds the version table.
    pub(super) async fn negotiate_versions(&self) -> Result<ApiVersionTable, NetError> {
        let timeout = self.inner.config.api_version_auto_timeout;
        let (software_name, software_version) = &self.inner.config.client_software;
        let mut version = ApiKey::ApiVersions.versions().max;
        loop {
            let request = ApiVersionsRequest::default()
                .with_client_software_name(software_name.as_str().into())
                .with_client_software_version(software_version.as_str().into());
            let body = self
                .round_trip(
                    ApiKey::ApiVersions,
                    version,
                    &request,
                    Phase::ApiVersions,
                    timeout,
                    Slot::Exempt,
                )
                .await?;
            let outcome = interpret_api_versions(&body, version).map_err(|source| {
                NetError::MalformedFrame {
                    addr: self.inner.shared.addr.clone(),
                    what: "ApiVersionsResponse",
                    source,
                }
            })?;
            match outcome {
                ApiVersionsOutcome::Supported(response) => {
                    tracing::debug!(addr = %self.inner.addr, version, "ApiVersions negotiated");
                    return Ok(ApiVersionTable::from_response(&response)
                        .with_pins(&self.inner.config.api_version_pins));
                }
                // `interpret_api_versions` only retries with a lower version, so this ends.
                ApiVersionsOutcome::Retry(lower) => version = lower,
                ApiVersionsOutcome::Failed(error_code) => {
                    return Err(NetError::BrokerError {
                        addr: self.inner.shared.addr.clone(),
                        api: ApiKey::ApiVersions,
                        error_code,
                    })
                }
            }
        }
    }

    /// Runs `SaslHandshake` and the `SaslAuthenticate` exchange. Returns the session lifetime
    /// the broker granted, if any.
    pub(super) async fn authenticate(
        &self,
        sasl: &SaslConfig,
        slot: Slot,
    ) -> Result<Option<Duration>, NetError> {
        let addr = self.inner.shared.addr.clone();
        let mechanism = sasl.mechanism();
        let timeout = self.inner.config.request_timeout;
        let versions = self.api_versions();
        let exchange_error = |error: ExchangeError| match error {
            ExchangeError::Sasl(error) => NetError::SaslProtocol {
                addr: addr.clone(),
                mechanism: mechanism.name().to_owned(),
                reason: error.to_string(),
            },
            #[cfg(feature = "gssapi")]
            ExchangeError::Gssapi { service, error } => NetError::Gssapi {
                addr: addr.clone(),
                service,
                source: error,
            },
        };
        let malformed = |what, source| NetError::MalformedFrame {
            addr: addr.clone(),
            what,
            source,
        };

        // v0 carries the SASL tokens outside Kafka framing; only v1 is spoken here.
        let handshake_version =
            versions.choose_within(ApiKey::SaslHandshake, VersionRange::new(1, 1))?;
        let request = SaslHandshakeRequest::default().with_mechanism(mechanism.name().into());
        let body = self
            .round_trip(
                ApiKey::SaslHandshake,
                handshake_version,
                &request,
                Phase::Sasl,
                timeout,
                slot,
            )
            .await?;
        let response = SaslHandshakeResponse::from_bytes(&body, handshake_version)
            .map_err(|source| malformed(SaslHandshakeResponse::NAME, source))?;
        match interpret_handshake(mechanism, &response) {
            HandshakeOutcome::Accepted => {}
            HandshakeOutcome::UnsupportedMechanism(enabled) => {
                return Err(NetError::UnsupportedSaslMechanism {
                    addr,
                    mechanism: mechanism.name().to_owned(),
                    enabled,
                })
            }
            HandshakeOutcome::Failed(error_code) => {
                return Err(NetError::BrokerError {
                    addr,
                    api: ApiKey::SaslHandshake,
                    error_code,
                })
            }
        }

        let auth_version = versions.choose(ApiKey::SaslAuthenticate)?;
        // Client-side steps may wait for a KDC (GSSAPI) or an identity provider (OAUTHBEARER):
        // each gets the request deadline too.
        let sasl_timeout = || NetError::Timeout {
            addr: addr.clone(),
            phase: Phase::Sasl,
            after: timeout,
        };
        let mut exchange = tokio::time::timeout(timeout, sasl.exchange(self.inner.addr.host()))
            .await
            .map_err(|_| sasl_timeout())?
            .map_err(exchange_error)?;
        let mut message = tokio::time::timeout(timeout, exchange.client_first())
            .await
            .map_err(|_| sasl_timeout())?
            .map_err(exchange_error)?;
        loop {
            let request = SaslAuthenticateRequest::default().with_auth_bytes(message.into());
            let body = self
                .round_trip(
                    ApiKey::SaslAuthenticate,
                    auth_version,
                    &request,
                    Phase::Sasl,
                    timeout,
                    slot,
                )
                .await?;
            let response = SaslAuthenticateResponse::from_bytes(&body, auth_version)
                .map_err(|source| malformed(SaslAuthenticateResponse::NAME, source))?;
            let error_code = ErrorCode::from_code(response.error_code);
            if error_code != ErrorCode::None {
                return Err(NetError::AuthenticationFailed {
                    addr,
                    mechanism: mechanism.name().to_owned(),
                    error_code,
                    message: response.error_message.map(|m| m.as_str().to_owned()),
                });
            }
            match tokio::time::timeout(timeout, exchange.receive(&response.auth_bytes))
                .await
                .map_err(|_| sasl_timeout())?
                .map_err(exchange_error)?
            {
                Some(next) => message = next,
                None => {
                    tracing::debug!(addr = %addr, %mechanism, "SASL authenticated");
                    let lifetime = u64::try_from(response.session_lifetime_ms)
                        .ok()
                        .filter(|ms| *ms > 0)
                        .map(Duration::from_millis);
                    return Ok(lifetime);
                }
            }
        }
    }

    /// Re-authenticates at 85–95 % of each session lifetime, as the Java client does. While it
    /// runs, it holds every in-flight slot, so no ordinary request is interleaved with it.
    pub(super) fn schedule_reauthentication(&self, first_lifetime: Duration) {
        let weak = Arc::downgrade(&self.inner);
        let task = tokio::spawn(async move {
            let mut lifetime = first_lifetime;
            loop {
                tokio::time::sleep(reauthentication_delay(lifetime, system_random())).await;
                let Some(inner) = weak.upgrade() else { return };
                let connection = Connection { inner };
                let shared = connection.inner.shared.clone();
                let Ok(all_slots) = shared
                    .slots
                    .clone()
                    .acquire_many_owned(shared.slot_count)
                    .await
                else {
                    return; // closed
                };
                let Some(sasl) = connection.inner.config.sasl.clone() else {
                    return;
                };
                match connection.authenticate(&sasl, Slot::Exempt).await {
                    Ok(Some(next)) => lifetime = next,
                    Ok(None) => return,
                    Err(error) => {
                        tracing::warn!(addr = %connection.inner.addr, %error, "re-authentication failed");
                        return shared.fail(error);
                    }
                }
                drop(all_slots);
            }
        });
        self.inner
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(task.abort_handle());
    }
}

/// When to re-authenticate within a session of `lifetime`: 85 % plus up to 10 % jitter.
pub(crate) fn reauthentication_delay(lifetime: Duration, random: f64) -> Duration {
    lifetime.mul_f64(0.85 + 0.10 * random.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reauthentication_happens_between_85_and_95_percent_of_the_lifetime() {
        let lifetime = Duration::from_secs(100);
        assert_eq!(
            reauthentication_delay(lifetime, 0.0),
            Duration::from_secs(85)
        );
        assert_eq!(
            reauthentication_delay(lifetime, 1.0),
            Duration::from_secs(95)
        );
        assert!(reauthentication_delay(lifetime, 0.5) < lifetime);
    }
}
