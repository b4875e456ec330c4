//! Which engine each use of speech-to-text runs on, and the engines' settings: what
//! Settings → Speech edits and what live calls, practice and post-call scoring read.
//!
//! Stored as JSON by the app (`speech.json` in its config directory). API keys are not
//! here: they live in the OS keychain (`cuecard-secrets`). Unknown or missing fields
//! take their defaults, so an older or newer file still loads; a file that is not JSON
//! is an error naming the file and the line, and is never overwritten behind the
//! user's back.

use crate::engine::EngineKind;
use crate::{Result, SttError};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// What the transcript is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum SpeechUse {
    /// Both sides of a live call, for the coaching overlay.
    LiveCall,
    /// The rep talking to a practice persona.
    Practice,
    /// The recording, transcribed again after the call for the scorecard.
    PostCall,
}

impl SpeechUse {
    pub const ALL: [SpeechUse; 3] = [
        SpeechUse::LiveCall,
        SpeechUse::Practice,
        SpeechUse::PostCall,
    ];

    pub fn label(self) -> &'static str {
        match self {
            SpeechUse::LiveCall => "live calls",
            SpeechUse::Practice => "practice",
            SpeechUse::PostCall => "post-call transcripts",
        }
    }

    /// Whether this use needs a streaming engine (the OpenAI-compatible one is batch).
    pub fn is_live(self) -> bool {
        !matches!(self, SpeechUse::PostCall)
    }
}

/// The engine one use runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(default)]
pub struct UseSettings {
    pub engine: EngineKind,
    /// When a cloud engine fails (no key, no network, an error mid-call), carry on with
    /// the local one instead of losing the transcript.
    pub fallback_to_local: bool,
}

impl Default for UseSettings {
    fn default() -> Self {
        Self {
            engine: EngineKind::Local,
            fallback_to_local: true,
        }
    }
}

/// A cloud engine's endpoint and model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct CloudSettings {
    pub base_url: String,
    pub model: String,
}

/// Everything Settings → Speech holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(default)]
pub struct SpeechSettings {
    pub live_call: UseSettings,
    pub practice: UseSettings,
    pub post_call: UseSettings,
    /// The installed local model (`cuecard models list`); `None`: the most accurate
    /// installed English model.
    pub local_model: Option<String>,
    /// Spoken language, BCP-47 (`en`, `en-US`, `de`).
    pub language: String,
    pub deepgram: CloudSettings,
    pub openai: CloudSettings,
    /// Where catalog models are downloaded from; `{file}` is replaced by the file name
    /// (`ggml-tiny.en.bin`). A mirror or a company server can stand in for the default.
    pub models_url: String,
}

impl Default for SpeechSettings {
    fn default() -> Self {
        Self {
            live_call: UseSettings::default(),
            practice: UseSettings::default(),
            post_call: UseSettings::default(),
            local_model: None,
            language: "en".into(),
            deepgram: CloudSettings {
                base_url: crate::deepgram::DEFAULT_BASE_URL.into(),
                model: crate::deepgram::DEFAULT_MODEL.into(),
            },
            openai: CloudSettings {
                base_url: crate::openai::DEFAULT_BASE_URL.into(),
                model: crate::openai::DEFAULT_MODEL.into(),
            },
            models_url: cuecard_models::catalog::DEFAULT_URL_TEMPLATE.into(),
        }
    }
}

fn invalid(message: impl Into<String>) -> SttError {
    SttError::Settings {
        path: None,
        message: message.into(),
    }
}

fn check_url(what: &str, value: &str, schemes: &[&str]) -> Result<()> {
    let url = url::Url::parse(value.trim())
        .map_err(|e| invalid(format!("the {what} URL {value:?} is not a URL: {e}")))?;
    if !schemes.contains(&url.scheme()) || url.host_str().is_none() {
        return Err(invalid(format!(
            "the {what} URL {value:?} must start with {}",
            schemes
                .iter()
                .map(|s| format!("{s}://"))
                .collect::<Vec<_>>()
                .join(" or ")
        )));
    }
    Ok(())
}

impl SpeechSettings {
    pub fn for_use(&self, use_: SpeechUse) -> UseSettings {
        match use_ {
            SpeechUse::LiveCall => self.live_call,
            SpeechUse::Practice => self.practice,
            SpeechUse::PostCall => self.post_call,
        }
    }

    /// Checks the settings make sense; the error says which one and why.
    pub fn validate(&self) -> Result<()> {
        for use_ in SpeechUse::ALL {
            if use_.is_live() && self.for_use(use_).engine == EngineKind::Openai {
                return Err(invalid(format!(
                    "the OpenAI-compatible engine transcribes files only; {} need local or deepgram",
                    use_.label()
                )));
            }
        }
        let lang = self.language.trim();
        if lang.is_empty()
            || lang.len() > 35
            || !lang
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(invalid(format!(
                "the language {:?} is not a language tag such as en or en-US",
                self.language
            )));
        }
        check_url(
            "Deepgram",
            &self.deepgram.base_url,
            &["wss", "ws", "https", "http"],
        )?;
        check_url("OpenAI", &self.openai.base_url, &["https", "http"])?;
        check_url(
            "model download",
            &self.models_url.replace("{file}", "x"),
            &["https", "http"],
        )?;
        if !self.models_url.contains("{file}") {
            return Err(invalid(format!(
                "the model download URL {:?} must contain {{file}}, where the file name goes",
                self.models_url
            )));
        }
        for (what, model) in [
            ("Deepgram", &self.deepgram.model),
            ("OpenAI", &self.openai.model),
        ] {
            if model.trim().is_empty() {
                return Err(invalid(format!("the {what} model is empty")));
            }
        }
        if let Some(m) = &self.local_model
            && m.trim().is_empty()
        {
            return Err(invalid("the local model name is empty"));
        }
        Ok(())
    }

    /// Reads the settings; a missing file gives the defaults.
    pub fn load(path: &Path) -> Result<Self> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => {
                return Err(SttError::Settings {
                    path: Some(path.to_owned()),
                    message: e.to_string(),
                });
            }
        };
        let settings: Self = serde_json::from_str(&text).map_err(|e| SttError::Settings {
            path: Some(path.to_owned()),
            message: format!("line {}, column {}: {e}", e.line(), e.column()),
        })?;
        settings.validate().map_err(|e| match e {
            SttError::Settings { message, .. } => SttError::Settings {
                path: Some(path.to_owned()),
                message,
            },
            other => other,
        })?;
        Ok(settings)
    }

    /// Validates and writes the settings (to a temporary file renamed into place, so a
    /// crash never leaves half a file).
    pub fn save(&self, path: &Path) -> Result<()> {
        self.validate()?;
        let io = |e: std::io::Error| SttError::Settings {
            path: Some(path.to_owned()),
            message: e.to_string(),
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let json = serde_json::to_string_pretty(self).map_err(|e| invalid(e.to_string()))?;
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, json + "\n").map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_gives_the_defaults_and_a_saved_file_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config/speech.json");
        assert_eq!(
            SpeechSettings::load(&path).unwrap(),
            SpeechSettings::default()
        );
        let mut s = SpeechSettings::default();
        s.live_call.engine = EngineKind::Deepgram;
        s.post_call = UseSettings {
            engine: EngineKind::Openai,
            fallback_to_local: false,
        };
        s.local_model = Some("base".into());
        s.save(&path).unwrap();
        assert_eq!(SpeechSettings::load(&path).unwrap(), s);
    }

    #[test]
    fn missing_and_unknown_fields_take_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("speech.json");
        std::fs::write(
            &path,
            r#"{"live_call": {"engine": "deepgram"}, "future": 1}"#,
        )
        .unwrap();
        let s = SpeechSettings::load(&path).unwrap();
        assert_eq!(s.live_call.engine, EngineKind::Deepgram);
        assert!(s.live_call.fallback_to_local);
        assert_eq!(s.language, "en");
        assert_eq!(s.deepgram.model, crate::deepgram::DEFAULT_MODEL);
    }

    #[test]
    fn a_broken_file_is_an_error_naming_it_and_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("speech.json");
        std::fs::write(&path, "{\n  \"language\": \"en\",\n  oops\n}").unwrap();
        let err = SpeechSettings::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("speech.json") && err.contains("line 3"),
            "{err}"
        );
        assert!(std::fs::read_to_string(&path).unwrap().contains("oops"));
    }

    #[test]
    fn invalid_settings_are_refused_with_the_reason() {
        type Edit = fn(&mut SpeechSettings);
        let cases: Vec<(Edit, &str)> = vec![
            (|s| s.live_call.engine = EngineKind::Openai, "live calls"),
            (|s| s.practice.engine = EngineKind::Openai, "practice"),
            (|s| s.language = "english please".into(), "language"),
            (
                |s| s.deepgram.base_url = "api.deepgram.com".into(),
                "Deepgram URL",
            ),
            (
                |s| s.openai.base_url = "ftp://example.com".into(),
                "https://",
            ),
            (|s| s.openai.model = " ".into(), "OpenAI model"),
            (|s| s.local_model = Some(String::new()), "local model"),
            (
                |s| s.models_url = "https://example.com/models/".into(),
                "{file}",
            ),
        ];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("speech.json");
        SpeechSettings::default().save(&path).unwrap();
        for (edit, needle) in cases {
            let mut s = SpeechSettings::default();
            edit(&mut s);
            let err = s.save(&path).unwrap_err().to_string();
            assert!(err.contains(needle), "{needle}: {err}");
        }
        // Nothing invalid reached the file.
        assert_eq!(
            SpeechSettings::load(&path).unwrap(),
            SpeechSettings::default()
        );
    }
}
