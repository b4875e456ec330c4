//! Two real `MediaStream`s on loopback: tones both ways (plain RTP and SRTP, μ-law and
//! A-law), DTMF both ways, hold and mute, a peer that moves, RTCP on its own port, and
//! round-trip time and MOS from the reports.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use common::*;
use cuecard_media::{Codec, MediaConfig, SdesKey, SrtpSuite};

/// Plays 440 Hz from Alice and 660 Hz from Bob for `seconds` and checks each hears the
/// other's tone, clean.
fn exchange_tones(codec: Codec, srtp: bool) {
    let (alice_config, bob_config) = config_pair(codec, srtp);
    let (mut alice, alice_io) = start(alice_config);
    let (mut bob, bob_io) = start(bob_config);
    let alice_end = Endpoint::run(alice_io, 440.0);
    let bob_end = Endpoint::run(bob_io, 660.0);
    std::thread::sleep(Duration::from_secs(3));
    let alice_heard = alice_end.finish();
    let bob_heard = bob_end.finish();
    let alice_stats = alice.stats();
    let bob_stats = bob.stats();
    alice.stop();
    bob.stop();

    for (who, heard, expected, stats) in [
        ("alice", &alice_heard, 660.0, &alice_stats),
        ("bob", &bob_heard, 440.0, &bob_stats),
    ] {
        // One frame per tick: about 3 s of audio came out.
        assert!(
            heard.len() >= 2 * 8000,
            "{who} heard {} samples",
            heard.len()
        );
        let settled = &heard[4000..];
        let dominant = dominant_frequency(settled);
        assert!(
            (dominant - expected).abs() <= 10.0,
            "{who}: dominant {dominant} Hz, expected {expected}"
        );
        let purity = tone_purity(settled, expected);
        assert!(
            purity > 0.85,
            "{who}: only {:.1}% of the energy is the tone ({stats:?})",
            purity * 100.0
        );
        // The tone was sent at amplitude 0.5: power 0.125.
        let power = tone_level(settled, expected);
        assert!((0.08..0.16).contains(&power), "{who}: tone power {power}");
        assert!(stats.packets_received >= 100, "{who}: {stats:?}");
        assert!(stats.packets_sent >= 100, "{who}: {stats:?}");
        assert_eq!(stats.malformed_packets, 0, "{who}: {stats:?}");
        assert_eq!(stats.srtp_failures, 0, "{who}: {stats:?}");
        assert!(stats.mos >= 4.0, "{who}: {stats:?}");
    }
}

#[test]
fn tone_both_ways_plain_rtp() {
    exchange_tones(Codec::Pcmu, false);
}

#[test]
fn tone_both_ways_srtp() {
    exchange_tones(Codec::Pcmu, true);
}

#[test]
fn tone_both_ways_alaw_srtp_32_bit_tag() {
    let (mut alice_config, mut bob_config) = config_pair(Codec::Pcma, false);
    let alice_key = SdesKey::generate(1, SrtpSuite::AesCm128HmacSha1_32);
    let bob_key = SdesKey::generate(1, SrtpSuite::AesCm128HmacSha1_32);
    alice_config.srtp = Some((alice_key.clone(), bob_key.clone()));
    bob_config.srtp = Some((bob_key, alice_key));
    let (_alice, alice_io) = start(alice_config);
    let (bob, bob_io) = start(bob_config);
    let alice_end = Endpoint::run(alice_io, 440.0);
    let bob_end = Endpoint::run(bob_io, 1000.0);
    std::thread::sleep(Duration::from_secs(2));
    let bob_heard = bob_end.finish();
    drop(alice_end);
    let settled = &bob_heard[4000..];
    assert!((dominant_frequency(settled) - 440.0).abs() <= 10.0);
    assert!(tone_purity(settled, 440.0) > 0.85);
    assert_eq!(bob.stats().srtp_failures, 0);
}

#[test]
fn wrong_srtp_key_is_refused_not_played() {
    let (alice_config, mut bob_config) = config_pair(Codec::Pcmu, true);
    // Bob expects a key Alice does not use.
    if let Some((_, remote)) = bob_config.srtp.as_mut() {
        *remote = SdesKey::generate(1, SrtpSuite::AesCm128HmacSha1_80);
    }
    let (_alice, alice_io) = start(alice_config);
    let (bob, bob_io) = start(bob_config);
    let alice_end = Endpoint::run(alice_io, 440.0);
    let bob_end = Endpoint::run(bob_io, 660.0);
    std::thread::sleep(Duration::from_millis(1500));
    let bob_heard = bob_end.finish();
    drop(alice_end);
    let stats = bob.stats();
    assert!(stats.srtp_failures >= 50, "{stats:?}");
    assert_eq!(stats.packets_received, 0, "{stats:?}");
    assert!(
        mean_square(&bob_heard) < 1e-6,
        "nothing decrypted, nothing played"
    );
}

#[test]
fn tone_both_ways_opus_srtp() {
    // Opus coded at 8 kHz on its 48 kHz RTP clock (RFC 7587), as an answer to a peer
    // that offered it.
    exchange_tones(Codec::Opus { payload_type: 111 }, true);
}

#[test]
fn dtmf_both_ways() {
    dtmf_both_ways_with(Codec::Pcmu);
}

#[test]
fn dtmf_both_ways_on_an_opus_call() {
    // telephone-event on the 48 kHz clock: durations in 48 kHz units.
    dtmf_both_ways_with(Codec::Opus { payload_type: 111 });
}

fn dtmf_both_ways_with(codec: Codec) {
    let (alice_config, bob_config) = config_pair(codec, true);
    let (alice, alice_io) = start(alice_config);
    let (bob, bob_io) = start(bob_config);
    let alice_end = Endpoint::run(alice_io, 440.0);
    let bob_end = Endpoint::run(bob_io, 660.0);

    for digit in "1234#".chars() {
        alice.send_dtmf(digit).unwrap();
    }
    for digit in "*9D".chars() {
        bob.send_dtmf(digit).unwrap();
    }
    let mut bob_got = Vec::new();
    let mut alice_got = Vec::new();
    wait_until(Duration::from_secs(5), || {
        bob_got.extend(bob.dtmf_events());
        alice_got.extend(alice.dtmf_events());
        bob_got.len() >= 5 && alice_got.len() >= 3
    });
    assert_eq!(bob_got.iter().collect::<String>(), "1234#");
    assert_eq!(alice_got.iter().collect::<String>(), "*9D");
    // Stats are published at the end of each tick.
    assert!(wait_until(Duration::from_secs(1), || alice
        .stats()
        .dtmf_sent
        == 5
        && bob.stats().dtmf_received == 5));
    assert!(alice.send_dtmf('x').is_err());
    drop((alice_end, bob_end));
}

#[test]
fn dtmf_needs_a_negotiated_payload_type() {
    let (mut alice_config, _) = config_pair(Codec::Pcmu, false);
    alice_config.dtmf_payload_type = None;
    let (alice, _io) = start(alice_config);
    assert!(matches!(
        alice.send_dtmf('1'),
        Err(cuecard_media::MediaError::DtmfNotNegotiated)
    ));
}

#[test]
fn hold_stops_audio_and_mute_sends_silence() {
    let (alice_config, bob_config) = config_pair(Codec::Pcmu, false);
    let (alice, alice_io) = start(alice_config);
    let (bob, bob_io) = start(bob_config);
    let alice_end = Endpoint::run(alice_io, 440.0);
    let bob_end = Endpoint::run(bob_io, 660.0);
    std::thread::sleep(Duration::from_millis(800));

    alice.set_sending(false).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let on_hold = bob.stats().packets_received;
    std::thread::sleep(Duration::from_millis(500));
    let still_on_hold = bob.stats().packets_received;
    assert!(
        still_on_hold <= on_hold + 1,
        "{on_hold} -> {still_on_hold} while on hold"
    );

    alice.set_sending(true).unwrap();
    alice.set_mute(true).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let resumed = bob.stats().packets_received;
    assert!(
        resumed >= still_on_hold + 15,
        "sending resumed: {still_on_hold} -> {resumed}"
    );
    let bob_heard = bob_end.finish();
    drop(alice_end);
    // The last 300 ms at Bob are Alice's muted silence.
    let tail = &bob_heard[bob_heard.len().saturating_sub(2400)..];
    assert!(
        mean_square(tail) < 1e-5,
        "muted audio power {}",
        mean_square(tail)
    );
}

#[test]
fn a_peer_that_moves_is_followed() {
    let (alice_config, bob_config) = config_pair(Codec::Pcmu, false);
    // Alice first sends to a socket we hold, then a re-INVITE moves her to Bob.
    let first_peer = bind();
    first_peer
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let mut alice_config = alice_config;
    alice_config.remote = addr(&first_peer);
    let (alice, alice_io) = start(alice_config);
    let (bob, bob_io) = start(bob_config);
    let alice_end = Endpoint::run(alice_io, 440.0);
    let bob_end = Endpoint::run(bob_io, 660.0);
    let mut datagram = [0u8; 2048];
    let (len, _) = first_peer
        .recv_from(&mut datagram)
        .expect("RTP at the first address");
    assert!(len >= 12 + 160);

    alice.set_remote(bob.local_addr()).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let heard = bob_end.finish();
    drop(alice_end);
    let settled = &heard[heard.len() - 4000..];
    assert!((dominant_frequency(settled) - 440.0).abs() <= 10.0);
    assert!(bob.stats().packets_received >= 40);
}

/// An RTP socket and, on the next port, its RTCP socket.
fn bind_rtp_rtcp_pair() -> (UdpSocket, UdpSocket) {
    for _ in 0..50 {
        let rtp = bind();
        let port = addr(&rtp).port();
        if let Some(next) = port.checked_add(1)
            && let Ok(rtcp) = UdpSocket::bind(SocketAddr::from(([127, 0, 0, 1], next)))
        {
            return (rtp, rtcp);
        }
    }
    panic!("no adjacent pair of free ports");
}

#[test]
fn separate_rtcp_ports_give_round_trip_time_and_mos() {
    let (alice_rtp, alice_rtcp) = bind_rtp_rtcp_pair();
    let (bob_rtp, bob_rtcp) = bind_rtp_rtcp_pair();
    let mut alice_config = MediaConfig::new(alice_rtp, addr(&bob_rtp), Codec::Pcmu);
    alice_config.rtcp_socket = Some(alice_rtcp);
    alice_config.rtcp_interval = Duration::from_millis(300);
    let mut bob_config = MediaConfig::new(bob_rtp, addr(&alice_config.socket), Codec::Pcmu);
    bob_config.rtcp_socket = Some(bob_rtcp);
    bob_config.rtcp_interval = Duration::from_millis(300);
    let (alice, alice_io) = start(alice_config);
    let (bob, bob_io) = start(bob_config);
    let ends = (Endpoint::run(alice_io, 440.0), Endpoint::run(bob_io, 660.0));

    assert!(
        wait_until(Duration::from_secs(6), || alice.stats().rtt_ms.is_some()
            && bob.stats().rtt_ms.is_some()),
        "no RTT: {:?} / {:?}",
        alice.stats(),
        bob.stats()
    );
    for stats in [alice.stats(), bob.stats()] {
        let rtt = stats.rtt_ms.unwrap_or(f64::NAN);
        // Loopback is well under a millisecond; a loaded machine's scheduling adds the rest.
        assert!((0.0..80.0).contains(&rtt), "loopback RTT {rtt} ms");
        assert_eq!(stats.remote_fraction_lost, Some(0.0), "{stats:?}");
        // A clean loopback call scores about 4.4; a starved test machine costs some.
        assert!(stats.mos >= 3.5 && stats.mos <= 4.5, "{stats:?}");
        assert!(
            stats.buffer_delay_ms > 0.0 && stats.buffer_delay_ms < 200.0,
            "{stats:?}"
        );
        assert!(stats.thread_cpu_ms.is_some_and(|ms| ms > 0.0), "{stats:?}");
    }
    drop(ends);
}

#[test]
fn stop_joins_and_is_idempotent() {
    let (alice_config, _) = config_pair(Codec::Pcmu, false);
    let (mut alice, _io) = start(alice_config);
    assert!(alice.is_running());
    alice.stop();
    assert!(!alice.is_running());
    alice.stop();
    assert!(matches!(
        alice.set_mute(true),
        Err(cuecard_media::MediaError::Stopped)
    ));
}

/// Sends `count` RTP packets of a tone from `ssrc`, paced at 20 ms, from a plain socket.
fn send_tone_packets(
    socket: &UdpSocket,
    to: SocketAddr,
    ssrc: u32,
    first_seq: u16,
    count: u16,
    frequency: f64,
) {
    use cuecard_media::packet::{RtpHeader, build_rtp};
    let start = std::time::Instant::now();
    for k in 0..count {
        let samples: Vec<i16> = (0..160)
            .map(|i| {
                let t = f64::from(u32::from(k) * 160 + i) / 8000.0;
                ((2.0 * std::f64::consts::PI * frequency * t).sin() * 12_000.0) as i16
            })
            .collect();
        let mut payload = Vec::new();
        Codec::Pcmu.encode(&samples, &mut payload);
        let header = RtpHeader {
            payload_type: 0,
            marker: k == 0,
            sequence_number: first_seq.wrapping_add(k),
            timestamp: ssrc.wrapping_add(u32::from(k) * 160),
            ssrc,
        };
        let _ = socket.send_to(&build_rtp(header, &payload), to);
        let due = start + Duration::from_millis(20 * (u64::from(k) + 1));
        std::thread::sleep(due.saturating_duration_since(std::time::Instant::now()));
    }
}

#[test]
fn a_new_ssrc_mid_call_takes_over_with_a_resync() {
    let (_, bob_config) = config_pair(Codec::Pcmu, false);
    let (bob, bob_io) = start(bob_config);
    let bob_end = Endpoint::run(bob_io, 660.0);
    let peer = bind();
    send_tone_packets(&peer, bob.local_addr(), 0x1111_1111, 65_500, 50, 440.0);
    // The peer's media is re-anchored (a transfer, a media server change).
    send_tone_packets(&peer, bob.local_addr(), 0x2222_2222, 7, 60, 1000.0);
    std::thread::sleep(Duration::from_millis(100));
    let heard = bob_end.finish();
    let stats = bob.stats();
    assert_eq!(stats.ssrc_changes, 1, "{stats:?}");
    assert!(
        stats.foreign_ssrc_packets <= 1,
        "only the first packet of the new source waits: {stats:?}"
    );
    assert!(stats.packets_received >= 105, "{stats:?}");
    let tail = &heard[heard.len() - 5600..heard.len() - 1600];
    assert!(
        (dominant_frequency(tail) - 1000.0).abs() <= 10.0,
        "the new source is played"
    );
}

#[test]
fn media_stream_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<cuecard_media::MediaStream>();
    assert_send_sync::<cuecard_media::MediaStats>();
}
