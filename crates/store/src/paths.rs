//! Where the app's files live (the database, the speech settings, recordings): the platform's
//! app-data directory, shared by the desktop app and the CLI so both use the same files.

use std::path::{Path, PathBuf};

/// The app's identifier; must equal `identifier` in `tauri.conf.json` (a test checks).
pub const APP_IDENTIFIER: &str = "app.cuecard.desktop";

/// The database file's name inside the data directory.
pub const DB_FILE_NAME: &str = "cuecard.db";

/// The app-data directory: `$CUECARD_DATA_DIR` when set, else the platform's data
/// directory joined with [`APP_IDENTIFIER`] (what Tauri's `app_data_dir` resolves to).
pub fn data_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("CUECARD_DATA_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    dirs::data_dir().map(|d| d.join(APP_IDENTIFIER))
}

/// The default database path.
pub fn default_db_path() -> Option<PathBuf> {
    data_dir().map(|d| d.join(DB_FILE_NAME))
}

/// The speech settings file (`cuecard_stt::settings::SpeechSettings`).
pub fn speech_settings_path() -> Option<PathBuf> {
    data_dir().map(|d| d.join("speech.json"))
}

/// The team's playbook as edited in the app (`cuecard_coach::playbook::Playbook`; the
/// built-in default when absent).
pub fn playbook_path() -> Option<PathBuf> {
    data_dir().map(|d| d.join("playbook.toml"))
}

/// The team's scoring rubric as edited in the app (`cuecard_coach::scorecard::Rubric`).
pub fn rubric_path() -> Option<PathBuf> {
    data_dir().map(|d| d.join("rubric.toml"))
}

/// The phone settings (`cuecard_softphone::settings::PhoneSettings`).
pub fn phone_settings_path() -> Option<PathBuf> {
    data_dir().map(|d| d.join("phone.json"))
}

/// The coach's settings (`cuecard_coach::settings::CoachSettings`).
pub fn coach_settings_path() -> Option<PathBuf> {
    data_dir().map(|d| d.join("coach.json"))
}

/// The whisper models directory (`cuecard_models::store::ModelStore`).
pub fn models_dir() -> Option<PathBuf> {
    data_dir().map(|d| d.join("models"))
}

/// Where the recordings of the database at `db` live: `recordings/` beside it. Calls
/// store their recording's path relative to this directory.
pub fn recordings_dir(db: &Path) -> PathBuf {
    db.parent()
        .unwrap_or_else(|| Path::new("."))
        .join("recordings")
}
