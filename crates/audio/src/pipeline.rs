//! One speech channel's processing, from device samples to 16 kHz mono: downmix,
//! resample, echo cancellation (the rep's channel, when a playback reference is fed),
//! level metering and voice activity. The rep and the far end each get their own
//! [`SpeechChannel`]; nothing here mixes them.

use crate::aec::{EchoCanceller, EchoConfig};
use crate::capture::StreamFormat;
use crate::error::Result;
use crate::level::{Level, LevelMeter};
use crate::resample::{StreamResampler, downmix_into};
use crate::vad::{VadConfig, VadEvent, VoiceActivity};
use crate::{Channel, SPEECH_RATE};

/// What one push produced besides the speech samples.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChannelUpdate {
    /// The newest meter reading, at about 10 Hz.
    pub level: Option<Level>,
    pub vad: Vec<VadEvent>,
}

pub struct SpeechChannel {
    channel: Channel,
    format: Option<StreamFormat>,
    resampler: Option<StreamResampler>,
    echo: Option<EchoCanceller>,
    mono: Vec<f32>,
    speech: Vec<f32>,
    cleaned: Vec<f32>,
    meter: LevelMeter,
    vad: VoiceActivity,
}

impl SpeechChannel {
    pub fn new(channel: Channel, vad: VadConfig) -> Self {
        Self {
            channel,
            format: None,
            resampler: None,
            echo: None,
            mono: Vec::new(),
            speech: Vec::new(),
            cleaned: Vec::new(),
            meter: LevelMeter::new(SPEECH_RATE, 10),
            vad: VoiceActivity::new(vad),
        }
    }

    pub fn channel(&self) -> Channel {
        self.channel
    }

    /// Turns on echo cancellation against a playback reference fed with
    /// [`render_reference`](Self::render_reference).
    pub fn enable_echo_cancellation(&mut self, config: EchoConfig) -> Result<()> {
        self.echo = Some(EchoCanceller::new(SPEECH_RATE, config)?);
        Ok(())
    }

    /// What is being played to the rep, at 16 kHz: the echo canceller's reference.
    pub fn render_reference(&mut self, far: &[f32]) -> Result<()> {
        if let Some(echo) = &mut self.echo {
            echo.render(far)?;
        }
        Ok(())
    }

    /// Processes interleaved device samples in `format`, appending 16 kHz mono speech to
    /// `out`. A new format (a device restarted at another rate) rebuilds the resampler.
    pub fn push(
        &mut self,
        interleaved: &[f32],
        format: StreamFormat,
        out: &mut Vec<f32>,
    ) -> Result<ChannelUpdate> {
        if self.format != Some(format) {
            self.resampler = Some(StreamResampler::new(format.sample_rate, SPEECH_RATE)?);
            self.format = Some(format);
        }
        self.mono.clear();
        downmix_into(interleaved, usize::from(format.channels), &mut self.mono);
        self.speech.clear();
        if let Some(resampler) = &mut self.resampler {
            resampler.process(&self.mono, &mut self.speech)?;
        }
        let speech = match &mut self.echo {
            Some(echo) => {
                self.cleaned.clear();
                echo.process(&self.speech, &mut self.cleaned)?;
                &self.cleaned
            }
            None => &self.speech,
        };
        let level = self.meter.push(speech);
        let vad = self.vad.push(speech).collect();
        out.extend_from_slice(speech);
        Ok(ChannelUpdate { level, vad })
    }

    /// Ends the stream: closes an open speech segment.
    pub fn finish(&mut self) -> Vec<VadEvent> {
        self.vad.finish().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stereo_48k_becomes_16k_mono_and_a_rate_change_is_followed() {
        let mut channel = SpeechChannel::new(Channel::Rep, VadConfig::default());
        let stereo: Vec<f32> = (0..48_000)
            .flat_map(|i| {
                let s = 0.5 * (std::f32::consts::TAU * 440.0 * i as f32 / 48_000.0).sin();
                [s, s]
            })
            .collect();
        let mut out = Vec::new();
        let format = StreamFormat {
            sample_rate: 48_000,
            channels: 2,
        };
        let mut levels = 0;
        for chunk in stereo.chunks(960) {
            levels += channel
                .push(chunk, format, &mut out)
                .expect("push")
                .level
                .iter()
                .count();
        }
        assert!((15_800..=16_000).contains(&out.len()), "{}", out.len());
        assert_eq!(levels, 9, "about ten readings a second");
        // The device comes back mono at 44.1 kHz.
        out.clear();
        let format = StreamFormat {
            sample_rate: 44_100,
            channels: 1,
        };
        channel
            .push(&vec![0.0; 44_100], format, &mut out)
            .expect("push");
        assert!((15_800..=16_000).contains(&out.len()), "{}", out.len());
    }
}
