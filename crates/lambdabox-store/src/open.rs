//! Opening an SQLite database the way every Lambdabox store does: write-ahead
//! log with `synchronous = FULL` (a committed transaction survives a crash
//! of the machine), foreign keys on, a busy timeout, and the schema brought
//! up to date by numbered migrations (`PRAGMA user_version` counts those
//! applied; each runs in the transaction that bumps the count). The function
//! store, the event queue, the gateway's state and S3's metadata all open
//! through [`open_migrated`].

use std::path::{Path, PathBuf};

use rusqlite::Connection;

/// Why a database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("open database {path}")]
    Open { path: PathBuf, source: rusqlite::Error },
    #[error("migrate database {path} to schema version {version}")]
    Migrate { path: PathBuf, version: usize, source: rusqlite::Error },
}

/// Opens (creating it if missing) the database at `path` and applies the
/// migrations it has not had yet.
pub fn open_migrated(path: &Path, migrations: &[&str]) -> Result<Connection, OpenError> {
    let open_err = |source| OpenError::Open { path: path.to_owned(), source };
    let conn = Connection::open(path).map_err(open_err)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
    )
    .map_err(open_err)?;
    migrate(conn, path, migrations)
}

/// An in-memory database with the migrations applied (tests).
pub fn open_migrated_in_memory(migrations: &[&str]) -> Result<Connection, OpenError> {
    let path = Path::new(":memory:");
    let open_err = |source| OpenError::Open { path: path.to_owned(), source };
    let conn = Connection::open_in_memory().map_err(open_err)?;
    conn.execute_batch("PRAGMA foreign_keys = ON;").map_err(open_err)?;
    migrate(conn, path, migrations)
}

fn migrate(mut conn: Connection, path: &Path, migrations: &[&str]) -> Result<Connection, OpenError> {
    let err = |version| move |source| OpenError::Migrate { path: path.to_owned(), version, source };
    let tx = conn.transaction().map_err(err(0))?;
    let current: usize = tx.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(err(0))?;
    for (i, sql) in migrations.iter().enumerate().skip(current) {
        tx.execute_batch(sql).map_err(err(i + 1))?;
        tx.pragma_update(None, "user_version", i + 1).map_err(err(i + 1))?;
    }
    tx.commit().map_err(err(migrations.len()))?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIGRATIONS: &[&str] = &["CREATE TABLE a (x INTEGER);", "ALTER TABLE a ADD COLUMN y TEXT;"];

    #[test]
    fn migrations_run_once_in_order_and_pragmas_hold() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let conn = open_migrated(&path, &MIGRATIONS[..1]).unwrap();
        conn.execute("INSERT INTO a (x) VALUES (1)", []).unwrap();
        drop(conn);
        let conn = open_migrated(&path, MIGRATIONS).unwrap();
        let (x, y): (i64, Option<String>) =
            conn.query_row("SELECT x, y FROM a", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
        assert_eq!((x, y), (1, None));
        let version: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(version, 2);
        let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        let sync: i64 = conn.query_row("PRAGMA synchronous", [], |r| r.get(0)).unwrap();
        assert_eq!(sync, 2, "FULL");
        drop(conn);
        assert!(open_migrated(&path, MIGRATIONS).is_ok(), "reopening applies nothing twice");
    }

    #[test]
    fn a_failing_migration_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let err = open_migrated(&path, &["CREATE TABLE a (x);", "NOT SQL"]).unwrap_err();
        assert!(matches!(err, OpenError::Migrate { version: 2, .. }), "{err}");
        let conn = Connection::open(&path).unwrap();
        let version: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(version, 0);
    }
}
