//! Calls placed or received through Twilio, and their recordings.

use crate::client::TwilioClient;
use crate::credentials::check_sid;
use crate::error::{Result, TwilioError};
use serde::Deserialize;
use std::path::Path;

/// A call as Twilio reports it.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Call {
    pub sid: String,
    /// `queued`, `ringing`, `in-progress`, `completed`, `busy`, `failed`, `no-answer` or
    /// `canceled`.
    pub status: Option<String>,
    pub to: Option<String>,
    pub from: Option<String>,
    /// `inbound`, `outbound-api` or `outbound-dial`.
    pub direction: Option<String>,
    /// Seconds, as text.
    pub duration: Option<String>,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub parent_call_sid: Option<String>,
}

/// What a new call does once answered: a TwiML URL or inline TwiML.
#[derive(Clone, Debug)]
pub enum CallInstructions {
    Url(String),
    Twiml(String),
}

/// A call for Twilio to place.
#[derive(Clone, Debug)]
pub struct NewCall {
    /// A number (E.164), `sip:` address or `client:` identity.
    pub to: String,
    /// One of the account's numbers, or a verified caller ID.
    pub from: String,
    pub instructions: CallInstructions,
    /// Record the call on Twilio's side.
    pub record: bool,
    pub status_callback: Option<String>,
}

/// A recording Twilio holds.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Recording {
    pub sid: String,
    pub call_sid: Option<String>,
    /// Seconds, as text.
    pub duration: Option<String>,
    pub status: Option<String>,
    pub channels: Option<u32>,
    pub start_time: Option<String>,
}

/// The media formats Twilio serves a recording in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordingFormat {
    Wav,
    Mp3,
}

impl TwilioClient {
    /// Places a call.
    pub fn create_call(&self, call: &NewCall) -> Result<Call> {
        if call.to.trim().is_empty() || call.from.trim().is_empty() {
            return Err(TwilioError::invalid(
                "call",
                "needs both a To and a From number",
            ));
        }
        let mut form = vec![("To", call.to.clone()), ("From", call.from.clone())];
        match &call.instructions {
            CallInstructions::Url(url) => form.push(("Url", url.clone())),
            CallInstructions::Twiml(twiml) => form.push(("Twiml", twiml.clone())),
        }
        if call.record {
            form.push(("Record", "true".into()));
        }
        if let Some(callback) = &call.status_callback {
            form.push(("StatusCallback", callback.clone()));
        }
        self.post("placing the call", "/Calls.json", &form)
    }

    pub fn call(&self, sid: &str) -> Result<Call> {
        check_sid("call SID", "CA", sid)?;
        self.get("reading the call", &format!("/Calls/{sid}.json"))
    }

    /// The account's calls, newest first; `to` filters by the called number.
    pub fn calls(&self, to: Option<&str>) -> Result<Vec<Call>> {
        let query: Vec<(&str, &str)> = to.map(|to| ("To", to)).into_iter().collect();
        self.list("the call list", "/Calls.json", "calls", &query)
    }

    /// Ends a call in progress (or cancels one still ringing).
    pub fn hang_up(&self, sid: &str) -> Result<Call> {
        check_sid("call SID", "CA", sid)?;
        self.post(
            "hanging up the call",
            &format!("/Calls/{sid}.json"),
            &[("Status", "completed".into())],
        )
    }

    /// The recordings of a call.
    pub fn call_recordings(&self, call_sid: &str) -> Result<Vec<Recording>> {
        check_sid("call SID", "CA", call_sid)?;
        self.list(
            "the call's recordings",
            &format!("/Calls/{call_sid}/Recordings.json"),
            "recordings",
            &[],
        )
    }

    pub fn recording(&self, sid: &str) -> Result<Recording> {
        check_sid("recording SID", "RE", sid)?;
        self.get("reading the recording", &format!("/Recordings/{sid}.json"))
    }

    pub fn delete_recording(&self, sid: &str) -> Result<()> {
        check_sid("recording SID", "RE", sid)?;
        self.delete("deleting the recording", &format!("/Recordings/{sid}.json"))
    }

    /// Saves a recording's audio to `to`; returns the bytes written.
    pub fn download_recording(&self, sid: &str, format: RecordingFormat, to: &Path) -> Result<u64> {
        check_sid("recording SID", "RE", sid)?;
        let extension = match format {
            RecordingFormat::Wav => "wav",
            RecordingFormat::Mp3 => "mp3",
        };
        self.download(
            "downloading the recording",
            &format!("/Recordings/{sid}.{extension}"),
            to,
        )
    }
}
