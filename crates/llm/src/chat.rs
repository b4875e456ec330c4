//! OpenAI-compatible chat completions: `POST {base}/chat/completions` with
//! `{"model", "messages": [{"role", "content"}], "temperature", "max_tokens"}`, answered
//! with `{"choices": [{"message": {"role": "assistant", "content"}}], …}` or the
//! documented error body `{"error": {"message", "type", "param", "code"}}`.
//!
//! The key is optional: local servers need none. It is sent as `Authorization: Bearer`
//! and never printed (it is a [`Secret`]).

use cuecard_secrets::Secret;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// OpenAI's hosted API.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// Why a completion failed.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("the language model settings are invalid: {0}")]
    Config(String),
    #[error("the language model at {url} refused the key: {message}")]
    Auth { url: String, message: String },
    #[error("the language model at {url} answered HTTP {status}: {message}")]
    Http {
        url: String,
        status: u16,
        message: String,
    },
    #[error("the language model at {url} did not answer within {timeout:?}")]
    Timeout { url: String, timeout: Duration },
    #[error("cannot reach the language model at {url}: {message}")]
    Connection { url: String, message: String },
    #[error("the language model at {url} sent an answer that is not a chat completion: {message}")]
    BadAnswer { url: String, message: String },
}

/// Who says a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

/// One message of a conversation with the model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
}

impl ChatMessage {
    pub fn system(content: impl Into<String>) -> Self {
        Self {
            role: Role::System,
            content: content.into(),
        }
    }

    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            content: content.into(),
        }
    }
}

/// Where the model is and how to ask it.
#[derive(Clone, Debug)]
pub struct ChatConfig {
    /// `https://api.openai.com/v1`, or a compatible server's `/v1`
    /// (`http://127.0.0.1:8080/v1` for a local llama.cpp server).
    pub base_url: String,
    pub model: String,
    pub temperature: f32,
    /// The longest answer, in tokens.
    pub max_tokens: u32,
    /// Limit on one request, answer included.
    pub timeout: Duration,
}

impl ChatConfig {
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            model: model.into(),
            temperature: 0.3,
            max_tokens: 80,
            timeout: Duration::from_secs(10),
        }
    }
}

/// A chat-completions client.
#[derive(Clone)]
pub struct ChatClient {
    config: ChatConfig,
    url: String,
    key: Option<std::sync::Arc<Secret>>,
    http: reqwest::Client,
}

impl std::fmt::Debug for ChatClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatClient")
            .field("url", &self.url)
            .field("model", &self.config.model)
            .field("key", &self.key.as_ref().map(|_| "•••"))
            .finish()
    }
}

#[derive(Serialize)]
struct Request<'a> {
    model: &'a str,
    messages: &'a [ChatMessage],
    temperature: f32,
    max_tokens: u32,
}

#[derive(Deserialize)]
struct Answer {
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    message: AnswerMessage,
}

#[derive(Deserialize)]
struct AnswerMessage {
    #[serde(default)]
    content: Option<String>,
}

impl ChatClient {
    /// Checks the settings; `key` is optional (local servers need none).
    pub fn new(config: ChatConfig, key: Option<Secret>) -> Result<Self, LlmError> {
        let base = url::Url::parse(config.base_url.trim())
            .map_err(|e| LlmError::Config(format!("base URL {:?}: {e}", config.base_url)))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(LlmError::Config(format!(
                "base URL {:?} must start with http:// or https://",
                config.base_url
            )));
        }
        if config.model.trim().is_empty() {
            return Err(LlmError::Config("the model name is empty".into()));
        }
        if !(0.0..=2.0).contains(&config.temperature) {
            return Err(LlmError::Config(format!(
                "temperature {} is outside 0–2",
                config.temperature
            )));
        }
        if config.max_tokens == 0 {
            return Err(LlmError::Config("max_tokens is 0".into()));
        }
        let url = format!("{}/chat/completions", base.as_str().trim_end_matches('/'));
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|e| LlmError::Config(format!("HTTP client: {e}")))?;
        Ok(Self {
            config,
            url,
            key: key.map(std::sync::Arc::new),
            http,
        })
    }

    /// The endpoint requests go to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Asks for the next assistant message; its text.
    pub async fn complete(&self, messages: &[ChatMessage]) -> Result<String, LlmError> {
        let body = serde_json::to_vec(&Request {
            model: &self.config.model,
            messages,
            temperature: self.config.temperature,
            max_tokens: self.config.max_tokens,
        })
        .map_err(|e| LlmError::Config(format!("request: {e}")))?;
        let mut request = self
            .http
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        if let Some(key) = &self.key {
            request = request.bearer_auth(key.expose());
        }
        let response = request.send().await.map_err(|e| self.connection_error(e))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| self.connection_error(e))?;
        if status.as_u16() == 401 || status.as_u16() == 403 {
            return Err(LlmError::Auth {
                url: self.url.clone(),
                message: error_message(&text),
            });
        }
        if !status.is_success() {
            return Err(LlmError::Http {
                url: self.url.clone(),
                status: status.as_u16(),
                message: error_message(&text),
            });
        }
        let answer: Answer = serde_json::from_str(&text).map_err(|e| LlmError::BadAnswer {
            url: self.url.clone(),
            message: e.to_string(),
        })?;
        answer
            .choices
            .into_iter()
            .next()
            .and_then(|c| c.message.content)
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty())
            .ok_or_else(|| LlmError::BadAnswer {
                url: self.url.clone(),
                message: "no choice with content".into(),
            })
    }

    fn connection_error(&self, error: reqwest::Error) -> LlmError {
        if error.is_timeout() {
            LlmError::Timeout {
                url: self.url.clone(),
                timeout: self.config.timeout,
            }
        } else {
            LlmError::Connection {
                url: self.url.clone(),
                message: error.to_string(),
            }
        }
    }
}

/// The server's message from the documented error body, or the body itself.
fn error_message(body: &str) -> String {
    #[derive(Deserialize)]
    struct Body {
        error: Detail,
    }
    #[derive(Deserialize)]
    struct Detail {
        message: String,
        #[serde(default)]
        code: Option<serde_json::Value>,
    }
    match serde_json::from_str::<Body>(body) {
        Ok(Body { error }) => match error.code {
            Some(serde_json::Value::String(code)) => format!("{} ({code})", error.message),
            _ => error.message,
        },
        Err(_) => {
            let trimmed = body.trim();
            let mut short: String = trimmed.chars().take(200).collect();
            if short.len() < trimmed.len() {
                short.push('…');
            }
            if short.is_empty() {
                "(empty body)".into()
            } else {
                short
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_settings_are_named() {
        let err = ChatClient::new(ChatConfig::new("localhost:8080", "m"), None).unwrap_err();
        assert!(err.to_string().contains("localhost:8080"), "{err}");
        let err = ChatClient::new(ChatConfig::new("ftp://x/v1", "m"), None).unwrap_err();
        assert!(err.to_string().contains("http://"), "{err}");
        let err = ChatClient::new(ChatConfig::new(DEFAULT_BASE_URL, " "), None).unwrap_err();
        assert!(err.to_string().contains("model"), "{err}");
        let client = ChatClient::new(
            ChatConfig::new("http://127.0.0.1:8080/v1/", "m"),
            Some(Secret::new("sk-test")),
        )
        .expect("valid");
        assert_eq!(client.url(), "http://127.0.0.1:8080/v1/chat/completions");
        assert!(!format!("{client:?}").contains("sk-test"));
    }

    #[test]
    fn error_bodies_give_the_servers_message() {
        assert_eq!(
            error_message(
                r#"{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#
            ),
            "Rate limit reached (rate_limit_exceeded)"
        );
        assert_eq!(
            error_message("<html>bad gateway</html>"),
            "<html>bad gateway</html>"
        );
        assert_eq!(error_message(""), "(empty body)");
    }
}
