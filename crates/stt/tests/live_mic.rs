//! The live microphone transcription (Settings → Speech's test) end to end: speech
//! played into a PulseAudio null sink standing in for the mic (a private daemon started
//! by the test), captured through cpal, transcribed by tiny.en as it arrives.

use cuecard_audio::testing::{PulseServer, speech};
use cuecard_stt::live_mic::LiveMic;
use cuecard_stt::local::{LocalConfig, LocalEngine, WhisperModel};
use cuecard_stt::testing::test_model;
use cuecard_stt::wer::wer;
use cuecard_stt::{Channel, NoticeLevel, SpeechEngine, TranscriptEvent};
use std::sync::{Arc, mpsc};
use std::time::Duration;

#[test]
fn words_spoken_into_the_mic_arrive_as_partials_then_finals() {
    let pulse = PulseServer::start();
    let model = WhisperModel::load(&test_model("tiny.en")).expect("model");
    let engine: Arc<dyn SpeechEngine> = Arc::new(LocalEngine::new(model, LocalConfig::default()));
    let (tx, rx) = mpsc::channel();
    let mic = LiveMic::start(engine, None, "en", tx).expect("start");
    assert!(mic.device().contains("mic_feed"), "{}", mic.device());

    let said = "We show the right answer on screen while the customer is still talking.";
    let mut playing = pulse.play("mic_feed", &speech(said, 16_000));
    playing.wait().expect("played");
    std::thread::sleep(Duration::from_millis(1500));
    mic.stop();

    let events: Vec<TranscriptEvent> = rx.try_iter().collect();
    assert!(
        !events.iter().any(|e| matches!(e, TranscriptEvent::Notice { notice } if notice.level == NoticeLevel::Error)),
        "{events:?}"
    );
    let partials = events
        .iter()
        .filter(|e| matches!(e, TranscriptEvent::Partial { .. }))
        .count();
    let finals: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            TranscriptEvent::Final { segment } => {
                assert_eq!(segment.channel, Channel::Rep);
                Some(segment.text.as_str())
            }
            _ => None,
        })
        .collect();
    assert!(partials > 0, "partials come before the finals");
    let rate = wer(said, &finals.join(" "));
    assert!(rate <= 0.25, "WER {rate:.2}: {finals:?}");
}

#[test]
fn a_missing_microphone_is_a_clear_error() {
    let _pulse = PulseServer::start();
    let model = WhisperModel::load(&test_model("tiny.en")).expect("model");
    let engine: Arc<dyn SpeechEngine> = Arc::new(LocalEngine::new(model, LocalConfig::default()));
    let (tx, _rx) = mpsc::channel();
    let err = LiveMic::start(engine, Some("no-such-mic".into()), "en", tx)
        .err()
        .expect("no such device")
        .to_string();
    assert!(err.contains("no-such-mic"), "{err}");
}
