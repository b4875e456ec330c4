//! The phone against sipp scenarios for edge and broken traffic (RFC 3261 answers
//! expected), and against garbage datagrams: nothing crashes it, each thing gets the
//! answer the RFC gives, and a registrar that challenges forever gets two REGISTERs, not
//! a storm.

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use cuecard_sip::SipError;
use cuecard_sip::phone::{EndReason, Phone, PhoneConfig, PhoneEvent};
use cuecard_sip::sdp::SrtpPolicy;
use cuecard_testserver::sip::{Sipp, SippArgs, require_binaries, scenarios};
use tokio::runtime::Runtime;
use tokio::sync::mpsc::Receiver;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A phone whose proxy is `proxy` (sipp as a UAS, or nothing at all).
fn start_phone(rt: &Runtime, proxy: SocketAddr) -> (Phone, Receiver<PhoneEvent>) {
    let mut config = PhoneConfig::new("alice", "s3cret-Passw0rd", "edge.test");
    config.proxy = proxy.to_string();
    config.local_ip = Some([127, 0, 0, 1].into());
    config.srtp = SrtpPolicy::Off;
    config.keepalive = None;
    rt.block_on(Phone::start(config)).unwrap()
}

fn wait<T>(
    rt: &Runtime,
    events: &mut Receiver<PhoneEvent>,
    what: &str,
    pick: impl FnMut(PhoneEvent) -> Option<T>,
) -> T {
    cuecard_testserver::events::wait_for(rt, events, Duration::from_secs(10), what, pick)
}

/// Datagrams a hostile or broken peer might send.
fn garbage() -> Vec<Vec<u8>> {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut out: Vec<Vec<u8>> = (0..200)
        .map(|i| (0..(i * 7 % 1400 + 1)).map(|_| next() as u8).collect())
        .collect();
    out.push(vec![b'A'; 65_000]);
    out.push(b"INVITE sip:alice@127.0.0.1 SIP/2.0\r\n\r\n".to_vec());
    out.push(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bKnobody\r\nCSeq: 1 INVITE\r\n\r\n".to_vec());
    out.push(b"\xff\xfe\x00SIP/2.0\r\n\r\n".to_vec());
    out
}

#[test]
fn broken_requests_get_the_rfc_answers_and_garbage_is_survived() {
    if !require_binaries(&["sipp"]) {
        return;
    }
    let rt = runtime();
    let (phone, _events) = start_phone(&rt, "127.0.0.1:9".parse().unwrap());
    let target = phone.local_addr();

    let blaster = UdpSocket::bind("127.0.0.1:0").unwrap();
    for datagram in garbage() {
        blaster.send_to(&datagram, target).unwrap();
    }

    for (name, scenario) in [
        (
            "Content-Length past the end: 400",
            scenarios::UAC_CONTENT_LENGTH_TOO_LONG,
        ),
        (
            "Content-Length short of the end: 200",
            scenarios::UAC_CONTENT_LENGTH_TOO_SHORT,
        ),
        (
            "no Call-ID or CSeq, then a good OPTIONS: 200",
            scenarios::UAC_MISSING_CALL_ID_CSEQ,
        ),
        (
            "BYE for an unknown dialog: 481",
            scenarios::UAC_BYE_UNKNOWN_DIALOG,
        ),
    ] {
        let mut args = SippArgs::to(target);
        args.service = Some("alice".into());
        let outcome = Sipp::run(scenario, &args).unwrap();
        assert!(outcome.success(), "{name}\n{}", outcome.report());
    }
    rt.block_on(phone.shutdown());
}

#[test]
fn a_retransmitted_invite_is_one_call() {
    if !require_binaries(&["sipp"]) {
        return;
    }
    let rt = runtime();
    let (phone, mut events) = start_phone(&rt, "127.0.0.1:9".parse().unwrap());
    let mut args = SippArgs::to(phone.local_addr());
    args.service = Some("alice".into());
    args.retransmissions = false;
    let sipp = Sipp::spawn(scenarios::UAC_INVITE_RETRANSMITTED, &args).unwrap();
    let call = wait(&rt, &mut events, "Incoming", |e| match e {
        PhoneEvent::Incoming { call, .. } => Some(call),
        _ => None,
    });
    rt.block_on(phone.answer(call)).unwrap();
    let outcome = sipp.wait().unwrap();
    assert!(outcome.success(), "{}", outcome.report());
    let ended = wait(&rt, &mut events, "Ended", |e| match e {
        PhoneEvent::Incoming { .. } => panic!("a second call from a retransmission"),
        PhoneEvent::Ended { call: c, reason } if c == call => Some(reason),
        _ => None,
    });
    assert_eq!(ended, EndReason::Remote);
    rt.block_on(phone.shutdown());
}

#[test]
fn a_registrar_that_always_challenges_gets_two_registers() {
    if !require_binaries(&["sipp"]) {
        return;
    }
    let rt = runtime();
    let sipp = Sipp::spawn(scenarios::UAS_ENDLESS_401, &SippArgs::default()).unwrap();
    let (phone, _events) = start_phone(&rt, sipp.local_addr());
    let err = rt.block_on(phone.register()).unwrap_err();
    assert!(matches!(err, SipError::Unauthorized { .. }), "{err}");
    std::thread::sleep(Duration::from_secs(2));
    rt.block_on(phone.shutdown());
    let outcome = sipp.stop().unwrap();
    let registers = outcome
        .received()
        .iter()
        .filter(|l| l.starts_with("REGISTER"))
        .count();
    assert_eq!(registers, 2, "{}", outcome.report());
}

#[test]
fn busy_and_cancel_against_sipp() {
    if !require_binaries(&["sipp"]) {
        return;
    }
    let rt = runtime();
    let busy = Sipp::spawn(scenarios::UAS_BUSY_486, &SippArgs::default()).unwrap();
    let (phone, mut events) = start_phone(&rt, busy.local_addr());
    let call = rt
        .block_on(phone.call(&format!("sip:bob@{}", busy.local_addr())))
        .unwrap();
    let reason = wait(&rt, &mut events, "Ended", |e| match e {
        PhoneEvent::Ended { call: c, reason } if c == call => Some(reason),
        _ => None,
    });
    assert_eq!(reason, EndReason::Busy);
    let outcome = busy.wait().unwrap();
    assert!(
        outcome.success(),
        "the 486 was ACKed:\n{}",
        outcome.report()
    );
    rt.block_on(phone.shutdown());

    let ringing = Sipp::spawn(scenarios::UAS_RING_THEN_CANCEL, &SippArgs::default()).unwrap();
    let (phone, mut events) = start_phone(&rt, ringing.local_addr());
    let call = rt
        .block_on(phone.call(&format!("sip:bob@{}", ringing.local_addr())))
        .unwrap();
    wait(&rt, &mut events, "Ringing", |e| {
        matches!(e, PhoneEvent::Ringing { call: c } if c == call).then_some(())
    });
    rt.block_on(phone.hangup(call)).unwrap();
    let reason = wait(&rt, &mut events, "Ended", |e| match e {
        PhoneEvent::Ended { call: c, reason } if c == call => Some(reason),
        _ => None,
    });
    assert_eq!(reason, EndReason::Local);
    let outcome = ringing.wait().unwrap();
    assert!(
        outcome.success(),
        "CANCEL, 487 and its ACK:\n{}",
        outcome.report()
    );
    rt.block_on(phone.shutdown());
}
