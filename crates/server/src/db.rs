//! The database: SQLite (embedded, the default) or PostgreSQL, through sqlx's `Any` driver
//! so that one set of migrations and queries serves both.
//!
//! SQLite allows one writer at a time, so writes go through a pool of one connection and
//! queue in order instead of failing with SQLITE_BUSY; reads use their own pool (WAL lets
//! them run beside the writer). PostgreSQL uses one pool for both.
//!
//! PostgreSQL plans by its statistics, which autovacuum refreshes only a minute or more
//! after a table grows; a `records` table filled by a burst of pushes (a team's first
//! sync, a restore) would meanwhile be planned as nearly empty, and a bootstrap that takes
//! 1.2 s with statistics takes 3–5 s without. So the server runs `ANALYZE` itself after
//! enough growth ([`Db::note_growth`]) and at start-up on tables never analysed.

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use uuid::Uuid;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Which database is behind the pools.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DbKind {
    Sqlite,
    Postgres,
}

/// Pools for reading and writing.
#[derive(Clone, Debug)]
pub struct Db {
    pub read: AnyPool,
    pub write: AnyPool,
    pub kind: DbKind,
    growth: Arc<Growth>,
}

/// Rows written since the planner's statistics were last refreshed (PostgreSQL).
#[derive(Debug, Default)]
struct Growth {
    /// Rows written since the last `ANALYZE` this server ran.
    since: AtomicU64,
    /// Rows written since start-up.
    total: AtomicU64,
    /// An `ANALYZE` is running.
    running: AtomicBool,
}

/// Growth that always triggers a refresh; past 4× this, a quarter of what was written
/// since start-up (so a busy server analyses less often as its tables grow).
const ANALYZE_AFTER_ROWS: u64 = 10_000;
/// Refreshes the statistics of the tables whose plans depend on their size: the change
/// log and the dashboard's facts.
const ANALYZE_SQL: &str = "ANALYZE records, call_facts";

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(
        "unsupported database URL {0:?}: use sqlite://PATH (e.g. sqlite://cuecard.db) or postgres://USER@HOST/DB"
    )]
    UnsupportedUrl(String),
    #[error("cannot open the database at {url}: {source}")]
    Open { url: String, source: sqlx::Error },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
}

impl Db {
    /// Opens the database at `url`, creating a SQLite file if needed, and brings its schema
    /// up to date.
    pub async fn open(url: &str) -> Result<Db, DbError> {
        install_default_drivers();
        let kind = if url.starts_with("sqlite:") {
            DbKind::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            DbKind::Postgres
        } else {
            return Err(DbError::UnsupportedUrl(redact(url)));
        };
        let open_err = |source| DbError::Open {
            url: redact(url),
            source,
        };
        let db = match kind {
            DbKind::Sqlite => {
                let url = sqlite_url(url);
                let options = || {
                    AnyPoolOptions::new()
                        .acquire_timeout(Duration::from_secs(30))
                        .after_connect(|conn, _| {
                            Box::pin(async move {
                                conn.execute(
                                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                                     PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;",
                                )
                                .await?;
                                Ok(())
                            })
                        })
                };
                let write = options()
                    .max_connections(1)
                    .connect(&url)
                    .await
                    .map_err(open_err)?;
                let read = options()
                    .max_connections(8)
                    .connect(&url)
                    .await
                    .map_err(open_err)?;
                Db {
                    read,
                    write,
                    kind,
                    growth: Arc::default(),
                }
            }
            DbKind::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect(url)
                    .await
                    .map_err(open_err)?;
                Db {
                    read: pool.clone(),
                    write: pool,
                    kind,
                    growth: Arc::default(),
                }
            }
        };
        MIGRATOR.run(&db.write).await?;
        db.ensure_epoch().await?;
        if kind == DbKind::Postgres {
            db.analyze_if_never_analyzed().await?;
        }
        Ok(db)
    }

    /// Tells the database that a committed write added or changed `rows` rows of the
    /// change log. On PostgreSQL, enough growth starts an `ANALYZE` in the background
    /// (one at a time); on SQLite it does nothing (its planner needs no statistics here).
    pub fn note_growth(&self, rows: usize) {
        if self.kind != DbKind::Postgres || rows == 0 {
            return;
        }
        let rows = rows as u64;
        let growth = &self.growth;
        let total = growth.total.fetch_add(rows, Ordering::Relaxed) + rows;
        let since = growth.since.fetch_add(rows, Ordering::Relaxed) + rows;
        if since < ANALYZE_AFTER_ROWS.max(total / 4) || growth.running.swap(true, Ordering::AcqRel)
        {
            return;
        }
        growth.since.store(0, Ordering::Relaxed);
        let pool = self.write.clone();
        let growth = Arc::clone(&self.growth);
        tokio::spawn(async move {
            let started = Instant::now();
            match sqlx::query(ANALYZE_SQL).execute(&pool).await {
                Ok(_) => tracing::info!(
                    after_rows = since,
                    ms = started.elapsed().as_millis() as u64,
                    "planner statistics refreshed"
                ),
                Err(error) => tracing::warn!(%error, "ANALYZE failed"),
            }
            growth.running.store(false, Ordering::Release);
        });
    }

    /// `ANALYZE` at start-up when the change log holds rows PostgreSQL has never
    /// analysed (a database restored with `pg_restore`, or filled before an upgrade).
    async fn analyze_if_never_analyzed(&self) -> Result<(), sqlx::Error> {
        let never: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_user_tables
             WHERE relname = 'records' AND n_live_tup > 0
               AND last_analyze IS NULL AND last_autoanalyze IS NULL",
        )
        .persistent(false)
        .fetch_one(&self.read)
        .await?;
        if never > 0 {
            let started = Instant::now();
            sqlx::query(ANALYZE_SQL).execute(&self.write).await?;
            tracing::info!(
                ms = started.elapsed().as_millis() as u64,
                "planner statistics taken at start-up"
            );
        }
        Ok(())
    }

    /// Whether the database answers (for the readiness probe).
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1")
            .execute(&self.read)
            .await
            .map(|_| ())
    }

    /// The server epoch: minted when the database is created, and again by
    /// `cuecard-server new-epoch` after a restore from backup. Apps that see it change
    /// start their pull cursor over and re-push what the server lost.
    pub async fn epoch(&self) -> Result<String, sqlx::Error> {
        sqlx::query_scalar("SELECT value FROM server_meta WHERE key = 'epoch'")
            .fetch_one(&self.read)
            .await
    }

    /// Mints a new epoch (after restoring a backup).
    pub async fn new_epoch(&self) -> Result<String, sqlx::Error> {
        let epoch = Uuid::now_v7().to_string();
        sqlx::query("UPDATE server_meta SET value = $1 WHERE key = 'epoch'")
            .bind(&epoch)
            .execute(&self.write)
            .await?;
        Ok(epoch)
    }

    async fn ensure_epoch(&self) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO server_meta (key, value) VALUES ('epoch', $1) ON CONFLICT (key) DO NOTHING",
        )
        .bind(Uuid::now_v7().to_string())
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// A stored secret (e.g. the token signing key), created with `make` on first use.
    pub async fn secret(
        &self,
        key: &str,
        make: impl FnOnce() -> String,
    ) -> Result<String, sqlx::Error> {
        sqlx::query(
            "INSERT INTO server_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(make())
        .execute(&self.write)
        .await?;
        sqlx::query_scalar("SELECT value FROM server_meta WHERE key = $1")
            .bind(key)
            .fetch_one(&self.write)
            .await
    }
}

/// Marks a statement built at run time as safe. Every such statement in this crate is
/// assembled from fixed SQL text and numbered placeholders only; values are always bound.
pub fn built(sql: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(sql)
}

/// `$first, $first+1, …` placeholders for `count` values, for multi-row statements.
pub fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// SQLite URLs get `mode=rwc` so a new file is created.
fn sqlite_url(url: &str) -> String {
    if url.contains(":memory:") || url.contains("mode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

/// A database URL without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(
            redact("postgres://app:s3cret@db.internal/cuecard"),
            "postgres://app:***@db.internal/cuecard"
        );
        assert_eq!(redact("postgres://app@db/x"), "postgres://app@db/x");
        assert_eq!(redact("sqlite://data.db"), "sqlite://data.db");
    }

    #[test]
    fn placeholders_count_from_the_first() {
        assert_eq!(placeholders(3, 3), "$3, $4, $5");
        assert_eq!(placeholders(1, 0), "");
    }
}
