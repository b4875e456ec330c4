//! Versioned schema migrations.
//!
//! The schema version lives in SQLite's `user_version`. Each migration runs in its own
//! transaction together with the version bump, so an upgrade either lands whole or leaves
//! the database exactly as it was. Migration files are append-only: never edit one that
//! has shipped, add the next.

use crate::contacts;
use crate::error::{Result, StoreError};
use rusqlite::{Connection, Transaction};

/// One step of the schema's history.
pub(crate) struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub sql: &'static str,
    /// Data work SQL alone cannot express, run after `sql` in the same transaction.
    pub backfill: Option<fn(&Transaction<'_>) -> Result<()>>,
}

pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "contacts",
        sql: include_str!("../migrations/0001_contacts.sql"),
        backfill: None,
    },
    Migration {
        version: 2,
        name: "calls",
        sql: include_str!("../migrations/0002_calls.sql"),
        backfill: None,
    },
    Migration {
        version: 3,
        name: "search",
        sql: include_str!("../migrations/0003_search.sql"),
        backfill: Some(contacts::reindex_all),
    },
    Migration {
        version: 4,
        name: "search_tuning",
        sql: include_str!("../migrations/0004_search_tuning.sql"),
        backfill: None,
    },
    Migration {
        version: 5,
        name: "lookups_in_search_index",
        sql: include_str!("../migrations/0005_lookups_in_search_index.sql"),
        backfill: None,
    },
    Migration {
        version: 6,
        name: "call_log",
        sql: include_str!("../migrations/0006_call_log.sql"),
        backfill: None,
    },
    Migration {
        version: 7,
        name: "sync",
        sql: include_str!("../migrations/0007_sync.sql"),
        backfill: None,
    },
    Migration {
        version: 8,
        name: "recording_uploads",
        sql: include_str!("../migrations/0008_recording_uploads.sql"),
        backfill: None,
    },
];

/// The newest schema version this build knows.
pub const LATEST_VERSION: u32 = MIGRATIONS[MIGRATIONS.len() - 1].version;

pub(crate) fn current_version(conn: &Connection) -> Result<u32> {
    Ok(conn.pragma_query_value(None, "user_version", |row| row.get(0))?)
}

/// Applies every migration above the current version, up to `target`.
pub(crate) fn migrate_to(conn: &mut Connection, target: u32) -> Result<Vec<u32>> {
    let mut applied = Vec::new();
    let current = current_version(conn)?;
    for migration in MIGRATIONS
        .iter()
        .filter(|m| m.version > current && m.version <= target)
    {
        apply(conn, migration).map_err(|source| StoreError::Migration {
            version: migration.version,
            source: Box::new(source),
        })?;
        tracing::info!(
            version = migration.version,
            name = migration.name,
            "applied migration"
        );
        applied.push(migration.version);
    }
    Ok(applied)
}

fn apply(conn: &mut Connection, migration: &Migration) -> Result<()> {
    let tx = conn.transaction()?;
    tx.execute_batch(migration.sql)?;
    if let Some(backfill) = migration.backfill {
        backfill(&tx)?;
    }
    tx.pragma_update(None, "user_version", migration.version)?;
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_consecutive_from_one() {
        for (index, migration) in MIGRATIONS.iter().enumerate() {
            assert_eq!(migration.version as usize, index + 1, "{}", migration.name);
        }
    }

    #[test]
    fn a_failing_migration_leaves_the_database_as_it_was() {
        let mut conn = Connection::open_in_memory().expect("open");
        migrate_to(&mut conn, 1).expect("v1");
        let broken = Migration {
            version: 2,
            name: "broken",
            sql: "CREATE TABLE half_done (x); SELECT no_such_function();",
            backfill: None,
        };
        assert!(apply(&mut conn, &broken).is_err());
        assert_eq!(current_version(&conn).expect("version"), 1);
        let leftover: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'half_done'",
                [],
                |row| row.get(0),
            )
            .expect("query");
        assert_eq!(leftover, 0);
    }
}
