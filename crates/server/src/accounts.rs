//! Organisations, users, invitations, devices and sessions in the database.

use crate::auth::password;
use crate::auth::tokens::{hash_token, random_token};
use crate::db::now_ms;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use cuecard_sync_protocol::{DeviceInfo, OrgInfo, Role, Session, UserInfo};
use serde::Serialize;
use sqlx::{Any, Transaction};
use uuid::Uuid;

/// How long an invitation stays open.
const INVITATION_DAYS: i64 = 7;

/// An invitation: organisation, email, role, team, expiry, when used.
type InvitationRow = (String, String, String, Option<String>, i64, Option<i64>);

/// A refresh token: device, family, expiry, when used, when revoked.
type RefreshRow = (String, String, i64, Option<i64>, Option<i64>);

/// A user row.
#[derive(Clone, Debug)]
pub struct UserRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub org_name: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub active: bool,
    pub password_hash: String,
}

impl UserRow {
    pub fn info(&self) -> UserInfo {
        UserInfo {
            id: self.id,
            name: self.name.clone(),
            email: self.email.clone(),
            role: self.role,
            org: OrgInfo {
                id: self.org_id,
                name: self.org_name.clone(),
            },
        }
    }
}

const USER_COLUMNS: &str =
    "u.id, u.org_id, o.name, u.email, u.name, u.role, u.active, u.password_hash";

type RawUser = (String, String, String, String, String, String, i64, String);

fn decode_user(raw: RawUser) -> ApiResult<UserRow> {
    let (id, org_id, org_name, email, name, role, active, password_hash) = raw;
    Ok(UserRow {
        id: id.parse().map_err(|_| ApiError::internal())?,
        org_id: org_id.parse().map_err(|_| ApiError::internal())?,
        org_name,
        email,
        name,
        role: Role::parse(&role).ok_or_else(ApiError::internal)?,
        active: active != 0,
        password_hash,
    })
}

/// The user with this email, if any.
pub async fn user_by_email(state: &AppState, email: &str) -> ApiResult<Option<UserRow>> {
    let raw: Option<RawUser> = sqlx::query_as(crate::db::built(format!(
        "SELECT {USER_COLUMNS} FROM users u JOIN orgs o ON o.id = u.org_id WHERE u.email = $1"
    )))
    .bind(normalise_email(email))
    .fetch_optional(&state.db.read)
    .await?;
    raw.map(decode_user).transpose()
}

/// The user with this id in this organisation, if any.
pub async fn user_by_id(state: &AppState, org: Uuid, id: Uuid) -> ApiResult<Option<UserRow>> {
    let raw: Option<RawUser> = sqlx::query_as(crate::db::built(format!(
        "SELECT {USER_COLUMNS} FROM users u JOIN orgs o ON o.id = u.org_id
         WHERE u.id = $1 AND u.org_id = $2"
    )))
    .bind(id.to_string())
    .bind(org.to_string())
    .fetch_optional(&state.db.read)
    .await?;
    raw.map(decode_user).transpose()
}

/// A user as the organisation's admins see them: who, what role, whether active, and
/// the teams they are in.
#[derive(Clone, Debug, Serialize)]
pub struct OrgUser {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub active: bool,
    /// When they joined (ms since the epoch).
    pub created_at: i64,
    pub teams: Vec<UserTeam>,
}

/// One of a user's teams.
#[derive(Clone, Debug, Serialize)]
pub struct UserTeam {
    pub id: Uuid,
    pub name: String,
    pub manages: bool,
}

/// Everyone in `org`, active first, then by name; each with their teams by name.
pub async fn list_users(state: &AppState, org: Uuid) -> ApiResult<Vec<OrgUser>> {
    type Row = (
        String,
        String,
        String,
        String,
        i64,
        i64,
        Option<String>,
        Option<String>,
        Option<i64>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT u.id, u.name, u.email, u.role, u.active, u.created_at, t.id, t.name, m.manages
         FROM users u
         LEFT JOIN team_members m ON m.user_id = u.id
         LEFT JOIN teams t ON t.id = m.team_id
         WHERE u.org_id = $1
         ORDER BY u.active DESC, lower(u.name), u.id, lower(t.name)",
    )
    .bind(org.to_string())
    .fetch_all(&state.db.read)
    .await?;
    let mut users: Vec<OrgUser> = Vec::new();
    for (id, name, email, role, active, created_at, team_id, team_name, manages) in rows {
        let id: Uuid = id.parse().map_err(|_| ApiError::internal())?;
        if users.last().is_none_or(|u| u.id != id) {
            users.push(OrgUser {
                id,
                name,
                email,
                role: Role::parse(&role).ok_or_else(ApiError::internal)?,
                active: active != 0,
                created_at,
                teams: Vec::new(),
            });
        }
        if let (Some(team_id), Some(team_name), Some(user)) = (team_id, team_name, users.last_mut())
        {
            user.teams.push(UserTeam {
                id: team_id.parse().map_err(|_| ApiError::internal())?,
                name: team_name,
                manages: manages.unwrap_or(0) != 0,
            });
        }
    }
    Ok(users)
}

/// Emails compare case-insensitively and without surrounding space.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

fn check_email(email: &str) -> ApiResult<String> {
    let email = normalise_email(email);
    let valid = email.len() <= 254
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
    if valid {
        Ok(email)
    } else {
        Err(ApiError::invalid(format!(
            "{email:?} is not an email address"
        )))
    }
}

/// Creates an organisation and an invitation for its first admin; returns the token.
pub async fn create_org(
    state: &AppState,
    name: &str,
    admin_email: &str,
) -> ApiResult<(Uuid, String)> {
    let name = name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(ApiError::invalid(
            "an organisation needs a name of 1 to 200 characters",
        ));
    }
    let email = check_email(admin_email)?;
    let org = Uuid::now_v7();
    let mut tx = state.db.write.begin().await?;
    sqlx::query("INSERT INTO orgs (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(org.to_string())
        .bind(name)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
    let token = insert_invitation(&mut tx, org, &email, Role::Admin, None, None).await?;
    tx.commit().await?;
    Ok((org, token))
}

/// Stores a new invitation and returns its token (shown once; only its hash is kept).
pub async fn insert_invitation(
    tx: &mut Transaction<'_, Any>,
    org: Uuid,
    email: &str,
    role: Role,
    team: Option<Uuid>,
    created_by: Option<Uuid>,
) -> ApiResult<String> {
    let email = check_email(email)?;
    let token = random_token();
    sqlx::query(
        "INSERT INTO invitations (token_hash, org_id, email, role, team_id, created_by, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(hash_token(&token))
    .bind(org.to_string())
    .bind(email)
    .bind(role.name())
    .bind(team.map(|t| t.to_string()))
    .bind(created_by.map(|u| u.to_string()))
    .bind(now_ms() + INVITATION_DAYS * 86_400_000)
    .execute(&mut **tx)
    .await?;
    Ok(token)
}

/// Accepts an invitation: creates the user (and their team membership) and signs them in.
pub async fn sign_up(
    state: &AppState,
    invitation: &str,
    name: &str,
    password: String,
    device: Option<DeviceInfo>,
) -> ApiResult<Session> {
    let name = name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(ApiError::invalid("a name of 1 to 200 characters is needed"));
    }
    password::check_new(&password).map_err(ApiError::invalid)?;
    let hash = password::hash(password).await.map_err(|e| {
        tracing::error!(error = %e, "password hashing failed");
        ApiError::internal()
    })?;
    let mut tx = state.db.write.begin().await?;
    let row: Option<InvitationRow> = sqlx::query_as(
        "SELECT org_id, email, role, team_id, expires_at, used_at FROM invitations WHERE token_hash = $1",
    )
    .bind(hash_token(invitation))
    .fetch_optional(&mut *tx)
    .await?;
    let Some((org, email, role, team, expires_at, used_at)) = row else {
        return Err(ApiError::unauthorized("this invitation is not valid"));
    };
    if used_at.is_some() {
        return Err(ApiError::unauthorized(
            "this invitation has already been used",
        ));
    }
    if expires_at < now_ms() {
        return Err(ApiError::unauthorized(
            "this invitation has expired: ask for a new one",
        ));
    }
    let taken: Option<String> = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(&email)
        .fetch_optional(&mut *tx)
        .await?;
    if taken.is_some() {
        return Err(ApiError::conflict(
            "email_taken",
            format!("{email} already has an account: sign in instead"),
        ));
    }
    let user = Uuid::now_v7();
    let role = Role::parse(&role).ok_or_else(ApiError::internal)?;
    sqlx::query(
        "INSERT INTO users (id, org_id, email, name, role, password_hash, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(user.to_string())
    .bind(&org)
    .bind(&email)
    .bind(name)
    .bind(role.name())
    .bind(hash)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    if let Some(team) = team {
        sqlx::query("INSERT INTO team_members (team_id, user_id, manages) VALUES ($1, $2, $3)")
            .bind(team)
            .bind(user.to_string())
            .bind(i64::from(role.is_manager()))
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("UPDATE invitations SET used_at = $2 WHERE token_hash = $1")
        .bind(hash_token(invitation))
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    let org: Uuid = org.parse().map_err(|_| ApiError::internal())?;
    let user = user_by_id(state, org, user)
        .await?
        .ok_or_else(ApiError::internal)?;
    start_session(state, &user, device).await
}

/// Checks an email and password and signs the user in on a new device.
pub async fn log_in(
    state: &AppState,
    email: &str,
    password: String,
    device: Option<DeviceInfo>,
) -> ApiResult<Session> {
    let user = user_by_email(state, email).await?;
    let stored = match &user {
        Some(u) => u.password_hash.clone(),
        None => password::decoy_hash().await,
    };
    let matches = password::verify(password, stored).await;
    match user {
        Some(user) if matches && user.active => start_session(state, &user, device).await,
        Some(user) if matches && !user.active => {
            Err(ApiError::unauthorized("this account has been deactivated"))
        }
        _ => Err(ApiError::unauthorized("wrong email or password")),
    }
}

/// Registers a device for `user` and issues its first tokens.
pub async fn start_session(
    state: &AppState,
    user: &UserRow,
    device: Option<DeviceInfo>,
) -> ApiResult<Session> {
    let device_info = device.unwrap_or(DeviceInfo {
        name: "Unnamed device".into(),
        platform: "unknown".into(),
        first_seq: None,
    });
    let name: String = device_info.name.chars().take(100).collect();
    let platform: String = device_info.platform.chars().take(40).collect();
    let last_seq = device_info.first_seq.map_or(0, |s| (s - 1).max(0));
    let device = Uuid::now_v7();
    let now = now_ms();
    let mut tx = state.db.write.begin().await?;
    sqlx::query(
        "INSERT INTO devices (id, org_id, user_id, name, platform, last_seq, created_at, last_seen_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(device.to_string())
    .bind(user.org_id.to_string())
    .bind(user.id.to_string())
    .bind(name)
    .bind(platform)
    .bind(last_seq)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let refresh = insert_refresh(&mut tx, state, device, &Uuid::now_v7().to_string()).await?;
    tx.commit().await?;
    session(state, user, device, refresh)
}

async fn insert_refresh(
    tx: &mut Transaction<'_, Any>,
    state: &AppState,
    device: Uuid,
    family: &str,
) -> ApiResult<String> {
    let token = random_token();
    sqlx::query("INSERT INTO refresh_tokens (token_hash, device_id, family, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(hash_token(&token))
        .bind(device.to_string())
        .bind(family)
        .bind(now_ms() + state.config.refresh_ttl_days as i64 * 86_400_000)
        .execute(&mut **tx)
        .await?;
    Ok(token)
}

fn session(
    state: &AppState,
    user: &UserRow,
    device: Uuid,
    refresh_token: String,
) -> ApiResult<Session> {
    let access_token = state
        .keys
        .issue(user.id, user.org_id, device, chrono::Utc::now().timestamp())
        .map_err(|e| {
            tracing::error!(error = %e, "token signing failed");
            ApiError::internal()
        })?;
    Ok(Session {
        access_token,
        access_expires_in: state.keys.access_ttl_secs,
        refresh_token,
        device_id: device,
        user: user.info(),
    })
}

/// Trades a refresh token for a new pair. A token presented twice means it leaked: the
/// whole family is revoked and the device must sign in again.
pub async fn refresh(state: &AppState, token: &str) -> ApiResult<Session> {
    let mut tx = state.db.write.begin().await?;
    let row: Option<RefreshRow> = sqlx::query_as(
        "SELECT device_id, family, expires_at, used_at, revoked_at FROM refresh_tokens WHERE token_hash = $1",
    )
    .bind(hash_token(token))
    .fetch_optional(&mut *tx)
    .await?;
    let Some((device, family, expires_at, used_at, revoked_at)) = row else {
        return Err(ApiError::unauthorized("this refresh token is not valid"));
    };
    let now = now_ms();
    if used_at.is_some() {
        sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = $2 WHERE family = $1 AND revoked_at IS NULL",
        )
        .bind(&family)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE devices SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(&device)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::warn!(%device, "a used refresh token was presented again; the device is signed out");
        return Err(ApiError::unauthorized(
            "this refresh token was already used; for safety the device is signed out",
        ));
    }
    if revoked_at.is_some() {
        return Err(ApiError::unauthorized("this device has been signed out"));
    }
    if expires_at < now {
        return Err(ApiError::unauthorized(
            "the session has expired: sign in again",
        ));
    }
    let owner: Option<(String, String, Option<i64>)> =
        sqlx::query_as("SELECT user_id, org_id, revoked_at FROM devices WHERE id = $1")
            .bind(&device)
            .fetch_optional(&mut *tx)
            .await?;
    let Some((user_id, org_id, None)) = owner else {
        return Err(ApiError::unauthorized("this device has been signed out"));
    };
    sqlx::query("UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1")
        .bind(hash_token(token))
        .bind(now)
        .execute(&mut *tx)
        .await?;
    let device: Uuid = device.parse().map_err(|_| ApiError::internal())?;
    let next = insert_refresh(&mut tx, state, device, &family).await?;
    tx.commit().await?;
    let (org, user): (Uuid, Uuid) = (
        org_id.parse().map_err(|_| ApiError::internal())?,
        user_id.parse().map_err(|_| ApiError::internal())?,
    );
    let user = user_by_id(state, org, user)
        .await?
        .filter(|u| u.active)
        .ok_or_else(|| ApiError::unauthorized("this account has been deactivated"))?;
    session(state, &user, device, next)
}

/// Signs a device out: its refresh tokens and access tokens stop working at once.
pub async fn log_out(state: &AppState, device: Uuid) -> ApiResult<()> {
    let now = now_ms();
    let mut tx = state.db.write.begin().await?;
    sqlx::query("UPDATE devices SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
        .bind(device.to_string())
        .bind(now)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = $2 WHERE device_id = $1 AND revoked_at IS NULL",
    )
    .bind(device.to_string())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
