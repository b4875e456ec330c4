//! What can go wrong talking to Twilio, in words a rep can act on.

/// A failed Twilio operation.
#[derive(Debug, thiserror::Error)]
pub enum TwilioError {
    /// Twilio refused the credentials (HTTP 401, Twilio error 20003).
    #[error(
        "Twilio refused the credentials for account {account_sid}: {message}. Check the account SID and the auth token (or API key) in Settings → Phone"
    )]
    Unauthorized {
        account_sid: String,
        message: String,
    },
    /// Twilio answered with an error: its status, code and message.
    #[error("Twilio refused {what} (HTTP {status}{}): {message}", code.map(|c| format!(", error {c}")).unwrap_or_default())]
    Api {
        what: String,
        status: u16,
        code: Option<u32>,
        message: String,
        more_info: Option<String>,
    },
    /// No answer: DNS, connection, TLS or timeout.
    #[error("cannot reach Twilio at {url}: {message}")]
    Unreachable { url: String, message: String },
    /// An answer that is not what Twilio documents.
    #[error("Twilio's answer to {what} could not be read: {detail}")]
    Decode { what: String, detail: String },
    /// A value refused before anything was sent.
    #[error("{what} is not valid: {reason}")]
    Invalid { what: &'static str, reason: String },
    #[error(transparent)]
    Secrets(#[from] cuecard_secrets::SecretsError),
    #[error("cannot write {path}: {source}")]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

pub type Result<T> = std::result::Result<T, TwilioError>;

impl TwilioError {
    pub(crate) fn invalid(what: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            what,
            reason: reason.into(),
        }
    }
}
