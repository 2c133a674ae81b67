//! Serving: the server's options from the configuration, TLS files, the signals that stop it, and the demo's
//! simulator. The only module of the binary that uses the HTTP crate (`vigie-server`), and only to serve: every
//! write goes through the application layer (`vigie-app`), from the CLI as from HTTP (test:
//! `tests/architecture.rs`).

use crate::config::Config;
use anyhow::{bail, Context};
use std::io::Write;
use std::process::ExitCode;
use vigie_domain::Actor;
use vigie_journal::Journal;

pub fn serve(
    cfg: &Config,
    journal: Journal,
    simulate: bool,
    cluster: Option<std::sync::Arc<vigie_journal::cluster::Cluster>>,
    bound: Option<std::net::TcpListener>,
) -> anyhow::Result<ExitCode> {
    // Every client connection is a file descriptor: the soft limit (often 1,024) goes up to the hard one.
    match vigie_server::net::raise_fd_limit() {
        Ok((before, after)) if after > before => tracing::info!(before, after, "file-descriptor limit raised"),
        Ok((_, limit)) => tracing::info!(limit, "file-descriptor limit"),
        Err(e) => tracing::warn!(error = %e, "the file-descriptor limit could not be raised"),
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let ack_key = if cfg.notify.smtp_host.is_empty() { None } else { Some(link_key(cfg)?) };
    let smtp_ca = if cfg.notify.smtp_ca_file.as_os_str().is_empty() {
        None
    } else {
        Some(
            std::fs::read(&cfg.notify.smtp_ca_file)
                .with_context(|| format!("cannot read [notify] smtp_ca_file {}", cfg.notify.smtp_ca_file.display()))?,
        )
    };
    let options = vigie_server::ServerOptions {
        cluster,
        max_upload_bytes: cfg.server.max_upload_mb * 1024 * 1024,
        max_body_bytes: cfg.server.max_body_mb.max(1) * 1024 * 1024,
        travel: cfg.logistics.travel(),
        check_workers: cfg.monitoring.check_workers.max(1),
        plugin_dirs: cfg.monitoring.plugin_dirs.clone(),
        allow_root_plugins: cfg.monitoring.allow_root_plugins,
        sync: (!cfg.servicenow.sync_url.is_empty()).then(|| vigie_server::sync::SyncOptions {
            url: cfg.servicenow.sync_url.clone(),
            user: cfg.servicenow.sync_user.clone(),
            password: cfg.servicenow.sync_password.clone(),
            retry_max: std::time::Duration::from_secs(cfg.servicenow.sync_retry_max_s.max(1)),
        }),
        notify: (!cfg.notify.smtp_host.is_empty()).then(|| vigie_server::notify::NotifyOptions {
            smtp: vigie_server::notify::SmtpOptions {
                host: cfg.notify.smtp_host.clone(),
                port: cfg.notify.smtp_port,
                security: cfg.notify.smtp_security.clone(),
                user: Some(cfg.notify.smtp_user.clone()).filter(|u| !u.is_empty()),
                password: Some(cfg.notify.smtp_password.clone()).filter(|p| !p.is_empty()),
                from: cfg.notify.from.clone(),
                ca_pem: smtp_ca.clone(),
            },
            escalate_after: std::time::Duration::from_secs(cfg.notify.escalate_after_min.max(1) * 60),
            escalation_repeats: cfg.notify.escalation_repeats.min(10),
            tick: std::time::Duration::from_secs(1),
            link_key: ack_key.clone(),
            webhooks: cfg
                .notify
                .webhooks
                .iter()
                .map(|(name, w)| {
                    let hook = vigie_server::notify::Webhook { url: w.url.clone(), format: w.format.clone() };
                    (name.clone(), hook)
                })
                .collect(),
            sms: cfg.notify.sms.iter().map(gateway).collect(),
            sms_up_to_priority: cfg.notify.sms_up_to_priority,
            voice: cfg.notify.voice.iter().map(gateway).collect(),
            voice_up_to_priority: cfg.notify.voice_up_to_priority,
            warn_before: (cfg.notify.warn_before_shift_min > 0)
                .then(|| std::time::Duration::from_secs(cfg.notify.warn_before_shift_min * 60)),
            first_retry: std::time::Duration::from_secs(30),
            plan_ship_within: std::time::Duration::from_secs(cfg.notify.plan_ship_within_min.max(1) * 60),
            plan_late_after: std::time::Duration::from_secs(cfg.notify.plan_late_after_min * 60),
            coverage: cfg
                .notify
                .coverage
                .iter()
                .map(|c| vigie_app::notify::CoverageWatch {
                    item: c.item.clone(),
                    days: c.days,
                    below: c.below_percent / 100.0,
                })
                .collect(),
            logistics_every: std::time::Duration::from_secs(60),
            page_within: std::time::Duration::from_secs(cfg.notify.page_opened_within_min.max(1) * 60),
            link_ttl: std::time::Duration::from_secs(cfg.notify.link_ttl_min.max(1) * 60),
        }),
        sla: vigie_incidents::sla::Targets {
            response_min: cfg.incidents.response_min,
            resolution_min: cfg.incidents.resolution_min,
        },
        sessions: vigie_server::auth::SessionLimits {
            idle: std::time::Duration::from_secs(cfg.auth.session_idle_min.max(1) * 60),
            max: std::time::Duration::from_secs(cfg.auth.session_max_h.max(1) * 3600),
        },
        login_max_failures: cfg.auth.login_max_failures.max(1),
        login_window: std::time::Duration::from_secs(cfg.auth.login_window_s.max(1)),
        secure_cookies: cfg.auth.secure_cookies,
        tls: tls_files(cfg)?,
        header_timeout: std::time::Duration::from_secs(cfg.server.header_timeout_s.max(1)),
        keep_alive_timeout: std::time::Duration::from_secs(cfg.server.keep_alive_s.max(1)),
        body_timeout: std::time::Duration::from_secs(cfg.server.body_timeout_s.max(1)),
        body_min_rate: cfg.server.body_min_rate,
        max_connections: cfg.server.max_connections.max(1),
        tile_url: (!cfg.ui.tile_url.trim().is_empty()).then(|| cfg.ui.tile_url.trim().to_string()),
        public_url: public_url(cfg)?,
        check_ca_pem: if cfg.monitoring.ca_file.as_os_str().is_empty() {
            None
        } else {
            let pem = std::fs::read(&cfg.monitoring.ca_file)
                .with_context(|| format!("cannot read [monitoring] ca_file {}", cfg.monitoring.ca_file.display()))?;
            vigie_server::monitoring::active::client(Some(&pem))
                .map_err(|e| anyhow::anyhow!("[monitoring] ca_file: {e}"))?;
            Some(pem)
        },
        status: status_pages(cfg, simulate),
        count_every: std::time::Duration::from_secs(cfg.reports.count_every_h.max(1) * 3600),
        draft_at_handover: cfg.reports.draft_at_handover,
        exercise_store: Some(exercise_store(cfg.storage.data_dir.join("exercises"))),
        ..Default::default()
    };
    let listen = cfg.server.listen.clone();
    let scheme = if options.tls.is_some() { "https" } else { "http" };
    // The simulator acts as the TOC's agents: a token of the demo's `toc` user, for monitoring writes, for a day.
    let simulator_token = if simulate {
        let now = chrono::Utc::now();
        let req = vigie_app::accounts::TokenRequest {
            user: Some(vigie_domain::access::UserName::parse("toc").expect("valid")),
            label: "simulateur de la démo".into(),
            scopes: vec![vigie_domain::access::Permission::MonitoringWrite],
            expires_at: Some(now + chrono::Duration::days(1)),
        };
        let caller = vigie_app::Caller::internal(Actor::system("demo"), "demo");
        let t = vigie_app::accounts::issue_token(&journal, &caller, req, now)
            .map_err(|e| anyhow::anyhow!("the simulator's token: {e}"))?;
        Some(t.token)
    } else {
        None
    };
    let j = journal.clone();
    rt.block_on(async move {
        let listener = match bound {
            Some(l) => {
                l.set_nonblocking(true)?;
                tokio::net::TcpListener::from_std(l)?
            }
            None => {
                tokio::net::TcpListener::bind(&listen).await.with_context(|| format!("cannot listen on {listen}"))?
            }
        };
        let addr = listener.local_addr()?;
        // One line on stdout that scripts and tests can read.
        println!("vigie listening on {scheme}://{addr}");
        let _ = std::io::stdout().flush();
        eprintln!("web UI: {scheme}://{addr}/{}", if simulate { " (demo: sign in as cpco / demo-cpco)" } else { "" });
        if simulate && cfg.status.is_empty() {
            // The demo's own status pages (configured ones are secrets: never printed).
            for s in &options.status {
                eprintln!("status page ({}): {scheme}://{addr}/status/{}", s.audience.title, s.token);
            }
        }
        if let Some(token) = simulator_token {
            // The demo's TOC simulator feeds the checks through the push API, as agents would, with a token.
            tokio::spawn(crate::demo::toc::simulate(format!("{scheme}://{addr}"), token));
        }
        vigie_server::serve(listener, j, options, shutdown_signal()).await?;
        anyhow::Ok(())
    })?;
    journal.shutdown();
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// `[server] public_url`, checked: `http(s)://host[:port]` and an optional path; none when empty.
fn public_url(cfg: &Config) -> anyhow::Result<Option<String>> {
    let u = cfg.server.public_url.trim();
    if u.is_empty() {
        return Ok(None);
    }
    let rest = u.strip_prefix("https://").or_else(|| u.strip_prefix("http://"));
    match rest.map(|r| r.split('/').next().unwrap_or("")) {
        Some(host) if !host.is_empty() && !host.contains(['@', ' ', '?', '#']) => Ok(Some(u.to_string())),
        _ => bail!("[server] public_url must be http(s)://host[:port][/path], found {u:?}"),
    }
}

/// The TLS files of the configuration, read; none when both paths are empty.
fn tls_files(cfg: &Config) -> anyhow::Result<Option<vigie_server::tls::TlsFiles>> {
    let (c, k) = (&cfg.server.tls_cert, &cfg.server.tls_key);
    match (c.as_os_str().is_empty(), k.as_os_str().is_empty()) {
        (true, true) => Ok(None),
        (false, false) => {
            let files = vigie_server::tls::TlsFiles {
                cert_pem: std::fs::read(c)
                    .with_context(|| format!("cannot read the TLS certificate {}", c.display()))?,
                key_pem: std::fs::read(k).with_context(|| format!("cannot read the TLS key {}", k.display()))?,
            };
            files.config().map_err(|e| anyhow::anyhow!("{e}"))?;
            Ok(Some(files))
        }
        _ => bail!("HTTPS needs both [server] tls_cert and tls_key (or --tls-cert and --tls-key)"),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// The key that signs acknowledgement links: the configured one, else one kept in the data directory (made once,
/// readable by its owner only).
fn link_key(cfg: &crate::config::Config) -> anyhow::Result<String> {
    if !cfg.notify.link_key.is_empty() {
        return Ok(cfg.notify.link_key.clone());
    }
    let path = cfg.storage.data_dir.join("ack-link.key");
    if let Ok(k) = std::fs::read_to_string(&path) {
        if !k.trim().is_empty() {
            return Ok(k.trim().to_string());
        }
    }
    let key = vigie_app::credentials::random_secret();
    std::fs::create_dir_all(&cfg.storage.data_dir)?;
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&path)?;
        f.write_all(key.as_bytes())?;
    }
    Ok(key)
}

/// An SMS or voice gateway of the configuration (JSON unless it says otherwise).
fn gateway(g: &crate::config::SmsConfig) -> vigie_server::notify::SmsGateway {
    vigie_server::notify::SmsGateway {
        name: g.name.clone(),
        url: g.url.clone(),
        content_type: if g.content_type.is_empty() { "application/json".into() } else { g.content_type.clone() },
        body: g.body.clone(),
        authorization: Some(g.authorization.clone()).filter(|a| !a.is_empty()),
    }
}

/// The status pages of the configuration; the demo, when the configuration has none, shows three audiences (the
/// partners, the organising committee, the venue managers) with tokens of its own.
fn status_pages(cfg: &Config, demo: bool) -> Vec<vigie_server::status::StatusAudience> {
    let mut pages: Vec<vigie_server::status::StatusAudience> = cfg
        .status
        .iter()
        .map(|(name, s)| vigie_server::status::StatusAudience {
            token: s.token.clone(),
            audience: vigie_app::status::Audience {
                name: name.clone(),
                title: if s.title.is_empty() { name.clone() } else { s.title.clone() },
                suites: s.suites.clone(),
                show_suites: s.show_suites,
                sites: s.sites.clone(),
                show_sites: s.show_sites,
                partner: Some(s.partner.clone()).filter(|p| !p.is_empty()),
                incidents: s.incidents,
            },
        })
        .collect();
    if demo && pages.is_empty() {
        let audience = |name: &str, title: &str, sites: bool, partner: Option<&str>| vigie_app::status::Audience {
            name: name.into(),
            title: title.into(),
            // Venue managers look at their sites; the others at the services.
            show_suites: name != "sites",
            show_sites: sites,
            partner: partner.map(str::to_string),
            incidents: true,
            ..Default::default()
        };
        for (token, a) in [
            (
                "demo-cojo-etat-des-services-2024",
                audience("cojo", "Comité d'organisation — état des services", true, None),
            ),
            (
                "demo-sites-etat-des-sites-2024-jo",
                audience("sites", "Responsables de site — état des sites", true, None),
            ),
            ("demo-atos-etat-des-services-2024", audience("atos", "Atos — vos services", false, Some("ATOS"))),
        ] {
            pages.push(vigie_server::status::StatusAudience { token: token.into(), audience: a });
        }
    }
    pages
}

/// Exercises keep their journals in SQLite under `DATA_DIR/exercises/ID`, whatever the live journal's store.
/// A start that fails removes what it wrote; an ended exercise's journal stays, its record.
fn exercise_store(dir: std::path::PathBuf) -> vigie_server::exercise::ExerciseStore {
    let d = dir.clone();
    vigie_server::exercise::ExerciseStore {
        open: std::sync::Arc::new(move |id: &str| {
            let store = vigie_journal_sqlite::SqliteStore::open_dir(&d.join(id)).map_err(|e| e.to_string())?;
            Ok(Box::new(store) as Box<dyn vigie_journal::JournalStore>)
        }),
        remove: std::sync::Arc::new(move |id: &str| {
            let _ = std::fs::remove_dir_all(dir.join(id));
        }),
    }
}
