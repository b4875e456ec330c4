//! Teams and memberships. A change of membership changes who sees whose rows: the server
//! writes evictions for the rows a user can no longer see and re-announces (renumbers)
//! the rows a user can now see, so that every device's next pull catches up.

use crate::db::now_ms;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::sync::scope::{self, Scope};
use cuecard_sync_protocol::Role;
use serde::{Deserialize, Serialize};
use sqlx::{Any, Transaction};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// A team with its members.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Team {
    pub id: Uuid,
    pub name: String,
    pub members: Vec<Member>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Member {
    pub user_id: Uuid,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub manages: bool,
}

/// Creates a team in `org`.
pub async fn create(state: &AppState, org: Uuid, name: &str) -> ApiResult<Team> {
    let name = name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(ApiError::invalid(
            "a team needs a name of 1 to 200 characters",
        ));
    }
    let id = Uuid::now_v7();
    let inserted =
        sqlx::query("INSERT INTO teams (id, org_id, name, created_at) VALUES ($1, $2, $3, $4)")
            .bind(id.to_string())
            .bind(org.to_string())
            .bind(name)
            .bind(now_ms())
            .execute(&state.db.write)
            .await;
    match inserted {
        Ok(_) => {}
        // The unique index on (org_id, lower(name)) holds even for two admins at once.
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            let taken: Option<String> = sqlx::query_scalar(
                "SELECT name FROM teams WHERE org_id = $1 AND lower(name) = lower($2)",
            )
            .bind(org.to_string())
            .bind(name)
            .fetch_optional(&state.db.write)
            .await?;
            return Err(ApiError::conflict(
                "team_exists",
                format!(
                    "there is already a team called \"{}\"",
                    taken.as_deref().unwrap_or(name)
                ),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    Ok(Team {
        id,
        name: name.to_owned(),
        members: Vec::new(),
    })
}

/// The organisation's teams; for a non-admin, only the teams they belong to.
pub async fn list(state: &AppState, org: Uuid, only_for: Option<Uuid>) -> ApiResult<Vec<Team>> {
    let rows: Vec<(String, String)> = match only_for {
        None => {
            sqlx::query_as("SELECT id, name FROM teams WHERE org_id = $1 ORDER BY name")
                .bind(org.to_string())
                .fetch_all(&state.db.read)
                .await?
        }
        Some(user) => {
            sqlx::query_as(
                "SELECT t.id, t.name FROM teams t JOIN team_members m ON m.team_id = t.id
             WHERE t.org_id = $1 AND m.user_id = $2 ORDER BY t.name",
            )
            .bind(org.to_string())
            .bind(user.to_string())
            .fetch_all(&state.db.read)
            .await?
        }
    };
    let mut teams = Vec::new();
    for (id, name) in rows {
        let members: Vec<(String, String, String, String, i64)> = sqlx::query_as(
            "SELECT u.id, u.name, u.email, u.role, m.manages FROM team_members m
             JOIN users u ON u.id = m.user_id WHERE m.team_id = $1 ORDER BY u.name",
        )
        .bind(&id)
        .fetch_all(&state.db.read)
        .await?;
        teams.push(Team {
            id: id.parse().map_err(|_| ApiError::internal())?,
            name,
            members: members
                .into_iter()
                .filter_map(|(user_id, name, email, role, manages)| {
                    Some(Member {
                        user_id: user_id.parse().ok()?,
                        name,
                        email,
                        role: Role::parse(&role)?,
                        manages: manages != 0,
                    })
                })
                .collect(),
        });
    }
    Ok(teams)
}

/// Adds `user` to `team` (or changes whether they manage it), or removes them (`None`).
pub async fn set_membership(
    state: &AppState,
    org: Uuid,
    team: Uuid,
    user: Uuid,
    manages: Option<bool>,
) -> ApiResult<()> {
    let mut tx = state.db.write.begin().await?;
    sqlx::query("UPDATE orgs SET change_seq = change_seq WHERE id = $1")
        .bind(org.to_string())
        .execute(&mut *tx)
        .await?;
    let team_org: Option<String> = sqlx::query_scalar("SELECT org_id FROM teams WHERE id = $1")
        .bind(team.to_string())
        .fetch_optional(&mut *tx)
        .await?;
    if team_org.as_deref() != Some(org.to_string().as_str()) {
        return Err(ApiError::not_found("team"));
    }
    let user_row: Option<(String, String)> =
        sqlx::query_as("SELECT name, role FROM users WHERE id = $1 AND org_id = $2")
            .bind(user.to_string())
            .bind(org.to_string())
            .fetch_optional(&mut *tx)
            .await?;
    let Some((user_name, user_role)) = user_row else {
        return Err(ApiError::not_found("user"));
    };
    // Only a manager's scope follows the teams they manage (`scope::of_user`): a rep
    // marked as managing would look in charge and see nothing.
    if manages == Some(true) && Role::parse(&user_role) == Some(Role::Rep) {
        return Err(ApiError::invalid(format!(
            "{user_name} is a rep: only managers and admins can manage a team"
        )));
    }
    // Everyone whose view can change: the user and the team's members.
    let mut affected: BTreeMap<Uuid, Role> = BTreeMap::new();
    let members: Vec<(String, String)> = sqlx::query_as(
        "SELECT u.id, u.role FROM users u
         WHERE u.id = $2 OR u.id IN (SELECT user_id FROM team_members WHERE team_id = $1)",
    )
    .bind(team.to_string())
    .bind(user.to_string())
    .fetch_all(&mut *tx)
    .await?;
    for (id, role) in members {
        if let (Ok(id), Some(role)) = (id.parse(), Role::parse(&role)) {
            affected.insert(id, role);
        }
    }
    let before = scopes(&mut tx, &affected).await?;
    sqlx::query("DELETE FROM team_members WHERE team_id = $1 AND user_id = $2")
        .bind(team.to_string())
        .bind(user.to_string())
        .execute(&mut *tx)
        .await?;
    if let Some(manages) = manages {
        sqlx::query("INSERT INTO team_members (team_id, user_id, manages) VALUES ($1, $2, $3)")
            .bind(team.to_string())
            .bind(user.to_string())
            .bind(i64::from(manages))
            .execute(&mut *tx)
            .await?;
    }
    let after = scopes(&mut tx, &affected).await?;
    let mut changed = false;
    for (viewer, old) in &before {
        let new = &after[viewer];
        for owner in old.difference(new) {
            changed |= evict(&mut tx, org, *viewer, *owner).await?;
        }
        for owner in new.difference(old) {
            changed |= reannounce(&mut tx, org, *owner).await?;
        }
    }
    tx.commit().await?;
    if changed {
        state.changes.notify_waiters();
    }
    Ok(())
}

/// The owners each (non-admin) user sees.
async fn scopes(
    tx: &mut Transaction<'_, Any>,
    users: &BTreeMap<Uuid, Role>,
) -> ApiResult<BTreeMap<Uuid, BTreeSet<Uuid>>> {
    let mut out = BTreeMap::new();
    for (user, role) in users {
        if let Scope::Owners(owners) = scope::of_user(&mut *tx, *user, *role).await? {
            out.insert(*user, owners);
        }
    }
    Ok(out)
}

/// Shifts the change numbers of `owner`'s rows above every number used so far, returning
/// the shift and the new top; None when the owner has no rows.
async fn shift_for(
    tx: &mut Transaction<'_, Any>,
    org: Uuid,
    owner: Uuid,
) -> ApiResult<Option<(i64, i64)>> {
    let (min, max): (Option<i64>, Option<i64>) = sqlx::query_as(
        "SELECT MIN(seq), MAX(seq) FROM records WHERE org_id = $1 AND owner_id = $2",
    )
    .bind(org.to_string())
    .bind(owner.to_string())
    .fetch_one(&mut **tx)
    .await?;
    let (Some(min), Some(max)) = (min, max) else {
        return Ok(None);
    };
    let top: i64 = sqlx::query_scalar("SELECT change_seq FROM orgs WHERE id = $1")
        .bind(org.to_string())
        .fetch_one(&mut **tx)
        .await?;
    let shift = top + 1 - min;
    let new_top = max + shift;
    sqlx::query("UPDATE orgs SET change_seq = $2 WHERE id = $1")
        .bind(org.to_string())
        .bind(new_top)
        .execute(&mut **tx)
        .await?;
    Ok(Some((shift, new_top)))
}

/// Tells `viewer`'s devices to drop `owner`'s rows.
async fn evict(
    tx: &mut Transaction<'_, Any>,
    org: Uuid,
    viewer: Uuid,
    owner: Uuid,
) -> ApiResult<bool> {
    let Some((shift, _)) = shift_for(tx, org, owner).await? else {
        return Ok(false);
    };
    sqlx::query(
        "INSERT INTO evictions (org_id, seq, viewer_id, entity, row_id)
         SELECT org_id, seq + $3, $4, entity, row_id FROM records WHERE org_id = $1 AND owner_id = $2",
    )
    .bind(org.to_string())
    .bind(owner.to_string())
    .bind(shift)
    .bind(viewer.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(true)
}

/// Renumbers `owner`'s rows so that users who can newly see them receive them.
async fn reannounce(tx: &mut Transaction<'_, Any>, org: Uuid, owner: Uuid) -> ApiResult<bool> {
    let Some((shift, _)) = shift_for(tx, org, owner).await? else {
        return Ok(false);
    };
    sqlx::query("UPDATE records SET seq = seq + $3 WHERE org_id = $1 AND owner_id = $2")
        .bind(org.to_string())
        .bind(owner.to_string())
        .bind(shift)
        .execute(&mut **tx)
        .await?;
    Ok(true)
}
