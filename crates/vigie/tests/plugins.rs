//! Command checks, black-box: a check's target is an administrator's command line run without a shell, from the
//! plugin directories only, with a timeout that kills the plugin and what it started, a bounded output, a clean
//! environment, and never as root unless the configuration allows it. Real plugins (Debian
//! `monitoring-plugins-basic`) and scripts of the test's own plugin directory.

mod common;

use common::{registry, Backend, TestApp};
use serde_json::Value;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;
use vigie_server::monitoring::plugins;

const PLUGINS: &str = plugins::DEFAULT_DIR;

fn need_plugins() {
    assert!(
        Path::new(&format!("{PLUGINS}/check_dummy")).exists(),
        "the Debian package monitoring-plugins-basic is needed (bash .ci/run installs it)"
    );
}

/// Writes an executable script into `dir`.
fn script(dir: &Path, name: &str, body: &str) {
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A `checks.csv` of command checks (id, target, interval, timeout), every field quoted.
fn checks_csv(rows: &[(&str, String, u32, u32)]) -> String {
    let mut csv = String::from("id,target,site_id,kind,interval_s,timeout_s,max_attempts\n");
    for (id, target, interval, timeout) in rows {
        csv += &format!("{id},\"{}\",STA,command,{interval},{timeout},1\n", target.replace('"', "\"\""));
    }
    csv
}

async fn spawn(plugin_dirs: Vec<PathBuf>, allow_root_plugins: bool) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let cfg = common::config(Backend::Sqlite, dir.path().to_path_buf());
    let options = vigie_server::ServerOptions { plugin_dirs, allow_root_plugins, ..Default::default() };
    TestApp::spawn_with_options(cfg, dir, options).await
}

async fn import_checks(app: &TestApp, csv: String) {
    let mut files = registry();
    files.push(("checks.csv", Box::leak(csv.into_boxed_str())));
    let r = app.import(&files, "", None).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

async fn check(app: &TestApp, id: &str) -> Value {
    app.get_json(&format!("/api/v1/monitoring/checks/{id}")).await
}

/// Waits until every check has a result that `done` accepts; returns them.
async fn results(app: &TestApp, ids: &[&str], done: impl Fn(&Value) -> bool) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let mut all = Vec::new();
        for id in ids {
            all.push(check(app, id).await);
        }
        if all.iter().all(|c| c["last_result"] != Value::Null && done(c)) {
            return all;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no results: {:?}",
            all.iter().map(|c| format!("{}: {} {}", c["id"], c["hard"], c["output"])).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The adversarial test's target and its variants: no shell ever sees them, nothing outside the plugin directories
/// runs, and each check says why; what is quoted reaches the plugin as it is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_never_reaches_a_shell_and_only_plugins_of_the_configured_directories_run() {
    need_plugins();
    let own = tempfile::tempdir().unwrap();
    let own_dir = std::fs::canonicalize(own.path()).unwrap();
    script(
        &own_dir,
        "envdump",
        r#"echo "OK - PATH=$PATH LANG=$LANG LC_ALL=$LC_ALL HOME=${HOME:-unset} in $(pwd) as $0""#,
    );
    symlink("/bin/sh", own_dir.join("evil")).unwrap();
    // An FTP server's greeting.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ftp = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let _ = s.write_all(b"220 Vigie FTP\r\n").await;
                let _ = s.read(&mut [0u8; 64]).await;
            });
        }
    });
    let out = tempfile::tempdir().unwrap();
    let pwned = |n: u32| out.path().join(format!("pwned-{n}")).display().to_string();
    let rows = vec![
        ("SEMI", format!("{PLUGINS}/check_dummy 0 ok; touch {}", pwned(1)), "`;` at character"),
        ("SUBST", format!("{PLUGINS}/check_dummy 0 $(touch {})", pwned(2)), "`$` at character"),
        ("BACKTICK", format!("check_dummy 0 `touch {}`", pwned(3)), "outside quotes"),
        ("DQUOTE", format!("check_dummy 0 \"$(touch {})\"", pwned(4)), "inside double quotes"),
        ("AND", format!("check_dummy 0 ok && touch {}", pwned(5)), "`&` at character"),
        ("PIPE", format!("check_dummy 0 ok | touch {}", pwned(6)), "`|` at character"),
        ("REDIRECT", format!("check_dummy 0 ok > {}", pwned(7)), "`>` at character"),
        ("LINES", format!("check_dummy 0 ok\ntouch {}", pwned(8)), "a line break"),
        ("OUTSIDE", format!("/usr/bin/touch {}", pwned(9)), "is not in a plugin directory"),
        ("DOTDOT", format!("{PLUGINS}/../../../../usr/bin/touch {}", pwned(10)), "without `.` or `..`"),
        ("SYMLINK", format!("evil -c 'touch {}'", pwned(11)), "it leads to"),
        ("WRAPPER", format!("negate /usr/bin/touch {}", pwned(12)), "runs the command it is given"),
        ("MISSING", format!("touch {}", pwned(13)), "no plugin `touch` in the plugin directories"),
    ];
    // A target a shell would act on is refused where it is written: the import names each cell, writes nothing.
    let shell_rows = &rows[..8];
    let app = spawn(vec![PLUGINS.into(), own_dir.clone()], true).await;
    let csv = checks_csv(&shell_rows.iter().map(|(id, t, _)| (*id, t.clone(), 2, 5)).collect::<Vec<_>>());
    let mut files = registry();
    files.push(("checks.csv", Box::leak(csv.into_boxed_str())));
    let r = app.import(&files, "", None).await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    let lines = body["lines"].as_array().unwrap();
    assert_eq!(lines.len(), shell_rows.len(), "one located problem a row: {body}");
    for (i, line) in lines.iter().enumerate() {
        assert!(line.as_str().unwrap().starts_with(&format!("checks.csv:{}:", i + 2)), "{line}");
    }
    // A journal written before the import refused them may still hold such targets: the runner refuses them too.
    let older: Vec<vigie_domain::NewEvent> = shell_rows
        .iter()
        .map(|(id, target, _)| {
            let check: vigie_domain::toc::Check = serde_json::from_value(serde_json::json!({
                "id": id, "target": target, "kind": "command", "site_id": "STA",
                "interval_s": 2, "timeout_s": 5, "max_attempts": 1
            }))
            .unwrap();
            vigie_domain::NewEvent {
                actor: vigie_domain::Actor::system("older-version"),
                source: "test".into(),
                event: vigie_domain::Event::CheckUpserted(check),
            }
        })
        .collect();
    let j = app.journal().clone();
    tokio::task::spawn_blocking(move || j.append(older)).await.unwrap().unwrap();
    let mut all: Vec<(&str, String, u32, u32)> = rows[8..].iter().map(|(id, t, _)| (*id, t.clone(), 2, 5)).collect();
    all.extend([
        ("LITERAL", format!("check_dummy 0 '$(touch {}); id'", pwned(14)), 2, 5),
        ("BARE", "check_dummy 2 'bare name'".to_string(), 2, 5),
        ("ENV", "envdump".to_string(), 2, 5),
        // `check_ftp` is a link to `check_tcp`, which speaks FTP when called by that name.
        ("FTP", format!("{PLUGINS}/check_ftp -H 127.0.0.1 -p {}", ftp.port()), 2, 5),
    ]);
    import_checks(&app, checks_csv(&all)).await;
    let mut ids: Vec<&str> = shell_rows.iter().map(|r| r.0).collect();
    ids.extend(all.iter().map(|r| r.0));
    let found = results(&app, &ids, |_| true).await;
    for ((id, _, why), c) in rows.iter().zip(&found) {
        assert_eq!(c["hard"], "UNKNOWN", "{id}: {c}");
        let output = c["output"].as_str().unwrap();
        assert!(output.starts_with("UNKNOWN - refused: "), "{id}: {output}");
        assert!(output.contains(why), "{id}: {output}");
    }
    let by_id = |id: &str| found.iter().find(|c| c["id"] == id).unwrap();
    let literal = by_id("LITERAL");
    assert_eq!(literal["hard"], "OK", "{literal}");
    assert_eq!(literal["output"], format!("OK: $(touch {}); id", pwned(14)), "given to the plugin as it is");
    assert_eq!(by_id("BARE")["output"], "CRITICAL: bare name", "a bare name is found in the plugin directories");
    assert_eq!(by_id("BARE")["hard"], "CRITICAL");
    assert_eq!(
        by_id("ENV")["output"],
        format!("OK - PATH={} LANG=C LC_ALL=C HOME=unset in / as {}/envdump", plugins::PATH, own_dir.display()),
        "a clean environment, from /"
    );
    let ftp = by_id("FTP")["output"].as_str().unwrap();
    assert!(ftp.starts_with("FTP OK"), "a link runs under its own name (multi-call plugins): {ftp}");
    // Every check has run: nothing was created.
    let created: Vec<_> = std::fs::read_dir(out.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(created.is_empty(), "a target reached a shell: {created:?}");
    app.stop().await;
}

/// The processes whose command line is `sleep SECONDS`.
fn sleepers(seconds: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(cmdline) = std::fs::read(e.path().join("cmdline")) else { continue };
        let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
        if args.len() >= 2 && args[0].ends_with(b"sleep") && args[1] == seconds.as_bytes() {
            found.push(pid);
        }
    }
    found
}

/// A plugin that outlives its timeout is killed with what it started (its process group) and reported; a plugin
/// that writes 10 MB is read to its end, not blocked, and its output is capped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_past_its_timeout_is_killed_with_its_children_and_a_flood_of_output_is_capped() {
    let own = tempfile::tempdir().unwrap();
    let dir = std::fs::canonicalize(own.path()).unwrap();
    // A duration no other process sleeps: its sleepers are this test's.
    let seconds = (3000 + std::process::id() % 1000).to_string();
    let first = dir.join("ran");
    // The first run hangs (a child in the background, and the plugin itself); later runs answer at once.
    script(
        &dir,
        "sleepy",
        &format!(
            "if [ -e {f} ]; then echo 'OK - awake'; exit 0; fi\n: > {f}\nsleep {seconds} &\nsleep {seconds}",
            f = first.display()
        ),
    );
    script(&dir, "flood", "head -c 10485760 /dev/zero | tr '\\000' x\necho\necho 'WARNING - after the flood'\nexit 1");
    let app = spawn(vec![dir.clone()], true).await;
    import_checks(&app, checks_csv(&[("SLEEPY", "sleepy".into(), 3, 1), ("FLOOD", "flood".into(), 3, 20)])).await;
    let found = results(&app, &["SLEEPY", "FLOOD"], |c| {
        c["id"] != "SLEEPY" || c["output"].as_str().is_some_and(|o| o.contains("timed out"))
    })
    .await;
    assert_eq!(found[0]["hard"], "UNKNOWN", "{}", found[0]);
    assert_eq!(found[0]["output"], "UNKNOWN - plugin timed out after 1 s and was killed");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !sleepers(&seconds).is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "the plugin's processes outlived it: {:?}", sleepers(&seconds));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let flood = &found[1];
    assert_eq!(flood["hard"], "WARNING", "the exit code was read after 10 MB of output: {flood}");
    let output = flood["output"].as_str().unwrap();
    assert!(output.starts_with("xxxxxxxx") && output.len() <= plugins::OUTPUT_CAP, "{} bytes", output.len());
    // The plugin ran again afterwards, as plugins do: nothing was left blocked.
    results(&app, &["SLEEPY"], |c| c["output"] == "OK - awake").await;
    app.stop().await;
}

/// As root, plugins are refused unless `[monitoring] allow_root_plugins` is set, and each check says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugins_do_not_run_as_root_unless_the_configuration_allows_it() {
    need_plugins();
    let app = spawn(vec![PLUGINS.into()], false).await;
    import_checks(&app, checks_csv(&[("DUMMY", "check_dummy 0 fine".into(), 2, 5)])).await;
    let found = results(&app, &["DUMMY"], |_| true).await;
    // The owner of /proc/self is this process's effective user.
    if std::fs::metadata("/proc/self").unwrap().uid() == 0 {
        assert_eq!(found[0]["hard"], "UNKNOWN");
        assert_eq!(found[0]["output"], plugins::ROOT_REFUSAL);
        assert_eq!(
            plugins::ROOT_REFUSAL,
            "UNKNOWN - refused to run a plugin as root; see [monitoring] allow_root_plugins"
        );
    } else {
        assert_eq!(found[0]["output"], "OK: fine", "not root: the plugin runs");
    }
    app.stop().await;
}
