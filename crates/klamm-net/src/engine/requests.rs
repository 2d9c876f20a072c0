//! The request table of one connection: correlation ids, the requests waiting for an in-flight
//! slot, the requests written and not yet answered, and the ones given up on whose answer the
//! broker still owes us.
//!
//! Kafka answers the requests of one connection in order, but answers are matched by
//! correlation id all the same, so a proxy that reorders is still understood. A request whose
//! deadline passes frees its slot at once ([`Requests::expire`]); its correlation id stays
//! known, so that the late answer is recognised and dropped instead of being taken for a
//! stream out of sync.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use klamm_protocol::ApiKey;

use super::CorrelationId;
use crate::frame::LENGTH_PREFIX;

/// Where the correlation id sits in an encoded request frame: after the length prefix, the
/// API key and the API version (every request header version starts this way).
const CORRELATION_ID_AT: usize = LENGTH_PREFIX + 4;

/// Who asked for a request, and so who gets its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// A caller of [`ConnectionState::send_request`](super::ConnectionState::send_request):
    /// takes an in-flight slot, its answer becomes an event.
    User,
    /// The connection itself (`ApiVersions`, SASL): no slot, its answer drives the handshake.
    Handshake,
}

/// Where a request is in its life.
#[derive(Debug)]
enum Stage {
    /// Encoded, waiting for a slot (or for the handshake to finish).
    Queued(BytesMut),
    /// Written; `wanted` is false once its caller gave up ([`Requests::cancel`]).
    InFlight { wanted: bool },
    /// Given up on (deadline passed, or cancelled and then past its deadline): its slot is
    /// free, and its answer is dropped when it comes.
    Abandoned,
}

/// One request of the table.
#[derive(Debug)]
pub(crate) struct Entry {
    pub api: ApiKey,
    pub version: i16,
    pub origin: Origin,
    pub deadline: Instant,
    pub timeout: Duration,
    pub sent_at: Option<Instant>,
    stage: Stage,
}

/// A request whose deadline passed while somebody waited for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Expired {
    pub correlation_id: CorrelationId,
    pub api: ApiKey,
    pub origin: Origin,
    pub timeout: Duration,
    pub deadline: Instant,
    /// Whether it had been written (so the broker may act on it).
    pub written: bool,
}

/// What a matched answer is for.
#[derive(Debug)]
pub(crate) enum Answered {
    /// A request somebody still waits for.
    Wanted(Entry),
    /// A request nobody waits for any more: drop the answer.
    Unwanted(Entry),
}

/// The requests of one connection.
#[derive(Debug)]
pub(crate) struct Requests {
    next_id: CorrelationId,
    entries: HashMap<CorrelationId, Entry>,
    /// User requests waiting for a slot, oldest first.
    queue: VecDeque<CorrelationId>,
    /// User requests written and counted against `max_in_flight`.
    slots_used: usize,
    max_in_flight: usize,
}

impl Requests {
    pub fn new(max_in_flight: usize) -> Self {
        Requests {
            next_id: 0,
            entries: HashMap::new(),
            queue: VecDeque::new(),
            slots_used: 0,
            max_in_flight: max_in_flight.max(1),
        }
    }

    /// The next correlation id not in use (wrapping past `i32::MAX` to 0).
    fn allocate_id(&mut self) -> CorrelationId {
        loop {
            let id = self.next_id;
            self.next_id = id.checked_add(1).unwrap_or(0);
            if !self.entries.contains_key(&id) {
                return id;
            }
        }
    }

    /// Adds an encoded request frame (its correlation id is written here) as queued.
    pub fn add(
        &mut self,
        mut frame: BytesMut,
        api: ApiKey,
        version: i16,
        origin: Origin,
        now: Instant,
        timeout: Duration,
    ) -> CorrelationId {
        let id = self.allocate_id();
        frame[CORRELATION_ID_AT..CORRELATION_ID_AT + 4].copy_from_slice(&id.to_be_bytes());
        self.entries.insert(
            id,
            Entry {
                api,
                version,
                origin,
                deadline: now + timeout,
                timeout,
                sent_at: None,
                stage: Stage::Queued(frame),
            },
        );
        if origin == Origin::User {
            self.queue.push_back(id);
        }
        id
    }

    /// Takes a queued request out for writing at `now`: the frame to write.
    fn start(&mut self, id: CorrelationId, now: Instant) -> Option<(Bytes, ApiKey)> {
        let entry = self.entries.get_mut(&id)?;
        let Stage::Queued(frame) =
            std::mem::replace(&mut entry.stage, Stage::InFlight { wanted: true })
        else {
            return None;
        };
        entry.sent_at = Some(now);
        if entry.origin == Origin::User {
            self.slots_used += 1;
        }
        Some((frame.freeze(), entry.api))
    }

    /// Starts a handshake request (it takes no slot and is not queued).
    pub fn start_handshake(&mut self, id: CorrelationId, now: Instant) -> Option<(Bytes, ApiKey)> {
        self.start(id, now)
    }

    /// The next queued user request if a slot is free: its frame and API.
    pub fn start_next(&mut self, now: Instant) -> Option<(Bytes, ApiKey)> {
        if self.slots_used >= self.max_in_flight {
            return None;
        }
        let id = self.queue.pop_front()?;
        self.start(id, now)
    }

    /// Matches an answer's correlation id; `None` if no request has it.
    pub fn answer(&mut self, id: CorrelationId) -> Option<Answered> {
        let entry = self.entries.remove(&id)?;
        Some(match entry.stage {
            Stage::InFlight { wanted } => {
                if entry.origin == Origin::User {
                    self.slots_used -= 1;
                }
                if wanted {
                    Answered::Wanted(entry)
                } else {
                    Answered::Unwanted(entry)
                }
            }
            // Only a confused peer answers a request never written; treat it as unknown.
            Stage::Queued(_) => {
                self.entries.insert(id, entry);
                return None;
            }
            Stage::Abandoned => Answered::Unwanted(entry),
        })
    }

    /// The caller of `id` gave up: a queued request is dropped unwritten (returns `true`); a
    /// written one keeps its slot until answered or past its deadline.
    pub fn cancel(&mut self, id: CorrelationId) -> bool {
        let Some(entry) = self.entries.get_mut(&id) else {
            return false;
        };
        match entry.stage {
            Stage::Queued(_) => {
                self.entries.remove(&id);
                self.queue.retain(|queued| *queued != id);
                true
            }
            Stage::InFlight { ref mut wanted } => {
                *wanted = false;
                false
            }
            Stage::Abandoned => false,
        }
    }

    /// Requests whose deadline passed at `now`: queued ones are removed, written ones are
    /// abandoned (their slot freed). Returns those somebody still waited for, oldest first.
    pub fn expire(&mut self, now: Instant) -> Vec<Expired> {
        let mut expired = Vec::new();
        let mut removed = Vec::new();
        for (id, entry) in &mut self.entries {
            if entry.deadline > now || matches!(entry.stage, Stage::Abandoned) {
                continue;
            }
            let written = match std::mem::replace(&mut entry.stage, Stage::Abandoned) {
                Stage::Queued(_) => {
                    removed.push(*id);
                    Some(false)
                }
                Stage::InFlight { wanted } => {
                    if entry.origin == Origin::User {
                        self.slots_used -= 1;
                    }
                    wanted.then_some(true)
                }
                Stage::Abandoned => None,
            };
            if let Some(written) = written {
                expired.push(Expired {
                    correlation_id: *id,
                    api: entry.api,
                    origin: entry.origin,
                    timeout: entry.timeout,
                    deadline: entry.deadline,
                    written,
                });
            }
        }
        for id in removed {
            self.entries.remove(&id);
            self.queue.retain(|queued| *queued != id);
        }
        expired.sort_by_key(|e| (e.deadline, e.correlation_id));
        expired
    }

    /// The earliest deadline of a request somebody waits for or that holds a slot.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.entries
            .values()
            .filter(|entry| !matches!(entry.stage, Stage::Abandoned))
            .map(|entry| entry.deadline)
            .min()
    }

    /// When the oldest written request still unanswered (abandoned ones included) was written.
    pub fn oldest_unanswered(&self) -> Option<Instant> {
        self.entries
            .values()
            .filter(|entry| !matches!(entry.stage, Stage::Queued(_)))
            .filter_map(|entry| entry.sent_at)
            .min()
    }

    /// Written requests not yet answered, abandoned ones included.
    pub fn unanswered(&self) -> usize {
        self.entries
            .values()
            .filter(|entry| !matches!(entry.stage, Stage::Queued(_)))
            .count()
    }

    /// User requests counted against `max_in_flight`.
    pub fn slots_used(&self) -> usize {
        self.slots_used
    }

    /// User requests waiting for a slot.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Whether the table holds nothing at all.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Takes every request somebody waits for (queued or written), e.g. to fail them when the
    /// connection closes; the table is left empty.
    pub fn drain_wanted(&mut self) -> Vec<(CorrelationId, Entry)> {
        self.queue.clear();
        self.slots_used = 0;
        let mut wanted: Vec<(CorrelationId, Entry)> = self
            .entries
            .drain()
            .filter(|(_, entry)| {
                matches!(
                    entry.stage,
                    Stage::Queued(_) | Stage::InFlight { wanted: true }
                )
            })
            .collect();
        wanted.sort_by_key(|(id, _)| *id);
        wanted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn frame() -> BytesMut {
        BytesMut::from(&[0u8; 16][..])
    }

    #[test]
    fn correlation_id_is_written_into_the_frame() {
        let now = Instant::now();
        let mut requests = Requests::new(5);
        let first = requests.add(frame(), ApiKey::Metadata, 12, Origin::User, now, MS);
        let second = requests.add(frame(), ApiKey::Metadata, 12, Origin::User, now, MS);
        assert_eq!((first, second), (0, 1));
        requests.start_next(now).unwrap();
        let (written, api) = requests.start_next(now).unwrap();
        assert_eq!(api, ApiKey::Metadata);
        assert_eq!(&written[8..12], &1i32.to_be_bytes());
    }

    #[test]
    fn slots_limit_what_starts_and_an_answer_frees_one() {
        let now = Instant::now();
        let mut requests = Requests::new(2);
        for _ in 0..3 {
            requests.add(frame(), ApiKey::Metadata, 12, Origin::User, now, MS);
        }
        assert!(requests.start_next(now).is_some());
        assert!(requests.start_next(now).is_some());
        assert!(requests.start_next(now).is_none(), "both slots taken");
        assert!(matches!(requests.answer(0), Some(Answered::Wanted(_))));
        assert!(requests.start_next(now).is_some());
        assert_eq!(requests.slots_used(), 2);
    }

    #[test]
    fn an_expired_request_frees_its_slot_and_its_late_answer_is_unwanted() {
        let now = Instant::now();
        let mut requests = Requests::new(1);
        requests.add(frame(), ApiKey::Metadata, 12, Origin::User, now, 10 * MS);
        requests.add(frame(), ApiKey::Metadata, 12, Origin::User, now, 100 * MS);
        requests.start_next(now).unwrap();
        let expired = requests.expire(now + 10 * MS);
        assert_eq!(expired.len(), 1);
        assert!(expired[0].written, "it had been written");
        assert_eq!(requests.slots_used(), 0);
        assert!(
            requests.start_next(now + 10 * MS).is_some(),
            "the slot is free"
        );
        assert!(matches!(requests.answer(0), Some(Answered::Unwanted(_))));
        assert!(requests.answer(0).is_none(), "answered once");
    }

    #[test]
    fn cancelling_a_queued_request_drops_it_and_a_written_one_keeps_its_slot() {
        let now = Instant::now();
        let mut requests = Requests::new(1);
        requests.add(frame(), ApiKey::Metadata, 12, Origin::User, now, MS);
        requests.add(frame(), ApiKey::Metadata, 12, Origin::User, now, MS);
        requests.start_next(now).unwrap();
        assert!(requests.cancel(1), "queued: dropped");
        assert_eq!(requests.queued(), 0);
        assert!(!requests.cancel(0), "written: kept");
        assert_eq!(requests.slots_used(), 1);
        assert!(requests.expire(now + MS).is_empty(), "nobody waits for it");
        assert_eq!(requests.slots_used(), 0);
        assert_eq!(requests.unanswered(), 1);
    }

    #[test]
    fn handshake_requests_take_no_slot_and_are_not_queued() {
        let now = Instant::now();
        let mut requests = Requests::new(1);
        let id = requests.add(frame(), ApiKey::ApiVersions, 3, Origin::Handshake, now, MS);
        assert_eq!(requests.queued(), 0);
        requests.start_handshake(id, now).unwrap();
        assert_eq!(requests.slots_used(), 0);
        assert_eq!(requests.unanswered(), 1);
    }

    #[test]
    fn correlation_ids_wrap_and_skip_ids_in_use() {
        let now = Instant::now();
        let mut requests = Requests::new(1);
        requests.add(frame(), ApiKey::Metadata, 12, Origin::User, now, MS);
        requests.next_id = i32::MAX;
        assert_eq!(
            requests.add(frame(), ApiKey::Metadata, 12, Origin::User, now, MS),
            i32::MAX
        );
        assert_eq!(
            requests.add(frame(), ApiKey::Metadata, 12, Origin::User, now, MS),
            1
        );
    }
}
