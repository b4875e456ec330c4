//! Cuecard's local database (SQLite through rusqlite, bundled, WAL).
//!
//! [`Store`] opens or creates the database, refuses to touch a corrupt or too-new file,
//! upgrades older schemas in place (after a snapshot), and hands out the repositories.
//! Every change goes through a [`Writer`], which records the change in the sync outbox
//! in the same transaction, stamped by the device's hybrid logical clock — so sync never
//! misses a write and no write path has to remember it.

mod calls;
mod contacts;
mod dnc;
mod documents;
mod error;
mod migrations;
mod notes;
mod outbox;
mod paths;
mod recordings;
mod remote;
mod search;
mod sql;
mod timeline;

pub use contacts::{
    ContactPage, ContactQuery, ContactSort, KeyKind, NewContact, Provenance, SEARCH_COUNT_CAP,
    TagCount,
};
pub use error::{Result, StoreError};
pub use migrations::LATEST_VERSION;
pub use outbox::{OutboxEntry, OutboxOp};
pub use paths::{
    APP_IDENTIFIER, DB_FILE_NAME, coach_settings_path, data_dir, default_db_path, models_dir,
    phone_settings_path, playbook_path, recordings_dir, rubric_path, speech_settings_path,
};
pub use recordings::PendingRecording;
pub use remote::{RemoteReport, RemoteRow, Review, SyncAccount, SyncMarks};
pub use search::{SearchHit, SearchHitKind, fts_query};

use cuecard_core::{Hlc, HlcClock, Timestamp};
use rusqlite::{Connection, OpenFlags, Transaction};
use std::path::{Path, PathBuf};

/// The local database of one device.
pub struct Store {
    /// Declared first so it stops (and its connection closes) before `conn` does.
    _checkpointer: Option<Checkpointer>,
    conn: Connection,
    clock: HlcClock,
    path: Option<PathBuf>,
    /// Called after a transaction that recorded outbox entries commits.
    outbox_listener: Option<OutboxListener>,
}

/// What [`Store::on_outbox_write`] calls: the app's sync client's nudge, say.
pub type OutboxListener = std::sync::Arc<dyn Fn() + Send + Sync>;

/// What [`Store::open`] did to get the database ready.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OpenReport {
    /// Schema version the file had before opening (0 for a new database).
    pub from_version: u32,
    /// Migrations applied, in order.
    pub applied: Vec<u32>,
    /// Where the pre-upgrade snapshot was written, when an existing database was upgraded.
    pub snapshot: Option<PathBuf>,
}

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

impl Store {
    /// Opens the database at `path`, creating it (and its directory) if missing and
    /// upgrading it if it has an older schema.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        Self::open_with_report(path).map(|(store, _)| store)
    }

    /// As [`Store::open`], also saying what was done.
    pub fn open_with_report(path: impl AsRef<Path>) -> Result<(Store, OpenReport)> {
        Self::open_at_version(path.as_ref(), LATEST_VERSION)
    }

    /// Opens (or creates) a database migrated only up to `version`: how tests write a
    /// database "from an older Cuecard" to check upgrades.
    #[doc(hidden)]
    pub fn open_at_version(path: &Path, version: u32) -> Result<(Store, OpenReport)> {
        check_header(path)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
                action: "cannot create the data directory",
                path: dir.to_owned(),
                source,
            })?;
        }
        let mut conn =
            Connection::open_with_flags(path, open_flags()).map_err(|source| StoreError::Open {
                path: path.to_owned(),
                source,
            })?;
        let from_version = migrations::current_version(&conn).map_err(|e| classify(path, e))?;
        if from_version > LATEST_VERSION {
            return Err(StoreError::TooNew {
                path: path.to_owned(),
                found: from_version,
                supported: LATEST_VERSION,
            });
        }
        configure(&conn).map_err(|e| classify(path, e))?;
        let snapshot = if from_version > 0 && from_version < version {
            Some(snapshot_before_upgrade(&conn, path, from_version)?)
        } else {
            None
        };
        let applied = migrations::migrate_to(&mut conn, version)?;
        let mut store = Self::from_connection(conn, Some(path.to_owned()))?;
        if !applied.is_empty() {
            // An upgrade may have rebuilt the search index in one transaction.
            store.reconnect()?;
        }
        store._checkpointer = Checkpointer::start(path);
        if store._checkpointer.is_some() {
            // Checkpoints (and their fsyncs) happen on the background thread, not in commits.
            store.conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        }
        Ok((
            store,
            OpenReport {
                from_version,
                applied,
                snapshot,
            },
        ))
    }

    /// A private in-memory database, for tests and previews.
    pub fn open_in_memory() -> Result<Store> {
        let mut conn = Connection::open_in_memory()?;
        configure(&conn)?;
        migrations::migrate_to(&mut conn, LATEST_VERSION)?;
        Self::from_connection(conn, None)
    }

    fn from_connection(conn: Connection, path: Option<PathBuf>) -> Result<Store> {
        let node = node_id(&conn)?;
        let last = last_hlc(&conn)?;
        Ok(Store {
            _checkpointer: None,
            conn,
            clock: HlcClock::new(node, last),
            path,
            outbox_listener: None,
        })
    }

    /// Calls `listener` after every committed transaction that recorded local changes in
    /// the outbox (not after replaying the server's rows), so sync can push them at once.
    pub fn on_outbox_write(&mut self, listener: OutboxListener) {
        self.outbox_listener = Some(listener);
    }

    /// Where the database file is (`None` in memory).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<u32> {
        migrations::current_version(&self.conn)
    }

    /// Read access for the repositories' query functions.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Runs `work` in one transaction. Everything it changes, including the outbox
    /// entries its repository calls record, commits together or not at all.
    pub fn write<T>(&mut self, work: impl FnOnce(&mut Writer<'_>) -> Result<T>) -> Result<T> {
        let (committed, bulk, recorded) = {
            let mut writer = self.writer()?;
            let value = work(&mut writer);
            let bulk = writer.search_rows >= RECONNECT_AFTER_SEARCH_ROWS;
            let recorded = writer.recorded;
            let committed = value.and_then(|value| {
                let Writer { tx, clock, .. } = writer;
                tx.execute(
                    "INSERT INTO meta (key, value) VALUES ('hlc_last', ?1)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    [clock.last().to_string()],
                )?;
                tx.commit()?;
                Ok(value)
            });
            (committed, bulk, recorded)
        };
        if bulk {
            self.reconnect()?;
        }
        if recorded
            && committed.is_ok()
            && let Some(listener) = &self.outbox_listener
        {
            listener();
        }
        committed
    }

    /// Runs `work` in a transaction that is then rolled back: how previews see exactly
    /// what a write would do without keeping it.
    pub fn dry_run<T>(&mut self, work: impl FnOnce(&mut Writer<'_>) -> Result<T>) -> Result<T> {
        let (rolled_back, bulk) = {
            let mut writer = self.writer()?;
            let value = work(&mut writer);
            let bulk = writer.search_rows >= RECONNECT_AFTER_SEARCH_ROWS;
            let rolled_back = value.and_then(|value| {
                writer.tx.rollback()?;
                Ok(value)
            });
            (rolled_back, bulk)
        };
        if bulk {
            self.reconnect()?;
        }
        rolled_back
    }

    fn writer(&mut self) -> Result<Writer<'_>> {
        Ok(Writer {
            tx: self.conn.transaction()?,
            clock: &mut self.clock,
            now: cuecard_core::now(),
            search_rows: 0,
            replaying: false,
            recorded: false,
        })
    }

    /// Replaces the connection with a fresh one to the same file (see
    /// [`RECONNECT_AFTER_SEARCH_ROWS`]). An in-memory database keeps its connection: it
    /// lives only there.
    fn reconnect(&mut self) -> Result<()> {
        let Some(path) = self.path.clone() else {
            return Ok(());
        };
        let conn = Connection::open_with_flags(&path, open_flags()).map_err(|source| {
            StoreError::Open {
                path: path.clone(),
                source,
            }
        })?;
        configure(&conn).map_err(|e| classify(&path, e))?;
        if self._checkpointer.is_some() {
            conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        }
        self.conn = conn;
        tracing::debug!("reconnected after a bulk write");
        Ok(())
    }

    /// Runs SQLite's integrity check; `Ok(())` when the database is sound.
    pub fn check_integrity(&self) -> Result<()> {
        let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
        let problems: Vec<String> = stmt
            .query_map([], |row| row.get(0))?
            .collect::<std::result::Result<_, _>>()?;
        if problems.len() == 1 && problems[0] == "ok" {
            Ok(())
        } else {
            Err(StoreError::Corrupt {
                path: self.path.clone().unwrap_or_default(),
                detail: problems.join("; "),
            })
        }
    }
}

/// A write transaction with the clock that stamps its outbox entries.
pub struct Writer<'s> {
    tx: Transaction<'s>,
    clock: &'s mut HlcClock,
    now: Timestamp,
    /// Rows this transaction wrote to the contacts search index.
    search_rows: usize,
    /// Applying rows pulled from the sync server: the repositories write as usual but
    /// record nothing in the outbox (the server has these changes already).
    replaying: bool,
    /// This transaction recorded outbox entries.
    recorded: bool,
}

impl Writer<'_> {
    /// The connection inside the transaction (reads see this transaction's writes).
    pub fn conn(&self) -> &Connection {
        &self.tx
    }

    /// The time this transaction stamps on rows it writes.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    pub(crate) fn next_hlc(&mut self) -> Hlc {
        let ms = u64::try_from(self.now.timestamp_millis()).unwrap_or(0);
        self.clock.tick(ms)
    }
}

/// Moves WAL pages into the database file from a background thread, once a second, so
/// a commit never pays for a checkpoint (SQLite's automatic checkpoint runs inside the
/// commit that crosses the threshold, which is what made p99 write latency spike).
struct Checkpointer {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Checkpointer {
    fn start(path: &Path) -> Option<Checkpointer> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .ok()?;
        conn.busy_timeout(std::time::Duration::from_millis(200))
            .ok()?;
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("cuecard-checkpoint".into())
            .spawn(move || {
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                    stopped.recv_timeout(std::time::Duration::from_secs(1))
                {
                    // PASSIVE never blocks writers or readers; what it cannot copy now
                    // it copies next time.
                    if let Err(error) =
                        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                    {
                        tracing::debug!(%error, "background checkpoint skipped");
                    }
                }
            })
            .ok()?;
        Some(Checkpointer {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Moves a database that cannot be used out of the way — the file and its `-wal` and
/// `-shm` companions — to `NAME.unreadable-YYYYMMDDTHHMMSSZ`, and returns the new path of
/// the main file. Nothing is deleted.
pub fn move_aside(path: &Path) -> Result<PathBuf> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| DB_FILE_NAME.to_owned());
    let target = path.with_file_name(format!("{file_name}.unreadable-{stamp}"));
    for suffix in ["", "-wal", "-shm"] {
        let from = PathBuf::from(format!("{}{suffix}", path.display()));
        if from.exists() {
            let to = PathBuf::from(format!("{}{suffix}", target.display()));
            std::fs::rename(&from, &to).map_err(|source| StoreError::Io {
                action: "cannot move aside",
                path: from.clone(),
                source,
            })?;
        }
    }
    tracing::warn!(from = %path.display(), to = %target.display(), "moved an unreadable database aside");
    Ok(target)
}

/// Rejects a file that exists but is not SQLite, before SQLite is given a chance to write.
fn check_header(path: &Path) -> Result<()> {
    use std::io::Read;
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(StoreError::Io {
                action: "cannot read",
                path: path.to_owned(),
                source,
            });
        }
    };
    let mut header = [0u8; 16];
    let mut filled = 0;
    while filled < header.len() {
        match file.read(&mut header[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(source) => {
                return Err(StoreError::Io {
                    action: "cannot read",
                    path: path.to_owned(),
                    source,
                });
            }
        }
    }
    if filled == 0 {
        return Ok(()); // an empty file is a new database
    }
    if filled < header.len() || &header != SQLITE_MAGIC {
        return Err(StoreError::Corrupt {
            path: path.to_owned(),
            detail: "the file does not start with the SQLite header".into(),
        });
    }
    Ok(())
}

/// Turns "file is not a database" and "malformed" errors into [`StoreError::Corrupt`].
fn classify(path: &Path, error: StoreError) -> StoreError {
    match error {
        StoreError::Sqlite(rusqlite::Error::SqliteFailure(code, ref message))
            if matches!(
                code.code,
                rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt
            ) =>
        {
            StoreError::Corrupt {
                path: path.to_owned(),
                detail: message.clone().unwrap_or_else(|| code.to_string()),
            }
        }
        other => other,
    }
}

/// FTS5 buffers a transaction's new terms in a hash table that keeps, for the life of
/// the connection, the size the largest transaction gave it, and every later commit
/// scans and clears all of it: after a 100,000-contact import each one-contact write
/// took 3–6 ms instead of 0.5 ms, until the app restarted. A transaction that writes
/// this many search rows is therefore followed by a fresh connection.
const RECONNECT_AFTER_SEARCH_ROWS: usize = 5_000;

fn open_flags() -> OpenFlags {
    OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
}

fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // 32 MiB page cache: bulk imports touch several indexes at random places.
    conn.pragma_update(None, "cache_size", -32_768)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // After a checkpoint resets the WAL, truncate it back to at most 64 MiB.
    conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)?;
    conn.set_prepared_statement_cache_capacity(64);
    contacts::register_sql_functions(conn)?;
    Ok(())
}

/// Copies the database, as it is, next to itself before an upgrade.
fn snapshot_before_upgrade(conn: &Connection, path: &Path, version: u32) -> Result<PathBuf> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let target = PathBuf::from(format!("{}.v{version}-{stamp}.bak", path.display()));
    conn.execute("VACUUM INTO ?1", [target.to_string_lossy()])
        .map_err(|e| classify(path, e.into()))?;
    tracing::info!(snapshot = %target.display(), from_version = version, "snapshot before schema upgrade");
    Ok(target)
}

/// This device's clock node id, minted once per database.
fn node_id(conn: &Connection) -> Result<u32> {
    let existing: Option<String> = sql::optional(conn.query_row(
        "SELECT value FROM meta WHERE key = 'node_id'",
        [],
        |row| row.get(0),
    ))?;
    if let Some(text) = existing {
        return u32::from_str_radix(&text, 16).map_err(|e| StoreError::decode("node id", e));
    }
    let bytes = uuid::Uuid::now_v7().into_bytes();
    let node = u32::from_be_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]);
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('node_id', ?1)",
        [format!("{node:08x}")],
    )?;
    Ok(node)
}

fn last_hlc(conn: &Connection) -> Result<Option<Hlc>> {
    let text: Option<String> = sql::optional(conn.query_row(
        "SELECT value FROM meta WHERE key = 'hlc_last'",
        [],
        |row| row.get(0),
    ))?;
    text.map(|t| t.parse().map_err(|e| StoreError::decode("clock", e)))
        .transpose()
}
