//! Journal storage on PostgreSQL, the shared option, chosen by a `postgres://` URL. Each append is one transaction
//! (PostgreSQL's default `synchronous_commit=on` makes it durable at commit). The sequence is the primary key, so two
//! writers racing for the same sequence cannot both succeed.

use postgres::{Client, NoTls};
use vigie_journal::{JournalStore, RawEvent, RowToWrite, StoreError};

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
];

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError::new("postgres", e)
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

pub struct PostgresStore {
    client: Client,
    schema: String,
}

impl PostgresStore {
    /// Connects and brings the schema up to date. `schema` isolates a journal (tests use one schema each).
    pub fn connect(url: &str, schema: &str) -> Result<PostgresStore, StoreError> {
        if schema.is_empty() || !schema.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(err("schema names are letters, digits and _"));
        }
        let mut client =
            Client::connect(url, NoTls).map_err(|e| err(format!("cannot connect to {}: {e}", redact_url(url))))?;
        client
            .batch_execute(&format!(
                "CREATE SCHEMA IF NOT EXISTS {schema};
                 SET search_path TO {schema};
                 CREATE TABLE IF NOT EXISTS vigie_migrations (version INT PRIMARY KEY);"
            ))
            .map_err(err)?;
        let done: i32 =
            client.query_one("SELECT COALESCE(MAX(version), 0) FROM vigie_migrations", &[]).map_err(err)?.get(0);
        for (i, m) in MIGRATIONS.iter().enumerate().skip(done as usize) {
            let mut tx = client.transaction().map_err(err)?;
            tx.batch_execute(m).map_err(err)?;
            tx.execute("INSERT INTO vigie_migrations (version) VALUES ($1)", &[&((i + 1) as i32)]).map_err(err)?;
            tx.commit().map_err(err)?;
        }
        Ok(PostgresStore { client, schema: schema.to_string() })
    }

    /// Drops the store's schema and everything in it (tests).
    pub fn drop_schema(url: &str, schema: &str) -> Result<(), StoreError> {
        let mut client = Client::connect(url, NoTls).map_err(err)?;
        client.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).map_err(err)
    }

    pub fn schema(&self) -> &str {
        &self.schema
    }
}

impl JournalStore for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn last_seq(&mut self) -> Result<u64, StoreError> {
        let row = self.client.query_one("SELECT COALESCE(MAX(seq), 0) FROM journal", &[]).map_err(err)?;
        Ok(row.get::<_, i64>(0) as u64)
    }

    fn append(&mut self, rows: &[RowToWrite]) -> Result<(), StoreError> {
        // One multi-row INSERT per chunk of rows, all in one transaction.
        let mut tx = self.client.transaction().map_err(err)?;
        for chunk in rows.chunks(1000) {
            let mut sql = String::from(
                "INSERT INTO journal (seq, id, time_us, actor, origin, source, kind, payload) SELECT * FROM UNNEST(
                 $1::BIGINT[], $2::UUID[], $3::BIGINT[], $4::TEXT[], $5::TEXT[], $6::TEXT[], $7::TEXT[], $8::TEXT[]::JSONB[])",
            );
            sql.shrink_to_fit();
            let seqs: Vec<i64> = chunk.iter().map(|r| r.seq as i64).collect();
            let ids: Vec<uuid::Uuid> = chunk.iter().map(|r| r.id).collect();
            let times: Vec<i64> = chunk.iter().map(|r| r.time_us).collect();
            let actors: Vec<&str> = chunk.iter().map(|r| r.actor.as_str()).collect();
            let origins: Vec<&str> = chunk.iter().map(|r| r.origin.as_str()).collect();
            let sources: Vec<&str> = chunk.iter().map(|r| r.source.as_str()).collect();
            let kinds: Vec<&str> = chunk.iter().map(|r| r.kind).collect();
            let payloads: Vec<&str> = chunk.iter().map(|r| r.payload.as_str()).collect();
            tx.execute(&sql, &[&seqs, &ids, &times, &actors, &origins, &sources, &kinds, &payloads]).map_err(err)?;
        }
        tx.commit().map_err(err)
    }

    fn scan(
        &mut self,
        after: u64,
        limit: Option<u64>,
        f: &mut dyn FnMut(RawEvent<'_>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        // A portal reads in pages, so a long journal is never held in memory at once.
        let mut remaining = limit.unwrap_or(u64::MAX);
        let mut tx = self.client.transaction().map_err(err)?;
        let stmt = tx
            .prepare(
                "SELECT seq, id, time_us, actor, origin, source, kind, payload::TEXT FROM journal
                 WHERE seq > $1 ORDER BY seq",
            )
            .map_err(err)?;
        let portal = tx.bind(&stmt, &[&(after as i64)]).map_err(err)?;
        while remaining > 0 {
            let page = remaining.min(10_000) as i32;
            let rows = tx.query_portal(&portal, page).map_err(err)?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                f(RawEvent {
                    seq: row.get::<_, i64>(0) as u64,
                    id: row.get(1),
                    time_us: row.get(2),
                    actor: row.get(3),
                    origin: row.get(4),
                    source: row.get(5),
                    kind: row.get(6),
                    payload: row.get(7),
                })?;
                remaining -= 1;
                if remaining == 0 {
                    break;
                }
            }
        }
        tx.commit().map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The PostgreSQL URL of the test cluster. Tests never skip silently: without a reachable server they fail and
    /// say how to start one (`.ci/run` starts one when none is running).
    pub fn test_url() -> String {
        std::env::var("VIGIE_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
    }

    #[test]
    fn storage_story_on_postgres() {
        let url = test_url();
        let schema = format!("story_{}", uuid::Uuid::now_v7().simple());
        if let Err(e) = Client::connect(&url, NoTls) {
            panic!("PostgreSQL is needed at {} ({e}); run `bash .ci/run` or set VIGIE_TEST_POSTGRES", redact_url(&url));
        }
        let (u, s) = (url.clone(), schema.clone());
        vigie_journal::story::run(move || Box::new(PostgresStore::connect(&u, &s).expect("connect postgres")));
        PostgresStore::drop_schema(&url, &schema).unwrap();
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact_url("postgres://vigie:s3cret@db:5432/v"), "postgres://vigie:***@db:5432/v");
        assert_eq!(redact_url("postgres://vigie@db/v"), "postgres://vigie@db/v");
    }
}
