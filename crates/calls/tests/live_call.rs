//! A live call end to end on real components: a private PulseAudio daemon (its null
//! sinks are the rep's mic and the speakers), the far end captured from the speakers'
//! loopback as for a call in another app, tiny.en transcribing both sides as they speak,
//! the default playbook coaching, the recording written, and the call filed in a real
//! database.

use anyhow::Result;
use cuecard_audio::capture::CaptureOptions;
use cuecard_audio::dual::{DualOptions, FarEnd};
use cuecard_audio::recorder::read_recording;
use cuecard_audio::testing::PulseServer;
use cuecard_calls::{
    CallRecord, LiveEvent, LiveSession, RecordingSource, SessionOptions, file_call, review_call,
};
use cuecard_coach::Playbook;
use cuecard_coach::live::CoachOutput;
use cuecard_coach::playbook::{CardKind, ObjectionType};
use cuecard_coach::scorecard::Rubric;
use cuecard_core::{CallDirection, Channel, ContactFields, Phone};
use cuecard_store::Store;
use cuecard_stt::local::{LocalConfig, LocalEngine, WhisperModel};
use cuecard_stt::testing::{speak, test_model};
use cuecard_stt::{SpeechEngine, TranscriptEvent};
use std::sync::{Arc, mpsc};
use std::time::Duration;

fn rms(samples: &[f32]) -> f32 {
    (samples.iter().map(|s| s * s).sum::<f32>() / samples.len().max(1) as f32).sqrt()
}

#[test]
fn a_call_in_another_app_is_transcribed_coached_recorded_and_filed() -> Result<()> {
    let pulse = PulseServer::start();
    let model = WhisperModel::load(&test_model("tiny.en"))?;
    let engine: Arc<dyn SpeechEngine> = Arc::new(LocalEngine::new(model, LocalConfig::default()));
    let dir = tempfile::tempdir()?;
    let recording = dir.path().join("live.wav");
    let (tx, rx) = mpsc::channel();
    let session = LiveSession::start(
        engine,
        SessionOptions {
            capture: DualOptions {
                far: FarEnd::Device(CaptureOptions {
                    device: Some("far_end.monitor".into()),
                    ..CaptureOptions::default()
                }),
                ..DualOptions::mic(None)
            },
            language: "en".into(),
            playbook: Playbook::default_b2b(),
            assist: None,
            recording: Some(recording.clone()),
        },
        tx,
    )?;
    assert!(
        session.rep_device().contains("mic_feed"),
        "{}",
        session.rep_device()
    );
    assert!(
        session
            .far_device()
            .is_some_and(|d| d.ends_with("far_end.monitor")),
        "{:?}",
        session.far_device()
    );

    let rep = speak(
        "Hi Dana, this is Sam from Cuecard. Is now a good time to talk about your team?",
        "en-us",
    );
    pulse.play("mic_feed", &rep).wait()?;
    std::thread::sleep(Duration::from_millis(700));
    let prospect = speak(
        "Honestly, it is too expensive for us right now.",
        "en-us+f3",
    );
    pulse.play("far_end", &prospect).wait()?;
    std::thread::sleep(Duration::from_millis(1500));
    let finished = session.stop()?;
    let shown: Vec<LiveEvent> = rx.try_iter().collect();

    // The price objection came up as a card, raised by the prospect's side.
    let card = shown
        .iter()
        .find_map(|e| match e {
            LiveEvent::Coach {
                output: CoachOutput::Card(card),
                ..
            } if card.kind == CardKind::Objection => Some(card),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no objection card: {shown:?}"));
    assert_eq!(card.objection, Some(ObjectionType::Price));
    assert_eq!(card.channel, Channel::FarEnd);
    assert!(
        !shown.iter().any(|e| matches!(
            e,
            LiveEvent::Transcript {
                event: TranscriptEvent::Notice { .. }
            }
        )),
        "no device or engine trouble: {shown:?}"
    );
    assert!(
        shown
            .iter()
            .any(|e| matches!(e, LiveEvent::Metrics { metrics, .. } if metrics.rep_talk_ms > 0 && metrics.prospect_talk_ms > 0)),
        "the metrics bar saw both sides"
    );

    // Both sides' finals, in order, became the transcript.
    let sides: Vec<Channel> = finished.segments.iter().map(|s| s.channel).collect();
    assert!(
        sides.contains(&Channel::Rep) && sides.contains(&Channel::FarEnd),
        "{sides:?}"
    );
    let first_far = sides.iter().position(|c| *c == Channel::FarEnd);
    assert!(
        sides.iter().position(|c| *c == Channel::Rep) < first_far,
        "{sides:?}"
    );
    assert!(
        finished.duration_ms > 4_000,
        "{} ms captured",
        finished.duration_ms
    );

    // The recording holds the rep on the left and the prospect on the right: where the
    // transcript has a side speaking, that side is the loud one.
    let path = finished.recording.clone().expect("recorded");
    let audio = read_recording(&path)?;
    let at = |ms: u32| (ms as usize * audio.sample_rate as usize / 1000).min(audio.rep.len());
    for segment in &finished.segments {
        let span = at(segment.start_ms)..at(segment.end_ms);
        let (own, other) = match segment.channel {
            Channel::Rep => (&audio.rep, &audio.far),
            Channel::FarEnd => (&audio.far, &audio.rep),
        };
        assert!(
            rms(&own[span.clone()]) > 5.0 * rms(&other[span.clone()]).max(1e-4),
            "{:?} at {span:?} is not on its own channel",
            segment.text
        );
    }

    // Filed under the contact: the recording moves into the recordings directory.
    let db = dir.path().join("cuecard.db");
    let mut store = Store::open(&db)?;
    let contact = store.write(|w| {
        w.create_contact(
            ContactFields {
                name: "Dana Lee".into(),
                phones: vec![Phone {
                    e164: "+14155550100".into(),
                    label: None,
                }],
                ..ContactFields::default()
            },
            &cuecard_store::Provenance::Manual,
        )
    })?;
    let review = review_call(
        &Playbook::default_b2b(),
        &Rubric::default_rubric(),
        &finished.segments,
    )?;
    let filed = file_call(
        &mut store,
        &db,
        CallRecord {
            contact: Some(&contact),
            direction: CallDirection::Outbound,
            segments: &finished.segments,
            review: &review,
            recording: Some(RecordingSource::Move(&path)),
            duration_ms: Some(finished.duration_ms),
            ended_at: cuecard_core::now(),
            logged: None,
        },
    )?;
    assert!(!path.exists(), "moved, not copied");
    let placed = filed.recording.expect("placed");
    assert!(placed.starts_with(dir.path().join("recordings")));
    let calls = store.calls_for_contact(contact.id)?;
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].to, "+14155550100");
    let utterances = store.transcript(filed.call_id)?;
    assert_eq!(utterances.len(), finished.segments.len());
    Ok(())
}

#[test]
fn a_missing_microphone_is_a_clear_error_and_leaves_no_recording() -> Result<()> {
    let _pulse = PulseServer::start();
    let model = WhisperModel::load(&test_model("tiny.en"))?;
    let engine: Arc<dyn SpeechEngine> = Arc::new(LocalEngine::new(model, LocalConfig::default()));
    let dir = tempfile::tempdir()?;
    let recording = dir.path().join("live.ogg");
    let (tx, _rx) = mpsc::channel();
    let err = LiveSession::start(
        engine,
        SessionOptions {
            capture: DualOptions::mic(Some("no-such-mic".into())),
            language: "en".into(),
            playbook: Playbook::default_b2b(),
            assist: None,
            recording: Some(recording.clone()),
        },
        tx,
    )
    .err()
    .expect("no such device")
    .to_string();
    assert!(err.contains("no-such-mic"), "{err}");
    assert!(!recording.exists(), "a refused start leaves no file");
    Ok(())
}
