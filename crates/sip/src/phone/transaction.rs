//! Transactions (RFC 3261 §17): client transactions retransmit a request over UDP on the
//! T1/T2 schedule until answered and give up after 64·T1; server transactions remember
//! the last answer so a retransmitted request is answered again instead of acted on
//! twice, and re-send final INVITE answers until the ACK comes.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::message::{Method, Request};

use super::CallId;

/// RFC 3261 T2: the cap on non-INVITE retransmission intervals.
pub(crate) const T2: Duration = Duration::from_secs(4);

/// What a client transaction's answer is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Purpose {
    Register { expires: u32 },
    Invite(CallId),
    ReInvite(CallId),
    Bye(CallId),
    Cancel(CallId),
    Info(CallId),
    Refer(CallId),
    Notify(CallId),
}

/// A request we sent and are waiting on.
#[derive(Debug)]
pub(crate) struct ClientTransaction {
    /// The request as sent (top Via included), for retries with credentials.
    pub request: Request,
    pub bytes: Vec<u8>,
    pub purpose: Purpose,
    /// Retransmission schedule (UDP only).
    next_send: Option<Instant>,
    interval: Duration,
    /// Timer B/F: give up after this.
    pub deadline: Instant,
    /// A provisional answer came (INVITE: stop retransmitting).
    pub proceeding: bool,
    /// How many times this request has already been re-sent with credentials.
    pub auth_tries: u8,
}

pub(crate) enum TimerStep {
    Wait,
    Retransmit,
    TimedOut,
}

impl ClientTransaction {
    pub fn new(
        request: Request,
        bytes: Vec<u8>,
        purpose: Purpose,
        t1: Duration,
        reliable: bool,
        now: Instant,
    ) -> Self {
        ClientTransaction {
            request,
            bytes,
            purpose,
            next_send: (!reliable).then(|| now + t1),
            interval: t1,
            deadline: now + t1 * 64,
            proceeding: false,
            auth_tries: 0,
        }
    }

    pub fn is_invite(&self) -> bool {
        self.request.method == Method::Invite
    }

    pub fn next_wake(&self) -> Instant {
        match self.next_send {
            Some(at) => at.min(self.deadline),
            None => self.deadline,
        }
    }

    /// A provisional answer: INVITE stops retransmitting (and Timer B no longer
    /// applies while it rings); non-INVITE slows to T2.
    pub fn on_provisional(&mut self, now: Instant) {
        self.proceeding = true;
        if self.is_invite() {
            self.next_send = None;
            self.deadline = now + Duration::from_secs(180);
        } else if self.next_send.is_some() {
            self.interval = T2;
            self.next_send = Some(now + T2);
        }
    }

    pub fn on_timer(&mut self, now: Instant) -> TimerStep {
        if now >= self.deadline {
            return TimerStep::TimedOut;
        }
        match self.next_send {
            Some(at) if now >= at => {
                self.interval = if self.is_invite() {
                    self.interval * 2
                } else {
                    (self.interval * 2).min(T2)
                };
                self.next_send = Some(now + self.interval);
                TimerStep::Retransmit
            }
            _ => TimerStep::Wait,
        }
    }
}

/// A request we answered.
#[derive(Debug)]
pub(crate) struct ServerTransaction {
    pub branch: String,
    pub method: Method,
    /// The last answer, re-sent when the request comes again.
    pub last_response: Option<Vec<u8>>,
    pub to: SocketAddr,
    /// Forget it after this.
    pub expires: Instant,
    /// A final answer to an INVITE re-sent until the ACK (UDP), with its schedule.
    pub until_ack: Option<(Instant, Duration)>,
    pub final_status: Option<u16>,
}

impl ServerTransaction {
    pub fn new(
        request: &Request,
        branch: &str,
        to: SocketAddr,
        t1: Duration,
        now: Instant,
    ) -> Self {
        ServerTransaction {
            branch: branch.to_string(),
            method: request.method.clone(),
            last_response: None,
            to,
            expires: now + t1 * 64,
            until_ack: None,
            final_status: None,
        }
    }

    /// Whether `request` is this transaction's request again (RFC 3261 §17.2.3).
    pub fn matches(&self, branch: &str, method: &Method) -> bool {
        self.branch == branch
            && (self.method == *method || (*method == Method::Ack && self.method == Method::Invite))
    }
}
