//! The connection pool: one [`Connection`] per broker id, opened on first use and shared by
//! every caller. Two callers wanting the same broker share one connect attempt (single
//! flight); a failed attempt puts the broker in reconnect backoff ([`ReconnectSchedule`]); a
//! closed connection is replaced on the next use.
//!
//! [`SlotState`] is the sans-IO part (what to do for a broker at `now`); [`Pool`] is the glue.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use klamm_net::backoff::{system_random, Backoff, ReconnectSchedule};
use klamm_net::{BrokerAddress, Connection, ConnectionConfig, NetError, Phase};

use crate::routing::BrokerLoad;

/// Whether a pooled connection can still carry requests.
pub trait Liveness: Clone {
    /// Whether it is open.
    fn is_open(&self) -> bool;
}

impl Liveness for Connection {
    fn is_open(&self) -> bool {
        !self.is_closed()
    }
}

/// What to do for one broker at some instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlotReady<C> {
    /// Use this open connection.
    Open(C),
    /// Connect now.
    Connect,
    /// A recent attempt failed; wait this long before the next one.
    Backoff(Duration),
}

/// The state of one broker's connection, without I/O.
#[derive(Debug, Clone)]
pub struct SlotState<C> {
    addr: BrokerAddress,
    connection: Option<C>,
    schedule: ReconnectSchedule,
    last_error: Option<NetError>,
    ever_connected: bool,
}

impl<C: Liveness> SlotState<C> {
    /// A broker at `addr` never connected to.
    pub fn new(addr: BrokerAddress, backoff: Backoff) -> Self {
        SlotState {
            addr,
            connection: None,
            schedule: ReconnectSchedule::new(backoff),
            last_error: None,
            ever_connected: false,
        }
    }

    /// What to do at `now`. A closed connection is dropped here.
    pub fn ready(&mut self, now: Instant) -> SlotReady<C> {
        if let Some(connection) = &self.connection {
            if connection.is_open() {
                return SlotReady::Open(connection.clone());
            }
            self.connection = None;
        }
        if self.schedule.may_connect(now) {
            SlotReady::Connect
        } else {
            SlotReady::Backoff(self.schedule.wait(now))
        }
    }

    /// A connection attempt succeeded.
    pub fn connected(&mut self, connection: C) {
        self.connection = Some(connection);
        self.schedule.record_success();
        self.last_error = None;
        self.ever_connected = true;
    }

    /// A connection attempt failed at `now`; returns the backoff before the next one.
    pub fn failed(&mut self, now: Instant, error: NetError, random: f64) -> Duration {
        self.last_error = Some(error);
        self.schedule.record_failure(now, random) - now
    }

    /// The broker moved to another address: drop the old connection and backoff.
    pub fn set_addr(&mut self, addr: BrokerAddress, backoff: Backoff) -> Option<C> {
        if addr == self.addr {
            return None;
        }
        self.addr = addr;
        self.schedule = ReconnectSchedule::new(backoff);
        self.last_error = None;
        self.connection.take()
    }

    /// The error of the last failed attempt, while in backoff.
    pub fn last_error(&self) -> Option<&NetError> {
        self.last_error.as_ref()
    }

    /// Whether a connection to this broker ever succeeded.
    pub fn ever_connected(&self) -> bool {
        self.ever_connected
    }

    /// Requests in flight on the open connection, `None` without one.
    fn load(&self, in_flight: impl Fn(&C) -> usize, now: Instant) -> (Option<usize>, Duration) {
        let open = self.connection.as_ref().filter(|c| c.is_open());
        (open.map(in_flight), self.schedule.wait(now))
    }
}

/// Why the pool has no connection for a broker.
#[derive(Debug, Clone)]
pub(crate) struct ConnectFailure {
    /// The attempt's error (or the last attempt's, while in backoff).
    pub error: NetError,
    /// Whether this broker was ever reachable (if not, its advertised address may be wrong).
    pub ever_connected: bool,
    /// How long until the next attempt may start.
    pub retry_in: Duration,
}

struct Slot {
    /// Held while connecting, so that concurrent callers wait for one attempt.
    connecting: tokio::sync::Mutex<()>,
    state: Mutex<SlotState<Connection>>,
}

impl Slot {
    fn state(&self) -> MutexGuard<'_, SlotState<Connection>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One connection per broker id.
pub(crate) struct Pool {
    config: ConnectionConfig,
    slots: Mutex<HashMap<i32, Arc<Slot>>>,
}

impl Pool {
    pub fn new(config: ConnectionConfig) -> Self {
        Pool {
            config,
            slots: Mutex::new(HashMap::new()),
        }
    }

    fn backoff(&self) -> Backoff {
        Backoff::new(
            self.config.reconnect_backoff,
            self.config.reconnect_backoff_max,
        )
    }

    fn slots(&self) -> MutexGuard<'_, HashMap<i32, Arc<Slot>>> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The slot of `broker_id`, created or re-addressed as needed.
    fn slot(&self, broker_id: i32, addr: &BrokerAddress) -> Arc<Slot> {
        let backoff = self.backoff();
        let slot = self
            .slots()
            .entry(broker_id)
            .or_insert_with(|| {
                Arc::new(Slot {
                    connecting: tokio::sync::Mutex::new(()),
                    state: Mutex::new(SlotState::new(addr.clone(), backoff)),
                })
            })
            .clone();
        if let Some(old) = slot.state().set_addr(addr.clone(), backoff) {
            old.close();
        }
        slot
    }

    /// Hands over an open connection (the bootstrap's, when the broker advertises the same
    /// address), so that it is not opened twice.
    pub fn adopt(&self, broker_id: i32, connection: Connection) {
        let addr = connection.addr().clone();
        self.slot(broker_id, &addr).state().connected(connection);
    }

    /// Whether this broker id was ever used.
    pub fn knows(&self, broker_id: i32) -> bool {
        self.slots().contains_key(&broker_id)
    }

    /// The open connection to `broker_id` at `addr`, connecting if needed, by `deadline`.
    pub async fn connection(
        &self,
        broker_id: i32,
        addr: &BrokerAddress,
        deadline: Instant,
    ) -> Result<Connection, ConnectFailure> {
        let slot = self.slot(broker_id, addr);
        if let SlotReady::Open(connection) = slot.state().ready(crate::cluster::now()) {
            return Ok(connection);
        }
        let _connecting = slot.connecting.lock().await;
        // Whoever held the lock may have connected (or failed) meanwhile.
        let ready = slot.state().ready(crate::cluster::now());
        match ready {
            SlotReady::Open(connection) => return Ok(connection),
            SlotReady::Backoff(retry_in) => {
                let state = slot.state();
                return Err(ConnectFailure {
                    error: state
                        .last_error()
                        .cloned()
                        .unwrap_or_else(|| timeout(addr, retry_in)),
                    ever_connected: state.ever_connected(),
                    retry_in,
                });
            }
            SlotReady::Connect => {}
        }
        let started = crate::cluster::now();
        let target = addr.to_string();
        let attempt = Connection::connect(&target, &self.config);
        let result = match tokio::time::timeout_at(deadline.into(), attempt).await {
            Ok(result) => result,
            Err(_) => Err(timeout(
                addr,
                crate::cluster::now().saturating_duration_since(started),
            )),
        };
        let mut state = slot.state();
        match result {
            Ok(connection) => {
                tracing::debug!(broker_id, %addr, "connected to broker");
                state.connected(connection.clone());
                Ok(connection)
            }
            Err(error) => {
                tracing::debug!(broker_id, %addr, %error, "connecting to broker failed");
                let retry_in = state.failed(crate::cluster::now(), error.clone(), system_random());
                Err(ConnectFailure {
                    error,
                    ever_connected: state.ever_connected(),
                    retry_in,
                })
            }
        }
    }

    /// The load of each broker, for least-loaded routing.
    pub fn loads(&self, brokers: &[(i32, BrokerAddress)], now: Instant) -> Vec<BrokerLoad> {
        let slots = self.slots();
        brokers
            .iter()
            .map(|(id, addr)| {
                let (in_flight, backoff) = slots
                    .get(id)
                    .map(|slot| {
                        let state = slot.state();
                        if &state.addr != addr {
                            return (None, Duration::ZERO);
                        }
                        state.load(|c| c.metrics().in_flight, now)
                    })
                    .unwrap_or((None, Duration::ZERO));
                BrokerLoad {
                    id: *id,
                    in_flight,
                    backoff,
                }
            })
            .collect()
    }

    /// The last connect error of a broker in backoff, and whether it was ever reachable.
    pub fn last_failure(&self, broker_id: i32) -> Option<(NetError, bool)> {
        let slot = self.slots().get(&broker_id)?.clone();
        let state = slot.state();
        state
            .last_error()
            .map(|error| (error.clone(), state.ever_connected()))
    }

    /// The open connections, by broker id.
    pub fn open_connections(&self) -> Vec<(i32, Connection)> {
        let mut open: Vec<_> = self
            .slots()
            .iter()
            .filter_map(|(id, slot)| {
                let state = slot.state();
                state
                    .connection
                    .as_ref()
                    .filter(|c| c.is_open())
                    .map(|c| (*id, c.clone()))
            })
            .collect();
        open.sort_by_key(|(id, _)| *id);
        open
    }

    /// Closes every connection.
    pub fn close_all(&self) {
        for slot in self.slots().values() {
            if let Some(connection) = slot.state().connection.take() {
                connection.close();
            }
        }
    }
}

fn timeout(addr: &BrokerAddress, after: Duration) -> NetError {
    NetError::Timeout {
        addr: addr.to_string(),
        phase: Phase::Connect,
        after,
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;

    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[derive(Clone)]
    struct FakeConnection(Rc<Cell<bool>>);

    impl Liveness for FakeConnection {
        fn is_open(&self) -> bool {
            self.0.get()
        }
    }

    fn refused() -> NetError {
        NetError::Connect {
            addr: "b:1".into(),
            cause: Arc::new(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)),
        }
    }

    fn state() -> SlotState<FakeConnection> {
        SlotState::new(BrokerAddress::new("b", 1), Backoff::new(50 * MS, 1000 * MS))
    }

    #[test]
    fn fresh_slot_connects_then_reuses_the_open_connection() {
        let now = Instant::now();
        let mut slot = state();
        assert!(matches!(slot.ready(now), SlotReady::Connect));
        let open = Rc::new(Cell::new(true));
        slot.connected(FakeConnection(open.clone()));
        assert!(matches!(slot.ready(now), SlotReady::Open(_)));
        assert!(slot.ever_connected());
    }

    #[test]
    fn closed_connection_is_replaced() {
        let now = Instant::now();
        let mut slot = state();
        let open = Rc::new(Cell::new(true));
        slot.connected(FakeConnection(open.clone()));
        open.set(false);
        assert!(matches!(slot.ready(now), SlotReady::Connect));
        assert_eq!(slot.load(|_| 0, now), (None, Duration::ZERO));
    }

    #[test]
    fn failures_back_off_exponentially_and_keep_the_error() {
        let t0 = Instant::now();
        let mut slot = state();
        assert_eq!(slot.failed(t0, refused(), 0.5), 50 * MS);
        assert_eq!(slot.ready(t0 + 20 * MS), SlotReady::Backoff(30 * MS));
        assert!(matches!(slot.last_error(), Some(NetError::Connect { .. })));
        assert!(matches!(slot.ready(t0 + 50 * MS), SlotReady::Connect));
        assert_eq!(slot.failed(t0 + 50 * MS, refused(), 0.5), 100 * MS);
        assert!(!slot.ever_connected());
    }

    #[test]
    fn new_address_drops_connection_and_backoff() {
        let t0 = Instant::now();
        let mut slot = state();
        slot.connected(FakeConnection(Rc::new(Cell::new(true))));
        slot.failed(t0, refused(), 0.5);
        let backoff = Backoff::new(50 * MS, 1000 * MS);
        assert!(
            slot.set_addr(BrokerAddress::new("b", 1), backoff).is_none(),
            "same address"
        );
        assert!(slot.set_addr(BrokerAddress::new("c", 2), backoff).is_some());
        assert!(matches!(slot.ready(t0), SlotReady::Connect));
    }

    impl PartialEq for FakeConnection {
        fn eq(&self, other: &Self) -> bool {
            Rc::ptr_eq(&self.0, &other.0)
        }
    }

    impl Eq for FakeConnection {}

    impl std::fmt::Debug for FakeConnection {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "FakeConnection(open: {})", self.0.get())
        }
    }
}
