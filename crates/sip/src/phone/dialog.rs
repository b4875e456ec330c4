//! Dialogs (RFC 3261 §12): the state two phones share for one call — Call-ID, tags,
//! CSeq counters, the remote target and the route set — and the requests sent inside one.
//! Also the random tokens every request needs (tags, branches, Call-IDs).

use crate::header::{BRANCH_COOKIE, CSeq, NameAddr};
use crate::message::{Method, Request, Response};
use crate::uri::Uri;

/// Random hex of `bytes` bytes. The OS generator does not fail on Linux; if it ever did,
/// a time-derived value keeps tokens unique enough for one process.
pub(crate) fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    if getrandom::fill(&mut buf).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (nanos >> ((i % 16) * 8)) as u8 ^ i as u8;
        }
    }
    hex::encode(buf)
}

pub(crate) fn new_branch() -> String {
    format!("{BRANCH_COOKIE}{}", random_hex(10))
}

pub(crate) fn new_tag() -> String {
    random_hex(6)
}

/// One dialog, seen from our side.
#[derive(Debug, Clone)]
pub(crate) struct Dialog {
    pub call_id: String,
    /// Our address with our tag (From in our requests).
    pub local: NameAddr,
    /// Their address with their tag (To in our requests).
    pub remote: NameAddr,
    pub local_cseq: u32,
    pub remote_cseq: Option<u32>,
    /// Where in-dialog requests go: the peer's Contact.
    pub remote_target: Uri,
    /// Route headers for in-dialog requests, in sending order.
    pub route_set: Vec<String>,
}

impl Dialog {
    /// The dialog a 1xx/2xx answer to our INVITE makes (UAC side, §12.1.2).
    pub fn from_response(invite: &Request, response: &Response) -> Option<Dialog> {
        let local = NameAddr::parse(invite.headers.get("from")?).ok()?;
        let remote = NameAddr::parse(response.headers.get("to")?).ok()?;
        remote.tag()?;
        let remote_target = response
            .headers
            .get_all("contact")
            .first()
            .and_then(|c| NameAddr::parse(c).ok())
            .map(|c| c.uri)
            .unwrap_or_else(|| invite.uri.clone());
        let mut route_set: Vec<String> = response
            .headers
            .get_all("record-route")
            .iter()
            .map(|r| r.to_string())
            .collect();
        route_set.reverse();
        let local_cseq = CSeq::parse(invite.headers.get("cseq")?).ok()?.seq;
        Some(Dialog {
            call_id: invite.headers.get("call-id")?.to_string(),
            local,
            remote,
            local_cseq,
            remote_cseq: None,
            remote_target,
            route_set,
        })
    }

    /// The dialog an incoming INVITE makes once we answer it with `local_tag` (UAS, §12.1.1).
    pub fn from_request(invite: &Request, local_tag: &str) -> Option<Dialog> {
        let remote = NameAddr::parse(invite.headers.get("from")?).ok()?;
        let local = NameAddr::parse(invite.headers.get("to")?)
            .ok()?
            .with_tag(local_tag);
        let remote_target = invite
            .headers
            .get_all("contact")
            .first()
            .and_then(|c| NameAddr::parse(c).ok())?
            .uri;
        Some(Dialog {
            call_id: invite.headers.get("call-id")?.to_string(),
            local,
            remote,
            local_cseq: 0,
            remote_cseq: Some(CSeq::parse(invite.headers.get("cseq")?).ok()?.seq),
            remote_target,
            route_set: invite
                .headers
                .get_all("record-route")
                .iter()
                .map(|r| r.to_string())
                .collect(),
        })
    }

    /// A new request inside the dialog with the next CSeq. Via and Contact are the
    /// caller's to add.
    pub fn request(&mut self, method: Method) -> Request {
        self.local_cseq += 1;
        let seq = self.local_cseq;
        self.request_with_cseq(method, seq)
    }

    /// A request inside the dialog with a given CSeq number (ACK and CANCEL reuse the
    /// INVITE's).
    pub fn request_with_cseq(&self, method: Method, seq: u32) -> Request {
        let mut request = Request::new(method.clone(), self.remote_target.clone());
        request.headers.push("max-forwards", "70");
        for route in &self.route_set {
            request.headers.push("route", route.clone());
        }
        request.headers.push("from", self.local.to_string());
        request.headers.push("to", self.remote.to_string());
        request.headers.push("call-id", self.call_id.clone());
        request
            .headers
            .push("cseq", CSeq { seq, method }.to_string());
        request
    }

    /// Whether a request belongs here: same Call-ID, their tag in From, ours in To.
    pub fn matches_request(&self, request: &Request) -> bool {
        let tag_of = |name: &str| {
            request
                .headers
                .get(name)
                .and_then(|v| NameAddr::parse(v).ok())
                .and_then(|a| a.tag().map(str::to_string))
        };
        request.headers.get("call-id") == Some(self.call_id.as_str())
            && tag_of("from").as_deref() == self.remote.tag()
            && tag_of("to").as_deref() == self.local.tag()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Message;
    use crate::parse::parse_message;

    #[test]
    fn a_uac_dialog_takes_the_route_set_reversed_and_the_contact_as_target() {
        let Message::Request(invite) = parse_message(
            b"INVITE sip:bob@b.com SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nFrom: <sip:alice@a.com>;tag=111\r\n\
              To: <sip:bob@b.com>\r\nCall-ID: c1\r\nCSeq: 7 INVITE\r\nContact: <sip:alice@10.0.0.1>\r\nContent-Length: 0\r\n\r\n",
        )
        .unwrap() else {
            panic!()
        };
        let Message::Response(ok) = parse_message(
            b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nFrom: <sip:alice@a.com>;tag=111\r\n\
              To: <sip:bob@b.com>;tag=222\r\nCall-ID: c1\r\nCSeq: 7 INVITE\r\nRecord-Route: <sip:p1;lr>, <sip:p2;lr>\r\n\
              Contact: <sip:bob@10.0.0.2:5070>\r\nContent-Length: 0\r\n\r\n",
        )
        .unwrap() else {
            panic!()
        };
        let mut dialog = Dialog::from_response(&invite, &ok).unwrap();
        assert_eq!(dialog.route_set, vec!["<sip:p2;lr>", "<sip:p1;lr>"]);
        let bye = dialog.request(Method::Bye);
        assert_eq!(bye.uri.to_string(), "sip:bob@10.0.0.2:5070");
        assert_eq!(bye.headers.get("cseq"), Some("8 BYE"));
        assert_eq!(
            bye.headers.get_all("route"),
            vec!["<sip:p2;lr>", "<sip:p1;lr>"]
        );
        assert!(bye.headers.get("to").unwrap().contains("tag=222"));
        assert!(new_branch().starts_with("z9hG4bK"));
        assert_ne!(new_tag(), new_tag());
    }
}
