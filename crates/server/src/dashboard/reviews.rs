//! Managers' review comments written from the dashboard. The server writes them into the
//! change log exactly as a device's push would (merged under the `reviews` policy, given
//! the next change number, with the call's facts marked reviewed), stamped by the
//! server's own clock, so they reach the rep's app on its next pull.

use crate::auth::Caller;
use crate::dashboard::calls::Review;
use crate::dashboard::{Ref, rfc3339};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::sync::apply::store_changed;
use crate::sync::rows::{self, RowKey, StoredRow};
use crate::sync::scope;
use cuecard_sync_protocol::merge::{self, Writer};
use cuecard_sync_protocol::{Entity, MergeOutcome, Op};
use serde_json::json;
use std::collections::HashMap;
use uuid::Uuid;

/// The longest review comment accepted, in characters.
pub const MAX_BODY: usize = 5000;

/// Adds `caller`'s review comment to a call they may review.
pub async fn add(
    state: &AppState,
    caller: &Caller,
    call_id: Uuid,
    body: &str,
) -> ApiResult<Review> {
    caller.require_manager()?;
    let body = body.trim();
    if body.is_empty() {
        return Err(ApiError::invalid("a review needs some text in `body`"));
    }
    if body.chars().count() > MAX_BODY {
        return Err(ApiError::invalid(format!(
            "a review may have at most {MAX_BODY} characters"
        )));
    }
    let scope = scope::of(&state.db.read, caller).await?;
    let mut tx = state.db.write.begin().await?;
    sqlx::query("UPDATE orgs SET change_seq = change_seq WHERE id = $1")
        .bind(caller.org_id.to_string())
        .execute(&mut *tx)
        .await?;
    let call_key = (Entity::Calls, call_id.to_string());
    let calls = rows::load(&mut tx, caller.org_id, std::slice::from_ref(&call_key)).await?;
    let owner = match calls.get(&call_key) {
        Some(call) if !call.state.deleted && scope.sees(call.owner) => call.owner,
        _ => return Err(ApiError::not_found("call")),
    };

    let id = Uuid::now_v7().to_string();
    let created_at = rfc3339(crate::db::now_ms());
    let fields = json!({
        "call_id": call_id.to_string(),
        "author_id": caller.user_id.to_string(),
        "author_name": caller.name,
        "body": body,
        "created_at": created_at,
    });
    let writer = Writer { is_manager: true };
    let outcome = merge::merge(
        Entity::Reviews,
        None,
        Op::Insert,
        &fields,
        state.stamp(),
        writer,
    )
    .map_err(|rejection| {
        tracing::error!(reason = %rejection.0, "a server-written review was refused");
        ApiError::internal()
    })?;
    let MergeOutcome::Changed(row) = outcome else {
        return Err(ApiError::internal());
    };
    let key: RowKey = (Entity::Reviews, id.clone());
    let stored = HashMap::from([(key.clone(), StoredRow { owner, state: row })]);
    store_changed(&mut tx, caller.org_id, &stored, &[key]).await?;
    tx.commit().await?;
    state.changes.notify_waiters();
    tracing::info!(%call_id, review = %id, "review added");
    Ok(Review {
        id,
        author: Ref {
            id: caller.user_id.to_string(),
            name: caller.name.clone(),
        },
        body: body.to_owned(),
        created_at,
    })
}
