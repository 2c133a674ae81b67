//! Snapshot benchmark (not a test): `cargo bench -p vigie-domain --bench snapshot`.
//!
//! Builds a large projection from a synthetic journal of `VIGIE_BENCH_EVENTS` events (default 10,000,000) of
//! every kind, then prints the snapshot's size, the time to encode it, to decode it, and to decode it and replay a
//! tail of `VIGIE_BENCH_TAIL` events (default 100,000), beside the **baseline** measured in the same run: the full
//! replay of the same events into a `State` (`apply_owned`, events already in memory: no storage, no JSON, no
//! chain; the replay at start costs those on top, so the real gain is larger). Figures are the median (p50) of
//! `VIGIE_BENCH_RUNS` runs (default 5 for the codec, at most 3 for the full replay). `VIGIE_BENCH_LINES` sets the
//! lines of each stock count (default 100; 2,000 makes the 1,000,000 counted lines of `vigie generate --scale 1`).
//!
//! The journal (seeded, the same on every run): 21 organisations, 500 sites, 1,000 items, 5,000 forces, 2,000
//! vehicles, 100 allowances, a TOC of 20 partners, 200 applications, 5,000 assets and 20,000 checks with
//! dependencies and maintenance windows, 200 users; then a stream of check state changes and acknowledgements,
//! stock counts of 100 lines (so 50,000 counted lines stand), plans committed, shipped, received or cancelled,
//! incidents recorded version after version with their work notes, SLA breaches and syncs, operations-log entries,
//! sessions, tokens, refusals, and now and then a change of the registry or a shift of effort.
//!
//! It runs on the binary's allocator (mimalloc): under glibc's, every allocation of a large B-tree node (plans,
//! incidents) consolidates the many small blocks freed before it, and replay runs several times slower.

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};
use vigie_domain::access::*;
use vigie_domain::health::Status;
use vigie_domain::itsm::*;
use vigie_domain::plan::*;
use vigie_domain::snapshot;
use vigie_domain::toc::*;
use vigie_domain::*;

const SITES: u64 = 500;
const ITEMS: u64 = 1_000;
const ORGS: u64 = 20;
const FORCES: u64 = 5_000;
const VEHICLES: u64 = 2_000;
const PARTNERS: u64 = 20;
const APPS: u64 = 200;
const ASSETS: u64 = 5_000;
const CHECKS: u64 = 20_000;
const USERS: u64 = 200;

/// splitmix64: small, fast, seeded.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn id<T>(parse: fn(&str) -> Result<T, vigie_domain::ids::IdError>, prefix: &str, n: u64) -> T {
    parse(&format!("{prefix}{n}")).expect("generated ids are valid")
}
fn org(n: u64) -> OrgId {
    id(OrgId::parse, "ORG-", n)
}
fn site(n: u64) -> SiteId {
    id(SiteId::parse, "S", n)
}
fn item(n: u64) -> ItemId {
    id(ItemId::parse, "I", n)
}
fn vehicle(n: u64) -> VehicleId {
    id(VehicleId::parse, "V", n)
}
fn check(n: u64) -> CheckId {
    id(CheckId::parse, "C", n)
}
fn app(n: u64) -> ApplicationId {
    id(ApplicationId::parse, "APP", n)
}
fn partner(n: u64) -> PartnerId {
    id(PartnerId::parse, "PARTNER", n)
}
fn user(n: u64) -> UserName {
    UserName::parse(&format!("user{n}")).unwrap()
}
fn sys_id(n: u64) -> String {
    format!("{:032x}", 0x5eed_0000_0000u64 + n)
}
fn status(n: u64) -> Status {
    [Status::Ok, Status::Warning, Status::Critical, Status::Unknown][n as usize % 4]
}

/// The synthetic journal, event by event.
struct Gen {
    rng: Rng,
    lines_per_count: u64,
    seq: u64,
    t0: i64,
    actor: Actor,
    sources: Vec<Arc<str>>,
    registry: VecDeque<Event>,
    next_plan: u64,
    committed: VecDeque<u64>,
    shipped: VecDeque<u64>,
    next_incident: u64,
    /// Version of each incident of the window of open ones.
    open: VecDeque<(u64, u32)>,
    next_log: u64,
}

impl Gen {
    fn new(lines_per_count: u64) -> Gen {
        let mut g = Gen {
            rng: Rng(2024),
            lines_per_count,
            seq: 0,
            t0: 1_721_000_000,
            actor: Actor::system("bench"),
            sources: ["import:stock.csv", "import:registry.csv", "POST /api/v1/plans", "monitoring", "servicenow"]
                .map(Arc::from)
                .to_vec(),
            registry: VecDeque::new(),
            next_plan: 0,
            committed: VecDeque::new(),
            shipped: VecDeque::new(),
            next_incident: 0,
            open: VecDeque::new(),
            next_log: 0,
        };
        let r = &mut g.registry;
        r.push_back(Event::OrganizationUpserted(g_org(0, None)));
        for o in 1..=ORGS {
            r.push_back(Event::OrganizationUpserted(g_org(o, Some(0))));
        }
        for i in 0..ITEMS {
            r.push_back(Event::ItemUpserted(g_item(i)));
        }
        for i in 0..100 {
            r.push_back(Event::AllowanceSet(Allowance {
                item_id: item(i),
                basis: if i % 2 == 0 { AllowanceBasis::Person } else { AllowanceBasis::PersonDay },
                quantity: Quantity::from_units(1 + i as i64 % 3),
                attributes: Attributes::new(),
            }));
        }
        let mut rng = Rng(7);
        for s in 0..SITES {
            r.push_back(Event::SiteUpserted(g_site(s, &mut rng)));
        }
        for f in 0..FORCES {
            r.push_back(Event::ForceUpserted(g_force(f, &mut rng)));
        }
        for v in 0..VEHICLES {
            r.push_back(Event::VehicleUpserted(g_vehicle(v, &mut rng)));
        }
        for p in 0..PARTNERS {
            r.push_back(Event::PartnerUpserted(Partner {
                id: partner(p),
                name: format!("Partenaire {p}"),
                attributes: Attributes::new(),
            }));
        }
        for a in 0..APPS {
            r.push_back(Event::ApplicationUpserted(Application {
                id: app(a),
                name: format!("Application {a}"),
                suite: ["OMS", "ODS", "INFO", "RES"][a as usize % 4].into(),
                criticality: Criticality::ALL[a as usize % 4],
                partner_id: Some(partner(a % PARTNERS)),
                rollup: if a % 3 == 0 { "min_ok 2".into() } else { String::new() },
                attributes: Attributes::new(),
            }));
        }
        for a in 0..ASSETS {
            r.push_back(Event::AssetUpserted(Asset {
                id: id(AssetId::parse, "PC", a),
                name: format!("Poste {a}"),
                kind: "pc".into(),
                site_id: site(a % SITES),
                application_id: Some(app(a % APPS)),
                attributes: Attributes::new(),
            }));
        }
        for c in 0..CHECKS {
            r.push_back(Event::CheckUpserted(g_check(c)));
        }
        for d in 0..2_000 {
            r.push_back(Event::DependencySet(Dependency {
                child: format!("C{}", d * 10),
                group: format!("SW{}", d % 100),
                parents: vec![format!("C{}", d * 10 + 1), format!("C{}", d * 10 + 2)],
            }));
        }
        for u in 0..USERS {
            r.push_back(Event::UserUpserted(g_user(u)));
        }
        g
    }

    fn envelope(&mut self, source: usize, event: Event) -> Envelope {
        self.seq += 1;
        Envelope {
            seq: self.seq,
            id: uuid::Uuid::nil(),
            time: chrono::DateTime::from_timestamp(
                self.t0 + self.seq as i64 / 100,
                (self.seq % 100) as u32 * 10_000_000,
            )
            .unwrap(),
            actor: self.actor.clone(),
            origin: "bench".into(),
            source: self.sources[source].clone(),
            event,
        }
    }

    fn next(&mut self) -> Envelope {
        if let Some(e) = self.registry.pop_front() {
            return self.envelope(1, e);
        }
        let at = chrono::DateTime::from_timestamp(self.t0 + self.seq as i64 / 100, 0).unwrap();
        let rng = &mut self.rng;
        let r = rng.below(10_000);
        let (source, event) = match r {
            // Monitoring: state changes (the bulk), acknowledgements, windows.
            0..4_000 => {
                let c = rng.below(CHECKS);
                let (from, to) = (status(rng.next()), status(rng.next()));
                (
                    3,
                    Event::CheckStateChanged(CheckStateChange {
                        check_id: check(c),
                        from,
                        to,
                        at,
                        output: format!("HTTP {} - {} ms", [200, 500, 503][c as usize % 3], rng.below(900)),
                        during_maintenance: rng.below(50) == 0,
                        flapping: [None, None, None, Some(true), Some(false)][rng.below(5) as usize],
                        stale: rng.below(100) == 0,
                    }),
                )
            }
            4_000..4_300 => (
                3,
                Event::CheckAcknowledged(CheckAcknowledged {
                    check_id: check(rng.below(CHECKS)),
                    comment: "pris en compte".into(),
                }),
            ),
            4_300..4_350 => {
                let w = rng.below(200);
                (
                    3,
                    Event::MaintenanceScheduled(MaintenanceWindow {
                        id: id(WindowId::parse, "W", w),
                        scope: WindowScope::Site(format!("S{}", w % SITES)),
                        starts_at: at,
                        ends_at: at + chrono::Duration::hours(2),
                        every_hours: w.is_multiple_of(3).then_some(24),
                        reason: "mise à jour".into(),
                    }),
                )
            }
            4_350..4_370 => {
                (3, Event::MaintenanceCancelled(WindowCancelled { id: id(WindowId::parse, "W", rng.below(200)) }))
            }
            // Stock: a site counted again, 100 lines.
            4_370..4_470 => {
                let s = rng.below(SITES);
                let lines = (0..self.lines_per_count)
                    .map(|_| {
                        let i = rng.below(ITEMS);
                        StockLine {
                            item_id: item(i),
                            quantity: Quantity::from_units(rng.below(5_000) as i64),
                            condition: if rng.below(20) == 0 {
                                Condition::Unserviceable
                            } else {
                                Condition::Serviceable
                            },
                            lot: Some(format!("L{}", rng.below(99_999))),
                            expires_on: i.is_multiple_of(4).then(|| {
                                chrono::NaiveDate::from_ymd_opt(2024, 9, 1).unwrap() + chrono::Days::new(rng.below(200))
                            }),
                            counted_at: at,
                            attributes: Attributes::new(),
                        }
                    })
                    .collect();
                (0, Event::StockCounted(StockCount { site_id: site(s), lines }))
            }
            // Plans: committed, then shipped and received, or cancelled.
            4_470..4_520 => {
                let n = self.next_plan;
                self.next_plan += 1;
                self.committed.push_back(n);
                let dest = rng.below(SITES);
                let movements = (0..1 + rng.below(3))
                    .map(|_| Movement {
                        from: site(rng.below(SITES)),
                        item_id: item(rng.below(ITEMS)),
                        quantity: Quantity::from_units(1 + rng.below(50) as i64),
                        vehicle_id: Some(vehicle(rng.below(VEHICLES))),
                    })
                    .collect();
                (
                    2,
                    Event::PlanCommitted(Plan {
                        id: PlanId(format!("P-{n}")),
                        destination: site(dest),
                        movements,
                        vehicles: vec![],
                        purpose: "reinforce".into(),
                        note: String::new(),
                    }),
                )
            }
            4_520..4_570 => {
                let step = |n: u64| PlanStep { plan_id: PlanId(format!("P-{n}")) };
                if self.committed.len() > 20 {
                    let n = self.committed.pop_front().unwrap();
                    if rng.below(5) == 0 {
                        (2, Event::PlanCancelled(step(n)))
                    } else {
                        self.shipped.push_back(n);
                        (2, Event::PlanShipped(step(n)))
                    }
                } else if let Some(n) = self.shipped.pop_front() {
                    (2, Event::PlanReceived(step(n)))
                } else {
                    (2, Event::AccessDenied(denied()))
                }
            }
            // Incidents: versions of the latest 300 (opened one after the other), ~10 versions each.
            4_570..4_770 => {
                if self.open.len() < 300 || rng.below(10) == 0 {
                    self.open.push_back((self.next_incident, 0));
                    self.next_incident += 1;
                    if self.open.len() > 300 {
                        self.open.pop_front();
                    }
                }
                let k = rng.below(self.open.len() as u64) as usize;
                self.open[k].1 += 1;
                let (n, version) = self.open[k];
                (4, Event::IncidentRecorded(Box::new(g_incident(n, version, at))))
            }
            4_770..4_800 => {
                let n = self.next_incident.saturating_sub(1 + rng.below(1_000));
                (
                    4,
                    Event::SlaBreached(SlaBreached {
                        sys_id: sys_id(n),
                        number: format!("INC{n:07}"),
                        clock: if n.is_multiple_of(2) { "response".into() } else { "resolution".into() },
                        at,
                        priority: 1 + (n % 5) as u8,
                    }),
                )
            }
            4_800..4_900 => {
                let n = self.next_incident.saturating_sub(1 + rng.below(300));
                (
                    4,
                    Event::IncidentSynced(IncidentSynced {
                        sys_id: sys_id(n),
                        remote_sys_id: format!("{:032x}", n * 7),
                        sys_mod_count: rng.below(10) as u32,
                        work_notes_pushed: rng.below(3) as u32,
                        comments_pushed: 0,
                    }),
                )
            }
            4_900..4_905 => {
                let n = self.next_incident.saturating_sub(1 + rng.below(5_000));
                (4, Event::IncidentDeleted(IncidentDeleted { sys_id: sys_id(n), number: format!("INC{n:07}") }))
            }
            4_905..4_955 => {
                let n = self.next_log;
                self.next_log += 1;
                (
                    4,
                    Event::LogEntryAdded(LogEntry {
                        id: format!("{:032x}", n),
                        at,
                        shift: "2024-07-26 matin".into(),
                        by: format!("user{}", n % USERS),
                        kind: ["note", "decision", "handover"][n as usize % 3].into(),
                        text: format!("Point de situation n°{n} : renfort demandé au site S{}", n % SITES),
                        incident: if n.is_multiple_of(4) { format!("INC{:07}", n % 10_000) } else { String::new() },
                        site: format!("S{}", n % SITES),
                        handover_of: String::new(),
                    }),
                )
            }
            // Accounts: sessions, tokens, refusals.
            4_955..5_455 => {
                let s = rng.below(1_000);
                let event = if rng.below(2) == 0 {
                    Event::SessionOpened(SessionOpened {
                        user: user(s % USERS),
                        from: "10.0.0.1".into(),
                        id: format!("{s:064x}"),
                    })
                } else {
                    Event::SessionClosed(SessionClosed { id: format!("{s:064x}"), reason: "idle".into() })
                };
                (2, event)
            }
            5_455..5_475 => {
                let t = rng.below(2_000);
                (
                    2,
                    Event::TokenIssued(TokenIssued {
                        id: format!("tok{t}"),
                        user: user(t % USERS),
                        label: "agent".into(),
                        scopes: vec![Permission::MonitoringRead, Permission::MonitoringWrite],
                        expires_at: Some(at + chrono::Duration::days(30)),
                        hash: format!("{t:064x}"),
                        parent: t.is_multiple_of(3).then(|| TokenParent::Session(format!("{:064x}", t % 1_000))),
                    }),
                )
            }
            5_475..5_480 => (2, Event::TokenRevoked(TokenRevoked { id: format!("tok{}", rng.below(2_000)) })),
            5_480..6_000 => (2, Event::AccessDenied(denied())),
            // The registry changes now and then.
            6_000..6_100 => {
                let mut rng2 = Rng(rng.next());
                let e = match rng.below(5) {
                    0 => Event::SiteUpserted(g_site(rng.below(SITES), &mut rng2)),
                    1 => Event::ForceUpserted(g_force(rng.below(FORCES), &mut rng2)),
                    2 => Event::VehicleUpserted(g_vehicle(rng.below(VEHICLES), &mut rng2)),
                    3 => Event::ItemUpserted(g_item(rng.below(ITEMS))),
                    _ => Event::CheckUpserted(g_check(rng.below(CHECKS))),
                };
                (1, e)
            }
            6_100..6_101 => {
                let from = 1 + rng.below(ORGS);
                (
                    2,
                    Event::SupportShifted(SupportShift {
                        from: org(from),
                        to: org(1 + rng.below(ORGS)),
                        sites: (0..3).map(|_| site(rng.below(SITES))).collect(),
                        reason: "renfort".into(),
                    }),
                )
            }
            _ => {
                let c = rng.below(CHECKS);
                (
                    3,
                    Event::CheckStateChanged(CheckStateChange {
                        check_id: check(c),
                        from: status(c),
                        to: status(c + rng.below(2)),
                        at,
                        output: "OK - 12 ms".into(),
                        during_maintenance: false,
                        flapping: None,
                        stale: false,
                    }),
                )
            }
        };
        self.envelope(source, event)
    }
}

fn denied() -> AccessDenied {
    AccessDenied {
        reason: "forbidden".into(),
        from: "10.0.0.9".into(),
        method: "POST".into(),
        path: "/api/v1/plans".into(),
        suppressed: 0,
    }
}

fn g_org(o: u64, parent: Option<u64>) -> Organization {
    Organization {
        id: org(o),
        name: format!("Groupement de soutien {o}"),
        level: if parent.is_none() { OrgLevel::Strategic } else { OrgLevel::Tactical },
        parent_id: parent.map(org),
        attributes: Attributes::new(),
    }
}
fn g_item(i: u64) -> Item {
    Item {
        id: item(i),
        name: format!("Article {i}"),
        category: format!("cat{}", i % 20),
        unit: "pièce".into(),
        unit_mass_kg: 0.1 + (i % 500) as f64 / 10.0,
        unit_volume_m3: (i % 50) as f64 / 100.0,
        attributes: Attributes::new(),
    }
}
fn g_site(s: u64, rng: &mut Rng) -> Site {
    Site {
        id: site(s),
        name: format!("Site {s}"),
        kind: SiteKind::ALL[s as usize % SiteKind::ALL.len()],
        lat: 42.5 + rng.below(8_000) as f64 / 1_000.0,
        lon: -4.5 + rng.below(12_000) as f64 / 1_000.0,
        organization_id: org(1 + rng.below(ORGS)),
        city: format!("Commune {}", s % 300),
        attributes: Attributes::new(),
    }
}
fn g_force(f: u64, rng: &mut Rng) -> Force {
    let start = chrono::NaiveDate::from_ymd_opt(2024, 7, 1).unwrap() + chrono::Days::new(rng.below(20));
    Force {
        id: id(ForceId::parse, "F", f),
        name: format!("Unité {f}"),
        site_id: site(rng.below(SITES)),
        headcount: 50 + rng.below(500) as u32,
        organization_id: org(1 + rng.below(ORGS)),
        starts_on: start,
        ends_on: start + chrono::Days::new(20 + rng.below(20)),
        attributes: Attributes::new(),
    }
}
fn g_vehicle(v: u64, rng: &mut Rng) -> Vehicle {
    Vehicle {
        id: vehicle(v),
        site_id: site(rng.below(SITES)),
        kind: ["truck", "bus", "light"][v as usize % 3].into(),
        seats: [3, 50, 4][v as usize % 3],
        payload_kg: [10_000.0, 1_500.0, 500.0][v as usize % 3],
        cargo_m3: [40.0, 8.0, 1.5][v as usize % 3],
        speed_kmh: Some(80.0),
        condition: if rng.below(10) == 0 { Condition::Unserviceable } else { Condition::Serviceable },
        attributes: Attributes::new(),
    }
}
fn g_check(c: u64) -> Check {
    Check {
        id: check(c),
        target: format!("https://app{}.jo.example/health", c % APPS),
        kind: if c.is_multiple_of(5) { CheckKind::Push } else { CheckKind::Http },
        site_id: Some(site(c % SITES)),
        application_id: Some(app(c % APPS)),
        asset_id: Some(id(AssetId::parse, "PC", c % ASSETS)),
        interval_s: 60,
        timeout_s: 10,
        max_attempts: 3,
        ttl_s: None,
        expect: "200".into(),
        labels: vec![("instance".into(), format!("pc{c}"))],
        tags: vec![format!("zone{}", c % 10)],
        attributes: Attributes::new(),
    }
}
fn g_user(u: u64) -> User {
    let role = [Role::Admin, Role::Strategic, Role::Tactical, Role::Toc, Role::Partner, Role::Viewer][u as usize % 6];
    User {
        name: user(u),
        role,
        organization_id: (role == Role::Tactical).then(|| org(1 + u % ORGS)),
        partner_id: (role == Role::Partner).then(|| partner(u % PARTNERS)),
        password_hash: format!("$argon2id$v=19$m=19456,t=2,p=1${u:022x}${u:043x}"),
        disabled: false,
    }
}
fn g_incident(n: u64, version: u32, at: chrono::DateTime<chrono::Utc>) -> Incident {
    let state = match version {
        0..=1 => IncidentState::New,
        2..=6 => IncidentState::InProgress,
        7 => IncidentState::OnHold,
        8..=10 => IncidentState::Resolved,
        _ => IncidentState::Closed,
    };
    let opened = chrono::DateTime::from_timestamp(1_721_000_000 + n as i64 * 60, 0).unwrap();
    let notes = |k: u32| {
        (0..k.min(4)).map(|i| Entry { at: opened, by: "toc".into(), text: format!("note {i} : relance du partenaire") })
    };
    Incident {
        sys_id: sys_id(n),
        number: format!("INC{n:07}"),
        short_description: format!("Application {} indisponible au site S{}", n % APPS, n % SITES),
        description: "Les postes du site ne joignent plus l'application.".into(),
        state,
        hold_reason: if state == IncidentState::OnHold { "4".into() } else { String::new() },
        impact: 1 + (n % 3) as u8,
        urgency: 1 + (n / 3 % 3) as u8,
        priority: 1 + ((n + version as u64 / 4) % 5) as u8,
        category: "application".into(),
        assignment_group: format!("PARTNER{}", n % PARTNERS),
        assigned_to: format!("user{}", n % USERS),
        caller_id: "toc".into(),
        cmdb_ci: format!("APP{}", n % APPS),
        location: format!("S{}", n % SITES),
        parent_incident: String::new(),
        correlation_id: format!("S{}|APP{}", n % SITES, n % APPS),
        alerts: vec![format!("C{}", n % CHECKS)],
        major_incident_state: if n.is_multiple_of(50) { "accepted".into() } else { String::new() },
        crisis_lead: String::new(),
        communication_lead: String::new(),
        plan_id: String::new(),
        review_summary: String::new(),
        review_actions: vec![],
        close_code: if state.is_open() { String::new() } else { "Solved (Permanently)".into() },
        close_notes: String::new(),
        opened_at: opened,
        resolved_at: (!state.is_open()).then_some(at),
        closed_at: state.is_final().then_some(at),
        sys_mod_count: version,
        sys_created_on: opened,
        sys_created_by: "system:alerts".into(),
        sys_updated_on: at,
        sys_updated_by: "toc".into(),
        work_notes: notes(version / 2).collect(),
        comments: notes(version / 4).collect(),
    }
}

fn p50(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

fn main() {
    let env = |k: &str, d: usize| std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d);
    let n = env("VIGIE_BENCH_EVENTS", 10_000_000);
    let tail = env("VIGIE_BENCH_TAIL", 100_000).min(n);
    let runs = env("VIGIE_BENCH_RUNS", 5).max(1);
    let lines_per_count = env("VIGIE_BENCH_LINES", 100) as u64;
    let cut = n - tail;

    // The full replay (baseline), timing `apply_owned` only (events are generated in chunks, not timed); the
    // first run also takes the snapshot at the cut and keeps the tail.
    let mut replays = Vec::new();
    let mut snap = Vec::new();
    let mut tail_events = Vec::with_capacity(tail);
    let mut full = State::new();
    let mut encode_first = Duration::ZERO;
    for run in 0..runs.min(3) {
        let mut g = Gen::new(lines_per_count);
        let mut st = State::new();
        let mut chunk = Vec::with_capacity(1 << 16);
        let mut spent = Duration::ZERO;
        let mut done = 0;
        while done < n {
            let upto = if done < cut { cut } else { n };
            chunk.clear();
            chunk.extend((done..upto.min(done + (1 << 16))).map(|_| g.next()));
            done += chunk.len();
            if run == 0 && done > cut {
                tail_events.extend(chunk.iter().cloned());
            }
            let t = Instant::now();
            for e in chunk.drain(..) {
                st.apply_owned(e);
            }
            spent += t.elapsed();
            if run == 0 && done == cut {
                let t = Instant::now();
                snap = snapshot::encode(&st);
                encode_first = t.elapsed();
            }
        }
        replays.push(spent);
        if run == 0 {
            full = st;
        }
    }
    let replay = p50(replays.clone());

    // Encode and decode the snapshot at the cut; decode it and replay the tail.
    let mut decodes = Vec::new();
    let mut encodes = vec![encode_first];
    let mut resumes = Vec::new();
    for run in 0..runs {
        let t = Instant::now();
        let st = snapshot::decode(&snap).expect("the snapshot decodes");
        decodes.push(t.elapsed());
        let t = Instant::now();
        let again = snapshot::encode(&st);
        encodes.push(t.elapsed());
        assert!(again == snap, "encoding is deterministic");
        drop(again);
        drop(st);

        let t = Instant::now();
        let mut st = snapshot::decode(&snap).unwrap();
        for e in tail_events.iter().cloned() {
            st.apply_owned(e);
        }
        resumes.push(t.elapsed());
        if run == 0 {
            assert!(st == full, "snapshot + tail gives the full replay");
        }
    }
    let (encode, decode, resume) = (p50(encodes), p50(decodes), p50(resumes));

    let c = full.counts();
    println!("# snapshot benchmark: {n} events, snapshot at event {cut}, tail of {tail} events, p50 of {runs} runs");
    println!(
        "# state: {} organisations, {} sites, {} items, {} stock lines, {} forces, {} vehicles, {} checks, {} \
         incidents, {} plans, {} log entries, {} users, {} tokens",
        c.organizations,
        c.sites,
        c.items,
        c.stock_lines,
        c.forces,
        c.vehicles,
        c.checks,
        c.incidents,
        full.plans.len(),
        c.log_entries,
        full.accounts.users.len(),
        full.accounts.tokens.len()
    );
    let mib = snap.len() as f64 / (1024.0 * 1024.0);
    println!("{:<44} {:>12} bytes ({mib:.1} MiB)", "snapshot size", snap.len());
    println!("{:<44} {:>12}  ({:.0} MiB/s)", "encode", secs(encode), mib / encode.as_secs_f64());
    println!(
        "{:<44} {:>12}  ({:.0} MiB/s) | baseline full replay: {} | ratio {:.1}×",
        "decode",
        secs(decode),
        mib / decode.as_secs_f64(),
        secs(replay),
        replay.as_secs_f64() / decode.as_secs_f64()
    );
    println!(
        "{:<44} {:>12}  | baseline full replay: {} | ratio {:.1}× (goal: well under 2 s)",
        format!("decode + replay of the last {tail} events"),
        secs(resume),
        secs(replay),
        replay.as_secs_f64() / resume.as_secs_f64()
    );
    println!(
        "{:<44} {:>12}  | {:.0} events/s; runs: {:?}",
        "baseline: full replay in memory (apply_owned)",
        secs(replay),
        n as f64 / replay.as_secs_f64(),
        replays.iter().map(|d| format!("{:.2}", d.as_secs_f64())).collect::<Vec<_>>()
    );
}
