//! The HTTP side of the REST client: Basic auth, form-encoded writes, JSON answers,
//! Twilio's error bodies and its paged lists.

use crate::credentials::Credentials;
use crate::error::{Result, TwilioError};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::time::Duration;
use url::Url;

/// Where Twilio's REST API lives; tests and proxies pass another base.
pub const DEFAULT_BASE_URL: &str = "https://api.twilio.com";

/// The API version every path starts with.
const API: &str = "/2010-04-01";

/// Lists are read this many items a page, the most Twilio allows.
const PAGE_SIZE: u32 = 1000;

/// A list longer than this many pages is cut short (and logged): a loop guard against a
/// server that keeps handing out next pages.
const MAX_PAGES: usize = 200;

/// A client for one Twilio account.
#[derive(Clone, Debug)]
pub struct TwilioClient {
    http: reqwest::blocking::Client,
    base: Url,
    credentials: Credentials,
    page_size: u32,
}

/// The error body Twilio documents for every failed request.
#[derive(Deserialize)]
struct ErrorBody {
    code: Option<u32>,
    message: Option<String>,
    more_info: Option<String>,
}

impl TwilioClient {
    /// A client for `credentials`' account at `base_url` ([`DEFAULT_BASE_URL`] for
    /// Twilio itself).
    pub fn new(base_url: &str, credentials: Credentials) -> Result<Self> {
        let base = Url::parse(base_url.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
            .ok_or_else(|| {
                TwilioError::invalid(
                    "Twilio base URL",
                    format!("{base_url:?} is not an http(s) URL"),
                )
            })?;
        let http = reqwest::blocking::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("cuecard/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| TwilioError::Unreachable {
                url: base.to_string(),
                message: e.to_string(),
            })?;
        Ok(Self {
            http,
            base,
            credentials,
            page_size: PAGE_SIZE,
        })
    }

    /// Reads lists `size` items a page (tests use small pages to exercise paging).
    #[doc(hidden)]
    pub fn with_page_size(mut self, size: u32) -> Self {
        self.page_size = size.clamp(1, PAGE_SIZE);
        self
    }

    /// The account this client acts for.
    pub fn account_sid(&self) -> &str {
        &self.credentials.account_sid
    }

    /// The absolute URL of `path` under the account (`path` starts after
    /// `/Accounts/{AccountSid}`, e.g. `/Calls.json`).
    pub(crate) fn account_url(&self, path: &str) -> Result<Url> {
        self.url(&format!(
            "{API}/Accounts/{}{path}",
            self.credentials.account_sid
        ))
    }

    /// An absolute URL for a path Twilio handed out (a `next_page_uri`, a media URL).
    fn url(&self, path: &str) -> Result<Url> {
        self.base
            .join(path)
            .map_err(|e| TwilioError::invalid("Twilio path", format!("{path:?}: {e}")))
    }

    pub(crate) fn get<T: DeserializeOwned>(&self, what: &str, path: &str) -> Result<T> {
        let url = self.account_url(path)?;
        self.send(what, self.http.get(url.clone()), &url)
    }

    pub(crate) fn post<T: DeserializeOwned>(
        &self,
        what: &str,
        path: &str,
        form: &[(&str, String)],
    ) -> Result<T> {
        let url = self.account_url(path)?;
        self.send(what, self.http.post(url.clone()).form(form), &url)
    }

    pub(crate) fn delete(&self, what: &str, path: &str) -> Result<()> {
        let url = self.account_url(path)?;
        let response = self.execute(what, self.http.delete(url.clone()), &url)?;
        drop(response);
        Ok(())
    }

    /// Every item of a list, following Twilio's `next_page_uri` (the items are under
    /// `key`, e.g. `domains`).
    pub(crate) fn list<T: DeserializeOwned>(
        &self,
        what: &str,
        path: &str,
        key: &str,
        query: &[(&str, &str)],
    ) -> Result<Vec<T>> {
        let mut url = self.account_url(path)?;
        {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
            pairs.append_pair("PageSize", &self.page_size.to_string());
        }
        let mut items = Vec::new();
        for _ in 0..MAX_PAGES {
            let page: serde_json::Value = self.send(what, self.http.get(url.clone()), &url)?;
            let decode = |detail: String| TwilioError::Decode {
                what: what.to_owned(),
                detail,
            };
            let list = page
                .get(key)
                .cloned()
                .ok_or_else(|| decode(format!("no {key:?} list in the page")))?;
            let mut page_items: Vec<T> =
                serde_json::from_value(list).map_err(|e| decode(e.to_string()))?;
            items.append(&mut page_items);
            match page.get("next_page_uri").and_then(|v| v.as_str()) {
                Some(next) if !next.is_empty() => url = self.url(next)?,
                _ => return Ok(items),
            }
        }
        tracing::warn!(what, pages = MAX_PAGES, "Twilio list cut short");
        Ok(items)
    }

    /// Downloads `path` (absolute under the API, e.g. a recording's media) into `to`.
    pub(crate) fn download(&self, what: &str, path: &str, to: &std::path::Path) -> Result<u64> {
        let url = self.account_url(path)?;
        let mut response = self.execute(what, self.http.get(url.clone()), &url)?;
        let io = |source| TwilioError::Io {
            path: to.to_owned(),
            source,
        };
        let mut file = std::fs::File::create(to).map_err(io)?;
        let bytes = response
            .copy_to(&mut file)
            .map_err(|e| TwilioError::Unreachable {
                url: url.to_string(),
                message: e.to_string(),
            })?;
        file.sync_all().map_err(io)?;
        Ok(bytes)
    }

    fn send<T: DeserializeOwned>(
        &self,
        what: &str,
        request: reqwest::blocking::RequestBuilder,
        url: &Url,
    ) -> Result<T> {
        let response = self.execute(what, request, url)?;
        let body = response.text().map_err(|e| TwilioError::Unreachable {
            url: url.to_string(),
            message: e.to_string(),
        })?;
        serde_json::from_str(&body).map_err(|e| TwilioError::Decode {
            what: what.to_owned(),
            detail: format!("{e} in {}", excerpt(&body)),
        })
    }

    /// Sends with Basic auth; a non-2xx answer becomes the error Twilio's body names.
    fn execute(
        &self,
        what: &str,
        request: reqwest::blocking::RequestBuilder,
        url: &Url,
    ) -> Result<reqwest::blocking::Response> {
        let (user, password) = self.credentials.basic();
        let response = request
            .basic_auth(user, Some(password))
            .header("Accept", "application/json")
            .send()
            .map_err(|e| TwilioError::Unreachable {
                url: url.to_string(),
                message: e.to_string(),
            })?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = response.text().unwrap_or_default();
        let parsed: Option<ErrorBody> = serde_json::from_str(&body).ok();
        let message = parsed
            .as_ref()
            .and_then(|b| b.message.clone())
            .unwrap_or_else(|| excerpt(&body));
        tracing::warn!(what, status = status.as_u16(), %message, "Twilio refused a request");
        if status == reqwest::StatusCode::UNAUTHORIZED {
            return Err(TwilioError::Unauthorized {
                account_sid: self.credentials.account_sid.clone(),
                message,
            });
        }
        Err(TwilioError::Api {
            what: what.to_owned(),
            status: status.as_u16(),
            code: parsed.as_ref().and_then(|b| b.code),
            message,
            more_info: parsed.and_then(|b| b.more_info),
        })
    }
}

/// The start of a body, for error messages.
fn excerpt(body: &str) -> String {
    let mut text: String = body.chars().take(200).collect();
    if text.len() < body.len() {
        text.push('…');
    }
    if text.trim().is_empty() {
        "an empty body".into()
    } else {
        format!("{text:?}")
    }
}
