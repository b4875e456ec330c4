//! `cuecard audio devices|record|meter`: the audio engine from the command line.

use crate::output::Output;
use anyhow::{Context, Result, bail};
use clap::{Subcommand, ValueEnum};
use cuecard_audio::capture::{CaptureEvent, CaptureOptions};
use cuecard_audio::check::{MeterReading, MeterSession};
use cuecard_audio::device::{AudioHost, DeviceInfo, Direction};
use cuecard_audio::dual::{DualCapture, DualOptions, FarEnd, POLL_INTERVAL};
use cuecard_audio::recorder::{Recorder, RecordingFormat};
use cuecard_audio::vad::VadEvent;
use cuecard_audio::{SPEECH_RATE, loopback};
use serde::Serialize;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Subcommand)]
pub enum AudioCommand {
    /// List input and output devices; the defaults are marked.
    Devices,
    /// Record the rep's mic (left) and the far end (right) to a dual-channel file.
    Record {
        /// Where to write (.opus/.ogg: Ogg Opus; .wav: 16-bit WAV). Must not exist.
        out: PathBuf,
        /// How long to record.
        #[arg(long)]
        seconds: f64,
        /// Microphone (device id or name; default: the system's default input).
        #[arg(long)]
        mic: Option<String>,
        /// The far end: `loopback` (what the speakers play), `none`, or an input device.
        #[arg(long, default_value = "loopback")]
        far_end: String,
        /// Container and codec (default: from the file name).
        #[arg(long, value_enum)]
        format: Option<FormatArg>,
        /// Leave the far end's echo in the mic channel.
        #[arg(long)]
        no_echo_cancellation: bool,
    },
    /// Show the microphone's level about ten times a second.
    Meter {
        /// Input device (id or name; default: the system's default input).
        #[arg(long)]
        device: Option<String>,
        /// Stop after this long (default: until interrupted).
        #[arg(long)]
        seconds: Option<f64>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Opus,
    Wav,
}

pub fn run(cmd: AudioCommand, out: &Output) -> Result<()> {
    match cmd {
        AudioCommand::Devices => devices(out),
        AudioCommand::Record {
            out: path,
            seconds,
            mic,
            far_end,
            format,
            no_echo_cancellation,
        } => record(
            out,
            RecordArgs {
                path,
                seconds,
                mic,
                far_end,
                format,
                echo_cancellation: !no_echo_cancellation,
            },
        ),
        AudioCommand::Meter { device, seconds } => meter(out, device, seconds),
    }
}

fn devices(out: &Output) -> Result<()> {
    let host = AudioHost::new()?;
    let devices = host.devices().context("listing audio devices")?;
    out.print(&devices, |devices: &Vec<DeviceInfo>| {
        println!("Audio system: {}", host.name());
        for direction in [Direction::Input, Direction::Output] {
            println!(
                "\n{}:",
                if direction == Direction::Input {
                    "Inputs"
                } else {
                    "Outputs"
                }
            );
            for d in devices.iter().filter(|d| d.direction == direction) {
                let format = match (d.sample_rate, d.channels) {
                    (Some(rate), Some(ch)) => format!("{rate} Hz, {ch} ch"),
                    _ => "format unknown".into(),
                };
                println!(
                    "  {} {}{}  ({format})\n      id: {}",
                    if d.is_default { "*" } else { " " },
                    d.name,
                    if d.is_monitor { " [loopback]" } else { "" },
                    d.id
                );
            }
        }
        println!("\n* default device");
    })
}

struct RecordArgs {
    path: PathBuf,
    seconds: f64,
    mic: Option<String>,
    far_end: String,
    format: Option<FormatArg>,
    echo_cancellation: bool,
}

#[derive(Serialize)]
struct RecordReport {
    path: PathBuf,
    format: RecordingFormat,
    seconds: f64,
    mic: String,
    far_end: Option<String>,
    dropped_samples: u64,
    restarts: u64,
    rep_speech_segments: usize,
    far_speech_segments: usize,
    device_events: Vec<String>,
}

fn record(out: &Output, args: RecordArgs) -> Result<()> {
    if !(args.seconds > 0.0 && args.seconds.is_finite()) {
        bail!("--seconds must be a positive number, not {}", args.seconds);
    }
    if args.path.exists() {
        bail!(
            "{} already exists; recordings are never overwritten",
            args.path.display()
        );
    }
    let format = match args.format {
        Some(FormatArg::Opus) => RecordingFormat::OggOpus,
        Some(FormatArg::Wav) => RecordingFormat::Wav,
        None => RecordingFormat::for_path(&args.path),
    };
    let host = AudioHost::new()?;
    let far_device = match args.far_end.as_str() {
        "none" => None,
        "loopback" => Some(loopback::default_output_loopback(&host)?),
        device => Some(device.to_owned()),
    };
    let options = DualOptions {
        rep: CaptureOptions {
            device: args.mic.clone(),
            ..CaptureOptions::default()
        },
        far: match far_device.clone() {
            Some(device) => FarEnd::Device(CaptureOptions {
                device: Some(device),
                ..CaptureOptions::default()
            }),
            None => FarEnd::None,
        },
        echo_cancellation: args.echo_cancellation && args.far_end == "loopback",
        ..DualOptions::default()
    };
    let mut dual = DualCapture::start(options)?;
    let mut recorder = Recorder::create(&args.path, format, SPEECH_RATE)?;
    let (mut rep, mut far) = (Vec::new(), Vec::new());
    let mut segments = (0, 0);
    let mut device_events = Vec::new();
    let target = (args.seconds * f64::from(SPEECH_RATE)) as u64;
    let mut written = 0u64;
    let started = Instant::now();
    let mut result = Ok(());
    while written < target {
        std::thread::sleep(POLL_INTERVAL);
        let update = dual.poll(&mut rep, &mut far)?;
        segments.0 += ended(&update.rep.vad);
        segments.1 += ended(&update.far.vad);
        for (channel, event) in dual.events() {
            if !matches!(event, CaptureEvent::Started { .. }) {
                let line = format!("{channel:?}: {event:?}");
                if !out.json {
                    eprintln!("{line}");
                }
                device_events.push(line);
            }
        }
        let n = rep.len().min((target - written) as usize);
        if let Err(e) = recorder.write(&rep[..n], &far[..n]) {
            result = Err(e);
            break;
        }
        written += n as u64;
        rep.clear();
        far.clear();
        if started.elapsed().as_secs_f64() > args.seconds * 2.0 + 5.0 {
            result = Err(cuecard_audio::AudioError::Device {
                device: dual.rep_capture().device().to_owned(),
                message: "the microphone delivered too little audio".into(),
            });
            break;
        }
    }
    let tail = dual.finish();
    segments.0 += ended(&tail.rep.vad);
    segments.1 += ended(&tail.far.vad);
    let seconds = recorder.seconds();
    // Whatever happened, close the file so what was recorded plays.
    let finished = recorder.finish();
    result.with_context(|| format!("recording stopped after {seconds:.1} s (kept)"))?;
    finished?;
    let metrics = dual.rep_capture().metrics().snapshot();
    let far_metrics = dual.far_capture().map(|c| c.metrics().snapshot());
    let report = RecordReport {
        path: args.path.clone(),
        format,
        seconds,
        mic: dual.rep_capture().device().to_owned(),
        far_end: far_device,
        dropped_samples: metrics.dropped + far_metrics.map_or(0, |m| m.dropped),
        restarts: metrics.restarts + far_metrics.map_or(0, |m| m.restarts),
        rep_speech_segments: segments.0,
        far_speech_segments: segments.1,
        device_events,
    };
    out.print(&report, |r| {
        println!("Recorded {:.1} s to {}", r.seconds, r.path.display());
        println!(
            "  left (rep):  {} — {} speech segments",
            r.mic, r.rep_speech_segments
        );
        match &r.far_end {
            Some(far) => println!(
                "  right (far): {far} — {} speech segments",
                r.far_speech_segments
            ),
            None => println!("  right (far): silent (--far-end none)"),
        }
        if r.dropped_samples > 0 {
            println!("  warning: {} samples dropped", r.dropped_samples);
        }
    })
}

fn ended(events: &[VadEvent]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, VadEvent::SpeechEnded { .. }))
        .count()
}

fn meter(out: &Output, device: Option<String>, seconds: Option<f64>) -> Result<()> {
    let started = Instant::now();
    let json = out.json;
    let session = MeterSession::start(
        device,
        move |r: MeterReading| {
            let level = r.level;
            if json {
                let line = serde_json::json!({
                    "t": started.elapsed().as_secs_f64(),
                    "rms_db": level.rms_db,
                    "peak_db": level.peak_db,
                    "clipped": level.clipped,
                    "speaking": r.speaking,
                });
                println!("{line}");
            } else {
                let width = ((level.rms_db + 60.0).clamp(0.0, 60.0) / 2.0) as usize;
                println!(
                    "{:6.1} dBFS  peak {:6.1}  {:<30}{}{}",
                    level.rms_db,
                    level.peak_db,
                    "#".repeat(width),
                    if r.speaking { "  speech" } else { "" },
                    if level.clipped { "  CLIPPING" } else { "" }
                );
            }
        },
        |event| match event {
            CaptureEvent::Error { device, message } => eprintln!("{device}: {message}"),
            CaptureEvent::Restarted { device, reason } => eprintln!("now on {device}: {reason}"),
            _ => {}
        },
    )?;
    if !out.json {
        eprintln!("{} (Ctrl-C to stop)", session.device());
    }
    match seconds {
        Some(s) => std::thread::sleep(Duration::from_secs_f64(s.max(0.0))),
        None => loop {
            std::thread::sleep(Duration::from_secs(3600));
        },
    }
    session.stop();
    Ok(())
}
