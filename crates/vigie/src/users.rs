//! `vigie user …` and `vigie token …`: users and API tokens from the command line (journal events like any
//! change), the first administrator at first start, and the demo's users.

use anyhow::{anyhow, bail, Context};
use clap::Subcommand;
use std::io::Read;
use vigie_app::accounts::{self, Password, UserChange};
use vigie_app::{credentials, Caller};
use vigie_domain::access::{Permission, Role, User, UserName};
use vigie_domain::{Actor, OrgId, PartnerId};
use vigie_journal::Journal;

/// The environment variable that gives a password to `vigie user add|passwd` (instead of one made and shown once).
pub const PASSWORD_ENV: &str = "VIGIE_PASSWORD";
/// The environment variable that gives the first administrator's password at first start.
pub const ADMIN_PASSWORD_ENV: &str = "VIGIE_ADMIN_PASSWORD";

#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Create a user (or replace its role and reach). The password is read from $VIGIE_PASSWORD or, with
    /// --password-stdin, from standard input; otherwise one is made and printed once.
    Add {
        name: String,
        /// admin, strategic, tactical, toc, partner, viewer.
        #[arg(long)]
        role: String,
        /// The organisation of a tactical user (it reaches its children too).
        #[arg(long)]
        org: Option<String>,
        /// The partner (support group) of a partner user.
        #[arg(long)]
        partner: Option<String>,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a new password (same sources as `add`).
    Passwd {
        name: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable a user: its sessions and tokens stop working at once.
    Disable { name: String },
    /// Enable a disabled user.
    Enable { name: String },
    /// List users (never their passwords).
    List,
}

#[derive(Debug, Subcommand)]
pub enum TokenAction {
    /// Issue a token for a user (printed once; only its hash is kept).
    Issue {
        #[arg(long)]
        user: String,
        /// Comma-separated permissions (`monitoring:write,monitoring:read`…); default: all of the user's role.
        #[arg(long)]
        scopes: Option<String>,
        /// Days until it expires; 0: never.
        #[arg(long, default_value_t = 90)]
        expires_days: u32,
        #[arg(long, default_value = "")]
        label: String,
    },
    /// Revoke a token by its id.
    Revoke { id: String },
    /// List tokens (ids, users, scopes, expiry; never secrets).
    List,
}

fn password(stdin: bool) -> anyhow::Result<Option<String>> {
    if stdin {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).context("cannot read the password from standard input")?;
        return Ok(Some(s.trim_end_matches(['\n', '\r']).to_string()));
    }
    Ok(std::env::var(PASSWORD_ENV).ok().filter(|p| !p.is_empty()))
}

fn find(journal: &Journal, name: &UserName) -> anyhow::Result<User> {
    journal.state().accounts.users.get(name).cloned().ok_or_else(|| anyhow!("user {name} does not exist"))
}

/// The same user, with a change.
fn change_of(u: User, password: Password) -> UserChange {
    UserChange {
        name: u.name,
        role: u.role,
        organization_id: u.organization_id,
        partner_id: u.partner_id,
        password,
        disabled: u.disabled,
    }
}

/// Runs a user command on an open journal.
pub fn user(journal: &Journal, action: UserAction, actor: Actor) -> anyhow::Result<String> {
    let caller = |what: &str| Caller::internal(actor.clone(), format!("cli:user {what}"));
    match action {
        UserAction::Add { name, role, org, partner, password_stdin } => {
            let name = UserName::parse(&name)?;
            let role = Role::parse(&role).map_err(|e| anyhow!("--role: {e}"))?;
            let change = UserChange {
                name: name.clone(),
                role,
                organization_id: org.map(|o| OrgId::parse(&o)).transpose().map_err(|e| anyhow!("--org: {e}"))?,
                partner_id: partner.map(|p| PartnerId::parse(&p)).transpose().map_err(|e| anyhow!("--partner: {e}"))?,
                password: password(password_stdin)?.map_or(Password::Keep, Password::Set),
                disabled: false,
            };
            let saved = accounts::save_user(journal, &caller("add"), change)?;
            let verb = if saved.created { "created" } else { "updated" };
            Ok(match saved.password_shown {
                Some(p) => format!("user {name} ({role}) {verb}; password (shown once): {p}"),
                None => format!("user {name} ({role}) {verb}"),
            })
        }
        UserAction::Passwd { name, password_stdin } => {
            let name = UserName::parse(&name)?;
            let u = find(journal, &name)?;
            let given = password(password_stdin)?;
            let shown = given.is_none();
            let saved = accounts::save_user(
                journal,
                &caller("passwd"),
                change_of(u, given.map_or(Password::Generate, Password::Set)),
            )?;
            Ok(match (shown, saved.password_shown) {
                (true, Some(p)) => format!("user {name}: new password (shown once): {p}"),
                _ => format!("user {name}: password changed"),
            })
        }
        UserAction::Disable { name } | UserAction::Enable { name } if name.is_empty() => bail!("name a user"),
        UserAction::Disable { name } => {
            let mut u = find(journal, &UserName::parse(&name)?)?;
            u.disabled = true;
            accounts::save_user(journal, &caller("disable"), change_of(u, Password::Keep))?;
            Ok(format!("user {name} disabled"))
        }
        UserAction::Enable { name } => {
            let mut u = find(journal, &UserName::parse(&name)?)?;
            u.disabled = false;
            accounts::save_user(journal, &caller("enable"), change_of(u, Password::Keep))?;
            Ok(format!("user {name} enabled"))
        }
        UserAction::List => {
            let st = journal.state();
            let mut out = String::new();
            for u in st.accounts.users.values() {
                let reach = u
                    .organization_id
                    .as_ref()
                    .map(|o| o.to_string())
                    .or(u.partner_id.as_ref().map(|p| p.to_string()))
                    .unwrap_or_else(|| "tout".into());
                out += &format!(
                    "{:<20} {:<10} {:<12}{}\n",
                    u.name,
                    u.role.as_str(),
                    reach,
                    if u.disabled { " (désactivé)" } else { "" }
                );
            }
            Ok(out)
        }
    }
}

/// Runs a token command on an open journal.
pub fn token(journal: &Journal, action: TokenAction, actor: Actor) -> anyhow::Result<String> {
    match action {
        TokenAction::Issue { user, scopes, expires_days, label } => {
            let scopes = scopes
                .map(|s| {
                    s.split(',')
                        .map(|p| Permission::parse(p).map_err(|e| anyhow!("--scopes: {e}")))
                        .collect::<anyhow::Result<Vec<_>>>()
                })
                .transpose()?
                .unwrap_or_default();
            let now = chrono::Utc::now();
            let req = accounts::TokenRequest {
                user: Some(UserName::parse(&user)?),
                label,
                scopes,
                expires_at: (expires_days > 0).then(|| now + chrono::Duration::days(expires_days as i64)),
            };
            let t = accounts::issue_token(journal, &Caller::internal(actor, "cli:token issue"), req, now)?;
            Ok(format!("token {} for {user} (shown once):\n{}", t.id, t.token))
        }
        TokenAction::Revoke { id } => {
            accounts::revoke_token(journal, &Caller::internal(actor, format!("cli:token revoke {id}")), &id)?;
            Ok(format!("token {id} revoked"))
        }
        TokenAction::List => {
            let st = journal.state();
            let now = chrono::Utc::now();
            let mut out = String::new();
            for t in st.accounts.tokens.values() {
                let scopes: Vec<&str> = t.token.scopes.iter().map(|p| p.as_str()).collect();
                let state = match (t.revoked_at, t.token.expires_at) {
                    (Some(_), _) => "révoqué".to_string(),
                    (None, Some(e)) if e <= now => "expiré".to_string(),
                    (None, Some(e)) => {
                        format!("expire le {}", vigie_domain::paris::to_local(e).format("%Y-%m-%d %H:%M"))
                    }
                    (None, None) => "sans expiration".to_string(),
                };
                out += &format!(
                    "{}  {:<16} {:<24} {}  [{}]\n",
                    t.token.id,
                    t.token.user,
                    t.token.label,
                    state,
                    scopes.join(",")
                );
            }
            Ok(out)
        }
    }
}

/// At first start (no user at all), creates `admin` with the password of $VIGIE_ADMIN_PASSWORD, or a new one
/// printed once on standard error.
pub fn first_admin(journal: &Journal) -> anyhow::Result<()> {
    if !journal.state().accounts.users.is_empty() {
        return Ok(());
    }
    let (password, shown) = match std::env::var(ADMIN_PASSWORD_ENV).ok().filter(|p| !p.is_empty()) {
        Some(p) => (p, false),
        None => (credentials::random_secret(), true),
    };
    credentials::check_password(&password).map_err(|e| anyhow!("{ADMIN_PASSWORD_ENV}: {e}"))?;
    let change = UserChange {
        name: UserName::parse("admin").expect("valid"),
        role: Role::Admin,
        organization_id: None,
        partner_id: None,
        password: Password::Set(password.clone()),
        disabled: false,
    };
    accounts::save_user(journal, &Caller::internal(Actor::system("first-start"), "first start"), change)?;
    if shown {
        eprintln!(
            "first start: administrator `admin` created; password (shown once, change it with `vigie user passwd \
             admin`): {password}"
        );
    } else {
        eprintln!("first start: administrator `admin` created with the password of ${ADMIN_PASSWORD_ENV}");
    }
    Ok(())
}

type DemoUser = (&'static str, Role, Option<&'static str>, Option<&'static str>, &'static str);

/// The demo's users, one per role, with passwords written in the README (demo only): (name, role, org, partner,
/// password).
pub const DEMO_USERS: &[DemoUser] = &[
    ("admin", Role::Admin, None, None, "demo-admin"),
    ("cpco", Role::Strategic, None, None, "demo-cpco"),
    ("gsbdd-idf", Role::Tactical, Some("GSBDD-IDF"), None, "demo-idf"),
    ("gsbdd-mrs", Role::Tactical, Some("GSBDD-MRS"), None, "demo-mrs"),
    ("toc", Role::Toc, None, None, "demo-toc"),
    ("atos", Role::Partner, None, Some("ATOS"), "demo-atos"),
    ("mur", Role::Viewer, None, None, "demo-mur"),
];

/// Creates the demo users that do not exist yet.
pub fn demo_users(journal: &Journal) -> anyhow::Result<usize> {
    let mut created = 0;
    for (name, role, org, partner, password) in DEMO_USERS {
        let name = UserName::parse(name).expect("valid");
        if journal.state().accounts.users.contains_key(&name) {
            continue;
        }
        let change = UserChange {
            name,
            role: *role,
            organization_id: org.map(|o| OrgId::parse(o).expect("valid")),
            partner_id: partner.map(|p| PartnerId::parse(p).expect("valid")),
            password: Password::Set(password.to_string()),
            disabled: false,
        };
        accounts::save_user(journal, &Caller::internal(Actor::system("demo"), "demo"), change)?;
        created += 1;
    }
    Ok(created)
}
