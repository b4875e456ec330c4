//! TwiML, the XML a voice URL answers with. A call the app places reaches the SIP
//! Domain, which asks the voice URL what to do; the answer dials the number the rep
//! called, showing the rep's caller ID: `<Response><Dial callerId=…><Number>…`.

use crate::error::{Result, TwilioError};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

/// A `<Dial>` of one number.
#[derive(Clone, Debug, PartialEq)]
pub struct Dial {
    /// The number shown to the callee: one of the account's numbers (E.164).
    pub caller_id: String,
    /// The number to call (E.164).
    pub number: String,
    /// Seconds to let it ring (Twilio's default is 30).
    pub timeout_secs: Option<u32>,
    /// Have Twilio record the call from the answer, both legs on their own channel.
    pub record: bool,
}

/// `<Response><Dial …><Number>…</Number></Dial></Response>`.
pub fn dial(dial: &Dial) -> Result<String> {
    check_e164("caller ID", &dial.caller_id)?;
    check_e164("number to dial", &dial.number)?;
    let mut writer = Writer::new(Vec::new());
    let timeout = dial.timeout_secs.map(|t| t.to_string());
    let write = |writer: &mut Writer<Vec<u8>>| -> std::io::Result<()> {
        writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        writer.write_event(Event::Start(BytesStart::new("Response")))?;
        let mut start = BytesStart::new("Dial");
        start.push_attribute(("callerId", dial.caller_id.as_str()));
        if let Some(timeout) = &timeout {
            start.push_attribute(("timeout", timeout.as_str()));
        }
        if dial.record {
            start.push_attribute(("record", "record-from-answer-dual"));
        }
        writer.write_event(Event::Start(start))?;
        writer.write_event(Event::Start(BytesStart::new("Number")))?;
        writer.write_event(Event::Text(BytesText::new(&dial.number)))?;
        writer.write_event(Event::End(BytesEnd::new("Number")))?;
        writer.write_event(Event::End(BytesEnd::new("Dial")))?;
        writer.write_event(Event::End(BytesEnd::new("Response")))?;
        Ok(())
    };
    write(&mut writer).map_err(|e| TwilioError::invalid("TwiML", e.to_string()))?;
    String::from_utf8(writer.into_inner()).map_err(|e| TwilioError::invalid("TwiML", e.to_string()))
}

/// `<Response><Reject reason="rejected"/></Response>`: the answer for a call the voice
/// URL will not connect (an unknown or malformed destination).
pub fn reject() -> String {
    r#"<?xml version="1.0" encoding="UTF-8"?><Response><Reject reason="rejected"/></Response>"#
        .to_owned()
}

/// The number a SIP Domain call is for: Twilio posts the dialled SIP URI as `To`
/// (`sip:+14155551212@acme.sip.twilio.com`); its user part is the number.
pub fn number_in_sip_uri(to: &str) -> Result<String> {
    let rest = to
        .trim()
        .strip_prefix("sip:")
        .or_else(|| to.trim().strip_prefix("sips:"))
        .ok_or_else(|| TwilioError::invalid("SIP address", format!("{to:?} is not a sip: URI")))?;
    let user = rest.split(['@', ';']).next().unwrap_or_default();
    // Dialled digits may carry visual separators (RFC 3966 allows "-", ".", "(", ")").
    let number: String = user
        .chars()
        .filter(|c| !matches!(c, '-' | '.' | '(' | ')' | ' '))
        .collect();
    check_e164("number in the SIP address", &number)?;
    Ok(number)
}

fn check_e164(what: &'static str, number: &str) -> Result<()> {
    let digits = number.strip_prefix('+').unwrap_or_default();
    if (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(TwilioError::invalid(
            what,
            format!("{number:?} is not an E.164 number (+ and 8 to 15 digits)"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_voice_url_answer_dials_the_number_with_the_caller_id() {
        let xml = dial(&Dial {
            caller_id: "+14155550100".into(),
            number: "+919812345678".into(),
            timeout_secs: Some(25),
            record: false,
        })
        .expect("twiml");
        assert_eq!(
            xml,
            r#"<?xml version="1.0" encoding="UTF-8"?><Response><Dial callerId="+14155550100" timeout="25"><Number>+919812345678</Number></Dial></Response>"#
        );
    }

    #[test]
    fn only_numbers_go_into_twiml() {
        let bad = Dial {
            caller_id: "+14155550100".into(),
            number: "+1415</Number><Play>http://evil</Play>".into(),
            timeout_secs: None,
            record: true,
        };
        assert!(dial(&bad).unwrap_err().to_string().contains("E.164"));
    }

    #[test]
    fn the_number_comes_out_of_the_sip_address() {
        assert_eq!(
            number_in_sip_uri("sip:+14155551212@acme.sip.twilio.com").unwrap(),
            "+14155551212"
        );
        assert_eq!(
            number_in_sip_uri("sips:+1-415-555-1212@acme.sip.twilio.com;transport=tls").unwrap(),
            "+14155551212"
        );
        for bad in [
            "tel:+14155551212",
            "sip:alice@acme.sip.twilio.com",
            "sip:@x",
            "",
        ] {
            assert!(number_in_sip_uri(bad).is_err(), "{bad:?}");
        }
    }
}
