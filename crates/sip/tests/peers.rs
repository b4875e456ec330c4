//! The phone against real peers on loopback: kamailio as the registrar/proxy (standing in
//! for a Twilio SIP Domain, digest auth on) and baresip as the far end. Media is not run
//! here (see `cuecard-softphone`'s tests for audio both ways); these check signalling.

use std::time::Duration;

use cuecard_sip::SipError;
use cuecard_sip::phone::{CallId, EndReason, Phone, PhoneConfig, PhoneEvent};
use cuecard_sip::sdp::SrtpPolicy;
use cuecard_sip::transport::TransportKind;
use cuecard_testserver::sip::{
    Algorithm, Answer, Baresip, BaresipOptions, Kamailio, KamailioOptions, Srtp, Transport,
    require_binaries, wav,
};
use tokio::runtime::Runtime;
use tokio::sync::mpsc::Receiver;

const WAIT: Duration = Duration::from_secs(10);

struct Rig {
    rt: Runtime,
    dir: tempfile::TempDir,
}

impl Rig {
    fn new() -> Rig {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        Rig {
            rt,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn tone(&self, name: &str, hz: f64) -> std::path::PathBuf {
        let path = self.dir.path().join(name);
        wav::write_tone_wav(&path, hz, 60.0, 0.5).unwrap();
        path
    }

    fn phone(
        &self,
        kam: &Kamailio,
        user: &str,
        transport: TransportKind,
    ) -> (Phone, Receiver<PhoneEvent>) {
        let mut config = PhoneConfig::new(user, kam.password(), kam.domain());
        config.proxy = match transport {
            TransportKind::Tls => kam.tls_addr().unwrap().to_string(),
            _ => kam.udp_addr().to_string(),
        };
        config.transport = transport;
        config.tls_ca_pem = kam.cert_pem().map(|p| p.as_bytes().to_vec());
        config.local_ip = Some([127, 0, 0, 1].into());
        config.srtp = SrtpPolicy::Off;
        self.rt.block_on(Phone::start(config)).unwrap()
    }

    /// Waits for the first event `pick` accepts, passing over others.
    fn wait<T>(
        &self,
        events: &mut Receiver<PhoneEvent>,
        what: &str,
        pick: impl FnMut(PhoneEvent) -> Option<T>,
    ) -> T {
        cuecard_testserver::events::wait_for(&self.rt, events, WAIT, what, pick)
    }

    fn established(&self, events: &mut Receiver<PhoneEvent>, call: CallId) {
        let mut media = false;
        self.wait(events, "Established", |e| match e {
            PhoneEvent::MediaStart { call: c, .. } if c == call => {
                media = true;
                None
            }
            PhoneEvent::Established { call: c } if c == call => Some(()),
            PhoneEvent::Ended { call: c, reason } if c == call => panic!("call ended: {reason:?}"),
            _ => None,
        });
        assert!(media, "media is agreed before the call is reported up");
    }

    fn ended(&self, events: &mut Receiver<PhoneEvent>, call: CallId) -> EndReason {
        self.wait(events, "Ended", |e| match e {
            PhoneEvent::Ended { call: c, reason } if c == call => Some(reason),
            _ => None,
        })
    }
}

fn kamailio(algorithm: Algorithm, tls: bool) -> Kamailio {
    Kamailio::start(KamailioOptions {
        algorithm,
        tls,
        ..KamailioOptions::default()
    })
    .unwrap()
}

#[test]
fn registers_with_md5_and_sha256_refreshes_and_unregisters() {
    if !require_binaries(&["kamailio"]) {
        return;
    }
    let rig = Rig::new();
    for algorithm in [Algorithm::Md5, Algorithm::Sha256] {
        let kam = kamailio(algorithm, false);
        let (phone, mut events) = {
            let mut config = PhoneConfig::new("alice", kam.password(), kam.domain());
            config.proxy = kam.udp_addr().to_string();
            config.local_ip = Some([127, 0, 0, 1].into());
            config.register_expires = 2;
            rig.rt.block_on(Phone::start(config)).unwrap()
        };
        let granted = rig.rt.block_on(phone.register()).unwrap();
        assert_eq!(granted, 2, "{algorithm:?}");
        kam.wait_registered("alice", WAIT).unwrap();
        // Lifetime 2 s: a refresh comes within about a second, answered with credentials.
        let mark = kam.log_mark();
        kam.wait_log_since(mark, "TEST: registered sip:alice", Duration::from_secs(4))
            .unwrap();
        let mut registrations = 0;
        rig.wait(&mut events, "a refresh", |e| {
            registrations += usize::from(matches!(e, PhoneEvent::Registered { .. }));
            (registrations == 2).then_some(())
        });
        rig.rt.block_on(phone.unregister()).unwrap();
        kam.wait_unregistered("alice", WAIT).unwrap();
        rig.rt.block_on(phone.shutdown());
    }
}

#[test]
fn a_wrong_password_is_one_clear_error_and_no_retry_storm() {
    if !require_binaries(&["kamailio"]) {
        return;
    }
    let rig = Rig::new();
    let kam = kamailio(Algorithm::Md5, false);
    let mut config = PhoneConfig::new("alice", "wrong-password", kam.domain());
    config.proxy = kam.udp_addr().to_string();
    config.local_ip = Some([127, 0, 0, 1].into());
    let (phone, mut events) = rig.rt.block_on(Phone::start(config)).unwrap();
    let err = rig.rt.block_on(phone.register()).unwrap_err();
    assert!(matches!(err, SipError::Unauthorized { .. }), "{err}");
    assert!(
        err.to_string().contains("alice") && err.to_string().contains("password"),
        "{err}"
    );
    let unauthorized = rig.wait(&mut events, "RegistrationFailed", |e| match e {
        PhoneEvent::RegistrationFailed { unauthorized, .. } => Some(unauthorized),
        _ => None,
    });
    assert!(unauthorized);
    std::thread::sleep(Duration::from_secs(2));
    let challenges = kam.count_log("TEST: challenge REGISTER");
    assert_eq!(
        challenges,
        2,
        "one REGISTER, one answer with credentials, then nothing:\n{}",
        kam.log()
    );
    rig.rt.block_on(phone.shutdown());
}

#[test]
fn calls_out_to_baresip_and_hangs_up() {
    if !require_binaries(&["kamailio", "baresip"]) {
        return;
    }
    let rig = Rig::new();
    let kam = kamailio(Algorithm::Md5, false);
    let bob = Baresip::start(BaresipOptions::registered_with(
        &kam,
        "bob",
        Transport::Udp,
        rig.tone("bob.wav", 440.0),
    ))
    .unwrap();
    bob.wait_registered(WAIT).unwrap();
    let (phone, mut events) = rig.phone(&kam, "alice", TransportKind::Udp);
    rig.rt.block_on(phone.register()).unwrap();
    let call = rig.rt.block_on(phone.call("bob")).unwrap();
    rig.established(&mut events, call);
    bob.wait_event("CALL_ESTABLISHED", WAIT).unwrap();
    kam.wait_relayed("INVITE", WAIT).unwrap();
    // A hostile peer throws junk at the phone mid-call: the call stays up.
    let junk = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..300usize {
        let datagram: Vec<u8> = (0..(i * 13 % 1500 + 1))
            .map(|j| (i * 31 + j * 7) as u8)
            .collect();
        junk.send_to(&datagram, phone.local_addr()).unwrap();
    }
    junk.send_to(&vec![b'v'; 65_000], phone.local_addr())
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    rig.rt.block_on(phone.hangup(call)).unwrap();
    assert_eq!(rig.ended(&mut events, call), EndReason::Local);
    bob.wait_event("CALL_CLOSED", WAIT).unwrap();
    rig.rt.block_on(phone.shutdown());
    drop(bob);
}

#[test]
fn takes_a_call_from_baresip_and_the_far_end_hangs_up() {
    if !require_binaries(&["kamailio", "baresip"]) {
        return;
    }
    let rig = Rig::new();
    let kam = kamailio(Algorithm::Md5, false);
    let bob = Baresip::start(BaresipOptions::registered_with(
        &kam,
        "bob",
        Transport::Udp,
        rig.tone("bob.wav", 440.0),
    ))
    .unwrap();
    bob.wait_registered(WAIT).unwrap();
    let (phone, mut events) = rig.phone(&kam, "alice", TransportKind::Udp);
    rig.rt.block_on(phone.register()).unwrap();
    bob.dial(&kam.aor("alice")).unwrap();
    let (call, from) = rig.wait(&mut events, "Incoming", |e| match e {
        PhoneEvent::Incoming { call, from, .. } => Some((call, from)),
        _ => None,
    });
    assert!(from.contains("bob"), "{from}");
    rig.rt.block_on(phone.answer(call)).unwrap();
    rig.established(&mut events, call);
    bob.wait_event("CALL_ESTABLISHED", WAIT).unwrap();
    bob.hangup().unwrap();
    assert_eq!(rig.ended(&mut events, call), EndReason::Remote);
    rig.rt.block_on(phone.shutdown());
}

#[test]
fn cancel_while_ringing_and_busy() {
    if !require_binaries(&["kamailio", "baresip"]) {
        return;
    }
    let rig = Rig::new();
    let kam = kamailio(Algorithm::Md5, false);
    let mut ringing =
        BaresipOptions::registered_with(&kam, "bob", Transport::Udp, rig.tone("bob.wav", 440.0));
    ringing.answer = Answer::Manual;
    let bob = Baresip::start(ringing).unwrap();
    let mut busy = BaresipOptions::registered_with(
        &kam,
        "carol",
        Transport::Udp,
        rig.tone("carol.wav", 440.0),
    );
    busy.answer = Answer::Busy;
    let carol = Baresip::start(busy).unwrap();
    bob.wait_registered(WAIT).unwrap();
    carol.wait_registered(WAIT).unwrap();
    let (phone, mut events) = rig.phone(&kam, "alice", TransportKind::Udp);
    rig.rt.block_on(phone.register()).unwrap();

    let call = rig.rt.block_on(phone.call("bob")).unwrap();
    rig.wait(&mut events, "Ringing", |e| {
        matches!(e, PhoneEvent::Ringing { call: c } if c == call).then_some(())
    });
    rig.rt.block_on(phone.hangup(call)).unwrap();
    assert_eq!(rig.ended(&mut events, call), EndReason::Local);
    bob.wait_event("CALL_CLOSED", WAIT).unwrap();

    let call = rig.rt.block_on(phone.call("carol")).unwrap();
    assert_eq!(rig.ended(&mut events, call), EndReason::Busy);
    rig.rt.block_on(phone.shutdown());
}

#[test]
fn hold_resume_info_dtmf_and_transfer() {
    if !require_binaries(&["kamailio", "baresip"]) {
        return;
    }
    let rig = Rig::new();
    let kam = kamailio(Algorithm::Md5, false);
    let bob = Baresip::start(BaresipOptions::registered_with(
        &kam,
        "bob",
        Transport::Udp,
        rig.tone("bob.wav", 440.0),
    ))
    .unwrap();
    let carol = Baresip::start(BaresipOptions::registered_with(
        &kam,
        "carol",
        Transport::Udp,
        rig.tone("carol.wav", 660.0),
    ))
    .unwrap();
    bob.wait_registered(WAIT).unwrap();
    carol.wait_registered(WAIT).unwrap();
    let (phone, mut events) = rig.phone(&kam, "alice", TransportKind::Udp);
    rig.rt.block_on(phone.register()).unwrap();
    let call = rig.rt.block_on(phone.call("bob")).unwrap();
    rig.established(&mut events, call);
    bob.wait_event("CALL_ESTABLISHED", WAIT).unwrap();

    rig.rt.block_on(phone.hold(call, true)).unwrap();
    let held = rig.wait(&mut events, "Held", |e| match e {
        PhoneEvent::MediaChange { media, .. } => {
            assert!(
                !media.direction.receives(),
                "on hold we only send: {:?}",
                media.direction
            );
            None
        }
        PhoneEvent::Held { by_remote, .. } => Some(by_remote),
        _ => None,
    });
    assert!(!held);
    rig.rt.block_on(phone.hold(call, false)).unwrap();
    rig.wait(&mut events, "Resumed", |e| {
        matches!(
            e,
            PhoneEvent::Resumed {
                by_remote: false,
                ..
            }
        )
        .then_some(())
    });

    rig.rt.block_on(phone.send_info_dtmf(call, '7')).unwrap();
    bob.wait_log("received DTMF: '7'", WAIT).unwrap();

    rig.rt.block_on(phone.transfer(call, "carol")).unwrap();
    assert_eq!(rig.ended(&mut events, call), EndReason::Transferred);
    carol.wait_event("CALL_ESTABLISHED", WAIT).unwrap();
    rig.rt.block_on(phone.shutdown());
}

#[test]
fn a_tls_call_with_mandatory_srtp() {
    if !require_binaries(&["kamailio", "baresip"]) {
        return;
    }
    let rig = Rig::new();
    let kam = kamailio(Algorithm::Md5, true);
    let mut options =
        BaresipOptions::registered_with(&kam, "bob", Transport::Tls, rig.tone("bob.wav", 440.0));
    options.srtp = Srtp::Mandatory;
    let bob = Baresip::start(options).unwrap();
    bob.wait_registered(WAIT).unwrap();
    let mut config = PhoneConfig::new("alice", kam.password(), kam.domain());
    config.proxy = kam.tls_addr().unwrap().to_string();
    config.transport = TransportKind::Tls;
    config.tls_ca_pem = kam.cert_pem().map(|p| p.as_bytes().to_vec());
    config.local_ip = Some([127, 0, 0, 1].into());
    config.srtp = SrtpPolicy::Mandatory;
    let (phone, mut events) = rig.rt.block_on(Phone::start(config)).unwrap();
    rig.rt.block_on(phone.register()).unwrap();
    kam.wait_log("TEST: registered sip:alice", WAIT).unwrap();
    let call = rig.rt.block_on(phone.call("bob")).unwrap();
    let crypto = rig.wait(&mut events, "MediaStart", |e| match e {
        PhoneEvent::MediaStart { media, .. } => Some(media.crypto),
        PhoneEvent::Ended { reason, .. } => panic!("call ended: {reason:?}"),
        _ => None,
    });
    let (ours, theirs) = crypto.expect("SRTP keys agreed");
    assert_eq!(ours.suite, theirs.suite);
    bob.wait_event("CALL_ESTABLISHED", WAIT).unwrap();
    rig.rt.block_on(phone.hangup(call)).unwrap();
    rig.rt.block_on(phone.shutdown());
}
