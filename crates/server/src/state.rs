//! What every handler shares: the database, the token keys, the limiter and the settings.

use crate::auth::ratelimit::AuthLimiter;
use crate::auth::tokens::{TokenKeys, random_token};
use crate::config::Config;
use crate::db::{Db, DbError};
use std::sync::Arc;

/// Shared state, cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    pub keys: TokenKeys,
    pub limiter: AuthLimiter,
    pub config: Arc<Config>,
    /// Woken after every committed push, so long-polling pulls answer at once.
    pub changes: Arc<tokio::sync::Notify>,
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
            config: Arc::new(config),
            changes: Arc::new(tokio::sync::Notify::new()),
        })
    }
}
