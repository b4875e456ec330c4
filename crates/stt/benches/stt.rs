//! Speech-to-text figures (BENCHMARKS.md): batch real-time factor and word error rate of
//! the local engine on the espeak sales dialogue and on real recorded speech (LibriVox
//! excerpts from pocketsphinx-testdata) for tiny.en and base, side by side with
//! faster-whisper on the same weights and audio; and live latency — how long after a word
//! is spoken its partial and its final arrive — with tiny.en fed in real time.
//!
//! `cargo bench -p cuecard-stt --features test-support --bench stt`. Set
//! `CUECARD_FASTER_WHISPER` to a Python with faster-whisper to run the peer
//! (scripts/dev.sh bench does). `CUECARD_BENCH_MODELS=base` runs only the named models;
//! `CUECARD_BENCH_SHOW_TEXT=1` prints each transcript.

use cuecard_stt::audio_file::{self, ChannelLayout, Clip};
use cuecard_stt::engine::{SpeechEngine, StreamConfig};
use cuecard_stt::local::{LocalConfig, LocalEngine, WhisperModel};
use cuecard_stt::testing::{
    Dialogue, librivox_excerpts, render_dialogue, sales_dialogue_script, test_assets_dir,
    test_model, write_wav,
};
use cuecard_stt::wer::{WerCounts, counts as wer_counts, normalize, wer};
use cuecard_stt::{Channel, SAMPLE_RATE, TranscriptEvent};
use std::path::Path;
use std::time::{Duration, Instant};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let threads = LocalConfig::default().threads;
    let dialogue = render_dialogue(&sales_dialogue_script(), 700);
    let reference = dialogue.reference_all();
    let mixed = Clip::mono(Channel::Rep, dialogue.mixed.clone());
    let dir = tempfile::tempdir().expect("tempdir");
    let wav = dir.path().join("dialogue.wav");
    write_wav(&wav, &[&dialogue.mixed], SAMPLE_RATE);
    println!(
        "espeak sales dialogue: {:.1} s, {} words; {threads} threads",
        mixed.seconds(),
        normalize(&reference).len()
    );

    // Real recorded speech: the LibriVox excerpts of pocketsphinx-testdata, one clip with
    // a second of silence between them.
    let mut libri = Vec::new();
    let mut libri_reference = Vec::new();
    for (path, text) in librivox_excerpts() {
        let clip = audio_file::load(&path, ChannelLayout::Mixed).expect("LibriVox excerpt");
        libri.extend_from_slice(&clip.channels[0].1);
        libri.resize(libri.len() + SAMPLE_RATE as usize, 0.0);
        libri_reference.push(text);
    }
    let libri_reference = libri_reference.join(" ");
    let libri_wav = dir.path().join("librivox.wav");
    write_wav(&libri_wav, &[&libri], SAMPLE_RATE);
    let libri = Clip::mono(Channel::Rep, libri);
    println!(
        "LibriVox excerpts (pocketsphinx-testdata): {:.1} s, {} words",
        libri.seconds(),
        normalize(&libri_reference).len()
    );

    // CUECARD_BENCH_MODELS=base runs a subset.
    let only = std::env::var("CUECARD_BENCH_MODELS").unwrap_or_default();
    for name in ["tiny.en", "base"] {
        if !only.is_empty() && !only.split(',').any(|m| m == name) {
            continue;
        }
        let model = WhisperModel::load(&test_model(name)).expect("load");
        let engine = LocalEngine::new(model, LocalConfig::default());
        compare(name, &engine, threads, "dialogue", &mixed, &wav, &reference);
        compare(
            name,
            &engine,
            threads,
            "LibriVox",
            &libri,
            &libri_wav,
            &libri_reference,
        );
    }

    live_latency(&dialogue);
}

/// Batch RTF (median of three) and WER of our engine on `clip`, then of faster-whisper on
/// the same audio (`wav`) and weights when `CUECARD_FASTER_WHISPER` names its Python.
fn compare(
    name: &str,
    engine: &LocalEngine,
    threads: usize,
    label: &str,
    clip: &Clip,
    wav: &Path,
    reference: &str,
) {
    let mut rtfs = Vec::new();
    let mut text = String::new();
    for _ in 0..3 {
        let started = Instant::now();
        let segments = engine.transcribe(clip, "en").expect("transcribe");
        rtfs.push(started.elapsed().as_secs_f64() / clip.seconds());
        text = segments
            .iter()
            .map(|s| s.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
    }
    let ours_rtf = median(rtfs);
    let ours_wer = wer(reference, &text);
    if std::env::var_os("CUECARD_BENCH_SHOW_TEXT").is_some() {
        println!("{name} {label} transcript: {text}");
    }
    println!(
        "{name:8} {label:9} cuecard batch:        RTF {ours_rtf:.3}  WER {:.1}%",
        ours_wer * 100.0
    );
    let Some(python) = std::env::var_os("CUECARD_FASTER_WHISPER").filter(|p| !p.is_empty()) else {
        return;
    };
    let ct2 = test_assets_dir().join(format!("{name}-ct2"));
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scripts/bench/run_faster_whisper.py"
    );
    let out = std::process::Command::new(python)
        .arg(script)
        .arg(&ct2)
        .arg(wav)
        .arg(threads.to_string())
        .output()
        .expect("run faster-whisper");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let rtf = json["seconds"].as_f64().unwrap_or(0.0) / clip.seconds();
    let their_wer = wer(reference, json["text"].as_str().unwrap_or(""));
    println!(
        "{name:8} {label:9} faster-whisper batch: RTF {rtf:.3}  WER {:.1}%   (ours/theirs RTF {:.2}×, WER {:+.1} points)",
        their_wer * 100.0,
        ours_rtf / rtf,
        (ours_wer - their_wer) * 100.0
    );
}

/// Feeds the stereo dialogue in real time (20 ms pieces) and times each final word's
/// partial and final against the moment the word ended in the audio; scores the finals.
/// `CUECARD_BENCH_EARLY_COMMIT_MS` overrides `LocalConfig::early_commit_after`.
fn live_latency(dialogue: &Dialogue) {
    let clip = &dialogue.stereo;
    let model = WhisperModel::load(&test_model("tiny.en")).expect("load");
    let mut config = LocalConfig::default();
    if let Some(ms) = std::env::var("CUECARD_BENCH_EARLY_COMMIT_MS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        config.early_commit_after = Duration::from_millis(ms);
    }
    let engine = LocalEngine::new(model, config);
    let (tx, rx) = std::sync::mpsc::channel();
    let config = StreamConfig {
        channels: vec![Channel::Rep, Channel::FarEnd],
        language: "en".into(),
        paced: false,
    };
    let mut session = engine.start(config, tx).expect("start");
    let collector = std::thread::spawn(move || {
        let mut events = Vec::new();
        for event in rx {
            events.push((Instant::now(), event));
        }
        events
    });
    let piece = SAMPLE_RATE as usize / 50;
    let started = Instant::now();
    for (i, at) in (0..clip.frames()).step_by(piece).enumerate() {
        let due = started + Duration::from_millis(20 * (i as u64 + 1));
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        for (channel, samples) in &clip.channels {
            let end = (at + piece).min(samples.len());
            if at < end {
                session.push(*channel, &samples[at..end]).expect("push");
            }
        }
    }
    session.finish().expect("finish");
    let events = collector.join().expect("collector");
    let at = |t: Instant| t.duration_since(started).as_secs_f64();
    let mut final_lat = Vec::new();
    let mut partial_lat = Vec::new();
    for (t, event) in &events {
        let TranscriptEvent::Final { segment } = event else {
            continue;
        };
        for word in &segment.words {
            let spoken = f64::from(word.end_ms) / 1000.0;
            final_lat.push(at(*t) - spoken);
            let key = normalize(&word.word).join(" ");
            // The first partial or final on the channel that showed this word near its time.
            let first = events
                .iter()
                .filter_map(|(t2, e)| match e {
                    TranscriptEvent::Partial { segment: s }
                    | TranscriptEvent::Final { segment: s }
                        if s.channel == segment.channel =>
                    {
                        s.words
                            .iter()
                            .any(|w| {
                                normalize(&w.word).join(" ") == key
                                    && w.start_ms.abs_diff(word.start_ms) < 1500
                            })
                            .then_some(*t2)
                    }
                    _ => None,
                })
                .min();
            if let Some(first) = first {
                partial_lat.push(at(first) - spoken);
            }
        }
    }
    let mut counts = WerCounts::default();
    for channel in [Channel::Rep, Channel::FarEnd] {
        let finals: Vec<&str> = events
            .iter()
            .filter_map(|(_, e)| match e {
                TranscriptEvent::Final { segment } if segment.channel == channel => {
                    Some(segment.text.as_str())
                }
                _ => None,
            })
            .collect();
        counts.add(wer_counts(&dialogue.reference(channel), &finals.join(" ")));
    }
    println!("tiny.en live finals WER {:.1}%", counts.rate() * 100.0);
    println!(
        "tiny.en live, real time, 2 channels: first text p50 {:.2} s p90 {:.2} s; final p50 {:.2} s p90 {:.2} s ({} words)",
        percentile(partial_lat.clone(), 0.5),
        percentile(partial_lat, 0.9),
        percentile(final_lat.clone(), 0.5),
        percentile(final_lat.clone(), 0.9),
        final_lat.len()
    );
}
