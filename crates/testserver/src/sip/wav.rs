//! Test signals for the audio a peer sends (tones, tone patterns, chirps as 8 kHz mono
//! s16 WAVs, the format baresip's `aufile` source needs) and checks of the audio that came
//! through (the dominant frequency, per window too; normalised cross-correlation with the
//! reference; RMS level).

use super::{PeerError, Result};
use std::path::Path;

/// The sample rate of the peers' audio (G.711).
pub const RATE: u32 = 8000;

/// Mono 16-bit audio.
#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    pub samples: Vec<i16>,
    pub rate: u32,
}

impl Audio {
    pub fn seconds(&self) -> f64 {
        self.samples.len() as f64 / f64::from(self.rate.max(1))
    }
}

/// One step of a [`pattern`]: `freq_hz` (0 for silence) for `millis`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    pub freq_hz: f64,
    pub millis: u32,
}

fn to_sample(value: f64) -> i16 {
    (value * f64::from(i16::MAX))
        .round()
        .clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16
}

/// A sine of `freq_hz` for `seconds` at `amplitude` (0–1 of full scale).
pub fn tone(freq_hz: f64, seconds: f64, amplitude: f64, rate: u32) -> Vec<i16> {
    let n = (seconds * f64::from(rate)).round() as usize;
    (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(rate);
            to_sample(amplitude * (std::f64::consts::TAU * freq_hz * t).sin())
        })
        .collect()
}

/// Tones one after another (phase-continuous; 0 Hz is silence), e.g. a melody whose
/// order a receiver can check with [`frequency_track`].
pub fn pattern(steps: &[Step], amplitude: f64, rate: u32) -> Vec<i16> {
    let mut out = Vec::new();
    let mut phase = 0.0f64;
    for step in steps {
        let n = (f64::from(step.millis) * f64::from(rate) / 1000.0).round() as usize;
        for _ in 0..n {
            let value = if step.freq_hz > 0.0 {
                amplitude * phase.sin()
            } else {
                0.0
            };
            out.push(to_sample(value));
            phase = (phase + std::f64::consts::TAU * step.freq_hz / f64::from(rate))
                % std::f64::consts::TAU;
        }
    }
    out
}

/// A linear sweep from `f0` to `f1` Hz over `seconds`: a signal whose every lag is
/// distinct, for [`correlate`].
pub fn chirp(f0: f64, f1: f64, seconds: f64, amplitude: f64, rate: u32) -> Vec<i16> {
    let n = (seconds * f64::from(rate)).round() as usize;
    let k = if seconds > 0.0 {
        (f1 - f0) / seconds
    } else {
        0.0
    };
    (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(rate);
            to_sample(amplitude * (std::f64::consts::TAU * (f0 * t + 0.5 * k * t * t)).sin())
        })
        .collect()
}

/// Writes mono s16 `samples` at `rate` to `path`.
pub fn write_wav(path: &Path, samples: &[i16], rate: u32) -> Result<()> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec)?;
    for &sample in samples {
        writer.write_sample(sample)?;
    }
    writer.finalize()?;
    Ok(())
}

/// Writes an 8 kHz mono tone of `freq_hz` for `seconds` at `amplitude` (0–1) to `path`:
/// what a baresip plays with [`crate::sip::BaresipOptions::play_wav`].
pub fn write_tone_wav(path: &Path, freq_hz: f64, seconds: f64, amplitude: f64) -> Result<()> {
    write_wav(path, &tone(freq_hz, seconds, amplitude, RATE), RATE)
}

/// Reads a 16-bit PCM WAV (the first channel). Tolerates a header whose sizes were not
/// written yet (a recording still open): the data then runs to the end of the file.
pub fn read_wav(path: &Path) -> Result<Audio> {
    let bytes = std::fs::read(path)
        .map_err(|e| PeerError::io(format!("cannot read {}", path.display()), e))?;
    let bad = |what: &'static str| PeerError::Wav(hound::Error::FormatError(what));
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(bad("not a RIFF/WAVE file"));
    }
    let u16_at = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]);
    let u32_at =
        |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    let mut pos = 12;
    let mut format = None;
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let declared = u32_at(pos + 4) as usize;
        let body = pos + 8;
        let available = bytes.len() - body;
        if id == b"fmt " {
            if available < 16 {
                return Err(bad("short fmt chunk"));
            }
            // (format tag, channels, rate, bits per sample)
            format = Some((
                u16_at(body),
                u16_at(body + 2),
                u32_at(body + 4),
                u16_at(body + 14),
            ));
        } else if id == b"data" {
            let Some((tag, channels, rate, bits)) = format else {
                return Err(bad("data before fmt"));
            };
            // 1 = PCM, 0xFFFE = WAVE_FORMAT_EXTENSIBLE (PCM in these files)
            if !(tag == 1 || tag == 0xFFFE) || bits != 16 || channels == 0 {
                return Err(bad("not 16-bit PCM"));
            }
            let len = if declared == 0 || declared > available {
                available
            } else {
                declared
            };
            let frame = 2 * usize::from(channels);
            let samples = bytes[body..body + len]
                .chunks_exact(frame)
                .map(|f| i16::from_le_bytes([f[0], f[1]]))
                .collect();
            return Ok(Audio { samples, rate });
        }
        pos = body + declared + (declared & 1);
    }
    Err(bad("no data chunk"))
}

/// Root mean square level (full scale 32767).
pub fn rms(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let sum: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    (sum / samples.len() as f64).sqrt()
}

/// Below this RMS a stretch counts as silence.
const SILENCE_RMS: f64 = 100.0;

/// The strongest frequency (Hz) in `samples` (Welch spectrum, Hann windows, interpolated
/// between bins; about 1 Hz accurate for a steady tone of a second), or `None` if they
/// are (nearly) silent.
pub fn dominant_frequency(samples: &[i16], rate: u32) -> Option<f64> {
    if samples.len() < 64 || rms(samples) < SILENCE_RMS {
        return None;
    }
    let mut n = 4096usize;
    while n > samples.len() {
        n /= 2;
    }
    let hop = n / 2;
    let window: Vec<f64> = (0..n)
        .map(|i| 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / n as f64).cos())
        .collect();
    let mut power = vec![0.0f64; n / 2];
    let mut start = 0;
    while start + n <= samples.len() {
        let mut buf: Vec<(f64, f64)> = samples[start..start + n]
            .iter()
            .zip(&window)
            .map(|(&s, w)| (f64::from(s) * w, 0.0))
            .collect();
        fft(&mut buf, false);
        for (p, (re, im)) in power.iter_mut().zip(&buf) {
            *p += re * re + im * im;
        }
        start += hop;
    }
    // Skip DC and the bins below ~20 Hz.
    let first = (20 * n / rate.max(1) as usize).max(1);
    let (k, _) = power
        .iter()
        .enumerate()
        .skip(first)
        .max_by(|a, b| a.1.total_cmp(b.1))?;
    let at = |i: usize| power.get(i).copied().unwrap_or(0.0).sqrt();
    let (a, b, c) = (at(k.saturating_sub(1)), at(k), at(k + 1));
    let denom = a - 2.0 * b + c;
    let delta = if denom.abs() > f64::EPSILON && k > 0 {
        (0.5 * (a - c) / denom).clamp(-0.5, 0.5)
    } else {
        0.0
    };
    Some((k as f64 + delta) * f64::from(rate) / n as f64)
}

/// [`dominant_frequency`] of each `window_ms` stretch of `samples` (`None` for silent
/// ones): to check a [`pattern`] arrived in order.
pub fn frequency_track(samples: &[i16], rate: u32, window_ms: u32) -> Vec<Option<f64>> {
    let len = (u64::from(rate) * u64::from(window_ms) / 1000).max(1) as usize;
    samples
        .chunks(len)
        .filter(|chunk| chunk.len() == len)
        .map(|chunk| dominant_frequency(chunk, rate))
        .collect()
}

/// The best match of `reference` within `received`: `received[i + lag] ≈ reference[i]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Correlation {
    /// Samples by which `received` lags `reference` (negative: `received` starts
    /// `-lag` samples into `reference`).
    pub lag: isize,
    /// Normalised cross-correlation over the overlap at that lag, -1–1 (1: identical up
    /// to gain).
    pub coefficient: f64,
}

/// Normalised cross-correlation of `reference` and `received` over every lag at which
/// they overlap by at least half of the shorter one (FFT-based); the best lag wins.
/// G.711 round trips keep a clean signal above ~0.95.
pub fn correlate(reference: &[i16], received: &[i16]) -> Correlation {
    let none = Correlation {
        lag: 0,
        coefficient: 0.0,
    };
    if reference.is_empty() || received.is_empty() {
        return none;
    }
    let (r, x) = (reference.len(), received.len());
    let size = (r + x).next_power_of_two();
    let mut a: Vec<(f64, f64)> = received.iter().map(|&s| (f64::from(s), 0.0)).collect();
    a.resize(size, (0.0, 0.0));
    let mut b: Vec<(f64, f64)> = reference.iter().map(|&s| (f64::from(s), 0.0)).collect();
    b.resize(size, (0.0, 0.0));
    fft(&mut a, false);
    fft(&mut b, false);
    for (p, q) in a.iter_mut().zip(&b) {
        // a * conj(b)
        *p = (p.0 * q.0 + p.1 * q.1, p.1 * q.0 - p.0 * q.1);
    }
    fft(&mut a, true);
    let prefix = |s: &[i16]| {
        let mut acc = vec![0.0f64; s.len() + 1];
        for (i, &v) in s.iter().enumerate() {
            acc[i + 1] = acc[i] + f64::from(v) * f64::from(v);
        }
        acc
    };
    let (er, ex) = (prefix(reference), prefix(received));
    let min_overlap = r.min(x).div_ceil(2);
    let mut best = none;
    let (r, x) = (r as isize, x as isize);
    for lag in -(r - 1)..x {
        let start = 0.max(-lag);
        let end = r.min(x - lag);
        if end - start < min_overlap as isize {
            continue;
        }
        let index = if lag >= 0 {
            lag as usize
        } else {
            size - (-lag) as usize
        };
        let dot = a[index].0;
        let e_ref = er[end as usize] - er[start as usize];
        let e_rec = ex[(end + lag) as usize] - ex[(start + lag) as usize];
        let norm = (e_ref * e_rec).sqrt();
        if norm <= 0.0 {
            continue;
        }
        let coefficient = dot / norm;
        if coefficient > best.coefficient {
            best = Correlation { lag, coefficient };
        }
    }
    best
}

/// `samples` without the leading and trailing stretches quieter than `threshold`
/// (absolute sample value).
pub fn trim_silence(samples: &[i16], threshold: i16) -> &[i16] {
    let loud = |s: &i16| s.unsigned_abs() > threshold.unsigned_abs();
    let Some(first) = samples.iter().position(loud) else {
        return &[];
    };
    let last = samples.iter().rposition(loud).unwrap_or(first);
    &samples[first..=last]
}

/// In-place iterative radix-2 FFT (`inverse` scales by 1/n). `buf.len()` must be a
/// power of two.
fn fft(buf: &mut [(f64, f64)], inverse: bool) {
    let n = buf.len();
    if n < 2 {
        return;
    }
    let mut j = 0;
    for i in 1..n {
        let mut bit = n >> 1;
        while j & bit != 0 {
            j ^= bit;
            bit >>= 1;
        }
        j |= bit;
        if i < j {
            buf.swap(i, j);
        }
    }
    let sign = if inverse { 1.0 } else { -1.0 };
    let mut len = 2;
    while len <= n {
        let angle = sign * std::f64::consts::TAU / len as f64;
        let (w_re, w_im) = (angle.cos(), angle.sin());
        for chunk in buf.chunks_mut(len) {
            let (mut c_re, mut c_im) = (1.0f64, 0.0f64);
            let half = len / 2;
            for k in 0..half {
                let (u, v) = (chunk[k], chunk[k + half]);
                let t = (v.0 * c_re - v.1 * c_im, v.0 * c_im + v.1 * c_re);
                chunk[k] = (u.0 + t.0, u.1 + t.1);
                chunk[k + half] = (u.0 - t.0, u.1 - t.1);
                (c_re, c_im) = (c_re * w_re - c_im * w_im, c_re * w_im + c_im * w_re);
            }
        }
        len *= 2;
    }
    if inverse {
        let scale = 1.0 / n as f64;
        for v in buf.iter_mut() {
            *v = (v.0 * scale, v.1 * scale);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dominant_frequency_of_a_tone_is_found_within_a_hertz() {
        for freq in [300.0, 440.0, 1000.0, 2750.5] {
            let samples = tone(freq, 1.0, 0.5, RATE);
            let found = dominant_frequency(&samples, RATE).expect("a tone");
            assert!((found - freq).abs() < 1.0, "{freq} Hz found as {found}");
        }
        assert_eq!(dominant_frequency(&vec![0; 8000], RATE), None);
    }

    #[test]
    fn a_pattern_is_tracked_window_by_window() {
        let steps = [
            Step {
                freq_hz: 500.0,
                millis: 200,
            },
            Step {
                freq_hz: 0.0,
                millis: 200,
            },
            Step {
                freq_hz: 1500.0,
                millis: 200,
            },
        ];
        let track = frequency_track(&pattern(&steps, 0.5, RATE), RATE, 200);
        assert_eq!(track.len(), 3);
        assert!((track[0].expect("tone") - 500.0).abs() < 10.0, "{track:?}");
        assert_eq!(track[1], None);
        assert!((track[2].expect("tone") - 1500.0).abs() < 10.0, "{track:?}");
    }

    #[test]
    fn correlation_finds_the_lag_of_a_delayed_chirp() {
        let reference = chirp(300.0, 3000.0, 1.0, 0.5, RATE);
        let mut received = vec![0i16; 1234];
        received.extend(reference.iter().map(|&s| s / 2));
        let found = correlate(&reference, &received);
        assert_eq!(found.lag, 1234);
        assert!(found.coefficient > 0.99, "{found:?}");
        // received starts 500 samples into the reference
        let found = correlate(&reference, &reference[500..]);
        assert_eq!(found.lag, -500);
        let noise: Vec<i16> = (0..8000u32)
            .map(|i| ((i.wrapping_mul(2_654_435_761) >> 16) as i16) / 4)
            .collect();
        assert!(correlate(&reference, &noise).coefficient < 0.2);
    }

    #[test]
    fn wavs_round_trip_and_unfinished_headers_are_read_to_the_end() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("t.wav");
        let samples = tone(440.0, 0.5, 0.3, RATE);
        write_wav(&path, &samples, RATE).expect("write");
        let audio = read_wav(&path).expect("read");
        assert_eq!(
            audio,
            Audio {
                samples: samples.clone(),
                rate: RATE
            }
        );
        // A recording still open: RIFF and data sizes not written yet.
        let mut bytes = std::fs::read(&path).expect("bytes");
        bytes[4..8].copy_from_slice(&0u32.to_le_bytes());
        let data = bytes
            .windows(4)
            .position(|w| w == b"data")
            .expect("data chunk");
        bytes[data + 4..data + 8].copy_from_slice(&0u32.to_le_bytes());
        std::fs::write(&path, bytes).expect("rewrite");
        assert_eq!(read_wav(&path).expect("read").samples, samples);
    }
}
