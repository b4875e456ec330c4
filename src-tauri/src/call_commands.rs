//! The commands behind a call's review page: the call, its transcript, its scorecards
//! (the coach wrote them when the call was scored) and the managers' reviews (synced
//! down from the team's server), read from `cuecard_store`.

use crate::commands::with_store;
use crate::error::CommandError;
use crate::state::AppState;
use cuecard_core::{Call, CallId, Scorecard, Utterance};
use cuecard_store::Review;
use serde::Serialize;
use tauri::State;

type Result<T> = std::result::Result<T, CommandError>;

/// A call with what is needed to review it.
#[derive(Serialize, specta::Type)]
pub struct CallReview {
    pub call: Call,
    /// In time order.
    pub transcript: Vec<Utterance>,
    /// Oldest first; the last is the current one.
    pub scorecards: Vec<Scorecard>,
    /// Managers' comments from the dashboard, oldest first.
    pub reviews: Vec<Review>,
}

#[tauri::command]
#[specta::specta]
pub async fn call_review(state: State<'_, AppState>, id: CallId) -> Result<CallReview> {
    with_store(&state, |store| {
        let call = store
            .call(id)?
            .ok_or_else(|| CommandError::new("not_found", format!("call {id} does not exist")))?;
        Ok(CallReview {
            transcript: store.transcript(id)?,
            scorecards: store.scorecards_for(&id.to_string())?,
            reviews: store.reviews_for_call(&id.to_string())?,
            call,
        })
    })
}
