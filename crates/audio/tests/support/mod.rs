//! Shared helpers for the audio tests: speech from espeak-ng, signal measures, and a
//! private PulseAudio daemon ([`pulse`]).
#![allow(dead_code)]

pub mod pulse;

use cuecard_audio::resample::resample_clip;
use std::path::Path;
use std::process::Command;

/// Speaks `text` with espeak-ng and returns it as mono f32 at `rate`.
pub fn speech(text: &str, rate: u32) -> Vec<f32> {
    let dir = tempfile::tempdir().expect("tempdir");
    let wav = dir.path().join("speech.wav");
    let status = Command::new("espeak-ng")
        .args(["-v", "en-us", "-s", "160", "-w"])
        .arg(&wav)
        .arg(text)
        .status()
        .expect("espeak-ng is installed (scripts/dev.sh deps)");
    assert!(status.success(), "espeak-ng failed");
    let (samples, source_rate) = read_wav_mono(&wav);
    resample_clip(&samples, source_rate, rate).expect("resample")
}

pub fn read_wav_mono(path: &Path) -> (Vec<f32>, u32) {
    let mut reader = hound::WavReader::open(path).expect("wav");
    let spec = reader.spec();
    let scale = 1.0 / f32::from(i16::MAX);
    let samples: Vec<f32> = reader
        .samples::<i16>()
        .map(|s| f32::from(s.expect("sample")) * scale)
        .collect();
    let mut mono = Vec::new();
    cuecard_audio::resample::downmix_into(&samples, usize::from(spec.channels), &mut mono);
    (mono, spec.sample_rate)
}

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
