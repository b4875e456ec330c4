//! A deterministic simulated network for the jitter buffer (feature `test-support`):
//! a sender on its own (possibly drifting) 8 kHz clock, a path with seeded random
//! delay and loss, and a receiver popping a frame every 20 ms of its own clock. Time is
//! simulated, so ten minutes of call run in well under a second.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

use crate::codec::{CLOCK_RATE, Codec, FRAME_SAMPLES};
use crate::emodel::{EModel, Quality};
use crate::jitter::{Frame, JitterBuffer, JitterConfig, JitterStats};
use crate::stats::ReceiverStats;

/// Playout ticks ignored at the start of a run before delay and level are measured.
const WARM_UP_TICKS: u64 = 250;

/// The simulated path.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkProfile {
    /// Fixed one-way delay.
    pub base_delay: Duration,
    /// Delay variation: each packet is delayed by a further uniform 0..2×jitter (so
    /// ±jitter around the mean), which reorders packets when it exceeds 20 ms.
    pub jitter: Duration,
    /// Probability that a packet is lost, independently of the others.
    pub loss: f64,
    /// How far the sender's clock runs fast (+) or slow (−), in parts per million.
    pub drift_ppm: f64,
    pub seed: u64,
}

impl Default for NetworkProfile {
    fn default() -> Self {
        NetworkProfile {
            base_delay: Duration::from_millis(30),
            jitter: Duration::ZERO,
            loss: 0.0,
            drift_ppm: 0.0,
            seed: 1,
        }
    }
}

/// What the receiver experienced.
#[derive(Debug, Clone, PartialEq)]
pub struct SimReport {
    pub packets_sent: u64,
    /// Packets the network dropped.
    pub packets_dropped: u64,
    pub frames_audio: u64,
    pub frames_concealed: u64,
    pub frames_silence: u64,
    /// The buffer's counters at the end.
    pub jitter: JitterStats,
    /// Jitter-buffer delay after warm-up: mean and extremes (ms).
    pub mean_delay_ms: f64,
    pub min_delay_ms: f64,
    pub max_delay_ms: f64,
    /// Buffered audio ahead of playout after warm-up (ms).
    pub min_level_ms: f64,
    pub max_level_ms: f64,
    /// RFC 3550 interarrival jitter a receiver would report (ms).
    pub rfc3550_jitter_ms: f64,
    /// E-model quality of the run: measured playout loss, delay = network delay +
    /// mean buffer delay + 20 ms packetisation.
    pub quality: Quality,
}

/// A small, fast, seedable generator (SplitMix64), so runs never depend on another
/// crate's stream of numbers.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// One frame of a 440 Hz tone starting at sample `n0`, G.711-encoded.
fn tone(codec: Codec, n0: u64, out: &mut Vec<u8>) {
    let samples: Vec<i16> = (n0..n0 + FRAME_SAMPLES as u64)
        .map(|n| {
            let t = n as f64 / f64::from(CLOCK_RATE);
            ((2.0 * std::f64::consts::PI * 440.0 * t).sin() * 8_000.0) as i16
        })
        .collect();
    out.clear();
    codec.encode(&samples, out);
}

/// Runs `duration` of a call over `profile` with the default jitter buffer.
pub fn simulate(profile: &NetworkProfile, duration: Duration) -> SimReport {
    simulate_with(profile, duration, JitterConfig::default())
}

/// Runs `duration` of a call over `profile` with a given jitter-buffer configuration.
pub fn simulate_with(
    profile: &NetworkProfile,
    duration: Duration,
    config: JitterConfig,
) -> SimReport {
    let codec = Codec::Pcmu;
    let mut rng = SplitMix64::new(profile.seed);
    let start = Instant::now();
    let mut jitter_buffer = JitterBuffer::with_config(codec, config);
    let mut receiver = ReceiverStats::new(CLOCK_RATE);

    // Start near the wrap of both counters so every run crosses it.
    let first_seq: u16 = 65_000;
    let first_ts: u32 = u32::MAX - 80_000;
    let sender_period = 0.020 / (1.0 + profile.drift_ppm * 1e-6);
    let base = profile.base_delay.as_secs_f64();
    let spread = 2.0 * profile.jitter.as_secs_f64();

    let ticks = (duration.as_secs_f64() / 0.020).round() as u64;
    // Packets in flight: (arrival in ns, packet index).
    let mut in_flight: BinaryHeap<Reverse<(u64, u64)>> = BinaryHeap::new();
    let mut next_packet: u64 = 0;
    let mut report = SimReport {
        packets_sent: 0,
        packets_dropped: 0,
        frames_audio: 0,
        frames_concealed: 0,
        frames_silence: 0,
        jitter: JitterStats::default(),
        mean_delay_ms: 0.0,
        min_delay_ms: f64::INFINITY,
        max_delay_ms: 0.0,
        min_level_ms: f64::INFINITY,
        max_level_ms: 0.0,
        rfc3550_jitter_ms: 0.0,
        quality: EModel::G711_WITH_PLC.quality(0.0, 0.0, 1.0),
    };
    let mut delay_sum = 0.0;
    let mut measured = 0u64;
    let mut payload = Vec::with_capacity(FRAME_SAMPLES);

    for tick in 0..ticks {
        // The receiver's clock: an odd phase so arrivals and ticks rarely coincide.
        let now = tick as f64 * 0.020 + 0.0071;
        // Send everything the sender has produced by now.
        while next_packet as f64 * sender_period <= now {
            let sent_at = next_packet as f64 * sender_period;
            report.packets_sent += 1;
            if rng.next_f64() < profile.loss {
                report.packets_dropped += 1;
            } else {
                let arrival = sent_at + base + spread * rng.next_f64();
                in_flight.push(Reverse(((arrival * 1e9) as u64, next_packet)));
            }
            next_packet += 1;
        }
        // Deliver what has arrived, in arrival order.
        while let Some(Reverse((arrival_ns, index))) = in_flight.peek().copied() {
            if arrival_ns as f64 / 1e9 > now {
                break;
            }
            in_flight.pop();
            let arrival = start + Duration::from_nanos(arrival_ns);
            let seq = first_seq.wrapping_add(index as u16);
            let ts = first_ts.wrapping_add((index * FRAME_SAMPLES as u64) as u32);
            tone(codec, index * FRAME_SAMPLES as u64, &mut payload);
            receiver.on_rtp(0x5EED, seq, ts, arrival);
            jitter_buffer.push(seq, ts, &payload, arrival);
        }
        let frame = jitter_buffer.pop(start + Duration::from_secs_f64(now));
        match frame {
            Frame::Audio(_) => report.frames_audio += 1,
            Frame::Concealed(_) => report.frames_concealed += 1,
            Frame::Silence => report.frames_silence += 1,
        }
        if tick >= WARM_UP_TICKS {
            let stats = jitter_buffer.stats();
            delay_sum += stats.delay_ms;
            measured += 1;
            report.min_delay_ms = report.min_delay_ms.min(stats.delay_ms);
            report.max_delay_ms = report.max_delay_ms.max(stats.delay_ms);
            report.min_level_ms = report.min_level_ms.min(stats.level_ms);
            report.max_level_ms = report.max_level_ms.max(stats.level_ms);
        }
    }

    report.jitter = jitter_buffer.stats();
    report.mean_delay_ms = if measured > 0 {
        delay_sum / measured as f64
    } else {
        0.0
    };
    if !report.min_level_ms.is_finite() {
        report.min_level_ms = 0.0;
    }
    if !report.min_delay_ms.is_finite() {
        report.min_delay_ms = 0.0;
    }
    report.rfc3550_jitter_ms = receiver.jitter_ms();
    let loss = jitter_buffer.loss_pattern();
    let one_way = profile.base_delay.as_secs_f64() * 1000.0 + report.mean_delay_ms + 20.0;
    report.quality =
        EModel::G711_WITH_PLC.quality(one_way, loss.loss_percent(), loss.burst_ratio());
    report
}
