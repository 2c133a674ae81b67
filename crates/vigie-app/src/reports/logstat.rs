//! LOGSTAT: the logistics status for the chain of command, per organisation and item, as of an instant. Every
//! figure is the sufficiency question's own (`vigie_logistics::sufficiency`, over one day, for the organisation's
//! own sites and forces), so the report says what the Logistique page said at that instant; to it come the days of
//! supply, the balance at 24, 48 and 72 h, the age and source of the counts the figures rest on, and the sites late
//! in counting them (the reporting discipline), named on every line they touch.

use crate::{AppError, Caller};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use vigie_domain::access::{Permission, Reach};
use vigie_domain::{Quantity, SiteId, State};
use vigie_logistics::{self as logistics, Figures, Scope};

/// One organisation's figures for one item (or the whole scope's, `organization_id` empty).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogstatLine {
    pub organization_id: String,
    pub organization: String,
    pub item_id: String,
    pub item: String,
    pub unit: String,
    /// Over one day: need, on hand, serviceable, reserved, in transit, available, incoming, shortfall, surplus,
    /// coverage, as the sufficiency question gives them.
    #[serde(flatten)]
    pub figures: Figures,
    /// Engaged persons the need counts.
    pub headcount: u64,
    /// What the engaged force uses a day (the per-person-day allowance).
    pub daily_need: Quantity,
    /// How many days what is available or coming lasts once the one-off need is met; `null` when nothing is used
    /// by the day.
    pub days_of_supply: Option<f64>,
    /// Available + incoming − the need over 1, 2 and 3 days (negative: short by that much).
    pub balance_24h: Quantity,
    pub balance_48h: Quantity,
    pub balance_72h: Quantity,
    /// The oldest count these figures rest on, and its age in hours at the report's instant.
    pub oldest_count: Option<DateTime<Utc>>,
    pub age_hours: Option<f64>,
    /// Where the counts came from (the import file or the API call that recorded them), at most five.
    pub sources: Vec<String>,
    /// Sites late in counting (past the expected frequency) whose stock these figures include: how many, and the
    /// first ten by id.
    pub late_site_count: usize,
    pub late_sites: Vec<String>,
}

/// The LOGSTAT as of an instant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Logstat {
    /// The instant asked, the journal position it stands on, and the day whose needs count.
    pub at: DateTime<Utc>,
    pub seq: u64,
    pub on: NaiveDate,
    /// The organisation the report covers (with its children), `null`: every one the caller reaches.
    pub organization_id: Option<String>,
    pub expected_count_hours: f64,
    /// Per organisation (its own sites and forces) and item, organisations in id order, items in id order.
    pub lines: Vec<LogstatLine>,
    /// Per item over the whole scope.
    pub totals: Vec<LogstatLine>,
    /// Items short over the scope within 24 h, and lines resting on a late count.
    pub items_short: usize,
    pub lines_late: usize,
    /// What changed since an earlier report of the same scope (`since`), when asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<LogstatChanges>,
}

/// What changed between two LOGSTATs of one scope.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogstatChanges {
    pub since: DateTime<Utc>,
    pub since_seq: u64,
    /// Lines whose available quantity, need or 24 h balance changed (a line absent on one side counts as zero),
    /// the largest fall of the balance first.
    pub lines: Vec<LogstatChange>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogstatChange {
    pub organization_id: String,
    pub organization: String,
    pub item_id: String,
    pub item: String,
    pub unit: String,
    pub available_before: Quantity,
    pub available: Quantity,
    pub need_before: Quantity,
    pub need: Quantity,
    pub balance_24h_before: Quantity,
    pub balance_24h: Quantity,
}

/// The changes from `before` to `after` (two reports of one scope).
pub fn changes(before: &Logstat, after: &Logstat) -> LogstatChanges {
    let key = |l: &LogstatLine| (l.organization_id.clone(), l.item_id.clone());
    let old: BTreeMap<(String, String), &LogstatLine> = before.lines.iter().map(|l| (key(l), l)).collect();
    let new: BTreeMap<(String, String), &LogstatLine> = after.lines.iter().map(|l| (key(l), l)).collect();
    let mut keys: Vec<&(String, String)> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut lines: Vec<LogstatChange> = keys
        .into_iter()
        .filter_map(|k| {
            let (b, a) = (old.get(k), new.get(k));
            let any = a.or(b)?;
            let fig = |l: Option<&&LogstatLine>| {
                l.map_or((Quantity::ZERO, Quantity::ZERO, Quantity::ZERO), |l| {
                    (l.figures.available, l.figures.need, l.balance_24h)
                })
            };
            let (ab, nb, bb) = fig(b);
            let (aa, na, ba) = fig(a);
            ((ab, nb, bb) != (aa, na, ba)).then(|| LogstatChange {
                organization_id: any.organization_id.clone(),
                organization: any.organization.clone(),
                item_id: any.item_id.clone(),
                item: any.item.clone(),
                unit: any.unit.clone(),
                available_before: ab,
                available: aa,
                need_before: nb,
                need: na,
                balance_24h_before: bb,
                balance_24h: ba,
            })
        })
        .collect();
    lines.sort_by(|x, y| {
        (x.balance_24h - x.balance_24h_before)
            .cmp(&(y.balance_24h - y.balance_24h_before))
            .then_with(|| (&x.organization_id, &x.item_id).cmp(&(&y.organization_id, &y.item_id)))
    });
    LogstatChanges { since: before.at, since_seq: before.seq, lines }
}

/// What a report's scope is called: the organisation's name, or `national`.
pub fn scope_name(st: &State, org: Option<&str>) -> String {
    match org {
        Some(o) => st.organizations.get(o).map_or_else(|| o.to_string(), |r| r.value.name.clone()),
        None => "national".to_string(),
    }
}

/// The scope a caller asks for: its own reach, narrowed to `org` (which it must reach).
pub fn scope_for(st: &State, caller: &Caller, org: Option<&str>) -> Result<(Scope, Option<String>), AppError> {
    let view = caller.principal.view(st);
    let own = match &caller.principal.reach {
        Reach::Organization(o) => Some(o.to_string()),
        _ => None,
    };
    let wanted = match org.map(str::trim).filter(|o| !o.is_empty()) {
        Some(o) => {
            let id = vigie_domain::OrgId::parse(o).map_err(|e| AppError::field("org", e.to_string()))?;
            if !st.organizations.contains_key(&id) {
                return Err(AppError::not_found("organisation", o));
            }
            if !view.org(&id) {
                return Err(AppError::Forbidden(crate::Reason::new(
                    "forbidden.outside",
                    [("kind", "organisation".to_string()), ("id", o.to_string())],
                    format!("organisation {o} is outside your reach"),
                )));
            }
            Some(o.to_string())
        }
        None => own,
    };
    match wanted {
        Some(o) => Ok((Scope::of(st, &o).map_err(|e| AppError::field("org", e.to_string()))?, Some(o))),
        None => Ok((Scope::everything(), None)),
    }
}

/// The LOGSTAT of `st` (the journal as of `at`), for what the caller reaches, narrowed to `org`.
pub fn logstat(
    st: &State,
    caller: &Caller,
    at: DateTime<Utc>,
    org: Option<&str>,
    count_every: Duration,
) -> Result<Logstat, AppError> {
    caller.need(Permission::LogisticsRead)?;
    let (scope, organization_id) = scope_for(st, caller, org)?;
    Ok(logstat_of(st, at, &scope, organization_id, count_every))
}

#[derive(Default)]
struct Rests {
    oldest: Option<DateTime<Utc>>,
    sources: Vec<Arc<str>>,
    late: Vec<u32>,
}

impl Rests {
    fn add(&mut self, at: DateTime<Utc>, source: Option<&Arc<str>>, late_site: Option<u32>) {
        self.oldest = Some(self.oldest.map_or(at, |o| o.min(at)));
        if let Some(s) = source {
            if self.sources.len() < 5 && !self.sources.contains(s) {
                self.sources.push(s.clone());
            }
        }
        // Each late site once (the caller marks the sites already seen for this item).
        if let Some(site) = late_site {
            self.late.push(site);
        }
    }
}

/// The LOGSTAT of a scope, whoever asks (the caller's reach is the scope).
pub fn logstat_of(
    st: &State,
    at: DateTime<Utc>,
    scope: &Scope,
    organization_id: Option<String>,
    count_every: Duration,
) -> Logstat {
    let on = vigie_domain::paris::today(at);
    let slots = st.site_slots.len();
    // Each site's count source and lateness, once.
    let source: Vec<Option<Arc<str>>> =
        (0..slots).map(|s| st.stock_of(st.site_slots.id(s as u32).as_str()).map(|x| x.stamp.source.clone())).collect();
    // Late: counted longer ago than expected (the reporting discipline's rule, by site slot).
    let late: Vec<bool> = super::last_counts(st).iter().map(|t| t.is_some_and(|t| at - t > count_every)).collect();
    // Engaged persons per organisation slot on the day (none: no force engaged).
    let mut headcount: Vec<Option<u64>> = vec![None; st.org_slots.len()];
    for f in st.engaged.iter().filter(|f| f.active_on(on) && scope.includes(f.org)) {
        *headcount[f.org as usize].get_or_insert(0) += u64::from(f.headcount);
    }
    let mut marks = logistics::SiteMarks::default();
    let mut seen = vec![0u32; slots];
    let mut lines = Vec::new();
    let mut totals = Vec::new();
    for (epoch, (item_id, item)) in st.items.iter().enumerate() {
        let (total, by_org) = logistics::by_organization(st, item_id, on, 1, scope, &headcount, &mut marks);
        let per_day = logistics::per_person(st, item_id, 2) - logistics::per_person(st, item_id, 1);
        let one_off = logistics::per_person(st, item_id, 1) - per_day;
        // What the figures rest on, per organisation slot and for the scope.
        let mut rests: BTreeMap<u32, Rests> = BTreeMap::new();
        let mut all = Rests::default();
        let stamp = epoch as u32 + 1;
        for line in st.item_lines(item_id).iter().filter(|l| l.counted) {
            let Some(facts) = st.site_facts.get(line.site as usize).and_then(Option::as_ref) else { continue };
            if !scope.includes(facts.org) {
                continue;
            }
            let src = source[line.site as usize].as_ref();
            let first = std::mem::replace(&mut seen[line.site as usize], stamp) != stamp;
            let late_site = (first && late[line.site as usize]).then_some(line.site);
            rests.entry(facts.org).or_default().add(line.counted_at(), src, late_site);
            all.add(line.counted_at(), src, late_site);
        }
        let line_of = |org: Option<(&vigie_domain::OrgId, &str)>, figures: &Figures, hc: u64, r: Option<&Rests>| {
            let balance = |days: i64| {
                figures.available + figures.incoming - one_off.times(hc as i64) - per_day.times(hc as i64 * days)
            };
            let daily = per_day.times(hc as i64);
            let after_one_off = figures.available + figures.incoming - one_off.times(hc as i64);
            let days_of_supply = (daily > Quantity::ZERO).then(|| (after_one_off.as_f64() / daily.as_f64()).max(0.0));
            let oldest = r.and_then(|r| r.oldest);
            LogstatLine {
                organization_id: org.map_or_else(String::new, |o| o.0.to_string()),
                organization: org.map_or_else(|| "Total".to_string(), |o| o.1.to_string()),
                item_id: item_id.to_string(),
                item: item.value.name.clone(),
                unit: item.value.unit.clone(),
                figures: figures.clone(),
                headcount: hc,
                daily_need: daily,
                days_of_supply: days_of_supply.map(|d| (d * 10.0).floor() / 10.0),
                balance_24h: balance(1),
                balance_48h: balance(2),
                balance_72h: balance(3),
                oldest_count: oldest,
                age_hours: oldest.map(|o| ((at - o).num_minutes() as f64 / 6.0).round() / 10.0),
                sources: r.map(|r| r.sources.iter().map(|s| s.to_string()).collect()).unwrap_or_default(),
                late_site_count: r.map_or(0, |r| r.late.len()),
                late_sites: r
                    .map(|r| {
                        let mut v: Vec<&SiteId> = r.late.iter().map(|&s| st.site_slots.id(s)).collect();
                        v.sort();
                        v.iter().take(10).map(|s| s.to_string()).collect()
                    })
                    .unwrap_or_default(),
            }
        };
        let mut any = false;
        let mut scope_headcount = 0;
        for (slot, figures) in by_org.iter().enumerate() {
            let Some(figures) = figures else { continue };
            any = true;
            let id = st.org_slots.id(slot as u32);
            let name = st.organizations.get(id).map_or("", |o| o.value.name.as_str());
            let hc = headcount[slot].unwrap_or(0);
            scope_headcount += hc;
            lines.push(line_of(Some((id, name)), figures, hc, rests.get(&(slot as u32))));
        }
        if any {
            totals.push(line_of(None, &total, scope_headcount, Some(&all)));
        }
    }
    lines.sort_by(|a, b| (&a.organization_id, &a.item_id).cmp(&(&b.organization_id, &b.item_id)));
    let items_short = totals.iter().filter(|t| t.balance_24h < Quantity::ZERO).count();
    let lines_late = lines.iter().filter(|l| !l.late_sites.is_empty()).count();
    Logstat {
        at,
        seq: st.last_seq,
        on,
        organization_id,
        expected_count_hours: count_every.num_minutes() as f64 / 60.0,
        lines,
        totals,
        items_short,
        lines_late,
        changes: None,
    }
}
