//! The recording stored for each call (`call_recordings`), and who may listen to it.

use crate::auth::Caller;
use crate::blobs::Digest;
use crate::dashboard::calls;
use crate::error::{ApiError, ApiResult};
use axum::http::StatusCode;
use sqlx::{Any, AnyPool, Transaction};
use uuid::Uuid;

/// A call's verified recording.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub sha256: Digest,
    pub size: u64,
    pub content_type: String,
}

/// The recording stored for `call`, if any.
pub async fn get(db: &AnyPool, org: Uuid, call: Uuid) -> Result<Option<Stored>, sqlx::Error> {
    let row: Option<(String, i64, String)> = sqlx::query_as(
        "SELECT sha256, size, content_type FROM call_recordings WHERE org_id = $1 AND call_id = $2",
    )
    .bind(org.to_string())
    .bind(call.to_string())
    .fetch_optional(db)
    .await?;
    Ok(row.and_then(|(sha256, size, content_type)| {
        let stored = Digest::parse(&sha256).map(|sha256| Stored {
            sha256,
            size: u64::try_from(size).unwrap_or(0),
            content_type,
        });
        if stored.is_none() {
            tracing::error!(%org, %call, "unreadable stored recording row");
        }
        stored
    }))
}

/// Records `stored` as `call`'s recording (replacing an earlier one).
pub async fn put(
    tx: &mut Transaction<'_, Any>,
    org: Uuid,
    call: Uuid,
    stored: &Stored,
    uploaded_by: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO call_recordings (org_id, call_id, sha256, size, content_type, uploaded_at, uploaded_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (org_id, call_id) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size,
            content_type = excluded.content_type, uploaded_at = excluded.uploaded_at,
            uploaded_by = excluded.uploaded_by",
    )
    .bind(org.to_string())
    .bind(call.to_string())
    .bind(stored.sha256.as_str())
    .bind(i64::try_from(stored.size).unwrap_or(i64::MAX))
    .bind(&stored.content_type)
    .bind(crate::db::now_ms())
    .bind(uploaded_by.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The recording of `call` for `caller` to listen to: the call's rep, a manager of the
/// rep's teams or an admin — whoever may open the call's page. A call out of scope is 404
/// `not_found`; one without a stored recording 404 `recording_not_uploaded`.
pub async fn for_listener(db: &AnyPool, caller: &Caller, call: Uuid) -> ApiResult<Stored> {
    calls::visible(db, caller, call).await?;
    get(db, caller.org_id, call).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "recording_not_uploaded",
            "this call's recording has not been uploaded to the server",
        )
    })
}
