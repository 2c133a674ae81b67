//! The web UI, served from the binary: the files of `web/` (hand-written ES modules, style sheet, the
//! départements' outlines) and the third-party packages the build installs from npm (`build.rs`: Leaflet and its
//! marker clusters for the map, uPlot for the charts, served under `/ui/vendor/`) are embedded at compile time, so
//! the server needs neither node nor the internet at run time. The shell is public (it shows the sign-in page); every piece of data it shows comes from the API, under
//! the caller's permissions.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

macro_rules! files {
    ($($path:literal),+ ; $($vendor:literal => $package:literal),+ $(,)?) => {
        /// Every file of the UI: (path under `/ui/`, bytes).
        pub const FILES: &[(&str, &[u8])] = &[
            $(($path, include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/", $path))),)+
            $(($vendor, include_bytes!(concat!(env!("OUT_DIR"), "/npm/node_modules/", $package))),)+
        ];
    };
}

files!(
    "index.html",
    "style.css",
    "icon.svg",
    "app.js",
    "refresh.js",
    "api.js",
    "i18n.js",
    "map.js",
    "pages/login.js",
    "pages/situation.js",
    "pages/logistique.js",
    "pages/stock.js",
    "pages/mur.js",
    "pages/supervision.js",
    "pages/incidents.js",
    "pages/courante.js",
    "pages/preparation.js",
    "pages/astreintes.js",
    "pages/rapports.js",
    "pages/exercices.js",
    "pages/import.js",
    "geo/france-departements.geojson";
    "vendor/leaflet.js" => "leaflet/dist/leaflet.js",
    "vendor/leaflet.css" => "leaflet/dist/leaflet.css",
    "vendor/leaflet.markercluster.js" => "leaflet.markercluster/dist/leaflet.markercluster.js",
    "vendor/MarkerCluster.css" => "leaflet.markercluster/dist/MarkerCluster.css",
    "vendor/uPlot.js" => "uplot/dist/uPlot.iife.min.js",
    "vendor/uPlot.css" => "uplot/dist/uPlot.min.css",
);

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("geojson") => "application/geo+json",
        _ => "application/octet-stream",
    }
}

fn file(path: &str) -> Response {
    match FILES.iter().find(|(p, _)| *p == path) {
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
        Some((p, bytes)) => {
            let mut r = bytes.into_response();
            let h = r.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(p)));
            // The files change with the binary: revalidate rather than serve a stale page after an upgrade.
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            r
        }
    }
}

/// `GET /`: the application's shell.
pub async fn index() -> Response {
    file("index.html")
}

/// `GET /ui/{*path}`: a file of the UI.
pub async fn asset(Path(path): Path<String>) -> Response {
    file(&path)
}

/// `GET /favicon.ico`: browsers ask for it whatever the page says.
pub async fn favicon() -> Response {
    file("icon.svg")
}
