//! The audio codecs a call can negotiate with their RTP parameters (payload type, SDP
//! encoding name, clock rate, 20 ms framing): G.711 μ-law and A-law, and Opus when the
//! peer offers it.
//!
//! The engine runs at 8 kHz whatever the codec: Opus is coded at 8 kHz (libopus codes
//! natively at 8, 12, 16, 24 or 48 kHz) while its RTP clock is 48 kHz as RFC 7587
//! requires, so an Opus call's timestamps are six per sample ([`Codec::timestamp_scale`]).
//! [`Encoder`] and [`Decoder`] hold the per-call state Opus needs; G.711 has none.

use crate::g711;

/// Samples in one 20 ms frame at 8 kHz: the packet size this engine sends and plays.
pub const FRAME_SAMPLES: usize = 160;
/// Duration of one frame.
pub const FRAME_DURATION: std::time::Duration = std::time::Duration::from_millis(20);
/// The engine's sample rate, and the RTP clock of G.711 streams.
pub const CLOCK_RATE: u32 = 8_000;
/// Opus's RTP clock (RFC 7587 §4.1), whatever rate it is coded at.
pub const OPUS_CLOCK_RATE: u32 = 48_000;

/// A negotiated audio codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Codec {
    /// G.711 μ-law, static RTP payload type 0.
    Pcmu,
    /// G.711 A-law, static RTP payload type 8.
    Pcma,
    /// Opus with the dynamic payload type the offer gave it.
    Opus { payload_type: u8 },
}

impl Codec {
    /// Every codec this engine speaks, in our order of preference for an offer.
    pub const ALL: [Codec; 2] = [Codec::Pcmu, Codec::Pcma];

    /// The static RTP payload type (RFC 3551).
    pub fn payload_type(self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
            Codec::Opus { payload_type } => payload_type,
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
            Codec::Opus { .. } => "opus",
        }
    }

    /// The codec with this SDP encoding name (case-insensitive, as SDP requires) and,
    /// for a dynamic one (Opus), the payload type the negotiation gave it.
    pub fn from_name(name: &str, payload_type: u8) -> Option<Codec> {
        if name.eq_ignore_ascii_case("opus") {
            return Some(Codec::Opus { payload_type });
        }
        Codec::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name))
    }

    /// RTP clock rate in Hz.
    pub fn clock_rate(self) -> u32 {
        match self {
            Codec::Opus { .. } => OPUS_CLOCK_RATE,
            _ => CLOCK_RATE,
        }
    }

    /// RTP timestamp units per engine (8 kHz) sample: 1 for G.711, 6 for Opus.
    pub fn timestamp_scale(self) -> u32 {
        self.clock_rate() / CLOCK_RATE
    }

    /// Samples (and, for G.711, payload bytes) in one 20 ms frame.
    pub fn samples_per_frame(self) -> usize {
        FRAME_SAMPLES
    }

    /// The G.711 code word for a zero sample (Opus has none: silence is coded).
    pub fn silence_byte(self) -> u8 {
        match self {
            Codec::Pcmu | Codec::Opus { .. } => g711::ULAW_SILENCE,
            Codec::Pcma => g711::ALAW_SILENCE,
        }
    }

    /// Encodes `samples` as G.711, appending one byte per sample to `payload` (Opus is
    /// coded by an [`Encoder`]).
    pub fn encode(self, samples: &[i16], payload: &mut Vec<u8>) {
        debug_assert!(
            !matches!(self, Codec::Opus { .. }),
            "Opus is coded by an Encoder, not as G.711"
        );
        match self {
            Codec::Pcmu | Codec::Opus { .. } => g711::ulaw_encode_slice(samples, payload),
            Codec::Pcma => g711::alaw_encode_slice(samples, payload),
        }
    }

    /// Decodes a G.711 `payload`, appending one sample per byte to `samples` (Opus is
    /// decoded by a [`Decoder`]).
    pub fn decode(self, payload: &[u8], samples: &mut Vec<i16>) {
        debug_assert!(
            !matches!(self, Codec::Opus { .. }),
            "Opus is decoded by a Decoder, not as G.711"
        );
        match self {
            Codec::Pcmu | Codec::Opus { .. } => g711::ulaw_decode_slice(payload, samples),
            Codec::Pcma => g711::alaw_decode_slice(payload, samples),
        }
    }

    /// Decodes one G.711 byte.
    pub fn decode_sample(self, code: u8) -> i16 {
        match self {
            Codec::Pcmu | Codec::Opus { .. } => g711::ulaw_decode(code),
            Codec::Pcma => g711::alaw_decode(code),
        }
    }
}

impl std::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoder")
            .field("codec", &self.codec)
            .finish()
    }
}

/// The longest Opus packet we build (a 20 ms narrowband frame needs well under 100).
const MAX_OPUS_PACKET: usize = 400;

/// Turns 20 ms frames into payloads for one call.
pub struct Encoder {
    codec: Codec,
    opus: Option<opus::Encoder>,
    scratch: Vec<u8>,
}

impl Encoder {
    pub fn new(codec: Codec) -> Result<Encoder, opus::Error> {
        let opus = match codec {
            Codec::Opus { .. } => {
                let mut encoder =
                    opus::Encoder::new(CLOCK_RATE, opus::Channels::Mono, opus::Application::Voip)?;
                // In-band FEC lets the far end rebuild a lost frame from the next one.
                encoder.set_inband_fec(true)?;
                encoder.set_packet_loss_perc(5)?;
                Some(encoder)
            }
            _ => None,
        };
        Ok(Encoder {
            codec,
            opus,
            scratch: vec![0; MAX_OPUS_PACKET],
        })
    }

    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// Encodes one frame, appending its payload to `payload`. An Opus failure (which
    /// libopus reports only for invalid arguments) sends nothing for the frame.
    pub fn encode(&mut self, samples: &[i16], payload: &mut Vec<u8>) {
        match self.opus.as_mut() {
            Some(encoder) => match encoder.encode(samples, &mut self.scratch) {
                Ok(n) => payload.extend_from_slice(&self.scratch[..n]),
                Err(e) => tracing::warn!("opus encode: {e}"),
            },
            None => self.codec.encode(samples, payload),
        }
    }
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder")
            .field("codec", &self.codec)
            .finish()
    }
}

/// Turns received payloads back into 8 kHz samples for one call.
pub struct Decoder {
    codec: Codec,
    opus: Option<opus::Decoder>,
    scratch: Vec<i16>,
}

impl Decoder {
    /// A decoder for `codec`; if libopus cannot make one, Opus payloads decode as
    /// silence (and the failure is logged).
    pub fn new(codec: Codec) -> Decoder {
        let opus = match codec {
            Codec::Opus { .. } => match opus::Decoder::new(CLOCK_RATE, opus::Channels::Mono) {
                Ok(decoder) => Some(decoder),
                Err(e) => {
                    tracing::error!("opus decoder: {e}");
                    None
                }
            },
            _ => None,
        };
        Decoder {
            codec,
            opus,
            // 120 ms, the longest Opus packet.
            scratch: vec![0; 960],
        }
    }

    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// How many 8 kHz samples `payload` holds (0 for a payload that is not audio).
    pub fn samples_in(&self, payload: &[u8]) -> usize {
        match self.codec {
            Codec::Opus { .. } => opus::packet::get_nb_samples(payload, CLOCK_RATE).unwrap_or(0),
            _ => payload.len(),
        }
    }

    /// Decodes `payload`, appending its samples to `samples`. A corrupt Opus packet
    /// appends nothing (the jitter buffer conceals the gap).
    pub fn decode(&mut self, payload: &[u8], samples: &mut Vec<i16>) {
        match (self.codec, self.opus.as_mut()) {
            (Codec::Opus { .. }, Some(decoder)) => {
                match decoder.decode(payload, &mut self.scratch, false) {
                    Ok(n) => samples.extend_from_slice(&self.scratch[..n]),
                    Err(e) => tracing::debug!("opus decode: {e}"),
                }
            }
            (Codec::Opus { .. }, None) => {}
            (codec, _) => codec.decode(payload, samples),
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
        assert_eq!(Codec::from_name("pcmu", 0), Some(Codec::Pcmu));
        assert_eq!(
            Codec::from_name("opus", 111),
            Some(Codec::Opus { payload_type: 111 })
        );
        assert_eq!(Codec::from_name("G729", 18), None);
        let opus = Codec::Opus { payload_type: 96 };
        assert_eq!((opus.payload_type(), opus.clock_rate()), (96, 48_000));
        assert_eq!(opus.timestamp_scale(), 6);
        assert_eq!(Codec::Pcmu.timestamp_scale(), 1);
    }

    #[test]
    fn opus_codes_a_tone_at_8_khz() {
        let codec = Codec::Opus { payload_type: 111 };
        let mut encoder = Encoder::new(codec).expect("encoder");
        let mut decoder = Decoder::new(codec);
        let tone: Vec<i16> = (0..8000)
            .map(|n| {
                ((2.0 * std::f64::consts::PI * 440.0 * f64::from(n) / 8000.0).sin() * 12000.0)
                    as i16
            })
            .collect();
        let mut out = Vec::new();
        for frame in tone.chunks(160) {
            let mut payload = Vec::new();
            encoder.encode(frame, &mut payload);
            assert!(
                !payload.is_empty() && payload.len() < 200,
                "{}",
                payload.len()
            );
            assert_eq!(decoder.samples_in(&payload), 160);
            decoder.decode(&payload, &mut out);
        }
        assert_eq!(out.len(), 8000);
        // After the codec's start-up, the tone is back at its level (a phase shift and
        // the codec's delay are fine): compare the energy of the last half second.
        let energy =
            |x: &[i16]| x.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / x.len() as f64;
        let ratio = energy(&out[4000..]) / energy(&tone[4000..]);
        assert!((0.7..1.3).contains(&ratio), "energy ratio {ratio:.2}");
        let mut garbage = Vec::new();
        decoder.decode(&[0xff, 0x00, 0x13], &mut garbage);
        assert!(garbage.len() <= 960, "a corrupt packet never overflows");
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
