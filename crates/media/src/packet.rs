//! RTP and RTCP datagrams off the wire: telling them apart on a shared port
//! (RFC 5761), checking an RTP header's structure before the `rtp` crate reads it,
//! and building the packets we send.
//!
//! The structural check matters: the `rtp` crate trusts the header-extension element
//! lengths it reads and can index past the end of a hostile packet, so nothing from
//! the network reaches it (or SRTP, which parses the same header) unchecked.

use bytes::Bytes;
use webrtc_util::marshal::{Marshal, Unmarshal};

/// Fixed part of an RTP header.
pub const RTP_HEADER_LEN: usize = 12;
/// Fixed part of an RTCP header plus the sender's SSRC.
pub const RTCP_HEADER_LEN: usize = 8;

/// Why a datagram is not a usable RTP packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    #[error("datagram of {0} bytes is too short for an RTP header")]
    TooShort(usize),
    #[error("RTP version {0} (expected 2)")]
    BadVersion(u8),
    #[error("the {0} run past the end of the datagram")]
    Truncated(&'static str),
    #[error("padding length {0} is larger than the payload")]
    BadPadding(usize),
    #[error("RTP header rejected: {0}")]
    Unmarshal(String),
}

/// What a datagram on a media port is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatagramKind {
    Rtp,
    Rtcp,
    /// Not RTP version 2 at all (STUN, garbage, a stray packet).
    Other,
}

/// Tells RTP from RTCP on a multiplexed port (RFC 5761 §4): both are version 2, and an
/// RTCP packet type (SR 200, RR 201, SDES 202, BYE 203, APP 204, the feedback and XR
/// types up to 207) sits where RTP keeps its marker bit and payload type, in the range
/// 192–223 that RTP payload types are not given when multiplexing.
pub fn classify(datagram: &[u8]) -> DatagramKind {
    match datagram {
        [first, second, ..] if first >> 6 == 2 => {
            if (192..=223).contains(second) {
                DatagramKind::Rtcp
            } else {
                DatagramKind::Rtp
            }
        }
        _ => DatagramKind::Other,
    }
}

/// Checks that an RTP header's declared structure (CSRCs, extension block and its
/// RFC 8285 elements, padding) fits inside `datagram`, so that unmarshalling cannot
/// read out of bounds. Returns the header length.
pub fn validate_rtp(datagram: &[u8]) -> Result<usize, PacketError> {
    let len = datagram.len();
    let first = match datagram.first() {
        Some(&first) if len >= RTP_HEADER_LEN => first,
        _ => return Err(PacketError::TooShort(len)),
    };
    let version = first >> 6;
    if version != 2 {
        return Err(PacketError::BadVersion(version));
    }
    let has_padding = first & 0x20 != 0;
    let has_extension = first & 0x10 != 0;
    let csrc_count = usize::from(first & 0x0F);

    let mut offset = RTP_HEADER_LEN + 4 * csrc_count;
    if offset > len {
        return Err(PacketError::Truncated("CSRC list"));
    }
    if has_extension {
        let profile =
            read_u16(datagram, offset).ok_or(PacketError::Truncated("header extension"))?;
        let words =
            read_u16(datagram, offset + 2).ok_or(PacketError::Truncated("header extension"))?;
        let body_start = offset + 4;
        let body_end = body_start + 4 * usize::from(words);
        let body = datagram
            .get(body_start..body_end)
            .ok_or(PacketError::Truncated("header extension"))?;
        match profile {
            0xBEDE => validate_one_byte_elements(body)?,
            0x1000..=0x100F => validate_two_byte_elements(body)?,
            _ => {}
        }
        offset = body_end;
    }
    if has_padding {
        let payload_len = len - offset;
        let padding = datagram.last().map_or(0, |&b| usize::from(b));
        if payload_len == 0 || padding == 0 || padding > payload_len {
            return Err(PacketError::BadPadding(padding));
        }
    }
    Ok(offset)
}

/// RFC 8285 one-byte elements: `ID(4) L(4)` then L+1 bytes; ID 0 is padding, ID 15
/// ends the list.
fn validate_one_byte_elements(body: &[u8]) -> Result<(), PacketError> {
    let mut at = 0;
    while let Some(&byte) = body.get(at) {
        at += 1;
        if byte == 0 {
            continue;
        }
        if byte >> 4 == 0x0F {
            return Ok(());
        }
        at += usize::from(byte & 0x0F) + 1;
        if at > body.len() {
            return Err(PacketError::Truncated("one-byte header extension element"));
        }
    }
    Ok(())
}

/// RFC 8285 two-byte elements: `ID(8) L(8)` then L bytes; ID 0 is padding.
fn validate_two_byte_elements(body: &[u8]) -> Result<(), PacketError> {
    let mut at = 0;
    while let Some(&id) = body.get(at) {
        at += 1;
        if id == 0 {
            continue;
        }
        let len = body
            .get(at)
            .ok_or(PacketError::Truncated("two-byte header extension element"))?;
        at += 1 + usize::from(*len);
        if at > body.len() {
            return Err(PacketError::Truncated("two-byte header extension element"));
        }
    }
    Ok(())
}

fn read_u16(bytes: &[u8], at: usize) -> Option<u16> {
    let pair = bytes.get(at..at + 2)?;
    Some(u16::from_be_bytes([*pair.first()?, *pair.get(1)?]))
}

/// Parses an RTP packet after [`validate_rtp`] has vouched for its structure.
pub fn parse_rtp(datagram: &[u8]) -> Result<rtp::packet::Packet, PacketError> {
    validate_rtp(datagram)?;
    let mut buf = datagram;
    rtp::packet::Packet::unmarshal(&mut buf).map_err(|e| PacketError::Unmarshal(e.to_string()))
}

/// The fields of an RTP packet we send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpHeader {
    pub payload_type: u8,
    pub marker: bool,
    pub sequence_number: u16,
    pub timestamp: u32,
    pub ssrc: u32,
}

/// Builds an RTP packet (no CSRCs, no extension, no padding).
pub fn build_rtp(header: RtpHeader, payload: &[u8]) -> Bytes {
    let packet = rtp::packet::Packet {
        header: rtp::header::Header {
            version: 2,
            marker: header.marker,
            payload_type: header.payload_type & 0x7F,
            sequence_number: header.sequence_number,
            timestamp: header.timestamp,
            ssrc: header.ssrc,
            ..Default::default()
        },
        payload: Bytes::copy_from_slice(payload),
    };
    match packet.marshal() {
        Ok(bytes) => bytes,
        // Marshalling a header with no extensions cannot fail; fall back to the
        // fixed layout rather than panic should the crate ever disagree.
        Err(error) => {
            tracing::warn!(%error, "rtp marshal failed; writing the header by hand");
            let mut raw = Vec::with_capacity(RTP_HEADER_LEN + payload.len());
            raw.push(0x80);
            raw.push(u8::from(header.marker) << 7 | (header.payload_type & 0x7F));
            raw.extend_from_slice(&header.sequence_number.to_be_bytes());
            raw.extend_from_slice(&header.timestamp.to_be_bytes());
            raw.extend_from_slice(&header.ssrc.to_be_bytes());
            raw.extend_from_slice(payload);
            Bytes::from(raw)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_packet() -> Vec<u8> {
        build_rtp(
            RtpHeader {
                payload_type: 0,
                marker: true,
                sequence_number: 65_535,
                timestamp: 0xDEAD_BEEF,
                ssrc: 0x1234_5678,
            },
            &[0xFF; 160],
        )
        .to_vec()
    }

    #[test]
    fn builds_and_parses() {
        let raw = sample_packet();
        assert_eq!(raw.len(), 172);
        assert_eq!(classify(&raw), DatagramKind::Rtp);
        let packet = parse_rtp(&raw).unwrap();
        assert!(packet.header.marker);
        assert_eq!(packet.header.sequence_number, 65_535);
        assert_eq!(packet.header.timestamp, 0xDEAD_BEEF);
        assert_eq!(packet.header.ssrc, 0x1234_5678);
        assert_eq!(packet.payload.len(), 160);
    }

    #[test]
    fn classifies_rtcp_and_others() {
        assert_eq!(classify(&[0x81, 200, 0, 6]), DatagramKind::Rtcp);
        assert_eq!(classify(&[0x81, 201, 0, 1]), DatagramKind::Rtcp);
        assert_eq!(classify(&[0x80, 0x80 | 101]), DatagramKind::Rtp);
        assert_eq!(classify(&[0x00, 0x01, 0x00, 0x00]), DatagramKind::Other);
        assert_eq!(classify(&[0x80]), DatagramKind::Other);
        assert_eq!(classify(&[]), DatagramKind::Other);
    }

    #[test]
    fn rejects_hostile_structure() {
        let base = sample_packet();
        assert_eq!(validate_rtp(&base[..11]), Err(PacketError::TooShort(11)));

        let mut version1 = base.clone();
        version1[0] = 0x40;
        assert_eq!(validate_rtp(&version1), Err(PacketError::BadVersion(1)));

        let mut csrcs = base[..20].to_vec();
        csrcs[0] = 0x8F;
        assert_eq!(
            validate_rtp(&csrcs),
            Err(PacketError::Truncated("CSRC list"))
        );

        // A one-byte extension element claiming 16 bytes in a 4-byte block: the `rtp`
        // crate would read past the end of this datagram.
        let mut ext = base[..12].to_vec();
        ext[0] |= 0x10;
        ext.extend_from_slice(&[0xBE, 0xDE, 0x00, 0x01, 0x1F, 0, 0, 0]);
        assert_eq!(
            validate_rtp(&ext),
            Err(PacketError::Truncated("one-byte header extension element"))
        );
        assert!(parse_rtp(&ext).is_err());

        let mut two = base[..12].to_vec();
        two[0] |= 0x10;
        two.extend_from_slice(&[0x10, 0x00, 0x00, 0x01, 0x05, 0x09, 0, 0]);
        assert!(validate_rtp(&two).is_err());

        let mut long_block = base[..12].to_vec();
        long_block[0] |= 0x10;
        long_block.extend_from_slice(&[0x12, 0x34, 0x00, 0x09, 1, 2, 3, 4]);
        assert_eq!(
            validate_rtp(&long_block),
            Err(PacketError::Truncated("header extension"))
        );

        let mut padding = base.clone();
        padding[0] |= 0x20;
        *padding.last_mut().unwrap() = 200;
        assert_eq!(validate_rtp(&padding), Err(PacketError::BadPadding(200)));
    }

    #[test]
    fn accepts_well_formed_extensions() {
        let mut ext = sample_packet()[..12].to_vec();
        ext[0] |= 0x10;
        // One element (ID 1, 2 bytes), then padding.
        ext.extend_from_slice(&[0xBE, 0xDE, 0x00, 0x01, 0x11, 0xAA, 0xBB, 0x00]);
        ext.extend_from_slice(&[0xFF; 160]);
        assert_eq!(validate_rtp(&ext), Ok(20));
        let packet = parse_rtp(&ext).unwrap();
        assert_eq!(packet.payload.len(), 160);
    }
}
