//! DTMF as RFC 4733 telephone events: the 4-byte event payload, the packet sequence
//! that sends one digit, and a receiver that turns a peer's packets into one digit per
//! key press.
//!
//! A digit is sent as a run of packets that share one RTP timestamp (the event's start):
//! the first carries the marker bit, each following one (every 20 ms) a longer
//! duration, and the last three repeat the final duration with the end (E) bit set, so
//! that losing one or two of them still ends the event.

use std::collections::VecDeque;

use crate::codec::FRAME_SAMPLES;

/// The conventional dynamic payload type for `telephone-event/8000`.
pub const DEFAULT_PAYLOAD_TYPE: u8 = 101;
/// How many times the final (E-bit) packet is sent.
pub const END_REPEATS: usize = 3;
/// Tone length we send for one digit.
pub const DEFAULT_DIGIT_MS: u32 = 100;
/// Volume field we send: −10 dBm0, a typical keypad level.
const VOLUME: u8 = 10;

/// Why a telephone-event payload was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DtmfError {
    #[error("telephone-event payload of {0} bytes (needs 4)")]
    TooShort(usize),
    #[error("event code {0} is not a DTMF digit")]
    NotDtmf(u8),
    #[error("{0:?} is not a DTMF digit (0-9, *, #, A-D)")]
    BadDigit(char),
}

/// The RFC 4733 event code for a DTMF key (`0`–`9` → 0–9, `*` → 10, `#` → 11,
/// `A`–`D` → 12–15; lower-case letters too).
pub fn event_code(digit: char) -> Option<u8> {
    match digit {
        '0'..='9' => Some(digit as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        'A'..='D' => Some(digit as u8 - b'A' + 12),
        'a'..='d' => Some(digit as u8 - b'a' + 12),
        _ => None,
    }
}

/// The key for an RFC 4733 DTMF event code (0–15).
pub fn digit_for_code(code: u8) -> Option<char> {
    match code {
        0..=9 => Some(char::from(b'0' + code)),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some(char::from(b'A' + code - 12)),
        _ => None,
    }
}

/// One telephone-event payload (RFC 4733 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    pub code: u8,
    pub end: bool,
    /// Power level as −dBm0 (0–63).
    pub volume: u8,
    /// Duration so far, in RTP timestamp units.
    pub duration: u16,
}

impl TelephoneEvent {
    pub fn to_bytes(self) -> [u8; 4] {
        let [hi, lo] = self.duration.to_be_bytes();
        [
            self.code,
            u8::from(self.end) << 7 | (self.volume & 0x3F),
            hi,
            lo,
        ]
    }

    pub fn parse(payload: &[u8]) -> Result<TelephoneEvent, DtmfError> {
        let [code, flags, hi, lo, ..] = *payload else {
            return Err(DtmfError::TooShort(payload.len()));
        };
        Ok(TelephoneEvent {
            code,
            end: flags & 0x80 != 0,
            volume: flags & 0x3F,
            duration: u16::from_be_bytes([hi, lo]),
        })
    }
}

/// One packet of a digit's sequence, sent on successive 20 ms ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtmfPacket {
    /// Set on the first packet of the event only.
    pub marker: bool,
    pub event: TelephoneEvent,
}

/// The packets that send `digit` for `duration_ms` (rounded up to whole 20 ms
/// frames, at least one): one per tick, durations growing by one frame (160 at 8 kHz;
/// `timestamp_scale` times that on a faster clock, 6 for Opus's 48 kHz), then
/// [`END_REPEATS`] end packets. All share the event's RTP timestamp, which the sender
/// fixes at the first packet.
pub fn digit_packets(
    digit: char,
    duration_ms: u32,
    timestamp_scale: u32,
) -> Result<Vec<DtmfPacket>, DtmfError> {
    let code = event_code(digit).ok_or(DtmfError::BadDigit(digit))?;
    let frames = duration_ms.div_ceil(20).max(1) as usize;
    let step = FRAME_SAMPLES as u32 * timestamp_scale.max(1);
    let duration_at = |frame: usize| (step * frame as u32).min(u32::from(u16::MAX)) as u16;
    let mut packets: Vec<DtmfPacket> = (1..=frames)
        .map(|frame| DtmfPacket {
            marker: frame == 1,
            event: TelephoneEvent {
                code,
                end: false,
                volume: VOLUME,
                duration: duration_at(frame),
            },
        })
        .collect();
    let end = TelephoneEvent {
        code,
        end: true,
        volume: VOLUME,
        duration: duration_at(frames),
    };
    packets.extend(std::iter::repeat_n(
        DtmfPacket {
            marker: false,
            event: end,
        },
        END_REPEATS,
    ));
    Ok(packets)
}

/// A key press the peer sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtmfDigit {
    pub digit: char,
    /// How long the key was held, as the last packet said.
    pub duration_ms: u32,
}

/// Turns a peer's telephone-event packets into one [`DtmfDigit`] per event.
///
/// An event is identified by its RTP timestamp. A digit is reported at its first end
/// packet; the repeated end packets (and any late updates) are then ignored. If every
/// end packet is lost, the digit is reported when the next event starts.
#[derive(Debug, Default)]
pub struct DtmfReceiver {
    /// The event in progress and the last state heard of it.
    current: Option<(u32, TelephoneEvent)>,
    /// Timestamps of events already reported, newest last.
    reported: VecDeque<u32>,
}

/// How many reported event timestamps are remembered for de-duplication.
const REMEMBERED_EVENTS: usize = 16;

impl DtmfReceiver {
    pub fn new() -> DtmfReceiver {
        DtmfReceiver::default()
    }

    /// Feeds one telephone-event packet (its RTP timestamp and payload). Returns at most
    /// two digits: one whose end packets were lost, then this event's, if it ended.
    pub fn on_packet(&mut self, timestamp: u32, payload: &[u8]) -> Vec<DtmfDigit> {
        let mut digits = Vec::new();
        let event = match TelephoneEvent::parse(payload) {
            Ok(event) if digit_for_code(event.code).is_some() => event,
            Ok(event) => {
                tracing::trace!(code = event.code, "ignoring non-DTMF telephone event");
                return digits;
            }
            Err(error) => {
                tracing::trace!(%error, "dropping telephone-event packet");
                return digits;
            }
        };
        if self.reported.contains(&timestamp) {
            return digits;
        }
        match self.current {
            Some((current_ts, _)) if current_ts == timestamp => {}
            Some((previous_ts, previous)) => {
                // A new event began before the previous one's end reached us.
                if let Some(digit) = self.report(previous_ts, previous) {
                    digits.push(digit);
                }
            }
            None => {}
        }
        self.current = Some((timestamp, event));
        if event.end {
            self.current = None;
            if let Some(digit) = self.report(timestamp, event) {
                digits.push(digit);
            }
        }
        digits
    }

    fn report(&mut self, timestamp: u32, event: TelephoneEvent) -> Option<DtmfDigit> {
        if self.reported.len() == REMEMBERED_EVENTS {
            self.reported.pop_front();
        }
        self.reported.push_back(timestamp);
        Some(DtmfDigit {
            digit: digit_for_code(event.code)?,
            duration_ms: u32::from(event.duration) / 8,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_cover_the_keypad() {
        let keys = "0123456789*#ABCD";
        for (code, key) in keys.chars().enumerate() {
            assert_eq!(event_code(key), Some(code as u8));
            assert_eq!(digit_for_code(code as u8), Some(key));
        }
        assert_eq!(event_code('b'), Some(13));
        assert_eq!(event_code('E'), None);
        assert_eq!(digit_for_code(16), None);
    }

    #[test]
    fn payload_layout() {
        let event = TelephoneEvent {
            code: 11,
            end: true,
            volume: 10,
            duration: 800,
        };
        assert_eq!(event.to_bytes(), [11, 0x8A, 0x03, 0x20]);
        assert_eq!(TelephoneEvent::parse(&event.to_bytes()), Ok(event));
        assert_eq!(
            TelephoneEvent::parse(&[1, 2, 3]),
            Err(DtmfError::TooShort(3))
        );
    }

    #[test]
    fn one_digit_sequence() {
        let packets = digit_packets('5', 100, 1).unwrap();
        assert_eq!(packets.len(), 5 + END_REPEATS);
        assert!(packets[0].marker);
        assert!(packets[1..].iter().all(|p| !p.marker));
        let durations: Vec<u16> = packets.iter().map(|p| p.event.duration).collect();
        assert_eq!(durations, [160, 320, 480, 640, 800, 800, 800, 800]);
        assert!(
            packets[..5]
                .iter()
                .all(|p| !p.event.end && p.event.code == 5)
        );
        assert!(packets[5..].iter().all(|p| p.event.end));
        assert_eq!(digit_packets('x', 100, 1), Err(DtmfError::BadDigit('x')));
        assert_eq!(digit_packets('#', 0, 1).unwrap().len(), 1 + END_REPEATS);
    }

    #[test]
    fn receiver_reports_each_event_once() {
        let mut receiver = DtmfReceiver::new();
        let mut heard = Vec::new();
        for (digit, ts) in [('1', 1000u32), ('#', 5000), ('1', 9000)] {
            for packet in digit_packets(digit, 100, 1).unwrap() {
                heard.extend(receiver.on_packet(ts, &packet.event.to_bytes()));
            }
            // A late duplicate of the end packet changes nothing.
            let late = digit_packets(digit, 100, 1).unwrap()[6].event.to_bytes();
            heard.extend(receiver.on_packet(ts, &late));
        }
        let digits: Vec<char> = heard.iter().map(|d| d.digit).collect();
        assert_eq!(digits, ['1', '#', '1']);
        assert!(heard.iter().all(|d| d.duration_ms == 100));
    }

    #[test]
    fn receiver_survives_lost_end_packets_and_garbage() {
        let mut receiver = DtmfReceiver::new();
        let packets = digit_packets('7', 60, 1).unwrap();
        // Only the updates of '7' arrive.
        for packet in &packets[..3] {
            assert!(receiver.on_packet(100, &packet.event.to_bytes()).is_empty());
        }
        assert!(receiver.on_packet(100, &[1]).is_empty());
        // A non-DTMF event (flash, code 16) is ignored.
        assert!(receiver.on_packet(100, &[16, 0x80, 0, 160]).is_empty());
        let next = digit_packets('8', 20, 1).unwrap();
        let mut heard = receiver.on_packet(2000, &next[0].event.to_bytes());
        heard.extend(receiver.on_packet(2000, &next[1].event.to_bytes()));
        let digits: Vec<char> = heard.iter().map(|d| d.digit).collect();
        assert_eq!(digits, ['7', '8']);
    }
}
