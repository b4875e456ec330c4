//! What every handler shares: the database, the token keys, the limiter, the blob store
//! and the settings.

use crate::auth::ratelimit::AuthLimiter;
use crate::auth::tokens::{TokenKeys, random_token};
use crate::blobs::BlobStore;
use crate::config::Config;
use crate::db::{Db, DbError};
use crate::recordings::uploads::InFlight;
use cuecard_core::{Hlc, HlcClock};
use std::sync::{Arc, Mutex};

/// The HLC node id of writes the server makes itself (managers' reviews from the
/// dashboard). Devices draw theirs at random from the rest of the `u32` range.
pub const SERVER_NODE: u32 = 0;

/// Shared state, cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    pub keys: TokenKeys,
    pub limiter: AuthLimiter,
    pub config: Arc<Config>,
    /// Woken after every committed push, so long-polling pulls answer at once.
    pub changes: Arc<tokio::sync::Notify>,
    /// Uploaded recordings on disk (`config.blob_dir`).
    pub blobs: BlobStore,
    /// Recording uploads with a chunk being written now.
    pub uploads: InFlight,
    /// The clock stamping the server's own writes.
    clock: Arc<Mutex<HlcClock>>,
}

impl AppState {
    /// Opens the database (migrating it) and loads or creates the token signing key.
    pub async fn open(config: Config) -> Result<AppState, DbError> {
        let db = Db::open(&config.database_url).await?;
        let secret = db.secret("token_signing_key", random_token).await?;
        Ok(AppState {
            keys: TokenKeys::new(secret.as_bytes(), config.access_ttl_secs),
            limiter: AuthLimiter::new(config.auth_per_minute),
            db,
            blobs: BlobStore::new(&config.blob_dir),
            uploads: InFlight::default(),
            config: Arc::new(config),
            changes: Arc::new(tokio::sync::Notify::new()),
            clock: Arc::new(Mutex::new(HlcClock::new(SERVER_NODE, None))),
        })
    }

    /// A fresh HLC stamp for a write the server makes itself.
    pub fn stamp(&self) -> Hlc {
        let now = u64::try_from(crate::db::now_ms()).unwrap_or(0);
        // A poisoned lock only means another stamp panicked mid-way; the clock inside
        // is still a valid clock.
        let mut clock = self.clock.lock().unwrap_or_else(|e| e.into_inner());
        clock.tick(now)
    }
}
