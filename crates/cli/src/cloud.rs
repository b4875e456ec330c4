//! The speech settings on the command line: the app's settings file (Settings →
//! Speech), overridden by flags, and the cloud API keys from the OS keychain (or the
//! vendors' environment variables, `DEEPGRAM_API_KEY` / `OPENAI_API_KEY`, for scripts).

use anyhow::Result;
use clap::Args;
use cuecard_models::store::ModelStore;
use cuecard_stt::engine::EngineKind;
use cuecard_stt::local::{LocalConfig, LocalEngine, WhisperModel};
use cuecard_stt::select::{EngineKeys, Selected, engine_for, local_model_path};
use cuecard_stt::settings::{SpeechSettings, SpeechUse, UseSettings};
use std::path::PathBuf;
use std::sync::Arc;

/// Which engine transcribes a file, for `transcribe` and `analyze`.
#[derive(Args, Clone, Debug)]
pub struct EngineArgs {
    /// local (whisper on this machine), deepgram (live API) or openai (batch API).
    /// Default: the post-call engine of the speech settings (Settings → Speech), with
    /// its fall-back to local; a named engine runs alone.
    #[arg(long)]
    pub engine: Option<EngineKind>,
    /// The local model: an installed model's name (see `cuecard models list`) or a ggml
    /// file. Default: the speech settings' model, else the most accurate installed
    /// English model.
    #[arg(long)]
    pub model: Option<String>,
    /// Spoken language, BCP-47 (default: the speech settings', normally en).
    #[arg(long)]
    pub language: Option<String>,
    /// Decoder threads for the local engine (default: the machine's cores).
    #[arg(long)]
    pub threads: Option<usize>,
    #[command(flatten)]
    pub cloud: CloudArgs,
}

/// The post-call engine the settings and flags choose, the local model file if one was
/// loaded, and the language. Prints the selection's warning, if any, on stderr.
pub fn post_call_engine(
    args: &EngineArgs,
    models_dir: PathBuf,
) -> Result<(Selected, Option<String>, String)> {
    let mut settings = settings(&args.cloud)?;
    if let Some(engine) = args.engine {
        settings.post_call = UseSettings {
            engine,
            fallback_to_local: false,
        };
    }
    if let Some(model) = &args.model {
        settings.local_model = Some(model.clone());
    }
    if let Some(language) = &args.language {
        settings.language = language.clone();
    }
    let store = ModelStore::new(models_dir);
    let mut model = None;
    let selected = engine_for(
        SpeechUse::PostCall,
        &settings,
        &EngineKeys::for_engine(settings.post_call.engine, &cuecard_secrets::Secrets::new())?,
        || {
            let path = local_model_path(&store, settings.local_model.as_deref())?;
            let mut config = LocalConfig::default();
            if let Some(threads) = args.threads {
                config.threads = threads.max(1);
            }
            model = Some(path.display().to_string());
            Ok(Arc::new(LocalEngine::new(
                WhisperModel::load(&path)?,
                config,
            )))
        },
    )?;
    if let Some(warning) = &selected.warning {
        eprintln!("warning: {warning}");
    }
    Ok((selected, model, settings.language))
}

#[derive(Args, Clone, Debug)]
pub struct CloudArgs {
    /// Deepgram's API base (default: the speech settings', normally wss://api.deepgram.com).
    #[arg(long, env = "CUECARD_DEEPGRAM_URL")]
    pub deepgram_url: Option<String>,
    /// The Deepgram model (default: the speech settings', normally nova-3).
    #[arg(long)]
    pub deepgram_model: Option<String>,
    /// The OpenAI-compatible API base (default: the speech settings', normally
    /// https://api.openai.com/v1).
    #[arg(long, env = "CUECARD_OPENAI_URL")]
    pub openai_url: Option<String>,
    /// The transcription model of the OpenAI-compatible API (default: whisper-1).
    #[arg(long)]
    pub openai_model: Option<String>,
}

/// The app's speech settings with the flags applied.
pub fn settings(args: &CloudArgs) -> Result<SpeechSettings> {
    let mut settings = match cuecard_store::speech_settings_path() {
        Some(path) => SpeechSettings::load(&path)?,
        None => SpeechSettings::default(),
    };
    let set = |target: &mut String, value: &Option<String>| {
        if let Some(v) = value {
            target.clone_from(v);
        }
    };
    set(&mut settings.deepgram.base_url, &args.deepgram_url);
    set(&mut settings.deepgram.model, &args.deepgram_model);
    set(&mut settings.openai.base_url, &args.openai_url);
    set(&mut settings.openai.model, &args.openai_model);
    Ok(settings)
}
