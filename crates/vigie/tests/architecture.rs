//! Architecture invariants that a test can hold (see ARCHITECTURE.md).

use std::process::Command;

/// The pure crates (domain, import, logistics decisions, monitoring model) depend on no runtime, database or HTTP
/// crate.
#[test]
fn the_domain_and_the_import_do_no_io() {
    for krate in ["vigie-domain", "vigie-import", "vigie-logistics", "vigie-monitor", "vigie-incidents"] {
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
