//! The two sides of a conversation captured together: the rep's microphone and the far
//! end — the call media fed in by the phone, an input device such as the speakers'
//! loopback, or nothing — each through its own [`SpeechChannel`], handed out as
//! equal-length 16 kHz blocks ready for the recorder and speech-to-text.
//!
//! The two devices run on different clocks. Blocks are released when both sides have
//! audio; if one side falls more than [`MAX_SKEW_MS`] behind (a stalled or restarting
//! device), it is padded with silence so the other side and the recording keep going.

use crate::aec::EchoConfig;
use crate::capture::{Capture, CaptureEvent, CaptureOptions, StreamFormat};
use crate::error::Result;
use crate::metrics::StreamMetrics;
use crate::pipeline::{ChannelUpdate, SpeechChannel};
use crate::ring::{SampleConsumer, SampleProducer, ring};
use crate::vad::VadConfig;
use crate::{Channel, SPEECH_RATE};
use std::sync::Arc;

/// How often a consumer should [`poll`](DualCapture::poll): it bounds the latency the
/// engine adds between the device callback and the consumer (see BENCHMARKS.md).
pub const POLL_INTERVAL: std::time::Duration = std::time::Duration::from_millis(5);

/// How far one side may run ahead before the other is padded with silence.
pub const MAX_SKEW_MS: usize = 250;

/// Where the far end comes from.
#[derive(Debug, Default)]
pub enum FarEnd {
    /// Nothing: the right channel is silent.
    #[default]
    None,
    /// An input device, such as the speakers' loopback (calls in other apps).
    Device(CaptureOptions),
    /// Audio the phone pushes in (calls Cuecard places), through a [`FarEndFeeder`].
    Feed(FarEndFeed),
}

/// The phone's end of a far-end feed: push decoded call audio (mono) as it arrives.
/// Never blocks or allocates; what does not fit (the engine stalled for over two
/// seconds) is dropped and counted.
pub struct FarEndFeeder {
    producer: SampleProducer,
}

impl FarEndFeeder {
    pub fn push(&mut self, mono: &[f32]) -> usize {
        self.producer.push(mono)
    }
}

/// The engine's end of a far-end feed.
pub struct FarEndFeed {
    consumer: SampleConsumer,
    format: StreamFormat,
    metrics: Arc<StreamMetrics>,
}

impl std::fmt::Debug for FarEndFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FarEndFeed")
            .field("format", &self.format)
            .finish()
    }
}

impl FarEndFeed {
    pub fn metrics(&self) -> &Arc<StreamMetrics> {
        &self.metrics
    }
}

/// A feed for far-end audio at `sample_rate` (8 kHz for G.711 calls), holding up to two
/// seconds.
pub fn far_end_feed(sample_rate: u32) -> (FarEndFeeder, FarEndFeed) {
    let metrics = Arc::new(StreamMetrics::default());
    let (producer, consumer) = ring(sample_rate as usize * 2, metrics.clone());
    (
        FarEndFeeder { producer },
        FarEndFeed {
            consumer,
            format: StreamFormat {
                sample_rate,
                channels: 1,
            },
            metrics,
        },
    )
}

/// The far end while running.
enum FarSource {
    None,
    Device(Capture),
    Feed(FarEndFeed),
}

/// What to capture for each side.
#[derive(Debug, Default)]
pub struct DualOptions {
    pub rep: CaptureOptions,
    pub far: FarEnd,
    /// Cancel the far end's echo from the rep's mic (when the far end is what the
    /// speakers play).
    pub echo_cancellation: bool,
    pub vad: VadConfig,
}

impl DualOptions {
    /// Only the rep's microphone (`None`: the default input); the far end is silent.
    pub fn mic(device: Option<String>) -> Self {
        Self {
            rep: CaptureOptions {
                device,
                ..CaptureOptions::default()
            },
            ..Self::default()
        }
    }
}

/// Both sides' updates from one poll.
#[derive(Clone, Debug, Default)]
pub struct DualUpdate {
    pub rep: ChannelUpdate,
    pub far: ChannelUpdate,
}

pub struct DualCapture {
    rep: Capture,
    far: FarSource,
    rep_channel: SpeechChannel,
    far_channel: SpeechChannel,
    rep_pending: Vec<f32>,
    far_pending: Vec<f32>,
    raw: Vec<f32>,
}

impl DualCapture {
    pub fn start(options: DualOptions) -> Result<Self> {
        let rep = Capture::start(options.rep)?;
        let far = match options.far {
            FarEnd::None => FarSource::None,
            FarEnd::Device(options) => FarSource::Device(Capture::start(options)?),
            FarEnd::Feed(mut feed) => {
                // What the phone pushed before the session started (a coach that took a
                // while to load its model) has no rep audio beside it: the two sides
                // start together, from now.
                let mut stale = Vec::new();
                feed.consumer.pop_into(&mut stale, usize::MAX);
                FarSource::Feed(feed)
            }
        };
        let mut rep_channel = SpeechChannel::new(Channel::Rep, options.vad);
        if options.echo_cancellation && !matches!(far, FarSource::None) {
            rep_channel.enable_echo_cancellation(EchoConfig::default())?;
        }
        Ok(Self {
            rep,
            far,
            rep_channel,
            far_channel: SpeechChannel::new(Channel::FarEnd, options.vad),
            rep_pending: Vec::new(),
            far_pending: Vec::new(),
            raw: Vec::new(),
        })
    }

    pub fn rep_capture(&self) -> &Capture {
        &self.rep
    }

    /// The far end's device capture, when it comes from a device.
    pub fn far_capture(&self) -> Option<&Capture> {
        match &self.far {
            FarSource::Device(capture) => Some(capture),
            _ => None,
        }
    }

    /// Reads what both devices delivered and appends equal-length aligned blocks to
    /// `rep_out` and `far_out`.
    pub fn poll(&mut self, rep_out: &mut Vec<f32>, far_out: &mut Vec<f32>) -> Result<DualUpdate> {
        let mut update = DualUpdate::default();
        // The far end first: it is the echo canceller's reference for the rep's mic.
        self.raw.clear();
        let far_format = match &mut self.far {
            FarSource::None => None,
            FarSource::Device(capture) => capture.read(&mut self.raw),
            FarSource::Feed(feed) => {
                feed.consumer.pop_into(&mut self.raw, usize::MAX);
                Some(feed.format)
            }
        };
        if let Some(format) = far_format {
            let start = self.far_pending.len();
            update.far = self
                .far_channel
                .push(&self.raw, format, &mut self.far_pending)?;
            self.rep_channel
                .render_reference(&self.far_pending[start..])?;
        }
        self.raw.clear();
        if let Some(format) = self.rep.read(&mut self.raw) {
            update.rep = self
                .rep_channel
                .push(&self.raw, format, &mut self.rep_pending)?;
        }
        if matches!(self.far, FarSource::None) {
            self.far_pending.resize(self.rep_pending.len(), 0.0);
        }
        let skew = MAX_SKEW_MS * SPEECH_RATE as usize / 1000;
        let (r, f) = (self.rep_pending.len(), self.far_pending.len());
        if r > f + skew {
            self.far_pending.resize(r - skew / 2, 0.0);
        } else if f > r + skew {
            self.rep_pending.resize(f - skew / 2, 0.0);
        }
        let n = self.rep_pending.len().min(self.far_pending.len());
        rep_out.extend(self.rep_pending.drain(..n));
        far_out.extend(self.far_pending.drain(..n));
        Ok(update)
    }

    /// Device events from both sides.
    pub fn events(&self) -> Vec<(Channel, CaptureEvent)> {
        let mut events = Vec::new();
        while let Some(e) = self.rep.try_event() {
            events.push((Channel::Rep, e));
        }
        if let FarSource::Device(far) = &self.far {
            while let Some(e) = far.try_event() {
                events.push((Channel::FarEnd, e));
            }
        }
        events
    }

    /// Ends both channels: closes open speech segments.
    pub fn finish(&mut self) -> DualUpdate {
        DualUpdate {
            rep: ChannelUpdate {
                level: None,
                vad: self.rep_channel.finish(),
            },
            far: ChannelUpdate {
                level: None,
                vad: self.far_channel.finish(),
            },
        }
    }
}
