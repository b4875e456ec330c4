//! The `Caller` extractor: checks the bearer token and that its user and device are still
//! active, and hands handlers who is asking.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use cuecard_sync_protocol::Role;
use uuid::Uuid;

/// The authenticated user behind a request.
#[derive(Clone, Debug)]
pub struct Caller {
    pub user_id: Uuid,
    pub org_id: Uuid,
    pub device_id: Uuid,
    pub role: Role,
    pub name: String,
}

impl Caller {
    /// Refuses callers who are not managers or admins.
    pub fn require_manager(&self) -> Result<(), ApiError> {
        if self.role.is_manager() {
            Ok(())
        } else {
            Err(ApiError::forbidden("this needs a manager or an admin"))
        }
    }

    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.role == Role::Admin {
            Ok(())
        } else {
            Err(ApiError::forbidden("this needs an admin"))
        }
    }

    /// Resolves an access token to its caller.
    pub async fn from_token(state: &AppState, token: &str) -> Result<Caller, ApiError> {
        let claims = state.keys.check(token).map_err(ApiError::unauthorized)?;
        let row: Option<(String, i64, String, Option<i64>)> = sqlx::query_as(
            "SELECT u.role, u.active, u.name, d.revoked_at
             FROM users u JOIN devices d ON d.user_id = u.id
             WHERE u.id = $1 AND u.org_id = $2 AND d.id = $3",
        )
        .bind(claims.sub.to_string())
        .bind(claims.org.to_string())
        .bind(claims.device.to_string())
        .fetch_optional(&state.db.read)
        .await?;
        let Some((role, active, name, revoked_at)) = row else {
            return Err(ApiError::unauthorized("the access token is not valid"));
        };
        if active == 0 {
            return Err(ApiError::unauthorized("this account has been deactivated"));
        }
        if revoked_at.is_some() {
            return Err(ApiError::unauthorized("this device has been signed out"));
        }
        let role = Role::parse(&role).ok_or_else(ApiError::internal)?;
        Ok(Caller {
            user_id: claims.sub,
            org_id: claims.org,
            device_id: claims.device,
            role,
            name,
        })
    }
}

/// The token of an `Authorization: Bearer …` header.
pub fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).ok_or_else(|| {
            ApiError::unauthorized("sign in first: no `Authorization: Bearer` token")
        })?;
        Caller::from_token(state, token).await
    }
}

/// A caller identified by the bearer token or, for media elements that cannot set
/// headers (`<audio src=…>`), by an `access_token` query parameter. Only the recording
/// stream takes it.
#[derive(Clone, Debug)]
pub struct MediaCaller(pub Caller);

impl FromRequestParts<AppState> for MediaCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(token) = bearer(parts) {
            return Caller::from_token(state, token).await.map(MediaCaller);
        }
        let query =
            axum::extract::Query::<std::collections::HashMap<String, String>>::try_from_uri(
                &parts.uri,
            )
            .map_err(|_| ApiError::bad_request("malformed query string"))?;
        let token = query.get("access_token").map(|t| t.trim()).ok_or_else(|| {
            ApiError::unauthorized(
                "sign in first: no `Authorization: Bearer` token or `access_token` parameter",
            )
        })?;
        Caller::from_token(state, token).await.map(MediaCaller)
    }
}
