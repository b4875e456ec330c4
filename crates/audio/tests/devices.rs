//! Capture and playback on real audio devices: a private PulseAudio daemon with null
//! sinks, speech from espeak-ng played into them, captured back through cpal.

mod support;

use cuecard_audio::capture::{Capture, CaptureEvent, CaptureOptions};
use cuecard_audio::device::{AudioHost, Direction};
use cuecard_audio::pipeline::SpeechChannel;
use cuecard_audio::playback::Playback;
use cuecard_audio::testing::{PulseServer, speech};
use cuecard_audio::vad::{VadConfig, VadEvent};
use cuecard_audio::{Channel, SPEECH_RATE, loopback};
use std::time::{Duration, Instant};
use support::{best_correlation, match_capture, silence};

/// Reads a capture for `seconds` through a speech channel: 16 kHz mono plus VAD events.
/// Captures until `played()` says the source has finished, then a second more (device
/// buffers, the VAD's hang-over). Waiting on the player rather than a clock keeps a slow
/// start on a busy machine from cutting the capture short.
fn capture_speech(
    capture: &mut Capture,
    mut played: impl FnMut() -> bool,
) -> (Vec<f32>, Vec<VadEvent>) {
    let mut channel = SpeechChannel::new(Channel::Rep, VadConfig::default());
    let (mut raw, mut speech, mut events) = (Vec::new(), Vec::new(), Vec::new());
    let give_up = Instant::now() + Duration::from_secs(30);
    let mut deadline = give_up;
    while Instant::now() < deadline {
        if deadline == give_up && played() {
            deadline = Instant::now() + Duration::from_secs(1);
        }
        std::thread::sleep(Duration::from_millis(20));
        raw.clear();
        if let Some(format) = capture.read(&mut raw) {
            let update = channel.push(&raw, format, &mut speech).expect("process");
            events.extend(update.vad);
        }
    }
    events.extend(channel.finish());
    (speech, events)
}

fn id_of(host: &AudioHost, name: &str) -> String {
    host.devices()
        .expect("devices")
        .into_iter()
        .find(|d| d.id.ends_with(name))
        .unwrap_or_else(|| panic!("no device {name}"))
        .id
}

#[test]
fn devices_are_listed_with_the_defaults_and_the_loopback_marked() {
    let _pulse = PulseServer::start();
    let host = AudioHost::new().expect("host");
    assert_eq!(host.name(), "PulseAudio");
    let devices = host.devices().expect("devices");
    let mic = devices
        .iter()
        .find(|d| d.id.ends_with("mic_feed.monitor"))
        .expect("mic listed");
    assert!(mic.is_default && mic.direction == Direction::Input && mic.is_monitor);
    let speakers = devices
        .iter()
        .find(|d| d.direction == Direction::Output && d.id.ends_with("far_end"))
        .expect("speakers listed");
    assert!(speakers.is_default);
    assert_eq!(speakers.sample_rate, Some(48_000));
    assert_eq!(devices.iter().filter(|d| d.is_default).count(), 2);
    // The far-end loopback is the default output's monitor.
    let monitor = loopback::default_output_loopback(&host).expect("loopback");
    assert!(monitor.ends_with("far_end.monitor"), "{monitor}");
    // Unknown devices are named in the error.
    let err = host.input(Some("no-such-mic")).expect_err("missing");
    assert!(err.to_string().contains("no-such-mic"), "{err}");
    // Opening an output as an input is the Windows/macOS loopback; PulseAudio refuses it
    // (its loopback is the monitor) with an error naming the device.
    let err = Capture::start(CaptureOptions {
        device: Some(format!("loopback:{}", speakers.id)),
        ..CaptureOptions::default()
    })
    .err()
    .expect("PulseAudio sinks cannot be opened for capture");
    assert!(err.to_string().contains("Speakers"), "{err}");
}

#[test]
fn speech_played_into_the_mic_is_captured_intact_with_its_segments() {
    let pulse = PulseServer::start();
    let first = speech(
        "Hello, this is the sales team calling about your renewal.",
        SPEECH_RATE,
    );
    let second = speech("Could we find thirty minutes next week?", SPEECH_RATE);
    let gap = silence(SPEECH_RATE, 1500);
    let source: Vec<f32> = [first.clone(), gap.clone(), second.clone()].concat();

    let mut capture = Capture::start(CaptureOptions::default()).expect("capture");
    assert!(
        capture.device().ends_with("mic_feed.monitor"),
        "{}",
        capture.device()
    );
    std::thread::sleep(Duration::from_millis(300));
    let mut player = pulse.play("mic_feed", &source);
    let (captured, events) = capture_speech(&mut capture, || player.finished());
    // Nothing was lost between the device and the reader.
    let metrics = capture.metrics().snapshot();
    assert_eq!(metrics.dropped, 0);
    drop(capture);
    assert!(player.wait().expect("paplay").success());

    // Content: the captured audio is the source, delayed — window by window, so a
    // scheduler stall on a loaded machine (a few ms lost or delayed between the sound
    // server and us) costs one window, not the verdict.
    let (_, lag) = best_correlation(&source, &captured, 3 * SPEECH_RATE as usize);
    let matched = match_capture(&source, &captured, lag, SPEECH_RATE as usize);
    assert!(
        matched.share_intact() >= 0.75,
        "lag {lag}; captured {} of {} samples; {metrics:?}; {matched}",
        captured.len(),
        source.len(),
    );

    // Voice activity: two segments, where the two sentences were spoken.
    let segments: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            VadEvent::SpeechEnded { segment } => Some(*segment),
            _ => None,
        })
        .collect();
    assert_eq!(segments.len(), 2, "{segments:?}");
    let ms = |samples: usize| (samples * 1000 / SPEECH_RATE as usize) as i64;
    let spoken = [
        (ms(lag), ms(lag + first.len())),
        (ms(lag + first.len() + gap.len()), ms(lag + source.len())),
    ];
    for (segment, (start, end)) in segments.iter().zip(spoken) {
        // espeak's own leading/trailing silence is part of `first`/`second`, so segments
        // sit inside the spoken spans, give or take the pre-roll and hang-over.
        assert!(
            segment.start_ms as i64 >= start - 300,
            "{segment:?} vs {start}..{end}"
        );
        assert!(
            (segment.end_ms as i64) <= end + 500,
            "{segment:?} vs {start}..{end}"
        );
        assert!(
            segment.duration_ms() as i64 > (end - start) / 2,
            "{segment:?} vs {start}..{end}"
        );
    }
}

#[test]
fn what_plays_on_the_speakers_is_captured_from_the_loopback() {
    let _pulse = PulseServer::start();
    let host = AudioHost::new().expect("host");
    let monitor = loopback::default_output_loopback(&host).expect("loopback");
    let mut capture = Capture::start(CaptureOptions {
        device: Some(monitor),
        ..CaptureOptions::default()
    })
    .expect("capture");
    let source = speech(
        "The prospect says the budget is approved for next quarter.",
        SPEECH_RATE,
    );
    // Room for the whole clip, so writing it does not block the capture loop below.
    let mut playback = Playback::start(None, SPEECH_RATE, 10_000).expect("playback");
    std::thread::sleep(Duration::from_millis(200));
    playback.write(&source).expect("play");
    playback.end_of_stream().expect("end");
    let (captured, _) = capture_speech(&mut capture, || playback.queued_ms() == 0);
    assert_eq!(playback.underruns(), 0, "playback ran dry mid-clip");
    let (_, lag) = best_correlation(&source, &captured, 3 * SPEECH_RATE as usize);
    let matched = match_capture(&source, &captured, lag, SPEECH_RATE as usize);
    assert!(
        matched.share_intact() >= 0.75,
        "lag {lag}; captured {} of {} samples; {matched}",
        captured.len(),
        source.len(),
    );
}

#[test]
fn a_device_that_disappears_mid_capture_is_reported_and_capture_recovers() {
    let pulse = PulseServer::start();
    let host = AudioHost::new().expect("host");
    // A third "USB headset" that will be unplugged.
    let out = pulse.pactl(&[
        "load-module",
        "module-null-sink",
        "sink_name=headset",
        "rate=44100",
    ]);
    assert!(out.status.success());
    let module = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let headset = id_of(&host, "headset.monitor");
    let mut capture = Capture::start(CaptureOptions {
        device: Some(headset.clone()),
        stall_timeout: Duration::from_millis(500),
        ..CaptureOptions::default()
    })
    .expect("capture");
    let mut buf = Vec::new();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(capture.read(&mut buf).map(|f| f.sample_rate), Some(44_100));

    assert!(pulse.pactl(&["unload-module", &module]).status.success());
    // Within a few seconds: an error naming the device, then a restart on the default
    // input (48 kHz), which delivers audio again.
    let deadline = Instant::now() + Duration::from_secs(8);
    let (mut saw_error, mut restarted_on) = (false, None);
    while Instant::now() < deadline && restarted_on.is_none() {
        match capture.try_event() {
            Some(CaptureEvent::Error { device, .. }) => saw_error |= device.contains("headset"),
            Some(CaptureEvent::Restarted { device, .. }) => restarted_on = Some(device),
            _ => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    assert!(saw_error, "no error event for the headset");
    let restarted_on = restarted_on.expect("restarted");
    assert!(restarted_on.ends_with("mic_feed.monitor"), "{restarted_on}");
    std::thread::sleep(Duration::from_millis(300));
    buf.clear();
    let mut format = None;
    for _ in 0..20 {
        format = capture.read(&mut buf);
        if format.map(|f| f.sample_rate) == Some(48_000) && !buf.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        format.map(|f| f.sample_rate),
        Some(48_000),
        "follows the new rate"
    );
    assert!(capture.metrics().snapshot().restarts >= 1);
}

#[test]
fn call_media_fed_by_the_phone_is_the_far_end_channel() {
    use cuecard_audio::dual::{DualCapture, DualOptions, FarEnd, far_end_feed};
    let _pulse = PulseServer::start();
    // The phone decodes G.711 at 8 kHz and pushes 20 ms packets.
    let call = speech("Hello, you have reached the procurement team.", 8_000);
    let (mut feeder, feed) = far_end_feed(8_000);
    let mut dual = DualCapture::start(DualOptions {
        far: FarEnd::Feed(feed),
        ..DualOptions::default()
    })
    .expect("dual");
    let (mut rep, mut far) = (Vec::new(), Vec::new());
    // Paced on absolute deadlines, as the media thread is: on a host with steal time a
    // plain 20 ms sleep overshoots, the feed falls behind the mic's real time and is
    // (rightly) padded with silence.
    let started = Instant::now();
    for (i, packet) in call.chunks(160).enumerate() {
        feeder.push(packet);
        let due = started + Duration::from_millis(20 * (i as u64 + 1));
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
        dual.poll(&mut rep, &mut far).expect("poll");
    }
    std::thread::sleep(Duration::from_millis(300));
    dual.poll(&mut rep, &mut far).expect("poll");
    assert_eq!(rep.len(), far.len(), "the two sides stay in step");
    let reference = cuecard_audio::resample::resample_clip(&call, 8_000, SPEECH_RATE).expect("ref");
    let (r, lag) = best_correlation(&reference, &far, SPEECH_RATE as usize / 2);
    assert!(r > 0.95, "far end correlation {r:.3} at lag {lag}");
}
