//! Running an organisation: invitations, teams and memberships, deactivating users.

use crate::accounts;
use crate::auth::Caller;
use crate::db::now_ms;
use crate::error::{ApiError, ApiResult};
use crate::routes::Json;
use crate::state::AppState;
use crate::teams::{self, Team};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post, put};
use cuecard_sync_protocol::{Invitation, InvitationRequest, Role};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/invitations", get(list_invitations).post(invite))
        .route("/v1/invitations/{invitation_id}", delete(revoke_invitation))
        .route("/v1/teams", get(list_teams).post(create_team))
        .route(
            "/v1/teams/{team_id}/members/{user_id}",
            put(add_member).delete(remove_member),
        )
        .route("/v1/users", get(list_users))
        .route("/v1/users/{user_id}/deactivate", post(deactivate))
        .route("/v1/users/{user_id}/reactivate", post(reactivate))
}

/// Managers invite reps into teams they manage; admins invite anyone.
async fn invite(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<InvitationRequest>,
) -> ApiResult<(StatusCode, axum::Json<Invitation>)> {
    caller.require_manager()?;
    if caller.role == Role::Manager {
        if body.role != Role::Rep {
            return Err(ApiError::forbidden("managers can invite reps only"));
        }
        let team = body.team_id.ok_or_else(|| {
            ApiError::invalid("managers invite into one of their teams: give `team_id`")
        })?;
        let manages: Option<i64> = sqlx::query_scalar(
            "SELECT manages FROM team_members WHERE team_id = $1 AND user_id = $2",
        )
        .bind(team.to_string())
        .bind(caller.user_id.to_string())
        .fetch_optional(&state.db.read)
        .await?;
        if manages != Some(1) {
            return Err(ApiError::forbidden(
                "you can invite only into teams you manage",
            ));
        }
    } else if let Some(team) = body.team_id {
        let org: Option<String> = sqlx::query_scalar("SELECT org_id FROM teams WHERE id = $1")
            .bind(team.to_string())
            .fetch_optional(&state.db.read)
            .await?;
        if org != Some(caller.org_id.to_string()) {
            return Err(ApiError::not_found("team"));
        }
    }
    let mut tx = state.db.write.begin().await?;
    let token = accounts::insert_invitation(
        &mut tx,
        caller.org_id,
        &body.email,
        body.role,
        body.team_id,
        Some(caller.user_id),
    )
    .await?;
    tx.commit().await?;
    let expires = chrono::Utc::now() + chrono::Duration::days(7);
    Ok((
        StatusCode::CREATED,
        axum::Json(Invitation {
            token,
            email: accounts::normalise_email(&body.email),
            role: body.role,
            expires_at: expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }),
    ))
}

/// An invitation not used yet and not expired, as `GET /v1/invitations` lists it. Its id
/// is the stored hash of its token (the token itself is shown once, when it is made).
#[derive(Debug, Serialize)]
struct PendingInvitation {
    id: String,
    email: String,
    role: String,
    team_id: Option<String>,
    created_by: Option<String>,
    expires_at: String,
}

/// id, email, role, team, creator's name, expiry (ms).
type InvitationRow = (String, String, String, Option<String>, Option<String>, i64);

/// The SQL condition an invitation must meet for `caller` to see or revoke it: admins
/// handle the organisation's; managers those into teams they manage.
const INVITATION_SCOPE: &str = "org_id = $1 AND used_at IS NULL AND expires_at > $2
     AND ($3 = 'admin' OR team_id IN (SELECT team_id FROM team_members
                                WHERE user_id = $4 AND manages = 1))";

/// Pending invitations, soonest to expire first.
async fn list_invitations(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<Vec<PendingInvitation>>> {
    caller.require_manager()?;
    let rows: Vec<InvitationRow> = sqlx::query_as(crate::db::built(format!(
        "SELECT token_hash, email, role, team_id,
                    (SELECT name FROM users WHERE users.id = invitations.created_by),
                    expires_at
             FROM invitations WHERE {INVITATION_SCOPE}
             ORDER BY expires_at, email"
    )))
    .bind(caller.org_id.to_string())
    .bind(now_ms())
    .bind(caller.role.name())
    .bind(caller.user_id.to_string())
    .fetch_all(&state.db.read)
    .await?;
    Ok(axum::Json(
        rows.into_iter()
            .map(
                |(id, email, role, team_id, created_by, expires_at)| PendingInvitation {
                    id,
                    email,
                    role,
                    team_id,
                    created_by,
                    expires_at: crate::dashboard::rfc3339(expires_at),
                },
            )
            .collect(),
    ))
}

/// Revokes a pending invitation: its token stops working at once.
async fn revoke_invitation(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require_manager()?;
    let done = sqlx::query(crate::db::built(format!(
        "DELETE FROM invitations WHERE token_hash = $5 AND {INVITATION_SCOPE}"
    )))
    .bind(caller.org_id.to_string())
    .bind(now_ms())
    .bind(caller.role.name())
    .bind(caller.user_id.to_string())
    .bind(&id)
    .execute(&state.db.write)
    .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::not_found("invitation"));
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn list_teams(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<Vec<Team>>> {
    let only = (caller.role != Role::Admin).then_some(caller.user_id);
    teams::list(&state, caller.org_id, only)
        .await
        .map(axum::Json)
}

#[derive(Debug, Deserialize)]
struct NewTeam {
    name: String,
}

async fn create_team(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<NewTeam>,
) -> ApiResult<(StatusCode, axum::Json<Team>)> {
    caller.require_admin()?;
    let team = teams::create(&state, caller.org_id, &body.name).await?;
    Ok((StatusCode::CREATED, axum::Json(team)))
}

#[derive(Debug, Deserialize)]
struct Membership {
    #[serde(default)]
    manages: bool,
}

async fn add_member(
    State(state): State<AppState>,
    caller: Caller,
    Path((team, user)): Path<(Uuid, Uuid)>,
    Json(body): Json<Membership>,
) -> ApiResult<StatusCode> {
    caller.require_admin()?;
    teams::set_membership(&state, caller.org_id, team, user, Some(body.manages)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove_member(
    State(state): State<AppState>,
    caller: Caller,
    Path((team, user)): Path<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    caller.require_admin()?;
    teams::set_membership(&state, caller.org_id, team, user, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Admin: everyone in the organisation with their teams, for moving people between teams.
async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<Vec<accounts::OrgUser>>> {
    caller.require_admin()?;
    accounts::list_users(&state, caller.org_id)
        .await
        .map(axum::Json)
}

/// Deactivates a user: their sessions stop working at once; their synced rows stay.
async fn deactivate(
    State(state): State<AppState>,
    caller: Caller,
    Path(user): Path<Uuid>,
) -> ApiResult<StatusCode> {
    caller.require_admin()?;
    if user == caller.user_id {
        return Err(ApiError::invalid("you cannot deactivate yourself"));
    }
    let now = now_ms();
    let mut tx = state.db.write.begin().await?;
    let done = sqlx::query("UPDATE users SET active = 0 WHERE id = $1 AND org_id = $2")
        .bind(user.to_string())
        .bind(caller.org_id.to_string())
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::not_found("user"));
    }
    sqlx::query("UPDATE devices SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL")
        .bind(user.to_string())
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Lets a deactivated user sign in again (with their password, on each device: their old
/// sessions stay ended). Their rows never left.
async fn reactivate(
    State(state): State<AppState>,
    caller: Caller,
    Path(user): Path<Uuid>,
) -> ApiResult<StatusCode> {
    caller.require_admin()?;
    let done = sqlx::query("UPDATE users SET active = 1 WHERE id = $1 AND org_id = $2")
        .bind(user.to_string())
        .bind(caller.org_id.to_string())
        .execute(&state.db.write)
        .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::not_found("user"));
    }
    Ok(StatusCode::NO_CONTENT)
}
