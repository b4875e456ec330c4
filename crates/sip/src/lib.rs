//! Cuecard's SIP user agent (RFC 3261), written for one job: a desktop phone registered to
//! a Twilio SIP Domain (or any registrar/proxy) that places and takes calls.
//!
//! The layers, bottom up:
//!
//! - [`message`], [`parse`], [`uri`], [`header`]: SIP messages as values, a parser over raw
//!   bytes that never panics (fuzzed), and typed views of the headers the phone reads;
//! - [`digest`]: HTTP digest answers to 401/407 challenges (MD5, SHA-256, `-sess`,
//!   `qop=auth`, nonce counting);
//! - [`sdp`]: session descriptions and the offer/answer rules for one audio stream;
//! - [`transport`]: the flow to the proxy over UDP, TCP or TLS, with keep-alives;
//! - [`phone`]: the user agent itself — registration, calls, transactions and dialogs —
//!   driven by commands and reporting [`phone::PhoneEvent`]s.
//!
//! Media (RTP, SRTP, codecs) lives in `cuecard-media`; this crate only negotiates it.

pub mod digest;
mod error;
pub mod header;
pub mod message;
pub mod parse;
pub mod phone;
pub mod sdp;
pub mod transport;
pub mod uri;

pub use error::{Result, SipError};
pub use message::{Header, Headers, Message, Method, Request, Response};
pub use uri::Uri;
