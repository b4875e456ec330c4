//! Shared helpers for the audio tests: signal measures, plus the crate's test support
//! (speech from espeak-ng, a private PulseAudio daemon).
#![allow(dead_code)]

pub fn silence(rate: u32, ms: u32) -> Vec<f32> {
    vec![0.0; (rate as usize * ms as usize) / 1000]
}

/// Normalised cross-correlation peak of `b` against `a` over lags `0..max_lag`:
/// (best correlation coefficient, lag of `b` behind `a` in samples). Long lag ranges are
/// searched coarsely on 10 ms energy envelopes first, then sample by sample nearby.
pub fn best_correlation(a: &[f32], b: &[f32], max_lag: usize) -> (f64, usize) {
    const BLOCK: usize = 160;
    if max_lag <= 4 * BLOCK {
        return correlate_range(a, b, 0..max_lag);
    }
    let envelope = |x: &[f32]| -> Vec<f32> {
        x.chunks(BLOCK)
            .map(|c| c.iter().map(|s| s * s).sum::<f32>().sqrt())
            .collect()
    };
    let (ea, eb) = (envelope(a), envelope(b));
    let (_, coarse) = correlate_range(&ea, &eb, 0..max_lag / BLOCK + 1);
    let centre = coarse * BLOCK;
    correlate_range(
        a,
        b,
        centre.saturating_sub(2 * BLOCK)..(centre + 2 * BLOCK).min(max_lag),
    )
}

fn correlate_range(a: &[f32], b: &[f32], lags: std::ops::Range<usize>) -> (f64, usize) {
    let mut best = (f64::MIN, 0);
    for lag in lags {
        if lag >= b.len() {
            break;
        }
        let n = a.len().min(b.len() - lag);
        let (mut ab, mut aa, mut bb) = (0.0f64, 0.0f64, 0.0f64);
        for i in 0..n {
            let (x, y) = (f64::from(a[i]), f64::from(b[i + lag]));
            ab += x * y;
            aa += x * x;
            bb += y * y;
        }
        let r = ab / (aa.sqrt() * bb.sqrt()).max(1e-20);
        if r > best.0 {
            best = (r, lag);
        }
    }
    best
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
