//! [`Connection`]: the public face — connect (TCP or a [`Connector`](crate::Connector)'s
//! stream, TLS, then the engine's handshake), then send typed requests, pipelined, from any
//! number of tasks. The decisions are the sans-IO [`ConnectionState`]'s; this module and its
//! one task ([`driver`]) only move bytes and wake callers.

mod driver;
mod socket;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use klamm_protocol::{ApiKey, Message, Request};

use driver::{CancelOnDrop, Shared};

use crate::engine::{ConnectionState, EncodedRequest, EngineConfig};
use crate::metrics::MetricsSnapshot;
use crate::versions::ApiVersionTable;
use crate::{BrokerAddress, CloseReason, ConnectionConfig, NetError, Transport};

pub use socket::TlsSession;

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
/// (or on [`close`](Connection::close), a fatal error, the broker closing it, idleness, or the
/// broker falling silent while requests wait: see [`crate::engine`] for the timeout policy).
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
    versions: OnceLock<ApiVersionTable>,
    tls: Option<TlsSession>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.shared.close();
    }
}

impl Connection {
    /// Connects to `addr` (`host:port`): TCP (or the configured
    /// [`Connector`](crate::Connector)), TLS if the protocol says so, `ApiVersions`, then SASL
    /// if configured. Each phase has its own deadline and its own [`NetError`].
    ///
    /// Cancel-safe: dropping the future closes the half-open connection.
    pub async fn connect(addr: &str, config: &ConnectionConfig) -> Result<Connection, NetError> {
        config.validate()?;
        let broker: BrokerAddress = addr.parse()?;
        let (stream, tls) = socket::open(&broker, config).await?;
        let (connection, ready) = Connection::start(stream, broker, config.clone(), tls);
        // A failure that closed the connection reaches us as `ConnectionClosed`; the caller
        // wants the failure itself (e.g. the TLS alert rejecting our certificate).
        match ready.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => return Err(error.root_cause().clone()),
            Err(_) => return Err(connection.closed_error()),
        }
        let table = connection
            .inner
            .shared
            .lock()
            .engine
            .versions()
            .cloned()
            .unwrap_or_default();
        let _ = connection.inner.versions.set(table);
        tracing::debug!(addr = %connection.inner.addr, "connected");
        Ok(connection)
    }

    fn start(
        stream: Box<dyn Transport>,
        addr: BrokerAddress,
        config: ConnectionConfig,
        tls: Option<TlsSession>,
    ) -> (Self, tokio::sync::oneshot::Receiver<Result<(), NetError>>) {
        let label = addr.to_string();
        let engine_config = EngineConfig::new(label.clone(), &config, random_seed());
        let engine = ConnectionState::new(driver::now(), engine_config);
        let (shared, ready) = Shared::new(label, engine);
        tokio::spawn(driver::run(
            stream,
            shared.clone(),
            config.sasl.clone(),
            addr.host().to_owned(),
        ));
        let connection = Connection {
            inner: Arc::new(Inner {
                addr,
                config,
                shared,
                versions: OnceLock::new(),
                tls,
            }),
        };
        (connection, ready)
    }

    /// Sends `request` at the negotiated version and waits for its response, at most
    /// `request_timeout`.
    ///
    /// Cancel-safe: dropping the future gives up on the response (a request not yet written
    /// is never written; a written one's answer is discarded when it arrives) and leaves the
    /// connection usable. A timeout fails only this request.
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
        let encoded = EncodedRequest::new(api, version, &self.inner.config.client_id, &request)
            .map_err(|source| NetError::Encode {
                api,
                version,
                cause: source,
            })?;
        let shared = &self.inner.shared;
        let (id, reply) = shared.send(encoded, timeout)?;
        let cancel = CancelOnDrop::new(shared, id);
        let answer = reply.await;
        cancel.disarm();
        let body = match answer {
            Ok(result) => result?,
            Err(_) => return Err(self.closed_error()),
        };
        R::Response::from_bytes(&body, version).map_err(|source| NetError::MalformedFrame {
            addr: shared.addr.clone(),
            what: <R::Response as Message>::NAME,
            cause: source,
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

    /// The TLS session, for `SSL` and `SASL_SSL` connections.
    pub fn tls_session(&self) -> Option<&TlsSession> {
        self.inner.tls.as_ref()
    }

    /// Counters so far.
    pub fn metrics(&self) -> MetricsSnapshot {
        self.inner.shared.lock().engine.metrics()
    }

    /// How many times the connection re-authenticated (KIP-368).
    pub fn reauthentications(&self) -> u32 {
        self.inner.shared.lock().engine.reauthentications()
    }

    /// Why the connection is closed, `None` while it is open.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.inner.shared.lock().engine.close_reason().cloned()
    }

    /// Whether the connection is closed; a closed connection fails every request at once.
    pub fn is_closed(&self) -> bool {
        self.inner.shared.lock().engine.is_closed()
    }

    /// Closes the connection now; requests in flight fail with
    /// [`CloseReason::ClosedByClient`].
    pub fn close(&self) {
        self.inner.shared.close();
    }

    fn closed_error(&self) -> NetError {
        let reason = self.close_reason().unwrap_or(CloseReason::ClosedByClient);
        NetError::ConnectionClosed {
            addr: self.inner.shared.addr.clone(),
            reason,
        }
    }
}

/// A seed for the engine's jitter, from the operating system's generator.
fn random_seed() -> u64 {
    (crate::backoff::system_random() * u64::MAX as f64) as u64
}
