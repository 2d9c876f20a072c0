//! The two tasks that move bytes for one connection, and the state they share with callers.
//!
//! A writer task drains a queue of encoded frames into the socket; a reader task splits the
//! socket into frames and hands each response to whoever waits for it. They are separate so a
//! large request being written never stops responses from being read (the broker may be
//! blocked writing to us). All bookkeeping lives in [`Shared`], behind a `std` mutex that is
//! never held across an `.await`.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::sync::{mpsc, oneshot, watch, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::frame::FrameDecoder;
use crate::inflight::{InFlight, MatchError};
use crate::metrics::Metrics;
use crate::{tls, CloseReason, NetError};

/// Any byte stream a connection can run on (TCP, TLS over TCP, an in-memory pipe in tests).
pub(crate) trait Transport: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Transport for T {}

/// What waits for a response: the caller's channel, and the in-flight slot it occupies until
/// the response arrives (even if the caller gave up, the broker still owes us the answer).
#[derive(Debug)]
pub(crate) struct Waiter {
    pub(crate) reply: oneshot::Sender<Result<Bytes, NetError>>,
    pub(crate) _slot: Option<OwnedSemaphorePermit>,
}

/// Mutable state of a connection.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) in_flight: InFlight<Waiter>,
    pub(crate) metrics: Metrics,
    pub(crate) last_activity: Instant,
    pub(crate) closed: Option<CloseReason>,
}

/// What callers and the I/O tasks share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) addr: String,
    pub(crate) state: Mutex<State>,
    /// One permit per in-flight slot (`max_in_flight_requests_per_connection`).
    pub(crate) slots: Arc<Semaphore>,
    pub(crate) slot_count: u32,
    shutdown: watch::Sender<bool>,
}

impl Shared {
    pub(crate) fn new(addr: String, max_in_flight: usize) -> Self {
        let slot_count = max_in_flight.clamp(1, Semaphore::MAX_PERMITS) as u32;
        Shared {
            addr,
            state: Mutex::new(State {
                in_flight: InFlight::new(),
                metrics: Metrics::default(),
                last_activity: Instant::now(),
                closed: None,
            }),
            slots: Arc::new(Semaphore::new(slot_count as usize)),
            slot_count,
            shutdown: watch::channel(false).0,
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain bookkeeping behind; keep going.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn closed_error(&self, reason: CloseReason) -> NetError {
        NetError::ConnectionClosed {
            addr: self.addr.clone(),
            reason,
        }
    }

    /// Closes the connection once: fails every waiting request with `reason`, refuses new
    /// ones, and tells both I/O tasks to stop.
    pub(crate) fn close(&self, reason: CloseReason) {
        let waiters: Vec<Waiter> = {
            let mut state = self.lock();
            if state.closed.is_some() {
                return;
            }
            tracing::debug!(addr = %self.addr, %reason, "closing connection");
            state.closed = Some(reason.clone());
            state
                .in_flight
                .drain()
                .map(|(_, pending)| pending.waiter)
                .collect()
        };
        for waiter in waiters {
            let _ = waiter.reply.send(Err(self.closed_error(reason.clone())));
        }
        self.slots.close();
        self.shutdown.send_replace(true);
    }

    pub(crate) fn fail(&self, error: NetError) {
        self.close(CloseReason::Failed(Arc::new(error)));
    }
}

/// Starts the reader and writer tasks on `stream`; returns the frame queue and both tasks.
pub(crate) fn spawn(
    stream: Box<dyn Transport>,
    shared: Arc<Shared>,
    max_frame_size: usize,
    max_idle: Duration,
) -> (mpsc::UnboundedSender<Bytes>, [tokio::task::AbortHandle; 2]) {
    let (read, write) = tokio::io::split(stream);
    let (frames, queue) = mpsc::unbounded_channel();
    let writer = tokio::spawn(write_frames(write, queue, shared.clone()));
    let reader = tokio::spawn(read_frames(read, shared, max_frame_size, max_idle));
    (frames, [writer.abort_handle(), reader.abort_handle()])
}

async fn write_frames(
    mut write: WriteHalf<Box<dyn Transport>>,
    mut queue: mpsc::UnboundedReceiver<Bytes>,
    shared: Arc<Shared>,
) {
    let mut shutdown = shared.shutdown.subscribe();
    loop {
        let frame = tokio::select! {
            frame = queue.recv() => frame,
            _ = shutdown.wait_for(|closed| *closed) => None,
        };
        let Some(frame) = frame else { break };
        let mut result = write.write_all(&frame).await;
        // Flush once per burst rather than per frame: pipelined requests share TLS records.
        if result.is_ok() && queue.is_empty() {
            result = write.flush().await;
        }
        if let Err(error) = result {
            shared.fail(tls::map_io_error(&shared.addr, error));
            break;
        }
    }
    let _ = write.shutdown().await;
}

async fn read_frames(
    mut read: ReadHalf<Box<dyn Transport>>,
    shared: Arc<Shared>,
    max_frame_size: usize,
    max_idle: Duration,
) {
    let mut decoder = FrameDecoder::new(max_frame_size);
    let mut shutdown = shared.shutdown.subscribe();
    loop {
        let idle_deadline = shared.lock().last_activity + max_idle;
        tokio::select! {
            read_result = read.read_buf(decoder.buffer_mut()) => match read_result {
                Ok(0) => return shared.close(CloseReason::PeerClosed),
                Ok(n) => {
                    shared.lock().metrics.record_received_bytes(n);
                    if let Err(error) = dispatch_frames(&mut decoder, &shared) {
                        return shared.fail(error);
                    }
                }
                Err(error) => {
                    return shared.fail(tls::map_io_error(&shared.addr, error));
                }
            },
            _ = tokio::time::sleep_until(idle_deadline) => {
                let idle = {
                    let state = shared.lock();
                    state.in_flight.is_empty() && state.last_activity + max_idle <= Instant::now()
                };
                if idle {
                    return shared.close(CloseReason::Idle(max_idle));
                }
                // Requests are in flight: the broker, not idleness, is what we wait for.
                shared.lock().last_activity = Instant::now();
            }
            _ = shutdown.wait_for(|closed| *closed) => return,
        }
    }
}

/// Hands every whole frame in `decoder` to its waiter.
fn dispatch_frames(decoder: &mut FrameDecoder, shared: &Shared) -> Result<(), NetError> {
    loop {
        let frame = decoder
            .next_frame()
            .map_err(|too_large| NetError::FrameTooLarge {
                addr: shared.addr.clone(),
                size: too_large.size,
                max: too_large.max,
            })?;
        let Some(frame) = frame else { return Ok(()) };
        let now = Instant::now();
        let completed = {
            let mut state = shared.lock();
            let completed = state.in_flight.complete(frame, now.into_std());
            if let Ok(done) = &completed {
                state
                    .metrics
                    .record_response(done.request.api, done.latency);
                state.last_activity = now;
            }
            completed
        };
        match completed {
            Ok(done) => {
                // The caller may have given up (timeout, dropped future): discard quietly.
                let _ = done.request.waiter.reply.send(Ok(done.body));
            }
            Err(MatchError::UnknownCorrelationId {
                correlation_id,
                in_flight,
            }) => {
                return Err(NetError::UnknownCorrelationId {
                    addr: shared.addr.clone(),
                    correlation_id,
                    in_flight,
                })
            }
            Err(MatchError::MalformedHeader(source)) => {
                return Err(NetError::MalformedFrame {
                    addr: shared.addr.clone(),
                    what: "ResponseHeader",
                    source,
                })
            }
        }
    }
}
