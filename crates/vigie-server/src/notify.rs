//! The notifications' loop and channels (issue 17): on the leader, every second, queue what is due (decided by
//! [`vigie_app::notify`]) and send what is pending — by email over SMTP (STARTTLS or TLS, authentication) — and
//! record each outcome, so that a restart resumes what was pending. Secrets are never printed.

use crate::App;
use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

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
            .finish()
    }
}

/// What the notifications need from the configuration.
#[derive(Debug, Clone)]
pub struct NotifyOptions {
    pub smtp: SmtpOptions,
    /// Not acknowledged within this, the next level is paged.
    pub escalate_after: std::time::Duration,
    /// How often due and pending messages are looked for.
    pub tick: std::time::Duration,
}

fn transport(o: &SmtpOptions) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let tls = || TlsParameters::new(o.host.clone()).map_err(|e| format!("TLS for {}: {e}", o.host));
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
    t: &AsyncSmtpTransport<Tokio1Executor>,
    from: &Mailbox,
    n: &vigie_domain::notify::Notification,
) -> Result<String, String> {
    if n.to.is_empty() {
        return Err(format!("{} has no email address", n.person_id));
    }
    let to: Mailbox = n.to.parse().map_err(|e| format!("address {:?}: {e}", n.to))?;
    let msg = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(&n.subject)
        // The same message, sent again after a crash, bears the same id: a reader's client shows it once.
        .message_id(Some(format!("<{}@vigie>", n.id)))
        .header(ContentType::TEXT_PLAIN)
        .body(n.body.clone())
        .map_err(|e| format!("the message: {e}"))?;
    let r = t.send(msg).await.map_err(|e| format!("SMTP: {e}"))?;
    Ok(format!("{} {}", r.code(), r.message().collect::<Vec<_>>().join(" ")))
}

/// The loop: on the leader only.
pub async fn run(app: App, o: NotifyOptions) {
    let transport = match transport(&o.smtp) {
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
    };
    let mut every = crate::Every::new(&app, o.tick);
    while every.next().await {
        if !app.journal.role().writes() {
            continue; // the leader sends
        }
        let p = policy.clone();
        if let Err(e) = app.blocking(move |j| Ok(vigie_app::notify::queue_due(&j, p)?)).await {
            tracing::warn!(error = %e, "notifications not queued");
        }
        let pending = vigie_app::notify::pending(&app.journal.state(), chrono::Utc::now());
        for n in pending {
            let outcome = send(&transport, &from, &n).await;
            if let Err(e) = &outcome {
                tracing::warn!(notification = %n.id, error = %e, "a notification was not sent");
            }
            let id = n.id.clone();
            if let Err(e) = app.blocking(move |j| Ok(vigie_app::notify::record_send(&j, &id, outcome)?)).await {
                tracing::warn!(error = %e, "a notification's outcome was not recorded");
            }
        }
    }
}
