//! The OpenAPI 3.1 document of the API, written by hand next to the routes it describes.

use axum::Json;
use serde_json::{json, Value};

fn list(summary: &str, filters: &[&str]) -> Value {
    let mut params: Vec<Value> = ["offset", "limit"]
        .iter()
        .map(|p| json!({"name": p, "in": "query", "schema": {"type": "integer", "minimum": 0}}))
        .collect();
    params.extend(filters.iter().map(|f| json!({"name": f, "in": "query", "schema": {"type": "string"}})));
    json!({"get": {
        "summary": summary,
        "parameters": params,
        "responses": {
            "200": {"description": "One page: {total, offset, limit, items}; the X-Total-Count header holds total.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Page"}}}},
            "400": {"$ref": "#/components/responses/Error"}
        }
    }})
}

fn by_id(summary: &str) -> Value {
    json!({"get": {
        "summary": summary,
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "The record, with its _stamp"}, "404": {"$ref": "#/components/responses/Error"}}
    }})
}

pub async fn document() -> Json<Value> {
    let mut doc = paths();
    // Every question also answers what-if: the same parameters, and a scenario applied to a copy of the data.
    for q in ["sufficiency", "locate", "reinforce", "deploy"] {
        let path = &mut doc["paths"][format!("/api/v1/ask/{q}")];
        let get = path["get"].clone();
        path["post"] = json!({
            "summary": format!("What-if: {}", get["summary"].as_str().unwrap_or("")),
            "parameters": get["parameters"],
            "requestBody": {"content": {"application/json": {"schema": {"type": "object",
                "properties": {"scenario": {"type": "object", "description": "{name, changes: [...]}, never written"}}}}}},
            "responses": get["responses"],
        });
    }
    Json(doc)
}

fn paths() -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Vigie API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Operations-centre platform: registry, journal events, import. Every route but /health, \
                                 this document and POST /api/v1/session needs a caller: a session cookie (with the \
                                 X-CSRF-Token header on writes), a Bearer token or Basic credentials; what each role \
                                 may do is in docs/access.md."},
        "security": [{"bearer": []}, {"basic": []}, {"session": []}],
        "paths": {
            "/": {"get": {"summary": "The web UI (French first, English available)", "security": [],
                          "responses": {"200": {"description": "text/html"}}}},
            "/favicon.ico": {"get": {"summary": "The UI's icon", "security": [], "responses": {"200": {"description": "SVG"}}}},
            "/ui/{path}": {"get": {"summary": "A file of the web UI (embedded in the binary)", "security": [],
                                   "responses": {"200": {"description": "HTML, CSS, JavaScript, GeoJSON"}}}},
            "/api/v1/session": {
                "post": {"summary": "Sign in {user, password}: sets the session cookie, returns who and the CSRF token",
                         "security": [],
                         "responses": {"200": {"description": "{user, role, organization_id, partner_id, permissions, csrf_token}"},
                                       "401": {"$ref": "#/components/responses/Error"},
                                       "429": {"description": "Too many failed sign-ins; Retry-After says when to try again"}}},
                "get": {"summary": "Who is signed in, with what permissions", "responses": {"200": {"description": "Caller"}}},
                "delete": {"summary": "Sign out", "responses": {"204": {"description": "Session ended"}}}
            },
            "/api/v1/users": {
                "get": {"summary": "Users (administrators)", "responses": {"200": {"description": "{users}"}}},
                "post": {"summary": "Create or replace a user {name, role, organization_id?, partner_id?, password?, disabled?}; \
                                     a new user without a password gets one, shown once",
                         "responses": {"201": {"description": "{user, password}"}, "200": {"description": "{user}"}}}
            },
            "/api/v1/tokens": {
                "get": {"summary": "The caller's API tokens (administrators: all), without secrets",
                        "responses": {"200": {"description": "{tokens}"}}},
                "post": {"summary": "Issue a token {label, scopes, expires_at | expires_in_days, user?}; shown once",
                         "responses": {"201": {"description": "{id, token, expires_at}"}}}
            },
            "/api/v1/tokens/{id}": {"delete": {"summary": "Revoke a token", "responses": {"204": {"description": "Revoked"}}}},
            "/health": {"get": {"summary": "Liveness and journal position", "security": [], "responses": {"200": {"description": "ok"}}}},
            "/api/v1/organizations": list("Organisations", &["q", "level", "parent_id"]),
            "/api/v1/organizations/{id}": by_id("One organisation"),
            "/api/v1/sites": list("Sites", &["q", "kind", "organization_id", "city"]),
            "/api/v1/sites/{id}": by_id("One site"),
            "/api/v1/items": list("Catalogue items", &["q", "category"]),
            "/api/v1/items/{id}": by_id("One item"),
            "/api/v1/stock": list("Stock lines with their site", &["site_id", "item_id", "condition", "organization_id", "expires_before"]),
            "/api/v1/forces": list("Engaged forces", &["q", "site_id", "organization_id", "active_on"]),
            "/api/v1/forces/{id}": by_id("One force"),
            "/api/v1/allowances": list("Allowances", &["item_id"]),
            "/api/v1/vehicles": list("Vehicles", &["site_id", "kind", "condition"]),
            "/api/v1/vehicles/{id}": by_id("One vehicle"),
            "/api/v1/import": {"post": {
                "summary": "Import CSV or XLSX files (multipart, one part per file); all or nothing",
                "parameters": [
                    {"name": "dry_run", "in": "query", "schema": {"type": "boolean"}}
                ],
                "requestBody": {"content": {"multipart/form-data": {"schema": {"type": "object"}}}},
                "responses": {
                    "200": {"description": "{dry_run, valid, report: {files, tables, events}}; a dry run with problems: {dry_run, valid: false, problems, lines}"},
                    "422": {"description": "{error, message, problems: [{file, line, column, message}], lines}"}
                }
            }},
            "/api/v1/ask/sufficiency": {"get": {
                "summary": "Do we have enough? need, on_hand, serviceable, reserved, in_transit, available, shortfall, coverage, by organisation and site",
                "parameters": [
                    {"name": "item", "in": "query", "schema": {"type": "string"}},
                    {"name": "all", "in": "query", "schema": {"type": "boolean"}},
                    {"name": "on", "in": "query", "schema": {"type": "string", "format": "date"}},
                    {"name": "days", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                    {"name": "org", "in": "query", "schema": {"type": "string"}}
                ],
                "responses": {"200": {"description": "Sufficiency"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}
            }},
            "/api/v1/ask/locate": {"get": {
                "summary": "Where is it? Sites holding available quantity, nearest first, with totals and autonomy",
                "parameters": [
                    {"name": "item", "in": "query", "required": true, "schema": {"type": "string"}},
                    {"name": "near", "in": "query", "required": true, "schema": {"type": "string"}, "description": "site id, lat,lon or French commune"},
                    {"name": "within_km", "in": "query", "schema": {"type": "number"}},
                    {"name": "headcount", "in": "query", "schema": {"type": "integer"}},
                    {"name": "on", "in": "query", "schema": {"type": "string", "format": "date"}},
                    {"name": "org", "in": "query", "schema": {"type": "string"}}
                ],
                "responses": {"200": {"description": "Located"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}
            }},
            "/api/v1/ask/reinforce": {"get": {
                "summary": "Reinforce a site: sources by arrival, loads within payload and volume, unmet quantities, a plan to commit",
                "parameters": [
                    {"name": "site", "in": "query", "required": true, "schema": {"type": "string"}},
                    {"name": "need", "in": "query", "required": true, "schema": {"type": "string"}, "description": "ITEM=QTY[,ITEM=QTY…]"},
                    {"name": "by", "in": "query", "schema": {"type": "string"}, "description": "deadline, RFC 3339 or Paris local time"},
                    {"name": "on", "in": "query", "schema": {"type": "string", "format": "date"}}
                ],
                "responses": {"200": {"description": "Reinforcement"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}
            }},
            "/api/v1/ask/deploy": {"get": {
                "summary": "Deploy reinforcements without equipment or vehicles: resources near both zones, the plan that has everyone there fully equipped soonest (then fewest vehicle-km), shortfall",
                "parameters": [
                    {"name": "from", "in": "query", "required": true, "schema": {"type": "string"}, "description": "site id, lat,lon or French commune"},
                    {"name": "to", "in": "query", "required": true, "schema": {"type": "string"}, "description": "site id (the plan can then be committed), lat,lon or French commune"},
                    {"name": "headcount", "in": "query", "required": true, "schema": {"type": "integer", "minimum": 1}},
                    {"name": "days", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                    {"name": "by", "in": "query", "schema": {"type": "string"}, "description": "deadline, RFC 3339 or Paris local time"},
                    {"name": "within_km", "in": "query", "schema": {"type": "number"}},
                    {"name": "on", "in": "query", "schema": {"type": "string", "format": "date"}}
                ],
                "responses": {"200": {"description": "Deployment"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}
            }},
            "/api/v1/shift": {"post": {
                "summary": "Shift of effort {from, to, sites?, reason, dry_run?, on?, days?}: the sites of one organisation \
                            and their forces pass to another; with dry_run, only the effect on every organisation",
                "responses": {"200": {"description": "{dry_run, shift, effect}"}, "400": {"$ref": "#/components/responses/Error"}}
            }},
            "/api/v1/plans": {
                "get": {"summary": "Plans (filter: status)", "responses": {"200": {"description": "{total, items}"}}},
                "post": {
                    "summary": "Commit a plan: reserves its quantities (available on `on`) and vehicles",
                    "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {
                        "destination": {"type": "string"},
                        "movements": {"type": "array", "items": {"type": "object", "properties": {
                            "from": {"type": "string"}, "item_id": {"type": "string"},
                            "quantity": {"type": "number"}, "vehicle_id": {"type": "string"}}}},
                        "vehicles": {"type": "array", "items": {"type": "string"}},
                        "purpose": {"type": "string"}, "note": {"type": "string"},
                        "on": {"type": "string", "format": "date"}}}}}},
                    "responses": {"201": {"description": "The plan, committed"}, "409": {"description": "Not available"}}
                }
            },
            "/api/v1/plans/{id}": by_id("One plan"),
            "/api/v1/plans/{id}/{action}": {"post": {
                "summary": "ship (committed → shipped), receive (shipped → received) or cancel (committed → cancelled)",
                "parameters": [
                    {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
                    {"name": "action", "in": "path", "required": true, "schema": {"type": "string", "enum": ["ship", "receive", "cancel"]}}
                ],
                "responses": {"200": {"description": "The plan"}, "400": {"$ref": "#/components/responses/Error"}}
            }},
            "/api/v1/events": {"get": {
                "summary": "Journal events after a sequence",
                "parameters": [
                    {"name": "after", "in": "query", "schema": {"type": "integer"}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer"}}
                ],
                "responses": {"200": {"description": "{events: [Envelope], next_after}"}}
            }},
            "/api/v1/events/stream": {"get": {
                "summary": "Server-sent events: the journal live (id = seq, event = kind, data = Envelope)",
                "parameters": [
                    {"name": "after", "in": "query", "schema": {"type": "integer"}},
                    {"name": "kinds", "in": "query", "schema": {"type": "string"}},
                    {"name": "Last-Event-ID", "in": "header", "schema": {"type": "string"}}
                ],
                "responses": {"200": {"description": "text/event-stream"}}
            }},
            "/api/v1/audit": {"get": {
                "summary": "Who changed what, when: journal events by actor, object (a value the payload names) and time, in pages",
                "parameters": [
                    {"name": "actor", "in": "query", "schema": {"type": "string"}},
                    {"name": "object", "in": "query", "schema": {"type": "string"}},
                    {"name": "since", "in": "query", "schema": {"type": "string"}},
                    {"name": "until", "in": "query", "schema": {"type": "string"}},
                    {"name": "after", "in": "query", "schema": {"type": "integer"}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer"}}
                ],
                "responses": {"200": {"description": "{events, next_after}"}, "400": {"$ref": "#/components/responses/Error"}}
            }},
            "/api/v1/openapi.json": {"get": {"summary": "This document", "security": [], "responses": {"200": {"description": "OpenAPI"}}}},
            "/api/v1/monitoring/results": {"post": {
                "summary": "Push check results: one object, an array, or {results: [...]}; fields check (or check_id), \
                            status (OK, WARNING, CRITICAL, UNKNOWN or 0-3) or exit_status, output (or plugin_output), \
                            performance_data (text or list), time (RFC 3339 or epoch seconds). One bad result refuses \
                            the batch.",
                "responses": {"200": {"description": "{accepted, state_changes}"}, "400": {"$ref": "#/components/responses/Error"},
                              "422": {"description": "{error, message, problems[]}: nothing was taken"}}
            }},
            "/api/v1/monitoring/alertmanager": {"post": {
                "summary": "Prometheus Alertmanager webhook (payload version 4): alerts mapped to checks by labels",
                "responses": {"200": {"description": "{alerts, checks, unmatched_alerts, state_changes}"},
                              "400": {"$ref": "#/components/responses/Error"}}
            }},
            "/api/v1/monitoring/state": {"get": {
                "summary": "Counts by state and roll-ups of every suite, application, site and application at a site",
                "responses": {"200": {"description": "{at, checks, counts, suites, applications, sites, applications_at_sites}"}}
            }},
            "/api/v1/monitoring/checks": list("Checks with their state", &["site", "application", "suite", "state"]),
            "/api/v1/monitoring/checks/{id}": by_id("One check: state, parsed output and performance data, history"),
            "/api/v1/monitoring/checks/{id}/ack": {"post": {
                "summary": "Acknowledge a hard problem ({comment})",
                "responses": {"200": {"description": "acknowledged"}, "404": {"$ref": "#/components/responses/Error"},
                              "409": {"$ref": "#/components/responses/Error"}}
            }},
            "/api/v1/monitoring/history": list("Journalled state changes, newest first", &["check", "site"]),
            "/api/v1/monitoring/maintenance": {
                "get": {"summary": "Maintenance windows", "responses": {"200": {"description": "{windows}"}}},
                "post": {"summary": "Schedule or replace a window {id, scope: {by: site|application|asset|check|tag, id}, \
                                    starts_at, ends_at, every_hours?, reason?}",
                         "responses": {"200": {"description": "scheduled"}, "400": {"$ref": "#/components/responses/Error"},
                                       "404": {"$ref": "#/components/responses/Error"}}}
            },
            "/api/v1/monitoring/maintenance/{id}": {"delete": {
                "summary": "Cancel a window", "responses": {"204": {"description": "cancelled"}}
            }},
            "/api/v1/monitoring/stream": {"get": {
                "summary": "Server-sent events: what checks show, as it changes (event state; resync when behind)",
                "parameters": [
                    {"name": "site", "in": "query", "schema": {"type": "string"}},
                    {"name": "application", "in": "query", "schema": {"type": "string"}},
                    {"name": "suite", "in": "query", "schema": {"type": "string"}}
                ],
                "responses": {"200": {"description": "text/event-stream"}}
            }},
            "/api/v1/incidents": {"get": {
                "summary": "Incidents with their SLA clocks, most urgent first",
                "parameters": [
                    {"name": "status", "in": "query", "schema": {"type": "string", "enum": ["open", "all"]}},
                    {"name": "sla", "in": "query", "schema": {"type": "string", "enum": ["breached", "warning"]}}
                ],
                "responses": {"200": {"description": "{incidents: [{incident, sla}]}"}, "400": {"$ref": "#/components/responses/Error"}}
            }},
            "/api/v1/incidents/{id}": by_id("One incident (number or sys_id) with its SLA clocks and timeline of states"),
            "/api/v1/incidents/{id}/timeline": by_id("The crisis view: one timeline of states, notes, decisions, alerts and the linked plan"),
            "/api/v1/log": {
                "get": {"summary": "The operations log of a shift (`YYYY-MM-DD matin|après-midi|nuit`, default: now)",
                        "parameters": [{"name": "shift", "in": "query", "schema": {"type": "string"}}],
                        "responses": {"200": {"description": "{shift, entries}"}}},
                "post": {"summary": "An entry {text, kind: note|decision|handover, incident?, site?} by the operator on duty",
                         "responses": {"200": {"description": "{entry}"}, "400": {"$ref": "#/components/responses/Error"},
                                       "404": {"$ref": "#/components/responses/Error"}}}
            },
            "/api/v1/log/handover": {"get": {
                "summary": "What the next shift inherits: open incidents, SLA breaches, pending actions, the shift's log",
                "parameters": [{"name": "shift", "in": "query", "schema": {"type": "string"}}],
                "responses": {"200": {"description": "Handover"}}
            }},
            "/api/now/table/incident": {
                "get": {"summary": "ServiceNow Table API: incidents (sysparm_query, sysparm_limit, sysparm_offset, sysparm_fields, \
                                    sysparm_display_value); Vigie users by Basic authentication (or a token); X-Total-Count and Link headers",
                        "responses": {"200": {"description": "{result: [...]}"}, "401": {"description": "{error, status: failure}"}}},
                "post": {"summary": "Open an incident", "responses": {"201": {"description": "{result}"}}}
            },
            "/api/now/table/incident/{sys_id}": {
                "get": {"summary": "One incident", "responses": {"200": {"description": "{result}"}, "404": {"description": "{error, status: failure}"}}},
                "put": {"summary": "Partial update", "responses": {"200": {"description": "{result}"}, "409": {"description": "sys_mod_count conflict"}}},
                "patch": {"summary": "Partial update", "responses": {"200": {"description": "{result}"}}},
                "delete": {"summary": "Delete", "responses": {"204": {"description": "deleted"}}}
            },
            "/metrics": {"get": {"summary": "Prometheus text exposition format 0.0.4",
                                 "responses": {"200": {"description": "text/plain; version=0.0.4"}}}}
        },
        "components": {
            "schemas": {
                "Page": {"type": "object", "properties": {
                    "total": {"type": "integer"}, "offset": {"type": "integer"}, "limit": {"type": "integer"},
                    "items": {"type": "array", "items": {"type": "object"}}}},
                "Envelope": {"type": "object", "properties": {
                    "seq": {"type": "integer"}, "id": {"type": "string", "format": "uuid"},
                    "time": {"type": "string", "format": "date-time"}, "actor": {"type": "string"},
                    "origin": {"type": "string"}, "source": {"type": "string"}, "kind": {"type": "string"},
                    "payload": {"type": "object"}}}
            },
            "responses": {"Error": {"description": "{error, message}"}},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "An API token (vigie_…)"},
                "basic": {"type": "http", "scheme": "basic"},
                "session": {"type": "apiKey", "in": "cookie", "name": "vigie_session"}
            }
        }
    })
}
