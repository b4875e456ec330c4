//! Serving pulls and bootstrap pages: the rows changed after a cursor that the caller may
//! see, in change order, plus the caller's evictions.
//!
//! The organisation's change counter is read first and only rows numbered up to it are
//! returned: pushes commit in number order (see [`crate::sync::apply`]), so everything up
//! to that number is already committed, and a row that changes meanwhile moves above it
//! and arrives next time. Row data is passed through as stored JSON, never re-parsed.

use crate::auth::Caller;
use crate::db::placeholders;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::sync::scope::{self, Scope};
use cuecard_core::Hlc;
use cuecard_sync_protocol::{Entity, Eviction, SCHEMA_VERSION};
use serde::Serialize;
use serde_json::value::RawValue;
use std::time::Duration;
use uuid::Uuid;

/// The largest page served.
pub const MAX_LIMIT: u32 = 5000;

/// What a pull asks for.
#[derive(Clone, Debug)]
pub struct PullQuery {
    pub cursor: i64,
    pub limit: u32,
    /// The app's sync schema.
    pub schema_version: u32,
    /// Bootstrap: live rows only, no evictions.
    pub bootstrap: bool,
    /// Long poll: wait up to this long for a change when there is none.
    pub wait: Duration,
}

/// One row on the wire; the same JSON as [`cuecard_sync_protocol::Change`].
#[derive(Debug, Serialize)]
pub struct ChangeOut {
    pub seq: i64,
    pub entity: Entity,
    pub row_id: String,
    pub data: Box<RawValue>,
    pub deleted: bool,
    pub hlc: Hlc,
    pub owner_id: Option<Uuid>,
}

/// The same JSON as [`cuecard_sync_protocol::PullResponse`].
#[derive(Debug, Serialize)]
pub struct PullOut {
    pub server_epoch: String,
    pub schema_version: u32,
    pub changes: Vec<ChangeOut>,
    pub evictions: Vec<Eviction>,
    pub cursor: i64,
    pub more: bool,
}

type RecordRow = (i64, String, String, Option<String>, String, i64, String);

/// Serves one pull or bootstrap page for `caller`.
pub async fn pull(state: &AppState, caller: &Caller, query: PullQuery) -> ApiResult<PullOut> {
    if query.cursor < 0 {
        return Err(ApiError::bad_request("the cursor cannot be negative"));
    }
    let limit = query.limit.clamp(1, MAX_LIMIT) as i64;
    let schema_version = query.schema_version.min(SCHEMA_VERSION);
    let scope = scope::of(&state.db.read, caller).await?;
    let epoch = state.db.epoch().await?;
    let deadline = tokio::time::Instant::now() + query.wait;
    loop {
        let notified = state.changes.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let page = read_page(state, caller, &scope, &query, limit, schema_version).await?;
        let empty = page.0.is_empty() && page.1.is_empty();
        if !empty || tokio::time::Instant::now() >= deadline {
            let (records, evictions, cursor, more) = page;
            let changes = records
                .into_iter()
                .map(to_change)
                .collect::<Result<Vec<_>, ApiError>>()?;
            return Ok(PullOut {
                server_epoch: epoch,
                schema_version,
                changes,
                evictions,
                cursor,
                more,
            });
        }
        // Nothing yet: sleep until a push commits or the wait runs out.
        let _ = tokio::time::timeout_at(deadline, notified).await;
    }
}

async fn read_page(
    state: &AppState,
    caller: &Caller,
    scope: &Scope,
    query: &PullQuery,
    limit: i64,
    schema_version: u32,
) -> ApiResult<(Vec<RecordRow>, Vec<Eviction>, i64, bool)> {
    let org = caller.org_id.to_string();
    let mut tx = state.db.read.begin().await?;
    let snapshot: i64 = sqlx::query_scalar("SELECT change_seq FROM orgs WHERE id = $1")
        .bind(&org)
        .fetch_one(&mut *tx)
        .await?;
    let entities: Vec<&str> = Entity::ALL
        .iter()
        .filter(|e| e.since_schema() <= schema_version)
        .map(|e| e.name())
        .collect();
    let owners: Vec<String> = match scope {
        Scope::All => Vec::new(),
        Scope::Owners(owners) => owners.iter().map(Uuid::to_string).collect(),
    };
    let mut sql = format!(
        "SELECT seq, entity, row_id, owner_id, hlc, deleted, data FROM records
         WHERE org_id = $1 AND seq > $2 AND seq <= $3 AND entity IN ({})",
        placeholders(5, entities.len())
    );
    if query.bootstrap {
        sql.push_str(" AND deleted = 0");
    }
    if !owners.is_empty() {
        sql.push_str(&format!(
            " AND (owner_id IS NULL OR owner_id IN ({}))",
            placeholders(5 + entities.len(), owners.len())
        ));
    }
    sql.push_str(" ORDER BY seq LIMIT $4");
    let mut q = sqlx::query_as::<_, RecordRow>(crate::db::built(sql))
        .bind(&org)
        .bind(query.cursor)
        .bind(snapshot)
        .bind(limit);
    for e in &entities {
        q = q.bind(*e);
    }
    for o in &owners {
        q = q.bind(o.as_str());
    }
    let mut records = q.fetch_all(&mut *tx).await?;

    let mut evictions: Vec<Eviction> = Vec::new();
    if !query.bootstrap {
        let rows: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT seq, entity, row_id FROM evictions
             WHERE org_id = $1 AND viewer_id = $2 AND seq > $3 AND seq <= $4
             ORDER BY seq LIMIT $5",
        )
        .bind(&org)
        .bind(caller.user_id.to_string())
        .bind(query.cursor)
        .bind(snapshot)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        evictions = rows
            .into_iter()
            .filter_map(|(seq, entity, row_id)| {
                Some(Eviction {
                    seq,
                    entity: entity.parse().ok()?,
                    row_id,
                })
            })
            .collect();
    }
    tx.commit().await?;

    // A full page of either kind ends the page at its last number; the other kind is cut
    // there too so nothing between is skipped.
    let full_records = records.len() as i64 == limit;
    let full_evictions = evictions.len() as i64 == limit;
    let boundary = match (full_records, full_evictions) {
        (false, false) => None,
        (true, false) => records.last().map(|r| r.0),
        (false, true) => evictions.last().map(|e| e.seq),
        (true, true) => records
            .last()
            .map(|r| r.0)
            .min(evictions.last().map(|e| e.seq)),
    };
    Ok(match boundary {
        None => (records, evictions, snapshot, false),
        Some(boundary) => {
            records.retain(|r| r.0 <= boundary);
            evictions.retain(|e| e.seq <= boundary);
            (records, evictions, boundary, true)
        }
    })
}

fn to_change(row: RecordRow) -> ApiResult<ChangeOut> {
    let (seq, entity, row_id, owner, hlc, deleted, data) = row;
    let corrupt = |what: &str| {
        tracing::error!(seq, %entity, %row_id, "stored row has a bad {what}");
        ApiError::internal()
    };
    Ok(ChangeOut {
        seq,
        entity: entity.parse().map_err(|_| corrupt("entity"))?,
        data: RawValue::from_string(data).map_err(|_| corrupt("data"))?,
        deleted: deleted != 0,
        hlc: hlc.parse().map_err(|_| corrupt("stamp"))?,
        owner_id: owner.and_then(|o| o.parse().ok()),
        row_id,
    })
}
