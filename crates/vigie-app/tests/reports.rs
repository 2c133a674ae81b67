//! Reports as of an instant are the answers Vigie gave at that instant: on random journals, LOGSTAT computed
//! afterwards for each past instant (in a random order, so the history's kept states serve as starts) equals the
//! sufficiency question asked live at that instant, over one, two and three days, for every organisation and item.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::json;
use vigie_app::reports::{logstat_of, History};
use vigie_domain::{Actor, Event, ItemId, NewEvent, Quantity, State};
use vigie_journal::{Journal, JournalOptions, MemoryStore};
use vigie_logistics::{sufficiency, Scope};

/// A small deterministic generator (xorshift), seeded per case.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn ev(kind: &str, payload: serde_json::Value) -> NewEvent {
    NewEvent {
        actor: Actor::system("test"),
        source: "test".into(),
        event: Event::decode(kind, &payload.to_string()).unwrap_or_else(|e| panic!("{kind}: {e}")),
    }
}

const ORGS: [&str; 3] = ["NAT", "GS-A", "GS-B"];
const ITEMS: [&str; 3] = ["water", "ration", "plate"];

fn seed(j: &Journal) {
    let mut e = vec![
        ev("organization.upserted", json!({"id": "NAT", "name": "Centre national", "level": "strategic"})),
        ev(
            "organization.upserted",
            json!({"id": "GS-A", "name": "Groupement A", "level": "tactical", "parent_id": "NAT"}),
        ),
        ev(
            "organization.upserted",
            json!({"id": "GS-B", "name": "Groupement B", "level": "tactical", "parent_id": "NAT"}),
        ),
    ];
    for (i, org) in ORGS.iter().enumerate() {
        for s in 0..2 {
            e.push(ev(
                "site.upserted",
                json!({"id": format!("S-{org}-{s}"), "name": format!("Site {org} {s}"), "kind": "depot",
                       "lat": 45.0 + i as f64, "lon": 2.0 + s as f64, "organization_id": org}),
            ));
        }
    }
    for it in ITEMS {
        e.push(ev(
            "item.upserted",
            json!({"id": it, "name": it, "category": "c", "unit": "u", "unit_mass_kg": 1.0, "unit_volume_m3": 0.001}),
        ));
    }
    e.push(ev("allowance.set", json!({"item_id": "water", "basis": "person_day", "quantity": "4.5"})));
    e.push(ev("allowance.set", json!({"item_id": "ration", "basis": "person_day", "quantity": "3"})));
    e.push(ev("allowance.set", json!({"item_id": "ration", "basis": "person", "quantity": "1"})));
    e.push(ev("allowance.set", json!({"item_id": "plate", "basis": "person", "quantity": "2"})));
    j.append(e).unwrap();
}

/// One random change: a site's count, or a force engaged or changed.
fn change(rng: &mut Rng, day: NaiveDate, now: DateTime<Utc>) -> NewEvent {
    let org = ORGS[rng.below(3) as usize];
    let site = format!("S-{org}-{}", rng.below(2));
    if rng.below(3) == 0 {
        let starts = day + Duration::days(rng.below(3) as i64 - 1);
        return ev(
            "force.upserted",
            json!({"id": format!("F{}", rng.below(6)), "name": "Force", "site_id": site, "headcount": 1 + rng.below(400),
                   "organization_id": org, "starts_on": starts, "ends_on": starts + Duration::days(rng.below(3) as i64)}),
        );
    }
    let lines: Vec<_> = (0..rng.below(4))
        .map(|_| {
            let expires = (rng.below(4) == 0).then(|| day + Duration::days(rng.below(3) as i64 - 1));
            json!({"item_id": ITEMS[rng.below(3) as usize], "quantity": format!("{}.{}", rng.below(3000), rng.below(10)),
                   "condition": if rng.below(5) == 0 { "unserviceable" } else { "serviceable" },
                   "expires_on": expires, "counted_at": now - Duration::hours(rng.below(72) as i64)})
        })
        .collect();
    ev("stock.counted", json!({"site_id": site, "lines": lines}))
}

/// What the sufficiency question answered live: per (organisation, item), the one-day figures and the balances
/// over 1, 2 and 3 days.
type Answers = Vec<((String, String), vigie_logistics::Figures, [Quantity; 3])>;

fn ask(st: &State, on: NaiveDate) -> Answers {
    let mut out = Vec::new();
    for it in ITEMS {
        let item = ItemId::parse(it).unwrap();
        let by_days: Vec<_> =
            (1..=3).map(|d| sufficiency(st, &item, on, d, &Scope::everything()).unwrap().by_organization).collect();
        for (i, o) in by_days[0].iter().enumerate() {
            let balance = |d: usize| by_days[d][i].figures.surplus - by_days[d][i].figures.shortfall;
            out.push((
                (o.organization_id.to_string(), it.to_string()),
                o.figures.clone(),
                [balance(0), balance(1), balance(2)],
            ));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn a_logstat_as_of_an_instant_equals_the_answers_given_at_that_instant() {
    for case in 1..=6u64 {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ case.wrapping_mul(0x2545_F491_4F6C_DD1D));
        let j = Journal::open(Box::new(MemoryStore::default()), JournalOptions::default()).unwrap();
        seed(&j);
        let mut asked: Vec<(DateTime<Utc>, u64, Answers)> = Vec::new();
        for _ in 0..20 {
            let now = Utc::now();
            let day = vigie_domain::paris::today(now);
            let batch = (0..1 + rng.below(4)).map(|_| change(&mut rng, day, now)).collect();
            j.append(batch).unwrap();
            // The instant between this round's events and the next round's.
            std::thread::sleep(std::time::Duration::from_millis(3));
            let at = Utc::now();
            let st = j.state();
            asked.push((at, st.last_seq, ask(&st, vigie_domain::paris::today(at))));
            drop(st);
            std::thread::sleep(std::time::Duration::from_millis(3));
        }
        // Asked afterwards, in a random order.
        let history = History::new(2);
        for _ in 0..asked.len() {
            let (at, seq, answers) = &asked[rng.below(asked.len() as u64) as usize];
            let past = history.state_at(&j, *at).unwrap();
            assert_eq!(past.seq, *seq, "case {case}: the prefix of {at}");
            let report = logstat_of(&past.state, *at, &Scope::everything(), None, Duration::hours(24));
            assert_eq!(report.seq, *seq);
            let got: Answers = report
                .lines
                .iter()
                .map(|l| {
                    (
                        (l.organization_id.clone(), l.item_id.clone()),
                        l.figures.clone(),
                        [l.balance_24h, l.balance_48h, l.balance_72h],
                    )
                })
                .collect();
            assert_eq!(&got, answers, "case {case}, as of {at} (event {seq})");
        }
    }
}

#[test]
fn the_hand_over_reports_are_drafted_once_per_shift_as_of_the_hand_over() {
    let j = Journal::open(Box::new(MemoryStore::default()), JournalOptions::default()).unwrap();
    seed(&j);
    let history = History::new(2);
    let at =
        |s: &str| vigie_domain::paris::from_local(chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap());
    // A journal begun after the hand-over has nothing to report.
    let late = vigie_app::reports::publish::draft_at_handover(
        &j,
        &history,
        at("2024-07-26 14:20"),
        at("2024-07-26 15:00"),
        Duration::hours(24),
    );
    assert!(late.unwrap().is_empty());
    let long_ago = at("2024-01-01 00:00");
    let drafted = vigie_app::reports::publish::draft_at_handover(
        &j,
        &history,
        at("2024-07-26 14:20"),
        long_ago,
        Duration::hours(24),
    )
    .unwrap();
    assert_eq!(drafted, ["LOGSTAT-2024-07-26-apres-midi-national", "SITREP-2024-07-26-apres-midi-national"]);
    let st = j.state();
    let v = st.reports["LOGSTAT-2024-07-26-apres-midi-national"].latest().unwrap().clone();
    drop(st);
    assert_eq!(v.draft.at, at("2024-07-26 14:00"), "as of the hand-over, not of the minute it ran");
    assert_eq!((v.drafted_by.as_str(), v.status.as_str()), ("system:reports", "draft"));
    // Later in the same shift, nothing more; the next shift has its own.
    let again = vigie_app::reports::publish::draft_at_handover(
        &j,
        &history,
        at("2024-07-26 21:59"),
        long_ago,
        Duration::hours(24),
    )
    .unwrap();
    assert!(again.is_empty());
    let night = vigie_app::reports::publish::draft_at_handover(
        &j,
        &history,
        at("2024-07-27 01:00"),
        long_ago,
        Duration::hours(24),
    )
    .unwrap();
    assert_eq!(night[0], "LOGSTAT-2024-07-26-nuit-national", "the night of the 26th, which began at 22:00");
}
