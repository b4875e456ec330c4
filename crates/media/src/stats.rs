//! RTP statistics and RTCP reports (RFC 3550): what we received from the peer
//! (extended highest sequence number, cumulative and fractional loss, interarrival
//! jitter), what we sent, the Sender/Receiver Reports that tell the peer, and the
//! round-trip time read back from the peer's reports on us (LSR/DLSR).
//!
//! Packets are built and read with the `rtcp` crate; a compound datagram is split into
//! its packets here first, and only SR, RR and BYE are handed to the crate.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use rtcp::goodbye::Goodbye;
use rtcp::receiver_report::ReceiverReport;
use rtcp::reception_report::ReceptionReport;
use rtcp::sender_report::SenderReport;
use rtcp::source_description::{
    SdesType, SourceDescription, SourceDescriptionChunk, SourceDescriptionItem,
};
use webrtc_util::marshal::{Marshal, Unmarshal};

/// Sequence numbers a source must deliver in order before it counts (RFC 3550 A.1).
const MIN_SEQUENTIAL: u32 = 2;
/// Largest forward jump still taken as the same run of packets.
const MAX_DROPOUT: u32 = 3000;
/// Largest backward jump still taken as reordering.
const MAX_MISORDER: u32 = 100;
const SEQ_MOD: u32 = 1 << 16;
/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

/// Why an RTCP packet could not be built or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RtcpError {
    #[error("RTCP packet is malformed: {0}")]
    Malformed(String),
    #[error("could not build RTCP packet: {0}")]
    Build(String),
}

/// Wall-clock time in NTP format for Sender Reports, advanced by the monotonic clock
/// so that a wall-clock step mid-call does not corrupt round-trip times.
#[derive(Debug, Clone, Copy)]
pub struct NtpClock {
    base_instant: Instant,
    base_ntp: u64,
}

impl NtpClock {
    pub fn new() -> NtpClock {
        let since_unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        NtpClock {
            base_instant: Instant::now(),
            base_ntp: to_ntp(since_unix + Duration::from_secs(NTP_UNIX_OFFSET)),
        }
    }

    /// 64-bit NTP timestamp (32.32 fixed point seconds since 1900) at `now`.
    pub fn ntp(&self, now: Instant) -> u64 {
        let elapsed = now.saturating_duration_since(self.base_instant);
        self.base_ntp.wrapping_add(to_ntp(elapsed))
    }

    /// The middle 32 bits of [`NtpClock::ntp`] (16.16 seconds), as LSR and DLSR use.
    pub fn compact(&self, now: Instant) -> u32 {
        (self.ntp(now) >> 16) as u32
    }
}

impl Default for NtpClock {
    fn default() -> Self {
        NtpClock::new()
    }
}

fn to_ntp(d: Duration) -> u64 {
    let fraction = (u64::from(d.subsec_nanos()) << 32) / 1_000_000_000;
    (d.as_secs() << 32) | fraction
}

/// Reception state of one source (RFC 3550 A.1, A.3, A.8).
#[derive(Debug, Clone)]
struct Source {
    ssrc: u32,
    max_seq: u16,
    cycles: u32,
    base_seq: u32,
    bad_seq: u32,
    probation: u32,
    received: u64,
    expected_prior: u64,
    received_prior: u64,
    transit: Option<u32>,
    /// Interarrival jitter in timestamp units, unscaled.
    jitter: f64,
}

impl Source {
    fn new(ssrc: u32, seq: u16) -> Source {
        let mut source = Source {
            ssrc,
            max_seq: seq,
            cycles: 0,
            base_seq: u32::from(seq),
            bad_seq: SEQ_MOD + 1,
            probation: MIN_SEQUENTIAL,
            received: 0,
            expected_prior: 0,
            received_prior: 0,
            transit: None,
            jitter: 0.0,
        };
        source.init_seq(seq);
        source.max_seq = seq.wrapping_sub(1);
        source
    }

    fn init_seq(&mut self, seq: u16) {
        self.base_seq = u32::from(seq);
        self.max_seq = seq;
        self.bad_seq = SEQ_MOD + 1;
        self.cycles = 0;
        self.received = 0;
        self.received_prior = 0;
        self.expected_prior = 0;
    }

    /// RFC 3550 A.1: whether the packet counts (a valid source, not a wild jump).
    fn update_seq(&mut self, seq: u16) -> bool {
        let delta = u32::from(seq.wrapping_sub(self.max_seq));
        if self.probation > 0 {
            if seq == self.max_seq.wrapping_add(1) {
                self.probation -= 1;
                self.max_seq = seq;
                if self.probation == 0 {
                    self.init_seq(seq);
                    self.received += 1;
                    return true;
                }
            } else {
                self.probation = MIN_SEQUENTIAL - 1;
                self.max_seq = seq;
            }
            return false;
        }
        if delta < MAX_DROPOUT {
            if seq < self.max_seq {
                self.cycles = self.cycles.wrapping_add(SEQ_MOD);
            }
            self.max_seq = seq;
        } else if delta <= SEQ_MOD - MAX_MISORDER {
            if u32::from(seq) == self.bad_seq {
                // Two packets in sequence after a jump: the sender restarted.
                self.init_seq(seq);
            } else {
                self.bad_seq = (u32::from(seq) + 1) & (SEQ_MOD - 1);
                return false;
            }
        }
        // Otherwise a duplicate or a reordered packet: counted, max unchanged.
        self.received += 1;
        true
    }

    fn extended_max(&self) -> u32 {
        self.cycles.wrapping_add(u32::from(self.max_seq))
    }

    fn expected(&self) -> u64 {
        u64::from(self.extended_max().wrapping_sub(self.base_seq)) + 1
    }

    fn cumulative_lost(&self) -> i64 {
        self.expected() as i64 - self.received as i64
    }
}

/// What we know of the stream the peer sends us.
#[derive(Debug, Clone)]
pub struct ReceiverStats {
    clock_rate: u32,
    epoch: Instant,
    source: Option<Source>,
    /// The peer's last Sender Report: its compact NTP time and when it arrived.
    last_sr: Option<(u32, Instant)>,
    /// Packets from earlier sources (before an SSRC change).
    earlier_received: u64,
    earlier_lost: i64,
}

impl ReceiverStats {
    pub fn new(clock_rate: u32) -> ReceiverStats {
        ReceiverStats {
            clock_rate,
            epoch: Instant::now(),
            source: None,
            last_sr: None,
            earlier_received: 0,
            earlier_lost: 0,
        }
    }

    /// Accounts one RTP packet from the peer. Returns whether it counts as valid
    /// (false while a new source is on probation, or for a wild sequence jump).
    pub fn on_rtp(&mut self, ssrc: u32, seq: u16, rtp_timestamp: u32, arrival: Instant) -> bool {
        let source = match &mut self.source {
            Some(source) if source.ssrc == ssrc => source,
            slot => {
                if let Some(old) = slot.take() {
                    self.earlier_received += old.received;
                    self.earlier_lost += old.cumulative_lost().max(0);
                }
                slot.insert(Source::new(ssrc, seq))
            }
        };
        if !source.update_seq(seq) {
            return false;
        }
        // A.8: interarrival jitter from the change in transit time.
        let since_epoch = arrival.saturating_duration_since(self.epoch).as_secs_f64();
        let arrival_units = (since_epoch * f64::from(self.clock_rate)) as u64 as u32;
        let transit = arrival_units.wrapping_sub(rtp_timestamp);
        if let Some(previous) = source.transit {
            let d = f64::from((transit.wrapping_sub(previous) as i32).unsigned_abs());
            source.jitter += (d - source.jitter) / 16.0;
        }
        source.transit = Some(transit);
        true
    }

    /// Remembers the peer's Sender Report (for LSR/DLSR in our next report).
    pub fn on_sender_report(&mut self, report: &SenderReport, arrival: Instant) {
        self.last_sr = Some(((report.ntp_time >> 16) as u32, arrival));
    }

    /// SSRC of the source being received.
    pub fn ssrc(&self) -> Option<u32> {
        self.source.as_ref().map(|s| s.ssrc)
    }

    /// Valid packets received, over all sources.
    pub fn received(&self) -> u64 {
        self.earlier_received + self.source.as_ref().map_or(0, |s| s.received)
    }

    /// Packets lost, over all sources (expected − received; never negative here).
    pub fn cumulative_lost(&self) -> u64 {
        let current = self
            .source
            .as_ref()
            .map_or(0, |s| s.cumulative_lost().max(0));
        (self.earlier_lost + current).max(0) as u64
    }

    /// The extended highest sequence number received from the current source.
    pub fn extended_highest_seq(&self) -> Option<u32> {
        self.source.as_ref().map(Source::extended_max)
    }

    /// Interarrival jitter in milliseconds.
    pub fn jitter_ms(&self) -> f64 {
        self.source
            .as_ref()
            .map_or(0.0, |s| s.jitter * 1000.0 / f64::from(self.clock_rate))
    }

    /// The report block on the current source for our next SR/RR; starts a new
    /// interval for the fraction lost.
    pub fn reception_report(&mut self, now: Instant) -> Option<ReceptionReport> {
        let (lsr, sr_arrival) = self.last_sr.unwrap_or((0, now));
        let source = self.source.as_mut()?;
        if source.probation > 0 {
            return None;
        }
        let expected = source.expected();
        let expected_interval = expected.saturating_sub(source.expected_prior);
        let received_interval = source.received.saturating_sub(source.received_prior);
        source.expected_prior = expected;
        source.received_prior = source.received;
        let lost_interval = expected_interval as i64 - received_interval as i64;
        let fraction_lost = if expected_interval == 0 || lost_interval <= 0 {
            0
        } else {
            ((lost_interval << 8) / expected_interval as i64).min(255) as u8
        };
        // The field is a signed 24-bit count.
        let lost = source.cumulative_lost().clamp(-0x80_0000, 0x7F_FFFF);
        let delay = if lsr == 0 {
            0
        } else {
            let waited = now.saturating_duration_since(sr_arrival);
            (waited.as_secs_f64() * 65_536.0).min(f64::from(u32::MAX)) as u32
        };
        Some(ReceptionReport {
            ssrc: source.ssrc,
            fraction_lost,
            total_lost: (lost as i32 as u32) & 0x00FF_FFFF,
            last_sequence_number: source.extended_max(),
            jitter: source.jitter as u32,
            last_sender_report: lsr,
            delay,
        })
    }
}

/// What we sent, for our Sender Reports.
#[derive(Debug, Clone, Default)]
pub struct SenderStats {
    pub packets: u32,
    pub octets: u32,
    /// The RTP timestamp of the last packet sent and when.
    last: Option<(u32, Instant)>,
    sent_since_report: bool,
}

impl SenderStats {
    pub fn on_sent(&mut self, rtp_timestamp: u32, payload_len: usize, now: Instant) {
        self.packets = self.packets.wrapping_add(1);
        self.octets = self.octets.wrapping_add(payload_len as u32);
        self.last = Some((rtp_timestamp, now));
        self.sent_since_report = true;
    }
}

/// An RTCP packet from the peer that matters to us.
#[derive(Debug, Clone, PartialEq)]
pub enum RtcpPacket {
    SenderReport(SenderReport),
    ReceiverReport(ReceiverReport),
    Goodbye(Goodbye),
}

impl RtcpPacket {
    /// The report blocks the packet carries.
    pub fn reports(&self) -> &[ReceptionReport] {
        match self {
            RtcpPacket::SenderReport(sr) => &sr.reports,
            RtcpPacket::ReceiverReport(rr) => &rr.reports,
            RtcpPacket::Goodbye(_) => &[],
        }
    }
}

/// Splits a compound RTCP datagram and reads its SR, RR and BYE packets (others, such
/// as SDES and APP, are skipped). Fails if the packets' lengths do not tile the
/// datagram or one we read is malformed.
pub fn parse_compound(datagram: &[u8]) -> Result<Vec<RtcpPacket>, RtcpError> {
    let mut packets = Vec::new();
    let mut rest = datagram;
    if rest.is_empty() {
        return Err(RtcpError::Malformed("empty datagram".into()));
    }
    while !rest.is_empty() {
        let [first, packet_type, len_hi, len_lo, ..] = *rest else {
            return Err(RtcpError::Malformed(format!(
                "{} trailing bytes",
                rest.len()
            )));
        };
        if first >> 6 != 2 {
            return Err(RtcpError::Malformed(format!("version {}", first >> 6)));
        }
        let len = (usize::from(u16::from_be_bytes([len_hi, len_lo])) + 1) * 4;
        let Some(packet) = rest.get(..len) else {
            return Err(RtcpError::Malformed(format!(
                "packet type {packet_type} claims {len} bytes, {} remain",
                rest.len()
            )));
        };
        rest = rest.get(len..).unwrap_or_default();
        let malformed = |e: webrtc_util::Error| RtcpError::Malformed(e.to_string());
        let mut buf = packet;
        match packet_type {
            200 => packets.push(RtcpPacket::SenderReport(
                SenderReport::unmarshal(&mut buf).map_err(malformed)?,
            )),
            201 => packets.push(RtcpPacket::ReceiverReport(
                ReceiverReport::unmarshal(&mut buf).map_err(malformed)?,
            )),
            203 => packets.push(RtcpPacket::Goodbye(
                Goodbye::unmarshal(&mut buf).map_err(malformed)?,
            )),
            _ => {}
        }
    }
    Ok(packets)
}

/// Our compound report: an SR if we sent media since the last report (else an RR),
/// with the reception block on the peer's stream, then an SDES with our CNAME.
pub fn build_report(
    ssrc: u32,
    cname: &str,
    sender: &mut SenderStats,
    receiver: &mut ReceiverStats,
    clock: &NtpClock,
    now: Instant,
) -> Result<Bytes, RtcpError> {
    let reports: Vec<ReceptionReport> = receiver.reception_report(now).into_iter().collect();
    let mut out = Vec::with_capacity(128);
    let report_bytes = match sender.last {
        Some((last_ts, sent_at)) if sender.sent_since_report => {
            // The RTP timestamp corresponding to `now`, extrapolated from the last packet.
            let since = now.saturating_duration_since(sent_at).as_secs_f64();
            let rtp_time = last_ts.wrapping_add((since * f64::from(receiver.clock_rate)) as u32);
            SenderReport {
                ssrc,
                ntp_time: clock.ntp(now),
                rtp_time,
                packet_count: sender.packets,
                octet_count: sender.octets,
                reports,
                profile_extensions: Bytes::new(),
            }
            .marshal()
        }
        _ => ReceiverReport {
            ssrc,
            reports,
            profile_extensions: Bytes::new(),
        }
        .marshal(),
    };
    sender.sent_since_report = false;
    out.extend_from_slice(&report_bytes.map_err(|e| RtcpError::Build(e.to_string()))?);
    let sdes = SourceDescription {
        chunks: vec![SourceDescriptionChunk {
            source: ssrc,
            items: vec![SourceDescriptionItem {
                sdes_type: SdesType::SdesCname,
                text: Bytes::copy_from_slice(truncate_utf8(cname, 255).as_bytes()),
            }],
        }],
    };
    out.extend_from_slice(
        &sdes
            .marshal()
            .map_err(|e| RtcpError::Build(e.to_string()))?,
    );
    Ok(Bytes::from(out))
}

/// A BYE for our SSRC, sent when the call's media stops.
pub fn build_bye(ssrc: u32) -> Result<Bytes, RtcpError> {
    Goodbye {
        sources: vec![ssrc],
        reason: Bytes::new(),
    }
    .marshal()
    .map_err(|e| RtcpError::Build(e.to_string()))
}

/// Round-trip time from a report block the peer wrote about our stream (RFC 3550
/// §6.4.1: arrival − LSR − DLSR), or `None` if the peer has not seen our SR yet.
pub fn round_trip_time(
    report: &ReceptionReport,
    clock: &NtpClock,
    arrival: Instant,
) -> Option<Duration> {
    if report.last_sender_report == 0 {
        return None;
    }
    let now = clock.compact(arrival);
    let rtt = now
        .wrapping_sub(report.last_sender_report)
        .wrapping_sub(report.delay);
    // A "negative" round trip (clock trouble or a forged block) is no measurement.
    if rtt > u32::MAX / 2 {
        return None;
    }
    Some(Duration::from_secs_f64(f64::from(rtt) / 65_536.0))
}

fn truncate_utf8(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(stats: &mut ReceiverStats, seqs: impl IntoIterator<Item = u16>, start: Instant) {
        for (i, seq) in seqs.into_iter().enumerate() {
            let at = start + Duration::from_millis(20 * i as u64);
            stats.on_rtp(7, seq, u32::from(seq) * 160, at);
        }
    }

    #[test]
    fn counts_loss_across_wrap_around() {
        let mut stats = ReceiverStats::new(8000);
        let start = stats.epoch;
        // 65530..=65535, 0..=20 with 3 and 10 missing.
        let seqs = (65_530..=65_535u16).chain((0..=20).filter(|s| *s != 3 && *s != 10));
        feed(&mut stats, seqs, start);
        // The first packet is probation (not counted), so base is 65531.
        assert_eq!(stats.extended_highest_seq(), Some(65_536 + 20));
        assert_eq!(stats.cumulative_lost(), 2);
        let report = stats
            .reception_report(start + Duration::from_secs(1))
            .unwrap();
        assert_eq!(report.ssrc, 7);
        assert_eq!(report.total_lost, 2);
        assert_eq!(report.last_sequence_number, 65_536 + 20);
        assert_eq!(report.fraction_lost, (2 * 256 / 26) as u8);
        // Nothing new lost in the next interval.
        feed(&mut stats, 21..=30, start + Duration::from_secs(1));
        assert_eq!(
            stats
                .reception_report(start + Duration::from_secs(2))
                .unwrap()
                .fraction_lost,
            0
        );
    }

    #[test]
    fn jitter_follows_appendix_a8() {
        let mut stats = ReceiverStats::new(8000);
        let start = stats.epoch;
        // Perfect clock: zero jitter.
        feed(&mut stats, 0..100, start);
        assert!(stats.jitter_ms() < 0.2, "{}", stats.jitter_ms());
        // Alternating ±5 ms: |D| = 10 ms each step, so jitter converges to 10 ms.
        let mut stats = ReceiverStats::new(8000);
        for seq in 0..400u16 {
            let offset = if seq % 2 == 0 { 0 } else { 10 };
            let at = start + Duration::from_millis(20 * u64::from(seq) + offset);
            stats.on_rtp(1, seq, u32::from(seq) * 160, at);
        }
        assert!(
            (stats.jitter_ms() - 10.0).abs() < 0.5,
            "{}",
            stats.jitter_ms()
        );
    }

    #[test]
    fn a_restarted_sender_is_followed_after_two_packets() {
        let mut stats = ReceiverStats::new(8000);
        let start = stats.epoch;
        feed(&mut stats, 100..200, start);
        assert!(!stats.on_rtp(7, 40_000, 0, start));
        assert!(stats.on_rtp(7, 40_001, 160, start));
        assert_eq!(stats.extended_highest_seq(), Some(40_001));
    }

    #[test]
    fn reports_round_trip_through_the_rtcp_crate() {
        let clock = NtpClock::new();
        let start = Instant::now();
        let mut sender = SenderStats::default();
        let mut receiver = ReceiverStats::new(8000);
        feed(&mut receiver, 0..50, start);
        sender.on_sent(1234, 160, start);
        let compound = build_report(
            99,
            "alice@cuecard",
            &mut sender,
            &mut receiver,
            &clock,
            start,
        )
        .unwrap();
        let packets = parse_compound(&compound).unwrap();
        assert_eq!(packets.len(), 1, "SDES is skipped");
        let RtcpPacket::SenderReport(sr) = &packets[0] else {
            panic!("{packets:?}")
        };
        assert_eq!(sr.ssrc, 99);
        assert_eq!(sr.packet_count, 1);
        assert_eq!(sr.octet_count, 160);
        assert_eq!(sr.reports.len(), 1);
        assert_eq!(sr.reports[0].ssrc, 7);

        // No media sent since: a receiver report.
        let compound = build_report(
            99,
            "alice@cuecard",
            &mut sender,
            &mut receiver,
            &clock,
            start,
        )
        .unwrap();
        assert!(matches!(
            parse_compound(&compound).unwrap()[0],
            RtcpPacket::ReceiverReport(_)
        ));

        let bye = build_bye(99).unwrap();
        assert!(
            matches!(&parse_compound(&bye).unwrap()[0], RtcpPacket::Goodbye(g) if g.sources == [99])
        );
    }

    #[test]
    fn round_trip_time_from_lsr_and_dlsr() {
        let clock = NtpClock::new();
        let sent = Instant::now();
        // We send an SR at `sent`; the peer holds it 30 ms and replies; it reaches us 100 ms
        // after we sent: the network took 70 ms there and back.
        let lsr = clock.compact(sent);
        let block = ReceptionReport {
            last_sender_report: lsr,
            delay: (0.030 * 65_536.0) as u32,
            ..Default::default()
        };
        let rtt = round_trip_time(&block, &clock, sent + Duration::from_millis(100)).unwrap();
        assert!((rtt.as_secs_f64() - 0.070).abs() < 0.001, "{rtt:?}");
        assert_eq!(
            round_trip_time(&ReceptionReport::default(), &clock, sent),
            None
        );
        // DLSR larger than the elapsed time: refused, not a huge RTT.
        let forged = ReceptionReport {
            last_sender_report: lsr,
            delay: 65_536 * 10,
            ..Default::default()
        };
        assert_eq!(
            round_trip_time(&forged, &clock, sent + Duration::from_millis(100)),
            None
        );
    }

    #[test]
    fn peer_sender_report_feeds_lsr_and_dlsr() {
        let mut receiver = ReceiverStats::new(8000);
        let start = receiver.epoch;
        feed(&mut receiver, 0..10, start);
        let sr = SenderReport {
            ssrc: 7,
            ntp_time: 0x0001_2345_6789_0000,
            ..Default::default()
        };
        receiver.on_sender_report(&sr, start);
        let block = receiver
            .reception_report(start + Duration::from_millis(500))
            .unwrap();
        assert_eq!(block.last_sender_report, 0x2345_6789);
        assert_eq!(block.delay, 32_768);
    }

    #[test]
    fn junk_compound_packets_are_errors_not_panics() {
        assert!(parse_compound(&[]).is_err());
        assert!(parse_compound(&[0x80, 200, 0, 50, 1, 2, 3, 4]).is_err());
        assert!(parse_compound(&[0x00, 200, 0, 0]).is_err());
        assert!(
            parse_compound(&[0x81, 201, 0, 1, 0, 0, 0, 1]).is_err(),
            "RR claims a block it lacks"
        );
        assert!(parse_compound(&[0x80, 202, 0, 0, 9]).is_err());
        assert_eq!(parse_compound(&[0x80, 204, 0, 0]).unwrap(), vec![]);
    }
}
