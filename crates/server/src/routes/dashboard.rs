//! The dashboard's API (`/v1/dashboard/*`): thin handlers over [`crate::dashboard`].

use crate::auth::Caller;
use crate::dashboard::calls::{self, CallDetail, CallFilter, CallsPage, Review};
use crate::dashboard::overview::{self, RepDashboard, TeamDashboard};
use crate::dashboard::{Period, parse_time, reviews};
use crate::error::{ApiError, ApiResult};
use crate::routes::{Json, Query};
use crate::state::AppState;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Deserialize;
use uuid::Uuid;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/dashboard/team", get(team))
        .route("/v1/dashboard/reps/{user_id}", get(rep))
        .route("/v1/dashboard/calls", get(list_calls))
        .route("/v1/dashboard/calls/{call_id}", get(call))
        .route("/v1/dashboard/calls/{call_id}/reviews", post(add_review))
}

#[derive(Debug, Deserialize)]
struct TeamParams {
    days: Option<u32>,
    team_id: Option<Uuid>,
}

async fn team(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<TeamParams>,
) -> ApiResult<axum::Json<TeamDashboard>> {
    caller.require_manager()?;
    let period = Period::last_days(params.days, 30, crate::db::now_ms())?;
    overview::team(&state.db.read, &caller, period, params.team_id)
        .await
        .map(axum::Json)
}

#[derive(Debug, Deserialize)]
struct RepParams {
    days: Option<u32>,
}

async fn rep(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<String>,
    Query(params): Query<RepParams>,
) -> ApiResult<axum::Json<RepDashboard>> {
    caller.require_manager()?;
    let user_id = parse_id(&user_id, "rep")?;
    let period = Period::last_days(params.days, 90, crate::db::now_ms())?;
    overview::rep(&state.db.read, &caller, period, user_id)
        .await
        .map(axum::Json)
}

#[derive(Debug, Deserialize)]
struct CallParams {
    rep_id: Option<Uuid>,
    from: Option<String>,
    to: Option<String>,
    min_score: Option<i64>,
    max_score: Option<i64>,
    q: Option<String>,
    reviewed: Option<bool>,
    limit: Option<u32>,
    offset: Option<u32>,
}

async fn list_calls(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<CallParams>,
) -> ApiResult<axum::Json<CallsPage>> {
    let filter = CallFilter {
        rep_id: params.rep_id,
        from_ms: params
            .from
            .as_deref()
            .map(|t| parse_time("from", t))
            .transpose()?,
        to_ms: params
            .to
            .as_deref()
            .map(|t| parse_time("to", t))
            .transpose()?,
        min_score: params.min_score,
        max_score: params.max_score,
        q: params.q,
        reviewed: params.reviewed,
        limit: params.limit.unwrap_or(50),
        offset: params.offset.unwrap_or(0),
    };
    calls::list(&state.db.read, &caller, &filter)
        .await
        .map(axum::Json)
}

async fn call(
    State(state): State<AppState>,
    caller: Caller,
    Path(call_id): Path<String>,
) -> ApiResult<axum::Json<CallDetail>> {
    caller.require_manager()?;
    let call_id = parse_id(&call_id, "call")?;
    let policy = crate::recordings::policy::of(&state.db.read, caller.org_id).await?;
    calls::detail(&state.db.read, &caller, call_id, policy)
        .await
        .map(axum::Json)
}

#[derive(Debug, Deserialize)]
struct NewReview {
    body: String,
}

async fn add_review(
    State(state): State<AppState>,
    caller: Caller,
    Path(call_id): Path<String>,
    Json(review): Json<NewReview>,
) -> ApiResult<(StatusCode, axum::Json<Review>)> {
    caller.require_manager()?;
    let call_id = parse_id(&call_id, "call")?;
    let review = reviews::add(&state, &caller, call_id, &review.body).await?;
    Ok((StatusCode::CREATED, axum::Json(review)))
}

/// A path id that is not a UUID names nothing: 404, as for any id out of scope.
fn parse_id(text: &str, what: &str) -> ApiResult<Uuid> {
    text.parse().map_err(|_| ApiError::not_found(what))
}
