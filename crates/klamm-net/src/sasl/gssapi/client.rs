//! The client side of one SASL/GSSAPI exchange as Kafka runs it, sans-IO: a state machine over
//! a [`SecurityContext`] (the system Kerberos library in production, a scripted fake in tests).
//!
//! ```text
//! client                                   broker
//!   init_sec_context() ──── AP-REQ ────────▶
//!                     ◀──── AP-REP ───────── (mutual authentication)
//!   init_sec_context(AP-REP): established
//!                     ───── (empty) ───────▶
//!                     ◀──── wrap([layers, max size]) ─
//!   unwrap, choose "no layer"
//!                     ───── wrap([0x01, 0, 0, 0] + authzid) ─▶
//!                     ◀──── (empty): authenticated ─
//! ```

use super::layer::{SecurityLayerChoice, SecurityLayerOffer};
use super::GssapiError;

/// What the exchange needs from a GSS-API security context (an initiator's).
pub trait SecurityContext {
    /// One `gss_init_sec_context` call with the server's token (`None` the first time): the
    /// token to send (maybe empty) and whether the context is now established.
    fn initiate(&mut self, server_token: Option<&[u8]>) -> Result<(Vec<u8>, bool), GssapiError>;
    /// `gss_unwrap` of a server message.
    fn unwrap(&mut self, token: &[u8]) -> Result<Vec<u8>, GssapiError>;
    /// `gss_wrap` with integrity but without confidentiality, as RFC 4752 asks for the answer.
    fn wrap(&mut self, message: &[u8]) -> Result<Vec<u8>, GssapiError>;
    /// The authenticated client principal, e.g. `klamm-client@KLAMM.TEST`.
    fn initiator_name(&mut self) -> Result<String, GssapiError>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Nothing sent yet.
    Initial,
    /// Context tokens are being exchanged.
    Establishing,
    /// The context is established; the broker's security-layer offer comes next. `empty_seen`
    /// counts the empty messages tolerated meanwhile (a broker may answer our final, empty
    /// context token with an empty message of its own before the offer; one is plenty).
    AwaitingOffer { empty_seen: bool },
    /// Our security-layer answer is sent; the broker's verdict comes next.
    AnswerSent,
    /// Done.
    Complete,
}

/// One SASL/GSSAPI exchange over a security context `C`.
#[derive(Debug)]
pub struct GssapiClient<C> {
    context: C,
    state: State,
}

impl<C: SecurityContext> GssapiClient<C> {
    /// An exchange that has not sent anything yet.
    pub fn new(context: C) -> Self {
        GssapiClient {
            context,
            state: State::Initial,
        }
    }

    /// The first message: the context's first token (a Kerberos AP-REQ).
    pub fn client_first(&mut self) -> Result<Vec<u8>, GssapiError> {
        if self.state != State::Initial {
            return Err(protocol("client_first called twice"));
        }
        let (token, established) = self.context.initiate(None)?;
        self.state = if established {
            State::AwaitingOffer { empty_seen: false }
        } else {
            State::Establishing
        };
        Ok(token)
    }

    /// Handles the broker's `auth_bytes`: the next message, or `None` once authenticated.
    pub fn receive(&mut self, server_message: &[u8]) -> Result<Option<Vec<u8>>, GssapiError> {
        match self.state {
            State::Initial => Err(protocol("a server message before the first client message")),
            State::Establishing => {
                let (token, established) = self.context.initiate(Some(server_message))?;
                if established {
                    self.state = State::AwaitingOffer { empty_seen: false };
                }
                Ok(Some(token))
            }
            State::AwaitingOffer { empty_seen } if server_message.is_empty() => {
                if empty_seen {
                    return Err(protocol(
                        "the broker keeps sending empty messages instead of its security-layer offer",
                    ));
                }
                self.state = State::AwaitingOffer { empty_seen: true };
                Ok(Some(Vec::new()))
            }
            State::AwaitingOffer { .. } => {
                let offer = SecurityLayerOffer::decode(&self.context.unwrap(server_message)?)?;
                let principal = self.context.initiator_name()?;
                let answer = SecurityLayerChoice::answer(&offer, principal)?;
                let wrapped = self.context.wrap(&answer.encode())?;
                self.state = State::AnswerSent;
                Ok(Some(wrapped))
            }
            State::AnswerSent => {
                // Kafka's broker ends with an empty message; GSSAPI defines no content for it.
                self.state = State::Complete;
                Ok(None)
            }
            State::Complete => Err(protocol("a server message after the exchange completed")),
        }
    }

    /// Whether the exchange has completed.
    pub fn is_complete(&self) -> bool {
        self.state == State::Complete
    }
}

fn protocol(reason: &str) -> GssapiError {
    GssapiError::SecurityLayer {
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::layer::{INTEGRITY_LAYER, NO_SECURITY_LAYER};
    use super::*;

    /// A context that "wraps" by prefixing `W:` and needs `rounds` server tokens to establish.
    #[derive(Debug, Default)]
    struct FakeContext {
        rounds: usize,
        initiated: Vec<Option<Vec<u8>>>,
        wrapped: Vec<Vec<u8>>,
    }

    impl SecurityContext for FakeContext {
        fn initiate(&mut self, server: Option<&[u8]>) -> Result<(Vec<u8>, bool), GssapiError> {
            self.initiated.push(server.map(<[u8]>::to_vec));
            let established = self.initiated.len() > self.rounds;
            let token = if established && self.rounds > 0 {
                Vec::new() // the last step of a mutual exchange produces no token
            } else {
                format!("token-{}", self.initiated.len()).into_bytes()
            };
            Ok((token, established))
        }

        fn unwrap(&mut self, token: &[u8]) -> Result<Vec<u8>, GssapiError> {
            token
                .strip_prefix(b"W:")
                .map(<[u8]>::to_vec)
                .ok_or_else(|| GssapiError::Call {
                    call: "gss_unwrap",
                    major: 0x0009_0000,
                    minor: 0,
                    message: "Invalid token".into(),
                })
        }

        fn wrap(&mut self, message: &[u8]) -> Result<Vec<u8>, GssapiError> {
            self.wrapped.push(message.to_vec());
            Ok([b"W:".as_slice(), message].concat())
        }

        fn initiator_name(&mut self) -> Result<String, GssapiError> {
            Ok("alice@KLAMM.TEST".into())
        }
    }

    fn offer(layers: u8) -> Vec<u8> {
        let offer = SecurityLayerOffer {
            layers,
            max_message_size: 65_536,
        };
        [b"W:".as_slice(), &offer.encode()].concat()
    }

    #[test]
    fn mutual_exchange_sends_empty_token_then_answers_the_offer_without_layer() {
        let mut client = GssapiClient::new(FakeContext {
            rounds: 1,
            ..Default::default()
        });
        assert_eq!(client.client_first().unwrap(), b"token-1");
        // The AP-REP establishes the context and leaves nothing to send: an empty message.
        assert_eq!(client.receive(b"ap-rep").unwrap(), Some(Vec::new()));
        let answer = client.receive(&offer(NO_SECURITY_LAYER)).unwrap().unwrap();
        assert_eq!(answer, b"W:\x01\x00\x00\x00alice@KLAMM.TEST");
        assert!(!client.is_complete());
        assert_eq!(client.receive(b"").unwrap(), None);
        assert!(client.is_complete());
        assert_eq!(
            client.context.initiated,
            vec![None, Some(b"ap-rep".to_vec())]
        );
        assert!(client.receive(b"").is_err());
    }

    #[test]
    fn context_established_at_once_goes_straight_to_the_offer() {
        let mut client = GssapiClient::new(FakeContext::default());
        assert_eq!(client.client_first().unwrap(), b"token-1");
        let answer = client
            .receive(&offer(NO_SECURITY_LAYER | INTEGRITY_LAYER))
            .unwrap();
        assert_eq!(answer.unwrap()[..6], *b"W:\x01\x00\x00\x00");
    }

    #[test]
    fn one_empty_message_before_the_offer_is_tolerated_and_two_are_not() {
        let mut client = GssapiClient::new(FakeContext::default());
        client.client_first().unwrap();
        assert_eq!(client.receive(b"").unwrap(), Some(Vec::new()));
        assert!(client.receive(b"").is_err());
    }

    #[test]
    fn offer_that_does_not_unwrap_or_demands_a_layer_fails() {
        let mut client = GssapiClient::new(FakeContext::default());
        client.client_first().unwrap();
        let error = client.receive(b"not wrapped").unwrap_err();
        assert!(
            matches!(
                error,
                GssapiError::Call {
                    call: "gss_unwrap",
                    ..
                }
            ),
            "{error}"
        );

        let mut client = GssapiClient::new(FakeContext::default());
        client.client_first().unwrap();
        let error = client.receive(&offer(INTEGRITY_LAYER)).unwrap_err();
        assert!(
            matches!(error, GssapiError::SecurityLayer { .. }),
            "{error}"
        );
        assert!(client.context.wrapped.is_empty(), "nothing may be sent");
    }

    #[test]
    fn server_message_before_client_first_is_an_error() {
        let mut client = GssapiClient::new(FakeContext::default());
        assert!(client.receive(b"x").is_err());
    }
}
