//! LOGSTAT benchmark (not a test): `cargo bench -p vigie --bench reports`.
//!
//! On `vigie generate --scale 1` (2,000 sites, 1,000,000 stock lines, 5,000 forces engaged today) held in a real
//! SQLite journal, then 200 sites counted again: the LOGSTAT of every organisation and item **as of now** (the
//! live projection) and **as of an instant between the two counts** (the journal replayed up to it: cold, then
//! answered again from the state kept), against DuckDB (PyPI `duckdb`, `reports_baseline.py`) computing the same
//! report over the same CSV files in the same run, its stock held as a temporal table. Figures are compared so that
//! both compute the same thing.

use chrono::{Duration, Utc};
use std::io::Write;
use std::time::Instant;
use vigie_domain::*;
use vigie_journal::{Journal, JournalOptions};
use vigie_journal_sqlite::SqliteStore;
use vigie_logistics::Scope;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("scale1");
    vigie::generate::write(&data, 1.0, 2024).unwrap();
    // The forces are engaged around today, so that the report's need (the day of its instant) is not empty.
    let day = vigie_domain::paris::today(Utc::now());
    let forces = std::fs::read_to_string(data.join("forces.csv")).unwrap();
    let mut dated = String::new();
    for (i, l) in forces.lines().enumerate() {
        if i == 0 {
            dated.push_str(l);
        } else {
            let f: Vec<&str> = l.split(';').collect();
            let (from, to) = (day - Duration::days(10), day + Duration::days(10));
            dated.push_str(&format!("{};{from};{to}", f[..5].join(";")));
        }
        dated.push('\n');
    }
    std::fs::write(data.join("forces.csv"), dated).unwrap();

    let store = SqliteStore::open_dir(&tmp.path().join("journal")).unwrap();
    let journal = Journal::open(Box::new(store), JournalOptions::default()).unwrap();
    let caller = vigie_app::Caller::internal(Actor::system("bench"), "bench");
    let files = vigie::cli::read_paths(std::slice::from_ref(&data)).unwrap();
    let batch = vigie_import::read(&files, &mut |_, _| {});
    vigie_app::imports::import(&journal, &caller, batch, false).map_err(|e| e.to_string()).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let between = Utc::now();
    std::thread::sleep(std::time::Duration::from_millis(20));
    // 200 sites counted again, half of what they held: in the journal, and as the baseline's later counts.
    let mut later = std::fs::File::create(data.join("stock_later.csv")).unwrap();
    writeln!(later, "site_id;item_id;quantity;condition;lot;expires_on;counted_at").unwrap();
    let counted = vigie_domain::paris::to_local(Utc::now()).format("%Y-%m-%d %H:%M").to_string();
    let mut events = Vec::new();
    {
        let st = journal.state();
        for s in (0..2000).step_by(10) {
            let site = format!("S{s}");
            let Some(stock) = st.stock_of(&site) else { continue };
            let lines: Vec<StockLine> = stock
                .lines
                .iter()
                .map(|l| {
                    let mut l = l.clone();
                    l.quantity = Quantity::from_units(l.quantity.milli() / 2000);
                    l.counted_at = Utc::now();
                    writeln!(
                        later,
                        "{site};{};{};{};{};{};{counted}",
                        l.item_id,
                        l.quantity.milli() / 1000,
                        l.condition.as_str(),
                        l.lot.as_deref().unwrap_or(""),
                        l.expires_on.map(|d| d.to_string()).unwrap_or_default()
                    )
                    .unwrap();
                    l
                })
                .collect();
            events
                .push(caller.event(Event::StockCounted(StockCount { site_id: SiteId::parse(&site).unwrap(), lines })));
        }
    }
    drop(later);
    journal.append(events).unwrap();
    let c = journal.state().counts();
    println!(
        "# journal: {} events; state: {} organisations, {} sites, {} items, {} stock lines, {} forces",
        journal.state().last_seq,
        c.organizations,
        c.sites,
        c.items,
        c.stock_lines,
        c.forces
    );

    let every = Duration::hours(24);
    let totals = |r: &vigie_app::reports::Logstat| {
        let sum = |f: &dyn Fn(&vigie_app::reports::LogstatLine) -> f64| r.lines.iter().map(f).sum::<f64>();
        (
            r.lines.len(),
            sum(&|l| l.figures.on_hand.as_f64()),
            sum(&|l| l.figures.serviceable.as_f64()),
            sum(&|l| l.figures.need.as_f64()),
        )
    };
    // As of now: the live projection.
    let mut now_s = Vec::new();
    let mut now_r = None;
    for _ in 0..5 {
        let st = journal.state();
        let t = Instant::now();
        let r = vigie_app::reports::logstat_of(&st, Utc::now(), &Scope::everything(), None, every);
        now_s.push(t.elapsed().as_secs_f64());
        now_r = Some(r);
    }
    let now_r = now_r.unwrap();
    // As of the instant between the counts: replayed from the journal (cold), then from the state kept (warm).
    let mut cold = Vec::new();
    let mut past_r = None;
    for _ in 0..3 {
        let history = vigie_app::reports::History::default();
        let t = Instant::now();
        let past = history.state_at(&journal, between).unwrap();
        let r = vigie_app::reports::logstat_of(&past.state, between, &Scope::everything(), None, every);
        cold.push(t.elapsed().as_secs_f64());
        past_r = Some(r);
    }
    let past_r = past_r.unwrap();
    let history = vigie_app::reports::History::default();
    history.state_at(&journal, between).unwrap();
    let mut warm = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let past = history.state_at(&journal, between).unwrap();
        let _ = vigie_app::reports::logstat_of(&past.state, between, &Scope::everything(), None, every);
        warm.push(t.elapsed().as_secs_f64());
    }

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/reports_baseline.py");
    let out = std::process::Command::new("python3")
        .args([script, data.to_str().unwrap(), &day.to_string()])
        .output()
        .expect("python3 runs");
    let duck: Option<serde_json::Value> = serde_json::from_slice(&out.stdout).ok();
    if duck.is_none() {
        println!(
            "# DuckDB baseline unavailable ({}); install it with `pip install duckdb`",
            String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or("")
        );
    }
    let ms = |s: f64| s * 1000.0;
    let line = |what: &str, vigie: f64, key: &str| {
        let mut l = format!("{what:<44} {:>9.1} ms", ms(vigie));
        if let Some(d) = &duck {
            let v: Vec<f64> = d[key]["seconds"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
            let b = median(v);
            l += &format!(
                " | baseline DuckDB (same report, temporal table) {:>8.1} ms | ratio {:.2}×",
                ms(b),
                b / vigie
            );
        }
        println!("{l}");
    };
    line("LOGSTAT as of now (median of 5)", median(now_s), "now");
    line("LOGSTAT as of a past instant, cold (replay)", median(cold), "past");
    line("LOGSTAT as of a past instant, state kept", median(warm), "past");
    if let Some(d) = &duck {
        println!(
            "# DuckDB loading the CSV files into tables: {:.1} s (not counted above)",
            d["load_seconds"].as_f64().unwrap()
        );
    }
    // The same report, or the comparison means nothing.
    for (name, r, key) in [("now", &now_r, "now"), ("past", &past_r, "past")] {
        let (n, on_hand, serviceable, need) = totals(r);
        print!("# {name}: {n} lines, on hand {on_hand:.0}, serviceable {serviceable:.0}, need {need:.0}");
        if let Some(d) = &duck {
            let b = &d[key];
            let same = b["lines"].as_u64() == Some(n as u64)
                && (b["on_hand"].as_f64().unwrap() - on_hand).abs() < 0.5
                && (b["serviceable"].as_f64().unwrap() - serviceable).abs() < 0.5
                && (b["need"].as_f64().unwrap() - need).abs() < 0.5;
            print!(
                " | DuckDB {} lines, on hand {:.0}, serviceable {:.0}, need {:.0}: {}",
                b["lines"],
                b["on_hand"].as_f64().unwrap(),
                b["serviceable"].as_f64().unwrap(),
                b["need"].as_f64().unwrap(),
                if same { "same" } else { "DIFFERENT" }
            );
        }
        println!();
    }
    journal.shutdown();
}
