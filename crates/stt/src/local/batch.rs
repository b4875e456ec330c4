//! Batch transcription with the local engine. Each channel is cut into utterances by
//! the voice detector (the same segmentation the live path uses); silence is never
//! decoded.
//!
//! Consecutive utterances are packed into one decode window of up to [`PACK_MS`] (the
//! pauses between them shortened to [`MAX_GAP_MS`]), so whisper's encoder runs once per
//! window instead of once per utterance — a 3-second utterance alone would still pay for
//! a 10-second audio context. Words come back in window time, are mapped to the
//! original audio, and are handed back to the utterance they fall in: the result is
//! still one segment per utterance.

use super::decode::DecodeOptions;
use super::{LocalConfig, WhisperModel};
use crate::audio_file::Clip;
use crate::event::Segment;
use crate::{Result, SAMPLE_RATE, WordTiming};
use cuecard_audio::vad::{self, Segment as Span};

/// Longest window of packed utterances, ms of audio (whisper's windows are 30 s).
const PACK_MS: u64 = 24_000;
/// Longest pause kept between packed utterances, ms.
const MAX_GAP_MS: u64 = 400;

/// One piece of a packed window: `len_ms` of original audio from `source_ms`, placed at
/// `window_ms`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Piece {
    window_ms: u64,
    source_ms: u64,
    len_ms: u64,
}

/// A decode window: the utterances it holds and where its audio came from.
#[derive(Debug, PartialEq)]
struct Window {
    spans: Vec<Span>,
    pieces: Vec<Piece>,
}

impl Window {
    fn duration_ms(&self) -> u64 {
        self.pieces.last().map_or(0, |p| p.window_ms + p.len_ms)
    }

    /// Original time of window time `ms`.
    fn to_source(&self, ms: u64) -> u64 {
        let piece = self
            .pieces
            .iter()
            .rev()
            .find(|p| p.window_ms <= ms)
            .or(self.pieces.first());
        piece.map_or(ms, |p| {
            p.source_ms + (ms - p.window_ms.min(ms)).min(p.len_ms)
        })
    }
}

/// Groups utterances into windows: each utterance and up to [`MAX_GAP_MS`] of the
/// pause before it, until a window would pass [`PACK_MS`]. An utterance longer than
/// that is a window of its own.
fn pack(spans: &[Span]) -> Vec<Window> {
    let mut windows: Vec<Window> = Vec::new();
    for span in spans {
        let gap = |w: &Window| {
            let last = w.spans.last().map_or(span.start_ms, |s| s.end_ms);
            span.start_ms.saturating_sub(last).min(MAX_GAP_MS)
        };
        let fits = windows
            .last()
            .is_some_and(|w| w.duration_ms() + gap(w) + span.duration_ms() <= PACK_MS);
        if !fits {
            windows.push(Window {
                spans: Vec::new(),
                pieces: Vec::new(),
            });
        }
        let Some(w) = windows.last_mut() else {
            continue;
        };
        let pause = if w.spans.is_empty() { 0 } else { gap(w) };
        let at = w.duration_ms();
        w.pieces.push(Piece {
            window_ms: at,
            source_ms: span.start_ms - pause,
            len_ms: pause + span.duration_ms(),
        });
        w.spans.push(*span);
    }
    windows
}

/// The index of the utterance a word (in original time) belongs to: the one holding its
/// middle, else the nearest.
fn owner(spans: &[Span], word: &WordTiming) -> usize {
    let mid = (u64::from(word.start_ms) + u64::from(word.end_ms)) / 2;
    let distance = |s: &Span| {
        if mid < s.start_ms {
            s.start_ms - mid
        } else {
            mid.saturating_sub(s.end_ms)
        }
    };
    (0..spans.len())
        .min_by_key(|&i| distance(&spans[i]))
        .unwrap_or(0)
}

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
        let at = |ms: u64| ((ms * u64::from(SAMPLE_RATE) / 1000) as usize).min(samples.len());
        for window in pack(&vad::segments(samples, config.vad)) {
            let mut audio = Vec::new();
            for piece in &window.pieces {
                audio.extend_from_slice(
                    &samples[at(piece.source_ms)..at(piece.source_ms + piece.len_ms)],
                );
            }
            let options = DecodeOptions {
                min_context: (window.duration_ms() <= PACK_MS).then_some(config.min_context),
                ..config.final_options()
            };
            let prompt = if config.use_context {
                context.as_str()
            } else {
                ""
            };
            let words = decoder.decode(&audio, 0, prompt, options)?;
            let mut per_span: Vec<Vec<WordTiming>> = vec![Vec::new(); window.spans.len()];
            for mut word in words {
                word.start_ms = clamp_ms(window.to_source(u64::from(word.start_ms)));
                word.end_ms = clamp_ms(window.to_source(u64::from(word.end_ms))).max(word.start_ms);
                // The voice detector's bounds are firmer than whisper's word times
                // (which drift most at the edges of a packed utterance).
                let i = owner(&window.spans, &word);
                let span = window.spans[i];
                word.start_ms = word
                    .start_ms
                    .clamp(clamp_ms(span.start_ms), clamp_ms(span.end_ms));
                word.end_ms = word.end_ms.clamp(word.start_ms, clamp_ms(span.end_ms));
                per_span[i].push(word);
            }
            for words in per_span {
                if let Some(segment) = Segment::from_words(*channel, words) {
                    context.push(' ');
                    context.push_str(&segment.text);
                    out.push(segment);
                }
            }
        }
    }
    out.sort_by_key(|s| (s.start_ms, s.end_ms));
    Ok(out)
}

fn clamp_ms(ms: u64) -> u32 {
    u32::try_from(ms).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(start_ms: u64, end_ms: u64) -> Span {
        Span { start_ms, end_ms }
    }

    #[test]
    fn utterances_pack_into_windows_with_short_pauses() {
        let spans = [
            span(1_000, 5_000),
            span(7_000, 12_000),
            span(12_200, 20_000),
            span(30_000, 37_000),
        ];
        let windows = pack(&spans);
        assert_eq!(windows.len(), 2);
        // 4 s + 0.4 s pause + 5 s + 0.2 s + 7.8 s = 17.4 s; the next 7 s would pass 24 s.
        assert_eq!(windows[0].spans.len(), 3);
        assert_eq!(windows[0].duration_ms(), 17_400);
        assert_eq!(
            windows[0].pieces[1],
            Piece {
                window_ms: 4_000,
                source_ms: 6_600,
                len_ms: 5_400
            }
        );
        // Window time maps back to the original audio.
        assert_eq!(windows[0].to_source(0), 1_000);
        assert_eq!(windows[0].to_source(4_400), 7_000);
        assert_eq!(windows[0].to_source(17_400), 20_000);
        assert_eq!(windows[1].to_source(500), 30_500);
    }

    #[test]
    fn a_long_utterance_is_a_window_of_its_own() {
        let windows = pack(&[span(0, 2_000), span(2_500, 40_000), span(41_000, 43_000)]);
        assert_eq!(
            windows.iter().map(|w| w.spans.len()).collect::<Vec<_>>(),
            vec![1, 1, 1]
        );
    }

    #[test]
    fn words_go_back_to_the_utterance_they_fall_in() {
        let spans = [span(1_000, 5_000), span(7_000, 12_000)];
        let word = |s: u32, e: u32| WordTiming {
            word: "w".into(),
            start_ms: s,
            end_ms: e,
            confidence: None,
        };
        assert_eq!(owner(&spans, &word(4_500, 5_200)), 0);
        assert_eq!(owner(&spans, &word(6_900, 7_300)), 1);
        assert_eq!(owner(&spans, &word(12_500, 12_900)), 1);
    }
}
