//! Level meters: RMS and peak in dBFS over short windows, reported about ten times a
//! second (what a meter in the UI can show), plus a clipping flag.

use serde::Serialize;

/// The floor reported for digital silence.
pub const FLOOR_DB: f32 = -96.0;

/// One meter reading.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, specta::Type)]
pub struct Level {
    pub rms_db: f32,
    pub peak_db: f32,
    /// A sample reached full scale in this window.
    pub clipped: bool,
}

/// Accumulates samples and yields a [`Level`] every `window` samples.
#[derive(Clone, Debug)]
pub struct LevelMeter {
    window: usize,
    count: usize,
    sum_squares: f64,
    peak: f32,
}

pub fn to_db(amplitude: f32) -> f32 {
    if amplitude <= 0.0 {
        FLOOR_DB
    } else {
        (20.0 * amplitude.log10()).max(FLOOR_DB)
    }
}

impl LevelMeter {
    /// A meter reporting `per_second` times a second for a stream at `sample_rate`.
    pub fn new(sample_rate: u32, per_second: u32) -> Self {
        Self {
            window: (sample_rate / per_second.max(1)).max(1) as usize,
            count: 0,
            sum_squares: 0.0,
            peak: 0.0,
        }
    }

    /// Feeds mono samples; returns the reading of the last window completed, if any.
    pub fn push(&mut self, samples: &[f32]) -> Option<Level> {
        let mut reading = None;
        for &s in samples {
            self.sum_squares += f64::from(s) * f64::from(s);
            self.peak = self.peak.max(s.abs());
            self.count += 1;
            if self.count == self.window {
                let rms = (self.sum_squares / self.count as f64).sqrt() as f32;
                reading = Some(Level {
                    rms_db: to_db(rms),
                    peak_db: to_db(self.peak),
                    clipped: self.peak >= 0.999,
                });
                self.count = 0;
                self.sum_squares = 0.0;
                self.peak = 0.0;
            }
        }
        reading
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_scale_sine_reads_minus_3_db_rms_and_0_db_peak() {
        let mut meter = LevelMeter::new(16_000, 10);
        let sine: Vec<f32> = (0..1600)
            .map(|i| (std::f32::consts::TAU * 1000.0 * i as f32 / 16_000.0).sin())
            .collect();
        let level = meter.push(&sine).expect("one window");
        assert!((level.rms_db + 3.01).abs() < 0.05, "{level:?}");
        assert!(level.peak_db.abs() < 0.01 && level.clipped);
        // Silence reads the floor; half a window yields nothing yet.
        assert_eq!(meter.push(&[0.0; 800]), None);
        let level = meter.push(&[0.0; 800]).expect("window");
        assert_eq!(level.rms_db, FLOOR_DB);
    }
}
