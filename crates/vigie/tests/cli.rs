//! The `vigie` command line, run as a process: import, generate, config, and the demo that the README promises.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn vigie(data: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vigie"));
    c.arg("--data").arg(data).env("VIGIE_LOG", "warn").env_remove("VIGIE__STORAGE__DATABASE");
    c
}

/// Starts a serving command (`serve`, `demo`) and waits for the address it prints.
fn serving(c: &mut Command) -> (std::process::Child, String) {
    let mut child = c.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("vigie listening on ").expect("address line").to_string();
    (child, url)
}

fn run(c: &mut Command) -> (i32, String, String) {
    let out = c.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn import_reports_every_problem_and_writes_nothing_then_imports_once() {
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    std::fs::write(files.join("organizations.csv"), "id,name,level,parent_id\nCPCO,Centre,strategic,\n").unwrap();
    std::fs::write(
        files.join("sites.csv"),
        "id;name;kind;lat;lon;organization_id\nS1;Un;depot;48,8;2,3;CPCO\nS2;Deux;stade;48,8;2,3;NOPE\n",
    )
    .unwrap();
    std::fs::write(files.join("notes.txt"), "ignored: not a table file").unwrap();
    let data = dir.path().join("data");

    let (code, _, err) = run(vigie(&data).arg("import").arg(&files));
    assert_eq!(code, 1, "{err}");
    let sites = files.join("sites.csv").display().to_string();
    assert!(err.contains(&format!("{sites}:3:9: `kind`: expected one of depot, base, venue, village, airport, hq, camp, other, found \"stade\"")), "{err}");
    assert!(err.contains(&format!("{sites}:3:24: unknown organization NOPE in `organization_id`")), "{err}");
    assert!(err.contains("2 problem(s): nothing was imported"), "{err}");
    let (_, status, _) = run(vigie(&data).arg("status"));
    assert!(status.contains("\"last_seq\": 0"), "{status}");

    std::fs::write(files.join("sites.csv"), "id;name;kind;lat;lon;organization_id\nS1;Un;depot;48,8;2,3;CPCO\n")
        .unwrap();
    let (code, out, err) = run(vigie(&data).arg("import").arg(&files).arg("--actor").arg("user:test"));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("appended 2 event(s)"), "{out}");
    let (code, out, _) = run(vigie(&data).arg("import").arg(&files));
    assert_eq!(code, 0);
    assert!(out.contains("appended 0 event(s)"), "{out}");
    let (_, events, _) = run(vigie(&data).args(["events", "--after", "0"]));
    let first: serde_json::Value = serde_json::from_str(events.lines().next().unwrap()).unwrap();
    assert_eq!(first["actor"], "user:test");
    assert_eq!(first["source"], format!("import:{}", files.join("organizations.csv").display()));
}

#[test]
fn generated_data_sets_are_valid_imports() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("gen");
    let (code, stdout, err) =
        run(vigie(&dir.path().join("unused")).args(["generate", "--scale", "0.01", "--out"]).arg(&out));
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("10000 stock lines"), "{stdout}");
    let (code, stdout, err) = run(vigie(&dir.path().join("data")).args(["import", "--json"]).arg(&out));
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["tables"]["stock"]["rows"], 10_000);
    assert_eq!(report["tables"]["sites"]["created"], 20);
}

#[test]
fn config_prints_defaults_and_layers() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, _) = run(vigie(dir.path()).arg("config"));
    assert_eq!(code, 0);
    assert!(out.contains("listen = \"127.0.0.1:8080\""), "{out}");
    let (_, out, _) = run(vigie(dir.path())
        .args(["config", "--effective", "--database", "postgres://vigie:s3cret@db/v"])
        .env("VIGIE__SERVER__LISTEN", "0.0.0.0:9999"));
    assert!(out.contains("listen = \"0.0.0.0:9999\""), "{out}");
    assert!(out.contains("postgres://vigie:***@db/v") && !out.contains("s3cret"), "{out}");
    let (code, _, err) = run(vigie(dir.path()).arg("config").env("VIGIE__SERVER__LISTN", "x"));
    assert_eq!(code, 2);
    assert!(err.contains("listn"), "{err}");
}

/// The README's run command: `vigie demo` loads the scenario and serves it.
#[test]
fn the_demo_serves_the_paris_2024_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, url) = serving(vigie(dir.path()).args(["demo", "--listen", "127.0.0.1:0"]));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let result = rt.block_on(async {
        // The demo's users, with the passwords the README gives.
        let client = reqwest::Client::new();
        let get_as = |user: &'static str, password: &'static str, p: &str| {
            let (u, c) = (format!("{url}{p}"), client.clone());
            async move {
                let r = c.get(u).basic_auth(user, Some(password)).send().await.unwrap();
                (r.status().as_u16(), r.json::<serde_json::Value>().await.unwrap())
            }
        };
        let get = |p: &str| get_as("cpco", "demo-cpco", p);
        let health = get("/health").await.1;
        let venues = get("/api/v1/sites?kind=venue&limit=100").await.1;
        let plates = get("/api/v1/stock?item_id=PLAQUE-BAL&limit=100").await.1;
        let sta = get("/api/v1/sites/STA").await.1;
        let anonymous = reqwest::get(format!("{url}/api/v1/sites")).await.unwrap().status().as_u16();
        let marseille = get_as("gsbdd-mrs", "demo-mrs", "/api/v1/sites/STA").await.0;
        let wall = get_as("mur", "demo-mur", "/api/v1/monitoring/state").await.0;
        let wall_writes = client
            .post(format!("{url}/api/v1/monitoring/results"))
            .basic_auth("mur", Some("demo-mur"))
            .json(&serde_json::json!({"check": "X", "status": "OK"}))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        (health, venues, plates, sta, (anonymous, marseille, wall, wall_writes))
    });
    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    let status = child.wait().unwrap();
    let (health, venues, plates, sta, access) = result;
    assert_eq!(health["status"], "ok");
    assert_eq!(access, (401, 403, 200, 403), "anonymous, Marseille reading Paris, the wall screen reading, writing");
    assert_eq!(venues["total"], 44);
    assert_eq!(sta["name"], "Stade de France");
    assert!(plates["total"].as_u64().unwrap() >= 5, "{plates}");
    assert!(status.success(), "SIGTERM stops the server gracefully: {status:?}");
}

/// Users and tokens from the command line: passwords from the environment or made and shown once, scopes within
/// the role, revocation; hashes never printed.
#[test]
fn users_and_tokens_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (code, _, err) = run(vigie(d).args(["user", "add", "chef", "--role", "tactical", "--org", "GS-IDF"]));
    assert_eq!(code, 2);
    assert!(err.contains("organisation GS-IDF is not in the registry"), "{err}");
    let (code, _, err) = run(vigie(d).args(["user", "add", "chef", "--role", "tactical"]));
    assert_eq!(code, 2);
    assert!(err.contains("a tactical user needs an organisation"), "{err}");
    let (code, out, err) =
        run(vigie(d).args(["user", "add", "veille", "--role", "viewer"]).env("VIGIE_PASSWORD", "mot-de-passe-veille"));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "user veille (viewer) created");
    let (code, out, _) = run(vigie(d).args(["user", "add", "astreinte", "--role", "toc"]).env_remove("VIGIE_PASSWORD"));
    assert_eq!(code, 0);
    let shown = out.trim().rsplit(' ').next().unwrap();
    assert!(out.contains("password (shown once)") && shown.len() >= 32, "{out}");
    let (_, out, _) = run(vigie(d).args(["user", "list"]));
    assert!(out.contains("veille") && out.contains("viewer") && out.contains("astreinte"), "{out}");

    let (code, _, err) = run(vigie(d).args(["token", "issue", "--user", "veille", "--scopes", "monitoring:write"]));
    assert_eq!(code, 2);
    assert!(err.contains("a viewer user cannot hold the scope monitoring:write"), "{err}");
    let (code, out, err) =
        run(vigie(d).args(["token", "issue", "--user", "veille", "--scopes", "wall:read", "--label", "mur"]));
    assert_eq!(code, 0, "{err}");
    let token = out.lines().last().unwrap().trim().to_string();
    assert!(token.starts_with("vigie_"), "{out}");
    let id = token.split('_').nth(1).unwrap().to_string();
    let (_, out, _) = run(vigie(d).args(["token", "list"]));
    assert!(out.contains(&id) && out.contains("[wall:read]") && !out.contains(&token), "{out}");
    let (code, _, _) = run(vigie(d).args(["token", "revoke", &id]));
    assert_eq!(code, 0);
    let (_, out, _) = run(vigie(d).args(["token", "list"]));
    assert!(out.contains("révoqué"), "{out}");

    // The journal keeps hashes; nothing prints them.
    let (_, out, _) = run(vigie(d).args(["events", "--limit", "100"]));
    assert!(out.contains("user.upserted") && out.contains("token.revoked"), "{out}");
    assert!(!out.contains("argon2") && !out.contains(&token[token.len() - 20..]), "{out}");
}

/// At first start, `vigie serve` creates the administrator and prints its password once; the password works, and
/// a second start creates nothing.
#[test]
fn the_first_start_creates_the_administrator() {
    let dir = tempfile::tempdir().unwrap();
    let start =
        || serving(vigie(dir.path()).args(["serve", "--listen", "127.0.0.1:0"]).env_remove("VIGIE_ADMIN_PASSWORD"));
    let stop = |mut child: std::process::Child| {
        let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        assert!(child.wait().unwrap().success());
        err
    };
    let (child, url) = start();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let anonymous = rt.block_on(async { reqwest::get(format!("{url}/api/v1/users")).await.unwrap().status().as_u16() });
    let err = stop(child);
    let password = err
        .lines()
        .find_map(|l| l.split("password (shown once").nth(1))
        .and_then(|rest| rest.rsplit(": ").next())
        .unwrap_or_else(|| panic!("no password in {err}"))
        .trim()
        .to_string();
    assert_eq!(anonymous, 401);
    let (child, url) = start();
    let users = rt.block_on(async {
        let r = reqwest::Client::new().get(format!("{url}/api/v1/users")).basic_auth("admin", Some(&password));
        r.send().await.unwrap().json::<serde_json::Value>().await.unwrap()
    });
    let err = stop(child);
    assert_eq!(users["users"][0]["name"], "admin", "{users}");
    assert_eq!(users["users"][0]["role"], "admin");
    assert!(!err.contains("first start"), "the second start creates nothing: {err}");
}

/// `vigie readiness` on the demo, beside no server: the answer first, Bercy's tables as a root cause with the plan
/// on the road, and Bercy's timeline naming what its computers wait for.
#[test]
fn readiness_from_the_command_line_follows_bercy_to_its_tables() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = run(vigie(dir.path()).args(["demo", "--no-serve"]));
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(vigie(dir.path()).arg("readiness"));
    assert_eq!(code, 0, "{err}");
    let first = out.lines().next().unwrap();
    assert!(first.ends_with("2 cause(s) de blocage.") && first.contains(" sites sur "), "{out}");
    assert!(out.contains("bloqué : BCY/BCY-RES/tables (PROXIMITE) — tables en route depuis Vincennes"), "{out}");
    let (code, out, err) = run(vigie(dir.path()).args(["readiness", "--site", "BCY"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("Arena Bercy (BCY) : "), "{out}");
    assert!(out.contains("chemin critique : BCY/BCY-RES/tables → "), "{out}");
    let tables = out.lines().find(|l| l.contains("Livraison des tables") && l.contains("BLOQUÉE")).expect(&out);
    assert!(tables.contains(": expédié, en route, attendu le ") && tables.ends_with(']'), "{tables}");
    assert!(
        out.lines().any(|l| l.contains("Installation d'un poste") && l.ends_with("retenue par BCY/BCY-RES/tables")),
        "{out}"
    );
    let (code, json, _) = run(vigie(dir.path()).args(["readiness", "--json"]));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["sites"].as_array().unwrap().len(), 57);
}

/// `vigie oncall`, beside no server: rosters imported from files, who is on duty at an instant, in French.
#[test]
fn oncall_from_the_command_line_says_who_is_on_duty() {
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("files");
    std::fs::create_dir(&files).unwrap();
    for (name, text) in [
        ("people.csv", "id;name;mobile\nana;Ana Martin;06 12 34 56 78\nbob;Bob Durand;\n"),
        ("teams.csv", "id;name\nTOC-DESK;Pupitre du TOC\n"),
        ("rotations.csv", "team_id;level;period;starts_at;people\nTOC-DESK;1;shift;2024-07-01 06:00;ana|bob\n"),
    ] {
        std::fs::write(files.join(name), text).unwrap();
    }
    let data = dir.path().join("data");
    let (code, _, err) = run(vigie(&data).arg("import").arg(&files));
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(vigie(&data).args(["oncall", "--at", "2024-07-01 15:00"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("De permanence le 01/07 15:00 : 1 équipe(s)-niveau(x)."), "{out}");
    assert!(out.contains("Pupitre du TOC (TOC-DESK) niveau 1 : Bob Durand — du 01/07 14:00 au 01/07 22:00"), "{out}");
    let (_, out, _) = run(vigie(&data).args(["oncall", "--at", "2024-07-01 07:00", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (v["items"][0]["person_id"].as_str(), v["items"][0]["mobile"].as_str()),
        (Some("ana"), Some("+33612345678"))
    );
    let (code, _, err) = run(vigie(&data).args(["oncall", "--at", "demain"]));
    assert!(code != 0 && err.contains("--at"), "{err}");
}
