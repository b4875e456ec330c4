//! The commands behind Settings → Sync and the sidebar's sync indicator: signing in to
//! the team's sync server (or accepting an invitation), signing out, syncing now, and the
//! status. The background loop (`cuecard_sync::SyncClient::run`) starts with the app;
//! the store nudges it after every local change, and every status change goes to the
//! windows as a `SyncStatusEvent`. The work is `cuecard_sync`; this only wires it in.

use crate::error::CommandError;
use crate::state::{AppState, Db};
use cuecard_store::{Store, StoreError};
use cuecard_sync::{LocalStore, SyncError, SyncStatus};
use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use tauri::{AppHandle, Manager, State};
use tauri_specta::Event;

type Result<T> = std::result::Result<T, CommandError>;

/// The app's database as the sync client sees it: locked only for each synchronous
/// step, and an error while the database is unavailable.
pub struct AppDb<'a>(pub &'a Mutex<Db>);

impl LocalStore for AppDb<'_> {
    fn with<T>(
        &self,
        work: impl FnOnce(&mut Store) -> std::result::Result<T, StoreError>,
    ) -> std::result::Result<T, SyncError> {
        let mut db = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match &mut *db {
            Db::Open(store) => Ok(work(store)?),
            Db::Unavailable(error) => Err(SyncError::LocalStoreUnavailable(error.to_string())),
        }
    }
}

/// The sync status, after every change, to every window.
#[derive(Clone, Serialize, specta::Type, Event)]
pub struct SyncStatusEvent {
    pub status: SyncStatus,
}

/// Settings → Sync → Sign in.
#[derive(Deserialize, specta::Type)]
pub struct SyncSignIn {
    /// `https://sync.example.com` (a bare host gets `https://`).
    pub server_url: String,
    pub email: String,
    pub password: String,
}

/// Settings → Sync → Join with an invitation.
#[derive(Deserialize, specta::Type)]
pub struct SyncSignUp {
    pub server_url: String,
    /// The invitation code a manager or admin sent.
    pub invitation: String,
    /// The rep's name as the team sees it.
    pub name: String,
    pub password: String,
}

fn sync_error(error: SyncError) -> CommandError {
    tracing::info!(%error, "sync command failed");
    let kind = match &error {
        SyncError::Offline { .. } => "offline",
        SyncError::Unauthorized(_) => "unauthorized",
        SyncError::WrongAccount { .. } | SyncError::AlreadyOwned => "wrong_account",
        SyncError::BadUrl { .. } => "invalid",
        SyncError::LocalStoreUnavailable(_) => "database_unavailable",
        _ => "sync",
    };
    CommandError::new(kind, error.to_string())
}

#[tauri::command]
#[specta::specta]
pub async fn sync_status(state: State<'_, AppState>) -> Result<SyncStatus> {
    Ok(state.sync.status())
}

#[tauri::command]
#[specta::specta]
pub async fn sync_sign_in(state: State<'_, AppState>, request: SyncSignIn) -> Result<SyncStatus> {
    state
        .sync
        .sign_in(
            &AppDb(&state.db),
            &request.server_url,
            &request.email,
            &request.password,
        )
        .await
        .map_err(sync_error)
}

#[tauri::command]
#[specta::specta]
pub async fn sync_sign_up(state: State<'_, AppState>, request: SyncSignUp) -> Result<SyncStatus> {
    state
        .sync
        .sign_up(
            &AppDb(&state.db),
            &request.server_url,
            &request.invitation,
            &request.name,
            &request.password,
        )
        .await
        .map_err(sync_error)
}

/// Signs out; local data and unsynced changes stay.
#[tauri::command]
#[specta::specta]
pub async fn sync_sign_out(state: State<'_, AppState>) -> Result<SyncStatus> {
    state
        .sync
        .sign_out(&AppDb(&state.db))
        .await
        .map_err(sync_error)
}

/// Starts a round now (also after an error or while waiting to retry).
#[tauri::command]
#[specta::specta]
pub async fn sync_now(state: State<'_, AppState>) -> Result<SyncStatus> {
    state.sync.nudge();
    Ok(state.sync.status())
}

/// Starts the background sync loop and the status feed to the windows.
pub fn start(app: AppHandle) {
    let feed = app.clone();
    tauri::async_runtime::spawn(async move {
        let state = feed.state::<AppState>();
        let mut changes = state.sync.subscribe();
        while changes.changed().await.is_ok() {
            let status = changes.borrow_and_update().clone();
            if let Err(e) = (SyncStatusEvent { status }).emit(&feed) {
                tracing::warn!("sync status not delivered: {e}");
            }
        }
    });
    tauri::async_runtime::spawn(async move {
        let state = app.state::<AppState>();
        let db = AppDb(&state.db);
        if let Err(error) = state.sync.load(&db).await {
            tracing::warn!(%error, "sync not started");
        }
        state.sync.run(&db, state.sync_stop.subscribe()).await;
        tracing::info!("sync stopped");
    });
}

/// Reads the account again after the database was replaced (moved aside).
pub async fn reload(state: &AppState) {
    if let Err(error) = state.sync.load(&AppDb(&state.db)).await {
        tracing::warn!(%error, "sync not reloaded");
    }
    state.sync.nudge();
}

/// Stops the loop when the app exits (an in-flight request is dropped; its changes stay
/// in the outbox and go on the next run).
pub fn stop_on_exit(app: &AppHandle) {
    app.state::<AppState>().sync_stop.send_replace(true);
}
