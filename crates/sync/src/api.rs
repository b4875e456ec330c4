//! The sync server's HTTP calls (`crates/server/API.md`): sessions, push, pull and
//! bootstrap. Every failure becomes a [`SyncError`] carrying the server's message.

use crate::error::SyncError;
use cuecard_sync_protocol::{
    DeviceInfo, ErrorBody, LoginRequest, PullResponse, PushRequest, PushResponse, RefreshRequest,
    SCHEMA_VERSION, Session,
};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Duration;

/// How long a request may take beyond a long poll's own wait.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A client for one sync server.
#[derive(Clone, Debug)]
pub struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    /// A client for the server at `base_url` (`https://sync.example.com`, or `http://` on
    /// a private network).
    pub fn new(base_url: &str) -> Result<Api, SyncError> {
        let base = base_url.trim().trim_end_matches('/').to_owned();
        let bad = |detail: &str| SyncError::BadUrl {
            url: base_url.to_owned(),
            detail: detail.to_owned(),
        };
        let url = reqwest::Url::parse(&base).map_err(|e| bad(&e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(bad("use an http:// or https:// address with a host"));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("cuecard/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| bad(&e.to_string()))?;
        Ok(Api { http, base })
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    pub async fn login(
        &self,
        email: &str,
        password: &str,
        device: DeviceInfo,
    ) -> Result<Session, SyncError> {
        let body = LoginRequest {
            email: email.to_owned(),
            password: password.to_owned(),
            device: Some(device),
        };
        self.send(Method::POST, "/v1/auth/login", None, Some(&body), None)
            .await
    }

    pub async fn refresh(&self, refresh_token: &str) -> Result<Session, SyncError> {
        let body = RefreshRequest {
            refresh_token: refresh_token.to_owned(),
        };
        self.send(Method::POST, "/v1/auth/refresh", None, Some(&body), None)
            .await
    }

    /// Revokes this device's tokens on the server.
    pub async fn logout(&self, access_token: &str) -> Result<(), SyncError> {
        self.send::<(), serde_json::Value>(
            Method::POST,
            "/v1/auth/logout",
            Some(access_token),
            None,
            None,
        )
        .await
        .map(|_| ())
    }

    pub async fn push(
        &self,
        access_token: &str,
        request: &PushRequest,
    ) -> Result<PushResponse, SyncError> {
        self.send(
            Method::POST,
            "/v1/sync/push",
            Some(access_token),
            Some(request),
            None,
        )
        .await
    }

    /// Changes after `cursor`; with `wait`, the server holds the request until a change
    /// arrives or the wait ends. `bootstrap` pages through every live row instead.
    pub async fn pull(
        &self,
        access_token: &str,
        cursor: i64,
        wait: Option<Duration>,
        bootstrap: bool,
    ) -> Result<PullResponse, SyncError> {
        let path = if bootstrap {
            format!("/v1/sync/bootstrap?cursor={cursor}&schema_version={SCHEMA_VERSION}")
        } else {
            let wait = wait.map_or(0, |w| w.as_secs());
            format!("/v1/sync/pull?cursor={cursor}&schema_version={SCHEMA_VERSION}&wait={wait}")
        };
        let timeout = REQUEST_TIMEOUT + wait.unwrap_or_default();
        self.send::<(), _>(Method::GET, &path, Some(access_token), None, Some(timeout))
            .await
    }

    async fn send<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&B>,
        timeout: Option<Duration>,
    ) -> Result<T, SyncError> {
        let url = format!("{}{path}", self.base);
        let mut request = self
            .http
            .request(method, &url)
            .timeout(timeout.unwrap_or(REQUEST_TIMEOUT));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let offline = |e: reqwest::Error| SyncError::Offline {
            url: self.base.clone(),
            detail: e.to_string(),
        };
        let response = request.send().await.map_err(offline)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(offline)?;
        if status.is_success() {
            let bytes = if bytes.is_empty() {
                &b"null"[..]
            } else {
                &bytes[..]
            };
            return serde_json::from_slice(bytes).map_err(|e| SyncError::Decode(e.to_string()));
        }
        let error: Option<ErrorBody> = serde_json::from_slice(&bytes).ok();
        let message = error
            .as_ref()
            .map(|e| e.message.clone())
            .unwrap_or_else(|| String::from_utf8_lossy(&bytes).chars().take(200).collect());
        Err(match status {
            StatusCode::UNAUTHORIZED => SyncError::Unauthorized(message),
            StatusCode::UPGRADE_REQUIRED => SyncError::UpgradeRequired(message),
            _ => SyncError::Server {
                status: status.as_u16(),
                code: error.as_ref().map(|e| e.error.clone()).unwrap_or_default(),
                expected_seq: error.and_then(|e| e.expected_seq),
                message,
            },
        })
    }
}
