//! Sign-up, sign-in, token refresh, sign-out and "who am I".

use crate::accounts;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::routes::Json;
use crate::state::AppState;
use crate::teams;
use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use cuecard_sync_protocol::{LoginRequest, RefreshRequest, Session, SignupRequest};
use serde_json::json;
use std::net::SocketAddr;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/auth/signup", post(signup))
        .route("/v1/auth/login", post(login))
        .route("/v1/auth/refresh", post(refresh))
        .route("/v1/auth/logout", post(logout))
        .route("/v1/me", get(me))
}

fn limit(state: &AppState, addr: SocketAddr) -> ApiResult<()> {
    state.limiter.check(addr.ip()).map_err(|wait| {
        let secs = wait.as_secs().max(1);
        let mut err = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many sign-in attempts: try again in {secs} s"),
        );
        err.retry_after_secs = Some(secs);
        err
    })
}

async fn signup(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Json(body): Json<SignupRequest>,
) -> ApiResult<axum::Json<Session>> {
    limit(&state, addr)?;
    accounts::sign_up(
        &state,
        &body.invitation,
        &body.name,
        body.password,
        body.device,
    )
    .await
    .map(axum::Json)
}

async fn login(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Json(body): Json<LoginRequest>,
) -> ApiResult<axum::Json<Session>> {
    limit(&state, addr)?;
    let result = accounts::log_in(&state, &body.email, body.password, body.device).await;
    if result.is_err() {
        tracing::info!(ip = %addr.ip(), "failed sign-in");
    }
    result.map(axum::Json)
}

async fn refresh(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Json(body): Json<RefreshRequest>,
) -> ApiResult<axum::Json<Session>> {
    limit(&state, addr)?;
    accounts::refresh(&state, &body.refresh_token)
        .await
        .map(axum::Json)
}

async fn logout(State(state): State<AppState>, caller: Caller) -> ApiResult<StatusCode> {
    accounts::log_out(&state, caller.device_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn me(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let user = accounts::user_by_id(&state, caller.org_id, caller.user_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("this account no longer exists"))?;
    let teams = teams::list(&state, caller.org_id, Some(caller.user_id)).await?;
    let teams: Vec<_> = teams
        .into_iter()
        .map(|t| {
            let manages = t.members.iter().any(|m| m.user_id == caller.user_id && m.manages);
            json!({"id": t.id, "name": t.name, "role_in_team": if manages { "manager" } else { "member" }})
        })
        .collect();
    Ok(axum::Json(
        json!({"user": user.info(), "teams": teams, "device_id": caller.device_id}),
    ))
}
