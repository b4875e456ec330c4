//! The local whisper engine on real models: accuracy on a two-speaker espeak dialogue,
//! streaming against batch, partials converging to finals, hallucination guards, and bad
//! model files.

use cuecard_stt::audio_file::Clip;
use cuecard_stt::engine::{SpeechEngine, StreamConfig, push_clip};
use cuecard_stt::event::{Collected, TranscriptEvent};
use cuecard_stt::local::{LocalConfig, LocalEngine, WhisperModel};
use cuecard_stt::testing::{Dialogue, render_dialogue, sales_dialogue_script, test_model};
use cuecard_stt::wer::{normalize, wer};
use cuecard_stt::{Channel, SAMPLE_RATE, Segment};
use std::sync::{LazyLock, mpsc};

static TINY: LazyLock<LocalEngine> = LazyLock::new(|| {
    let model = WhisperModel::load(&test_model("tiny.en")).expect("load tiny.en");
    LocalEngine::new(model, LocalConfig::default())
});

static DIALOGUE: LazyLock<Dialogue> =
    LazyLock::new(|| render_dialogue(&sales_dialogue_script(), 700));

fn text_of(segments: &[Segment], channel: Option<Channel>) -> String {
    segments
        .iter()
        .filter(|s| channel.is_none_or(|c| s.channel == c))
        .map(|s| s.text.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Streams `clip` through a fresh session, returning every event in order.
fn stream_events(engine: &LocalEngine, clip: &Clip) -> Vec<TranscriptEvent> {
    let (tx, rx) = mpsc::channel();
    let config = StreamConfig {
        channels: clip.channels.iter().map(|(c, _)| *c).collect(),
        language: "en".into(),
        paced: true,
    };
    let mut session = engine.start(config, tx).expect("start");
    push_clip(session.as_mut(), clip, SAMPLE_RATE as usize / 50).expect("push");
    session.finish().expect("finish");
    rx.try_iter().collect()
}

#[test]
fn batch_word_error_rate_on_the_mixed_dialogue_is_under_ten_percent() {
    let clip = Clip::mono(Channel::Rep, DIALOGUE.mixed.clone());
    let segments = TINY.transcribe(&clip, "en").expect("transcribe");
    let hypothesis = text_of(&segments, None);
    let rate = wer(&DIALOGUE.reference_all(), &hypothesis);
    eprintln!("WER {:.1}%: {hypothesis}", rate * 100.0);
    assert!(rate <= 0.10, "WER {:.1}% > 10%: {hypothesis}", rate * 100.0);
    // Word times are ordered and inside the audio.
    let end_ms = (DIALOGUE.mixed.len() as u64 * 1000 / u64::from(SAMPLE_RATE)) as u32;
    for s in &segments {
        for w in s.words.windows(2) {
            assert!(w[0].start_ms <= w[1].start_ms, "{w:?}");
        }
        assert!(s.end_ms <= end_ms && s.start_ms <= s.end_ms);
    }
}

#[test]
fn batch_keeps_the_two_channels_apart() {
    let segments = TINY.transcribe(&DIALOGUE.stereo, "en").expect("transcribe");
    for channel in [Channel::Rep, Channel::FarEnd] {
        let hypothesis = text_of(&segments, Some(channel));
        let rate = wer(&DIALOGUE.reference(channel), &hypothesis);
        eprintln!("{channel:?} WER {:.1}%", rate * 100.0);
        // The prospect's voice (espeak's en-us+f3) is the harder of the two for tiny.en;
        // both figures are in BENCHMARKS.md.
        assert!(
            rate <= 0.20,
            "{channel:?}: WER {:.1}%: {hypothesis}",
            rate * 100.0
        );
    }
    // Each segment starts inside a turn of its own channel.
    for s in &segments {
        let turn = DIALOGUE
            .turns
            .iter()
            .find(|t| s.start_ms + 300 >= t.start_ms && s.start_ms <= t.end_ms)
            .unwrap_or_else(|| panic!("no turn at the start of {s:?}"));
        assert_eq!(turn.channel, s.channel, "{s:?}");
    }
}

#[test]
fn streaming_agrees_with_batch_and_partials_converge_to_finals() {
    let batch = TINY.transcribe(&DIALOGUE.stereo, "en").expect("batch");
    let events = stream_events(&TINY, &DIALOGUE.stereo);
    let mut collected = Collected::default();
    for e in events.iter().cloned() {
        collected.push(e);
    }
    let partials = collected.partials;
    let streamed = collected.finish();
    for channel in [Channel::Rep, Channel::FarEnd] {
        let s = text_of(&streamed, Some(channel));
        let b = text_of(&batch, Some(channel));
        let reference = DIALOGUE.reference(channel);
        let agreement = wer(&b, &s);
        eprintln!(
            "{channel:?}: stream WER {:.1}%, batch WER {:.1}%, stream vs batch {:.1}%",
            wer(&reference, &s) * 100.0,
            wer(&reference, &b) * 100.0,
            agreement * 100.0
        );
        // Live finals commit from greedy partial decodes, batch decodes with a beam: they
        // differ in a few words, not in substance.
        assert!(
            agreement <= 0.20,
            "{channel:?}: stream {s:?} vs batch {b:?}"
        );
        assert!(wer(&reference, &s) <= 0.25, "{channel:?}: {s}");
    }
    assert!(partials >= 10, "only {partials} partials");

    // Convergence: the words of the last partial before each end of utterance are the
    // words the finals committed for that stretch.
    let mut last_partial: [Option<Segment>; 2] = [None, None];
    let idx = |c: Channel| usize::from(c == Channel::FarEnd);
    let mut finals_since: [Vec<String>; 2] = [Vec::new(), Vec::new()];
    let mut checked = 0;
    for event in &events {
        match event {
            TranscriptEvent::Partial { segment } => {
                last_partial[idx(segment.channel)] = Some(segment.clone());
                finals_since[idx(segment.channel)].clear();
            }
            TranscriptEvent::Final { segment } => {
                finals_since[idx(segment.channel)].extend(normalize(&segment.text));
            }
            TranscriptEvent::EndOfUtterance { channel, .. } => {
                if let Some(p) = last_partial[idx(*channel)].take() {
                    // Every word of the last partial made it into the finals after it.
                    let committed = &finals_since[idx(*channel)];
                    let words = normalize(&p.text);
                    let found = words.iter().filter(|w| committed.contains(w)).count();
                    assert!(
                        found * 2 >= words.len(),
                        "partial {:?} became {committed:?}",
                        p.text
                    );
                    checked += 1;
                }
                finals_since[idx(*channel)].clear();
            }
            TranscriptEvent::Notice { notice } => panic!("unexpected notice {notice:?}"),
        }
    }
    assert!(checked >= 4, "only {checked} utterances had partials");

    // Finals never overlap: each starts after the previous one on its channel ended.
    for channel in [Channel::Rep, Channel::FarEnd] {
        let mut last_end = 0;
        for e in &events {
            if let TranscriptEvent::Final { segment } = e
                && segment.channel == channel
            {
                assert!(
                    segment.start_ms + 150 >= last_end,
                    "{segment:?} after {last_end}"
                );
                last_end = segment.end_ms;
            }
        }
    }
}

#[test]
fn silence_and_noise_produce_no_words() {
    let silence = vec![0.0f32; SAMPLE_RATE as usize * 5];
    let mut state = 0x2545_f491_u32;
    let noise: Vec<f32> = (0..SAMPLE_RATE as usize * 5)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state as f32 / u32::MAX as f32 - 0.5) * 0.02
        })
        .collect();
    for (name, audio) in [("silence", silence), ("noise", noise)] {
        let clip = Clip::mono(Channel::Rep, audio);
        let batch = TINY.transcribe(&clip, "en").expect("batch");
        assert!(batch.is_empty(), "{name}: batch heard {batch:?}");
        let events = stream_events(&TINY, &clip);
        assert!(events.is_empty(), "{name}: stream heard {events:?}");
    }
}

#[test]
fn truncated_and_corrupt_models_are_clear_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = std::fs::read(test_model("tiny.en")).expect("read model");

    let truncated = dir.path().join("truncated.bin");
    std::fs::write(&truncated, &good[..good.len() / 2]).expect("write");
    let err = WhisperModel::load(&truncated)
        .expect_err("truncated")
        .to_string();
    assert!(
        err.contains("truncated.bin") && err.contains("ends inside"),
        "{err}"
    );

    let mut corrupt = good[..4096].to_vec();
    corrupt[8..12].copy_from_slice(&(-5i32).to_le_bytes());
    let path = dir.path().join("corrupt.bin");
    std::fs::write(&path, &corrupt).expect("write");
    let err = WhisperModel::load(&path).expect_err("corrupt").to_string();
    assert!(
        err.contains("corrupt.bin") && err.contains("implausible"),
        "{err}"
    );

    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a model").expect("write");
    let err = WhisperModel::load(&text).expect_err("text").to_string();
    assert!(err.contains("not a ggml whisper model"), "{err}");
}
