//! Who may see whose rows: a rep their own, a manager their own and their teams' reps',
//! an admin everyone's in the organisation. Organisation-wide rows (no owner) are seen by
//! everyone in the organisation.

use crate::auth::Caller;
use cuecard_sync_protocol::Role;
use sqlx::{AnyConnection, AnyPool};
use std::collections::BTreeSet;
use uuid::Uuid;

/// The owners whose rows a user may read and write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every row of the organisation (admins).
    All,
    /// Rows owned by these users, plus organisation-wide rows.
    Owners(BTreeSet<Uuid>),
}

impl Scope {
    /// Whether a row with this owner is in scope.
    pub fn sees(&self, owner: Option<Uuid>) -> bool {
        match (self, owner) {
            (_, None) | (Scope::All, _) => true,
            (Scope::Owners(owners), Some(owner)) => owners.contains(&owner),
        }
    }
}

/// The scope of `caller` now.
pub async fn of(db: &AnyPool, caller: &Caller) -> Result<Scope, sqlx::Error> {
    let mut conn = db.acquire().await?;
    of_user(&mut conn, caller.user_id, caller.role).await
}

/// The scope of a user with `role`, read on `conn` (inside a transaction, say).
pub async fn of_user(
    conn: &mut AnyConnection,
    user: Uuid,
    role: Role,
) -> Result<Scope, sqlx::Error> {
    let mut owners = BTreeSet::from([user]);
    match role {
        Role::Admin => return Ok(Scope::All),
        Role::Rep => {}
        Role::Manager => {
            let ids: Vec<String> = sqlx::query_scalar(
                "SELECT DISTINCT m.user_id FROM team_members m
                 JOIN team_members me ON me.team_id = m.team_id
                 WHERE me.user_id = $1 AND me.manages = 1",
            )
            .bind(user.to_string())
            .fetch_all(&mut *conn)
            .await?;
            owners.extend(ids.iter().filter_map(|id| id.parse::<Uuid>().ok()));
        }
    }
    Ok(Scope::Owners(owners))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_rows_are_seen_by_all_and_owned_rows_by_scope() {
        let (me, other) = (Uuid::now_v7(), Uuid::now_v7());
        let mine = Scope::Owners(BTreeSet::from([me]));
        assert!(mine.sees(None));
        assert!(mine.sees(Some(me)));
        assert!(!mine.sees(Some(other)));
        assert!(Scope::All.sees(Some(other)));
    }
}
