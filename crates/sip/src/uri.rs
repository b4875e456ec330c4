//! SIP and tel URIs (RFC 3261 §19.1, RFC 3966): parse, compare the parts the phone needs,
//! write back. Unknown parameters and URI headers are kept as written.

use std::fmt;
use std::net::SocketAddr;

use crate::error::{Result, SipError};

/// The URI schemes the phone understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Sip,
    Sips,
    Tel,
}

/// `;name=value` parameters, in order. Names compare without case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(pub Vec<(String, Option<String>)>);

impl Params {
    pub fn get(&self, name: &str) -> Option<Option<&str>> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref())
    }

    /// The value of `name=value`; `None` when absent or valueless.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.get(name).flatten()
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn set(&mut self, name: &str, value: Option<&str>) {
        let value = value.map(str::to_string);
        match self
            .0
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some(slot) => slot.1 = value,
            None => self.0.push((name.to_string(), value)),
        }
    }

    pub fn remove(&mut self, name: &str) {
        self.0.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    /// Parses `;a=1;b;c=2` (the text after the thing the parameters belong to).
    pub fn parse(text: &str, what: &'static str) -> Result<Params> {
        let mut params = Vec::new();
        for part in split_params(text) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let (name, value) = match part.split_once('=') {
                Some((n, v)) => (n.trim(), Some(v.trim().to_string())),
                None => (part, None),
            };
            if name.is_empty() || !name.bytes().all(is_token_byte) {
                return Err(SipError::malformed(
                    what,
                    format!("bad parameter name {name:?}"),
                ));
            }
            params.push((name.to_string(), value));
        }
        Ok(Params(params))
    }
}

impl fmt::Display for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, value) in &self.0 {
            match value {
                Some(v) => write!(f, ";{name}={v}")?,
                None => write!(f, ";{name}")?,
            }
        }
        Ok(())
    }
}

/// Splits at `;` outside quoted strings (header parameters may quote).
fn split_params(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut quoted, mut start) = (false, 0);
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ';' if !quoted => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&text[start..]);
    out
}

/// RFC 3261 `token` characters.
pub(crate) fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

/// A `sip:`, `sips:` or `tel:` URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uri {
    pub scheme: Scheme,
    /// The user part as written (escapes kept); for `tel:` the number.
    pub user: Option<String>,
    /// Host name, IPv4 address, or `[IPv6]` with its brackets; empty for `tel:`.
    pub host: String,
    pub port: Option<u16>,
    pub params: Params,
    /// The `?h=v&…` part, as written, without the `?`.
    pub headers: Option<String>,
}

impl Uri {
    pub fn sip(user: Option<&str>, host: &str, port: Option<u16>) -> Uri {
        Uri {
            scheme: Scheme::Sip,
            user: user.map(str::to_string),
            host: host.to_string(),
            port,
            params: Params::default(),
            headers: None,
        }
    }

    /// A URI for a socket address (`sip:[user@]ip:port`).
    pub fn for_addr(user: Option<&str>, addr: SocketAddr) -> Uri {
        let host = match addr {
            SocketAddr::V4(a) => a.ip().to_string(),
            SocketAddr::V6(a) => format!("[{}]", a.ip()),
        };
        Uri::sip(user, &host, Some(addr.port()))
    }

    pub fn parse(text: &str) -> Result<Uri> {
        let text = text.trim();
        let (scheme, rest) = text
            .split_once(':')
            .ok_or_else(|| SipError::malformed("URI", format!("no scheme in {text:?}")))?;
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "sip" => Scheme::Sip,
            "sips" => Scheme::Sips,
            "tel" => Scheme::Tel,
            other => {
                return Err(SipError::malformed(
                    "URI",
                    format!("unsupported scheme {other:?}"),
                ));
            }
        };
        let (rest, headers) = match rest.split_once('?') {
            Some((r, h)) => (r, Some(h.to_string())),
            None => (rest, None),
        };
        let forbidden = |b: u8| {
            b.is_ascii_whitespace() || b.is_ascii_control() || b == b'<' || b == b'>' || b == b'"'
        };
        if headers.as_deref().is_some_and(|h| h.bytes().any(forbidden)) {
            return Err(SipError::malformed(
                "URI",
                format!("forbidden character in the headers of {text:?}"),
            ));
        }
        if rest.bytes().any(|b| {
            b.is_ascii_whitespace() || b.is_ascii_control() || b == b'<' || b == b'>' || b == b'"'
        }) {
            return Err(SipError::malformed(
                "URI",
                format!("forbidden character in {text:?}"),
            ));
        }
        if scheme == Scheme::Tel {
            let (number, params) = match rest.split_once(';') {
                Some((n, p)) => (n, Params::parse(p, "tel URI")?),
                None => (rest, Params::default()),
            };
            if number.is_empty() {
                return Err(SipError::malformed("URI", "tel: URI without a number"));
            }
            return Ok(Uri {
                scheme,
                user: Some(number.to_string()),
                host: String::new(),
                port: None,
                params,
                headers,
            });
        }
        let (user, hostpart) = match rest.split_once('@') {
            Some((u, h)) => {
                // A password (`user:pass@`) is deprecated; it is dropped, never kept.
                let user = u.split(':').next().unwrap_or(u);
                if user.is_empty() {
                    return Err(SipError::malformed(
                        "URI",
                        format!("empty user in {text:?}"),
                    ));
                }
                (Some(user.to_string()), h)
            }
            None => (None, rest),
        };
        let (hostport, params) = match hostpart.split_once(';') {
            Some((hp, p)) => (hp, Params::parse(p, "URI")?),
            None => (hostpart, Params::default()),
        };
        let (host, port) = split_host_port(hostport, "URI")?;
        Ok(Uri {
            scheme,
            user,
            host,
            port,
            params,
            headers,
        })
    }

    /// `sip:user@host:port` without parameters: what To/From compare on.
    pub fn address_of_record(&self) -> String {
        let mut aor = self.clone();
        aor.params = Params::default();
        aor.headers = None;
        aor.to_string()
    }

    /// The `transport` parameter, lower case.
    pub fn transport(&self) -> Option<String> {
        self.params
            .value("transport")
            .map(|t| t.to_ascii_lowercase())
    }
}

/// `host[:port]` with IPv6 in brackets.
pub(crate) fn split_host_port(text: &str, what: &'static str) -> Result<(String, Option<u16>)> {
    let text = text.trim();
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (v6, after) = rest.split_once(']').ok_or_else(|| {
            SipError::malformed(what, format!("unclosed IPv6 address in {text:?}"))
        })?;
        if v6.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(SipError::malformed(
                what,
                format!("bad IPv6 address {v6:?}"),
            ));
        }
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or_else(|| {
                SipError::malformed(what, format!("junk after IPv6 address in {text:?}"))
            })?),
        };
        (format!("[{v6}]"), port)
    } else {
        match text.split_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (text.to_string(), None),
        }
    };
    if host.is_empty()
        || (!host.starts_with('[')
            && !host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_'))
    {
        return Err(SipError::malformed(what, format!("bad host {host:?}")));
    }
    let port = match port {
        Some(p) => Some(
            p.parse::<u16>()
                .map_err(|_| SipError::malformed(what, format!("bad port {p:?}")))?,
        ),
        None => None,
    };
    Ok((host, port))
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.scheme {
            Scheme::Sip => f.write_str("sip:")?,
            Scheme::Sips => f.write_str("sips:")?,
            Scheme::Tel => f.write_str("tel:")?,
        }
        if self.scheme == Scheme::Tel {
            f.write_str(self.user.as_deref().unwrap_or(""))?;
        } else {
            if let Some(user) = &self.user {
                write!(f, "{user}@")?;
            }
            f.write_str(&self.host)?;
            if let Some(port) = self.port {
                write!(f, ":{port}")?;
            }
        }
        write!(f, "{}", self.params)?;
        if let Some(h) = &self.headers {
            write!(f, "?{h}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_uris_round_trip() {
        for text in [
            "sip:alice@atlanta.com",
            "sip:alice@192.0.2.4:5070;transport=tcp;lr",
            "sips:+15551234567@acme.sip.twilio.com",
            "sip:[2001:db8::1]:5060",
            "sip:bob@biloxi.com?Replaces=abc%40x",
            "tel:+15551234567;phone-context=example.com",
        ] {
            let uri = Uri::parse(text).unwrap();
            assert_eq!(uri.to_string(), text);
        }
        let uri = Uri::parse("SIP:alice:secret@Atlanta.com:5061;Transport=TLS").unwrap();
        assert_eq!(uri.user.as_deref(), Some("alice"));
        assert_eq!(uri.port, Some(5061));
        assert_eq!(uri.transport().as_deref(), Some("tls"));
        assert!(!uri.to_string().contains("secret"), "passwords are dropped");
    }

    #[test]
    fn bad_uris_say_what_is_wrong() {
        for (text, says) in [
            ("alice@atlanta.com", "no scheme"),
            ("http://x", "unsupported scheme"),
            ("sip:@host", "empty user"),
            ("sip:alice@host:99999", "bad port"),
            ("sip:alice@[::1", "unclosed"),
            ("sip:alice@ho st", "forbidden"),
            ("sip:alice@", "bad host"),
            ("sip:a@h;=x", "parameter"),
            ("sip:bob@x?x=y>z", "forbidden character in the headers"),
        ] {
            let err = Uri::parse(text).unwrap_err().to_string();
            assert!(err.contains(says), "{text}: {err}");
        }
    }
}
