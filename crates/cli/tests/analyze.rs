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

/// A database with one contact, Dana Lee, +91 98123 45678.
fn database_with_dana(dir: &std::path::Path) -> std::path::PathBuf {
    let db = dir.join("cuecard.db");
    let csv = dir.join("contacts.csv");
    std::fs::write(
        &csv,
        "Name,Phone,Email\nDana Lee,+91 98123 45678,dana@example.com\n",
    )
    .expect("csv");
    let out = cuecard(dir)
        .arg("--db")
        .arg(&db)
        .args(["contacts", "import"])
        .arg(&csv)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    db
}

fn dialogue_transcript(path: &std::path::Path) {
    let segments = cuecard_stt::testing::sales_dialogue_transcript();
    std::fs::write(
        path,
        serde_json::json!({ "segments": segments }).to_string(),
    )
    .expect("write");
}

#[test]
fn a_call_is_filed_under_its_contact_with_transcript_and_scorecard() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = database_with_dana(dir.path());
    let transcript = dir.path().join("call.json");
    dialogue_transcript(&transcript);
    // The contact by the number as a rep would type it.
    let out = cuecard(dir.path())
        .arg("--db")
        .arg(&db)
        .args(["--json", "analyze"])
        .arg(&transcript)
        .args(["--contact", "098123 45678", "--region", "IN"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let saved = &json["saved"];
    assert!(
        saved["recording"].is_null(),
        "a transcript has no recording"
    );

    let store = cuecard_store::Store::open(&db).expect("open");
    let dana = store
        .contacts_with_key(cuecard_store::KeyKind::Phone, "+919812345678")
        .expect("lookup")[0];
    assert_eq!(saved["contact_id"], dana.to_string());
    let calls = store.calls_for_contact(dana).expect("calls");
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    assert_eq!(saved["call_id"], call.id.to_string());
    assert_eq!(call.to, "+919812345678");
    assert_eq!(call.duration_secs, 59);
    // The summary is the call's notes.
    assert!(call.notes.contains("Next step: “"), "{}", call.notes);
    let transcript = store.transcript(call.id).expect("transcript");
    assert_eq!(transcript.len(), 12);
    assert_eq!(
        transcript[7].text,
        "It sounds useful, but the price is my main concern. We already pay for a dialer."
    );
    // The scorecard, its evidence pointing at stored utterances.
    let cards = store
        .scorecards_for(&call.id.to_string())
        .expect("scorecards");
    assert_eq!(cards.len(), 1);
    let card = &cards[0];
    assert_eq!(saved["scorecard_id"], card.id.to_string());
    assert_eq!(
        u64::from(card.total),
        json["score"]["total"].as_u64().expect("total")
    );
    assert_eq!(card.rubric_version, "default v2");
    let answered = card
        .checks
        .iter()
        .find(|c| c.check_id == "objections-answered")
        .expect("check");
    let ids: Vec<_> = transcript.iter().map(|u| u.id).collect();
    assert!(answered.evidence.contains(&ids[7]) && answered.evidence.contains(&ids[8]));
    assert!(
        card.checks
            .iter()
            .all(|c| c.evidence.iter().all(|e| ids.contains(e)))
    );
    // On the contact's timeline.
    let timeline = store.timeline(dana, 10).expect("timeline");
    assert!(
        timeline
            .iter()
            .any(|e| e.summary == format!("Call scored {}/100", card.total)),
        "{timeline:?}"
    );

    // An unknown contact fails before anything is written.
    let out = cuecard(dir.path())
        .arg("--db")
        .arg(&db)
        .arg("analyze")
        .arg(dir.path().join("call.json"))
        .args(["--contact", "nobody@example.com"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no contact has \"nobody@example.com\""),
        "{err}"
    );
    assert_eq!(store.calls_for_contact(dana).expect("calls").len(), 1);
}

#[test]
fn a_transcript_is_filed_with_the_recording_it_came_from() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = database_with_dana(dir.path());
    let transcript = dir.path().join("call.json");
    dialogue_transcript(&transcript);
    // 75 s of stereo audio: longer than the transcript's 59 s, so the call lasts 75 s.
    let wav = dir.path().join("call.wav");
    let tone: Vec<f32> = (0..16_000 * 75)
        .map(|i| (i as f32 * 0.05).sin() * 0.1)
        .collect();
    write_wav(&wav, &[&tone, &tone], 16_000);
    let analyze = |extra: &[&str], recording: &std::path::Path| {
        cuecard(dir.path())
            .arg("--db")
            .arg(&db)
            .args(["--json", "analyze"])
            .arg(&transcript)
            .arg("--recording")
            .arg(recording)
            .args(extra)
            .output()
            .expect("run")
    };

    // Bad uses fail before anything is filed, saying why.
    let out = analyze(&[], &wav);
    assert_eq!(out.status.code(), Some(1));
    // With --json the error is a JSON object on stdout.
    let err = String::from_utf8_lossy(&out.stdout);
    assert!(err.contains("add --contact or --save"), "{err}");
    let notes = dir.path().join("notes.wav");
    std::fs::write(&notes, "not audio").expect("write");
    let out = analyze(&["--contact", "dana@example.com"], &notes);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stdout);
    assert!(
        err.contains("--recording") && err.contains("notes.wav"),
        "{err}"
    );
    let out = cuecard(dir.path())
        .arg("--db")
        .arg(&db)
        .arg("analyze")
        .arg(&wav)
        .arg("--recording")
        .arg(&wav)
        .args(["--contact", "dana@example.com"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is itself the call's audio"), "{err}");
    let store = cuecard_store::Store::open(&db).expect("open");
    let dana = store
        .contacts_with_key(cuecard_store::KeyKind::Email, "dana@example.com")
        .expect("lookup")[0];
    assert!(store.calls_for_contact(dana).expect("calls").is_empty());

    let out = analyze(&["--contact", "dana@example.com"], &wav);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let calls = store.calls_for_contact(dana).expect("calls");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].duration_secs, 75, "as long as the audio");
    let recording = calls[0].recording.as_ref().expect("a recording");
    assert_eq!(recording.format, "wav");
    assert_eq!(recording.duration_ms, 75_000);
    let kept = cuecard_store::recordings_dir(&db).join(&recording.path);
    let original = std::fs::read(&wav).expect("read");
    assert_eq!(std::fs::read(&kept).expect("copied"), original);
    assert!(wav.exists(), "the rep's file stays where it was");
    use sha2::Digest;
    let digest: String = sha2::Sha256::digest(&original)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(recording.sha256.as_deref(), Some(digest.as_str()));
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
    let db = database_with_dana(dir.path());
    let run = |extra: &[&str]| {
        let out = cuecard(dir.path())
            .arg("--db")
            .arg(&db)
            .args(["--json", "analyze"])
            .arg(&wav)
            .arg("--model")
            .arg(test_model("tiny.en"))
            .args(extra)
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("json")
    };
    let json = run(&[]);
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
    // Same audio, same cards and score; this time filed under Dana with the recording.
    let again = run(&["--contact", "dana@example.com"]);
    assert_eq!(json["coach"], again["coach"]);
    assert_eq!(json["score"], again["score"]);
    let copy = std::path::PathBuf::from(again["saved"]["recording"].as_str().expect("copy"));
    assert_eq!(copy.parent(), Some(dir.path().join("recordings").as_path()));
    assert_eq!(
        std::fs::read(&copy).expect("copy"),
        std::fs::read(&wav).expect("wav")
    );
    let store = cuecard_store::Store::open(&db).expect("open");
    let call_id = again["saved"]["call_id"]
        .as_str()
        .expect("call id")
        .parse()
        .expect("id");
    let call = store.call(call_id).expect("read").expect("call");
    let recording = call.recording.expect("recording");
    assert_eq!(
        copy.file_name().and_then(|n| n.to_str()),
        Some(recording.path.as_str())
    );
    assert_eq!(recording.format, "wav");
    assert_eq!(recording.sha256.as_deref().map(str::len), Some(64));
}
