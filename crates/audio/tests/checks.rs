//! Settings → Audio's checks on real devices (a private PulseAudio daemon): the live
//! meter, the mic test with its verdicts, and the echo test with and without an echo path.

mod support;

use cuecard_audio::SPEECH_RATE;
use cuecard_audio::check::{MeterSession, MicVerdict, echo_test, mic_test};
use cuecard_audio::testing::{PulseServer, speech};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[test]
fn the_meter_reports_about_ten_times_a_second_and_hears_speech() {
    let pulse = PulseServer::start();
    let readings = Arc::new(Mutex::new(Vec::new()));
    let sink = readings.clone();
    let meter = MeterSession::start(None, move |r| sink.lock().expect("lock").push(r), |_| {})
        .expect("meter");
    assert!(meter.device().ends_with("mic_feed.monitor"));
    let line = speech("Testing the level meter, one two three.", SPEECH_RATE);
    let mut player = pulse.play("mic_feed", &line);
    assert!(player.wait().expect("paplay").success());
    std::thread::sleep(Duration::from_millis(600));
    meter.stop();
    let readings = readings.lock().expect("lock");
    let seconds = line.len() as f64 / f64::from(SPEECH_RATE) + 0.6;
    let rate = readings.len() as f64 / seconds;
    assert!(
        (6.0..=14.0).contains(&rate),
        "{} readings in {seconds:.1} s",
        readings.len()
    );
    assert!(
        readings.iter().any(|r| r.level.rms_db > -35.0),
        "speech was loud enough"
    );
    assert!(readings.iter().any(|r| r.speaking), "speech was detected");
    assert!(
        readings.iter().any(|r| r.level.rms_db < -80.0),
        "silence reads low"
    );
}

#[test]
fn the_mic_test_judges_speech_and_silence() {
    let pulse = PulseServer::start();
    let line = speech("Hi, this is my microphone test for Cuecard.", SPEECH_RATE);
    // The recording starts first and the speech a moment later, as a person would
    // speak after pressing the button: played first, its start could fall before the
    // capture opens (a race that failed CI once).
    let recording = std::thread::spawn(|| mic_test(None, 3.5));
    std::thread::sleep(std::time::Duration::from_millis(400));
    let mut player = pulse.play("mic_feed", &line);
    let result = recording
        .join()
        .expect("mic test thread")
        .expect("mic test");
    let _ = player.wait();
    assert_eq!(result.verdict, MicVerdict::Good, "{result:?}");
    assert!(result.speech_ms > 1000, "{result:?}");
    assert_eq!(
        result.samples.len(),
        (3.5 * f64::from(SPEECH_RATE)) as usize
    );

    let quiet = mic_test(None, 1.0).expect("mic test");
    assert_eq!(quiet.verdict, MicVerdict::NoSpeech, "{quiet:?}");

    let missing = mic_test(Some("unplugged-usb-mic".into()), 1.0).expect_err("no device");
    assert!(missing.to_string().contains("unplugged-usb-mic"));
}

#[test]
fn the_echo_test_measures_a_real_echo_path_and_its_cancellation() {
    let _pulse = PulseServer::start();
    // Speakers that feed the mic: playing into `mic_feed` is heard on its monitor. A
    // stall of the shared host (steal time) makes the null sinks drop or repeat a few
    // milliseconds mid-clip, and an echo path that jumps cannot be cancelled to 20 dB by
    // any canceller: up to four runs in this process, and the best must reach it (a quiet
    // host measures about 70 dB on the first).
    let mut runs = Vec::new();
    for _ in 0..4 {
        let echo = echo_test(None, Some("mic_feed".into())).expect("echo test");
        assert!(echo.echo_heard, "{echo:?}");
        assert!(echo.echo_return_db > -10.0, "{echo:?}");
        let erle = echo.erle_db.expect("cancelled");
        runs.push(erle);
        if erle >= 20.0 {
            break;
        }
    }
    let best = runs.iter().copied().fold(f32::MIN, f32::max);
    assert!(best >= 20.0, "ERLE per run: {runs:?} dB");

    // A headset: the speakers (far_end) never reach the mic.
    let none = echo_test(None, Some("far_end".into())).expect("echo test");
    assert!(!none.echo_heard, "{none:?}");
    assert_eq!(none.erle_db, None);
}
