//! The notifications' loop and channels (issue 17): on the leader, every second, queue what is due (decided by
//! [`vigie_app::notify`]) and send what is pending — by email over SMTP (STARTTLS or TLS, authentication) — and
//! record each outcome, so that a restart resumes what was pending. Secrets are never printed.

use crate::App;
use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// Messages in flight at once.
const SENDS_AT_ONCE: usize = 16;

/// How the server reaches its SMTP relay.
#[derive(Clone)]
pub struct SmtpOptions {
    pub host: String,
    pub port: u16,
    /// `none` (a relay on the premises), `starttls`, `tls`.
    pub security: String,
    pub user: Option<String>,
    pub password: Option<String>,
    /// The sender: `Vigie <vigie@toc.example>`.
    pub from: String,
    /// Certificates (PEM) of the authority that signed the relay's, for a relay with a certificate of the premises'
    /// own authority (none: the usual public authorities).
    pub ca_pem: Option<Vec<u8>>,
}

impl std::fmt::Debug for SmtpOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpOptions")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("from", &self.from)
            .field("ca_pem", &self.ca_pem.as_ref().map(|p| p.len()))
            .finish()
    }
}

/// What the notifications need from the configuration.
#[derive(Debug, Clone)]
pub struct NotifyOptions {
    pub smtp: SmtpOptions,
    /// Not acknowledged within this, the next level is paged.
    pub escalate_after: std::time::Duration,
    /// Every level paged without an acknowledgement: the chain starts again this many times.
    pub escalation_repeats: u32,
    /// How often due and pending messages are looked for.
    pub tick: std::time::Duration,
    /// The key that signs one-click acknowledgement links (none: messages carry no link), and how long a link lasts.
    pub link_key: Option<String>,
    pub link_ttl: std::time::Duration,
    /// Chat channels by name (a team's `webhook` attribute names one).
    pub webhooks: std::collections::BTreeMap<String, Webhook>,
    /// SMS gateways, tried in order until one takes the message (none: no SMS).
    pub sms: Vec<SmsGateway>,
    /// Pages of this priority or more urgent also go by SMS.
    pub sms_up_to_priority: u8,
    /// Voice gateways (a call reading the page), tried in order like the SMS ones (none: no call).
    pub voice: Vec<SmsGateway>,
    /// Pages of this priority or more urgent also go by a voice call.
    pub voice_up_to_priority: u8,
    /// An incident opened longer ago than this and never paged is not paged.
    pub page_within: std::time::Duration,
    /// A person is warned this long before their duty starts (none: not warned).
    pub warn_before: Option<std::time::Duration>,
    /// A failed send is tried again after this (30 s), then twice as long each time.
    pub first_retry: std::time::Duration,
    /// A committed plan not shipped within this is late (its destination's duty officer is told).
    pub plan_ship_within: std::time::Duration,
    /// A shipped plan not received this long after its expected arrival is late.
    pub plan_late_after: std::time::Duration,
    /// Items whose coverage is watched for each organisation.
    pub coverage: Vec<vigie_app::notify::CoverageWatch>,
    /// How often the logistics rules (plans late, coverage) are looked at.
    pub logistics_every: std::time::Duration,
}

/// An SMS gateway reached over HTTP: where, and the body it takes, written as a template where `{to}` and `{text}`
/// stand for the number and the message (escaped for JSON, or encoded for a form, by the content type).
#[derive(Clone)]
pub struct SmsGateway {
    pub name: String,
    pub url: String,
    /// `application/json` or `application/x-www-form-urlencoded`.
    pub content_type: String,
    pub body: String,
    /// An `Authorization` header (a secret: never printed).
    pub authorization: Option<String>,
}

impl std::fmt::Debug for SmsGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsGateway")
            .field("name", &self.name)
            .field("url", &"***")
            .field("content_type", &self.content_type)
            .field("body", &self.body)
            .field("authorization", &self.authorization.as_ref().map(|_| "***"))
            .finish()
    }
}

/// The body of an SMS gateway's request: the template with the number and the text put in, escaped for its type.
pub fn sms_body(g: &SmsGateway, to: &str, text: &str) -> String {
    let put = |s: &str| -> String {
        if g.content_type.contains("json") {
            let quoted = serde_json::to_string(s).unwrap_or_default();
            quoted[1..quoted.len() - 1].to_string()
        } else {
            s.bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
                    _ => format!("%{b:02X}"),
                })
                .collect()
        }
    };
    g.body.replace("{to}", &put(to)).replace("{text}", &put(text))
}

/// Sends an SMS (or places a call) through the gateways in order; the first that answers 2xx takes it. Why each
/// refused, otherwise.
async fn text_message(
    client: &reqwest::Client,
    gateways: &[SmsGateway],
    n: &vigie_domain::notify::Notification,
) -> Result<String, String> {
    if gateways.is_empty() {
        return Err(format!("no {} gateway in the configuration", n.channel.as_str()));
    }
    let mut why = Vec::new();
    for g in gateways {
        let mut req = client
            .post(&g.url)
            .header(reqwest::header::CONTENT_TYPE, &g.content_type)
            .body(sms_body(g, &n.to, &n.body))
            .timeout(std::time::Duration::from_secs(15));
        if let Some(a) = &g.authorization {
            req = req.header(reqwest::header::AUTHORIZATION, a);
        }
        match req.send().await {
            Ok(r) if r.status().is_success() => return Ok(format!("{} {}", r.status().as_u16(), g.name)),
            Ok(r) => why.push(format!("{}: answered {}", g.name, r.status().as_u16())),
            Err(e) => why.push(format!("{}: {}", g.name, e.without_url())),
        }
    }
    Err(why.join("; "))
}

impl NotifyOptions {
    /// Paging through an SMTP relay on the premises (no TLS, no authentication), with the defaults: escalation after
    /// ten minutes, a tick of a second, no links, no chat, no SMS.
    pub fn relay(host: &str, port: u16, from: &str) -> NotifyOptions {
        NotifyOptions {
            smtp: SmtpOptions {
                host: host.into(),
                port,
                security: "none".into(),
                user: None,
                password: None,
                from: from.into(),
                ca_pem: None,
            },
            escalate_after: std::time::Duration::from_secs(600),
            escalation_repeats: 1,
            tick: std::time::Duration::from_secs(1),
            link_key: None,
            link_ttl: std::time::Duration::from_secs(4 * 3600),
            webhooks: Default::default(),
            sms: Vec::new(),
            sms_up_to_priority: 2,
            voice: Vec::new(),
            voice_up_to_priority: 1,
            page_within: std::time::Duration::from_secs(3600),
            warn_before: None,
            first_retry: std::time::Duration::from_secs(30),
            plan_ship_within: std::time::Duration::from_secs(2 * 3600),
            plan_late_after: std::time::Duration::from_secs(30 * 60),
            coverage: Vec::new(),
            logistics_every: std::time::Duration::from_secs(60),
        }
    }
}

/// An incoming webhook on the premises: a generic JSON receiver, Mattermost or Slack (`{"text": …}`), or Microsoft
/// Teams (a MessageCard).
#[derive(Clone)]
pub struct Webhook {
    pub url: String,
    /// `json`, `slack` (Mattermost too), `teams`.
    pub format: String,
}

impl std::fmt::Debug for Webhook {
    // A webhook's URL is its secret: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook").field("url", &"***").field("format", &self.format).finish()
    }
}

/// The body a webhook of `format` takes for `n`.
pub fn webhook_body(format: &str, n: &vigie_domain::notify::Notification) -> Result<serde_json::Value, String> {
    use serde_json::json;
    Ok(match format {
        "json" => json!({
            "id": n.id, "incident": n.number, "sys_id": n.sys_id, "level": n.level, "team": n.team_id,
            "person": n.person_id, "why": n.why, "subject": n.subject, "text": n.body,
        }),
        "slack" | "mattermost" => json!({"username": "Vigie", "text": n.body}),
        "teams" => json!({
            "@type": "MessageCard", "@context": "https://schema.org/extensions",
            "summary": n.subject, "title": n.subject, "text": n.body,
        }),
        other => return Err(format!("webhook format {other:?}: expected json, slack, mattermost or teams")),
    })
}

/// Posts to a chat channel; the receiver's status, or why not.
async fn post(
    client: &reqwest::Client,
    hooks: &std::collections::BTreeMap<String, Webhook>,
    n: &vigie_domain::notify::Notification,
) -> Result<String, String> {
    let hook = hooks.get(&n.to).ok_or_else(|| format!("no webhook named {:?} in the configuration", n.to))?;
    let body = webhook_body(&hook.format, n)?;
    let r = client
        .post(&hook.url)
        .json(&body)
        .timeout(std::time::Duration::from_secs(15))
        .send()
        .await
        .map_err(|e| format!("webhook {}: {}", n.to, e.without_url()))?;
    if r.status().is_success() {
        Ok(format!("{} {}", r.status().as_u16(), n.to))
    } else {
        Err(format!("webhook {}: answered {}", n.to, r.status().as_u16()))
    }
}

/// How mail goes out. In plain text or with STARTTLS, over a connection of our own per message with `TCP_NODELAY`:
/// lettre writes a message's text and its closing dot in two writes, and on a socket left to Nagle's algorithm the
/// second waits for the relay's delayed acknowledgement of the first (about 40 ms a message on Linux). Over implicit
/// TLS (port 465), lettre's own transport (which opens its sockets itself).
enum Mailer {
    Direct(SmtpOptions),
    Transport(AsyncSmtpTransport<Tokio1Executor>),
}

impl Mailer {
    fn new(o: &SmtpOptions) -> Result<Mailer, String> {
        match o.security.as_str() {
            "none" | "starttls" => Ok(Mailer::Direct(o.clone())),
            _ => Ok(Mailer::Transport(transport(o)?)),
        }
    }

    async fn send(&self, msg: Message) -> Result<lettre::transport::smtp::response::Response, String> {
        let o = match self {
            Mailer::Transport(t) => return t.send(msg).await.map_err(|e| format!("SMTP: {e}")),
            Mailer::Direct(o) => o,
        };
        let work = async {
            use lettre::transport::smtp::authentication::Mechanism;
            use lettre::transport::smtp::client::AsyncSmtpConnection;
            use lettre::transport::smtp::extension::ClientId;
            let tcp = tokio::net::TcpStream::connect((o.host.as_str(), o.port))
                .await
                .map_err(|e| format!("SMTP: cannot reach {}:{}: {e}", o.host, o.port))?;
            let _ = tcp.set_nodelay(true);
            let hello = ClientId::default();
            let mut c = AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &hello)
                .await
                .map_err(|e| format!("SMTP: {e}"))?;
            if o.security == "starttls" {
                let tls = tls_parameters(o)?;
                c.starttls(tls, &hello).await.map_err(|e| format!("SMTP STARTTLS: {e}"))?;
            }
            if let (Some(u), Some(p)) = (&o.user, &o.password) {
                let creds = Credentials::new(u.clone(), p.clone());
                c.auth(&[Mechanism::Plain, Mechanism::Login], &creds).await.map_err(|e| format!("SMTP AUTH: {e}"))?;
            }
            let r = c.send(msg.envelope(), &msg.formatted()).await.map_err(|e| format!("SMTP: {e}"))?;
            let _ = c.quit().await;
            Ok(r)
        };
        tokio::time::timeout(std::time::Duration::from_secs(30), work)
            .await
            .map_err(|_| "SMTP: no answer within 30 s".to_string())?
    }
}

/// TLS towards the relay: its name checked against its certificate, signed by a public authority or by the
/// configured one.
fn tls_parameters(o: &SmtpOptions) -> Result<TlsParameters, String> {
    let mut b = TlsParameters::builder(o.host.clone());
    if let Some(pem) = &o.ca_pem {
        let ca = lettre::transport::smtp::client::Certificate::from_pem(pem)
            .map_err(|e| format!("the relay's certificate authority: {e}"))?;
        b = b.add_root_certificate(ca);
    }
    b.build().map_err(|e| format!("TLS for {}: {e}", o.host))
}

fn transport(o: &SmtpOptions) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let tls = || tls_parameters(o);
    let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&o.host).port(o.port);
    b = match o.security.as_str() {
        "none" => b.tls(Tls::None),
        "starttls" => b.tls(Tls::Required(tls()?)),
        "tls" => b.tls(Tls::Wrapper(tls()?)),
        other => return Err(format!("smtp security {other:?}: expected none, starttls or tls")),
    };
    if let (Some(u), Some(p)) = (&o.user, &o.password) {
        b = b.credentials(Credentials::new(u.clone(), p.clone()));
    }
    Ok(b.timeout(Some(std::time::Duration::from_secs(20))).build())
}

/// Sends one message; the SMTP server's answer, or why not.
async fn send(
    t: &Mailer,
    from: &Mailbox,
    n: &vigie_domain::notify::Notification,
    root: Option<String>,
) -> Result<String, String> {
    if n.to.is_empty() {
        return Err(format!("{} has no email address", n.person_id));
    }
    let to: Mailbox = n.to.parse().map_err(|e| format!("address {:?}: {e}", n.to))?;
    let mut msg = Message::builder();
    if let Some(root) = root {
        // Answers the incident's first mail: a reader's client threads its pages and updates.
        msg = msg.in_reply_to(format!("<{root}@vigie>")).references(format!("<{root}@vigie>"));
    }
    let msg = msg
        .from(from.clone())
        .to(to)
        .subject(&n.subject)
        // The same message, sent again after a crash, bears the same id: a reader's client shows it once.
        .message_id(Some(format!("<{}@vigie>", n.id)))
        .header(ContentType::TEXT_PLAIN)
        .body(n.body.clone())
        .map_err(|e| format!("the message: {e}"))?;
    let r = t.send(msg).await?;
    Ok(format!("{} {}", r.code(), r.message().collect::<Vec<_>>().join(" ")))
}

/// The loop: on the leader only.
pub async fn run(app: App, o: NotifyOptions) {
    let transport = match Mailer::new(&o.smtp) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "notifications are off: the SMTP configuration is wrong");
            return;
        }
    };
    let from: Mailbox = match o.smtp.from.parse() {
        Ok(f) => f,
        Err(e) => {
            tracing::error!(error = %e, from = %o.smtp.from, "notifications are off: the sender's address is wrong");
            return;
        }
    };
    let policy = vigie_app::notify::Policy {
        escalate_after: chrono::Duration::from_std(o.escalate_after).unwrap_or(chrono::Duration::minutes(10)),
        public_url: app.public_url.as_deref().map(str::to_string),
        links: o
            .link_key
            .clone()
            .map(|k| (k, chrono::Duration::from_std(o.link_ttl).unwrap_or(chrono::Duration::hours(4)))),
        sms_up_to_priority: (!o.sms.is_empty()).then_some(o.sms_up_to_priority),
        voice_up_to_priority: (!o.voice.is_empty()).then_some(o.voice_up_to_priority),
        page_within: chrono::Duration::from_std(o.page_within).unwrap_or(chrono::Duration::hours(1)),
        sla: (*app.sla).clone(),
        warn_before: o.warn_before.and_then(|w| chrono::Duration::from_std(w).ok()),
        repeats: o.escalation_repeats,
    };
    let rules = vigie_app::notify::LogisticsRules {
        travel: (*app.travel).clone(),
        ship_within: chrono::Duration::from_std(o.plan_ship_within).unwrap_or(chrono::Duration::hours(2)),
        arrival_grace: chrono::Duration::from_std(o.plan_late_after).unwrap_or(chrono::Duration::minutes(30)),
        coverage: o.coverage.clone(),
        count_every: Some(app.count_every),
    };
    let mut logistics_at = std::time::Instant::now();
    let client = reqwest::Client::builder().build().unwrap_or_default();
    // Woken at once by an incident recorded or a message queued (a page goes out within milliseconds, not at the
    // next tick); the tick still comes for escalations and retries, whose time passes without any event.
    let wake = std::sync::Arc::new(tokio::sync::Notify::new());
    let w = wake.clone();
    app.journal.subscribe(move |batch| {
        use vigie_domain::Event;
        if batch.iter().any(|e| {
            matches!(e.event, Event::IncidentRecorded(_) | Event::SlaBreached(_) | Event::NotificationQueued(_))
        }) {
            w.notify_one();
        }
    });
    let mut every = crate::Every::new(&app, o.tick);
    loop {
        tokio::select! {
            more = every.next() => if !more { break },
            _ = wake.notified() => {}
        }
        if !app.journal.role().writes() {
            continue; // the leader sends
        }
        let p = policy.clone();
        if let Err(e) = app.blocking(move |j| Ok(vigie_app::notify::queue_due(&j, p)?)).await {
            tracing::warn!(error = %e, "notifications not queued");
        }
        // The logistics rules compute coverage over the stock: at their own pace.
        if logistics_at.elapsed() >= o.logistics_every {
            logistics_at = std::time::Instant::now();
            let (p, r) = (policy.clone(), rules.clone());
            if let Err(e) = app.blocking(move |j| Ok(vigie_app::notify::queue_logistics(&j, p, r)?)).await {
                tracing::warn!(error = %e, "logistics notifications not queued");
            }
        }
        let pending: Vec<_> = {
            let state = app.journal.state();
            let pending = vigie_app::notify::pending(&state, chrono::Utc::now());
            pending
                .into_iter()
                .map(|n| {
                    let root = vigie_app::notify::thread_root(&state, &n).map(str::to_string);
                    (n, root)
                })
                .collect()
        };
        // Up to SENDS_AT_ONCE messages in flight (a storm of pages to many teams is not sent one after another);
        // each outcome is recorded as it comes.
        use futures_util::StreamExt;
        let mut sends = futures_util::stream::iter(pending)
            .map(|(n, root)| {
                let (transport, from, client, o) = (&transport, &from, &client, &o);
                let n = vigie_app::notify::outgoing(&n, &policy, chrono::Utc::now());
                async move {
                    let outcome = match n.channel {
                        vigie_domain::notify::Channel::Email => send(transport, from, &n, root).await,
                        vigie_domain::notify::Channel::Chat => post(client, &o.webhooks, &n).await,
                        vigie_domain::notify::Channel::Sms => text_message(client, &o.sms, &n).await,
                        vigie_domain::notify::Channel::Voice => text_message(client, &o.voice, &n).await,
                    };
                    (n.id, outcome)
                }
            })
            .buffer_unordered(SENDS_AT_ONCE);
        while let Some((id, outcome)) = sends.next().await {
            if let Err(e) = &outcome {
                tracing::warn!(notification = %id, error = %e, "a notification was not sent");
            }
            let first_retry = chrono::Duration::from_std(o.first_retry).unwrap_or(chrono::Duration::seconds(30));
            let record = move |j| Ok(vigie_app::notify::record_send(&j, &id, outcome, first_retry)?);
            if let Err(e) = app.blocking(record).await {
                tracing::warn!(error = %e, "a notification's outcome was not recorded");
            }
        }
    }
}

/// A small page of its own, in French.
fn page(status: axum::http::StatusCode, title: &str, body: String) -> axum::response::Response {
    let body = format!("<div class=\"panel\"><h2>{}</h2>{body}</div>", crate::status::esc(title));
    crate::status::html(status, "fr", title, &body, false)
}

/// Why a link does nothing, said in French.
#[derive(Clone, Copy)]
enum Refusal {
    Unknown,
    Expired,
    Reassigned,
    Used,
    Failed,
}

impl From<&crate::ApiError> for Refusal {
    fn from(e: &crate::ApiError) -> Refusal {
        match e {
            crate::ApiError::NotFound(_) => Refusal::Unknown,
            crate::ApiError::Forbidden(r) if r.code == "forbidden.link_reassigned" => Refusal::Reassigned,
            crate::ApiError::Forbidden(_) => Refusal::Expired,
            crate::ApiError::Conflict(_) => Refusal::Used,
            _ => Refusal::Failed,
        }
    }
}

fn refused(r: Refusal) -> axum::response::Response {
    use axum::http::StatusCode;
    let (status, text) = match r {
        Refusal::Unknown => (StatusCode::NOT_FOUND, "Ce lien d'acquittement n'est pas valable."),
        Refusal::Expired => (StatusCode::GONE, "Ce lien d'acquittement a expiré : acquittez l'incident depuis Vigie."),
        Refusal::Reassigned => {
            (StatusCode::GONE, "Cet incident a été réaffecté à une autre équipe : ce lien ne vaut plus.")
        }
        Refusal::Used => {
            (StatusCode::CONFLICT, "Cet incident est déjà acquitté : le lien a servi, ou quelqu'un l'a pris en charge.")
        }
        Refusal::Failed => (StatusCode::SERVICE_UNAVAILABLE, "Vigie n'a pas pu enregistrer l'acquittement."),
    };
    page(status, "Acquittement", format!("<p class=\"sentence\" id=\"refused\">{text}</p>"))
}

/// `GET /ack/{token}`: what the link would acknowledge, and a button to do it (a link opened by a mail client's
/// preview acknowledges nothing).
pub async fn ack_page(
    axum::extract::State(app): axum::extract::State<App>,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> axum::response::Response {
    let Some(key) = app.ack_key.clone() else { return refused(Refusal::Unknown) };
    match vigie_app::notify::check_link(&app.journal.state(), &key, &token, chrono::Utc::now()) {
        Err(e) => refused(Refusal::from(&crate::ApiError::from(e))),
        Ok(t) if t.acknowledged => refused(Refusal::Used),
        Ok(t) => {
            let esc = crate::status::esc;
            page(
                axum::http::StatusCode::OK,
                &format!("Acquitter {}", t.number),
                format!(
                    "<p class=\"sentence\"><strong>{} (P{})</strong> — {}</p><p>En tant que {} : l'escalade s'arrête.</p>\
                     <form method=\"post\"><button type=\"submit\" class=\"primary\" id=\"ack\">Acquitter</button></form>",
                    esc(&t.number),
                    t.priority,
                    esc(&t.short_description),
                    esc(&t.person)
                ),
            )
        }
    }
}

/// `POST /ack/{token}`: acknowledges, once.
pub async fn ack(
    axum::extract::State(app): axum::extract::State<App>,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> axum::response::Response {
    let Some(key) = app.ack_key.clone() else { return refused(Refusal::Unknown) };
    let r = app.blocking(move |j| Ok(vigie_app::notify::acknowledge_by_link(&j, &key, &token)?)).await;
    match r {
        Ok(t) => page(
            axum::http::StatusCode::OK,
            &format!("{} acquitté", t.number),
            format!(
                "<p class=\"sentence\" id=\"acknowledged\">Merci, {} : {} est acquitté.</p>",
                crate::status::esc(&t.person),
                crate::status::esc(&t.number)
            ),
        ),
        Err(e) => refused(Refusal::from(&e)),
    }
}
