//! Journal storage on SQLite, the embedded default: one file `journal.db` under the data directory, WAL mode with
//! `synchronous=FULL`, so a committed transaction survives a crash or a power cut. One writer connection.
//!
//! Each row carries its chain hash (`hash`, 32 bytes; see `vigie_journal::chain`). SQLite ignores WAL frames after
//! one with a bad checksum without a word, so a damaged `journal.db-wal` shows only as events missing: the head the
//! journal records outside the database (`journal.head`) is what notices it.

use rusqlite::{params, Connection, OpenFlags};
use std::path::{Path, PathBuf};
use vigie_journal::chain::{self, Hash, Head};
use vigie_journal::{JournalStore, RawEvent, RowToWrite, StoreError};

/// A schema step: SQL, then (for some) rows to rewrite in Rust.
enum Migration {
    Sql(&'static str),
    /// Adds the chain hash and computes it for the rows already there.
    ChainHashes,
}

const MIGRATIONS: &[Migration] = &[
    // 1: the journal.
    Migration::Sql(
        "CREATE TABLE IF NOT EXISTS journal (
        seq     INTEGER PRIMARY KEY,
        id      BLOB    NOT NULL UNIQUE,
        time_us INTEGER NOT NULL,
        actor   TEXT    NOT NULL,
        origin  TEXT    NOT NULL,
        source  TEXT    NOT NULL,
        kind    TEXT    NOT NULL,
        payload TEXT    NOT NULL
    );",
    ),
    // 2: every event chained to the one before it.
    Migration::ChainHashes,
    // Snapshots of the projection (fast starts): the latest two are kept.
    Migration::Sql("CREATE TABLE snapshots (seq INTEGER PRIMARY KEY, hash BLOB NOT NULL, body BLOB NOT NULL);"),
];

/// Computes the chain over the rows already stored (migration 2), in one transaction, by pages of rows.
fn chain_existing(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction().map_err(err)?;
    tx.execute_batch("ALTER TABLE journal ADD COLUMN hash BLOB").map_err(err)?;
    let mut prev: Hash = chain::GENESIS;
    let mut after = 0i64;
    loop {
        let page: Vec<(i64, Hash)> = {
            let mut st = tx
                .prepare_cached(
                    "SELECT seq, id, time_us, actor, origin, source, kind, payload FROM journal
                     WHERE seq > ?1 ORDER BY seq LIMIT 10000",
                )
                .map_err(err)?;
            let mut rows = st.query(params![after]).map_err(err)?;
            let mut page = Vec::new();
            while let Some(row) = rows.next().map_err(err)? {
                let raw = raw_row(row, false)?;
                prev = chain::raw_hash(&prev, &raw);
                page.push((raw.seq as i64, prev));
            }
            page
        };
        let Some(&(last, _)) = page.last() else { break };
        let mut up = tx.prepare_cached("UPDATE journal SET hash = ?1 WHERE seq = ?2").map_err(err)?;
        for (seq, hash) in &page {
            up.execute(params![&hash[..], seq]).map_err(err)?;
        }
        after = last;
    }
    tx.commit().map_err(err)
}

/// A row of `SELECT seq, id, time_us, actor, origin, source, kind, payload[, hash]`.
fn raw_row<'r>(row: &'r rusqlite::Row<'_>, with_hash: bool) -> Result<RawEvent<'r>, StoreError> {
    let text = |i: usize| -> Result<&str, StoreError> { row.get_ref(i).map_err(err)?.as_str().map_err(err) };
    let id_bytes = row.get_ref(1).map_err(err)?.as_blob().map_err(err)?;
    Ok(RawEvent {
        seq: row.get::<_, i64>(0).map_err(err)? as u64,
        id: uuid::Uuid::from_slice(id_bytes).map_err(err)?,
        time_us: row.get(2).map_err(err)?,
        actor: text(3)?,
        origin: text(4)?,
        source: text(5)?,
        kind: text(6)?,
        payload: text(7)?,
        hash: if with_hash { row.get_ref(8).map_err(err)?.as_blob_or_null().map_err(err)?.unwrap_or(&[]) } else { &[] },
    })
}

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError::new("sqlite", e)
}

pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
}

impl SqliteStore {
    /// Opens (creating if needed) `DIR/journal.db` and brings its schema up to date.
    pub fn open_dir(dir: &Path) -> Result<SqliteStore, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| err(format!("cannot create {}: {e}", dir.display())))?;
        Self::open(&dir.join("journal.db"))
    }

    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| err(format!("cannot open {}: {e}", path.display())))?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(err)?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(err)?;
        conn.pragma_update(None, "busy_timeout", 5000).map_err(err)?;
        conn.pragma_update(None, "cache_size", -65536).map_err(err)?;
        let mut conn = conn;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(err)?;
        if version as usize > MIGRATIONS.len() {
            return Err(err(format!(
                "{} was written by a newer Vigie (schema {version}, this build knows {})",
                path.display(),
                MIGRATIONS.len()
            )));
        }
        for (i, m) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            match m {
                Migration::Sql(sql) => conn.execute_batch(sql).map_err(err)?,
                Migration::ChainHashes => chain_existing(&mut conn)?,
            }
            conn.pragma_update(None, "user_version", (i + 1) as i64).map_err(err)?;
        }
        Ok(SqliteStore { conn, path: path.to_path_buf() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl JournalStore for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn last_seq(&mut self) -> Result<u64, StoreError> {
        self.conn
            .query_row("SELECT COALESCE(MAX(seq), 0) FROM journal", [], |r| r.get::<_, i64>(0))
            .map(|v| v as u64)
            .map_err(err)
    }

    fn head(&mut self) -> Result<Head, StoreError> {
        let mut st =
            self.conn.prepare_cached("SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1").map_err(err)?;
        let mut rows = st.query([]).map_err(err)?;
        match rows.next().map_err(err)? {
            None => Ok(Head::EMPTY),
            Some(row) => {
                let seq = row.get::<_, i64>(0).map_err(err)? as u64;
                let hash = row.get_ref(1).map_err(err)?.as_blob_or_null().map_err(err)?.unwrap_or(&[]);
                Ok(Head { seq, hash: hash.try_into().unwrap_or(chain::GENESIS) })
            }
        }
    }

    fn truncate_after(&mut self, seq: u64) -> Result<u64, StoreError> {
        let tx = self.conn.transaction().map_err(err)?;
        let n = tx.execute("DELETE FROM journal WHERE seq > ?1", params![seq as i64]).map_err(err)?;
        tx.execute("DELETE FROM snapshots WHERE seq > ?1", params![seq as i64]).map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(n as u64)
    }

    fn latest_snapshot(&mut self) -> Result<Option<(Head, Vec<u8>)>, StoreError> {
        let mut st =
            self.conn.prepare_cached("SELECT seq, hash, body FROM snapshots ORDER BY seq DESC LIMIT 1").map_err(err)?;
        let mut rows = st.query([]).map_err(err)?;
        let Some(row) = rows.next().map_err(err)? else { return Ok(None) };
        let seq = row.get::<_, i64>(0).map_err(err)? as u64;
        let hash: Vec<u8> = row.get(1).map_err(err)?;
        let Ok(hash) = hash.try_into() else { return Ok(None) };
        Ok(Some((Head { seq, hash }, row.get(2).map_err(err)?)))
    }

    fn save_snapshot(&mut self, head: Head, bytes: &[u8]) -> Result<(), StoreError> {
        let tx = self.conn.transaction().map_err(err)?;
        tx.execute(
            "INSERT OR REPLACE INTO snapshots (seq, hash, body) VALUES (?1, ?2, ?3)",
            params![head.seq as i64, &head.hash[..], bytes],
        )
        .map_err(err)?;
        tx.execute(
            "DELETE FROM snapshots WHERE seq < (SELECT seq FROM snapshots ORDER BY seq DESC LIMIT 1 OFFSET 1)",
            [],
        )
        .map_err(err)?;
        tx.commit().map_err(err)
    }

    fn append(&mut self, rows: &[RowToWrite]) -> Result<(), StoreError> {
        let tx = self.conn.transaction().map_err(err)?;
        {
            let mut st = tx
                .prepare_cached(
                    "INSERT INTO journal (seq, id, time_us, actor, origin, source, kind, payload, hash)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )
                .map_err(err)?;
            for r in rows {
                st.execute(params![
                    r.seq as i64,
                    r.id.as_bytes().as_slice(),
                    r.time_us,
                    r.actor,
                    r.origin,
                    r.source,
                    r.kind,
                    r.payload,
                    &r.hash[..]
                ])
                .map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    fn scan(
        &mut self,
        after: u64,
        limit: Option<u64>,
        f: &mut dyn FnMut(RawEvent<'_>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT seq, id, time_us, actor, origin, source, kind, payload, hash FROM journal
                 WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )
            .map_err(err)?;
        let limit = limit.map_or(-1, |l| l.min(i64::MAX as u64) as i64);
        let mut rows = st.query(params![after as i64, limit]).map_err(err)?;
        while let Some(row) = rows.next().map_err(err)? {
            f(raw_row(row, true)?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_story_on_sqlite() {
        let dir = tempfile_dir();
        let d = dir.clone();
        vigie_journal::story::run(move || Box::new(SqliteStore::open_dir(&d).expect("open sqlite")));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn pragmas_are_durable() {
        let dir = tempfile_dir();
        let s = SqliteStore::open_dir(&dir).unwrap();
        let mode: String = s.conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
        let sync: i64 = s.conn.pragma_query_value(None, "synchronous", |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(sync, 2, "synchronous=FULL");
        let _ = std::fs::remove_dir_all(dir);
    }

    fn tempfile_dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("vigie-sqlite-test-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
