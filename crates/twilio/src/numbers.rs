//! The account's own phone numbers: the caller IDs a rep can call from.

use crate::client::TwilioClient;
use crate::error::Result;
use serde::Deserialize;

/// A number the account owns.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct IncomingPhoneNumber {
    pub sid: String,
    /// E.164.
    pub phone_number: String,
    pub friendly_name: Option<String>,
    pub voice_url: Option<String>,
    pub capabilities: Option<Capabilities>,
}

/// What a number can do.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Capabilities {
    pub voice: bool,
    pub sms: bool,
    pub mms: bool,
}

impl TwilioClient {
    /// Every number of the account.
    pub fn phone_numbers(&self) -> Result<Vec<IncomingPhoneNumber>> {
        self.list(
            "the phone number list",
            "/IncomingPhoneNumbers.json",
            "incoming_phone_numbers",
            &[],
        )
    }
}
