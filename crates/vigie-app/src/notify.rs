//! Notifications (issue 17), decided here: which messages are due (an open incident reaching a team pages its level
//! 1 on duty; not acknowledged within the escalation delay, the next level; once per incident and level, so that a
//! storm of alerts that opens one incident pages once), what they say (in French), what becomes of each send (sent;
//! failed, retried with back-off, given up after [`MAX_ATTEMPTS`]), and acknowledging an incident (escalation stops).
//! The channels themselves (SMTP…) are the server's.

use crate::{AppError, Caller};
use chrono::{DateTime, Duration, Utc};
use vigie_domain::access::Permission;
use vigie_domain::itsm::Incident;
use vigie_domain::notify::{
    notification_id, Acknowledged, Channel, Notification, NotificationFailed, NotificationSent,
};
use vigie_domain::oncall::Team;
use vigie_domain::{Actor, Event, NewEvent, State};
use vigie_journal::Journal;

/// Sends of one message before it is given up.
pub const MAX_ATTEMPTS: u32 = 8;

/// How notifications escalate, and where links point.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Not acknowledged within this, the next level is paged.
    pub escalate_after: Duration,
    /// The address users reach Vigie at, for links in messages.
    pub public_url: Option<String>,
    /// Acknowledgement links in messages: the key that signs them and how long they stay valid (none: no link).
    pub links: Option<(String, Duration)>,
    /// Pages of this priority or more urgent (1 is the most) also go by SMS to a person with a mobile (none: no SMS).
    pub sms_up_to_priority: Option<u8>,
    /// An incident opened longer ago than this and never paged is not paged (switching paging on, or a roster
    /// imported, on a centre with open incidents does not page them all); escalations under way go on.
    pub page_within: Duration,
}

/// A link's token: the message's id, when it expires, and a MAC over both with the key (BLAKE2b over the key and
/// the text: a keyed hash, not open to length extension). Bound to the message, hence to its person and incident.
pub fn ack_token(key: &str, id: &str, expires: DateTime<Utc>) -> String {
    let exp = expires.timestamp();
    format!("{id}.{exp}.{}", mac(key, id, exp))
}

fn mac(key: &str, id: &str, exp: i64) -> String {
    crate::credentials::digest_hex(&format!("vigie ack link|{key}|{id}|{exp}"))[..32].to_string()
}

/// What an acknowledgement link names, once checked.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LinkTarget {
    pub notification: String,
    pub number: String,
    pub short_description: String,
    pub priority: u8,
    pub person: String,
    pub expires: DateTime<Utc>,
    /// Already acknowledged (by this link or otherwise): the link does nothing more.
    pub acknowledged: bool,
}

/// Checks a link's token: signed with the key, not expired, naming a message Vigie queued about an incident still
/// known. Refused alike (not found) when forged or unknown; `forbidden.link_expired` when expired.
pub fn check_link(st: &State, key: &str, token: &str, now: DateTime<Utc>) -> Result<LinkTarget, AppError> {
    let unknown = || AppError::not_found("link", "");
    let mut parts = token.rsplitn(3, '.');
    let (Some(m), Some(exp), Some(id)) = (parts.next(), parts.next(), parts.next()) else { return Err(unknown()) };
    let exp: i64 = exp.parse().map_err(|_| unknown())?;
    if id.len() > 100 || !crate::credentials::constant_eq(m.as_bytes(), mac(key, id, exp).as_bytes()) {
        return Err(unknown());
    }
    let expires = DateTime::from_timestamp(exp, 0).ok_or_else(unknown)?;
    if expires <= now {
        return Err(AppError::Forbidden(crate::Reason::new(
            "forbidden.link_expired",
            [("expired", expires.to_rfc3339())],
            "this acknowledgement link has expired: acknowledge the incident from Vigie".to_string(),
        )));
    }
    let entry = st.oncall.outbox.get(id).ok_or_else(unknown)?;
    let inc = st.incidents.get(&entry.notification.sys_id).map(|i| &i.value).ok_or_else(unknown)?;
    let person = st.oncall.people.get(&entry.notification.person_id);
    Ok(LinkTarget {
        notification: id.to_string(),
        number: inc.number.clone(),
        short_description: inc.short_description.clone(),
        priority: inc.priority,
        person: person.map_or_else(|| entry.notification.person_id.to_string(), |p| p.value.name.clone()),
        expires,
        acknowledged: st.oncall.acknowledged.contains_key(&inc.sys_id),
    })
}

/// Acknowledges through a link, without signing in: checked as [`check_link`] says, inside the journal command; the
/// person the message went to is recorded. Used once: an incident already acknowledged is refused
/// (`conflict.already_acknowledged`), and nothing is written.
pub fn acknowledge_by_link(journal: &Journal, key: &str, token: &str) -> Result<LinkTarget, AppError> {
    let (key, token) = (key.to_string(), token.to_string());
    let (_, target) = journal.execute(move |st| {
        let target = check_link(st, &key, &token, Utc::now())?;
        if target.acknowledged {
            return Err(AppError::Conflict(crate::Reason::new(
                "conflict.already_acknowledged",
                [("number", target.number.clone())],
                format!("{} is already acknowledged: this link was used, or someone took it in hand", target.number),
            )));
        }
        let n = &st.oncall.outbox[&target.notification].notification;
        let event = Event::IncidentAcknowledged(Acknowledged {
            sys_id: n.sys_id.clone(),
            person_id: Some(n.person_id.clone()),
            via: "link".into(),
        });
        let actor = Actor::system("ack-link");
        let e = NewEvent { actor, source: format!("link:{}", target.notification), event };
        Ok::<_, AppError>((vec![e], target))
    })?;
    Ok(target)
}

fn paris(t: DateTime<Utc>) -> String {
    vigie_domain::paris::to_local(t).format("%d/%m/%Y à %H:%M").to_string()
}

/// The team an incident's assignment group names: a team of that id, else the team of that partner.
fn team_of<'s>(st: &'s State, group: &str) -> Option<&'s Team> {
    if group.is_empty() {
        return None;
    }
    st.oncall.teams.get(group).map(|t| &t.value).or_else(|| {
        st.oncall.teams.values().map(|t| &t.value).find(|t| t.partner_id.as_ref().is_some_and(|p| p.as_str() == group))
    })
}

/// The messages due at `now`, as events: level 1 of each open, unacknowledged incident's team, once; the next level
/// when the last one paged has not acknowledged within the delay.
pub fn due(st: &State, now: DateTime<Utc>, policy: &Policy) -> Vec<Event> {
    let mut out = Vec::new();
    for inc in st.incidents.values().map(|i| &i.value) {
        if !inc.state.is_open() || st.oncall.acknowledged.contains_key(&inc.sys_id) {
            continue;
        }
        let Some(team) = team_of(st, &inc.assignment_group) else { continue };
        let levels: Vec<u8> = st
            .oncall
            .rotations
            .range((team.id.clone(), 0)..=(team.id.clone(), u8::MAX))
            .map(|((_, l), _)| *l)
            .collect();
        // The first level not paged yet, if its turn has come.
        let mut before: Option<&vigie_domain::notify::OutboxEntry> = None;
        for &level in &levels {
            match st.oncall.outbox.get(&notification_id(&inc.number, level)) {
                Some(entry) => before = Some(entry),
                None => {
                    let due = match before {
                        None => now - inc.opened_at <= policy.page_within,
                        Some(b) => b.queued_at + policy.escalate_after <= now,
                    };
                    if due {
                        if let Some(n) = message(st, inc, team, level, before.is_some(), now, policy) {
                            let chat = chat_message(st, team, &n);
                            let sms = sms_message(st, inc, &n, policy);
                            out.push(Event::NotificationQueued(n));
                            out.extend(chat.into_iter().chain(sms).map(Event::NotificationQueued));
                        }
                    }
                    break;
                }
            }
        }
    }
    out
}

/// The message to level `level` of `team` about `inc`, to the person on duty at `now` (none on duty: none).
fn message(
    st: &State,
    inc: &Incident,
    team: &Team,
    level: u8,
    escalated: bool,
    now: DateTime<Utc>,
    policy: &Policy,
) -> Option<Notification> {
    let rotation = &st.oncall.rotations.get(&(team.id.clone(), level))?.value;
    let overrides = st.oncall.overrides.values().filter(|o| o.team_id == team.id && o.level == level);
    let duty = vigie_domain::oncall::on_duty(rotation, overrides, now)?;
    let person = st.oncall.people.get(duty.person).map(|p| &p.value);
    let name = person.map_or_else(|| duty.person.to_string(), |p| p.name.clone());
    let link = policy
        .public_url
        .as_deref()
        .map(|u| format!("{}/#/incidents?id={}", u.trim_end_matches('/'), inc.number))
        .unwrap_or_default();
    let subject = format!(
        "[Vigie] {}{} P{} — {}",
        if escalated { "Escalade : " } else { "" },
        inc.number,
        inc.priority,
        inc.short_description
    );
    let mut body = format!(
        "Bonjour {name},\n\nL'incident {} (priorité P{}) est affecté à {} ; vous êtes de permanence (niveau {level}) \
         jusqu'au {}.\n",
        inc.number,
        inc.priority,
        team.name,
        paris(duty.until)
    );
    if escalated {
        body += "Le niveau précédent ne l'a pas acquitté à temps.\n";
    }
    body += &format!("\n{}\n", inc.short_description);
    if !inc.location.is_empty() {
        body += &format!("Lieu : {}\n", inc.location);
    }
    body += &format!("Ouvert le {}\n", paris(inc.opened_at));
    if !link.is_empty() {
        body += &format!("\nVoir l'incident : {link}\n");
    }
    body += "\n— Vigie (message automatique ; acquitter arrête l'escalade)\n";
    Some(Notification {
        id: notification_id(&inc.number, level),
        sys_id: inc.sys_id.clone(),
        number: inc.number.clone(),
        team_id: team.id.clone(),
        level,
        person_id: duty.person.clone(),
        channel: Channel::Email,
        to: person.map(|p| p.email.clone()).unwrap_or_default(),
        subject,
        body,
        why: if escalated { "escalated".into() } else { "opened".into() },
    })
}

/// The same page to the team's chat channel, when the team names one (its `webhook` attribute, a webhook of the
/// configuration): the subject, who is paged (mentioned by their chat handle), the link.
fn chat_message(st: &State, team: &Team, n: &Notification) -> Option<Notification> {
    let hook = team.attributes.get("webhook").filter(|w| !w.is_empty())?;
    let person = st.oncall.people.get(&n.person_id).map(|p| &p.value);
    let who = match person {
        Some(p) if !p.chat.is_empty() => format!("{} (@{})", p.name, p.chat.trim_start_matches('@')),
        Some(p) => p.name.clone(),
        None => n.person_id.to_string(),
    };
    let link = n.body.lines().find_map(|l| l.strip_prefix("Voir l'incident : ")).unwrap_or("");
    let mut body = format!("{} — niveau {} : {who} est appelé(e).", n.subject, n.level);
    if !link.is_empty() {
        body += &format!(" {link}");
    }
    Some(Notification { id: format!("{}-chat", n.id), channel: Channel::Chat, to: hook.clone(), body, ..n.clone() })
}

/// The same page by SMS, for an urgent enough incident and a person with a mobile: short, with the link to
/// acknowledge when messages carry one.
fn sms_message(st: &State, inc: &Incident, n: &Notification, policy: &Policy) -> Option<Notification> {
    let up_to = policy.sms_up_to_priority?;
    if inc.priority > up_to {
        return None;
    }
    let mobile = st.oncall.people.get(&n.person_id).map(|p| p.value.mobile.clone()).filter(|m| !m.is_empty())?;
    let short: String = inc.short_description.chars().take(80).collect();
    let body = format!("Vigie {} P{} niveau {} : {short}", inc.number, inc.priority, n.level);
    Some(Notification { id: format!("{}-sms", n.id), channel: Channel::Sms, to: mobile, body, ..n.clone() })
}

/// The message as it goes out: with its one-click acknowledgement link (by email and SMS, when messages carry
/// links), made at the send — the journal keeps no link, so a reader of the journal or of the incident's messages
/// cannot acknowledge in the person's name.
pub fn outgoing(n: &Notification, policy: &Policy, now: DateTime<Utc>) -> Notification {
    let mut n = n.clone();
    let (Some(url), Some((key, ttl))) = (policy.public_url.as_deref(), &policy.links) else { return n };
    let expires = now + *ttl;
    let id = n.id.trim_end_matches("-sms").to_string();
    let link = format!("{}/ack/{}", url.trim_end_matches('/'), ack_token(key, &id, expires));
    match n.channel {
        Channel::Email => {
            let line = format!(
                "Acquitter en un clic (sans vous connecter, une seule fois, jusqu'au {}) : {link}\n",
                paris(expires)
            );
            n.body = match n.body.rfind("\n— Vigie") {
                Some(at) => format!("{}{line}{}", &n.body[..at], &n.body[at..]),
                None => n.body + &line,
            };
        }
        Channel::Sms => n.body += &format!(" — acquitter : {link}"),
        Channel::Chat => {}
    }
    n
}

/// Queues what is due, decided inside the journal command (a message is queued once, whatever runs at once).
pub fn queue_due(journal: &Journal, policy: Policy) -> Result<usize, AppError> {
    let actor = Actor::system("notify");
    let (_, n) = journal.execute(move |st| {
        let events: Vec<NewEvent> = due(st, Utc::now(), &policy)
            .into_iter()
            .map(|event| NewEvent { actor: actor.clone(), source: "notify".into(), event })
            .collect();
        let n = events.len();
        Ok::<_, AppError>((events, n))
    })?;
    Ok(n)
}

/// The messages to send at `now`: queued, or failed with a retry due.
pub fn pending(st: &State, now: DateTime<Utc>) -> Vec<Notification> {
    st.oncall.outbox.values().filter(|e| e.due(now)).map(|e| e.notification.clone()).collect()
}

/// Records what became of a send: taken by the channel, or failed (retried after 30 s, 1 min, 2 min… up to 30 min;
/// given up after [`MAX_ATTEMPTS`]).
pub fn record_send(journal: &Journal, id: &str, outcome: Result<String, String>) -> Result<(), AppError> {
    let id = id.to_string();
    journal.execute(move |st| {
        let attempts = st.oncall.outbox.get(&id).map_or(0, |e| e.attempts) + 1;
        let event = match outcome {
            Ok(detail) => Event::NotificationSent(NotificationSent { id, detail }),
            Err(error) => {
                let wait = Duration::seconds((30i64 << (attempts - 1).min(6)).min(1800));
                let retry_at = (attempts < MAX_ATTEMPTS).then(|| Utc::now() + wait);
                Event::NotificationFailed(NotificationFailed { id, error, retry_at })
            }
        };
        let e = NewEvent { actor: Actor::system("notify"), source: "notify".into(), event };
        Ok::<_, AppError>((vec![e], ()))
    })?;
    Ok(())
}

/// Acknowledges an incident the caller may change: escalation stops. Acknowledging twice changes nothing.
pub fn acknowledge(journal: &Journal, caller: &Caller, sys_id: &str, via: &str) -> Result<bool, AppError> {
    caller.need(Permission::IncidentsWrite)?;
    let (caller, sys_id, via) = (caller.clone(), sys_id.to_string(), via.to_string());
    let (_, done) = journal.execute(move |st| {
        let inc = st.incidents.get(&sys_id).map(|i| &i.value);
        let view = caller.principal.view(st);
        let Some(inc) = inc.filter(|i| view.incident(i)) else {
            return Err(AppError::not_found("incident", &sys_id));
        };
        if st.oncall.acknowledged.contains_key(&inc.sys_id) {
            return Ok((Vec::new(), false));
        }
        let event = Event::IncidentAcknowledged(Acknowledged { sys_id: inc.sys_id.clone(), person_id: None, via });
        Ok((vec![caller.event(event)], true))
    })?;
    Ok(done)
}
