//! ITU-T G.711 companding: μ-law (PCMU, RTP payload type 0) and A-law (PCMA, payload
//! type 8) between 16-bit linear samples and 8-bit code words.
//!
//! Encoding is computed (a leading-zero count finds the segment); decoding looks the
//! code word up in a 256-entry table built at compile time.

/// The μ-law code word for a zero sample (what a muted PCMU stream sends).
pub const ULAW_SILENCE: u8 = 0xFF;
/// The A-law code word for a zero sample (what a muted PCMA stream sends); it decodes
/// to +8, the smallest positive level.
pub const ALAW_SILENCE: u8 = 0xD5;

/// μ-law bias added to the magnitude so that every segment starts at a power of two.
const ULAW_BIAS: i32 = 0x84;
/// Largest magnitude μ-law can represent before the bias would overflow 15 bits.
const ULAW_CLIP: i32 = 32_635;

static ULAW_TO_LINEAR: [i16; 256] = ulaw_table();
static ALAW_TO_LINEAR: [i16; 256] = alaw_table();

/// Encodes one linear sample as a μ-law code word.
pub fn ulaw_encode(sample: i16) -> u8 {
    let value = i32::from(sample);
    let sign: u8 = if value < 0 { 0x80 } else { 0 };
    let magnitude = value.unsigned_abs().min(ULAW_CLIP as u32) as i32 + ULAW_BIAS;
    // The biased magnitude lies in [2^7, 2^15): its top bit names the segment 0..=7.
    let top_bit = 31 - magnitude.leading_zeros() as i32;
    let segment = (top_bit - 7).clamp(0, 7);
    let mantissa = (magnitude >> (segment + 3)) & 0x0F;
    !(sign | ((segment as u8) << 4) | mantissa as u8)
}

/// Decodes one μ-law code word to a linear sample.
pub fn ulaw_decode(code: u8) -> i16 {
    ULAW_TO_LINEAR[usize::from(code)]
}

/// Encodes one linear sample as an A-law code word.
pub fn alaw_encode(sample: i16) -> u8 {
    // A-law quantises 13 bits. Negative values are folded with a one's complement,
    // which keeps the two halves of the scale symmetric.
    let (invert, magnitude) = if sample >= 0 {
        (0xD5u8, i32::from(sample >> 3))
    } else {
        (0x55u8, i32::from(!sample >> 3))
    };
    let top_bit = 31 - magnitude.max(1).leading_zeros() as i32;
    let segment = (top_bit - 4).clamp(0, 7);
    let shift = if segment < 2 { 1 } else { segment };
    let mantissa = (magnitude >> shift) & 0x0F;
    (((segment as u8) << 4) | mantissa as u8) ^ invert
}

/// Decodes one A-law code word to a linear sample.
pub fn alaw_decode(code: u8) -> i16 {
    ALAW_TO_LINEAR[usize::from(code)]
}

/// Encodes `samples` as μ-law, appending one code word per sample to `out`.
pub fn ulaw_encode_slice(samples: &[i16], out: &mut Vec<u8>) {
    out.extend(samples.iter().map(|&s| ulaw_encode(s)));
}

/// Decodes μ-law `codes`, appending one sample per code word to `out`.
pub fn ulaw_decode_slice(codes: &[u8], out: &mut Vec<i16>) {
    out.extend(codes.iter().map(|&c| ulaw_decode(c)));
}

/// Encodes `samples` as A-law, appending one code word per sample to `out`.
pub fn alaw_encode_slice(samples: &[i16], out: &mut Vec<u8>) {
    out.extend(samples.iter().map(|&s| alaw_encode(s)));
}

/// Decodes A-law `codes`, appending one sample per code word to `out`.
pub fn alaw_decode_slice(codes: &[u8], out: &mut Vec<i16>) {
    out.extend(codes.iter().map(|&c| alaw_decode(c)));
}

const fn ulaw_table() -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut code = 0;
    while code < 256 {
        let bits = !(code as u8);
        let segment = ((bits >> 4) & 0x07) as i32;
        let mantissa = (bits & 0x0F) as i32;
        // Reconstruct at the middle of the quantisation step, then remove the bias.
        let magnitude = (((mantissa << 3) + ULAW_BIAS) << segment) - ULAW_BIAS;
        table[code] = if bits & 0x80 != 0 {
            -magnitude as i16
        } else {
            magnitude as i16
        };
        code += 1;
    }
    table
}

const fn alaw_table() -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut code = 0;
    while code < 256 {
        let bits = (code as u8) ^ 0x55;
        let segment = ((bits >> 4) & 0x07) as i32;
        let mantissa = ((bits & 0x0F) as i32) << 4;
        // Reconstruct at the middle of the quantisation step.
        let magnitude = match segment {
            0 => mantissa + 8,
            1 => mantissa + 0x108,
            _ => (mantissa + 0x108) << (segment - 1),
        };
        table[code] = if bits & 0x80 != 0 {
            magnitude as i16
        } else {
            -magnitude as i16
        };
        code += 1;
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulaw_known_code_words() {
        assert_eq!(ulaw_decode(0xFF), 0);
        assert_eq!(ulaw_decode(0x7F), 0);
        assert_eq!(ulaw_encode(0), 0xFF);
        assert_eq!(ulaw_decode(0x80), 32_124);
        assert_eq!(ulaw_decode(0x00), -32_124);
        assert_eq!(ulaw_encode(i16::MAX), 0x80);
        assert_eq!(ulaw_encode(i16::MIN), 0x00);
        // The first step above zero: magnitudes 8..=15 share code 0xFE, decoded as 8.
        assert_eq!(ulaw_decode(0xFE), 8);
        assert_eq!(ulaw_encode(10), 0xFE);
        assert_eq!(ulaw_encode(-10), 0x7E);
        assert_eq!(ulaw_decode(0x7E), -8);
    }

    #[test]
    fn alaw_known_code_words() {
        assert_eq!(alaw_decode(0xD5), 8);
        assert_eq!(alaw_decode(0x55), -8);
        assert_eq!(alaw_encode(0), 0xD5);
        assert_eq!(alaw_encode(-1), 0x55);
        assert_eq!(alaw_decode(0xAA), 32_256);
        assert_eq!(alaw_decode(0x2A), -32_256);
        assert_eq!(alaw_encode(i16::MAX), 0xAA);
        assert_eq!(alaw_encode(i16::MIN), 0x2A);
    }

    #[test]
    fn silence_code_words_decode_to_near_zero() {
        assert_eq!(ulaw_decode(ULAW_SILENCE), 0);
        assert_eq!(alaw_decode(ALAW_SILENCE), 8);
        assert_eq!(ulaw_encode(0), ULAW_SILENCE);
        assert_eq!(alaw_encode(0), ALAW_SILENCE);
    }

    #[test]
    fn ulaw_round_trip_error_is_within_half_a_step() {
        for sample in i16::MIN..=i16::MAX {
            let decoded = i32::from(ulaw_decode(ulaw_encode(sample)));
            let magnitude = i32::from(sample).abs();
            if magnitude > ULAW_CLIP {
                assert_eq!(decoded.abs(), 32_124, "clipped sample {sample}");
                continue;
            }
            // Half a quantisation step: 2^(segment + 2) <= (|x| + bias) / 32.
            let bound = (magnitude + ULAW_BIAS) / 32 + 1;
            let error = (decoded - i32::from(sample)).abs();
            assert!(error <= bound, "sample {sample}: error {error} > {bound}");
            assert!(decoded == 0 || decoded.signum() == i32::from(sample).signum());
        }
    }

    #[test]
    fn alaw_round_trip_error_is_within_half_a_step() {
        for sample in i16::MIN..=i16::MAX {
            let decoded = i32::from(alaw_decode(alaw_encode(sample)));
            let magnitude = i32::from(sample).abs();
            let bound = (magnitude / 16).max(8) + 1;
            let error = (decoded - i32::from(sample)).abs();
            assert!(error <= bound, "sample {sample}: error {error} > {bound}");
        }
    }

    #[test]
    fn every_code_word_survives_decode_then_encode() {
        for code in 0..=255u8 {
            let ulaw = ulaw_decode(code);
            // 0x7F is μ-law's negative zero; it comes back as positive zero.
            if code != 0x7F {
                assert_eq!(ulaw_encode(ulaw), code, "μ-law {code:#04x}");
            }
            assert_eq!(alaw_encode(alaw_decode(code)), code, "A-law {code:#04x}");
        }
    }

    #[test]
    fn slices_round_trip_a_sine_with_g711_snr() {
        let samples: Vec<i16> = (0..8000)
            .map(|n| {
                let phase = 2.0 * std::f64::consts::PI * 440.0 * f64::from(n) / 8000.0;
                (phase.sin() * 16_000.0) as i16
            })
            .collect();
        for (encode, decode) in [
            (
                ulaw_encode_slice as fn(&[i16], &mut Vec<u8>),
                ulaw_decode_slice as fn(&[u8], &mut Vec<i16>),
            ),
            (alaw_encode_slice, alaw_decode_slice),
        ] {
            let mut codes = Vec::new();
            encode(&samples, &mut codes);
            assert_eq!(codes.len(), samples.len());
            let mut decoded = Vec::new();
            decode(&codes, &mut decoded);
            let signal: f64 = samples.iter().map(|&s| f64::from(s).powi(2)).sum();
            let noise: f64 = samples
                .iter()
                .zip(&decoded)
                .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
                .sum();
            let snr_db = 10.0 * (signal / noise).log10();
            assert!(snr_db > 35.0, "SNR {snr_db:.1} dB");
        }
    }
}
