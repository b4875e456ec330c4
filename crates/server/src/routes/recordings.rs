//! Call recordings over HTTP: resumable uploads by the call's rep
//! (`/v1/recordings/uploads…`), and the stored recording streamed with range requests to
//! whoever may open the call's page (`/v1/recordings/{call_id}`).

use crate::auth::Caller;
use crate::auth::caller::MediaCaller;
use crate::error::{ApiError, ApiResult};
use crate::recordings::range::{self, Answer, ContentRange};
use crate::recordings::stored;
use crate::recordings::uploads::{self, Started};
use crate::routes::Json;
use crate::state::AppState;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use cuecard_sync_protocol::{UploadRequest, UploadState};
use std::io::SeekFrom;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use uuid::Uuid;

/// Blocks read from disk per step of the stream.
const STREAM_BLOCK: usize = 64 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/recordings/uploads", post(start))
        .route(
            "/v1/recordings/uploads/{upload_id}",
            get(upload_state).put(chunk),
        )
        .route("/v1/recordings/{call_id}", get(stream))
}

async fn start(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<UploadRequest>,
) -> ApiResult<(StatusCode, axum::Json<UploadState>)> {
    let (started, upload) = uploads::start(&state, &caller, &request).await?;
    let status = match started {
        Started::Created => StatusCode::CREATED,
        Started::Existing => StatusCode::OK,
    };
    Ok((status, axum::Json(upload)))
}

async fn upload_state(
    State(state): State<AppState>,
    caller: Caller,
    Path(upload_id): Path<String>,
) -> ApiResult<axum::Json<UploadState>> {
    let id = parse_id(&upload_id, "upload")?;
    uploads::state_of(&state, &caller, id).await.map(axum::Json)
}

async fn chunk(
    State(state): State<AppState>,
    caller: Caller,
    Path(upload_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<axum::Json<UploadState>> {
    let id = parse_id(&upload_id, "upload")?;
    let range = headers
        .get(header::CONTENT_RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(ContentRange::parse)
        .ok_or_else(|| {
            ApiError::bad_request(
                "send each chunk with `Content-Range: bytes START-END/TOTAL` (END inclusive)",
            )
        })?;
    let expects_continue = headers
        .get(header::EXPECT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
    uploads::write_chunk(&state, &caller, id, range, body, expects_continue)
        .await
        .map(axum::Json)
}

/// The recording of a call, whole or the single byte range asked for (HEAD too).
async fn stream(
    State(state): State<AppState>,
    MediaCaller(caller): MediaCaller,
    Path(call_id): Path<String>,
    method: Method,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let call = parse_id(&call_id, "call")?;
    let recording = stored::for_listener(&state.db.read, &caller, call).await?;
    let opened = state.blobs.open(&recording.sha256).await.map_err(|e| {
        tracing::error!(error = %e, %call, "cannot open a stored recording");
        ApiError::internal()
    })?;
    let Some((mut file, len)) = opened else {
        tracing::error!(%call, sha256 = %recording.sha256, path = %state.blobs.path(&recording.sha256).display(),
            "a stored recording's file is missing (was the blob directory restored with the database?)");
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "recording_missing",
            "the recording's file is missing on the server; the rep's app uploads it again on its next attempt",
        ));
    };

    let etag = format!("\"{}\"", recording.sha256);
    // `If-Range` asks for the range only while the content is the one it names.
    let same_content = headers
        .get(header::IF_RANGE)
        .is_none_or(|v| v.to_str().ok() == Some(etag.as_str()));
    let asked = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let answer = if same_content {
        range::answer(asked, len)
    } else {
        Answer::Full
    };
    let (status, start, count, content_range) = match answer {
        Answer::Full => (StatusCode::OK, 0, len, None),
        Answer::Partial { start, end } => (
            StatusCode::PARTIAL_CONTENT,
            start,
            end - start + 1,
            Some(format!("bytes {start}-{end}/{len}")),
        ),
        Answer::Unsatisfiable => {
            let mut response = ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "range_not_satisfiable",
                format!("the recording has {len} bytes; the range asked for none of them"),
            )
            .into_response();
            set(
                &mut response,
                header::CONTENT_RANGE,
                &format!("bytes */{len}"),
            );
            set(&mut response, header::ACCEPT_RANGES, "bytes");
            return Ok(response);
        }
    };

    let body = if method == Method::HEAD {
        Body::empty()
    } else {
        file.seek(SeekFrom::Start(start)).await.map_err(|e| {
            tracing::error!(error = %e, %call, "cannot seek in a stored recording");
            ApiError::internal()
        })?;
        Body::from_stream(tokio_util::io::ReaderStream::with_capacity(
            file.take(count),
            STREAM_BLOCK,
        ))
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let content_type = HeaderValue::from_str(&recording.content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, content_type);
    set(&mut response, header::CONTENT_LENGTH, &count.to_string());
    set(&mut response, header::ACCEPT_RANGES, "bytes");
    set(&mut response, header::ETAG, &etag);
    set(&mut response, header::CACHE_CONTROL, "private");
    set(&mut response, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    if let Some(content_range) = content_range {
        set(&mut response, header::CONTENT_RANGE, &content_range);
    }
    Ok(response)
}

/// Sets a header whose value is built from digits, hex and fixed text.
fn set(response: &mut Response, name: header::HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, value);
    }
}

/// A path id that is not a UUID names nothing: 404, as for any id out of scope.
fn parse_id(text: &str, what: &str) -> ApiResult<Uuid> {
    text.parse().map_err(|_| ApiError::not_found(what))
}
