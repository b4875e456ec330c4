//! Voice activity detection that needs no model download: the earshot detector (a small
//! network compiled into the binary) scores 16 ms frames of 16 kHz mono, and a segmenter
//! turns scores into speech segments with pre-roll and hang-over.
//!
//! - **Pre-roll**: a segment starts `pre_roll` before the first voiced frame, so word
//!   onsets (quiet consonants the detector scores low) reach speech-to-text.
//! - **Hang-over**: a segment ends only after `hangover` of unvoiced frames, so pauses
//!   between words do not split an utterance.
//! - **Minimum speech**: blips shorter than `min_speech` (clicks, coughs) are discarded.

use crate::SPEECH_RATE;
use serde::Serialize;
use std::time::Duration;

/// Samples per detector frame: 16 ms at 16 kHz.
pub const FRAME: usize = 256;

/// A stretch of speech, in milliseconds from the start of the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, specta::Type)]
pub struct Segment {
    pub start_ms: u64,
    pub end_ms: u64,
}

impl Segment {
    pub fn duration_ms(&self) -> u64 {
        self.end_ms - self.start_ms
    }
}

/// What the detector saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, specta::Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum VadEvent {
    /// Speech began at `start_ms` (pre-roll included).
    SpeechStarted { start_ms: u64 },
    /// Speech ended: the whole segment.
    SpeechEnded { segment: Segment },
}

#[derive(Clone, Copy, Debug)]
pub struct VadConfig {
    /// Detector score (0–1) above which a frame is voiced.
    pub threshold: f32,
    pub pre_roll: Duration,
    pub hangover: Duration,
    pub min_speech: Duration,
}

impl Default for VadConfig {
    fn default() -> Self {
        Self {
            threshold: 0.5,
            pre_roll: Duration::from_millis(160),
            hangover: Duration::from_millis(400),
            min_speech: Duration::from_millis(96),
        }
    }
}

/// Streaming voice activity for one channel of 16 kHz mono audio.
pub struct VoiceActivity {
    detector: earshot::Detector<earshot::DefaultPredictor>,
    config: VadConfig,
    pending: Vec<f32>,
    /// Frames seen so far.
    frame_index: u64,
    /// First voiced frame of the current run, if in speech.
    speech_from: Option<u64>,
    /// Last voiced frame of the current run.
    last_voiced: u64,
    /// Whether `SpeechStarted` was emitted for the current run.
    announced: bool,
    events: Vec<VadEvent>,
}

const FRAME_MS: u64 = (FRAME as u64 * 1000) / SPEECH_RATE as u64;

fn frames(d: Duration) -> u64 {
    (d.as_millis() as u64).div_ceil(FRAME_MS)
}

impl VoiceActivity {
    pub fn new(config: VadConfig) -> Self {
        Self {
            detector: earshot::Detector::default(),
            config,
            pending: Vec::with_capacity(FRAME * 8),
            frame_index: 0,
            speech_from: None,
            last_voiced: 0,
            announced: false,
            events: Vec::new(),
        }
    }

    /// True while inside a speech segment (after its minimum length).
    pub fn is_speaking(&self) -> bool {
        self.announced
    }

    /// Feeds audio; events for whole frames are appended to the returned slice.
    pub fn push(&mut self, samples: &[f32]) -> std::vec::Drain<'_, VadEvent> {
        self.pending.extend_from_slice(samples);
        let mut offset = 0;
        while self.pending.len() - offset >= FRAME {
            let score = self
                .detector
                .predict_f32(&self.pending[offset..offset + FRAME]);
            self.on_frame(score >= self.config.threshold);
            offset += FRAME;
        }
        self.pending.drain(..offset);
        self.events.drain(..)
    }

    /// Ends the stream: closes an open segment.
    pub fn finish(&mut self) -> std::vec::Drain<'_, VadEvent> {
        if self.speech_from.is_some() {
            self.close();
        }
        self.events.drain(..)
    }

    fn on_frame(&mut self, voiced: bool) {
        let index = self.frame_index;
        self.frame_index += 1;
        match (self.speech_from, voiced) {
            (None, true) => {
                self.speech_from = Some(index);
                self.last_voiced = index;
            }
            (Some(from), true) => {
                self.last_voiced = index;
                if !self.announced && index + 1 - from >= frames(self.config.min_speech) {
                    self.announced = true;
                    self.events.push(VadEvent::SpeechStarted {
                        start_ms: self.start_ms(from),
                    });
                }
            }
            (Some(_), false) => {
                if index - self.last_voiced > frames(self.config.hangover) {
                    self.close();
                }
            }
            (None, false) => {}
        }
    }

    fn start_ms(&self, from: u64) -> u64 {
        (from * FRAME_MS).saturating_sub(self.config.pre_roll.as_millis() as u64)
    }

    fn close(&mut self) {
        if let Some(from) = self.speech_from.take() {
            if self.announced {
                self.events.push(VadEvent::SpeechEnded {
                    segment: Segment {
                        start_ms: self.start_ms(from),
                        end_ms: (self.last_voiced + 1) * FRAME_MS,
                    },
                });
            }
            self.announced = false;
        }
    }
}

/// The speech segments of a whole 16 kHz mono clip.
pub fn segments(samples: &[f32], config: VadConfig) -> Vec<Segment> {
    let mut vad = VoiceActivity::new(config);
    let mut out = Vec::new();
    let mut collect = |events: std::vec::Drain<'_, VadEvent>| {
        for event in events {
            if let VadEvent::SpeechEnded { segment } = event {
                out.push(segment);
            }
        }
    };
    collect(vad.push(samples));
    collect(vad.finish());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Drives the segmenter directly with voiced/unvoiced frames.
    fn run(pattern: &[(bool, usize)], config: VadConfig) -> Vec<VadEvent> {
        let mut vad = VoiceActivity::new(config);
        for &(voiced, n) in pattern {
            for _ in 0..n {
                vad.on_frame(voiced);
            }
        }
        vad.finish().collect()
    }

    #[test]
    fn pre_roll_hangover_and_minimum_length_shape_segments() {
        let config = VadConfig::default(); // 160 ms pre-roll, 400 ms hang-over, 96 ms min
        // 1 s silence, 0.8 s speech, 0.2 s pause (bridged), 0.48 s speech, 1 s silence.
        let events = run(
            &[
                (false, 62),
                (true, 50),
                (false, 12),
                (true, 30),
                (false, 62),
            ],
            config,
        );
        assert_eq!(
            events,
            [
                VadEvent::SpeechStarted {
                    start_ms: 62 * 16 - 160
                },
                VadEvent::SpeechEnded {
                    segment: Segment {
                        start_ms: 62 * 16 - 160,
                        end_ms: (62 + 50 + 12 + 30) * 16
                    }
                },
            ]
        );
        // A 48 ms click is not speech.
        assert!(run(&[(false, 10), (true, 3), (false, 40)], config).is_empty());
        // Speech running to the end of the stream is closed by `finish`.
        let events = run(&[(true, 20)], config);
        assert!(
            matches!(events.last(), Some(VadEvent::SpeechEnded { segment }) if segment.end_ms == 320)
        );
    }

    #[test]
    fn silence_and_noise_are_not_speech() {
        let silence = vec![0.0f32; SPEECH_RATE as usize * 2];
        assert!(segments(&silence, VadConfig::default()).is_empty());
        // Low white-ish noise (deterministic LCG).
        let mut state = 12345u32;
        let noise: Vec<f32> = (0..SPEECH_RATE as usize * 2)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                ((state >> 8) as f32 / (1u32 << 24) as f32 - 0.5) * 0.02
            })
            .collect();
        assert!(segments(&noise, VadConfig::default()).is_empty());
    }
}
