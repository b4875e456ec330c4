//! The sync server's HTTP calls (`crates/server/API.md`): sessions, push, pull and
//! bootstrap, the organisation's settings, and recording uploads. Every failure becomes a
//! [`SyncError`] carrying the server's message.

use crate::error::SyncError;
use cuecard_sync_protocol::{
    DeviceInfo, ErrorBody, LoginRequest, OrgSettings, PullResponse, PushRequest, PushResponse,
    RefreshRequest, SCHEMA_VERSION, Session, SignupRequest, UploadRequest, UploadState,
};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Duration;

/// How long a request may take beyond a long poll's own wait.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one recording chunk may take to send (a slow uplink: 4 MiB at 0.5 Mbit/s).
const CHUNK_TIMEOUT: Duration = Duration::from_secs(90);

/// A client for one sync server.
#[derive(Clone, Debug)]
pub struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    /// A client for the server at `base_url` (`https://sync.example.com`, or `http://` on
    /// a private network); a bare host (`sync.example.com`) means `https://`.
    pub fn new(base_url: &str) -> Result<Api, SyncError> {
        let typed = base_url.trim();
        let trimmed = typed.trim_end_matches('/');
        let base = if !trimmed.is_empty() && !typed.contains("://") {
            format!("https://{trimmed}")
        } else {
            trimmed.to_owned()
        };
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

    /// Accepts an invitation: creates the user and signs this device in.
    pub async fn signup(
        &self,
        invitation: &str,
        name: &str,
        password: &str,
        device: DeviceInfo,
    ) -> Result<Session, SyncError> {
        let body = SignupRequest {
            invitation: invitation.to_owned(),
            name: name.to_owned(),
            password: password.to_owned(),
            device: Some(device),
        };
        self.send(Method::POST, "/v1/auth/signup", None, Some(&body), None)
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

    /// The organisation's settings (whether recordings leave the device).
    pub async fn org_settings(&self, access_token: &str) -> Result<OrgSettings, SyncError> {
        self.send::<(), _>(
            Method::GET,
            "/v1/org/settings",
            Some(access_token),
            None,
            None,
        )
        .await
    }

    /// Starts uploading a call's recording, or finds where an earlier upload stopped.
    pub async fn start_upload(
        &self,
        access_token: &str,
        request: &UploadRequest,
    ) -> Result<UploadState, SyncError> {
        self.send(
            Method::POST,
            "/v1/recordings/uploads",
            Some(access_token),
            Some(request),
            None,
        )
        .await
    }

    /// Sends the bytes of `upload_id` from `start` on (`total` is the whole file's size).
    pub async fn put_chunk(
        &self,
        access_token: &str,
        upload_id: uuid::Uuid,
        start: u64,
        chunk: Vec<u8>,
        total: u64,
    ) -> Result<UploadState, SyncError> {
        let end = start + chunk.len() as u64 - 1;
        let request = self
            .http
            .put(format!("{}/v1/recordings/uploads/{upload_id}", self.base))
            .timeout(CHUNK_TIMEOUT)
            .bearer_auth(access_token)
            .header(
                reqwest::header::CONTENT_RANGE,
                format!("bytes {start}-{end}/{total}"),
            )
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(chunk);
        self.execute(request).await
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
        self.execute(request).await
    }

    /// Sends `request`; a success is decoded as JSON, a refusal becomes a [`SyncError`]
    /// with the server's code and message.
    async fn execute<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, SyncError> {
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
                expected_seq: error.as_ref().and_then(|e| e.expected_seq),
                offset: error.and_then(|e| e.offset),
                message,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Api;
    use crate::error::SyncError;

    #[test]
    fn a_bad_server_address_is_refused_naming_it() {
        for bad in [
            "",
            "ftp://sync.example.com",
            "http://",
            "https://exa mple.com",
        ] {
            match Api::new(bad) {
                Err(e @ SyncError::BadUrl { .. }) => {
                    assert!(e.to_string().contains(&format!("{bad:?}")), "{e}")
                }
                other => panic!("{bad:?} was taken: {other:?}"),
            }
        }
        let api = Api::new(" https://sync.example.com/ ").expect("a good address");
        assert_eq!(api.base_url(), "https://sync.example.com");
        let bare = Api::new("sync.example.com:8787").expect("a bare host");
        assert_eq!(bare.base_url(), "https://sync.example.com:8787");
    }
}
