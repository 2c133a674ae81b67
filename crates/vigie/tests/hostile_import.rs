//! Hostile files sent to a running server, as the adversarial review sent them: a 2 KB sparse workbook reaching
//! XFD1048576 and a 2 MB workbook holding a 300 MB shared string, each as a tactical user's dry run, then a CSV of a
//! million bad rows. Each gets a clear, located answer, and the whole process (server included: it runs in this
//! test binary) allocates less than 100 MB on top of what it held before, counted by this binary's allocator.

mod common;

#[path = "../../vigie-import/tests/fixtures/mod.rs"]
mod fixtures;

use common::{registry, Backend, TestApp};
use fixtures::Counting;
use serde_json::Value;
use std::time::Instant;

#[global_allocator]
static A: Counting = Counting;

const MAX_EXTRA: usize = 100 * 1024 * 1024;

/// Sends `bytes` as `name` (a dry run) as Paris's tactical user; returns the answer, the peak of memory allocated on
/// top of what was live before (the request's own bytes included), and the time taken (printed, not asserted).
async fn send(app: &TestApp, name: &str, bytes: Vec<u8>) -> (u16, Value, usize, f64) {
    let size = bytes.len();
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()));
    let request = app.client_as("idf").post(app.url("/api/v1/import?dry_run=true")).multipart(form);
    let base = fixtures::start();
    let t = Instant::now();
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    let elapsed = t.elapsed().as_secs_f64();
    let extra = fixtures::extra(base);
    println!(
        "{name}: {size} bytes in, {status} in {elapsed:.3} s, peak {:.1} MiB on top",
        extra as f64 / (1 << 20) as f64
    );
    (status, body, extra, elapsed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_files_get_a_located_answer_in_bounded_memory() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    assert_eq!(app.import(&registry(), "", None).await.status(), 200);
    let seq = app.get_json("/health").await["last_seq"].clone();

    let sparse = fixtures::sparse_workbook();
    assert!(sparse.len() < 2048);
    let (status, body, extra, _) = send(&app, "sites.xlsx", sparse).await;
    assert_eq!((status, body["valid"].as_bool()), (200, Some(false)), "{body}");
    assert_eq!(
        body["lines"][0],
        "sites.xlsx[sites]:1048576:16384: cell XFD1048576 is beyond column 64 (a table has at most 64 columns)"
    );
    assert!(extra < MAX_EXTRA, "{extra} bytes on top");

    for lie in [None, Some(1_000)] {
        let huge = fixtures::huge_shared_string_workbook(1 + 258 * 1_200_000, lie);
        assert!(huge.len() < 2 << 20);
        let (status, body, extra, _) = send(&app, "sites.xlsx", huge).await;
        assert_eq!((status, body["valid"].as_bool()), (200, Some(false)), "{body}");
        assert!(body["lines"][0].as_str().unwrap().contains("xl/sharedStrings.xml"), "{body}");
        assert!(extra < MAX_EXTRA, "{lie:?}: {extra} bytes on top");
    }

    // A CSV of a million bad rows (a 17 MB file of bad rows made a 470 MB error list): a thousand problems, and
    // the count of the others.
    let mut csv = String::from("site_id,item_id,quantity,condition,counted_at\n");
    for i in 0..1_000_000 {
        csv.push_str(&format!("N{i},P,x,ok,2024-07-20\n"));
    }
    let (status, body, extra, _) = send(&app, "stock.csv", csv.into_bytes()).await;
    assert_eq!((status, body["valid"].as_bool()), (200, Some(false)));
    let lines = body["lines"].as_array().unwrap();
    assert!(lines.len() <= 1_001, "{} lines", lines.len());
    assert!(lines.last().unwrap().as_str().unwrap().starts_with("… and "), "{:?}", lines.last());
    assert!(extra < MAX_EXTRA, "{extra} bytes on top");

    assert_eq!(app.get_json("/health").await["last_seq"], seq, "dry runs write nothing");
    app.stop().await;
}
