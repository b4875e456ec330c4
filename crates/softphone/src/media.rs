//! From what SIP agreed to a running media stream: the negotiated codec, addresses,
//! DTMF payload type and SDES keys become a [`MediaConfig`]; later re-negotiations
//! (hold, resume, a moved peer) adjust the running stream.

use cuecard_media::{Codec, MediaConfig, MediaIo, MediaStream, SdesKey};
use cuecard_sip::phone::MediaSockets;
use cuecard_sip::sdp::Negotiated;

use crate::{Result, SoftphoneError};

/// Starts a call's media on the phone's sockets.
pub fn start(sockets: MediaSockets, agreed: &Negotiated) -> Result<(MediaStream, MediaIo)> {
    let codec =
        Codec::from_name(agreed.codec.name, agreed.codec.payload_type).ok_or_else(|| {
            SoftphoneError::Media(format!(
                "the phone agreed {}, which the media engine cannot run",
                agreed.codec.name
            ))
        })?;
    let mut config = MediaConfig::new(sockets.rtp, agreed.remote, codec);
    config.rtcp_socket = Some(sockets.rtcp);
    config.remote_rtcp = Some(agreed.remote_rtcp);
    config.dtmf_payload_type = agreed.dtmf_payload_type;
    if let Some((ours, theirs)) = &agreed.crypto {
        let key = |line: &cuecard_sip::sdp::CryptoLine| {
            SdesKey::parse(&line.to_string())
                .map_err(|e| SoftphoneError::Media(format!("SDES key {}: {e}", line.suite)))
        };
        config.srtp = Some((key(ours)?, key(theirs)?));
    }
    let (stream, io) =
        MediaStream::start(config).map_err(|e| SoftphoneError::Media(e.to_string()))?;
    apply(&stream, agreed)?;
    Ok((stream, io))
}

/// Applies a re-negotiation to a running stream: where to send, and whether to.
pub fn apply(stream: &MediaStream, agreed: &Negotiated) -> Result<()> {
    let media = |e: cuecard_media::MediaError| SoftphoneError::Media(e.to_string());
    stream.set_remote(agreed.remote).map_err(media)?;
    stream
        .set_remote_rtcp(Some(agreed.remote_rtcp))
        .map_err(media)?;
    stream
        .set_sending(agreed.direction.sends())
        .map_err(media)?;
    Ok(())
}
