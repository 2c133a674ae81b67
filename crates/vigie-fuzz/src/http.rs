//! The JSON target: bodies sent through a real server to every route of `vigie_server::routes::ROUTES` whose body
//! is JSON, as an administrator (a Bearer token), with the content type the route takes (and now and then another).
//!
//! The server runs in this process on 127.0.0.1, port 0, over a fresh SQLite journal in a temporary directory, as
//! `crates/vigie/tests/common/mod.rs` starts it; it holds the CSV corpus (imported through `POST /api/v1/import`)
//! and one incident, so that bodies name things that exist. Seeds are `corpus/json/<method>_<path>.jsonl`, one
//! body a line; a JSON route without seeds is an error (a new route must bring its own).
//!
//! Properties: an answer within the watchdog's time; never a 5xx; a 4xx carries a JSON error body (`{"error",
//! "message"}`, or ServiceNow's `{"error": {"message", "detail"}, "status": "failure"}` under `/api/now/`); a 2xx
//! body, when there is one, is JSON; and after the run the server still answers `/health` with `ok`.

use crate::mutate::{mutate, NUMBERS, ODD_TEXT};
use crate::{Input, Limits, Payload, Request, Rng, Target};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;
use vigie_domain::access::{Permission, Role, TokenIssued, User, UserName};
use vigie_domain::{Actor, Event, NewEvent};
use vigie_import::SourceFile;
use vigie_server::routes::{Body, ROUTES};

/// A Vigie server on a port of its own over a fresh journal, with an administrator's token.
pub struct Server {
    rt: tokio::runtime::Runtime,
    pub addr: SocketAddr,
    client: reqwest::Client,
    stop: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    journal: vigie_journal::Journal,
    _lock: vigie::DataLock,
    _dir: tempfile::TempDir,
}

/// What a request got back.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl Server {
    /// Starts a server and imports `files` through its API.
    pub fn start(files: &[SourceFile]) -> Result<Server, String> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let mut cfg = vigie::config::Config::default();
        cfg.storage.data_dir = dir.path().to_path_buf();
        let (journal, lock) = vigie::open(&cfg).map_err(|e| format!("cannot open the journal: {e:#}"))?;
        let (id, secret) = vigie_app::credentials::new_token();
        let admin = UserName::parse("admin").unwrap();
        let events = vec![
            Event::UserUpserted(User {
                name: admin.clone(),
                role: Role::Admin,
                organization_id: None,
                partner_id: None,
                password_hash: String::new(),
                disabled: false,
            }),
            Event::TokenIssued(TokenIssued {
                id: id.clone(),
                user: admin,
                label: "fuzz".into(),
                scopes: Permission::ALL.to_vec(),
                expires_at: None,
                hash: vigie_app::credentials::token_hash(&secret),
                parent: None,
            }),
        ];
        let events =
            events.into_iter().map(|event| NewEvent { actor: Actor::system("fuzz"), source: "fuzz".into(), event });
        journal.append(events.collect()).map_err(|e| e.to_string())?;
        let token = format!("{}{id}_{secret}", vigie_app::credentials::TOKEN_PREFIX);
        let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let options = vigie_server::ServerOptions { active_checks: false, ..Default::default() };
        let j = journal.clone();
        let task = rt.spawn(async move {
            let _ = vigie_server::serve(listener, j, options, async {
                let _ = stopped.await;
            })
            .await;
        });
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
        let client = reqwest::Client::builder().default_headers(headers).build().map_err(|e| e.to_string())?;
        let server = Server {
            rt,
            addr,
            client,
            stop: Mutex::new(Some(stop)),
            task: Mutex::new(Some(task)),
            journal,
            _lock: lock,
            _dir: dir,
        };
        let imported = server.rt.block_on(async {
            let mut form = reqwest::multipart::Form::new();
            for f in files {
                form = form.part("file", reqwest::multipart::Part::bytes(f.bytes.clone()).file_name(f.name.clone()));
            }
            let r = server.client.post(server.url("/api/v1/import")).multipart(form).send().await?;
            Ok::<_, reqwest::Error>((r.status().as_u16(), r.text().await?))
        });
        match imported {
            Ok((200, _)) => Ok(server),
            Ok((status, text)) => Err(format!("the corpus does not import ({status}): {text}")),
            Err(e) => Err(format!("the server does not answer: {e}")),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Sends a request as the administrator; an error when no answer came within `timeout`.
    pub fn send(&self, r: &Request, timeout: Duration) -> Result<Answer, String> {
        let method = reqwest::Method::from_bytes(r.method.as_bytes()).map_err(|e| e.to_string())?;
        let mut b = self.client.request(method, self.url(&r.path)).body(r.body.clone());
        if let Some(ct) = &r.content_type {
            b = b.header(reqwest::header::CONTENT_TYPE, ct);
        }
        self.rt.block_on(async {
            let answer = async {
                let resp = b.send().await?;
                let status = resp.status().as_u16();
                let content_type = resp
                    .headers()
                    .get(reqwest::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                let body = resp.bytes().await?.to_vec();
                Ok::<_, reqwest::Error>(Answer { status, content_type, body })
            };
            match tokio::time::timeout(timeout, answer).await {
                Ok(Ok(a)) => Ok(a),
                Ok(Err(e)) if closed_while_sending(&e) => {
                    Ok(Answer { status: 0, content_type: String::new(), body: Vec::new() })
                }
                Ok(Err(e)) => Err(format!("no answer: {e} ({:?})", std::error::Error::source(&e))),
                Err(_) => Err(format!("no answer within {timeout:?}: a hang")),
            }
        })
    }

    /// `GET /health` answers 200 with `status: ok`.
    pub fn healthy(&self) -> Result<(), String> {
        let r = Request { method: "GET".into(), path: "/health".into(), content_type: None, body: Vec::new() };
        let a = self.send(&r, Duration::from_secs(30))?;
        let v: Value = serde_json::from_slice(&a.body).map_err(|e| format!("/health is not JSON: {e}"))?;
        if a.status != 200 || v["status"] != "ok" {
            return Err(format!("/health answers {}: {v}", a.status));
        }
        Ok(())
    }

    /// The `sys_id` of an incident, made for the purpose.
    fn incident(&self) -> Result<String, String> {
        let body = json!({"short_description": "Incident du fuzzing", "impact": 2, "urgency": 2, "location": "STA"});
        let r = Request {
            method: "POST".into(),
            path: "/api/now/table/incident".into(),
            content_type: Some("application/json".into()),
            body: body.to_string().into_bytes(),
        };
        let a = self.send(&r, Duration::from_secs(30))?;
        let v: Value = serde_json::from_slice(&a.body).map_err(|e| e.to_string())?;
        v["result"]["sys_id"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("cannot open an incident ({}): {v}", a.status))
    }

    /// Stops the server and closes the journal.
    pub fn stop(&self) {
        if let Some(s) = self.stop.lock().unwrap().take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.lock().unwrap().take() {
            let _ = self.rt.block_on(async { tokio::time::timeout(Duration::from_secs(10), t).await });
        }
        self.journal.shutdown();
    }
}

/// Whether the server closed the connection while the body was still being sent: it answered before reading a body
/// it refuses anyway (no route, a content type it does not take), and HTTP/1.1 lets it; the client then cannot read
/// the answer. Such a request is told apart (status 0) and the server must still be healthy.
fn closed_while_sending(e: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return matches!(io.kind(), std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset);
        }
        source = s.source();
    }
    false
}

/// A JSON route and its seeds.
pub struct JsonRoute {
    pub method: &'static str,
    pub path: &'static str,
    pub seeds: Vec<Value>,
}

/// The seed file of a route: `post_api_v1_plans.jsonl` for `POST /api/v1/plans`.
pub fn seed_file(method: &str, path: &str) -> String {
    let mut s = method.to_lowercase();
    for part in path.split(|c: char| !c.is_ascii_alphanumeric()).filter(|p| !p.is_empty()) {
        s.push('_');
        s.push_str(part);
    }
    s + ".jsonl"
}

/// Every route whose body is JSON, with its seeds from `corpus/json`.
pub fn json_routes() -> Result<Vec<JsonRoute>, String> {
    let dir = crate::corpus_dir().join("json");
    let mut out = Vec::new();
    for r in ROUTES {
        if !matches!(r.body, Body::Json { .. }) {
            continue;
        }
        let file = dir.join(seed_file(r.method, r.path));
        let text = std::fs::read_to_string(&file)
            .map_err(|e| format!("{} {}: no seeds in {} ({e})", r.method, r.path, file.display()))?;
        let seeds = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).map_err(|e| format!("{}: {e}: {l}", file.display())))
            .collect::<Result<Vec<Value>, String>>()?;
        if seeds.is_empty() {
            return Err(format!("{}: no seed", file.display()));
        }
        for p in r.path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))) {
            if path_values(r.path, p, "SYS").is_empty() {
                return Err(format!("{} {}: give vigie-fuzz values for the path parameter {{{p}}}", r.method, r.path));
            }
        }
        out.push(JsonRoute { method: r.method, path: r.path, seeds });
    }
    Ok(out)
}

/// The report the corpus's first draft makes (a LOGSTAT as of a morning of the Games).
pub const REPORT: &str = "LOGSTAT-2024-07-26-matin-national";

/// Values that exist for a path parameter (the corpus's, the incident's).
fn path_values(path: &str, name: &str, sys_id: &str) -> Vec<String> {
    match name {
        "table" => vec!["incident".into()],
        "sys_id" => vec![sys_id.into(), "INC0000001".into()],
        "id" if path.contains("/monitoring/checks/") => vec!["PC-1".into(), "UPLINK".into(), "WEB".into()],
        "id" if path.contains("/readiness/tasks/") => vec!["STA-RES-PC".into(), "STA-RES-IMG".into()],
        // The report the first seed of `POST /api/v1/reports` drafts.
        "id" if path.contains("/reports/") => vec![REPORT.into()],
        // Exercises are named at their start: the fuzzer's bodies meet one that is not there (404).
        "id" if path.contains("/exercises/") => vec!["EX-NONE".into()],
        _ => Vec::new(),
    }
}

/// Query strings that the route needs, to reach its body.
fn queries(path: &str) -> &'static [&'static str] {
    match path {
        "/api/v1/ask/sufficiency" => &["?item=PLATE", "?all=true", "?item=RATION&days=3&org=GS-IDF"],
        "/api/v1/ask/locate" => {
            &["?item=PLATE,RATION&near=STA&headcount=100", "?item=PLATE&near=48.9,2.3&within_km=50"]
        }
        "/api/v1/ask/reinforce" => &["?site=STA&need=PLATE=10,RATION=20", "?site=MRS&need=TENTE=2"],
        "/api/v1/ask/deploy" => &["?from=DEP1&to=STA&headcount=20&days=2", "?from=MRS&to=STA&headcount=5"],
        "/api/now/table/{table}" | "/api/now/table/{table}/{sys_id}" => {
            &["", "?sysparm_display_value=true", "?sysparm_display_value=all&sysparm_fields=number,state"]
        }
        _ => &[""],
    }
}

/// Path segments no route expects.
const ODD_SEGMENTS: &[&str] =
    &["x", "%00", "..", "%2e%2e", "%C3%28", "a%2Fb", "-1", "%F0%9F%92%A9", "%20", "INC9999999"];

/// Identifiers, names, enumerations and dates the bodies use, to put where they are not expected.
const WORDS: &[&str] = &[
    "STA",
    "DEP1",
    "MRS",
    "PLATE",
    "RATION",
    "GS-IDF",
    "GS-MRS",
    "CPCO",
    "PC-1",
    "UPLINK",
    "WEB",
    "ATOS",
    "ODS-RES",
    "F-STA",
    "PL-1",
    "VL-1",
    "INC0000001",
    "fuzz-op",
    "toc",
    "viewer",
    "partner",
    "tactical",
    "OK",
    "CRITICAL",
    "3",
    "site",
    "tag",
    "check",
    "asset",
    "application",
    "note",
    "decision",
    "handover",
    "firing",
    "resolved",
    "1",
    "6",
    "monitoring:write",
    "tokens:issue",
    "incidents:read",
    "2024-07-26",
    "2024-02-30",
    "2024-07-26T19:30:00+02:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "+275760-09-13T00:00:00Z",
    "2024-07-26T25:00:00Z",
    "1721980800",
    "Solved (Permanently)",
    "matin",
    "nuit",
];

/// Keys the bodies take, and some they do not.
const KEYS: &[&str] = &[
    "name",
    "role",
    "password",
    "user",
    "scopes",
    "expires_at",
    "expires_in_days",
    "scenario",
    "changes",
    "from",
    "to",
    "sites",
    "dry_run",
    "on",
    "days",
    "destination",
    "movements",
    "vehicles",
    "quantity",
    "item_id",
    "vehicle_id",
    "check",
    "check_id",
    "status",
    "exit_status",
    "output",
    "performance_data",
    "time",
    "results",
    "alerts",
    "labels",
    "comment",
    "id",
    "scope",
    "by",
    "starts_at",
    "ends_at",
    "every_hours",
    "text",
    "kind",
    "incident",
    "site",
    "short_description",
    "state",
    "impact",
    "urgency",
    "sys_mod_count",
    "work_notes",
    "close_code",
    "hold_reason",
    "__proto__",
    "",
    "sys_id",
    "number",
];

/// Raw JSON that `serde_json::Value` cannot hold: numbers beyond f64, escapes that decode to nothing valid.
const RAW: &[&str] = &[
    "1e999",
    "-1e999",
    "1e-999",
    "123456789012345678901234567890123456789012345678901234567890",
    "-0",
    "0.0000000000000000000000000000000000000000001",
    "18446744073709551616",
    "-9223372036854775809",
    "\"\\ud800\"",
    "\"\\udc00\\ud800\"",
    "\"\\u0000\"",
    "{\"a\": 1, \"a\": 2}",
    "{\"name\": \"x\", \"name\": \"y\"}",
    "[1, 2,]",
    "NaN",
    "Infinity",
];

/// A marker a raw text takes the place of, once serialized.
fn raw_marker(i: usize) -> String {
    format!("\u{1}RAW{i}\u{1}")
}

/// A value at the edges of what a field takes; raw texts go to `raws`.
fn odd_value(rng: &mut Rng, raws: &mut Vec<&'static str>, limits: &Limits) -> Value {
    match rng.below(15) {
        0 => Value::Null,
        1 => json!(rng.chance(50)),
        2 => json!(rng.below(10) as i64 - 3),
        3 => json!(*rng.pick(&[i64::MIN, i64::MAX, i32::MAX as i64 + 1, u32::MAX as i64 + 1])),
        4 => json!(*rng.pick(&[u64::MAX, 1 << 53])),
        5 => json!(*rng.pick(&[f64::MAX, f64::MIN, f64::MIN_POSITIVE, 5e-324, 0.1, 1e15 + 0.3, -0.0])),
        6 => {
            raws.push(*rng.pick(RAW));
            Value::String(raw_marker(raws.len() - 1))
        }
        7 => Value::String(rng.pick(&["x", "é", "\u{202E}", "\n", "\0"]).repeat(rng.size(limits.max_input / 8))),
        8 => Value::String(String::from_utf8_lossy(rng.one_of(ODD_TEXT)).into_owned()),
        9 => Value::String(rng.pick(WORDS).to_string()),
        10 => rng.pick(&[json!(""), json!([]), json!({}), json!([null]), json!({"": null})]).clone(),
        11 => {
            let mut v = json!(1);
            for _ in 0..rng.size(120) {
                v = if rng.chance(50) { json!([v]) } else { json!({"a": v}) };
            }
            v
        }
        12 => Value::String(String::from_utf8_lossy(rng.one_of(NUMBERS)).into_owned()),
        13 => Value::String(format!(" {} ", rng.pick(WORDS))),
        _ => json!({"changes": [{"lose_site": {"site": "STA"}}], "name": "x"}),
    }
}

/// One structured change somewhere in `v`.
fn mutate_value(rng: &mut Rng, v: &mut Value, raws: &mut Vec<&'static str>, limits: &Limits, depth: usize) {
    let children = match v {
        Value::Array(a) => a.len(),
        Value::Object(o) => o.len(),
        _ => 0,
    };
    if children > 0 && depth < 64 && rng.below(children + 1) > 0 {
        let i = rng.below(children);
        let child = match v {
            Value::Array(a) => &mut a[i],
            Value::Object(o) => o.values_mut().nth(i).unwrap(),
            _ => unreachable!(),
        };
        return mutate_value(rng, child, raws, limits, depth + 1);
    }
    match (rng.below(6), v) {
        (0, Value::Object(o)) if !o.is_empty() => {
            let k = o.keys().nth(rng.below(o.len())).unwrap().clone();
            o.remove(&k);
        }
        (1, Value::Object(o)) => {
            let k = if rng.chance(80) { rng.pick(KEYS).to_string() } else { "k".repeat(rng.size(5000)) };
            let val = odd_value(rng, raws, limits);
            o.insert(k, val);
        }
        (2, Value::Array(a)) if !a.is_empty() => {
            // Many of one element (10,000 movements, results…).
            let e = a[rng.below(a.len())].clone();
            let n = rng.size(20_000);
            a.extend(std::iter::repeat_n(e, n));
        }
        (3, Value::String(s)) => {
            let odd = String::from_utf8_lossy(rng.one_of(ODD_TEXT)).into_owned();
            if rng.chance(50) {
                s.push_str(&odd);
            } else {
                s.insert_str(0, &odd);
            }
        }
        (_, v) => *v = odd_value(rng, raws, limits),
    }
}

/// Serializes `v`, putting the raw texts in place of their markers.
fn serialize(v: &Value, raws: &[&str]) -> Vec<u8> {
    let mut s = serde_json::to_string(v).unwrap();
    for (i, raw) in raws.iter().enumerate() {
        let marker = serde_json::to_string(&raw_marker(i)).unwrap();
        s = s.replacen(&marker, raw, 1);
    }
    s.into_bytes()
}

/// Deeply nested JSON, closed or not, alone or inside a body.
fn nesting(rng: &mut Rng, limits: &Limits) -> Vec<u8> {
    let depth = 1 + rng.size((limits.max_input / 8).min(1 << 20));
    let (open, close): (&str, &str) = *rng.pick(&[("[", "]"), ("{\"a\":", "}"), ("{\"scenario\":", "}")]);
    let mut s = open.repeat(depth);
    s.push_str(rng.one_of(&["1", "null", "\"x\"", "[]", ""]));
    if rng.chance(70) {
        s.push_str(&close.repeat(depth));
    }
    s.into_bytes()
}

/// Content types: the one the routes take, mostly.
const CONTENT_TYPES: &[&str] = &[
    "application/json; charset=utf-8",
    "application/merge-patch+json",
    "application/vnd.api+json",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/jsonx",
    "",
];

/// The JSON target over a running server.
pub struct JsonTarget {
    pub server: Server,
    pub routes: Vec<JsonRoute>,
    sys_id: String,
    timeout: Duration,
    /// Answers by status.
    statuses: Mutex<std::collections::BTreeMap<u16, u64>>,
}

impl JsonTarget {
    /// Starts a server holding the CSV corpus; `timeout` bounds each request (below the runner's watchdog).
    pub fn new(csv: &[SourceFile], timeout: Duration) -> Result<JsonTarget, String> {
        let routes = json_routes()?;
        let server = Server::start(csv)?;
        let sys_id = server.incident()?;
        Ok(JsonTarget { server, routes, sys_id, timeout, statuses: Default::default() })
    }

    /// The `sys_id` of the incident the server holds.
    pub fn sys_id(&self) -> &str {
        &self.sys_id
    }

    fn path(&self, rng: &mut Rng, route: &JsonRoute) -> String {
        let mut out = String::new();
        for seg in route.path.split('/').skip(1) {
            out.push('/');
            match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) if rng.chance(92) => {
                    out.push_str(rng.pick(&path_values(route.path, name, &self.sys_id)).as_str())
                }
                Some(_) => out.push_str(rng.one_of(ODD_SEGMENTS)),
                None => out.push_str(seg),
            }
        }
        out + *rng.pick(queries(route.path))
    }
}

/// Checks an answer: never a 5xx, a JSON error envelope with a 4xx, JSON with a 2xx that has a body.
pub fn check_answer(path: &str, a: &Answer) -> Result<(), String> {
    let text = || String::from_utf8_lossy(&a.body[..a.body.len().min(300)]).into_owned();
    match a.status {
        200..=299 => {
            if !a.body.is_empty() && serde_json::from_slice::<Value>(&a.body).is_err() {
                return Err(format!("{}: a body that is not JSON ({}): {}", a.status, a.content_type, text()));
            }
        }
        400..=499 => {
            let v: Value = serde_json::from_slice(&a.body)
                .map_err(|_| format!("{}: an error that is not JSON ({}): {}", a.status, a.content_type, text()))?;
            let vigie = v["error"].is_string() && v["message"].is_string();
            let servicenow =
                path.starts_with("/api/now/") && v["error"]["message"].is_string() && v["status"] == "failure";
            if !vigie && !servicenow {
                return Err(format!("{}: an error body without error and message: {}", a.status, text()));
            }
        }
        s => return Err(format!("{s}: {}", text())),
    }
    Ok(())
}

impl Target for JsonTarget {
    fn name(&self) -> &'static str {
        "json"
    }

    fn generate(&self, rng: &mut Rng, limits: &Limits) -> Input {
        let route = rng.pick(&self.routes);
        let path = self.path(rng, route);
        let seed = rng.pick(&route.seeds).clone();
        // Bodies stay under the server's limit (8 MiB): beyond it, the answer is the limit's.
        let limits = Limits { max_input: limits.max_input.min(6 << 20), ..*limits };
        let (kind, body) = match rng.below(100) {
            0..=49 => {
                let mut v = seed;
                let mut raws = Vec::new();
                for _ in 0..1 + rng.below(4) {
                    mutate_value(rng, &mut v, &mut raws, &limits, 0);
                }
                let mut body = serialize(&v, &raws);
                body.truncate(limits.max_input);
                ("structured", body)
            }
            50..=69 => {
                let mut body = serde_json::to_vec(&seed).unwrap();
                let others: Vec<Vec<u8>> =
                    self.routes.iter().map(|r| serde_json::to_vec(rng.pick(&r.seeds)).unwrap()).collect();
                let others: Vec<&[u8]> = others.iter().map(|o| o.as_slice()).collect();
                mutate(rng, &mut body, crate::csv::DICT, &others, limits.max_input);
                ("bytes", body)
            }
            70..=79 => ("nesting", nesting(rng, &limits)),
            80..=87 => ("seed", serde_json::to_vec(&seed).unwrap()),
            _ => {
                let n = rng.size(4096);
                ("arbitrary", rng.bytes(n))
            }
        };
        let content_type = match rng.below(100) {
            0..=89 => Some("application/json".to_string()),
            90..=97 => Some(rng.pick(CONTENT_TYPES).to_string()),
            _ => None,
        };
        Input { kind, payload: Payload::Request(Request { method: route.method.into(), path, content_type, body }) }
    }

    fn run(&self, input: &Input) -> Result<(), String> {
        let Payload::Request(r) = &input.payload else { return Err("not a request".into()) };
        let a = self.server.send(r, self.timeout)?;
        *self.statuses.lock().unwrap().entry(a.status).or_default() += 1;
        if a.status == 0 {
            // Closed while the body was sent: only a large body may be refused so, and the server stays up.
            if r.body.len() < 1 << 20 {
                return Err(format!("{} {}: the connection closed while a small body was sent", r.method, r.path));
            }
            return self.server.healthy();
        }
        check_answer(&r.path, &a).map_err(|e| format!("{} {}: {e}", r.method, r.path))
    }

    fn stats(&self) -> String {
        let s: Vec<String> = self.statuses.lock().unwrap().iter().map(|(k, v)| format!("{k}: {v}")).collect();
        format!("answers {} (0: closed while a large body was sent)", s.join(", "))
    }

    fn finish(&self) -> Result<(), String> {
        self.server.healthy()
    }
}

impl Drop for JsonTarget {
    fn drop(&mut self) {
        self.server.stop();
    }
}
