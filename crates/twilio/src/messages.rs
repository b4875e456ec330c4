//! Text messages: the follow-up a rep sends after a call.

use crate::client::TwilioClient;
use crate::error::{Result, TwilioError};
use serde::Deserialize;

/// A message as Twilio reports it.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Message {
    pub sid: String,
    pub to: Option<String>,
    pub from: Option<String>,
    pub body: Option<String>,
    /// `queued`, `sending`, `sent`, `delivered`, `failed`, …
    pub status: Option<String>,
    pub error_code: Option<i64>,
    pub error_message: Option<String>,
}

/// Who a new message is sent from.
#[derive(Clone, Debug)]
pub enum Sender {
    /// One of the account's numbers.
    Number(String),
    /// A Messaging Service (`MG…`), which picks the number.
    MessagingService(String),
}

impl TwilioClient {
    /// Sends a text message.
    pub fn send_message(&self, to: &str, from: &Sender, body: &str) -> Result<Message> {
        if body.trim().is_empty() {
            return Err(TwilioError::invalid("message", "the text is empty"));
        }
        // Twilio refuses bodies over 1,600 characters.
        if body.chars().count() > 1600 {
            return Err(TwilioError::invalid(
                "message",
                format!("{} characters is over Twilio's 1,600", body.chars().count()),
            ));
        }
        let mut form = vec![("To", to.to_owned()), ("Body", body.to_owned())];
        match from {
            Sender::Number(number) => form.push(("From", number.clone())),
            Sender::MessagingService(sid) => form.push(("MessagingServiceSid", sid.clone())),
        }
        self.post("sending the message", "/Messages.json", &form)
    }

    /// Messages sent to `to` (or all of them).
    pub fn messages(&self, to: Option<&str>) -> Result<Vec<Message>> {
        let query: Vec<(&str, &str)> = to.map(|to| ("To", to)).into_iter().collect();
        self.list("the message list", "/Messages.json", "messages", &query)
    }
}
