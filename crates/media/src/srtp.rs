//! SRTP and SRTCP for one call (RFC 3711): an outbound context keyed with our SDES key
//! and an inbound one keyed with the peer's, wrapping the `srtp` crate behind checks
//! that keep hostile datagrams away from the parts of it that trust their input.

use bytes::Bytes;

use crate::packet;
use crate::sdes::SdesKey;

/// Packets the inbound replay window remembers (RFC 3711 suggests at least 64).
const REPLAY_WINDOW: usize = 128;
/// The SRTCP trailer: E flag plus 31-bit index.
const SRTCP_INDEX_LEN: usize = 4;
/// SRTCP always carries an 80-bit tag, for both suites (RFC 4568 §6.2).
const SRTCP_TAG_LEN: usize = 10;

/// Why a packet could not be protected or unprotected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SrtpError {
    #[error("could not set up SRTP: {0}")]
    Setup(String),
    #[error("SRTP packet is malformed: {0}")]
    Malformed(#[from] packet::PacketError),
    #[error("SRTCP packet of {0} bytes is too short")]
    RtcpTooShort(usize),
    #[error("SRTCP packet is not encrypted (E flag clear); refused")]
    RtcpNotEncrypted,
    #[error("SRTP authentication or replay check failed: {0}")]
    Rejected(String),
    #[error("SRTP could not protect the packet: {0}")]
    Protect(String),
}

/// The SRTP state of one call: protect with ours, unprotect with theirs.
pub struct SrtpSession {
    outbound: srtp::context::Context,
    inbound: srtp::context::Context,
    inbound_tag_len: usize,
}

impl SrtpSession {
    /// Contexts from our key (for what we send) and the peer's (for what we receive).
    pub fn new(local: &SdesKey, remote: &SdesKey) -> Result<SrtpSession, SrtpError> {
        let setup = |e: srtp::Error| SrtpError::Setup(e.to_string());
        let outbound = srtp::context::Context::new(
            local.master_key(),
            local.master_salt(),
            local.suite().protection_profile(),
            None,
            None,
        )
        .map_err(setup)?;
        let inbound = srtp::context::Context::new(
            remote.master_key(),
            remote.master_salt(),
            remote.suite().protection_profile(),
            Some(srtp::option::srtp_replay_protection(REPLAY_WINDOW)),
            Some(srtp::option::srtcp_replay_protection(REPLAY_WINDOW)),
        )
        .map_err(setup)?;
        Ok(SrtpSession {
            outbound,
            inbound,
            inbound_tag_len: remote.suite().protection_profile().rtp_auth_tag_len(),
        })
    }

    /// Encrypts and authenticates one RTP packet we built.
    pub fn protect_rtp(&mut self, rtp: &[u8]) -> Result<Bytes, SrtpError> {
        packet::validate_rtp(rtp)?;
        self.outbound
            .encrypt_rtp(rtp)
            .map_err(|e| SrtpError::Protect(e.to_string()))
    }

    /// Authenticates and decrypts one SRTP packet from the network.
    pub fn unprotect_rtp(&mut self, srtp: &[u8]) -> Result<Bytes, SrtpError> {
        let header_len = packet::validate_rtp(srtp)?;
        if srtp.len() < header_len + self.inbound_tag_len {
            return Err(packet::PacketError::Truncated("SRTP authentication tag").into());
        }
        self.inbound
            .decrypt_rtp(srtp)
            .map_err(|e| SrtpError::Rejected(e.to_string()))
    }

    /// Encrypts and authenticates one compound RTCP packet we built.
    pub fn protect_rtcp(&mut self, rtcp: &[u8]) -> Result<Bytes, SrtpError> {
        if rtcp.len() < packet::RTCP_HEADER_LEN {
            return Err(SrtpError::RtcpTooShort(rtcp.len()));
        }
        self.outbound
            .encrypt_rtcp(rtcp)
            .map_err(|e| SrtpError::Protect(e.to_string()))
    }

    /// Authenticates and decrypts one SRTCP packet from the network.
    pub fn unprotect_rtcp(&mut self, srtcp: &[u8]) -> Result<Bytes, SrtpError> {
        let min_len = packet::RTCP_HEADER_LEN + SRTCP_INDEX_LEN + SRTCP_TAG_LEN;
        if srtcp.len() < min_len {
            return Err(SrtpError::RtcpTooShort(srtcp.len()));
        }
        // The `srtp` crate returns an SRTCP packet whose E flag is clear without
        // checking its tag; we always encrypt, and so must the peer.
        let e_flag_at = srtcp.len() - SRTCP_TAG_LEN - SRTCP_INDEX_LEN;
        let encrypted = srtcp.get(e_flag_at).is_some_and(|b| b & 0x80 != 0);
        if !encrypted {
            return Err(SrtpError::RtcpNotEncrypted);
        }
        if srtcp.first().is_none_or(|b| b >> 6 != 2) {
            return Err(SrtpError::Rejected("RTCP version is not 2".into()));
        }
        self.inbound
            .decrypt_rtcp(srtcp)
            .map_err(|e| SrtpError::Rejected(e.to_string()))
    }
}

impl std::fmt::Debug for SrtpSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SrtpSession").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{RtpHeader, build_rtp};
    use crate::sdes::SrtpSuite;

    fn rtp(seq: u16) -> Bytes {
        build_rtp(
            RtpHeader {
                payload_type: 0,
                marker: false,
                sequence_number: seq,
                timestamp: u32::from(seq) * 160,
                ssrc: 42,
            },
            &[seq as u8; 160],
        )
    }

    fn pair(suite: SrtpSuite) -> (SrtpSession, SrtpSession) {
        let a = SdesKey::generate(1, suite);
        let b = SdesKey::generate(1, suite);
        (
            SrtpSession::new(&a, &b).unwrap(),
            SrtpSession::new(&b, &a).unwrap(),
        )
    }

    #[test]
    fn rtp_round_trips_both_suites() {
        for (suite, tag) in [
            (SrtpSuite::AesCm128HmacSha1_80, 10),
            (SrtpSuite::AesCm128HmacSha1_32, 4),
        ] {
            let (mut alice, mut bob) = pair(suite);
            for seq in [65_530u16, 65_535, 0, 1, 2] {
                let plain = rtp(seq);
                let protected = alice.protect_rtp(&plain).unwrap();
                assert_eq!(protected.len(), plain.len() + tag);
                assert_ne!(&protected[12..172], &plain[12..]);
                assert_eq!(bob.unprotect_rtp(&protected).unwrap(), plain);
            }
        }
    }

    #[test]
    fn tampering_replay_and_wrong_keys_are_rejected() {
        let (mut alice, mut bob) = pair(SrtpSuite::AesCm128HmacSha1_80);
        let protected = alice.protect_rtp(&rtp(5)).unwrap();
        let mut tampered = protected.to_vec();
        tampered[40] ^= 1;
        assert!(matches!(
            bob.unprotect_rtp(&tampered),
            Err(SrtpError::Rejected(_))
        ));
        assert!(bob.unprotect_rtp(&protected).is_ok());
        assert!(matches!(
            bob.unprotect_rtp(&protected),
            Err(SrtpError::Rejected(_))
        ));

        let (mut mallory, _) = pair(SrtpSuite::AesCm128HmacSha1_80);
        let forged = mallory.protect_rtp(&rtp(6)).unwrap();
        assert!(bob.unprotect_rtp(&forged).is_err());
    }

    #[test]
    fn rtcp_round_trips_and_refuses_unencrypted() {
        let (mut alice, mut bob) = pair(SrtpSuite::AesCm128HmacSha1_32);
        // An empty receiver report from SSRC 42.
        let rr = [0x80, 201, 0, 1, 0, 0, 0, 42];
        let protected = alice.protect_rtcp(&rr).unwrap();
        assert_eq!(protected.len(), 8 + 4 + 10);
        assert_eq!(&bob.unprotect_rtcp(&protected).unwrap()[..], &rr);

        let mut clear = protected.to_vec();
        clear[8] &= 0x7F;
        assert_eq!(bob.unprotect_rtcp(&clear), Err(SrtpError::RtcpNotEncrypted));
        for len in 0..22 {
            assert!(bob.unprotect_rtcp(&protected[..len]).is_err());
        }
    }
}
