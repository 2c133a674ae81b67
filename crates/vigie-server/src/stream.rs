//! The journal as a live stream (SSE), as pages (`GET /api/v1/events`), and as an audit trail (`GET /api/v1/audit`).
//!
//! A stream starts after `?after=SEQ` or the `Last-Event-ID` header (a reconnecting browser sends it), catches up
//! from storage, then follows live events. When a client falls behind the live buffer it catches up from storage
//! again, so it never misses nor repeats an event. Each SSE message has `id` = sequence, `event` = kind,
//! `data` = the envelope as JSON.

use crate::access::Caller;
use crate::{ApiError, App};
use axum::extract::{Query, State as AxState};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::Json;
use futures_util::stream::{self, Stream, StreamExt};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use vigie_domain::Envelope;

#[derive(Debug, Default, Deserialize)]
pub struct StreamQuery {
    after: Option<u64>,
    limit: Option<u64>,
    /// Only these kinds (comma-separated), e.g. `stock.counted,site.upserted`.
    kinds: Option<String>,
}

/// Whether a caller may see an event: by its permissions and reach (an administrator sees everything).
fn visible(app: &App, caller: &Caller, events: &[Envelope]) -> Vec<bool> {
    let st = app.journal.state();
    let view = caller.principal().view(&st);
    events.iter().map(|e| view.event(&st, e, |p| caller.principal().may(p))).collect()
}

/// `GET /api/v1/events`: the journal in pages, narrowed to what the caller may see (`next_after` goes on past
/// what was left out).
pub async fn list(
    AxState(app): AxState<App>,
    caller: Caller,
    Query(q): Query<StreamQuery>,
) -> Result<Json<Value>, ApiError> {
    let after = q.after.unwrap_or(0);
    let limit = q.limit.unwrap_or(100).clamp(1, 10_000);
    let events = app.blocking(move |j| j.read_after(after, limit).map_err(ApiError::from)).await?;
    let next = events.last().map_or(after, |e| e.seq);
    let shown = visible(&app, &caller, &events);
    let events: Vec<Envelope> = events.into_iter().zip(shown).filter(|(_, v)| *v).map(|(e, _)| e).collect();
    Ok(Json(json!({ "events": events, "next_after": next })))
}

struct Cursor {
    app: App,
    last: u64,
    rx: tokio::sync::broadcast::Receiver<Arc<Envelope>>,
    buffer: VecDeque<Arc<Envelope>>,
    catching_up: bool,
    kinds: Option<Vec<String>>,
    caller: Caller,
}

impl Cursor {
    async fn next(&mut self) -> Option<Arc<Envelope>> {
        loop {
            if let Some(e) = self.buffer.pop_front() {
                self.last = e.seq;
                return Some(e);
            }
            if self.catching_up {
                let after = self.last;
                let page = self.app.blocking(move |j| j.read_after(after, 1000).map_err(ApiError::from)).await.ok()?;
                if page.is_empty() {
                    self.catching_up = false;
                } else {
                    self.buffer.extend(page.into_iter().map(Arc::new));
                }
                continue;
            }
            match self.rx.recv().await {
                Ok(e) if e.seq <= self.last => continue,
                Ok(e) if e.seq == self.last + 1 => self.buffer.push_back(e),
                Ok(_) | Err(RecvError::Lagged(_)) => self.catching_up = true,
                Err(RecvError::Closed) => return None,
            }
        }
    }

    fn wanted(&self, e: &Envelope) -> bool {
        self.kinds.as_ref().is_none_or(|k| k.iter().any(|k| k == e.event.kind()))
            && visible(&self.app, &self.caller, std::slice::from_ref(e))[0]
    }
}

/// `GET /api/v1/events/stream`: the live journal; a scoped caller receives only the events it may see.
pub async fn sse(
    AxState(app): AxState<App>,
    caller: Caller,
    headers: HeaderMap,
    Query(q): Query<StreamQuery>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let from_header = headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    // Subscribe before reading the position, so nothing falls between catch-up and live.
    let rx = app.events.subscribe();
    let now = app.journal.state().last_seq;
    let last = from_header.or(q.after).unwrap_or(now);
    let kinds = q.kinds.map(|k| k.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect());
    let mut shutdown = app.shutdown.clone();
    let cursor = Cursor { app, last, rx, buffer: VecDeque::new(), catching_up: last < now, kinds, caller };
    let events = stream::unfold(cursor, |mut c| async move {
        loop {
            let e = c.next().await?;
            if c.wanted(&e) {
                let data = serde_json::to_string(&*e).unwrap_or_default();
                let ev = SseEvent::default().id(e.seq.to_string()).event(e.event.kind()).data(data);
                return Some((Ok(ev), c));
            }
        }
    });
    let stop = async move {
        let _ = shutdown.wait_for(|s| *s).await;
    };
    Ok(Sse::new(events.take_until(Box::pin(stop))).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    actor: Option<String>,
    object: Option<String>,
    /// RFC 3339, or a Paris local time `YYYY-MM-DD HH:MM`.
    since: Option<String>,
    until: Option<String>,
    /// Continue after this sequence (the previous answer's `next_after`).
    after: Option<u64>,
    limit: Option<usize>,
}

/// `GET /api/v1/audit`: journal events by actor, object and time, oldest first, in pages (`next_after`).
pub async fn audit(AxState(app): AxState<App>, Query(q): Query<AuditQuery>) -> Result<Json<Value>, ApiError> {
    let filter = vigie_domain::event::AuditFilter {
        actor: q.actor.filter(|a| !a.is_empty()),
        object: q.object.filter(|o| !o.is_empty()),
        since: vigie_app::when::parse_instant("since", q.since.as_deref()).map_err(ApiError::in_query)?,
        until: vigie_app::when::parse_instant("until", q.until.as_deref()).map_err(ApiError::in_query)?,
    };
    let limit = q.limit.unwrap_or(100).clamp(1, 10_000);
    let after = q.after.unwrap_or(0);
    let (events, next) = app.blocking(move |j| Ok(vigie_app::audit::events(&j, &filter, after, limit)?)).await?;
    Ok(Json(json!({ "events": events, "next_after": next })))
}
