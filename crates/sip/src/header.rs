//! Typed views of the headers the phone reads and writes: Via, From/To/Contact/Route
//! (name-addr), and CSeq. Each parses from and prints to the header's value text.

use std::fmt;

use crate::error::{Result, SipError};
use crate::message::Method;
use crate::uri::{Params, Uri, split_host_port};

/// The magic cookie that starts every RFC 3261 branch.
pub const BRANCH_COOKIE: &str = "z9hG4bK";

/// One Via entry: `SIP/2.0/UDP host:port;branch=…;rport`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    /// `UDP`, `TCP`, `TLS`, … (upper case).
    pub transport: String,
    pub host: String,
    pub port: Option<u16>,
    pub params: Params,
}

impl Via {
    pub fn parse(text: &str) -> Result<Via> {
        let text = text.trim();
        let (protocol, rest) = text
            .split_once(|c: char| c.is_ascii_whitespace())
            .ok_or_else(|| SipError::malformed("Via", format!("no sent-by in {text:?}")))?;
        let mut proto = protocol.split('/').map(str::trim);
        let (Some(name), Some(version), Some(transport), None) =
            (proto.next(), proto.next(), proto.next(), proto.next())
        else {
            return Err(SipError::malformed(
                "Via",
                format!("bad protocol {protocol:?}"),
            ));
        };
        if !name.eq_ignore_ascii_case("SIP") || version != "2.0" || transport.is_empty() {
            return Err(SipError::malformed(
                "Via",
                format!("bad protocol {protocol:?}"),
            ));
        }
        let rest = rest.trim();
        let (sent_by, params) = match rest.split_once(';') {
            Some((s, p)) => (s, Params::parse(p, "Via")?),
            None => (rest, Params::default()),
        };
        let (host, port) = split_host_port(sent_by, "Via")?;
        Ok(Via {
            transport: transport.to_ascii_uppercase(),
            host,
            port,
            params,
        })
    }

    pub fn branch(&self) -> Option<&str> {
        self.params.value("branch")
    }

    /// Where the proxy saw this request come from (`received` and `rport`, RFC 3581).
    pub fn seen_from(&self) -> Option<(String, Option<u16>)> {
        let host = self.params.value("received")?.to_string();
        let port = self.params.value("rport").and_then(|p| p.parse().ok());
        Some((host, port))
    }
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SIP/2.0/{} {}", self.transport, self.host)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        write!(f, "{}", self.params)
    }
}

/// `"Display" <uri>;params`, `<uri>;params` or a bare `uri;params` (where, per RFC 3261
/// §20, the parameters belong to the header, not the URI).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr {
    pub display: Option<String>,
    pub uri: Uri,
    pub params: Params,
}

impl NameAddr {
    pub fn new(uri: Uri) -> NameAddr {
        NameAddr {
            display: None,
            uri,
            params: Params::default(),
        }
    }

    pub fn parse(text: &str) -> Result<NameAddr> {
        let text = text.trim();
        let (display, rest) = if let Some(quoted) = text.strip_prefix('"') {
            let end = closing_quote(quoted).ok_or_else(|| {
                SipError::malformed("address", format!("unclosed quote in {text:?}"))
            })?;
            let display = unescape(&quoted[..end]);
            (Some(display), quoted[end + 1..].trim_start())
        } else if let Some(lt) = text.find('<') {
            let name = text[..lt].trim();
            ((!name.is_empty()).then(|| name.to_string()), &text[lt..])
        } else {
            (None, text)
        };
        if let Some(inner) = rest.strip_prefix('<') {
            let (uri, after) = inner.split_once('>').ok_or_else(|| {
                SipError::malformed("address", format!("unclosed <> in {text:?}"))
            })?;
            let params = match after.trim().strip_prefix(';') {
                Some(p) => Params::parse(p, "address")?,
                None if after.trim().is_empty() => Params::default(),
                None => {
                    return Err(SipError::malformed(
                        "address",
                        format!("junk after > in {text:?}"),
                    ));
                }
            };
            return Ok(NameAddr {
                display,
                uri: Uri::parse(uri)?,
                params,
            });
        }
        if display.is_some() {
            return Err(SipError::malformed(
                "address",
                format!("a display name needs <uri> in {text:?}"),
            ));
        }
        let (uri, params) = match rest.split_once(';') {
            Some((u, p)) => (u, Params::parse(p, "address")?),
            None => (rest, Params::default()),
        };
        Ok(NameAddr {
            display: None,
            uri: Uri::parse(uri)?,
            params,
        })
    }

    pub fn tag(&self) -> Option<&str> {
        self.params.value("tag")
    }

    pub fn with_tag(mut self, tag: &str) -> NameAddr {
        self.params.set("tag", Some(tag));
        self
    }
}

impl fmt::Display for NameAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(display) = &self.display {
            write!(
                f,
                "\"{}\" ",
                display.replace('\\', "\\\\").replace('"', "\\\"")
            )?;
        }
        write!(f, "<{}>{}", self.uri, self.params)
    }
}

fn closing_quote(text: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return Some(i),
            _ => {}
        }
    }
    None
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut escaped = false;
    for c in text.chars() {
        if escaped || c != '\\' {
            out.push(c);
            escaped = false;
        } else {
            escaped = true;
        }
    }
    out
}

/// `CSeq: 314159 INVITE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CSeq {
    pub seq: u32,
    pub method: Method,
}

impl CSeq {
    pub fn parse(text: &str) -> Result<CSeq> {
        let mut parts = text.split_whitespace();
        let (Some(seq), Some(method), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(SipError::malformed(
                "CSeq",
                format!("{text:?} is not NUMBER METHOD"),
            ));
        };
        // RFC 3261 §8.1.1.5: less than 2**31.
        let seq = seq
            .parse::<u32>()
            .ok()
            .filter(|s| *s < 1 << 31)
            .ok_or_else(|| SipError::malformed("CSeq", format!("bad number {seq:?}")))?;
        Ok(CSeq {
            seq,
            method: Method::from_token(method),
        })
    }
}

impl fmt::Display for CSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.seq, self.method)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn via_reads_branch_and_rport() {
        let via = Via::parse(
            "SIP/2.0/udp 10.0.0.2:5060;branch=z9hG4bKabc;rport=40000;received=198.51.100.7",
        )
        .unwrap();
        assert_eq!(via.transport, "UDP");
        assert_eq!(via.branch(), Some("z9hG4bKabc"));
        assert_eq!(
            via.seen_from(),
            Some(("198.51.100.7".to_string(), Some(40000)))
        );
        assert_eq!(Via::parse(&via.to_string()).unwrap(), via);
        for bad in [
            "SIP/2.0/UDP",
            "SIP/3.0/UDP a",
            "HTTP/2.0/UDP a",
            "SIP/2.0 a",
            "SIP/2.0/UDP a:b",
        ] {
            assert!(Via::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn addresses_in_all_three_forms() {
        let a =
            NameAddr::parse(r#""Doe, \"JD\" John" <sip:jd@x.com;transport=tcp>;tag=88"#).unwrap();
        assert_eq!(a.display.as_deref(), Some(r#"Doe, "JD" John"#));
        assert_eq!(a.uri.transport().as_deref(), Some("tcp"));
        assert_eq!(a.tag(), Some("88"));
        assert_eq!(NameAddr::parse(&a.to_string()).unwrap(), a);

        let b = NameAddr::parse("Bob <sip:bob@biloxi.com>").unwrap();
        assert_eq!(b.display.as_deref(), Some("Bob"));
        let c = NameAddr::parse("sip:carol@chicago.com;tag=5").unwrap();
        assert_eq!(c.tag(), Some("5"), "bare form: params belong to the header");
        assert!(c.uri.params.0.is_empty());
        for bad in [
            "\"open <sip:a@b>",
            "<sip:a@b",
            "<sip:a@b> junk",
            "\"x\" sip:a@b",
        ] {
            assert!(NameAddr::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cseq_numbers_stay_below_two_to_the_31() {
        assert_eq!(CSeq::parse("2147483647 BYE").unwrap().seq, 2_147_483_647);
        assert!(CSeq::parse("2147483648 BYE").is_err());
        assert!(CSeq::parse("1").is_err());
        assert!(CSeq::parse("x INVITE").is_err());
    }
}
