//! The commands behind Settings → Playbook: the team's playbook and scoring rubric as
//! TOML — read (the built-in default until the team saves its own), validated and
//! saved, imported from and exported to a file, reset. The work is in
//! `cuecard_coach::documents`; the files live in the app-data directory, where the CLI's
//! `cuecard analyze` finds them too. Also the coach's settings (language-model
//! suggestions: endpoint and model; the key is in the keychain).

use crate::error::CommandError;
use cuecard_coach::Playbook;
use cuecard_coach::documents::{self, CoachDocument, DocumentKind};
use cuecard_coach::settings::{CoachSettings, SettingsError};
use std::path::{Path, PathBuf};

type Result<T> = std::result::Result<T, CommandError>;

fn path_of(kind: DocumentKind) -> Result<PathBuf> {
    match kind {
        DocumentKind::Playbook => cuecard_store::playbook_path(),
        DocumentKind::Rubric => cuecard_store::rubric_path(),
    }
    .ok_or_else(|| CommandError::new("unavailable", "no data directory on this system"))
}

fn invalid(e: cuecard_coach::PlaybookError) -> CommandError {
    CommandError::new("invalid", e.to_string())
}

#[tauri::command]
#[specta::specta]
pub async fn coach_document(kind: DocumentKind) -> Result<CoachDocument> {
    documents::load(kind, &path_of(kind)?).map_err(invalid)
}

/// Validates and saves the edited text; a bad edit leaves the saved file as it was.
#[tauri::command]
#[specta::specta]
pub async fn coach_document_save(kind: DocumentKind, toml: String) -> Result<CoachDocument> {
    let saved = documents::save(kind, &path_of(kind)?, &toml).map_err(invalid)?;
    tracing::info!(?kind, "coaching document saved");
    Ok(saved)
}

/// Reads a TOML file (a playbook or rubric shared by the team) and saves it as the
/// team's, once it validates.
#[tauri::command]
#[specta::specta]
pub async fn coach_document_import(kind: DocumentKind, path: String) -> Result<CoachDocument> {
    documents::import(kind, &path_of(kind)?, Path::new(path.trim())).map_err(invalid)
}

/// Writes the document in force to `path`.
#[tauri::command]
#[specta::specta]
pub async fn coach_document_export(kind: DocumentKind, path: String) -> Result<String> {
    let doc = documents::load(kind, &path_of(kind)?).map_err(invalid)?;
    let target = PathBuf::from(path.trim());
    if target.as_os_str().is_empty() || target.is_dir() {
        return Err(CommandError::new(
            "invalid",
            format!("{:?} is not a file path", path),
        ));
    }
    std::fs::write(&target, doc.toml)
        .map_err(|e| CommandError::new("io", format!("cannot write {}: {e}", target.display())))?;
    Ok(target.display().to_string())
}

/// The playbook in force, as data for the structured editor.
#[tauri::command]
#[specta::specta]
pub async fn coach_playbook() -> Result<Playbook> {
    documents::playbook(Some(&path_of(DocumentKind::Playbook)?)).map_err(invalid)
}

/// Saves the structured editor's playbook (validated; its version moves on).
#[tauri::command]
#[specta::specta]
pub async fn coach_playbook_save(playbook: Playbook) -> Result<CoachDocument> {
    let saved =
        documents::save_playbook(&path_of(DocumentKind::Playbook)?, playbook).map_err(invalid)?;
    tracing::info!("playbook saved from the editor");
    Ok(saved)
}

/// Back to the built-in default.
#[tauri::command]
#[specta::specta]
pub async fn coach_document_reset(kind: DocumentKind) -> Result<CoachDocument> {
    documents::reset(kind, &path_of(kind)?).map_err(invalid)
}

fn settings_path() -> Result<PathBuf> {
    cuecard_store::coach_settings_path()
        .ok_or_else(|| CommandError::new("invalid", "no data directory on this system"))
}

fn settings_error(e: SettingsError) -> CommandError {
    let kind = match e {
        SettingsError::Io { .. } => "io",
        _ => "invalid",
    };
    CommandError::new(kind, e.to_string())
}

/// The coach's settings (language-model suggestions), or the defaults and why the file
/// could not be used.
#[derive(serde::Serialize, specta::Type)]
pub struct CoachSettingsState {
    pub settings: CoachSettings,
    pub problem: Option<String>,
}

#[tauri::command]
#[specta::specta]
pub async fn coach_settings() -> Result<CoachSettingsState> {
    Ok(match CoachSettings::load(&settings_path()?) {
        Ok(settings) => CoachSettingsState {
            settings,
            problem: None,
        },
        Err(e) => CoachSettingsState {
            settings: CoachSettings::default(),
            problem: Some(e.to_string()),
        },
    })
}

/// Saves the coach's settings; invalid ones are refused and the file is left as it was.
#[tauri::command]
#[specta::specta]
pub async fn save_coach_settings(settings: CoachSettings) -> Result<CoachSettings> {
    settings.save(&settings_path()?).map_err(settings_error)?;
    Ok(settings)
}
