//! Small helpers shared by the repositories for moving values in and out of SQLite.

use crate::error::{Result, StoreError};
use cuecard_core::Timestamp;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// `Ok(None)` for "no rows", other errors passed through.
pub(crate) fn optional<T>(result: rusqlite::Result<T>) -> Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Timestamps are stored as RFC 3339 text with milliseconds and a `Z`, which sorts correctly.
pub(crate) fn ts(value: &Timestamp) -> String {
    value.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub(crate) fn parse_ts(what: &'static str, text: &str) -> Result<Timestamp> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| StoreError::decode(what, format!("{text:?}: {e}")))
}

pub(crate) fn parse_opt_ts(what: &'static str, text: Option<String>) -> Result<Option<Timestamp>> {
    text.map(|t| parse_ts(what, &t)).transpose()
}

pub(crate) fn to_json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::decode("value", e))
}

pub(crate) fn from_json<T: DeserializeOwned>(what: &'static str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| StoreError::decode(what, e))
}

pub(crate) fn parse_id<T: std::str::FromStr>(what: &'static str, text: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    text.parse()
        .map_err(|e: T::Err| StoreError::decode(what, format!("{text:?}: {e}")))
}

/// A serde enum's wire name (`"in_progress"`), for storing enums as text.
pub(crate) fn enum_name<T: Serialize>(value: &T) -> Result<String> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => Ok(name),
        Ok(other) => Err(StoreError::decode(
            "enum",
            format!("not a unit variant: {other}"),
        )),
        Err(e) => Err(StoreError::decode("enum", e)),
    }
}

pub(crate) fn parse_enum<T: DeserializeOwned>(what: &'static str, name: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(name.to_owned()))
        .map_err(|e| StoreError::decode(what, format!("{name:?}: {e}")))
}
