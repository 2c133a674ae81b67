//! Snapshots of the projection: a [`State`] as bytes, so that a start loads it and replays only the journal's tail
//! instead of every event since the first.
//!
//! # Layout
//!
//! ```text
//! magic b"VIGIESNP" | FORMAT u32 LE | last_seq u64 LE | body length u64 LE | body | BLAKE3 of all before (32 bytes)
//! ```
//!
//! The body is a table of the distinct identifiers and sources (each written once), then every field of the state
//! in a fixed order: integers as LEB128 varints (signed ones zigzagged), `f64` as their 8 bits, texts as a length
//! and UTF-8, options and enumerations as a tag byte, maps as a count and their entries in key order (hash maps
//! sorted first, so that equal states give equal bytes).
//!
//! # What is written, and why not less
//!
//! **Every field of the state is written, its private indexes included**, except what `State::apply` makes, by
//! construction, a function of what is written: the keys of maps keyed by their record's own id (an organisation
//! by its `id`, an incident by its `sys_id`, a dependency by its child and group…), the reverse lookups of the slot
//! tables and of the forces' slots, the count of stock lines (the sum of the counted lines), the intern table of
//! sources (its values), and `scratch`, which is always empty between two events. Rebuilding the indexes from the
//! primary records instead was considered and refused: they are not functions of the records. Slots are numbered
//! in the order ids were first *mentioned* (a force or a plan can name a site before the site's record arrives);
//! the per-item index `stock_by_item` keeps its lines in the order counts and movements arrived and holds a
//! plan's movements since the site's last count, which no record keeps (a received plan no longer says when it
//! shipped); `adjusted` likewise. Writing them is exact, cheap, and keeps decoding a straight read with no
//! replay logic to keep in step with `apply`.
//!
//! Decoding shares one allocation per distinct identifier (as `apply` does for items through their slots) and
//! checks what later code relies on: every identifier follows [`crate::ids::check_id`], every slot number points
//! into its table, no map holds a key twice. It never panics, whatever the bytes; memory reserved ahead is bounded
//! by the input's size.
//!
//! # Versions
//!
//! [`FORMAT`] is bumped whenever the encoding or the meaning of a field of the state changes (a new field, a
//! change of `apply` that would have built a different state from the same events); a snapshot of another format
//! is refused with [`SnapshotError::Format`] and the caller replays the journal from the start. The codec names
//! every field of every record it writes when it destructures and rebuilds it, so adding a field to `State` or to
//! a record stops the build here until the codec (and `FORMAT`) follow.

use crate::access::{Accounts, Permission, Role, TokenIssued, TokenParent, TokenRecord, User, UserName};
use crate::fxhash::FxHashMap;
use crate::geo::LatLon;
use crate::ids::*;
use crate::itsm::{Entry, Incident, IncidentState, IncidentSynced, LogEntry, ReviewAction};
use crate::notify::{Channel, Delivery, Notification, OutboxEntry};
use crate::oncall::{Override, Period, Person, Rotation, Team};
use crate::plan::{Movement, Plan, PlanId, PlanStatus};
use crate::quantity::Quantity;
use crate::readiness::{Computer, ComputerRole, DeploymentState, Progress, Task, TaskStatus, Trade, Zone};
use crate::registry::*;
use crate::report::{ReportDrafted, ReportRecord, ReportVersion};
use crate::state::*;
use crate::toc::{
    Application, Asset, Check, CheckKind, CheckStateChange, Criticality, Dependency, MaintenanceWindow, Partner,
    WindowScope,
};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::{BTreeMap, VecDeque};
use std::hash::Hash;
use std::sync::Arc;

/// Bumped whenever the encoding or the meaning of State's fields changes; a snapshot of another version is ignored.
/// 2: venue readiness (zones, tasks, links, progress, computers).
/// 3: people, teams and rosters; the notifications' outbox and acknowledgements.
/// 4: reports drafted, approved and published.
pub const FORMAT: u32 = 4;

/// The first bytes of every snapshot.
pub const MAGIC: [u8; 8] = *b"VIGIESNP";

/// Magic, format and last sequence.
const HEADER: usize = 8 + 4 + 8;
/// The header and the body's length.
const PREFIX: usize = HEADER + 8;
const CHECKSUM: usize = 32;

/// Why bytes are not a snapshot this build can load.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    #[error("not a Vigie snapshot (it does not start with VIGIESNP)")]
    NotASnapshot,
    #[error("snapshot of format {found}; this build reads format {expected}", expected = FORMAT)]
    Format { found: u32 },
    #[error("snapshot truncated: {found} bytes, at least {expected} expected")]
    Truncated { found: u64, expected: u64 },
    #[error("snapshot followed by {extra} bytes after its checksum")]
    Trailing { extra: u64 },
    #[error("snapshot checksum mismatch: its bytes were altered")]
    Checksum,
    #[error("snapshot body undecodable at byte {at}: {what}")]
    Body { at: usize, what: &'static str },
}

/// The snapshot of a state.
pub fn encode(state: &State) -> Vec<u8> {
    let mut w = Writer { out: Vec::with_capacity(1 << 16), index: FxHashMap::default(), table: Vec::new() };
    encode_state(state, &mut w);
    let mut table =
        Writer { out: Vec::with_capacity(16 * w.table.len() + 8), index: Default::default(), table: vec![] };
    table.len(w.table.len());
    for s in &w.table {
        table.str(s);
    }
    let body = table.out.len() + w.out.len();
    let mut out = Vec::with_capacity(PREFIX + body + CHECKSUM);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT.to_le_bytes());
    out.extend_from_slice(&state.last_seq.to_le_bytes());
    out.extend_from_slice(&(body as u64).to_le_bytes());
    out.extend_from_slice(&table.out);
    drop(table);
    out.extend_from_slice(&w.out);
    drop(w);
    let sum = blake3::hash(&out);
    out.extend_from_slice(sum.as_bytes());
    out
}

/// The format and the last applied sequence of a snapshot, from its header only (the body is neither checked nor
/// read): what a caller needs to pick a snapshot. Any format is answered; [`decode`] reads only [`FORMAT`].
pub fn peek(bytes: &[u8]) -> Result<(u32, u64), SnapshotError> {
    if bytes.len() < MAGIC.len() || bytes[..MAGIC.len()] != MAGIC {
        return Err(if MAGIC.starts_with(bytes) {
            SnapshotError::Truncated { found: bytes.len() as u64, expected: (PREFIX + CHECKSUM) as u64 }
        } else {
            SnapshotError::NotASnapshot
        });
    }
    if bytes.len() < HEADER {
        return Err(SnapshotError::Truncated { found: bytes.len() as u64, expected: (PREFIX + CHECKSUM) as u64 });
    }
    let format = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    let last_seq = u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes"));
    Ok((format, last_seq))
}

/// The state a snapshot holds. Refuses bytes that are not a snapshot, of another format, truncated or extended,
/// altered (checksum), or whose body does not decode; never panics.
pub fn decode(bytes: &[u8]) -> Result<State, SnapshotError> {
    let (format, last_seq) = peek(bytes)?;
    if format != FORMAT {
        return Err(SnapshotError::Format { found: format });
    }
    let found = bytes.len() as u64;
    if bytes.len() < PREFIX + CHECKSUM {
        return Err(SnapshotError::Truncated { found, expected: (PREFIX + CHECKSUM) as u64 });
    }
    let body = u64::from_le_bytes(bytes[HEADER..PREFIX].try_into().expect("8 bytes"));
    let expected = body.saturating_add((PREFIX + CHECKSUM) as u64);
    if found < expected {
        return Err(SnapshotError::Truncated { found, expected });
    }
    if found > expected {
        return Err(SnapshotError::Trailing { extra: found - expected });
    }
    let end = bytes.len() - CHECKSUM;
    if blake3::hash(&bytes[..end]).as_bytes() != &bytes[end..] {
        return Err(SnapshotError::Checksum);
    }
    let mut r = Reader { buf: &bytes[..end], pos: PREFIX, table: Vec::new(), is_id: Vec::new() };
    let state = decode_state(&mut r, last_seq).map_err(|b| SnapshotError::Body { at: b.at, what: b.what })?;
    if r.pos != end {
        return Err(SnapshotError::Body { at: r.pos, what: "bytes left after the state" });
    }
    Ok(state)
}

// ---- The state ----

fn encode_state(state: &State, w: &mut Writer) {
    // Every field by name: a field added to State stops the build here.
    let State {
        organizations,
        sites,
        items,
        stock,
        forces,
        allowances,
        vehicles,
        stock_by_item,
        site_slots,
        org_slots,
        site_facts,
        org_parent,
        engaged,
        plans,
        reserved,
        reserved_for,
        in_transit,
        vehicle_holds,
        adjusted,
        item_slots,
        scratch: _,  // always empty between events
        force_slots, // written as the forces' ids in slot order
        toc,
        accounts,
        readiness,
        oncall,
        incidents,
        incident_timeline,
        incident_sync,
        sla_breaches,
        log,
        reports,
        last_incident_number,
        last_seq: _,    // in the header
        stock_lines: _, // the sum of the counted lines
        sources,        // written as its values
        last_source,
    } = state;
    // Slot tables first: what follows refers to them.
    site_slots.ids.enc(w);
    org_slots.ids.enc(w);
    item_slots.ids.enc(w);
    let mut by_slot: Vec<Option<&ForceId>> = vec![None; engaged.len()];
    for (id, &s) in force_slots {
        if let Some(x) = by_slot.get_mut(s as usize) {
            *x = Some(id);
        }
    }
    w.len(by_slot.len());
    for id in by_slot {
        // Every slot below `engaged.len()` has its force; an impossible hole would be refused when decoding.
        id.cloned().enc(w);
    }

    enc_values(w, organizations);
    enc_values(w, sites);
    enc_values(w, items);
    stock.enc(w);
    enc_values(w, forces);
    enc_values(w, allowances);
    enc_values(w, vehicles);
    stock_by_item.enc(w);
    site_facts.enc(w);
    org_parent.enc(w);
    engaged.enc(w);
    enc_values(w, plans);
    reserved.enc(w);
    reserved_for.enc(w);
    in_transit.enc(w);
    vehicle_holds.enc(w);
    adjusted.enc(w);

    let TocRegistry { partners, applications, assets, checks, dependencies, windows, hard, acks, history, version } =
        toc;
    enc_values(w, partners);
    enc_values(w, applications);
    enc_values(w, assets);
    enc_values(w, checks);
    enc_values(w, dependencies);
    enc_values(w, windows);
    hard.enc(w);
    acks.enc(w);
    history.enc(w);
    version.enc(w);

    let Accounts { users, tokens, sessions, version } = accounts;
    enc_values(w, users);
    enc_values(w, tokens);
    sessions.enc(w);
    version.enc(w);

    let ReadinessRegistry { zones, tasks, links, progress, computers, version, structure } = readiness;
    enc_values(w, zones);
    enc_values(w, tasks);
    links.enc(w);
    progress.enc(w);
    enc_values(w, computers);
    version.enc(w);
    structure.enc(w);

    let OnCallRegistry { people, teams, rotations, overrides, outbox, acknowledged } = oncall;
    enc_values(w, people);
    enc_values(w, teams);
    enc_values(w, rotations);
    enc_values(w, overrides);
    enc_values(w, outbox);
    acknowledged.enc(w);

    enc_values(w, incidents);
    incident_timeline.enc(w);
    enc_values(w, incident_sync);
    sla_breaches.enc(w);
    log.enc(w);
    last_incident_number.enc(w);
    enc_values(w, reports);

    let mut sources: Vec<&str> = sources.values().map(|s| &**s).collect();
    sources.sort_unstable();
    w.len(sources.len());
    for s in sources {
        w.shared(s);
    }
    match last_source {
        None => w.u8(0),
        Some(s) => {
            w.u8(1);
            w.shared(s);
        }
    }
}

fn decode_state(r: &mut Reader, last_seq: u64) -> Result<State, Bad> {
    let n = r.len()?;
    r.table.reserve(n.min(r.remaining()));
    r.is_id.reserve(n.min(r.remaining()));
    for _ in 0..n {
        let s: Arc<str> = Arc::from(r.str()?);
        r.is_id.push(check_id(&s).is_ok());
        r.table.push(s);
    }

    let site_slots = slots(r)?;
    let org_slots = slots(r)?;
    let item_slots = slots(r)?;
    let (ns, no) = (site_slots.len() as u32, org_slots.len() as u32);
    let n = r.len()?;
    let mut force_slots = FxHashMap::with_capacity_and_hasher(r.cap::<ForceId>(n), Default::default());
    for i in 0..n {
        let Some(id) = Option::<ForceId>::dec(r)? else { return r.bad("a force slot without its force") };
        if force_slots.insert(id, i as u32).is_some() {
            return r.bad("a force in two slots");
        }
    }

    let organizations = dec_keyed(r, |o: &Stamped<Organization>| o.value.id.clone())?;
    let sites = dec_keyed(r, |s: &Stamped<Site>| s.value.id.clone())?;
    let items = dec_keyed(r, |i: &Stamped<Item>| i.value.id.clone())?;
    let stock: Vec<Option<SiteStock>> = Codec::dec(r)?;
    if stock.len() > ns as usize {
        return r.bad("stock of a site slot that does not exist");
    }
    let stock_lines = stock.iter().flatten().map(|s| s.lines.len()).sum();
    let forces = dec_keyed(r, |f: &Stamped<Force>| f.value.id.clone())?;
    let allowances = dec_keyed(r, |a: &Stamped<Allowance>| (a.value.item_id.clone(), a.value.basis))?;
    let vehicles = dec_keyed(r, |v: &Stamped<Vehicle>| v.value.id.clone())?;
    let stock_by_item: FxHashMap<ItemId, Vec<IndexedLine>> = Codec::dec(r)?;
    if stock_by_item.values().flatten().any(|l| l.site >= ns) {
        return r.bad("a stock line of a site slot that does not exist");
    }
    let site_facts: Vec<Option<SiteFacts>> = Codec::dec(r)?;
    if site_facts.len() > ns as usize || site_facts.iter().flatten().any(|f| f.org >= no) {
        return r.bad("site facts of a slot that does not exist");
    }
    let org_parent: Vec<Option<u32>> = Codec::dec(r)?;
    if org_parent.len() > no as usize || org_parent.iter().flatten().any(|&p| p >= no) {
        return r.bad("an organisation's parent slot that does not exist");
    }
    let engaged: Vec<EngagedForce> = Codec::dec(r)?;
    if engaged.len() != force_slots.len() || engaged.iter().any(|e| e.site >= ns || e.org >= no) {
        return r.bad("an engaged force of a slot that does not exist");
    }
    let plans = dec_keyed(r, |p: &Stamped<PlanRecord>| p.value.plan.id.clone())?;
    let mut by_site = || -> Result<FxHashMap<ItemId, FxHashMap<u32, Quantity>>, Bad> {
        let m: FxHashMap<ItemId, FxHashMap<u32, Quantity>> = Codec::dec(r)?;
        if m.values().any(|s| s.keys().any(|&k| k >= ns)) {
            return r.bad("a quantity at a site slot that does not exist");
        }
        Ok(m)
    };
    let reserved = by_site()?;
    let reserved_for = by_site()?;
    let in_transit = by_site()?;
    let vehicle_holds = Codec::dec(r)?;
    let adjusted: FxHashMap<u32, Vec<ItemId>> = Codec::dec(r)?;
    if adjusted.keys().any(|&k| k >= ns) {
        return r.bad("a movement at a site slot that does not exist");
    }

    let toc = TocRegistry {
        partners: dec_keyed(r, |p: &Stamped<Partner>| p.value.id.clone())?,
        applications: dec_keyed(r, |a: &Stamped<Application>| a.value.id.clone())?,
        assets: dec_keyed(r, |a: &Stamped<Asset>| a.value.id.clone())?,
        checks: dec_keyed(r, |c: &Stamped<Check>| c.value.id.clone())?,
        dependencies: dec_keyed(r, |d: &Dependency| (d.child.clone(), d.group.clone()))?,
        windows: dec_keyed(r, |w: &Stamped<MaintenanceWindow>| w.value.id.clone())?,
        hard: Codec::dec(r)?,
        acks: Codec::dec(r)?,
        history: Codec::dec(r)?,
        version: Codec::dec(r)?,
    };
    let accounts = Accounts {
        users: dec_keyed(r, |u: &User| u.name.clone())?,
        tokens: dec_keyed(r, |t: &TokenRecord| t.token.id.clone())?,
        sessions: Codec::dec(r)?,
        version: Codec::dec(r)?,
    };
    let readiness = ReadinessRegistry {
        zones: dec_keyed(r, |z: &Stamped<Zone>| z.value.id.clone())?,
        tasks: dec_keyed(r, |t: &Stamped<Task>| t.value.id.clone())?,
        links: Codec::dec(r)?,
        progress: Codec::dec(r)?,
        computers: dec_keyed(r, |c: &Stamped<Computer>| c.value.id.clone())?,
        version: Codec::dec(r)?,
        structure: Codec::dec(r)?,
    };
    let oncall = OnCallRegistry {
        people: dec_keyed(r, |p: &Stamped<Person>| p.value.id.clone())?,
        teams: dec_keyed(r, |t: &Stamped<Team>| t.value.id.clone())?,
        rotations: dec_keyed(r, |x: &Stamped<Rotation>| (x.value.team_id.clone(), x.value.level))?,
        overrides: dec_keyed(r, |o: &Override| (o.team_id.clone(), o.level, o.from))?,
        outbox: dec_keyed(r, |e: &OutboxEntry| e.notification.id.clone())?,
        acknowledged: Codec::dec(r)?,
    };
    let incidents = dec_keyed(r, |i: &Stamped<Incident>| i.value.sys_id.clone())?;
    let incident_timeline = Codec::dec(r)?;
    let incident_sync = dec_keyed(r, |s: &IncidentSynced| s.sys_id.clone())?;
    let sla_breaches = Codec::dec(r)?;
    let log = Codec::dec(r)?;
    let last_incident_number = Codec::dec(r)?;
    let reports = dec_keyed(r, |x: &ReportRecord| x.id.clone())?;

    let n = r.len()?;
    let mut sources = FxHashMap::with_capacity_and_hasher(r.cap::<Arc<str>>(n), Default::default());
    for _ in 0..n {
        let s = r.shared()?;
        if sources.insert(s.to_string(), s).is_some() {
            return r.bad("a source twice");
        }
    }
    let last_source = match r.u8()? {
        0 => None,
        1 => Some(r.shared()?),
        _ => return r.bad("an option's tag is neither 0 nor 1"),
    };

    Ok(State {
        organizations,
        sites,
        items,
        stock,
        forces,
        allowances,
        vehicles,
        stock_by_item,
        site_slots,
        org_slots,
        site_facts,
        org_parent,
        engaged,
        plans,
        reserved,
        reserved_for,
        in_transit,
        vehicle_holds,
        adjusted,
        item_slots,
        scratch: Vec::new(),
        force_slots,
        toc,
        accounts,
        readiness,
        oncall,
        incidents,
        incident_timeline,
        incident_sync,
        sla_breaches,
        log,
        reports,
        last_incident_number,
        last_seq,
        stock_lines,
        sources,
        last_source,
    })
}

fn slots<K: Codec + Clone + Eq + Hash>(r: &mut Reader) -> Result<Slots<K>, Bad> {
    let ids: Vec<K> = Codec::dec(r)?;
    let mut by_id = FxHashMap::with_capacity_and_hasher(ids.len(), Default::default());
    for (i, id) in ids.iter().enumerate() {
        if by_id.insert(id.clone(), i as u32).is_some() {
            return r.bad("an id in two slots");
        }
    }
    Ok(Slots { by_id, ids })
}

/// A map keyed by its values' own ids: the values only.
fn enc_values<K, V: Codec>(w: &mut Writer, m: &BTreeMap<K, V>) {
    w.len(m.len());
    for v in m.values() {
        v.enc(w);
    }
}

fn dec_keyed<K: Ord, V: Codec>(r: &mut Reader, key: impl Fn(&V) -> K) -> Result<BTreeMap<K, V>, Bad> {
    let n = r.len()?;
    let mut v = Vec::with_capacity(r.cap::<(K, V)>(n));
    for _ in 0..n {
        let x = V::dec(r)?;
        v.push((key(&x), x));
    }
    let m: BTreeMap<K, V> = v.into_iter().collect();
    if m.len() != n {
        return r.bad("a record twice");
    }
    Ok(m)
}

// ---- Bytes ----

struct Writer {
    out: Vec<u8>,
    /// Shared texts (identifiers, sources) → their number in the table.
    index: FxHashMap<Box<str>, u32>,
    table: Vec<Box<str>>,
}

impl Writer {
    #[inline]
    fn u8(&mut self, b: u8) {
        self.out.push(b);
    }
    #[inline]
    fn var(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.out.push(v as u8 | 0x80);
            v >>= 7;
        }
        self.out.push(v as u8);
    }
    #[inline]
    fn zig(&mut self, v: i64) {
        self.var(((v << 1) ^ (v >> 63)) as u64);
    }
    #[inline]
    fn len(&mut self, n: usize) {
        self.var(n as u64);
    }
    fn str(&mut self, s: &str) {
        self.len(s.len());
        self.out.extend_from_slice(s.as_bytes());
    }
    /// A text written once in the table, then by its number.
    #[inline]
    fn shared(&mut self, s: &str) {
        let n = match self.index.get(s) {
            Some(&n) => n,
            None => {
                let n = self.table.len() as u32;
                self.table.push(s.into());
                self.index.insert(s.into(), n);
                n
            }
        };
        self.var(n as u64);
    }
}

/// Where and why a body does not decode.
#[derive(Debug)]
struct Bad {
    at: usize,
    what: &'static str,
}

struct Reader<'b> {
    buf: &'b [u8],
    pos: usize,
    table: Vec<Arc<str>>,
    /// Whether each text of the table is a valid identifier.
    is_id: Vec<bool>,
}

/// What a reader reserves ahead for one collection, at most (a longer one grows as it is read).
const RESERVE_BYTES: usize = 64 << 20;

impl Reader<'_> {
    fn bad<T>(&self, what: &'static str) -> Result<T, Bad> {
        Err(Bad { at: self.pos, what })
    }
    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }
    /// The capacity to reserve for `n` elements: never beyond the input's size nor [`RESERVE_BYTES`].
    fn cap<T>(&self, n: usize) -> usize {
        n.min(self.remaining()).min(RESERVE_BYTES / std::mem::size_of::<T>().max(1))
    }
    #[inline]
    fn u8(&mut self) -> Result<u8, Bad> {
        match self.buf.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => self.bad("the body ends early"),
        }
    }
    #[inline]
    fn var(&mut self) -> Result<u64, Bad> {
        let b = self.u8()?;
        if b < 0x80 {
            return Ok(b as u64);
        }
        let mut v = (b & 0x7f) as u64;
        let mut shift = 7;
        loop {
            let b = self.u8()?;
            if shift == 63 && b > 1 {
                return self.bad("a number beyond 64 bits");
            }
            v |= ((b & 0x7f) as u64) << shift;
            if b < 0x80 {
                return Ok(v);
            }
            shift += 7;
            if shift > 63 {
                return self.bad("a number beyond 64 bits");
            }
        }
    }
    #[inline]
    fn zig(&mut self) -> Result<i64, Bad> {
        let v = self.var()?;
        Ok((v >> 1) as i64 ^ -((v & 1) as i64))
    }
    #[inline]
    fn u32(&mut self) -> Result<u32, Bad> {
        let v = self.var()?;
        u32::try_from(v).or_else(|_| self.bad("a number beyond 32 bits"))
    }
    /// A count of elements, each at least one byte long: never more than the bytes left.
    #[inline]
    fn len(&mut self) -> Result<usize, Bad> {
        let v = self.var()?;
        if v > self.remaining() as u64 {
            return self.bad("a length beyond the end of the body");
        }
        Ok(v as usize)
    }
    fn bytes(&mut self, n: usize) -> Result<&[u8], Bad> {
        if n > self.remaining() {
            return self.bad("the body ends early");
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn str(&mut self) -> Result<&str, Bad> {
        let n = self.len()?;
        let at = self.pos;
        std::str::from_utf8(self.bytes(n)?).map_err(|_| Bad { at, what: "a text that is not UTF-8" })
    }
    #[inline]
    fn shared(&mut self) -> Result<Arc<str>, Bad> {
        let n = self.var()?;
        match self.table.get(n as usize) {
            Some(s) => Ok(s.clone()),
            None => self.bad("a reference beyond the table of texts"),
        }
    }
    #[inline]
    fn id(&mut self) -> Result<Arc<str>, Bad> {
        let n = self.var()? as usize;
        match (self.table.get(n), self.is_id.get(n)) {
            (Some(s), Some(true)) => Ok(s.clone()),
            (Some(_), _) => self.bad("an invalid identifier"),
            _ => self.bad("a reference beyond the table of texts"),
        }
    }
}

// ---- Values ----

trait Codec: Sized {
    fn enc(&self, w: &mut Writer);
    fn dec(r: &mut Reader) -> Result<Self, Bad>;
}

impl Codec for u8 {
    fn enc(&self, w: &mut Writer) {
        w.u8(*self)
    }
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        r.u8()
    }
}

impl Codec for bool {
    fn enc(&self, w: &mut Writer) {
        w.u8(*self as u8)
    }
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        match r.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => r.bad("a boolean neither 0 nor 1"),
        }
    }
}

impl Codec for u32 {
    fn enc(&self, w: &mut Writer) {
        w.var(*self as u64)
    }
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        r.u32()
    }
}

impl Codec for u64 {
    fn enc(&self, w: &mut Writer) {
        w.var(*self)
    }
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        r.var()
    }
}

impl Codec for f64 {
    fn enc(&self, w: &mut Writer) {
        w.out.extend_from_slice(&self.to_bits().to_le_bytes())
    }
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        let b = r.bytes(8)?;
        Ok(f64::from_bits(u64::from_le_bytes(b.try_into().expect("8 bytes"))))
    }
}

impl Codec for String {
    fn enc(&self, w: &mut Writer) {
        w.str(self)
    }
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        r.str().map(str::to_string)
    }
}

/// A name shared by a site's facts (not an identifier: written in place).
impl Codec for Arc<str> {
    fn enc(&self, w: &mut Writer) {
        w.str(self)
    }
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        r.str().map(Arc::from)
    }
}

impl<T: Codec> Codec for Option<T> {
    fn enc(&self, w: &mut Writer) {
        match self {
            None => w.u8(0),
            Some(v) => {
                w.u8(1);
                v.enc(w)
            }
        }
    }
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        match r.u8()? {
            0 => Ok(None),
            1 => T::dec(r).map(Some),
            _ => r.bad("an option's tag is neither 0 nor 1"),
        }
    }
}

impl<T: Codec> Codec for Vec<T> {
    fn enc(&self, w: &mut Writer) {
        w.len(self.len());
        for v in self {
            v.enc(w);
        }
    }
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        let n = r.len()?;
        let mut v = Vec::with_capacity(r.cap::<T>(n));
        for _ in 0..n {
            v.push(T::dec(r)?);
        }
        Ok(v)
    }
}

impl<T: Codec> Codec for VecDeque<T> {
    fn enc(&self, w: &mut Writer) {
        w.len(self.len());
        for v in self {
            v.enc(w);
        }
    }
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        Vec::<T>::dec(r).map(VecDeque::from)
    }
}

impl<A: Codec, B: Codec> Codec for (A, B) {
    fn enc(&self, w: &mut Writer) {
        self.0.enc(w);
        self.1.enc(w);
    }
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        Ok((A::dec(r)?, B::dec(r)?))
    }
}

impl<A: Codec, B: Codec, C: Codec> Codec for (A, B, C) {
    fn enc(&self, w: &mut Writer) {
        self.0.enc(w);
        self.1.enc(w);
        self.2.enc(w);
    }
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        Ok((A::dec(r)?, B::dec(r)?, C::dec(r)?))
    }
}

impl<K: Codec + Ord, V: Codec> Codec for BTreeMap<K, V> {
    fn enc(&self, w: &mut Writer) {
        w.len(self.len());
        for (k, v) in self {
            k.enc(w);
            v.enc(w);
        }
    }
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        let n = r.len()?;
        let mut v = Vec::with_capacity(r.cap::<(K, V)>(n));
        for _ in 0..n {
            v.push((K::dec(r)?, V::dec(r)?));
        }
        let m: BTreeMap<K, V> = v.into_iter().collect();
        if m.len() != n {
            return r.bad("a key twice in a map");
        }
        Ok(m)
    }
}

/// In key order, so that equal states give equal bytes whatever their hash maps' history.
impl<K: Codec + Ord + Eq + Hash, V: Codec> Codec for FxHashMap<K, V> {
    fn enc(&self, w: &mut Writer) {
        let mut all: Vec<(&K, &V)> = self.iter().collect();
        all.sort_unstable_by(|a, b| a.0.cmp(b.0));
        w.len(all.len());
        for (k, v) in all {
            k.enc(w);
            v.enc(w);
        }
    }
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        let n = r.len()?;
        let mut m = FxHashMap::with_capacity_and_hasher(r.cap::<(K, V)>(n), Default::default());
        for _ in 0..n {
            let k = K::dec(r)?;
            let v = V::dec(r)?;
            if m.insert(k, v).is_some() {
                return r.bad("a key twice in a map");
            }
        }
        Ok(m)
    }
}

impl Codec for DateTime<Utc> {
    fn enc(&self, w: &mut Writer) {
        w.zig(self.timestamp());
        w.var(self.timestamp_subsec_nanos() as u64);
    }
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        let secs = r.zig()?;
        let nanos = r.u32()?;
        match DateTime::from_timestamp(secs, nanos) {
            Some(t) => Ok(t),
            None => r.bad("an instant out of range"),
        }
    }
}

impl Codec for NaiveDate {
    fn enc(&self, w: &mut Writer) {
        w.zig(chrono::Datelike::num_days_from_ce(self) as i64)
    }
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        let d = r.zig()?;
        match i32::try_from(d).ok().and_then(NaiveDate::from_num_days_from_ce_opt) {
            Some(d) => Ok(d),
            None => r.bad("a date out of range"),
        }
    }
}

impl Codec for Quantity {
    fn enc(&self, w: &mut Writer) {
        w.zig(self.milli())
    }
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        r.zig().map(Quantity::from_milli)
    }
}

macro_rules! ids {
    ($($ty:ident),+) => {$(
        impl Codec for $ty {
            #[inline]
            fn enc(&self, w: &mut Writer) {
                w.shared(self.as_str())
            }
            #[inline]
            fn dec(r: &mut Reader) -> Result<Self, Bad> {
                r.id().map($ty::from_checked)
            }
        }
    )+};
}
ids!(
    OrgId,
    SiteId,
    ItemId,
    ForceId,
    VehicleId,
    PartnerId,
    ApplicationId,
    AssetId,
    CheckId,
    WindowId,
    ZoneId,
    TaskId,
    ComputerId,
    PersonId,
    TeamId
);

impl Codec for PlanId {
    fn enc(&self, w: &mut Writer) {
        w.str(&self.0)
    }
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        let s = r.str()?;
        if check_id(s).is_err() {
            return r.bad("an invalid plan id");
        }
        Ok(PlanId(s.to_string()))
    }
}

impl Codec for UserName {
    fn enc(&self, w: &mut Writer) {
        w.str(self.as_str())
    }
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        let s = r.str()?;
        UserName::parse(s).or_else(|_| r.bad("an invalid user name"))
    }
}

/// Enumerations with a list of every value: written as their index in it.
macro_rules! listed {
    ($($ty:ident),+) => {$(
        impl Codec for $ty {
            fn enc(&self, w: &mut Writer) {
                let i = $ty::ALL.iter().position(|v| v == self).expect("every value is listed");
                w.u8(i as u8)
            }
            fn dec(r: &mut Reader) -> Result<Self, Bad> {
                let i = r.u8()?;
                match $ty::ALL.get(i as usize) {
                    Some(v) => Ok(*v),
                    None => r.bad(concat!("an unknown ", stringify!($ty))),
                }
            }
        }
    )+};
}
listed!(OrgLevel, SiteKind, Condition, AllowanceBasis, CheckKind, Criticality, Role, Permission);
listed!(Trade, TaskStatus, ComputerRole, DeploymentState, Period, Channel);

impl Codec for Delivery {
    fn enc(&self, w: &mut Writer) {
        match self {
            Delivery::Queued => w.u8(0),
            Delivery::Sent { at, detail } => {
                w.u8(1);
                at.enc(w);
                detail.enc(w);
            }
            Delivery::Failed { at, error, retry_at } => {
                w.u8(2);
                at.enc(w);
                error.enc(w);
                retry_at.enc(w);
            }
        }
    }
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        Ok(match r.u8()? {
            0 => Delivery::Queued,
            1 => Delivery::Sent { at: Codec::dec(r)?, detail: Codec::dec(r)? },
            2 => Delivery::Failed { at: Codec::dec(r)?, error: Codec::dec(r)?, retry_at: Codec::dec(r)? },
            _ => return r.bad("an unknown delivery"),
        })
    }
}

impl Codec for IncidentState {
    fn enc(&self, w: &mut Writer) {
        w.u8(self.code())
    }
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        let c = r.u8()?;
        IncidentState::from_code(c).map_or_else(|| r.bad("an unknown incident state"), Ok)
    }
}

impl Codec for crate::health::Status {
    fn enc(&self, w: &mut Writer) {
        w.u8(self.exit_code())
    }
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        use crate::health::Status;
        match r.u8()? {
            0 => Ok(Status::Ok),
            1 => Ok(Status::Warning),
            2 => Ok(Status::Critical),
            3 => Ok(Status::Unknown),
            _ => r.bad("an unknown check status"),
        }
    }
}

impl Codec for PlanStatus {
    fn enc(&self, w: &mut Writer) {
        w.u8(match self {
            PlanStatus::Committed => 0,
            PlanStatus::Shipped => 1,
            PlanStatus::Received => 2,
            PlanStatus::Cancelled => 3,
        })
    }
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        match r.u8()? {
            0 => Ok(PlanStatus::Committed),
            1 => Ok(PlanStatus::Shipped),
            2 => Ok(PlanStatus::Received),
            3 => Ok(PlanStatus::Cancelled),
            _ => r.bad("an unknown plan status"),
        }
    }
}

impl Codec for WindowScope {
    fn enc(&self, w: &mut Writer) {
        let (tag, id) = match self {
            WindowScope::Site(id) => (0, id),
            WindowScope::Application(id) => (1, id),
            WindowScope::Asset(id) => (2, id),
            WindowScope::Check(id) => (3, id),
            WindowScope::Tag(id) => (4, id),
        };
        w.u8(tag);
        w.str(id);
    }
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        let tag = r.u8()?;
        let id = String::dec(r)?;
        Ok(match tag {
            0 => WindowScope::Site(id),
            1 => WindowScope::Application(id),
            2 => WindowScope::Asset(id),
            3 => WindowScope::Check(id),
            4 => WindowScope::Tag(id),
            _ => return r.bad("an unknown maintenance scope"),
        })
    }
}

impl Codec for TokenParent {
    fn enc(&self, w: &mut Writer) {
        let (tag, id) = match self {
            TokenParent::Token(id) => (0, id),
            TokenParent::Session(id) => (1, id),
        };
        w.u8(tag);
        w.str(id);
    }
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        let tag = r.u8()?;
        let id = String::dec(r)?;
        Ok(match tag {
            0 => TokenParent::Token(id),
            1 => TokenParent::Session(id),
            _ => return r.bad("an unknown token parent"),
        })
    }
}

impl Codec for Stamp {
    fn enc(&self, w: &mut Writer) {
        let Stamp { seq, time, source } = self;
        seq.enc(w);
        time.enc(w);
        w.shared(source);
    }
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        Ok(Stamp { seq: Codec::dec(r)?, time: Codec::dec(r)?, source: r.shared()? })
    }
}

impl<T: Codec> Codec for Stamped<T> {
    fn enc(&self, w: &mut Writer) {
        let Stamped { value, stamp } = self;
        value.enc(w);
        stamp.enc(w);
    }
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        Ok(Stamped { value: Codec::dec(r)?, stamp: Codec::dec(r)? })
    }
}

/// The per-item index's line, its flags in one byte.
impl Codec for IndexedLine {
    fn enc(&self, w: &mut Writer) {
        let IndexedLine { site, serviceable_condition, counted, quantity, expires_on, counted_at_s } = self;
        w.var(*site as u64);
        w.u8(*serviceable_condition as u8 | (*counted as u8) << 1 | (expires_on.is_some() as u8) << 2);
        quantity.enc(w);
        if let Some(e) = expires_on {
            e.enc(w);
        }
        w.zig(*counted_at_s);
    }
    fn dec(r: &mut Reader) -> Result<Self, Bad> {
        let site = r.u32()?;
        let flags = r.u8()?;
        if flags > 0b111 {
            return r.bad("unknown flags of a stock line");
        }
        let quantity = Quantity::dec(r)?;
        let expires_on = if flags & 4 != 0 { Some(NaiveDate::dec(r)?) } else { None };
        Ok(IndexedLine {
            site,
            serviceable_condition: flags & 1 != 0,
            counted: flags & 2 != 0,
            quantity,
            expires_on,
            counted_at_s: r.zig()?,
        })
    }
}

/// Records written field by field, in the order named: the destructuring and the struct literal name every field,
/// so that a field added to a record stops the build here.
macro_rules! record {
    ($ty:ident { $($f:ident),+ $(,)? }) => {
        impl Codec for $ty {
            fn enc(&self, w: &mut Writer) {
                let $ty { $($f),+ } = self;
                $($f.enc(w);)+
            }
            fn dec(r: &mut Reader) -> Result<Self, Bad> {
                Ok($ty { $($f: Codec::dec(r)?),+ })
            }
        }
    };
}

record!(LatLon { lat, lon });
record!(ReportDrafted { id, version, kind, at, seq, organization_id, since, parts, digest, summary, note });
record!(ReportVersion {
    draft,
    drafted_by,
    drafted_at,
    status,
    approved_by,
    approved_at,
    published_by,
    published_at,
    rejected_by,
    review_note
});
record!(ReportRecord { id, kind, versions });
record!(Organization { id, name, level, parent_id, attributes });
record!(Site { id, name, kind, lat, lon, organization_id, city, attributes });
record!(Item { id, name, category, unit, unit_mass_kg, unit_volume_m3, attributes });
record!(StockLine { item_id, quantity, condition, lot, expires_on, counted_at, attributes });
record!(SiteStock { lines, stamp });
record!(Force { id, name, site_id, headcount, organization_id, starts_on, ends_on, attributes });
record!(Allowance { item_id, basis, quantity, attributes });
record!(Vehicle { id, site_id, kind, seats, payload_kg, cargo_m3, speed_kmh, condition, attributes });
record!(SiteFacts { position, org, kind, name });
record!(EngagedForce { starts_on, ends_on, headcount, site, org });
record!(Movement { from, item_id, quantity, vehicle_id });
record!(Plan { id, destination, movements, vehicles, purpose, note });
record!(PlanRecord { plan, status, committed_at, shipped_at, received_at, cancelled_at });
record!(Partner { id, name, attributes });
record!(Application { id, name, suite, criticality, partner_id, rollup, attributes });
record!(Asset { id, name, kind, site_id, application_id, attributes });
record!(Check {
    id,
    target,
    kind,
    site_id,
    application_id,
    asset_id,
    interval_s,
    timeout_s,
    max_attempts,
    ttl_s,
    expect,
    labels,
    tags,
    attributes
});
record!(Dependency { child, group, parents });
record!(MaintenanceWindow { id, scope, starts_at, ends_at, every_hours, reason });
record!(CheckStateChange { check_id, from, to, at, output, during_maintenance, flapping, stale });
record!(HardState { status, since, flapping, acknowledged });
record!(Acknowledgement { at, by, comment });
record!(User { name, role, organization_id, partner_id, password_hash, disabled });
record!(TokenIssued { id, user, label, scopes, expires_at, hash, parent });
record!(TokenRecord { token, issued_at, revoked_at });
record!(Entry { at, by, text });
record!(ReviewAction { text, owner, done });
record!(Incident {
    sys_id,
    number,
    short_description,
    description,
    state,
    hold_reason,
    impact,
    urgency,
    priority,
    category,
    assignment_group,
    assigned_to,
    caller_id,
    cmdb_ci,
    location,
    parent_incident,
    correlation_id,
    alerts,
    major_incident_state,
    crisis_lead,
    communication_lead,
    plan_id,
    review_summary,
    review_actions,
    close_code,
    close_notes,
    opened_at,
    resolved_at,
    closed_at,
    sys_mod_count,
    sys_created_on,
    sys_created_by,
    sys_updated_on,
    sys_updated_by,
    work_notes,
    comments
});
record!(LogEntry { id, at, shift, by, kind, text, incident, site, handover_of });
record!(IncidentSynced { sys_id, remote_sys_id, sys_mod_count, work_notes_pushed, comments_pushed });
record!(Zone { id, site_id, name, kind, image, deadline, attributes });
record!(Task { id, site_id, zone_id, name, trade, owner, duration_min, due, plan_id, attributes });
record!(Progress { status, reason, evidence, since, by, started_at, finished_at });
record!(Computer { id, model, site_id, zone_id, role, image, image_version, state, asset_id, attributes });
record!(Person { id, name, email, mobile, chat, partner_id, organization_id, attributes });
record!(Team { id, name, partner_id, site_id, organization_id, attributes });
record!(Rotation { team_id, level, period, starts_at, people });
record!(Override { team_id, level, from, until, person_id, reason, removed });
record!(Notification { id, sys_id, number, team_id, level, person_id, channel, to, subject, body, why });
record!(OutboxEntry { notification, queued_at, attempts, delivery });

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_zigzag_round_trip_at_the_edges() {
        let mut w = Writer { out: vec![], index: Default::default(), table: vec![] };
        let us = [0, 1, 127, 128, 300, u32::MAX as u64, u64::MAX - 1, u64::MAX];
        let is = [0, -1, 1, -64, 64, i64::MIN, i64::MAX];
        for &u in &us {
            w.var(u);
        }
        for &i in &is {
            w.zig(i);
        }
        let out = w.out;
        let mut r = Reader { buf: &out, pos: 0, table: vec![], is_id: vec![] };
        for &u in &us {
            assert_eq!(r.var().unwrap(), u);
        }
        for &i in &is {
            assert_eq!(r.zig().unwrap(), i);
        }
        assert_eq!(r.pos, out.len());
        // Eleven bytes, or a tenth byte above 1, would not fit 64 bits.
        for bad in [&[0xff; 11][..], &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]] {
            let mut r = Reader { buf: bad, pos: 0, table: vec![], is_id: vec![] };
            assert!(r.var().is_err());
        }
    }
}
