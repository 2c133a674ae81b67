//! The HTTP side of cluster mode (docs/cluster.md): a follower forwards every request that may write to the leader,
//! with its caller's credentials and address, and hands the leader's answer back as it came.
//!
//! Safe methods (GET, HEAD, OPTIONS) are served where they arrive: every node's projection follows the journal. Any
//! other method is forwarded while another node leads, before this node's gate: the leader authenticates, checks and
//! decides as if it had received the request itself. The caller's address (for the sign-in throttle and the record
//! of refusals) travels in `x-vigie-forwarded-for`, trusted only beside `x-vigie-cluster` carrying the secret the
//! cluster's nodes share (kept in the database, never configured); both headers are removed from every other request.
//! A request is forwarded at most once.

use crate::access::Peer;
use crate::App;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::net::SocketAddr;
use std::time::Duration;

/// When a follower last relayed each session's activity to the leader (by the session's id), so that the leader,
/// which ends idle sessions, knows a session used only on followers is alive. Bounded: cleared when it grows past
/// its limit (a relay more then, no harm).
#[derive(Default)]
pub struct Relayed(std::sync::Mutex<std::collections::HashMap<String, std::time::Instant>>);

/// How often a session's activity on a follower is relayed.
const RELAY_EVERY: Duration = Duration::from_secs(60);

impl Relayed {
    fn due(&self, id: String) -> bool {
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if m.len() > 100_000 {
            m.clear();
        }
        let now = std::time::Instant::now();
        match m.get(&id) {
            Some(t) if now.duration_since(*t) < RELAY_EVERY => false,
            _ => {
                m.insert(id, now);
                true
            }
        }
    }
}

const FORWARDED_FOR: &str = "x-vigie-forwarded-for";
const CLUSTER_SECRET: &str = "x-vigie-cluster";

/// The client nodes forward with: no redirects, no proxy from the environment, bounded connection time.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(Duration::from_secs(2))
        .build()
        .expect("a plain HTTP client builds")
}

fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Headers that concern one connection only, never forwarded either way.
fn hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection" | "keep-alive" | "proxy-connection" | "transfer-encoding" | "te" | "trailer" | "upgrade"
    )
}

fn unavailable(code: &str, message: String) -> Response {
    let mut r = (
        StatusCode::SERVICE_UNAVAILABLE,
        axum::Json(json!({"error": "unavailable", "code": code, "params": {}, "message": message})),
    )
        .into_response();
    r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    r
}

/// A follower serving a signed-in user's reads tells the leader now and then that the session is in use (a `GET
/// /api/v1/session` with its cookie, in the background).
fn relay_activity(app: &App, cluster: &vigie_journal::cluster::Cluster, headers: &HeaderMap, peer: SocketAddr) {
    let Some(c) = crate::access::cookie(headers, crate::access::SESSION_COOKIE) else { return };
    let Some(leader) = cluster.leader_elsewhere() else { return };
    if !app.relayed.due(crate::auth::Sessions::id_of(c)) {
        return;
    }
    let url = format!("{}/api/v1/session", leader.address.trim_end_matches('/'));
    let request = app
        .forwarder
        .get(url)
        .header(header::COOKIE, format!("{}={c}", crate::access::SESSION_COOKIE))
        .header(FORWARDED_FOR, peer.to_string())
        .header(CLUSTER_SECRET, cluster.secret())
        .timeout(Duration::from_secs(5));
    tokio::spawn(async move {
        if let Err(e) = request.send().await {
            tracing::debug!(error = %e, "a session's activity was not relayed to the leader");
        }
    });
}

/// The middleware: forwarded requests are trusted for their caller's address; writes reaching a follower go to the
/// leader.
pub async fn forward(
    State(app): State<App>,
    ConnectInfo(Peer(peer)): ConnectInfo<Peer>,
    mut req: Request,
    next: Next,
) -> Response {
    let Some(cluster) = app.cluster.clone() else { return next.run(req).await };
    let headers = req.headers_mut();
    let trusted = headers.get(CLUSTER_SECRET).is_some_and(|v| same(v.as_bytes(), cluster.secret().as_bytes()));
    let caller = headers.get(FORWARDED_FOR).and_then(|v| v.to_str().ok()?.parse().ok());
    headers.remove(CLUSTER_SECRET);
    headers.remove(FORWARDED_FOR);
    if trusted {
        if let Some(addr) = caller {
            req.extensions_mut().insert(ConnectInfo(Peer(addr)));
        }
        return next.run(req).await;
    }
    if app.journal.role().writes() {
        return next.run(req).await;
    }
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        relay_activity(&app, &cluster, req.headers(), peer);
        return next.run(req).await;
    }
    let Some(leader) = cluster.leader_elsewhere() else {
        return unavailable(
            "unavailable.no_leader",
            "no node of the cluster leads right now (a failover is under way); nothing was written".into(),
        );
    };
    let (parts, body) = req.into_parts();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let url = format!("{}{path}", leader.address.trim_end_matches('/'));
    let mut out = HeaderMap::new();
    for (k, v) in parts.headers.iter().filter(|(k, _)| !hop_by_hop(k)) {
        out.append(k.clone(), v.clone());
    }
    if let Ok(v) = HeaderValue::from_str(&peer.to_string()) {
        out.insert(FORWARDED_FOR, v);
    }
    if let Ok(v) = HeaderValue::from_str(cluster.secret()) {
        out.insert(CLUSTER_SECRET, v);
    }
    let sent = app
        .forwarder
        .request(parts.method.clone(), &url)
        .headers(out)
        .body(reqwest::Body::wrap_stream(body.into_data_stream()))
        .send()
        .await;
    let answer = match sent {
        Ok(a) => a,
        Err(e) if e.is_connect() => {
            tracing::warn!(leader = %leader.name, error = %e, "the leader did not take a forwarded request");
            return unavailable(
                "unavailable.leader",
                format!("the leader ({}) could not be reached; nothing was written: try again", leader.name),
            );
        }
        Err(e) => {
            // The request reached the leader, its answer did not come back: whether it wrote is unknown.
            tracing::warn!(leader = %leader.name, error = %e, "a forwarded request got no answer");
            let mut r = unavailable(
                "unavailable.leader_lost",
                format!(
                    "the leader ({}) stopped answering during the request: whether it was written is unknown; \
                     check before trying again",
                    leader.name
                ),
            );
            *r.status_mut() = StatusCode::BAD_GATEWAY;
            return r;
        }
    };
    let mut response = Response::builder().status(answer.status().as_u16());
    if let Some(h) = response.headers_mut() {
        for (k, v) in answer.headers().iter().filter(|(k, _)| !hop_by_hop(k)) {
            h.append(k.clone(), v.clone());
        }
    }
    response.body(axum::body::Body::from_stream(answer.bytes_stream())).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "a forwarded answer could not be handed back");
        StatusCode::BAD_GATEWAY.into_response()
    })
}
