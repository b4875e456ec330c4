//! The phone: a SIP user agent that registers to one proxy (a Twilio SIP Domain, or
//! kamailio in the tests), places and takes calls, holds, transfers and sends DTMF by
//! INFO. [`Phone`] is a cheap handle; the work runs in one task ([`core`]) that owns the
//! transport, the transactions and the dialogs, and reports [`PhoneEvent`]s.
//!
//! Media is negotiated here but run elsewhere: when a call's media is agreed the phone
//! hands over the bound RTP/RTCP sockets and the [`Negotiated`] stream in
//! [`PhoneEvent::MediaStart`], and later changes (hold, resume) in
//! [`PhoneEvent::MediaChange`].

mod core;
mod dialog;
mod transaction;

use std::fmt;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::error::{Result, SipError};
use crate::sdp::{Negotiated, SrtpPolicy};
use crate::transport::TransportKind;

/// A call's number within this phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallId(pub u64);

impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Everything the phone needs to run.
#[derive(Debug, Clone)]
pub struct PhoneConfig {
    /// The SIP user name (the user part of our address, and the digest user).
    pub user: String,
    /// The digest user name when it differs from `user`.
    pub auth_user: Option<String>,
    /// The SIP password (from the keychain).
    pub password: String,
    /// The SIP domain: our address's host and the registrar (`acme.sip.twilio.com`).
    pub domain: String,
    /// Where to send everything: `host:port` of the proxy (defaults to the domain).
    pub proxy: String,
    pub transport: TransportKind,
    /// Extra trusted TLS roots (PEM), e.g. a test proxy's certificate.
    pub tls_ca_pem: Option<Vec<u8>>,
    pub display_name: Option<String>,
    /// Registration lifetime asked for, seconds.
    pub register_expires: u32,
    /// CRLF keep-alives to the proxy.
    pub keepalive: Option<Duration>,
    pub srtp: SrtpPolicy,
    /// The local address for signalling and media; `None` picks the one that routes to
    /// the proxy.
    pub local_ip: Option<IpAddr>,
    /// RFC 3261 T1: the first retransmission interval on UDP (500 ms).
    pub t1: Duration,
    /// Even RTP ports are taken from this range, RTCP on the next one.
    pub rtp_ports: (u16, u16),
}

impl PhoneConfig {
    pub fn new(user: &str, password: &str, domain: &str) -> PhoneConfig {
        PhoneConfig {
            user: user.to_string(),
            auth_user: None,
            password: password.to_string(),
            domain: domain.to_string(),
            proxy: domain.to_string(),
            transport: TransportKind::Udp,
            tls_ca_pem: None,
            display_name: None,
            register_expires: 600,
            keepalive: Some(Duration::from_secs(25)),
            srtp: SrtpPolicy::Optional,
            local_ip: None,
            t1: Duration::from_millis(500),
            rtp_ports: (16384, 32766),
        }
    }

    fn check(&self) -> Result<()> {
        let bad = |what, reason: &str| {
            Err(SipError::Config {
                what,
                reason: reason.to_string(),
            })
        };
        if self.user.trim().is_empty() || self.user.contains(['@', ':', ' ', '<', '>']) {
            return bad(
                "SIP user",
                "must be a plain user name without @, : or spaces",
            );
        }
        if self.domain.trim().is_empty() {
            return bad("SIP domain", "is empty");
        }
        if self.password.is_empty() {
            return bad("SIP password", "is empty; store it in the keychain first");
        }
        if self.rtp_ports.0 >= self.rtp_ports.1 {
            return bad("RTP ports", "the range is empty");
        }
        Ok(())
    }
}

/// Why a call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndReason {
    /// We hung up (BYE sent, or our CANCEL was taken).
    Local,
    /// They hung up (BYE received, or they cancelled while ringing).
    Remote,
    /// Busy (486/600).
    Busy,
    /// Refused with another status.
    Rejected(u16, String),
    /// We declined an incoming call.
    Declined,
    /// Transferred away (REFER accepted and done).
    Transferred,
    /// Signalling failed (timeout, transport).
    Failed(String),
}

/// The bound sockets for a call's media; RTCP on the RTP port + 1.
#[derive(Debug)]
pub struct MediaSockets {
    pub rtp: UdpSocket,
    pub rtcp: UdpSocket,
}

/// What the phone reports.
#[derive(Debug)]
pub enum PhoneEvent {
    Registered {
        expires: u32,
        contact: String,
    },
    /// Registration failed. `unauthorized` means wrong credentials: the phone stops
    /// trying until told to register again.
    RegistrationFailed {
        reason: String,
        unauthorized: bool,
    },
    Unregistered,
    /// A call is coming in; answer or reject it.
    Incoming {
        call: CallId,
        from: String,
        display: Option<String>,
    },
    /// Our call is ringing at the far end.
    Ringing {
        call: CallId,
    },
    /// Media is agreed: run it on these sockets.
    MediaStart {
        call: CallId,
        sockets: MediaSockets,
        media: Negotiated,
    },
    /// Media changed (hold, resume, a new address).
    MediaChange {
        call: CallId,
        media: Negotiated,
    },
    Established {
        call: CallId,
    },
    /// The call is on hold (`by_remote` when they put us on hold).
    Held {
        call: CallId,
        by_remote: bool,
    },
    Resumed {
        call: CallId,
        by_remote: bool,
    },
    /// A digit by SIP INFO.
    Dtmf {
        call: CallId,
        digit: char,
    },
    /// They asked us to call someone else (REFER); the phone places that call itself.
    TransferRequested {
        call: CallId,
        target: String,
        new_call: Option<CallId>,
    },
    /// Progress of a transfer we asked for (the NOTIFY's status line).
    TransferProgress {
        call: CallId,
        status: u16,
    },
    Ended {
        call: CallId,
        reason: EndReason,
    },
}

pub(crate) enum Command {
    Register(oneshot::Sender<Result<u32>>),
    Unregister(oneshot::Sender<Result<()>>),
    Call(String, oneshot::Sender<Result<CallId>>),
    Answer(CallId, oneshot::Sender<Result<()>>),
    Reject(CallId, u16, oneshot::Sender<Result<()>>),
    Hangup(CallId, oneshot::Sender<Result<()>>),
    Hold(CallId, bool, oneshot::Sender<Result<()>>),
    Transfer(CallId, String, oneshot::Sender<Result<()>>),
    Info(CallId, char, oneshot::Sender<Result<()>>),
    Shutdown(oneshot::Sender<()>),
}

/// A handle to a running phone. Cloning it is cheap; the phone stops on
/// [`Phone::shutdown`] or when every handle and the event receiver are gone.
#[derive(Clone)]
pub struct Phone {
    commands: mpsc::Sender<Command>,
    local: SocketAddr,
}

impl Phone {
    /// Opens the flow to the proxy and starts the phone. It does not register until
    /// asked ([`Phone::register`]).
    pub async fn start(config: PhoneConfig) -> Result<(Phone, mpsc::Receiver<PhoneEvent>)> {
        config.check()?;
        let (commands, command_rx) = mpsc::channel(64);
        let (event_tx, events) = mpsc::channel(256);
        let local = core::Core::spawn(config, command_rx, event_tx).await?;
        Ok((Phone { commands, local }, events))
    }

    /// The local signalling address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<Result<T>>) -> Command) -> Result<T> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(make(tx))
            .await
            .map_err(|_| SipError::Stopped)?;
        rx.await.map_err(|_| SipError::Stopped)?
    }

    /// Registers and waits for the outcome; returns the granted lifetime in seconds.
    /// The phone refreshes it before it runs out.
    pub async fn register(&self) -> Result<u32> {
        self.ask(Command::Register).await
    }

    pub async fn unregister(&self) -> Result<()> {
        self.ask(Command::Unregister).await
    }

    /// Calls a number (`+15551234567`, dialled at the domain) or a SIP URI.
    pub async fn call(&self, target: &str) -> Result<CallId> {
        let target = target.to_string();
        self.ask(|tx| Command::Call(target, tx)).await
    }

    pub async fn answer(&self, call: CallId) -> Result<()> {
        self.ask(|tx| Command::Answer(call, tx)).await
    }

    /// Refuses an incoming call (486 Busy Here, or another 4xx-6xx).
    pub async fn reject(&self, call: CallId, status: u16) -> Result<()> {
        self.ask(|tx| Command::Reject(call, status, tx)).await
    }

    /// Ends a call in any state: CANCEL while ringing out, 603 while ringing in, BYE once up.
    pub async fn hangup(&self, call: CallId) -> Result<()> {
        self.ask(|tx| Command::Hangup(call, tx)).await
    }

    /// Puts a call on hold (`true`) or takes it off (`false`) by re-INVITE.
    pub async fn hold(&self, call: CallId, hold: bool) -> Result<()> {
        self.ask(|tx| Command::Hold(call, hold, tx)).await
    }

    /// Blind transfer: asks the far end to call `target` (REFER), and hangs up when it has.
    pub async fn transfer(&self, call: CallId, target: &str) -> Result<()> {
        let target = target.to_string();
        self.ask(|tx| Command::Transfer(call, target, tx)).await
    }

    /// Sends a DTMF digit by SIP INFO (for peers without telephone-event).
    pub async fn send_info_dtmf(&self, call: CallId, digit: char) -> Result<()> {
        self.ask(|tx| Command::Info(call, digit, tx)).await
    }

    /// Hangs up every call, unregisters, and stops.
    pub async fn shutdown(&self) {
        let (tx, rx) = oneshot::channel();
        if self.commands.send(Command::Shutdown(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }
}
