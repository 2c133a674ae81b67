//! Every route, declared once: method, path, what a caller needs ([`Rule`]), what body it takes ([`Body`]), its
//! handler and its description. The router ([`crate::router`]), the access gate ([`crate::access::authorize`]) and
//! the OpenAPI document ([`crate::openapi`]) are derived from [`ROUTES`]; a route missing here does not exist.

use crate::access::Rule::{self, *};
use crate::{
    access, ask, exercise, incidents, monitoring, notify, oncall, openapi, plans, readiness, registry, reports,
    servicenow, status, stream, ui, App, ServerOptions,
};
use axum::extract::DefaultBodyLimit;
use axum::routing::{on, MethodFilter, MethodRouter};
use vigie_domain::access::Permission::{self, *};

/// What a request body must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    None,
    /// JSON (`application/json` or `application/*+json`), described by a JSON Schema (text); `optional` when the
    /// route also takes no body at all.
    Json {
        schema: &'static str,
        optional: bool,
    },
    /// `multipart/form-data` (file uploads).
    Multipart,
}

/// A query parameter.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    /// `string`, `integer`, `number`, `boolean`, `date`, `date-time`.
    pub ty: &'static str,
    pub required: bool,
    pub about: &'static str,
    /// The only values taken, when they are few.
    pub values: &'static [&'static str],
}

const fn q(name: &'static str, ty: &'static str) -> Param {
    Param { name, ty, required: false, about: "", values: &[] }
}
const fn qd(name: &'static str, ty: &'static str, about: &'static str) -> Param {
    Param { name, ty, required: false, about, values: &[] }
}
const fn req(name: &'static str, ty: &'static str, about: &'static str) -> Param {
    Param { name, ty, required: true, about, values: &[] }
}
const fn one_of(name: &'static str, values: &'static [&'static str]) -> Param {
    Param { name, ty: "string", required: false, about: "", values }
}

/// A route's description, for the OpenAPI document.
#[derive(Debug, Clone, Copy)]
pub struct Doc {
    pub summary: &'static str,
    pub query: &'static [Param],
    /// `offset` and `limit`, and the page's `X-Total-Count`.
    pub paged: bool,
    /// (status, what the answer holds).
    pub responses: &'static [(u16, &'static str)],
}

const fn doc(summary: &'static str, responses: &'static [(u16, &'static str)]) -> Doc {
    Doc { summary, query: &[], paged: false, responses }
}
const fn doc_q(summary: &'static str, query: &'static [Param], responses: &'static [(u16, &'static str)]) -> Doc {
    Doc { summary, query, paged: false, responses }
}
const fn list(summary: &'static str, query: &'static [Param]) -> Doc {
    Doc { summary, query, paged: true, responses: &[(200, "One page: {total, offset, limit, items}")] }
}
const fn by_id(summary: &'static str) -> Doc {
    doc(summary, &[(200, "The record, with its _stamp"), (404, "Not found")])
}

/// The values of path parameters that take few, by name.
pub const PATH_VALUES: &[(&str, &[&str])] = &[("table", &["incident"]), ("action", &["ship", "receive", "cancel"])];

/// One route.
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub rule: Rule,
    pub body: Body,
    pub doc: Doc,
    handler: fn(&ServerOptions) -> MethodRouter<App>,
}

impl Route {
    /// The handler, as the router mounts it.
    pub fn handler(&self, options: &ServerOptions) -> MethodRouter<App> {
        (self.handler)(options)
    }
}

macro_rules! route {
    ($method:ident $path:literal, $rule:expr, $body:expr, $handler:expr, $doc:expr) => {
        Route {
            method: stringify!($method),
            path: $path,
            rule: $rule,
            body: $body,
            doc: $doc,
            handler: |_| on(MethodFilter::$method, $handler),
        }
    };
}

const NONE: Body = Body::None;
/// The wall's routes: what `monitoring:read` or `incidents:read` reads, or `wall:read` (the handlers narrow it).
const WALL_MONITORING: &[Permission] = &[Permission::MonitoringRead, Permission::WallRead];
const WALL_INCIDENTS: &[Permission] = &[Permission::IncidentsRead, Permission::WallRead];
/// Who may read the rosters: any reader of the logistics, the monitoring or the incidents.
const READERS: &[Permission] = &[Permission::LogisticsRead, Permission::MonitoringRead, Permission::IncidentsRead];
const fn json(schema: &'static str) -> Body {
    Body::Json { schema, optional: false }
}
const OBJECT: Body = json(r#"{"type": "object"}"#);

const QUESTION_ERRORS: &[(u16, &str)] =
    &[(200, "The answer"), (400, "A parameter cannot be read"), (404, "Unknown item, site or organisation")];
const WHAT_IF: Body = json(
    r#"{"type": "object", "required": ["scenario"], "properties": {"scenario": {"type": "object",
        "description": "{name, changes: [...]}: applied to a copy of the data, never written"}}}"#,
);

/// Every route. A route's rule is what the access gate checks before its handler runs (docs/access.md).
pub static ROUTES: &[Route] = &[
    route!(GET "/health", Public, NONE, crate::health, doc("Liveness, journal position, storage health (ok or degraded, and why), how the node started (snapshot, replay) and its cluster role (leader or follower, the leader, position, lag)", &[(200, "{status, storage, last_seq, counts, start, cluster}")])),
    // The UI's files: the shell shows the sign-in page; its data comes from the API, under the caller's rights.
    route!(GET "/", Public, NONE, ui::index, doc("The web UI (French first, English available)", &[(200, "text/html")])),
    route!(GET "/ack/{token}", Public, NONE, notify::ack_page, doc("An acknowledgement link from a message: what it would acknowledge, and a button (a mail client's preview acknowledges nothing)", &[(200, "text/html"), (404, "Not a valid link"), (409, "Already acknowledged"), (410, "Expired")])),
    route!(POST "/ack/{token}", Public, NONE, notify::ack, doc("Acknowledge through a link, without signing in: signed, expiring, bound to the person and the incident, used once (journalled with the person)", &[(200, "text/html"), (404, "Not a valid link"), (409, "Already acknowledged"), (410, "Expired")])),
    route!(GET "/status/{token}", Public, NONE, status::page, doc_q("An audience's status page (partners, the organising committee, venue managers), read-only, by its link token without an account: the suites and sites chosen for it and the public updates of its incidents; HTML in French, refreshed every minute", &[one_of("lang", &["fr", "en"]), one_of("format", &["html", "json"])], &[(200, "text/html, or {title, at, suites, sites, incidents} with format=json"), (404, "Not a valid link")])),
    route!(GET "/favicon.ico", Public, NONE, ui::favicon, doc("The UI's icon", &[(200, "SVG")])),
    route!(GET "/ui/{*path}", Public, NONE, ui::asset, doc("A file of the web UI (embedded in the binary)", &[(200, "HTML, CSS, JavaScript, GeoJSON"), (404, "No such file")])),
    route!(GET "/api/v1/openapi.json", Public, NONE, openapi::document, doc("This document", &[(200, "OpenAPI 3.1")])),
    route!(POST "/api/v1/session", Public,
        json(r#"{"type": "object", "required": ["user", "password"], "properties": {"user": {"type": "string"}, "password": {"type": "string"}}}"#),
        access::login,
        doc("Sign in: sets the session cookie, returns who and the CSRF token", &[(200, "{user, role, organization_id, partner_id, permissions, csrf_token}"), (401, "Wrong user name or password"), (429, "Too many failed sign-ins from this address; Retry-After says when to try again")])),
    route!(GET "/api/v1/session", Optional, NONE, access::current, doc("Who is signed in, with what permissions ({user: null} when no one is)", &[(200, "Caller")])),
    route!(DELETE "/api/v1/session", SignedIn, NONE, access::logout, doc("Sign out (the tokens issued in the session die with it)", &[(204, "Session ended")])),
    route!(GET "/api/v1/users", Need(Users), NONE, access::users, doc("Users (administrators)", &[(200, "{users}")])),
    route!(POST "/api/v1/users", Need(Users),
        json(r#"{"type": "object", "required": ["name", "role"], "properties": {"name": {"type": "string"}, "role": {"type": "string", "enum": ["admin", "strategic", "tactical", "toc", "partner", "viewer"]}, "organization_id": {"type": "string"}, "partner_id": {"type": "string"}, "password": {"type": "string"}, "disabled": {"type": "boolean"}}}"#),
        access::save_user,
        doc("Create or replace a user; a new user without a password gets one, shown once", &[(201, "{user, password}"), (200, "{user}"), (422, "Invalid")])),
    route!(GET "/api/v1/tokens", SignedIn, NONE, access::tokens, doc("The caller's API tokens (administrators: all), without secrets", &[(200, "{tokens}")])),
    route!(POST "/api/v1/tokens", Need(TokensIssue),
        json(r#"{"type": "object", "properties": {"user": {"type": "string"}, "label": {"type": "string"}, "scopes": {"type": "array", "items": {"type": "string"}}, "expires_at": {"type": "string", "format": "date-time"}, "expires_in_days": {"type": "integer", "minimum": 1}}}"#),
        access::issue,
        doc("Issue a token, shown once: within the caller's permissions, never beyond its own credential's expiry, and bound to the session or token it was issued through", &[(201, "{id, token, scopes, expires_at}"), (403, "A scope the caller does not hold")])),
    route!(DELETE "/api/v1/tokens/{id}", SignedIn, NONE, access::revoke, doc("Revoke a token (and every token issued through it)", &[(204, "Revoked"), (404, "Not found")])),
    route!(GET "/api/v1/audit", Need(Audit), NONE, stream::audit, doc_q("Who changed what, when: journal events by actor, object (a value the payload names) and time, in pages", &[q("actor", "string"), q("object", "string"), q("since", "string"), q("until", "string"), q("after", "integer"), q("limit", "integer")], &[(200, "{events, next_after}"), (400, "A bound cannot be read")])),
    route!(GET "/api/v1/events", SignedIn, NONE, stream::list, doc_q("Journal events after a sequence (those the caller may see)", &[q("after", "integer"), q("limit", "integer")], &[(200, "{events: [Envelope], next_after}")])),
    route!(GET "/api/v1/events/stream", SignedIn, NONE, stream::sse, doc_q("Server-sent events: the journal live (id = seq, event = kind, data = Envelope); resumes from Last-Event-ID", &[q("after", "integer"), q("kinds", "string")], &[(200, "text/event-stream")])),
    route!(GET "/api/v1/organizations", Need(LogisticsRead), NONE, registry::organizations, list("Organisations", &[q("q", "string"), q("level", "string"), q("parent_id", "string")])),
    route!(GET "/api/v1/organizations/{id}", Need(LogisticsRead), NONE, registry::organization, by_id("One organisation")),
    route!(GET "/api/v1/sites", SignedIn, NONE, registry::sites, list("Sites", &[q("q", "string"), q("kind", "string"), q("organization_id", "string"), q("city", "string")])),
    route!(GET "/api/v1/sites/{id}", SignedIn, NONE, registry::site, by_id("One site")),
    route!(GET "/api/v1/items", Need(LogisticsRead), NONE, registry::items, list("Catalogue items", &[q("q", "string"), q("category", "string")])),
    route!(GET "/api/v1/items/{id}", Need(LogisticsRead), NONE, registry::item, by_id("One item")),
    route!(GET "/api/v1/stock", Need(LogisticsRead), NONE, registry::stock, list("Stock lines with their site", &[q("site_id", "string"), q("item_id", "string"), q("condition", "string"), q("organization_id", "string"), q("expires_before", "date")])),
    route!(GET "/api/v1/forces", Need(LogisticsRead), NONE, registry::forces, list("Engaged forces", &[q("q", "string"), q("site_id", "string"), q("organization_id", "string"), q("active_on", "date")])),
    route!(GET "/api/v1/forces/{id}", Need(LogisticsRead), NONE, registry::force, by_id("One force")),
    route!(GET "/api/v1/allowances", Need(LogisticsRead), NONE, registry::allowances, list("Allowances", &[q("item_id", "string")])),
    route!(GET "/api/v1/vehicles", Need(LogisticsRead), NONE, registry::vehicles, list("Vehicles", &[q("site_id", "string"), q("kind", "string"), q("condition", "string")])),
    route!(GET "/api/v1/vehicles/{id}", Need(LogisticsRead), NONE, registry::vehicle, by_id("One vehicle")),
    // Each imported row is checked against the caller's permissions and reach (logistics or TOC tables).
    Route {
        method: "POST",
        path: "/api/v1/import",
        rule: SignedIn,
        body: Body::Multipart,
        doc: Doc {
            summary: "Import CSV or XLSX files (multipart, one part per file); all or nothing; every row within the caller's reach as the record is and as it would be",
            query: &[q("dry_run", "boolean")],
            paged: false,
            responses: &[(200, "{dry_run, valid, report: {files, tables, events, reductions, reductions_more}, preview}; a dry run with problems: {dry_run, valid: false, problems, lines}"), (422, "{error, message, problems: [{file, line, column, message}], lines}"), (403, "A row outside the caller's reach: nothing was imported")],
        },
        handler: |o| on(MethodFilter::POST, crate::import).layer(DefaultBodyLimit::max(o.max_upload_bytes)),
    },
    route!(POST "/api/v1/import/previews/{id}", SignedIn, NONE, crate::confirm_import, doc("Confirm a validated import: commits what its dry run read (its `preview` id, kept 15 minutes for whoever validated it), planned again against the state as it is now; nothing is uploaded again", &[(200, "{dry_run: false, valid, report}"), (404, "Unknown or expired preview: validate the files again"), (422, "Problems against the state as it is now"), (403, "A row outside the caller's reach")])),
    route!(GET "/api/v1/ask/sufficiency", Need(LogisticsRead), NONE, ask::sufficiency, doc_q("Do we have enough? need, on_hand, serviceable, reserved, in_transit, available, incoming, shortfall, surplus, coverage, by organisation and site (with each site's uncovered need)", &[q("item", "string"), q("all", "boolean"), q("catalogue", "boolean"), q("on", "date"), q("days", "integer"), q("org", "string"), q("site", "string")], QUESTION_ERRORS)),
    route!(POST "/api/v1/ask/sufficiency", Need(LogisticsRead), WHAT_IF, ask::sufficiency_what_if, doc_q("What-if: do we have enough, on a copy changed by a scenario", &[q("item", "string"), q("all", "boolean"), q("catalogue", "boolean"), q("on", "date"), q("days", "integer"), q("org", "string"), q("site", "string")], QUESTION_ERRORS)),
    route!(GET "/api/v1/ask/locate", Need(LogisticsRead), NONE, ask::locate, doc_q("Where is it? Sites holding available quantity, nearest first, with totals and autonomy", LOCATE, QUESTION_ERRORS)),
    route!(POST "/api/v1/ask/locate", Need(LogisticsRead), WHAT_IF, ask::locate_what_if, doc_q("What-if: where is it, on a copy changed by a scenario", LOCATE, QUESTION_ERRORS)),
    route!(GET "/api/v1/ask/reinforce", Need(LogisticsRead), NONE, ask::reinforce, doc_q("Reinforce a site: sources by arrival, loads within payload and volume, unmet quantities, a plan to commit", REINFORCE, QUESTION_ERRORS)),
    route!(POST "/api/v1/ask/reinforce", Need(LogisticsRead), WHAT_IF, ask::reinforce_what_if, doc_q("What-if: reinforce a site, on a copy changed by a scenario", REINFORCE, QUESTION_ERRORS)),
    route!(GET "/api/v1/ask/deploy", Need(LogisticsRead), NONE, ask::deploy, doc_q("Deploy reinforcements without equipment or vehicles: resources near both zones, the plan that has everyone there fully equipped soonest (then fewest vehicle-km), shortfall", DEPLOY, QUESTION_ERRORS)),
    route!(POST "/api/v1/ask/deploy", Need(LogisticsRead), WHAT_IF, ask::deploy_what_if, doc_q("What-if: deploy reinforcements, on a copy changed by a scenario", DEPLOY, QUESTION_ERRORS)),
    route!(POST "/api/v1/shift", NeedAll(Shift),
        json(r#"{"type": "object", "required": ["from", "to"], "properties": {"from": {"type": "string"}, "to": {"type": "string"}, "sites": {"type": "array", "items": {"type": "string"}}, "reason": {"type": "string"}, "dry_run": {"type": "boolean"}, "on": {"type": "string", "format": "date"}, "days": {"type": "integer", "minimum": 1}}}"#),
        ask::shift,
        doc("Shift of effort: the sites of one organisation and their forces pass to another; with dry_run, only the effect on every organisation", &[(200, "{dry_run, shift, effect}"), (404, "Unknown organisation or site"), (422, "Invalid")])),
    route!(GET "/api/v1/plans", Need(LogisticsRead), NONE, plans::list, doc_q("Plans the caller reaches", &[one_of("status", &["committed", "shipped", "received", "cancelled"])], &[(200, "{total, items}")])),
    route!(POST "/api/v1/plans", Need(LogisticsWrite),
        json(r#"{"type": "object", "required": ["destination"], "properties": {"destination": {"type": "string"}, "movements": {"type": "array", "items": {"type": "object", "required": ["from", "item_id", "quantity"], "properties": {"from": {"type": "string"}, "item_id": {"type": "string"}, "quantity": {"type": "number"}, "vehicle_id": {"type": "string"}}}}, "vehicles": {"type": "array", "items": {"type": "string"}}, "purpose": {"type": "string"}, "note": {"type": "string"}, "on": {"type": "string", "format": "date"}}}"#),
        plans::commit,
        doc("Commit a plan: reserves its quantities (available on `on`) and vehicles; its destination, origins and vehicles must be within the caller's reach", &[(201, "The plan, committed"), (403, "Outside the caller's reach"), (409, "Not available")])),
    route!(GET "/api/v1/plans/{id}", Need(LogisticsRead), NONE, plans::one, by_id("One plan")),
    route!(POST "/api/v1/plans/{id}/{action}", Need(LogisticsWrite), NONE, plans::step, doc("ship (committed → shipped), receive (shipped → received) or cancel (committed → cancelled)", &[(200, "The plan"), (404, "Not found"), (409, "Not in a state for this step")])),
    route!(GET "/api/v1/readiness", NeedAny(WALL_MONITORING), NONE, readiness::summary, doc_q("Venue readiness per site, zone, trade or owner: tasks and duration done, projected ready date, deadline, blocked tasks (a partner: its tasks and those linked to them)", &[q("by", "string")], &[(200, "{at, by, items}")])),
    route!(GET "/api/v1/readiness/sites/{id}", Need(MonitoringRead), NONE, readiness::site, by_id("One site's readiness: roll-ups by zone, tasks in projected order with their dates and root cause, the critical path")),
    route!(GET "/api/v1/readiness/blockers", NeedAny(WALL_MONITORING), NONE, readiness::blockers, doc("Blocked tasks, root causes first, each with the tasks it holds up; deliveries overdue on the road, each with the tasks it delays", &[(200, "{at, items, late_deliveries}")])),
    route!(GET "/api/v1/readiness/tasks", Need(MonitoringRead), NONE, readiness::tasks, doc_q("Unfinished tasks that may start by `until` (default: tonight, Paris), of `owner` (default: the caller's partner)", &[q("owner", "string"), q("until", "string")], &[(200, "{at, until, owner, items}")])),
    route!(POST "/api/v1/readiness/tasks/{id}/progress", Need(ReadinessWrite), json(r#"{"type": "object", "required": ["status"], "properties": {"status": {"enum": ["todo", "in_progress", "blocked", "done", "verified"]}, "reason": {"type": "string"}, "evidence": {"type": "string"}, "override": {"type": "boolean"}}}"#), readiness::progress, doc("Move a task: starting or finishing waits for its predecessors (409 naming them) unless `override`, which is journalled; a blocked task needs a reason; a partner moves its own tasks only", &[(200, "{task, progress}"), (403, "Not the caller's task"), (404, "Not found"), (409, "Predecessors unfinished")])),
    route!(GET "/api/v1/readiness/computers", Need(MonitoringRead), NONE, readiness::computers, doc_q("Computers with their recorded deployment state and their effective one (recorded in service but a check failing: failing; recorded imaged with its checks passing: tested), whether a passing check tested them, image compliance; counts by effective state", &[q("site", "string")], &[(200, "{total, counts, items}")])),
    route!(GET "/api/v1/readiness/computers/noncompliant", Need(MonitoringRead), NONE, readiness::noncompliant, doc("Imaged computers running another image than their zone requires", &[(200, "{total, items}")])),
    route!(GET "/api/v1/reports/logstat", Need(LogisticsRead), NONE, reports::logstat, doc_q("LOGSTAT as of an instant: per organisation the caller reaches and item, the figures of the sufficiency question over one day (need, on hand, serviceable, reserved, in transit, available, incoming, coverage), days of supply, the balance at 24, 48 and 72 h, the oldest count with its sources, the sites late in counting; totals per item; the changes since `since`. JSON, or a file in French (PDF, XLSX, CSV with `;` and decimal commas)", &[qd("at", "date-time", "The instant (RFC 3339, or `YYYY-MM-DD HH:MM` in Paris); now by default"), qd("since", "date-time", "An earlier instant: the changes since then"), qd("org", "string", "One organisation and its children (within the caller's reach)"), one_of("format", &["json", "pdf", "xlsx", "csv"])], &[(200, "{at, seq, on, organization_id, expected_count_hours, items_short, lines_late, lines: [...], totals: [...], changes?}, or the file"), (403, "An organisation outside the caller's reach"), (422, "A bad instant, one in the future, or a bad format")])),
    route!(GET "/api/v1/reports/sitrep", NeedAny(READERS), NONE, reports::sitrep, doc_q("SITREP as of an instant, each part for those who may read it: the IT picture (suites, sites not OK, from the journalled hard states), incidents (open by priority, P1-P2 and major ones, SLA breaches, opened and resolved in the period), logistics (items short within 24 h, plans under way), decisions of the operations log in the period, venues' readiness. The period: since `since`, else the 24 h before. JSON, or a file in French (PDF, XLSX, CSV)", &[qd("at", "date-time", "The instant (RFC 3339, or `YYYY-MM-DD HH:MM` in Paris); now by default"), qd("since", "date-time", "The period's start; 24 h before `at` by default"), one_of("format", &["json", "pdf", "xlsx", "csv"])], &[(200, "{at, seq, period_from, it?, incidents?, logistics?, decisions?, readiness?}, or the file"), (422, "A bad instant, one in the future, or a bad format")])),
    route!(GET "/api/v1/reports", NeedAny(READERS), NONE, reports::list, doc("The reports drafted for the chain of command that the caller may read (a LOGSTAT of an organisation it reaches; a SITREP whose every part it may read), each with its versions and where they stand; the latest drafted first", &[(200, "{items: [{id, kind, versions: [{version, at, seq, organization_id, since, parts, digest, summary, note, drafted_by, drafted_at, status, approved_by, approved_at, published_by, published_at}]}]}")])),
    route!(POST "/api/v1/reports", NeedAny(READERS), Body::Json { schema: r#"{"type": "object", "required": ["kind"], "properties": {"kind": {"enum": ["logstat", "sitrep"]}, "at": {"type": "string"}, "since": {"type": "string"}, "org": {"type": "string"}, "note": {"type": "string"}}, "additionalProperties": false}"#, optional: false }, reports::draft, doc("Draft a report as of an instant (now by default): a new version of the report of its kind, shift and scope (`LOGSTAT-2024-07-26-apres-midi-national`), its figures sealed by a digest; a SITREP holds the parts its drafter may read and is drafted over everything", &[(201, "The version, status draft"), (403, "Outside the caller's reach or permissions"), (422, "A located problem")])),
    route!(GET "/api/v1/reports/{id}", NeedAny(READERS), NONE, reports::one, by_id("A report with its versions")),
    route!(POST "/api/v1/reports/{id}/review", Need(ReportsApprove), Body::Json { schema: r#"{"type": "object", "required": ["version", "decision"], "properties": {"version": {"type": "integer"}, "decision": {"enum": ["approve", "publish", "reject"]}, "note": {"type": "string"}}, "additionalProperties": false}"#, optional: false }, reports::review, doc("Approve, publish or reject the latest version of a report: draft → approved → published, or rejected; approval by someone other than its drafter", &[(200, "The version"), (403, "Without reports:approve, or the drafter approving their own"), (404, "No such report the caller may read"), (409, "Not the latest version, or not in a state that allows it")])),
    route!(GET "/api/v1/reports/{id}/file", NeedAny(READERS), NONE, reports::version_file, doc_q("A version of a report as a file in French, rebuilt from the journal at the position it recorded and checked against its digest, saying who drafted, approved and published it", &[q("version", "integer"), one_of("format", &["pdf", "xlsx", "csv", "json"])], &[(200, "The file"), (404, "No such report the caller may read"), (422, "No such version, or a bad format")])),
    route!(GET "/api/v1/exercises/scenarios", SignedIn, NONE, exercise::scenarios, doc("The exercise scenarios Vigie ships (the hackathon's four situations, the TOC's power cut), for the demo's data", &[(200, "{items: [{id, name, description, injects, speed}]}")])),
    route!(GET "/api/v1/exercises", SignedIn, NONE, exercise::list, doc("The exercises, running first: clock, injects fired (with what each expects, for whoever may run exercises); `current`: the exercise this request was answered in, if any", &[(200, "{items: [...], current}")])),
    route!(POST "/api/v1/exercises", Need(ExercisesRun), Body::Json { schema: r#"{"type": "object", "properties": {"scenario": {"type": "string"}, "toml": {"type": "string"}, "at": {"type": "string"}, "speed": {"type": "number"}}, "additionalProperties": false}"#, optional: false }, exercise::start, doc("Start an exercise: a sandbox journal seeded with the live journal up to `at` (now by default), a whole Vigie over it without notifications, sync or status pages; the scenario's clock started (its speed, or `speed`)", &[(201, "The exercise"), (409, "Started from inside an exercise"), (422, "A located problem in the scenario or the request")])),
    route!(GET "/api/v1/exercises/{id}", SignedIn, NONE, exercise::one, by_id("An exercise: its clock and injects")),
    route!(POST "/api/v1/exercises/{id}/join", SignedIn, NONE, exercise::join, doc("Join a running exercise: its cookies are set, and the caller is signed in to its sandbox as themselves; every later request of the browser goes to the sandbox until it leaves", &[(200, "{id, csrf_token}"), (403, "No account in the exercise's picture"), (409, "The exercise has ended")])),
    route!(POST "/api/v1/exercises/{id}/control", Need(ExercisesRun), Body::Json { schema: r#"{"type": "object", "required": ["action"], "properties": {"action": {"enum": ["pause", "resume", "speed", "end"]}, "speed": {"type": "number"}}, "additionalProperties": false}"#, optional: false }, exercise::control, doc("Pause, resume, change the speed of, or end an exercise", &[(200, "The exercise"), (409, "It has ended"), (422, "A bad action or speed")])),
    route!(GET "/api/v1/exercises/{id}/review", Need(ExercisesRun), NONE, exercise::review, doc_q("The after-action review from the sandbox's journal: each inject, what it expected, what was done, by whom and how long it took in exercise time, what was missed; the participants' actions in order. JSON or a file in French marked EXERCICE", &[one_of("format", &["json", "pdf", "xlsx", "csv"])], &[(200, "{id, name, started, ended, speed, elapsed_s, expected, done, on_time, missed, injects, actions}, or the file"), (404, "No such exercise")])),
    route!(POST "/api/v1/exercise/leave", Public, NONE, exercise::leave, doc("Leave the exercise the browser is in: its cookies are cleared and its sandbox session ends; the live session is untouched", &[(204, "Back to the live Vigie")])),
    route!(GET "/api/v1/reports/discipline", Need(LogisticsRead), NONE, reports::discipline, doc("The reporting discipline: per organisation the caller reaches and each of its sites holding stock, when it was last counted, late past the expected frequency ([reports] count_every_h); organisations with a late site first", &[(200, "{at, expected_hours, late_sites, sites, organizations: [{organization_id, name, last_count, late_sites, sites: [{site_id, name, last_count, age_hours, late}]}]}")])),
    route!(GET "/api/v1/oncall", NeedAny(READERS), NONE, oncall::on_duty, doc_q("Who is on duty at `at` (default now), per team and escalation level: an override first, else the rotation's turn on Paris wall-clock time; a partner sees its own teams, a tactical group its organisations'", &[q("team", "string"), q("site", "string"), q("partner", "string"), q("organization", "string"), q("at", "string")], &[(200, "{at, items: [{team_id, team, level, person_id, name, email, mobile, from, until, override_reason}]}")])),
    route!(GET "/api/v1/oncall/calendar", NeedAny(READERS), NONE, oncall::calendar, doc_q("Who holds each escalation level of each team the caller sees, span by span (turns cut where overrides begin and end), from a day (Paris) over `days` (1–31)", &[q("team", "string"), qd("from", "date", "the first day, Paris (default today)"), qd("days", "integer", "1 to 31 (default 7)")], &[(200, "{from, until, teams: [{team_id, team, webhook, levels: [{level, period, people, spans: [{person_id, name, from, until, reason}]}]}]}"), (422, "A bad day or span")])),
    route!(POST "/api/v1/oncall/overrides", Need(RostersWrite), Body::Json { schema: r#"{"type": "object", "required": ["team_id", "level", "from", "until", "person_id"], "properties": {"team_id": {"type": "string"}, "level": {"type": "integer", "minimum": 1, "maximum": 255}, "from": {"type": "string"}, "until": {"type": "string"}, "person_id": {"type": "string"}, "reason": {"type": "string", "maxLength": 200}, "removed": {"type": "boolean"}}, "additionalProperties": false}"#, optional: false }, oncall::set_override, doc("Put a person on duty for a span (a swap, a replacement; at most 31 days), or take an override back (`removed`); journalled with who did it", &[(201, "The override"), (200, "Taken back"), (404, "Unknown team (or not the caller's)"), (422, "A located problem")])),
    route!(POST "/api/v1/oncall/rotations", Need(RostersWrite), Body::Json { schema: r#"{"type": "object", "required": ["team_id", "level", "period", "starts_at", "people"], "properties": {"team_id": {"type": "string"}, "level": {"type": "integer", "minimum": 1, "maximum": 9}, "period": {"enum": ["shift", "daily", "weekly"]}, "starts_at": {"type": "string"}, "people": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 100}}, "additionalProperties": false}"#, optional: false }, oncall::set_rotation, doc("Set who takes turns at a level of a team (people in order, period, first hand-over on Paris time); journalled with who did it", &[(200, "The rotation"), (404, "Unknown team (or not the caller's)"), (422, "A located problem")])),
    route!(GET "/api/v1/oncall/people", NeedAny(READERS), NONE, oncall::people, doc("The people the caller's roster reaches (a partner its own, a tactical group its organisations'), with their contact points, by name", &[(200, "{items: [{id, name, email, mobile, chat, partner_id, organization_id}]}")])),
    route!(POST "/api/v1/oncall/people", Need(RostersWrite), Body::Json { schema: r#"{"type": "object", "required": ["id", "name"], "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "email": {"type": "string"}, "mobile": {"type": "string"}, "chat": {"type": "string"}, "partner_id": {"type": ["string", "null"]}, "organization_id": {"type": ["string", "null"]}}, "additionalProperties": false}"#, optional: false }, oncall::set_person, doc("Write a person (new, or their contact points changed): a mobile number kept international; the caller's roster must reach them as they are and as they would be", &[(200, "The person"), (403, "Outside the caller's reach"), (422, "A located problem")])),
    route!(POST "/api/v1/oncall/teams", Need(RostersWrite), Body::Json { schema: r#"{"type": "object", "required": ["id", "name"], "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "partner_id": {"type": ["string", "null"]}, "site_id": {"type": ["string", "null"]}, "organization_id": {"type": ["string", "null"]}, "webhook": {"type": "string"}}, "additionalProperties": false}"#, optional: false }, oncall::set_team, doc("Write a team (new, or renamed, moved, its chat channel changed); the caller's roster must reach it as it is and as it would be, and its rotations' people still hold its duty", &[(200, "The team"), (403, "Outside the caller's reach"), (422, "A located problem")])),
    route!(GET "/api/v1/oncall/escalation", NeedAny(READERS), NONE, oncall::escalation, doc("How people are paged: the delay between levels, channels and up to which priority, the warning before a shift, the logistics rules; and each team's chain of levels with who holds each now (`paging` null: paging is off)", &[(200, "{paging, teams}")])),
    route!(GET "/api/v1/notifications", NeedAny(READERS), NONE, oncall::log, doc_q("The notification log: every message the caller may see (about an incident it sees, or to a team its roster reaches), newest first, with counts", &[one_of("status", &["queued", "sent", "failed", "given_up"]), one_of("channel", &["email", "chat", "sms", "voice"]), q("why", "string"), q("team", "string"), q("q", "string"), qd("limit", "integer", "lines, newest first (default 200, at most 1,000)")], &[(200, "{total, queued, sent, failed, given_up, items: [{notification, queued_at, attempts, status, state, team, person, acknowledged}]}")])),
    route!(GET "/metrics", Need(MonitoringRead), NONE, monitoring::metrics, doc("Prometheus text exposition format 0.0.4 (a partner: its applications' checks only)", &[(200, "text/plain; version=0.0.4")])),
    route!(POST "/api/v1/monitoring/results", Need(MonitoringWrite), json(r#"{"oneOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}]}"#), monitoring::results, doc("Push check results: one object, an array, or {results: [...]}; fields check (or check_id), status (OK, WARNING, CRITICAL, UNKNOWN or 0-3) or exit_status, output (or plugin_output), performance_data (text or list), time (RFC 3339 or epoch seconds). One bad result refuses the batch.", &[(200, "{accepted, state_changes}"), (400, "Not results JSON"), (422, "{error, message, problems[]}: nothing was taken"), (503, "Storage unavailable: nothing was taken; Retry-After")])),
    route!(POST "/api/v1/monitoring/alertmanager", Need(MonitoringWrite), OBJECT, monitoring::alertmanager, doc("Prometheus Alertmanager webhook (payload version 4): alerts mapped to checks by labels", &[(200, "{alerts, checks, unmatched_alerts, state_changes}"), (400, "Not an Alertmanager payload")])),
    route!(GET "/api/v1/monitoring/state", NeedAny(WALL_MONITORING), NONE, monitoring::state, doc("Counts by state and roll-ups of every suite, application, site and application at a site (a partner: its applications only)", &[(200, "{at, checks, counts, suites, applications, sites, applications_at_sites}")])),
    route!(GET "/api/v1/monitoring/checks", Need(MonitoringRead), NONE, monitoring::checks, list("Checks with their state", &[q("site", "string"), q("application", "string"), q("suite", "string"), q("state", "string")])),
    route!(GET "/api/v1/monitoring/checks/{id}", Need(MonitoringRead), NONE, monitoring::check, by_id("One check: state, parsed output and performance data, history")),
    route!(POST "/api/v1/monitoring/checks/{id}/ack", Need(MonitoringWrite), Body::Json { schema: r#"{"type": "object", "properties": {"comment": {"type": "string"}}}"#, optional: true }, monitoring::acknowledge, doc("Acknowledge a hard problem", &[(200, "acknowledged"), (404, "Not found"), (409, "No hard problem")])),
    route!(GET "/api/v1/monitoring/history", NeedAny(WALL_MONITORING), NONE, monitoring::history, list("Journalled state changes, newest first", &[q("check", "string"), q("site", "string")])),
    route!(GET "/api/v1/monitoring/maintenance", Need(MonitoringRead), NONE, monitoring::windows, doc("Maintenance windows", &[(200, "{windows}")])),
    route!(POST "/api/v1/monitoring/maintenance", NeedAll(MonitoringWrite),
        json(r#"{"type": "object", "required": ["id", "scope", "starts_at", "ends_at"], "properties": {"id": {"type": "string"}, "scope": {"type": "object", "properties": {"by": {"type": "string", "enum": ["site", "application", "asset", "check", "tag"]}, "id": {"type": "string"}}}, "starts_at": {"type": "string", "format": "date-time"}, "ends_at": {"type": "string", "format": "date-time"}, "every_hours": {"type": "integer", "minimum": 1}, "reason": {"type": "string"}}}"#),
        monitoring::schedule,
        doc("Schedule or replace a window", &[(200, "scheduled"), (404, "Unknown scope"), (422, "Invalid")])),
    route!(DELETE "/api/v1/monitoring/maintenance/{id}", NeedAll(MonitoringWrite), NONE, monitoring::cancel, doc("Cancel a window", &[(204, "cancelled"), (404, "Not found")])),
    route!(GET "/api/v1/monitoring/stream", NeedAny(WALL_MONITORING), NONE, monitoring::stream, doc_q("Server-sent events: what checks show, as it changes (event state; resync when behind); a partner: its applications' checks only", &[q("site", "string"), q("application", "string"), q("suite", "string")], &[(200, "text/event-stream")])),
    route!(GET "/api/v1/incidents", NeedAny(WALL_INCIDENTS), NONE, incidents::list, doc_q("Incidents with their SLA clocks, most urgent first", &[one_of("status", &["open", "all"]), one_of("sla", &["breached", "warning"])], &[(200, "{incidents: [{incident, sla}]}"), (400, "Unknown filter")])),
    route!(GET "/api/v1/incidents/{id}", Need(IncidentsRead), NONE, incidents::one, by_id("One incident (number or sys_id) with its SLA clocks and timeline of states")),
    route!(GET "/api/v1/incidents/{id}/timeline", Need(IncidentsRead), NONE, incidents::timeline, by_id("The crisis view: one timeline of states, notes, decisions, alerts and the linked plan")),
    route!(POST "/api/v1/incidents/{id}/acknowledge", Need(IncidentsWrite), NONE, incidents::acknowledge, doc("Take an incident in hand: its escalation stops (a partner: its own incidents)", &[(200, "{sys_id, acknowledged}"), (404, "Not found")])),
    route!(GET "/api/v1/incidents/{id}/notifications", Need(IncidentsRead), NONE, incidents::notifications, by_id("Who was told of an incident, when, by which channel, where each message stands, and who acknowledged")),
    // The operations log is the TOC's own: partners work their incidents through the Table API.
    route!(GET "/api/v1/log", NeedAll(IncidentsRead), NONE, incidents::log, doc_q("The operations log of a shift (`YYYY-MM-DD matin|après-midi|nuit`, default: now)", &[q("shift", "string")], &[(200, "{shift, entries}")])),
    route!(POST "/api/v1/log", NeedAll(IncidentsWrite),
        json(r#"{"type": "object", "required": ["text"], "properties": {"text": {"type": "string", "maxLength": 4000}, "kind": {"type": "string", "enum": ["note", "decision", "handover"]}, "incident": {"type": "string"}, "site": {"type": "string"}}}"#),
        incidents::add_log,
        doc("An entry by the operator on duty", &[(200, "{entry}"), (404, "Unknown incident or site"), (422, "Invalid")])),
    route!(GET "/api/v1/log/handover", NeedAll(IncidentsRead), NONE, incidents::handover, doc_q("What the next shift inherits: open incidents, SLA breaches, pending actions, the shift's log", &[q("shift", "string")], &[(200, "Handover")])),
    route!(GET "/api/now/table/{table}", Need(IncidentsRead), NONE, servicenow::list, doc_q("ServiceNow Table API (table incident): records, X-Total-Count and Link headers; a partner sees its group's", &[q("sysparm_query", "string"), q("sysparm_limit", "integer"), q("sysparm_offset", "integer"), q("sysparm_fields", "string"), one_of("sysparm_display_value", &["true", "false", "all"])], &[(200, "{result: [...]}"), (400, "{error, status: failure}")])),
    route!(POST "/api/now/table/{table}", Need(IncidentsWrite), OBJECT, servicenow::create, doc("Open an incident", &[(201, "{result}"), (400, "{error, status: failure}")])),
    route!(GET "/api/now/table/{table}/{sys_id}", Need(IncidentsRead), NONE, servicenow::one, doc("One incident", &[(200, "{result}"), (404, "{error, status: failure}")])),
    route!(PUT "/api/now/table/{table}/{sys_id}", Need(IncidentsWrite), OBJECT, servicenow::update, doc("Partial update", &[(200, "{result}"), (409, "sys_mod_count conflict")])),
    route!(PATCH "/api/now/table/{table}/{sys_id}", Need(IncidentsWrite), OBJECT, servicenow::update, doc("Partial update", &[(200, "{result}"), (409, "sys_mod_count conflict")])),
    route!(DELETE "/api/now/table/{table}/{sys_id}", NeedAll(IncidentsWrite), NONE, servicenow::remove, doc("Delete", &[(204, "deleted"), (404, "{error, status: failure}")])),
];

const LOCATE: &[Param] = &[
    req("item", "string", "one item or several, comma-separated"),
    req("near", "string", "site id, lat,lon or French commune"),
    q("within_km", "number"),
    q("within_min", "number"),
    q("headcount", "integer"),
    q("on", "date"),
    q("org", "string"),
];
const REINFORCE: &[Param] = &[
    req("site", "string", "the site to reinforce"),
    req("need", "string", "ITEM=QTY[,ITEM=QTY…]"),
    qd("by", "string", "deadline, RFC 3339 or Paris local time"),
    q("on", "date"),
];
const DEPLOY: &[Param] = &[
    req("from", "string", "departure zone: site id, lat,lon or French commune"),
    req("to", "string", "site id (the plan can then be committed), lat,lon or French commune"),
    req("headcount", "integer", "soldiers to deploy"),
    q("days", "integer"),
    qd("by", "string", "deadline, RFC 3339 or Paris local time"),
    q("within_km", "number"),
    q("within_min", "number"),
    q("on", "date"),
];

/// The route a request matched, by method and path pattern; `HEAD` is `GET`'s.
pub fn find(method: &axum::http::Method, path: &str) -> Option<&'static Route> {
    let m = if method == axum::http::Method::HEAD { "GET" } else { method.as_str() };
    ROUTES.iter().find(|r| r.method == m && r.path == path)
}

/// The router of every route (without the gate and the layers, which [`crate::build`] adds).
pub fn router(options: &ServerOptions) -> axum::Router<App> {
    let mut router = axum::Router::new();
    let mut paths: Vec<&str> = Vec::new();
    for r in ROUTES {
        if !paths.contains(&r.path) {
            paths.push(r.path);
        }
    }
    for path in paths {
        let mut methods: Option<MethodRouter<App>> = None;
        for r in ROUTES.iter().filter(|r| r.path == path) {
            let h = r.handler(options);
            methods = Some(match methods {
                None => h,
                Some(m) => m.merge(h),
            });
        }
        router = router.route(path, methods.expect("a path has a route"));
    }
    router
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_route_is_declared_once_and_reads_well() {
        let mut seen = std::collections::HashSet::new();
        for r in ROUTES {
            assert!(seen.insert((r.method, r.path)), "{} {} is declared twice", r.method, r.path);
            assert!(r.path.starts_with('/'), "{}", r.path);
            assert!(
                !r.doc.summary.is_empty() && !r.doc.responses.is_empty(),
                "{} {} needs a description",
                r.method,
                r.path
            );
            if let Body::Json { schema, .. } = r.body {
                serde_json::from_str::<serde_json::Value>(schema)
                    .unwrap_or_else(|e| panic!("{} {}: the body's schema is not JSON: {e}", r.method, r.path));
            }
            let writes = !matches!(r.method, "GET" | "HEAD");
            assert!(!(writes && r.rule == Optional), "{} {}: a write needs a caller or is public", r.method, r.path);
        }
    }
}
