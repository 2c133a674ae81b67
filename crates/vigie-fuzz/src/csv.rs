//! The CSV target: files read by `vigie_import::read` (the scanner, decoding, delimiter detection, typed rows), then
//! planned against an empty state and against one that holds the corpus (references, duplicates, the diff).
//!
//! Properties beyond "no panic, no hang, bounded memory": the report keeps at most `MAX_PROBLEMS` problems (plus
//! one line counting the rest), sorted, each message cut to `MAX_MESSAGE_BYTES`; and an import that plans is
//! idempotent: once its events are applied, planning the same files again gives no event.

use crate::mutate::{mutate, NUMBERS, ODD_TEXT};
use crate::{Input, Limits, Payload, Rng, Target};
use std::sync::atomic::{AtomicU64, Ordering};
use vigie_domain::{Actor, Envelope, State};
use vigie_import::{plan, read, SourceFile, Table, MAX_MESSAGE_BYTES, MAX_PROBLEMS};

/// Tokens of the CSV format and of Vigie's tables.
pub const DICT: &[&[u8]] = &[
    b"\"",
    b"\"\"",
    b"\"\"\"",
    b",",
    b";",
    b"\t",
    b"\r\n",
    b"\n",
    b"\r",
    b"\n\n",
    b"\"\n\"",
    b";\"",
    b"\";",
    b"id",
    b"name",
    b"site_id",
    b"item_id",
    b"organization_id",
    b"parent_id",
    b"quantity",
    b"counted_at",
    b"STA",
    b"DEP1",
    b"MRS",
    b"PLATE",
    b"RATION",
    b"GS-IDF",
    b"CPCO",
    b"PC-1",
    b"UPLINK",
    b"ATOS",
    b"ODS-RES",
    b"serviceable",
    b"person_day",
    b"strategic",
    b"tactical",
    b"critical",
    b"min_ok 9999999999",
    b"percent 100 0",
    b"percent -1 200",
    b"push",
    b"command",
    b"2024-07-26",
    b"2024-02-30",
    b"29/02/2023",
    b"0000-01-01",
    b"9999-12-31",
    b"2024-07-26 25:61",
    b"2024-10-27 02:30",
    b"2024-03-31 02:30",
    b"2024-07-26T19:30:00+99:00",
    b"=HYPERLINK(\"x\")",
    b"alertname=HostDown,instance=pc-1",
    b"a=b=c,,=",
    b"200 cert:30,14 ~OK",
    b"cert:-1,99999999999",
    b"~",
];

fn others(seeds: &[SourceFile]) -> Vec<&[u8]> {
    seeds.iter().map(|s| s.bytes.as_slice()).collect()
}

/// The CSV target over a seed corpus.
pub struct CsvTarget {
    seeds: Vec<SourceFile>,
    /// Empty, and holding the corpus.
    states: [State; 2],
    actor: Actor,
    outcomes: Outcomes,
}

/// Imports planned and refused, over a run.
#[derive(Default)]
pub struct Outcomes {
    planned: AtomicU64,
    refused: AtomicU64,
}

impl Outcomes {
    pub fn show(&self) -> String {
        let (p, r) = (self.planned.load(Ordering::Relaxed), self.refused.load(Ordering::Relaxed));
        format!("plans: {p} imported (and found idempotent), {r} refused with problems")
    }
}

/// Applies an import's events to `state` as the journal would.
pub fn apply(state: &mut State, events: Vec<vigie_domain::NewEvent>) {
    for e in events {
        let env = Envelope {
            seq: state.last_seq + 1,
            id: vigie_journal::new_event_id(),
            time: chrono::Utc::now(),
            actor: e.actor,
            origin: "fuzz".into(),
            source: e.source.into(),
            event: e.event,
        };
        state.apply(&env);
    }
}

impl CsvTarget {
    /// Panics if the corpus itself does not import cleanly: seeds must be valid to be worth mutating.
    pub fn new(seeds: Vec<SourceFile>) -> CsvTarget {
        let actor = Actor::parse("fuzz:csv").unwrap();
        let mut full = State::new();
        match plan(&read(&seeds, &mut |_, _| {}), &full, &actor) {
            Ok(p) => apply(&mut full, p.events),
            Err(problems) => {
                let lines: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
                panic!("the CSV corpus does not import:\n{}", lines.join("\n"))
            }
        }
        CsvTarget { seeds, states: [State::new(), full], actor, outcomes: Outcomes::default() }
    }

    /// The state that holds the corpus.
    pub fn full_state(&self) -> &State {
        &self.states[1]
    }
}

impl Target for CsvTarget {
    fn name(&self) -> &'static str {
        "csv"
    }

    fn generate(&self, rng: &mut Rng, limits: &Limits) -> Input {
        let others = others(&self.seeds);
        let n = 1 + if rng.chance(30) { rng.below(3) } else { 0 };
        let (kind, files) = match rng.below(100) {
            0..=54 => {
                let files = (0..n)
                    .map(|_| {
                        let mut f = rng.pick(&self.seeds).clone();
                        mutate(rng, &mut f.bytes, DICT, &others, limits.max_input);
                        f.name = file_name(rng, &f.name);
                        f
                    })
                    .collect();
                ("structured", files)
            }
            55..=84 => {
                let mutated = rng.chance(40);
                let files = (0..n)
                    .map(|_| {
                        let mut f = table(rng);
                        if mutated {
                            mutate(rng, &mut f.bytes, DICT, &others, limits.max_input);
                        }
                        f
                    })
                    .collect();
                (if mutated { "grammar+mutated" } else { "grammar" }, files)
            }
            _ => {
                let files = (0..n)
                    .map(|_| {
                        let t = *rng.pick(&Table::ALL);
                        let len = rng.size(limits.max_input.min(1 << 16));
                        SourceFile { name: file_name(rng, &format!("{}.csv", t.name())), bytes: rng.bytes(len) }
                    })
                    .collect();
                ("arbitrary", files)
            }
        };
        Input { kind, payload: Payload::Files(files) }
    }

    fn run(&self, input: &Input) -> Result<(), String> {
        let Payload::Files(files) = &input.payload else { return Err("not files".into()) };
        check_import(files, &self.states, &self.actor, &self.outcomes)
    }

    fn stats(&self) -> String {
        self.outcomes.show()
    }

    /// An import holds its records until it is planned: some 500 bytes for a 7-byte row of `dependencies.csv`.
    fn memory_per_input_byte(&self) -> usize {
        128
    }
}

/// Reads and plans `files` against each state; the properties of the report and idempotence.
pub fn check_import(files: &[SourceFile], states: &[State], actor: &Actor, outcomes: &Outcomes) -> Result<(), String> {
    let batch = read(files, &mut |_, _| {});
    if batch.problems.kept().len() > MAX_PROBLEMS {
        return Err(format!("{} problems kept (at most {MAX_PROBLEMS})", batch.problems.kept().len()));
    }
    for state in states {
        match plan(&batch, state, actor) {
            Err(report) => {
                outcomes.refused.fetch_add(1, Ordering::Relaxed);
                check_report(&report)?
            }
            Ok(p) => {
                outcomes.planned.fetch_add(1, Ordering::Relaxed);
                let mut after = state.clone();
                apply(&mut after, p.events);
                match plan(&batch, &after, actor) {
                    Ok(again) if again.events.is_empty() => {}
                    Ok(again) => {
                        let kinds: Vec<&str> = again.events.iter().take(5).map(|e| e.event.kind()).collect();
                        return Err(format!(
                            "not idempotent: importing the same files again plans {} more event(s): {kinds:?}",
                            again.events.len()
                        ));
                    }
                    Err(r) => {
                        return Err(format!(
                            "importing the same files again fails: {}",
                            r.first().map(|p| p.to_string()).unwrap_or_default()
                        ))
                    }
                }
            }
        }
    }
    Ok(())
}

/// A refused import's report: not empty, at most `MAX_PROBLEMS` lines and a count, sorted, messages cut.
pub fn check_report(report: &[vigie_import::Problem]) -> Result<(), String> {
    if report.is_empty() {
        return Err("an import refused without a problem".into());
    }
    let listed = report.iter().filter(|p| !p.file.is_empty()).count();
    if listed > MAX_PROBLEMS || report.len() > MAX_PROBLEMS + 1 {
        return Err(format!("{} problems reported (at most {MAX_PROBLEMS} and a count)", report.len()));
    }
    for p in report {
        if p.message.len() > MAX_MESSAGE_BYTES + '…'.len_utf8() {
            return Err(format!("a message of {} bytes: {:.200}", p.message.len(), p.message));
        }
        if p.message.is_empty() {
            return Err(format!("a problem without a message at {}:{}:{}", p.file, p.line, p.column));
        }
    }
    let keys: Vec<_> = report.iter().filter(|p| !p.file.is_empty()).map(|p| (&p.file, p.line, p.column)).collect();
    if keys.windows(2).any(|w| w[0] > w[1]) {
        return Err("the problems are not sorted by file, line and column".into());
    }
    Ok(())
}

/// A file name for a table: usually as given, sometimes another table's or an odd variant.
fn file_name(rng: &mut Rng, name: &str) -> String {
    let stem = name.rsplit_once('.').map_or(name, |(s, _)| s).to_string();
    match rng.below(20) {
        0 => format!("{}.csv", rng.pick(&Table::ALL).name()),
        1 => format!("{}-2024_07.CSV", stem.to_uppercase()),
        2 => format!("dir/{stem}.csv"),
        3 => format!("{stem}.txt"),
        4 => "organisations.csv".into(),
        5 => "unknown.csv".into(),
        _ => name.to_string(),
    }
}

const IDS: &[&str] = &[
    "STA", "DEP1", "MRS", "PLATE", "RATION", "TENTE", "GS-IDF", "GS-MRS", "CPCO", "ATOS", "ORANGE", "ODS-RES",
    "OMS-ACC", "STA-SW", "STA-PC1", "UPLINK", "PC-1", "WEB", "F-STA", "F-MRS", "VL-1", "PL-1", "BUS-1",
];

/// A value for a column, drawn from what the column takes and what it does not.
fn value(rng: &mut Rng, col: &str) -> String {
    if rng.chance(8) {
        return String::from_utf8_lossy(rng.one_of(ODD_TEXT)).into_owned();
    }
    if rng.chance(5) {
        return String::new();
    }
    let number = |rng: &mut Rng, max: u64| -> String {
        match rng.below(10) {
            0 => String::from_utf8_lossy(rng.one_of(NUMBERS)).into_owned(),
            1 => format!("{},{}", rng.below(1000), rng.below(100_000)),
            2 => format!("-{}", rng.below(100)),
            3 => format!("{} {:03}", rng.below(1000), rng.below(1000)),
            _ => format!("{}", rng.next_u64() % max.max(1)),
        }
    };
    let date = |rng: &mut Rng| -> String {
        let (y, m, d) = (1990 + rng.below(50), 1 + rng.below(13), 1 + rng.below(32));
        match rng.below(4) {
            0 => format!("{d:02}/{m:02}/{y}"),
            1 => String::from_utf8_lossy(rng.one_of(&DICT[43..50])).into_owned(),
            _ => format!("{y}-{m:02}-{d:02}"),
        }
    };
    match col {
        "id" | "child_id" | "parent_id" | "site_id" | "item_id" | "organization_id" | "partner_id"
        | "application_id" | "asset_id" => match rng.below(10) {
            0 => format!("X{}", rng.below(1000)),
            1 => "x".repeat(rng.size(100)),
            2 => " STA ".into(),
            3 => "sta".into(),
            4 => "A/B:C@D+E_F.G".into(),
            _ => rng.pick(IDS).to_string(),
        },
        "lat" | "lon" => match rng.below(4) {
            0 => number(rng, 1000),
            _ => format!("{}{}.{}", if rng.chance(30) { "-" } else { "" }, rng.below(91), rng.below(1_000_000)),
        },
        "quantity" | "headcount" | "seats" | "payload_kg" | "cargo_m3" | "unit_mass_kg" | "unit_volume_m3"
        | "speed_kmh" | "interval_s" | "timeout_s" | "max_attempts" | "ttl_s" => number(rng, 100_000),
        "starts_on" | "ends_on" | "expires_on" => date(rng),
        "counted_at" => {
            let d = date(rng);
            match rng.below(4) {
                0 => d,
                1 => {
                    format!("{d}T{:02}:{:02}:00{}", rng.below(25), rng.below(61), rng.pick(&["Z", "+02:00", "-14:00"]))
                }
                _ => format!("{d} {:02}:{:02}", rng.below(25), rng.below(61)),
            }
        }
        "level" => rng.pick(&["strategic", "tactical", "Tactical", "operational"]).to_string(),
        "kind" => rng
            .pick(&[
                "depot", "venue", "camp", "other", "truck", "bus", "network", "push", "http", "tcp", "command", "x",
            ])
            .to_string(),
        "condition" => rng.pick(&["serviceable", "unserviceable", "SERVICEABLE", "usable"]).to_string(),
        "basis" => rng.pick(&["person", "person_day", "day"]).to_string(),
        "criticality" => rng.pick(&["critical", "high", "medium", "low", "none"]).to_string(),
        "rollup" => match rng.below(4) {
            0 => "worst".into(),
            1 => format!("min_ok {}", number(rng, 10)),
            2 => format!("percent {} {}", number(rng, 120), number(rng, 120)),
            _ => "best".into(),
        },
        "target" => rng
            .pick(&["sta-uplink", "http://127.0.0.1:9/x", "127.0.0.1:9", "check_dummy 0 ok", "https://[::1", ""])
            .to_string(),
        "labels" => rng.pick(&["alertname=HostDown,instance=pc-1", "a=b", "=", "a", ",,"]).to_string(),
        "expect" => rng.pick(&["200", "200 ~OK", "cert:30,14", "cert:x", "~", "999"]).to_string(),
        _ => {
            let words = ["Stade", "de", "France", "Dépôt", "Île-de-France", "a;b", "say \"hi\"", "l1\nl2", "\t"];
            (0..1 + rng.below(4)).map(|_| *rng.pick(&words)).collect::<Vec<_>>().join(" ")
        }
    }
}

/// A table built from the format: its columns (some left out, some extra, some twice), a delimiter, rows of
/// values each column may or may not take, quoted as RFC 4180 says (mostly).
pub fn table(rng: &mut Rng) -> SourceFile {
    let t = *rng.pick(&Table::ALL);
    let mut cols: Vec<String> = t.required().iter().map(|c| c.to_string()).collect();
    for c in t.optional() {
        if rng.chance(60) {
            cols.push(c.to_string());
        }
    }
    if rng.chance(10) && !cols.is_empty() {
        let i = rng.below(cols.len());
        cols.remove(i);
    }
    if rng.chance(20) {
        cols.push(rng.pick(&["commentaire", "note", "id", "Name", "", "é"]).to_string());
    }
    for _ in 0..cols.len() {
        if rng.chance(10) {
            let (a, b) = (rng.below(cols.len()), rng.below(cols.len()));
            cols.swap(a, b);
        }
    }
    if rng.chance(10) {
        cols.iter_mut().for_each(|c| *c = c.to_uppercase());
    }
    let delim = rng.one_of(b",;\t");
    let eol: &[u8] = if rng.chance(30) { b"\r\n" } else { b"\n" };
    let mut out = Vec::new();
    if rng.chance(10) {
        out.extend_from_slice(b"\xEF\xBB\xBF");
    }
    let field = |rng: &mut Rng, out: &mut Vec<u8>, v: &str| {
        let needs = v.bytes().any(|b| b == delim || b == b'"' || b == b'\n' || b == b'\r');
        if (needs && rng.chance(95)) || rng.chance(5) {
            out.push(b'"');
            out.extend_from_slice(v.replace('"', "\"\"").as_bytes());
            out.push(b'"');
        } else {
            out.extend_from_slice(v.as_bytes());
        }
    };
    for (i, c) in cols.iter().enumerate() {
        if i > 0 {
            out.push(delim);
        }
        field(rng, &mut out, c);
    }
    out.extend_from_slice(eol);
    let most = if rng.chance(5) { 5000 } else { 60 };
    let rows = rng.size(most);
    for _ in 0..rows {
        let n = if rng.chance(5) { rng.below(cols.len() + 3) } else { cols.len() };
        for i in 0..n {
            if i > 0 {
                out.push(delim);
            }
            let col = cols.get(i).map_or("", |c| c.as_str()).to_lowercase();
            let v = value(rng, &col);
            field(rng, &mut out, &v);
        }
        out.extend_from_slice(eol);
        if rng.chance(3) {
            out.extend_from_slice(eol);
        }
    }
    if rng.chance(20) {
        out.truncate(out.len() - eol.len());
    }
    if rng.chance(10) {
        // Windows-1252, as French Excel writes it.
        let s = String::from_utf8_lossy(&out).into_owned();
        out = s.chars().map(|c| if (c as u32) < 256 { c as u8 } else { b'?' }).collect();
    }
    SourceFile { name: format!("{}.csv", t.name()), bytes: out }
}
