//! `cuecard phone …` and `cuecard call` against kamailio (the SIP Domain) and baresip (the
//! far end) on loopback: the login is saved, registration is tested (and a wrong password
//! is a clear error), a call plays and records WAV files, and an incoming call is answered.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use cuecard_testserver::sip::wav;
use cuecard_testserver::sip::{
    Baresip, BaresipOptions, Kamailio, KamailioOptions, Transport, require_binaries,
};

const WAIT: Duration = Duration::from_secs(10);

fn cuecard(dir: &Path, password: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cuecard"));
    cmd.args(args)
        .env("CUECARD_PHONE_SETTINGS", dir.join("phone.json"))
        .env("CUECARD_DB", dir.join("cuecard.db"))
        .env("CUECARD_SIP_PASSWORD", password)
        .stdin(Stdio::null());
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("cuecard runs")
}

fn setup(dir: &Path, kam: &Kamailio) {
    let proxy = kam.udp_addr().to_string();
    let args = [
        "phone",
        "setup",
        "--user",
        "alice",
        "--domain",
        kam.domain(),
        "--proxy",
        &proxy,
        "--transport",
        "udp",
        "--encryption",
        "off",
    ];
    let out = run(&mut cuecard(dir, kam.password(), &args));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn register_tests_the_login_and_a_wrong_password_says_so() {
    if !require_binaries(&["kamailio"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let kam = Kamailio::start(KamailioOptions::default()).unwrap();
    let out = run(&mut cuecard(
        dir.path(),
        kam.password(),
        &["phone", "register"],
    ));
    assert_eq!(out.status.code(), Some(1), "no login yet");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Settings → Phone"));

    setup(dir.path(), &kam);
    let out = run(&mut cuecard(
        dir.path(),
        kam.password(),
        &["phone", "register"],
    ));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Registered alice@test.sip.local"));
    kam.wait_unregistered("alice", WAIT).unwrap();

    let out = run(&mut cuecard(
        dir.path(),
        "not-the-password",
        &["phone", "register"],
    ));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("wrong user name or password"), "{stderr}");
}

#[test]
fn call_plays_and_records_and_answer_takes_a_call() {
    if !require_binaries(&["kamailio", "baresip"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let kam = Kamailio::start(KamailioOptions::default()).unwrap();
    let bob_wav = dir.path().join("bob.wav");
    wav::write_tone_wav(&bob_wav, 440.0, 60.0, 0.5).unwrap();
    let ours = dir.path().join("ours.wav");
    // Ours is at 16 kHz: the command resamples it.
    wav::write_wav(&ours, &wav::tone(1000.0, 10.0, 0.5, 16000), 16000).unwrap();
    let bob = Baresip::start(BaresipOptions::registered_with(
        &kam,
        "bob",
        Transport::Udp,
        &bob_wav,
    ))
    .unwrap();
    bob.wait_registered(WAIT).unwrap();
    setup(dir.path(), &kam);

    let heard = dir.path().join("heard.wav");
    let (ours_arg, heard_arg) = (ours.display().to_string(), heard.display().to_string());
    let args = [
        "call",
        "bob",
        "--play",
        &ours_arg,
        "--record",
        &heard_arg,
        "--seconds",
        "3",
        "--json",
    ];
    let out = run(&mut cuecard(dir.path(), kam.password(), &args));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["status"], "Completed");
    assert!(summary["talk_seconds"].as_u64().unwrap() >= 3);
    let recorded = wav::read_wav(&heard).unwrap();
    let pitch = wav::dominant_frequency(&recorded.samples, recorded.rate).unwrap();
    assert!((pitch - 440.0).abs() < 10.0, "heard {pitch} Hz");

    // An incoming call: the command registers, waits, answers, hangs up after 2 s.
    let answer = cuecard(
        dir.path(),
        kam.password(),
        &[
            "phone",
            "answer",
            "--seconds",
            "2",
            "--timeout",
            "20",
            "--json",
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mark = kam.log_mark();
    kam.wait_log_since(mark, "TEST: registered sip:alice@", WAIT)
        .unwrap();
    bob.dial(&kam.aor("alice")).unwrap();
    let out = answer.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["status"], "Completed");

    // Both calls are in the call log.
    let store = cuecard_store::Store::open(dir.path().join("cuecard.db")).unwrap();
    let log = store.recent_calls(10).unwrap();
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[0].direction, cuecard_core::CallDirection::Inbound);
    assert_eq!(log[1].to, "bob");
}

#[test]
fn a_number_on_the_do_not_call_list_is_never_dialled() {
    // No SIP peer at all: the refusal comes before the phone starts.
    let dir = tempfile::tempdir().unwrap();
    let out = run(&mut cuecard(
        dir.path(),
        "unused",
        &["dnc", "add", "098123 45678", "--reason", "asked"],
    ));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&mut cuecard(
        dir.path(),
        "unused",
        &["call", "+91 98123 45678", "--region", "IN"],
    ));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("+919812345678 is on the do-not-call list (asked)"),
        "{stderr}"
    );
    // A number that is not a number is named.
    let out = run(&mut cuecard(
        dir.path(),
        "unused",
        &["call", "not a number"],
    ));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("\"not a number\""), "{stderr}");
    let store = cuecard_store::Store::open(dir.path().join("cuecard.db")).unwrap();
    assert!(
        store.recent_calls(10).unwrap().is_empty(),
        "nothing was logged"
    );
}
