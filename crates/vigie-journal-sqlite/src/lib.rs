//! Journal storage on SQLite, the embedded default: one file `journal.db` under the data directory, WAL mode with
//! `synchronous=FULL`, so a committed transaction survives a crash or a power cut. One writer connection.

use rusqlite::{params, Connection, OpenFlags};
use std::path::{Path, PathBuf};
use vigie_journal::{JournalStore, RawEvent, RowToWrite, StoreError};

const MIGRATIONS: &[&str] = &[
    // 1: the journal.
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
];

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
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(err)?;
        for (i, m) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            conn.execute_batch(m).map_err(err)?;
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

    fn append(&mut self, rows: &[RowToWrite]) -> Result<(), StoreError> {
        let tx = self.conn.transaction().map_err(err)?;
        {
            let mut st = tx
                .prepare_cached(
                    "INSERT INTO journal (seq, id, time_us, actor, origin, source, kind, payload)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
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
                    r.payload
                ])
                .map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    fn scan_projection(
        &mut self,
        after: u64,
        f: &mut dyn FnMut(RawEvent<'_>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT seq, time_us, source, kind, payload FROM journal WHERE seq > ?1 ORDER BY seq")
            .map_err(err)?;
        let mut rows = st.query(params![after as i64]).map_err(err)?;
        while let Some(row) = rows.next().map_err(err)? {
            let text = |i: usize| -> Result<&str, StoreError> { row.get_ref(i).map_err(err)?.as_str().map_err(err) };
            f(RawEvent {
                seq: row.get::<_, i64>(0).map_err(err)? as u64,
                id: uuid::Uuid::nil(),
                time_us: row.get(1).map_err(err)?,
                actor: "",
                origin: "",
                source: text(2)?,
                kind: text(3)?,
                payload: text(4)?,
            })?;
        }
        Ok(())
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
                "SELECT seq, id, time_us, actor, origin, source, kind, payload FROM journal
                 WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )
            .map_err(err)?;
        let limit = limit.map_or(-1, |l| l.min(i64::MAX as u64) as i64);
        let mut rows = st.query(params![after as i64, limit]).map_err(err)?;
        while let Some(row) = rows.next().map_err(err)? {
            let text = |i: usize| -> Result<&str, StoreError> { row.get_ref(i).map_err(err)?.as_str().map_err(err) };
            let id_bytes = row.get_ref(1).map_err(err)?.as_blob().map_err(err)?;
            let id = uuid::Uuid::from_slice(id_bytes).map_err(err)?;
            f(RawEvent {
                seq: row.get::<_, i64>(0).map_err(err)? as u64,
                id,
                time_us: row.get(2).map_err(err)?,
                actor: text(3)?,
                origin: text(4)?,
                source: text(5)?,
                kind: text(6)?,
                payload: text(7)?,
            })?;
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
