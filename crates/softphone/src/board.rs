//! What the phone screens show, kept from the softphone's events: whether the phone is
//! online, and each call with its state, who it is with, when it was answered, whether it
//! is muted or held, and its latest call quality. The desktop sends the whole board to
//! the UI after every change, so a window opened mid-call (or reloaded) is never out of
//! step.

use cuecard_core::{CallDirection, CallStatus, ContactId};
use cuecard_media::MediaStats;
use cuecard_sip::phone::{CallId, EndReason};
use serde::Serialize;

use crate::SoftphoneEvent;

/// The phone's registration with the SIP Domain.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Registration {
    /// Not started, or stopped.
    Offline,
    Connecting,
    Online {
        /// Seconds until the registration is refreshed.
        expires: u32,
    },
    Failed {
        message: String,
        /// The Domain refused the user name or password.
        unauthorized: bool,
    },
}

/// Where a call is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum CallState {
    /// Ours, not yet ringing.
    Dialing,
    /// Ours, ringing at the far end.
    Ringing,
    /// Theirs, waiting to be answered.
    Incoming,
    Connected,
    Ended,
}

/// How good the call sounds, from the media's live MOS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum QualityGrade {
    /// MOS 4.0 and up: toll quality.
    Good,
    /// 3.6 to 4.0: some impairment, still clear.
    Fair,
    /// Below 3.6: many users are dissatisfied (ITU-T G.107 annex B).
    Poor,
}

/// A call-quality reading for the in-call indicator.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
pub struct CallQuality {
    pub mos: f64,
    pub grade: QualityGrade,
    /// Audio lost after the jitter buffer (late or missing), percent.
    pub loss_percent: f64,
    pub jitter_ms: f64,
    pub rtt_ms: Option<f64>,
}

impl CallQuality {
    pub fn from_stats(stats: &MediaStats) -> CallQuality {
        let round = |v: f64, places: i32| {
            let scale = 10f64.powi(places);
            (v * scale).round() / scale
        };
        CallQuality {
            mos: round(stats.mos, 2),
            grade: grade(stats.mos),
            loss_percent: round(stats.playout_loss_percent, 1),
            jitter_ms: round(stats.jitter_ms, 1),
            rtt_ms: stats.rtt_ms.map(|v| round(v, 1)),
        }
    }
}

/// The grade for a MOS.
pub fn grade(mos: f64) -> QualityGrade {
    if mos >= 4.0 {
        QualityGrade::Good
    } else if mos >= 3.6 {
        QualityGrade::Fair
    } else {
        QualityGrade::Poor
    }
}

/// One call on the board.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
pub struct CallView {
    /// The phone's id for the call, for the call controls.
    pub id: u64,
    pub direction: CallDirection,
    /// Who the call is with: the number or SIP address.
    pub remote: String,
    /// The caller's name from their SIP header, for incoming calls.
    pub remote_display: Option<String>,
    pub contact_id: Option<ContactId>,
    pub contact_name: Option<String>,
    pub state: CallState,
    /// When it was answered (Unix milliseconds), for the timer.
    pub answered_at_ms: Option<i64>,
    pub muted: bool,
    /// We put it on hold.
    pub held: bool,
    /// The far end put it on hold.
    pub held_by_remote: bool,
    pub quality: Option<CallQuality>,
    /// How it ended, once it has.
    pub outcome: Option<CallStatus>,
    pub end_reason: Option<String>,
    /// The call's entry in the call log.
    pub log_id: Option<String>,
}

/// Something the UI should say once (a toast), beside the board.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PhoneNotice {
    Dtmf { call: u64, digit: String },
    Ended { call: u64, message: String },
    AudioFailed { call: u64, message: String },
    Transferred { call: u64, target: String },
}

/// The board.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
pub struct Board {
    /// The SIP account, `user@domain`, once the phone has been started.
    pub account: Option<String>,
    pub registration: Registration,
    /// Live calls, then the last ended one (until the next call starts).
    pub calls: Vec<CallView>,
}

impl Default for Board {
    fn default() -> Self {
        Board {
            account: None,
            registration: Registration::Offline,
            calls: Vec::new(),
        }
    }
}

/// Finds the contact a number or address belongs to: its id and name.
pub type ContactLookup<'a> = &'a dyn Fn(&str) -> Option<(ContactId, String)>;

impl Board {
    /// A call we placed.
    pub fn placed(&mut self, call: CallId, target: &str, contact: Option<(ContactId, String)>) {
        self.forget_ended();
        self.calls.push(new_call(
            call,
            CallDirection::Outbound,
            target,
            None,
            contact,
            CallState::Dialing,
        ));
    }

    pub fn call(&self, call: CallId) -> Option<&CallView> {
        self.calls.iter().find(|c| c.id == call.0)
    }

    fn call_mut(&mut self, call: CallId) -> Option<&mut CallView> {
        self.calls.iter_mut().find(|c| c.id == call.0)
    }

    pub fn set_muted(&mut self, call: CallId, muted: bool) {
        if let Some(c) = self.call_mut(call) {
            c.muted = muted;
        }
    }

    /// Calls not yet over.
    pub fn live_calls(&self) -> impl Iterator<Item = &CallView> {
        self.calls.iter().filter(|c| c.state != CallState::Ended)
    }

    fn forget_ended(&mut self) {
        self.calls.retain(|c| c.state != CallState::Ended);
    }

    /// Applies an event; returns what to tell the rep once, if anything.
    pub fn apply(
        &mut self,
        event: &SoftphoneEvent,
        lookup: ContactLookup<'_>,
    ) -> Option<PhoneNotice> {
        match event {
            SoftphoneEvent::Registered { expires } => {
                self.registration = Registration::Online { expires: *expires };
            }
            SoftphoneEvent::RegistrationFailed {
                reason,
                unauthorized,
            } => {
                self.registration = Registration::Failed {
                    message: reason.clone(),
                    unauthorized: *unauthorized,
                };
            }
            SoftphoneEvent::Unregistered => self.registration = Registration::Offline,
            SoftphoneEvent::Incoming {
                call,
                from,
                display,
            } => {
                self.forget_ended();
                let contact = lookup(from);
                self.calls.push(new_call(
                    *call,
                    CallDirection::Inbound,
                    from,
                    display.clone(),
                    contact,
                    CallState::Incoming,
                ));
            }
            SoftphoneEvent::Ringing { call } => {
                if let Some(c) = self.call_mut(*call)
                    && c.state == CallState::Dialing
                {
                    c.state = CallState::Ringing;
                }
            }
            SoftphoneEvent::Established { call } => {
                if let Some(c) = self.call_mut(*call) {
                    c.state = CallState::Connected;
                    c.answered_at_ms = Some(cuecard_core::now().timestamp_millis());
                }
            }
            SoftphoneEvent::Held { call, by_remote } => {
                if let Some(c) = self.call_mut(*call) {
                    if *by_remote {
                        c.held_by_remote = true;
                    } else {
                        c.held = true;
                    }
                }
            }
            SoftphoneEvent::Resumed { call, by_remote } => {
                if let Some(c) = self.call_mut(*call) {
                    if *by_remote {
                        c.held_by_remote = false;
                    } else {
                        c.held = false;
                    }
                }
            }
            SoftphoneEvent::Dtmf { call, digit } => {
                return Some(PhoneNotice::Dtmf {
                    call: call.0,
                    digit: digit.to_string(),
                });
            }
            SoftphoneEvent::TransferRequested { call, target } => {
                return Some(PhoneNotice::Transferred {
                    call: call.0,
                    target: target.clone(),
                });
            }
            SoftphoneEvent::AudioFailed { call, reason } => {
                return Some(PhoneNotice::AudioFailed {
                    call: call.0,
                    message: format!("The call's audio could not start: {reason}"),
                });
            }
            SoftphoneEvent::Quality { call, stats } => {
                if let Some(c) = self.call_mut(*call) {
                    c.quality = Some(CallQuality::from_stats(stats));
                }
            }
            SoftphoneEvent::Ended {
                call,
                reason,
                status,
                record,
            } => {
                let c = self.call_mut(*call)?;
                c.state = CallState::Ended;
                c.outcome = Some(*status);
                c.end_reason = Some(describe_end(reason));
                c.log_id = Some(record.id.to_string());
                if c.contact_id.is_none() {
                    c.contact_id = record.contact_id;
                }
                let who = c.contact_name.clone().unwrap_or_else(|| c.remote.clone());
                let message = match status {
                    CallStatus::Completed => {
                        format!(
                            "Call with {who} ended ({})",
                            talk_time(record.duration_secs)
                        )
                    }
                    _ => format!("Call with {who}: {}", describe_end(reason)),
                };
                return Some(PhoneNotice::Ended {
                    call: call.0,
                    message,
                });
            }
        }
        None
    }

    /// Records the account once registration starts.
    pub fn connecting(&mut self, account: &str) {
        self.registration = Registration::Connecting;
        self.account = Some(account.to_string());
    }
}

fn new_call(
    call: CallId,
    direction: CallDirection,
    remote: &str,
    remote_display: Option<String>,
    contact: Option<(ContactId, String)>,
    state: CallState,
) -> CallView {
    let (contact_id, contact_name) = match contact {
        Some((id, name)) => (Some(id), Some(name)),
        None => (None, None),
    };
    CallView {
        id: call.0,
        direction,
        remote: remote.to_string(),
        remote_display,
        contact_id,
        contact_name,
        state,
        answered_at_ms: None,
        muted: false,
        held: false,
        held_by_remote: false,
        quality: None,
        outcome: None,
        end_reason: None,
        log_id: None,
    }
}

/// `4:05`, `1:02:03`.
pub fn talk_time(seconds: u32) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// How an end reads to the rep.
pub fn describe_end(reason: &EndReason) -> String {
    match reason {
        EndReason::Local => "you hung up".into(),
        EndReason::Remote => "they hung up".into(),
        EndReason::Busy => "busy".into(),
        EndReason::Declined => "declined".into(),
        EndReason::Transferred => "transferred".into(),
        EndReason::Rejected(code, text) => match code {
            404 | 484 | 604 => format!("the number was not found ({code} {text})"),
            408 | 480 | 487 => format!("no answer ({code} {text})"),
            403 | 401 | 407 => format!("the SIP Domain refused the call ({code} {text})"),
            _ => format!("the call failed ({code} {text})"),
        },
        EndReason::Failed(why) => format!("the call failed: {why}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cuecard_core::{Call, CallId as LogId};

    fn logged(status: CallStatus, duration_secs: u32) -> Box<Call> {
        Box::new(Call {
            id: LogId::new(),
            contact_id: None,
            direction: CallDirection::Outbound,
            status,
            from: "sip:alice@example.com".into(),
            to: "+14155550134".into(),
            started_at: cuecard_core::now(),
            answered_at: None,
            ended_at: None,
            duration_secs,
            disposition: None,
            recording: None,
            notes: String::new(),
        })
    }

    fn nobody(_: &str) -> Option<(ContactId, String)> {
        None
    }

    #[test]
    fn an_outgoing_call_goes_through_its_states() {
        let mut board = Board::default();
        let id = CallId(7);
        let priya = ContactId::new();
        board.placed(id, "+14155550134", Some((priya, "Priya Sharma".into())));
        assert_eq!(board.call(id).map(|c| c.state), Some(CallState::Dialing));
        board.apply(&SoftphoneEvent::Ringing { call: id }, &nobody);
        assert_eq!(board.call(id).map(|c| c.state), Some(CallState::Ringing));
        board.apply(&SoftphoneEvent::Established { call: id }, &nobody);
        let c = board.call(id).expect("call");
        assert_eq!(c.state, CallState::Connected);
        assert!(c.answered_at_ms.is_some());
        let stats = MediaStats {
            mos: 4.36,
            jitter_ms: 3.24,
            ..MediaStats::default()
        };
        board.apply(
            &SoftphoneEvent::Quality {
                call: id,
                stats: Box::new(stats),
            },
            &nobody,
        );
        let q = board
            .call(id)
            .and_then(|c| c.quality.clone())
            .expect("quality");
        assert_eq!(
            (q.mos, q.grade, q.jitter_ms),
            (4.36, QualityGrade::Good, 3.2)
        );
        board.apply(
            &SoftphoneEvent::Held {
                call: id,
                by_remote: true,
            },
            &nobody,
        );
        assert!(board.call(id).is_some_and(|c| c.held_by_remote && !c.held));
        board.apply(
            &SoftphoneEvent::Resumed {
                call: id,
                by_remote: true,
            },
            &nobody,
        );
        assert!(board.call(id).is_some_and(|c| !c.held_by_remote));
        let notice = board.apply(
            &SoftphoneEvent::Ended {
                call: id,
                reason: EndReason::Remote,
                status: CallStatus::Completed,
                record: logged(CallStatus::Completed, 125),
            },
            &nobody,
        );
        assert_eq!(
            notice,
            Some(PhoneNotice::Ended {
                call: 7,
                message: "Call with Priya Sharma ended (2:05)".into()
            })
        );
        let c = board.call(id).expect("the ended call stays until the next");
        assert_eq!(c.outcome, Some(CallStatus::Completed));
        assert!(c.log_id.is_some());
        assert_eq!(board.live_calls().count(), 0);
        board.placed(CallId(8), "1002", None);
        assert_eq!(board.calls.len(), 1, "the ended call made way");
    }

    #[test]
    fn an_incoming_call_is_matched_to_its_contact_and_a_busy_end_is_said() {
        let mut board = Board::default();
        let priya = ContactId::new();
        let lookup = move |from: &str| {
            from.contains("+919876543210")
                .then(|| (priya, "Priya Sharma".to_string()))
        };
        board.apply(
            &SoftphoneEvent::Incoming {
                call: CallId(3),
                from: "sip:+919876543210@example.com".into(),
                display: Some("Priya".into()),
            },
            &lookup,
        );
        let c = board.call(CallId(3)).expect("call");
        assert_eq!(c.state, CallState::Incoming);
        assert_eq!(c.contact_name.as_deref(), Some("Priya Sharma"));
        assert_eq!(c.remote_display.as_deref(), Some("Priya"));

        board.placed(CallId(4), "+14155550134", None);
        let notice = board.apply(
            &SoftphoneEvent::Ended {
                call: CallId(4),
                reason: EndReason::Busy,
                status: CallStatus::Busy,
                record: logged(CallStatus::Busy, 0),
            },
            &nobody,
        );
        assert_eq!(
            notice,
            Some(PhoneNotice::Ended {
                call: 4,
                message: "Call with +14155550134: busy".into()
            })
        );
        assert_eq!(
            board.live_calls().count(),
            1,
            "the incoming call is still live"
        );
    }

    #[test]
    fn registration_and_grades() {
        let mut board = Board::default();
        board.connecting("alice@example.com");
        assert_eq!(board.registration, Registration::Connecting);
        board.apply(&SoftphoneEvent::Registered { expires: 600 }, &nobody);
        assert_eq!(board.registration, Registration::Online { expires: 600 });
        board.apply(
            &SoftphoneEvent::RegistrationFailed {
                reason: "wrong password".into(),
                unauthorized: true,
            },
            &nobody,
        );
        assert!(matches!(
            board.registration,
            Registration::Failed {
                unauthorized: true,
                ..
            }
        ));
        assert_eq!(board.account.as_deref(), Some("alice@example.com"));
        assert_eq!(grade(4.36), QualityGrade::Good);
        assert_eq!(grade(3.8), QualityGrade::Fair);
        assert_eq!(grade(3.34), QualityGrade::Poor);
        assert_eq!(talk_time(3723), "1:02:03");
        assert_eq!(
            describe_end(&EndReason::Rejected(404, "Not Found".into())),
            "the number was not found (404 Not Found)"
        );
    }
}
