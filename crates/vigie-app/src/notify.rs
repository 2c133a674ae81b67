//! Notifications (issue 17), decided here: which messages are due (an open incident reaching a team pages its level
//! 1 on duty; not acknowledged within the escalation delay, the next level; reassigned, the new team's level 1; once
//! per incident, team and level, so that a storm of alerts that opens one incident pages once; whoever holds it is
//! told once of each change — priority raised, SLA warning and breach, major incident proposed or accepted —; a
//! person is warned before their duty starts; nothing under a maintenance window), what they say (in French), what becomes of each send (sent;
//! failed, retried with back-off, given up after [`MAX_ATTEMPTS`]), and acknowledging an incident (escalation stops).
//! The channels themselves (SMTP…) are the server's.

use crate::{AppError, Caller};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use vigie_domain::access::Permission;
use vigie_domain::itsm::Incident;
use vigie_domain::notify::{
    Acknowledged, Channel, Delivery, Notification, NotificationFailed, NotificationSent, OutboxEntry,
};
use vigie_domain::oncall::Team;
use vigie_domain::{Actor, Event, NewEvent, State};
use vigie_incidents::sla::{evaluate, Point, Stage, Targets};
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
    /// Pages of this priority or more urgent also go by a voice call (none: no call).
    pub voice_up_to_priority: Option<u8>,
    /// An incident opened longer ago than this and never paged is not paged (switching paging on, or a roster
    /// imported, on a centre with open incidents does not page them all); escalations under way go on.
    pub page_within: Duration,
    /// The service-level targets whose warning and breach are told.
    pub sla: Targets,
    /// A person is warned this long before their duty starts (none: not warned).
    pub warn_before: Option<Duration>,
    /// Once every level has been paged without an acknowledgement, the chain starts again from its first level this
    /// many times (`-r1`, `-r2`… on the ids), each level after the same delay.
    pub repeats: u32,
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
    let exp_text = exp;
    let exp: i64 = exp.parse().map_err(|_| unknown())?;
    if exp.to_string() != exp_text {
        return Err(unknown()); // one spelling per link: no sign, no leading zero
    }
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
    if team_of(st, &inc.assignment_group).is_none_or(|t| t.id != entry.notification.team_id) {
        return Err(AppError::Forbidden(crate::Reason::new(
            "forbidden.link_reassigned",
            [("number", inc.number.clone())],
            format!("{} was reassigned to another team: this link no longer acknowledges it", inc.number),
        )));
    }
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

/// Whether a maintenance window open at `now` covers the incident's site or configuration item: it stays quiet.
fn in_maintenance(st: &State, inc: &Incident, now: DateTime<Utc>) -> bool {
    st.toc
        .windows
        .values()
        .any(|w| w.value.open_at(now) && (w.value.names(&inc.location) || w.value.names(&inc.cmdb_ci)))
}

/// What one message says beyond the incident: why it goes (see [`Notification::why`]), the end of its id, the
/// subject's prefix and a sentence of the body.
struct Kind {
    why: &'static str,
    key: String,
    prefix: &'static str,
    lead: String,
}

impl Kind {
    fn page(why: &'static str, level: u8) -> Kind {
        let (prefix, lead) = match why {
            "escalated" => ("Escalade : ", "Le niveau précédent ne l'a pas acquitté à temps."),
            "assigned" => ("Réaffecté : ", "Il vient d'être affecté à votre équipe."),
            "repeated" => ("Relance : ", "Personne ne l'a acquitté : la chaîne d'escalade reprend au premier niveau."),
            _ => ("", ""),
        };
        Kind { why, key: level.to_string(), prefix, lead: lead.to_string() }
    }

    /// Whether it pages someone (and may go by SMS), rather than updating whoever holds the incident.
    fn pages(&self) -> bool {
        matches!(self.why, "opened" | "escalated" | "assigned" | "repeated" | "priority")
    }
}

/// The ids of the messages about an incident begin `N-` and its number; once it has been reassigned to another team
/// than the first paged, that team's chain of levels and updates bears the team too (`N-INC…-TEAM-`), so the new team
/// is paged from its level 1. The first team paged, if any.
fn chain(st: &State, inc: &Incident, team: &Team) -> (String, bool) {
    let base = format!("N-{}-", inc.number);
    let first = st
        .oncall
        .outbox
        .range(base.clone()..)
        .take_while(|(id, _)| id.starts_with(&base))
        .find(|(id, _)| id[base.len()..].bytes().all(|b| b.is_ascii_digit()))
        .map(|(_, e)| &e.notification.team_id);
    match first {
        Some(t) if *t != team.id => (format!("N-{}-{}-", inc.number, team.id), true),
        _ => (base, false),
    }
}

/// The changes of an incident its holder is told of, once each: its priority raised since the chain's first page,
/// an SLA clock at its warning stage or breached (not once acknowledged), a major incident proposed or accepted.
fn changes(
    st: &State,
    inc: &Incident,
    first: &OutboxEntry,
    acked: bool,
    now: DateTime<Utc>,
    policy: &Policy,
) -> Vec<Kind> {
    let mut out = Vec::new();
    let timeline = st.incident_timeline.get(&inc.sys_id).map(Vec::as_slice).unwrap_or_default();
    if !acked {
        let then = timeline.iter().take_while(|(at, _, _)| *at <= first.queued_at).last().map_or(inc.priority, |p| p.2);
        if inc.priority < then {
            out.push(Kind {
                why: "priority",
                key: format!("priority-{}", inc.priority),
                prefix: "Priorité relevée : ",
                lead: format!("Sa priorité est passée de P{then} à P{}.", inc.priority),
            });
        }
        let points: Vec<Point> = timeline
            .iter()
            .map(|&(at, state, priority)| Point { at: at.timestamp_millis(), state, priority })
            .collect();
        let sla = evaluate(&points, &policy.sla, now.timestamp_millis());
        let clocks = sla
            .as_ref()
            .map(|s| [("response", "prise en charge", &s.response), ("resolution", "résolution", &s.resolution)]);
        for (clock, name, c) in clocks.into_iter().flatten() {
            if let Some(at) = st.sla_breaches.get(&(inc.sys_id.clone(), clock.to_string())) {
                out.push(Kind {
                    why: "sla_breach",
                    key: format!("sla-{clock}"),
                    prefix: "SLA dépassé : ",
                    lead: format!("Le délai de {name} (SLA) est dépassé depuis le {}.", paris(*at)),
                });
            } else if c.stage == Stage::Warning {
                out.push(Kind {
                    why: "sla_warning",
                    key: format!("slaw-{clock}"),
                    prefix: "SLA bientôt dépassé : ",
                    lead: format!(
                        "Le délai de {name} (SLA) en est à {} % ; il sera dépassé le {}.",
                        c.percent.floor(),
                        paris(now + Duration::milliseconds(c.target_ms - c.elapsed_ms))
                    ),
                });
            }
        }
    }
    let major = match inc.major_incident_state.as_str() {
        "proposed" => Some(("major_proposed", "Incident majeur proposé : ", "proposé")),
        "accepted" => Some(("major_accepted", "Incident majeur accepté : ", "accepté")),
        _ => None,
    };
    if let Some((why, prefix, word)) = major {
        out.push(Kind {
            why,
            key: format!("major-{}", inc.major_incident_state),
            prefix,
            lead: format!("Il a été {word} comme incident majeur (crise)."),
        });
    }
    out
}

/// The messages due at `now`, as events. Pages: level 1 of the team of each open, unacknowledged incident, once;
/// the next level when the last one paged has not acknowledged within the delay; a team it is reassigned to, from
/// its level 1. Updates to whoever holds it (the last level paged, whoever is on duty there now): the
/// [`changes`]. Nothing about an incident a maintenance window covers.
pub fn due(st: &State, now: DateTime<Utc>, policy: &Policy) -> Vec<Event> {
    let mut out = Vec::new();
    for inc in st.incidents.values().map(|i| &i.value) {
        if !inc.state.is_open() || in_maintenance(st, inc, now) {
            continue;
        }
        let Some(team) = team_of(st, &inc.assignment_group) else { continue };
        let acked = st.oncall.acknowledged.contains_key(&inc.sys_id);
        let (prefix, reassigned) = chain(st, inc, team);
        let levels: Vec<u8> = st
            .oncall
            .rotations
            .range((team.id.clone(), 0)..=(team.id.clone(), u8::MAX))
            .map(|((_, l), _)| *l)
            .collect();
        // The first level not paged yet, round after round, if its turn has come.
        let (mut first, mut last): (Option<&OutboxEntry>, Option<&OutboxEntry>) = (None, None);
        'rounds: for round in 0..=policy.repeats {
            let suffix = if round == 0 { String::new() } else { format!("-r{round}") };
            for (k, &level) in levels.iter().enumerate() {
                if let Some(entry) = st.oncall.outbox.get(&format!("{prefix}{level}{suffix}")) {
                    first = first.or(Some(entry));
                    last = Some(entry);
                    continue;
                }
                let (why, due) = match last {
                    None if reassigned => ("assigned", true),
                    None => ("opened", !acked && now - inc.opened_at <= policy.page_within),
                    Some(_) if k == 0 => ("repeated", !acked),
                    Some(_) => ("escalated", !acked),
                };
                let due = due && last.is_none_or(|b| b.queued_at + policy.escalate_after <= now);
                if due {
                    let mut kind = Kind::page(why, level);
                    kind.key += &suffix;
                    let sent = messages(st, inc, team, level, &prefix, kind, now, policy);
                    if sent.is_empty() {
                        continue; // nobody on duty at this level (not started, emptied): the next one is called
                    }
                    out.extend(sent);
                }
                break 'rounds;
            }
        }
        let (Some(first), Some(last)) = (first, last) else { continue };
        for kind in changes(st, inc, first, acked, now, policy) {
            if !st.oncall.outbox.contains_key(&format!("{prefix}{}", kind.key)) {
                out.extend(messages(st, inc, team, last.notification.level, &prefix, kind, now, policy));
            }
        }
    }
    out.extend(shift_warnings(st, now, policy));
    out
}

/// The messages of one kind about `inc` to level `level` of `team`: the mail, and the team's chat channel and an
/// SMS where they apply (none when nobody is on duty there).
#[allow(clippy::too_many_arguments)]
fn messages(
    st: &State,
    inc: &Incident,
    team: &Team,
    level: u8,
    prefix: &str,
    kind: Kind,
    now: DateTime<Utc>,
    policy: &Policy,
) -> Vec<Event> {
    let Some(n) = message(st, inc, team, level, prefix, &kind, now, policy) else { return Vec::new() };
    let chat = chat_message(st, team, &n, kind.pages());
    let (sms, voice) = if kind.pages() {
        (sms_message(st, inc, &n, policy), voice_message(st, inc, &n, policy))
    } else {
        (None, None)
    };
    std::iter::once(n).chain(chat).chain(sms).chain(voice).map(Event::NotificationQueued).collect()
}

/// The mail of one kind about `inc` to the person on duty at level `level` of `team` at `now`.
#[allow(clippy::too_many_arguments)]
fn message(
    st: &State,
    inc: &Incident,
    team: &Team,
    level: u8,
    prefix: &str,
    kind: &Kind,
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
    let subject = format!("[Vigie] {}{} P{} — {}", kind.prefix, inc.number, inc.priority, inc.short_description);
    let mut body = format!(
        "Bonjour {name},\n\nL'incident {} (priorité P{}) est affecté à {} ; vous êtes de permanence (niveau {level}) \
         jusqu'au {}.\n",
        inc.number,
        inc.priority,
        team.name,
        paris(duty.until)
    );
    if !kind.lead.is_empty() {
        body += &format!("{}\n", kind.lead);
    }
    body += &format!("\n{}\n", inc.short_description);
    if !inc.location.is_empty() {
        body += &format!("Lieu : {}\n", inc.location);
    }
    body += &format!("Ouvert le {}\n", paris(inc.opened_at));
    if let Some((at, by)) = st.oncall.acknowledged.get(&inc.sys_id) {
        body += &format!("Acquitté le {} ({by})\n", paris(*at));
    }
    if !link.is_empty() {
        body += &format!("\nVoir l'incident : {link}\n");
    }
    body += "\n— Vigie (message automatique ; acquitter arrête l'escalade)\n";
    Some(Notification {
        id: format!("{prefix}{}", kind.key),
        sys_id: inc.sys_id.clone(),
        number: inc.number.clone(),
        team_id: team.id.clone(),
        level,
        person_id: duty.person.clone(),
        channel: Channel::Email,
        to: person.map(|p| p.email.clone()).unwrap_or_default(),
        subject,
        body,
        why: kind.why.into(),
    })
}

/// The same message to the team's chat channel, when the team names one (its `webhook` attribute, a webhook of the
/// configuration): the subject (the incident's number first, so that a channel's updates of one incident read as
/// one thread), who is paged or told (mentioned by their chat handle), the link.
fn chat_message(st: &State, team: &Team, n: &Notification, pages: bool) -> Option<Notification> {
    let hook = team.attributes.get("webhook").filter(|w| !w.is_empty())?;
    let person = st.oncall.people.get(&n.person_id).map(|p| &p.value);
    let who = match person {
        Some(p) if !p.chat.is_empty() => format!("{} (@{})", p.name, p.chat.trim_start_matches('@')),
        Some(p) => p.name.clone(),
        None => n.person_id.to_string(),
    };
    let link = n.body.lines().find_map(|l| l.strip_prefix("Voir l'incident : ")).unwrap_or("");
    let mut body = if pages {
        format!("{} — niveau {} : {who} est appelé(e).", n.subject, n.level)
    } else {
        format!("{} — {who} (niveau {}) est prévenu(e).", n.subject, n.level)
    };
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

/// The same page by a voice call, for the most urgent incidents and a person with a mobile: what the gateway's
/// voice reads (no link: acknowledging is done from the mail, the SMS or Vigie).
fn voice_message(st: &State, inc: &Incident, n: &Notification, policy: &Policy) -> Option<Notification> {
    let up_to = policy.voice_up_to_priority?;
    if inc.priority > up_to {
        return None;
    }
    let mobile = st.oncall.people.get(&n.person_id).map(|p| p.value.mobile.clone()).filter(|m| !m.is_empty())?;
    let short: String = inc.short_description.chars().take(120).collect();
    let body = format!(
        "Ici Vigie. Incident {}, priorité {}, niveau {} : {short}. Acquittez-le depuis le message reçu ou depuis Vigie.",
        inc.number, inc.priority, n.level
    );
    Some(Notification { id: format!("{}-voice", n.id), channel: Channel::Voice, to: mobile, body, ..n.clone() })
}

/// Warnings before a duty starts (`W-TEAM-level-YYYYMMDDTHHMM`, by email, once): to whoever the roster puts on duty
/// within [`Policy::warn_before`] when they are not on duty already at that level (the second shift of a person
/// working two in a row is not announced).
fn shift_warnings(st: &State, now: DateTime<Utc>, policy: &Policy) -> Vec<Event> {
    let Some(before) = policy.warn_before else { return Vec::new() };
    let mut out = Vec::new();
    for ((team_id, level), rotation) in &st.oncall.rotations {
        let overrides = || st.oncall.overrides.values().filter(|o| &o.team_id == team_id && o.level == *level);
        let Some(next) = vigie_domain::oncall::on_duty(&rotation.value, overrides(), now + before) else { continue };
        let current = vigie_domain::oncall::on_duty(&rotation.value, overrides(), now);
        if next.from <= now || current.is_some_and(|c| c.person == next.person) {
            continue;
        }
        let id = format!("W-{team_id}-{level}-{}", vigie_domain::paris::to_local(next.from).format("%Y%m%dT%H%M"));
        if st.oncall.outbox.contains_key(&id) {
            continue;
        }
        let Some(team) = st.oncall.teams.get(team_id).map(|t| &t.value) else { continue };
        let mut text = format!(
            "Vous êtes de permanence pour {} (niveau {level}) du {} au {}.",
            team.name,
            paris(next.from),
            paris(next.until)
        );
        if let Some(reason) = next.reason {
            text += &format!("\nMotif : {reason}");
        }
        let subject = format!("Votre permanence {} commence le {}", team.name, paris(next.from));
        out.extend(letter(st, id, "shift", team, *level, next.person, subject, &text, policy, "astreintes"));
    }
    out
}

/// The message as it goes out: with its one-click acknowledgement link (by email and SMS, when messages carry
/// links), made at the send — the journal keeps no link, so a reader of the journal or of the incident's messages
/// cannot acknowledge in the person's name.
pub fn outgoing(n: &Notification, policy: &Policy, now: DateTime<Utc>) -> Notification {
    let mut n = n.clone();
    let (Some(url), Some((key, ttl))) = (policy.public_url.as_deref(), &policy.links) else { return n };
    if n.sys_id.is_empty() {
        return n; // a warning before a shift: nothing to acknowledge
    }
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
        Channel::Chat | Channel::Voice => {}
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

/// The first mail about the same incident, which a mail about it answers (`In-Reply-To`), so that a reader's client
/// threads an incident's pages and updates; none for the first itself, or a warning before a shift.
pub fn thread_root<'s>(st: &'s State, n: &Notification) -> Option<&'s str> {
    if n.number.is_empty() {
        return None;
    }
    let base = format!("N-{}-", n.number);
    st.oncall
        .outbox
        .range(base.clone()..)
        .take_while(|(id, _)| id.starts_with(&base))
        .filter(|(_, e)| e.notification.channel == Channel::Email)
        .min_by_key(|(_, e)| e.queued_at)
        .map(|(id, _)| id.as_str())
        .filter(|id| *id != n.id)
}

/// The logistics rules: a plan late, an item's coverage low for an organisation → its duty officer is told.
#[derive(Debug, Clone)]
pub struct LogisticsRules {
    /// How transit times are estimated (a shipped plan is expected at its shipping plus the longest movement's
    /// drive).
    pub travel: vigie_logistics::Travel,
    /// A committed plan not shipped within this is late.
    pub ship_within: Duration,
    /// A shipped plan not received this long after its expected arrival is late.
    pub arrival_grace: Duration,
    /// Items watched for each organisation.
    pub coverage: Vec<CoverageWatch>,
    /// A site's stock counted longer ago than this: its organisation's duty officer is reminded, once a day (none:
    /// no reminder).
    pub count_every: Option<Duration>,
}

/// An item whose coverage is watched: under `below` (a share of the need, 1.0 = all of it) over `days` days for an
/// organisation, its duty officer is told, once a day while it stays under.
#[derive(Debug, Clone)]
pub struct CoverageWatch {
    pub item: String,
    pub days: u32,
    pub below: f64,
}

/// Who is on duty at `now` for an organisation: the first-called level of a team of that organisation, else of the
/// organisation above it (a tactical group without a roster falls to the strategic centre).
fn duty_officer<'s>(
    st: &'s State,
    org: &str,
    now: DateTime<Utc>,
) -> Option<(&'s Team, u8, &'s vigie_domain::ids::PersonId)> {
    let mut org = Some(org.to_string());
    for _ in 0..16 {
        let id = org.take()?;
        let teams = st.oncall.teams.values().map(|t| &t.value);
        for team in teams.filter(|t| t.organization_id.as_ref().is_some_and(|o| o.as_str() == id)) {
            let mut levels = st.oncall.rotations.range((team.id.clone(), 0)..=(team.id.clone(), u8::MAX));
            let Some(((_, level), rotation)) = levels.next() else { continue };
            let overrides = st.oncall.overrides.values().filter(|o| o.team_id == team.id && o.level == *level);
            if let Some(duty) = vigie_domain::oncall::on_duty(&rotation.value, overrides, now) {
                return Some((team, *level, duty.person));
            }
        }
        org = st.organizations.get(id.as_str()).and_then(|o| o.value.parent_id.as_ref()).map(|p| p.to_string());
    }
    None
}

/// A mail to a person that is about no incident (nothing to acknowledge).
#[allow(clippy::too_many_arguments)]
fn letter(
    st: &State,
    id: String,
    why: &str,
    team: &Team,
    level: u8,
    person: &vigie_domain::ids::PersonId,
    subject: String,
    text: &str,
    policy: &Policy,
    page: &str,
) -> Option<Event> {
    let p = &st.oncall.people.get(person)?.value;
    let mut body = format!("Bonjour {},\n\n{text}\n", p.name);
    if let Some(u) = policy.public_url.as_deref() {
        body += &format!("\nDans Vigie : {}/#/{page}\n", u.trim_end_matches('/'));
    }
    body += "\n— Vigie (message automatique)\n";
    Some(Event::NotificationQueued(Notification {
        id,
        sys_id: String::new(),
        number: String::new(),
        team_id: team.id.clone(),
        level,
        person_id: person.clone(),
        channel: Channel::Email,
        to: p.email.clone(),
        subject: format!("[Vigie] {subject}"),
        body,
        why: why.into(),
    }))
}

/// The logistics messages due at `now`, each once: a committed plan not shipped in time (`L-PLAN-ship`), a shipped
/// plan past its expected arrival (`L-PLAN-arrival`), to the duty officer of the organisation supporting its
/// destination; an organisation's coverage of a watched item under its threshold (`L-COV-ORG-ITEM-YYYYMMDD`, once a
/// day while it stays under).
pub fn logistics_due(st: &State, now: DateTime<Utc>, policy: &Policy, rules: &LogisticsRules) -> Vec<Event> {
    let mut out = Vec::new();
    for (id, plan) in &st.plans {
        let plan = &plan.value;
        let Some(dest) = st.sites.get(&plan.plan.destination).map(|s| &s.value) else { continue };
        let (key, why, text) = match (plan.status, plan.shipped_at) {
            (vigie_domain::PlanStatus::Committed, _) if plan.committed_at + rules.ship_within <= now => (
                "ship",
                "plan_not_shipped",
                format!(
                    "Le plan {id} vers {} ({} mouvement(s)) est engagé depuis le {} et n'est toujours pas expédié.",
                    dest.name,
                    plan.plan.movements.len(),
                    paris(plan.committed_at)
                ),
            ),
            (vigie_domain::PlanStatus::Shipped, Some(shipped)) => {
                let drive = plan
                    .plan
                    .movements
                    .iter()
                    .filter_map(|m| {
                        let from = st.sites.get(&m.from)?.value.position();
                        let speed = m
                            .vehicle_id
                            .as_ref()
                            .and_then(|v| st.vehicles.get(v))
                            .map_or(rules.travel.default_speed_kmh, |v| rules.travel.speed_of(&v.value));
                        Some(vigie_logistics::Travel::minutes(rules.travel.road_km(from, dest.position()), speed))
                    })
                    .fold(0.0, f64::max);
                let expected = shipped + Duration::minutes(drive.ceil() as i64);
                if expected + rules.arrival_grace > now {
                    continue;
                }
                (
                    "arrival",
                    "plan_late",
                    format!(
                        "Le plan {id}, expédié le {} vers {}, y était attendu le {} et n'est pas réceptionné.",
                        paris(shipped),
                        dest.name,
                        paris(expected)
                    ),
                )
            }
            _ => continue,
        };
        let msg_id = format!("L-{id}-{key}");
        if st.oncall.outbox.contains_key(&msg_id) {
            continue;
        }
        let Some((team, level, person)) = duty_officer(st, dest.organization_id.as_str(), now) else { continue };
        let subject = if key == "ship" {
            format!("Plan {id} non expédié — {}", dest.name)
        } else {
            format!("Plan {id} en retard — {}", dest.name)
        };
        out.extend(letter(st, msg_id, why, team, level, person, subject, &text, policy, "plans"));
    }
    if let Some(every) = rules.count_every {
        out.extend(reporting_reminders(st, now, policy, every));
    }
    let today = vigie_domain::paris::today(now);
    for watch in &rules.coverage {
        let Ok(item) = vigie_logistics::item_id(st, &watch.item) else { continue };
        let scope = vigie_logistics::Scope::everything();
        let Ok(s) = vigie_logistics::sufficiency(st, &item, today, watch.days.max(1), &scope) else { continue };
        for org in &s.by_organization {
            let Some(coverage) = org.figures.coverage.filter(|c| *c < watch.below) else { continue };
            let msg_id = format!("L-COV-{}-{}-{}", org.organization_id, item, today.format("%Y%m%d"));
            if st.oncall.outbox.contains_key(&msg_id) {
                continue;
            }
            let Some((team, level, person)) = duty_officer(st, org.organization_id.as_str(), now) else { continue };
            let f = &org.figures;
            let text = format!(
                "{} ({}) ne couvre que {:.0} % de son besoin sur {} jour(s) (seuil {:.0} %) : disponible {} {unit}, \
                 besoin {} {unit}, manque {} {unit}.",
                org.name,
                s.item_name,
                coverage * 100.0,
                s.days,
                watch.below * 100.0,
                f.available,
                f.need,
                f.shortfall,
                unit = s.unit
            );
            let subject = format!("Couverture {} {:.0} % — {}", s.item_name, coverage * 100.0, org.name);
            out.extend(letter(st, msg_id, "coverage", team, level, person, subject, &text, policy, "stock"));
        }
    }
    out
}

/// Reminders of the reporting discipline: an organisation with sites whose stock was counted longer ago than
/// expected, to its duty officer, once a day (`L-LATE-ORG-YYYYMMDD`).
fn reporting_reminders(st: &State, now: DateTime<Utc>, policy: &Policy, every: Duration) -> Vec<Event> {
    let today = vigie_domain::paris::today(now);
    let mut out = Vec::new();
    for org in crate::reports::discipline_of(st, now, every, |_| true).organizations {
        if org.late_sites == 0 {
            continue;
        }
        let msg_id = format!("L-LATE-{}-{}", org.organization_id, today.format("%Y%m%d"));
        if st.oncall.outbox.contains_key(&msg_id) {
            continue;
        }
        let Some((team, level, person)) = duty_officer(st, &org.organization_id, now) else { continue };
        let late: Vec<String> = org
            .sites
            .iter()
            .filter(|s| s.late)
            .take(10)
            .map(|s| format!("{} (dernier compte le {})", s.name, paris(s.last_count)))
            .collect();
        let text = format!(
            "{} site(s) de {} n'ont pas compté leur stock depuis plus de {} h : {}.",
            org.late_sites,
            org.name,
            every.num_hours(),
            late.join(", ")
        );
        let subject = format!("Comptes en retard — {} : {} site(s)", org.name, org.late_sites);
        out.extend(letter(st, msg_id, "reporting_late", team, level, person, subject, &text, policy, "stock"));
    }
    out
}

/// Queues the logistics messages due now (decided inside the journal command, so each is queued once).
pub fn queue_logistics(journal: &Journal, policy: Policy, rules: LogisticsRules) -> Result<usize, AppError> {
    let actor = Actor::system("notify");
    let (_, n) = journal.execute(move |st| {
        let events: Vec<NewEvent> = logistics_due(st, Utc::now(), &policy, &rules)
            .into_iter()
            .map(|event| NewEvent { actor: actor.clone(), source: "notify".into(), event })
            .collect();
        let n = events.len();
        Ok::<_, AppError>((events, n))
    })?;
    Ok(n)
}

/// What the notification log is asked for: filters (each optional) and how many lines.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct LogQuery {
    /// `queued`, `sent`, `failed` (to be retried), `given_up`.
    pub status: Option<String>,
    /// `email`, `chat`, `sms`, `voice`.
    pub channel: Option<String>,
    /// A kind (`opened`, `escalated`, `sla_breach`, `shift`, `coverage`…; see [`Notification::why`]).
    pub why: Option<String>,
    pub team: Option<String>,
    /// Words found in the subject, the person's id, the incident's number or the message's id.
    pub q: Option<String>,
    /// Lines answered, newest first (default 200, at most 1,000).
    pub limit: Option<usize>,
}

/// One line of the log.
#[derive(Debug, Clone, Serialize)]
pub struct LogLine<'s> {
    #[serde(flatten)]
    pub entry: &'s OutboxEntry,
    /// `queued`, `sent`, `failed`, `given_up`.
    pub state: &'static str,
    pub team: String,
    pub person: String,
    /// Who acknowledged its incident, and when.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acknowledged: Option<(DateTime<Utc>, &'s str)>,
}

/// The log's answer: counts over every message the caller may see (filters applied), then the newest lines.
#[derive(Debug, Clone, Serialize)]
pub struct Log<'s> {
    pub total: usize,
    pub queued: usize,
    pub sent: usize,
    pub failed: usize,
    pub given_up: usize,
    pub items: Vec<LogLine<'s>>,
}

/// Whether the caller may see a message: one to a team its roster reaches (the people of another partner's team,
/// told before a reassignment, stay unknown to it).
pub fn visible(st: &State, caller: &Caller, e: &OutboxEntry) -> bool {
    reaches_team(st, &caller.principal.view(st), &e.notification)
}

/// Whether a view's roster reaches the team a message went to.
fn reaches_team(st: &State, view: &vigie_domain::access::View, n: &Notification) -> bool {
    st.oncall
        .teams
        .get(&n.team_id)
        .is_some_and(|t| view.roster(t.value.partner_id.as_ref(), t.value.organization_id.as_ref()))
}

/// Where an outbox entry stands, in a word: `queued`, `sent`, `failed` (to be retried), `given_up`.
pub fn state_of(e: &OutboxEntry) -> &'static str {
    match &e.delivery {
        Delivery::Queued => "queued",
        Delivery::Sent { .. } => "sent",
        Delivery::Failed { retry_at: Some(_), .. } => "failed",
        Delivery::Failed { retry_at: None, .. } => "given_up",
    }
}

/// Every message Vigie sent or will send to a team the caller's roster reaches, newest first, with where each stands.
/// A bad filter value is refused at its field.
pub fn log<'s>(st: &'s State, caller: &Caller, q: &LogQuery) -> Result<Log<'s>, AppError> {
    let may = |p| caller.principal.may(p);
    if !(may(Permission::LogisticsRead) || may(Permission::MonitoringRead) || may(Permission::IncidentsRead)) {
        caller.need(Permission::IncidentsRead)?;
    }
    let view = caller.principal.view(st);
    for (field, value, known) in [
        ("status", &q.status, &["queued", "sent", "failed", "given_up"][..]),
        ("channel", &q.channel, &["email", "chat", "sms", "voice"][..]),
    ] {
        if let Some(v) = value.as_deref().filter(|v| !v.is_empty() && !known.contains(v)) {
            let shown: String = v.chars().take(40).collect();
            return Err(AppError::field(field, format!("{shown:?}: expected {}", known.join(", "))));
        }
    }
    let words = q.q.as_deref().map(str::to_lowercase).filter(|w| !w.is_empty());
    let is = |v: &str, want: &Option<String>| want.as_deref().is_none_or(|w| w.is_empty() || v == w);
    let mut lines: Vec<LogLine<'s>> = Vec::new();
    let (mut queued, mut sent, mut failed, mut given_up) = (0, 0, 0, 0);
    for e in st.oncall.outbox.values() {
        let n = &e.notification;
        let team = st.oncall.teams.get(&n.team_id).map(|t| &t.value);
        // A message to a team the caller's roster does not reach names people it may not know of (another
        // partner's, before a reassignment): not shown, even about the caller's incident.
        let state = state_of(e);
        if !reaches_team(st, &view, n)
            || !is(state, &q.status)
            || !is(n.channel.as_str(), &q.channel)
            || !is(&n.why, &q.why)
            || !is(n.team_id.as_str(), &q.team)
        {
            continue;
        }
        if let Some(w) = &words {
            let hay = format!("{} {} {} {}", n.subject, n.person_id, n.number, n.id).to_lowercase();
            if !hay.contains(w.as_str()) {
                continue;
            }
        }
        match state {
            "queued" => queued += 1,
            "sent" => sent += 1,
            "failed" => failed += 1,
            _ => given_up += 1,
        }
        let person =
            st.oncall.people.get(&n.person_id).map_or_else(|| n.person_id.to_string(), |p| p.value.name.clone());
        lines.push(LogLine {
            entry: e,
            state,
            team: team.map_or_else(|| n.team_id.to_string(), |t| t.name.clone()),
            person,
            acknowledged: st.oncall.acknowledged.get(&n.sys_id).map(|(at, by)| (*at, by.as_str())),
        });
    }
    let total = lines.len();
    lines.sort_by(|a, b| {
        b.entry.queued_at.cmp(&a.entry.queued_at).then_with(|| a.entry.notification.id.cmp(&b.entry.notification.id))
    });
    lines.truncate(q.limit.unwrap_or(200).clamp(1, 1_000));
    Ok(Log { total, queued, sent, failed, given_up, items: lines })
}

/// The messages to send at `now`: queued, or failed with a retry due.
pub fn pending(st: &State, now: DateTime<Utc>) -> Vec<Notification> {
    st.oncall.outbox.values().filter(|e| e.due(now)).map(|e| e.notification.clone()).collect()
}

/// Records what became of a send: taken by the channel, or failed (retried after `first_retry` — 30 s in service —,
/// then twice as long each time, up to 64 times that and never more than 30 min; given up after [`MAX_ATTEMPTS`]).
pub fn record_send(
    journal: &Journal,
    id: &str,
    outcome: Result<String, String>,
    first_retry: Duration,
) -> Result<(), AppError> {
    let id = id.to_string();
    journal.execute(move |st| {
        let attempts = st.oncall.outbox.get(&id).map_or(0, |e| e.attempts) + 1;
        let event = match outcome {
            Ok(detail) => Event::NotificationSent(NotificationSent { id, detail }),
            Err(error) => {
                let wait = (first_retry * (1i32 << (attempts - 1).min(6))).min(Duration::minutes(30));
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

#[cfg(test)]
mod tests {
    //! The rules over a state built event by event, at instants the test chooses.
    use super::*;
    use vigie_domain::ids::{PersonId, TeamId, WindowId};
    use vigie_domain::oncall::{Period, Person, Rotation};
    use vigie_domain::toc::{MaintenanceWindow, WindowScope};

    struct World {
        st: State,
        seq: u64,
    }

    fn at(local: &str) -> DateTime<Utc> {
        vigie_domain::paris::from_local(chrono::NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M").unwrap())
    }

    fn policy() -> Policy {
        Policy {
            escalate_after: Duration::hours(1),
            public_url: None,
            links: None,
            sms_up_to_priority: None,
            voice_up_to_priority: None,
            page_within: Duration::hours(1),
            sla: Targets { response_min: [600; 5], resolution_min: [10; 5] },
            warn_before: Some(Duration::minutes(30)),
            repeats: 1,
        }
    }

    impl World {
        fn apply(&mut self, time: DateTime<Utc>, event: Event) {
            self.seq += 1;
            self.st.apply_owned(vigie_domain::Envelope {
                seq: self.seq,
                id: uuid::Uuid::now_v7(),
                time,
                actor: Actor::system("test"),
                origin: "test".into(),
                source: "test".into(),
                event,
            });
        }

        /// What is due at `now`, applied as the server would queue it; the ids and why.
        fn tick(&mut self, now: DateTime<Utc>) -> Vec<(String, String, String)> {
            let due = due(&self.st, now, &policy());
            let mut out = Vec::new();
            for e in due {
                if let Event::NotificationQueued(n) = &e {
                    out.push((n.id.clone(), n.why.clone(), n.person_id.to_string()));
                }
                self.apply(now, e);
            }
            out
        }

        fn person(&mut self, id: &str, partner: &str) {
            let p = Person {
                id: PersonId::parse(id).unwrap(),
                name: id.to_uppercase(),
                email: format!("{id}@example.org"),
                mobile: String::new(),
                chat: String::new(),
                partner_id: Some(vigie_domain::PartnerId::parse(partner).unwrap()),
                organization_id: None,
                attributes: Default::default(),
            };
            self.apply(at("2024-07-01 00:00"), Event::PersonUpserted(p));
        }

        fn team(&mut self, id: &str, partner: &str, people: &[&str]) {
            let team = Team {
                id: TeamId::parse(id).unwrap(),
                name: id.to_string(),
                partner_id: Some(vigie_domain::PartnerId::parse(partner).unwrap()),
                site_id: None,
                organization_id: None,
                attributes: Default::default(),
            };
            self.apply(at("2024-07-01 00:00"), Event::TeamUpserted(team));
            let rotation = Rotation {
                team_id: TeamId::parse(id).unwrap(),
                level: 1,
                period: Period::Daily,
                starts_at: at("2024-07-01 08:00"),
                people: people.iter().map(|p| PersonId::parse(p).unwrap()).collect(),
            };
            self.apply(at("2024-07-01 00:00"), Event::RotationSet(rotation));
        }

        fn incident(&mut self, now: DateTime<Utc>, fields: &[(&str, &str)]) -> Incident {
            let changes = fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            let n = self.st.incidents.len() as u64 + 1;
            let inc = vigie_incidents::incident::create(&changes, format!("{n:032x}"), n, now, "toc").unwrap();
            self.apply(now, Event::IncidentRecorded(Box::new(inc.clone())));
            inc
        }

        fn change(&mut self, now: DateTime<Utc>, inc: &Incident, fields: &[(&str, &str)]) -> Incident {
            let changes = fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            let current = self.st.incidents[&inc.sys_id].value.clone();
            let next = vigie_incidents::incident::update(&current, &changes, now, "toc").unwrap();
            self.apply(now, Event::IncidentRecorded(Box::new(next.clone())));
            next
        }
    }

    fn world() -> World {
        let mut w = World { st: State::new(), seq: 0 };
        w.person("ana", "ATOS");
        w.person("bob", "ATOS");
        w.person("ode", "ORANGE");
        w.team("ATOS-SD", "ATOS", &["bob", "ana"]);
        w.team("ORANGE-NOC", "ORANGE", &["ode"]);
        w
    }

    fn whys(got: &[(String, String, String)]) -> Vec<(&str, &str, &str)> {
        got.iter().map(|(id, why, who)| (id.as_str(), why.as_str(), who.as_str())).collect()
    }

    #[test]
    fn whoever_holds_an_incident_is_told_once_of_each_change() {
        let mut w = world();
        let t0 = at("2024-07-26 09:00");
        let inc = w.incident(
            t0,
            &[("short_description", "Panne"), ("impact", "2"), ("urgency", "2"), ("assignment_group", "ATOS")],
        );
        let n = inc.number.clone();
        assert_eq!(whys(&w.tick(t0)), [(format!("N-{n}-1").as_str(), "opened", "ana")]);

        // 80 % of the 10-minute resolution target: a warning, once.
        let t8 = t0 + Duration::minutes(8);
        assert_eq!(whys(&w.tick(t8)), [(format!("N-{n}-slaw-resolution").as_str(), "sla_warning", "ana")]);
        assert!(w.tick(t8 + Duration::seconds(30)).is_empty(), "told once");

        // Raised to P1: told once, and not again when it stays there.
        let t9 = t0 + Duration::minutes(9);
        let raised = w.change(t9, &inc, &[("impact", "1"), ("urgency", "1")]);
        assert_eq!(raised.priority, 1);
        assert_eq!(whys(&w.tick(t9)), [(format!("N-{n}-priority-1").as_str(), "priority", "ana")]);
        assert!(w.tick(t9).is_empty());

        // Breached (as the SLA loop records it): told once.
        let t11 = t0 + Duration::minutes(11);
        let breach = vigie_domain::itsm::SlaBreached {
            sys_id: inc.sys_id.clone(),
            number: n.clone(),
            clock: "resolution".into(),
            at: t0 + Duration::minutes(10),
            priority: 1,
        };
        w.apply(t11, Event::SlaBreached(breach));
        assert_eq!(whys(&w.tick(t11)), [(format!("N-{n}-sla-resolution").as_str(), "sla_breach", "ana")]);

        // Reassigned to Orange: its level 1 is paged, from its own chain.
        let t12 = t0 + Duration::minutes(12);
        w.change(t12, &inc, &[("assignment_group", "ORANGE")]);
        assert_eq!(whys(&w.tick(t12)), [(format!("N-{n}-ORANGE-NOC-1").as_str(), "assigned", "ode")]);
        // …then told of the breach as its new holder (P1 since before its page is not a raise), once.
        let after = t12 + Duration::seconds(1);
        let breach = format!("N-{n}-ORANGE-NOC-sla-resolution");
        assert_eq!(whys(&w.tick(after)), [(breach.as_str(), "sla_breach", "ode")]);
        assert!(w.tick(after).is_empty());

        // Proposed as a major incident: the holder (Orange's) is told.
        let t13 = t0 + Duration::minutes(13);
        w.change(t13, &inc, &[("major_incident_state", "proposed")]);
        assert_eq!(
            whys(&w.tick(t13)),
            [(format!("N-{n}-ORANGE-NOC-major-proposed").as_str(), "major_proposed", "ode")]
        );

        // Acknowledged: no more SLA or priority updates; acceptance as a major incident is still told.
        let ack = Acknowledged { sys_id: inc.sys_id.clone(), person_id: None, via: "ui".into() };
        w.apply(t13, Event::IncidentAcknowledged(ack));
        w.change(t13, &inc, &[("major_incident_state", "accepted"), ("u_crisis_lead", "Cdt Morel")]);
        assert_eq!(
            whys(&w.tick(t13)),
            [(format!("N-{n}-ORANGE-NOC-major-accepted").as_str(), "major_accepted", "ode")]
        );
    }

    #[test]
    fn an_unacknowledged_chain_starts_again_as_many_times_as_configured() {
        let mut w = world();
        let t0 = at("2024-07-26 09:00");
        let inc = w.incident(
            t0,
            &[("short_description", "Panne"), ("impact", "3"), ("urgency", "3"), ("assignment_group", "ATOS")],
        );
        let n = inc.number.clone();
        assert_eq!(whys(&w.tick(t0)), [(format!("N-{n}-1").as_str(), "opened", "ana")]);
        assert!(w.tick(t0 + Duration::minutes(59)).is_empty(), "not before the delay");
        // Atos has one level: after the delay, the chain starts again once (repeats: 1), then nothing more.
        let t1 = t0 + Duration::hours(1);
        let got = w.tick(t1);
        assert_eq!(whys(&got), [(format!("N-{n}-1-r1").as_str(), "repeated", "ana")]);
        let n1 = &w.st.oncall.outbox[&got[0].0].notification;
        assert!(
            n1.subject.starts_with("[Vigie] Relance : ") && n1.body.contains("reprend au premier niveau"),
            "{n1:?}"
        );
        assert!(w.tick(t1 + Duration::hours(2)).is_empty(), "repeated once only");
    }

    #[test]
    fn a_level_with_nobody_on_duty_is_passed_over() {
        let mut w = world();
        // Atos's first level starts only in August: its second level (Cyr, every day) is called at once, then the
        // chain goes on from there.
        let later = Rotation {
            team_id: TeamId::parse("ATOS-SD").unwrap(),
            level: 1,
            period: Period::Daily,
            starts_at: at("2024-08-01 08:00"),
            people: vec![PersonId::parse("ana").unwrap()],
        };
        w.apply(at("2024-07-01 00:00"), Event::RotationSet(later));
        w.person("cyr", "ATOS");
        let second = Rotation {
            team_id: TeamId::parse("ATOS-SD").unwrap(),
            level: 2,
            period: Period::Daily,
            starts_at: at("2024-07-01 08:00"),
            people: vec![PersonId::parse("cyr").unwrap()],
        };
        w.apply(at("2024-07-01 00:00"), Event::RotationSet(second));
        let t0 = at("2024-07-26 09:00");
        let inc = w.incident(t0, &[("short_description", "Panne"), ("assignment_group", "ATOS")]);
        assert_eq!(whys(&w.tick(t0)), [(format!("N-{}-2", inc.number).as_str(), "opened", "cyr")]);
    }

    #[test]
    fn a_link_no_longer_acknowledges_once_the_incident_is_reassigned() {
        let mut w = world();
        let t0 = at("2024-07-26 09:00");
        let inc = w.incident(t0, &[("short_description", "Panne"), ("assignment_group", "ORANGE")]);
        w.tick(t0);
        let id = format!("N-{}-1", inc.number);
        let token = ack_token("clé", &id, Utc::now() + Duration::hours(1));
        assert!(check_link(&w.st, "clé", &token, Utc::now()).is_ok());
        w.change(t0 + Duration::minutes(1), &inc, &[("assignment_group", "ATOS")]);
        match check_link(&w.st, "clé", &token, Utc::now()) {
            Err(AppError::Forbidden(r)) => assert_eq!(r.code, "forbidden.link_reassigned"),
            other => panic!("expected the link refused, found {other:?}"),
        }
        // Its expiry has one spelling: a sign or a leading zero is another token, unknown.
        let (head, mac) = token.rsplit_once('.').unwrap();
        let (name, exp) = head.rsplit_once('.').unwrap();
        assert!(matches!(
            check_link(&w.st, "clé", &format!("{name}.+{exp}.{mac}"), Utc::now()),
            Err(AppError::NotFound { .. })
        ));
    }

    #[test]
    fn an_incident_under_a_maintenance_window_stays_quiet() {
        let mut w = world();
        let t0 = at("2024-07-26 09:00");
        let window = MaintenanceWindow {
            id: WindowId::parse("MAINT-STA").unwrap(),
            scope: WindowScope::Site("STA".into()),
            starts_at: at("2024-07-25 08:00"),
            ends_at: at("2024-07-25 10:00"),
            every_hours: Some(24),
            reason: "relance nocturne".into(),
        };
        w.apply(t0, Event::MaintenanceScheduled(window));
        let fields = [("short_description", "Coupure"), ("assignment_group", "ATOS"), ("location", "STA")];
        w.incident(t0, &fields);
        assert!(w.tick(t0).is_empty(), "in the window (repeated daily, 08:00–10:00)");
        let other =
            w.incident(t0, &[("short_description", "Ailleurs"), ("assignment_group", "ATOS"), ("location", "BER")]);
        assert_eq!(whys(&w.tick(t0)), [(format!("N-{}-1", other.number).as_str(), "opened", "ana")]);
    }

    #[test]
    fn a_person_is_warned_once_before_their_duty_starts() {
        let mut w = world();
        // The rotation alternates daily from 1 July 08:00 (Bob, Ana, Bob…): Ana holds 26 July, Bob the 27th.
        let before = at("2024-07-27 07:40");
        let got = w.tick(before);
        assert_eq!(whys(&got), [("W-ATOS-SD-1-20240727T0800", "shift", "bob")], "Orange's Ode is on duty every day");
        assert!(w.tick(before + Duration::minutes(5)).is_empty(), "once");
        assert!(w.tick(at("2024-07-27 07:00")).is_empty(), "not earlier than 30 minutes before");
        let n = &w.st.oncall.outbox["W-ATOS-SD-1-20240727T0800"].notification;
        assert_eq!(n.subject, "[Vigie] Votre permanence ATOS-SD commence le 27/07/2024 à 08:00");
        assert!(n.body.contains("(niveau 1) du 27/07/2024 à 08:00 au 28/07/2024 à 08:00"), "{}", n.body);
    }
}
