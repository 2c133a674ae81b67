//! The projection: Vigie's current state, held in memory and rebuilt by applying the journal's events in order.
//!
//! Every record keeps a [`Stamp`] of the event that last set it, so any figure can say how fresh it is and where it
//! came from. Applying an event never fails: events are validated before they are appended.

use crate::event::{Envelope, Event};
use crate::ids::*;
use crate::registry::*;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Which event last set a record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stamp {
    pub seq: u64,
    pub time: DateTime<Utc>,
    pub source: Arc<str>,
}

/// A record with its stamp.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stamped<T> {
    #[serde(flatten)]
    pub value: T,
    #[serde(rename = "_stamp")]
    pub stamp: Stamp,
}

/// The stock counted at one site.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiteStock {
    pub lines: Vec<StockLine>,
    pub stamp: Stamp,
}

/// Counts of the state's records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub organizations: usize,
    pub sites: usize,
    pub items: usize,
    pub stock_lines: usize,
    pub forces: usize,
    pub allowances: usize,
    pub vehicles: usize,
}

#[derive(Debug, Clone, Default)]
pub struct State {
    pub organizations: BTreeMap<OrgId, Stamped<Organization>>,
    pub sites: BTreeMap<SiteId, Stamped<Site>>,
    pub items: BTreeMap<ItemId, Stamped<Item>>,
    pub stock: BTreeMap<SiteId, SiteStock>,
    pub forces: BTreeMap<ForceId, Stamped<Force>>,
    pub allowances: BTreeMap<(ItemId, AllowanceBasis), Stamped<Allowance>>,
    pub vehicles: BTreeMap<VehicleId, Stamped<Vehicle>>,
    /// Index for the questions asked per item: item → site → positions of its lines in `stock[site].lines`.
    pub stock_by_item: HashMap<ItemId, BTreeMap<SiteId, Vec<u32>>>,
    /// Sequence of the last applied event (0 when empty).
    pub last_seq: u64,
    stock_lines: usize,
    sources: HashMap<String, Arc<str>>,
}

impl State {
    pub fn new() -> State {
        State::default()
    }

    pub fn counts(&self) -> Counts {
        Counts {
            organizations: self.organizations.len(),
            sites: self.sites.len(),
            items: self.items.len(),
            stock_lines: self.stock_lines,
            forces: self.forces.len(),
            allowances: self.allowances.len(),
            vehicles: self.vehicles.len(),
        }
    }

    /// Applies one event. Events must come in journal order.
    pub fn apply(&mut self, env: &Envelope) {
        self.apply_parts(env.seq, env.time, &env.source, env.event.clone());
    }

    /// Applies an event taken by value (replay): no payload is copied.
    pub fn apply_owned(&mut self, env: Envelope) {
        self.apply_parts(env.seq, env.time, &env.source, env.event);
    }

    fn apply_parts(&mut self, seq: u64, time: DateTime<Utc>, source: &str, event: Event) {
        debug_assert!(seq > self.last_seq, "events applied out of order");
        self.last_seq = seq;
        let source = match self.sources.get(source) {
            Some(s) => s.clone(),
            None => {
                let s: Arc<str> = Arc::from(source);
                self.sources.insert(source.to_string(), s.clone());
                s
            }
        };
        let stamp = Stamp { seq, time, source };
        match event {
            Event::OrganizationUpserted(o) => {
                self.organizations
                    .insert(o.id.clone(), Stamped { value: o, stamp });
            }
            Event::SiteUpserted(s) => {
                self.sites.insert(s.id.clone(), Stamped { value: s, stamp });
            }
            Event::ItemUpserted(i) => {
                self.items.insert(i.id.clone(), Stamped { value: i, stamp });
            }
            Event::ForceUpserted(f) => {
                self.forces
                    .insert(f.id.clone(), Stamped { value: f, stamp });
            }
            Event::AllowanceSet(a) => {
                self.allowances
                    .insert((a.item_id.clone(), a.basis), Stamped { value: a, stamp });
            }
            Event::VehicleUpserted(v) => {
                self.vehicles
                    .insert(v.id.clone(), Stamped { value: v, stamp });
            }
            Event::StockCounted(c) => {
                // Share the catalogue's id allocations: a million lines then cost no extra id strings.
                let mut lines = c.lines;
                for l in &mut lines {
                    if let Some((id, _)) = self.items.get_key_value(l.item_id.as_str()) {
                        l.item_id = id.clone();
                    }
                }
                lines.shrink_to_fit();
                self.stock_lines += lines.len();
                let site_id = match self.sites.get_key_value(c.site_id.as_str()) {
                    Some((k, _)) => k.clone(),
                    None => c.site_id,
                };
                if let Some(old) = self.stock.get(&site_id) {
                    for l in &old.lines {
                        if let Some(sites) = self.stock_by_item.get_mut(&l.item_id) {
                            sites.remove(&site_id);
                        }
                    }
                }
                for (i, l) in lines.iter().enumerate() {
                    let sites = match self.stock_by_item.get_mut(&l.item_id) {
                        Some(s) => s,
                        None => self.stock_by_item.entry(l.item_id.clone()).or_default(),
                    };
                    match sites.get_mut(&site_id) {
                        Some(v) => v.push(i as u32),
                        None => {
                            sites.insert(site_id.clone(), vec![i as u32]);
                        }
                    }
                }
                if let Some(old) = self.stock.insert(site_id, SiteStock { lines, stamp }) {
                    self.stock_lines -= old.lines.len();
                }
            }
        }
    }

    /// The sites holding an item, each with the site's lines and the positions of that item's lines among them.
    pub fn item_sites<'s>(
        &'s self,
        item: &ItemId,
    ) -> impl Iterator<Item = (&'s SiteId, &'s [StockLine], &'s [u32])> + 's {
        self.stock_by_item
            .get(item)
            .into_iter()
            .flat_map(move |sites| {
                sites.iter().map(move |(site, idx)| {
                    let lines = self
                        .stock
                        .get(site)
                        .map(|s| s.lines.as_slice())
                        .unwrap_or(&[]);
                    (site, lines, idx.as_slice())
                })
            })
    }

    /// The stock lines of an item, with their site.
    pub fn lines_of<'s>(
        &'s self,
        item: &ItemId,
    ) -> impl Iterator<Item = (&'s SiteId, &'s StockLine)> + 's {
        self.stock_by_item
            .get(item)
            .into_iter()
            .flat_map(move |sites| {
                sites.iter().flat_map(move |(site, idx)| {
                    let lines = self
                        .stock
                        .get(site)
                        .map(|s| s.lines.as_slice())
                        .unwrap_or(&[]);
                    idx.iter()
                        .filter_map(move |&i| lines.get(i as usize))
                        .map(move |l| (site, l))
                })
            })
    }

    /// The organisation and all its descendants.
    pub fn org_and_children(&self, root: &OrgId) -> Vec<OrgId> {
        let mut out = vec![root.clone()];
        let mut i = 0;
        while i < out.len() {
            let cur = out[i].clone();
            for (id, o) in &self.organizations {
                if o.value.parent_id.as_ref() == Some(&cur) && !out.contains(id) {
                    out.push(id.clone());
                }
            }
            i += 1;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Actor;
    use crate::quantity::Quantity;
    use chrono::NaiveDate;

    fn env(seq: u64, event: Event) -> Envelope {
        Envelope {
            seq,
            id: uuid::Uuid::now_v7(),
            time: DateTime::from_timestamp(1_720_000_000 + seq as i64, 0).unwrap(),
            actor: Actor::system("test"),
            origin: "n1".into(),
            source: "test".into(),
            event,
        }
    }

    fn line(item: &str, q: i64) -> StockLine {
        StockLine {
            item_id: ItemId::parse(item).unwrap(),
            quantity: Quantity::from_units(q),
            condition: Condition::Serviceable,
            lot: None,
            expires_on: NaiveDate::from_ymd_opt(2030, 1, 1),
            counted_at: DateTime::from_timestamp(1_720_000_000, 0).unwrap(),
            attributes: Attributes::new(),
        }
    }

    #[test]
    fn a_count_replaces_the_sites_previous_lines() {
        let mut st = State::new();
        let site = SiteId::parse("S1").unwrap();
        st.apply(&env(
            1,
            Event::StockCounted(StockCount {
                site_id: site.clone(),
                lines: vec![line("A", 1), line("B", 2)],
            }),
        ));
        assert_eq!(st.counts().stock_lines, 2);
        st.apply(&env(
            2,
            Event::StockCounted(StockCount {
                site_id: site.clone(),
                lines: vec![line("C", 5)],
            }),
        ));
        assert_eq!(st.counts().stock_lines, 1);
        assert_eq!(st.stock[&site].lines[0].item_id.as_str(), "C");
        assert_eq!(st.stock[&site].stamp.seq, 2);
        // The per-item index follows: A's lines at S1 are gone, C's are there.
        assert_eq!(st.lines_of(&ItemId::parse("A").unwrap()).count(), 0);
        let c: Vec<_> = st.lines_of(&ItemId::parse("C").unwrap()).collect();
        assert_eq!(
            (c.len(), c[0].0.as_str(), c[0].1.quantity),
            (1, "S1", Quantity::from_units(5))
        );
        st.apply(&env(
            3,
            Event::StockCounted(StockCount {
                site_id: SiteId::parse("S2").unwrap(),
                lines: vec![line("C", 1), line("C", 2)],
            }),
        ));
        assert_eq!(
            st.lines_of(&ItemId::parse("C").unwrap())
                .map(|(_, l)| l.quantity)
                .sum::<Quantity>(),
            Quantity::from_units(8)
        );
        assert_eq!(st.last_seq, 3);
    }

    #[test]
    fn children_of_an_organisation() {
        let mut st = State::new();
        let org = |id: &str, parent: Option<&str>| {
            Event::OrganizationUpserted(Organization {
                id: OrgId::parse(id).unwrap(),
                name: id.into(),
                level: if parent.is_none() {
                    OrgLevel::Strategic
                } else {
                    OrgLevel::Tactical
                },
                parent_id: parent.map(|p| OrgId::parse(p).unwrap()),
                attributes: Attributes::new(),
            })
        };
        st.apply(&env(1, org("ROOT", None)));
        st.apply(&env(2, org("A", Some("ROOT"))));
        st.apply(&env(3, org("A1", Some("A"))));
        st.apply(&env(4, org("B", Some("ROOT"))));
        let mut a = st.org_and_children(&OrgId::parse("A").unwrap());
        a.sort();
        assert_eq!(
            a,
            vec![OrgId::parse("A").unwrap(), OrgId::parse("A1").unwrap()]
        );
        assert_eq!(st.org_and_children(&OrgId::parse("ROOT").unwrap()).len(), 4);
    }
}
