//! `cuecard-server`: the sync backend and the managers' dashboard.
//!
//! - [`routes`]: the HTTP API (see API.md next to this crate's Cargo.toml).
//! - [`accounts`], [`teams`], [`auth`]: organisations, people, devices, tokens.
//! - [`sync`]: applying pushes, serving pulls, who sees what, the dashboard's call facts.
//! - [`db`]: SQLite or PostgreSQL through sqlx, one set of migrations.
//! - [`recordings`], [`blobs`]: call recordings: the policy, resumable uploads, the
//!   content-addressed files on disk.
//!
//! The sync rules themselves (conflict policies, wire format) live in
//! `cuecard-sync-protocol`, shared with the app.

pub mod accounts;
pub mod auth;
pub mod blobs;
pub mod config;
pub mod dashboard;
pub mod db;
pub mod error;
pub mod recordings;
pub mod routes;
pub mod state;
pub mod sync;
pub mod teams;

pub use config::Config;
pub use state::AppState;

use std::net::SocketAddr;
use tokio::net::TcpListener;

/// A running server (for tests and the binary).
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Opens the database and serves until `shutdown` resolves.
pub async fn serve(
    config: Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<Running> {
    let listener = TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let state = AppState::open(config).await?;
    let app = routes::router(state.clone());
    let sweeper = tokio::spawn(sweep_uploads(state.clone()));
    let task = tokio::spawn(async move {
        let served = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        sweeper.abort();
        served
    });
    Ok(Running { addr, state, task })
}

/// Removes abandoned recording uploads at start-up and then every hour.
async fn sweep_uploads(state: AppState) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every.tick().await;
        if let Err(error) =
            recordings::uploads::sweep_abandoned(&state, recordings::uploads::ABANDONED_AFTER_MS)
                .await
        {
            tracing::warn!(%error, "sweeping abandoned uploads failed");
        }
    }
}
