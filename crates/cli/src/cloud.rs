//! The cloud engines' settings on the command line.
//!
//! API keys come from the vendors' conventional environment variables
//! (`DEEPGRAM_API_KEY`, `OPENAI_API_KEY`), so they never appear in the process list or
//! shell history; the desktop app keeps them in the OS keychain.

use anyhow::{Context, Result};
use clap::Args;
use cuecard_stt::deepgram::{DeepgramConfig, DeepgramEngine};
use cuecard_stt::engine::{EngineKind, SpeechEngine};
use cuecard_stt::openai::{OpenAiConfig, OpenAiEngine};

#[derive(Args, Clone, Debug)]
pub struct CloudArgs {
    /// Deepgram's API base (a stand-in or a proxy in tests).
    #[arg(
        long,
        env = "CUECARD_DEEPGRAM_URL",
        default_value = "wss://api.deepgram.com"
    )]
    pub deepgram_url: String,
    /// The Deepgram model.
    #[arg(long, default_value = "nova-3")]
    pub deepgram_model: String,
    /// The OpenAI-compatible API base.
    #[arg(
        long,
        env = "CUECARD_OPENAI_URL",
        default_value = "https://api.openai.com/v1"
    )]
    pub openai_url: String,
    /// The transcription model of the OpenAI-compatible API.
    #[arg(long, default_value = "whisper-1")]
    pub openai_model: String,
}

fn key(var: &str, engine: &str) -> Result<String> {
    std::env::var(var).with_context(|| {
        format!("the {engine} engine needs an API key: set {var} in the environment")
    })
}

/// A cloud engine from the arguments.
pub fn engine(kind: EngineKind, args: &CloudArgs) -> Result<Box<dyn SpeechEngine>> {
    Ok(match kind {
        EngineKind::Deepgram => {
            let mut config = DeepgramConfig::new(key("DEEPGRAM_API_KEY", "deepgram")?);
            config.base_url = args.deepgram_url.clone();
            config.model = args.deepgram_model.clone();
            Box::new(DeepgramEngine::new(config))
        }
        EngineKind::Openai => {
            let mut config = OpenAiConfig::new(key("OPENAI_API_KEY", "openai")?);
            config.base_url = args.openai_url.clone();
            config.model = args.openai_model.clone();
            Box::new(OpenAiEngine::new(config))
        }
        EngineKind::Local => anyhow::bail!("the local engine is not a cloud engine"),
    })
}
