//! `/status/{token}`: an audience's status page (issue 17), read-only, reached by its link token without an account:
//! server-rendered HTML in French (`?lang=en`: English), read again every minute (`/ui/refresh.js`), or JSON (`?format=json`). What each
//! audience sees is decided by [`vigie_app::status`]; the tokens are the configuration's secrets, never printed.

use crate::App;
use axum::extract::{Path, Query, State as AxState};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use vigie_app::status::{Audience, Component, StatusPage};
use vigie_domain::health::Shown;

/// An audience and the token its link carries (a secret: never printed).
#[derive(Clone)]
pub struct StatusAudience {
    pub token: String,
    pub audience: Audience,
}

impl std::fmt::Debug for StatusAudience {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusAudience").field("token", &"***").field("audience", &self.audience.name).finish()
    }
}

#[derive(Debug, Deserialize, Default)]
pub struct PageParams {
    lang: Option<String>,
    format: Option<String>,
}

/// Escapes text for HTML.
pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A small page of its own with Vigie's style sheet (no script: the content security policy forbids inline code).
pub(crate) fn html(status: StatusCode, lang: &str, title: &str, body: &str, refresh: bool) -> Response {
    let refresh = if refresh { "<script src=\"/ui/refresh.js\" defer></script>" } else { "" };
    let page = format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width\">{refresh}<title>{} — Vigie</title><link rel=\"stylesheet\" href=\"/ui/style.css\">\
         </head><body><main class=\"view\">{body}</main></body></html>",
        esc(title)
    );
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
}

fn word(s: Shown, en: bool) -> &'static str {
    match (s, en) {
        (Shown::Ok, false) => "Opérationnel",
        (Shown::Ok, true) => "Operational",
        (Shown::Warning, false) => "Dégradé",
        (Shown::Warning, true) => "Degraded",
        (Shown::Critical | Shown::Unreachable, false) => "Interrompu",
        (Shown::Critical | Shown::Unreachable, true) => "Down",
        (Shown::Unknown, false) => "Inconnu",
        (Shown::Unknown, true) => "Unknown",
        (Shown::Maintenance, false) => "Maintenance",
        (Shown::Maintenance, true) => "Maintenance",
    }
}

fn css(s: Shown) -> &'static str {
    match s {
        Shown::Ok => "OK",
        Shown::Warning => "WARNING",
        Shown::Critical | Shown::Unreachable => "CRITICAL",
        Shown::Unknown => "UNKNOWN",
        Shown::Maintenance => "MAINTENANCE",
    }
}

fn when(t: chrono::DateTime<chrono::Utc>, en: bool) -> String {
    let l = vigie_domain::paris::to_local(t);
    if en {
        l.format("%d/%m %H:%M").to_string()
    } else {
        l.format("%d/%m à %H:%M").to_string()
    }
}

/// The page's first sentence: how many of what is shown work, what does not, how many incidents are open.
fn sentence(p: &StatusPage, en: bool) -> String {
    let all: Vec<&Component> = p.suites.iter().chain(&p.sites).collect();
    let down: Vec<&&Component> = all.iter().filter(|c| !matches!(c.state, Shown::Ok | Shown::Maintenance)).collect();
    let open = p.incidents.iter().filter(|i| i.resolved_at.is_none()).count();
    let what = match (p.suites.is_empty(), p.sites.is_empty(), en) {
        (false, true, false) => "services",
        (true, false, false) => "sites",
        (_, _, false) => "services et sites",
        (false, true, true) => "services",
        (true, false, true) => "sites",
        (_, _, true) => "services and sites",
    };
    let mut s = if down.is_empty() {
        if en {
            format!("All {} {what} are operational.", all.len())
        } else {
            format!("Les {} {what} sont opérationnels.", all.len())
        }
    } else {
        let list: Vec<String> =
            down.iter().take(6).map(|c| format!("{} ({})", c.name, word(c.state, en).to_lowercase())).collect();
        if en {
            format!("{} of {} {what} disrupted: {}.", down.len(), all.len(), list.join(", "))
        } else {
            format!("{} sur {} {what} perturbés : {}.", down.len(), all.len(), list.join(", "))
        }
    };
    s += &match (open, en) {
        (0, false) => " Aucun incident en cours.".to_string(),
        (0, true) => " No incident under way.".to_string(),
        (n, false) => format!(" {n} incident(s) en cours."),
        (n, true) => format!(" {n} incident(s) under way."),
    };
    s
}

fn components(title: &str, list: &[Component], en: bool) -> String {
    if list.is_empty() {
        return String::new();
    }
    // What does not work first, so that it is read before the long list of what does.
    let mut sorted: Vec<&Component> = list.iter().collect();
    sorted.sort_by_key(|c| std::cmp::Reverse(vigie_app::status::severity(c.state)));
    let items: String = sorted
        .into_iter()
        .map(|c| {
            let since = c.since.map(|t| {
                format!(
                    " <span class=\"small muted\">{} {}</span>",
                    if en { "since" } else { "depuis le" },
                    when(t, en)
                )
            });
            format!(
                "<li><span class=\"pill s-{}\">{}</span> {}{}</li>",
                css(c.state),
                word(c.state, en),
                esc(&c.name),
                since.unwrap_or_default()
            )
        })
        .collect();
    format!("<div class=\"panel\"><h3>{}</h3><ul class=\"components\">{items}</ul></div>", esc(title))
}

/// The page in HTML.
pub fn render(p: &StatusPage, en: bool, token: &str) -> Response {
    let mut body = format!(
        "<div class=\"panel\"><h2>{}</h2><p class=\"sentence\" id=\"status-answer\"><strong>{}</strong></p>\
         <p class=\"small muted\">{} {} · <a href=\"/status/{}{}\">{}</a></p></div>",
        esc(&p.title),
        esc(&sentence(p, en)),
        if en { "Updated" } else { "Mis à jour le" },
        when(p.at, en),
        esc(token),
        if en { "" } else { "?lang=en" },
        if en { "Français" } else { "English" },
    );
    if !p.incidents.is_empty() {
        body += "<div class=\"panel\" id=\"incidents\"><h3>Incidents</h3>";
        for i in &p.incidents {
            let state = match (i.resolved_at, en) {
                (Some(r), false) => format!("résolu le {}", when(r, en)),
                (Some(r), true) => format!("resolved {}", when(r, en)),
                (None, false) => format!("en cours depuis le {}", when(i.opened_at, en)),
                (None, true) => format!("under way since {}", when(i.opened_at, en)),
            };
            body += &format!(
                "<article class=\"incident-public\"><h4>P{} · {}{}</h4><p class=\"small muted\">{}{}</p>",
                i.priority,
                esc(&i.title),
                if i.major {
                    if en {
                        " — major incident"
                    } else {
                        " — incident majeur"
                    }
                } else {
                    ""
                },
                if i.site.is_empty() { String::new() } else { format!("{} · ", esc(&i.site)) },
                state
            );
            if !i.updates.is_empty() {
                body += "<ul>";
                for u in &i.updates {
                    body += &format!("<li><span class=\"small muted\">{}</span> {}</li>", when(u.at, en), esc(&u.text));
                }
                body += "</ul>";
            }
            body += "</article>";
        }
        body += "</div>";
    }
    body += &components("Services", &p.suites, en);
    body += &components("Sites", &p.sites, en);
    html(StatusCode::OK, if en { "en" } else { "fr" }, &p.title, &body, true)
}

/// `GET /status/{token}`: the audience's page, or 404 (in both languages) for a token no audience has.
pub async fn page(AxState(app): AxState<App>, Path(token): Path<String>, Query(q): Query<PageParams>) -> Response {
    let found = app.status.iter().find(|a| vigie_app::credentials::constant_eq(a.token.as_bytes(), token.as_bytes()));
    let Some(a) = found else {
        let body = "<div class=\"panel\"><h2>Page d'état / Status page</h2><p class=\"sentence\" id=\"refused\">\
                    Ce lien n'est pas valable. / This link is not valid.</p></div>";
        return html(StatusCode::NOT_FOUND, "fr", "Page d'état", body, false);
    };
    let now = chrono::Utc::now();
    let summary = {
        let g = app.live.lock_synced(&app.journal, vigie_app::monitoring::live::now_ms());
        g.summary(vigie_app::monitoring::live::now_ms(), None)
    };
    let p = vigie_app::status::page(&app.journal.state(), &summary, &a.audience, now);
    if q.format.as_deref() == Some("json") {
        return axum::Json(p).into_response();
    }
    render(&p, q.lang.as_deref() == Some("en"), &token)
}
