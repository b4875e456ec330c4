//! Resumable uploads of a call's recording by the call's rep.
//!
//! `start` opens a session for (call, SHA-256) or returns the one under way, so an app that
//! crashed mid-upload learns where to go on. Each chunk must start at the session's offset;
//! it is written and fsynced before the offset moves. When the last byte arrives the whole
//! file's hash is checked: a match is stored for the call (the session ends), a mismatch
//! discards the session and its bytes. One chunk of a session is written at a time.

use crate::auth::Caller;
use crate::blobs::{BlobError, Digest, Kept};
use crate::dashboard::calls;
use crate::error::{ApiError, ApiResult};
use crate::recordings::policy;
use crate::recordings::range::ContentRange;
use crate::recordings::stored::{self, Stored};
use crate::state::AppState;
use crate::sync::scope;
use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use cuecard_sync_protocol::{RecordingPolicy, UploadRequest, UploadState};
use sqlx::AnyPool;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use uuid::Uuid;

/// The largest chunk one request may carry.
pub const MAX_CHUNK_BYTES: u64 = 8 * 1024 * 1024;

/// The longest one chunk may take to arrive.
const CHUNK_TIMEOUT: Duration = Duration::from_secs(300);

/// The longest a refused chunk is read for before the connection is closed.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest content type accepted.
const MAX_CONTENT_TYPE: usize = 100;

/// An upload session as stored.
#[derive(Clone, Debug)]
pub struct Session {
    pub id: Uuid,
    pub call_id: Uuid,
    pub uploader: Uuid,
    pub sha256: Digest,
    pub size: u64,
    pub content_type: String,
    /// Bytes held safely: where the next chunk starts.
    pub received: u64,
}

impl Session {
    fn state(&self) -> UploadState {
        UploadState {
            upload_id: Some(self.id),
            call_id: self.call_id,
            offset: self.received,
            size: self.size,
            complete: false,
        }
    }
}

/// Whether `start` opened a new session or found one (or the stored recording).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Started {
    Created,
    Existing,
}

/// Starts or resumes the upload of a call's recording.
pub async fn start(
    state: &AppState,
    caller: &Caller,
    request: &UploadRequest,
) -> ApiResult<(Started, UploadState)> {
    let sha256 = Digest::parse(request.sha256.trim())
        .ok_or_else(|| ApiError::invalid("`sha256` must be the file's SHA-256 as 64 hex digits"))?;
    if request.size == 0 {
        return Err(ApiError::invalid("`size` must be at least 1 byte"));
    }
    let max = state.config.max_recording_bytes;
    if request.size > max {
        return Err(ApiError::too_large(format!(
            "`size` {} is more than the {max} bytes a recording may have",
            request.size
        )));
    }
    let content_type = check_content_type(&request.content_type)?;
    let call = request.call_id;
    let db = &state.db.read;
    match calls::owner(db, caller.org_id, call).await? {
        Some(owner) if owner == caller.user_id => {}
        Some(owner) if scope::of(db, caller).await?.sees(Some(owner)) => {
            return Err(ApiError::forbidden(
                "only the call's rep uploads its recording",
            ));
        }
        _ => return Err(ApiError::not_found("call")),
    }
    refuse_if_kept_on_device(db, caller.org_id).await?;

    if let Some(done) = stored::get(db, caller.org_id, call).await?
        && done.sha256 == sha256
    {
        if state.blobs.contains(&sha256).await.map_err(blob_failure)? {
            return Ok((
                Started::Existing,
                UploadState {
                    upload_id: None,
                    call_id: call,
                    offset: done.size,
                    size: done.size,
                    complete: true,
                },
            ));
        }
        tracing::error!(%call, sha256 = %sha256, "a stored recording's file is missing; taking it again");
    }

    let now = crate::db::now_ms();
    let inserted = sqlx::query(
        "INSERT INTO recording_uploads
            (id, org_id, call_id, uploader_id, sha256, size, content_type, received, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $8)
         ON CONFLICT (org_id, call_id, sha256) DO NOTHING",
    )
    .bind(Uuid::now_v7().to_string())
    .bind(caller.org_id.to_string())
    .bind(call.to_string())
    .bind(caller.user_id.to_string())
    .bind(sha256.as_str())
    .bind(as_i64(request.size))
    .bind(&content_type)
    .bind(now)
    .execute(&state.db.write)
    .await?
    .rows_affected();
    let session = find(&state.db.write, caller.org_id, call, &sha256)
        .await?
        .ok_or_else(ApiError::internal)?;
    if inserted == 1 {
        tracing::info!(upload = %session.id, %call, size = request.size, "recording upload started");
        return Ok((Started::Created, session.state()));
    }
    if session.size == request.size
        && session.content_type == content_type
        && session.uploader == caller.user_id
    {
        return Ok((Started::Existing, session.state()));
    }
    // The same content declared differently: the newer declaration starts over.
    let _claim = state.uploads.claim(session.id).ok_or_else(busy)?;
    sqlx::query(
        "UPDATE recording_uploads SET size = $1, content_type = $2, uploader_id = $3,
            received = 0, updated_at = $4 WHERE id = $5",
    )
    .bind(as_i64(request.size))
    .bind(&content_type)
    .bind(caller.user_id.to_string())
    .bind(now)
    .bind(session.id.to_string())
    .execute(&state.db.write)
    .await?;
    state.blobs.discard(session.id).await;
    tracing::info!(upload = %session.id, %call, "recording upload restarted with a new size or type");
    let restarted = Session {
        size: request.size,
        content_type,
        uploader: caller.user_id,
        received: 0,
        ..session
    };
    Ok((Started::Created, restarted.state()))
}

/// Where upload `id` of `caller` stands.
pub async fn state_of(state: &AppState, caller: &Caller, id: Uuid) -> ApiResult<UploadState> {
    Ok(own(&state.db.write, caller, id).await?.state())
}

/// Writes one chunk (`body`, placed by `range`) of upload `id`; finishes the upload when
/// it was the last.
///
/// The body is read only once the request has passed the cheap checks, so a client that
/// sent `Expect: 100-continue` (`expects_continue`) sends nothing doomed. Other clients
/// are already sending it: a refused chunk is read and dropped before the answer, so the
/// answer reaches them instead of a reset connection.
pub async fn write_chunk(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    range: ContentRange,
    body: Body,
    expects_continue: bool,
) -> ApiResult<UploadState> {
    let checked = async {
        if range.len() > MAX_CHUNK_BYTES {
            return Err(ApiError::too_large(format!(
                "a chunk may hold at most {MAX_CHUNK_BYTES} bytes, not {}",
                range.len()
            )));
        }
        let session = own(&state.db.write, caller, id).await?;
        check_chunk(&session, range)?;
        refuse_if_kept_on_device(&state.db.read, caller.org_id).await
    }
    .await;
    if let Err(refused) = checked {
        if !expects_continue {
            drain(body).await;
        }
        return Err(refused);
    }

    let body = read_chunk(body, range.len()).await?;
    if body.len() as u64 != range.len() {
        return Err(ApiError::bad_request(format!(
            "the chunk holds {} bytes but `Content-Range` names {}",
            body.len(),
            range.len()
        )));
    }

    let _claim = state.uploads.claim(id).ok_or_else(busy)?;
    // Read again under the claim: another chunk may have landed meanwhile.
    let session = own(&state.db.write, caller, id).await?;
    check_chunk(&session, range)?;
    let received = match state.blobs.append(id, range.start, &body).await {
        Ok(received) => received,
        Err(BlobError::Short { have }) => {
            tracing::warn!(upload = %id, have, expected = session.received, "partial upload shorter than acknowledged");
            set_received(&state.db.write, id, have).await?;
            return Err(offset_mismatch(have));
        }
        Err(e) => return Err(blob_failure(e)),
    };
    set_received(&state.db.write, id, received).await?;
    if received < session.size {
        return Ok(Session {
            received,
            ..session
        }
        .state());
    }
    finish(state, caller, session).await
}

/// The last byte arrived: verify, keep, record for the call, end the session.
async fn finish(state: &AppState, caller: &Caller, session: Session) -> ApiResult<UploadState> {
    match state
        .blobs
        .keep(session.id, &session.sha256, session.size)
        .await
    {
        Ok(kept) => {
            let stored = Stored {
                sha256: session.sha256.clone(),
                size: session.size,
                content_type: session.content_type.clone(),
            };
            let mut tx = state.db.write.begin().await?;
            stored::put(
                &mut tx,
                caller.org_id,
                session.call_id,
                &stored,
                caller.user_id,
            )
            .await?;
            sqlx::query("DELETE FROM recording_uploads WHERE id = $1")
                .bind(session.id.to_string())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            tracing::info!(
                upload = %session.id, call = %session.call_id, size = session.size,
                deduplicated = kept == Kept::AlreadyStored, "recording stored"
            );
            Ok(UploadState {
                upload_id: None,
                call_id: session.call_id,
                offset: session.size,
                size: session.size,
                complete: true,
            })
        }
        Err(BlobError::HashMismatch { actual, len, .. }) => {
            sqlx::query("DELETE FROM recording_uploads WHERE id = $1")
                .bind(session.id.to_string())
                .execute(&state.db.write)
                .await?;
            tracing::warn!(upload = %session.id, call = %session.call_id, "recording upload failed its hash check; discarded");
            Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "hash_mismatch",
                format!(
                    "the uploaded file's SHA-256 is {actual} ({len} bytes), not the declared {}; \
                     the upload was discarded: start again",
                    session.sha256
                ),
            ))
        }
        Err(e) => Err(blob_failure(e)),
    }
}

/// Reads a chunk's body of (at most) `len` bytes.
async fn read_chunk(body: Body, len: u64) -> ApiResult<Bytes> {
    let limit = usize::try_from(len.min(MAX_CHUNK_BYTES)).unwrap_or(usize::MAX);
    match tokio::time::timeout(CHUNK_TIMEOUT, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(_)) => Err(ApiError::bad_request(
            "the chunk did not arrive whole, or is longer than `Content-Range` says",
        )),
        Err(_) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "timeout",
            "the chunk took too long to arrive",
        )),
    }
}

/// Reads and drops a refused chunk (up to twice the chunk limit, briefly); beyond that
/// the connection is closed.
async fn drain(body: Body) {
    let limit = usize::try_from(2 * MAX_CHUNK_BYTES).unwrap_or(usize::MAX);
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, axum::body::to_bytes(body, limit)).await;
}

/// The chunk must continue the file where the server stands, within its declared size.
fn check_chunk(session: &Session, range: ContentRange) -> ApiResult<()> {
    if range.total != session.size {
        return Err(ApiError::invalid(format!(
            "`Content-Range` gives the file's size as {}, but the upload declared {}",
            range.total, session.size
        )));
    }
    if range.start != session.received {
        return Err(offset_mismatch(session.received));
    }
    if range.end >= session.size {
        return Err(ApiError::invalid(format!(
            "`Content-Range` ends at byte {}, past the file's last byte {}",
            range.end,
            session.size - 1
        )));
    }
    Ok(())
}

fn offset_mismatch(offset: u64) -> ApiError {
    let mut err = ApiError::conflict(
        "offset_mismatch",
        format!("the server holds {offset} bytes of this upload: send from byte {offset}"),
    );
    err.offset = Some(offset);
    err
}

fn busy() -> ApiError {
    ApiError::conflict(
        "upload_busy",
        "another chunk of this upload is being written; retry shortly",
    )
}

/// A blob store failure: logged in full, answered without detail.
fn blob_failure(e: BlobError) -> ApiError {
    tracing::error!(error = %e, "blob store failure");
    ApiError::internal()
}

async fn refuse_if_kept_on_device(db: &AnyPool, org: Uuid) -> ApiResult<()> {
    if policy::of(db, org).await? == RecordingPolicy::KeepOnDevice {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "recordings_kept_on_device",
            "your organisation keeps call recordings on reps' devices; an admin can change this",
        ));
    }
    Ok(())
}

/// Accepts `audio/<subtype>` with optional parameters (`audio/ogg; codecs=opus`), in
/// printable ASCII; returns it in lower case.
fn check_content_type(text: &str) -> ApiResult<String> {
    let text = text.trim().to_ascii_lowercase();
    let essence = text.split(';').next().unwrap_or("").trim();
    let subtype_ok = essence.strip_prefix("audio/").is_some_and(|sub| {
        !sub.is_empty()
            && sub
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    });
    let printable = text.bytes().all(|b| (0x20..0x7f).contains(&b));
    if !subtype_ok || !printable || text.len() > MAX_CONTENT_TYPE {
        return Err(ApiError::invalid(
            "`content_type` must be an audio media type such as `audio/ogg`, `audio/wav` or `audio/flac`",
        ));
    }
    Ok(text)
}

/// Upload `id` if it is `caller`'s; 404 otherwise (another user's session is out of scope).
async fn own(db: &AnyPool, caller: &Caller, id: Uuid) -> ApiResult<Session> {
    load(db, caller.org_id, id)
        .await?
        .filter(|s| s.uploader == caller.user_id)
        .ok_or_else(|| ApiError::not_found("upload"))
}

type SessionRow = (String, String, String, String, i64, String, i64);
const SESSION_COLUMNS: &str = "id, call_id, uploader_id, sha256, size, content_type, received";

async fn load(db: &AnyPool, org: Uuid, id: Uuid) -> Result<Option<Session>, sqlx::Error> {
    let row: Option<SessionRow> = sqlx::query_as(crate::db::built(format!(
        "SELECT {SESSION_COLUMNS} FROM recording_uploads WHERE org_id = $1 AND id = $2"
    )))
    .bind(org.to_string())
    .bind(id.to_string())
    .fetch_optional(db)
    .await?;
    Ok(row.and_then(session))
}

async fn find(
    db: &AnyPool,
    org: Uuid,
    call: Uuid,
    sha256: &Digest,
) -> Result<Option<Session>, sqlx::Error> {
    let row: Option<SessionRow> = sqlx::query_as(crate::db::built(format!(
        "SELECT {SESSION_COLUMNS} FROM recording_uploads
         WHERE org_id = $1 AND call_id = $2 AND sha256 = $3"
    )))
    .bind(org.to_string())
    .bind(call.to_string())
    .bind(sha256.as_str())
    .fetch_optional(db)
    .await?;
    Ok(row.and_then(session))
}

fn session(row: SessionRow) -> Option<Session> {
    let (id, call_id, uploader, sha256, size, content_type, received) = row;
    let parsed = (|| {
        Some(Session {
            id: id.parse().ok()?,
            call_id: call_id.parse().ok()?,
            uploader: uploader.parse().ok()?,
            sha256: Digest::parse(&sha256)?,
            size: u64::try_from(size).ok()?,
            content_type,
            received: u64::try_from(received).ok()?,
        })
    })();
    if parsed.is_none() {
        tracing::error!(upload = %id, "unreadable upload session row");
    }
    parsed
}

async fn set_received(db: &AnyPool, id: Uuid, received: u64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE recording_uploads SET received = $1, updated_at = $2 WHERE id = $3")
        .bind(as_i64(received))
        .bind(crate::db::now_ms())
        .bind(id.to_string())
        .execute(db)
        .await?;
    Ok(())
}

fn as_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// How long an upload may sit untouched before [`sweep_abandoned`] removes it.
pub const ABANDONED_AFTER_MS: i64 = 7 * 86_400_000;

/// Removes upload sessions untouched for `older_than_ms` (an app that was uninstalled, a
/// recording deleted mid-way) with their partial files; a session being written is left
/// alone. Returns how many went. An app that comes back later simply starts over.
pub async fn sweep_abandoned(state: &AppState, older_than_ms: i64) -> Result<usize, sqlx::Error> {
    let cutoff = crate::db::now_ms() - older_than_ms;
    let stale: Vec<String> =
        sqlx::query_scalar("SELECT id FROM recording_uploads WHERE updated_at < $1")
            .bind(cutoff)
            .fetch_all(&state.db.read)
            .await?;
    let mut removed = 0;
    for id in stale.iter().filter_map(|id| id.parse::<Uuid>().ok()) {
        let Some(_claim) = state.uploads.claim(id) else {
            continue;
        };
        let gone = sqlx::query("DELETE FROM recording_uploads WHERE id = $1 AND updated_at < $2")
            .bind(id.to_string())
            .bind(cutoff)
            .execute(&state.db.write)
            .await?;
        if gone.rows_affected() > 0 {
            state.blobs.discard(id).await;
            removed += 1;
        }
    }
    if removed > 0 {
        tracing::info!(removed, "abandoned recording uploads removed");
    }
    Ok(removed)
}

/// The uploads with a chunk being written now: one writer per session at a time.
#[derive(Clone, Debug, Default)]
pub struct InFlight(Arc<Mutex<HashSet<Uuid>>>);

/// Held while a session's chunk is written; releases the session when dropped.
pub struct Claim {
    set: Arc<Mutex<HashSet<Uuid>>>,
    id: Uuid,
}

impl InFlight {
    /// Claims upload `id`; `None` while another request holds it.
    pub fn claim(&self, id: Uuid) -> Option<Claim> {
        // A poisoned lock only means a holder panicked; the set is still valid.
        let mut set = self.0.lock().unwrap_or_else(|e| e.into_inner());
        set.insert(id).then(|| Claim {
            set: Arc::clone(&self.0),
            id,
        })
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        let mut set = self.set.lock().unwrap_or_else(|e| e.into_inner());
        set.remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_must_be_audio() {
        assert_eq!(
            check_content_type(" Audio/Ogg; codecs=opus")
                .ok()
                .as_deref(),
            Some("audio/ogg; codecs=opus")
        );
        assert_eq!(
            check_content_type("audio/wav").ok().as_deref(),
            Some("audio/wav")
        );
        for bad in [
            "text/html",
            "audio/",
            "audio",
            "audio/ogg\r\nX: y",
            "audio/<b>",
            "",
        ] {
            assert!(check_content_type(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn one_writer_per_upload() {
        let uploads = InFlight::default();
        let id = Uuid::now_v7();
        let claim = uploads.claim(id).expect("free");
        assert!(uploads.claim(id).is_none());
        assert!(uploads.claim(Uuid::now_v7()).is_some());
        drop(claim);
        assert!(uploads.claim(id).is_some());
    }
}
