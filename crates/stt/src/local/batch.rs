//! Batch transcription with the local engine: each channel is cut into utterances by the
//! voice detector (the same segmentation the live path uses) and each utterance is
//! decoded once with an audio context fitted to it — silence is never decoded, and a
//! 3-second utterance does not pay for whisper's 30-second window.

use super::decode::DecodeOptions;
use super::{LocalConfig, WhisperModel};
use crate::audio_file::Clip;
use crate::event::Segment;
use crate::{Result, SAMPLE_RATE};
use cuecard_audio::vad;

/// Utterances longer than this are decoded with whisper's full 30 s windows.
const LONGEST_FITTED_MS: u64 = 28_000;

pub fn transcribe(
    model: &WhisperModel,
    config: &LocalConfig,
    clip: &Clip,
    language: &str,
) -> Result<Vec<Segment>> {
    let mut decoder = model.decoder(config.threads, language)?;
    let mut out = Vec::new();
    for (channel, samples) in &clip.channels {
        let mut context = String::new();
        for span in vad::segments(samples, config.vad) {
            let at = |ms: u64| ((ms * u64::from(SAMPLE_RATE) / 1000) as usize).min(samples.len());
            let audio = &samples[at(span.start_ms)..at(span.end_ms)];
            let options = DecodeOptions {
                min_context: (span.duration_ms() <= LONGEST_FITTED_MS)
                    .then_some(config.min_context),
                ..config.final_options()
            };
            let prompt = if config.use_context {
                context.as_str()
            } else {
                ""
            };
            let offset = u32::try_from(span.start_ms).unwrap_or(u32::MAX);
            let words = decoder.decode(audio, offset, prompt, options)?;
            if let Some(segment) = Segment::from_words(*channel, words) {
                context.push(' ');
                context.push_str(&segment.text);
                out.push(segment);
            }
        }
    }
    out.sort_by_key(|s| (s.start_ms, s.end_ms));
    Ok(out)
}
