//! `cuecard audio …` on real devices: a private PulseAudio daemon whose null sinks stand
//! in for the microphone and the speakers.

use cuecard_audio::SPEECH_RATE;
use cuecard_audio::recorder::read_recording;
use cuecard_audio::testing::{PulseServer, speech};
use std::process::{Command, Output};

fn cuecard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cuecard"))
        .args(args)
        .output()
        .expect("run cuecard")
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// Energy of a stretch of samples.
fn energy(x: &[f32]) -> f64 {
    x.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / x.len().max(1) as f64
}

#[test]
fn devices_lists_the_mic_and_speakers_with_defaults() {
    let _pulse = PulseServer::start();
    let out = cuecard(&["audio", "devices", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let devices = json(&out);
    let list = devices.as_array().expect("array");
    assert!(list.iter().any(|d| {
        d["id"]
            .as_str()
            .is_some_and(|id| id.ends_with("mic_feed.monitor"))
            && d["is_default"] == true
            && d["direction"] == "input"
    }));
    assert!(list.iter().any(
        |d| d["id"].as_str().is_some_and(|id| id.ends_with("far_end"))
            && d["direction"] == "output"
    ));
    let text = cuecard(&["audio", "devices"]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("* default device"));
}

#[test]
fn record_keeps_the_rep_left_and_the_far_end_right() {
    let pulse = PulseServer::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("call.opus");
    let rep_line = speech("This is the rep speaking into the microphone.", SPEECH_RATE);
    let far_line = speech("And this is the prospect, on the speakers.", SPEECH_RATE);

    let recorder = Command::new(env!("CARGO_BIN_EXE_cuecard"))
        .args(["audio", "record", "--seconds", "5", "--json"])
        .arg(&path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    std::thread::sleep(std::time::Duration::from_millis(600));
    // The rep talks first, the prospect after: each only on their own channel.
    let mut mic = pulse.play("mic_feed", &rep_line);
    assert!(mic.wait().expect("paplay").success());
    let mut speakers = pulse.play("far_end", &far_line);
    assert!(speakers.wait().expect("paplay").success());
    let out = recorder.wait_with_output().expect("record");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    assert_eq!(report["dropped_samples"], 0);
    assert!(
        report["rep_speech_segments"].as_u64() >= Some(1),
        "{report}"
    );
    assert!(
        report["far_speech_segments"].as_u64() >= Some(1),
        "{report}"
    );

    let recording = read_recording(&path).expect("read");
    assert!(!recording.truncated);
    assert_eq!(recording.rep.len(), 5 * SPEECH_RATE as usize);
    // Where the rep spoke, the left channel is loud and the right is quiet; then the
    // other way round.
    let rep_loud = recording
        .rep
        .iter()
        .position(|s| s.abs() > 0.05)
        .expect("rep speech");
    let far_loud = recording
        .far
        .iter()
        .position(|s| s.abs() > 0.05)
        .expect("far speech");
    assert!(far_loud > rep_loud, "the prospect spoke after the rep");
    let window = |x: &[f32], at: usize| energy(&x[at..(at + 8000).min(x.len())]);
    assert!(window(&recording.rep, rep_loud) > 100.0 * window(&recording.far, rep_loud).max(1e-9));
    assert!(window(&recording.far, far_loud) > 100.0 * window(&recording.rep, far_loud).max(1e-9));
}

#[test]
fn bad_record_arguments_are_named_and_nothing_is_overwritten() {
    let _pulse = PulseServer::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let existing = dir.path().join("keep.opus");
    std::fs::write(&existing, b"precious").expect("write");
    let out = cuecard(&[
        "audio",
        "record",
        "--seconds",
        "1",
        existing.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    assert_eq!(std::fs::read(&existing).expect("read"), b"precious");

    let fresh = dir.path().join("new.opus");
    let out = cuecard(&[
        "audio",
        "record",
        "--seconds",
        "0",
        fresh.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--seconds"));
    let out = cuecard(&[
        "audio",
        "record",
        "--seconds",
        "1",
        "--mic",
        "no-such-mic",
        fresh.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-mic"));
    assert!(
        !fresh.exists(),
        "no file for a recording that never started"
    );
    assert_eq!(cuecard(&["audio", "record"]).status.code(), Some(2));
}

#[test]
fn meter_prints_about_ten_json_readings_a_second_and_marks_speech() {
    let pulse = PulseServer::start();
    let line = speech("Checking my microphone level before the call.", SPEECH_RATE);
    let mut player = pulse.play("mic_feed", &line);
    let out = cuecard(&["audio", "meter", "--seconds", "2.5", "--json"]);
    let _ = player.wait();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let readings: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert!(
        (18..=30).contains(&readings.len()),
        "{} readings in 2.5 s",
        readings.len()
    );
    assert!(
        readings.iter().any(|r| r["speaking"] == true),
        "speech marked"
    );
    assert!(readings.iter().any(|r| r["rms_db"].as_f64() > Some(-35.0)));
}
