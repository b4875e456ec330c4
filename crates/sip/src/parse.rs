//! The SIP message parser: raw bytes from the network to a [`Message`]. It is strict where
//! a wrong guess would be dangerous (start line, Content-Length, sizes) and lenient where
//! RFC 3261 asks it to be (leading blank lines, folded headers, compact names, bare LF).
//! It never panics on any input; `fuzz/` holds the harness that checks this.

use crate::error::{Result, SipError};
use crate::message::{Header, Headers, Message, Method, Request, Response, canonical_name};
use crate::uri::{Uri, is_token_byte};

/// The largest message the phone accepts on any transport. UDP datagrams are smaller,
/// but a TCP stream could otherwise make it buffer without end.
pub const MAX_MESSAGE: usize = 65_535;
/// The most header lines in one message.
pub const MAX_HEADERS: usize = 256;

/// For stream transports (TCP, TLS): the length of the first whole message at the start of
/// `buf`, or `None` while more bytes are needed. Leading CRLFs (keep-alives) must have been
/// taken off first. RFC 3261 §18.3: on a stream, Content-Length is mandatory.
pub fn message_length(buf: &[u8]) -> Result<Option<usize>> {
    let Some(head_end) = find_head_end(buf) else {
        if buf.len() > MAX_MESSAGE {
            return Err(SipError::TooLarge(buf.len(), MAX_MESSAGE));
        }
        return Ok(None);
    };
    let head = &buf[..head_end.start];
    let length = content_length(head)?
        .ok_or_else(|| SipError::malformed("message", "no Content-Length on a stream transport"))?;
    let total = head_end.body.saturating_add(length);
    if total > MAX_MESSAGE {
        return Err(SipError::TooLarge(total, MAX_MESSAGE));
    }
    Ok((buf.len() >= total).then_some(total))
}

/// Parses one whole message (a UDP datagram, or a frame cut by [`message_length`]).
pub fn parse_message(buf: &[u8]) -> Result<Message> {
    parse(buf, false)
}

/// What can be read of a request whose body is broken (a Content-Length past the end of a
/// datagram): its start line and headers, so the phone can answer 400 (RFC 3261 §18.3).
pub fn parse_request_head(buf: &[u8]) -> Option<Request> {
    match parse(buf, true) {
        Ok(Message::Request(request)) => Some(request),
        _ => None,
    }
}

fn parse(buf: &[u8], ignore_body: bool) -> Result<Message> {
    if buf.len() > MAX_MESSAGE {
        return Err(SipError::TooLarge(buf.len(), MAX_MESSAGE));
    }
    let start = buf
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(buf.len());
    let buf = &buf[start..];
    let Some(head_end) = find_head_end(buf) else {
        return Err(SipError::malformed(
            "message",
            "no blank line after the headers",
        ));
    };
    let head = std::str::from_utf8(&buf[..head_end.start]).map_err(|e| {
        SipError::malformed(
            "message",
            format!("header bytes are not UTF-8 at byte {}", e.valid_up_to()),
        )
    })?;
    let rest = &buf[head_end.body..];
    let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let start_line = lines.next().unwrap_or_default();
    let headers = parse_headers(lines)?;
    let body = match headers.get("content-length") {
        _ if ignore_body => Vec::new(),
        Some(text) => {
            let declared = parse_length(text)?;
            if declared > rest.len() {
                return Err(SipError::Incomplete {
                    declared,
                    available: rest.len(),
                });
            }
            rest[..declared].to_vec()
        }
        None => rest.to_vec(),
    };

    if let Some(status_part) = start_line.strip_prefix("SIP/2.0 ") {
        let (code, reason) = status_part.split_once(' ').unwrap_or((status_part, ""));
        let status = code
            .parse::<u16>()
            .ok()
            .filter(|s| (100..=699).contains(s) && code.len() == 3)
            .ok_or_else(|| {
                SipError::malformed("status line", format!("bad status code {code:?}"))
            })?;
        return Ok(Message::Response(Response {
            status,
            reason: reason.to_string(),
            headers,
            body,
        }));
    }

    let mut parts = start_line.split(' ');
    let (Some(method), Some(uri), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(SipError::malformed(
            "request line",
            format!("{start_line:?} is not METHOD URI SIP/2.0"),
        ));
    };
    if method.is_empty() || !method.bytes().all(is_token_byte) {
        return Err(SipError::malformed(
            "request line",
            format!("bad method {method:?}"),
        ));
    }
    if version != "SIP/2.0" {
        return Err(SipError::malformed(
            "request line",
            format!("unsupported version {version:?}"),
        ));
    }
    let uri = Uri::parse(uri)?;
    Ok(Message::Request(Request {
        method: Method::from_token(method),
        uri,
        headers,
        body,
    }))
}

/// Checks what RFC 3261 §8.1.1 requires of every request, so the phone can answer 400
/// naming the missing piece.
pub fn check_request(request: &Request) -> Result<()> {
    for name in ["via", "from", "to", "call-id", "cseq"] {
        if request
            .headers
            .get(name)
            .is_none_or(|v| v.trim().is_empty())
        {
            return Err(SipError::malformed(
                "request",
                format!("missing {name} header"),
            ));
        }
    }
    let cseq = crate::header::CSeq::parse(request.headers.get("cseq").unwrap_or_default())?;
    if cseq.method != request.method {
        return Err(SipError::malformed(
            "CSeq",
            format!(
                "method {} does not match the request's {}",
                cseq.method, request.method
            ),
        ));
    }
    Ok(())
}

struct HeadEnd {
    /// Where the header text ends.
    start: usize,
    /// Where the body begins.
    body: usize,
}

fn find_head_end(buf: &[u8]) -> Option<HeadEnd> {
    let mut i = 0;
    while i < buf.len() {
        if buf[i] == b'\n' {
            if buf.get(i + 1) == Some(&b'\n') {
                return Some(HeadEnd {
                    start: i,
                    body: i + 2,
                });
            }
            if buf.get(i + 1) == Some(&b'\r') && buf.get(i + 2) == Some(&b'\n') {
                let start = if i > 0 && buf[i - 1] == b'\r' {
                    i - 1
                } else {
                    i
                };
                return Some(HeadEnd { start, body: i + 3 });
            }
        }
        i += 1;
    }
    None
}

fn content_length(head: &[u8]) -> Result<Option<usize>> {
    for line in head.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        // A continuation line belongs to the header above it, as the parser reads it.
        if line.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
            continue;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let name = String::from_utf8_lossy(&line[..colon]);
        if canonical_name(&name) == "content-length" {
            let value = String::from_utf8_lossy(&line[colon + 1..]);
            return parse_length(&value).map(Some);
        }
    }
    Ok(None)
}

fn parse_length(text: &str) -> Result<usize> {
    let text = text.trim();
    if text.is_empty() || text.len() > 6 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SipError::malformed(
            "Content-Length",
            format!("{text:?} is not a length"),
        ));
    }
    text.parse::<usize>()
        .map_err(|_| SipError::malformed("Content-Length", format!("{text:?} is not a length")))
}

fn parse_headers<'a>(lines: impl Iterator<Item = &'a str>) -> Result<Headers> {
    let mut headers: Vec<Header> = Vec::new();
    for line in lines {
        if line.starts_with(' ') || line.starts_with('\t') {
            let Some(last) = headers.last_mut() else {
                return Err(SipError::malformed(
                    "header",
                    "a continuation line before any header",
                ));
            };
            let more = line.trim();
            if !more.is_empty() {
                if !last.value.is_empty() {
                    last.value.push(' ');
                }
                last.value.push_str(more);
            }
            continue;
        }
        let (name, value) = line.split_once(':').ok_or_else(|| {
            SipError::malformed("header", format!("no colon in {}", shorten(line)))
        })?;
        let name = name.trim_end();
        if name.is_empty() || !name.bytes().all(is_token_byte) {
            return Err(SipError::malformed(
                "header",
                format!("bad name {}", shorten(name)),
            ));
        }
        if headers.len() == MAX_HEADERS {
            return Err(SipError::malformed(
                "message",
                format!("more than {MAX_HEADERS} headers"),
            ));
        }
        headers.push(Header {
            name: canonical_name(name),
            value: value.trim().to_string(),
        });
    }
    Ok(Headers(headers))
}

fn shorten(text: &str) -> String {
    let cut: String = text.chars().take(40).collect();
    format!("{cut:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVITE: &str = "INVITE sip:bob@biloxi.com SIP/2.0\r\n\
        Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds\r\n\
        Max-Forwards: 70\r\n\
        To: Bob <sip:bob@biloxi.com>\r\n\
        From: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n\
        i: a84b4c76e66710@pc33.atlanta.com\r\n\
        CSeq: 314159 INVITE\r\n\
        Subject: a long\r\n  folded line\r\n\
        Content-Type: application/sdp\r\n\
        Content-Length: 4\r\n\r\nv=0\nEXTRA";

    #[test]
    fn a_request_parses_with_compact_and_folded_headers() {
        let Message::Request(r) = parse_message(INVITE.as_bytes()).unwrap() else {
            panic!()
        };
        assert_eq!(r.method, Method::Invite);
        assert_eq!(r.uri.to_string(), "sip:bob@biloxi.com");
        assert_eq!(
            r.headers.get("Call-ID"),
            Some("a84b4c76e66710@pc33.atlanta.com")
        );
        assert_eq!(r.headers.get("subject"), Some("a long folded line"));
        assert_eq!(r.body, b"v=0\n", "Content-Length cuts the body");
        check_request(&r).unwrap();
        let again = parse_message(&r.to_bytes()).unwrap();
        assert_eq!(again, Message::Request(r));
    }

    #[test]
    fn a_response_parses() {
        let text = "\r\n\r\nSIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nContent-Length: 0\r\n\r\n";
        let Message::Response(r) = parse_message(text.as_bytes()).unwrap() else {
            panic!()
        };
        assert_eq!((r.status, r.reason.as_str()), (180, "Ringing"));
    }

    #[test]
    fn stream_framing_waits_for_the_whole_body() {
        let msg = INVITE.replace("EXTRA", "");
        let bytes = msg.as_bytes();
        assert_eq!(message_length(&bytes[..20]).unwrap(), None);
        assert_eq!(message_length(&bytes[..bytes.len() - 1]).unwrap(), None);
        assert_eq!(message_length(bytes).unwrap(), Some(bytes.len()));
        let mut two = bytes.to_vec();
        two.extend_from_slice(bytes);
        assert_eq!(message_length(&two).unwrap(), Some(bytes.len()));
        let no_length = "OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n\r\n";
        assert!(
            message_length(no_length.as_bytes())
                .unwrap_err()
                .to_string()
                .contains("Content-Length")
        );
        assert!(matches!(
            message_length(&vec![b'a'; MAX_MESSAGE + 1]),
            Err(SipError::TooLarge(..))
        ));
    }

    #[test]
    fn broken_messages_are_named_errors() {
        let cases: &[(&[u8], &str)] = &[
            (
                b"INVITE sip:a@b SIP/2.0\r\nVia: x\r\nContent-Length: 10\r\n\r\nabc",
                "Content-Length 10",
            ),
            (
                b"INVITE sip:a@b SIP/2.0\r\nContent-Length: -1\r\n\r\n",
                "not a length",
            ),
            (b"INVITE sip:a@b SIP/3.0\r\n\r\n", "unsupported version"),
            (b"INVITE sip:a@b\r\n\r\n", "METHOD URI SIP/2.0"),
            (b"SIP/2.0 99 Odd\r\n\r\n", "bad status code"),
            (b"SIP/2.0 2000 OK\r\n\r\n", "bad status code"),
            (
                b"INVITE sip:a@b SIP/2.0\r\nNo colon here\r\n\r\n",
                "no colon",
            ),
            (
                b"INVITE sip:a@b SIP/2.0\r\n continued\r\n\r\n",
                "continuation",
            ),
            (b"INVITE sip:a@b SIP/2.0\r\nVia: \xff\r\n\r\n", "not UTF-8"),
            (b"INVITE sip:a@b SIP/2.0\r\nVia: x", "blank line"),
            (b"IN VITE sip:a@b SIP/2.0\r\n\r\n", "METHOD URI"),
        ];
        for (bytes, says) in cases {
            let err = parse_message(bytes).unwrap_err().to_string();
            assert!(
                err.contains(says),
                "{:?}: {err}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn framing_and_parsing_agree_on_folded_lines() {
        // A continuation line that looks like a Content-Length is part of the header above.
        let text = "OPTIONS sip:a@b SIP/2.0\r\nCall-ID:\r\n abc\r\nSubject: x\r\n l: 5\r\nContent-Length: 2\r\n\r\nhi";
        let Message::Request(r) = parse_message(text.as_bytes()).unwrap() else {
            panic!()
        };
        assert_eq!(
            r.headers.get("call-id"),
            Some("abc"),
            "no leading space after unfolding"
        );
        assert_eq!(r.headers.get("subject"), Some("x l: 5"));
        assert_eq!(message_length(text.as_bytes()).unwrap(), Some(text.len()));
        assert_eq!(r.body, b"hi");
    }

    #[test]
    fn a_request_with_a_broken_length_still_shows_its_headers() {
        let bytes = b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: c\r\nContent-Length: 99\r\n\r\nab";
        assert!(parse_message(bytes).is_err());
        let head = parse_request_head(bytes).unwrap();
        assert_eq!(head.headers.get("call-id"), Some("c"));
        assert!(head.body.is_empty());
        assert!(parse_request_head(b"SIP/2.0 200 OK\r\n\r\n").is_none());
    }

    #[test]
    fn requests_missing_headers_or_with_a_wrong_cseq_are_refused() {
        let Message::Request(r) = parse_message(INVITE.as_bytes()).unwrap() else {
            panic!()
        };
        let mut missing = r.clone();
        missing.headers.remove("call-id");
        assert!(
            check_request(&missing)
                .unwrap_err()
                .to_string()
                .contains("call-id")
        );
        let mut wrong = r;
        wrong.headers.set("cseq", "1 BYE");
        assert!(
            check_request(&wrong)
                .unwrap_err()
                .to_string()
                .contains("does not match")
        );
    }
}
