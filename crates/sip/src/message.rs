//! SIP messages as plain values: requests, responses, their ordered headers and body, and
//! their wire form. Parsing is in [`crate::parse`]; typed header views in [`crate::header`].

use std::fmt;

use crate::uri::Uri;

/// A request method. Unknown methods are kept by name (RFC 3261 §7.1: methods are
/// extensible) so the phone can answer them 405.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    Invite,
    Ack,
    Bye,
    Cancel,
    Register,
    Options,
    Info,
    Refer,
    Notify,
    Subscribe,
    Message,
    Update,
    Prack,
    Other(String),
}

impl Method {
    pub fn as_str(&self) -> &str {
        match self {
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Register => "REGISTER",
            Method::Options => "OPTIONS",
            Method::Info => "INFO",
            Method::Refer => "REFER",
            Method::Notify => "NOTIFY",
            Method::Subscribe => "SUBSCRIBE",
            Method::Message => "MESSAGE",
            Method::Update => "UPDATE",
            Method::Prack => "PRACK",
            Method::Other(name) => name,
        }
    }

    /// Method names are case-sensitive (RFC 3261 §7.1).
    pub fn from_token(token: &str) -> Method {
        match token {
            "INVITE" => Method::Invite,
            "ACK" => Method::Ack,
            "BYE" => Method::Bye,
            "CANCEL" => Method::Cancel,
            "REGISTER" => Method::Register,
            "OPTIONS" => Method::Options,
            "INFO" => Method::Info,
            "REFER" => Method::Refer,
            "NOTIFY" => Method::Notify,
            "SUBSCRIBE" => Method::Subscribe,
            "MESSAGE" => Method::Message,
            "UPDATE" => Method::Update,
            "PRACK" => Method::Prack,
            other => Method::Other(other.to_string()),
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One header line. `name` is the canonical long form in lower case (compact forms such
/// as `v` or `i` are expanded by the parser), so lookups are plain comparisons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub value: String,
}

/// Headers in their order on the wire. Order matters for Via, Route and Record-Route.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(pub Vec<Header>);

impl Headers {
    /// The first value of a header, by any spelling of its name.
    pub fn get(&self, name: &str) -> Option<&str> {
        let name = canonical_name(name);
        self.0
            .iter()
            .find(|h| h.name == name)
            .map(|h| h.value.as_str())
    }

    /// Every value of a header: each line, and each comma-separated element of a line
    /// for the headers that allow lists (Via, Contact, Route, Record-Route, …).
    pub fn get_all(&self, name: &str) -> Vec<&str> {
        let name = canonical_name(name);
        let mut out = Vec::new();
        for h in self.0.iter().filter(|h| h.name == name) {
            if is_list_header(&name) {
                out.extend(split_list(&h.value));
            } else {
                out.push(h.value.trim());
            }
        }
        out
    }

    pub fn push(&mut self, name: &str, value: impl Into<String>) {
        self.0.push(Header {
            name: canonical_name(name),
            value: value.into(),
        });
    }

    /// Puts a header first (a new top Via).
    pub fn push_front(&mut self, name: &str, value: impl Into<String>) {
        self.0.insert(
            0,
            Header {
                name: canonical_name(name),
                value: value.into(),
            },
        );
    }

    /// Replaces every line of a header with one value.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        let name = canonical_name(name);
        let mut value = Some(value.into());
        self.0.retain_mut(|h| {
            if h.name != name {
                return true;
            }
            match value.take() {
                Some(v) => {
                    h.value = v;
                    true
                }
                None => false,
            }
        });
        if let Some(value) = value {
            self.0.push(Header { name, value });
        }
    }

    pub fn remove(&mut self, name: &str) {
        let name = canonical_name(name);
        self.0.retain(|h| h.name != name);
    }

    /// Copies every line of a header from another message, in order.
    pub fn copy_from(&mut self, other: &Headers, name: &str) {
        let name = canonical_name(name);
        for h in other.0.iter().filter(|h| h.name == name) {
            self.0.push(h.clone());
        }
    }
}

/// A SIP request.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub method: Method,
    pub uri: Uri,
    pub headers: Headers,
    pub body: Vec<u8>,
}

/// A SIP response.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub headers: Headers,
    pub body: Vec<u8>,
}

/// Either kind of message.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    Request(Request),
    Response(Response),
}

impl Request {
    pub fn new(method: Method, uri: Uri) -> Self {
        Request {
            method,
            uri,
            headers: Headers::default(),
            body: Vec::new(),
        }
    }

    /// The wire form; Content-Length is always written from the body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let start = format!("{} {} SIP/2.0\r\n", self.method, self.uri);
        write_message(start, &self.headers, &self.body)
    }
}

impl Response {
    /// A response to `request` with the headers RFC 3261 §8.2.6.2 says to copy: Via
    /// (all), From, To, Call-ID and CSeq.
    pub fn to(request: &Request, status: u16, reason: &str) -> Self {
        let mut headers = Headers::default();
        for name in ["via", "from", "to", "call-id", "cseq"] {
            headers.copy_from(&request.headers, name);
        }
        Response {
            status,
            reason: reason.to_string(),
            headers,
            body: Vec::new(),
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let start = format!("SIP/2.0 {} {}\r\n", self.status, self.reason);
        write_message(start, &self.headers, &self.body)
    }
}

impl Message {
    pub fn headers(&self) -> &Headers {
        match self {
            Message::Request(r) => &r.headers,
            Message::Response(r) => &r.headers,
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Message::Request(r) => r.to_bytes(),
            Message::Response(r) => r.to_bytes(),
        }
    }
}

fn write_message(start: String, headers: &Headers, body: &[u8]) -> Vec<u8> {
    let mut out = start.into_bytes();
    for h in headers.0.iter().filter(|h| h.name != "content-length") {
        out.extend_from_slice(display_name(&h.name).as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(h.value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
    out
}

/// The canonical lower-case long name of a header (RFC 3261 §7.3.3 compact forms and
/// RFC 3515/3265 ones expanded).
pub fn canonical_name(name: &str) -> String {
    let lower = name.trim().to_ascii_lowercase();
    let long = match lower.as_str() {
        "i" => "call-id",
        "m" => "contact",
        "e" => "content-encoding",
        "l" => "content-length",
        "c" => "content-type",
        "f" => "from",
        "s" => "subject",
        "k" => "supported",
        "t" => "to",
        "v" => "via",
        "o" => "event",
        "r" => "refer-to",
        "b" => "referred-by",
        "u" => "allow-events",
        "x" => "session-expires",
        _ => return lower,
    };
    long.to_string()
}

/// The usual spelling of a header name on the wire.
fn display_name(name: &str) -> String {
    match name {
        "call-id" => "Call-ID".to_string(),
        "cseq" => "CSeq".to_string(),
        "www-authenticate" => "WWW-Authenticate".to_string(),
        "mime-version" => "MIME-Version".to_string(),
        _ => name
            .split('-')
            .map(|part| {
                let mut chars = part.chars();
                match chars.next() {
                    Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                    None => String::new(),
                }
            })
            .collect::<Vec<_>>()
            .join("-"),
    }
}

fn is_list_header(name: &str) -> bool {
    matches!(
        name,
        "via"
            | "contact"
            | "route"
            | "record-route"
            | "allow"
            | "supported"
            | "require"
            | "proxy-require"
            | "unsupported"
            | "accept"
            | "allow-events"
    )
}

/// Splits a header value at the commas that separate list elements, not those inside
/// quoted strings or `<…>` URIs.
pub fn split_list(value: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut quoted, mut angle, mut escaped) = (false, false, false);
    let mut start = 0;
    for (i, c) in value.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '<' if !quoted => angle = true,
            '>' if !quoted => angle = false,
            ',' if !quoted && !angle => {
                let part = value[start..i].trim();
                if !part.is_empty() {
                    out.push(part);
                }
                start = i + 1;
            }
            _ => {}
        }
    }
    let last = value[start..].trim();
    if !last.is_empty() {
        out.push(last);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_and_long_names_are_one_header() {
        let mut h = Headers::default();
        h.push(
            "v",
            "SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK2",
        );
        h.push("Via", "SIP/2.0/TCP c;branch=z9hG4bK3");
        h.push("i", "abc");
        assert_eq!(h.get("Call-ID"), Some("abc"));
        assert_eq!(h.get_all("VIA").len(), 3);
        h.set("via", "SIP/2.0/UDP only");
        assert_eq!(h.get_all("via"), vec!["SIP/2.0/UDP only"]);
    }

    #[test]
    fn lists_split_outside_quotes_and_brackets() {
        let parts = split_list(r#""Doe, John" <sip:a@b;x=1,2>;q=1, <sip:c@d>"#);
        assert_eq!(
            parts,
            vec![r#""Doe, John" <sip:a@b;x=1,2>;q=1"#, "<sip:c@d>"]
        );
    }

    #[test]
    fn names_are_written_in_their_usual_spelling() {
        assert_eq!(display_name("call-id"), "Call-ID");
        assert_eq!(display_name("record-route"), "Record-Route");
        assert_eq!(display_name("x-custom-thing"), "X-Custom-Thing");
    }
}
