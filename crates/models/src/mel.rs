//! The mel filterbank whisper models expect, stored in every ggml file: 80 (or 128 for
//! large-v3) triangular filters over the 201 bins of a 400-point FFT at 16 kHz, on the
//! Slaney mel scale with Slaney (area) normalisation — what `librosa.filters.mel`
//! computes with its defaults, and what OpenAI's `mel_filters.npz` holds.

const SAMPLE_RATE: f64 = 16_000.0;
/// FFT size whisper uses (25 ms windows).
pub const N_FFT: usize = 400;

/// Slaney scale: linear below 1 kHz (200/3 Hz per mel), logarithmic above.
const F_SP: f64 = 200.0 / 3.0;
const MIN_LOG_HZ: f64 = 1000.0;
const MIN_LOG_MEL: f64 = MIN_LOG_HZ / F_SP;

fn log_step() -> f64 {
    6.4f64.ln() / 27.0
}

fn hz_to_mel(hz: f64) -> f64 {
    if hz >= MIN_LOG_HZ {
        MIN_LOG_MEL + (hz / MIN_LOG_HZ).ln() / log_step()
    } else {
        hz / F_SP
    }
}

fn mel_to_hz(mel: f64) -> f64 {
    if mel >= MIN_LOG_MEL {
        MIN_LOG_HZ * (log_step() * (mel - MIN_LOG_MEL)).exp()
    } else {
        F_SP * mel
    }
}

/// `n_mels` filters of `N_FFT / 2 + 1` weights each, row-major. Computed as librosa
/// does, step for step (f64 arithmetic, numpy's `linspace`, the triangle rounded to f32
/// before normalising), so the result is bit-for-bit OpenAI's `mel_filters.npz`.
pub fn filterbank(n_mels: usize) -> Vec<f32> {
    let n_bins = N_FFT / 2 + 1;
    let fft_freqs: Vec<f64> = (0..n_bins)
        .map(|k| k as f64 * SAMPLE_RATE / N_FFT as f64)
        .collect();
    let (low, high) = (hz_to_mel(0.0), hz_to_mel(SAMPLE_RATE / 2.0));
    let points = n_mels + 2;
    let step = (high - low) / (points - 1) as f64;
    let mel_f: Vec<f64> = (0..points)
        .map(|i| {
            mel_to_hz(if i == points - 1 {
                high
            } else {
                low + i as f64 * step
            })
        })
        .collect();
    let mut weights = Vec::with_capacity(n_mels * n_bins);
    for m in 0..n_mels {
        let lower_width = mel_f[m + 1] - mel_f[m];
        let upper_width = mel_f[m + 2] - mel_f[m + 1];
        let norm = 2.0 / (mel_f[m + 2] - mel_f[m]);
        for &f in &fft_freqs {
            let lower = -(mel_f[m] - f) / lower_width;
            let upper = (mel_f[m + 2] - f) / upper_width;
            // numpy's maximum(0, x): keeps x when it is -0.0 (bit-for-bit with librosa).
            let m = lower.min(upper);
            let triangle = if 0.0 > m { 0.0 } else { m } as f32;
            weights.push((f64::from(triangle) * norm) as f32);
        }
    }
    weights
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_round_trips_and_filters_have_their_shape() {
        for hz in [0.0, 300.0, 999.0, 1000.0, 4000.0, 8000.0] {
            assert!((mel_to_hz(hz_to_mel(hz)) - hz).abs() < 1e-9);
        }
        let bank = filterbank(80);
        assert_eq!(bank.len(), 80 * 201);
        // Every filter is a single non-negative bump, and together they cover 0–8 kHz.
        for row in bank.chunks(201) {
            assert!(row.iter().all(|w| *w >= 0.0));
            let peak = row.iter().cloned().fold(0.0f32, f32::max);
            assert!(peak > 0.0);
        }
        // Slaney normalisation: the first (narrowest) filters are the tallest.
        let peak = |m: usize| {
            bank[m * 201..(m + 1) * 201]
                .iter()
                .cloned()
                .fold(0.0f32, f32::max)
        };
        assert!(peak(0) > peak(79));
        // librosa.filters.mel(sr=16000, n_fft=400, n_mels=80) gives 0.024862595 here.
        // (The whole 80- and 128-filter banks were checked against librosa 0.11 once; the
        // tiny.en conversion test's file hash covers the 80-filter bank bit for bit.)
        assert!((bank[1] - 0.024_862_595).abs() < 1e-8, "{}", bank[1]);
    }
}
