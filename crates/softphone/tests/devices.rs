//! A call on the computer's audio devices, with real peers: a private PulseAudio daemon
//! whose null sinks are the microphone and the speakers, kamailio as the SIP Domain and
//! baresip as the far end. What is played into the microphone reaches baresip; what
//! baresip plays comes out of the speakers and into the live coach's far-end feed.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use cuecard_audio::capture::{Capture, CaptureOptions};
use cuecard_audio::device::AudioHost;
use cuecard_audio::dual::{DualCapture, DualOptions, FarEnd, FarEndFeed, far_end_feed};
use cuecard_audio::resample::downmix_into;
use cuecard_audio::testing::PulseServer;
use cuecard_sip::phone::{CallId, PhoneConfig};
use cuecard_sip::sdp::SrtpPolicy;
use cuecard_softphone::devices::DeviceOptions;
use cuecard_softphone::{CallAudio, Softphone, SoftphoneEvent};
use cuecard_testserver::sip::wav;
use cuecard_testserver::sip::{
    Baresip, BaresipOptions, Kamailio, KamailioOptions, Transport, require_binaries,
};

const WAIT: Duration = Duration::from_secs(10);

fn to_i16(samples: &[f32]) -> Vec<i16> {
    samples
        .iter()
        .map(|s| (s.clamp(-1.0, 1.0) * 32767.0) as i16)
        .collect()
}

fn pitch(what: &str, samples: &[f32], rate: u32) -> f64 {
    // The last two seconds: the call's start (and the jitter buffer's) is behind it.
    let tail = &samples[samples.len().saturating_sub(2 * rate as usize)..];
    wav::dominant_frequency(&to_i16(tail), rate)
        .unwrap_or_else(|| panic!("{what}: silence ({} samples)", samples.len()))
}

#[test]
fn a_call_on_the_devices_carries_the_mic_out_and_the_far_end_to_speaker_and_coach() {
    if !require_binaries(&["kamailio", "baresip", "pulseaudio"]) {
        return;
    }
    let pulse = PulseServer::start();
    let dir = tempfile::tempdir().unwrap();
    let kam = Kamailio::start(KamailioOptions::default()).unwrap();
    let bob_wav = dir.path().join("bob.wav");
    wav::write_tone_wav(&bob_wav, 440.0, 60.0, 0.5).unwrap();
    let bob = Baresip::start(BaresipOptions::registered_with(
        &kam,
        "bob",
        Transport::Udp,
        &bob_wav,
    ))
    .unwrap();
    bob.wait_registered(WAIT).unwrap();

    // The rep says a steady 1 kHz into the microphone.
    let mic: Vec<f32> = wav::tone(1000.0, 20.0, 0.5, 16_000)
        .iter()
        .map(|&s| f32::from(s) / 32768.0)
        .collect();
    let _talking = pulse.play("mic_feed", &mic);

    let (feed_tx, feed_rx) = mpsc::channel::<FarEndFeed>();
    let audio = Box::new(move |_: CallId| {
        let (feeder, feed) = far_end_feed(8000);
        let _ = feed_tx.send(feed);
        CallAudio::Devices(DeviceOptions {
            mic: None,
            speaker: None,
            far_feed: Some(feeder),
        })
    });
    let mut config = PhoneConfig::new("alice", kam.password(), kam.domain());
    config.local_ip = Some([127, 0, 0, 1].into());
    config.proxy = kam.udp_addr().to_string();
    config.srtp = SrtpPolicy::Off;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (phone, mut events) = rt.block_on(Softphone::start(config, None, audio)).unwrap();
    let call = rt.block_on(phone.call("bob")).unwrap();
    cuecard_testserver::events::wait_for(&rt, &mut events, WAIT, "Established", |e| match e {
        SoftphoneEvent::Established { .. } => Some(()),
        SoftphoneEvent::AudioFailed { reason, .. } => panic!("{reason}"),
        SoftphoneEvent::Ended { reason, .. } => panic!("ended: {reason:?}"),
        _ => None,
    });
    let feed = feed_rx.recv_timeout(WAIT).expect("the call's far-end feed");

    // The coach's view (the far end from the feed) and the speakers' monitor, 3 s.
    let mut coach = DualCapture::start(DualOptions {
        far: FarEnd::Feed(feed),
        ..DualOptions::default()
    })
    .unwrap();
    let host = AudioHost::new().unwrap();
    let monitor = cuecard_audio::loopback::default_output_loopback(&host).unwrap();
    let mut speakers = Capture::start(CaptureOptions {
        device: Some(monitor),
        ..CaptureOptions::default()
    })
    .unwrap();
    let (mut rep, mut far, mut played, mut raw) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut format = None;
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until {
        coach.poll(&mut rep, &mut far).unwrap();
        raw.clear();
        if let Some(f) = speakers.read(&mut raw) {
            downmix_into(&raw, usize::from(f.channels), &mut played);
            format = Some(f);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    rt.block_on(phone.phone().hangup(call)).unwrap();
    bob.wait_event("CALL_CLOSED", WAIT).unwrap();
    rt.block_on(phone.shutdown());

    let speaker_rate = format.expect("the speakers played").sample_rate;
    let heard = pitch("the speakers", &played, speaker_rate);
    assert!(
        (heard - 440.0).abs() < 10.0,
        "the speakers played {heard:.0} Hz"
    );
    let coached = pitch("the coach's far end", &far, cuecard_audio::SPEECH_RATE);
    assert!(
        (coached - 440.0).abs() < 10.0,
        "the coach heard {coached:.0} Hz"
    );

    let received = bob.wait_received_wav(WAIT).unwrap();

    let got = wav::read_wav(&received).unwrap();
    let tail = &got.samples[got.samples.len().saturating_sub(2 * got.rate as usize)..];
    let bob_heard = wav::dominant_frequency(tail, got.rate).expect("bob heard something");
    assert!(
        (bob_heard - 1000.0).abs() < 15.0,
        "bob heard {bob_heard:.0} Hz from the rep's microphone"
    );
}
