//! `cuecard transcribe` with the test set-up's tiny.en model.

use cuecard_stt::testing::{speak, test_model, write_wav};
use cuecard_stt::wer::wer;
use std::process::Command;

#[test]
fn transcribes_a_wav_file_at_another_rate_to_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = "Could you send me the pricing for twenty seats by Friday?";
    let audio = speak(text, "en-us");
    // 16 kHz from espeak, written at 44.1 kHz: the CLI converts it back.
    let wide = cuecard_audio::resample::resample_clip(&audio, 16_000, 44_100).expect("resample");
    let wav = dir.path().join("question.wav");
    write_wav(&wav, &[&wide], 44_100);
    let model = test_model("tiny.en");
    let out = Command::new(env!("CARGO_BIN_EXE_cuecard"))
        .env("CUECARD_DATA_DIR", dir.path())
        .args(["--json", "transcribe"])
        .arg(&wav)
        .arg("--model")
        .arg(&model)
        .output()
        .expect("run cuecard");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let said: Vec<&str> = json["segments"]
        .as_array()
        .expect("segments")
        .iter()
        .filter_map(|s| s["text"].as_str())
        .collect();
    let rate = wer(text, &said.join(" "));
    assert!(rate <= 0.25, "heard {said:?}");
    assert_eq!(json["engine"], "local");
    assert!(json["real_time_factor"].as_f64().is_some_and(|r| r > 0.0));
}

#[test]
fn bad_input_is_a_clear_error_with_exit_code_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let notes = dir.path().join("notes.mp3");
    std::fs::write(&notes, b"ID3 not really audio").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_cuecard"))
        .env("CUECARD_DATA_DIR", dir.path())
        .args(["transcribe"])
        .arg(&notes)
        .arg("--models-dir")
        .arg(dir.path())
        .output()
        .expect("run cuecard");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("notes.mp3") && err.contains("unsupported format"),
        "{err}"
    );

    let wav = dir.path().join("ok.wav");
    write_wav(&wav, &[&[0.0; 16_000]], 16_000);
    let out = Command::new(env!("CARGO_BIN_EXE_cuecard"))
        .env("CUECARD_DATA_DIR", dir.path())
        .args(["transcribe"])
        .arg(&wav)
        .arg("--models-dir")
        .arg(dir.path().join("empty"))
        .output()
        .expect("run cuecard");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no whisper model is installed"), "{err}");

    let out = Command::new(env!("CARGO_BIN_EXE_cuecard"))
        .env("CUECARD_DATA_DIR", dir.path())
        .args(["transcribe"])
        .arg(&wav)
        .args(["--engine", "deepgram"])
        .env_remove("DEEPGRAM_API_KEY")
        .output()
        .expect("run cuecard");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("DEEPGRAM_API_KEY"), "{err}");
}

#[test]
fn a_cloud_engine_without_a_key_falls_back_to_local_when_the_settings_allow() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = "Tuesday morning works for me.";
    let wav = dir.path().join("reply.wav");
    write_wav(&wav, &[&speak(text, "en-us")], 16_000);
    std::fs::write(
        dir.path().join("speech.json"),
        r#"{"post_call": {"engine": "deepgram", "fallback_to_local": true}}"#,
    )
    .expect("settings");
    let out = Command::new(env!("CARGO_BIN_EXE_cuecard"))
        .env("CUECARD_DATA_DIR", dir.path())
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .env_remove("DEEPGRAM_API_KEY")
        .args(["--json", "transcribe"])
        .arg(&wav)
        .arg("--model")
        .arg(test_model("tiny.en"))
        .output()
        .expect("run cuecard");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: ") && err.contains("no Deepgram API key"),
        "{err}"
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["engine"], "local");
    let said = json["segments"][0]["text"].as_str().unwrap_or_default();
    assert!(wer(text, said) <= 0.25, "heard {said:?}");
}

#[test]
fn a_broken_settings_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("speech.json"), "{ not json").expect("settings");
    let wav = dir.path().join("ok.wav");
    write_wav(&wav, &[&[0.0; 16_000]], 16_000);
    let out = Command::new(env!("CARGO_BIN_EXE_cuecard"))
        .env("CUECARD_DATA_DIR", dir.path())
        .args(["transcribe"])
        .arg(&wav)
        .output()
        .expect("run cuecard");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("speech.json") && err.contains("line 1"),
        "{err}"
    );
}
