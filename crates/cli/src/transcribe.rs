//! `cuecard transcribe FILE`: speech-to-text of an audio file with any engine.

use crate::output::Output;
use anyhow::Result;
use clap::Args;
use cuecard_stt::audio_file::{self, ChannelLayout, Clip};
use cuecard_stt::engine::{EngineKind, SpeechEngine, StreamConfig, push_clip};
use cuecard_stt::{Channel, Segment, TranscriptEvent};
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Args)]
pub struct TranscribeArgs {
    /// A WAV file (any rate and sample format) or a Cuecard call recording (Ogg Opus or
    /// WAV). Stereo files are calls: the rep on the left, the far end on the right.
    pub file: PathBuf,
    #[command(flatten)]
    pub speech: crate::cloud::EngineArgs,
    /// Mix all channels into one instead of reading stereo as rep/far end.
    #[arg(long)]
    pub mixed: bool,
    /// Stream the file through a live session and print every event (partials, finals,
    /// ends of utterance) as it happens, instead of the batch result.
    #[arg(long)]
    pub events: bool,
}

#[derive(Serialize)]
struct Transcript {
    file: PathBuf,
    engine: EngineKind,
    model: Option<String>,
    audio_seconds: f64,
    elapsed_seconds: f64,
    real_time_factor: f64,
    segments: Vec<Segment>,
}

pub fn run(args: TranscribeArgs, models_dir: PathBuf, out: &Output) -> Result<()> {
    let layout = if args.mixed {
        ChannelLayout::Mixed
    } else {
        ChannelLayout::Call
    };
    let clip = audio_file::load(&args.file, layout)?;
    let (selected, model, language) = crate::cloud::post_call_engine(&args.speech, models_dir)?;
    let engine = selected.engine;
    if args.events {
        return print_events(engine.as_ref(), &clip, &language, out);
    }
    let started = Instant::now();
    let segments = engine.transcribe(&clip, &language)?;
    let elapsed = started.elapsed().as_secs_f64();
    let transcript = Transcript {
        file: args.file,
        engine: selected.kind,
        model,
        audio_seconds: clip.seconds(),
        elapsed_seconds: elapsed,
        real_time_factor: elapsed / clip.seconds().max(1e-9),
        segments,
    };
    out.print(&transcript, |t| {
        let stereo = clip.channels.len() > 1;
        for s in &t.segments {
            let who = match (stereo, s.channel) {
                (false, _) => "",
                (true, Channel::Rep) => "rep: ",
                (true, Channel::FarEnd) => "far end: ",
            };
            println!(
                "[{} → {}] {who}{}",
                clock(s.start_ms),
                clock(s.end_ms),
                s.text
            );
        }
        eprintln!(
            "{:.1} s of audio in {:.1} s (real-time factor {:.2})",
            t.audio_seconds, t.elapsed_seconds, t.real_time_factor
        );
    })
}

/// Streams the file through a session and prints events as JSON lines or text.
fn print_events(
    engine: &dyn SpeechEngine,
    clip: &Clip,
    language: &str,
    out: &Output,
) -> Result<()> {
    let (tx, rx) = std::sync::mpsc::channel();
    let config = StreamConfig {
        channels: clip.channels.iter().map(|(c, _)| *c).collect(),
        language: language.into(),
        paced: true,
    };
    let json = out.json;
    let printer = std::thread::spawn(move || {
        for event in rx {
            if json {
                if let Ok(line) = serde_json::to_string(&event) {
                    println!("{line}");
                }
                continue;
            }
            match event {
                TranscriptEvent::Partial { segment } => {
                    println!("  … {:?} {}", segment.channel, segment.text)
                }
                TranscriptEvent::Final { segment } => println!(
                    "[{}] {:?} {}",
                    clock(segment.start_ms),
                    segment.channel,
                    segment.text
                ),
                TranscriptEvent::EndOfUtterance { channel, at_ms } => {
                    println!("[{}] {channel:?} (end of utterance)", clock(at_ms))
                }
                TranscriptEvent::Notice { notice } => {
                    eprintln!(
                        "{:?} from {}: {}",
                        notice.level, notice.engine, notice.message
                    )
                }
            }
        }
    });
    let mut session = engine.start(config, tx)?;
    push_clip(
        session.as_mut(),
        clip,
        cuecard_stt::SAMPLE_RATE as usize / 10,
    )?;
    session.finish()?;
    printer
        .join()
        .map_err(|_| anyhow::anyhow!("the event printer panicked"))?;
    Ok(())
}

/// `mm:ss.t`.
fn clock(ms: u32) -> String {
    format!(
        "{:02}:{:04.1}",
        ms / 60_000,
        f64::from(ms % 60_000) / 1000.0
    )
}
