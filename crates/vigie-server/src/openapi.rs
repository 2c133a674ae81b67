//! The OpenAPI 3.1 document, derived from the route table ([`crate::routes::ROUTES`]): every route, its
//! parameters (path parameters from the path itself), its body and its answers.

use crate::access::Rule;
use crate::routes::{Body, Route, PATH_VALUES, ROUTES};
use axum::Json;
use serde_json::{json, Map, Value};

/// `GET /api/v1/openapi.json`.
pub async fn document() -> Json<Value> {
    Json(build())
}

/// `/ui/{*path}` → `/ui/{path}`.
fn openapi_path(path: &str) -> String {
    path.replace("{*", "{")
}

fn path_params(r: &Route) -> Vec<Value> {
    let mut out = Vec::new();
    for seg in r.path.split('/') {
        let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else { continue };
        let name = name.trim_start_matches('*');
        let mut schema = json!({"type": "string"});
        if let Some((_, values)) = PATH_VALUES.iter().find(|(p, _)| *p == name) {
            schema["enum"] = json!(values);
        }
        out.push(json!({"name": name, "in": "path", "required": true, "schema": schema}));
    }
    out
}

fn schema_of(ty: &str) -> Value {
    match ty {
        "date" | "date-time" => json!({"type": "string", "format": ty}),
        t => json!({"type": t}),
    }
}

fn operation(r: &Route) -> Value {
    let mut params = path_params(r);
    if r.doc.paged {
        for p in ["offset", "limit"] {
            params.push(json!({"name": p, "in": "query", "schema": {"type": "integer", "minimum": 0}}));
        }
    }
    for p in r.doc.query {
        let mut schema = schema_of(p.ty);
        if !p.values.is_empty() {
            schema["enum"] = json!(p.values);
        }
        let mut v = json!({"name": p.name, "in": "query", "required": p.required, "schema": schema});
        if !p.about.is_empty() {
            v["description"] = json!(p.about);
        }
        params.push(v);
    }
    let mut responses = Map::new();
    for (status, what) in r.doc.responses {
        responses.insert(status.to_string(), json!({"description": what}));
    }
    if !matches!(r.rule, Rule::Public | Rule::Optional) {
        responses.entry("401").or_insert(json!({"description": "No valid credentials"}));
        responses.entry("403").or_insert(json!({"description": "Not allowed to this caller"}));
    }
    let mut op = json!({
        "operationId": format!("{}_{}", r.method.to_lowercase(), r.path.trim_matches('/').replace(['/', '{', '}', '*', '.'], "_")),
        "summary": r.doc.summary,
        "responses": responses,
    });
    if !params.is_empty() {
        op["parameters"] = json!(params);
    }
    match r.body {
        Body::None => {}
        Body::Json { schema, optional } => {
            let schema: Value = serde_json::from_str(schema).unwrap_or_else(|_| json!({}));
            op["requestBody"] = json!({"required": !optional, "content": {"application/json": {"schema": schema}}});
        }
        Body::Multipart => {
            op["requestBody"] =
                json!({"required": true, "content": {"multipart/form-data": {"schema": {"type": "object"}}}});
        }
    }
    if matches!(r.rule, Rule::Public) {
        op["security"] = json!([]);
    }
    op
}

/// The whole document.
pub fn build() -> Value {
    let mut paths = Map::new();
    for r in ROUTES {
        let entry = paths.entry(openapi_path(r.path)).or_insert_with(|| json!({}));
        entry[r.method.to_lowercase()] = operation(r);
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Vigie API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Operations-centre platform: registry, journal events, logistics questions and plans, \
                                 monitoring, incidents. Every route but /health, this document and POST /api/v1/session \
                                 needs a caller: a session cookie (with the X-CSRF-Token header on writes), a Bearer \
                                 token or Basic credentials; a browser's write must come from Vigie's own origin, and a \
                                 JSON body must say Content-Type: application/json. What each role may do is in \
                                 docs/access.md."},
        "security": [{"bearer": []}, {"basic": []}, {"session": []}],
        "paths": paths,
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
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "An API token (vigie_…)"},
                "basic": {"type": "http", "scheme": "basic"},
                "session": {"type": "apiKey", "in": "cookie", "name": "vigie_session"}
            }
        }
    })
}
