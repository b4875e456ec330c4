//! The organisation's settings: any member reads them (the app follows the recording
//! policy), an admin changes them.

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::recordings::policy;
use crate::routes::Json;
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use cuecard_sync_protocol::OrgSettings;

pub fn routes() -> Router<AppState> {
    Router::new().route("/v1/org/settings", get(read).put(write))
}

async fn read(State(state): State<AppState>, caller: Caller) -> ApiResult<axum::Json<OrgSettings>> {
    let recording_policy = policy::of(&state.db.read, caller.org_id).await?;
    Ok(axum::Json(OrgSettings { recording_policy }))
}

async fn write(
    State(state): State<AppState>,
    caller: Caller,
    Json(settings): Json<OrgSettings>,
) -> ApiResult<axum::Json<OrgSettings>> {
    caller.require_admin()?;
    policy::set(&state.db.write, caller.org_id, settings.recording_policy).await?;
    tracing::info!(org = %caller.org_id, by = %caller.user_id,
        recording_policy = settings.recording_policy.name(), "organisation settings changed");
    Ok(axum::Json(settings))
}
