//! The SIP peer harness against the real programs: kamailio answers OPTIONS and
//! registers with digest auth, baresips call each other through it (audio, DTMF, TLS with
//! mandatory SRTP), the shipped sipp scenarios run against kamailio and baresip, and the
//! UDP impairment relay drops what it is told to. Tests that need a peer skip (with a
//! printed reason) where it is not installed, except under CI.

use cuecard_testserver::impair::{ImpairOptions, UdpImpairment};
use cuecard_testserver::sip::wav::{self, RATE};
use cuecard_testserver::sip::{
    Algorithm, Answer, Baresip, BaresipOptions, Kamailio, KamailioOptions, Sipp, SippArgs, Srtp,
    Transport, require_binaries, scenarios, sip_options, sip_options_to,
};
use std::net::{Ipv4Addr, UdpSocket};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(10);

/// A 30 s tone (longer than any call here: baresip hangs up when its WAV ends).
fn tone(dir: &Path, name: &str, freq: f64) -> PathBuf {
    let path = dir.join(name);
    wav::write_tone_wav(&path, freq, 30.0, 0.4).expect("write tone");
    path
}

/// The dominant frequency of what `phone` recorded in its last call.
fn received_frequency(phone: &Baresip) -> (f64, wav::Audio) {
    let path = phone
        .received_wav()
        .expect("a recording of the received audio");
    let audio = wav::read_wav(&path).expect("read the recording");
    assert!(
        audio.seconds() > 1.0,
        "only {:.2} s recorded in {}",
        audio.seconds(),
        path.display()
    );
    let level = wav::rms(&audio.samples);
    assert!(level > 1000.0, "recording too quiet: rms {level}");
    let freq = wav::dominant_frequency(&audio.samples, audio.rate).expect("not silent");
    (freq, audio)
}

#[test]
fn kamailio_starts_and_answers_options() {
    if !require_binaries(&["kamailio"]) {
        return;
    }
    let kamailio = Kamailio::start(KamailioOptions::default()).expect("kamailio");
    let status = kamailio.options_ping(WAIT).expect("OPTIONS");
    assert!(status.starts_with("SIP/2.0 200"), "{status}");
    assert_eq!(kamailio.tls_addr(), None);
    assert_eq!(kamailio.domain(), "test.sip.local");
    assert!(kamailio.log_path().is_file());
    assert!(
        kamailio.log().contains("Listening on"),
        "{}",
        kamailio.log()
    );
}

#[test]
fn baresip_registers_with_md5_digest_and_unregisters_when_dropped() {
    if !require_binaries(&["kamailio", "baresip"]) {
        return;
    }
    let kamailio = Kamailio::start(KamailioOptions::default()).expect("kamailio");
    let dir = tempfile::tempdir().expect("dir");
    let bob = Baresip::start(BaresipOptions::registered_with(
        &kamailio,
        "bob",
        Transport::Udp,
        tone(dir.path(), "bob.wav", 440.0),
    ))
    .expect("baresip");
    bob.wait_registered(WAIT).expect("registered");
    let challenge = kamailio
        .wait_challenge("REGISTER", WAIT)
        .expect("challenged");
    assert!(challenge.contains("auth rc=-5"), "{challenge}");
    let registered = kamailio.wait_registered("bob", WAIT).expect("binding");
    assert!(registered.contains("via udp:127.0.0.1"), "{registered}");
    assert_eq!(bob.aor(), kamailio.aor("bob"));
    // It answers at its own address too (404: the probe's R-URI names no user).
    let status = sip_options(bob.sip_addr(), WAIT).expect("OPTIONS to baresip");
    assert!(status.starts_with("SIP/2.0 "), "{status}");

    let started = Instant::now();
    drop(bob);
    kamailio
        .wait_unregistered("bob", WAIT)
        .expect("un-REGISTER on drop");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_call_through_kamailio_carries_audio_and_dtmf() {
    if !require_binaries(&["kamailio", "baresip"]) {
        return;
    }
    let kamailio = Kamailio::start(KamailioOptions::default()).expect("kamailio");
    let dir = tempfile::tempdir().expect("dir");
    let alice = Baresip::start(BaresipOptions::registered_with(
        &kamailio,
        "alice",
        Transport::Udp,
        tone(dir.path(), "alice.wav", 1000.0),
    ))
    .expect("alice");
    let bob = Baresip::start(BaresipOptions::registered_with(
        &kamailio,
        "bob",
        Transport::Udp,
        tone(dir.path(), "bob.wav", 440.0),
    ))
    .expect("bob");
    alice.wait_registered(WAIT).expect("alice registered");
    bob.wait_registered(WAIT).expect("bob registered");

    let dialed = alice.dial(&kamailio.aor("bob")).expect("dial");
    assert!(dialed.ok, "{dialed:?}");
    let incoming = bob
        .wait_event("CALL_ESTABLISHED", WAIT)
        .expect("bob answered");
    assert_eq!(incoming.direction.as_deref(), Some("incoming"));
    alice
        .wait_event("CALL_ESTABLISHED", WAIT)
        .expect("alice established");
    kamailio
        .wait_relayed("INVITE", WAIT)
        .expect("INVITE relayed");

    std::thread::sleep(Duration::from_secs(2));
    alice.send_dtmf("123#").expect("sndcode");
    let digits: Vec<String> = (0..4)
        .map(|_| {
            bob.wait_event("CALL_DTMF_START", WAIT)
                .expect("DTMF at bob")
                .param
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(digits, ["1", "2", "3", "#"]);

    alice.hangup().expect("hangup");
    bob.wait_event("CALL_CLOSED", WAIT).expect("bob closed");
    kamailio.wait_in_dialog("BYE", WAIT).expect("BYE relayed");

    let (freq, audio) = received_frequency(&bob);
    assert!((freq - 1000.0).abs() < 10.0, "bob heard {freq} Hz");
    // The G.711 round trip keeps the tone's shape.
    let reference = wav::tone(1000.0, 1.0, 0.4, RATE);
    let middle = &audio.samples[audio.samples.len() / 2 - 4000..audio.samples.len() / 2 + 4000];
    let matched = wav::correlate(&reference, middle);
    assert!(matched.coefficient > 0.9, "{matched:?}");
}

#[test]
fn a_tls_call_with_mandatory_srtp() {
    if !require_binaries(&["kamailio", "baresip"]) {
        return;
    }
    let kamailio = Kamailio::start(KamailioOptions {
        tls: true,
        ..KamailioOptions::default()
    })
    .expect("kamailio");
    let pem = kamailio.cert_pem().expect("certificate");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    let dir = tempfile::tempdir().expect("dir");
    let phone = |user: &str, freq: f64| {
        Baresip::start(BaresipOptions {
            srtp: Srtp::Mandatory,
            ..BaresipOptions::registered_with(
                &kamailio,
                user,
                Transport::Tls,
                tone(dir.path(), &format!("{user}.wav"), freq),
            )
        })
        .expect("baresip")
    };
    let alice = phone("alice", 1200.0);
    let bob = phone("bob", 440.0);
    alice.wait_registered(WAIT).expect("alice registered");
    bob.wait_registered(WAIT).expect("bob registered");
    let registered = kamailio.wait_registered("bob", WAIT).expect("binding");
    assert!(registered.contains("via tls:"), "{registered}");

    alice.dial(&kamailio.aor("bob")).expect("dial");
    bob.wait_event("CALL_ESTABLISHED", WAIT)
        .expect("bob answered");
    bob.wait_log("SRTP is Enabled", WAIT).expect("SRTP at bob");
    alice
        .wait_log("SRTP is Enabled", WAIT)
        .expect("SRTP at alice");
    std::thread::sleep(Duration::from_secs(2));
    bob.hangup().expect("hangup");
    alice.wait_event("CALL_CLOSED", WAIT).expect("alice closed");
    let (freq, _) = received_frequency(&alice);
    assert!((freq - 440.0).abs() < 10.0, "alice heard {freq} Hz");
}

#[test]
fn sipp_registers_with_digest_auth_and_a_wrong_password_fails() {
    if !require_binaries(&["kamailio", "sipp"]) {
        return;
    }
    let kamailio = Kamailio::start(KamailioOptions::default()).expect("kamailio");
    let args = |password: &str| SippArgs {
        service: Some("sippy".into()),
        auth_user: Some("sippy".into()),
        auth_password: Some(password.into()),
        timeout: Duration::from_secs(10),
        ..SippArgs::to(kamailio.udp_addr())
    };
    let outcome = Sipp::run(scenarios::REGISTER_AUTH, &args(kamailio.password())).expect("sipp");
    assert!(outcome.success(), "{}", outcome.report());
    assert_eq!(
        outcome.received(),
        ["SIP/2.0 401 Unauthorized", "SIP/2.0 200 OK"],
        "{}",
        outcome.report()
    );
    kamailio.wait_registered("sippy", WAIT).expect("binding");

    let outcome = Sipp::run(scenarios::REGISTER_AUTH, &args("wrong")).expect("sipp");
    assert!(!outcome.success(), "{}", outcome.report());
    kamailio
        .wait_log("auth rc=-2", WAIT)
        .expect("wrong password seen");
}

#[test]
fn sipp_calls_baresip_through_kamailio_with_info_dtmf() {
    if !require_binaries(&["kamailio", "baresip", "sipp"]) {
        return;
    }
    let kamailio = Kamailio::start(KamailioOptions::default()).expect("kamailio");
    let dir = tempfile::tempdir().expect("dir");
    let bob = Baresip::start(BaresipOptions::registered_with(
        &kamailio,
        "bob",
        Transport::Udp,
        tone(dir.path(), "bob.wav", 440.0),
    ))
    .expect("bob");
    bob.wait_registered(WAIT).expect("registered");
    let outcome = Sipp::run(
        scenarios::UAC_INVITE_AUTH_INFO_BYE,
        &SippArgs {
            service: Some("bob".into()),
            auth_user: Some("sippy".into()),
            auth_password: Some(kamailio.password().into()),
            timeout: Duration::from_secs(20),
            ..SippArgs::to(kamailio.udp_addr())
        }
        .key("caller", "sippy"),
    )
    .expect("sipp");
    assert!(outcome.success(), "{}", outcome.report());
    bob.wait_log("received DTMF: '5'", WAIT).expect("INFO DTMF");
    kamailio.wait_challenge("INVITE", WAIT).expect("407");
    kamailio.wait_in_dialog("INFO", WAIT).expect("INFO relayed");
    kamailio.wait_in_dialog("BYE", WAIT).expect("BYE relayed");
}

/// The UAC edge scenarios against baresip as the user agent under test (direct, no proxy).
#[test]
fn uac_edge_scenarios_against_baresip() {
    if !require_binaries(&["baresip", "sipp"]) {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let bob = Baresip::start(BaresipOptions::new(
        "bob",
        tone(dir.path(), "bob.wav", 440.0),
    ))
    .expect("bob");
    let run = |scenario: &str, retransmissions: bool| {
        Sipp::run(
            scenario,
            &SippArgs {
                service: Some("bob".into()),
                retransmissions,
                ..SippArgs::to(bob.sip_addr())
            },
        )
        .expect("sipp")
    };

    let outcome = run(scenarios::UAC_BYE_UNKNOWN_DIALOG, true);
    assert!(outcome.success(), "{}", outcome.report());

    let outcome = run(scenarios::UAC_MISSING_CALL_ID_CSEQ, true);
    assert!(outcome.success(), "{}", outcome.report());

    let outcome = run(scenarios::UAC_CONTENT_LENGTH_TOO_SHORT, true);
    assert!(outcome.success(), "{}", outcome.report());

    let outcome = run(scenarios::UAC_INVITE_RETRANSMITTED, false);
    assert!(outcome.success(), "{}", outcome.report());
    let invites = outcome
        .sent()
        .iter()
        .filter(|l| l.starts_with("INVITE "))
        .count();
    assert_eq!(invites, 3, "{}", outcome.report());
    // one call only
    bob.wait_event("CALL_ESTABLISHED", WAIT)
        .expect("established");
    bob.wait_event("CALL_CLOSED", WAIT)
        .expect("closed by the BYE");
    assert!(
        bob.wait_event("CALL_ESTABLISHED", Duration::from_millis(500))
            .is_err(),
        "a second call from the retransmissions"
    );
}

/// The UAS edge scenarios with baresip as the caller (direct to sipp).
#[test]
fn uas_edge_scenarios_against_baresip() {
    if !require_binaries(&["baresip", "sipp"]) {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let alice = Baresip::start(BaresipOptions::new(
        "alice",
        tone(dir.path(), "alice.wav", 1000.0),
    ))
    .expect("alice");
    let uas = |scenario: &str| {
        Sipp::spawn(
            scenario,
            &SippArgs {
                timeout: Duration::from_secs(20),
                ..SippArgs::default()
            },
        )
        .expect("sipp")
    };

    let busy = uas(scenarios::UAS_BUSY_486);
    alice
        .dial(&format!("sip:busy@{}", busy.local_addr()))
        .expect("dial");
    let closed = alice.wait_event("CALL_CLOSED", WAIT).expect("closed");
    assert!(
        closed.param.as_deref().unwrap_or_default().contains("486"),
        "{closed:?}"
    );
    let outcome = busy.wait().expect("sipp");
    assert!(outcome.success(), "{}", outcome.report());

    let ringing = uas(scenarios::UAS_RING_THEN_CANCEL);
    alice
        .dial(&format!("sip:ringing@{}", ringing.local_addr()))
        .expect("dial");
    alice.wait_event("CALL_RINGING", WAIT).expect("ringing");
    alice.hangup().expect("CANCEL");
    let outcome = ringing.wait().expect("sipp");
    assert!(outcome.success(), "{}", outcome.report());
    let received = outcome.received();
    assert!(
        received.iter().any(|l| l.starts_with("CANCEL ")),
        "{}",
        outcome.report()
    );
    assert!(
        received.iter().any(|l| l.starts_with("ACK ")),
        "{}",
        outcome.report()
    );
}

#[test]
fn an_endless_401_registrar_makes_baresip_give_up() {
    if !require_binaries(&["baresip", "sipp"]) {
        return;
    }
    let registrar = Sipp::spawn(
        scenarios::UAS_ENDLESS_401,
        &SippArgs {
            timeout: Duration::from_secs(30),
            ..SippArgs::default()
        },
    )
    .expect("sipp");
    let dir = tempfile::tempdir().expect("dir");
    let phone = Baresip::start(BaresipOptions {
        password: "whatever".into(),
        registrar: Some(registrar.local_addr()),
        ..BaresipOptions::new("carol", tone(dir.path(), "carol.wav", 440.0))
    })
    .expect("baresip");
    phone
        .wait_log("401 Unauthorized", WAIT)
        .expect("challenged");
    assert!(phone.wait_registered(Duration::from_secs(2)).is_err());
    drop(phone);
    let outcome = registrar.stop().expect("sipp");
    let registers = outcome
        .received()
        .iter()
        .filter(|l| l.starts_with("REGISTER "))
        .count();
    assert!(registers >= 2, "{}", outcome.report());
    let challenges = outcome
        .sent()
        .iter()
        .filter(|l| l.starts_with("SIP/2.0 401"))
        .count();
    assert_eq!(challenges, registers, "{}", outcome.report());
}

#[test]
fn a_busy_baresip_rejects_calls() {
    if !require_binaries(&["baresip"]) {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let busy = Baresip::start(BaresipOptions {
        answer: Answer::Busy,
        ..BaresipOptions::new("busy", tone(dir.path(), "busy.wav", 440.0))
    })
    .expect("busy");
    let caller = Baresip::start(BaresipOptions::new(
        "caller",
        tone(dir.path(), "caller.wav", 1000.0),
    ))
    .expect("caller");
    caller.dial(&busy.contact_uri()).expect("dial");
    busy.wait_event("CALL_INCOMING", WAIT).expect("incoming");
    let closed = caller.wait_event("CALL_CLOSED", WAIT).expect("rejected");
    assert!(
        closed.param.as_deref().unwrap_or_default().contains("486"),
        "{closed:?}"
    );
}

#[test]
fn sha256_kamailio_challenges_with_sha256() {
    if !require_binaries(&["kamailio"]) {
        return;
    }
    let kamailio = Kamailio::start(KamailioOptions {
        algorithm: Algorithm::Sha256,
        ..KamailioOptions::default()
    })
    .expect("kamailio");
    // A raw REGISTER: the challenge names SHA-256.
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("socket");
    socket.set_read_timeout(Some(WAIT)).expect("timeout");
    let local = socket.local_addr().expect("addr");
    let target = kamailio.udp_addr();
    let request = format!(
        "REGISTER sip:{target} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-sha;rport\r\n\
         Max-Forwards: 70\r\nFrom: <sip:dave@{target}>;tag=1\r\nTo: <sip:dave@{target}>\r\n\
         Call-ID: sha256-{local}\r\nCSeq: 1 REGISTER\r\nContact: <sip:dave@{local}>\r\n\
         Expires: 60\r\nContent-Length: 0\r\n\r\n"
    );
    socket.send_to(request.as_bytes(), target).expect("send");
    let mut buf = [0u8; 4096];
    let (n, _) = socket.recv_from(&mut buf).expect("answer");
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(answer.starts_with("SIP/2.0 401"), "{answer}");
    assert!(answer.contains("algorithm=SHA-256"), "{answer}");
}

#[test]
fn the_impairment_relay_drops_about_the_requested_fraction() {
    let sink = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("sink");
    sink.set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    let relay = UdpImpairment::start(ImpairOptions {
        loss: 0.25,
        delay_ms: 5.0,
        jitter_ms: 2.0,
        seed: 3,
        ..ImpairOptions::new(sink.local_addr().expect("addr"))
    })
    .expect("relay");
    let counter = std::thread::spawn(move || {
        let mut buf = [0u8; 64];
        let mut got = 0u32;
        while sink.recv_from(&mut buf).is_ok() {
            got += 1;
        }
        got
    });
    let client = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("client");
    let sent = 2000u32;
    for i in 0..sent {
        client
            .send_to(&i.to_be_bytes(), relay.addr())
            .expect("send");
        if i % 20 == 19 {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    let got = counter.join().expect("sink");
    let stats = relay.stats();
    assert_eq!(
        stats.forwarded_upstream + stats.dropped_upstream,
        u64::from(sent)
    );
    assert_eq!(stats.forwarded_upstream, u64::from(got));
    let loss = 1.0 - f64::from(got) / f64::from(sent);
    assert!((loss - 0.25).abs() < 0.04, "loss {loss}");
}

#[test]
fn sip_through_a_lossy_relay_still_gets_answered() {
    if !require_binaries(&["kamailio"]) {
        return;
    }
    let kamailio = Kamailio::start(KamailioOptions::default()).expect("kamailio");
    let relay = UdpImpairment::start(ImpairOptions {
        loss: 0.3,
        delay_ms: 20.0,
        jitter_ms: 10.0,
        seed: 11,
        ..ImpairOptions::new(kamailio.udp_addr())
    })
    .expect("relay");
    let uri = format!("sip:{}", kamailio.udp_addr());
    let status = sip_options_to(relay.addr(), &uri, WAIT).expect("OPTIONS through the relay");
    assert!(status.starts_with("SIP/2.0 200"), "{status}");
    assert!(relay.stats().forwarded_downstream >= 1);
}

#[test]
fn a_manual_baresip_rings_until_accepted() {
    if !require_binaries(&["baresip"]) {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let callee = Baresip::start(BaresipOptions {
        answer: Answer::Manual,
        ..BaresipOptions::new("callee", tone(dir.path(), "callee.wav", 440.0))
    })
    .expect("callee");
    let caller = Baresip::start(BaresipOptions::new(
        "caller",
        tone(dir.path(), "caller.wav", 1000.0),
    ))
    .expect("caller");
    caller.dial(&callee.contact_uri()).expect("dial");
    callee.wait_event("CALL_INCOMING", WAIT).expect("incoming");
    caller.wait_event("CALL_RINGING", WAIT).expect("ringing");
    assert!(
        callee
            .wait_event("CALL_ESTABLISHED", Duration::from_millis(500))
            .is_err(),
        "answered without accept"
    );
    let accepted = callee.accept().expect("accept");
    assert!(accepted.ok, "{accepted:?}");
    caller
        .wait_event("CALL_ESTABLISHED", WAIT)
        .expect("caller established");
    callee.hangup().expect("hangup");
    caller.wait_event("CALL_CLOSED", WAIT).expect("closed");
}

#[test]
fn baresip_registers_over_tcp() {
    if !require_binaries(&["kamailio", "baresip"]) {
        return;
    }
    let kamailio = Kamailio::start(KamailioOptions::default()).expect("kamailio");
    let dir = tempfile::tempdir().expect("dir");
    let erin = Baresip::start(BaresipOptions::registered_with(
        &kamailio,
        "erin",
        Transport::Tcp,
        tone(dir.path(), "erin.wav", 440.0),
    ))
    .expect("baresip");
    erin.wait_registered(WAIT).expect("registered");
    let registered = kamailio.wait_registered("erin", WAIT).expect("binding");
    assert!(registered.contains("via tcp:"), "{registered}");
}

#[test]
fn baresip_stops_quickly_even_when_its_registrar_is_gone() {
    if !require_binaries(&["kamailio", "baresip"]) {
        return;
    }
    let kamailio = Kamailio::start(KamailioOptions::default()).expect("kamailio");
    let dir = tempfile::tempdir().expect("dir");
    let frank = Baresip::start(BaresipOptions::registered_with(
        &kamailio,
        "frank",
        Transport::Udp,
        tone(dir.path(), "frank.wav", 440.0),
    ))
    .expect("baresip");
    frank.wait_registered(WAIT).expect("registered");
    // The wrong order: its un-REGISTER now goes nowhere, and the second SIGTERM ends it.
    drop(kamailio);
    let started = Instant::now();
    drop(frank);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn optional_srtp_falls_back_to_plain_rtp() {
    if !require_binaries(&["baresip"]) {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let plain = Baresip::start(BaresipOptions::new(
        "plain",
        tone(dir.path(), "plain.wav", 440.0),
    ))
    .expect("plain");
    let optional = Baresip::start(BaresipOptions {
        srtp: Srtp::Optional,
        ..BaresipOptions::new("optional", tone(dir.path(), "optional.wav", 1000.0))
    })
    .expect("optional");
    optional.dial(&plain.contact_uri()).expect("dial");
    plain
        .wait_event("CALL_ESTABLISHED", WAIT)
        .expect("plain answered");
    optional
        .wait_event("CALL_ESTABLISHED", WAIT)
        .expect("optional established");
    std::thread::sleep(Duration::from_millis(1500));
    optional.hangup().expect("hangup");
    plain.wait_event("CALL_CLOSED", WAIT).expect("closed");
    let (freq, _) = received_frequency(&plain);
    assert!((freq - 1000.0).abs() < 10.0, "plain heard {freq} Hz");
}
