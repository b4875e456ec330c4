//! Push, pull and bootstrap.

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::routes::{Json, Query};
use crate::state::AppState;
use crate::sync::{apply, pull};
use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use cuecard_sync_protocol::{PushRequest, PushResponse, SCHEMA_VERSION};
use serde::Deserialize;
use std::time::Duration;

/// The longest a pull may wait for a change.
const MAX_WAIT_SECS: u64 = 60;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/sync/push", post(push))
        .route("/v1/sync/pull", get(pull_changes))
        .route("/v1/sync/bootstrap", get(bootstrap))
}

async fn push(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<PushRequest>,
) -> ApiResult<axum::Json<PushResponse>> {
    apply::push(&state, &caller, body).await.map(axum::Json)
}

#[derive(Debug, Deserialize)]
struct PullParams {
    #[serde(default)]
    cursor: i64,
    #[serde(default)]
    limit: Option<u32>,
    #[serde(default)]
    schema_version: Option<u32>,
    /// Seconds to wait for a change when there is none (long poll).
    #[serde(default)]
    wait: Option<u64>,
}

async fn pull_changes(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<PullParams>,
) -> ApiResult<axum::Json<pull::PullOut>> {
    let query = pull::PullQuery {
        cursor: params.cursor,
        limit: params.limit.unwrap_or(1000),
        schema_version: params.schema_version.unwrap_or(SCHEMA_VERSION),
        bootstrap: false,
        wait: Duration::from_secs(params.wait.unwrap_or(0).min(MAX_WAIT_SECS)),
    };
    pull::pull(&state, &caller, query).await.map(axum::Json)
}

async fn bootstrap(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<PullParams>,
) -> ApiResult<axum::Json<pull::PullOut>> {
    let query = pull::PullQuery {
        cursor: params.cursor,
        limit: params.limit.unwrap_or(pull::MAX_LIMIT),
        schema_version: params.schema_version.unwrap_or(SCHEMA_VERSION),
        bootstrap: true,
        wait: Duration::ZERO,
    };
    pull::pull(&state, &caller, query).await.map(axum::Json)
}
