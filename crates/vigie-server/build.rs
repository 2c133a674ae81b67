//! Installs the web UI's third-party packages (web/package.json, pinned by web/package-lock.json) from npm into
//! `OUT_DIR`, so that `src/ui.rs` embeds them in the binary: nothing third-party is committed, and the binary needs
//! neither node nor the internet at run time. Only the build needs npm (and the registry, or its cache).
//!
//! `VIGIE_NODE_MODULES=/path/to/node_modules` uses packages installed beforehand (an offline build) instead.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let web = manifest.join("../../web");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    println!("cargo:rerun-if-changed={}", web.join("package.json").display());
    println!("cargo:rerun-if-changed={}", web.join("package-lock.json").display());
    println!("cargo:rerun-if-env-changed=VIGIE_NODE_MODULES");

    let modules = out.join("npm/node_modules");
    if let Ok(given) = std::env::var("VIGIE_NODE_MODULES") {
        copy_packages(Path::new(&given), &modules);
    } else {
        install(&web, &out.join("npm"));
    }
    for file in EMBEDDED {
        let path = modules.join(file);
        assert!(path.is_file(), "the web UI's package file {} is missing after npm ci", path.display());
    }
}

/// The packages' files `src/ui.rs` embeds (under `node_modules/`).
const EMBEDDED: &[&str] = &[
    "leaflet/dist/leaflet.js",
    "leaflet/dist/leaflet.css",
    "leaflet.markercluster/dist/leaflet.markercluster.js",
    "leaflet.markercluster/dist/MarkerCluster.css",
    "uplot/dist/uPlot.iife.min.js",
    "uplot/dist/uPlot.min.css",
];

/// `npm ci` of the runtime dependencies into `dir`, unless the same lock file was installed there already.
fn install(web: &Path, dir: &Path) {
    let lock = std::fs::read(web.join("package-lock.json")).expect("web/package-lock.json");
    let stamp = dir.join("installed-lock.json");
    if std::fs::read(&stamp).ok().as_deref() == Some(&lock[..]) && dir.join("node_modules").is_dir() {
        return;
    }
    std::fs::create_dir_all(dir).expect("OUT_DIR/npm");
    for f in ["package.json", "package-lock.json"] {
        std::fs::copy(web.join(f), dir.join(f)).expect("copying the web UI's package files");
    }
    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    let status = Command::new(npm)
        .args(["ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(dir)
        .status();
    match status {
        Ok(s) if s.success() => std::fs::write(&stamp, &lock).expect("stamp"),
        Ok(s) => panic!(
            "`npm ci` of the web UI's packages (web/package.json) failed ({s}); the build needs npm and the npm \
             registry or its cache, or VIGIE_NODE_MODULES pointing at installed packages"
        ),
        Err(e) => panic!(
            "cannot run npm ({e}): the build installs the web UI's map packages from npm (web/package.json); \
             install Node.js and npm, or set VIGIE_NODE_MODULES to a node_modules directory holding them"
        ),
    }
}

fn copy_packages(from: &Path, to: &Path) {
    for file in EMBEDDED {
        let (src, dst) = (from.join(file), to.join(file));
        std::fs::create_dir_all(dst.parent().expect("parent")).expect("OUT_DIR/npm");
        std::fs::copy(&src, &dst).unwrap_or_else(|e| panic!("VIGIE_NODE_MODULES: {}: {e}", src.display()));
    }
}
