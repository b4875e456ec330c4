//! The app's state: the database (or why it could not be opened), the audio meter, the
//! speech work in progress (downloads, the mic test, a loaded model), the call being
//! coached, the softphone, the sync client, and start-up timing.

use cuecard_models::download::CancelToken;
use cuecard_secrets::Secrets;
use cuecard_store::{OutboxListener, Store, StoreError};
use cuecard_stt::SpeechEngine;
use cuecard_stt::live_mic::LiveMic;
use cuecard_sync::SyncClient;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Instant;
use tracing_appender::non_blocking::WorkerGuard;

pub struct AppState {
    pub db_path: PathBuf,
    pub db: Mutex<Db>,
    /// The level meter Settings → Audio runs, if any.
    pub meter: Mutex<Option<cuecard_audio::check::MeterSession>>,
    /// What Settings → Speech has running.
    pub speech: Mutex<SpeechState>,
    /// The call being coached, if any.
    pub live: Mutex<crate::live_commands::LiveSlot>,
    /// The softphone and what its screens show.
    pub phone: Mutex<crate::phone_commands::PhoneState>,
    /// Syncs the store with the team's server in the background.
    pub sync: Arc<SyncClient>,
    /// Turns true when the app exits, to stop the sync loop.
    pub sync_stop: tokio::sync::watch::Sender<bool>,
    pub started: Instant,
    _log_guard: Option<WorkerGuard>,
}

/// Speech work in progress.
#[derive(Default)]
pub struct SpeechState {
    /// Running model downloads by id, with their cancel switches.
    pub downloads: HashMap<String, CancelToken>,
    /// The mic transcription test, while it runs.
    pub live_mic: Option<LiveMic>,
    /// The local engine last loaded, with the model name the settings gave for it.
    pub local: Option<(Option<String>, Arc<dyn SpeechEngine>)>,
}

/// The database, or the reason it is not open.
pub enum Db {
    Open(Store),
    Unavailable(StoreError),
}

impl AppState {
    pub fn open(started: Instant, log_guard: Option<WorkerGuard>) -> AppState {
        let db_path = cuecard_store::default_db_path()
            .unwrap_or_else(|| PathBuf::from(cuecard_store::DB_FILE_NAME));
        let sync = Arc::new(SyncClient::new(
            Secrets::new(),
            &device_name(),
            &whoami::platform().to_string(),
        ));
        let db = open_db(&db_path, nudger(&sync));
        AppState {
            db_path,
            db: Mutex::new(db),
            meter: Mutex::new(None),
            speech: Mutex::new(SpeechState::default()),
            live: Mutex::new(crate::live_commands::LiveSlot::Idle),
            phone: Mutex::new(Default::default()),
            sync,
            sync_stop: tokio::sync::watch::channel(false).0,
            started,
            _log_guard: log_guard,
        }
    }

    /// What the store calls after a local change: wakes the sync loop to push it.
    pub fn sync_nudger(&self) -> OutboxListener {
        nudger(&self.sync)
    }
}

fn nudger(sync: &Arc<SyncClient>) -> OutboxListener {
    let sync = Arc::downgrade(sync);
    Arc::new(move || {
        if let Some(sync) = sync.upgrade() {
            sync.nudge();
        }
    })
}

/// How the sync server lists this device ("Dana's ThinkPad").
fn device_name() -> String {
    whoami::devicename()
        .ok()
        .filter(|name| !name.trim().is_empty())
        .unwrap_or_else(|| "Cuecard desktop".to_owned())
}

/// Opens the database; `on_outbox` hears of every local change.
pub fn open_db(path: &std::path::Path, on_outbox: OutboxListener) -> Db {
    match Store::open_with_report(path) {
        Ok((mut store, report)) => {
            store.on_outbox_write(on_outbox);
            tracing::info!(path = %path.display(), from = report.from_version, applied = ?report.applied, "database open");
            Db::Open(store)
        }
        Err(error) => {
            tracing::error!(%error, "database unavailable");
            Db::Unavailable(error)
        }
    }
}
