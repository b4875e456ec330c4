//! The commands the UI calls. Each locks the store, calls into a crate, and maps errors.

use crate::error::CommandError;
use crate::state::{AppState, Db, open_db};
use base64::Engine;
use cuecard_contacts::{ImportOptions, ImportReport};
use cuecard_core::{Call, Contact, ContactFields, ContactId, Note, TimelineEvent};
use cuecard_store::{ContactPage, ContactQuery, Provenance, Store, StoreError, TagCount};
use serde::Serialize;
use tauri::State;

type Result<T> = std::result::Result<T, CommandError>;

pub(crate) fn with_store<T>(
    state: &AppState,
    work: impl FnOnce(&mut Store) -> Result<T>,
) -> Result<T> {
    let mut db = state.db.lock().map_err(|_| {
        CommandError::new(
            "database",
            "the database lock was poisoned; restart Cuecard",
        )
    })?;
    match &mut *db {
        Db::Open(store) => work(store),
        Db::Unavailable(error) => Err(CommandError::new("database_unavailable", error.to_string())),
    }
}

/// Whether the database is usable, and if not, why and what can be done.
#[derive(Serialize, specta::Type)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum DbStatus {
    Ready {
        contact_count: u32,
    },
    /// The file could not be used; it has not been modified.
    Unavailable {
        message: String,
        can_move_aside: bool,
    },
}

#[derive(Serialize, specta::Type)]
pub struct AppStatus {
    pub db_path: String,
    pub db: DbStatus,
    pub version: String,
}

fn status(state: &AppState) -> Result<AppStatus> {
    let db = state.db.lock().map_err(|_| {
        CommandError::new(
            "database",
            "the database lock was poisoned; restart Cuecard",
        )
    })?;
    let db_status = match &*db {
        Db::Open(store) => DbStatus::Ready {
            contact_count: store.contact_count()?,
        },
        Db::Unavailable(error) => DbStatus::Unavailable {
            message: error.to_string(),
            can_move_aside: matches!(
                error,
                StoreError::Corrupt { .. } | StoreError::Migration { .. }
            ),
        },
    };
    Ok(AppStatus {
        db_path: state.db_path.display().to_string(),
        db: db_status,
        version: env!("CARGO_PKG_VERSION").to_owned(),
    })
}

#[tauri::command]
#[specta::specta]
pub async fn app_status(state: State<'_, AppState>) -> Result<AppStatus> {
    status(&state)
}

/// Moves an unreadable database aside (renamed, never deleted) and starts a fresh one.
#[tauri::command]
#[specta::specta]
pub async fn move_database_aside(state: State<'_, AppState>) -> Result<AppStatus> {
    {
        let mut db = state.db.lock().map_err(|_| {
            CommandError::new(
                "database",
                "the database lock was poisoned; restart Cuecard",
            )
        })?;
        if let Db::Unavailable(_) = &*db {
            let moved = cuecard_store::move_aside(&state.db_path)?;
            tracing::warn!(to = %moved.display(), "user moved the database aside");
            *db = open_db(&state.db_path, state.sync_nudger());
        }
    }
    crate::sync_commands::reload(&state).await;
    status(&state)
}

#[tauri::command]
#[specta::specta]
pub async fn list_contacts(state: State<'_, AppState>, query: ContactQuery) -> Result<ContactPage> {
    with_store(&state, |store| Ok(store.query_contacts(&query)?))
}

#[tauri::command]
#[specta::specta]
pub async fn tag_counts(state: State<'_, AppState>) -> Result<Vec<TagCount>> {
    with_store(&state, |store| Ok(store.tag_counts()?))
}

/// A contact with everything shown on its page.
#[derive(Serialize, specta::Type)]
pub struct ContactDetail {
    pub contact: Contact,
    pub timeline: Vec<TimelineEvent>,
    pub notes: Vec<Note>,
    pub calls: Vec<Call>,
}

#[tauri::command]
#[specta::specta]
pub async fn contact_detail(state: State<'_, AppState>, id: ContactId) -> Result<ContactDetail> {
    with_store(&state, |store| {
        let contact = store.contact(id)?.ok_or_else(|| {
            CommandError::new("not_found", format!("contact {id} does not exist"))
        })?;
        Ok(ContactDetail {
            contact,
            timeline: store.timeline(id, 200)?,
            notes: store.notes_for_contact(id)?,
            calls: store.calls_for_contact(id)?,
        })
    })
}

#[tauri::command]
#[specta::specta]
pub async fn create_contact(state: State<'_, AppState>, fields: ContactFields) -> Result<Contact> {
    with_store(&state, |store| {
        Ok(store.write(|w| w.create_contact(fields, &Provenance::Manual))?)
    })
}

#[tauri::command]
#[specta::specta]
pub async fn update_contact(
    state: State<'_, AppState>,
    id: ContactId,
    fields: ContactFields,
) -> Result<Contact> {
    with_store(&state, |store| {
        Ok(store.write(|w| w.update_contact(id, fields, &Provenance::Manual))?)
    })
}

#[tauri::command]
#[specta::specta]
pub async fn delete_contact(state: State<'_, AppState>, id: ContactId) -> Result<()> {
    with_store(&state, |store| Ok(store.write(|w| w.delete_contact(id))?))
}

#[tauri::command]
#[specta::specta]
pub async fn restore_contact(state: State<'_, AppState>, id: ContactId) -> Result<Contact> {
    with_store(&state, |store| Ok(store.write(|w| w.restore_contact(id))?))
}

#[tauri::command]
#[specta::specta]
pub async fn add_note(
    state: State<'_, AppState>,
    contact_id: ContactId,
    body: String,
) -> Result<Note> {
    with_store(&state, |store| {
        Ok(store.write(|w| w.add_note(contact_id, None, &body))?)
    })
}

/// A number as the user typed it, normalised.
#[derive(Serialize, specta::Type)]
pub struct PhoneCheck {
    pub e164: String,
    /// The number's time zone when its country has only one.
    pub time_zone: Option<String>,
}

/// Normalises a typed number to E.164 for the contact form (`region`: ISO 3166, e.g. IN).
#[tauri::command]
#[specta::specta]
pub async fn check_phone(raw: String, region: String) -> Result<PhoneCheck> {
    let region = cuecard_contacts::phone::region(&region)
        .map_err(|e| CommandError::new("invalid", e.to_string()))?;
    let e164 = cuecard_contacts::normalize_phone(&raw, region)
        .map_err(|e| CommandError::new("invalid", e.to_string()))?;
    let time_zone = cuecard_contacts::zone_for_number(&e164);
    Ok(PhoneCheck { e164, time_zone })
}

fn decode_file(content_base64: &str) -> Result<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(content_base64.trim())
        .map_err(|e| CommandError::new("import", format!("the file could not be read: {e}")))
}

/// Reads a CSV and reports what importing it would do, without writing anything.
#[tauri::command]
#[specta::specta]
pub async fn import_preview(
    state: State<'_, AppState>,
    content_base64: String,
    options: ImportOptions,
) -> Result<ImportReport> {
    let bytes = decode_file(&content_base64)?;
    with_store(&state, |store| {
        Ok(cuecard_contacts::preview(store, &bytes, &options, 20)?)
    })
}

/// Imports a CSV.
#[tauri::command]
#[specta::specta]
pub async fn import_contacts(
    state: State<'_, AppState>,
    content_base64: String,
    options: ImportOptions,
) -> Result<ImportReport> {
    let bytes = decode_file(&content_base64)?;
    with_store(&state, |store| {
        Ok(cuecard_contacts::import(store, &bytes, &options)?)
    })
}

/// Where an export went.
#[derive(Serialize, specta::Type)]
pub struct ExportResult {
    pub path: String,
    pub count: u32,
}

/// Exports every live contact as CSV into the user's Downloads folder (the data folder
/// when there is none), named `cuecard-contacts-YYYY-MM-DD-HHMMSS.csv`.
#[tauri::command]
#[specta::specta]
pub async fn export_contacts(state: State<'_, AppState>) -> Result<ExportResult> {
    let contacts = with_store(&state, |store| Ok(store.all_contacts()?))?;
    let dir = dirs::download_dir()
        .or_else(cuecard_store::data_dir)
        .ok_or_else(|| CommandError::new("export", "no Downloads or data folder on this system"))?;
    let name = format!(
        "cuecard-contacts-{}.csv",
        chrono::Local::now().format("%Y-%m-%d-%H%M%S")
    );
    let path = dir.join(name);
    let fail = |e: &dyn std::fmt::Display| {
        CommandError::new("export", format!("cannot write {}: {e}", path.display()))
    };
    std::fs::create_dir_all(&dir).map_err(|e| fail(&e))?;
    let file = std::fs::File::create(&path).map_err(|e| fail(&e))?;
    cuecard_contacts::export_csv(&contacts, std::io::BufWriter::new(file)).map_err(|e| fail(&e))?;
    tracing::info!(path = %path.display(), count = contacts.len(), "exported contacts");
    Ok(ExportResult {
        path: path.display().to_string(),
        count: u32::try_from(contacts.len()).unwrap_or(u32::MAX),
    })
}

/// The UI reports its first paint of the contacts list; logged as the cold-start time.
#[tauri::command]
#[specta::specta]
pub async fn ui_ready(state: State<'_, AppState>) -> Result<u32> {
    let ms = u32::try_from(state.started.elapsed().as_millis()).unwrap_or(u32::MAX);
    tracing::info!(cold_start_ms = ms, "contacts list painted");
    Ok(ms)
}
