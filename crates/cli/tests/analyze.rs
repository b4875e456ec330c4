//! `cuecard analyze`: a transcript and a two-speaker call synthesised with espeak-ng
//! (one voice per channel) analysed end to end from audio with tiny.en.

use cuecard_stt::testing::{render_dialogue, sales_dialogue_script, test_model, write_wav};
use std::process::Command;

fn cuecard(data: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cuecard"));
    c.env("CUECARD_DATA_DIR", data);
    c
}

fn ids(json: &serde_json::Value) -> Vec<String> {
    json["coach"]
        .as_array()
        .expect("coach")
        .iter()
        .map(|o| {
            o["card_id"]
                .as_str()
                .or(o["rule_id"].as_str())
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

#[test]
fn a_transcript_gives_cards_warnings_and_metrics() {
    let dir = tempfile::tempdir().expect("tempdir");
    let transcript = dir.path().join("call.json");
    let seg = |channel: &str, start: u32, end: u32, text: &str| {
        serde_json::json!({"channel": channel, "speaker": null, "start_ms": start, "end_ms": end,
                           "text": text, "confidence": null, "words": []})
    };
    std::fs::write(
        &transcript,
        serde_json::json!({"segments": [
            seg("rep", 0, 3000, "Hi, this is Sam. How does your team coach reps today?"),
            seg("far_end", 4000, 8000, "Honestly it's too expensive, and we already pay for a dialer."),
            seg("rep", 9000, 12000, "Understood. You get guaranteed results with us."),
            seg("far_end", 13000, 15000, "Send me a summary."),
        ]})
        .to_string(),
    )
    .expect("write");
    let out = cuecard(dir.path())
        .args(["--json", "analyze"])
        .arg(&transcript)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let ids = ids(&json);
    for expected in [
        "objection-price",
        "objection-status-quo",
        "no-guarantees",
        "next-step-summary",
    ] {
        assert!(ids.contains(&expected.to_owned()), "{expected}: {ids:?}");
    }
    assert_eq!(json["metrics"]["questions"], 1);
    // The forbidden claim costs the closing category; the scorecard explains it.
    let score = &json["score"];
    assert_eq!(score["rubric_id"], "default");
    let claims = score["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["id"] == "no-forbidden-claims")
        .expect("check");
    assert_eq!(claims["credit"], 0.0);
    assert_eq!(claims["evidence"], serde_json::json!([2]));
    assert_eq!(json["playbook"], "default-b2b");

    // Text output for people.
    let out = cuecard(dir.path())
        .args(["analyze"])
        .arg(&transcript)
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("[00:08] card  Price or budget") && text.contains("talk ratio"),
        "{text}"
    );
}

#[test]
fn bad_transcripts_and_playbooks_are_clear_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("notes.json");
    std::fs::write(&bad, "{\"segments\": [{\"text\": 3}]}").expect("write");
    let out = cuecard(dir.path())
        .args(["analyze"])
        .arg(&bad)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("notes.json is not a transcript"), "{err}");

    let good = dir.path().join("call.json");
    std::fs::write(&good, "[]").expect("write");
    let playbook = dir.path().join("team.toml");
    std::fs::write(
        &playbook,
        "[playbook]\nid = \"t\"\nname = \"T\"\nversion = 1\n[[cards]]\nid = \"x\"\ntitle = \"X\"\ntriggers = []\nbody = \"b\"\n",
    )
    .expect("write");
    let out = cuecard(dir.path())
        .args(["analyze"])
        .arg(&good)
        .arg("--playbook")
        .arg(&playbook)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("team.toml: card \"x\": triggers"), "{err}");
}

#[test]
fn an_espeak_call_is_analysed_end_to_end_from_audio() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = render_dialogue(&sales_dialogue_script(), 700);
    let wav = dir.path().join("call.wav");
    write_wav(
        &wav,
        &[&d.stereo.channels[0].1, &d.stereo.channels[1].1],
        16_000,
    );
    let run = || {
        let out = cuecard(dir.path())
            .args(["--json", "analyze"])
            .arg(&wav)
            .arg("--model")
            .arg(test_model("tiny.en"))
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("json")
    };
    let json = run();
    let ids = ids(&json);
    // The dialogue's price objection, the incumbent, the next step; no disclosures.
    for expected in [
        "objection-price",
        "objection-status-quo",
        "next-step-summary",
        "recording-consent",
    ] {
        assert!(ids.contains(&expected.to_owned()), "{expected}: {ids:?}");
    }
    let m = &json["metrics"];
    let ratio = m["talk_ratio"].as_f64().expect("ratio");
    assert!((0.4..0.6).contains(&ratio), "{m}");
    // The script's rep asks three questions; transcription may punctuate one more.
    let questions = m["questions"].as_u64().expect("questions");
    assert!((3..=4).contains(&questions), "{m}");
    let total = json["score"]["total"].as_u64().expect("total");
    assert!((40..=95).contains(&total), "{}", json["score"]);
    // Same audio, same cards and score.
    let again = run();
    assert_eq!(json["coach"], again["coach"]);
    assert_eq!(json["score"], again["score"]);
}
