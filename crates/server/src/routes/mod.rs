//! The HTTP surface: one module per area, each a thin layer over the logic modules.

pub mod admin;
pub mod auth;
pub mod dashboard;
pub mod dashboard_files;
pub mod health;
pub mod org;
pub mod recordings;
pub mod sync;

use crate::error::ApiError;
use crate::state::AppState;
use axum::Router;
use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use tower_http::trace::TraceLayer;

/// Every route of the server.
pub fn router(state: AppState) -> Router {
    let max_body = state.config.max_body;
    Router::new()
        .merge(health::routes())
        .merge(auth::routes())
        .merge(admin::routes())
        .merge(sync::routes())
        .merge(dashboard::routes())
        .merge(dashboard_files::routes())
        .merge(org::routes())
        .merge(recordings::routes())
        .layer(DefaultBodyLimit::max(max_body))
        // Spans name the path, not the query: the recording stream takes an access token
        // there (`?access_token=`), which must not reach the logs.
        .layer(TraceLayer::new_for_http().make_span_with(
            |request: &axum::http::Request<axum::body::Body>| {
                tracing::debug_span!(
                    "request",
                    method = %request.method(),
                    path = %request.uri().path(),
                    version = ?request.version(),
                )
            },
        ))
        .with_state(state)
}

/// A JSON body whose rejection is our `{error, message}` answer, naming what was wrong.
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    axum::Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Json(value)),
            Err(rejection) => Err(match rejection {
                JsonRejection::BytesRejection(e)
                    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE =>
                {
                    ApiError::too_large("the request body is too large")
                }
                JsonRejection::MissingJsonContentType(_) => ApiError::bad_request(
                    "send the body as JSON with `Content-Type: application/json`",
                ),
                other => {
                    ApiError::bad_request(format!("malformed request body: {}", other.body_text()))
                }
            }),
        }
    }
}

/// Query-string parameters whose rejection is our `{error, message}` answer, naming the
/// parameter that was wrong.
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(rejection) => Err(ApiError::bad_request(format!(
                "malformed query string: {}",
                rejection.body_text()
            ))),
        }
    }
}
