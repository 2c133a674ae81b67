//! Registry reads: lists with filters and paging (`offset`, `limit`), and records by id. Every record carries its
//! `_stamp` (sequence, time and source of the event that last set it), so clients can show how fresh it is.
//! A tactical caller sees the sites, stock, forces and vehicles of its organisation and its children; the
//! organisations and the catalogue (items, allowances) are everyone's.

use crate::access::Caller;
use crate::{ApiError, App};
use axum::extract::{Path, Query, State as AxState};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashSet;
use vigie_app::{AppError, Reason};
use vigie_domain::*;

pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 10_000;

#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    offset: Option<usize>,
    limit: Option<usize>,
    /// Case-insensitive text found in the id or name.
    q: Option<String>,
    kind: Option<String>,
    level: Option<String>,
    category: Option<String>,
    condition: Option<String>,
    city: Option<String>,
    site_id: Option<String>,
    item_id: Option<String>,
    parent_id: Option<String>,
    /// The organisation and its children.
    organization_id: Option<String>,
    active_on: Option<String>,
    /// Stock lines expiring on or before this day (YYYY-MM-DD).
    expires_before: Option<String>,
}

impl Filters {
    fn limit(&self) -> Result<usize, ApiError> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(0) => Err(ApiError::BadRequest("limit must be at least 1".into())),
            Some(l) if l > MAX_LIMIT => Err(ApiError::BadRequest(format!("limit must be at most {MAX_LIMIT}"))),
            Some(l) => Ok(l),
        }
    }
    fn matches_text(&self, id: &str, name: &str) -> bool {
        match &self.q {
            None => true,
            Some(q) => {
                let q = q.to_lowercase();
                id.to_lowercase().contains(&q) || name.to_lowercase().contains(&q)
            }
        }
    }
    fn orgs(&self, st: &State) -> Result<Option<HashSet<OrgId>>, ApiError> {
        match &self.organization_id {
            None => Ok(None),
            Some(o) => {
                let id = OrgId::parse(o).map_err(|e| ApiError::BadRequest(format!("organization_id: {e}")))?;
                if !st.organizations.contains_key(&id) {
                    return Err(ApiError::from(vigie_app::AppError::not_found("organization", &id)));
                }
                Ok(Some(st.org_and_children(&id).into_iter().collect()))
            }
        }
    }
    fn choice<T>(
        v: &Option<String>,
        what: &str,
        parse: fn(&str) -> Result<T, UnknownValue>,
    ) -> Result<Option<T>, ApiError> {
        v.as_deref().map(parse).transpose().map_err(|e| ApiError::BadRequest(format!("{what}: {e}")))
    }
}

/// One page of a list, with the total that matched; `X-Total-Count` says the same.
#[derive(Serialize)]
struct Page<T> {
    total: usize,
    offset: usize,
    limit: usize,
    items: Vec<T>,
}

fn page<T: Serialize>(it: impl Iterator<Item = T>, f: &Filters) -> Result<Response, ApiError> {
    let limit = f.limit()?;
    let offset = f.offset.unwrap_or(0);
    let mut total = 0usize;
    let mut items = Vec::with_capacity(limit.min(1024));
    for x in it {
        if total >= offset && items.len() < limit {
            items.push(x);
        }
        total += 1;
    }
    let mut headers = HeaderMap::new();
    headers.insert("x-total-count", HeaderValue::from(total));
    Ok((headers, Json(Page { total, offset, limit, items })).into_response())
}

fn one<T: Serialize>(v: Option<T>, kind: &'static str, id: &str) -> Result<Response, ApiError> {
    v.map(|v| Json(v).into_response()).ok_or_else(|| AppError::not_found(kind, id).into())
}

/// A record outside the caller's reach: said as such (the caller knows the id; hiding it would only confuse).
fn outside(kind: &'static str, id: &str) -> ApiError {
    ApiError::Forbidden(Reason::new(
        "forbidden.outside",
        [("kind", kind.to_string()), ("id", id.to_string())],
        format!("{kind} {id} is outside your organisation: ask the strategic centre"),
    ))
}

/// A by-id read narrowed to the caller's reach.
fn one_within<T: Serialize>(v: Option<T>, within: bool, kind: &'static str, id: &str) -> Result<Response, ApiError> {
    match v {
        Some(_) if !within => Err(outside(kind, id)),
        v => one(v, kind, id),
    }
}

pub async fn organizations(AxState(app): AxState<App>, Query(f): Query<Filters>) -> Result<Response, ApiError> {
    let st = app.journal.state();
    let level = Filters::choice(&f.level, "level", OrgLevel::parse)?;
    page(
        st.organizations.values().filter(|o| {
            level.is_none_or(|l| o.value.level == l)
                && f.parent_id.as_deref().is_none_or(|p| o.value.parent_id.as_ref().is_some_and(|x| x.as_str() == p))
                && f.matches_text(o.value.id.as_str(), &o.value.name)
        }),
        &f,
    )
}

pub async fn organization(AxState(app): AxState<App>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let st = app.journal.state();
    one(st.organizations.get(id.as_str()), "organization", id.as_str())
}

pub async fn sites(AxState(app): AxState<App>, caller: Caller, Query(f): Query<Filters>) -> Result<Response, ApiError> {
    let st = app.journal.state();
    let view = caller.principal().view(&st);
    let kind = Filters::choice(&f.kind, "kind", SiteKind::parse)?;
    let orgs = f.orgs(&st)?;
    page(
        st.sites.values().filter(|s| {
            kind.is_none_or(|k| s.value.kind == k)
                && view.org(&s.value.organization_id)
                && orgs.as_ref().is_none_or(|o| o.contains(&s.value.organization_id))
                && f.city.as_deref().is_none_or(|c| s.value.city.eq_ignore_ascii_case(c))
                && f.matches_text(s.value.id.as_str(), &s.value.name)
        }),
        &f,
    )
}

pub async fn site(AxState(app): AxState<App>, caller: Caller, Path(id): Path<String>) -> Result<Response, ApiError> {
    let st = app.journal.state();
    let within = caller.principal().view(&st).site(&st, &id);
    one_within(st.sites.get(id.as_str()), within, "site", id.as_str())
}

pub async fn items(AxState(app): AxState<App>, Query(f): Query<Filters>) -> Result<Response, ApiError> {
    let st = app.journal.state();
    page(
        st.items.values().filter(|i| {
            f.category.as_deref().is_none_or(|c| i.value.category.eq_ignore_ascii_case(c))
                && f.matches_text(i.value.id.as_str(), &i.value.name)
        }),
        &f,
    )
}

pub async fn item(AxState(app): AxState<App>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let st = app.journal.state();
    one(st.items.get(id.as_str()), "item", id.as_str())
}

/// Stock lines, flattened with their site; the site's count stamp says when and from where they were counted.
pub async fn stock(AxState(app): AxState<App>, caller: Caller, Query(f): Query<Filters>) -> Result<Response, ApiError> {
    let st = app.journal.state();
    let view = caller.principal().view(&st);
    let condition = Filters::choice(&f.condition, "condition", Condition::parse)?;
    let orgs = f.orgs(&st)?;
    let expires_before = f
        .expires_before
        .as_deref()
        .map(|d| {
            d.parse::<NaiveDate>()
                .map_err(|_| ApiError::BadRequest(format!("expires_before: expected YYYY-MM-DD, found {d:?}")))
        })
        .transpose()?;
    let site_filter = f.site_id.as_deref();
    if let Some(s) = site_filter {
        if !st.sites.contains_key(s) {
            return Err(AppError::not_found("site", s).into());
        }
        if !view.site(&st, s) {
            return Err(outside("site", s));
        }
    }
    if let (Some(o), false) = (&f.organization_id, view.is_all()) {
        if OrgId::parse(o).is_ok_and(|o| !view.org(&o)) {
            return Err(outside("organisation", o.as_str()));
        }
    }
    let it = st
        .stock_iter()
        .filter(|(site, _)| site_filter.is_none_or(|s| site.as_str() == s) && view.site(&st, site.as_str()))
        .filter(|(site, _)| {
            orgs.as_ref().is_none_or(|o| st.sites.get(*site).is_some_and(|s| o.contains(&s.value.organization_id)))
        })
        .flat_map(|(site, ss)| ss.lines.iter().map(move |l| (site, ss, l)))
        .filter(|(_, _, l)| {
            f.item_id.as_deref().is_none_or(|i| l.item_id.as_str() == i)
                && condition.is_none_or(|c| l.condition == c)
                && expires_before.is_none_or(|d| l.expires_on.is_some_and(|e| e <= d))
        })
        .map(|(site, ss, l)| {
            json!({
                "site_id": site,
                "item_id": l.item_id,
                "quantity": l.quantity,
                "condition": l.condition,
                "lot": l.lot,
                "expires_on": l.expires_on,
                "counted_at": l.counted_at,
                "attributes": l.attributes,
                "_stamp": ss.stamp,
            })
        });
    page(it, &f)
}

pub async fn forces(
    AxState(app): AxState<App>,
    caller: Caller,
    Query(f): Query<Filters>,
) -> Result<Response, ApiError> {
    let st = app.journal.state();
    let view = caller.principal().view(&st);
    let orgs = f.orgs(&st)?;
    let day = f
        .active_on
        .as_deref()
        .map(|d| {
            d.parse::<NaiveDate>()
                .map_err(|_| ApiError::BadRequest(format!("active_on: expected YYYY-MM-DD, found {d:?}")))
        })
        .transpose()?;
    page(
        st.forces.values().filter(|x| {
            let v = &x.value;
            f.site_id.as_deref().is_none_or(|s| v.site_id.as_str() == s)
                && view.org(&v.organization_id)
                && orgs.as_ref().is_none_or(|o| o.contains(&v.organization_id))
                && day.is_none_or(|d| v.active_on(d))
                && f.matches_text(v.id.as_str(), &v.name)
        }),
        &f,
    )
}

pub async fn force(AxState(app): AxState<App>, caller: Caller, Path(id): Path<String>) -> Result<Response, ApiError> {
    let st = app.journal.state();
    let f = st.forces.get(id.as_str());
    let within = f.is_none_or(|f| caller.principal().view(&st).org(&f.value.organization_id));
    one_within(f, within, "force", id.as_str())
}

pub async fn allowances(AxState(app): AxState<App>, Query(f): Query<Filters>) -> Result<Response, ApiError> {
    let st = app.journal.state();
    page(st.allowances.values().filter(|a| f.item_id.as_deref().is_none_or(|i| a.value.item_id.as_str() == i)), &f)
}

pub async fn vehicles(
    AxState(app): AxState<App>,
    caller: Caller,
    Query(f): Query<Filters>,
) -> Result<Response, ApiError> {
    let st = app.journal.state();
    let view = caller.principal().view(&st);
    let condition = Filters::choice(&f.condition, "condition", Condition::parse)?;
    page(
        st.vehicles.values().filter(|x| {
            let v = &x.value;
            f.site_id.as_deref().is_none_or(|s| v.site_id.as_str() == s)
                && view.site(&st, v.site_id.as_str())
                && f.kind.as_deref().is_none_or(|k| v.kind.eq_ignore_ascii_case(k))
                && condition.is_none_or(|c| v.condition == c)
        }),
        &f,
    )
}

pub async fn vehicle(AxState(app): AxState<App>, caller: Caller, Path(id): Path<String>) -> Result<Response, ApiError> {
    let st = app.journal.state();
    let v = st.vehicles.get(id.as_str());
    let within = v.is_none_or(|v| caller.principal().view(&st).site(&st, v.value.site_id.as_str()));
    one_within(v, within, "vehicle", id.as_str())
}
