//! Shared helpers for the audio tests: signal measures, plus the crate's test support
//! (speech from espeak-ng, a private PulseAudio daemon).
#![allow(dead_code)]

pub fn silence(rate: u32, ms: u32) -> Vec<f32> {
    vec![0.0; (rate as usize * ms as usize) / 1000]
}

#[allow(unused_imports)]
pub use cuecard_audio::align::best_correlation;

/// How a capture matches its source, window by window: each half second of speech in
/// `source` is looked for near where it should be in `captured` (starting at `lag`,
/// following any slip so far), and counts as heard when it correlates above 0.9.
pub struct CaptureMatch {
    /// Speech windows found intact / speech windows in the source.
    pub intact: usize,
    pub windows: usize,
    /// Per window: (correlation, slip in samples from where it was expected).
    pub profile: Vec<(f64, i64)>,
}

impl CaptureMatch {
    pub fn share_intact(&self) -> f64 {
        self.intact as f64 / self.windows.max(1) as f64
    }
}

impl std::fmt::Display for CaptureMatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} of {} speech windows intact:",
            self.intact, self.windows
        )?;
        for (r, slip) in &self.profile {
            write!(f, " r={r:.2}/{slip:+}")?;
        }
        Ok(())
    }
}

/// Matches `captured` against `source` (see [`CaptureMatch`]). A scheduler stall on a
/// loaded machine can drop or delay a few milliseconds of audio between the sound server
/// and us, which shifts everything after it: the windows are aligned one by one so such
/// a slip costs the window it falls in, not the rest of the clip.
pub fn match_capture(source: &[f32], captured: &[f32], lag: usize, rate: usize) -> CaptureMatch {
    let window = rate / 2;
    let search = rate / 10;
    let mut slip: i64 = 0;
    let (mut intact, mut windows, mut profile) = (0, 0, Vec::new());
    for (n, w) in source.chunks(window).enumerate() {
        let energy = (w.iter().map(|s| s * s).sum::<f32>() / w.len().max(1) as f32).sqrt();
        if w.len() < window / 2 || energy < 0.01 {
            continue;
        }
        windows += 1;
        let expected = (lag + n * window) as i64 + slip;
        let from = (expected - search as i64).max(0) as usize;
        let to = ((expected as usize) + w.len() + search).min(captured.len());
        let (r, local) = match captured.get(from..to) {
            Some(heard) if heard.len() >= w.len() => best_correlation(w, heard, 2 * search + 1),
            _ => (0.0, 0),
        };
        let found = (from + local) as i64 - expected;
        if r > 0.9 {
            intact += 1;
            slip += found;
        }
        profile.push((r, found));
    }
    CaptureMatch {
        intact,
        windows,
        profile,
    }
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
