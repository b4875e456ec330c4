//! Packet-loss concealment for G.711 in the manner of ITU-T G.711 Appendix I: when a
//! frame is missing, repeat the last pitch period(s) of the audio already played,
//! widen to two and three periods as the gap grows (so long gaps do not buzz), fade
//! out after the first 10 ms (silent after 60 ms), and overlap-add the first real
//! audio after the gap onto the continued synthetic signal.
//!
//! Unlike Appendix I this version adds no output delay: the synthetic signal starts
//! exactly one pitch period back, so it continues the waveform where it stopped, and
//! the seams inside the repeated cycle are smoothed by a quarter-period cross-fade.

/// Played samples kept for pitch analysis: three periods of the lowest pitch plus a
/// quarter period for the seam cross-fade (48.75 ms).
pub const HISTORY_LEN: usize = 390;
/// Shortest pitch period searched: 5 ms, 200 Hz.
const MIN_PITCH: usize = 40;
/// Longest pitch period searched: 15 ms, 66.7 Hz.
const MAX_PITCH: usize = 120;
/// The most recent audio matched against the past to find the pitch: 20 ms.
const PITCH_WINDOW: usize = 160;
/// 10 ms at 8 kHz: the step at which the gap widens the cycle and the fade proceeds.
const TEN_MS: usize = 80;
/// The most periods repeated in one cycle.
const MAX_PERIODS: usize = 3;

/// Concealment state for one received stream.
#[derive(Debug, Clone)]
pub struct Plc {
    /// The most recent output, oldest first.
    history: Vec<f32>,
    /// The history as it was when the current gap began.
    snapshot: Vec<f32>,
    pitch: usize,
    /// Samples concealed so far in the current gap (0: not in a gap).
    erased: usize,
}

impl Default for Plc {
    fn default() -> Self {
        Plc::new()
    }
}

impl Plc {
    pub fn new() -> Plc {
        Plc {
            history: vec![0.0; HISTORY_LEN],
            snapshot: vec![0.0; HISTORY_LEN],
            pitch: MAX_PITCH,
            erased: 0,
        }
    }

    /// Forgets the past (a new source): the next gap is concealed with silence.
    pub fn reset(&mut self) {
        *self = Plc::new();
    }

    /// Whether the last call was [`Plc::conceal`].
    pub fn in_gap(&self) -> bool {
        self.erased > 0
    }

    /// The pitch period (samples) used for the current or last gap.
    pub fn pitch(&self) -> usize {
        self.pitch
    }

    /// Passes a received frame through: after a gap, its start is cross-faded from the
    /// synthetic signal. Every real frame must go through here so the history is
    /// current.
    pub fn good_frame(&mut self, samples: &mut [i16]) {
        if self.erased > 0 {
            // A quarter period, plus 4 ms for each 10 ms the gap lasted beyond the
            // first, at most 10 ms.
            let extra_units = (self.erased - 1) / TEN_MS;
            let len = (self.pitch / 4 + 32 * extra_units)
                .min(TEN_MS)
                .min(samples.len());
            for (i, sample) in samples.iter_mut().take(len).enumerate() {
                let w = (i + 1) as f32 / (len + 1) as f32;
                let synthetic = self.synthetic(self.erased + i);
                *sample = to_i16(w * f32::from(*sample) + (1.0 - w) * synthetic);
            }
            self.erased = 0;
        }
        self.remember(samples);
    }

    /// Passes a real frame that does not directly follow the audio played last (the
    /// jitter buffer skipped a frame): its first `fade` samples are cross-faded from
    /// the continuation of what was played, so the skip makes no click.
    pub fn splice(&mut self, samples: &mut [i16], fade: usize) {
        if self.erased == 0 {
            self.start_gap();
        }
        let len = fade.min(samples.len());
        for (i, sample) in samples.iter_mut().take(len).enumerate() {
            let w = (i + 1) as f32 / (len + 1) as f32;
            let synthetic = self.synthetic(self.erased + i);
            *sample = to_i16(w * f32::from(*sample) + (1.0 - w) * synthetic);
        }
        self.erased = 0;
        self.remember(samples);
    }

    /// Fills `out` with the continuation of the audio played so far.
    pub fn conceal(&mut self, out: &mut [i16]) {
        if self.erased == 0 {
            self.start_gap();
        }
        for sample in out.iter_mut() {
            *sample = to_i16(self.synthetic(self.erased));
            self.erased += 1;
        }
        self.remember(out);
    }

    fn start_gap(&mut self) {
        self.snapshot.copy_from_slice(&self.history);
        self.pitch = estimate_pitch(&self.snapshot);
    }

    /// The concealment signal `pos` samples into the gap, faded.
    fn synthetic(&self, pos: usize) -> f32 {
        let gain = if pos < TEN_MS {
            1.0
        } else {
            (1.0 - 0.2 * (pos - TEN_MS) as f32 / TEN_MS as f32).max(0.0)
        };
        if gain == 0.0 {
            return 0.0;
        }
        let periods = (1 + pos / TEN_MS).min(MAX_PERIODS);
        let mut value = self.cycle_sample(periods, pos);
        // Cross-fade from the shorter cycle when the cycle has just widened.
        let seam = self.pitch / 4;
        if periods > 1 {
            let since_widening = pos - (periods - 1) * TEN_MS;
            if since_widening < seam {
                let w = (since_widening + 1) as f32 / (seam + 1) as f32;
                value = w * value + (1.0 - w) * self.cycle_sample(periods - 1, pos);
            }
        }
        gain * value
    }

    /// The last `periods` pitch periods of the snapshot, repeated, with the wrap-around
    /// seam cross-faded into the audio that preceded the cycle.
    fn cycle_sample(&self, periods: usize, pos: usize) -> f32 {
        let cycle = periods * self.pitch;
        let start = HISTORY_LEN - cycle;
        let seam = self.pitch / 4;
        let j = pos % cycle;
        let value = self.snapshot.get(start + j).copied().unwrap_or(0.0);
        if j + seam >= cycle && seam > 0 {
            // Blend towards the samples that led into the cycle's start, so the jump
            // back to it continues a real waveform.
            let i = j + seam - cycle;
            let w = (i + 1) as f32 / (seam + 1) as f32;
            let lead_in = self
                .snapshot
                .get((start + i).wrapping_sub(seam))
                .copied()
                .unwrap_or(value);
            (1.0 - w) * value + w * lead_in
        } else {
            value
        }
    }

    fn remember(&mut self, samples: &[i16]) {
        let n = samples.len().min(HISTORY_LEN);
        self.history.copy_within(n.., 0);
        let tail = HISTORY_LEN - n;
        for (slot, &sample) in self.history[tail..]
            .iter_mut()
            .zip(&samples[samples.len() - n..])
        {
            *slot = f32::from(sample);
        }
    }
}

/// The lag in [`MIN_PITCH`, `MAX_PITCH`] at which the past best matches the most recent
/// [`PITCH_WINDOW`] samples (normalised cross-correlation).
fn estimate_pitch(history: &[f32]) -> usize {
    let end = history.len();
    let Some(template) = history.get(end - PITCH_WINDOW..) else {
        return MAX_PITCH;
    };
    let mut best = (MAX_PITCH, f32::MIN);
    for lag in MIN_PITCH..=MAX_PITCH {
        let Some(past) = history.get(end - PITCH_WINDOW - lag..end - lag) else {
            continue;
        };
        let (dot, energy) = template
            .iter()
            .zip(past)
            .fold((0.0f32, 0.0f32), |(dot, energy), (&t, &p)| {
                (dot + t * p, energy + p * p)
            });
        if energy <= f32::EPSILON {
            continue;
        }
        let score = dot / energy.sqrt();
        if score > best.1 {
            best = (lag, score);
        }
    }
    best.0
}

fn to_i16(value: f32) -> i16 {
    value
        .round()
        .clamp(f32::from(i16::MIN), f32::from(i16::MAX)) as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A voiced-like signal: 100 Hz fundamental (period 80) with two harmonics.
    fn voiced(n: usize) -> i16 {
        let t = n as f32 / 8000.0;
        let tau = std::f32::consts::TAU;
        let v = (tau * 100.0 * t).sin()
            + 0.5 * (tau * 200.0 * t).sin()
            + 0.25 * (tau * 300.0 * t).sin();
        (v * 8000.0) as i16
    }

    fn frame(start: usize) -> Vec<i16> {
        (start..start + 160).map(voiced).collect()
    }

    fn correlation(a: &[i16], b: &[i16]) -> f32 {
        let dot: f32 = a
            .iter()
            .zip(b)
            .map(|(&x, &y)| f32::from(x) * f32::from(y))
            .sum();
        let ea: f32 = a.iter().map(|&x| f32::from(x).powi(2)).sum();
        let eb: f32 = b.iter().map(|&x| f32::from(x).powi(2)).sum();
        dot / (ea * eb).sqrt()
    }

    #[test]
    fn finds_the_pitch_and_continues_the_waveform() {
        let mut plc = Plc::new();
        for k in 0..5 {
            let mut f = frame(k * 160);
            plc.good_frame(&mut f);
        }
        let mut concealed = [0i16; 160];
        plc.conceal(&mut concealed);
        assert_eq!(plc.pitch(), 80);
        let truth = frame(5 * 160);
        // The first 10 ms are unfaded and should be nearly the true continuation.
        let c = correlation(&concealed[..80], &truth[..80]);
        assert!(c > 0.98, "correlation {c}");
        // No click where the real audio stopped.
        let jump = (i32::from(concealed[0]) - i32::from(voiced(5 * 160 - 1))).abs();
        let max_step = (1..2000)
            .map(|n| (i32::from(voiced(n)) - i32::from(voiced(n - 1))).abs())
            .max()
            .unwrap();
        assert!(
            jump <= 2 * max_step,
            "jump {jump} vs natural step {max_step}"
        );
    }

    #[test]
    fn fades_to_silence_after_60_ms() {
        let mut plc = Plc::new();
        for k in 0..5 {
            let mut f = frame(k * 160);
            plc.good_frame(&mut f);
        }
        let mut gap = vec![0i16; 640];
        for chunk in gap.chunks_mut(160) {
            plc.conceal(chunk);
        }
        let energy =
            |s: &[i16]| s.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / s.len() as f64;
        assert!(energy(&gap[..80]) > 1e6);
        assert!(energy(&gap[160..240]) < energy(&gap[..80]));
        assert!(gap[480..].iter().all(|&s| s == 0), "silent after 60 ms");
    }

    #[test]
    fn recovery_is_smooth() {
        let mut plc = Plc::new();
        for k in 0..5 {
            let mut f = frame(k * 160);
            plc.good_frame(&mut f);
        }
        let mut gap = [0i16; 160];
        plc.conceal(&mut gap);
        assert!(plc.in_gap());
        let mut next = frame(6 * 160);
        let raw_first = next[0];
        plc.good_frame(&mut next);
        assert!(!plc.in_gap());
        // The first sample after the gap is mostly the synthetic signal's continuation,
        // not the (phase-shifted) real one.
        let jump = (i32::from(next[0]) - i32::from(gap[159])).abs();
        let raw_jump = (i32::from(raw_first) - i32::from(gap[159])).abs();
        assert!(jump <= raw_jump, "{jump} vs {raw_jump}");
        assert_eq!(next[100..], frame(6 * 160)[100..]);
    }

    #[test]
    fn silence_conceals_as_silence() {
        let mut plc = Plc::new();
        let mut out = [1i16; 160];
        plc.conceal(&mut out);
        assert!(out.iter().all(|&s| s == 0));
    }
}
