//! Playback to an output device: the far end to the rep's speaker or headset, the mic
//! test's replay, practice personas' voices.
//!
//! [`Playback::write`] takes mono audio at any rate; it is resampled to the device's rate,
//! copied to every channel and queued in a lock-free ring. The device callback only
//! copies from the ring, playing silence when the ring runs dry. Running dry in the middle
//! of a stream (after [`Playback::write`], before [`Playback::end_of_stream`]) is an
//! underrun, counted in samples.

use crate::device::{AudioHost, device_id, device_name};
use crate::error::{AudioError, Result};
use crate::metrics::StreamMetrics;
use crate::resample::StreamResampler;
use cpal::traits::{DeviceTrait, StreamTrait};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

const IDLE: u8 = 0;
const STREAMING: u8 = 1;
/// The end of the stream is queued: running dry next is the end, not an underrun.
const CLOSING: u8 = 2;

/// A running output stream. Dropping it stops playback.
pub struct Playback {
    producer: rtrb::Producer<f32>,
    resampler: StreamResampler,
    channels: usize,
    device_rate: u32,
    scratch: Vec<f32>,
    interleaved: Vec<f32>,
    underruns: Arc<AtomicU64>,
    /// IDLE, STREAMING or CLOSING.
    state: Arc<AtomicU8>,
    metrics: Arc<StreamMetrics>,
    device: String,
    _stream: cpal::Stream,
}

impl Playback {
    /// Opens `device` (id or name; `None` is the default output) for mono audio at
    /// `source_rate`, buffering up to `buffer_ms`.
    pub fn start(device: Option<&str>, source_rate: u32, buffer_ms: u32) -> Result<Self> {
        let host = AudioHost::new()?;
        let device = host.output(device)?;
        let name = device_name(&device);
        let default =
            device
                .default_output_config()
                .map_err(|e| AudioError::UnsupportedFormat {
                    device: name.clone(),
                    reason: e.to_string(),
                })?;
        // f32 at the device's own rate and channel count; sound servers convert, and
        // most hardware offers it.
        let config = device
            .supported_output_configs()
            .map_err(|e| AudioError::UnsupportedFormat {
                device: name.clone(),
                reason: e.to_string(),
            })?
            .filter(|range| {
                range.sample_format() == cpal::SampleFormat::F32
                    && range.channels() == default.channels()
            })
            .find_map(|range| range.try_with_sample_rate(default.sample_rate()))
            .ok_or_else(|| AudioError::UnsupportedFormat {
                device: name.clone(),
                reason: format!(
                    "no 32-bit float format at {} Hz with {} channels",
                    default.sample_rate(),
                    default.channels()
                ),
            })?;
        let device_rate = config.sample_rate();
        let mut stream_config = config.config();
        // 20 ms device buffers: the far end reaches the rep's ear without piling up delay.
        let frames = device_rate / 50;
        if let cpal::SupportedBufferSize::Range { min, max } = config.buffer_size()
            && (*min..=*max).contains(&frames)
        {
            stream_config.buffer_size = cpal::BufferSize::Fixed(frames);
        }
        let channels = usize::from(config.channels());
        let capacity = device_rate as usize * channels * buffer_ms.max(100) as usize / 1000;
        let (producer, mut consumer) = rtrb::RingBuffer::<f32>::new(capacity);
        let underruns = Arc::new(AtomicU64::new(0));
        let state = Arc::new(AtomicU8::new(IDLE));
        let metrics = Arc::new(StreamMetrics::default());
        let stream = {
            let underruns = underruns.clone();
            let state = state.clone();
            let metrics = metrics.clone();
            device
                .build_output_stream(
                    stream_config,
                    move |out: &mut [f32], _: &cpal::OutputCallbackInfo| {
                        let n = consumer.slots().min(out.len());
                        if let Ok(chunk) = consumer.read_chunk(n) {
                            let (a, b) = chunk.as_slices();
                            out[..a.len()].copy_from_slice(a);
                            out[a.len()..a.len() + b.len()].copy_from_slice(b);
                            chunk.commit_all();
                        }
                        if n < out.len() {
                            out[n..].fill(0.0);
                            match state.load(Ordering::Relaxed) {
                                STREAMING => {
                                    underruns.fetch_add((out.len() - n) as u64, Ordering::Relaxed);
                                }
                                CLOSING => state.store(IDLE, Ordering::Relaxed),
                                _ => {}
                            }
                        }
                        metrics.record_callback(out.len(), 0);
                    },
                    move |e| tracing::warn!(error = %e, "playback stream error"),
                    None,
                )
                .map_err(|e| AudioError::Device {
                    device: name.clone(),
                    message: e.to_string(),
                })?
        };
        stream.play().map_err(|e| AudioError::Device {
            device: name.clone(),
            message: e.to_string(),
        })?;
        Ok(Self {
            producer,
            resampler: StreamResampler::new(source_rate, device_rate)?,
            channels,
            device_rate,
            scratch: Vec::new(),
            interleaved: Vec::new(),
            underruns,
            state,
            metrics,
            device: device_id(&device),
            _stream: stream,
        })
    }

    pub fn device(&self) -> &str {
        &self.device
    }

    /// Queues mono audio, waiting for room when the queue is full (so a caller writing a
    /// file is paced by the device).
    pub fn write(&mut self, mono: &[f32]) -> Result<()> {
        self.scratch.clear();
        self.resampler.process(mono, &mut self.scratch)?;
        self.interleaved.clear();
        for &s in &self.scratch {
            self.interleaved
                .extend(std::iter::repeat_n(s, self.channels));
        }
        let mut offset = 0;
        while offset < self.interleaved.len() {
            let n = self.producer.slots().min(self.interleaved.len() - offset);
            if n == 0 {
                std::thread::sleep(std::time::Duration::from_millis(5));
                continue;
            }
            if let Ok(chunk) = self.producer.write_chunk_uninit(n) {
                chunk.fill_from_iter(self.interleaved[offset..offset + n].iter().copied());
            }
            offset += n;
            // Streaming from the first queued sample: running dry from here is a gap.
            self.state.store(STREAMING, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Marks the end of what is being played: the queue running dry after what is
    /// already queued is the end, not an underrun.
    pub fn end_of_stream(&mut self) -> Result<()> {
        let mut tail = Vec::new();
        self.resampler.flush(&mut tail)?;
        let tail: Vec<f32> = tail
            .iter()
            .flat_map(|&s| std::iter::repeat_n(s, self.channels))
            .collect();
        let n = self.producer.slots().min(tail.len());
        if let Ok(chunk) = self.producer.write_chunk_uninit(n) {
            chunk.fill_from_iter(tail[..n].iter().copied());
        }
        self.state.store(CLOSING, Ordering::Relaxed);
        Ok(())
    }

    /// Milliseconds of audio queued and not yet played.
    pub fn queued_ms(&self) -> u64 {
        let queued = self.producer.buffer().capacity() - self.producer.slots();
        (queued / self.channels) as u64 * 1000 / u64::from(self.device_rate)
    }

    /// Blocks until everything queued has played.
    pub fn drain(&self) {
        while self.queued_ms() > 0 {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    /// Samples of silence played because nothing was queued in time.
    pub fn underruns(&self) -> u64 {
        self.underruns.load(Ordering::Relaxed)
    }

    pub fn metrics(&self) -> &Arc<StreamMetrics> {
        &self.metrics
    }
}
