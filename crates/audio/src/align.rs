//! Finding one signal inside another: the delay at which a known clip (what the speakers
//! played) shows up in a recording (what the mic heard), and how alike the two are there.
//! The echo test aligns its reference with this before cancelling, so a slow-starting
//! output device cannot throw the measurement off.

use std::ops::Range;

/// Samples per block of the coarse search's energy envelope (10 ms at 16 kHz).
const BLOCK: usize = 160;

/// Normalised cross-correlation peak of `b` against `a` over lags `0..max_lag`: (the
/// best correlation coefficient, the lag of `b` behind `a` in samples). Long lag ranges
/// are searched coarsely on 10 ms energy envelopes first, then sample by sample near the
/// coarse peak, so a few seconds of search stay cheap.
pub fn best_correlation(a: &[f32], b: &[f32], max_lag: usize) -> (f64, usize) {
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

/// Correlation coefficient of `a` against `b` delayed by each lag in `lags`; the best one
/// and its lag. Lags past the end of `b` are not tried.
fn correlate_range(a: &[f32], b: &[f32], lags: Range<usize>) -> (f64, usize) {
    let mut best = (0.0, lags.start);
    for lag in lags {
        if lag >= b.len() {
            break;
        }
        let n = a.len().min(b.len() - lag);
        let (mut ab, mut aa, mut bb) = (0.0f64, 0.0f64, 0.0f64);
        for (&x, &y) in a[..n].iter().zip(&b[lag..lag + n]) {
            let (x, y) = (f64::from(x), f64::from(y));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(n: usize, mut seed: u32) -> Vec<f32> {
        (0..n)
            .map(|_| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5
            })
            .collect()
    }

    #[test]
    fn finds_a_long_delay_exactly() {
        let clip = noise(16_000, 7);
        let mut heard = vec![0.0; 12_345];
        heard.extend(clip.iter().map(|s| s * 0.3));
        heard.extend(vec![0.0; 4_000]);
        let (r, lag) = best_correlation(&clip, &heard, 32_000);
        assert_eq!(lag, 12_345);
        assert!(r > 0.99, "{r}");
    }

    #[test]
    fn unrelated_signals_correlate_weakly() {
        let (r, _) = best_correlation(&noise(8_000, 1), &noise(16_000, 2), 8_000);
        assert!(r < 0.2, "{r}");
    }

    #[test]
    fn empty_and_silent_inputs_are_harmless() {
        assert_eq!(best_correlation(&[], &[], 1_000), (0.0, 0));
        let (r, _) = best_correlation(&[0.0; 500], &[0.0; 900], 400);
        assert_eq!(r, 0.0);
    }
}
