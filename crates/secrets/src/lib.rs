//! Cuecard's secrets in the OS keychain: the Keychain on macOS, the Credential Manager
//! on Windows, the Secret Service (GNOME Keyring, KWallet) on Linux, through the
//! `keyring` crate.
//!
//! A secret is named by a [`SecretName`] and lives in the keychain under the service
//! [`SERVICE`] (tests use their own service so they never touch a user's entries).
//! Values are never written to files or logs: [`Secret`] prints as `•••` and wipes its
//! memory when dropped.

#[cfg(feature = "test-support")]
pub mod testing;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// The keychain service every Cuecard entry is filed under.
pub const SERVICE: &str = "app.cuecard";

/// The secrets Cuecard keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum SecretName {
    /// The Deepgram API key (live cloud speech-to-text).
    DeepgramApiKey,
    /// The key of the OpenAI-compatible transcription API.
    OpenaiApiKey,
    /// The key of the language model the live coach asks for suggestions.
    LlmApiKey,
    /// The Twilio account's auth token (the REST API, webhook signatures).
    TwilioAuthToken,
    /// The secret of a Twilio API key, when the app signs in with a key instead.
    TwilioApiKeySecret,
    /// The password of the rep's SIP login on the Twilio SIP Domain.
    SipPassword,
    /// This device's refresh token with the team's sync server (single use, rotated on
    /// every refresh).
    SyncRefreshToken,
}

impl SecretName {
    pub const ALL: [SecretName; 7] = [
        SecretName::DeepgramApiKey,
        SecretName::OpenaiApiKey,
        SecretName::LlmApiKey,
        SecretName::TwilioAuthToken,
        SecretName::TwilioApiKeySecret,
        SecretName::SipPassword,
        SecretName::SyncRefreshToken,
    ];

    /// The keys of the speech services (Settings → Speech).
    pub const SPEECH: [SecretName; 3] = [
        SecretName::DeepgramApiKey,
        SecretName::OpenaiApiKey,
        SecretName::LlmApiKey,
    ];

    /// The keychain account name.
    pub fn account(self) -> &'static str {
        match self {
            SecretName::DeepgramApiKey => "deepgram-api-key",
            SecretName::OpenaiApiKey => "openai-api-key",
            SecretName::LlmApiKey => "llm-api-key",
            SecretName::TwilioAuthToken => "twilio-auth-token",
            SecretName::TwilioApiKeySecret => "twilio-api-key-secret",
            SecretName::SipPassword => "sip-password",
            SecretName::SyncRefreshToken => "sync-refresh-token",
        }
    }

    /// What a person calls it.
    pub fn label(self) -> &'static str {
        match self {
            SecretName::DeepgramApiKey => "Deepgram API key",
            SecretName::OpenaiApiKey => "OpenAI API key",
            SecretName::LlmApiKey => "Language model API key",
            SecretName::TwilioAuthToken => "Twilio auth token",
            SecretName::TwilioApiKeySecret => "Twilio API key secret",
            SecretName::SipPassword => "SIP password",
            SecretName::SyncRefreshToken => "Sync server sign-in",
        }
    }

    /// The environment variable that overrides the keychain for scripts and CI (the
    /// vendor's conventional name).
    pub fn env_var(self) -> &'static str {
        match self {
            SecretName::DeepgramApiKey => "DEEPGRAM_API_KEY",
            SecretName::OpenaiApiKey => "OPENAI_API_KEY",
            SecretName::LlmApiKey => "CUECARD_LLM_API_KEY",
            SecretName::TwilioAuthToken => "TWILIO_AUTH_TOKEN",
            SecretName::TwilioApiKeySecret => "TWILIO_API_SECRET",
            SecretName::SipPassword => "CUECARD_SIP_PASSWORD",
            SecretName::SyncRefreshToken => "CUECARD_SYNC_REFRESH_TOKEN",
        }
    }
}

impl std::str::FromStr for SecretName {
    type Err = SecretsError;

    /// Accepts the account name or a short form that names one secret only:
    /// `deepgram`, `openai`, `llm`, `sip`. `twilio` names two and is refused.
    fn from_str(s: &str) -> std::result::Result<Self, SecretsError> {
        let s = s.trim().to_ascii_lowercase();
        if let Some(exact) = SecretName::ALL.into_iter().find(|n| n.account() == s) {
            return Ok(exact);
        }
        let mut short = SecretName::ALL
            .into_iter()
            .filter(|n| n.account().split('-').next() == Some(s.as_str()));
        match (short.next(), short.next()) {
            (Some(one), None) => Ok(one),
            _ => Err(SecretsError::UnknownName(s)),
        }
    }
}

/// A secret value. Its `Debug` hides it and its memory is wiped on drop.
#[derive(Clone)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(Zeroizing::new(value.into()))
    }

    /// The value, for the one place that sends it (an HTTP header).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(•••)")
    }
}

/// Where a secret's value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum SecretSource {
    Keychain,
    Environment,
}

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// No usable keychain: on Linux, no Secret Service on the session bus.
    #[error("the OS keychain is not available: {0}")]
    Unavailable(String),
    #[error("the keychain refused access to the {label}: {message}")]
    Denied {
        label: &'static str,
        message: String,
    },
    #[error("could not {action} the {label} in the keychain: {message}")]
    Keychain {
        action: &'static str,
        label: &'static str,
        message: String,
    },
    #[error("the {label} is not valid: {reason}")]
    Invalid { label: &'static str, reason: String },
    #[error(
        "no secret called {0:?}; known: deepgram, openai, llm, twilio-auth-token, twilio-api-key-secret, sip-password, sync-refresh-token"
    )]
    UnknownName(String),
}

pub type Result<T> = std::result::Result<T, SecretsError>;

/// The app's secrets.
#[derive(Clone, Debug)]
pub struct Secrets {
    service: String,
    read_env: bool,
}

impl Default for Secrets {
    fn default() -> Self {
        Self::new()
    }
}

impl Secrets {
    /// The app's keychain entries; the environment variables of [`SecretName::env_var`]
    /// override them.
    pub fn new() -> Self {
        Self {
            service: SERVICE.to_owned(),
            read_env: true,
        }
    }

    /// Entries under another service, environment ignored (tests).
    pub fn with_service(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
            read_env: false,
        }
    }

    fn entry(&self, name: SecretName, action: &'static str) -> Result<keyring::Entry> {
        keyring::Entry::new(&self.service, name.account()).map_err(|e| map_error(e, name, action))
    }

    /// The secret and where it came from, or `None` when it is not set.
    pub fn get(&self, name: SecretName) -> Result<Option<(Secret, SecretSource)>> {
        if self.read_env
            && let Ok(value) = std::env::var(name.env_var())
            && !value.trim().is_empty()
        {
            return Ok(Some((Secret::new(value.trim()), SecretSource::Environment)));
        }
        match self.entry(name, "read")?.get_password() {
            Ok(value) => Ok(Some((Secret::new(value), SecretSource::Keychain))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_error(e, name, "read")),
        }
    }

    /// Where the secret is set, if anywhere, without handing out its value.
    pub fn source(&self, name: SecretName) -> Result<Option<SecretSource>> {
        Ok(self.get(name)?.map(|(_, source)| source))
    }

    /// Stores `value` (trimmed: pasted keys often carry a newline).
    pub fn set(&self, name: SecretName, value: &str) -> Result<()> {
        let value = Zeroizing::new(value.trim().to_owned());
        let invalid = |reason: &str| SecretsError::Invalid {
            label: name.label(),
            reason: reason.to_owned(),
        };
        if value.is_empty() {
            return Err(invalid("it is empty"));
        }
        if value.len() > 4096 {
            return Err(invalid("it is longer than 4096 characters"));
        }
        if value.chars().any(char::is_control) || value.contains(' ') {
            return Err(invalid("it contains spaces or control characters"));
        }
        self.entry(name, "store")?
            .set_password(&value)
            .map_err(|e| map_error(e, name, "store"))?;
        tracing::info!(secret = name.account(), "secret stored in the keychain");
        Ok(())
    }

    /// Removes the secret; `false` when there was none.
    pub fn delete(&self, name: SecretName) -> Result<bool> {
        match self.entry(name, "delete")?.delete_credential() {
            Ok(()) => {
                tracing::info!(secret = name.account(), "secret removed from the keychain");
                Ok(true)
            }
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(map_error(e, name, "delete")),
        }
    }
}

fn map_error(error: keyring::Error, name: SecretName, action: &'static str) -> SecretsError {
    match error {
        keyring::Error::PlatformFailure(e) | keyring::Error::NoStorageAccess(e) => {
            let message = e.to_string();
            if matches!(error_kind(&message), Kind::Locked) {
                SecretsError::Denied {
                    label: name.label(),
                    message,
                }
            } else {
                SecretsError::Unavailable(message)
            }
        }
        other => SecretsError::Keychain {
            action,
            label: name.label(),
            message: other.to_string(),
        },
    }
}

enum Kind {
    Locked,
    Other,
}

fn error_kind(message: &str) -> Kind {
    let m = message.to_ascii_lowercase();
    if m.contains("locked") || m.contains("denied") || m.contains("dismissed") {
        Kind::Locked
    } else {
        Kind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_from_short_and_account_forms() {
        assert_eq!(
            "deepgram".parse::<SecretName>().ok(),
            Some(SecretName::DeepgramApiKey)
        );
        assert_eq!(
            "OpenAI".parse::<SecretName>().ok(),
            Some(SecretName::OpenaiApiKey)
        );
        assert_eq!(
            "openai-api-key".parse::<SecretName>().ok(),
            Some(SecretName::OpenaiApiKey)
        );
        assert_eq!(
            "sip".parse::<SecretName>().ok(),
            Some(SecretName::SipPassword)
        );
        // Two secrets start with "twilio": the short form is refused, not guessed.
        let err = "twilio".parse::<SecretName>().unwrap_err().to_string();
        assert!(
            err.contains("twilio-auth-token") && err.contains("deepgram"),
            "{err}"
        );
        assert_eq!(
            "twilio-api-key-secret".parse::<SecretName>().ok(),
            Some(SecretName::TwilioApiKeySecret)
        );
    }

    #[test]
    fn a_secret_never_prints_its_value() {
        let s = Secret::new("sk-live-123");
        assert_eq!(format!("{s:?}"), "Secret(•••)");
        assert_eq!(s.expose(), "sk-live-123");
    }
}
