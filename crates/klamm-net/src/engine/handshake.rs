//! The requests a connection sends on its own behalf: `ApiVersions` (with the fall-back for
//! brokers that do not know our version), `SaslHandshake` and the `SaslAuthenticate` exchange,
//! and their repetition before the session lifetime the broker granted runs out (KIP-368).
//!
//! Re-authentication waits until every written request is answered (no user request is
//! written meanwhile), so that the broker never sees SASL requests interleaved with others.

use std::time::{Duration, Instant};

use bytes::Bytes;
use klamm_protocol::messages::{
    ApiVersionsRequest, SaslAuthenticateRequest, SaslAuthenticateResponse, SaslHandshakeRequest,
    SaslHandshakeResponse,
};
use klamm_protocol::{ApiKey, ErrorCode, Message, VersionRange};

use super::requests::Entry;
use super::{ConnectionState, CorrelationId, Event};
use crate::sasl::{interpret_handshake, HandshakeOutcome};
use crate::versions::{interpret_api_versions, ApiVersionTable, ApiVersionsOutcome};
use crate::{NetError, Phase};

/// Where the handshake is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Nothing sent yet.
    Starting,
    /// `ApiVersions` sent at `version`.
    ApiVersions { id: CorrelationId, version: i16 },
    /// `SaslHandshake` sent.
    SaslHandshake { id: CorrelationId },
    /// Waiting for the SASL mechanism's next message until `deadline`.
    SaslStep { deadline: Instant },
    /// `SaslAuthenticate` sent.
    SaslAuthenticate { id: CorrelationId },
    /// User requests flow.
    Ready,
    /// Re-authentication is due: user requests wait until those written are answered.
    Draining,
    /// The connection is closed.
    Closed,
}

/// The handshake's state and the re-authentication schedule.
#[derive(Debug)]
pub(super) struct Handshake {
    stage: Stage,
    ever_ready: bool,
    reauthentications: u32,
    reauthenticate_at: Option<Instant>,
    /// The session lifetime of the last successful `SaslAuthenticate` response.
    lifetime: Option<Duration>,
}

impl Handshake {
    pub fn new() -> Self {
        Handshake {
            stage: Stage::Starting,
            ever_ready: false,
            reauthentications: 0,
            reauthenticate_at: None,
            lifetime: None,
        }
    }

    /// When the handshake next needs [`ConnectionState::handle_timeout`]: a SASL step's
    /// deadline, or the start of re-authentication.
    pub fn deadline(&self) -> Option<Instant> {
        match self.stage {
            Stage::SaslStep { deadline } => Some(deadline),
            Stage::Ready => self.reauthenticate_at,
            _ => None,
        }
    }

    /// Whether user requests may be written now.
    pub fn is_ready(&self) -> bool {
        self.stage == Stage::Ready
    }

    /// Whether the first handshake finished.
    pub fn has_been_ready(&self) -> bool {
        self.ever_ready
    }

    pub fn reauthentications(&self) -> u32 {
        self.reauthentications
    }

    pub fn close(&mut self) {
        self.stage = Stage::Closed;
    }
}

/// The phase a handshake request's timeout interrupts.
pub(super) fn phase_of(api: ApiKey) -> Phase {
    match api {
        ApiKey::ApiVersions => Phase::ApiVersions,
        _ => Phase::Sasl,
    }
}

/// When to re-authenticate within a session of `lifetime`: 85 % plus up to 10 % jitter, as
/// the Java client does.
pub(crate) fn reauthentication_delay(lifetime: Duration, random: f64) -> Duration {
    lifetime.mul_f64(0.85 + 0.10 * random.clamp(0.0, 1.0))
}

impl ConnectionState {
    /// The answer of the SASL mechanism to the last [`Event::SaslStep`]: the next message to
    /// send, `None` when the mechanism is satisfied (the exchange is complete), or why it
    /// failed (the connection closes with that error).
    pub fn handle_sasl_step(&mut self, now: Instant, step: Result<Option<Vec<u8>>, NetError>) {
        if !matches!(self.handshake.stage, Stage::SaslStep { .. }) || self.closed.is_some() {
            return;
        }
        match step {
            Err(error) => self.fail(error),
            Ok(Some(message)) => self.send_sasl_authenticate(now, message),
            Ok(None) => self.authenticated(now),
        }
    }

    pub(super) fn start_handshake(&mut self, now: Instant) {
        self.send_api_versions(now, ApiKey::ApiVersions.versions().max);
    }

    fn send_api_versions(&mut self, now: Instant, version: i16) {
        let (name, software_version) = &self.config.client_software;
        let request = ApiVersionsRequest::default()
            .with_client_software_name(name.as_str().into())
            .with_client_software_version(software_version.as_str().into());
        let timeout = self.config.api_version_timeout;
        if let Some(id) = self.send_own(now, ApiKey::ApiVersions, version, &request, timeout) {
            self.handshake.stage = Stage::ApiVersions { id, version };
        }
    }

    fn send_sasl_handshake(&mut self, now: Instant) {
        let Some(mechanism) = self.config.sasl_mechanism else {
            return self.become_ready(now);
        };
        // v0 carries the SASL tokens outside Kafka framing; only v1 is spoken here.
        let version = match self
            .versions()
            .map(|table| table.choose_within(ApiKey::SaslHandshake, VersionRange::new(1, 1)))
        {
            Some(Ok(version)) => version,
            Some(Err(error)) => return self.fail(error),
            None => return,
        };
        let request = SaslHandshakeRequest::default().with_mechanism(mechanism.name().into());
        let timeout = self.config.request_timeout;
        if let Some(id) = self.send_own(now, ApiKey::SaslHandshake, version, &request, timeout) {
            self.handshake.stage = Stage::SaslHandshake { id };
        }
    }

    fn send_sasl_authenticate(&mut self, now: Instant, message: Vec<u8>) {
        let version = match self.versions().map(|t| t.choose(ApiKey::SaslAuthenticate)) {
            Some(Ok(version)) => version,
            Some(Err(error)) => return self.fail(error),
            None => return,
        };
        let request = SaslAuthenticateRequest::default().with_auth_bytes(message.into());
        let timeout = self.config.request_timeout;
        let api = ApiKey::SaslAuthenticate;
        if let Some(id) = self.send_own(now, api, version, &request, timeout) {
            self.handshake.stage = Stage::SaslAuthenticate { id };
        }
    }

    /// Asks the SASL mechanism for its next message.
    fn request_sasl_step(&mut self, now: Instant, challenge: Option<Bytes>) {
        self.handshake.stage = Stage::SaslStep {
            deadline: now + self.config.request_timeout,
        };
        self.events.push_back(Event::SaslStep { challenge });
    }

    pub(super) fn handshake_answer(
        &mut self,
        now: Instant,
        id: CorrelationId,
        entry: &Entry,
        body: Bytes,
    ) {
        let addr = self.config.addr.clone();
        let malformed = |what, source| NetError::MalformedFrame {
            addr: addr.clone(),
            what,
            cause: source,
        };
        match self.handshake.stage {
            Stage::ApiVersions { id: sent, version } if sent == id => {
                match interpret_api_versions(&body, version) {
                    Err(source) => self.fail(malformed("ApiVersionsResponse", source)),
                    Ok(ApiVersionsOutcome::Supported(response)) => {
                        tracing::debug!(%addr, version, "ApiVersions negotiated");
                        let table = ApiVersionTable::from_response(&response)
                            .with_pins(&self.config.api_version_pins)
                            .with_release(self.config.api_version);
                        self.versions = Some(table);
                        self.send_sasl_handshake(now);
                    }
                    // `interpret_api_versions` only retries with a lower version, so this ends.
                    Ok(ApiVersionsOutcome::Retry(lower)) => self.send_api_versions(now, lower),
                    Ok(ApiVersionsOutcome::Failed(error_code)) => {
                        self.fail(NetError::BrokerError {
                            addr,
                            api: ApiKey::ApiVersions,
                            error_code,
                        })
                    }
                }
            }
            Stage::SaslHandshake { id: sent } if sent == id => {
                let response = match SaslHandshakeResponse::from_bytes(&body, entry.version) {
                    Ok(response) => response,
                    Err(source) => {
                        return self.fail(malformed(SaslHandshakeResponse::NAME, source))
                    }
                };
                let Some(mechanism) = self.config.sasl_mechanism else {
                    return;
                };
                match interpret_handshake(mechanism, &response) {
                    HandshakeOutcome::Accepted => self.request_sasl_step(now, None),
                    HandshakeOutcome::UnsupportedMechanism(enabled) => {
                        self.fail(NetError::UnsupportedSaslMechanism {
                            addr,
                            mechanism: mechanism.name().to_owned(),
                            enabled,
                        })
                    }
                    HandshakeOutcome::Failed(error_code) => self.fail(NetError::BrokerError {
                        addr,
                        api: ApiKey::SaslHandshake,
                        error_code,
                    }),
                }
            }
            Stage::SaslAuthenticate { id: sent } if sent == id => {
                let response = match SaslAuthenticateResponse::from_bytes(&body, entry.version) {
                    Ok(response) => response,
                    Err(source) => {
                        return self.fail(malformed(SaslAuthenticateResponse::NAME, source))
                    }
                };
                let error_code = ErrorCode::from_code(response.error_code);
                if error_code != ErrorCode::None {
                    let mechanism = self.config.sasl_mechanism.map(|m| m.name().to_owned());
                    return self.fail(NetError::AuthenticationFailed {
                        addr,
                        mechanism: mechanism.unwrap_or_default(),
                        error_code,
                        message: response.error_message.map(|m| m.as_str().to_owned()),
                    });
                }
                self.handshake.lifetime = u64::try_from(response.session_lifetime_ms)
                    .ok()
                    .filter(|ms| *ms > 0)
                    .map(Duration::from_millis);
                self.request_sasl_step(now, Some(response.auth_bytes.clone()));
            }
            // An answer the handshake no longer waits for.
            _ => {}
        }
    }

    /// The SASL exchange is complete.
    fn authenticated(&mut self, now: Instant) {
        tracing::debug!(addr = %self.config.addr, "SASL authenticated");
        if self.handshake.ever_ready {
            self.handshake.reauthentications += 1;
        }
        let lifetime = self.handshake.lifetime.take();
        self.handshake.reauthenticate_at =
            lifetime.map(|lifetime| now + reauthentication_delay(lifetime, self.next_random()));
        self.become_ready(now);
    }

    fn become_ready(&mut self, now: Instant) {
        self.handshake.stage = Stage::Ready;
        if !self.handshake.ever_ready {
            self.handshake.ever_ready = true;
            self.last_activity = now;
            self.events.push_back(Event::Ready);
        }
        self.release(now);
    }

    /// A SASL step past its deadline fails the connection; a due re-authentication starts
    /// draining.
    pub(super) fn handshake_timeout(&mut self, now: Instant) {
        match self.handshake.stage {
            Stage::SaslStep { deadline } if deadline <= now => self.fail(NetError::Timeout {
                addr: self.config.addr.clone(),
                phase: Phase::Sasl,
                after: self.config.request_timeout,
            }),
            Stage::Ready if self.handshake.reauthenticate_at.is_some_and(|at| at <= now) => {
                self.handshake.reauthenticate_at = None;
                self.handshake.stage = Stage::Draining;
            }
            _ => {}
        }
    }

    /// Starts re-authenticating once it is due and nothing written is unanswered.
    pub(super) fn maybe_reauthenticate(&mut self, now: Instant) {
        if self.handshake.stage == Stage::Draining && self.requests.unanswered() == 0 {
            tracing::debug!(addr = %self.config.addr, "re-authenticating");
            self.send_sasl_handshake(now);
        }
    }
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
