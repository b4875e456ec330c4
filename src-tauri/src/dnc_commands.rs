//! The commands behind the Do-not-call screen: the list, adding a number (normalised to
//! E.164 with the user's default region; contacts holding it are flagged) and removing
//! one. The work is in `cuecard_store` (the list) and `cuecard_contacts` (numbers).

use crate::commands::with_store;
use crate::error::CommandError;
use crate::state::AppState;
use cuecard_core::{DncEntry, DncSource};
use serde::Serialize;
use tauri::State;

type Result<T> = std::result::Result<T, CommandError>;

fn e164(number: &str, region: &str) -> Result<String> {
    let region = cuecard_contacts::phone::region(region)
        .map_err(|e| CommandError::new("invalid", e.to_string()))?;
    cuecard_contacts::normalize_phone(number, region)
        .map_err(|e| CommandError::new("invalid", e.to_string()))
}

#[tauri::command]
#[specta::specta]
pub async fn dnc_list(state: State<'_, AppState>) -> Result<Vec<DncEntry>> {
    with_store(&state, |store| Ok(store.dnc_list()?))
}

/// What adding a number did.
#[derive(Serialize, specta::Type)]
pub struct DncAdded {
    pub e164: String,
    /// Contacts newly flagged do-not-call because they hold the number.
    pub contacts_flagged: u32,
    pub entries: Vec<DncEntry>,
}

/// Puts `number` (as typed; `region` for numbers without a country code) on the list.
#[tauri::command]
#[specta::specta]
pub async fn dnc_add(
    state: State<'_, AppState>,
    number: String,
    reason: Option<String>,
    region: String,
) -> Result<DncAdded> {
    let e164 = e164(&number, &region)?;
    let reason = reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    with_store(&state, |store| {
        let contacts_flagged =
            store.write(|w| w.add_dnc(&e164, reason.as_deref(), DncSource::Manual))?;
        tracing::info!(contacts_flagged, "number added to the do-not-call list");
        Ok(DncAdded {
            e164: e164.clone(),
            contacts_flagged,
            entries: store.dnc_list()?,
        })
    })
}

/// Takes an E.164 number off the list. Contacts keep their flag (it may have been set
/// for another reason); it is cleared on the contact.
#[tauri::command]
#[specta::specta]
pub async fn dnc_remove(state: State<'_, AppState>, e164: String) -> Result<Vec<DncEntry>> {
    with_store(&state, |store| {
        if !store.write(|w| w.remove_dnc(&e164))? {
            return Err(CommandError::new(
                "not_found",
                format!("{e164} is not on the do-not-call list"),
            ));
        }
        Ok(store.dnc_list()?)
    })
}
