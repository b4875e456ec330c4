//! Every call the phone places or takes, logged to the store as it goes: dialing,
//! ringing, answered, and how it ended, with the talk time; the first save puts it on the
//! contact's timeline when the number belongs to a contact.

use std::path::PathBuf;

use cuecard_core::{Call, CallDirection, CallStatus, now};
use cuecard_sip::phone::EndReason;
use cuecard_store::{KeyKind, Store};

use crate::{Result, SoftphoneError};

/// The store side of the softphone.
pub struct CallLog {
    store: Option<Store>,
}

impl CallLog {
    /// Logs into the database at `path`; `None` logs nowhere (a phone check, a test).
    pub fn open(path: Option<PathBuf>) -> Result<CallLog> {
        let store = match path {
            Some(path) => {
                Some(Store::open(&path).map_err(|e| SoftphoneError::Store(e.to_string()))?)
            }
            None => None,
        };
        Ok(CallLog { store })
    }

    /// A new call record, linked to the contact that has this number.
    pub fn begin(&mut self, direction: CallDirection, from: &str, to: &str) -> Call {
        let number = match direction {
            CallDirection::Outbound => number_in(to),
            CallDirection::Inbound => number_in(from),
        };
        let contact_id = match (&self.store, number) {
            (Some(store), Some(number)) => store
                .contacts_with_key(KeyKind::Phone, &number)
                .ok()
                .and_then(|ids| ids.into_iter().next()),
            _ => None,
        };
        let call = Call {
            id: cuecard_core::CallId::new(),
            contact_id,
            direction,
            status: if direction == CallDirection::Outbound {
                CallStatus::Dialing
            } else {
                CallStatus::Ringing
            },
            from: from.to_string(),
            to: to.to_string(),
            started_at: now(),
            answered_at: None,
            ended_at: None,
            duration_secs: 0,
            disposition: None,
            recording: None,
            notes: String::new(),
        };
        self.save(&call);
        call
    }

    pub fn ringing(&mut self, call: &mut Call) {
        if call.status == CallStatus::Dialing {
            call.status = CallStatus::Ringing;
            self.save(call);
        }
    }

    pub fn answered(&mut self, call: &mut Call) {
        call.status = CallStatus::InProgress;
        call.answered_at = Some(now());
        self.save(call);
    }

    pub fn ended(&mut self, call: &mut Call, reason: &EndReason) {
        let ended = now();
        call.ended_at = Some(ended);
        call.status = status_for(call, reason);
        call.duration_secs = call
            .answered_at
            .map(|a| (ended - a).num_seconds().max(0) as u32)
            .unwrap_or(0);
        self.save(call);
    }

    /// Logging never stops a call: a store error is logged and the call goes on.
    fn save(&mut self, call: &Call) {
        if let Some(store) = self.store.as_mut()
            && let Err(e) = store.write(|w| w.save_call(call))
        {
            tracing::error!(call = %call.id, "could not log the call: {e}");
        }
    }
}

/// How a call's end reads in the log.
pub fn status_for(call: &Call, reason: &EndReason) -> CallStatus {
    let answered = call.answered_at.is_some();
    match reason {
        _ if answered => CallStatus::Completed,
        EndReason::Busy => CallStatus::Busy,
        EndReason::Rejected(408 | 480 | 487, _) => CallStatus::NoAnswer,
        EndReason::Remote if call.direction == CallDirection::Inbound => CallStatus::NoAnswer,
        EndReason::Local | EndReason::Remote | EndReason::Declined => CallStatus::Canceled,
        EndReason::Transferred => CallStatus::Completed,
        EndReason::Rejected(..) | EndReason::Failed(_) => CallStatus::Failed,
    }
}

/// The E.164 number in a target or SIP address (`+15551234567`, `sip:+1555…@domain`).
pub fn number_in(text: &str) -> Option<String> {
    let user = text
        .trim()
        .trim_start_matches("sips:")
        .trim_start_matches("sip:")
        .trim_start_matches("tel:")
        .split(['@', ';'])
        .next()?;
    let digits: String = user
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
        .collect();
    let rest = digits.strip_prefix('+')?;
    (rest.len() >= 6 && rest.len() <= 15 && rest.bytes().all(|b| b.is_ascii_digit()))
        .then_some(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_come_out_of_targets_and_addresses() {
        assert_eq!(
            number_in("+1 (555) 123-4567").as_deref(),
            Some("+15551234567")
        );
        assert_eq!(
            number_in("sip:+15551234567@acme.sip.twilio.com;transport=tls").as_deref(),
            Some("+15551234567")
        );
        assert_eq!(number_in("sip:bob@example.com"), None);
        assert_eq!(
            number_in("5551234567"),
            None,
            "national numbers are not guessed"
        );
    }

    #[test]
    fn end_reasons_map_to_statuses() {
        let mut log = CallLog::open(None).unwrap();
        let mut call = log.begin(CallDirection::Outbound, "sip:rep@d", "+15551234567");
        assert_eq!(status_for(&call, &EndReason::Busy), CallStatus::Busy);
        assert_eq!(status_for(&call, &EndReason::Local), CallStatus::Canceled);
        assert_eq!(
            status_for(&call, &EndReason::Rejected(480, "x".into())),
            CallStatus::NoAnswer
        );
        assert_eq!(
            status_for(&call, &EndReason::Failed("timeout".into())),
            CallStatus::Failed
        );
        log.answered(&mut call);
        log.ended(&mut call, &EndReason::Remote);
        assert_eq!(call.status, CallStatus::Completed);
        let inbound = log.begin(CallDirection::Inbound, "sip:+15550001111@d", "sip:rep@d");
        assert_eq!(
            status_for(&inbound, &EndReason::Remote),
            CallStatus::NoAnswer,
            "a missed call"
        );
    }
}
