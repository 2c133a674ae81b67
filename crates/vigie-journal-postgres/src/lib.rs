//! Journal storage on PostgreSQL, the shared option, chosen by a `postgres://` URL. Each append is one transaction
//! (PostgreSQL's default `synchronous_commit=on` makes it durable at commit). The sequence is the primary key, so two
//! writers racing for the same sequence cannot both succeed.
//!
//! The store drives `tokio-postgres` on a runtime of its own (one thread: the journal's writer), so that every wait
//! has a bound: connecting (TCP, start-up and authentication together) within the connect timeout, each statement
//! within the statement timeout (set on the server as `statement_timeout`, and on the client a little longer, for a
//! server or a network that stops answering), TCP keepalives and `TCP_USER_TIMEOUT` for a peer that vanishes. A
//! connection that failed is dropped; [`JournalStore::reconnect`] (the journal's recovery thread) opens another.
//! Errors carry the server's own message, detail, hint and SQLSTATE, never the password.
//!
//! Payloads are stored as `TEXT`, exactly as written: the chain hash covers the bytes written, and `JSONB` would
//! hand back a normalised text (keys reordered, spaces changed). Queries can still cast: `payload::jsonb`.

use std::future::Future;
use std::time::Duration;
use tokio_postgres::{Client, NoTls, Statement};
use vigie_journal::chain::{self, Hash, Head};
use vigie_journal::{JournalStore, RawEvent, RowToWrite, StoreError};

/// Schema steps; some carry a rewrite of the rows in Rust (see [`PostgresStore::migrate`]).
const MIGRATIONS: &[&str] = &[
    // 1: the journal.
    "CREATE TABLE IF NOT EXISTS journal (
        seq     BIGINT PRIMARY KEY,
        id      UUID   NOT NULL UNIQUE,
        time_us BIGINT NOT NULL,
        actor   TEXT   NOT NULL,
        origin  TEXT   NOT NULL,
        source  TEXT   NOT NULL,
        kind    TEXT   NOT NULL,
        payload JSONB  NOT NULL
    );",
    // 2: every event chained to the one before it (hashes of existing rows computed by `chain_existing`); payloads
    // kept as written.
    "ALTER TABLE journal ADD COLUMN hash BYTEA;
     ALTER TABLE journal ALTER COLUMN payload TYPE TEXT USING payload::TEXT;",
    // Cluster mode (cluster.rs): the lease and its epoch (the fencing token), the nodes seen, the shared secret.
    "CREATE TABLE vigie_lease (
        id         INT PRIMARY KEY CHECK (id = 1),
        epoch      BIGINT NOT NULL,
        holder     TEXT NOT NULL,
        address    TEXT NOT NULL,
        renewed_at TIMESTAMPTZ NOT NULL
    );
    INSERT INTO vigie_lease VALUES (1, 0, '', '', 'epoch');
    CREATE TABLE vigie_nodes (
        name     TEXT PRIMARY KEY,
        address  TEXT NOT NULL,
        role     TEXT NOT NULL,
        position BIGINT NOT NULL,
        seen_at  TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE vigie_cluster (id INT PRIMARY KEY CHECK (id = 1), secret TEXT NOT NULL);",
    // Snapshots of the projection (fast starts): the latest two are kept.
    "CREATE TABLE vigie_snapshots (seq BIGINT PRIMARY KEY, hash BYTEA NOT NULL, body BYTEA NOT NULL);",
];

const SELECT: &str = "SELECT seq, id, time_us, actor, origin, source, kind, payload, hash FROM journal";

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError::new("postgres", e)
}

/// A PostgreSQL error as the server said it (message, detail, hint, SQLSTATE), or the client's own with its causes.
pub fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut s = format!("{} (SQLSTATE {})", db.message(), db.code().code());
        if let Some(d) = db.detail() {
            s.push_str(&format!("; detail: {d}"));
        }
        if let Some(h) = db.hint() {
            s.push_str(&format!("; hint: {h}"));
        }
        return s;
    }
    let mut s = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let text = c.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        cause = c.source();
    }
    s
}

/// Removes the password from a URL before it is shown anywhere.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Time limits of the store.
#[derive(Debug, Clone, Copy)]
pub struct PgOptions {
    /// Connecting: TCP, start-up, authentication and session set-up, together.
    pub connect_timeout: Duration,
    /// Each statement (server-side `statement_timeout`; the client waits this plus a margin).
    pub statement_timeout: Duration,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions { connect_timeout: Duration::from_secs(5), statement_timeout: Duration::from_secs(30) }
    }
}

/// Why an operation failed, before it becomes a [`StoreError`].
enum Fail {
    Pg(tokio_postgres::Error),
    TimedOut(&'static str, Duration),
    Store(StoreError),
}

impl From<tokio_postgres::Error> for Fail {
    fn from(e: tokio_postgres::Error) -> Self {
        Fail::Pg(e)
    }
}

/// Runs one operation on the store's connection (opened first if needed), on its runtime, then settles the result:
/// `on_conn!(self, |conn, limit| async-body)`.
macro_rules! on_conn {
    ($self:ident, |$c:ident, $limit:ident| $body:expr) => {{
        $self.ready()?;
        #[allow(unused_variables)]
        let $limit = $self.op_limit();
        let $c = $self.conn.as_mut().expect("connected");
        let r = $self.rt.block_on(async { $body });
        $self.settle(r)
    }};
}

/// Bounds one wait.
async fn within<T>(
    what: &'static str,
    limit: Duration,
    fut: impl Future<Output = Result<T, tokio_postgres::Error>>,
) -> Result<T, Fail> {
    match tokio::time::timeout(limit, fut).await {
        Ok(r) => Ok(r?),
        Err(_) => Err(Fail::TimedOut(what, limit)),
    }
}

struct Conn {
    client: Client,
    insert: Option<Statement>,
}

pub struct PostgresStore {
    rt: tokio::runtime::Runtime,
    config: tokio_postgres::Config,
    shown: String,
    schema: String,
    opts: PgOptions,
    conn: Option<Conn>,
    /// Cluster mode: the lease's epoch this node's appends require.
    fence: Option<u64>,
}

/// The connection settings of a store: every wait bounded, the node's name on the connection.
fn pg_config(
    url: &str,
    schema: &str,
    opts: PgOptions,
    node: Option<&str>,
) -> Result<(tokio_postgres::Config, String), StoreError> {
    if schema.is_empty() || !schema.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(err("schema names are letters, digits and _"));
    }
    let shown = redact_url(url);
    let mut config: tokio_postgres::Config =
        url.parse().map_err(|e| err(format!("{shown} is not a PostgreSQL URL: {e}")))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(opts.connect_timeout);
    }
    config
        .keepalives(true)
        .keepalives_idle(Duration::from_secs(10))
        .keepalives_interval(Duration::from_secs(5))
        .keepalives_retries(3)
        .tcp_user_timeout(opts.statement_timeout);
    if let Some(node) = node {
        config.application_name(application_name(node));
    }
    Ok((config, shown))
}

/// The `application_name` of a node's connections.
fn application_name(node: &str) -> String {
    format!("vigie/{node}")
}

impl PostgresStore {
    /// Connects and brings the schema up to date. `schema` isolates a journal (tests use one schema each).
    pub fn connect(url: &str, schema: &str) -> Result<PostgresStore, StoreError> {
        Self::connect_with(url, schema, PgOptions::default())
    }

    pub fn connect_with(url: &str, schema: &str, opts: PgOptions) -> Result<PostgresStore, StoreError> {
        Self::connect_node(url, schema, opts, None)
    }

    /// Connects as a cluster's node: every connection is named `vigie/NODE` (`application_name`), so that a node
    /// taking over the lease from one that stopped renewing it can end the stalled node's sessions.
    pub fn connect_node(
        url: &str,
        schema: &str,
        opts: PgOptions,
        node: Option<&str>,
    ) -> Result<PostgresStore, StoreError> {
        let (config, shown) = pg_config(url, schema, opts, node)?;
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(err)?;
        let mut store = PostgresStore { rt, config, shown, schema: schema.to_string(), opts, conn: None, fence: None };
        store.open_conn()?;
        store.migrate()?;
        Ok(store)
    }

    /// Drops the store's schema and everything in it (tests).
    pub fn drop_schema(url: &str, schema: &str) -> Result<(), StoreError> {
        let mut store = Self::connect(url, schema)?;
        store.batch(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
    }

    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// How long the client waits for one statement: the server's limit plus a margin for the answer to arrive.
    fn op_limit(&self) -> Duration {
        self.opts.statement_timeout + Duration::from_secs(2)
    }

    /// Opens a connection (dropping any other) and sets its session up, all within the connect timeout.
    fn open_conn(&mut self) -> Result<(), StoreError> {
        self.conn = None;
        let (cfg, schema, limit) = (self.config.clone(), self.schema.clone(), self.opts.connect_timeout);
        let statement_ms = self.opts.statement_timeout.as_millis();
        let opened = self.rt.block_on(async move {
            let fut = async move {
                let (client, connection) = cfg.connect(NoTls).await?;
                tokio::spawn(async move {
                    let _ = connection.await;
                });
                client
                    .batch_execute(&format!(
                        "SET statement_timeout = {statement_ms};
                         CREATE SCHEMA IF NOT EXISTS {schema};
                         SET search_path TO {schema};
                         CREATE TABLE IF NOT EXISTS vigie_migrations (version INT PRIMARY KEY);"
                    ))
                    .await?;
                Ok(client)
            };
            within("connecting", limit, fut).await
        });
        match opened {
            Ok(client) => {
                self.conn = Some(Conn { client, insert: None });
                Ok(())
            }
            Err(f) => Err(self.fail_text(f, true)),
        }
    }

    fn fail_text(&self, f: Fail, connecting: bool) -> StoreError {
        let text = match f {
            Fail::Pg(e) => describe(&e),
            Fail::TimedOut(what, d) => format!("no answer from the server within {} s ({what})", d.as_secs_f64()),
            Fail::Store(e) => return e,
        };
        if connecting {
            err(format!("cannot connect to {}: {text}", self.shown))
        } else {
            err(text)
        }
    }

    /// Opens a connection when there is none, or when the one held has closed.
    fn ready(&mut self) -> Result<(), StoreError> {
        if self.conn.as_ref().is_none_or(|c| c.client.is_closed()) {
            self.open_conn()?;
        }
        Ok(())
    }

    /// The end of one operation. A failed operation drops the connection unless the server itself answered with an
    /// error (the connection is then still good).
    fn settle<T>(&mut self, r: Result<T, Fail>) -> Result<T, StoreError> {
        match r {
            Ok(v) => Ok(v),
            Err(f) => {
                let alive = !self.conn.as_ref().is_none_or(|c| c.client.is_closed());
                let keep =
                    alive && matches!(&f, Fail::Pg(e) if e.as_db_error().is_some()) || matches!(f, Fail::Store(_));
                if !keep {
                    self.conn = None;
                }
                Err(self.fail_text(f, false))
            }
        }
    }

    /// Runs statements (a simple query) on the connection.
    pub(crate) fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        on_conn!(self, |c, limit| within("statement", limit, c.client.batch_execute(sql)).await)
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let done: i32 = on_conn!(self, |c, limit| {
            let row = within(
                "migrations",
                limit,
                c.client.query_one("SELECT COALESCE(MAX(version), 0) FROM vigie_migrations", &[]),
            )
            .await?;
            Ok(row.get(0))
        })?;
        if done as usize > MIGRATIONS.len() {
            return Err(err(format!(
                "schema {} was written by a newer Vigie (version {done}, this build knows {})",
                self.schema,
                MIGRATIONS.len()
            )));
        }
        for (i, m) in MIGRATIONS.iter().enumerate().skip(done as usize) {
            let version = (i + 1) as i32;
            // Migrations may rewrite every row: no time limit but the server's, lifted for them.
            on_conn!(self, |c, _limit| {
                let tx = c.client.transaction().await?;
                tx.batch_execute("SET LOCAL statement_timeout = 0").await?;
                tx.batch_execute(m).await?;
                if version == 2 {
                    chain_existing(&tx).await?;
                }
                tx.execute("INSERT INTO vigie_migrations (version) VALUES ($1)", &[&version]).await?;
                tx.commit().await?;
                Ok(())
            })?;
        }
        Ok(())
    }
}

/// Computes the chain over the rows already stored (migration 2), by pages of rows.
async fn chain_existing(tx: &tokio_postgres::Transaction<'_>) -> Result<(), Fail> {
    let mut prev: Hash = chain::GENESIS;
    let mut after = 0i64;
    loop {
        let rows = tx.query(&format!("{SELECT} WHERE seq > $1 ORDER BY seq LIMIT 10000"), &[&after]).await?;
        let Some(last) = rows.last() else { break };
        after = last.get(0);
        let mut seqs = Vec::with_capacity(rows.len());
        let mut hashes: Vec<Vec<u8>> = Vec::with_capacity(rows.len());
        for row in &rows {
            let raw = raw_row(row);
            prev = chain::raw_hash(&prev, &raw);
            seqs.push(raw.seq as i64);
            hashes.push(prev.to_vec());
        }
        tx.execute(
            "UPDATE journal SET hash = u.hash FROM UNNEST($1::BIGINT[], $2::BYTEA[]) AS u(seq, hash)
             WHERE journal.seq = u.seq",
            &[&seqs, &hashes],
        )
        .await?;
    }
    tx.batch_execute("ALTER TABLE journal ALTER COLUMN hash SET NOT NULL").await?;
    Ok(())
}

fn raw_row(row: &tokio_postgres::Row) -> RawEvent<'_> {
    RawEvent {
        seq: row.get::<_, i64>(0) as u64,
        id: row.get(1),
        time_us: row.get(2),
        actor: row.get(3),
        origin: row.get(4),
        source: row.get(5),
        kind: row.get(6),
        payload: row.get(7),
        hash: row.get::<_, Option<&[u8]>>(8).unwrap_or(&[]),
    }
}

impl JournalStore for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn last_seq(&mut self) -> Result<u64, StoreError> {
        self.head().map(|h| h.seq)
    }

    fn head(&mut self) -> Result<Head, StoreError> {
        on_conn!(self, |c, limit| {
            let row = within(
                "reading the head",
                limit,
                c.client.query_opt("SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1", &[]),
            )
            .await?;
            Ok(match row {
                None => Head::EMPTY,
                Some(r) => Head {
                    seq: r.get::<_, i64>(0) as u64,
                    hash: r.get::<_, Option<&[u8]>>(1).and_then(|h| h.try_into().ok()).unwrap_or(chain::GENESIS),
                },
            })
        })
    }

    fn reconnect(&mut self) -> Result<(), StoreError> {
        self.open_conn()
    }

    fn truncate_after(&mut self, seq: u64) -> Result<u64, StoreError> {
        on_conn!(self, |c, limit| {
            let tx = within("BEGIN", limit, c.client.transaction()).await?;
            let n =
                within("removing events", limit, tx.execute("DELETE FROM journal WHERE seq > $1", &[&(seq as i64)]))
                    .await?;
            within(
                "removing snapshots",
                limit,
                tx.execute("DELETE FROM vigie_snapshots WHERE seq > $1", &[&(seq as i64)]),
            )
            .await?;
            within("COMMIT", limit, tx.commit()).await?;
            Ok(n)
        })
    }

    fn latest_snapshot(&mut self) -> Result<Option<(Head, Vec<u8>)>, StoreError> {
        on_conn!(self, |c, limit| {
            let row = within(
                "reading the latest snapshot",
                limit,
                c.client.query_opt("SELECT seq, hash, body FROM vigie_snapshots ORDER BY seq DESC LIMIT 1", &[]),
            )
            .await?;
            Ok(row.and_then(|r| {
                let hash: Vec<u8> = r.get(1);
                Some((Head { seq: r.get::<_, i64>(0) as u64, hash: hash.try_into().ok()? }, r.get(2)))
            }))
        })
    }

    fn save_snapshot(&mut self, head: Head, bytes: &[u8]) -> Result<(), StoreError> {
        on_conn!(self, |c, limit| {
            let tx = within("BEGIN", limit, c.client.transaction()).await?;
            within(
                "saving a snapshot",
                limit,
                tx.execute(
                    "INSERT INTO vigie_snapshots (seq, hash, body) VALUES ($1, $2, $3)
                     ON CONFLICT (seq) DO UPDATE SET hash = EXCLUDED.hash, body = EXCLUDED.body",
                    &[&(head.seq as i64), &&head.hash[..], &bytes],
                ),
            )
            .await?;
            within(
                "pruning snapshots",
                limit,
                tx.execute(
                    "DELETE FROM vigie_snapshots
                     WHERE seq < (SELECT seq FROM vigie_snapshots ORDER BY seq DESC LIMIT 1 OFFSET 1)",
                    &[],
                ),
            )
            .await?;
            within("COMMIT", limit, tx.commit()).await
        })
    }

    fn set_fence(&mut self, epoch: Option<u64>) {
        self.fence = epoch;
    }

    fn append(&mut self, rows: &[RowToWrite]) -> Result<(), StoreError> {
        let fence = self.fence;
        let channel = cluster::channel(&self.schema);
        let last = rows.last().map_or(0, |r| r.seq);
        // One multi-row INSERT per chunk of rows, all in one transaction.
        on_conn!(self, |c, limit| {
            if c.insert.is_none() {
                let st = within(
                    "preparing",
                    limit,
                    c.client.prepare(
                        "INSERT INTO journal (seq, id, time_us, actor, origin, source, kind, payload, hash)
                         SELECT * FROM UNNEST($1::BIGINT[], $2::UUID[], $3::BIGINT[], $4::TEXT[], $5::TEXT[],
                                              $6::TEXT[], $7::TEXT[], $8::TEXT[], $9::BYTEA[])",
                    ),
                )
                .await?;
                c.insert = Some(st);
            }
            let insert = c.insert.clone().expect("prepared above");
            let tx = within("BEGIN", limit, c.client.transaction()).await?;
            if let Some(epoch) = fence {
                // The fence: the lease row is read under a share lock, so a takeover (which updates it) waits for
                // this transaction, and this one sees a takeover that committed before it.
                let row = within(
                    "checking the lease",
                    limit,
                    tx.query_opt("SELECT epoch FROM vigie_lease WHERE id = 1 FOR SHARE", &[]),
                )
                .await?;
                let now = row.map(|r| r.get::<_, i64>(0) as u64);
                if now != Some(epoch) {
                    return Err(Fail::Store(StoreError::fenced(
                        "postgres",
                        format!(
                            "the cluster's lease is at epoch {} and this node held epoch {epoch}: another node leads; \
                             nothing was written",
                            now.map_or("(none)".to_string(), |n| n.to_string())
                        ),
                    )));
                }
            }
            for chunk in rows.chunks(1000) {
                let seqs: Vec<i64> = chunk.iter().map(|r| r.seq as i64).collect();
                let ids: Vec<uuid::Uuid> = chunk.iter().map(|r| r.id).collect();
                let times: Vec<i64> = chunk.iter().map(|r| r.time_us).collect();
                let actors: Vec<&str> = chunk.iter().map(|r| r.actor.as_str()).collect();
                let origins: Vec<&str> = chunk.iter().map(|r| r.origin.as_str()).collect();
                let sources: Vec<&str> = chunk.iter().map(|r| r.source.as_str()).collect();
                let kinds: Vec<&str> = chunk.iter().map(|r| r.kind).collect();
                let payloads: Vec<&str> = chunk.iter().map(|r| r.payload.as_str()).collect();
                let hashes: Vec<&[u8]> = chunk.iter().map(|r| &r.hash[..]).collect();
                within(
                    "INSERT",
                    limit,
                    tx.execute(
                        &insert,
                        &[&seqs, &ids, &times, &actors, &origins, &sources, &kinds, &payloads, &hashes],
                    ),
                )
                .await?;
            }
            if fence.is_some() {
                // Followers wake up at the commit (NOTIFY is delivered then, or never).
                let seq = last.to_string();
                within("NOTIFY", limit, tx.execute("SELECT pg_notify($1, $2)", &[&channel, &seq])).await?;
            }
            within("COMMIT", limit, tx.commit()).await
        })
    }

    fn scan(
        &mut self,
        after: u64,
        limit: Option<u64>,
        f: &mut dyn FnMut(RawEvent<'_>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        // A portal reads in pages, so a long journal is never held in memory at once; each page has its time limit.
        on_conn!(self, |c, op_limit| {
            let mut remaining = limit.unwrap_or(u64::MAX);
            let tx = within("BEGIN", op_limit, c.client.transaction()).await?;
            let sql = format!("{SELECT} WHERE seq > $1 ORDER BY seq");
            let portal = within("scanning", op_limit, tx.bind(sql.as_str(), &[&(after as i64)])).await?;
            while remaining > 0 {
                let page = remaining.min(10_000) as i32;
                let rows = within("scanning", op_limit, tx.query_portal(&portal, page)).await?;
                if rows.is_empty() {
                    break;
                }
                for row in &rows {
                    f(raw_row(row)).map_err(Fail::Store)?;
                    remaining -= 1;
                    if remaining == 0 {
                        break;
                    }
                }
            }
            within("COMMIT", op_limit, tx.commit()).await
        })
    }
}

pub mod cluster;

#[cfg(test)]
mod tests;
