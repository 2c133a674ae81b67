//! Layered configuration: built-in defaults < `vigie.toml` (or `--config FILE`) < `VIGIE__SECTION__KEY`
//! environment variables < command-line flags. `vigie config` prints the defaults; `vigie config --effective`
//! prints the result of every layer (with secrets redacted).

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub storage: Storage,
    pub server: Server,
    pub node: Node,
    pub journal: JournalConfig,
    pub logistics: Logistics,
    pub monitoring: Monitoring,
    pub servicenow: ServiceNow,
    pub notify: Notify,
    pub incidents: Incidents,
    pub auth: Auth,
    pub ui: Ui,
    /// Reports for the chain of command (the reporting discipline).
    pub reports: Reports,
    /// Status pages per audience (`[status.partenaires]`…), reached by `/status/TOKEN` without an account.
    pub status: std::collections::BTreeMap<String, StatusConfig>,
}

/// Reports for the chain of command.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Reports {
    /// A site's stock is expected to be counted at least every this many hours: later, it is listed late and its
    /// organisation's duty officer reminded (once a day).
    pub count_every_h: u64,
    /// At every 3×8 hand-over (06:00, 14:00, 22:00, Paris), draft the national LOGSTAT and the SITREP as of the
    /// hand-over, for the incoming shift to approve and publish.
    pub draft_at_handover: bool,
}

impl Default for Reports {
    fn default() -> Self {
        Reports { count_every_h: 24, draft_at_handover: true }
    }
}

/// One audience's status page (docs/oncall.md): its link's token (a secret of at least 24 characters, never printed)
/// and what it shows.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StatusConfig {
    pub token: String,
    pub title: String,
    /// Suites shown (empty: all); `show_suites = false`: none.
    pub suites: Vec<String>,
    pub show_suites: bool,
    /// Sites shown (empty: all); `show_sites = false`: none.
    pub sites: Vec<String>,
    pub show_sites: bool,
    /// Only this partner's applications and incidents.
    pub partner: String,
    /// Incidents and their public updates (customer-visible comments) shown.
    pub incidents: bool,
}

impl Default for StatusConfig {
    fn default() -> Self {
        StatusConfig {
            token: String::new(),
            title: String::new(),
            suites: Vec::new(),
            show_suites: true,
            sites: Vec::new(),
            show_sites: true,
            partner: String::new(),
            incidents: true,
        }
    }
}

/// The web UI.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Ui {
    /// A tile server for a basemap under the map (`https://tiles.example/{z}/{x}/{y}.png`, Web Mercator); empty:
    /// the map draws only the outlines the binary carries, and needs nothing else.
    pub tile_url: String,
}

/// Sign-in and sessions. Users and tokens live in the journal (`vigie user add`, `/api/v1/users`, `/api/v1/tokens`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Auth {
    /// A browser session without a request for this long ends.
    pub session_idle_min: u64,
    /// Whatever the activity, a session ends after this.
    pub session_max_h: u64,
    /// Failed sign-ins allowed per address and per user name within `login_window_s`; then sign-ins are refused.
    pub login_max_failures: usize,
    pub login_window_s: u64,
    /// Mark the session cookie `Secure` (always done with TLS; set it behind a TLS-terminating proxy).
    pub secure_cookies: bool,
}

impl Default for Auth {
    fn default() -> Self {
        let o = vigie_server::ServerOptions::default();
        Auth {
            session_idle_min: o.sessions.idle.as_secs() / 60,
            session_max_h: o.sessions.max.as_secs() / 3600,
            login_max_failures: o.login_max_failures,
            login_window_s: o.login_window.as_secs(),
            secure_cookies: false,
        }
    }
}

impl Default for ServiceNow {
    fn default() -> Self {
        ServiceNow {
            sync_url: String::new(),
            sync_user: String::new(),
            sync_password: String::new(),
            sync_retry_max_s: 60,
        }
    }
}

/// Service levels of incidents.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Incidents {
    /// Minutes to respond (leave New), priorities 1 to 5.
    pub response_min: [u32; 5],
    /// Minutes to resolve, paused while On Hold, priorities 1 to 5.
    pub resolution_min: [u32; 5],
}

impl Default for Incidents {
    fn default() -> Self {
        let t = vigie_incidents::sla::Targets::default();
        Incidents { response_min: t.response_min, resolution_min: t.resolution_min }
    }
}

/// The ServiceNow-compatible Table API (`/api/now/table/incident`): its callers are Vigie users (Basic or token);
/// this section says where to push incidents.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ServiceNow {
    /// An external ServiceNow (`https://INSTANCE.service-now.com`) to push incidents to; empty: no sync.
    pub sync_url: String,
    pub sync_user: String,
    pub sync_password: String,
    /// Longest wait between attempts when the remote is down, in seconds.
    pub sync_retry_max_s: u64,
}

/// Paging the people on duty (docs/oncall.md): an SMTP relay on the premises; empty `smtp_host`: no message goes out.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Notify {
    pub smtp_host: String,
    pub smtp_port: u16,
    /// `none` (a relay on the premises, port 25), `starttls` (587), `tls` (465).
    pub smtp_security: String,
    pub smtp_user: String,
    pub smtp_password: String,
    /// The sender: `Vigie <vigie@toc.example>`.
    pub from: String,
    /// The certificate authority (PEM file) that signed the relay's certificate, when it is the premises' own.
    pub smtp_ca_file: std::path::PathBuf,
    /// Not acknowledged within this many minutes, the next level is paged.
    pub escalate_after_min: u64,
    /// Every level paged and nobody acknowledged: the chain starts again from level 1, this many times.
    pub escalation_repeats: u32,
    /// The key that signs one-click acknowledgement links; empty: a key kept in the data directory
    /// (`ack-link.key`, made once). The nodes of a cluster need the same key here.
    pub link_key: String,
    /// How long a link stays valid, in minutes.
    pub link_ttl_min: u64,
    /// Chat channels on the premises, by name (`[notify.webhooks.atos]`); a team's `webhook` column names one.
    pub webhooks: std::collections::BTreeMap<String, WebhookConfig>,
    /// SMS gateways, tried in order until one takes the message (`[[notify.sms]]`).
    pub sms: Vec<SmsConfig>,
    /// Pages of this priority or more urgent (1 is the most) also go by SMS.
    pub sms_up_to_priority: u8,
    /// An incident opened longer ago than this many minutes and never paged is not paged (switching paging on does
    /// not page every open incident).
    pub page_opened_within_min: u64,
    /// Voice gateways (a call reading the page), tried in order like the SMS ones (`[[notify.voice]]`).
    pub voice: Vec<SmsConfig>,
    /// Pages of this priority or more urgent also go by a voice call.
    pub voice_up_to_priority: u8,
    /// A person is warned by email this many minutes before their duty starts; 0: not warned.
    pub warn_before_shift_min: u64,
    /// A committed plan not shipped within this many minutes is late: its destination's duty officer is told.
    pub plan_ship_within_min: u64,
    /// A shipped plan not received this many minutes after its expected arrival is late.
    pub plan_late_after_min: u64,
    /// Items whose coverage is watched for each organisation (`[[notify.coverage]]`).
    pub coverage: Vec<CoverageConfig>,
}

/// An item watched: an organisation's coverage of it over `days` under `below_percent` of the need → its duty
/// officer is told, once a day while it stays under.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CoverageConfig {
    pub item: String,
    pub days: u32,
    pub below_percent: f64,
}

impl Default for CoverageConfig {
    fn default() -> Self {
        CoverageConfig { item: String::new(), days: 3, below_percent: 100.0 }
    }
}

/// An SMS gateway over HTTP: `body` is a template where `{to}` and `{text}` stand for the number and the message.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct SmsConfig {
    pub name: String,
    pub url: String,
    /// `application/json` or `application/x-www-form-urlencoded`.
    pub content_type: String,
    pub body: String,
    /// An `Authorization` header value (a secret: never printed).
    pub authorization: String,
}

/// An incoming webhook: its URL (a secret: never printed) and the body it takes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct WebhookConfig {
    pub url: String,
    /// `json`, `slack` (Mattermost too) or `teams`.
    pub format: String,
}

impl Default for Notify {
    fn default() -> Self {
        Notify {
            smtp_host: String::new(),
            smtp_port: 25,
            smtp_security: "none".into(),
            smtp_user: String::new(),
            smtp_password: String::new(),
            from: "Vigie <vigie@localhost>".into(),
            smtp_ca_file: Default::default(),
            escalate_after_min: 10,
            escalation_repeats: 1,
            link_key: String::new(),
            link_ttl_min: 240,
            webhooks: Default::default(),
            sms: Vec::new(),
            sms_up_to_priority: 2,
            page_opened_within_min: 60,
            voice: Vec::new(),
            voice_up_to_priority: 1,
            warn_before_shift_min: 30,
            plan_ship_within_min: 120,
            plan_late_after_min: 30,
            coverage: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Monitoring {
    /// Active checks (http, tcp, command) running at once.
    pub check_workers: usize,
    /// A PEM file of certificate authorities the http checks trust beside the bundled web roots (an internal PKI).
    pub ca_file: PathBuf,
    /// Where command checks find their programs: an absolute path or a bare name, found and resolved in these
    /// directories only; run without a shell (docs/monitoring.md).
    pub plugin_dirs: Vec<PathBuf>,
    /// Run plugins when Vigie runs as root; otherwise they are refused (UNKNOWN) and an unprivileged user is advised.
    pub allow_root_plugins: bool,
}

impl Default for Monitoring {
    fn default() -> Self {
        let o = vigie_server::ServerOptions::default();
        Monitoring {
            check_workers: o.check_workers,
            ca_file: PathBuf::new(),
            plugin_dirs: o.plugin_dirs,
            allow_root_plugins: o.allow_root_plugins,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Storage {
    /// Where Vigie keeps its files (the SQLite journal, the node id, the lock).
    pub data_dir: PathBuf,
    /// Empty: SQLite under `data_dir`. `postgres://USER:PASSWORD@HOST:PORT/DB`: PostgreSQL.
    pub database: String,
    /// PostgreSQL schema holding Vigie's tables.
    pub postgres_schema: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Server {
    pub listen: String,
    pub max_upload_mb: usize,
    /// Largest body of any other request (results, plans, incidents…), in MB.
    pub max_body_mb: usize,
    /// Serve HTTPS: the certificate chain (PEM) and its private key (PEM); both empty: plain HTTP.
    pub tls_cert: PathBuf,
    pub tls_key: PathBuf,
    /// A request's head (and a TLS handshake) must arrive within this, in seconds, from when the server waits for it.
    pub header_timeout_s: u64,
    /// A connection with no request in flight and no byte arriving for this long is closed, and so is one whose
    /// client leaves its answer unread this long, in seconds.
    pub keep_alive_s: u64,
    /// A request body must arrive within this, in seconds…
    pub body_timeout_s: u64,
    /// …and, after its first `header_timeout_s`, at this average rate at least, in bytes per second (0: none).
    pub body_min_rate: u64,
    /// Connections at once; beyond, new ones are closed at once. Lowered to what the file-descriptor limit allows.
    pub max_connections: usize,
    /// The URL users reach Vigie at, behind a proxy (`https://vigie.example`): absolute links are built from it,
    /// and browsers' writes from its origin are Vigie's own. Empty: the request's `Host`, when it is a plain host.
    pub public_url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Node {
    /// Written as the origin of every event, and the node's name in a cluster. Empty: generated once, kept in
    /// `DATA_DIR/node-id`.
    pub id: String,
    /// Cluster mode (PostgreSQL): the base URL the other nodes forward writes to (`http://10.0.0.5:8080`). Empty:
    /// `http://` and the address the server listens on (then it must not be 0.0.0.0).
    pub advertise: String,
    /// Cluster mode: how long the leader's lease lives without renewal, in milliseconds (a paused leader is
    /// replaced after this long; a dead one at once).
    pub lease_ttl_ms: u64,
    /// Cluster mode: how often the lease is renewed or tried, in milliseconds.
    pub lease_tick_ms: u64,
}

impl Default for Node {
    fn default() -> Self {
        Node { id: String::new(), advertise: String::new(), lease_ttl_ms: 3000, lease_tick_ms: 250 }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct JournalConfig {
    /// Most events written in one transaction by group commit.
    pub max_batch_events: usize,
    /// PostgreSQL: connecting (TCP, start-up, authentication) must succeed within this many seconds.
    pub connect_timeout_s: u64,
    /// PostgreSQL: each statement's limit (`statement_timeout`), in seconds.
    pub statement_timeout_s: u64,
    /// Longest wait between two reconnection attempts while storage is unavailable, in seconds.
    pub retry_max_s: u64,
    /// A snapshot of the projection is saved in the journal's storage after this many events (0: never), so that a
    /// start replays only what follows it…
    pub snapshot_every_events: u64,
    /// …or after this many minutes when anything was written since the last one.
    pub snapshot_every_min: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Logistics {
    /// Road distance = great-circle distance × this factor (until a road network is loaded).
    pub detour_factor: f64,
    /// Road speed for estimates when neither the vehicle nor its kind says one.
    pub default_speed_kmh: f64,
    /// Road speed per vehicle kind, for vehicles that state none.
    pub speed_kmh: std::collections::BTreeMap<String, f64>,
}

impl Default for Logistics {
    fn default() -> Self {
        let t = vigie_logistics::Travel::default();
        Logistics { detour_factor: t.detour_factor, default_speed_kmh: t.default_speed_kmh, speed_kmh: t.speed_by_kind }
    }
}

impl Logistics {
    pub fn travel(&self) -> vigie_logistics::Travel {
        vigie_logistics::Travel {
            detour_factor: self.detour_factor,
            speed_by_kind: self.speed_kmh.clone(),
            default_speed_kmh: self.default_speed_kmh,
        }
    }
}

impl Default for Storage {
    fn default() -> Self {
        Storage { data_dir: "./vigie-data".into(), database: String::new(), postgres_schema: "vigie".into() }
    }
}
impl Default for Server {
    fn default() -> Self {
        let o = vigie_server::ServerOptions::default();
        Server {
            listen: "127.0.0.1:8080".into(),
            max_upload_mb: 256,
            max_body_mb: 8,
            tls_cert: PathBuf::new(),
            tls_key: PathBuf::new(),
            header_timeout_s: o.header_timeout.as_secs(),
            keep_alive_s: o.keep_alive_timeout.as_secs(),
            body_timeout_s: o.body_timeout.as_secs(),
            body_min_rate: o.body_min_rate,
            max_connections: o.max_connections,
            public_url: String::new(),
        }
    }
}
impl Default for JournalConfig {
    fn default() -> Self {
        JournalConfig {
            max_batch_events: 50_000,
            connect_timeout_s: 5,
            statement_timeout_s: 30,
            retry_max_s: 5,
            snapshot_every_events: 500_000,
            snapshot_every_min: 15,
        }
    }
}

/// The defaults as TOML, with a comment on top.
pub fn defaults_toml() -> String {
    let body = toml::to_string_pretty(&Config::default()).expect("defaults serialize");
    format!(
        "# Vigie configuration: the defaults. Put changes in vigie.toml, or set VIGIE__SECTION__KEY\n\
         # (e.g. VIGIE__SERVER__LISTEN=0.0.0.0:8080); command-line flags win over both.\n\n{body}"
    )
}

fn merge(base: &mut toml::Value, over: toml::Value) {
    match (base, over) {
        (toml::Value::Table(b), toml::Value::Table(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (slot, v) => *slot = v,
    }
}

fn env_value(raw: &str) -> toml::Value {
    if let Ok(i) = raw.parse::<i64>() {
        return toml::Value::Integer(i);
    }
    if let Ok(f) = raw.parse::<f64>() {
        return toml::Value::Float(f);
    }
    match raw {
        "true" => toml::Value::Boolean(true),
        "false" => toml::Value::Boolean(false),
        _ => toml::Value::String(raw.to_string()),
    }
}

/// Loads the layers. `file`: an explicit config file (must exist); without it `./vigie.toml` is read if present.
pub fn load(file: Option<&Path>, env: impl Iterator<Item = (String, String)>) -> anyhow::Result<Config> {
    let mut value = toml::Value::try_from(Config::default())?;
    let path = match file {
        Some(p) => Some(p.to_path_buf()),
        None => Some(PathBuf::from("vigie.toml")).filter(|p| p.exists()),
    };
    if let Some(p) = path {
        let text = std::fs::read_to_string(&p).with_context(|| format!("cannot read {}", p.display()))?;
        let v: toml::Value = toml::from_str(&text).with_context(|| format!("{} is not valid TOML", p.display()))?;
        merge(&mut value, v);
    }
    for (k, v) in env {
        let Some(rest) = k.strip_prefix("VIGIE__") else {
            continue;
        };
        let path: Vec<String> = rest.split("__").map(|s| s.to_lowercase()).collect();
        if path.len() != 2 || path.iter().any(String::is_empty) {
            bail!("{k}: expected VIGIE__SECTION__KEY");
        }
        let mut over = toml::value::Table::new();
        let mut inner = toml::value::Table::new();
        inner.insert(path[1].clone(), env_value(&v));
        over.insert(path[0].clone(), toml::Value::Table(inner));
        merge(&mut value, toml::Value::Table(over));
    }
    let cfg: Config = value.try_into().context("invalid configuration")?;
    // NaN fails both checks: it is refused too.
    if cfg.logistics.detour_factor.is_nan() || cfg.logistics.detour_factor < 1.0 {
        bail!("logistics.detour_factor must be at least 1, found {}", cfg.logistics.detour_factor);
    }
    let speeds = std::iter::once(cfg.logistics.default_speed_kmh).chain(cfg.logistics.speed_kmh.values().copied());
    if speeds.into_iter().any(|v| v.is_nan() || v <= 0.0) {
        bail!("logistics speeds must be above 0 km/h");
    }
    for (table, g) in cfg.notify.sms.iter().map(|g| ("sms", g)).chain(cfg.notify.voice.iter().map(|g| ("voice", g))) {
        if !(g.url.starts_with("http://") || g.url.starts_with("https://")) || !g.body.contains("{text}") {
            bail!("[[notify.{table}]] {:?}: an http(s) url and a body template holding {{to}} and {{text}}", g.name);
        }
    }
    let mut tokens = std::collections::HashSet::new();
    for (name, s) in &cfg.status {
        if s.token.chars().count() < 24 || !s.token.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            bail!("[status.{name}] token: at least 24 letters, digits, `-` or `_` (it is the page's only key)");
        }
        if !tokens.insert(s.token.as_str()) {
            bail!("[status.{name}] token: another audience has the same");
        }
    }
    for c in &cfg.notify.coverage {
        if c.item.is_empty() || c.days == 0 || !(0.0..=1000.0).contains(&c.below_percent) {
            bail!("[[notify.coverage]] {:?}: an item, days at least 1, below_percent between 0 and 1000", c.item);
        }
    }
    for (name, w) in &cfg.notify.webhooks {
        if !matches!(w.format.as_str(), "json" | "slack" | "mattermost" | "teams") {
            bail!("[notify.webhooks.{name}] format {:?}: expected json, slack, mattermost or teams", w.format);
        }
        if !(w.url.starts_with("http://") || w.url.starts_with("https://")) {
            bail!("[notify.webhooks.{name}] url: expected an http:// or https:// address");
        }
    }
    Ok(cfg)
}

impl Config {
    /// The configuration as TOML with the database password hidden.
    pub fn redacted_toml(&self) -> String {
        let mut c = self.clone();
        c.storage.database = vigie_journal_postgres::redact_url(&c.storage.database);
        if !c.servicenow.sync_password.is_empty() {
            c.servicenow.sync_password = "********".into();
        }
        if !c.notify.smtp_password.is_empty() {
            c.notify.smtp_password = "********".into();
        }
        if !c.notify.link_key.is_empty() {
            c.notify.link_key = "********".into();
        }
        for w in c.notify.webhooks.values_mut() {
            w.url = "********".into();
        }
        for s in c.status.values_mut() {
            s.token = "********".into();
        }
        for g in c.notify.sms.iter_mut().chain(c.notify.voice.iter_mut()) {
            g.url = "********".into();
            if !g.authorization.is_empty() {
                g.authorization = "********".into();
            }
        }
        toml::to_string_pretty(&c).expect("config serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Iterator<Item = (String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>().into_iter()
    }

    #[test]
    fn layers_apply_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("vigie.toml");
        std::fs::write(&file, "[server]\nlisten = \"0.0.0.0:9000\"\nmax_upload_mb = 10\n").unwrap();
        let c = load(Some(&file), env(&[("VIGIE__SERVER__MAX_UPLOAD_MB", "20"), ("OTHER", "x")])).unwrap();
        assert_eq!(c.server.listen, "0.0.0.0:9000", "file over defaults");
        assert_eq!(c.server.max_upload_mb, 20, "env over file");
        assert_eq!(c.storage.data_dir, PathBuf::from("./vigie-data"), "defaults stay");
    }

    #[test]
    fn mistakes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("vigie.toml");
        std::fs::write(&file, "[server]\nlisten_on = \"x\"\n").unwrap();
        let e = format!("{:#}", load(Some(&file), env(&[])).unwrap_err());
        assert!(e.contains("listen_on"), "{e}");
        assert!(load(None, env(&[("VIGIE__SERVER", "x")])).is_err());
        assert!(load(None, env(&[("VIGIE__SERVER__MAX_UPLOAD_MB", "many")])).is_err());
    }

    #[test]
    fn defaults_print_and_parse_back() {
        let text = defaults_toml();
        let back: Config = toml::from_str(&text).unwrap();
        assert_eq!(back, Config::default());
    }
}
