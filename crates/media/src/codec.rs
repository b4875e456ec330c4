//! The audio codecs a call can negotiate (G.711 μ-law and A-law) with their RTP
//! parameters: static payload type, SDP encoding name, clock rate and 20 ms framing.

use crate::g711;

/// Samples in one 20 ms frame at 8 kHz: the packet size this engine sends and plays.
pub const FRAME_SAMPLES: usize = 160;
/// Duration of one frame.
pub const FRAME_DURATION: std::time::Duration = std::time::Duration::from_millis(20);
/// The 8 kHz clock of every G.711 stream (RTP timestamp units per second).
pub const CLOCK_RATE: u32 = 8_000;

/// A negotiated audio codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Codec {
    /// G.711 μ-law, static RTP payload type 0.
    Pcmu,
    /// G.711 A-law, static RTP payload type 8.
    Pcma,
}

impl Codec {
    /// Every codec this engine speaks, in our order of preference for an offer.
    pub const ALL: [Codec; 2] = [Codec::Pcmu, Codec::Pcma];

    /// The static RTP payload type (RFC 3551).
    pub fn payload_type(self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
        }
    }

    /// The codec with this static payload type, if we speak it.
    pub fn from_payload_type(payload_type: u8) -> Option<Codec> {
        Codec::ALL
            .into_iter()
            .find(|c| c.payload_type() == payload_type)
    }

    /// The SDP encoding name (`a=rtpmap:0 PCMU/8000`).
    pub fn name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
        }
    }

    /// The codec with this SDP encoding name (case-insensitive, as SDP requires).
    pub fn from_name(name: &str) -> Option<Codec> {
        Codec::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name))
    }

    /// RTP clock rate in Hz.
    pub fn clock_rate(self) -> u32 {
        CLOCK_RATE
    }

    /// Samples (and, for G.711, payload bytes) in one 20 ms frame.
    pub fn samples_per_frame(self) -> usize {
        FRAME_SAMPLES
    }

    /// The code word for a zero sample, sent while muted.
    pub fn silence_byte(self) -> u8 {
        match self {
            Codec::Pcmu => g711::ULAW_SILENCE,
            Codec::Pcma => g711::ALAW_SILENCE,
        }
    }

    /// Encodes `samples`, appending one byte per sample to `payload`.
    pub fn encode(self, samples: &[i16], payload: &mut Vec<u8>) {
        match self {
            Codec::Pcmu => g711::ulaw_encode_slice(samples, payload),
            Codec::Pcma => g711::alaw_encode_slice(samples, payload),
        }
    }

    /// Decodes `payload`, appending one sample per byte to `samples`.
    pub fn decode(self, payload: &[u8], samples: &mut Vec<i16>) {
        match self {
            Codec::Pcmu => g711::ulaw_decode_slice(payload, samples),
            Codec::Pcma => g711::alaw_decode_slice(payload, samples),
        }
    }

    /// Decodes one byte.
    pub fn decode_sample(self, code: u8) -> i16 {
        match self {
            Codec::Pcmu => g711::ulaw_decode(code),
            Codec::Pcma => g711::alaw_decode(code),
        }
    }
}

impl std::fmt::Display for Codec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtp_parameters() {
        assert_eq!(Codec::Pcmu.payload_type(), 0);
        assert_eq!(Codec::Pcma.payload_type(), 8);
        assert_eq!(Codec::Pcmu.name(), "PCMU");
        assert_eq!(Codec::Pcma.to_string(), "PCMA");
        assert_eq!(Codec::Pcma.clock_rate(), 8000);
        assert_eq!(Codec::Pcmu.samples_per_frame(), 160);
        assert_eq!(Codec::from_payload_type(8), Some(Codec::Pcma));
        assert_eq!(Codec::from_payload_type(18), None);
        assert_eq!(Codec::from_name("pcmu"), Some(Codec::Pcmu));
        assert_eq!(Codec::from_name("opus"), None);
    }

    #[test]
    fn a_frame_round_trips() {
        let frame: Vec<i16> = (0..160).map(|n| (n * 97 - 8000) as i16).collect();
        for codec in Codec::ALL {
            let mut payload = Vec::new();
            codec.encode(&frame, &mut payload);
            assert_eq!(payload.len(), 160);
            let mut decoded = Vec::new();
            codec.decode(&payload, &mut decoded);
            for (a, b) in frame.iter().zip(&decoded) {
                assert!(
                    (i32::from(*a) - i32::from(*b)).abs() < 520,
                    "{codec}: {a} vs {b}"
                );
            }
            let silence = vec![codec.silence_byte(); 160];
            let mut quiet = Vec::new();
            codec.decode(&silence, &mut quiet);
            assert!(quiet.iter().all(|s| s.abs() <= 8));
        }
    }
}
