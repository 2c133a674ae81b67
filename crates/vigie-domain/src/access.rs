//! Who may do what: users and their roles, the permissions a role grants (the same names scope API tokens), and
//! the reach of a scoped role (one organisation and its children, or one partner's support group).
//!
//! Pure: the server authenticates (passwords, tokens, sessions) and asks this module what the caller may do and
//! see. Users and tokens are journal events like any other change, so who could do what at any time can be rebuilt.

use crate::event::{Actor, Envelope, Event};
use crate::ids::{OrgId, PartnerId};
use crate::state::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::fmt;

/// A user's login name: 1 to 64 characters among lower-case letters, digits, `.`, `_` and `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UserName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a user name is 1 to 64 characters among a-z, 0-9, '.', '_' and '-', found {0:?}")]
pub struct BadUserName(pub String);

impl UserName {
    pub fn parse(s: &str) -> Result<UserName, BadUserName> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'));
        if ok {
            Ok(UserName(s.to_string()))
        } else {
            Err(BadUserName(s.chars().take(80).collect()))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for UserName {
    type Error = BadUserName;
    fn try_from(s: String) -> Result<UserName, BadUserName> {
        UserName::parse(&s)
    }
}
impl From<UserName> for String {
    fn from(u: UserName) -> String {
        u.0
    }
}
impl fmt::Display for UserName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! named {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "&'static str")]
        pub enum $name { $($(#[$vm])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            pub fn parse(s: &str) -> Result<$name, String> {
                match s.trim() {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!(
                        "expected one of {}, found {other:?}",
                        [$($text),+].join(", ")
                    )),
                }
            }
        }
        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<$name, String> {
                $name::parse(&s)
            }
        }
        impl From<$name> for &'static str {
            fn from(v: $name) -> &'static str {
                v.as_str()
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

named! {
    /// What a user is in the operations centre.
    Role {
        Admin = "admin",
        Strategic = "strategic",
        Tactical = "tactical",
        Toc = "toc",
        Partner = "partner",
        Viewer = "viewer",
    }
}

named! {
    /// One thing a caller may do. A role grants a set of them; a token carries a subset of its user's.
    Permission {
        LogisticsRead = "logistics:read",
        LogisticsWrite = "logistics:write",
        Shift = "logistics:shift",
        MonitoringRead = "monitoring:read",
        MonitoringWrite = "monitoring:write",
        IncidentsRead = "incidents:read",
        IncidentsWrite = "incidents:write",
        Audit = "audit:read",
        Users = "users:admin",
        /// Issue API tokens (for oneself; for others with `users:admin`). A wall screen's account has none.
        TokensIssue = "tokens:issue",
        /// Create or change checks that run programs (`command` checks): an administrator's configuration.
        MonitoringCommands = "monitoring:commands",
        /// What a wall screen shows and nothing else: the states and roll-ups, their changes, the major incidents.
        WallRead = "wall:read",
        /// Move venue readiness tasks (a partner: its own).
        ReadinessWrite = "readiness:write",
        /// Import and change people, teams and rosters.
        RostersWrite = "rosters:write",
        /// Approve and publish the reports for the chain of command (LOGSTAT, SITREP) that one may read.
        ReportsApprove = "reports:approve",
        /// Start, pause, speed up and end exercises (their sandboxes), and see what each inject expects.
        ExercisesRun = "exercises:run",
    }
}

impl Role {
    /// What the role grants.
    pub fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Role::Admin => Permission::ALL,
            Role::Strategic => &[
                LogisticsRead,
                LogisticsWrite,
                Shift,
                MonitoringRead,
                IncidentsRead,
                RostersWrite,
                ReportsApprove,
                ExercisesRun,
                TokensIssue,
            ],
            Role::Tactical => &[LogisticsRead, LogisticsWrite, TokensIssue],
            Role::Toc => &[
                MonitoringRead,
                MonitoringWrite,
                IncidentsRead,
                IncidentsWrite,
                ReadinessWrite,
                RostersWrite,
                ReportsApprove,
                ExercisesRun,
                TokensIssue,
            ],
            Role::Partner => &[MonitoringRead, IncidentsRead, IncidentsWrite, ReadinessWrite, TokensIssue],
            // A wall screen's account: the wall, nothing else (no stock, no incident's detail, no log).
            Role::Viewer => &[WallRead],
        }
    }
}

/// A local user, as the journal records it (`user.upserted`): a later record replaces the earlier one whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub name: UserName,
    pub role: Role,
    /// The organisation of a `tactical` user (it reaches that organisation and its children).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<OrgId>,
    /// The partner (support group) of a `partner` user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_id: Option<PartnerId>,
    /// Argon2id hash in PHC form; empty: no password (tokens only).
    #[serde(default)]
    pub password_hash: String,
    #[serde(default)]
    pub disabled: bool,
}

impl User {
    /// What a user record must hold for its role.
    pub fn check(&self) -> Result<(), String> {
        match (self.role, &self.organization_id, &self.partner_id) {
            (Role::Tactical, None, _) => Err("a tactical user needs an organisation".into()),
            (Role::Partner, _, None) => Err("a partner user needs a partner".into()),
            (Role::Tactical, Some(_), Some(_)) => Err("a tactical user has no partner".into()),
            (Role::Partner, Some(_), Some(_)) => Err("a partner user has no organisation".into()),
            (Role::Tactical | Role::Partner, _, _) => Ok(()),
            (_, None, None) => Ok(()),
            (r, _, _) => Err(format!("a {r} user reaches everything: it takes no organisation or partner")),
        }
    }
}

/// An API token was issued (`token.issued`). Only a hash of its secret is kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenIssued {
    /// Public identifier (the token's first part), for listing and revocation.
    pub id: String,
    pub user: UserName,
    /// What it is for (`prometheus`, `agent STA`…).
    #[serde(default)]
    pub label: String,
    /// A subset of its user's permissions.
    pub scopes: Vec<Permission>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// Hash of the secret, hexadecimal.
    pub hash: String,
    /// The credential it was issued through, when that was a token or a session: it dies with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<TokenParent>,
}

/// What a token was issued through (a password issues free-standing tokens).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenParent {
    /// Another token, by id.
    Token(String),
    /// A browser session, by the hash of its cookie.
    Session(String),
}

/// A token was revoked (`token.revoked`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenRevoked {
    pub id: String,
}

/// A request was refused or a login failed (`access.denied`): kept for the audit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessDenied {
    /// `unauthenticated`, `forbidden`, `login failed`, `csrf`, `rate limited`, `outside scope`.
    pub reason: String,
    /// The address the request came from.
    pub from: String,
    pub method: String,
    pub path: String,
    /// Refusals from the same address not recorded one by one since the previous record.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub suppressed: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A browser session was opened (`session.opened`). Kept so that sessions outlive a restart (a wall screen
/// reconnects by itself): `id` is a hash of the cookie, which never leaves the browser and the server's memory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionOpened {
    pub user: UserName,
    pub from: String,
    #[serde(default)]
    pub id: String,
}

/// A browser session ended (`session.closed`): signed out, or idle too long.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionClosed {
    pub id: String,
    pub reason: String,
}

/// A token as the state holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRecord {
    pub token: TokenIssued,
    pub issued_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl TokenRecord {
    pub fn valid_at(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.token.expires_at.is_none_or(|e| now < e)
    }
}

/// Users and tokens, rebuilt from the journal.
///
/// A token is valid while it is neither revoked nor expired **and** the credential it was issued through is still
/// valid: a token minted by a token dies with it, one minted in a browser session dies when the session ends.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Accounts {
    pub users: BTreeMap<UserName, User>,
    pub tokens: BTreeMap<String, TokenRecord>,
    /// Open browser sessions by the hash of their cookie: (user, opened at).
    pub sessions: BTreeMap<String, (UserName, DateTime<Utc>)>,
    /// Every user record version, so an authentication cache knows when to forget.
    pub version: u64,
}

impl Accounts {
    /// Whether the token `id` may be used at `now` (see the type's documentation).
    pub fn token_valid(&self, id: &str, now: DateTime<Utc>) -> bool {
        let mut id = id;
        // Lineages are short and acyclic (a parent exists before its child); the bound is a guard.
        for _ in 0..32 {
            let Some(t) = self.tokens.get(id) else { return false };
            if !t.valid_at(now) {
                return false;
            }
            match &t.token.parent {
                None => return true,
                Some(TokenParent::Session(s)) => return self.sessions.contains_key(s),
                Some(TokenParent::Token(p)) => id = p,
            }
        }
        false
    }

    pub(crate) fn apply(&mut self, time: DateTime<Utc>, event: &Event) {
        match event {
            Event::UserUpserted(u) => {
                self.users.insert(u.name.clone(), u.clone());
                self.version += 1;
            }
            Event::TokenIssued(t) => {
                self.tokens.insert(t.id.clone(), TokenRecord { token: t.clone(), issued_at: time, revoked_at: None });
                self.version += 1;
            }
            Event::TokenRevoked(r) => {
                if let Some(t) = self.tokens.get_mut(&r.id) {
                    t.revoked_at.get_or_insert(time);
                }
                self.version += 1;
            }
            Event::SessionOpened(s) if !s.id.is_empty() => {
                self.sessions.insert(s.id.clone(), (s.user.clone(), time));
            }
            Event::SessionClosed(s) => {
                self.sessions.remove(&s.id);
            }
            _ => {}
        }
    }
}

/// How far a scoped user reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    All,
    /// This organisation and its children.
    Organization(OrgId),
    /// This partner: incidents assigned to it, its applications and their checks.
    Partner(PartnerId),
}

/// How a caller proved who it is. Tokens issued through a session or a token are bound to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A password (sign-in or Basic).
    Password,
    /// A browser session, by the hash of its cookie.
    Session(String),
    /// An API token, by id.
    Token(String),
    /// The local operator (the command line on the data directory: who can open it owns the journal anyway) or
    /// Vigie itself (background work).
    Internal,
}

/// An authenticated caller: who it is (the actor its changes carry), what it may do, how far it reaches, and
/// through what credential, until when.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub actor: Actor,
    /// The user; `None` for the local operator.
    pub user: Option<UserName>,
    pub role: Role,
    pub reach: Reach,
    pub credential: Credential,
    /// When the credential ends (a token's expiry, a session's maximum age); `None`: it does not.
    pub expires_at: Option<DateTime<Utc>>,
    permissions: Vec<Permission>,
}

impl Principal {
    /// A user signed in with a password or a session: everything its role grants.
    pub fn of_user(u: &User, credential: Credential, expires_at: Option<DateTime<Utc>>) -> Principal {
        let reach = match (u.role, &u.organization_id, &u.partner_id) {
            (Role::Tactical, Some(o), _) => Reach::Organization(o.clone()),
            (Role::Partner, _, Some(p)) => Reach::Partner(p.clone()),
            _ => Reach::All,
        };
        Principal {
            actor: Actor::parse(&format!("user:{}", u.name)).expect("user names make valid actors"),
            user: Some(u.name.clone()),
            role: u.role,
            reach,
            credential,
            expires_at,
            permissions: u.role.permissions().to_vec(),
        }
    }

    /// A user acting through a token: its role's permissions that the token also carries. The actor names both
    /// (`user:NAME/token:ID`), so the audit finds the user's changes and, more precisely, the token's.
    pub fn of_token(u: &User, t: &TokenIssued) -> Principal {
        let mut p = Principal::of_user(u, Credential::Token(t.id.clone()), t.expires_at);
        p.permissions.retain(|x| t.scopes.contains(x));
        p.actor = Actor::parse(&format!("user:{}/token:{}", u.name, t.id)).expect("token ids make valid actors");
        p
    }

    /// The local operator or Vigie itself, acting as `actor` with every permission over everything.
    pub fn internal(actor: Actor) -> Principal {
        Principal {
            actor,
            user: None,
            role: Role::Admin,
            reach: Reach::All,
            credential: Credential::Internal,
            expires_at: None,
            permissions: Permission::ALL.to_vec(),
        }
    }

    /// The caller's user name, or `local` for the local operator (for messages).
    pub fn name(&self) -> &str {
        self.user.as_ref().map_or("local", |u| u.as_str())
    }

    pub fn may(&self, p: Permission) -> bool {
        self.permissions.contains(&p)
    }

    pub fn permissions(&self) -> &[Permission] {
        &self.permissions
    }

    /// What this caller sees of the state, computed once per request.
    pub fn view(&self, st: &State) -> View {
        match &self.reach {
            Reach::All => View { orgs: None, root: None, partner: None, all: true },
            Reach::Organization(o) => View {
                orgs: Some(st.org_and_children(o).into_iter().collect()),
                root: Some(o.clone()),
                partner: None,
                all: false,
            },
            Reach::Partner(p) => View { orgs: Some(HashSet::new()), root: None, partner: Some(p.clone()), all: false },
        }
    }
}

/// The registry as a batch of changes would leave it, as far as reach needs: organisations' parents and sites'
/// organisations.
struct After<'a> {
    parents: std::collections::HashMap<&'a OrgId, Option<&'a OrgId>>,
    sites: std::collections::HashMap<&'a str, &'a OrgId>,
}

impl<'a> After<'a> {
    fn of(events: impl IntoIterator<Item = &'a Event>) -> After<'a> {
        let mut a = After { parents: Default::default(), sites: Default::default() };
        for e in events {
            match e {
                Event::OrganizationUpserted(o) => {
                    a.parents.insert(&o.id, o.parent_id.as_ref());
                }
                Event::SiteUpserted(s) => {
                    a.sites.insert(s.id.as_str(), &s.organization_id);
                }
                _ => {}
            }
        }
        a
    }

    fn parent<'s>(&'s self, st: &'s State, org: &OrgId) -> Option<Option<&'s OrgId>> {
        match self.parents.get(org) {
            Some(p) => Some(*p),
            None => st.organizations.get(org).map(|o| o.value.parent_id.as_ref()),
        }
    }

    /// Whether `org` exists after the batch and descends from (or is) `root`.
    fn reaches(&self, st: &State, org: &OrgId, root: &OrgId) -> bool {
        let mut at = org;
        for _ in 0..64 {
            if at == root {
                return true;
            }
            match self.parent(st, at) {
                Some(Some(p)) => at = p,
                _ => return false,
            }
        }
        false
    }

    /// Whether `org`'s line of parents, after the batch, passes through `ancestor` (a cycle if `org` would
    /// become `ancestor`'s parent).
    fn descends_from(&self, st: &State, org: &OrgId, ancestor: &OrgId) -> bool {
        self.reaches(st, org, ancestor)
    }

    /// The organisation supporting a site after the batch.
    fn site_org<'s>(&'s self, st: &'s State, site: &str) -> Option<&'s OrgId> {
        self.sites.get(site).copied().or_else(|| st.sites.get(site).map(|s| &s.value.organization_id))
    }
}

/// The part of the state a caller reaches.
#[derive(Debug, Clone)]
pub struct View {
    /// Organisations reached; `None`: all.
    orgs: Option<HashSet<OrgId>>,
    /// A tactical caller's own organisation.
    root: Option<OrgId>,
    partner: Option<PartnerId>,
    all: bool,
}

impl View {
    /// Reaches everything.
    pub fn is_all(&self) -> bool {
        self.all
    }
    pub fn org(&self, id: &OrgId) -> bool {
        self.orgs.as_ref().is_none_or(|o| o.contains(id))
    }
    /// A site, by the organisation that supports it now.
    pub fn site(&self, st: &State, id: &str) -> bool {
        self.all || st.sites.get(id).is_some_and(|s| self.org(&s.value.organization_id))
    }
    pub fn application(&self, st: &State, id: &str) -> bool {
        self.all
            || self
                .partner
                .as_ref()
                .is_some_and(|p| st.toc.applications.get(id).is_some_and(|a| a.value.partner_id.as_ref() == Some(p)))
    }
    /// A check: through its application (partners) or its site (organisations).
    pub fn check(&self, st: &State, id: &str) -> bool {
        self.all
            || st.toc.checks.get(id).is_some_and(|c| {
                c.value.application_id.as_ref().is_some_and(|a| self.application(st, a.as_str()))
                    || (self.partner.is_none() && c.value.site_id.as_ref().is_some_and(|s| self.site(st, s.as_str())))
            })
    }
    /// A readiness task a partner may change: its own (the owner).
    pub fn own_task(&self, t: &crate::readiness::Task) -> bool {
        self.all || self.partner.as_ref() == Some(&t.owner)
    }
    /// A readiness task a partner sees: its own, and those linked to its own (what it waits for, what waits for it).
    /// The readiness picture widens this to everything upstream of its tasks, computed once per answer
    /// (`vigie_app::readiness`), so that the root cause holding its work up is named.
    pub fn task(&self, st: &State, t: &crate::readiness::Task) -> bool {
        self.own_task(t)
            || self.partner.is_some() && {
                let own = |id: &crate::ids::TaskId| st.readiness.tasks.get(id).is_some_and(|x| self.own_task(&x.value));
                st.readiness.links.keys().any(|(b, a)| (a == &t.id && own(b)) || (b == &t.id && own(a)))
            }
    }
    /// A zone: a partner sees the zones where it has a task.
    pub fn zone(&self, st: &State, id: &crate::ids::ZoneId) -> bool {
        self.all
            || self.partner.is_some()
                && st.readiness.tasks.values().any(|t| &t.value.zone_id == id && self.own_task(&t.value))
    }
    /// A team or a person of the rosters: a partner sees its own, a tactical group those of the organisations it
    /// reaches; the others, every one.
    pub fn roster(&self, partner: Option<&PartnerId>, org: Option<&OrgId>) -> bool {
        self.all
            || match &self.partner {
                Some(p) => partner == Some(p),
                None => org.is_some_and(|o| self.org(o)),
            }
    }
    /// An incident: partners see those assigned to them.
    /// A report: a LOGSTAT for the logistics readers who reach its organisation (a national one: those who reach
    /// every organisation); a SITREP for callers over everything who may read every part it holds.
    pub fn report(&self, d: &crate::report::ReportDrafted, may: impl Fn(Permission) -> bool) -> bool {
        use Permission::*;
        match d.kind.as_str() {
            "logstat" => {
                may(LogisticsRead)
                    && match &d.organization_id {
                        Some(o) => OrgId::parse(o).is_ok_and(|o| self.org(&o)),
                        None => self.all,
                    }
            }
            _ => {
                self.all
                    && d.parts.iter().all(|p| {
                        may(match p.as_str() {
                            "logistics" => LogisticsRead,
                            "incidents" | "decisions" => IncidentsRead,
                            _ => MonitoringRead,
                        })
                    })
            }
        }
    }

    pub fn incident(&self, i: &crate::itsm::Incident) -> bool {
        self.all || self.partner.as_ref().is_some_and(|p| i.assignment_group == p.as_str())
    }
    /// A vehicle, by the site it is based at now.
    pub fn vehicle(&self, st: &State, id: &str) -> bool {
        self.all || st.vehicles.get(id).is_some_and(|v| self.site(st, v.value.site_id.as_str()))
    }
    /// A plan: its destination, every origin and every vehicle it holds must be reached.
    pub fn plan(&self, st: &State, p: &crate::plan::Plan) -> bool {
        self.all
            || (self.site(st, p.destination.as_str())
                && p.movements.iter().all(|m| {
                    self.site(st, m.from.as_str()) && m.vehicle_id.as_ref().is_none_or(|v| self.vehicle(st, v.as_str()))
                })
                && p.vehicles.iter().all(|v| self.vehicle(st, v.as_str())))
    }

    /// The permission a change needs, judged on the record as it is and as it would be: logistics tables need
    /// `logistics:write`, the TOC's `monitoring:write`, a check that runs a program (before or after) also
    /// `monitoring:commands`; anything else (accounts) `users:admin`.
    pub fn permissions_for(st: &State, event: &Event) -> &'static [Permission] {
        use Event::*;
        use Permission::*;
        match event {
            OrganizationUpserted(_)
            | SiteUpserted(_)
            | ItemUpserted(_)
            | StockCounted(_)
            | ForceUpserted(_)
            | AllowanceSet(_)
            | VehicleUpserted(_) => &[LogisticsWrite],
            CheckUpserted(c) => {
                let runs = |k: crate::toc::CheckKind| k == crate::toc::CheckKind::Command;
                let was = st.toc.checks.get(&c.id).is_some_and(|old| runs(old.value.kind));
                if runs(c.kind) || was {
                    &[MonitoringWrite, MonitoringCommands]
                } else {
                    &[MonitoringWrite]
                }
            }
            PartnerUpserted(_)
            | ApplicationUpserted(_)
            | AssetUpserted(_)
            | DependencySet(_)
            | MaintenanceScheduled(_)
            | MaintenanceCancelled(_) => &[MonitoringWrite],
            // Readiness plans (zones, tasks, links, computers) are the operations centre's; progress is the owners'.
            ZoneUpserted(_) | TaskUpserted(_) | TaskLinked(_) | ComputerUpserted(_) => &[MonitoringWrite],
            TaskProgressed(_) => &[ReadinessWrite],
            PersonUpserted(_) | TeamUpserted(_) | RotationSet(_) | OverrideSet(_) => &[RostersWrite],
            IncidentAcknowledged(_) => &[IncidentsWrite],
            _ => &[Users],
        }
    }

    /// Whether a caller holding `may` and this view may record `event` (an import's row, a registry change).
    /// See [`View::may_write_all`].
    pub fn may_write(&self, st: &State, event: &Event, may: impl Fn(Permission) -> bool) -> Result<(), String> {
        self.may_write_all(st, std::iter::once(event), may)
    }

    /// Whether a caller may record all of `events` together (an import): each needs its permissions
    /// ([`View::permissions_for`]); a scoped caller changes only records it reaches **as they are** (the record
    /// in the state) **and as they would be** (after the change, with the other changes of the batch: a site
    /// created by the same import counts with its new organisation), never the national catalogue (items,
    /// allowances), never its own organisation's parent or level, never an organisation into the strategic level
    /// or outside its tree.
    pub fn may_write_all<'e, I>(&self, st: &State, events: I, may: impl Fn(Permission) -> bool) -> Result<(), String>
    where
        I: IntoIterator<Item = &'e Event> + Clone,
    {
        for e in events.clone() {
            if let Some(p) = View::permissions_for(st, e).iter().find(|p| !may(**p)) {
                return Err(format!("{} needs the permission {p}", e.kind()));
            }
        }
        if self.all {
            return Ok(());
        }
        let after = After::of(events.clone());
        events.into_iter().try_for_each(|e| self.may_change(st, &after, e))
    }

    fn may_change(&self, st: &State, after: &After, event: &Event) -> Result<(), String> {
        use Event::*;
        let outside = |what: String| Err(format!("{what} is outside your reach"));
        let Some(root) = self.root.as_ref() else {
            // A partner writes no registry table (its role grants no such permission); refuse all the same.
            return outside(event.kind().to_string());
        };
        // Reached now: in the state as it is.
        let site_now = |id: &str| st.sites.get(id).map(|s| &s.value.organization_id);
        // Reached after: the organisation's line up to the caller's own, through the batch's changes.
        let reaches = |org: &OrgId| after.reaches(st, org, root);
        match event {
            OrganizationUpserted(o) => {
                let old = st.organizations.get(&o.id).map(|r| &r.value);
                if old.is_some() && !self.org(&o.id) {
                    return outside(format!("organisation {}", o.id));
                }
                if &o.id == root {
                    let old = old.expect("a caller's own organisation exists");
                    if o.parent_id != old.parent_id || o.level != old.level {
                        return Err(format!(
                            "organisation {}: your own organisation's parent and level are the strategic centre's                              to change",
                            o.id
                        ));
                    }
                    return Ok(());
                }
                if o.level == crate::registry::OrgLevel::Strategic {
                    return Err(format!("organisation {}: the strategic level is the strategic centre's", o.id));
                }
                match &o.parent_id {
                    Some(p) if reaches(p) && !after.descends_from(st, p, &o.id) => Ok(()),
                    _ => outside(format!("organisation {} as it would be (its parent)", o.id)),
                }
            }
            SiteUpserted(s) => {
                if site_now(s.id.as_str()).is_some_and(|o| !self.org(o)) {
                    return outside(format!("site {}", s.id));
                }
                if !reaches(&s.organization_id) {
                    return outside(format!("site {} as it would be (organisation {})", s.id, s.organization_id));
                }
                Ok(())
            }
            StockCounted(c) => {
                let now_ok = site_now(c.site_id.as_str()).is_none_or(|o| self.org(o));
                let after_ok = after.site_org(st, c.site_id.as_str()).is_some_and(reaches);
                if now_ok && after_ok {
                    Ok(())
                } else {
                    outside(format!("stock at site {}", c.site_id))
                }
            }
            ForceUpserted(f) => {
                if let Some(old) = st.forces.get(&f.id).map(|r| &r.value) {
                    if !self.org(&old.organization_id) || site_now(old.site_id.as_str()).is_some_and(|o| !self.org(o)) {
                        return outside(format!("force {}", f.id));
                    }
                }
                if !reaches(&f.organization_id) || !after.site_org(st, f.site_id.as_str()).is_some_and(reaches) {
                    return outside(format!("force {} as it would be", f.id));
                }
                Ok(())
            }
            VehicleUpserted(v) => {
                if let Some(old) = st.vehicles.get(&v.id).map(|r| &r.value) {
                    if site_now(old.site_id.as_str()).is_some_and(|o| !self.org(o)) {
                        return outside(format!("vehicle {}", v.id));
                    }
                }
                if !after.site_org(st, v.site_id.as_str()).is_some_and(reaches) {
                    return outside(format!("vehicle {} as it would be (site {})", v.id, v.site_id));
                }
                Ok(())
            }
            ItemUpserted(_) | AllowanceSet(_) => {
                Err("the national catalogue (items, allowances) is the strategic centre's".into())
            }
            _ => outside(event.kind().to_string()),
        }
    }

    /// Whether a journal event may be shown to this caller (event lists, live streams, audit). Accounts and
    /// access events are for administrators only (callers of this check them with [`Permission::Users`]).
    pub fn event(&self, st: &State, e: &Envelope, may: impl Fn(Permission) -> bool) -> bool {
        use Event::*;
        use Permission::*;
        let logistics = may(LogisticsRead);
        let monitoring = may(MonitoringRead);
        let incidents = may(IncidentsRead);
        let seen_incident = |sys_id: &str| st.incidents.get(sys_id).is_some_and(|i| self.incident(&i.value));
        match &e.event {
            UserUpserted(_) | TokenIssued(_) | TokenRevoked(_) | AccessDenied(_) | SessionOpened(_)
            | SessionClosed(_) => may(Users),
            OrganizationUpserted(_) | ItemUpserted(_) | AllowanceSet(_) => logistics,
            SiteUpserted(s) => (logistics && self.site(st, s.id.as_str())) || monitoring && self.all,
            StockCounted(c) => logistics && self.site(st, c.site_id.as_str()),
            ForceUpserted(f) => logistics && self.org(&f.organization_id),
            VehicleUpserted(v) => logistics && self.site(st, v.site_id.as_str()),
            PlanCommitted(p) => logistics && self.plan(st, p),
            PlanShipped(s) | PlanReceived(s) | PlanCancelled(s) => {
                logistics && st.plans.get(&s.plan_id).is_some_and(|r| self.plan(st, &r.value.plan))
            }
            SupportShifted(s) => logistics && (self.all || self.org(&s.from) || self.org(&s.to)),
            PartnerUpserted(p) => monitoring && (self.all || self.partner.as_ref() == Some(&p.id)),
            ApplicationUpserted(a) => monitoring && self.application(st, a.id.as_str()),
            AssetUpserted(a) => {
                monitoring && (self.all || a.application_id.as_ref().is_some_and(|x| self.application(st, x.as_str())))
            }
            CheckUpserted(c) => monitoring && self.check(st, c.id.as_str()),
            CheckStateChanged(c) => monitoring && self.check(st, c.check_id.as_str()),
            CheckAcknowledged(c) => monitoring && self.check(st, c.check_id.as_str()),
            DependencySet(_) | MaintenanceScheduled(_) | MaintenanceCancelled(_) => monitoring && self.all,
            ZoneUpserted(z) => monitoring && self.zone(st, &z.id),
            TaskUpserted(t) => monitoring && self.task(st, t),
            TaskLinked(l) => {
                let seen = |id| st.readiness.tasks.get(id).is_some_and(|t| self.task(st, &t.value));
                monitoring && (self.all || seen(&l.before) || seen(&l.after))
            }
            TaskProgressed(p) => {
                monitoring && st.readiness.tasks.get(&p.task_id).is_some_and(|t| self.task(st, &t.value))
            }
            ComputerUpserted(c) => monitoring && (self.all || c.zone_id.as_ref().is_some_and(|z| self.zone(st, z))),
            IncidentRecorded(i) => incidents && self.incident(i),
            IncidentDeleted(d) => incidents && (self.all || st.incidents.contains_key(&d.sys_id)),
            IncidentSynced(s) => incidents && st.incidents.get(&s.sys_id).is_some_and(|i| self.incident(&i.value)),
            SlaBreached(s) => incidents && st.incidents.get(&s.sys_id).is_some_and(|i| self.incident(&i.value)),
            LogEntryAdded(_) => incidents && self.all,
            PersonUpserted(p) => {
                (logistics || monitoring || incidents) && self.roster(p.partner_id.as_ref(), p.organization_id.as_ref())
            }
            TeamUpserted(t) => {
                (logistics || monitoring || incidents) && self.roster(t.partner_id.as_ref(), t.organization_id.as_ref())
            }
            // Who was told of an incident, and who acknowledged it: for those who see the incident.
            NotificationQueued(n) => incidents && seen_incident(&n.sys_id),
            NotificationSent(crate::notify::NotificationSent { id, .. })
            | NotificationFailed(crate::notify::NotificationFailed { id, .. }) => {
                incidents && st.oncall.outbox.get(id).is_some_and(|n| seen_incident(&n.notification.sys_id))
            }
            IncidentAcknowledged(a) => incidents && seen_incident(&a.sys_id),
            ReportDrafted(d) => self.report(d, &may),
            ReportReviewed(r) => {
                st.reports.get(&r.id).and_then(|x| x.latest()).is_some_and(|v| self.report(&v.draft, &may))
            }
            RotationSet(crate::oncall::Rotation { team_id, .. })
            | OverrideSet(crate::oncall::Override { team_id, .. }) => {
                (logistics || monitoring || incidents)
                    && st
                        .oncall
                        .teams
                        .get(team_id)
                        .is_some_and(|t| self.roster(t.value.partner_id.as_ref(), t.value.organization_id.as_ref()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role, org: Option<&str>, partner: Option<&str>) -> User {
        User {
            name: UserName::parse("u").unwrap(),
            role,
            organization_id: org.map(|o| OrgId::parse(o).unwrap()),
            partner_id: partner.map(|p| PartnerId::parse(p).unwrap()),
            password_hash: String::new(),
            disabled: false,
        }
    }

    #[test]
    fn names_and_roles_parse_strictly() {
        assert!(UserName::parse("alice.b-2_x").is_ok());
        for bad in ["", "Alice", "a b", "é", &"a".repeat(65)] {
            assert!(UserName::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(Role::parse("toc"), Ok(Role::Toc));
        assert!(Role::parse("root").unwrap_err().contains("admin, strategic"));
        assert_eq!(Permission::parse("monitoring:write"), Ok(Permission::MonitoringWrite));
        let json = serde_json::to_string(&Permission::Shift).unwrap();
        assert_eq!(json, "\"logistics:shift\"");
        assert_eq!(serde_json::from_str::<Permission>(&json).unwrap(), Permission::Shift);
    }

    #[test]
    fn a_role_needs_exactly_its_scope() {
        assert!(user(Role::Tactical, Some("GS-IDF"), None).check().is_ok());
        assert!(user(Role::Tactical, None, None).check().is_err());
        assert!(user(Role::Partner, None, Some("ATOS")).check().is_ok());
        assert!(user(Role::Partner, Some("GS-IDF"), Some("ATOS")).check().is_err());
        assert!(user(Role::Viewer, Some("GS-IDF"), None).check().is_err());
        assert!(user(Role::Admin, None, None).check().is_ok());
    }

    #[test]
    fn a_token_never_grants_more_than_its_user() {
        let viewer = user(Role::Viewer, None, None);
        let t = TokenIssued {
            id: "t1".into(),
            user: viewer.name.clone(),
            label: String::new(),
            scopes: vec![Permission::WallRead, Permission::MonitoringWrite],
            expires_at: None,
            hash: String::new(),
            parent: None,
        };
        let p = Principal::of_token(&viewer, &t);
        assert_eq!(p.permissions(), [Permission::WallRead]);
        assert_eq!(p.actor.as_str(), "user:u/token:t1");
        assert!(!p.may(Permission::MonitoringWrite), "the user does not hold it");
        assert!(!p.may(Permission::LogisticsRead), "neither does the token");
    }

    /// A state with a centre, a group and its sub-group, one site each.
    fn three_levels() -> State {
        use crate::registry::*;
        let mut st = State::new();
        let org = |id: &str, parent: Option<&str>| Organization {
            id: OrgId::parse(id).unwrap(),
            name: id.into(),
            level: OrgLevel::Tactical,
            parent_id: parent.map(|p| OrgId::parse(p).unwrap()),
            attributes: Attributes::new(),
        };
        let site = |id: &str, org: &str| Site {
            id: crate::ids::SiteId::parse(id).unwrap(),
            name: id.into(),
            kind: SiteKind::Depot,
            lat: 48.0,
            lon: 2.0,
            organization_id: OrgId::parse(org).unwrap(),
            city: String::new(),
            attributes: Attributes::new(),
        };
        let events = [
            Event::OrganizationUpserted(org("CPCO", None)),
            Event::OrganizationUpserted(org("GS-IDF", Some("CPCO"))),
            Event::OrganizationUpserted(org("GS-IDF-EST", Some("GS-IDF"))),
            Event::OrganizationUpserted(org("GS-MRS", Some("CPCO"))),
            Event::SiteUpserted(site("VIN", "GS-IDF")),
            Event::SiteUpserted(site("MLV", "GS-IDF-EST")),
            Event::SiteUpserted(site("AUB", "GS-MRS")),
        ];
        for (i, event) in events.into_iter().enumerate() {
            st.apply(&Envelope {
                seq: i as u64 + 1,
                id: uuid::Uuid::nil(),
                time: DateTime::from_timestamp(1_000, 0).unwrap(),
                actor: Actor::system("test"),
                origin: "n".into(),
                source: "test".into(),
                event,
            });
        }
        st
    }

    #[test]
    fn a_tactical_reach_is_its_organisation_and_its_children() {
        let st = three_levels();
        let idf = Principal::of_user(&user(Role::Tactical, Some("GS-IDF"), None), Credential::Password, None);
        let v = idf.view(&st);
        let sites: Vec<&str> = ["VIN", "MLV", "AUB"].into_iter().filter(|s| v.site(&st, s)).collect();
        assert_eq!(sites, ["VIN", "MLV"], "itself and its child, not its sibling");
        let may = |p| idf.may(p);
        let stock = |site: &str| {
            Event::StockCounted(crate::registry::StockCount {
                site_id: crate::ids::SiteId::parse(site).unwrap(),
                lines: vec![],
            })
        };
        assert!(v.may_write(&st, &stock("MLV"), may).is_ok());
        assert_eq!(v.may_write(&st, &stock("AUB"), may).unwrap_err(), "stock at site AUB is outside your reach");
        let env = |event| Envelope {
            seq: 99,
            id: uuid::Uuid::nil(),
            time: DateTime::from_timestamp(1_000, 0).unwrap(),
            actor: Actor::system("test"),
            origin: "n".into(),
            source: "test".into(),
            event,
        };
        assert!(v.event(&st, &env(stock("VIN")), may));
        assert!(!v.event(&st, &env(stock("AUB")), may));
        let token = Event::TokenRevoked(TokenRevoked { id: "t".into() });
        assert!(!v.event(&st, &env(token.clone()), may), "accounts are for administrators");
        let admin = Principal::of_user(&user(Role::Admin, None, None), Credential::Password, None);
        assert!(admin.view(&st).event(&st, &env(token), |p| admin.may(p)));
        // A viewer (a wall screen) reads the wall only: no stock event, and it writes nothing.
        let viewer = Principal::of_user(&user(Role::Viewer, None, None), Credential::Password, None);
        let vv = viewer.view(&st);
        assert!(!vv.event(&st, &env(stock("AUB")), |p| viewer.may(p)));
        assert!(vv.may_write(&st, &stock("AUB"), |p| viewer.may(p)).unwrap_err().contains("logistics:write"));
    }

    #[test]
    fn tokens_expire_and_revocations_stick() {
        let t0 = DateTime::from_timestamp(1_000, 0).unwrap();
        let rec = |expires: Option<i64>, revoked: Option<i64>| TokenRecord {
            token: TokenIssued {
                id: "t".into(),
                user: UserName::parse("u").unwrap(),
                label: String::new(),
                scopes: vec![],
                expires_at: expires.map(|s| DateTime::from_timestamp(s, 0).unwrap()),
                hash: String::new(),
                parent: None,
            },
            issued_at: t0,
            revoked_at: revoked.map(|s| DateTime::from_timestamp(s, 0).unwrap()),
        };
        assert!(rec(None, None).valid_at(t0));
        assert!(rec(Some(2_000), None).valid_at(t0));
        assert!(!rec(Some(1_000), None).valid_at(t0), "expired at the instant");
        assert!(!rec(None, Some(900)).valid_at(t0));
    }
}
