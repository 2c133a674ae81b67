//! Architecture invariants that a test can hold (see ARCHITECTURE.md).

use std::process::Command;

/// The pure crates (domain, import, logistics decisions, monitoring model) depend on no runtime, database or HTTP
/// crate.
#[test]
fn the_domain_and_the_import_do_no_io() {
    for krate in
        ["vigie-domain", "vigie-import", "vigie-logistics", "vigie-monitor", "vigie-incidents", "vigie-readiness"]
    {
        let out = Command::new(env!("CARGO"))
            .args(["tree", "--offline", "--locked", "-e", "normal", "--prefix", "none", "-p", krate])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("cargo tree runs");
        assert!(out.status.success(), "cargo tree -p {krate}: {}", String::from_utf8_lossy(&out.stderr));
        let tree = String::from_utf8(out.stdout).unwrap();
        assert!(tree.lines().count() > 3, "cargo tree printed the dependencies of {krate}: {tree}");
        for banned in ["tokio ", "axum ", "hyper ", "rusqlite ", "postgres ", "libsqlite3-sys ", "reqwest "] {
            assert!(!tree.lines().any(|l| l.starts_with(banned)), "{krate} depends on {banned}:\n{tree}");
        }
    }
}

/// The application layer sits below HTTP and storage: it depends on the journal's trait, never on a web framework, an
/// HTTP client or a database driver.
#[test]
fn the_application_layer_knows_no_http_and_no_database() {
    let out = Command::new(env!("CARGO"))
        .args(["tree", "--offline", "--locked", "-e", "normal", "--prefix", "none", "-p", "vigie-app"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(out.status.success(), "cargo tree -p vigie-app: {}", String::from_utf8_lossy(&out.stderr));
    let tree = String::from_utf8(out.stdout).unwrap();
    assert!(tree.lines().any(|l| l.starts_with("vigie-journal ")), "the tree was read: {tree}");
    for banned in ["axum ", "hyper ", "reqwest ", "rusqlite ", "postgres ", "libsqlite3-sys ", "vigie-server "] {
        assert!(!tree.lines().any(|l| l.starts_with(banned)), "vigie-app depends on {banned}:\n{tree}");
    }
}

/// The binary writes through the application layer only: outside `src/serve.rs` (and the configuration, which
/// names the server's defaults) no module of it names the HTTP crate, and those two use it only to serve.
#[test]
fn the_binary_writes_through_the_application_layer_not_the_http_crate() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    // What serving needs of the HTTP crate; nothing here writes.
    let serving = [
        "vigie_server::serve(",
        "vigie_server::ServerOptions",
        "vigie_server::net::raise_fd_limit",
        "vigie_server::sync::SyncOptions",
        "vigie_server::notify::NotifyOptions",
        "vigie_server::notify::SmtpOptions",
        "vigie_server::notify::Webhook",
        "vigie_server::notify::SmsGateway",
        "vigie_server::status::StatusAudience",
        "vigie_server::auth::SessionLimits",
        "vigie_server::monitoring::active::client",
        "vigie_server::tls::TlsFiles",
        "vigie_server::exercise::ExerciseStore",
    ];
    let mut files = vec![src.clone()];
    let mut seen = 0;
    while let Some(p) = files.pop() {
        if p.is_dir() {
            files.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        if p.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        seen += 1;
        let text = std::fs::read_to_string(&p).unwrap();
        let name = p.strip_prefix(&src).unwrap().to_string_lossy().to_string();
        for (i, line) in text.lines().enumerate() {
            let mut rest = line;
            while let Some(at) = rest.find("vigie_server::") {
                let used = &rest[at..];
                assert!(
                    matches!(name.as_str(), "serve.rs" | "config.rs"),
                    "src/{name}:{}: the binary names the HTTP crate outside serving: {line}",
                    i + 1
                );
                assert!(
                    serving.iter().any(|s| used.starts_with(s)),
                    "src/{name}:{}: {line}\n  only serving may use vigie_server (writes go through vigie_app)",
                    i + 1
                );
                rest = &used["vigie_server::".len()..];
            }
        }
    }
    assert!(seen > 5, "the binary's sources were read ({seen} files)");
}
