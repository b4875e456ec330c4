//! The coach's settings file (`coach.json` in the data directory): whether the live coach
//! asks a language model for suggestions, and which endpoint and model. The endpoint's
//! key is not here: it lives in the OS keychain (`cuecard_secrets::SecretName::LlmApiKey`).

use cuecard_llm::{ChatClient, ChatConfig};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}, line {line}, column {column}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
}

/// Language-model suggestions during live calls.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(default, deny_unknown_fields)]
pub struct AssistSettings {
    pub enabled: bool,
    /// An OpenAI-compatible API's base (`https://api.openai.com/v1`, a local llama.cpp
    /// server's `http://127.0.0.1:8080/v1`).
    pub base_url: String,
    pub model: String,
    /// A suggestion older than this (from the customer's words) is not shown, ms.
    pub max_age_ms: u32,
}

impl Default for AssistSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            base_url: "https://api.openai.com/v1".into(),
            model: "gpt-4o-mini".into(),
            max_age_ms: 6_000,
        }
    }
}

impl AssistSettings {
    /// A client for these settings with `key` (local servers need none).
    pub fn client(
        &self,
        key: Option<cuecard_secrets::Secret>,
    ) -> Result<ChatClient, SettingsError> {
        ChatClient::new(
            ChatConfig::new(self.base_url.trim(), self.model.trim()),
            key,
        )
        .map_err(|e| SettingsError::Invalid {
            field: "assist",
            message: e.to_string(),
        })
    }

    pub fn max_age(&self) -> Duration {
        Duration::from_millis(u64::from(self.max_age_ms))
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(default, deny_unknown_fields)]
pub struct CoachSettings {
    pub assist: AssistSettings,
}

impl CoachSettings {
    /// The settings at `path`; the defaults when there is no file.
    pub fn load(path: &Path) -> Result<Self, SettingsError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => {
                return Err(SettingsError::Io {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        let settings: Self = serde_json::from_str(&text).map_err(|e| SettingsError::Parse {
            path: path.to_owned(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks the settings: when suggestions are on, the endpoint and model must make a
    /// client.
    pub fn validate(&self) -> Result<(), SettingsError> {
        if self.assist.max_age_ms < 500 || self.assist.max_age_ms > 60_000 {
            return Err(SettingsError::Invalid {
                field: "assist.max_age_ms",
                message: format!("{} ms is outside 500–60000", self.assist.max_age_ms),
            });
        }
        if self.assist.enabled {
            self.assist.client(None)?;
        }
        Ok(())
    }

    /// Validates and writes the settings (atomically: a crash leaves the old file).
    pub fn save(&self, path: &Path) -> Result<(), SettingsError> {
        self.validate()?;
        let io = |source| SettingsError::Io {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let json = serde_json::to_string_pretty(self).map_err(|e| SettingsError::Invalid {
            field: "settings",
            message: e.to_string(),
        })?;
        let tmp = path.with_extension("json.tmp");
        {
            use std::io::Write;
            let mut file = std::fs::File::create(&tmp).map_err(io)?;
            file.write_all(json.as_bytes()).map_err(io)?;
            file.write_all(b"\n").map_err(io)?;
            // On disk before it replaces the old file: a crash leaves one or the other.
            file.sync_all().map_err(io)?;
        }
        std::fs::rename(&tmp, path).map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_without_a_file_and_a_saved_file_reads_back() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("coach.json");
        assert_eq!(
            CoachSettings::load(&path).expect("load"),
            CoachSettings::default()
        );
        let mut settings = CoachSettings::default();
        settings.assist.enabled = true;
        settings.assist.base_url = "http://127.0.0.1:8080/v1".into();
        settings.assist.model = "llama-3.1-8b".into();
        settings.save(&path).expect("save");
        assert_eq!(CoachSettings::load(&path).expect("load"), settings);
    }

    #[test]
    fn a_bad_endpoint_is_refused_and_the_saved_file_stays() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("coach.json");
        CoachSettings::default().save(&path).expect("save");
        let before = std::fs::read_to_string(&path).expect("read");
        let mut bad = CoachSettings::default();
        bad.assist.enabled = true;
        bad.assist.base_url = "ftp://example.com".into();
        let err = bad.save(&path).expect_err("refused").to_string();
        assert!(err.contains("http://"), "{err}");
        bad.assist.base_url = "https://api.openai.com/v1".into();
        bad.assist.model = " ".into();
        assert!(
            bad.save(&path)
                .expect_err("no model")
                .to_string()
                .contains("model")
        );
        assert_eq!(std::fs::read_to_string(&path).expect("read"), before);
    }

    #[test]
    fn a_broken_file_is_named_with_its_line() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("coach.json");
        std::fs::write(&path, "{\n  \"assist\": {\n    \"enabled\": yes\n  }\n}\n").expect("write");
        let err = CoachSettings::load(&path).expect_err("broken").to_string();
        assert!(
            err.contains("coach.json") && err.contains("line 3"),
            "{err}"
        );
    }
}
