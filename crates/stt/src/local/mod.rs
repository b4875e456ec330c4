//! The local engine: whisper.cpp (through whisper-rs) on this machine's CPU.
//!
//! - [`decode`]: one decode of a window, guards applied.
//! - [`stream`]: live sessions — voice activity opens and closes utterances, the open
//!   utterance is re-decoded every step, and LocalAgreement commits words two decodes
//!   agree on.
//! - [`batch`]: files — the same voice segmentation, each segment decoded once.
//!
//! The model is loaded once and shared; each channel gets its own decoder state, so two
//! channels transcribe at once.

pub mod batch;
pub mod decode;
pub mod stream;

use crate::audio_file::Clip;
use crate::engine::{EngineKind, SpeechEngine, StreamConfig, StreamSession};
use crate::event::{EventSink, Segment};
use crate::{Result, SttError};
use cuecard_audio::vad::VadConfig;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;
use whisper_rs::{WhisperContext, WhisperContextParameters};

/// Tuning of the local engine.
#[derive(Clone, Debug)]
pub struct LocalConfig {
    /// Threads per decode. Set explicitly: whisper.cpp's own default (4) oversubscribes
    /// small machines. Defaults to the machine's cores, up to 8.
    pub threads: usize,
    /// How much new audio triggers a new partial decode of the open utterance.
    pub step: Duration,
    /// The longest window decoded at once; past it, committed audio is cut off the front.
    pub max_window: Duration,
    /// How utterances are found.
    pub vad: VadConfig,
    /// Condition each decode on the text before it on the same channel.
    pub use_context: bool,
    /// Beams for batch decodes and the final decode of each live utterance (1: greedy).
    /// Five, as faster-whisper and OpenAI's whisper default to: on the espeak dialogue
    /// greedy decoding has about twice the word errors.
    pub beam_size: u8,
    /// The shortest audio context of batch and final decodes.
    pub min_context: Duration,
    /// The shortest audio context of live partial decodes (greedy): shorter is faster
    /// and partials may be rough, since finals re-decode.
    pub partial_min_context: Duration,
    /// Words commit from agreeing partials only once an utterance is this long; a
    /// shorter one is committed whole by its beam-search final decode when it ends.
    /// Greedy partials that agree can still be wrong ("right hand" for "right answer"),
    /// and a final is never revised, so most turns are better committed by the beam.
    pub early_commit_after: Duration,
}

impl LocalConfig {
    pub(crate) fn final_options(&self) -> decode::DecodeOptions {
        decode::DecodeOptions {
            min_context: Some(self.min_context),
            beam_size: self.beam_size,
            fallback: true,
        }
    }

    pub(crate) fn partial_options(&self) -> decode::DecodeOptions {
        decode::DecodeOptions {
            min_context: Some(self.partial_min_context),
            beam_size: 1,
            fallback: false,
        }
    }
}

impl Default for LocalConfig {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            threads: cores.clamp(1, 8),
            step: Duration::from_millis(300),
            max_window: Duration::from_secs(12),
            vad: VadConfig::default(),
            use_context: true,
            beam_size: 5,
            min_context: Duration::from_secs(10),
            partial_min_context: Duration::from_secs(5),
            early_commit_after: Duration::from_secs(6),
        }
    }
}

/// A loaded whisper model, shared by every session and decoder that uses it.
#[derive(Clone)]
pub struct WhisperModel {
    ctx: Arc<WhisperContext>,
    /// One decode at a time per model (see [`decode::Decoder::new`]).
    gate: Arc<Mutex<()>>,
    path: PathBuf,
}

impl std::fmt::Debug for WhisperModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhisperModel")
            .field("path", &self.path)
            .finish()
    }
}

static LOG_HOOKS: Once = Once::new();

impl WhisperModel {
    /// Loads a ggml model after checking the whole file, so a truncated or corrupt
    /// file is an error naming the problem rather than a failure inside whisper.cpp.
    pub fn load(path: &Path) -> Result<Self> {
        let model_error = |message: String| SttError::Model {
            path: path.to_owned(),
            message,
        };
        cuecard_models::ggml::validate(path).map_err(|e| model_error(e.to_string()))?;
        LOG_HOOKS.call_once(whisper_rs::install_logging_hooks);
        let path_str = path
            .to_str()
            .ok_or_else(|| model_error("the path is not valid UTF-8".into()))?;
        let mut params = WhisperContextParameters::default();
        // Flash attention: less memory per state and a faster encoder at full context.
        params.flash_attn(true);
        let ctx = WhisperContext::new_with_params(path_str, params)
            .map_err(|e| model_error(format!("whisper.cpp refused it: {e}")))?;
        Ok(Self {
            ctx: Arc::new(ctx),
            gate: Arc::new(Mutex::new(())),
            path: path.to_owned(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the model only knows English (`*.en`).
    pub fn english_only(&self) -> bool {
        !self.ctx.is_multilingual()
    }

    /// A new decoder (its own whisper state) over this model.
    pub(crate) fn decoder(&self, threads: usize, language: &str) -> Result<decode::Decoder> {
        decode::Decoder::new(
            Arc::clone(&self.ctx),
            Arc::clone(&self.gate),
            threads,
            language,
        )
    }
}

/// The local whisper engine.
#[derive(Clone, Debug)]
pub struct LocalEngine {
    model: WhisperModel,
    config: LocalConfig,
}

impl LocalEngine {
    pub fn new(model: WhisperModel, config: LocalConfig) -> Self {
        Self { model, config }
    }

    pub fn model(&self) -> &WhisperModel {
        &self.model
    }

    pub fn config(&self) -> &LocalConfig {
        &self.config
    }
}

impl SpeechEngine for LocalEngine {
    fn kind(&self) -> EngineKind {
        EngineKind::Local
    }

    fn start(&self, config: StreamConfig, events: EventSink) -> Result<Box<dyn StreamSession>> {
        Ok(Box::new(stream::LocalSession::start(
            &self.model,
            &self.config,
            config,
            events,
        )?))
    }

    fn transcribe(&self, clip: &Clip, language: &str) -> Result<Vec<Segment>> {
        batch::transcribe(&self.model, &self.config, clip, language)
    }
}
