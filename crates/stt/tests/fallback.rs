//! The hand-over end to end: a live two-channel call transcribed by Deepgram (the
//! protocol stand-in) that fails for good mid-call, continued by local whisper (the
//! test set-up's tiny.en) without losing or repeating words.

use cuecard_stt::deepgram::{DeepgramConfig, DeepgramEngine, ReconnectPolicy};
use cuecard_stt::engine::push_clip;
use cuecard_stt::fallback::FallbackEngine;
use cuecard_stt::local::{LocalConfig, LocalEngine, WhisperModel};
use cuecard_stt::standin::{DeepgramScript, DeepgramStandin, Fault, ScriptWord};
use cuecard_stt::testing::{Dialogue, render_dialogue, sales_dialogue_script, test_model};
use cuecard_stt::wer::wer;
use cuecard_stt::{Channel, NoticeLevel, Segment, SpeechEngine, StreamConfig, TranscriptEvent};
use std::sync::{Arc, mpsc};
use std::time::Duration;

const KEY: &str = "dg-test-key-fallback";

/// The first six turns of the sales dialogue (about 30 s).
fn dialogue() -> Dialogue {
    let script = std::fs::read_to_string(sales_dialogue_script()).expect("script");
    let turns: Vec<&str> = script
        .lines()
        .filter(|l| l.starts_with("rep:") || l.starts_with("prospect:"))
        .take(6)
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("six-turns.txt");
    std::fs::write(&path, turns.join("\n")).expect("write script");
    render_dialogue(&path, 700)
}

/// What the stand-in "hears": each turn's words spread evenly over the turn.
fn script_for(d: &Dialogue, channel: Channel) -> Vec<ScriptWord> {
    let mut out = Vec::new();
    for turn in d.turns.iter().filter(|t| t.channel == channel) {
        let words: Vec<&str> = turn.text.split_whitespace().collect();
        let start = f64::from(turn.start_ms) / 1000.0;
        let step = (f64::from(turn.end_ms - turn.start_ms) / 1000.0) / words.len() as f64;
        for (i, w) in words.iter().enumerate() {
            let at = start + step * i as f64;
            out.push(ScriptWord::new(w, at, at + step * 0.8));
        }
    }
    out
}

fn finals(events: &[TranscriptEvent], channel: Channel) -> Vec<Segment> {
    let mut out: Vec<Segment> = events
        .iter()
        .filter_map(|e| match e {
            TranscriptEvent::Final { segment } if segment.channel == channel => {
                Some(segment.clone())
            }
            _ => None,
        })
        .collect();
    out.sort_by_key(|s| s.start_ms);
    out
}

#[test]
fn a_cloud_engine_failing_mid_call_hands_over_to_local_whisper_without_losing_words() {
    let d = dialogue();
    let handover_after = 12.0;
    let script = DeepgramScript::new(KEY)
        .channel(0, script_for(&d, Channel::Rep))
        .channel(1, script_for(&d, Channel::FarEnd))
        .fault(
            0,
            Fault::Close {
                after_secs: handover_after,
                code: 1011,
                reason: "NET-0000".into(),
            },
        )
        .fault(1, Fault::RefuseHandshake { status: 503 })
        .fault(2, Fault::RefuseHandshake { status: 503 })
        .fault(3, Fault::RefuseHandshake { status: 503 });
    let standin = DeepgramStandin::start(script).expect("stand-in");
    let mut config = DeepgramConfig::new(KEY).with_base_url(standin.url());
    config.reconnect = ReconnectPolicy {
        attempts: 3,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
    };
    let cloud: Arc<dyn SpeechEngine> = Arc::new(DeepgramEngine::new(config));
    let model = WhisperModel::load(&test_model("tiny.en")).expect("model");
    let local: Arc<dyn SpeechEngine> = Arc::new(LocalEngine::new(model, LocalConfig::default()));
    let engine = FallbackEngine::new(cloud, local);

    let (tx, rx) = mpsc::channel();
    let stream = StreamConfig {
        channels: vec![Channel::Rep, Channel::FarEnd],
        language: "en".into(),
        paced: true,
    };
    let mut session = engine.start(stream, tx).expect("start");
    push_clip(session.as_mut(), &d.stereo, 1600).expect("push");
    session.finish().expect("finish");
    let events: Vec<TranscriptEvent> = rx.try_iter().collect();

    // Deepgram was tried four times, and the user was told about the hand-over once.
    assert_eq!(standin.connections().len(), 4);
    let warnings: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            TranscriptEvent::Notice { notice } => Some(notice),
            _ => None,
        })
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].level, NoticeLevel::Warning);
    assert!(
        warnings[0].message.contains("local"),
        "{}",
        warnings[0].message
    );

    for channel in [Channel::Rep, Channel::FarEnd] {
        let segments = finals(&events, channel);
        let text: Vec<&str> = segments.iter().map(|s| s.text.as_str()).collect();
        // Nothing lost, nothing said twice: the whole channel, within tiny.en's error.
        let rate = wer(&d.reference(channel), &text.join(" "));
        assert!(rate <= 0.2, "{channel:?}: WER {rate:.2}: {text:?}");
        // Times only move forward across the hand-over.
        for pair in segments.windows(2) {
            assert!(
                pair[1].start_ms + 100 >= pair[0].end_ms,
                "{channel:?}: overlapping finals {:?} / {:?}",
                pair[0],
                pair[1]
            );
        }
        // The words of the last turn come after the hand-over, from whisper.
        let last = d
            .turns
            .iter()
            .rev()
            .find(|t| t.channel == channel)
            .expect("turn");
        assert!(
            segments.iter().any(|s| s.end_ms > last.start_ms),
            "{channel:?}: nothing after the hand-over"
        );
    }
    // Before it failed, the first turn came from Deepgram: its script, word for word.
    let first = finals(&events, Channel::Rep);
    assert!(
        first[0]
            .text
            .starts_with("Hi Dana, this is Sam from Cuecard."),
        "{:?}",
        first[0].text
    );
}
