//! The speech settings on the command line: the app's settings file (Settings →
//! Speech), overridden by flags, and the cloud API keys from the OS keychain (or the
//! vendors' environment variables, `DEEPGRAM_API_KEY` / `OPENAI_API_KEY`, for scripts).

use anyhow::Result;
use clap::Args;
use cuecard_stt::settings::SpeechSettings;

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
