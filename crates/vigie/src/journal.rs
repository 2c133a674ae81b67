//! `vigie journal verify | accept | export`: the journal's own health, its repair after an accepted loss, and its rows
//! as JSON lines (the form of the golden fixture, and of the events set aside by `accept`).

use crate::config::Config;
use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::process::ExitCode;
use vigie_journal::chain::{self, ChainCheck, Head, HeadFile};
use vigie_journal::{JournalStore, RawEvent, RowToWrite};

#[derive(Debug, clap::Subcommand)]
pub enum JournalAction {
    /// Read the whole journal and check its chain and recorded head; exits 1 when it is damaged (read-only: works
    /// beside a running server).
    Verify {
        #[arg(long)]
        json: bool,
    },
    /// After a damage that you accept (or a restore from an older backup): keep the journal up to sequence SEQ,
    /// set every event after it aside in DATA_DIR/journal.rejected-TIME.jsonl, and record SEQ as the head. Needs the
    /// data directory (stop the server).
    Accept {
        #[arg(long)]
        through: u64,
    },
    /// Print the stored rows as JSON lines (seq, id, time_us, actor, origin, source, kind, payload as written, hash).
    Export {
        #[arg(long, default_value_t = 0)]
        after: u64,
    },
}

/// A stored row as a JSON line: the payload is the text as written (so a chain computed on it is the same).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RowLine {
    pub seq: u64,
    pub id: uuid::Uuid,
    pub time_us: i64,
    pub actor: String,
    pub origin: String,
    pub source: String,
    pub kind: String,
    pub payload: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hash: String,
}

impl RowLine {
    pub fn of(raw: &RawEvent<'_>) -> RowLine {
        RowLine {
            seq: raw.seq,
            id: raw.id,
            time_us: raw.time_us,
            actor: raw.actor.into(),
            origin: raw.origin.into(),
            source: raw.source.into(),
            kind: raw.kind.into(),
            payload: raw.payload.into(),
            hash: chain::hex(raw.hash),
        }
    }
}

/// Writes rows read from JSON lines into a store, in order, with their chain computed afresh (the lines' own hashes,
/// if any, are not trusted). The store must be empty. Returns the head.
pub fn import_rows(store: &mut dyn JournalStore, jsonl: &str) -> anyhow::Result<Head> {
    let mut prev = Head::EMPTY;
    let mut batch = Vec::new();
    for (i, line) in jsonl.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let r: RowLine = serde_json::from_str(line).with_context(|| format!("line {}", i + 1))?;
        if r.seq != prev.seq + 1 {
            bail!("line {}: sequence {} after {}", i + 1, r.seq, prev.seq);
        }
        let kind = vigie_domain::Event::decode(&r.kind, &r.payload)
            .with_context(|| format!("line {}: event {}", i + 1, r.seq))?
            .kind();
        let mut row = RowToWrite {
            seq: r.seq,
            id: r.id,
            time_us: r.time_us,
            actor: r.actor,
            origin: r.origin,
            source: r.source,
            kind,
            payload: r.payload,
            hash: chain::GENESIS,
        };
        prev = Head { seq: row.seq, hash: row.seal(&prev.hash) };
        batch.push(row);
        if batch.len() == 10_000 {
            store.append(&batch)?;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        store.append(&batch)?;
    }
    Ok(prev)
}

pub fn run(cfg: &Config, action: JournalAction) -> anyhow::Result<ExitCode> {
    match action {
        JournalAction::Verify { json } => verify(cfg, json),
        JournalAction::Accept { through } => accept(cfg, through),
        JournalAction::Export { after } => {
            let mut store = crate::open_store(cfg)?;
            let out = std::io::stdout();
            let mut out = out.lock();
            let mut failed = None;
            store.scan(after, None, &mut |raw| {
                if let Err(e) = serde_json::to_writer(&mut out, &RowLine::of(&raw))
                    .map_err(std::io::Error::from)
                    .and_then(|()| out.write_all(b"\n"))
                {
                    failed = Some(e);
                    return Err(vigie_journal::StoreError::new("export", "stdout closed"));
                }
                Ok(())
            })?;
            if let Some(e) = failed {
                return Err(e.into());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn verify(cfg: &Config, json: bool) -> anyhow::Result<ExitCode> {
    let mut store = crate::open_store(cfg)?;
    let head_path = crate::head_path(cfg);
    let (recorded, head_problem) = match HeadFile::read(&head_path) {
        Ok(h) => (h, None),
        Err(e) => (None, Some(e.to_string())),
    };
    let v = chain::verify(store.as_mut(), recorded)?;
    let vanished =
        recorded.is_none() && head_problem.is_none() && v.events == 0 && cfg.storage.data_dir.join("node-id").exists();
    let problem = head_problem.clone().or_else(|| v.problem.as_ref().map(|p| p.to_string())).or_else(|| {
        vanished.then(|| "the journal is empty but the data directory has a node id: the journal vanished".into())
    });
    let first_bad = v.problem.as_ref().map(|p| p.seq()).or(vanished.then_some(1));
    let ok = problem.is_none();
    if json {
        let out = serde_json::json!({
            "backend": store.backend(),
            "events": v.events,
            "last_seq": v.last.seq,
            "head": {"seq": v.verified.seq, "hash": chain::hex(&v.verified.hash)},
            "recorded_head": recorded.map(|h| serde_json::json!({"seq": h.seq, "hash": chain::hex(&h.hash)})),
            "chain_ok": ok,
            "first_bad_seq": first_bad,
            "problem": problem,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!("journal: {} ({} events, last sequence {})", store.backend(), v.events, v.last.seq);
        println!("verified through: seq {} hash {}", v.verified.seq, chain::hex(&v.verified.hash));
        match recorded {
            Some(h) => println!("recorded head ({}): seq {} hash {}", head_path.display(), h.seq, chain::hex(&h.hash)),
            None if head_problem.is_none() => println!("recorded head ({}): none", head_path.display()),
            None => {}
        }
        match (&problem, first_bad) {
            (None, _) => println!("chain: ok"),
            (Some(p), Some(seq)) => {
                println!("chain: BROKEN at sequence {seq}: {p}");
                println!(
                    "{}",
                    crate::REPAIR_HINT.replace(
                        "Vigie will not start on it. Run `vigie journal verify` for a report, then restore",
                        "Restore"
                    )
                );
            }
            (Some(p), None) => println!("chain: BROKEN: {p}"),
        }
    }
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn accept(cfg: &Config, through: u64) -> anyhow::Result<ExitCode> {
    let _lock = crate::DataLock::acquire(&cfg.storage.data_dir)?;
    let mut store = crate::open_store(cfg)?;
    // The chain must hold up to `through`.
    let mut check = ChainCheck::new(Head::EMPTY, None);
    let mut broken = None;
    store.scan(0, Some(through), &mut |raw| {
        if broken.is_none() {
            if let Err(e) = check.check(&raw) {
                broken = Some(e);
            }
        }
        Ok(())
    })?;
    if let Some(e) = broken {
        bail!(
            "the journal is damaged before sequence {through} ({e}): accept at most sequence {}",
            e.seq().saturating_sub(1)
        );
    }
    let head = check.head();
    if head.seq != through {
        bail!("the journal ends at sequence {}: accept at most that", head.seq);
    }
    // Set aside every event after it, then remove them.
    let mut rejected = Vec::new();
    store.scan(through, None, &mut |raw| {
        rejected.push(RowLine::of(&raw));
        Ok(())
    })?;
    if !rejected.is_empty() {
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        let path = cfg.storage.data_dir.join(format!("journal.rejected-{stamp}.jsonl"));
        let mut text = String::new();
        for r in &rejected {
            text.push_str(&serde_json::to_string(r)?);
            text.push('\n');
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        let removed = store.truncate_after(through)?;
        println!("{removed} event(s) after sequence {through} set aside in {}", path.display());
    }
    let head_path = crate::head_path(cfg);
    HeadFile::create(&head_path, head).map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "journal accepted through sequence {} (hash {}); {} records it",
        head.seq,
        chain::hex(&head.hash),
        head_path.display()
    );
    Ok(ExitCode::SUCCESS)
}
