//! Acoustic echo cancellation for the rep's channel.
//!
//! When the rep uses speakers, the prospect's voice leaks back into the microphone. The
//! signal we play is known (the render reference), so an adaptive filter can model the
//! room's echo path and subtract it. We use the `aec3` crate: a Rust port of WebRTC's
//! AEC3, the canceller browsers ship, with no C toolchain or system library needed on
//! any desktop OS. Automatic gain control is off (it would undo the level the rep set and
//! make echo measurements meaningless); the high-pass filter stays on, noise suppression
//! is optional.
//!
//! The canceller is not `Send` (the port's graph uses `Rc`): build it on the thread that
//! runs it.
//!
//! Frames are 10 ms at the speech rate. The far end must be fed with [`render`] before
//! (or at the same time as) the microphone audio that carries its echo.
//!
//! [`render`]: EchoCanceller::render

use crate::error::{AudioError, Result};
use aec3::nodes::audio::AudioFormat;
use aec3::pipelines::linear::{self, LinearPipeline};

/// Echo canceller for one mono microphone against one mono playback reference.
pub struct EchoCanceller {
    pipeline: LinearPipeline,
    frame: usize,
    render_pending: Vec<f32>,
    capture_pending: Vec<f32>,
    scratch: Vec<f32>,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct EchoConfig {
    /// Expected delay from playing a sample to hearing it in the mic, as a starting point
    /// for the canceller's own delay estimation.
    pub initial_delay_ms: i32,
    pub noise_suppression: bool,
}

impl EchoCanceller {
    /// A canceller for audio at `sample_rate` (16, 32 or 48 kHz).
    pub fn new(sample_rate: u32, config: EchoConfig) -> Result<Self> {
        if !matches!(sample_rate, 16_000 | 32_000 | 48_000) {
            return Err(AudioError::Echo(format!(
                "unsupported sample rate {sample_rate} Hz: expected 16, 32 or 48 kHz"
            )));
        }
        let format = AudioFormat::ten_ms(sample_rate, 1);
        let pipeline = linear::builder(format, format)
            .enable_gain_controller2(false)
            .enable_post_filter(false)
            .enable_noise_suppression(config.noise_suppression)
            .initial_delay_ms(config.initial_delay_ms)
            .build()
            .map_err(|e| AudioError::Echo(e.to_string()))?;
        let frame = format.sample_count();
        Ok(Self {
            pipeline,
            frame,
            render_pending: Vec::with_capacity(frame * 4),
            capture_pending: Vec::with_capacity(frame * 4),
            scratch: vec![0.0; frame],
        })
    }

    /// Feeds what is being played to the rep (the far end).
    pub fn render(&mut self, far: &[f32]) -> Result<()> {
        self.render_pending.extend_from_slice(far);
        let mut offset = 0;
        while self.render_pending.len() - offset >= self.frame {
            self.pipeline
                .handle_render_frame(&self.render_pending[offset..offset + self.frame])
                .map_err(|e| AudioError::Echo(e.to_string()))?;
            offset += self.frame;
        }
        self.render_pending.drain(..offset);
        Ok(())
    }

    /// Cleans microphone audio, appending the echo-free result to `out` (whole 10 ms frames;
    /// the remainder waits for the next call).
    pub fn process(&mut self, mic: &[f32], out: &mut Vec<f32>) -> Result<()> {
        self.capture_pending.extend_from_slice(mic);
        let mut offset = 0;
        while self.capture_pending.len() - offset >= self.frame {
            let produced = self
                .pipeline
                .process_capture_frame(
                    &self.capture_pending[offset..offset + self.frame],
                    &mut self.scratch,
                )
                .map_err(|e| AudioError::Echo(e.to_string()))?;
            if produced {
                out.extend_from_slice(&self.scratch);
            } else {
                out.extend(std::iter::repeat_n(0.0, self.frame));
            }
            offset += self.frame;
        }
        self.capture_pending.drain(..offset);
        Ok(())
    }
}

/// Echo return loss enhancement in dB: how much quieter the canceller's output is than
/// its input over a stretch where only the echo is present.
pub fn erle_db(mic: &[f32], cleaned: &[f32]) -> f64 {
    let energy = |x: &[f32]| x.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>();
    10.0 * (energy(mic) / energy(cleaned).max(1e-20)).log10()
}
