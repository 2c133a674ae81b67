//! The bounded fuzzing pass of the test command: a fixed number of inputs per target, from a fixed seed (so that a
//! run is repeatable; `VIGIE_FUZZ_SEED` picks another), each watched for a panic, a hang and its memory. A longer
//! run is `cargo run --release -p vigie-fuzz -- --seconds 600 all` (README, Testing).

use std::sync::{Arc, Mutex};
use std::time::Duration;
use vigie_fuzz::{csv::CsvTarget, http::JsonTarget, xlsx::XlsxTarget, Config, Limits, Report, Target};

#[global_allocator]
static A: vigie_fuzz::alloc::Counting = vigie_fuzz::alloc::Counting;

/// One target at a time: the memory of each input is measured for the whole process.
static SERIAL: Mutex<()> = Mutex::new(());

const MEMORY_BOUND: usize = 256 << 20;

fn config(inputs: u64) -> Config {
    Config {
        seed: std::env::var("VIGIE_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(20240726),
        start: 0,
        inputs: Some(inputs),
        duration: None,
        // Generous: a debug build on a busy 2-core machine; a hang is an input that never ends.
        timeout: Duration::from_secs(60),
        memory_bound: MEMORY_BOUND,
        limits: Limits { max_input: 2 << 20, max_inflated: 4 << 20 },
        out: std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-failures"),
        keep_going: false,
        save_all: false,
    }
}

fn fuzz(target: Arc<dyn Target>, inputs: u64) -> Report {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let report = vigie_fuzz::run(target, &config(inputs));
    println!("{report}");
    assert!(report.failures.is_empty(), "{report}");
    assert_eq!(report.inputs, inputs);
    report
}

/// Every way of making inputs is used: seeds mutated, inputs built from the format, random bytes.
fn assert_kinds(report: &Report, kinds: &[&str]) {
    for k in kinds {
        assert!(report.by_kind.get(k).copied().unwrap_or(0) > 0, "no {k} input: {report}");
    }
}

#[test]
fn csv_files_never_panic_hang_or_exhaust_memory_and_imports_are_idempotent() {
    let report = fuzz(Arc::new(CsvTarget::new(vigie_fuzz::csv_corpus())), 3000);
    assert_kinds(&report, &["structured", "grammar", "grammar+mutated", "arbitrary"]);
}

#[test]
fn xlsx_workbooks_never_panic_hang_or_exhaust_memory() {
    let report = fuzz(Arc::new(XlsxTarget::new(&vigie_fuzz::csv_corpus())), 1200);
    assert_kinds(&report, &["structured", "headers", "bytes", "arbitrary"]);
}

#[test]
fn json_bodies_get_well_formed_answers_and_the_server_stays_up() {
    let target = JsonTarget::new(&vigie_fuzz::csv_corpus(), Duration::from_secs(50)).unwrap();
    assert!(target.routes.len() >= 15, "{} JSON routes", target.routes.len());
    let report = fuzz(Arc::new(target), 3000);
    assert_kinds(&report, &["structured", "bytes", "nesting", "seed", "arbitrary"]);
}

/// The seeds are worth mutating: the CSV corpus imports (checked by `CsvTarget::new`), every workbook seed imports,
/// and every JSON seed is taken by its route (2xx) on a fresh server.
#[test]
fn the_seeds_are_valid() {
    let corpus = vigie_fuzz::csv_corpus();
    assert_eq!(corpus.len(), vigie_import::Table::ALL.len(), "one CSV seed per table");
    let xlsx = XlsxTarget::new(&corpus);
    let all = xlsx.seeds()[corpus.len()].clone();
    let batch =
        vigie_import::read(&[vigie_import::SourceFile { name: "book.xlsx".into(), bytes: all }], &mut |_, _| {});
    let actor = vigie_domain::Actor::parse("t").unwrap();
    let plan = vigie_import::plan(&batch, &vigie_domain::State::new(), &actor);
    let plan = plan.unwrap_or_else(|p| panic!("the workbook of every table does not import: {p:?}"));
    // The same records as the CSV files.
    let csv = vigie_import::plan(&vigie_import::read(&corpus, &mut |_, _| {}), &vigie_domain::State::new(), &actor);
    assert_eq!(plan.report.tables, csv.unwrap().report.tables);

    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let target = JsonTarget::new(&corpus, Duration::from_secs(50)).unwrap();
    for route in &target.routes {
        for seed in &route.seeds {
            // The first seed of each route, on the corpus as imported, is taken.
            let id = if route.path.contains("/readiness/tasks/") {
                "STA-RES-PC"
            } else if route.path.contains("/reports/") {
                vigie_fuzz::http::REPORT
            } else {
                "PC-1"
            };
            let path =
                route.path.replace("{table}", "incident").replace("{sys_id}", target.sys_id()).replace("{id}", id);
            let query = match route.path {
                "/api/v1/ask/sufficiency" => "?item=PLATE",
                "/api/v1/ask/locate" => "?item=PLATE&near=STA",
                "/api/v1/ask/reinforce" => "?site=STA&need=PLATE=10",
                "/api/v1/ask/deploy" => "?from=DEP1&to=STA&headcount=20",
                _ => "",
            };
            let r = vigie_fuzz::Request {
                method: route.method.into(),
                path: format!("{path}{query}"),
                content_type: Some("application/json".into()),
                body: serde_json::to_vec(seed).unwrap(),
            };
            let a = target.server.send(&r, Duration::from_secs(50)).unwrap();
            vigie_fuzz::http::check_answer(&r.path, &a).unwrap();
            // (An exercise's control needs one started, whose id is made at its start: its first seed meets none.)
            if seed == &route.seeds[0]
                && route.path != "/api/v1/session"
                && !route.path.ends_with("/ack")
                && !route.path.starts_with("/api/v1/exercises/{id}")
            {
                assert!(
                    (200..300).contains(&a.status),
                    "{} {}: the first seed is refused ({}): {}",
                    r.method,
                    r.path,
                    a.status,
                    String::from_utf8_lossy(&a.body)
                );
            }
        }
    }
    target.server.healthy().unwrap();
}

/// Found by the fuzzer's longer run: the Table API read a body as a whole JSON value, and 4 MB of small nested
/// objects took 390 MB. Fields are now read one by one and nested values skipped: such a body costs little more
/// than itself.
#[test]
fn a_nested_body_to_the_table_api_is_not_held_in_memory() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let target = JsonTarget::new(&vigie_fuzz::csv_corpus(), Duration::from_secs(50)).unwrap();
    let nested = vec![r#"{"a":[{"a":{"a":[1,{"a":[[{"b":null}]]}]}}]}"#; 80_000].join(",");
    let path = format!("/api/now/table/incident/{}", target.sys_id());
    for (body, status) in [
        (format!("[{nested}]"), 400),
        (format!(r#"{{"work_notes": "vu", "comments": {{"display_value": [{nested}]}}}}"#), 200),
        (format!(r#"{{"work_notes": [{nested}]}}"#), 400),
    ] {
        let r = vigie_fuzz::Request {
            method: "PATCH".into(),
            path: path.clone(),
            content_type: Some("application/json".into()),
            body: body.into_bytes(),
        };
        let base = vigie_fuzz::alloc::reset_peak();
        let a = target.server.send(&r, Duration::from_secs(50)).unwrap();
        let extra = vigie_fuzz::alloc::peak() - base;
        vigie_fuzz::http::check_answer(&r.path, &a).unwrap();
        assert_eq!(a.status, status, "{}", String::from_utf8_lossy(&a.body));
        assert!(extra < 8 * r.body.len(), "{extra} bytes allocated for a body of {} bytes", r.body.len());
    }
    target.server.healthy().unwrap();
}
