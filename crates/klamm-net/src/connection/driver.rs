//! The one task of a connection: it moves bytes between the socket and the
//! [`ConnectionState`], runs the SASL mechanism's steps when the engine asks for them, sleeps
//! until the engine's next deadline, and hands each event to whoever waits for it.
//!
//! Callers never talk to the task: they register a request with the engine under the
//! [`Shared`] lock (a `std` mutex, never held across an `.await`) and wake the task. Every
//! decision (slots, deadlines, the handshake, closing) is the engine's.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{oneshot, Notify};
use tokio::time::Instant;

use crate::engine::{ConnectionState, CorrelationId, EncodedRequest, Event};
use crate::sasl::{Exchange, ExchangeError, SaslConfig};
use crate::{tls, NetError, SaslMechanism, Transport};

/// How much one socket read takes at most.
const READ_CHUNK: usize = 64 * 1024;

/// How long a closing connection waits for its TLS `close_notify` and FIN to be written.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

type Reply = oneshot::Sender<Result<Bytes, NetError>>;

/// What callers and the task share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub addr: String,
    state: Mutex<State>,
    wake: Notify,
}

#[derive(Debug)]
pub(crate) struct State {
    pub engine: ConnectionState,
    waiters: HashMap<CorrelationId, Reply>,
    /// Told once when the handshake finishes (or the connection closes before it does).
    ready: Option<oneshot::Sender<Result<(), NetError>>>,
}

impl Shared {
    pub fn new(
        addr: String,
        engine: ConnectionState,
    ) -> (Arc<Shared>, oneshot::Receiver<Result<(), NetError>>) {
        let (ready, ready_rx) = oneshot::channel();
        let shared = Arc::new(Shared {
            addr,
            state: Mutex::new(State {
                engine,
                waiters: HashMap::new(),
                ready: Some(ready),
            }),
            wake: Notify::new(),
        });
        (shared, ready_rx)
    }

    pub fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain bookkeeping behind; keep going.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers `request` with the engine and wakes the task to write it.
    pub fn send(
        &self,
        request: EncodedRequest,
        timeout: Duration,
    ) -> Result<(CorrelationId, oneshot::Receiver<Result<Bytes, NetError>>), NetError> {
        let (reply, receiver) = oneshot::channel();
        let mut state = self.lock();
        let id = state.engine.send_request(now(), request, timeout)?;
        state.waiters.insert(id, reply);
        drop(state);
        self.wake.notify_one();
        Ok((id, receiver))
    }

    /// The caller of `id` gave up.
    pub fn cancel(&self, id: CorrelationId) {
        let mut state = self.lock();
        state.engine.cancel(id);
        state.waiters.remove(&id);
    }

    /// Closes the connection now; the task writes nothing more and exits.
    pub fn close(&self) {
        let mut state = self.lock();
        state.engine.close();
        state.dispatch();
        drop(state);
        self.wake.notify_one();
    }
}

impl State {
    /// Hands every pending event to its waiter; returns the SASL challenge the engine asked
    /// the mechanism to answer, if it asked.
    fn dispatch(&mut self) -> Option<Option<Bytes>> {
        let mut step = None;
        while let Some(event) = self.engine.poll_event() {
            match event {
                Event::Ready => {
                    if let Some(ready) = self.ready.take() {
                        let _ = ready.send(Ok(()));
                    }
                }
                Event::SaslStep { challenge } => step = Some(challenge),
                Event::Response {
                    correlation_id,
                    result,
                } => {
                    // The caller may have given up (a dropped future): discard quietly.
                    if let Some(reply) = self.waiters.remove(&correlation_id) {
                        let _ = reply.send(result);
                    }
                }
                Event::Closed(reason) => {
                    let error = NetError::ConnectionClosed {
                        addr: self.engine.addr().to_owned(),
                        reason,
                    };
                    if let Some(ready) = self.ready.take() {
                        let _ = ready.send(Err(error.clone()));
                    }
                    for (_, reply) in self.waiters.drain() {
                        let _ = reply.send(Err(error.clone()));
                    }
                }
            }
        }
        step
    }
}

/// The engine's clock: tokio's, so that paused-time tests drive it.
pub(crate) fn now() -> std::time::Instant {
    Instant::now().into_std()
}

/// Closes the connection when the task ends, however it ends (a panic included), so that no
/// caller waits for an answer that nobody will deliver.
struct CloseOnExit(Arc<Shared>);

impl Drop for CloseOnExit {
    fn drop(&mut self) {
        self.0.close();
    }
}

type StepOutput = (Option<Exchange>, Result<Option<Vec<u8>>, NetError>);
type StepFuture = Pin<Box<dyn Future<Output = StepOutput> + Send>>;

/// Runs the connection on `io` until it closes.
pub(crate) async fn run(
    io: Box<dyn Transport>,
    shared: Arc<Shared>,
    sasl: Option<SaslConfig>,
    host: String,
) {
    let _close_on_exit = CloseOnExit(shared.clone());
    let (mut reader, mut writer) = tokio::io::split(io);
    let mut input = vec![0u8; READ_CHUNK];
    let mut output: VecDeque<Bytes> = VecDeque::new();
    let mut written = 0;
    let mut unflushed = false;
    let mut exchange: Option<Exchange> = None;
    let mut step: Option<StepFuture> = None;
    loop {
        let deadline = {
            let mut state = shared.lock();
            while let Some(frame) = state.engine.poll_transmit() {
                output.push_back(frame);
            }
            if let Some(challenge) = state.dispatch() {
                step = Some(sasl_step(
                    sasl.clone(),
                    shared.addr.clone(),
                    host.clone(),
                    exchange.take(),
                    challenge,
                ));
            }
            if state.engine.is_closed() {
                break;
            }
            state.engine.poll_timeout()
        };
        let chunk = output.front().map(|frame| frame.slice(written..));
        let wake_at = deadline.map_or_else(far_future, Instant::from_std);
        tokio::select! {
            read = reader.read(&mut input) => {
                let mut state = shared.lock();
                match read {
                    Ok(0) => state.engine.handle_peer_closed(),
                    Ok(n) => state.engine.handle_input(now(), &input[..n]),
                    Err(error) => state.engine.handle_io_error(tls::map_io_error(&shared.addr, error)),
                }
            }
            // A burst of frames is flushed once, not per frame: pipelined requests share TLS
            // records.
            result = write_or_flush(&mut writer, chunk.clone()), if chunk.is_some() || unflushed => {
                let error = match (result, &chunk) {
                    (Ok(0), Some(_)) => Some(std::io::Error::from(std::io::ErrorKind::WriteZero)),
                    (Ok(n), Some(_)) => {
                        written += n;
                        unflushed = true;
                        if output.front().is_some_and(|frame| written == frame.len()) {
                            output.pop_front();
                            written = 0;
                        }
                        None
                    }
                    (Ok(_), None) => {
                        unflushed = false;
                        None
                    }
                    (Err(error), _) => Some(error),
                };
                if let Some(error) = error {
                    shared.lock().engine.handle_io_error(tls::map_io_error(&shared.addr, error));
                }
            }
            (kept, answer) = poll_step(&mut step), if step.is_some() => {
                step = None;
                exchange = kept;
                shared.lock().engine.handle_sasl_step(now(), answer);
            }
            () = tokio::time::sleep_until(wake_at), if deadline.is_some() => {
                shared.lock().engine.handle_timeout(now());
            }
            () = shared.wake.notified() => {}
        }
    }
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, writer.shutdown()).await;
}

/// Writes some of `chunk`, or flushes when there is nothing left to write.
async fn write_or_flush(
    writer: &mut tokio::io::WriteHalf<Box<dyn Transport>>,
    chunk: Option<Bytes>,
) -> std::io::Result<usize> {
    match chunk {
        Some(chunk) => writer.write(&chunk).await,
        None => writer.flush().await.map(|()| 0),
    }
}

async fn poll_step(step: &mut Option<StepFuture>) -> StepOutput {
    match step {
        Some(future) => future.await,
        None => std::future::pending().await,
    }
}

/// An instant no deadline reaches (the sleep branch is disabled then anyway).
fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365)
}

/// One step of the SASL mechanism: the first message of a new exchange when `challenge` is
/// `None`, else the answer to the broker's challenge. The exchange comes back for the next.
fn sasl_step(
    sasl: Option<SaslConfig>,
    addr: String,
    host: String,
    exchange: Option<Exchange>,
    challenge: Option<Bytes>,
) -> StepFuture {
    Box::pin(async move {
        let Some(sasl) = sasl else {
            let error = NetError::InvalidConfig {
                reason: "the connection asked for SASL without SASL settings".to_owned(),
            };
            return (None, Err(error));
        };
        let mechanism = sasl.mechanism();
        let failed = |error| exchange_error(&addr, mechanism, error);
        match (exchange, challenge) {
            (_, None) => {
                let mut exchange = match sasl.exchange(&host).await {
                    Ok(exchange) => exchange,
                    Err(error) => return (None, Err(failed(error))),
                };
                let first = exchange.client_first().await.map(Some).map_err(failed);
                (Some(exchange), first)
            }
            (Some(mut exchange), Some(challenge)) => {
                let next = exchange.receive(&challenge).await.map_err(failed);
                (Some(exchange), next)
            }
            (None, Some(_)) => {
                let error = NetError::SaslProtocol {
                    addr,
                    mechanism: mechanism.name().to_owned(),
                    reason: "the broker sent a challenge before the exchange started".to_owned(),
                };
                (None, Err(error))
            }
        }
    })
}

fn exchange_error(addr: &str, mechanism: SaslMechanism, error: ExchangeError) -> NetError {
    match error {
        ExchangeError::Sasl(error) => NetError::SaslProtocol {
            addr: addr.to_owned(),
            mechanism: mechanism.name().to_owned(),
            reason: error.to_string(),
        },
        #[cfg(feature = "gssapi")]
        ExchangeError::Gssapi { service, error } => NetError::Gssapi {
            addr: addr.to_owned(),
            service,
            cause: error,
        },
    }
}

/// Tells the engine a caller gave up when its future is dropped before the answer came.
pub(crate) struct CancelOnDrop<'a> {
    shared: &'a Shared,
    id: Option<CorrelationId>,
}

impl<'a> CancelOnDrop<'a> {
    pub fn new(shared: &'a Shared, id: CorrelationId) -> Self {
        CancelOnDrop {
            shared,
            id: Some(id),
        }
    }

    /// The answer came: nothing to cancel.
    pub fn disarm(mut self) {
        self.id = None;
    }
}

impl Drop for CancelOnDrop<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            self.shared.cancel(id);
        }
    }
}
