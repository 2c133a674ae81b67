//! What Vigie serves, checked by the ecosystem's own validators: the OpenAPI document by `openapi-spec-validator`
//! (PyPI, in the virtual environment `scripts/test.sh` makes and names in `$VIGIE_TEST_VENV`), `/metrics` by
//! `promtool check metrics` (Debian package `prometheus`), lint included. A missing validator fails the test with
//! how to install it: these checks never skip.

mod common;

use common::{registry, Backend, TestApp};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const TOC: &[(&str, &str)] = &[
    ("partners.csv", "id;name\nATOS;Atos\n"),
    (
        "applications.csv",
        "id;name;suite;criticality;partner_id;rollup\nODS-RES;Diffusion des résultats;ODS;critical;ATOS;worst\n",
    ),
    ("assets.csv", "id;name;kind;site_id\nSTA-SW;Commutateur;network;STA\n"),
    (
        "checks.csv",
        "id;target;site_id;kind;interval_s;timeout_s;asset_id;application_id;max_attempts\n\
         UPLINK;sta-uplink;STA;push;60;5;STA-SW;;1\n\
         PC-1;pc-1;STA;push;60;5;;ODS-RES;1\n\
         PC-2;pc-2;MRS;push;60;5;;ODS-RES;1\n",
    ),
    ("dependencies.csv", "child_id;parent_id\nPC-1;UPLINK\n"),
];

/// Runs a validator; panics with what it said when it fails (or cannot start, with `install`).
fn run(mut cmd: Command, what: &str, install: &str) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what} cannot be run ({e}): {install}"));
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{what} refuses what Vigie serves ({}):\n{said}", out.status);
    out
}

/// `openapi-spec-validator` from `$VIGIE_TEST_VENV`.
fn openapi_validator() -> PathBuf {
    const INSTALL: &str = "run `bash scripts/test.sh`, which installs it, or: python3 -m venv target/test-venv && \
                           target/test-venv/bin/pip install openapi-spec-validator==0.9.0, then \
                           export VIGIE_TEST_VENV=$PWD/target/test-venv";
    let venv = std::env::var_os("VIGIE_TEST_VENV")
        .unwrap_or_else(|| panic!("VIGIE_TEST_VENV is not set: no openapi-spec-validator to run; {INSTALL}"));
    let bin = Path::new(&venv).join("bin/openapi-spec-validator");
    assert!(bin.is_file(), "{} is missing: {INSTALL}", bin.display());
    bin
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_passes_openapi_spec_validator() {
    let validator = openapi_validator();
    let app = TestApp::spawn(Backend::Sqlite).await;
    let doc = app.get("/api/v1/openapi.json").await;
    assert_eq!(doc.status(), 200);
    let doc: serde_json::Value = doc.json().await.unwrap();
    // The path parameters come from the route table: every `{name}` of every path is declared, once.
    for (path, ops) in doc["paths"].as_object().unwrap() {
        let names: Vec<&str> =
            path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))).collect();
        for (method, op) in ops.as_object().unwrap() {
            let declared: Vec<&str> = op["parameters"]
                .as_array()
                .map(|ps| ps.iter().filter(|p| p["in"] == "path").map(|p| p["name"].as_str().unwrap()).collect())
                .unwrap_or_default();
            assert_eq!(declared, names, "{method} {path}");
        }
    }
    let file = app.dir.path().join("openapi.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    let mut cmd = Command::new(&validator);
    cmd.arg(&file);
    let out =
        tokio::task::spawn_blocking(move || run(cmd, "openapi-spec-validator", "see VIGIE_TEST_VENV")).await.unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains(": OK"), "openapi-spec-validator said: {said}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_pass_promtool_check_metrics() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut files = registry();
    files.extend_from_slice(TOC);
    assert_eq!(app.import(&files, "", None).await.status(), 200);
    // Results and a state change, so that every family has samples.
    let r = app
        .client
        .post(app.url("/api/v1/monitoring/results"))
        .json(&json!([{"check": "PC-1", "status": "CRITICAL", "output": "ping perdu"},
                      {"check": "UPLINK", "status": "OK"}, {"check": "PC-2", "status": 1}]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let metrics = app.get("/metrics").await;
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.unwrap();
    assert!(text.contains("vigie_checks_supervised 3"), "{text}");
    assert!(text.contains("vigie_results_total 3"), "{text}");
    let file = app.dir.path().join("metrics.txt");
    std::fs::write(&file, &text).unwrap();
    let out = tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new("promtool");
        cmd.args(["check", "metrics"]).stdin(std::fs::File::open(&file).unwrap());
        run(cmd, "promtool check metrics", "install Debian's prometheus package (apt-get install prometheus)")
    })
    .await
    .unwrap();
    // promtool prints lint findings and then fails; a clean exposition prints nothing.
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(said.trim().is_empty(), "promtool check metrics found: {said}\n{text}");
    app.stop().await;
}
