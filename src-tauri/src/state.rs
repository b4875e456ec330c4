//! The app's state: the database (or why it could not be opened), the audio meter, the
//! speech work in progress (downloads, the mic test, a loaded model), the call being
//! coached, the softphone, and start-up timing.

use cuecard_models::download::CancelToken;
use cuecard_store::{Store, StoreError};
use cuecard_stt::SpeechEngine;
use cuecard_stt::live_mic::LiveMic;
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
        let db = open_db(&db_path);
        AppState {
            db_path,
            db: Mutex::new(db),
            meter: Mutex::new(None),
            speech: Mutex::new(SpeechState::default()),
            live: Mutex::new(crate::live_commands::LiveSlot::Idle),
            phone: Mutex::new(Default::default()),
            started,
            _log_guard: log_guard,
        }
    }
}

pub fn open_db(path: &std::path::Path) -> Db {
    match Store::open_with_report(path) {
        Ok((store, report)) => {
            tracing::info!(path = %path.display(), from = report.from_version, applied = ?report.applied, "database open");
            Db::Open(store)
        }
        Err(error) => {
            tracing::error!(%error, "database unavailable");
            Db::Unavailable(error)
        }
    }
}
