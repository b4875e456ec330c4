//! One whisper decode of a stretch of audio: words with times and confidences, with the
//! hallucination guards applied.

use crate::guards::{self, SegmentStats};
use crate::{Result, SAMPLE_RATE, SttError, WordTiming, samples_to_ms};
use std::sync::{Arc, Mutex, PoisonError};
use whisper_rs::{FullParams, SamplingStrategy, WhisperContext, WhisperState};

/// Whisper's encoder frames per second of audio (one per 20 ms).
const FRAMES_PER_SECOND: f32 = 50.0;

/// whisper.cpp refuses less than a second of audio; shorter windows are padded.
const MIN_SAMPLES: usize = SAMPLE_RATE as usize + SAMPLE_RATE as usize / 20;

/// A decoder: one whisper state (its own buffers) over a shared model.
pub struct Decoder {
    ctx: Arc<WhisperContext>,
    /// Held while decoding: see [`Decoder::new`].
    gate: Arc<Mutex<()>>,
    state: WhisperState,
    threads: usize,
    language: String,
    eot: i32,
    padded: Vec<f32>,
}

/// How to decode a window.
#[derive(Clone, Copy, Debug)]
pub struct DecodeOptions {
    /// Shrink the encoder's audio context to the window, but not below this, instead of
    /// whisper's fixed 30 s: encoder time is proportional to it. `None`: the full 30 s.
    pub min_context: Option<std::time::Duration>,
    /// 1: greedy; more: beam search with this many beams.
    pub beam_size: u8,
    /// Use temperature fall-back when a decode looks like a failure (slower, fewer loops).
    pub fallback: bool,
}

impl Decoder {
    /// A decoder over `ctx`. Decoders sharing a `gate` take turns: ggml's worker threads
    /// spin while they wait for each other, so two decodes at once on the same cores
    /// run many times slower than the two one after the other (measured: a 1 s window
    /// took 7 s instead of 0.1 s with two channels decoding on 2 cores).
    pub fn new(
        ctx: Arc<WhisperContext>,
        gate: Arc<Mutex<()>>,
        threads: usize,
        language: &str,
    ) -> Result<Self> {
        let state = ctx
            .create_state()
            .map_err(|e| SttError::Whisper(format!("cannot create a decoder state: {e}")))?;
        let eot = ctx.token_eot();
        Ok(Self {
            ctx,
            gate,
            state,
            threads: threads.max(1),
            language: language.to_owned(),
            eot,
            padded: Vec::new(),
        })
    }

    /// Decodes `audio` (16 kHz mono), conditioned on `prompt` (the text before it),
    /// returning its words with times offset by `offset_ms`.
    ///
    /// Whisper sometimes copies the prompt instead of transcribing ("prompt echo": the
    /// last sentence before the window comes out again at its start). Such a result is
    /// decoded again without the prompt.
    pub fn decode(
        &mut self,
        audio: &[f32],
        offset_ms: u32,
        prompt: &str,
        options: DecodeOptions,
    ) -> Result<Vec<WordTiming>> {
        let prompt = prompt_tail(prompt);
        let words = self.decode_once(audio, offset_ms, prompt, options)?;
        if !prompt.is_empty() && guards::echoes_prompt(prompt, &words) {
            tracing::debug!("the decode repeated its prompt; decoding without it");
            return self.decode_once(audio, offset_ms, "", options);
        }
        Ok(words)
    }

    fn decode_once(
        &mut self,
        audio: &[f32],
        offset_ms: u32,
        prompt: &str,
        options: DecodeOptions,
    ) -> Result<Vec<WordTiming>> {
        let audio_ms = samples_to_ms(audio.len());
        let input: &[f32] = if audio.len() < MIN_SAMPLES {
            self.padded.clear();
            self.padded.extend_from_slice(audio);
            self.padded.resize(MIN_SAMPLES, 0.0);
            &self.padded
        } else {
            audio
        };
        let mut params = if options.beam_size > 1 {
            FullParams::new(SamplingStrategy::BeamSearch {
                beam_size: i32::from(options.beam_size),
                patience: -1.0,
            })
        } else {
            FullParams::new(SamplingStrategy::Greedy { best_of: 1 })
        };
        params.set_n_threads(i32::try_from(self.threads).unwrap_or(1));
        params.set_language(Some(&self.language));
        params.set_translate(false);
        params.set_no_context(true);
        params.set_token_timestamps(true);
        params.set_suppress_blank(true);
        params.set_suppress_nst(true);
        params.set_print_progress(false);
        params.set_print_realtime(false);
        params.set_print_special(false);
        params.set_print_timestamps(false);
        if !options.fallback {
            params.set_temperature_inc(0.0);
        }
        let seconds = input.len() as f32 / SAMPLE_RATE as f32;
        if let Some(minimum) = options.min_context
            && seconds < 29.0
        {
            // A margin of 1 s past the audio (cut exactly at the end, whisper drops the
            // last word) and a floor: whisper was trained on 30 s windows, and much
            // shorter contexts cost accuracy (see BENCHMARKS.md).
            let context = (seconds + 1.0).max(minimum.as_secs_f32());
            let frames = (context * FRAMES_PER_SECOND).ceil() as i32;
            params.set_audio_ctx(frames.min(self.ctx.n_audio_ctx()));
        }
        // Speech runs at up to ~6 tokens a second; a decode far past that is a loop.
        let max_tokens = (seconds * 8.0) as i32 + 16;
        params.set_max_tokens(max_tokens);
        if !prompt.is_empty() {
            params.set_initial_prompt(prompt);
        }
        let turn = self.gate.lock().unwrap_or_else(PoisonError::into_inner);
        let started = std::time::Instant::now();
        self.state
            .full(params, input)
            .map_err(|e| SttError::Whisper(e.to_string()))?;
        drop(turn);
        tracing::debug!(
            audio_ms,
            beam = options.beam_size,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "decoded"
        );

        let mut words = Vec::new();
        for segment in self.state.as_iter() {
            let mut seg_words: Vec<WordTiming> = Vec::new();
            let mut current: Option<(Vec<u8>, i64, i64, Vec<f32>)> = None;
            let mut logprob_sum = 0.0f32;
            let mut text_tokens = 0usize;
            let mut text = String::new();
            for i in 0..segment.n_tokens() {
                let Some(token) = segment.get_token(i) else {
                    continue;
                };
                if token.token_id() >= self.eot {
                    continue;
                }
                let data = token.token_data();
                let bytes = token.to_bytes().unwrap_or_default();
                logprob_sum += data.plog;
                text_tokens += 1;
                text.push_str(&String::from_utf8_lossy(bytes));
                let starts_word = bytes.first() == Some(&b' ');
                match &mut current {
                    Some((buf, _, t1, probs)) if !starts_word => {
                        buf.extend_from_slice(bytes);
                        *t1 = data.t1.max(*t1);
                        probs.push(data.p);
                    }
                    _ => {
                        if let Some(done) = current.take() {
                            seg_words.extend(word_of(done, offset_ms));
                        }
                        current = Some((bytes.to_vec(), data.t0, data.t1, vec![data.p]));
                    }
                }
            }
            if let Some(done) = current.take() {
                seg_words.extend(word_of(done, offset_ms));
            }
            let stats = SegmentStats {
                no_speech_prob: segment.no_speech_probability(),
                avg_logprob: if text_tokens == 0 {
                    0.0
                } else {
                    logprob_sum / text_tokens as f32
                },
            };
            if guards::drop_segment(&text, stats) {
                tracing::debug!(%text, ?stats, "dropped a likely hallucination");
                continue;
            }
            words.extend(seg_words);
        }
        guards::strip_annotations(&mut words);
        guards::truncate_repetition(&mut words, 3);
        guards::drop_repeated_phrases(&mut words);
        let end = offset_ms + audio_ms;
        repair_timings(&mut words, offset_ms, end);
        Ok(words)
    }
}

/// Longest plausible word, ms.
const LONGEST_WORD_MS: u32 = 2_000;

/// Fixes whisper's token-level times where they are implausible. When speech runs to
/// the very end of a window (every live partial), whisper can put the last words past
/// the audio or stretch one word over seconds. Such runs are spread over the time
/// between their neighbours, in proportion to their length in characters.
fn repair_timings(words: &mut [WordTiming], start: u32, end: u32) {
    let bad = |w: &WordTiming| {
        w.start_ms + 20 >= end || w.end_ms > end + 200 || w.end_ms - w.start_ms > LONGEST_WORD_MS
    };
    let mut i = 0;
    while i < words.len() {
        if !bad(&words[i]) {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < words.len() && bad(&words[j]) {
            j += 1;
        }
        let from = if i == 0 { start } else { words[i - 1].end_ms }.min(end);
        let to = if j < words.len() {
            words[j].start_ms.clamp(from, end)
        } else {
            end
        };
        let chars: Vec<u32> = words[i..j]
            .iter()
            .map(|w| w.word.chars().count().max(1) as u32)
            .collect();
        let total: u32 = chars.iter().sum();
        let span = to.saturating_sub(from);
        let mut at = from;
        let run = j - i;
        for (k, (w, c)) in words[i..j].iter_mut().zip(&chars).enumerate() {
            let len = span * c / total.max(1);
            w.start_ms = at;
            w.end_ms = if k + 1 == run { to } else { at + len };
            at += len;
        }
        i = j;
    }
    for w in words.iter_mut() {
        w.start_ms = w.start_ms.clamp(start, end);
        w.end_ms = w.end_ms.clamp(w.start_ms, end);
    }
}

/// A word from its token bytes, start and end (whisper's 10 ms units) and token
/// probabilities.
fn word_of(
    (bytes, t0, t1, probs): (Vec<u8>, i64, i64, Vec<f32>),
    offset_ms: u32,
) -> Option<WordTiming> {
    let text = String::from_utf8_lossy(&bytes).trim().to_owned();
    if text.is_empty() {
        return None;
    }
    let ms = |t: i64| offset_ms.saturating_add(u32::try_from(t.max(0) * 10).unwrap_or(u32::MAX));
    let confidence = probs.iter().sum::<f32>() / probs.len().max(1) as f32;
    Some(WordTiming {
        word: text,
        start_ms: ms(t0),
        end_ms: ms(t1.max(t0)),
        confidence: Some(confidence.clamp(0.0, 1.0)),
    })
}

/// The last ~200 characters of `prompt`, cut at a word boundary: enough context for
/// names and style, not enough to drag a loop along.
fn prompt_tail(prompt: &str) -> &str {
    let prompt = prompt.trim();
    if prompt.len() <= 200 {
        return prompt;
    }
    let mut cut = prompt.len() - 200;
    while !prompt.is_char_boundary(cut) {
        cut += 1;
    }
    match prompt[cut..].find(' ') {
        Some(space) => &prompt[cut + space + 1..],
        None => &prompt[cut..],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(w: &str, start_ms: u32, end_ms: u32) -> WordTiming {
        WordTiming {
            word: w.into(),
            start_ms,
            end_ms,
            confidence: None,
        }
    }

    #[test]
    fn implausible_times_are_spread_between_neighbours() {
        let mut words = vec![
            word("Great,", 11_600, 14_900),
            word("how", 14_980, 14_980),
            word("does", 15_400, 15_600),
        ];
        repair_timings(&mut words, 11_600, 15_000);
        let times: Vec<(u32, u32)> = words.iter().map(|w| (w.start_ms, w.end_ms)).collect();
        // 6 + 3 + 4 characters over 3.4 s.
        assert_eq!(
            times,
            [(11_600, 13_169), (13_169, 13_953), (13_953, 15_000)]
        );
        let mut good = vec![word("hi", 0, 300), word("there", 350, 700)];
        repair_timings(&mut good, 0, 1_000);
        assert_eq!((good[1].start_ms, good[1].end_ms), (350, 700));
    }

    #[test]
    fn prompt_tail_cuts_at_a_word() {
        assert_eq!(prompt_tail("  short  "), "short");
        let long = "word ".repeat(100);
        let tail = prompt_tail(&long);
        assert!(tail.len() <= 200 && tail.starts_with("word"), "{tail}");
    }
}
