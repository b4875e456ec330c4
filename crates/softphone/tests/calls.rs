//! Whole calls with real peers on loopback: kamailio as the SIP Domain, baresip as the
//! far end playing a known signal. Audio must arrive both ways (checked by
//! cross-correlation with what was sent), in plain RTP over UDP and in SRTP over TLS;
//! DTMF travels in the media both ways; the call is logged to the store.

use std::path::{Path, PathBuf};
use std::time::Duration;

use cuecard_core::CallStatus;
use cuecard_sip::phone::{CallId, PhoneConfig};
use cuecard_sip::sdp::SrtpPolicy;
use cuecard_sip::transport::TransportKind;
use cuecard_softphone::{CallAudio, Softphone, SoftphoneEvent};
use cuecard_testserver::sip::wav::{self, Step};
use cuecard_testserver::sip::{
    Algorithm, Baresip, BaresipOptions, Kamailio, KamailioOptions, Srtp, Transport,
    require_binaries,
};
use tokio::runtime::Runtime;
use tokio::sync::mpsc::Receiver;

const WAIT: Duration = Duration::from_secs(10);

/// A pattern of tones a correlation can find again: 0.25 s steps through six pitches.
fn signal(pitches: &[f64], seconds: f64) -> Vec<i16> {
    let steps: Vec<Step> = (0..(seconds * 4.0) as usize)
        .map(|i| Step {
            freq_hz: pitches[i % pitches.len()],
            millis: 250,
        })
        .collect();
    wav::pattern(&steps, 0.4, wav::RATE)
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn wait_for<T>(
    rt: &Runtime,
    events: &mut Receiver<SoftphoneEvent>,
    what: &str,
    pick: impl FnMut(SoftphoneEvent) -> Option<T>,
) -> T {
    cuecard_testserver::events::wait_for(rt, events, WAIT, what, pick)
}

fn config(kam: &Kamailio, tls: bool) -> PhoneConfig {
    let mut config = PhoneConfig::new("alice", kam.password(), kam.domain());
    config.local_ip = Some([127, 0, 0, 1].into());
    if tls {
        config.proxy = kam.tls_addr().unwrap().to_string();
        config.transport = TransportKind::Tls;
        config.tls_ca_pem = kam.cert_pem().map(|p| p.as_bytes().to_vec());
        config.srtp = SrtpPolicy::Mandatory;
    } else {
        config.proxy = kam.udp_addr().to_string();
        config.srtp = SrtpPolicy::Off;
    }
    config
}

fn to_f32(samples: &[i16]) -> Vec<f32> {
    samples.iter().map(|s| f32::from(*s) / 32768.0).collect()
}

fn check_heard(what: &str, sent: &[i16], recorded: &Path) {
    let heard = wav::read_wav(recorded).unwrap();
    assert!(
        heard.seconds() > 2.5,
        "{what}: only {:.1} s recorded",
        heard.seconds()
    );
    // Each second of what was heard (half a second apart) against everything sent. The
    // far end's own jitter buffer (baresip's) is not ours to judge: a host stall makes it
    // stretch or drop audio for a while, and a DTMF tone replaces the audio while it
    // plays. Intact audio shows as a second that matches the sent signal almost exactly;
    // a wrong codec, key or byte order matches nowhere (r < 0.3).
    let windows: Vec<(f64, wav::Correlation)> = (0..)
        .map(|i| i * 4000)
        .take_while(|at| at + 8000 <= heard.samples.len())
        .map(|at| {
            (
                at as f64 / 8000.0,
                wav::correlate(sent, &heard.samples[at..at + 8000]),
            )
        })
        .collect();
    let best = windows
        .iter()
        .map(|(_, c)| c.coefficient)
        .fold(0.0, f64::max);
    assert!(
        best > 0.95,
        "{what}: no second of it matches what was sent (best r = {best:.3}): {:?}",
        windows
            .iter()
            .map(|(t, c)| format!("{t:.1}s r={:.2}", c.coefficient))
            .collect::<Vec<_>>()
    );
}

/// One call to baresip, audio both ways; returns the stored call.
fn call_with_audio(tls: bool) {
    if !require_binaries(&["kamailio", "baresip"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bob_says = signal(&[440.0, 700.0, 1100.0, 550.0, 900.0, 1300.0], 30.0);
    let alice_says = signal(&[350.0, 620.0, 1000.0, 820.0, 480.0, 1250.0], 30.0);
    let bob_wav = dir.path().join("bob.wav");
    wav::write_wav(&bob_wav, &bob_says, wav::RATE).unwrap();

    let kam = Kamailio::start(KamailioOptions {
        algorithm: Algorithm::Md5,
        tls,
        ..KamailioOptions::default()
    })
    .unwrap();
    let transport = if tls { Transport::Tls } else { Transport::Udp };
    let mut options = BaresipOptions::registered_with(&kam, "bob", transport, &bob_wav);
    if tls {
        options.srtp = Srtp::Mandatory;
    }
    let bob = Baresip::start(options).unwrap();
    bob.wait_registered(WAIT).unwrap();

    let rt = runtime();
    let db = dir.path().join("cuecard.db");
    let recording: PathBuf = dir.path().join("alice-heard.wav");
    let (play, record) = (to_f32(&alice_says), recording.clone());
    let audio = Box::new(move |_: CallId| CallAudio::Files {
        play: Some(play.clone()),
        record: Some(record.clone()),
    });
    let (phone, mut events) = rt
        .block_on(Softphone::start(config(&kam, tls), Some(db.clone()), audio))
        .unwrap();
    let call = rt.block_on(phone.call("bob")).unwrap();
    wait_for(&rt, &mut events, "Established", |e| match e {
        SoftphoneEvent::Established { call: c } if c == call => Some(()),
        SoftphoneEvent::Ended { reason, .. } => panic!("ended: {reason:?}"),
        _ => None,
    });
    bob.wait_event("CALL_ESTABLISHED", WAIT).unwrap();
    let quality = wait_for(&rt, &mut events, "a quality reading", |e| match e {
        SoftphoneEvent::Quality { stats, .. } if stats.packets_received > 50 => Some(stats),
        _ => None,
    });
    assert!(
        quality.mos > 4.0,
        "a clean loopback call rates {:.2}",
        quality.mos
    );
    if tls {
        assert_eq!(quality.srtp_failures, 0);
    }

    // DTMF in the media, both ways.
    rt.block_on(phone.dtmf(call, '5')).unwrap();
    let digit = bob.wait_event("CALL_DTMF_START", WAIT).unwrap();
    assert_eq!(digit.param.as_deref(), Some("5"));
    bob.send_dtmf("9").unwrap();
    let heard = wait_for(&rt, &mut events, "DTMF from bob", |e| match e {
        SoftphoneEvent::Dtmf { digit, .. } => Some(digit),
        _ => None,
    });
    assert_eq!(heard, '9');

    std::thread::sleep(Duration::from_secs(3));
    rt.block_on(phone.phone().hangup(call)).unwrap();
    let (status, record) = wait_for(&rt, &mut events, "Ended", |e| match e {
        SoftphoneEvent::Ended {
            call: c,
            status,
            record,
            ..
        } if c == call => Some((status, record)),
        _ => None,
    });
    assert_eq!(status, CallStatus::Completed);
    assert!(
        record.duration_secs >= 3,
        "talk time {} s",
        record.duration_secs
    );
    bob.wait_event("CALL_CLOSED", WAIT).unwrap();
    rt.block_on(phone.shutdown());
    // baresip's recording of what it received, kept before its directory goes.
    let bob_heard = dir.path().join("bob-heard.wav");
    let received = bob.wait_received_wav(WAIT).unwrap();

    std::fs::copy(&received, &bob_heard).unwrap();
    drop(bob);

    check_heard("alice heard bob", &bob_says, &recording);
    check_heard("bob heard alice", &alice_says, &bob_heard);

    let store = cuecard_store::Store::open(&db).unwrap();
    let logged = store
        .call(record.id)
        .unwrap()
        .expect("the call is in the store");
    assert_eq!(logged.status, CallStatus::Completed);
    assert_eq!(logged.to, "bob");
}

#[test]
fn a_call_carries_audio_and_dtmf_both_ways_and_is_logged() {
    call_with_audio(false);
}

#[test]
fn a_tls_call_with_srtp_carries_audio() {
    call_with_audio(true);
}

#[test]
fn a_caller_offering_opus_is_answered_in_opus_with_audio_both_ways() {
    if !require_binaries(&["kamailio", "baresip"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let kam = Kamailio::start(KamailioOptions::default()).unwrap();
    let bob_wav = dir.path().join("bob.wav");
    wav::write_tone_wav(&bob_wav, 440.0, 60.0, 0.4).unwrap();
    let mut options = BaresipOptions::registered_with(&kam, "bob", Transport::Udp, &bob_wav);
    // Bob prefers Opus and also speaks G.711.
    options.codecs = vec!["opus/48000/2".into(), "PCMU/8000/1".into()];
    let bob = Baresip::start(options).unwrap();
    bob.wait_registered(WAIT).unwrap();

    let rt = runtime();
    let heard = dir.path().join("alice-heard.wav");
    let ours: Vec<f32> = wav::tone(1000.0, 30.0, 0.4, wav::RATE)
        .iter()
        .map(|&s| f32::from(s) / 32768.0)
        .collect();
    let record = heard.clone();
    let audio = Box::new(move |_: CallId| CallAudio::Files {
        play: Some(ours.clone()),
        record: Some(record.clone()),
    });
    let (phone, mut events) = rt
        .block_on(Softphone::start(config(&kam, false), None, audio))
        .unwrap();
    rt.block_on(phone.phone().register()).unwrap();
    bob.dial(&kam.aor("alice")).unwrap();
    let call = wait_for(&rt, &mut events, "Incoming", |e| match e {
        SoftphoneEvent::Incoming { call, .. } => Some(call),
        _ => None,
    });
    rt.block_on(phone.phone().answer(call)).unwrap();
    wait_for(&rt, &mut events, "Established", |e| match e {
        SoftphoneEvent::Established { call: c } if c == call => Some(()),
        SoftphoneEvent::Ended { reason, .. } => panic!("ended: {reason:?}"),
        _ => None,
    });
    let quality = wait_for(&rt, &mut events, "a quality reading", |e| match e {
        SoftphoneEvent::Quality { stats, .. } if stats.packets_received > 100 => Some(stats),
        _ => None,
    });
    assert_eq!(quality.codec, "opus", "{quality:?}");
    assert_eq!(quality.malformed_packets, 0, "{quality:?}");
    std::thread::sleep(Duration::from_secs(2));
    rt.block_on(phone.phone().hangup(call)).unwrap();
    bob.wait_event("CALL_CLOSED", WAIT).unwrap();
    wait_for(&rt, &mut events, "Ended", |e| match e {
        SoftphoneEvent::Ended { call: c, .. } if c == call => Some(()),
        _ => None,
    });
    rt.block_on(phone.shutdown());

    let pitch = |path: &Path| {
        let got = wav::read_wav(path).unwrap();
        let tail = &got.samples[got.samples.len().saturating_sub(2 * got.rate as usize)..];
        wav::dominant_frequency(tail, got.rate).unwrap_or(0.0)
    };
    let alice_heard = pitch(&heard);
    assert!(
        (alice_heard - 440.0).abs() < 10.0,
        "alice heard {alice_heard:.0} Hz"
    );
    let received = bob.wait_received_wav(WAIT).unwrap();
    let bob_heard = pitch(&received);
    assert!(
        (bob_heard - 1000.0).abs() < 15.0,
        "bob heard {bob_heard:.0} Hz"
    );
}
