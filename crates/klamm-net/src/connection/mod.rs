//! [`Connection`]: the public face — connect (TCP, TLS, version negotiation, SASL), then send
//! typed requests, pipelined, from any number of tasks.

mod driver;
mod handshake;
mod socket;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use klamm_protocol::{ApiKey, Encode, Message, Request};
use tokio::sync::{mpsc, oneshot};
use tokio::task::AbortHandle;
use tokio::time::Instant;

use driver::{Shared, Waiter};

use crate::inflight::encode_request_frame;
use crate::metrics::MetricsSnapshot;
use crate::versions::ApiVersionTable;
use crate::{BrokerAddress, CloseReason, ConnectionConfig, NetError, Phase};

/// Per-request overrides for [`Connection::send_with`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestOptions {
    /// The version to send instead of the negotiated one (checked against the broker's range).
    pub version: Option<i16>,
    /// The deadline instead of `request_timeout`.
    pub timeout: Option<Duration>,
}

/// One connection to one broker.
///
/// Cheap to clone; clones share the connection, which closes when the last clone is dropped
/// (or on [`close`](Connection::close), a fatal error, the broker closing it, or idleness).
/// `send` takes `&self`, so many tasks can pipeline requests on one connection, up to
/// `max_in_flight_requests_per_connection` at a time.
///
/// ```no_run
/// use klamm_net::{Connection, ConnectionConfig};
/// use klamm_protocol::messages::MetadataRequest;
///
/// # async fn demo() -> Result<(), klamm_net::NetError> {
/// let config = ConnectionConfig::builder().client_id("ops").build()?;
/// let connection = Connection::connect("localhost:9092", &config).await?;
/// let metadata = connection.send(MetadataRequest::default()).await?;
/// println!("{} brokers", metadata.brokers.len());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Connection {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    addr: BrokerAddress,
    config: ConnectionConfig,
    shared: Arc<Shared>,
    frames: mpsc::UnboundedSender<Bytes>,
    versions: OnceLock<ApiVersionTable>,
    tasks: Mutex<Vec<AbortHandle>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.shared.close(CloseReason::ClosedByClient);
        for task in self
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
        {
            task.abort();
        }
    }
}

/// Whether a request takes one of the `max_in_flight` slots. Handshake and re-authentication
/// requests do not: they run when no ordinary request can be in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Take,
    Exempt,
}

impl Connection {
    /// Connects to `addr` (`host:port`): TCP, TLS if the protocol says so, `ApiVersions`, then
    /// SASL if configured. Each phase has its own deadline and its own [`NetError`].
    pub async fn connect(addr: &str, config: &ConnectionConfig) -> Result<Connection, NetError> {
        config.validate()?;
        let broker: BrokerAddress = addr.parse()?;
        let stream = socket::open(&broker, config).await?;
        let connection = Connection::start(stream, broker, config.clone());
        // A failure that closed the connection reaches us as `ConnectionClosed`; the caller
        // wants the failure itself (e.g. the TLS alert rejecting our certificate).
        let handshake = async {
            let table = connection.negotiate_versions().await?;
            let _ = connection.inner.versions.set(table);
            if let Some(sasl) = &connection.inner.config.sasl {
                let lifetime = connection.authenticate(sasl, Slot::Exempt).await?;
                if let Some(lifetime) = lifetime {
                    connection.schedule_reauthentication(lifetime);
                }
            }
            Ok::<_, NetError>(())
        };
        handshake
            .await
            .map_err(|error| error.root_cause().clone())?;
        tracing::debug!(addr = %connection.inner.addr, "connected");
        Ok(connection)
    }

    fn start(
        stream: Box<dyn driver::Transport>,
        addr: BrokerAddress,
        config: ConnectionConfig,
    ) -> Self {
        let shared = Arc::new(Shared::new(
            addr.to_string(),
            config.max_in_flight_requests_per_connection,
        ));
        let (frames, tasks) = driver::spawn(
            stream,
            shared.clone(),
            config.max_frame_size,
            config.connections_max_idle,
        );
        Connection {
            inner: Arc::new(Inner {
                addr,
                config,
                shared,
                frames,
                versions: OnceLock::new(),
                tasks: Mutex::new(tasks.to_vec()),
            }),
        }
    }

    /// Sends `request` at the negotiated version and waits for its response, at most
    /// `request_timeout`.
    ///
    /// Cancel-safe: dropping the future gives up on the response (it is discarded when it
    /// arrives) and leaves the connection usable. A timeout fails only this request.
    pub async fn send<R: Request>(&self, request: R) -> Result<R::Response, NetError> {
        self.send_with(request, RequestOptions::default()).await
    }

    /// Like [`send`](Self::send) at an explicit `version`.
    pub async fn send_version<R: Request>(
        &self,
        request: R,
        version: i16,
    ) -> Result<R::Response, NetError> {
        let options = RequestOptions {
            version: Some(version),
            ..Default::default()
        };
        self.send_with(request, options).await
    }

    /// Like [`send`](Self::send) with per-request overrides.
    pub async fn send_with<R: Request>(
        &self,
        request: R,
        options: RequestOptions,
    ) -> Result<R::Response, NetError> {
        let api = R::API_KEY;
        let version = match options.version {
            Some(version) => self.api_versions().check(api, version)?,
            None => self.api_versions().choose(api)?,
        };
        let timeout = options.timeout.unwrap_or(self.inner.config.request_timeout);
        let body = self
            .round_trip(
                api,
                version,
                &request,
                Phase::Request(api),
                timeout,
                Slot::Take,
            )
            .await?;
        R::Response::from_bytes(&body, version).map_err(|source| NetError::MalformedFrame {
            addr: self.inner.shared.addr.clone(),
            what: <R::Response as Message>::NAME,
            source,
        })
    }

    /// The version [`send`](Self::send) uses for `api`, or why there is none.
    pub fn version_for(&self, api: ApiKey) -> Result<i16, NetError> {
        self.api_versions().choose(api)
    }

    /// What the broker said in `ApiVersions` (and the pins from the configuration).
    pub fn api_versions(&self) -> &ApiVersionTable {
        static EMPTY: OnceLock<ApiVersionTable> = OnceLock::new();
        self.inner
            .versions
            .get()
            .unwrap_or_else(|| EMPTY.get_or_init(ApiVersionTable::default))
    }

    /// The broker's address.
    pub fn addr(&self) -> &BrokerAddress {
        &self.inner.addr
    }

    /// Counters so far.
    pub fn metrics(&self) -> MetricsSnapshot {
        let state = self.inner.shared.lock();
        state.metrics.snapshot(state.in_flight.len())
    }

    /// Why the connection is closed, `None` while it is open.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.inner.shared.lock().closed.clone()
    }

    /// Whether the connection is closed; a closed connection fails every request at once.
    pub fn is_closed(&self) -> bool {
        self.close_reason().is_some()
    }

    /// Closes the connection now; requests in flight fail with
    /// [`CloseReason::ClosedByClient`].
    pub fn close(&self) {
        self.inner.shared.close(CloseReason::ClosedByClient);
    }

    fn closed_error(&self) -> NetError {
        let reason = self.close_reason().unwrap_or(CloseReason::ClosedByClient);
        self.inner.shared.closed_error(reason)
    }

    /// Sends one request and waits for the raw response body.
    async fn round_trip(
        &self,
        api: ApiKey,
        version: i16,
        body: &impl Encode,
        phase: Phase,
        timeout: Duration,
        slot: Slot,
    ) -> Result<Bytes, NetError> {
        let deadline = Instant::now() + timeout;
        let timed_out = || NetError::Timeout {
            addr: self.inner.shared.addr.clone(),
            phase,
            after: timeout,
        };
        let permit = match slot {
            Slot::Exempt => None,
            Slot::Take => {
                let slots = self.inner.shared.slots.clone();
                let acquired = tokio::time::timeout_at(deadline, slots.acquire_owned())
                    .await
                    .map_err(|_| timed_out())?;
                Some(acquired.map_err(|_| self.closed_error())?)
            }
        };
        let reply = self.enqueue(api, version, body, permit)?;
        match tokio::time::timeout_at(deadline, reply).await {
            Err(_) => {
                self.inner.shared.lock().metrics.record_timeout(api);
                Err(timed_out())
            }
            Ok(Err(_)) => Err(self.closed_error()),
            Ok(Ok(result)) => result,
        }
    }

    /// Encodes and queues a request; synchronous, so a cancelled caller never leaves a
    /// request half-registered.
    fn enqueue(
        &self,
        api: ApiKey,
        version: i16,
        body: &impl Encode,
        permit: Option<tokio::sync::OwnedSemaphorePermit>,
    ) -> Result<oneshot::Receiver<Result<Bytes, NetError>>, NetError> {
        let shared = &self.inner.shared;
        let mut state = shared.lock();
        if let Some(reason) = &state.closed {
            return Err(shared.closed_error(reason.clone()));
        }
        let correlation_id = state.in_flight.next_correlation_id();
        let frame = encode_request_frame(
            api,
            version,
            correlation_id,
            &self.inner.config.client_id,
            body,
        )
        .map_err(|source| NetError::Encode {
            api,
            version,
            source,
        })?;
        let size = frame.len();
        // Queued under the lock, so the reader cannot see the response before it is recorded.
        if self.inner.frames.send(frame).is_err() {
            let reason = state.closed.clone().unwrap_or(CloseReason::ClosedByClient);
            return Err(shared.closed_error(reason));
        }
        let (reply, receiver) = oneshot::channel();
        let now = Instant::now();
        state.in_flight.insert(
            correlation_id,
            api,
            version,
            now.into_std(),
            Waiter {
                reply,
                _slot: permit,
            },
        );
        state.metrics.record_sent(api, size);
        state.last_activity = now;
        Ok(receiver)
    }
}
