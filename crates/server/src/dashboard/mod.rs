//! The managers' dashboard's data: whom a manager reviews, the team overview and rep
//! pages (aggregated from `call_facts`), the call list and a call's detail (from the
//! synced rows), and review comments, which the server writes into the change log like a
//! device would so they sync to the rep.
//!
//! A manager sees the reps of the teams they manage, an admin the whole organisation; a
//! rep gets 403 everywhere here. Anything outside the caller's scope is answered 404,
//! indistinguishable from an id that does not exist.

pub mod calls;
pub mod overview;
pub mod people;
pub mod reviews;

use crate::error::{ApiError, ApiResult};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

/// A person or team by id and name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ref {
    pub id: String,
    pub name: String,
}

/// A time span `[from, to)` in Unix milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub from_ms: i64,
    pub to_ms: i64,
}

/// The longest look-back the overview and rep pages accept.
pub const MAX_DAYS: u32 = 366;

impl Period {
    /// The last `days` days up to `now_ms`.
    pub fn last_days(days: Option<u32>, default: u32, now_ms: i64) -> ApiResult<Period> {
        let days = days.unwrap_or(default);
        if days == 0 || days > MAX_DAYS {
            return Err(ApiError::invalid(format!(
                "`days` must be 1 to {MAX_DAYS}, not {days}"
            )));
        }
        Ok(Period {
            from_ms: now_ms - i64::from(days) * 86_400_000,
            to_ms: now_ms,
        })
    }

    pub fn contains(&self, at_ms: i64) -> bool {
        (self.from_ms..self.to_ms).contains(&at_ms)
    }
}

/// `{from, to}` as RFC 3339, for answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PeriodOut {
    pub from: String,
    pub to: String,
}

impl From<Period> for PeriodOut {
    fn from(p: Period) -> Self {
        PeriodOut {
            from: rfc3339(p.from_ms),
            to: rfc3339(p.to_ms),
        }
    }
}

/// Unix milliseconds as an RFC 3339 UTC string (second precision).
pub fn rfc3339(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Parses an RFC 3339 query parameter, naming it when it is not one.
pub fn parse_time(name: &str, text: &str) -> ApiResult<i64> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp_millis())
        .map_err(|e| {
            ApiError::bad_request(format!(
                "`{name}` must be an RFC 3339 time such as 2026-11-01T00:00:00Z, not {text:?} ({e})"
            ))
        })
}

/// The five rubric categories, in the order the radar draws them.
pub const SKILLS: [(&str, &str); 5] = [
    ("discovery", "Discovery"),
    ("rapport", "Rapport"),
    ("objection_handling", "Objection handling"),
    ("closing", "Closing"),
    ("next_steps", "Next steps"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_bounded_and_printed_in_utc() {
        let now = 1_790_000_000_000;
        let p = Period::last_days(Some(7), 30, now).expect("valid");
        assert_eq!(p.to_ms - p.from_ms, 7 * 86_400_000);
        assert!(p.contains(now - 1) && !p.contains(now));
        assert!(Period::last_days(Some(0), 30, now).is_err());
        assert!(Period::last_days(Some(400), 30, now).is_err());
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(
            parse_time("from", "1970-01-01T00:00:01+00:00").ok(),
            Some(1000)
        );
        let err = parse_time("from", "yesterday").expect_err("not a time");
        assert!(err.message.contains("`from`"), "{}", err.message);
    }
}
