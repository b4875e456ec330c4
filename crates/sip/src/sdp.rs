//! Session descriptions (RFC 8866) and the offer/answer rules (RFC 3264) for the phone's
//! one audio stream: G.711 µ-law and A-law, telephone-event (RFC 4733), SDES crypto
//! lines for SRTP (RFC 4568), direction attributes for hold. Parsing never panics;
//! anything the phone does not use is kept and ignored.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use crate::error::{Result, SipError};

/// An `a=` line: name and optional value.
pub type Attribute = (String, Option<String>);

/// A parsed SDP body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription {
    pub origin: Origin,
    pub name: String,
    pub connection: Option<IpAddr>,
    pub attributes: Vec<Attribute>,
    pub media: Vec<MediaDescription>,
}

/// `o=username sess-id sess-version IN IP4 address`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub username: String,
    pub session_id: String,
    pub version: u64,
    pub address: IpAddr,
}

/// One `m=` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaDescription {
    pub kind: String,
    pub port: u16,
    pub protocol: String,
    pub formats: Vec<String>,
    pub connection: Option<IpAddr>,
    pub attributes: Vec<Attribute>,
}

/// Which way media flows, from the describing side's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

impl Direction {
    fn from_attr(name: &str) -> Option<Direction> {
        match name {
            "sendrecv" => Some(Direction::SendRecv),
            "sendonly" => Some(Direction::SendOnly),
            "recvonly" => Some(Direction::RecvOnly),
            "inactive" => Some(Direction::Inactive),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// The answer's direction for an offer's, given what we want (RFC 3264 §6.1).
    pub fn answer_to(self, ours: Direction) -> Direction {
        let (they_send, they_recv) = (self.sends(), self.receives());
        match (ours.sends() && they_recv, ours.receives() && they_send) {
            (true, true) => Direction::SendRecv,
            (true, false) => Direction::SendOnly,
            (false, true) => Direction::RecvOnly,
            (false, false) => Direction::Inactive,
        }
    }

    pub fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }

    pub fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }
}

/// `a=rtpmap:<pt> <name>/<rate>[/<channels>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpMap {
    pub payload_type: u8,
    pub name: String,
    pub clock_rate: u32,
    pub channels: u8,
}

impl MediaDescription {
    pub fn attribute(&self, name: &str) -> Option<Option<&str>> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_deref())
    }

    /// The rtpmap of a payload type, or the static one RFC 3551 gives it.
    pub fn rtpmap(&self, payload_type: u8) -> Option<RtpMap> {
        for (name, value) in &self.attributes {
            if name != "rtpmap" {
                continue;
            }
            let Some(value) = value else { continue };
            let Some((pt, encoding)) = value.split_once(' ') else {
                continue;
            };
            if pt.parse::<u8>().ok() != Some(payload_type) {
                continue;
            }
            let mut parts = encoding.trim().split('/');
            let name = parts.next().unwrap_or_default().to_string();
            let Some(clock_rate) = parts.next().and_then(|r| r.parse().ok()) else {
                continue;
            };
            let channels = parts.next().and_then(|c| c.parse().ok()).unwrap_or(1);
            return Some(RtpMap {
                payload_type,
                name,
                clock_rate,
                channels,
            });
        }
        let (name, rate) = match payload_type {
            0 => ("PCMU", 8000),
            8 => ("PCMA", 8000),
            _ => return None,
        };
        Some(RtpMap {
            payload_type,
            name: name.to_string(),
            clock_rate: rate,
            channels: 1,
        })
    }

    pub fn payload_types(&self) -> impl Iterator<Item = u8> + '_ {
        self.formats.iter().filter_map(|f| f.parse::<u8>().ok())
    }

    /// The `a=crypto` lines' values.
    pub fn crypto(&self) -> impl Iterator<Item = &str> {
        self.attributes
            .iter()
            .filter(|(n, _)| n == "crypto")
            .filter_map(|(_, v)| v.as_deref())
    }

    pub fn is_secure(&self) -> bool {
        self.protocol.eq_ignore_ascii_case("RTP/SAVP")
    }
}

impl SessionDescription {
    pub fn parse(body: &[u8]) -> Result<SessionDescription> {
        let text =
            std::str::from_utf8(body).map_err(|_| SipError::malformed("SDP", "not UTF-8"))?;
        let mut lines = text
            .split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .filter(|l| !l.is_empty());
        if lines.next() != Some("v=0") {
            return Err(SipError::malformed("SDP", "does not start with v=0"));
        }
        let mut origin = None;
        let mut name = String::from("-");
        let mut connection = None;
        let mut attributes = Vec::new();
        let mut media: Vec<MediaDescription> = Vec::new();
        for (number, line) in lines.enumerate() {
            let Some((kind, value)) = line.split_once('=') else {
                return Err(SipError::malformed(
                    "SDP",
                    format!("line {} has no '=': {line:?}", number + 2),
                ));
            };
            match (kind, media.last_mut()) {
                ("o", None) => origin = Some(parse_origin(value)?),
                ("s", None) => name = value.to_string(),
                ("c", None) => connection = Some(parse_connection(value)?),
                ("c", Some(m)) => m.connection = Some(parse_connection(value)?),
                ("a", None) => attributes.push(parse_attribute(value)),
                ("a", Some(m)) => m.attributes.push(parse_attribute(value)),
                ("m", _) => media.push(parse_media(value)?),
                _ => {}
            }
        }
        let origin = origin.ok_or_else(|| SipError::malformed("SDP", "no o= line"))?;
        Ok(SessionDescription {
            origin,
            name,
            connection,
            attributes,
            media,
        })
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_string().into_bytes()
    }

    /// The first audio stream.
    pub fn audio(&self) -> Option<&MediaDescription> {
        self.media.iter().find(|m| m.kind == "audio")
    }

    fn direction_of(&self, media: &MediaDescription) -> Direction {
        media
            .attributes
            .iter()
            .chain(self.attributes.iter())
            .find_map(|(n, _)| Direction::from_attr(n))
            .unwrap_or(Direction::SendRecv)
    }
}

fn parse_origin(value: &str) -> Result<Origin> {
    let parts: Vec<&str> = value.split_whitespace().collect();
    let [username, session_id, version, "IN", _, address] = parts.as_slice() else {
        return Err(SipError::malformed("SDP", format!("bad o= line {value:?}")));
    };
    Ok(Origin {
        username: username.to_string(),
        session_id: session_id.to_string(),
        version: version
            .parse()
            .map_err(|_| SipError::malformed("SDP", format!("bad o= version {version:?}")))?,
        // Some peers put a host name here; only the version matters to us.
        address: address.parse().unwrap_or(IpAddr::from([0, 0, 0, 0])),
    })
}

fn parse_connection(value: &str) -> Result<IpAddr> {
    let parts: Vec<&str> = value.split_whitespace().collect();
    let ["IN", kind, address] = parts.as_slice() else {
        return Err(SipError::malformed("SDP", format!("bad c= line {value:?}")));
    };
    // Multicast TTL suffixes (`/127`) are not for a phone.
    let address = address.split('/').next().unwrap_or(address);
    let ip: IpAddr = address
        .parse()
        .map_err(|_| SipError::malformed("SDP", format!("bad c= address {address:?}")))?;
    if (*kind == "IP4") != ip.is_ipv4() {
        return Err(SipError::malformed(
            "SDP",
            format!("c= says {kind} but holds {ip}"),
        ));
    }
    Ok(ip)
}

fn parse_attribute(value: &str) -> Attribute {
    match value.split_once(':') {
        Some((n, v)) => (n.to_string(), Some(v.to_string())),
        None => (value.to_string(), None),
    }
}

fn parse_media(value: &str) -> Result<MediaDescription> {
    let mut parts = value.split_whitespace();
    let (Some(kind), Some(port), Some(protocol)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(SipError::malformed("SDP", format!("bad m= line {value:?}")));
    };
    // `port/count` is for layered encodings; the first port is ours.
    let port_text = port.split('/').next().unwrap_or(port);
    let port = port_text
        .parse::<u16>()
        .map_err(|_| SipError::malformed("SDP", format!("bad m= port {port:?}")))?;
    Ok(MediaDescription {
        kind: kind.to_string(),
        port,
        protocol: protocol.to_string(),
        formats: parts.map(str::to_string).collect(),
        connection: None,
        attributes: Vec::new(),
    })
}

fn addr_kind(ip: IpAddr) -> &'static str {
    if ip.is_ipv4() { "IP4" } else { "IP6" }
}

impl fmt::Display for SessionDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = &self.origin;
        write!(
            f,
            "v=0\r\no={} {} {} IN {} {}\r\n",
            o.username,
            o.session_id,
            o.version,
            addr_kind(o.address),
            o.address
        )?;
        write!(f, "s={}\r\n", self.name)?;
        if let Some(c) = self.connection {
            write!(f, "c=IN {} {c}\r\n", addr_kind(c))?;
        }
        f.write_str("t=0 0\r\n")?;
        write_attributes(f, &self.attributes)?;
        for m in &self.media {
            write!(f, "m={} {} {}", m.kind, m.port, m.protocol)?;
            for format in &m.formats {
                write!(f, " {format}")?;
            }
            f.write_str("\r\n")?;
            if let Some(c) = m.connection {
                write!(f, "c=IN {} {c}\r\n", addr_kind(c))?;
            }
            write_attributes(f, &m.attributes)?;
        }
        Ok(())
    }
}

fn write_attributes(f: &mut fmt::Formatter<'_>, attributes: &[Attribute]) -> fmt::Result {
    for (name, value) in attributes {
        match value {
            Some(v) => write!(f, "a={name}:{v}\r\n")?,
            None => write!(f, "a={name}\r\n")?,
        }
    }
    Ok(())
}

/// Whether the phone encrypts media.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SrtpPolicy {
    /// Plain RTP only.
    Off,
    /// Offer plain RTP with crypto lines; take SRTP when the peer does.
    #[default]
    Optional,
    /// RTP/SAVP only (Twilio's "secure media").
    Mandatory,
}

/// A codec the phone can run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecSpec {
    pub payload_type: u8,
    pub name: &'static str,
    pub clock_rate: u32,
}

/// G.711 µ-law then A-law: what the media engine runs.
pub fn g711_codecs() -> Vec<CodecSpec> {
    vec![
        CodecSpec {
            payload_type: 0,
            name: "PCMU",
            clock_rate: 8000,
        },
        CodecSpec {
            payload_type: 8,
            name: "PCMA",
            clock_rate: 8000,
        },
    ]
}

/// Opus (RFC 7587: always `opus/48000/2` in SDP, whatever is sent): accepted in an
/// answer when the peer offers it; the payload type is the offer's.
pub fn opus_codec() -> CodecSpec {
    CodecSpec {
        payload_type: 111,
        name: "opus",
        clock_rate: 48_000,
    }
}

impl CodecSpec {
    fn is_opus(&self) -> bool {
        self.name.eq_ignore_ascii_case("opus")
    }

    /// The `a=rtpmap` value (`0 PCMU/8000`, `111 opus/48000/2`).
    fn rtpmap(&self) -> String {
        let channels = if self.is_opus() { "/2" } else { "" };
        format!(
            "{} {}/{}{channels}",
            self.payload_type, self.name, self.clock_rate
        )
    }
}

/// One SDES crypto line's parts (RFC 4568 §9.1): `tag suite key-params`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CryptoLine {
    pub tag: u32,
    pub suite: String,
    /// `inline:<key||salt base64>[|lifetime][|MKI:len]` and any session parameters.
    pub key_params: String,
}

impl CryptoLine {
    pub fn parse(value: &str) -> Result<CryptoLine> {
        let mut parts = value.trim().splitn(3, ' ');
        let (Some(tag), Some(suite), Some(key_params)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(SipError::malformed(
                "SDP crypto",
                format!("{value:?} is not TAG SUITE KEY"),
            ));
        };
        let tag = tag
            .parse()
            .map_err(|_| SipError::malformed("SDP crypto", format!("bad tag {tag:?}")))?;
        Ok(CryptoLine {
            tag,
            suite: suite.to_string(),
            key_params: key_params.trim().to_string(),
        })
    }
}

impl fmt::Display for CryptoLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.tag, self.suite, self.key_params)
    }
}

/// What the phone brings to a negotiation.
#[derive(Debug, Clone)]
pub struct LocalMedia {
    /// The address and RTP port in our SDP (RTCP on port + 1, or muxed when agreed).
    pub addr: SocketAddr,
    /// What we offer, in our order of preference.
    pub codecs: Vec<CodecSpec>,
    /// What we also accept when the other side offers it (Opus).
    pub answer_codecs: Vec<CodecSpec>,
    /// Our telephone-event payload type for offers.
    pub dtmf_payload_type: u8,
    pub srtp: SrtpPolicy,
    /// Our SDES keys, one per suite we accept, strongest first (`key_params` only;
    /// tags are set per negotiation).
    pub keys: Vec<CryptoLine>,
    /// Our direction: `SendOnly` while we hold, else `SendRecv`.
    pub direction: Direction,
}

/// The agreed stream, from our side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// Where to send RTP.
    pub remote: SocketAddr,
    /// Where to send RTCP (`a=rtcp`, or RTP port + 1).
    pub remote_rtcp: SocketAddr,
    pub codec: CodecSpec,
    pub dtmf_payload_type: Option<u8>,
    /// SRTP: (our key line, their key line) of the same suite.
    pub crypto: Option<(CryptoLine, CryptoLine)>,
    /// The direction for us: whether we may send and should expect to receive.
    pub direction: Direction,
}

impl LocalMedia {
    /// Our offer (RFC 3264 §5).
    pub fn offer(&self, session_id: &str, version: u64) -> SessionDescription {
        let secure = self.srtp == SrtpPolicy::Mandatory;
        let mut formats: Vec<String> = self
            .codecs
            .iter()
            .map(|c| c.payload_type.to_string())
            .collect();
        formats.push(self.dtmf_payload_type.to_string());
        let mut attributes: Vec<Attribute> = Vec::new();
        for codec in &self.codecs {
            attributes.push(("rtpmap".into(), Some(codec.rtpmap())));
        }
        attributes.push((
            "rtpmap".into(),
            Some(format!("{} telephone-event/8000", self.dtmf_payload_type)),
        ));
        attributes.push((
            "fmtp".into(),
            Some(format!("{} 0-16", self.dtmf_payload_type)),
        ));
        attributes.push(("ptime".into(), Some("20".into())));
        if self.srtp != SrtpPolicy::Off {
            for (i, key) in self.keys.iter().enumerate() {
                let line = CryptoLine {
                    tag: i as u32 + 1,
                    ..key.clone()
                };
                attributes.push(("crypto".into(), Some(line.to_string())));
            }
        }
        attributes.push((self.direction.as_str().into(), None));
        self.description(session_id, version, secure, formats, attributes)
    }

    fn description(
        &self,
        session_id: &str,
        version: u64,
        secure: bool,
        formats: Vec<String>,
        attributes: Vec<Attribute>,
    ) -> SessionDescription {
        SessionDescription {
            origin: Origin {
                username: "cuecard".into(),
                session_id: session_id.to_string(),
                version,
                address: self.addr.ip(),
            },
            name: "Cuecard call".into(),
            connection: Some(self.addr.ip()),
            attributes: Vec::new(),
            media: vec![MediaDescription {
                kind: "audio".into(),
                port: self.addr.port(),
                protocol: if secure { "RTP/SAVP" } else { "RTP/AVP" }.into(),
                formats,
                connection: None,
                attributes,
            }],
        }
    }

    /// Our answer to an offer and what it agrees. An error means 488 Not Acceptable Here.
    pub fn answer(
        &self,
        offer: &SessionDescription,
        session_id: &str,
        version: u64,
    ) -> Result<(SessionDescription, Negotiated)> {
        let audio = offer
            .audio()
            .ok_or_else(|| refuse("the offer has no audio stream"))?;
        if audio.port == 0 {
            return Err(refuse("the offer's audio stream is disabled (port 0)"));
        }
        let codec = audio
            .payload_types()
            .find_map(|pt| {
                let map = audio.rtpmap(pt)?;
                self.codecs
                    .iter()
                    .chain(&self.answer_codecs)
                    .find(|c| {
                        c.name.eq_ignore_ascii_case(&map.name)
                            && c.clock_rate == map.clock_rate
                            && (map.channels == 1 || (c.is_opus() && map.channels == 2))
                    })
                    .map(|c| CodecSpec {
                        payload_type: pt,
                        ..c.clone()
                    })
            })
            .ok_or_else(|| refuse("no common codec (PCMU, PCMA and Opus are supported)"))?;
        let dtmf = telephone_event(audio, codec.clock_rate);
        let crypto = self.pick_crypto(audio)?;
        let their_direction = offer.direction_of(audio);
        let direction = their_direction.answer_to(self.direction);
        let mut formats = vec![codec.payload_type.to_string()];
        let mut attributes: Vec<Attribute> = vec![("rtpmap".into(), Some(codec.rtpmap()))];
        if codec.is_opus() {
            // Mono, with in-band FEC (RFC 7587 §6.1).
            attributes.push((
                "fmtp".into(),
                Some(format!("{} stereo=0;useinbandfec=1", codec.payload_type)),
            ));
        }
        if let Some(pt) = dtmf {
            formats.push(pt.to_string());
            attributes.push((
                "rtpmap".into(),
                Some(format!("{pt} telephone-event/{}", codec.clock_rate)),
            ));
            attributes.push(("fmtp".into(), Some(format!("{pt} 0-16"))));
        }
        attributes.push(("ptime".into(), Some("20".into())));
        if let Some((ours, _)) = &crypto {
            attributes.push(("crypto".into(), Some(ours.to_string())));
        }
        attributes.push((direction.as_str().into(), None));
        let answer = self.description(session_id, version, audio.is_secure(), formats, attributes);
        let negotiated = Negotiated {
            remote: remote_addr(offer, audio)?,
            remote_rtcp: remote_rtcp(offer, audio)?,
            codec,
            dtmf_payload_type: dtmf,
            crypto,
            direction,
        };
        Ok((answer, negotiated))
    }

    /// Reads the answer to our offer.
    pub fn read_answer(&self, answer: &SessionDescription) -> Result<Negotiated> {
        let audio = answer
            .audio()
            .ok_or_else(|| refuse("the answer has no audio stream"))?;
        if audio.port == 0 {
            return Err(refuse("the answer refused the audio stream (port 0)"));
        }
        let pt = audio
            .payload_types()
            .next()
            .ok_or_else(|| refuse("the answer lists no format"))?;
        let map = audio
            .rtpmap(pt)
            .ok_or_else(|| refuse(&format!("the answer's payload type {pt} has no rtpmap")))?;
        let codec = self
            .codecs
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(&map.name) && c.clock_rate == map.clock_rate)
            .map(|c| CodecSpec {
                payload_type: pt,
                ..c.clone()
            })
            .ok_or_else(|| {
                refuse(&format!(
                    "the answer chose {}/{}, which was not offered",
                    map.name, map.clock_rate
                ))
            })?;
        let crypto = if self.srtp == SrtpPolicy::Off {
            None
        } else {
            match audio.crypto().next() {
                Some(theirs) => {
                    let theirs = CryptoLine::parse(theirs)?;
                    let ours = self
                        .keys
                        .iter()
                        .enumerate()
                        .find(|(_, k)| k.suite == theirs.suite)
                        .map(|(i, k)| CryptoLine {
                            tag: i as u32 + 1,
                            ..k.clone()
                        })
                        .ok_or_else(|| {
                            refuse(&format!(
                                "the answer's crypto suite {} was not offered",
                                theirs.suite
                            ))
                        })?;
                    if ours.tag != theirs.tag {
                        return Err(refuse(&format!(
                            "the answer's crypto tag {} does not match our {}",
                            theirs.tag, ours.tag
                        )));
                    }
                    Some((ours, theirs))
                }
                None if self.srtp == SrtpPolicy::Mandatory => {
                    return Err(refuse("the answer has no crypto line"));
                }
                None => None,
            }
        };
        Ok(Negotiated {
            remote: remote_addr(answer, audio)?,
            remote_rtcp: remote_rtcp(answer, audio)?,
            dtmf_payload_type: telephone_event(audio, codec.clock_rate),
            codec,
            crypto,
            direction: answer.direction_of(audio).answer_to(self.direction),
        })
    }

    fn pick_crypto(&self, audio: &MediaDescription) -> Result<Option<(CryptoLine, CryptoLine)>> {
        if audio.is_secure() && self.srtp == SrtpPolicy::Off {
            return Err(refuse("the offer asks for SRTP, which is turned off"));
        }
        if !audio.is_secure() && self.srtp == SrtpPolicy::Mandatory {
            return Err(refuse("the offer is plain RTP and SRTP is required"));
        }
        if self.srtp == SrtpPolicy::Off {
            return Ok(None);
        }
        for line in audio.crypto() {
            let Ok(theirs) = CryptoLine::parse(line) else {
                continue;
            };
            if let Some(key) = self.keys.iter().find(|k| k.suite == theirs.suite) {
                let ours = CryptoLine {
                    tag: theirs.tag,
                    ..key.clone()
                };
                return Ok(Some((ours, theirs)));
            }
        }
        if audio.is_secure() {
            return Err(refuse(
                "no crypto suite in common (AES_CM_128_HMAC_SHA1_80 and _32 are supported)",
            ));
        }
        Ok(None)
    }
}

/// The offer's telephone-event on the audio codec's clock (RFC 4733 §2.1), if any.
fn telephone_event(audio: &MediaDescription, clock_rate: u32) -> Option<u8> {
    audio.payload_types().find(|pt| {
        audio.rtpmap(*pt).is_some_and(|m| {
            m.name.eq_ignore_ascii_case("telephone-event") && m.clock_rate == clock_rate
        })
    })
}

fn remote_addr(sdp: &SessionDescription, audio: &MediaDescription) -> Result<SocketAddr> {
    let ip = audio
        .connection
        .or(sdp.connection)
        .ok_or_else(|| refuse("no c= address for audio"))?;
    Ok(SocketAddr::new(ip, audio.port))
}

fn remote_rtcp(sdp: &SessionDescription, audio: &MediaDescription) -> Result<SocketAddr> {
    let rtp = remote_addr(sdp, audio)?;
    if audio.attribute("rtcp-mux").is_some() {
        return Ok(rtp);
    }
    // `a=rtcp:port [IN IP4 address]` (RFC 3605).
    if let Some(Some(value)) = audio.attribute("rtcp") {
        let mut parts = value.split_whitespace();
        if let Some(port) = parts.next().and_then(|p| p.parse::<u16>().ok()) {
            let ip = parts
                .nth(2)
                .and_then(|a| a.parse().ok())
                .unwrap_or(rtp.ip());
            return Ok(SocketAddr::new(ip, port));
        }
    }
    Ok(SocketAddr::new(rtp.ip(), rtp.port().wrapping_add(1)))
}

fn refuse(reason: &str) -> SipError {
    SipError::malformed("SDP offer/answer", reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BARESIP_OFFER: &str = "v=0\r\no=- 1234 5678 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
        m=audio 10000 RTP/SAVP 96 8 0 101\r\na=rtpmap:96 opus/48000/2\r\na=rtpmap:101 telephone-event/8000\r\n\
        a=fmtp:101 0-15\r\na=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:AAAA\r\na=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:BBBB\r\n\
        a=sendrecv\r\na=rtcp:10001\r\n";

    fn local(srtp: SrtpPolicy) -> LocalMedia {
        LocalMedia {
            addr: "127.0.0.1:20000".parse().unwrap(),
            codecs: g711_codecs(),
            answer_codecs: Vec::new(),
            dtmf_payload_type: 101,
            srtp,
            keys: vec![
                CryptoLine {
                    tag: 0,
                    suite: "AES_CM_128_HMAC_SHA1_80".into(),
                    key_params: "inline:OURS80".into(),
                },
                CryptoLine {
                    tag: 0,
                    suite: "AES_CM_128_HMAC_SHA1_32".into(),
                    key_params: "inline:OURS32".into(),
                },
            ],
            direction: Direction::SendRecv,
        }
    }

    #[test]
    fn an_offer_is_answered_with_the_offerers_first_common_codec() {
        let offer = SessionDescription::parse(BARESIP_OFFER.as_bytes()).unwrap();
        let (answer, agreed) = local(SrtpPolicy::Mandatory).answer(&offer, "1", 1).unwrap();
        assert_eq!(
            agreed.codec.name, "PCMA",
            "opus is skipped, PCMA comes before PCMU in the offer"
        );
        assert_eq!(agreed.dtmf_payload_type, Some(101));
        assert_eq!(agreed.remote, "127.0.0.1:10000".parse().unwrap());
        assert_eq!(agreed.remote_rtcp, "127.0.0.1:10001".parse().unwrap());
        let (ours, theirs) = agreed.crypto.unwrap();
        assert_eq!(
            (
                theirs.tag,
                theirs.suite.as_str(),
                theirs.key_params.as_str()
            ),
            (1, "AES_CM_128_HMAC_SHA1_32", "inline:AAAA")
        );
        assert_eq!(
            (ours.tag, ours.key_params.as_str()),
            (1, "inline:OURS32"),
            "same tag and suite as theirs"
        );
        let text = answer.to_string();
        assert!(text.contains("m=audio 20000 RTP/SAVP 8 101\r\n"), "{text}");
        assert!(
            text.contains("a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:OURS32\r\n"),
            "{text}"
        );
        assert_eq!(SessionDescription::parse(text.as_bytes()).unwrap(), answer);
    }

    #[test]
    fn an_offered_opus_is_taken_with_its_48_khz_telephone_event() {
        let mut me = local(SrtpPolicy::Optional);
        me.answer_codecs = vec![opus_codec()];
        // Opus first, telephone-event on both clocks.
        let offer = BARESIP_OFFER
            .replace("96 8 0 101", "96 8 0 101 102")
            .replace(
                "a=fmtp:101 0-15\r\n",
                "a=fmtp:101 0-15\r\na=rtpmap:102 telephone-event/48000\r\n",
            );
        let offer = SessionDescription::parse(offer.as_bytes()).unwrap();
        let (answer, agreed) = me.answer(&offer, "1", 1).unwrap();
        assert_eq!(
            (
                agreed.codec.name,
                agreed.codec.payload_type,
                agreed.codec.clock_rate
            ),
            ("opus", 96, 48_000)
        );
        assert_eq!(agreed.dtmf_payload_type, Some(102), "the 48 kHz event");
        let text = answer.to_string();
        assert!(text.contains("RTP/SAVP 96 102\r\n"), "{text}");
        assert!(text.contains("a=rtpmap:96 opus/48000/2\r\n"), "{text}");
        assert!(
            text.contains("a=fmtp:96 stereo=0;useinbandfec=1\r\n"),
            "{text}"
        );
        assert!(
            text.contains("a=rtpmap:102 telephone-event/48000\r\n"),
            "{text}"
        );

        // Only an 8 kHz telephone-event: Opus still, DTMF goes by SIP INFO.
        let offer = SessionDescription::parse(BARESIP_OFFER.as_bytes()).unwrap();
        let (_, agreed) = me.answer(&offer, "1", 1).unwrap();
        assert_eq!(
            (agreed.codec.name, agreed.dtmf_payload_type),
            ("opus", None)
        );
        // We never offer it ourselves.
        assert!(!me.offer("1", 1).to_string().contains("opus"));
    }

    #[test]
    fn our_offer_and_its_answer_agree() {
        let me = local(SrtpPolicy::Optional);
        let offer = me.offer("42", 1);
        let text = offer.to_string();
        assert!(text.contains("m=audio 20000 RTP/AVP 0 8 101\r\n"), "{text}");
        assert!(
            text.contains("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:OURS80"),
            "{text}"
        );
        let mut peer = local(SrtpPolicy::Optional);
        peer.addr = "127.0.0.1:30000".parse().unwrap();
        peer.keys[0].key_params = "inline:PEER80".into();
        let (answer, peer_view) = peer
            .answer(&SessionDescription::parse(text.as_bytes()).unwrap(), "7", 1)
            .unwrap();
        let my_view = me.read_answer(&answer).unwrap();
        assert_eq!(my_view.codec.name, "PCMU");
        assert_eq!(peer_view.remote, "127.0.0.1:20000".parse().unwrap());
        assert_eq!(my_view.remote, "127.0.0.1:30000".parse().unwrap());
        let (mine, theirs) = my_view.crypto.unwrap();
        assert_eq!(
            (mine.key_params.as_str(), theirs.key_params.as_str()),
            ("inline:OURS80", "inline:PEER80")
        );
    }

    #[test]
    fn hold_directions_follow_rfc_3264() {
        let offer =
            SessionDescription::parse(BARESIP_OFFER.replace("sendrecv", "sendonly").as_bytes())
                .unwrap();
        let (_, agreed) = local(SrtpPolicy::Mandatory).answer(&offer, "1", 2).unwrap();
        assert_eq!(agreed.direction, Direction::RecvOnly);
        let mut holding = local(SrtpPolicy::Optional);
        holding.direction = Direction::SendOnly;
        assert!(holding.offer("1", 2).to_string().contains("a=sendonly"));
        assert_eq!(
            Direction::Inactive.answer_to(Direction::SendRecv),
            Direction::Inactive
        );
        assert_eq!(
            Direction::RecvOnly.answer_to(Direction::SendRecv),
            Direction::SendOnly
        );
    }

    #[test]
    fn offers_we_cannot_take_are_refused_with_the_reason() {
        let plain = BARESIP_OFFER.replace("RTP/SAVP", "RTP/AVP");
        let cases = [
            (BARESIP_OFFER.to_string(), SrtpPolicy::Off, "turned off"),
            (plain.clone(), SrtpPolicy::Mandatory, "SRTP is required"),
            (
                BARESIP_OFFER.replace("96 8 0 101", "96 101"),
                SrtpPolicy::Mandatory,
                "no common codec",
            ),
            (
                BARESIP_OFFER.replace("m=audio 10000", "m=audio 0"),
                SrtpPolicy::Mandatory,
                "port 0",
            ),
            (
                BARESIP_OFFER.replace("AES_CM_128_HMAC_SHA1_", "F8_128_HMAC_SHA1_"),
                SrtpPolicy::Mandatory,
                "no crypto suite",
            ),
            (
                BARESIP_OFFER.replace("m=audio", "m=video"),
                SrtpPolicy::Mandatory,
                "no audio",
            ),
        ];
        for (text, policy, says) in cases {
            let offer = SessionDescription::parse(text.as_bytes()).unwrap();
            let err = local(policy)
                .answer(&offer, "1", 1)
                .unwrap_err()
                .to_string();
            assert!(err.contains(says), "{says}: {err}");
        }
        let (_, agreed) = local(SrtpPolicy::Optional)
            .answer(
                &SessionDescription::parse(plain.as_bytes()).unwrap(),
                "1",
                1,
            )
            .unwrap();
        assert!(
            agreed.crypto.is_some(),
            "optional SRTP takes crypto offered over RTP/AVP"
        );
    }

    #[test]
    fn broken_sdp_is_a_named_error() {
        for (text, says) in [
            ("o=x", "v=0"),
            ("v=0\r\ns=x\r\n", "no o="),
            (
                "v=0\r\no=- 1 2 IN IP4 1.2.3.4\r\nc=IN IP4 999.1.1.1\r\n",
                "c= address",
            ),
            (
                "v=0\r\no=- 1 2 IN IP4 1.2.3.4\r\nc=IN IP6 1.2.3.4\r\n",
                "IP6",
            ),
            ("v=0\r\no=- 1 x IN IP4 1.2.3.4\r\n", "version"),
            (
                "v=0\r\no=- 1 2 IN IP4 1.2.3.4\r\nm=audio x RTP/AVP 0\r\n",
                "m= port",
            ),
            ("v=0\r\no=- 1 2 IN IP4 1.2.3.4\r\nnonsense\r\n", "no '='"),
        ] {
            let err = SessionDescription::parse(text.as_bytes())
                .unwrap_err()
                .to_string();
            assert!(err.contains(says), "{text:?}: {err}");
        }
    }
}
