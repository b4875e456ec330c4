//! Shared helpers for the audio tests: signal measures, plus the crate's test support
//! (speech from espeak-ng, a private PulseAudio daemon).
#![allow(dead_code)]

pub fn silence(rate: u32, ms: u32) -> Vec<f32> {
    vec![0.0; (rate as usize * ms as usize) / 1000]
}

#[allow(unused_imports)]
pub use cuecard_audio::align::best_correlation;

/// A deterministic pseudo-random generator for test signals.
pub struct Lcg(pub u32);

impl Lcg {
    /// Uniform in [-0.5, 0.5).
    pub fn next(&mut self) -> f32 {
        self.0 = self.0.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (self.0 >> 8) as f32 / (1u32 << 24) as f32 - 0.5
    }
}
