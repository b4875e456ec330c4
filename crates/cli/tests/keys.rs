//! `cuecard keys` against a private Secret Service (gnome-keyring on a private D-Bus),
//! and `cuecard transcribe` picking its engine from the speech settings and its key
//! from the keychain, against the Deepgram stand-in.

use cuecard_secrets::testing::KeyringDaemon;
use cuecard_stt::standin::{DeepgramScript, DeepgramStandin, coded_audio, script_words};
use cuecard_stt::testing::write_wav;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn cuecard(bus: &KeyringDaemon, data: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cuecard"))
        .args(args)
        .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
        .env("CUECARD_DATA_DIR", data)
        .env_remove("DEEPGRAM_API_KEY")
        .env_remove("OPENAI_API_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run cuecard");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).expect("write stdin");
    }
    drop(input);
    child.wait_with_output().expect("wait")
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

#[test]
fn keys_are_stored_listed_and_removed_in_the_keychain() {
    let bus = KeyringDaemon::start();
    let data = tempfile::tempdir().expect("tempdir");
    let list = json(&cuecard(
        &bus,
        data.path(),
        &["--json", "keys", "list"],
        None,
    ));
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|k| k["source"].is_null()),
        "{list}"
    );

    let out = cuecard(
        &bus,
        data.path(),
        &["keys", "set", "deepgram"],
        Some("dg-secret-1\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        !printed.contains("dg-secret-1"),
        "the key is never printed: {printed}"
    );

    let list = json(&cuecard(
        &bus,
        data.path(),
        &["--json", "keys", "list"],
        None,
    ));
    let deepgram = list
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "deepgram_api_key")
        .expect("deepgram line");
    assert_eq!(deepgram["source"], "keychain");
    // No file in the data directory holds it.
    for entry in walk(data.path()) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&bytes).contains("dg-secret-1"),
            "{} holds the key",
            entry.display()
        );
    }

    // Bad input: an empty key and an unknown name are errors (exit 1 and 2).
    let out = cuecard(&bus, data.path(), &["keys", "set", "openai"], Some("\n"));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("OpenAI API key is not valid"));
    let out = cuecard(&bus, data.path(), &["keys", "set", "twilio"], Some("x"));
    assert_eq!(out.status.code(), Some(2));

    let removed = json(&cuecard(
        &bus,
        data.path(),
        &["--json", "keys", "remove", "deepgram"],
        None,
    ));
    assert_eq!(removed["removed"], true);
    let removed = json(&cuecard(
        &bus,
        data.path(),
        &["--json", "keys", "remove", "deepgram"],
        None,
    ));
    assert_eq!(removed["removed"], false);
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn transcribe_uses_the_settings_engine_with_the_keychain_key() {
    let bus = KeyringDaemon::start();
    let data = tempfile::tempdir().expect("tempdir");
    let key = "dg-from-the-keychain";
    let standin = DeepgramStandin::start(DeepgramScript::new(key).channel(
        0,
        script_words(&[
            ("Send", 0.20, 0.45),
            ("the", 0.50, 0.60),
            ("pricing.", 0.65, 1.10),
        ]),
    ))
    .expect("stand-in");
    // Settings → Speech: post-call transcripts on Deepgram at the stand-in.
    std::fs::write(
        data.path().join("speech.json"),
        serde_json::json!({
            "post_call": {"engine": "deepgram", "fallback_to_local": false},
            "deepgram": {"base_url": standin.url(), "model": "nova-3"}
        })
        .to_string(),
    )
    .expect("settings");
    let wav = data.path().join("clip.wav");
    write_wav(&wav, &[&coded_audio(0.0, 2.5)], 16_000);

    // No key yet: a clear error naming where to put one.
    let out = cuecard(
        &bus,
        data.path(),
        &["transcribe", wav.to_str().unwrap()],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no Deepgram API key") && err.contains("cuecard keys set deepgram"),
        "{err}"
    );

    let out = cuecard(&bus, data.path(), &["keys", "set", "deepgram"], Some(key));
    assert!(out.status.success());
    let result = json(&cuecard(
        &bus,
        data.path(),
        &["--json", "transcribe", wav.to_str().unwrap()],
        None,
    ));
    assert_eq!(result["engine"], "deepgram");
    assert_eq!(result["segments"][0]["text"], "Send the pricing.");
    let sent = standin.connections();
    assert_eq!(
        sent.last().and_then(|c| c.authorization.clone()).as_deref(),
        Some("Token dg-from-the-keychain")
    );
}
