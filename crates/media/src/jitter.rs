//! The adaptive jitter buffer: received G.711 packets go in as they arrive, and one
//! 20 ms frame comes out per playout tick, real audio where the packet came in time
//! and [`Plc`] concealment where it did not.
//!
//! How much to delay playout is learnt from the packets themselves. Each packet's
//! *relative delay* is its arrival time minus its RTP timestamp (in seconds); the
//! smallest over a recent window marks a packet that crossed the network fastest, and
//! how far the others trail it is the jitter to absorb. The target delay is a high
//! percentile of that spread (default: the 99th of the last 250 packets, between 20 and
//! 200 ms). It rises at once when jitter grows and falls back slowly when it calms.
//!
//! The *current* delay is how long after that fastest-packet reference a frame is
//! played. When it falls below the target, a concealment frame is inserted (playout
//! waits a frame); when it exceeds the target by more than a frame, one frame is
//! skipped, preferably a quiet or missing one, spliced with a short cross-fade. This
//! same loop absorbs clock drift: a sender whose 8 kHz clock runs fast or slow moves the
//! relative delays, and with them the current delay, until a frame is dropped or
//! inserted, so the buffer level stays bounded on calls of any length.
//!
//! Timestamps and sequence numbers are unwrapped, so wrap-around is seamless;
//! duplicates are recognised and dropped; packets that arrive after their playout time
//! are counted as late and dropped. A stream that jumps far in time (a new source, a
//! sender restart) is re-synchronised rather than buffered or dropped forever.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::codec::{CLOCK_RATE, Codec, Decoder, FRAME_SAMPLES};
use crate::emodel::LossPattern;
use crate::plc::Plc;

/// One frame of 8 kHz samples.
pub type Samples = [i16; FRAME_SAMPLES];

/// Decoded samples the buffer can hold: 2.048 s at 8 kHz.
const RING_LEN: usize = 16_384;
/// A packet this far (in samples) ahead of or behind playout is out of this timeline.
const FAR: i64 = 8_000;
/// Consecutive far packets after which the timeline is rebuilt around them.
const FAR_PACKETS_TO_RESYNC: u32 = 3;
/// Consecutive late packets (0.5 s worth) after which the timeline is rebuilt.
const LATE_PACKETS_TO_RESYNC: u32 = 25;
/// Longest packet accepted (240 ms); G.711 senders use 10 to 60 ms.
const MAX_PACKET_SAMPLES: usize = 1_920;
/// Recently received packet timestamps remembered to spot duplicates.
const RECENT_PACKETS: usize = 64;
/// Relative delays needed before the percentile is trusted over the initial delay.
const MIN_DELAY_SAMPLES: usize = 10;
/// Packets whose relative delays are compared with the window's fastest to spot a step.
const STEP_PACKETS: usize = 8;
/// If even the fastest of the last [`STEP_PACKETS`] trails the window's fastest by this
/// much, the path's delay has stepped up (a route change, a sender that paused its
/// clock) and the older delays no longer describe it.
const STEP_THRESHOLD: f64 = 0.040;
/// The current delay may exceed the target by this much before a frame is dropped.
const SHRINK_ABOVE_TARGET: f64 = 0.025;
/// Past this excess a frame is dropped even if it is not quiet.
const URGENT_EXCESS: f64 = 0.080;
/// Ticks to wait for a quiet frame before dropping a loud one.
const QUIET_WAIT_TICKS: u32 = 50;
/// A frame whose mean square is below this (≈ −45 dBFS) is quiet enough to drop.
const QUIET_MEAN_SQUARE: f64 = 180.0 * 180.0;
/// Cross-fade when a frame is skipped.
const SPLICE_SAMPLES: usize = 80;

/// One playout tick's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// Audio that arrived in time.
    Audio(Samples),
    /// Concealment for audio that did not (or an inserted frame while the delay grows).
    Concealed(Samples),
    /// Nothing to play yet: before the first packet, or while filling after a resync.
    Silence,
}

impl Frame {
    /// The samples to play (zeros for [`Frame::Silence`]).
    pub fn samples(&self) -> Samples {
        match self {
            Frame::Audio(s) | Frame::Concealed(s) => *s,
            Frame::Silence => [0; FRAME_SAMPLES],
        }
    }
}

/// Tuning of the delay adaptation.
#[derive(Debug, Clone, PartialEq)]
pub struct JitterConfig {
    /// The target never goes below this.
    pub min_delay: Duration,
    /// Nor above this.
    pub max_delay: Duration,
    /// Target before enough packets have been seen to measure jitter.
    pub initial_delay: Duration,
    /// Packets whose relative delay forms the jitter window.
    pub window_packets: usize,
    /// Fraction of the window's packets the target delay should catch in time.
    pub percentile: f64,
    /// How fast the target falls once jitter calms, per second of playout.
    pub decay_per_second: Duration,
}

impl Default for JitterConfig {
    fn default() -> Self {
        JitterConfig {
            min_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(200),
            initial_delay: Duration::from_millis(40),
            window_packets: 250,
            percentile: 0.99,
            decay_per_second: Duration::from_millis(4),
        }
    }
}

/// Counters and gauges of a jitter buffer.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct JitterStats {
    /// How long after the fastest-packet reference frames are played now (ms).
    pub delay_ms: f64,
    /// What the buffer aims for (ms).
    pub target_ms: f64,
    /// Received audio buffered ahead of playout (ms).
    pub level_ms: f64,
    /// Packets accepted into the buffer.
    pub received: u64,
    /// Packets that arrived after their playout time (dropped).
    pub late: u64,
    /// Packets never received, from sequence-number gaps.
    pub lost: u64,
    /// Frames concealed because their audio was missing at playout.
    pub concealed: u64,
    /// Packets received twice (dropped).
    pub duplicates: u64,
    /// Frames of real audio played.
    pub played: u64,
    /// Frames inserted to grow the delay.
    pub expanded: u64,
    /// Frames skipped to shrink the delay.
    pub compressed: u64,
    /// Times the timeline was rebuilt (new source, jump in time).
    pub resyncs: u64,
    /// Times the path's delay stepped up and the delay was re-measured.
    pub delay_steps: u64,
    /// Packets refused (empty or oversized payloads).
    pub rejected: u64,
}

/// Where received audio sits on the playout timeline, since the last (re)sync.
/// Timestamps are unwrapped and relative to the first packet's, which is sample 0.
#[derive(Debug)]
struct Timeline {
    /// Unwrapped timestamp of the newest packet (reference for unwrapping).
    newest_ts: i64,
    /// Raw form of `newest_ts`.
    newest_raw_ts: u32,
    /// End of the newest packet's audio.
    buffered_end: i64,
    /// Next sample to play.
    playout: i64,
    /// Filling is over and frames are being played.
    playing: bool,
    /// RTP timestamp units per sample (6 for Opus's 48 kHz clock, else 1).
    scale: i64,
    /// Sequence numbers, unwrapped: lowest and highest seen, and the raw highest.
    lowest_seq: i64,
    highest_seq: i64,
    highest_raw_seq: u16,
    unique_received: u64,
}

impl Timeline {
    fn new(seq: u16, ts: u32, scale: u32) -> Timeline {
        Timeline {
            newest_ts: 0,
            newest_raw_ts: ts,
            scale: i64::from(scale.max(1)),
            buffered_end: 0,
            playout: 0,
            playing: false,
            lowest_seq: 0,
            highest_seq: 0,
            highest_raw_seq: seq,
            unique_received: 0,
        }
    }

    /// `ts` on the timeline, in samples.
    fn unwrap_ts(&self, ts: u32) -> i64 {
        self.newest_ts + i64::from(ts.wrapping_sub(self.newest_raw_ts) as i32) / self.scale
    }

    fn unwrap_seq(&self, seq: u16) -> i64 {
        self.highest_seq + i64::from(seq.wrapping_sub(self.highest_raw_seq) as i16)
    }

    fn lost(&self) -> u64 {
        let expected = (self.highest_seq - self.lowest_seq + 1).max(0) as u64;
        expected.saturating_sub(self.unique_received)
    }
}

/// The adaptive jitter buffer of one received stream. See the module docs.
#[derive(Debug)]
pub struct JitterBuffer {
    config: JitterConfig,
    decoder: Decoder,
    samples: Vec<i16>,
    present: Vec<bool>,
    timeline: Option<Timeline>,
    /// Time zero for arrival and playout instants.
    epoch: Option<Instant>,
    /// Relative delays (s) of the most recent packets.
    delays: VecDeque<f64>,
    scratch: Vec<f64>,
    /// Target the percentile asks for now, and the applied (slowly falling) target.
    wanted_target: f64,
    target: f64,
    /// Unwrapped sequence numbers of recent packets, for duplicate detection.
    recent: VecDeque<i64>,
    far_in_a_row: u32,
    late_in_a_row: u32,
    ticks_since_expand: u32,
    ticks_wanting_shrink: u32,
    plc: Plc,
    decoded: Vec<i16>,
    loss: LossPattern,
    lost_before_resync: u64,
    stats: JitterStats,
}

impl JitterBuffer {
    pub fn new(codec: Codec) -> JitterBuffer {
        JitterBuffer::with_config(codec, JitterConfig::default())
    }

    pub fn with_config(codec: Codec, config: JitterConfig) -> JitterBuffer {
        let initial = config.initial_delay.as_secs_f64();
        JitterBuffer {
            delays: VecDeque::with_capacity(config.window_packets),
            scratch: Vec::with_capacity(config.window_packets),
            config,
            decoder: Decoder::new(codec),
            samples: vec![0; RING_LEN],
            present: vec![false; RING_LEN],
            timeline: None,
            epoch: None,
            wanted_target: initial,
            target: initial,
            recent: VecDeque::with_capacity(RECENT_PACKETS),
            far_in_a_row: 0,
            late_in_a_row: 0,
            ticks_since_expand: u32::MAX,
            ticks_wanting_shrink: 0,
            plc: Plc::new(),
            decoded: Vec::with_capacity(MAX_PACKET_SAMPLES),
            loss: LossPattern::default(),
            lost_before_resync: 0,
            stats: JitterStats::default(),
        }
    }

    /// The codec used to decode pushed payloads (a re-INVITE may change it).
    pub fn set_codec(&mut self, codec: Codec) {
        self.decoder = Decoder::new(codec);
    }

    pub fn codec(&self) -> Codec {
        self.decoder.codec()
    }

    /// Forgets the current source: the next packet starts a new timeline (an SSRC
    /// change). Statistics carry on.
    pub fn reset_source(&mut self) {
        if self.timeline.is_some() {
            self.resync();
        }
    }

    /// Counters and gauges as of the last push or pop.
    pub fn stats(&self) -> JitterStats {
        let mut stats = self.stats.clone();
        stats.target_ms = self.target * 1000.0;
        stats.lost = self.lost_before_resync + self.timeline.as_ref().map_or(0, Timeline::lost);
        stats.level_ms = self.timeline.as_ref().map_or(0.0, |t| {
            (t.buffered_end - t.playout).max(0) as f64 * 1000.0 / f64::from(CLOCK_RATE)
        });
        stats
    }

    /// Playout outcomes (played or concealed), for the E-model.
    pub fn loss_pattern(&self) -> &LossPattern {
        &self.loss
    }

    /// Adds one received packet: its RTP sequence number and timestamp, its G.711
    /// payload, and when it arrived.
    pub fn push(&mut self, seq: u16, timestamp: u32, payload: &[u8], arrival: Instant) {
        if payload.is_empty() || payload.len() > MAX_PACKET_SAMPLES {
            self.stats.rejected += 1;
            tracing::trace!(len = payload.len(), "jitter buffer: payload size refused");
            return;
        }
        let epoch = *self.epoch.get_or_insert(arrival);
        let arrival_s = arrival.saturating_duration_since(epoch).as_secs_f64();
        let timeline = self.timeline.get_or_insert_with(|| {
            Timeline::new(seq, timestamp, self.decoder.codec().timestamp_scale())
        });
        let ts = timeline.unwrap_ts(timestamp);
        let len = self.decoder.samples_in(payload);
        if len == 0 || len > MAX_PACKET_SAMPLES {
            self.stats.rejected += 1;
            tracing::trace!(len, "jitter buffer: payload duration refused");
            return;
        }
        let len = len as i64;

        let far = ts > timeline.playout + FAR || ts + len < timeline.playout - FAR;
        if far {
            self.far_in_a_row += 1;
            if self.far_in_a_row >= FAR_PACKETS_TO_RESYNC {
                tracing::debug!(
                    seq,
                    timestamp,
                    "jitter buffer: stream jumped in time; resync"
                );
                self.resync();
                self.push(seq, timestamp, payload, arrival);
            } else {
                tracing::trace!(
                    seq,
                    timestamp,
                    "jitter buffer: packet far from playout dropped"
                );
            }
            return;
        }
        self.far_in_a_row = 0;
        if !self.note_sequence(seq) {
            self.stats.duplicates += 1;
            return;
        }
        let Some(timeline) = self.timeline.as_mut() else {
            return;
        };
        if ts > timeline.newest_ts {
            timeline.newest_ts = ts;
            timeline.newest_raw_ts = timestamp;
        }
        if !timeline.playing && ts < timeline.playout {
            // Still filling: an earlier packet overtaken by a later one moves the start.
            timeline.playout = ts;
        }

        // Every packet, late or not, says something about the network's jitter.
        self.record_delay(arrival_s - ts as f64 / f64::from(CLOCK_RATE));

        let Some(timeline) = self.timeline.as_mut() else {
            return;
        };
        if ts + len <= timeline.playout && timeline.playing {
            self.stats.late += 1;
            self.late_in_a_row += 1;
            tracing::trace!(seq, "jitter buffer: late packet dropped");
            if self.late_in_a_row >= LATE_PACKETS_TO_RESYNC {
                tracing::debug!("jitter buffer: every packet is late; resync");
                self.resync();
            }
            return;
        }
        self.late_in_a_row = 0;
        self.stats.received += 1;
        self.decoded.clear();
        self.decoder.decode(payload, &mut self.decoded);
        let (start, decoded) = (ts, std::mem::take(&mut self.decoded));
        self.store(start, &decoded);
        self.decoded = decoded;
    }

    /// Accounts a packet of this stream that carries no audio (an RFC 4733 event, whose
    /// sender pauses audio meanwhile): its sequence number is not a loss, and the
    /// `duration` samples from its `timestamp` play as silence rather than concealment.
    pub fn push_silence(&mut self, seq: u16, timestamp: u32, duration: usize) {
        let Some(timeline) = self.timeline.as_ref() else {
            return;
        };
        let ts = timeline.unwrap_ts(timestamp);
        let len = (duration / timeline.scale as usize).min(MAX_PACKET_SAMPLES * 4) as i64;
        if ts > timeline.playout + FAR || ts + len < timeline.playout - FAR {
            return;
        }
        self.note_sequence(seq);
        let zeros = [0i16; FRAME_SAMPLES];
        let mut at = ts;
        while at < ts + len {
            let chunk = (ts + len - at).min(FRAME_SAMPLES as i64) as usize;
            self.store(at, zeros.get(..chunk).unwrap_or_default());
            at += chunk as i64;
        }
    }

    /// Sequence bookkeeping for loss and duplicates; false for a duplicate.
    fn note_sequence(&mut self, seq: u16) -> bool {
        let Some(timeline) = self.timeline.as_mut() else {
            return true;
        };
        let ext_seq = timeline.unwrap_seq(seq);
        if self.recent.contains(&ext_seq) {
            return false;
        }
        if self.recent.len() == RECENT_PACKETS {
            self.recent.pop_front();
        }
        self.recent.push_back(ext_seq);
        if ext_seq > timeline.highest_seq {
            timeline.highest_seq = ext_seq;
            timeline.highest_raw_seq = seq;
        }
        timeline.lowest_seq = timeline.lowest_seq.min(ext_seq);
        timeline.unique_received += 1;
        true
    }

    /// Writes decoded samples from timestamp `start`, skipping any already played.
    fn store(&mut self, start: i64, samples: &[i16]) {
        let Some(timeline) = self.timeline.as_mut() else {
            return;
        };
        timeline.buffered_end = timeline.buffered_end.max(start + samples.len() as i64);
        for (offset, &sample) in samples.iter().enumerate() {
            let at = start + offset as i64;
            if at < timeline.playout {
                continue;
            }
            let slot = ring_index(at);
            if let (Some(s), Some(p)) = (self.samples.get_mut(slot), self.present.get_mut(slot)) {
                *s = sample;
                *p = true;
            }
        }
    }

    /// The next 20 ms frame to play; call once per tick, `now` being the tick's time.
    pub fn pop(&mut self, now: Instant) -> Frame {
        let Some(epoch) = self.epoch else {
            return Frame::Silence;
        };
        let now = now.saturating_duration_since(epoch).as_secs_f64();
        self.settle_target();
        let Some(delay) = self.current_delay(now) else {
            return Frame::Silence;
        };
        self.stats.delay_ms = delay * 1000.0;
        let Some(timeline) = self.timeline.as_mut() else {
            return Frame::Silence;
        };
        if !timeline.playing {
            if delay < self.target {
                return Frame::Silence;
            }
            timeline.playing = true;
            self.ticks_since_expand = u32::MAX;
        }
        self.ticks_since_expand = self.ticks_since_expand.saturating_add(1);

        // Grow the delay: play a concealment frame and let playout wait.
        if delay < self.target - 0.001 && self.ticks_since_expand >= 2 {
            self.ticks_since_expand = 0;
            self.stats.expanded += 1;
            self.stats.delay_ms += 20.0;
            let mut out = [0; FRAME_SAMPLES];
            self.plc.conceal(&mut out);
            return Frame::Concealed(out);
        }

        // Shrink the delay: skip one frame, preferably a quiet or missing one.
        if delay > self.target + SHRINK_ABOVE_TARGET {
            self.ticks_wanting_shrink += 1;
            let playout = self.timeline.as_ref().map_or(0, |t| t.playout);
            let this_present = self.frame_present(playout);
            let next_present = self.frame_present(playout + FRAME_SAMPLES as i64);
            let quiet = this_present && self.frame_is_quiet(playout);
            let urgent = self.ticks_wanting_shrink >= QUIET_WAIT_TICKS
                || delay > self.target + URGENT_EXCESS;
            if next_present && (!this_present || quiet || urgent) {
                self.ticks_wanting_shrink = 0;
                self.stats.compressed += 1;
                self.stats.delay_ms -= 20.0;
                self.take_frame(playout);
                let mut out = self.take_frame(playout + FRAME_SAMPLES as i64);
                self.advance(2 * FRAME_SAMPLES as i64);
                self.plc.splice(&mut out, SPLICE_SAMPLES);
                self.stats.played += 1;
                self.loss.record(true);
                return Frame::Audio(out);
            }
        } else {
            self.ticks_wanting_shrink = 0;
        }

        let playout = self.timeline.as_ref().map_or(0, |t| t.playout);
        let present = self.frame_present(playout);
        let mut out = self.take_frame(playout);
        self.advance(FRAME_SAMPLES as i64);
        if present {
            self.plc.good_frame(&mut out);
            self.stats.played += 1;
            self.loss.record(true);
            Frame::Audio(out)
        } else {
            self.plc.conceal(&mut out);
            self.stats.concealed += 1;
            self.loss.record(false);
            Frame::Concealed(out)
        }
    }

    fn record_delay(&mut self, relative_delay: f64) {
        if self.delays.len() >= self.config.window_packets.max(1) {
            self.delays.pop_front();
        }
        self.delays.push_back(relative_delay);
        self.detect_delay_step();
        let min = self.config.min_delay.as_secs_f64();
        let max = self.config.max_delay.as_secs_f64().max(min);
        if self.delays.len() < MIN_DELAY_SAMPLES {
            self.wanted_target = self.config.initial_delay.as_secs_f64().clamp(min, max);
        } else {
            let fastest = self.fastest_delay().unwrap_or(relative_delay);
            self.scratch.clear();
            self.scratch.extend(self.delays.iter().map(|d| d - fastest));
            self.scratch.sort_unstable_by(f64::total_cmp);
            let n = self.scratch.len();
            let rank = ((n as f64 * self.config.percentile).ceil() as usize).clamp(1, n);
            let spread = self.scratch.get(rank - 1).copied().unwrap_or(0.0);
            self.wanted_target = spread.clamp(min, max);
        }
        if self.wanted_target > self.target {
            self.target = self.wanted_target;
        }
    }

    /// Forgets all but the latest delays when they all trail the window's fastest by
    /// more than [`STEP_THRESHOLD`]; the current delay is then measured against the new
    /// path and grows to the target instead of reading as a large excess.
    fn detect_delay_step(&mut self) {
        if self.delays.len() <= STEP_PACKETS {
            return;
        }
        let recent = self
            .delays
            .iter()
            .rev()
            .take(STEP_PACKETS)
            .copied()
            .reduce(f64::min);
        let (Some(recent), Some(fastest)) = (recent, self.fastest_delay()) else {
            return;
        };
        if recent - fastest > STEP_THRESHOLD {
            tracing::debug!(
                step_ms = (recent - fastest) * 1000.0,
                "jitter buffer: path delay stepped up; re-measuring"
            );
            let stale = self.delays.len() - STEP_PACKETS;
            self.delays.drain(..stale);
            self.stats.delay_steps += 1;
        }
    }

    /// Lets the applied target fall towards the wanted one, one tick's worth.
    fn settle_target(&mut self) {
        let step = self.config.decay_per_second.as_secs_f64() * 0.020;
        self.target = (self.target - step).max(self.wanted_target);
    }

    fn fastest_delay(&self) -> Option<f64> {
        self.delays.iter().copied().reduce(f64::min)
    }

    /// Seconds between the fastest-packet arrival of the next frame and `now`.
    fn current_delay(&self, now: f64) -> Option<f64> {
        let timeline = self.timeline.as_ref()?;
        let fastest = self.fastest_delay()?;
        Some(now - (fastest + timeline.playout as f64 / f64::from(CLOCK_RATE)))
    }

    fn frame_present(&self, start: i64) -> bool {
        (start..start + FRAME_SAMPLES as i64)
            .all(|at| self.present.get(ring_index(at)).copied().unwrap_or(false))
    }

    fn frame_is_quiet(&self, start: i64) -> bool {
        let energy: f64 = (start..start + FRAME_SAMPLES as i64)
            .map(|at| f64::from(self.samples.get(ring_index(at)).copied().unwrap_or(0)).powi(2))
            .sum();
        energy / (FRAME_SAMPLES as f64) < QUIET_MEAN_SQUARE
    }

    /// Copies a frame out of the ring and marks its slots free.
    fn take_frame(&mut self, start: i64) -> Samples {
        let mut out = [0; FRAME_SAMPLES];
        for (offset, sample) in out.iter_mut().enumerate() {
            let slot = ring_index(start + offset as i64);
            if let Some(present) = self.present.get_mut(slot) {
                if *present {
                    *sample = self.samples.get(slot).copied().unwrap_or(0);
                }
                *present = false;
            }
        }
        out
    }

    fn advance(&mut self, samples: i64) {
        if let Some(timeline) = self.timeline.as_mut() {
            timeline.playout += samples;
        }
    }

    fn resync(&mut self) {
        if let Some(timeline) = self.timeline.take() {
            self.lost_before_resync += timeline.lost();
        }
        self.present.fill(false);
        self.delays.clear();
        self.recent.clear();
        self.far_in_a_row = 0;
        self.late_in_a_row = 0;
        self.ticks_wanting_shrink = 0;
        self.epoch = None;
        self.stats.resyncs += 1;
    }
}

fn ring_index(at: i64) -> usize {
    at.rem_euclid(RING_LEN as i64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone_payload(n: u32) -> Vec<u8> {
        let samples: Vec<i16> = (0..160)
            .map(|i| {
                let t = f64::from(n * 160 + i) / 8000.0;
                ((2.0 * std::f64::consts::PI * 440.0 * t).sin() * 10_000.0) as i16
            })
            .collect();
        let mut payload = Vec::new();
        Codec::Pcmu.encode(&samples, &mut payload);
        payload
    }

    /// Sends `count` packets on a perfect 20 ms clock starting at (seq, ts) and pops in
    /// step, returning the frames and the buffer.
    fn steady(seq: u16, ts: u32, count: u32) -> (Vec<Frame>, JitterBuffer) {
        let start = Instant::now();
        let mut jb = JitterBuffer::new(Codec::Pcmu);
        let mut frames = Vec::new();
        for n in 0..count {
            let at = start + Duration::from_millis(20 * u64::from(n));
            jb.push(
                seq.wrapping_add(n as u16),
                ts.wrapping_add(n * 160),
                &tone_payload(n),
                at,
            );
            frames.push(jb.pop(at + Duration::from_millis(1)));
        }
        (frames, jb)
    }

    #[test]
    fn silence_before_the_first_packet() {
        let mut jb = JitterBuffer::new(Codec::Pcmu);
        assert_eq!(jb.pop(Instant::now()), Frame::Silence);
    }

    #[test]
    fn steady_stream_plays_every_frame_after_the_initial_delay() {
        let (frames, jb) = steady(100, 1000, 200);
        let silence = frames.iter().take_while(|f| **f == Frame::Silence).count();
        assert_eq!(silence, 2, "40 ms initial delay then play");
        assert!(
            frames[silence..]
                .iter()
                .all(|f| matches!(f, Frame::Audio(_)))
        );
        let stats = jb.stats();
        assert_eq!(stats.lost, 0);
        assert_eq!(stats.late, 0);
        assert_eq!(stats.concealed, 0);
        assert!(
            stats.delay_ms >= 20.0 && stats.delay_ms <= 45.0,
            "{stats:?}"
        );
    }

    #[test]
    fn sequence_and_timestamp_wrap_around_is_seamless() {
        let (frames, jb) = steady(65_500, u32::MAX - 160 * 20, 100);
        assert!(frames.iter().skip(3).all(|f| matches!(f, Frame::Audio(_))));
        let stats = jb.stats();
        assert_eq!(
            (stats.lost, stats.late, stats.resyncs, stats.concealed),
            (0, 0, 0, 0)
        );
    }

    #[test]
    fn reordered_and_duplicate_packets() {
        let start = Instant::now();
        let mut jb = JitterBuffer::new(Codec::Pcmu);
        // Packets 0..50, with each pair swapped, and packet 10 arriving again later.
        let mut order: Vec<u32> = (0..50).collect();
        for pair in order.chunks_mut(2) {
            pair.swap(0, 1);
        }
        for (i, &n) in order.iter().enumerate() {
            let at = start + Duration::from_millis(20 * i as u64);
            jb.push(n as u16, n * 160, &tone_payload(n), at);
            if i == 12 {
                jb.push(10, 10 * 160, &tone_payload(10), at);
            }
            jb.pop(at);
        }
        let stats = jb.stats();
        assert_eq!(stats.duplicates, 1);
        assert_eq!(stats.lost, 0);
        assert_eq!(stats.concealed, 0, "{stats:?}");
    }

    #[test]
    fn lost_packets_are_concealed_and_counted() {
        let start = Instant::now();
        let mut jb = JitterBuffer::new(Codec::Pcmu);
        let mut concealed = 0;
        for n in 0..100u32 {
            let at = start + Duration::from_millis(20 * u64::from(n));
            if n % 10 != 5 {
                jb.push(n as u16, n * 160, &tone_payload(n), at);
            }
            if let Frame::Concealed(_) = jb.pop(at) {
                concealed += 1;
            }
        }
        let stats = jb.stats();
        assert_eq!(stats.lost, 10);
        assert_eq!(stats.concealed, concealed);
        assert_eq!(concealed, 10);
        assert_eq!(jb.loss_pattern().lost(), 10);
    }

    #[test]
    fn very_late_packets_are_dropped_and_counted() {
        let start = Instant::now();
        let mut jb = JitterBuffer::new(Codec::Pcmu);
        for n in 0..60u32 {
            let at = start + Duration::from_millis(20 * u64::from(n));
            if n != 30 {
                jb.push(n as u16, n * 160, &tone_payload(n), at);
            }
            jb.pop(at);
            if n == 40 {
                jb.push(30, 30 * 160, &tone_payload(30), at);
            }
        }
        let stats = jb.stats();
        assert_eq!(stats.late, 1);
        assert_eq!(stats.concealed, 1);
        assert_eq!(stats.lost, 0, "a late packet was received, not lost");
    }

    #[test]
    fn a_jump_in_time_resyncs() {
        let start = Instant::now();
        let mut jb = JitterBuffer::new(Codec::Pcmu);
        let mut frames = Vec::new();
        for n in 0..200u32 {
            let at = start + Duration::from_millis(20 * u64::from(n));
            // After 2 s the sender restarts with a new random timestamp and sequence.
            let (seq, ts) = if n < 100 {
                (n, n * 160)
            } else {
                (n + 30_000, n * 160 + 3_000_000_000)
            };
            jb.push(seq as u16, ts, &tone_payload(n), at);
            frames.push(jb.pop(at));
        }
        let stats = jb.stats();
        assert_eq!(stats.resyncs, 1);
        assert!(frames[110..].iter().all(|f| matches!(f, Frame::Audio(_))));
        assert_eq!(stats.lost, 0, "{stats:?}");
    }

    #[test]
    fn a_step_up_in_path_delay_is_absorbed() {
        let start = Instant::now();
        let mut jb = JitterBuffer::new(Codec::Pcmu);
        let mut frames = Vec::new();
        for n in 0..500u32 {
            // From packet 200 on, every packet takes 150 ms longer.
            let extra = if n >= 200 { 150 } else { 0 };
            let arrival = start + Duration::from_millis(20 * u64::from(n) + extra);
            jb.push(n as u16, n * 160, &tone_payload(n), arrival);
            frames.push(jb.pop(start + Duration::from_millis(20 * u64::from(n) + 5)));
        }
        let stats = jb.stats();
        assert_eq!(stats.delay_steps, 1, "{stats:?}");
        // The target rises with the first delayed packets, so playout waits for them.
        assert!(stats.late <= STEP_PACKETS as u64 + 1, "{stats:?}");
        assert!(
            frames[300..].iter().all(|f| matches!(f, Frame::Audio(_))),
            "{stats:?}"
        );
        // The delay follows the target, which eases back down as the calm goes on.
        assert!(stats.delay_ms <= stats.target_ms + 30.0, "{stats:?}");
        assert!(stats.target_ms < 150.0, "{stats:?}");
        assert_eq!(stats.resyncs, 0);
    }

    #[test]
    fn garbage_sizes_are_refused() {
        let mut jb = JitterBuffer::new(Codec::Pcma);
        jb.push(1, 1, &[], Instant::now());
        jb.push(1, 1, &vec![0xD5; 5000], Instant::now());
        assert_eq!(jb.stats().rejected, 2);
        assert_eq!(jb.pop(Instant::now()), Frame::Silence);
    }
}
