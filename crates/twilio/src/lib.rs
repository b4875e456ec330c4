//! Cuecard's Twilio side. The app is a SIP phone registered to a Twilio SIP Domain; this
//! crate is everything else it needs from Twilio:
//!
//! - [`TwilioClient`]: the REST API (`api.twilio.com/2010-04-01`, base URL configurable)
//!   for SIP Domains, credential lists and their mappings, Calls, Recordings, Messages
//!   (follow-up texts) and the account's phone numbers;
//! - [`setup::ensure_sip_domain`]: finds or creates the Domain with registration on, the
//!   credential list holding the rep's SIP login, both mappings and the voice URL;
//! - [`token::AccessToken`]: access tokens (JWT) with a voice grant;
//! - [`signature`]: `X-Twilio-Signature` checks for webhooks;
//! - [`twiml`]: the voice URL's answer, `<Dial callerId><Number>`.
//!
//! With the `test-support` feature, [`standin`] is a local stand-in for the REST API
//! that checks every request it gets and every answer it gives against Twilio's own
//! OpenAPI description.

pub mod calls;
mod client;
mod credentials;
mod error;
pub mod messages;
pub mod numbers;
pub mod setup;
pub mod signature;
pub mod sip;
#[cfg(feature = "test-support")]
pub mod standin;
pub mod token;
pub mod twiml;

pub use client::{DEFAULT_BASE_URL, TwilioClient};
pub use credentials::{Auth, Credentials};
pub use error::{Result, TwilioError};
