//! Shared helpers for the audio tests: signal measures, plus the crate's test support
//! (speech from espeak-ng, a private PulseAudio daemon).
#![allow(dead_code)]

pub fn silence(rate: u32, ms: u32) -> Vec<f32> {
    vec![0.0; (rate as usize * ms as usize) / 1000]
}

#[allow(unused_imports)]
pub use cuecard_audio::align::best_correlation;

/// Where a capture went wrong, for a failure message: for each second of `source`, the
/// correlation at the overall `lag` and the best lag nearby (a gap shows as the local
/// lag jumping, a drift as it creeping).
pub fn correlation_profile(source: &[f32], captured: &[f32], lag: usize, rate: usize) -> String {
    let mut out = Vec::new();
    for (n, window) in source.chunks(rate).enumerate() {
        let at = lag + n * rate;
        let Some(heard) = captured
            .get(at.saturating_sub(rate / 2)..(at + window.len() + rate / 2).min(captured.len()))
        else {
            out.push(format!("{n}s: missing"));
            continue;
        };
        let (r, local) = best_correlation(window, heard, rate);
        let shift = local as i64 - (at as i64 - at.saturating_sub(rate / 2) as i64);
        out.push(format!("{n}s: r={r:.2} shift={shift}"));
    }
    out.join(", ")
}

/// A deterministic pseudo-random generator for test signals.
pub struct Lcg(pub u32);

impl Lcg {
    /// Uniform in [-0.5, 0.5).
    pub fn next(&mut self) -> f32 {
        self.0 = self.0.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (self.0 >> 8) as f32 / (1u32 << 24) as f32 - 0.5
    }
}
