//! The web UI end to end: `vigie demo` served, Debian's Chromium driven by playwright-core (`e2e/ui.mjs`): sign
//! in, the situation map, the ballistic plates' shortfall, a deployment to Nantes committed, a CRITICAL result
//! turning a venue red on the wall screen within a second, the incident it opened; screenshots of every page at
//! 1920×1080 in `target/ui-artefacts/`; the wall screen live again after a server restart, without reload; no
//! console error, no request outside the server.

use std::path::Path;
use std::process::Command;

#[test]
fn the_web_ui_end_to_end_in_chromium() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "Chromium is needed at {chromium} (bash scripts/test.sh installs Debian's `chromium`)"
    );
    assert!(
        root.join("e2e/node_modules/playwright-core").exists(),
        "playwright-core is needed in e2e/node_modules (bash scripts/test.sh runs `npm ci --prefix e2e`)"
    );
    let data = tempfile::tempdir().unwrap();
    let artefacts = root.join("target/ui-artefacts");
    // The script starts `vigie demo` itself, and restarts it once under the wall screen.
    let out = Command::new("node")
        .arg(root.join("e2e/ui.mjs"))
        .arg(env!("CARGO_BIN_EXE_vigie"))
        .arg(data.path())
        .arg(&artefacts)
        .env("CHROMIUM", &chromium)
        .output();
    let out = out.expect("node runs (the test needs node and npm)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    println!("{stdout}");
    for expected in [
        "the national map shows",
        "shortfall of ballistic plates",
        "deployment plan to Nantes is committed",
        "axe-core found no",
    ] {
        assert!(stdout.contains(expected), "{expected} in {stdout}");
    }
    for page in ["01-situation", "02-logistique-suffisance", "10-mur", "11-incident"] {
        assert!(artefacts.join(format!("{page}.png")).exists(), "screenshot {page}");
    }
}
