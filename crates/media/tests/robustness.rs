//! Hostile input: arbitrary bytes into every receive path never panic, and a stream
//! flooded with garbage keeps playing the real audio.

mod common;

use std::time::{Duration, Instant};

use common::*;
use cuecard_media::packet::{self, RtpHeader};
use cuecard_media::sim::SplitMix64;
use cuecard_media::{Codec, DtmfReceiver, JitterBuffer, SdesKey, SrtpSession, SrtpSuite, stats};
use proptest::prelude::*;

fn srtp_pair() -> (SrtpSession, SrtpSession) {
    let a = SdesKey::from_parts(1, SrtpSuite::AesCm128HmacSha1_80, [1; 16], [2; 14]);
    let b = SdesKey::from_parts(1, SrtpSuite::AesCm128HmacSha1_80, [3; 16], [4; 14]);
    (
        SrtpSession::new(&a, &b).unwrap(),
        SrtpSession::new(&b, &a).unwrap(),
    )
}

fn valid_rtp(seq: u16) -> Vec<u8> {
    packet::build_rtp(
        RtpHeader {
            payload_type: 0,
            marker: false,
            sequence_number: seq,
            timestamp: u32::from(seq) * 160,
            ssrc: 9,
        },
        &[0x55; 160],
    )
    .to_vec()
}

/// Every receive-side parser and state machine, fed one datagram.
fn feed_everything(
    bytes: &[u8],
    srtp: &mut SrtpSession,
    jitter: &mut JitterBuffer,
    dtmf: &mut DtmfReceiver,
) {
    let _ = packet::classify(bytes);
    let _ = packet::validate_rtp(bytes);
    if let Ok(rtp) = packet::parse_rtp(bytes) {
        jitter.push(
            rtp.header.sequence_number,
            rtp.header.timestamp,
            &rtp.payload,
            Instant::now(),
        );
        let _ = dtmf.on_packet(rtp.header.timestamp, &rtp.payload);
    }
    let _ = srtp.unprotect_rtp(bytes);
    let _ = srtp.unprotect_rtcp(bytes);
    let _ = stats::parse_compound(bytes);
    let _ = dtmf.on_packet(0, bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = SdesKey::parse(text);
    }
    let _ = jitter.pop(Instant::now());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let (_, mut srtp) = srtp_pair();
        let mut jitter = JitterBuffer::new(Codec::Pcmu);
        let mut dtmf = DtmfReceiver::new();
        feed_everything(&bytes, &mut srtp, &mut jitter, &mut dtmf);
    }

    #[test]
    fn rtp_shaped_bytes_never_panic(
        first in 0x80u8..=0xBF,
        second in any::<u8>(),
        rest in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut bytes = vec![first, second];
        bytes.extend(rest);
        let (_, mut srtp) = srtp_pair();
        let mut jitter = JitterBuffer::new(Codec::Pcma);
        let mut dtmf = DtmfReceiver::new();
        feed_everything(&bytes, &mut srtp, &mut jitter, &mut dtmf);
    }

    #[test]
    fn mutated_srtp_packets_never_panic(
        seq in any::<u16>(),
        flips in proptest::collection::vec((0usize..200, any::<u8>()), 1..8),
        cut in 0usize..200,
    ) {
        let (mut alice, mut bob) = srtp_pair();
        let mut bytes = alice.protect_rtp(&valid_rtp(seq)).unwrap().to_vec();
        for (at, value) in flips {
            if let Some(byte) = bytes.get_mut(at) {
                *byte ^= value;
            }
        }
        bytes.truncate(cut.max(1));
        let result = bob.unprotect_rtp(&bytes);
        // A changed packet never authenticates.
        prop_assert!(result.is_err() || bytes.len() == 182);
        let mut jitter = JitterBuffer::new(Codec::Pcmu);
        let mut dtmf = DtmfReceiver::new();
        feed_everything(&bytes, &mut bob, &mut jitter, &mut dtmf);
    }

}

proptest! {
    // Each case is a whole stream of up to 200 packets.
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn arbitrary_packet_streams_into_the_jitter_buffer_never_panic(
        packets in proptest::collection::vec((any::<u16>(), any::<u32>(), 0usize..2000, 0u64..100), 1..200),
    ) {
        let start = Instant::now();
        let mut jitter = JitterBuffer::new(Codec::Pcmu);
        let mut elapsed = 0;
        for (seq, ts, len, gap_ms) in packets {
            elapsed += gap_ms;
            let at = start + Duration::from_millis(elapsed);
            jitter.push(seq, ts, &vec![0x7F; len], at);
            jitter.pop(at);
            jitter.push_silence(seq, ts, len);
        }
        let stats = jitter.stats();
        prop_assert!(stats.delay_ms.is_finite() && stats.target_ms <= 200.0);
    }
}

#[test]
fn a_stream_flooded_with_garbage_keeps_playing() {
    let (alice_config, bob_config) = config_pair(Codec::Pcmu, false);
    let (_alice, alice_io) = start(alice_config);
    let (bob, bob_io) = start(bob_config);
    let bob_addr = bob.local_addr();
    let alice_end = Endpoint::run(alice_io, 440.0);
    let bob_end = Endpoint::run(bob_io, 660.0);

    let attacker = bind();
    let mut rng = SplitMix64::new(42);
    let flood_until = Instant::now() + Duration::from_secs(2);
    let mut sent = 0u64;
    while Instant::now() < flood_until {
        let kind = rng.next_u64() % 6;
        let mut bytes: Vec<u8> = (0..(rng.next_u64() % 300))
            .map(|_| rng.next_u64() as u8)
            .collect();
        match kind {
            // Truncated RTP.
            0 => {
                bytes = valid_rtp(rng.next_u64() as u16)[..(rng.next_u64() % 20) as usize].to_vec()
            }
            // RTP with a hostile header extension.
            1 => {
                bytes = valid_rtp(1)[..12].to_vec();
                bytes[0] |= 0x10;
                bytes.extend_from_slice(&[0xBE, 0xDE, 0x00, 0x01, 0x1F, 0xFF, 0, 0]);
            }
            // RTCP junk: a valid first byte and type, lengths that lie.
            2 => {
                bytes.splice(0..0, [0x81, 200 + (rng.next_u64() % 5) as u8, 0xFF, 0xFF]);
            }
            // Audio from a stranger's SSRC, one packet at a time.
            3 => {
                let mut rtp = valid_rtp(rng.next_u64() as u16);
                rtp[8..12].copy_from_slice(&(rng.next_u64() as u32).to_be_bytes());
                bytes = rtp;
            }
            // Unknown payload type.
            4 => {
                let mut rtp = valid_rtp(5);
                rtp[1] = 96;
                bytes = rtp;
            }
            _ => {}
        }
        let _ = attacker.send_to(&bytes, bob_addr);
        sent += 1;
        std::thread::sleep(Duration::from_millis(2));
    }
    std::thread::sleep(Duration::from_millis(300));
    let heard = bob_end.finish();
    drop(alice_end);
    let stats = bob.stats();
    assert!(bob.is_running());
    assert!(sent > 300, "{sent} garbage datagrams sent");
    assert!(
        stats.malformed_packets + stats.foreign_ssrc_packets > sent / 2,
        "{stats:?}"
    );
    assert_eq!(
        stats.ssrc_changes, 0,
        "random SSRCs never take over: {stats:?}"
    );
    let settled = &heard[4000..];
    assert!((dominant_frequency(settled) - 440.0).abs() <= 10.0);
    let purity = tone_purity(settled, 440.0);
    assert!(purity > 0.85, "purity {purity}: {stats:?}");
}
