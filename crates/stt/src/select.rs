//! Builds the engine a use of speech-to-text runs on, from [`SpeechSettings`]: the local
//! whisper model from the models directory, a cloud engine with its API key, and the
//! fall-back wrapper that hands a failing cloud session to the local engine.

use crate::deepgram::{DeepgramConfig, DeepgramEngine};
use crate::engine::{EngineKind, SpeechEngine};
use crate::fallback::FallbackEngine;
use crate::local::{LocalConfig, LocalEngine, WhisperModel};
use crate::openai::{OpenAiConfig, OpenAiEngine};
use crate::settings::{SpeechSettings, SpeechUse};
use crate::{Result, SttError};
use cuecard_models::store::ModelStore;
use cuecard_secrets::{SecretName, Secrets, SecretsError};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The cloud engines' API keys (from the OS keychain, or the environment in scripts).
#[derive(Clone, Default)]
pub struct EngineKeys {
    pub deepgram: Option<String>,
    pub openai: Option<String>,
}

impl std::fmt::Debug for EngineKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineKeys")
            .field("deepgram", &self.deepgram.as_ref().map(|_| "•••"))
            .field("openai", &self.openai.as_ref().map(|_| "•••"))
            .finish()
    }
}

impl EngineKeys {
    /// The key `engine` needs, from the OS keychain (or the vendor's environment
    /// variable). A machine without a keychain (a server, CI) counts as no key stored:
    /// the engine choice then falls back or says how to add one.
    pub fn for_engine(engine: EngineKind, secrets: &Secrets) -> Result<EngineKeys> {
        let get = |name: SecretName| match secrets.get(name) {
            Ok(found) => Ok(found.map(|(secret, _)| secret.expose().to_owned())),
            Err(SecretsError::Unavailable(reason)) => {
                tracing::warn!(%reason, "no keychain; no API key");
                Ok(None)
            }
            Err(e) => Err(SttError::Auth {
                engine: engine.as_str(),
                message: e.to_string(),
            }),
        };
        Ok(match engine {
            EngineKind::Local => EngineKeys::default(),
            EngineKind::Deepgram => EngineKeys {
                deepgram: get(SecretName::DeepgramApiKey)?,
                openai: None,
            },
            EngineKind::Openai => EngineKeys {
                deepgram: None,
                openai: get(SecretName::OpenaiApiKey)?,
            },
        })
    }
}

/// Installed models, most accurate English first: what "the best installed model"
/// means when the settings name none.
const PREFERENCE: [&str; 6] = ["small.en", "base.en", "small", "base", "tiny.en", "tiny"];

/// The local model file: `wanted` (an installed model's id, or a path to a ggml file),
/// else the most accurate installed English model.
pub fn local_model_path(store: &ModelStore, wanted: Option<&str>) -> Result<PathBuf> {
    let model_error = |message: String| SttError::Model {
        path: store.dir().to_owned(),
        message,
    };
    if let Some(name) = wanted {
        let path = Path::new(name);
        if path.is_file() {
            return Ok(path.to_owned());
        }
        return store.get(name).map(|m| m.path).map_err(|e| {
            model_error(format!(
                "the model {name:?} is not installed ({e}); install it in Settings → Speech or with `cuecard models download {name}`"
            ))
        });
    }
    let installed = store.list().map_err(|e| model_error(e.to_string()))?;
    PREFERENCE
        .iter()
        .find_map(|id| installed.iter().find(|m| m.id == *id))
        .or(installed.first())
        .map(|m| m.path.clone())
        .ok_or_else(|| {
            model_error(
                "no whisper model is installed: download one in Settings → Speech or run `cuecard models download tiny.en`"
                    .into(),
            )
        })
}

/// Loads the local engine the settings name.
pub fn local_engine(
    store: &ModelStore,
    settings: &SpeechSettings,
    config: LocalConfig,
) -> Result<LocalEngine> {
    let path = local_model_path(store, settings.local_model.as_deref())?;
    Ok(LocalEngine::new(WhisperModel::load(&path)?, config))
}

/// The engine for a use, with a warning for the user when it is not the one chosen.
pub struct Selected {
    pub engine: Arc<dyn SpeechEngine>,
    /// The engine the settings chose (the fall-back wrapper reports its primary).
    pub kind: EngineKind,
    /// Why the chosen engine is not running (e.g. no API key, so local instead).
    pub warning: Option<String>,
}

/// Builds the engine for `use_`. `local` loads the local engine; it is only called when
/// the local engine is chosen or is the fall-back, so a cloud-only set-up never loads a
/// model.
pub fn engine_for(
    use_: SpeechUse,
    settings: &SpeechSettings,
    keys: &EngineKeys,
    local: impl FnOnce() -> Result<Arc<dyn SpeechEngine>>,
) -> Result<Selected> {
    settings.validate()?;
    let choice = settings.for_use(use_);
    let cloud: Option<Result<Arc<dyn SpeechEngine>>> = match choice.engine {
        EngineKind::Local => None,
        EngineKind::Deepgram => Some(match &keys.deepgram {
            Some(key) => {
                let mut config = DeepgramConfig::new(key.clone());
                config.base_url = settings.deepgram.base_url.clone();
                config.model = settings.deepgram.model.clone();
                Ok(Arc::new(DeepgramEngine::new(config)))
            }
            None => Err(no_key("deepgram", "Deepgram", "DEEPGRAM_API_KEY")),
        }),
        EngineKind::Openai => Some(match &keys.openai {
            Some(key) => {
                let mut config = OpenAiConfig::new(key.clone());
                config.base_url = settings.openai.base_url.clone();
                config.model = settings.openai.model.clone();
                Ok(Arc::new(OpenAiEngine::new(config)))
            }
            None => Err(no_key("openai", "OpenAI", "OPENAI_API_KEY")),
        }),
    };
    match (cloud, choice.fallback_to_local) {
        (None, _) => Ok(Selected {
            engine: local()?,
            kind: EngineKind::Local,
            warning: None,
        }),
        (Some(Ok(engine)), false) => Ok(Selected {
            engine,
            kind: choice.engine,
            warning: None,
        }),
        (Some(Ok(engine)), true) => Ok(Selected {
            engine: Arc::new(FallbackEngine::new(engine, local()?)),
            kind: choice.engine,
            warning: None,
        }),
        (Some(Err(e)), false) => Err(e),
        (Some(Err(e)), true) => {
            let warning = format!("{e}; transcribing {} on this machine instead", use_.label());
            tracing::warn!(%warning, "speech engine fell back before starting");
            Ok(Selected {
                engine: local()?,
                kind: EngineKind::Local,
                warning: Some(warning),
            })
        }
    }
}

fn no_key(engine: &'static str, vendor: &str, var: &str) -> SttError {
    SttError::Auth {
        engine,
        message: format!(
            "no {vendor} API key is set (add it in Settings → Speech, `cuecard keys set {engine}`, or {var})"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{StreamConfig, StreamSession};
    use crate::event::EventSink;
    use crate::settings::UseSettings;

    /// Stands in for the local engine, so these tests need no model.
    struct FakeLocal;
    impl SpeechEngine for FakeLocal {
        fn kind(&self) -> EngineKind {
            EngineKind::Local
        }
        fn start(&self, _: StreamConfig, _: EventSink) -> Result<Box<dyn StreamSession>> {
            Err(SttError::SessionEnded)
        }
    }

    fn local() -> Result<Arc<dyn SpeechEngine>> {
        Ok(Arc::new(FakeLocal))
    }

    fn settings(engine: EngineKind, fallback_to_local: bool) -> SpeechSettings {
        SpeechSettings {
            live_call: UseSettings {
                engine,
                fallback_to_local,
            },
            ..SpeechSettings::default()
        }
    }

    #[test]
    fn each_choice_builds_its_engine() {
        let keys = EngineKeys {
            deepgram: Some("k".into()),
            openai: None,
        };
        let s = engine_for(
            SpeechUse::LiveCall,
            &settings(EngineKind::Local, true),
            &keys,
            local,
        )
        .unwrap();
        assert_eq!(
            (s.kind, s.engine.kind()),
            (EngineKind::Local, EngineKind::Local)
        );
        let s = engine_for(
            SpeechUse::LiveCall,
            &settings(EngineKind::Deepgram, false),
            &keys,
            || panic!("no local engine is needed without fall-back"),
        )
        .unwrap();
        assert_eq!(s.engine.kind(), EngineKind::Deepgram);
        assert!(s.warning.is_none());
        let s = engine_for(
            SpeechUse::LiveCall,
            &settings(EngineKind::Deepgram, true),
            &keys,
            local,
        )
        .unwrap();
        assert_eq!(
            s.kind,
            EngineKind::Deepgram,
            "the fall-back wrapper runs deepgram first"
        );
    }

    #[test]
    fn a_missing_key_falls_back_with_a_warning_or_fails_clearly() {
        let none = EngineKeys::default();
        let s = engine_for(
            SpeechUse::LiveCall,
            &settings(EngineKind::Deepgram, true),
            &none,
            local,
        )
        .unwrap();
        assert_eq!(s.kind, EngineKind::Local);
        let warning = s.warning.unwrap();
        assert!(
            warning.contains("Deepgram API key") && warning.contains("live calls"),
            "{warning}"
        );
        let err = engine_for(
            SpeechUse::LiveCall,
            &settings(EngineKind::Deepgram, false),
            &none,
            local,
        )
        .err()
        .unwrap()
        .to_string();
        assert!(err.contains("DEEPGRAM_API_KEY"), "{err}");
    }

    #[test]
    fn no_installed_model_says_how_to_get_one() {
        let dir = tempfile::tempdir().unwrap();
        let store = ModelStore::new(dir.path());
        let err = local_model_path(&store, None).unwrap_err().to_string();
        assert!(err.contains("cuecard models download"), "{err}");
        let err = local_model_path(&store, Some("base.en"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("base.en") && err.contains("not installed"),
            "{err}"
        );
    }
}
