//! The managers' dashboard's files (`crates/server/dashboard/`), embedded in the binary and
//! served at `/dashboard/`, so one binary is the whole server.

use crate::state::AppState;
use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

/// (path under /dashboard/, content type, contents)
const FILES: &[(&str, &str, &str)] = &[
    (
        "index.html",
        "text/html; charset=utf-8",
        include_str!("../../dashboard/index.html"),
    ),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("../../dashboard/style.css"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_str!("../../dashboard/favicon.svg"),
    ),
    ("app.js", JS, include_str!("../../dashboard/app.js")),
    ("api.js", JS, include_str!("../../dashboard/api.js")),
    ("charts.js", JS, include_str!("../../dashboard/charts.js")),
    ("dom.js", JS, include_str!("../../dashboard/dom.js")),
    ("format.js", JS, include_str!("../../dashboard/format.js")),
    (
        "views/call.js",
        JS,
        include_str!("../../dashboard/views/call.js"),
    ),
    (
        "views/calls.js",
        JS,
        include_str!("../../dashboard/views/calls.js"),
    ),
    (
        "views/login.js",
        JS,
        include_str!("../../dashboard/views/login.js"),
    ),
    (
        "views/people.js",
        JS,
        include_str!("../../dashboard/views/people.js"),
    ),
    (
        "views/rep.js",
        JS,
        include_str!("../../dashboard/views/rep.js"),
    ),
    (
        "views/team.js",
        JS,
        include_str!("../../dashboard/views/team.js"),
    ),
];

const JS: &str = "text/javascript; charset=utf-8";

/// A strict policy: the app has no inline scripts or styles and talks only to its origin.
const CSP: &str =
    "default-src 'self'; img-src 'self' data:; media-src 'self'; frame-ancestors 'none'";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::permanent("/dashboard/") }))
        .route(
            "/dashboard",
            get(|| async { Redirect::permanent("/dashboard/") }),
        )
        .route("/dashboard/", get(|| async { file("index.html") }))
        .route(
            "/dashboard/{*path}",
            get(|Path(path): Path<String>| async move { file(&path) }),
        )
}

fn file(path: &str) -> Response {
    match FILES.iter().find(|(name, _, _)| *name == path) {
        Some((_, content_type, body)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CONTENT_SECURITY_POLICY, CSP),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            *body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such dashboard file").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dashboard_module_is_embedded() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("dashboard");
        let mut on_disk = Vec::new();
        for sub in ["", "views"] {
            for entry in std::fs::read_dir(dir.join(sub))
                .into_iter()
                .flatten()
                .flatten()
            {
                let name = entry.file_name().to_string_lossy().into_owned();
                let shipped = name.ends_with(".js") && !name.ends_with(".test.js")
                    || name.ends_with(".css")
                    || name.ends_with(".html")
                    || name.ends_with(".svg");
                if shipped {
                    on_disk.push(if sub.is_empty() {
                        name
                    } else {
                        format!("{sub}/{name}")
                    });
                }
            }
        }
        on_disk.sort();
        let mut embedded: Vec<String> = FILES.iter().map(|(n, _, _)| (*n).to_owned()).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded, "add new dashboard files to FILES");
    }
}
