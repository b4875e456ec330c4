//! Real RTP between two `MediaStream`s through a UDP impairment relay (the testserver's
//! `UdpImpairment`): loss and jitter on the wire, not in a simulation. The jitter buffer
//! must keep its delay under 60 ms at 20 ms of network jitter, and the live MOS must
//! read what the E-model says for the impairment: 4.3 or more clean, 3.8 or more at 3%
//! loss, and clearly lower at 10%.

mod common;

use std::time::Duration;

use common::*;
use cuecard_media::{Codec, MediaConfig, MediaStats};
use cuecard_testserver::impair::{ImpairOptions, Jitter, UdpImpairment};

/// Alice sends a tone to Bob through the relay for `seconds`; returns Bob's readings
/// (what came through the impairment) and what he heard.
fn through_relay(loss: f64, jitter_ms: f64, seconds: u64) -> (MediaStats, Vec<f32>) {
    let (alice_socket, bob_socket) = (bind(), bind());
    let relay = UdpImpairment::start(ImpairOptions {
        loss,
        // A 20 ms base delay, spread ± `jitter_ms`: datagrams overtake each other.
        delay_ms: 20.0 + jitter_ms,
        jitter_ms,
        jitter: Jitter::Uniform,
        seed: 7,
        ..ImpairOptions::new(addr(&bob_socket))
    })
    .expect("relay");
    let mut alice = MediaConfig::new(alice_socket, relay.addr(), Codec::Pcmu);
    // Bob answers wherever the relay's far side is.
    let mut bob = MediaConfig::new(
        bob_socket,
        relay.upstream_facing_addr().expect("relay address"),
        Codec::Pcmu,
    );
    alice.rtcp_interval = Duration::from_millis(400);
    bob.rtcp_interval = Duration::from_millis(400);
    let (mut alice, alice_io) = start(alice);
    let (mut bob, bob_io) = start(bob);
    let alice_end = Endpoint::run(alice_io, 440.0);
    let bob_end = Endpoint::run(bob_io, 660.0);
    std::thread::sleep(Duration::from_secs(seconds));
    let heard = bob_end.finish();
    drop(alice_end);
    let stats = bob.stats();
    alice.stop();
    bob.stop();
    eprintln!(
        "loss {:.0}% jitter {jitter_ms} ms: MOS {:.2}, lost {} of {}, late {}, concealed {}, \
         playout loss {:.2}%, buffer {:.1} ms (target {:.1}), jitter {:.1} ms; relay dropped {}",
        loss * 100.0,
        stats.mos,
        stats.packets_lost,
        stats.packets_received + stats.packets_lost,
        stats.late_packets,
        stats.concealed_frames,
        stats.playout_loss_percent,
        stats.buffer_delay_ms,
        stats.buffer_target_ms,
        stats.jitter_ms,
        relay.stats().dropped(),
    );
    (stats, heard)
}

#[test]
fn a_clean_path_rates_toll_quality() {
    let (stats, heard) = through_relay(0.0, 0.0, 5);
    assert!(stats.mos >= 4.3, "{stats:?}");
    assert_eq!(stats.packets_lost, 0, "{stats:?}");
    assert!((dominant_frequency(&heard[4000..]) - 440.0).abs() <= 10.0);
}

#[test]
fn three_percent_loss_keeps_mos_above_3_8_and_the_tone_intact() {
    let (stats, heard) = through_relay(0.03, 0.0, 8);
    let sent = stats.packets_received + stats.packets_lost;
    let lost = stats.packets_lost as f64 / sent as f64;
    assert!(
        (0.015..0.05).contains(&lost),
        "lost {:.1}%: {stats:?}",
        lost * 100.0
    );
    assert!(
        stats.mos >= 3.8,
        "MOS {:.2} at 3% loss: {stats:?}",
        stats.mos
    );
    assert!(stats.mos < 4.3, "the loss must show in the MOS: {stats:?}");
    // Concealment keeps the tone: most of each 100 ms window is still the tone.
    let settled = &heard[4000..];
    assert!((dominant_frequency(settled) - 440.0).abs() <= 10.0);
    assert!(tone_purity(settled, 440.0) > 0.7, "{stats:?}");
}

#[test]
fn ten_percent_loss_reads_clearly_worse() {
    let (stats, _) = through_relay(0.10, 0.0, 8);
    assert!(
        stats.mos < 3.8,
        "MOS {:.2} at 10% loss: {stats:?}",
        stats.mos
    );
    assert!(stats.mos > 2.5, "{stats:?}");
}

#[test]
fn twenty_ms_of_jitter_is_absorbed_within_60_ms() {
    let (stats, heard) = through_relay(0.0, 20.0, 8);
    assert!(
        stats.buffer_delay_ms <= 60.0,
        "buffer delay {:.1} ms: {stats:?}",
        stats.buffer_delay_ms
    );
    assert!(
        stats.jitter_ms >= 5.0,
        "the relay's jitter shows: {stats:?}"
    );
    assert!(
        stats.playout_loss_percent < 1.0,
        "late drops {:.2}%: {stats:?}",
        stats.playout_loss_percent
    );
    assert!(stats.mos >= 4.2, "{stats:?}");
    assert!((dominant_frequency(&heard[4000..]) - 440.0).abs() <= 10.0);
}
