//! The crate's error type: what went wrong and, for bad input, where.

use std::io;

/// Everything the SIP layer can fail with.
#[derive(Debug, thiserror::Error)]
pub enum SipError {
    /// A message, URI, header or SDP body that does not follow its grammar.
    #[error("malformed {what}: {reason}")]
    Malformed { what: &'static str, reason: String },
    /// A message over the size the phone accepts.
    #[error("message of {0} bytes is over the {1}-byte limit")]
    TooLarge(usize, usize),
    /// A stream carried fewer bytes than the message's Content-Length says.
    #[error("incomplete message: Content-Length {declared}, {available} bytes of body")]
    Incomplete { declared: usize, available: usize },
    /// A digest challenge the phone cannot answer.
    #[error("cannot answer the challenge: {0}")]
    Challenge(String),
    /// The registrar refused the credentials.
    #[error(
        "the registrar refused the SIP login {user:?} for realm {realm:?}: wrong user name or password"
    )]
    Unauthorized { user: String, realm: String },
    /// The proxy could not be reached or the flow to it broke.
    #[error("cannot reach the SIP proxy {addr}: {source}")]
    Unreachable { addr: String, source: io::Error },
    /// TLS set-up failed (certificate, handshake).
    #[error("TLS to {addr} failed: {reason}")]
    Tls { addr: String, reason: String },
    /// A transaction ran out of time with no final answer.
    #[error("no answer to {0} within the transaction timeout")]
    Timeout(String),
    /// A request answered with a failure status.
    #[error("{method} answered {status} {reason}")]
    Rejected {
        method: String,
        status: u16,
        reason: String,
    },
    /// A setting that cannot work (empty user, bad URI).
    #[error("invalid setting {what}: {reason}")]
    Config { what: &'static str, reason: String },
    /// The phone has stopped; its handle outlived it.
    #[error("the phone has stopped")]
    Stopped,
    /// A call that is not (or no longer) there, or in the wrong state for the command.
    #[error("call {0}: {1}")]
    Call(u64, String),
    /// Socket errors.
    #[error(transparent)]
    Io(#[from] io::Error),
}

impl SipError {
    pub(crate) fn malformed(what: &'static str, reason: impl Into<String>) -> Self {
        SipError::Malformed {
            what,
            reason: reason.into(),
        }
    }
}

pub type Result<T> = std::result::Result<T, SipError>;
