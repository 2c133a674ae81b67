//! The command line: `vigie serve | demo | import | generate | config | status | events | journal`.

use crate::config::{self, Config};
use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use vigie_domain::Actor;
use vigie_import::{Problem, SourceFile};
use vigie_journal::Journal;

#[derive(Debug, Parser)]
#[command(
    name = "vigie",
    version,
    about = "Vigie: operations-centre platform (logistics decision support, technology operations)"
)]
pub struct Cli {
    /// Configuration file (default: ./vigie.toml when present).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Data directory (SQLite journal, node id, lock).
    #[arg(long, global = true)]
    pub data: Option<PathBuf>,
    /// Database URL: empty for SQLite under the data directory, or postgres://USER:PASSWORD@HOST:PORT/DB.
    #[arg(long, global = true)]
    pub database: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum ClusterAction {
    /// Print the lease, the journal's head and every node seen.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Remove a stopped node from the list.
    Forget { node: String },
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the HTTP server (at first start, creates the administrator `admin`).
    Serve {
        /// Address to listen on (e.g. 127.0.0.1:8080; port 0 picks a free port).
        #[arg(long)]
        listen: Option<String>,
        #[command(flatten)]
        tls: TlsFlags,
    },
    /// Load the demo scenario (Paris 2024), its users (one per role) and start the server on it.
    Demo {
        #[arg(long)]
        listen: Option<String>,
        /// Load the data, do not start the server.
        #[arg(long)]
        no_serve: bool,
        #[command(flatten)]
        tls: TlsFlags,
    },
    /// Venue readiness (read-only: works beside a running server): every site worst first and the root causes, or
    /// with --site one site's tasks in projected order and its critical path.
    Readiness {
        #[arg(long)]
        site: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Who is on duty now (or --at "2024-07-26 08:00", Paris) per team and escalation level (read-only: works beside
    /// a running server).
    Oncall {
        #[arg(long)]
        team: Option<String>,
        #[arg(long)]
        site: Option<String>,
        #[arg(long)]
        partner: Option<String>,
        #[arg(long)]
        organization: Option<String>,
        #[arg(long)]
        at: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// The cluster of nodes on the configured PostgreSQL journal: `status` (leader, epoch, every node's role,
    /// position and lag, as the database holds them), `forget NODE` (a drained node stops being listed).
    Cluster {
        #[command(subcommand)]
        action: ClusterAction,
    },
    /// Users: add, passwd, disable, enable, list (writes hold the data directory: stop the server, or use
    /// POST /api/v1/users).
    User {
        #[command(subcommand)]
        action: crate::users::UserAction,
    },
    /// API tokens for machines (monitoring agents, imports, Prometheus): issue, revoke, list.
    Token {
        #[command(subcommand)]
        action: crate::users::TokenAction,
    },
    /// Validate and import CSV/XLSX files or folders; on any problem nothing is imported.
    Import {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Who is importing (default: cli:$USER).
        #[arg(long)]
        actor: Option<String>,
        /// Validate and report only.
        #[arg(long)]
        dry_run: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write a large synthetic data set (CSV) for benchmarks.
    Generate {
        /// 1 = ~2,000 sites, 1,000 items, 1,000,000 stock lines, 5,000 forces.
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 2024)]
        seed: u64,
    },
    /// Print the default configuration (or the effective one).
    Config {
        #[arg(long)]
        effective: bool,
    },
    /// Ask a logistics question of the current data (read-only: works beside a running server).
    Ask {
        #[command(subcommand)]
        question: crate::ask::Question,
        /// What-if: answer on a copy of the data changed by this scenario (JSON), nothing written.
        #[arg(long, global = true)]
        scenario: Option<PathBuf>,
    },
    /// Shift of effort: the sites of one organisation (all, or those named) and their forces pass to another.
    Shift {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        /// Comma-separated site ids (default: every site `--from` supports).
        #[arg(long)]
        sites: Option<String>,
        #[arg(long, default_value = "")]
        reason: String,
        /// Show the effect on every organisation's sufficiency, change nothing.
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        on: Option<String>,
        #[arg(long, default_value_t = 1)]
        days: u32,
        #[arg(long)]
        json: bool,
        #[arg(long)]
        actor: Option<String>,
    },
    /// Plans: commit one (from a JSON file, as POST /api/v1/plans takes it), ship, receive, cancel, list.
    Plan {
        #[command(subcommand)]
        action: PlanAction,
        /// Who acts (default: cli:$USER).
        #[arg(long, global = true)]
        actor: Option<String>,
    },
    /// Counts of the state and the journal position.
    Status,
    /// The journal itself: verify its chain, accept a loss, export its rows (docs/journal.md).
    Journal {
        #[command(subcommand)]
        action: crate::journal::JournalAction,
    },
    /// Who changed what, when: journal events by actor, object and time, as JSON lines (read-only).
    Audit {
        /// Exactly this actor (`user:alice`, `servicenow:pysnow`…).
        #[arg(long)]
        actor: Option<String>,
        /// Events whose payload names this object (a site, item, check, incident number, plan…).
        #[arg(long)]
        object: Option<String>,
        /// From (RFC 3339, or `YYYY-MM-DD HH:MM` in Paris time).
        #[arg(long)]
        since: Option<String>,
        /// Until, excluded.
        #[arg(long)]
        until: Option<String>,
        #[arg(long, default_value_t = 1000)]
        limit: usize,
    },
    /// Print journal events as JSON lines.
    Events {
        #[arg(long, default_value_t = 0)]
        after: u64,
        #[arg(long, default_value_t = 100)]
        limit: u64,
    },
}

/// HTTPS: both files, or neither.
#[derive(Debug, clap::Args)]
pub struct TlsFlags {
    /// Certificate chain (PEM): serve HTTPS.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// Private key (PEM) of the certificate.
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

impl TlsFlags {
    fn apply(self, cfg: &mut Config) {
        if let (Some(c), Some(k)) = (self.tls_cert, self.tls_key) {
            cfg.server.tls_cert = c;
            cfg.server.tls_key = k;
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum PlanAction {
    /// Commit the plan in FILE (JSON: destination, movements [{from, item_id, quantity, vehicle_id}], vehicles…).
    Commit { file: PathBuf },
    /// Mark a committed plan shipped (its quantities leave their origin).
    Ship { id: String },
    /// Mark a shipped plan received (its quantities reach the destination).
    Receive { id: String },
    /// Cancel a committed plan (its reservations are released).
    Cancel { id: String },
    /// List plans.
    List,
}

fn step(journal: &Journal, id: String, verb: &str, actor: Actor) -> Result<String, vigie_app::AppError> {
    let step = vigie_app::plans::Step::parse(verb).expect("the command line names a step");
    let caller = vigie_app::Caller::internal(actor, format!("cli:plan {verb} {id}"));
    vigie_app::plans::step(journal, &caller, &id, step).map(|_| format!("plan {id}: {verb} done"))
}

fn cli_actor(actor: Option<String>) -> anyhow::Result<Actor> {
    match actor {
        Some(a) => Actor::parse(&a).map_err(|e| anyhow::anyhow!("--actor: {e}")),
        None => Actor::parse(&format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "unknown".into())))
            .map_err(|e| anyhow::anyhow!("{e}")),
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // Servers log their work; one-shot commands only warnings, so their output stays readable.
    let serving = matches!(cli.command, Command::Serve { .. } | Command::Demo { .. } | Command::Import { .. });
    init_tracing(if serving { "info" } else { "warn" });
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn init_tracing(default: &str) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("VIGIE_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}

/// The configuration with every layer, flags last.
pub fn effective_config(cli: &Cli) -> anyhow::Result<Config> {
    let mut cfg = config::load(cli.config.as_deref(), std::env::vars())?;
    if let Some(d) = &cli.data {
        cfg.storage.data_dir = d.clone();
    }
    if let Some(db) = &cli.database {
        cfg.storage.database = db.clone();
    }
    Ok(cfg)
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let mut cfg = effective_config(&cli)?;
    match cli.command {
        Command::Config { effective } => {
            if effective {
                print!("{}", cfg.redacted_toml());
            } else {
                print!("{}", config::defaults_toml());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Generate { scale, out, seed } => {
            let summary = crate::generate::write(&out, scale, seed)?;
            println!("{summary}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve { listen, tls } => {
            if let Some(l) = listen {
                cfg.server.listen = l;
            }
            tls.apply(&mut cfg);
            // On PostgreSQL the nodes given the same database form a cluster (docs/cluster.md).
            let clustered = crate::is_postgres(&cfg);
            let (journal, _lock) = crate::open_node(&cfg, clustered)?;
            // Bound first: the others forward writes to the address actually bound (port 0 included).
            let listener = std::net::TcpListener::bind(&cfg.server.listen)
                .with_context(|| format!("cannot listen on {}", cfg.server.listen))?;
            let cluster =
                if clustered { Some(crate::join_cluster(&cfg, &journal, listener.local_addr()?)?) } else { None };
            if journal.role().writes() {
                crate::users::first_admin(&journal)?;
            }
            let code = crate::serve::serve(&cfg, journal, false, cluster.clone(), Some(listener));
            if let Some(c) = cluster {
                c.stop();
            }
            code
        }
        Command::User { action } => {
            let actor = cli_actor(None)?;
            let list = matches!(action, crate::users::UserAction::List);
            let (journal, _lock) = if list {
                (crate::open_read_only(&cfg)?, None)
            } else {
                let (j, l) = crate::open(&cfg)?;
                (j, Some(l))
            };
            let out = crate::users::user(&journal, action, actor);
            journal.shutdown();
            println!("{}", out?.trim_end());
            Ok(ExitCode::SUCCESS)
        }
        Command::Token { action } => {
            let actor = cli_actor(None)?;
            let list = matches!(action, crate::users::TokenAction::List);
            let (journal, _lock) = if list {
                (crate::open_read_only(&cfg)?, None)
            } else {
                let (j, l) = crate::open(&cfg)?;
                (j, Some(l))
            };
            let out = crate::users::token(&journal, action, actor);
            journal.shutdown();
            println!("{}", out?.trim_end());
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { listen, no_serve, tls } => {
            if let Some(l) = listen {
                cfg.server.listen = l;
            }
            tls.apply(&mut cfg);
            let (journal, _lock) = crate::open(&cfg)?;
            let files = crate::demo::files(chrono::Utc::now());
            let report = import_files(&journal, files, Actor::system("demo"), false)
                .map_err(|p| anyhow::anyhow!("the demo data set is invalid:\n{}", lines(&p)))?;
            let st = journal.state();
            let c = st.counts();
            eprintln!(
                "demo loaded: {} organisations, {} sites, {} items, {} stock lines, {} forces ({} soldiers), {} vehicles; {} new events",
                c.organizations,
                c.sites,
                c.items,
                c.stock_lines,
                c.forces,
                st.forces.values().map(|f| f.value.headcount as u64).sum::<u64>(),
                c.vehicles,
                report.events
            );
            eprintln!(
                "TOC estate: {} partners, {} applications, {} assets, {} checks; `vigie demo` feeds them and plays \
                 incidents (a power cut at Arena Bercy, a flapping uplink at Paris La Défense Arena, an application \
                 error at the Stade de France, a planned maintenance at Versailles)",
                st.toc.partners.len(),
                st.toc.applications.len(),
                st.toc.assets.len(),
                st.toc.checks.len()
            );
            drop(st);
            crate::demo::readiness::setup(&journal, chrono::Utc::now())?;
            let st = journal.state();
            eprintln!(
                "readiness: {} zones, {} tasks, {} computers; at the Arena Bercy the results room waits for its tables, \
                 still on the road from Vincennes",
                st.readiness.zones.len(),
                st.readiness.tasks.len(),
                st.readiness.computers.len()
            );
            drop(st);
            crate::users::demo_users(&journal)?;
            eprintln!(
                "demo users (demo only; passwords in the README): {}",
                crate::users::DEMO_USERS.iter().map(|(n, r, ..)| format!("{n} ({r})")).collect::<Vec<_>>().join(", ")
            );
            if no_serve {
                journal.shutdown();
                return Ok(ExitCode::SUCCESS);
            }
            crate::serve::serve(&cfg, journal, true, None, None)
        }
        Command::Import { paths, actor, dry_run, json } => {
            let actor = cli_actor(actor)?;
            let files = read_paths(&paths)?;
            let (journal, _lock) = crate::open(&cfg)?;
            let result = import_files(&journal, files, actor, dry_run);
            journal.shutdown();
            match result {
                Ok(report) => {
                    if json {
                        println!("{}", serde_json::to_string_pretty(&report)?);
                    } else {
                        for (t, r) in &report.tables {
                            println!(
                                "{:<14} {:>9} rows: {} created, {} updated, {} unchanged",
                                serde_json::to_value(t)?.as_str().unwrap_or(""),
                                r.rows,
                                r.created,
                                r.updated,
                                r.unchanged
                            );
                        }
                        let verb = if dry_run { "would append" } else { "appended" };
                        println!("{verb} {} event(s)", report.events);
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(problems) => {
                    if json {
                        println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "problems": problems }))?);
                    } else {
                        eprintln!("{}", lines(&problems));
                    }
                    eprintln!("{} problem(s): nothing was imported", vigie_import::problem_count(&problems));
                    Ok(ExitCode::from(1))
                }
            }
        }
        Command::Ask { question, scenario } => {
            let journal = crate::open_read_only(&cfg)?;
            let travel = cfg.logistics.travel();
            let out = {
                let st = journal.state();
                match scenario {
                    None => crate::ask::run(&st, &travel, question),
                    Some(file) => {
                        let text = std::fs::read_to_string(&file)
                            .with_context(|| format!("cannot read {}", file.display()))?;
                        let sc: vigie_logistics::whatif::Scenario = serde_json::from_str(&text)
                            .with_context(|| format!("{} is not a scenario (JSON)", file.display()))?;
                        let copy = vigie_logistics::whatif::apply_scenario(&st, &sc)?;
                        drop(st);
                        eprintln!("what-if « {} » : {} changement(s), rien n'est écrit", sc.name, sc.changes.len());
                        crate::ask::run(&copy, &travel, question)
                    }
                }
            };
            journal.shutdown();
            println!("{}", out?.trim_end());
            Ok(ExitCode::SUCCESS)
        }
        Command::Shift { from, to, sites, reason, dry_run, on, days, json, actor } => {
            let on = match on {
                Some(d) => d.parse().with_context(|| format!("--on: expected YYYY-MM-DD, found {d:?}"))?,
                None => vigie_domain::paris::today(chrono::Utc::now()),
            };
            let sites: Option<Vec<vigie_domain::SiteId>> = sites
                .map(|s| {
                    s.split(',')
                        .map(|x| vigie_domain::SiteId::parse(x.trim()).map_err(|e| anyhow::anyhow!("--sites: {e}")))
                        .collect::<anyhow::Result<Vec<_>>>()
                })
                .transpose()?;
            // A dry run only reads; a shift writes, so it holds the data directory's lock.
            let (journal, _lock) = if dry_run {
                (crate::open_read_only(&cfg)?, None)
            } else {
                let (j, l) = crate::open(&cfg)?;
                (j, Some(l))
            };
            let actor = cli_actor(actor)?;
            let caller = vigie_app::Caller::internal(actor, "cli:shift");
            let request = vigie_app::shift::ShiftRequest { from, to, sites, reason, on, days };
            let vigie_app::shift::ShiftPreview { shift, effect, .. } =
                vigie_app::shift::preview(&journal, &caller, &request)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({"dry_run": dry_run, "shift": shift, "effect": effect})
                    )?
                );
            } else {
                println!(
                    "Bascule d'effort {} → {} : {} site(s) ({})",
                    shift.from,
                    shift.to,
                    shift.sites.len(),
                    shift.sites.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                );
                for o in &effect {
                    for i in &o.items {
                        let cov = |c: Option<f64>| {
                            c.map_or("—".to_string(), |c| format!("{:.1} %", c * 100.0).replace('.', ","))
                        };
                        println!(
                            "  {:<12} {:<16} couverture {} → {} ; manque {} → {}",
                            o.organization_id,
                            i.item,
                            cov(i.before.coverage),
                            cov(i.after.coverage),
                            crate::ask::fr(i.before.shortfall),
                            crate::ask::fr(i.after.shortfall)
                        );
                    }
                }
            }
            if dry_run {
                journal.shutdown();
                return Ok(ExitCode::SUCCESS);
            }
            let r = vigie_app::shift::apply(&journal, &caller, request);
            journal.shutdown();
            r?;
            println!("bascule enregistrée");
            Ok(ExitCode::SUCCESS)
        }
        Command::Plan { action, actor } => {
            if let PlanAction::List = action {
                let journal = crate::open_read_only(&cfg)?;
                let st = journal.state();
                for p in st.plans.values() {
                    let r = &p.value;
                    println!(
                        "{:<36} {:<10} vers {:<16} {} mouvement(s) {}",
                        r.plan.id,
                        r.status.as_str(),
                        r.plan.destination,
                        r.plan.movements.len(),
                        r.plan.purpose
                    );
                }
                drop(st);
                journal.shutdown();
                return Ok(ExitCode::SUCCESS);
            }
            let actor = cli_actor(actor)?;
            let (journal, _lock) = crate::open(&cfg)?;
            let result = match action {
                PlanAction::Commit { file } => {
                    let text =
                        std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
                    let proposed: vigie_app::plans::ProposedPlan = serde_json::from_str(&text)
                        .with_context(|| format!("{} is not a plan (JSON)", file.display()))?;
                    let caller = vigie_app::Caller::internal(actor, format!("cli:plan commit {}", file.display()));
                    vigie_app::plans::commit(&journal, &caller, proposed)
                        .map(|p| format!("plan {} committed", p.value.plan.id))
                }
                PlanAction::Ship { id } => step(&journal, id, "ship", actor),
                PlanAction::Receive { id } => step(&journal, id, "receive", actor),
                PlanAction::Cancel { id } => step(&journal, id, "cancel", actor),
                PlanAction::List => unreachable!("handled above"),
            };
            journal.shutdown();
            match result {
                Ok(msg) => {
                    println!("{msg}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    Ok(ExitCode::from(1))
                }
            }
        }
        Command::Journal { action } => crate::journal::run(&cfg, action),
        Command::Readiness { site, json } => {
            let journal = crate::open_read_only(&cfg)?;
            let out = crate::readiness::run(&journal.state(), site.as_deref(), json, chrono::Utc::now());
            journal.shutdown();
            print!("{}", out?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Oncall { team, site, partner, organization, at, json } => {
            let at = vigie_app::when::parse_instant("--at", at.as_deref())
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .unwrap_or_else(chrono::Utc::now);
            let journal = crate::open_read_only(&cfg)?;
            let query = vigie_app::oncall::DutyQuery { team, site, partner, organization };
            let out = crate::oncall::run(&journal.state(), &query, at, json);
            journal.shutdown();
            print!("{}", out?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Cluster { action } => {
            if !crate::is_postgres(&cfg) {
                bail!("cluster mode needs a PostgreSQL journal: pass --database postgres://… (SQLite is one node)");
            }
            let mut store = vigie_journal_postgres::PostgresStore::connect_with(
                cfg.storage.database.trim(),
                &cfg.storage.postgres_schema,
                Default::default(),
            )?;
            match action {
                ClusterAction::Status { json } => {
                    let view = store.cluster_view()?;
                    if json {
                        println!("{}", serde_json::to_string_pretty(&view)?);
                    } else {
                        print!("{}", crate::cluster_report(&view, chrono::Utc::now()));
                    }
                }
                ClusterAction::Forget { node } => {
                    let n = store.forget_node(&node)?;
                    println!("{}", if n == 0 { format!("no node {node}") } else { format!("{node} forgotten") });
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Status => {
            let journal = crate::open_read_only(&cfg)?;
            let st = journal.state();
            let out = serde_json::json!({
                "storage": journal.backend(),
                "last_seq": st.last_seq,
                "counts": st.counts(),
                "replay_seconds": journal.replay_stats().seconds,
            });
            drop(st);
            println!("{}", serde_json::to_string_pretty(&out)?);
            journal.shutdown();
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit { actor, object, since, until, limit } => {
            let filter = vigie_domain::event::AuditFilter {
                actor,
                object,
                since: vigie_app::when::parse_instant("--since", since.as_deref())?,
                until: vigie_app::when::parse_instant("--until", until.as_deref())?,
            };
            let journal = crate::open_read_only(&cfg)?;
            let out = std::io::stdout();
            let mut out = out.lock();
            let (events, _) = vigie_app::audit::events(&journal, &filter, 0, limit.max(1))?;
            for e in events {
                writeln!(out, "{}", serde_json::to_string(&e)?)?;
            }
            journal.shutdown();
            Ok(ExitCode::SUCCESS)
        }
        Command::Events { after, limit } => {
            let journal = crate::open_read_only(&cfg)?;
            let out = std::io::stdout();
            let mut out = out.lock();
            for e in journal.read_after(after, limit)? {
                writeln!(out, "{}", serde_json::to_string(&e)?)?;
            }
            journal.shutdown();
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn lines(problems: &[Problem]) -> String {
    problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n")
}

/// Files named, and the `.csv`/`.xlsx` files of folders named (sorted by name).
pub fn read_paths(paths: &[PathBuf]) -> anyhow::Result<Vec<SourceFile>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("cannot read the folder {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|e| {
                    let ext = e.extension().and_then(|x| x.to_str()).unwrap_or("").to_lowercase();
                    matches!(ext.as_str(), "csv" | "xlsx" | "xlsm")
                })
                .collect();
            entries.sort();
            if entries.is_empty() {
                bail!("the folder {} holds no .csv or .xlsx file", p.display());
            }
            for e in entries {
                out.push(read_one(&e)?);
            }
        } else {
            out.push(read_one(p)?);
        }
    }
    Ok(out)
}

fn read_one(p: &Path) -> anyhow::Result<SourceFile> {
    let bytes = std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
    Ok(SourceFile { name: p.display().to_string(), bytes })
}

/// A progress bar on stderr, drawn only when stderr is a terminal.
struct Progress {
    tty: bool,
    last: usize,
}

impl Progress {
    fn update(&mut self, done: usize, total: usize) {
        if !self.tty || total == 0 {
            return;
        }
        let pct = done * 100 / total;
        if pct == self.last {
            return;
        }
        self.last = pct;
        let filled = pct * 30 / 100;
        eprint!("\r[{}{}] {:>3}% read", "#".repeat(filled), ".".repeat(30 - filled), pct);
        if pct >= 100 {
            eprintln!();
        }
    }
}

/// Reads, validates and (unless `dry_run`) appends an import through the journal, atomically.
pub fn import_files(
    journal: &Journal,
    files: Vec<SourceFile>,
    actor: Actor,
    dry_run: bool,
) -> Result<vigie_import::Report, Vec<Problem>> {
    let mut progress = Progress { tty: std::io::stderr().is_terminal(), last: usize::MAX };
    let batch = vigie_import::read(&files, &mut |d, t| progress.update(d, t));
    drop(files);
    let caller = vigie_app::Caller::internal(actor, "cli:import");
    vigie_app::imports::import(journal, &caller, batch, dry_run).map_err(|e| match e {
        vigie_app::AppError::Invalid { problems, .. } => problems,
        other => vec![Problem::at("(import)", 0, 0, other.to_string())],
    })
}
