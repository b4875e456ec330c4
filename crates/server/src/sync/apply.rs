//! Applying a push: one transaction per push, mutations in device order.
//!
//! 1. Lock the organisation's change counter (a row lock on PostgreSQL; SQLite has one
//!    writer). Pushes of one organisation therefore commit in change-number order, so a
//!    pull that has read up to number N can never later miss a row numbered below N.
//! 2. Acknowledge mutations the device already delivered (sequence ≤ its watermark) as
//!    duplicates; refuse the whole push if the first new one is not the next number.
//! 3. Merge each new mutation into its row ([`cuecard_sync_protocol::merge`]); refused
//!    ones are acknowledged with the reason.
//! 4. Give each changed row the next change number, write the rows, the dashboard's call
//!    facts and the device's new watermark, and commit: all or nothing.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::sync::facts;
use crate::sync::rows::{self, RowKey, StoredRow};
use crate::sync::scope::{self, Scope};
use axum::http::StatusCode;
use cuecard_sync_protocol::merge::{self, Writer};
use cuecard_sync_protocol::{
    Ack, AckStatus, Entity, MIN_SCHEMA_VERSION, MergeOutcome, Mutation, PushRequest, PushResponse,
    Rejection, Visibility,
};
use sqlx::{Any, Transaction};
use std::collections::HashMap;
use uuid::Uuid;

/// The longest row id accepted.
const MAX_ROW_ID: usize = 200;

/// Applies a push from `caller`'s device.
pub async fn push(
    state: &AppState,
    caller: &Caller,
    request: PushRequest,
) -> ApiResult<PushResponse> {
    if request.device_id != caller.device_id {
        return Err(ApiError::forbidden(
            "this push names another device than the one signed in",
        ));
    }
    if request.schema_version < MIN_SCHEMA_VERSION {
        return Err(ApiError::new(
            StatusCode::UPGRADE_REQUIRED,
            "upgrade_required",
            format!(
                "this app speaks sync schema {}, the server needs {MIN_SCHEMA_VERSION} or newer: update the app",
                request.schema_version
            ),
        ));
    }
    if request.mutations.len() > state.config.max_push {
        return Err(ApiError::too_large(format!(
            "a push may carry at most {} mutations, this one has {}",
            state.config.max_push,
            request.mutations.len()
        )));
    }
    if let Some(pair) = request
        .mutations
        .windows(2)
        .find(|w| w[1].seq != w[0].seq + 1)
    {
        return Err(ApiError::bad_request(format!(
            "mutations must be in consecutive sequence order: {} is followed by {}",
            pair[0].seq, pair[1].seq
        )));
    }
    let scope = scope::of(&state.db.read, caller).await?;
    let epoch = state.db.epoch().await?;

    let mut tx = state.db.write.begin().await?;
    let org = caller.org_id.to_string();
    sqlx::query("UPDATE orgs SET change_seq = change_seq WHERE id = $1")
        .bind(&org)
        .execute(&mut *tx)
        .await?;
    let last_seq: i64 =
        sqlx::query_scalar("SELECT last_seq FROM devices WHERE id = $1 AND user_id = $2")
            .bind(caller.device_id.to_string())
            .bind(caller.user_id.to_string())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| ApiError::unauthorized("this device is not registered"))?;

    let split = request.mutations.partition_point(|m| m.seq <= last_seq);
    let (repeats, fresh) = request.mutations.split_at(split);
    if let Some(first) = fresh.first()
        && first.seq != last_seq + 1
    {
        let mut err = ApiError::conflict(
            "sequence_gap",
            format!(
                "mutation {} arrived but the server holds this device's changes only up to {last_seq}: send from {}",
                first.seq,
                last_seq + 1
            ),
        );
        err.expected_seq = Some(last_seq + 1);
        return Err(err);
    }
    let mut acks: Vec<Ack> = repeats
        .iter()
        .map(|m| Ack {
            seq: m.seq,
            mutation_id: m.mutation_id,
            status: AckStatus::Duplicate,
            reason: None,
        })
        .collect();

    let keys: Vec<RowKey> = fresh
        .iter()
        .filter_map(|m| Some((m.entity.parse::<Entity>().ok()?, m.row_id.clone())))
        .collect();
    let mut rows = rows::load(&mut tx, caller.org_id, &keys).await?;
    let parents = parent_keys(fresh, &rows);
    let parent_rows = rows::load(&mut tx, caller.org_id, &parents).await?;

    let mut dirty: HashMap<RowKey, usize> = HashMap::new();
    let writer = Writer {
        is_manager: caller.role.is_manager(),
    };
    for (index, mutation) in fresh.iter().enumerate() {
        let outcome = apply_one(mutation, caller, &scope, writer, &mut rows, &parent_rows);
        let (status, reason) = match outcome {
            Ok(Some(key)) => {
                dirty.insert(key, index);
                (AckStatus::Applied, None)
            }
            Ok(None) => (AckStatus::Applied, None),
            Err(Rejection(reason)) => {
                tracing::info!(seq = mutation.seq, entity = %mutation.entity, %reason, "mutation rejected");
                (AckStatus::Rejected, Some(reason))
            }
        };
        acks.push(Ack {
            seq: mutation.seq,
            mutation_id: mutation.mutation_id,
            status,
            reason,
        });
    }

    let mut changed: Vec<(usize, RowKey)> = dirty.into_iter().map(|(k, i)| (i, k)).collect();
    changed.sort_unstable_by_key(|(i, _)| *i);
    let changed: Vec<RowKey> = changed.into_iter().map(|(_, key)| key).collect();
    store_changed(&mut tx, caller.org_id, &rows, &changed).await?;
    let acked_through = request
        .mutations
        .last()
        .map_or(last_seq, |m| m.seq.max(last_seq));
    sqlx::query("UPDATE devices SET last_seq = $2, last_seen_at = $3 WHERE id = $1")
        .bind(caller.device_id.to_string())
        .bind(acked_through)
        .bind(crate::db::now_ms())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    if !changed.is_empty() {
        state.changes.notify_waiters();
        state.db.note_growth(changed.len());
    }
    Ok(PushResponse {
        acks,
        acked_through,
        server_epoch: epoch,
    })
}

/// Gives each of the `changed` rows (in order) the organisation's next change number and
/// writes them with the dashboard's call facts. The caller holds the counter's lock (the
/// first statement of its transaction updated `orgs`).
pub async fn store_changed(
    tx: &mut Transaction<'_, Any>,
    org: Uuid,
    rows: &HashMap<RowKey, StoredRow>,
    changed: &[RowKey],
) -> Result<(), sqlx::Error> {
    if changed.is_empty() {
        return Ok(());
    }
    let top: i64 = sqlx::query_scalar(
        "UPDATE orgs SET change_seq = change_seq + $2 WHERE id = $1 RETURNING change_seq",
    )
    .bind(org.to_string())
    .bind(changed.len() as i64)
    .fetch_one(&mut **tx)
    .await?;
    let first = top - changed.len() as i64 + 1;
    let mut writes = Vec::with_capacity(changed.len());
    for (n, key) in changed.iter().enumerate() {
        if let Some(row) = rows.get(key) {
            writes.push((first + n as i64, key, row));
        }
    }
    rows::upsert(tx, org, &writes).await?;
    let touched: Vec<(&RowKey, &StoredRow)> = writes.iter().map(|(_, k, r)| (*k, *r)).collect();
    facts::refresh(tx, org, &touched).await
}

/// Merges one mutation into `rows`. `Ok(Some(key))` when the row changed.
fn apply_one(
    mutation: &Mutation,
    caller: &Caller,
    scope: &Scope,
    writer: Writer,
    rows: &mut HashMap<RowKey, StoredRow>,
    parents: &HashMap<RowKey, StoredRow>,
) -> Result<Option<RowKey>, Rejection> {
    let entity: Entity = mutation
        .entity
        .parse()
        .map_err(|e: cuecard_sync_protocol::entity::UnknownEntity| Rejection(e.to_string()))?;
    if mutation.row_id.is_empty() || mutation.row_id.len() > MAX_ROW_ID {
        return Err(Rejection(format!(
            "{entity}: a row id must have 1 to {MAX_ROW_ID} characters"
        )));
    }
    merge::may_write(entity, writer)?;
    let key = (entity, mutation.row_id.clone());
    let existing = rows.get(&key);
    let owner = match existing {
        Some(row) => {
            if !scope.sees(row.owner) {
                return Err(Rejection(format!(
                    "{entity} {}: not in your scope",
                    mutation.row_id
                )));
            }
            row.owner
        }
        None => new_owner(entity, mutation, caller, scope, rows, parents)?,
    };
    let outcome = merge::merge(
        entity,
        existing.map(|r| &r.state),
        mutation.op,
        &mutation.changed,
        mutation.hlc,
        writer,
    )?;
    match outcome {
        MergeOutcome::Unchanged => Ok(None),
        MergeOutcome::Changed(state) => {
            rows.insert(key.clone(), StoredRow { owner, state });
            Ok(Some(key))
        }
    }
}

/// Who a new row belongs to: nobody for organisation-wide rows, the parent's owner for a
/// review, else the writer.
fn new_owner(
    entity: Entity,
    mutation: &Mutation,
    caller: &Caller,
    scope: &Scope,
    rows: &HashMap<RowKey, StoredRow>,
    parents: &HashMap<RowKey, StoredRow>,
) -> Result<Option<Uuid>, Rejection> {
    if entity.visibility() == Visibility::Org {
        return Ok(None);
    }
    let Some((field, parent_entity)) = entity.owner_from() else {
        return Ok(Some(caller.user_id));
    };
    let parent_id = mutation
        .changed
        .get(field)
        .and_then(|v| v.as_str())
        .ok_or_else(|| Rejection(format!("{entity}: `{field}` is required")))?;
    let key = (parent_entity, parent_id.to_owned());
    let parent = rows
        .get(&key)
        .or_else(|| parents.get(&key))
        .filter(|p| scope.sees(p.owner))
        .ok_or_else(|| {
            Rejection(format!(
                "{entity}: {parent_entity} {parent_id} is not in your scope"
            ))
        })?;
    Ok(parent.owner)
}

/// The parent rows that new rows' owners come from (a review's call).
fn parent_keys(fresh: &[Mutation], rows: &HashMap<RowKey, StoredRow>) -> Vec<RowKey> {
    fresh
        .iter()
        .filter_map(|m| {
            let entity: Entity = m.entity.parse().ok()?;
            let (field, parent) = entity.owner_from()?;
            if rows.contains_key(&(entity, m.row_id.clone())) {
                return None;
            }
            let id = m.changed.get(field)?.as_str()?;
            Some((parent, id.to_owned()))
        })
        .collect()
}
