//! `cuecard analyze CALL_AUDIO|TRANSCRIPT.json`: what the coach would have shown on a
//! call — the cards fired with their times, the talk-track warnings, the stages, the
//! call's metrics and analysis — and its scorecard. Audio goes through the post-call
//! speech engine first (stereo: rep left, far end right); a transcript is
//! `cuecard transcribe --json` output or a bare list of its segments.
//!
//! With `--contact` (or `--save`) the call is filed in the database: a call record with
//! the summary as its notes, the transcript, the scorecard with its evidence pointing at
//! the stored utterances, the recording copied into the recordings directory (for a
//! transcript, the one named by `--recording`), and a line on the contact's timeline.

use crate::output::Output;
use anyhow::{Context, Result, bail};
use clap::Args;
use cuecard_calls::filing::sort_transcript;
use cuecard_calls::{CallRecord, Filed, RecordingSource, file_call, review_call};
use cuecard_coach::analysis::CallAnalysis;
use cuecard_coach::documents;
use cuecard_coach::live::CoachOutput;
use cuecard_coach::metrics::LiveMetrics;
use cuecard_coach::playbook::Playbook;
use cuecard_coach::scorecard::{Rubric, Score};
use cuecard_core::CallDirection;
use cuecard_store::Store;
use cuecard_stt::audio_file::{self, ChannelLayout};
use cuecard_stt::{Channel, Segment};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct AnalyzeArgs {
    /// A call recording (WAV or Ogg Opus; stereo = rep left, far end right) or a
    /// transcript (`.json`, as `cuecard transcribe --json` writes it).
    pub file: PathBuf,
    /// A playbook TOML file (default: the team's, as edited in the app; else the built-in
    /// playbook for a generic B2B team).
    #[arg(long)]
    pub playbook: Option<PathBuf>,
    /// A scoring rubric TOML file (default: the team's, else the built-in rubric).
    #[arg(long)]
    pub rubric: Option<PathBuf>,
    /// File the call under this contact (id, phone number or e-mail) in the database.
    #[arg(long)]
    pub contact: Option<String>,
    /// File the call in the database (under `--contact` when given).
    #[arg(long)]
    pub save: bool,
    /// With a transcript and `--contact`/`--save`: the call's recording (WAV or Ogg Opus),
    /// copied into the recordings directory and filed with the call, as an analysed
    /// recording is. The call lasts as long as the audio.
    #[arg(long, value_name = "AUDIO")]
    pub recording: Option<PathBuf>,
    /// Whether the rep placed the call or took it.
    #[arg(long, value_enum, default_value = "outbound")]
    pub direction: Direction,
    /// Region for a `--contact` phone number without a country code.
    #[arg(long, default_value = "IN", env = "CUECARD_REGION")]
    pub region: String,
    #[command(flatten)]
    pub speech: crate::cloud::EngineArgs,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Direction {
    Outbound,
    Inbound,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum TranscriptFile {
    Transcript { segments: Vec<Segment> },
    Segments(Vec<Segment>),
}

#[derive(Serialize)]
struct Analysis {
    file: PathBuf,
    playbook: String,
    playbook_version: u32,
    segments: Vec<Segment>,
    coach: Vec<CoachOutput>,
    metrics: LiveMetrics,
    analysis: CallAnalysis,
    score: Score,
    #[serde(skip_serializing_if = "Option::is_none")]
    saved: Option<Filed>,
}

fn read_transcript(path: &Path) -> Result<Vec<Segment>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let parsed: TranscriptFile = serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "{} is not a transcript (line {}, column {}): {e}; expected `cuecard transcribe --json` output",
            path.display(),
            e.line(),
            e.column()
        )
    })?;
    Ok(match parsed {
        TranscriptFile::Transcript { segments } | TranscriptFile::Segments(segments) => segments,
    })
}

pub fn run(
    args: AnalyzeArgs,
    models_dir: PathBuf,
    db: Option<PathBuf>,
    out: &Output,
) -> Result<()> {
    // Find the contact before the (slow) transcription: a wrong one fails fast.
    let filing = match (&db, args.save || args.contact.is_some()) {
        (Some(db), true) => {
            let store = Store::open(db)?;
            let contact = match &args.contact {
                Some(who) => Some(crate::contacts::find(&store, who, &args.region)?),
                None => None,
            };
            Some((store, db.clone(), contact))
        }
        _ => None,
    };
    // The team's playbook and rubric (Settings → Playbook) unless files are named.
    let playbook = match &args.playbook {
        Some(path) => Playbook::load(path)?,
        None => documents::playbook(cuecard_store::playbook_path().as_deref())?,
    };
    let is_json = args
        .file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    // A transcript's recording is read before anything is filed: a file that is not
    // audio fails here, naming it.
    let recording_ms = match &args.recording {
        None => None,
        Some(_) if !is_json => bail!(
            "--recording is for a transcript; {} is itself the call's audio",
            args.file.display()
        ),
        Some(_) if filing.is_none() => {
            bail!("--recording files the call's audio: add --contact or --save")
        }
        Some(path) => {
            let clip = audio_file::load(path, ChannelLayout::Call).context("--recording")?;
            Some((clip.seconds() * 1000.0).round() as u32)
        }
    };
    let mut segments = if is_json {
        read_transcript(&args.file)?
    } else {
        let clip = audio_file::load(&args.file, ChannelLayout::Call)?;
        let (selected, _, language) = crate::cloud::post_call_engine(&args.speech, models_dir)?;
        selected.engine.transcribe(&clip, &language)?
    };
    if segments.is_empty() {
        bail!("{}: no speech to analyse", args.file.display());
    }
    sort_transcript(&mut segments);
    let rubric = match &args.rubric {
        Some(path) => Rubric::load(path)?,
        None => documents::rubric(cuecard_store::rubric_path().as_deref())?,
    };
    let review = review_call(&playbook, &rubric, &segments)?;
    let saved = match filing {
        Some((mut store, db, contact)) => Some(file_call(
            &mut store,
            &db,
            CallRecord {
                contact: contact.as_ref(),
                direction: match args.direction {
                    Direction::Outbound => CallDirection::Outbound,
                    Direction::Inbound => CallDirection::Inbound,
                },
                segments: &segments,
                review: &review,
                recording: if is_json {
                    args.recording.as_deref().map(RecordingSource::Copy)
                } else {
                    Some(RecordingSource::Copy(&args.file))
                },
                duration_ms: recording_ms,
                ended_at: cuecard_core::now(),
                logged: None,
            },
        )?),
        None => None,
    };
    let analysis = Analysis {
        file: args.file,
        playbook: playbook.playbook.id.clone(),
        playbook_version: playbook.playbook.version,
        coach: review.shown.into_iter().map(|(_, o)| o).collect(),
        metrics: review.metrics,
        analysis: review.analysis,
        score: review.score,
        segments,
        saved,
    };
    out.print(&analysis, |a| {
        for o in &a.coach {
            match o {
                CoachOutput::Card(c) => println!(
                    "[{}] card  {:<26} ({} said “{}”)",
                    clock(c.at_ms),
                    c.title,
                    who(c.channel),
                    c.trigger
                ),
                CoachOutput::Warning(w) => println!(
                    "[{}] {:?}  {}: {}",
                    clock(w.at_ms),
                    w.severity,
                    w.title,
                    w.message
                ),
                CoachOutput::Stage(s) => println!(
                    "[{}] stage {} → {}{}",
                    clock(s.at_ms),
                    s.previous.label(),
                    s.stage.label(),
                    s.suggestions
                        .first()
                        .map_or(String::new(), |first| format!(": {first}"))
                ),
            }
        }
        let m = &a.metrics;
        println!();
        if let Some(r) = m.talk_ratio {
            println!("talk ratio        rep {:.0}%", r * 100.0);
        }
        println!(
            "longest monologue {:.1} s",
            f64::from(m.longest_monologue_ms) / 1000.0
        );
        if let Some(p) = m.patience_ms {
            println!("patience          {:.1} s", f64::from(p) / 1000.0);
        }
        if let Some(p) = m.objection_patience_ms {
            println!(
                "after objections  {:.1} s before answering",
                f64::from(p) / 1000.0
            );
        }
        println!(
            "customer's story  {:.1} s at the longest",
            f64::from(a.analysis.longest_customer_story_ms) / 1000.0
        );
        println!(
            "interactivity     {:.1} switches/min",
            a.analysis.interactivity
        );
        println!("questions         {}", m.questions);
        for c in &m.competitor_mentions {
            println!("competitor        {} ×{}", c.competitor, c.count);
        }
        if let Some(w) = m.words_per_minute {
            println!("pace              {w:.0} words/min");
        }
        println!("fillers           {}", m.fillers);
        if let Some(s) = m.prospect_sentiment {
            println!("prospect mood     {s:+.2} ({:?})", m.sentiment_trend);
        }
        for step in &a.analysis.next_steps {
            let quote = a.segments.get(step.utterance).map_or("", |s| s.text.trim());
            println!(
                "next step         {:.0}% clear  “{quote}”{}",
                step.clarity * 100.0,
                if step.missing.is_empty() {
                    String::new()
                } else {
                    format!(" (lacks {})", step.missing.join(", "))
                }
            );
        }
        println!();
        for line in &a.analysis.summary {
            println!("{line}");
        }
        let s = &a.score;
        println!(
            "\nscore {}/100 (rubric {} v{})",
            s.total, s.rubric_id, s.rubric_version
        );
        for c in &s.categories {
            println!("  {:<20} {:>3}", c.label, c.score);
        }
        for c in &s.checks {
            println!(
                "  {:>3.0}%  {}: {}",
                c.credit * 100.0,
                c.label,
                c.explanation
            );
        }
        if let Some(saved) = &a.saved {
            println!("\nsaved as call {}", saved.call_id);
            if let Some(path) = &saved.recording {
                println!("recording copied to {}", path.display());
            }
        }
    })
}

fn who(channel: Channel) -> &'static str {
    match channel {
        Channel::Rep => "rep",
        Channel::FarEnd => "prospect",
    }
}

/// `mm:ss`.
fn clock(ms: u32) -> String {
    format!("{:02}:{:02}", ms / 60_000, (ms / 1000) % 60)
}
