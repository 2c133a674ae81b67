//! Logistics decision support: pure functions of the projection ([`State`]) and a question.
//!
//! Definitions (docs/logistics.md): for an item on a day D, `on_hand` is every counted quantity; `serviceable` is
//! what is in serviceable condition and not expired on D (`expires_on < D` is expired); `reserved` is what Vigie
//! plans committed and did not ship; `in_transit` is shipped and not received; `available = serviceable − reserved`;
//! `incoming` is what committed plans will bring (reserved for the place) plus what is in transit to it. The `need`
//! over N days is Σ over the forces engaged on D of headcount × allowance (× N for `person_day`); `shortfall =
//! max(0, need − available − incoming)`: stock on its way to a need is not missing. A site's `uncovered` need is what
//! remains after its organisation's stock is allotted to its sites' needs, nearest first ([`allot`]).
//!
//! No I/O here: callers hold the state's read lock while a question is answered.

pub mod deploy;
pub mod gazetteer;
pub mod plans;
pub mod reinforce;
pub mod whatif;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use vigie_domain::*;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AskError {
    #[error("unknown item {0}")]
    UnknownItem(String),
    #[error("unknown site {0}")]
    UnknownSite(String),
    #[error("unknown organization {0}")]
    UnknownOrganization(String),
    #[error(transparent)]
    Place(#[from] gazetteer::PlaceError),
    #[error("unknown plan {0}")]
    UnknownPlan(String),
    /// Not enough of something: quantities, vehicles.
    #[error("not available: {0}")]
    Unavailable(String),
    #[error("{0}")]
    BadArgument(String),
}

/// Travel estimates, until a road network is loaded: great-circle distance × detour factor, at a road speed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Travel {
    pub detour_factor: f64,
    /// Speed of a vehicle kind when the vehicle states none; `default_speed_kmh` for other kinds.
    pub speed_by_kind: BTreeMap<String, f64>,
    pub default_speed_kmh: f64,
}

impl Default for Travel {
    fn default() -> Self {
        Travel {
            detour_factor: 1.3,
            speed_by_kind: [("truck".to_string(), 70.0), ("bus".to_string(), 80.0), ("light".to_string(), 90.0)].into(),
            default_speed_kmh: 70.0,
        }
    }
}

impl Travel {
    pub fn road_km(&self, a: LatLon, b: LatLon) -> f64 {
        a.distance_km(b) * self.detour_factor
    }
    /// Minutes to drive `km` at `speed_kmh`.
    pub fn minutes(km: f64, speed_kmh: f64) -> f64 {
        km / speed_kmh * 60.0
    }
    pub fn speed_of(&self, v: &Vehicle) -> f64 {
        v.speed_kmh.or_else(|| self.speed_by_kind.get(&v.kind).copied()).unwrap_or(self.default_speed_kmh)
    }
    /// The distance an estimate covers in `minutes` (what "sources within 1 h" means for locate, whose ETAs use the
    /// default speed).
    pub fn km_within(&self, minutes: f64) -> f64 {
        minutes / 60.0 * self.default_speed_kmh / self.detour_factor
    }
    /// How an ETA was estimated, said with every ETA.
    pub fn basis(&self) -> String {
        format!("estimate: great-circle distance × {} at road speed (no road network loaded)", self.detour_factor)
    }
}

/// Which sites and forces a question looks at: everything, or what an organisation and its children support.
#[derive(Debug, Clone)]
pub struct Scope {
    /// Membership by organisation slot; `None` is everything.
    orgs: Option<Vec<bool>>,
}

impl Scope {
    pub fn everything() -> Scope {
        Scope { orgs: None }
    }
    pub fn of(state: &State, org: &str) -> Result<Scope, AskError> {
        let slot = state.org_slots.get(org).filter(|_| state.organizations.contains_key(org));
        let slot = slot.ok_or_else(|| AskError::UnknownOrganization(org.to_string()))?;
        Ok(Scope { orgs: Some(state.org_subtree(slot)) })
    }
    /// Whether the organisation in this slot is in scope.
    pub fn includes(&self, org_slot: u32) -> bool {
        self.orgs.as_ref().is_none_or(|o| o.get(org_slot as usize).copied().unwrap_or(false))
    }
    /// A site slot, by the organisation that supports it.
    pub fn includes_site(&self, state: &State, site_slot: u32) -> bool {
        self.orgs.is_none()
            || state.site_facts.get(site_slot as usize).and_then(Option::as_ref).is_some_and(|f| self.includes(f.org))
    }
}

/// The figures of one item, for a whole scope, an organisation or a site.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Figures {
    pub need: Quantity,
    pub on_hand: Quantity,
    pub serviceable: Quantity,
    pub reserved: Quantity,
    pub in_transit: Quantity,
    pub available: Quantity,
    /// Committed plans will bring it (reserved at their origins for a destination here) or it is in transit here.
    pub incoming: Quantity,
    /// `max(0, need − available − incoming)`.
    pub shortfall: Quantity,
    /// `max(0, available + incoming − need)`: what could be sent elsewhere.
    pub surplus: Quantity,
    /// (available + incoming) / need; `null` when there is no need.
    pub coverage: Option<f64>,
}

impl Figures {
    fn add_line(&mut self, l: &IndexedLine, on: NaiveDate) {
        self.on_hand += l.quantity;
        if l.serviceable_on(on) {
            self.serviceable += l.quantity;
        }
    }
    fn finish(&mut self) {
        self.available = self.serviceable - self.reserved;
        self.incoming += self.in_transit;
        let supply = self.available + self.incoming;
        self.shortfall = if self.need > supply { self.need - supply } else { Quantity::ZERO };
        self.surplus = if supply > self.need { supply - self.need } else { Quantity::ZERO };
        self.coverage = (self.need > Quantity::ZERO).then(|| supply.as_f64() / self.need.as_f64());
    }
}

/// Serviceable on `on`: in serviceable condition and not expired (a lot expiring on D is still good on D).
pub fn is_serviceable(l: &StockLine, on: NaiveDate) -> bool {
    l.condition == Condition::Serviceable && l.expires_on.is_none_or(|e| e >= on)
}

pub use vigie_domain::state::IndexedLine;

/// What one person needs of an item over `days`: the `person` allowance plus `days` × the `person_day` one.
pub fn per_person(state: &State, item: &ItemId, days: u32) -> Quantity {
    let mut q = Quantity::ZERO;
    if let Some(a) = state.allowances.get(&(item.clone(), AllowanceBasis::Person)) {
        q += a.value.quantity;
    }
    if let Some(a) = state.allowances.get(&(item.clone(), AllowanceBasis::PersonDay)) {
        q += a.value.quantity.times(days as i64);
    }
    q
}

/// The need of one force for an item over `days`.
pub fn force_need(state: &State, item: &ItemId, force: &Force, days: u32) -> Quantity {
    per_person(state, item, days).times(force.headcount as i64)
}

#[derive(Debug, Clone, Serialize)]
pub struct OrgFigures {
    pub organization_id: OrgId,
    pub name: String,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Debug, Clone, Serialize)]
pub struct SiteFigures {
    pub site_id: SiteId,
    pub name: std::sync::Arc<str>,
    pub organization_id: OrgId,
    #[serde(flatten)]
    pub figures: Figures,
    /// The need left once the organisation's stock is allotted to its sites' needs ([`allot`]).
    pub uncovered: Quantity,
}

#[derive(Debug, Clone, Serialize)]
pub struct Sufficiency {
    pub item: ItemId,
    pub item_name: String,
    pub unit: String,
    pub on: NaiveDate,
    pub days: u32,
    /// What one person needs over `days` (the allowances), in `unit`.
    pub per_person: Quantity,
    #[serde(flatten)]
    pub figures: Figures,
    /// Engaged persons counted in the need.
    pub headcount: u64,
    /// The oldest count the figures rest on (`null` when no stock is counted).
    pub oldest_count: Option<DateTime<Utc>>,
    /// Each organisation's own sites and forces (children are listed separately).
    pub by_organization: Vec<OrgFigures>,
    /// Sites holding the item, receiving it or hosting forces that need it, most uncovered first, then worst
    /// shortfall.
    pub by_site: Vec<SiteFigures>,
}

pub fn item_id(state: &State, item: &str) -> Result<ItemId, AskError> {
    let id = ItemId::parse(item).map_err(|_| AskError::UnknownItem(item.to_string()))?;
    if !state.items.contains_key(&id) {
        return Err(AskError::UnknownItem(item.to_string()));
    }
    Ok(id)
}

/// Do we have enough? The figures of one item on a day, over `days`, in a scope.
pub fn sufficiency(
    state: &State,
    item: &ItemId,
    on: NaiveDate,
    days: u32,
    scope: &Scope,
) -> Result<Sufficiency, AskError> {
    let it = state.items.get(item).ok_or_else(|| AskError::UnknownItem(item.to_string()))?;
    if days == 0 {
        return Err(AskError::BadArgument("days must be at least 1".into()));
    }
    let mut total = Figures::default();
    let mut by_site: Vec<Option<Figures>> = vec![None; state.site_slots.len()];
    let mut by_org: Vec<Option<Figures>> = vec![None; state.org_slots.len()];
    let mut oldest: Option<DateTime<Utc>> = None;
    for line in state.item_lines(item) {
        let slot = line.site;
        let Some(facts) = &state.site_facts[slot as usize] else { continue };
        if !scope.includes(facts.org) {
            continue;
        }
        let here = by_site[slot as usize].get_or_insert_with(Figures::default);
        here.add_line(line, on);
        if line.counted {
            oldest = Some(oldest.map_or(line.counted_at(), |o| o.min(line.counted_at())));
        }
    }
    // Totals per site, then per organisation; reservations are per site.
    for (slot, here) in by_site.iter_mut().enumerate() {
        let Some(here) = here else { continue };
        let Some(facts) = &state.site_facts[slot] else { continue };
        here.reserved = state.reserved_at(item, slot as u32);
        total.on_hand += here.on_hand;
        total.serviceable += here.serviceable;
        total.reserved += here.reserved;
        let o = by_org[facts.org as usize].get_or_insert_with(Figures::default);
        o.on_hand += here.on_hand;
        o.serviceable += here.serviceable;
        o.reserved += here.reserved;
    }
    // Quantities on their way, or that committed plans will bring, count for their destination.
    for (&slot, &q) in state.in_transit.get(item).into_iter().flatten() {
        let Some(facts) = &state.site_facts[slot as usize] else { continue };
        if !scope.includes(facts.org) {
            continue;
        }
        total.in_transit += q;
        by_org[facts.org as usize].get_or_insert_with(Figures::default).in_transit += q;
        by_site[slot as usize].get_or_insert_with(Figures::default).in_transit += q;
    }
    for (&slot, &q) in state.reserved_for.get(item).into_iter().flatten() {
        let Some(facts) = &state.site_facts[slot as usize] else { continue };
        if !scope.includes(facts.org) || q == Quantity::ZERO {
            continue;
        }
        total.incoming += q;
        by_org[facts.org as usize].get_or_insert_with(Figures::default).incoming += q;
        by_site[slot as usize].get_or_insert_with(Figures::default).incoming += q;
    }
    let per_person = per_person(state, item, days);
    let mut headcount = 0u64;
    for f in &state.engaged {
        if !f.active_on(on) || !scope.includes(f.org) {
            continue;
        }
        let need = per_person.times(f.headcount as i64);
        headcount += f.headcount as u64;
        total.need += need;
        by_org[f.org as usize].get_or_insert_with(Figures::default).need += need;
        by_site[f.site as usize].get_or_insert_with(Figures::default).need += need;
    }
    total.finish();
    let mut rows: Vec<(u32, Figures)> = by_site
        .into_iter()
        .enumerate()
        .filter_map(|(slot, figures)| {
            let mut figures = figures?;
            figures.finish();
            Some((slot as u32, figures))
        })
        .collect();
    let uncovered = allot(state, &rows);
    let mut by_site: Vec<SiteFigures> = rows
        .drain(..)
        .zip(uncovered)
        .filter_map(|((slot, figures), uncovered)| {
            let facts = state.site_facts[slot as usize].as_ref()?;
            Some(SiteFigures {
                site_id: state.site_slots.id(slot).clone(),
                name: facts.name.clone(),
                organization_id: state.org_slots.id(facts.org).clone(),
                figures,
                uncovered,
            })
        })
        .collect();
    by_site.sort_by(|a, b| {
        (b.uncovered, b.figures.shortfall)
            .cmp(&(a.uncovered, a.figures.shortfall))
            .then_with(|| a.site_id.cmp(&b.site_id))
    });
    let mut by_organization: Vec<OrgFigures> = by_org
        .into_iter()
        .enumerate()
        .filter_map(|(slot, figures)| {
            let mut figures = figures?;
            figures.finish();
            let id = state.org_slots.id(slot as u32);
            let name = state.organizations.get(id).map_or_else(String::new, |o| o.value.name.clone());
            Some(OrgFigures { organization_id: id.clone(), name, figures })
        })
        .collect();
    by_organization.sort_by(|a, b| a.organization_id.cmp(&b.organization_id));
    Ok(Sufficiency {
        item: item.clone(),
        item_name: it.value.name.clone(),
        unit: it.value.unit.clone(),
        on,
        days,
        per_person,
        figures: total,
        headcount,
        oldest_count: oldest,
        by_organization,
        by_site,
    })
}

/// Which site slots a pass has met, without clearing a vector per pass: a slot is marked with the pass's number.
#[derive(Debug, Default)]
pub struct SiteMarks {
    seen: Vec<u32>,
    epoch: u32,
}

/// One item's figures per organisation (its own sites and forces), as [`sufficiency`]'s `by_organization` gives
/// them, and over the scope, without the per-site breakdown (no allotment, no sorting): what a report over every
/// organisation and item needs. `headcount` is each organisation slot's engaged persons on the day, in scope, `None`
/// where it has no force engaged (computed once for all items); `marks` a scratch buffer kept between calls.
/// Organisation slots in order; `None` where the item has nothing.
pub fn by_organization(
    state: &State,
    item: &ItemId,
    on: NaiveDate,
    days: u32,
    scope: &Scope,
    headcount: &[Option<u64>],
    marks: &mut SiteMarks,
) -> (Figures, Vec<Option<Figures>>) {
    let mut by_org: Vec<Option<Figures>> = vec![None; state.org_slots.len()];
    let mut total = Figures::default();
    marks.epoch += 1;
    let epoch = marks.epoch;
    let has_lines = &mut marks.seen;
    has_lines.resize(state.site_slots.len(), 0);
    for line in state.item_lines(item) {
        let Some(facts) = &state.site_facts[line.site as usize] else { continue };
        if !scope.includes(facts.org) {
            continue;
        }
        has_lines[line.site as usize] = epoch;
        by_org[facts.org as usize].get_or_insert_with(Figures::default).add_line(line, on);
    }
    // Reservations count where the item is held (as sufficiency's per-site figures do).
    for (&slot, &q) in state.reserved.get(item).into_iter().flatten() {
        let Some(facts) = &state.site_facts[slot as usize] else { continue };
        if has_lines.get(slot as usize) == Some(&epoch) && scope.includes(facts.org) {
            by_org[facts.org as usize].get_or_insert_with(Figures::default).reserved += q;
        }
    }
    for (&slot, &q) in state.in_transit.get(item).into_iter().flatten() {
        let Some(facts) = &state.site_facts[slot as usize] else { continue };
        if scope.includes(facts.org) {
            by_org[facts.org as usize].get_or_insert_with(Figures::default).in_transit += q;
        }
    }
    for (&slot, &q) in state.reserved_for.get(item).into_iter().flatten() {
        let Some(facts) = &state.site_facts[slot as usize] else { continue };
        if scope.includes(facts.org) && q != Quantity::ZERO {
            by_org[facts.org as usize].get_or_insert_with(Figures::default).incoming += q;
        }
    }
    let per_person = per_person(state, item, days);
    for (slot, hc) in headcount.iter().enumerate() {
        if let Some(hc) = hc {
            by_org[slot].get_or_insert_with(Figures::default).need += per_person.times(*hc as i64);
        }
    }
    for f in by_org.iter_mut().flatten() {
        total.on_hand += f.on_hand;
        total.serviceable += f.serviceable;
        total.reserved += f.reserved;
        total.in_transit += f.in_transit;
        total.incoming += f.incoming;
        total.need += f.need;
        f.finish();
    }
    total.finish();
    (total, by_org)
}

/// Each site's uncovered need (in the order of `sites`: site slot and its figures): within each organisation (the one
/// that supports the site), what a site holds or will receive covers its own need first; then the surplus of its
/// organisation's sites goes to the remaining needs of its other sites, the closest pair (surplus site, needing site)
/// first, ties by site ids. What is left is uncovered. Organisations do not cover each other here (the strategic
/// centre's depots do not hide a tactical group's shortfall): sufficiency's totals say how they net out.
///
/// Per organisation the sum of its sites' uncovered needs is `max(0, Σ need − Σ supply)` over its sites, whatever
/// the distances; the distances only decide which sites stay uncovered (the farthest from the surplus).
pub fn allot(state: &State, sites: &[(u32, Figures)]) -> Vec<Quantity> {
    let mut left: Vec<Quantity> = sites.iter().map(|(_, f)| f.shortfall).collect();
    let org_of = |slot: u32| state.site_facts[slot as usize].as_ref().map(|f| (f.org, f.position));
    let mut by_org: BTreeMap<u32, (Vec<usize>, Vec<usize>)> = BTreeMap::new();
    for (i, (slot, f)) in sites.iter().enumerate() {
        let Some((org, _)) = org_of(*slot) else { continue };
        let e = by_org.entry(org).or_default();
        if f.surplus > Quantity::ZERO {
            e.0.push(i);
        } else if f.shortfall > Quantity::ZERO {
            e.1.push(i);
        }
    }
    for (givers, takers) in by_org.into_values().filter(|(g, t)| !g.is_empty() && !t.is_empty()) {
        let mut spare: Vec<Quantity> = givers.iter().map(|&g| sites[g].1.surplus).collect();
        let mut pairs: Vec<(f64, usize, usize)> = Vec::with_capacity(givers.len() * takers.len());
        for (gi, &g) in givers.iter().enumerate() {
            let from = org_of(sites[g].0).expect("indexed").1;
            for &t in &takers {
                pairs.push((from.distance_km(org_of(sites[t].0).expect("indexed").1), gi, t));
            }
        }
        pairs.sort_unstable_by(|a, b| {
            a.0.total_cmp(&b.0).then((sites[givers[a.1]].0, sites[a.2].0).cmp(&(sites[givers[b.1]].0, sites[b.2].0)))
        });
        for (_, gi, t) in pairs {
            let q = spare[gi].min(left[t]);
            if q > Quantity::ZERO {
                spare[gi] -= q;
                left[t] -= q;
            }
        }
    }
    left
}

/// Sufficiency of every item that has an allowance, worst coverage first (items with no need last).
pub fn sufficiency_all(state: &State, on: NaiveDate, days: u32, scope: &Scope) -> Result<Vec<Sufficiency>, AskError> {
    let mut items: Vec<&ItemId> = state.allowances.keys().map(|(i, _)| i).collect();
    items.dedup();
    sufficiency_of(state, items, on, days, scope)
}

/// Sufficiency of every item of the catalogue, with or without an allowance (an item no one needs has no need and
/// no coverage: it comes last), worst coverage first. What the Stock page lists: a received fridge shows there.
pub fn sufficiency_catalogue(
    state: &State,
    on: NaiveDate,
    days: u32,
    scope: &Scope,
) -> Result<Vec<Sufficiency>, AskError> {
    sufficiency_of(state, state.items.keys().collect(), on, days, scope)
}

fn sufficiency_of(
    state: &State,
    items: Vec<&ItemId>,
    on: NaiveDate,
    days: u32,
    scope: &Scope,
) -> Result<Vec<Sufficiency>, AskError> {
    let mut all = items.into_iter().map(|i| sufficiency(state, i, on, days, scope)).collect::<Result<Vec<_>, _>>()?;
    all.sort_by(|a, b| {
        let key = |s: &Sufficiency| s.figures.coverage.unwrap_or(f64::INFINITY);
        key(a).total_cmp(&key(b)).then(a.item.cmp(&b.item))
    });
    Ok(all)
}

/// Where a question is asked from: a site, a position, or a French commune.
#[derive(Debug, Clone, PartialEq)]
pub enum Near {
    Site(String),
    Point(LatLon),
    Place(String),
}

impl Near {
    /// `S1` (a site id), `47.2,-1.55` (a position) or `Nantes` (a commune); a site id wins over a commune name.
    pub fn parse(state: &State, text: &str) -> Near {
        let t = text.trim();
        if state.sites.contains_key(t) {
            return Near::Site(t.to_string());
        }
        if let Some((a, b)) = t.split_once(',') {
            if let (Ok(lat), Ok(lon)) = (a.trim().parse::<f64>(), b.trim().parse::<f64>()) {
                if let Ok(p) = LatLon::new(lat, lon) {
                    return Near::Point(p);
                }
            }
        }
        Near::Place(t.to_string())
    }

    /// The position and a label for it.
    pub fn resolve(&self, state: &State) -> Result<(LatLon, String), AskError> {
        match self {
            Near::Site(id) => {
                let s = state.sites.get(id.as_str()).ok_or_else(|| AskError::UnknownSite(id.clone()))?;
                Ok((s.value.position(), format!("{} ({})", s.value.name, s.value.id)))
            }
            Near::Point(p) => Ok((*p, format!("{:.5}, {:.5}", p.lat, p.lon))),
            Near::Place(q) => {
                let c = gazetteer::Gazetteer::get().resolve(q)?;
                Ok((c.position(), c.describe()))
            }
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Holding {
    pub site_id: SiteId,
    pub name: std::sync::Arc<str>,
    pub kind: SiteKind,
    pub organization_id: OrgId,
    pub lat: f64,
    pub lon: f64,
    /// Available quantity per requested item (items the site does not hold are absent).
    pub available: BTreeMap<ItemId, Quantity>,
    pub distance_km: f64,
    pub eta_min: f64,
    pub oldest_count: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Located {
    pub near: String,
    pub lat: f64,
    pub lon: f64,
    pub on: NaiveDate,
    pub items: Vec<ItemId>,
    /// Sites holding available quantity, nearest first.
    pub sites: Vec<Holding>,
    pub totals: BTreeMap<ItemId, Quantity>,
    /// With a headcount: days of autonomy the totals give that many persons, per `person_day` item.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub autonomy_days: Option<BTreeMap<ItemId, Option<f64>>>,
    /// The fewest days over those items: how long the force is fed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub autonomy_days_min: Option<f64>,
    pub eta_basis: String,
}

/// Where is it? Every site holding available quantity of the items, nearest first.
#[allow(clippy::too_many_arguments)]
pub fn locate(
    state: &State,
    items: &[ItemId],
    near: &Near,
    within_km: Option<f64>,
    headcount: Option<u32>,
    on: NaiveDate,
    scope: &Scope,
    travel: &Travel,
) -> Result<Located, AskError> {
    if items.is_empty() {
        return Err(AskError::BadArgument("name at least one item".into()));
    }
    for i in items {
        if !state.items.contains_key(i) {
            return Err(AskError::UnknownItem(i.to_string()));
        }
    }
    let (origin, label) = near.resolve(state)?;
    // Position of each site's holding in `sites`, by site slot.
    let mut at: Vec<u32> = vec![u32::MAX; state.site_slots.len()];
    let mut sites: Vec<Holding> = Vec::new();
    let mut totals: BTreeMap<ItemId, Quantity> = items.iter().map(|i| (i.clone(), Quantity::ZERO)).collect();
    let mut serviceable: Vec<Quantity> = vec![Quantity::ZERO; state.site_slots.len()];
    let mut oldest: Vec<Option<DateTime<Utc>>> = vec![None; state.site_slots.len()];
    let mut seen: Vec<bool> = vec![false; state.site_slots.len()];
    for item in items {
        let mut touched: Vec<u32> = Vec::new();
        for line in state.item_lines(item).iter().filter(|l| l.serviceable_on(on)) {
            let i = line.site as usize;
            if !seen[i] {
                seen[i] = true;
                touched.push(line.site);
            }
            serviceable[i] += line.quantity;
            if line.counted {
                oldest[i] = Some(oldest[i].map_or(line.counted_at(), |o| o.min(line.counted_at())));
            }
        }
        for slot in touched {
            let i = slot as usize;
            seen[i] = false;
            let available = std::mem::take(&mut serviceable[i]) - state.reserved_at(item, slot);
            let count = oldest[i].take();
            if available <= Quantity::ZERO {
                continue;
            }
            let h = match at[i] {
                u32::MAX => {
                    let Some(facts) = &state.site_facts[i] else { continue };
                    if !scope.includes(facts.org) {
                        continue;
                    }
                    let distance_km = origin.distance_km(facts.position);
                    if within_km.is_some_and(|k| distance_km > k) {
                        continue;
                    }
                    at[i] = sites.len() as u32;
                    sites.push(Holding {
                        site_id: state.site_slots.id(slot).clone(),
                        name: facts.name.clone(),
                        kind: facts.kind,
                        organization_id: state.org_slots.id(facts.org).clone(),
                        lat: facts.position.lat,
                        lon: facts.position.lon,
                        available: BTreeMap::new(),
                        distance_km,
                        eta_min: Travel::minutes(distance_km * travel.detour_factor, travel.default_speed_kmh),
                        oldest_count: None,
                    });
                    sites.last_mut().expect("just pushed")
                }
                k => &mut sites[k as usize],
            };
            *h.available.entry(item.clone()).or_default() += available;
            h.oldest_count = match (h.oldest_count, count) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            *totals.entry(item.clone()).or_default() += available;
        }
    }
    sites.sort_by(|a, b| a.distance_km.total_cmp(&b.distance_km).then(a.site_id.cmp(&b.site_id)));
    let (autonomy_days, autonomy_days_min) = match headcount {
        None => (None, None),
        Some(h) => {
            let per_item: BTreeMap<ItemId, Option<f64>> = items
                .iter()
                .map(|i| {
                    let days = state.allowances.get(&(i.clone(), AllowanceBasis::PersonDay)).and_then(|a| {
                        let per_day = a.value.quantity.as_f64() * h as f64;
                        (per_day > 0.0).then(|| totals[i].as_f64() / per_day)
                    });
                    (i.clone(), days)
                })
                .collect();
            let min = per_item.values().flatten().copied().reduce(f64::min);
            (Some(per_item), min)
        }
    };
    Ok(Located {
        near: label,
        lat: origin.lat,
        lon: origin.lon,
        on,
        items: items.to_vec(),
        sites,
        totals,
        autonomy_days,
        autonomy_days_min,
        eta_basis: format!("{} at {} km/h", travel.basis(), travel.default_speed_kmh),
    })
}
