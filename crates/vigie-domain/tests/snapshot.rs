//! Snapshots of the projection (`vigie_domain::snapshot`): a snapshot never changes an answer, and bytes that are
//! not a snapshot of this format are refused without panicking.
//!
//! The journals are random, of every kind of event, with ids drawn from small pools so that events keep touching
//! the same records (a plan ships from a site counted before, a token dies with its parent, an incident is
//! recorded again and deleted…).

use chrono::{DateTime, NaiveDate, Utc};
use proptest::prelude::*;
use std::collections::BTreeMap;
use vigie_domain::access::*;
use vigie_domain::health::Status;
use vigie_domain::itsm::*;
use vigie_domain::plan::*;
use vigie_domain::snapshot::{self, SnapshotError, FORMAT};
use vigie_domain::toc::*;
use vigie_domain::*;

// ---- Random journals ----

/// One event to build: its kind and a few numbers the builder draws everything else from.
type Op = (u8, u16, u16, u16, u32);

const KINDS: u8 = 56;

fn pick<'a>(pool: &[&'a str], n: u16) -> &'a str {
    pool[n as usize % pool.len()]
}

const ORGS: &[&str] = &["CPCO", "GS-IDF", "GS-MRS", "GS-IDF-EST", "GS-LYS"];
const SITES: &[&str] = &["VIN", "MLV", "AUB", "STA", "MRS", "LYS-1", "ORY"];
const ITEMS: &[&str] = &["EAU", "RATION", "LIT", "CASQUE", "GILET", "TENTE"];
const FORCES: &[&str] = &["F1", "F2", "F3", "F4"];
const VEHICLES: &[&str] = &["V1", "V2", "V3", "V4"];
const PLANS: &[&str] = &["P-1", "P-2", "P-3", "P-4", "P-5"];
const PARTNERS: &[&str] = &["ATOS", "ORANGE", "CISCO"];
const APPS: &[&str] = &["OMS", "ODS", "INFO", "RES"];
const ASSETS: &[&str] = &["PC-1", "PC-2", "SRV-1", "SW-1"];
const CHECKS: &[&str] = &["C-PING", "C-HTTP", "C-DISK", "C-CPU", "C-AM", "C-TCP"];
const WINDOWS: &[&str] = &["W1", "W2", "W3"];
const PEOPLE: &[&str] = &["ana", "bob", "cyr", "dan"];
const TEAMS: &[&str] = &["ATOS-N1", "TOC-DESK", "GS-IDF-PERM"];
const USERS: &[&str] = &["alice", "bob", "carol", "dave"];
const TOKENS: &[&str] = &["t1", "t2", "t3", "t4", "t5"];
const SESSIONS: &[&str] = &["s1", "s2", "s3", ""];
const SOURCES: &[&str] = &["import:demo/stock.csv", "POST /api/v1/plans", "cli", "monitoring"];
const ACTORS: &[&str] = &["system:demo", "user:alice", "user:bob/token:t1", "cli:root"];
const TEXTS: &[&str] = &["", "Stade de France", "Village olympique", "Dépôt — nord", "x"];
const ZONES: &[&str] = &["STA-RES", "STA-PRESSE", "MRS-RES"];
const TASKS: &[&str] = &["T-TABLES", "T-POWER", "T-NET", "T-PC", "T-IMG", "T-TEST"];
const COMPUTERS: &[&str] = &["SN-1", "SN-2", "SN-3", "SN-4"];

fn zone(n: u16) -> ZoneId {
    ZoneId::parse(pick(ZONES, n)).unwrap()
}
fn task(n: u16) -> TaskId {
    TaskId::parse(pick(TASKS, n)).unwrap()
}

fn org(n: u16) -> OrgId {
    OrgId::parse(pick(ORGS, n)).unwrap()
}
fn site(n: u16) -> SiteId {
    SiteId::parse(pick(SITES, n)).unwrap()
}
fn item(n: u16) -> ItemId {
    ItemId::parse(pick(ITEMS, n)).unwrap()
}
fn vehicle(n: u16) -> VehicleId {
    VehicleId::parse(pick(VEHICLES, n)).unwrap()
}
fn plan_id(n: u16) -> PlanId {
    PlanId(pick(PLANS, n).into())
}
fn check(n: u16) -> CheckId {
    CheckId::parse(pick(CHECKS, n)).unwrap()
}
fn app(n: u16) -> ApplicationId {
    ApplicationId::parse(pick(APPS, n)).unwrap()
}
fn user(n: u16) -> UserName {
    UserName::parse(pick(USERS, n)).unwrap()
}
fn sys_id(n: u16) -> String {
    format!("{:032x}", 0xabc0 + n as u32 % 5)
}
fn text(n: u16) -> String {
    pick(TEXTS, n).to_string()
}
fn attrs(n: u16) -> Attributes {
    let mut a = Attributes::new();
    if n.is_multiple_of(3) {
        a.insert("note".into(), text(n / 3));
    }
    if n.is_multiple_of(5) {
        a.insert("owner".into(), "SSA".into());
    }
    a
}
fn instant(s: u32) -> DateTime<Utc> {
    // Some with nanoseconds, to be exact beyond the second.
    DateTime::from_timestamp(
        1_721_000_000 + (s % 200_000) as i64,
        if s.is_multiple_of(7) { s % 1_000_000_000 } else { 0 },
    )
    .unwrap()
}
fn day(n: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 7, 1).unwrap() + chrono::Days::new((n % 60) as u64)
}
fn status(n: u16) -> Status {
    [Status::Ok, Status::Warning, Status::Critical, Status::Unknown][n as usize % 4]
}
fn q(n: u32) -> Quantity {
    Quantity::from_milli((n % 100_000) as i64 * if n.is_multiple_of(10) { 1 } else { 1000 })
}

fn stock_line(a: u16, b: u16, c: u32) -> StockLine {
    StockLine {
        item_id: item(a),
        quantity: q(c),
        condition: if b.is_multiple_of(4) { Condition::Unserviceable } else { Condition::Serviceable },
        lot: b.is_multiple_of(2).then(|| format!("L{}", c % 1000)),
        expires_on: a.is_multiple_of(3).then(|| day(c / 7)),
        counted_at: instant(c / 3),
        attributes: attrs(b),
    }
}

fn incident(a: u16, b: u16, c: u16, d: u32) -> Incident {
    let state = IncidentState::ALL[a as usize % 6];
    let entries = |n: u16| {
        (0..n % 3).map(|i| Entry { at: instant(d + i as u32), by: "alice".into(), text: text(i) }).collect::<Vec<_>>()
    };
    Incident {
        sys_id: sys_id(a),
        number: format!("INC{:07}", b % 50),
        short_description: text(b),
        description: text(c),
        state,
        hold_reason: if state == IncidentState::OnHold { "1".into() } else { String::new() },
        impact: (b % 3 + 1) as u8,
        urgency: (c % 3 + 1) as u8,
        priority: (c % 5 + 1) as u8,
        category: "network".into(),
        assignment_group: pick(PARTNERS, c).into(),
        assigned_to: String::new(),
        caller_id: "bob".into(),
        cmdb_ci: pick(APPS, b).into(),
        location: pick(SITES, c).into(),
        parent_incident: String::new(),
        correlation_id: format!("{}|{}", pick(SITES, c), pick(APPS, b)),
        alerts: (0..c % 3).map(|i| pick(CHECKS, i).to_string()).collect(),
        major_incident_state: ["", "proposed", "accepted", "rejected"][b as usize % 4].into(),
        crisis_lead: String::new(),
        communication_lead: String::new(),
        plan_id: if c.is_multiple_of(4) { pick(PLANS, b).into() } else { String::new() },
        review_summary: String::new(),
        review_actions: (0..b % 2)
            .map(|_| ReviewAction { text: "secours".into(), owner: "ATOS".into(), done: c.is_multiple_of(2) })
            .collect(),
        close_code: String::new(),
        close_notes: String::new(),
        opened_at: instant(d / 2),
        resolved_at: (!state.is_open()).then(|| instant(d)),
        closed_at: state.is_final().then(|| instant(d + 1)),
        sys_mod_count: c as u32,
        sys_created_on: instant(d / 2),
        sys_created_by: "alice".into(),
        sys_updated_on: instant(d),
        sys_updated_by: "bob".into(),
        work_notes: entries(b),
        comments: entries(c),
    }
}

/// The event an op stands for.
fn event((kind, a, b, c, d): Op) -> Event {
    match kind % KINDS {
        0 => Event::OrganizationUpserted(Organization {
            id: org(a),
            name: text(b),
            level: if a == 0 { OrgLevel::Strategic } else { OrgLevel::Tactical },
            parent_id: (b % 4 != 0).then(|| org(c)),
            attributes: attrs(c),
        }),
        1 | 2 => Event::SiteUpserted(Site {
            id: site(a),
            name: text(b),
            kind: SiteKind::ALL[c as usize % SiteKind::ALL.len()],
            lat: 42.0 + (d % 800) as f64 / 100.0,
            lon: -4.0 + (d % 1200) as f64 / 100.0,
            organization_id: org(b),
            city: text(c),
            attributes: attrs(b),
        }),
        3 => Event::ItemUpserted(Item {
            id: item(a),
            name: text(b),
            category: "vivres".into(),
            unit: "pièce".into(),
            unit_mass_kg: (d % 1000) as f64 / 10.0,
            unit_volume_m3: (d % 100) as f64 / 1000.0,
            attributes: attrs(c),
        }),
        4..=6 => Event::StockCounted(StockCount {
            site_id: site(a),
            lines: (0..b % 5)
                .map(|i| stock_line(c.wrapping_add(i * 7), b.wrapping_add(i), d.wrapping_add(i as u32)))
                .collect(),
        }),
        7 => Event::ForceUpserted(Force {
            id: ForceId::parse(pick(FORCES, a)).unwrap(),
            name: text(b),
            site_id: site(b),
            headcount: d % 500,
            organization_id: org(c),
            starts_on: day(d),
            ends_on: day(d + 10),
            attributes: attrs(c),
        }),
        8 => Event::AllowanceSet(Allowance {
            item_id: item(a),
            basis: if b % 2 == 0 { AllowanceBasis::Person } else { AllowanceBasis::PersonDay },
            quantity: q(d),
            attributes: attrs(c),
        }),
        9 => Event::VehicleUpserted(Vehicle {
            id: vehicle(a),
            site_id: site(b),
            kind: ["truck", "bus", "light"][c as usize % 3].into(),
            seats: d % 50,
            payload_kg: (d % 10_000) as f64,
            cargo_m3: (d % 40) as f64,
            speed_kmh: (c % 2 == 0).then_some(80.0),
            condition: if c % 5 == 0 { Condition::Unserviceable } else { Condition::Serviceable },
            attributes: attrs(b),
        }),
        10 | 11 => Event::PlanCommitted(Plan {
            id: plan_id(a),
            destination: site(b),
            movements: (0..1 + c % 3)
                .map(|i| Movement {
                    from: site(b.wrapping_add(1 + i)),
                    item_id: item(c.wrapping_add(i)),
                    quantity: q(d.wrapping_add(i as u32)),
                    vehicle_id: (i % 2 == 0).then(|| vehicle(c.wrapping_add(i))),
                })
                .collect(),
            vehicles: (0..c % 2).map(|i| vehicle(a.wrapping_add(i))).collect(),
            purpose: "reinforce".into(),
            note: text(c),
        }),
        12 | 13 => Event::PlanShipped(PlanStep { plan_id: plan_id(a) }),
        14 => Event::PlanReceived(PlanStep { plan_id: plan_id(a) }),
        15 => Event::PlanCancelled(PlanStep { plan_id: plan_id(a) }),
        16 => Event::SupportShifted(SupportShift {
            from: org(a),
            to: org(b),
            sites: (0..c % 3).map(|i| site(c.wrapping_add(i))).collect(),
            reason: text(b),
        }),
        17 => Event::PartnerUpserted(Partner {
            id: PartnerId::parse(pick(PARTNERS, a)).unwrap(),
            name: text(b),
            attributes: attrs(c),
        }),
        18 => Event::ApplicationUpserted(Application {
            id: app(a),
            name: text(b),
            suite: "OMS".into(),
            criticality: Criticality::ALL[c as usize % 4],
            partner_id: (b % 3 != 0).then(|| PartnerId::parse(pick(PARTNERS, b)).unwrap()),
            rollup: ["", "worst", "min_ok 2", "percent 80 50"][c as usize % 4].into(),
            attributes: attrs(c),
        }),
        19 => Event::AssetUpserted(Asset {
            id: AssetId::parse(pick(ASSETS, a)).unwrap(),
            name: text(b),
            kind: "pc".into(),
            site_id: site(b),
            application_id: (c % 2 == 0).then(|| app(c)),
            attributes: attrs(b),
        }),
        20 => Event::CheckUpserted(Check {
            id: check(a),
            target: "https://oms.example/health".into(),
            kind: CheckKind::ALL[b as usize % 4],
            site_id: (c % 2 == 0).then(|| site(c)),
            application_id: (c % 3 != 0).then(|| app(b)),
            asset_id: (b % 2 == 0).then(|| AssetId::parse(pick(ASSETS, c)).unwrap()),
            interval_s: 10 + d % 300,
            timeout_s: 5,
            max_attempts: (1 + c % 4) as u8,
            ttl_s: (d % 2 == 0).then_some(d % 1000),
            expect: if b % 2 == 0 { "200".into() } else { String::new() },
            labels: (0..c % 3).map(|i| (format!("k{i}"), text(i))).collect(),
            tags: (0..b % 3).map(|i| format!("tag{i}")).collect(),
            attributes: attrs(c),
        }),
        21 => Event::DependencySet(Dependency {
            child: pick(CHECKS, a).into(),
            group: pick(ASSETS, b).into(),
            // None: the dependency is removed.
            parents: (0..c % 3).map(|i| pick(ASSETS, b.wrapping_add(i)).to_string()).collect(),
        }),
        22 => Event::MaintenanceScheduled(MaintenanceWindow {
            id: WindowId::parse(pick(WINDOWS, a)).unwrap(),
            scope: match b % 5 {
                0 => WindowScope::Site(pick(SITES, c).into()),
                1 => WindowScope::Application(pick(APPS, c).into()),
                2 => WindowScope::Asset(pick(ASSETS, c).into()),
                3 => WindowScope::Check(pick(CHECKS, c).into()),
                _ => WindowScope::Tag("tag1".into()),
            },
            starts_at: instant(d),
            ends_at: instant(d + 3600),
            every_hours: (c % 2 == 0).then_some(24),
            reason: text(c),
        }),
        23 => Event::MaintenanceCancelled(WindowCancelled { id: WindowId::parse(pick(WINDOWS, a)).unwrap() }),
        24..=26 => Event::CheckStateChanged(CheckStateChange {
            check_id: check(a),
            from: status(b),
            to: status(c),
            at: instant(d),
            output: text(b),
            during_maintenance: d % 5 == 0,
            flapping: [None, Some(true), Some(false)][d as usize % 3],
            stale: c % 7 == 0,
        }),
        27 => Event::CheckAcknowledged(CheckAcknowledged { check_id: check(a), comment: text(b) }),
        28 | 29 => Event::IncidentRecorded(Box::new(incident(a, b, c, d))),
        30 => Event::IncidentDeleted(IncidentDeleted { sys_id: sys_id(a), number: format!("INC{:07}", b % 50) }),
        31 => Event::LogEntryAdded(LogEntry {
            id: format!("{:032x}", d),
            at: instant(d),
            shift: "2024-07-26 matin".into(),
            by: "alice".into(),
            kind: ["note", "decision", "handover", "signature"][b as usize % 4].into(),
            text: text(c),
            incident: if c % 2 == 0 { format!("INC{:07}", b % 50) } else { String::new() },
            site: if b % 3 == 0 { pick(SITES, c).into() } else { String::new() },
            handover_of: String::new(),
        }),
        32 => Event::IncidentSynced(IncidentSynced {
            sys_id: sys_id(a),
            remote_sys_id: format!("{:032x}", d),
            sys_mod_count: b as u32,
            work_notes_pushed: (c % 3) as u32,
            comments_pushed: (b % 2) as u32,
        }),
        33 => Event::SlaBreached(SlaBreached {
            sys_id: sys_id(a),
            number: format!("INC{:07}", b % 50),
            clock: if c % 2 == 0 { "response".into() } else { "resolution".into() },
            at: instant(d),
            priority: (b % 5 + 1) as u8,
        }),
        34 => {
            let role = Role::ALL[b as usize % Role::ALL.len()];
            Event::UserUpserted(User {
                name: user(a),
                role,
                organization_id: (role == Role::Tactical).then(|| org(c)),
                partner_id: (role == Role::Partner).then(|| PartnerId::parse(pick(PARTNERS, c)).unwrap()),
                password_hash: format!("$argon2id$v=19${d}"),
                disabled: c % 5 == 0,
            })
        }
        35 => Event::TokenIssued(TokenIssued {
            id: pick(TOKENS, a).into(),
            user: user(b),
            label: text(c),
            scopes: Permission::ALL.iter().copied().filter(|p| (*p as u32 + d).is_multiple_of(3)).collect(),
            expires_at: (d % 2 == 0).then(|| instant(d)),
            hash: format!("{d:064x}"),
            parent: match c % 3 {
                0 => None,
                1 => Some(TokenParent::Token(pick(TOKENS, b).into())),
                _ => Some(TokenParent::Session(pick(SESSIONS, b).into())),
            },
        }),
        36 => Event::TokenRevoked(TokenRevoked { id: pick(TOKENS, a).into() }),
        37 => Event::SessionOpened(SessionOpened {
            user: user(a),
            from: "127.0.0.1".into(),
            id: pick(SESSIONS, b).into(),
        }),
        38 => Event::SessionClosed(SessionClosed { id: pick(SESSIONS, a).into(), reason: "signed out".into() }),
        40 => Event::ZoneUpserted(vigie_domain::readiness::Zone {
            id: zone(a),
            site_id: site(b),
            name: text(c),
            kind: if d % 2 == 0 { "results_room".into() } else { String::new() },
            image: if d % 3 == 0 { "ODS-RES 4.2".into() } else { String::new() },
            deadline: (d % 4 == 0).then(|| instant(d)),
            attributes: attrs(c),
        }),
        41 => Event::TaskUpserted(vigie_domain::readiness::Task {
            id: task(a),
            site_id: site(b),
            zone_id: zone(c),
            name: text(b),
            trade: vigie_domain::readiness::Trade::ALL[d as usize % vigie_domain::readiness::Trade::ALL.len()],
            owner: PartnerId::parse(pick(PARTNERS, c)).unwrap(),
            duration_min: d % 600,
            due: (d % 2 == 1).then(|| instant(d)),
            plan_id: (d % 3 == 0).then(|| plan_id(b)),
            attributes: attrs(a),
        }),
        42 => Event::TaskLinked(vigie_domain::readiness::TaskLink {
            before: task(a),
            after: task(b),
            lag_min: d % 120,
            removed: c % 5 == 0,
        }),
        43 | 44 => Event::TaskProgressed(vigie_domain::readiness::TaskProgress {
            task_id: task(a),
            status: vigie_domain::readiness::TaskStatus::ALL
                [b as usize % vigie_domain::readiness::TaskStatus::ALL.len()],
            reason: text(c),
            evidence: text(b),
            overridden: (0..c % 3).map(|i| task(d as u16 ^ i)).collect(),
        }),
        45 => Event::ComputerUpserted(vigie_domain::readiness::Computer {
            id: ComputerId::parse(pick(COMPUTERS, a)).unwrap(),
            model: "HP EliteDesk".into(),
            site_id: site(b),
            zone_id: (c % 3 != 0).then(|| zone(c)),
            role: if d % 2 == 0 {
                vigie_domain::readiness::ComputerRole::Critical
            } else {
                vigie_domain::readiness::ComputerRole::Provider
            },
            image: if d % 4 == 0 { String::new() } else { "ODS-RES".into() },
            image_version: if d % 3 == 0 { "4.1".into() } else { "4.2".into() },
            state: vigie_domain::readiness::DeploymentState::ALL
                [d as usize % vigie_domain::readiness::DeploymentState::ALL.len()],
            asset_id: (b % 2 == 0).then(|| AssetId::parse(pick(ASSETS, b)).unwrap()),
            attributes: attrs(b),
        }),
        46 => Event::PersonUpserted(vigie_domain::oncall::Person {
            id: PersonId::parse(pick(PEOPLE, a)).unwrap(),
            name: text(b),
            email: if c % 2 == 0 { "ana@example.org".into() } else { String::new() },
            mobile: if d % 2 == 0 { "+33612345678".into() } else { String::new() },
            chat: text(c),
            partner_id: (b % 3 == 0).then(|| PartnerId::parse(pick(PARTNERS, b)).unwrap()),
            organization_id: (c % 3 == 1).then(|| OrgId::parse(pick(ORGS, c)).unwrap()),
            attributes: attrs(d as u16),
        }),
        47 => Event::TeamUpserted(vigie_domain::oncall::Team {
            id: TeamId::parse(pick(TEAMS, a)).unwrap(),
            name: text(b),
            partner_id: (b % 2 == 0).then(|| PartnerId::parse(pick(PARTNERS, b)).unwrap()),
            site_id: (c % 2 == 0).then(|| site(c)),
            organization_id: (d % 3 == 0).then(|| OrgId::parse(pick(ORGS, c)).unwrap()),
            attributes: attrs(a),
        }),
        48 => Event::RotationSet(vigie_domain::oncall::Rotation {
            team_id: TeamId::parse(pick(TEAMS, a)).unwrap(),
            level: (b % 3) as u8 + 1,
            period: vigie_domain::oncall::Period::ALL[c as usize % vigie_domain::oncall::Period::ALL.len()],
            starts_at: instant(d),
            people: (0..c % 4).map(|i| PersonId::parse(pick(PEOPLE, a ^ i)).unwrap()).collect(),
        }),
        49 => Event::OverrideSet(vigie_domain::oncall::Override {
            team_id: TeamId::parse(pick(TEAMS, a)).unwrap(),
            level: (b % 2) as u8 + 1,
            from: instant(d % 4),
            until: instant(d % 4 + 8),
            person_id: PersonId::parse(pick(PEOPLE, c)).unwrap(),
            reason: text(b),
            removed: c % 4 == 0,
        }),
        50 => Event::NotificationQueued(vigie_domain::notify::Notification {
            id: format!("N-INC{:07}-{}", a % 5, b % 2 + 1),
            sys_id: sys_id(a),
            number: format!("INC{:07}", a % 5),
            team_id: TeamId::parse(pick(TEAMS, b)).unwrap(),
            level: (b % 2) as u8 + 1,
            person_id: PersonId::parse(pick(PEOPLE, c)).unwrap(),
            channel: vigie_domain::notify::Channel::Email,
            to: "ana@example.org".into(),
            subject: text(c),
            body: text(d as u16),
            why: if d % 2 == 0 { "opened".into() } else { "escalated".into() },
        }),
        51 => Event::NotificationSent(vigie_domain::notify::NotificationSent {
            id: format!("N-INC{:07}-{}", a % 5, b % 2 + 1),
            detail: text(c),
        }),
        52 => Event::NotificationFailed(vigie_domain::notify::NotificationFailed {
            id: format!("N-INC{:07}-{}", a % 5, b % 2 + 1),
            error: text(c),
            retry_at: (d % 2 == 0).then(|| instant(d)),
        }),
        53 => Event::IncidentAcknowledged(vigie_domain::notify::Acknowledged {
            sys_id: sys_id(a),
            person_id: (b % 2 == 0).then(|| PersonId::parse(pick(PEOPLE, c)).unwrap()),
            via: "api".into(),
        }),
        54 => Event::ReportDrafted(vigie_domain::report::ReportDrafted {
            id: format!("LOGSTAT-{}", a % 3),
            version: u32::from(b % 4) + 1,
            kind: if c % 2 == 0 { "logstat" } else { "sitrep" }.into(),
            at: instant(d),
            seq: u64::from(a),
            organization_id: (b % 2 == 0).then(|| "GS-IDF".to_string()),
            since: (c % 3 == 0).then(|| instant(u32::from(c))),
            parts: if c % 2 == 0 { vec![] } else { vec!["it".into(), "logistics".into()] },
            digest: format!("{:064x}", a),
            summary: text(b),
            note: text(c),
        }),
        55 => Event::ReportReviewed(vigie_domain::report::ReportReviewed {
            id: format!("LOGSTAT-{}", a % 3),
            version: u32::from(b % 4) + 1,
            decision: ["approved", "published", "rejected"][c as usize % 3].into(),
            note: text(d as u16),
        }),
        _ => Event::AccessDenied(AccessDenied {
            reason: "forbidden".into(),
            from: "127.0.0.1".into(),
            method: "POST".into(),
            path: "/api/v1/plans".into(),
            suppressed: d as u64 % 3,
        }),
    }
}

fn journal(ops: &[Op]) -> Vec<Envelope> {
    ops.iter()
        .enumerate()
        .map(|(i, &op)| {
            let seq = i as u64 + 1;
            Envelope {
                seq,
                id: uuid::Uuid::nil(),
                time: DateTime::from_timestamp(1_722_000_000 + seq as i64 * 7, (op.4 % 3) * 1000).unwrap(),
                actor: Actor::parse(pick(ACTORS, op.1 ^ op.2)).unwrap(),
                origin: "n1".into(),
                source: pick(SOURCES, op.3 / 3).into(),
                event: event(op),
            }
        })
        .collect()
}

fn replay(events: &[Envelope]) -> State {
    let mut st = State::new();
    for e in events {
        st.apply(e);
    }
    st
}

// ---- Comparisons ----

/// The answers of the state's public reads, as text: what a caller can see of it.
fn answers(st: &State) -> String {
    let mut out = String::new();
    let mut say = |what: &str, v: &dyn std::fmt::Debug| out.push_str(&format!("{what}: {v:?}\n"));
    say("counts", &st.counts());
    say("last_seq", &st.last_seq);
    say("stock", &st.stock_iter().collect::<Vec<_>>());
    for s in SITES {
        say(s, &st.stock_of(s));
        say("slot", &st.site_slots.get(s));
    }
    for i in ITEMS {
        let id = ItemId::parse(i).unwrap();
        let lines: Vec<_> =
            st.item_lines(&id).iter().map(|l| (*l, l.counted_at(), l.serviceable_on(day(20)))).collect();
        say(i, &lines);
        for slot in 0..st.site_slots.len() as u32 {
            say("at", &(slot, st.reserved_at(&id, slot), st.reserved_for(&id, slot), st.in_transit_to(&id, slot)));
        }
    }
    for o in ORGS {
        let id = OrgId::parse(o).unwrap();
        let mut children = st.org_and_children(&id);
        children.sort();
        say(o, &children);
        if let Some(slot) = st.org_slots.get(o) {
            say("subtree", &st.org_subtree(slot));
        }
    }
    for t in TOKENS {
        say(t, &[instant(0), instant(100_000), instant(199_999)].map(|now| st.accounts.token_valid(t, now)));
    }
    // The API's JSON of every record.
    let json = serde_json::json!({
        "organizations": st.organizations, "sites": st.sites, "items": st.items, "forces": st.forces,
        "allowances": st.allowances.values().collect::<Vec<_>>(), "vehicles": st.vehicles, "plans": st.plans,
        "partners": st.toc.partners, "applications": st.toc.applications, "assets": st.toc.assets,
        "checks": st.toc.checks, "windows": st.toc.windows, "incidents": st.incidents, "log": st.log,
        "hard": st.toc.hard.iter().collect::<BTreeMap<_, _>>(), "acks": st.toc.acks.iter().collect::<BTreeMap<_, _>>(),
        "history": st.toc.history, "timeline": st.incident_timeline, "sync": st.incident_sync,
    });
    say("json", &json.to_string());
    say("engaged", &st.engaged);
    say("site_facts", &st.site_facts);
    say("holds", &st.vehicle_holds.iter().collect::<BTreeMap<_, _>>());
    out
}

/// Equal in every field (private indexes included) and in every answer.
fn same(got: &State, want: &State, what: &str) -> Result<(), TestCaseError> {
    prop_assert_eq!(answers(got), answers(want), "{}: answers differ", what);
    prop_assert!(got == want, "{}: states differ field by field\n got: {:?}\nwant: {:?}", what, got, want);
    Ok(())
}

fn ops(max: usize) -> impl Strategy<Value = Vec<Op>> {
    proptest::collection::vec((0..KINDS, any::<u16>(), any::<u16>(), any::<u16>(), any::<u32>()), 0..max)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Replaying a journal, or loading a snapshot of its first k events and replaying the rest, gives the same
    /// state; and so does a second snapshot taken further on, from the state the first one gave.
    #[test]
    fn a_snapshot_and_the_tail_give_the_full_replay(ops in ops(160), cut1 in 0.0..=1.0f64, cut2 in 0.0..=1.0f64) {
        let events = journal(&ops);
        let full = replay(&events);
        let (k1, k2) = {
            let (a, b) = ((cut1 * events.len() as f64) as usize, (cut2 * events.len() as f64) as usize);
            (a.min(b), a.max(b))
        };
        let head = replay(&events[..k1]);
        let bytes = snapshot::encode(&head);
        prop_assert_eq!(snapshot::peek(&bytes).unwrap(), (FORMAT, k1 as u64));
        let mut st = snapshot::decode(&bytes).unwrap();
        same(&st, &head, "decoded")?;
        prop_assert!(snapshot::encode(&st) == bytes, "encoding is deterministic and covers what decoding reads");

        for e in &events[k1..k2] {
            st.apply(e);
        }
        let mut st = snapshot::decode(&snapshot::encode(&st)).unwrap();
        same(&st, &replay(&events[..k2]), "second snapshot")?;
        for e in events[k2..].iter().cloned() {
            st.apply_owned(e);
        }
        same(&st, &full, "snapshot + tail")?;
    }

    /// A body altered and sealed again with a correct checksum (what only a bug or a forger makes) is decoded or
    /// refused, never a panic; what decodes encodes again.
    #[test]
    fn an_altered_body_with_a_valid_checksum_never_panics(
        ops in ops(60),
        edits in proptest::collection::vec((any::<u32>(), any::<u8>(), 0u8..4), 1..6),
    ) {
        let bytes = snapshot::encode(&replay(&journal(&ops)));
        let mut body = bytes[28..bytes.len() - 32].to_vec();
        for (at, v, how) in edits {
            let at = at as usize % (body.len() + 1);
            match how {
                0 if at < body.len() => body[at] ^= v | 1,
                1 => body.truncate(at),
                2 => body.insert(at, v),
                _ => body.splice(at..at, [0xff; 9]).for_each(drop),
            }
        }
        let altered = reseal(&bytes[..20], &body);
        if let Ok(st) = snapshot::decode(&altered) {
            let _ = snapshot::decode(&snapshot::encode(&st)).unwrap();
        }
    }

    /// Random bytes, with or without a snapshot's header, are refused.
    #[test]
    fn random_bytes_are_refused(mut bytes in proptest::collection::vec(any::<u8>(), 0..300), header in any::<bool>(), sealed in any::<bool>()) {
        if header {
            let mut h = b"VIGIESNP".to_vec();
            h.extend_from_slice(&FORMAT.to_le_bytes());
            h.extend_from_slice(&7u64.to_le_bytes());
            if sealed {
                bytes = reseal(&h, &bytes);
            } else {
                h.extend_from_slice(&bytes);
                bytes = h;
            }
        }
        // Sealed random bodies may (very rarely) decode; anything else is refused.
        let got = snapshot::decode(&bytes);
        prop_assert!(got.is_err() || (header && sealed));
    }
}

/// Header (magic, format, last_seq) + body length + body + BLAKE3 of all of it.
fn reseal(header: &[u8], body: &[u8]) -> Vec<u8> {
    let mut out = header.to_vec();
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(body);
    let sum = blake3::hash(&out);
    out.extend_from_slice(sum.as_bytes());
    out
}

/// A state with some of everything.
fn sample() -> State {
    let ops: Vec<Op> = (0..400u32)
        // The first kinds in turn (their ids line up so that every registry fills), then reports.
        .map(|i| {
            let kind = if i < 390 { i % 54 } else { 54 + i % 2 };
            (kind as u8, (i * 7) as u16, (i * 13 + 1) as u16, (i * 5 + 2) as u16, i * 7919)
        })
        .collect();
    replay(&journal(&ops))
}

#[test]
fn the_layout_is_the_documented_one() {
    let st = sample();
    let bytes = snapshot::encode(&st);
    assert_eq!(&bytes[..8], b"VIGIESNP");
    assert_eq!(u32::from_le_bytes(bytes[8..12].try_into().unwrap()), FORMAT);
    assert_eq!(u64::from_le_bytes(bytes[12..20].try_into().unwrap()), 400);
    assert_eq!(u64::from_le_bytes(bytes[20..28].try_into().unwrap()) as usize, bytes.len() - 28 - 32);
    let n = bytes.len() - 32;
    assert_eq!(&bytes[n..], blake3::hash(&bytes[..n]).as_bytes());
    assert_eq!(snapshot::peek(&bytes), Ok((FORMAT, 400)));
    // Every kind of record is there (a check that the sample is worth the tests below).
    let c = st.counts();
    assert!(c.organizations > 0 && c.sites > 0 && c.items > 0 && c.stock_lines > 0 && c.forces > 0);
    assert!(c.vehicles > 0 && c.checks > 0 && c.incidents > 0 && c.log_entries > 0 && !st.plans.is_empty());
    assert!(!st.accounts.users.is_empty() && !st.accounts.tokens.is_empty() && !st.toc.hard.is_empty());
    assert!(!st.sla_breaches.is_empty() && !st.incident_sync.is_empty() && !st.toc.history.is_empty());
    assert!(!st.reports.is_empty());
    assert!(snapshot::decode(&bytes).unwrap() == st);
}

#[test]
fn the_random_journals_hold_every_kind_of_event() {
    let kinds: std::collections::BTreeSet<&str> = (0..KINDS).map(|k| event((k, 1, 2, 3, 4)).kind()).collect();
    let missing: Vec<_> = Event::KINDS.iter().filter(|k| !kinds.contains(*k)).collect();
    assert!(missing.is_empty(), "the generator never makes {missing:?}");
}

#[test]
fn an_empty_state_round_trips() {
    let bytes = snapshot::encode(&State::new());
    assert_eq!(snapshot::peek(&bytes), Ok((FORMAT, 0)));
    assert!(snapshot::decode(&bytes).unwrap() == State::new());
}

#[test]
fn another_format_is_refused() {
    let st = sample();
    let bytes = snapshot::encode(&st);
    for other in [0, FORMAT - 1, FORMAT + 1, u32::MAX] {
        if other == FORMAT {
            continue;
        }
        let mut b = bytes.clone();
        b[8..12].copy_from_slice(&other.to_le_bytes());
        assert_eq!(snapshot::decode(&b).unwrap_err(), SnapshotError::Format { found: other });
        // The header alone still says what it is, so a caller can tell an old snapshot from garbage.
        assert_eq!(snapshot::peek(&b), Ok((other, st.last_seq)));
        // Even sealed again: the format is checked before anything else is read.
        let resealed = reseal(&b[..20], &b[28..b.len() - 32]);
        assert_eq!(snapshot::decode(&resealed).unwrap_err(), SnapshotError::Format { found: other });
    }
    assert_eq!(
        SnapshotError::Format { found: 0 }.to_string(),
        format!("snapshot of format 0; this build reads format {FORMAT}")
    );
}

#[test]
fn a_flipped_bit_anywhere_is_refused() {
    let bytes = snapshot::encode(&sample());
    // Every byte of the prefix and of the checksum, and a spread of the body's.
    let step = (bytes.len() / 1500).max(1);
    let positions = (0..28).chain((28..bytes.len() - 32).step_by(step)).chain(bytes.len() - 32..bytes.len());
    for at in positions {
        for bit in [0, 7] {
            let mut b = bytes.clone();
            b[at] ^= 1 << bit;
            let e = snapshot::decode(&b).unwrap_err();
            let ok = match at {
                0..8 => e == SnapshotError::NotASnapshot,
                8..12 => matches!(e, SnapshotError::Format { .. }),
                20..28 => matches!(e, SnapshotError::Truncated { .. } | SnapshotError::Trailing { .. }),
                _ => e == SnapshotError::Checksum,
            };
            assert!(ok, "byte {at} bit {bit}: {e:?}");
        }
    }
}

#[test]
fn a_truncated_or_extended_snapshot_is_refused() {
    let bytes = snapshot::encode(&sample());
    for n in 0..bytes.len() {
        let e = snapshot::decode(&bytes[..n]).unwrap_err();
        assert!(matches!(e, SnapshotError::Truncated { .. }), "{n} bytes: {e:?}");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(snapshot::decode(&longer).unwrap_err(), SnapshotError::Trailing { extra: 1 });
    assert_eq!(snapshot::decode(b"PK\x03\x04 a zip file").unwrap_err(), SnapshotError::NotASnapshot);
    assert!(matches!(snapshot::decode(b"VIGIE").unwrap_err(), SnapshotError::Truncated { .. }));
}

#[test]
fn an_invalid_identifier_in_the_body_is_refused() {
    // The table of texts comes first: change the first identifier's first byte to a space and seal again.
    let st = sample();
    let bytes = snapshot::encode(&st);
    let mut body = bytes[28..bytes.len() - 32].to_vec();
    let first = st.site_slots.id(0).as_str();
    let at = body.windows(first.len()).position(|w| w == first.as_bytes()).unwrap();
    body[at] = b' ';
    let e = snapshot::decode(&reseal(&bytes[..20], &body)).unwrap_err();
    assert!(matches!(e, SnapshotError::Body { what: "an invalid identifier", .. }), "{e:?}");
}

/// The golden journal of the binary's tests (a demo's imports, TOC states, incidents, tokens): a snapshot at any
/// event and the rest replayed give the full replay.
#[test]
fn the_golden_journal_cut_anywhere() {
    let text = include_str!("../../vigie/tests/fixtures/golden/journal.jsonl");
    let events: Vec<Envelope> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let s = |k: &str| v[k].as_str().unwrap().to_string();
            Envelope {
                seq: v["seq"].as_u64().unwrap(),
                id: s("id").parse().unwrap(),
                time: DateTime::from_timestamp_micros(v["time_us"].as_i64().unwrap()).unwrap(),
                actor: Actor::parse(&s("actor")).unwrap(),
                origin: s("origin").into(),
                source: s("source").into(),
                event: Event::decode(&s("kind"), &s("payload")).unwrap(),
            }
        })
        .collect();
    assert!(events.len() > 100);
    let full = replay(&events);
    for k in 0..=events.len() {
        let mut st = snapshot::decode(&snapshot::encode(&replay(&events[..k]))).unwrap();
        for e in &events[k..] {
            st.apply(e);
        }
        same(&st, &full, &format!("cut at {k}")).unwrap();
    }
}
