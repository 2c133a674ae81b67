//! The journal proves itself: every event carries a hash chained to the one before it, and the last durable head
//! (sequence and hash) is also recorded outside the store, in `journal.head`.
//!
//! - [`chain_hash`] is BLAKE3 keyed by the previous hash (mixed with a key derived from the context "vigie journal
//!   chain v1") over the row as stored: sequence, time, id, actor, origin, source, kind and payload, and the texts'
//!   lengths. The first event's previous hash is [`GENESIS`] (all zeros).
//! - [`ChainCheck`] follows a scan and says where the chain breaks: a sequence missing, an event altered (its hash
//!   does not match its content, or the hash before it changed), an event without a hash.
//! - [`HeadFile`] keeps the head outside the database, in two fixed-size slots written in turn, each with its own
//!   checksum: a torn write damages at most the slot being written, and the other still holds the previous head.
//!   SQLite drops WAL frames silently after a bad checksum; the head file is how such a loss is noticed.

use crate::{JournalStore, RawEvent, StoreError};
use std::fs::File;
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// A chain hash (32 bytes).
pub type Hash = [u8; 32];

/// The hash before the first event.
pub const GENESIS: Hash = [0; 32];

const CONTEXT: &str = "vigie journal chain v1";

/// Where a journal ends: its last sequence and that event's chain hash (`0` and [`GENESIS`] when empty).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Head {
    pub seq: u64,
    pub hash: Hash,
}

impl Head {
    pub const EMPTY: Head = Head { seq: 0, hash: GENESIS };
}

impl std::fmt::Display for Head {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "seq {} hash {}", self.seq, hex(&self.hash))
    }
}

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The chain hash of one row given the previous row's hash.
///
/// Keyed BLAKE3: the key is the previous hash XOR a key derived once from the context "vigie journal chain v1" (so
/// the first row's key is that derived key, and no hash of Vigie's can be confused with another use of BLAKE3); the
/// input is the row as stored: sequence and time (little-endian), id, then actor, origin, source, kind and payload
/// one after the other, then their five lengths (u32 little-endian). Keying by the previous hash rather than hashing
/// it keeps a typical row within four 64-byte blocks, and with the lengths last, replay hashes a row's texts straight
/// from the buffer it copies them into ([`chain_hash_parts`]), without another copy.
#[allow(clippy::too_many_arguments)]
pub fn chain_hash(
    prev: &Hash,
    seq: u64,
    id: &Uuid,
    time_us: i64,
    actor: &str,
    origin: &str,
    source: &str,
    kind: &str,
    payload: &str,
) -> Hash {
    let texts = [actor, origin, source, kind, payload];
    let mut h = hasher(prev, seq, id, time_us);
    for t in texts {
        h.update(t.as_bytes());
    }
    finish(h, texts.map(|t| t.len()))
}

/// [`chain_hash`] of a row whose five texts lie one after the other in `texts`, with these lengths.
pub fn chain_hash_parts(prev: &Hash, seq: u64, id: &Uuid, time_us: i64, texts: &[u8], lens: [usize; 5]) -> Hash {
    let mut h = hasher(prev, seq, id, time_us);
    h.update(texts);
    finish(h, lens)
}

fn hasher(prev: &Hash, seq: u64, id: &Uuid, time_us: i64) -> blake3::Hasher {
    let mut key = *context_key();
    for (k, p) in key.iter_mut().zip(prev) {
        *k ^= p;
    }
    let mut head = [0u8; 32];
    head[..8].copy_from_slice(&seq.to_le_bytes());
    head[8..16].copy_from_slice(&time_us.to_le_bytes());
    head[16..].copy_from_slice(id.as_bytes());
    let mut h = blake3::Hasher::new_keyed(&key);
    h.update(&head);
    h
}

fn finish(mut h: blake3::Hasher, lens: [usize; 5]) -> Hash {
    let mut tail = [0u8; 20];
    for (i, l) in lens.iter().enumerate() {
        tail[i * 4..i * 4 + 4].copy_from_slice(&(*l as u32).to_le_bytes());
    }
    h.update(&tail);
    *h.finalize().as_bytes()
}

/// The key derived once from [`CONTEXT`].
fn context_key() -> &'static [u8; 32] {
    static KEY: std::sync::OnceLock<[u8; 32]> = std::sync::OnceLock::new();
    KEY.get_or_init(|| blake3::derive_key(CONTEXT, b""))
}

/// The chain hash of a stored row given the previous row's hash.
pub fn raw_hash(prev: &Hash, raw: &RawEvent<'_>) -> Hash {
    chain_hash(prev, raw.seq, &raw.id, raw.time_us, raw.actor, raw.origin, raw.source, raw.kind, raw.payload)
}

/// Why a chain does not hold, at a given sequence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error("sequence {expected} is missing (the journal goes from {prev} to {found})")]
    Missing { prev: u64, expected: u64, found: u64 },
    #[error("event {seq} has no chain hash")]
    Unhashed { seq: u64 },
    #[error("event {seq} does not match its chain hash: it was altered, or an event before it was removed or altered")]
    Altered { seq: u64 },
    #[error(
        "journal.head records event {seq} with hash {recorded}, but the journal's event {seq} hashes to {found}: \
         the journal was replaced or rewritten"
    )]
    HeadDiffers { seq: u64, recorded: String, found: String },
    #[error(
        "events {from}..={to} are missing: journal.head records {to} as durable but the journal ends at {last} \
         (a lost or damaged write-ahead log, a journal restored from an older copy, or a journal that vanished)"
    )]
    BehindHead { last: u64, from: u64, to: u64 },
}

impl ChainError {
    /// The first sequence concerned.
    pub fn seq(&self) -> u64 {
        match self {
            ChainError::Missing { expected, .. } => *expected,
            ChainError::Unhashed { seq } | ChainError::Altered { seq } | ChainError::HeadDiffers { seq, .. } => *seq,
            ChainError::BehindHead { from, .. } => *from,
        }
    }
}

/// Follows rows in order from a known head and checks each one's place in the chain.
#[derive(Debug, Clone)]
pub struct ChainCheck {
    head: Head,
    /// A head recorded elsewhere (journal.head) that the chain must pass through.
    expect: Option<Head>,
}

impl ChainCheck {
    pub fn new(from: Head, expect: Option<Head>) -> ChainCheck {
        ChainCheck { head: from, expect: expect.filter(|e| e.seq > from.seq) }
    }

    /// Checks the next row; on success it becomes the head.
    pub fn check(&mut self, raw: &RawEvent<'_>) -> Result<(), ChainError> {
        if raw.seq != self.head.seq + 1 {
            return Err(ChainError::Missing { prev: self.head.seq, expected: self.head.seq + 1, found: raw.seq });
        }
        let stored: &[u8] = raw.hash;
        if stored.is_empty() {
            return Err(ChainError::Unhashed { seq: raw.seq });
        }
        let hash = raw_hash(&self.head.hash, raw);
        self.accept(raw.seq, hash, stored)
    }

    /// [`ChainCheck::check`] for a row whose texts lie one after the other in `texts` (replay's copy of it).
    pub fn check_parts(
        &mut self,
        seq: u64,
        id: &Uuid,
        time_us: i64,
        texts: &[u8],
        lens: [usize; 5],
        stored: &[u8],
    ) -> Result<(), ChainError> {
        if seq != self.head.seq + 1 {
            return Err(ChainError::Missing { prev: self.head.seq, expected: self.head.seq + 1, found: seq });
        }
        if stored.is_empty() {
            return Err(ChainError::Unhashed { seq });
        }
        let hash = chain_hash_parts(&self.head.hash, seq, id, time_us, texts, lens);
        self.accept(seq, hash, stored)
    }

    fn accept(&mut self, seq: u64, hash: Hash, stored: &[u8]) -> Result<(), ChainError> {
        if stored != hash {
            return Err(ChainError::Altered { seq });
        }
        self.head = Head { seq, hash };
        if let Some(e) = self.expect {
            if e.seq == seq {
                if e.hash != hash {
                    return Err(ChainError::HeadDiffers { seq: e.seq, recorded: hex(&e.hash), found: hex(&hash) });
                }
                self.expect = None;
            }
        }
        Ok(())
    }

    /// Once every row was checked: the chain must have reached the recorded head.
    pub fn finish(&self) -> Result<Head, ChainError> {
        match self.expect {
            Some(e) => Err(ChainError::BehindHead { last: self.head.seq, from: self.head.seq + 1, to: e.seq }),
            None => Ok(self.head),
        }
    }

    pub fn head(&self) -> Head {
        self.head
    }
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Rows read.
    pub events: u64,
    /// The last row read (sequence and its stored hash; zero hash when it has none).
    pub last: Head,
    /// Where the chain holds up to.
    pub verified: Head,
    /// The head recorded in journal.head, when there is one.
    pub recorded: Option<Head>,
    /// The first problem, if any.
    pub problem: Option<ChainError>,
}

impl Verification {
    pub fn ok(&self) -> bool {
        self.problem.is_none()
    }
}

/// Reads the whole journal and checks its chain (and, when given, that it reaches the recorded head).
/// It reads on past the first problem, to count the events and find the last one.
pub fn verify(store: &mut dyn JournalStore, recorded: Option<Head>) -> Result<Verification, StoreError> {
    let mut check = ChainCheck::new(Head::EMPTY, recorded);
    let mut problem = None;
    let mut events = 0u64;
    let mut last = Head::EMPTY;
    store.scan(0, None, &mut |raw| {
        events += 1;
        last = Head { seq: raw.seq, hash: raw.hash.try_into().unwrap_or(GENESIS) };
        if problem.is_none() {
            if let Err(e) = check.check(&raw) {
                problem = Some(e);
            }
        }
        Ok(())
    })?;
    if problem.is_none() {
        problem = check.finish().err();
    }
    Ok(Verification { events, last, verified: check.head(), recorded, problem })
}

/// The journal's head kept outside the store: `DATA_DIR/journal.head`.
///
/// 128 bytes: two slots of 64 written in turn, each `VIGIEHD1`, a write counter, the sequence, the hash and the first
/// 8 bytes of a BLAKE3 checksum of the 56 bytes before it. Reading takes the valid slot with the highest counter.
pub struct HeadFile {
    file: File,
    path: PathBuf,
    counter: u64,
    last_sync: std::time::Instant,
    unsynced: bool,
}

const MAGIC: &[u8; 8] = b"VIGIEHD1";
const SLOT: usize = 64;

fn slot_bytes(counter: u64, head: Head) -> [u8; SLOT] {
    let mut b = [0u8; SLOT];
    b[..8].copy_from_slice(MAGIC);
    b[8..16].copy_from_slice(&counter.to_le_bytes());
    b[16..24].copy_from_slice(&head.seq.to_le_bytes());
    b[24..56].copy_from_slice(&head.hash);
    let sum = blake3::hash(&b[..56]);
    b[56..].copy_from_slice(&sum.as_bytes()[..8]);
    b
}

fn parse_slot(b: &[u8]) -> Option<(u64, Head)> {
    if b.len() != SLOT || &b[..8] != MAGIC || blake3::hash(&b[..56]).as_bytes()[..8] != b[56..] {
        return None;
    }
    let counter = u64::from_le_bytes(b[8..16].try_into().ok()?);
    let seq = u64::from_le_bytes(b[16..24].try_into().ok()?);
    let hash: Hash = b[24..56].try_into().ok()?;
    Some((counter, Head { seq, hash }))
}

/// Why journal.head cannot be read.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{path}: {message}")]
pub struct HeadFileError {
    pub path: String,
    pub message: String,
}

impl HeadFile {
    /// At most this long between a durable batch and the head reaching the disk (see [`HeadFile::record`]).
    pub const SYNC_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

    /// Reads the recorded head: `None` when there is no file; an error when it exists but no slot is valid.
    pub fn read(path: &Path) -> Result<Option<Head>, HeadFileError> {
        Self::read_slots(path).map(|o| o.map(|(_, h)| h))
    }

    fn read_slots(path: &Path) -> Result<Option<(u64, Head)>, HeadFileError> {
        let fail = |m: String| HeadFileError { path: path.display().to_string(), message: m };
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(fail(format!("cannot read: {e}"))),
        };
        let best = bytes.chunks(SLOT).take(2).filter_map(parse_slot).max_by_key(|(c, _)| *c);
        match best {
            Some(b) => Ok(Some(b)),
            None => Err(fail("damaged: no valid record of the journal's head".into())),
        }
    }

    /// Opens (creating) the file for writing and records `head` in it, durably.
    pub fn create(path: &Path, head: Head) -> Result<HeadFile, HeadFileError> {
        let fail = |m: String| HeadFileError { path: path.display().to_string(), message: m };
        // A damaged file is being replaced on purpose (after `vigie journal accept`): start the counter again.
        let counter = Self::read_slots(path).ok().flatten().map_or(0, |(c, _)| c);
        let file = File::options()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| fail(format!("cannot open: {e}")))?;
        let mut hf =
            HeadFile { file, path: path.to_path_buf(), counter, last_sync: std::time::Instant::now(), unsynced: false };
        // Both slots, so that an older head left in the other slot cannot come back.
        hf.write(head).map_err(|e| fail(format!("cannot write: {e}")))?;
        hf.write(head).map_err(|e| fail(format!("cannot write: {e}")))?;
        hf.sync().map_err(|e| fail(format!("cannot sync: {e}")))?;
        Ok(hf)
    }

    fn write(&mut self, head: Head) -> std::io::Result<()> {
        use std::os::unix::fs::FileExt;
        self.counter += 1;
        let slot = self.counter % 2;
        self.file.write_all_at(&slot_bytes(self.counter, head), slot * SLOT as u64)?;
        self.unsynced = true;
        Ok(())
    }

    /// Records a new durable head. The write reaches the page cache at once (it survives the process being killed);
    /// it is synced to disk at most [`HeadFile::SYNC_EVERY`] later (by this call or [`HeadFile::sync_if_due`]), so a
    /// power cut may leave the file one second behind (which is always safe: the head only ever lags), while a
    /// synchronous sync per batch would double the fsyncs of every commit.
    pub fn record(&mut self, head: Head) -> std::io::Result<()> {
        self.write(head)?;
        self.sync_if_due()
    }

    /// Syncs when the last sync is older than [`HeadFile::SYNC_EVERY`]. Returns whether something is left unsynced.
    pub fn sync_if_due(&mut self) -> std::io::Result<()> {
        if self.unsynced && self.last_sync.elapsed() >= Self::SYNC_EVERY {
            self.sync()?;
        }
        Ok(())
    }

    pub fn unsynced(&self) -> bool {
        self.unsynced
    }

    pub fn sync(&mut self) -> std::io::Result<()> {
        if self.unsynced {
            self.file.sync_data()?;
            self.unsynced = false;
        }
        self.last_sync = std::time::Instant::now();
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw<'a>(seq: u64, hash: &'a [u8], payload: &'a str) -> RawEvent<'a> {
        RawEvent {
            seq,
            id: Uuid::from_u128(seq as u128),
            time_us: 1,
            actor: "user:a",
            origin: "n",
            source: "s",
            kind: "k",
            payload,
            hash,
        }
    }

    #[test]
    fn the_chain_names_the_first_bad_sequence() {
        let h1 = raw_hash(&GENESIS, &raw(1, &[], "{}"));
        let h2 = raw_hash(&h1, &raw(2, &[], "{\"a\":1}"));
        let h3 = raw_hash(&h2, &raw(3, &[], "{}"));
        let mut c = ChainCheck::new(Head::EMPTY, None);
        c.check(&raw(1, &h1, "{}")).unwrap();
        c.check(&raw(2, &h2, "{\"a\":1}")).unwrap();
        c.check(&raw(3, &h3, "{}")).unwrap();
        assert_eq!(c.finish().unwrap(), Head { seq: 3, hash: h3 });

        // A payload altered by one byte.
        let mut c = ChainCheck::new(Head::EMPTY, None);
        c.check(&raw(1, &h1, "{}")).unwrap();
        assert_eq!(c.check(&raw(2, &h2, "{\"a\":2}")), Err(ChainError::Altered { seq: 2 }));
        // A row removed.
        let mut c = ChainCheck::new(Head::EMPTY, None);
        c.check(&raw(1, &h1, "{}")).unwrap();
        assert_eq!(c.check(&raw(3, &h3, "{}")), Err(ChainError::Missing { prev: 1, expected: 2, found: 3 }));
        // A row without hash (migrated badly).
        let mut c = ChainCheck::new(Head::EMPTY, None);
        assert_eq!(c.check(&raw(1, &[], "{}")), Err(ChainError::Unhashed { seq: 1 }));
        // Behind the recorded head.
        let mut c = ChainCheck::new(Head::EMPTY, Some(Head { seq: 3, hash: h3 }));
        c.check(&raw(1, &h1, "{}")).unwrap();
        assert_eq!(c.finish(), Err(ChainError::BehindHead { last: 1, from: 2, to: 3 }));
        // A recorded head the journal does not pass through.
        let mut c = ChainCheck::new(Head::EMPTY, Some(Head { seq: 1, hash: h2 }));
        assert!(matches!(c.check(&raw(1, &h1, "{}")), Err(ChainError::HeadDiffers { seq: 1, .. })));
        // Replay hashes a row from its copied texts: the same hash.
        let r = raw(2, &[], "{\"a\":1}");
        let texts = [r.actor, r.origin, r.source, r.kind, r.payload];
        assert_eq!(chain_hash_parts(&h1, 2, &r.id, 1, texts.concat().as_bytes(), texts.map(|t| t.len())), h2);
        // Every field counts.
        let base = raw(1, &[], "{}");
        for changed in [
            RawEvent { time_us: 2, ..base },
            RawEvent { actor: "user:b", ..base },
            RawEvent { origin: "m", ..base },
            RawEvent { source: "t", ..base },
            RawEvent { kind: "j", ..base },
            RawEvent { id: Uuid::from_u128(9), ..base },
            // Lengths are part of the hash: moving a byte from one text to the next changes it.
            RawEvent { actor: "user:", origin: "an", ..base },
        ] {
            assert_ne!(raw_hash(&GENESIS, &changed), h1, "{changed:?}");
        }
    }

    #[test]
    fn the_head_file_survives_a_torn_slot_and_refuses_garbage() {
        let dir = std::env::temp_dir().join(format!("vigie-head-{}", Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("journal.head");
        assert_eq!(HeadFile::read(&path).unwrap(), None);
        let a = Head { seq: 7, hash: [7; 32] };
        let b = Head { seq: 9, hash: [9; 32] };
        let mut hf = HeadFile::create(&path, a).unwrap();
        assert_eq!(HeadFile::read(&path).unwrap(), Some(a));
        hf.record(b).unwrap();
        hf.sync().unwrap();
        assert_eq!(HeadFile::read(&path).unwrap(), Some(b));
        drop(hf);
        // Tear the newest slot: the previous head comes back.
        let mut bytes = std::fs::read(&path).unwrap();
        let newest = (0..2).max_by_key(|i| parse_slot(&bytes[i * SLOT..(i + 1) * SLOT]).unwrap().0).unwrap();
        bytes[newest * SLOT + 20] ^= 0x40;
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(HeadFile::read(&path).unwrap(), Some(a));
        // Both slots damaged: refused, not taken for an empty journal.
        std::fs::write(&path, [0u8; 128]).unwrap();
        assert!(HeadFile::read(&path).unwrap_err().to_string().contains("damaged"));
        // Re-created on purpose, it holds the new head.
        HeadFile::create(&path, b).unwrap();
        assert_eq!(HeadFile::read(&path).unwrap(), Some(b));
        let _ = std::fs::remove_dir_all(dir);
    }
}
