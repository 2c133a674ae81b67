//! Users, API tokens and the facts of access (sessions opened and closed, refusals), as journal events.
//!
//! Tokens: issuing one needs `tokens:issue`; for another user, `users:admin` too. A token never carries more than
//! its issuer holds (its scopes are within the caller's permissions and the user's role), never outlives the
//! credential it was issued through (its expiry is capped at that credential's), and dies with it: a token issued
//! through a token or a browser session records it as its parent and is valid only while the parent is
//! ([`vigie_domain::access::Accounts::token_valid`]). A password (or the local operator) issues free-standing tokens.

use crate::{credentials, limits, AppError, Caller};
use chrono::{DateTime, Utc};
use vigie_domain::access::{
    AccessDenied, Credential, Permission, Role, SessionClosed, SessionOpened, TokenIssued, TokenParent, TokenRevoked,
    User, UserName,
};
use vigie_domain::{Actor, Event, NewEvent, OrgId, PartnerId};
use vigie_journal::Journal;

/// What happens to a user's password.
#[derive(Debug, Clone)]
pub enum Password {
    /// Unchanged (a new user without one gets a generated one).
    Keep,
    Set(String),
    /// A new one, made and shown once.
    Generate,
}

/// A user to create, or to replace whole.
#[derive(Debug, Clone)]
pub struct UserChange {
    pub name: UserName,
    pub role: Role,
    pub organization_id: Option<OrgId>,
    pub partner_id: Option<PartnerId>,
    pub password: Password,
    pub disabled: bool,
}

/// A user as recorded.
#[derive(Debug, Clone)]
pub struct SavedUser {
    pub user: User,
    pub created: bool,
    /// A generated password, to show once.
    pub password_shown: Option<String>,
}

/// Creates or replaces a user (`users:admin`). Its organisation or partner must exist.
pub fn save_user(journal: &Journal, caller: &Caller, change: UserChange) -> Result<SavedUser, AppError> {
    caller.need(Permission::Users)?;
    let existing = journal.state().accounts.users.get(&change.name).cloned();
    let (password_hash, password_shown) = match (&change.password, &existing) {
        (Password::Set(p), _) => (credentials::hash_password(p).map_err(|e| AppError::field("password", e))?, None),
        (Password::Keep, Some(u)) => (u.password_hash.clone(), None),
        (Password::Keep, None) | (Password::Generate, _) => {
            let p = credentials::random_secret();
            (credentials::hash_password(&p).map_err(AppError::Internal)?, Some(p))
        }
    };
    let user = User {
        name: change.name,
        role: change.role,
        organization_id: change.organization_id,
        partner_id: change.partner_id,
        password_hash,
        disabled: change.disabled,
    };
    user.check().map_err(|e| AppError::field("role", e))?;
    let event = caller.event(Event::UserUpserted(user.clone()));
    let recorded = user.clone();
    let (_, created) = journal.execute(move |st| {
        if let Some(o) = &user.organization_id {
            if !st.organizations.contains_key(o) {
                return Err(AppError::field("organization_id", format!("organisation {o} is not in the registry")));
            }
        }
        if let Some(p) = &user.partner_id {
            if !st.toc.partners.contains_key(p) {
                return Err(AppError::field("partner_id", format!("partner {p} is not in the registry")));
            }
        }
        let created = !st.accounts.users.contains_key(&user.name);
        Ok((vec![event], created))
    })?;
    Ok(SavedUser { user: recorded, created, password_shown })
}

/// A token to issue.
#[derive(Debug, Clone, Default)]
pub struct TokenRequest {
    /// For whom; `None`: the caller itself.
    pub user: Option<UserName>,
    pub label: String,
    /// Permissions; empty: everything the caller may hand out to that user, but `tokens:issue` (a token mints
    /// tokens only when asked for explicitly).
    pub scopes: Vec<Permission>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A token, issued: the secret is shown once and never kept.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub id: String,
    pub token: String,
    pub user: UserName,
    pub scopes: Vec<Permission>,
    pub expires_at: Option<DateTime<Utc>>,
    pub parent: Option<TokenParent>,
}

/// Issues a token (see the module's documentation for what it may carry and how long it lives).
pub fn issue_token(
    journal: &Journal,
    caller: &Caller,
    req: TokenRequest,
    now: DateTime<Utc>,
) -> Result<IssuedToken, AppError> {
    caller.need(Permission::TokensIssue)?;
    limits::name("label", &req.label)?;
    let p = &caller.principal;
    let user = match (req.user, &p.user) {
        (Some(u), Some(me)) if &u == me => u,
        (Some(u), _) => {
            if !p.may(Permission::Users) {
                return Err(AppError::Forbidden("only an administrator issues tokens for another user".into()));
            }
            u
        }
        (None, Some(me)) => me.clone(),
        (None, None) => return Err(AppError::field("user", "name the user the token is for")),
    };
    if let Some(s) = req.scopes.iter().find(|s| !p.may(**s)) {
        return Err(AppError::Forbidden(format!("you cannot hand out the scope {s}, which you do not hold").into()));
    }
    let parent = match &p.credential {
        Credential::Token(id) => Some(TokenParent::Token(id.clone())),
        Credential::Session(id) => Some(TokenParent::Session(id.clone())),
        Credential::Password | Credential::Internal => None,
    };
    // Never beyond the issuing credential's end.
    let expires_at = match (req.expires_at, p.expires_at) {
        (Some(e), Some(cap)) => Some(e.min(cap)),
        (e, cap) => e.or(cap),
    };
    if expires_at.is_some_and(|e| e <= now) {
        return Err(AppError::field("expires_at", "the expiry is in the past"));
    }
    let (id, secret) = credentials::new_token();
    let shown = format!("{}{id}_{secret}", credentials::TOKEN_PREFIX);
    let hash = credentials::token_hash(&secret);
    let (asked, holds, label) = (req.scopes, p.permissions().to_vec(), req.label);
    let (tid, tparent, target) = (id.clone(), parent.clone(), user.clone());
    let actor = caller.actor().clone();
    let source = caller.source.clone();
    let (_, scopes) = journal.execute(move |st| {
        let u = st.accounts.users.get(&target).ok_or_else(|| AppError::not_found("user", &target))?;
        if u.disabled {
            return Err(AppError::Conflict(format!("user {target} is disabled").into()));
        }
        let granted = u.role.permissions();
        let scopes: Vec<Permission> = if asked.is_empty() {
            granted.iter().copied().filter(|s| holds.contains(s) && *s != Permission::TokensIssue).collect()
        } else {
            asked
        };
        if let Some(s) = scopes.iter().find(|s| !granted.contains(s)) {
            return Err(AppError::Forbidden(format!("a {} user cannot hold the scope {s}", u.role).into()));
        }
        if scopes.is_empty() {
            return Err(AppError::field("scopes", "the token would carry no permission"));
        }
        // The parent must still be valid now, inside the command (it may have been revoked meanwhile).
        let parent_ok = match &tparent {
            Some(TokenParent::Token(t)) => st.accounts.token_valid(t, now),
            Some(TokenParent::Session(s)) => st.accounts.sessions.contains_key(s),
            None => true,
        };
        if !parent_ok {
            return Err(AppError::Forbidden("the credential you act through has ended".into()));
        }
        let t = TokenIssued { id: tid, user: target, label, scopes: scopes.clone(), expires_at, hash, parent: tparent };
        Ok((vec![NewEvent { actor, source, event: Event::TokenIssued(t) }], scopes))
    })?;
    Ok(IssuedToken { id, token: shown, user, scopes, expires_at, parent })
}

/// Revokes a token: the caller's own (its user's), or any with `users:admin`. Tokens issued through it die with it.
pub fn revoke_token(journal: &Journal, caller: &Caller, id: &str) -> Result<(), AppError> {
    let owner = (!caller.principal.may(Permission::Users)).then(|| caller.principal.user.clone());
    let event = caller.event(Event::TokenRevoked(TokenRevoked { id: id.to_string() }));
    let id = id.to_string();
    journal.execute(move |st| {
        let t =
            st.accounts.tokens.get(&id).filter(|t| owner.as_ref().is_none_or(|o| o.as_ref() == Some(&t.token.user)));
        let t = t.ok_or_else(|| AppError::not_found("token", &id))?;
        if t.revoked_at.is_some() {
            return Err(AppError::Conflict(format!("token {id} is already revoked").into()));
        }
        Ok((vec![event], ()))
    })?;
    Ok(())
}

/// Records a browser session opened by `user` from `from` (`id`: the hash of its cookie).
pub fn session_opened(journal: &Journal, caller: &Caller, id: String, from: String) -> Result<(), AppError> {
    let user =
        caller.principal.user.clone().ok_or_else(|| AppError::Forbidden("only a user opens a session".into()))?;
    journal.append(vec![caller.event(Event::SessionOpened(SessionOpened { user, from, id }))])?;
    Ok(())
}

/// Records the end of a session (signed out, idle, too old): the tokens issued in it die with it.
pub fn session_closed(journal: &Journal, id: String, reason: &str) -> Result<(), AppError> {
    let event = Event::SessionClosed(SessionClosed { id, reason: reason.into() });
    let new = NewEvent { actor: Actor::system("sessions"), source: format!("session {reason}"), event };
    journal.append(vec![new])?;
    Ok(())
}

/// Records a refused request or a failed sign-in, for the audit. `actor` is the claimed identity, or
/// `anonymous@ADDRESS`.
pub fn access_denied(journal: &Journal, actor: Actor, denied: AccessDenied) -> Result<(), AppError> {
    let source = format!("{} {}", denied.method, denied.path);
    journal.append(vec![NewEvent { actor, source, event: Event::AccessDenied(denied) }])?;
    Ok(())
}
