//! What the dialer makes of what the rep typed or picked before a call is placed: a
//! phone number becomes E.164 (numbers without a country code read in the rep's
//! region), a number on the do-not-call list is refused with the list's reason, and a
//! SIP address (`sip:…`, `user@host`), a user name on the Domain (`sales`) or a short
//! extension passes through unchanged.

use cuecard_store::Store;

use crate::{Result, SoftphoneError};

/// A checked call target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DialTarget {
    /// A phone number, E.164.
    Number(String),
    /// A SIP address or an extension on the Domain, as typed.
    Address(String),
}

impl DialTarget {
    /// What the phone is asked to call.
    pub fn as_target(&self) -> &str {
        match self {
            DialTarget::Number(n) | DialTarget::Address(n) => n,
        }
    }
}

/// Extensions are dialled as typed: up to this many digits (or `*`/`#` codes).
const MAX_EXTENSION_DIGITS: usize = 6;

/// Checks `raw` for dialling; `region` (ISO 3166, e.g. `IN`) reads numbers typed without
/// a country code; `store` (when there is one) holds the do-not-call list.
pub fn prepare(raw: &str, region: &str, store: Option<&Store>) -> Result<DialTarget> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(SoftphoneError::Dial(
            "enter a number or a SIP address".into(),
        ));
    }
    let lower = text.to_ascii_lowercase();
    if lower.starts_with("sip:") || lower.starts_with("sips:") || text.contains('@') {
        return Ok(DialTarget::Address(text.to_string()));
    }
    let compact: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
        .collect();
    let is_extension = !compact.starts_with('+')
        && compact.len() <= MAX_EXTENSION_DIGITS
        && compact
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'*' || b == b'#');
    if is_extension {
        return Ok(DialTarget::Address(compact));
    }
    // A user on the Domain: one word with a letter, as a SIP user part allows.
    let is_user = text.bytes().any(|b| b.is_ascii_alphabetic())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'!' | b'~'));
    if is_user {
        return Ok(DialTarget::Address(text.to_string()));
    }
    let region = cuecard_contacts::phone::region(region)
        .map_err(|e| SoftphoneError::Dial(format!("the dialling region: {e}")))?;
    let e164 = cuecard_contacts::normalize_phone(text, region)
        .map_err(|e| SoftphoneError::Dial(format!("{text:?}: {e}")))?;
    if let Some(store) = store {
        let listed = store
            .dnc_entry(&e164)
            .map_err(|e| SoftphoneError::Store(e.to_string()))?;
        if let Some(entry) = listed {
            let why = entry
                .reason
                .filter(|r| !r.trim().is_empty())
                .map(|r| format!(" ({r})"))
                .unwrap_or_default();
            return Err(SoftphoneError::DoNotCall(format!(
                "{e164} is on the do-not-call list{why}; remove it from Do not call to dial it"
            )));
        }
    }
    Ok(DialTarget::Number(e164))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cuecard_core::DncSource;

    #[test]
    fn numbers_addresses_and_extensions() {
        assert_eq!(
            prepare("098765 43210", "IN", None).ok(),
            Some(DialTarget::Number("+919876543210".into()))
        );
        assert_eq!(
            prepare("+1 (415) 555-0134", "IN", None).ok(),
            Some(DialTarget::Number("+14155550134".into()))
        );
        assert_eq!(
            prepare(" sip:alice@example.com ", "IN", None).ok(),
            Some(DialTarget::Address("sip:alice@example.com".into()))
        );
        assert_eq!(
            prepare("bob@pbx.example.com", "US", None).ok(),
            Some(DialTarget::Address("bob@pbx.example.com".into()))
        );
        assert_eq!(
            prepare("1002", "US", None).ok(),
            Some(DialTarget::Address("1002".into()))
        );
        assert_eq!(
            prepare("*98#", "US", None).ok(),
            Some(DialTarget::Address("*98#".into()))
        );
        assert_eq!(
            prepare("sales-desk", "US", None).ok(),
            Some(DialTarget::Address("sales-desk".into()))
        );
    }

    #[test]
    fn bad_input_is_a_clear_refusal() {
        for (raw, needle) in [
            ("", "enter a number"),
            ("   ", "enter a number"),
            ("call me maybe", "call me maybe"),
            ("+1 415", "+1 415"),
        ] {
            match prepare(raw, "US", None) {
                Err(SoftphoneError::Dial(message)) => {
                    assert!(message.contains(needle), "{raw:?}: {message}")
                }
                other => panic!("{raw:?} gave {other:?}"),
            }
        }
        match prepare("98765 43210", "XX", None) {
            Err(SoftphoneError::Dial(message)) => assert!(message.contains("region"), "{message}"),
            other => panic!("a bad region gave {other:?}"),
        }
    }

    #[test]
    fn a_number_on_the_do_not_call_list_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(dir.path().join("db.sqlite")).expect("store");
        store
            .write(|w| {
                w.add_dnc(
                    "+919876543210",
                    Some("asked not to be called"),
                    DncSource::Manual,
                )
                .map(|_| ())
            })
            .expect("dnc");
        match prepare("09876543210", "IN", Some(&store)) {
            Err(SoftphoneError::DoNotCall(message)) => {
                assert!(message.contains("+919876543210"), "{message}");
                assert!(message.contains("asked not to be called"), "{message}");
            }
            other => panic!("a listed number gave {other:?}"),
        }
        assert_eq!(
            prepare("+91 98765 43211", "IN", Some(&store)).ok(),
            Some(DialTarget::Number("+919876543211".into()))
        );
    }
}
