//! Whom a manager reviews: the teams they manage and those teams' reps (an admin: every
//! team and every rep of the organisation).

use crate::auth::Caller;
use crate::dashboard::Ref;
use crate::db::placeholders;
use crate::error::{ApiError, ApiResult};
use cuecard_sync_protocol::Role;
use sqlx::AnyPool;
use uuid::Uuid;

/// A rep on the dashboard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rep {
    pub id: String,
    pub name: String,
    pub email: String,
}

impl Rep {
    pub fn as_ref(&self) -> Ref {
        Ref {
            id: self.id.clone(),
            name: self.name.clone(),
        }
    }
}

/// The teams `caller` reviews, by name.
pub async fn teams(db: &AnyPool, caller: &Caller) -> ApiResult<Vec<Ref>> {
    let rows: Vec<(String, String)> = match caller.role {
        Role::Admin => {
            sqlx::query_as("SELECT id, name FROM teams WHERE org_id = $1 ORDER BY name, id")
                .bind(caller.org_id.to_string())
                .fetch_all(db)
                .await?
        }
        Role::Manager => {
            sqlx::query_as(
                "SELECT t.id, t.name FROM teams t JOIN team_members m ON m.team_id = t.id
                 WHERE t.org_id = $1 AND m.user_id = $2 AND m.manages = 1 ORDER BY t.name, t.id",
            )
            .bind(caller.org_id.to_string())
            .bind(caller.user_id.to_string())
            .fetch_all(db)
            .await?
        }
        Role::Rep => return Err(ApiError::forbidden("the dashboard is for managers")),
    };
    Ok(rows
        .into_iter()
        .map(|(id, name)| Ref { id, name })
        .collect())
}

/// The active reps `caller` reviews, by name: the non-managing members of `team` (which
/// must be one of `teams`) or of all of `teams`; for an admin without a team, every rep of
/// the organisation.
pub async fn reps(
    db: &AnyPool,
    caller: &Caller,
    teams: &[Ref],
    team: Option<Uuid>,
) -> ApiResult<Vec<Rep>> {
    let chosen: Vec<&Ref> = match team {
        Some(id) => {
            let id = id.to_string();
            let found: Vec<&Ref> = teams.iter().filter(|t| t.id == id).collect();
            if found.is_empty() {
                return Err(ApiError::not_found("team"));
            }
            found
        }
        None if caller.role == Role::Admin => {
            let rows: Vec<(String, String, String)> = sqlx::query_as(
                "SELECT id, name, email FROM users
                 WHERE org_id = $1 AND role = 'rep' AND active = 1 ORDER BY name, id",
            )
            .bind(caller.org_id.to_string())
            .fetch_all(db)
            .await?;
            return Ok(rows.into_iter().map(rep).collect());
        }
        None => teams.iter().collect(),
    };
    if chosen.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT DISTINCT u.id, u.name, u.email FROM users u
         JOIN team_members m ON m.user_id = u.id
         WHERE u.org_id = $1 AND u.active = 1 AND m.manages = 0 AND m.team_id IN ({})
         ORDER BY u.name, u.id",
        placeholders(2, chosen.len())
    );
    let mut query = sqlx::query_as::<_, (String, String, String)>(crate::db::built(sql))
        .bind(caller.org_id.to_string());
    for t in &chosen {
        query = query.bind(t.id.as_str());
    }
    Ok(query.fetch_all(db).await?.into_iter().map(rep).collect())
}

/// Everyone who shares a team with `user` without managing it, `user` included: the
/// "team" a rep's skills are compared with.
pub async fn teammates(db: &AnyPool, org: Uuid, user: &str) -> ApiResult<Vec<String>> {
    let mut ids: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT other.user_id FROM team_members mine
         JOIN team_members other ON other.team_id = mine.team_id
         JOIN teams t ON t.id = mine.team_id
         WHERE mine.user_id = $1 AND other.manages = 0 AND t.org_id = $2",
    )
    .bind(user)
    .bind(org.to_string())
    .fetch_all(db)
    .await?;
    if !ids.iter().any(|id| id == user) {
        ids.push(user.to_owned());
    }
    Ok(ids)
}

/// A user of the caller's organisation by id.
pub async fn user(db: &AnyPool, org: Uuid, id: &str) -> ApiResult<Option<Rep>> {
    let row: Option<(String, String, String)> =
        sqlx::query_as("SELECT id, name, email FROM users WHERE id = $1 AND org_id = $2")
            .bind(id)
            .bind(org.to_string())
            .fetch_optional(db)
            .await?;
    Ok(row.map(rep))
}

fn rep((id, name, email): (String, String, String)) -> Rep {
    Rep { id, name, email }
}
