//! Capture from an input device (a microphone, or an output's loopback), kept alive by a
//! watchdog.
//!
//! A stream thread owns the cpal stream. The device callback only copies samples into a
//! fresh lock-free ring; the engine reads them with [`Capture::read`]. The thread
//! rebuilds the stream when:
//! - the device reports an error, or stops delivering for `stall_timeout` (watchdog);
//! - the capture follows the default input and the default changes (checked each
//!   second; a change must hold for two checks, so a flapping default does not thrash);
//! - the chosen device disappears: the capture falls back to the default input and says so.
//!
//! Each rebuild hands the reader a new ring with its format, so a device that comes back
//! at another sample rate is followed too. Every change is reported as a
//! [`CaptureEvent`].

use crate::device::{AudioHost, device_id, device_name};
use crate::error::{AudioError, Result};
use crate::metrics::StreamMetrics;
use crate::ring::{SampleConsumer, SampleProducer, ring};
use cpal::traits::{DeviceTrait, StreamTrait};
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What to capture and how.
#[derive(Clone, Debug)]
pub struct CaptureOptions {
    /// Device id or name; `None` follows the default input.
    pub device: Option<String>,
    /// Requested device buffer, in milliseconds (latency vs. wake-ups).
    pub buffer_ms: u32,
    /// How long without a callback before the watchdog restarts the stream.
    pub stall_timeout: Duration,
    /// Ring capacity in milliseconds: how long the reader may fall behind before samples
    /// are dropped (and counted).
    pub ring_ms: u32,
}

impl Default for CaptureOptions {
    fn default() -> Self {
        Self {
            device: None,
            buffer_ms: 10,
            stall_timeout: Duration::from_millis(1500),
            ring_ms: 2000,
        }
    }
}

/// The sample format a ring carries: interleaved f32 frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, specta::Type)]
pub struct StreamFormat {
    pub sample_rate: u32,
    pub channels: u16,
}

/// What happened to a capture.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CaptureEvent {
    Started {
        device: String,
        sample_rate: u32,
        channels: u16,
    },
    /// The device failed; the capture is recovering.
    Error {
        device: String,
        message: String,
    },
    Restarted {
        device: String,
        reason: String,
    },
    /// The capture gave up (after `stop`, or when no device can be opened).
    Stopped {
        reason: String,
    },
}

/// A running capture. Dropping it stops the stream.
pub struct Capture {
    rings: Receiver<(SampleConsumer, StreamFormat)>,
    current: Option<(SampleConsumer, StreamFormat)>,
    events: Receiver<CaptureEvent>,
    metrics: Arc<StreamMetrics>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    device: String,
}

impl Capture {
    /// Opens the device and starts capturing. Fails with a clear error if the device
    /// cannot be found or opened now; later failures are recovered and reported as events.
    pub fn start(options: CaptureOptions) -> Result<Self> {
        let (ring_tx, rings) = mpsc::channel();
        let (event_tx, events) = mpsc::channel();
        let metrics = Arc::new(StreamMetrics::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (thread, device) = {
            let (metrics, stop) = (metrics.clone(), stop.clone());
            crate::worker::spawn_ready("capture", move |ready| {
                stream_thread(options, metrics, stop, ring_tx, event_tx, ready)
            })?
        };
        Ok(Self {
            rings,
            current: None,
            events,
            metrics,
            stop,
            thread: Some(thread),
            device,
        })
    }

    /// The id of the device the capture started on.
    pub fn device(&self) -> &str {
        &self.device
    }

    /// Moves the captured interleaved samples onto `out` and returns their format. After a
    /// restart the old ring is drained first, so `out` never mixes two formats: the call
    /// after a format change returns the new format.
    pub fn read(&mut self, out: &mut Vec<f32>) -> Option<StreamFormat> {
        loop {
            if let Some((consumer, format)) = &mut self.current {
                let n = consumer.pop_into(out, usize::MAX);
                if n > 0 || !consumer.is_finished() {
                    return Some(*format);
                }
            }
            // The current ring is finished (its stream is gone), or there is none yet.
            match self.rings.try_recv() {
                Ok(ring) => self.current = Some(ring),
                Err(_) => return self.current.as_ref().map(|(_, format)| *format),
            }
        }
    }

    /// The next event, if one is waiting.
    pub fn try_event(&self) -> Option<CaptureEvent> {
        self.events.try_recv().ok()
    }

    pub fn metrics(&self) -> &Arc<StreamMetrics> {
        &self.metrics
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct Running {
    _stream: cpal::Stream,
    device: String,
    failed: Arc<Mutex<Option<String>>>,
    started: Instant,
}

fn stream_thread(
    options: CaptureOptions,
    metrics: Arc<StreamMetrics>,
    stop: Arc<AtomicBool>,
    rings: Sender<(SampleConsumer, StreamFormat)>,
    events: Sender<CaptureEvent>,
    ready: Sender<Result<String>>,
) {
    let host = match AudioHost::new() {
        Ok(host) => host,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let open = |wanted: Option<&str>| -> Result<Running> {
        // `loopback:<output>`: capture what an output device plays (Windows, macOS).
        match wanted.and_then(|id| id.strip_prefix(crate::loopback::OUTPUT_LOOPBACK_PREFIX)) {
            Some(output) => {
                let device = host.output(Some(output))?;
                open_stream(
                    &device,
                    Source::OutputLoopback,
                    &options,
                    &metrics,
                    &rings,
                    &events,
                )
            }
            None => {
                let device = host.input(wanted)?;
                open_stream(&device, Source::Input, &options, &metrics, &rings, &events)
            }
        }
    };
    let mut running = match open(options.device.as_deref()) {
        Ok(running) => running,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let _ = ready.send(Ok(running.device.clone()));
    let follow_default = options.device.is_none();
    let mut last_default_check = Instant::now();
    let mut default_seen = running.device.clone();
    let mut default_candidate: Option<String> = None;

    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(50));
        let failure = running
            .failed
            .lock()
            .map(|mut f| f.take())
            .unwrap_or_else(|_| Some("error state poisoned".into()));
        let stalled = match metrics.since_last_callback() {
            Some(since) => since > options.stall_timeout,
            None => running.started.elapsed() > options.stall_timeout,
        };
        let mut reason = None;
        if let Some(message) = failure {
            let _ = events.send(CaptureEvent::Error {
                device: running.device.clone(),
                message: message.clone(),
            });
            reason = Some(message);
        } else if stalled {
            let _ = events.send(CaptureEvent::Error {
                device: running.device.clone(),
                message: format!("no audio for {} ms", options.stall_timeout.as_millis()),
            });
            reason = Some("the device stopped delivering audio".to_owned());
        } else if follow_default && last_default_check.elapsed() >= Duration::from_secs(1) {
            last_default_check = Instant::now();
            if let Some(now) = host.default_id(crate::device::Direction::Input) {
                if now != default_seen {
                    if default_candidate.as_deref() == Some(now.as_str()) {
                        reason = Some(format!("the default input changed to {now}"));
                        default_seen = now;
                        default_candidate = None;
                    } else {
                        default_candidate = Some(now);
                    }
                } else {
                    default_candidate = None;
                }
            }
        }
        let Some(reason) = reason else { continue };

        // Rebuild: the chosen device if it is still there, else the default input.
        drop(running);
        let mut backoff = Duration::from_millis(200);
        running = loop {
            if stop.load(Ordering::Relaxed) {
                let _ = events.send(CaptureEvent::Stopped {
                    reason: "stopped".into(),
                });
                return;
            }
            let attempt = open(options.device.as_deref()).or_else(|e| {
                if options.device.is_some() {
                    tracing::warn!(error = %e, "chosen input unavailable; using the default input");
                    open(None)
                } else {
                    Err(e)
                }
            });
            match attempt {
                Ok(running) => break running,
                Err(e) => {
                    let _ = events.send(CaptureEvent::Error {
                        device: options.device.clone().unwrap_or_else(|| "default".into()),
                        message: e.to_string(),
                    });
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                }
            }
        };
        metrics.record_restart();
        tracing::info!(device = %running.device, %reason, "capture restarted");
        let _ = events.send(CaptureEvent::Restarted {
            device: running.device.clone(),
            reason,
        });
    }
    let _ = events.send(CaptureEvent::Stopped {
        reason: "stopped".into(),
    });
}

/// What a stream records from a device.
#[derive(Clone, Copy)]
enum Source {
    /// An input: a microphone, or a sound server's monitor source.
    Input,
    /// What an output plays, by opening it as an input: WASAPI loopback on Windows, a
    /// Core Audio process tap on macOS (cpal builds the tap and its aggregate device).
    OutputLoopback,
}

fn open_stream(
    device: &cpal::Device,
    source: Source,
    options: &CaptureOptions,
    metrics: &Arc<StreamMetrics>,
    rings: &Sender<(SampleConsumer, StreamFormat)>,
    events: &Sender<CaptureEvent>,
) -> Result<Running> {
    let id = match source {
        Source::Input => device_id(device),
        Source::OutputLoopback => format!(
            "{}{}",
            crate::loopback::OUTPUT_LOOPBACK_PREFIX,
            device_id(device)
        ),
    };
    let unsupported = |reason: String| AudioError::UnsupportedFormat {
        device: device_name(device),
        reason,
    };
    let default = match source {
        Source::Input => device.default_input_config(),
        Source::OutputLoopback => device.default_output_config(),
    }
    .map_err(|e| unsupported(e.to_string()))?;
    let sample_rate = default.sample_rate();
    let channels = default.channels();
    if channels == 0 || sample_rate == 0 {
        return Err(unsupported(format!(
            "{channels} channels at {sample_rate} Hz"
        )));
    }
    let mut config = default.config();
    let frames = (sample_rate * options.buffer_ms.max(1) / 1000).max(16);
    if let cpal::SupportedBufferSize::Range { min, max } = default.buffer_size()
        && (*min..=*max).contains(&frames)
    {
        config.buffer_size = cpal::BufferSize::Fixed(frames);
    }
    let capacity = (sample_rate as usize * channels as usize * options.ring_ms as usize) / 1000;
    let (producer, consumer) = ring(capacity.max(1024), metrics.clone());
    let failed = Arc::new(Mutex::new(None));
    let on_error = {
        let failed = failed.clone();
        move |e: cpal::Error| {
            if let Ok(mut slot) = failed.lock() {
                *slot = Some(e.to_string());
            }
        }
    };
    let stream = match default.sample_format() {
        cpal::SampleFormat::F32 => build::<f32>(device, &config, producer, on_error, |s| s),
        cpal::SampleFormat::I16 => build::<i16>(device, &config, producer, on_error, |s| {
            f32::from(s) / 32768.0
        }),
        cpal::SampleFormat::I32 => build::<i32>(device, &config, producer, on_error, |s| {
            s as f32 / 2_147_483_648.0
        }),
        cpal::SampleFormat::U16 => build::<u16>(device, &config, producer, on_error, |s| {
            (f32::from(s) - 32768.0) / 32768.0
        }),
        other => {
            return Err(unsupported(format!(
                "sample format {other} is not supported"
            )));
        }
    }
    .map_err(|e| AudioError::Device {
        device: device_name(device),
        message: e.to_string(),
    })?;
    stream.play().map_err(|e| AudioError::Device {
        device: device_name(device),
        message: e.to_string(),
    })?;
    let format = StreamFormat {
        sample_rate,
        channels,
    };
    let _ = rings.send((consumer, format));
    let _ = events.send(CaptureEvent::Started {
        device: id.clone(),
        sample_rate,
        channels,
    });
    Ok(Running {
        _stream: stream,
        device: id,
        failed,
        started: Instant::now(),
    })
}

fn build<T: cpal::SizedSample + Copy + Send + 'static>(
    device: &cpal::Device,
    config: &cpal::StreamConfig,
    mut producer: SampleProducer,
    on_error: impl FnMut(cpal::Error) + Send + 'static,
    convert: fn(T) -> f32,
) -> std::result::Result<cpal::Stream, cpal::Error> {
    device.build_input_stream(
        *config,
        move |data: &[T], _: &cpal::InputCallbackInfo| {
            producer.push_converted(data, convert);
        },
        on_error,
        None,
    )
}
