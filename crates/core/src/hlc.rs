//! Hybrid logical clock (HLC) stamps for the sync outbox.
//!
//! A stamp is (wall-clock milliseconds, logical counter, node). Stamps from one device
//! strictly increase even when the wall clock stalls or steps backwards, and a stamp
//! observed from another device pushes the local clock past it, so "last writer wins"
//! compares causally sensible values. The text form sorts the same way the values do,
//! which lets SQLite order stamps as plain strings.
//!
//! Written here rather than taken from a crate: the few published HLC crates carry their
//! own node-id and transport types, and this is a few dozen lines whose wire format we want
//! to own.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One hybrid-logical-clock stamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hlc {
    /// Milliseconds since the Unix epoch (physical part).
    pub wall_ms: u64,
    /// Logical counter, for events within one millisecond or while the clock lags.
    pub counter: u32,
    /// The node (device) that minted the stamp, to break exact ties.
    pub node: u32,
}

/// Why a text stamp could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "invalid HLC stamp {0:?}: expected WALLMS-COUNTER-NODE, e.g. 001700000000000-00000-0000a1b2"
)]
pub struct HlcParseError(pub String);

impl fmt::Display for Hlc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:015}-{:05}-{:08x}",
            self.wall_ms, self.counter, self.node
        )
    }
}

impl FromStr for Hlc {
    type Err = HlcParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || HlcParseError(s.to_owned());
        let mut parts = s.split('-');
        let (Some(wall), Some(counter), Some(node), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(err());
        };
        if wall.len() != 15 || counter.len() != 5 || node.len() != 8 {
            return Err(err());
        }
        Ok(Hlc {
            wall_ms: wall.parse().map_err(|_| err())?,
            counter: counter.parse().map_err(|_| err())?,
            node: u32::from_str_radix(node, 16).map_err(|_| err())?,
        })
    }
}

impl Serialize for Hlc {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Hlc {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The clock of one node: mints increasing stamps and merges stamps seen from others.
#[derive(Clone, Debug)]
pub struct HlcClock {
    last: Hlc,
    node: u32,
}

impl HlcClock {
    /// A clock for `node` that continues after `last` (e.g. the newest stamp persisted).
    pub fn new(node: u32, last: Option<Hlc>) -> Self {
        Self {
            last: last.unwrap_or_default(),
            node,
        }
    }

    /// The newest stamp this clock has minted or observed.
    pub fn last(&self) -> Hlc {
        self.last
    }

    /// Mints a stamp for a local event at physical time `now_ms`.
    pub fn tick(&mut self, now_ms: u64) -> Hlc {
        self.last = if now_ms > self.last.wall_ms {
            Hlc {
                wall_ms: now_ms,
                counter: 0,
                node: self.node,
            }
        } else {
            self.bump(self.last.wall_ms, self.last.counter)
        };
        self.last
    }

    /// Merges a stamp received from another node, returning the stamp for the receive event.
    pub fn observe(&mut self, remote: Hlc, now_ms: u64) -> Hlc {
        let wall = now_ms.max(self.last.wall_ms).max(remote.wall_ms);
        self.last = if wall == self.last.wall_ms && wall == remote.wall_ms {
            self.bump(wall, self.last.counter.max(remote.counter))
        } else if wall == self.last.wall_ms {
            self.bump(wall, self.last.counter)
        } else if wall == remote.wall_ms {
            self.bump(wall, remote.counter)
        } else {
            Hlc {
                wall_ms: wall,
                counter: 0,
                node: self.node,
            }
        };
        self.last
    }

    fn bump(&self, wall_ms: u64, counter: u32) -> Hlc {
        match counter.checked_add(1) {
            Some(counter) => Hlc {
                wall_ms,
                counter,
                node: self.node,
            },
            // Counter exhausted within one millisecond: borrow the next millisecond.
            None => Hlc {
                wall_ms: wall_ms + 1,
                counter: 0,
                node: self.node,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_increase_when_the_wall_clock_stalls_or_steps_back() {
        let mut clock = HlcClock::new(7, None);
        let a = clock.tick(1_000);
        let b = clock.tick(1_000);
        let c = clock.tick(900);
        let d = clock.tick(2_000);
        assert!(a < b && b < c && c < d);
        assert_eq!(c.wall_ms, 1_000);
        assert_eq!(
            d,
            Hlc {
                wall_ms: 2_000,
                counter: 0,
                node: 7
            }
        );
    }

    #[test]
    fn observing_a_remote_stamp_moves_past_it() {
        let mut clock = HlcClock::new(1, None);
        clock.tick(1_000);
        let remote = Hlc {
            wall_ms: 5_000,
            counter: 3,
            node: 2,
        };
        let seen = clock.observe(remote, 1_100);
        assert!(seen > remote);
        assert!(clock.tick(1_200) > seen);
    }

    #[test]
    fn text_form_round_trips_and_sorts_like_values() {
        let small = Hlc {
            wall_ms: 99,
            counter: 10,
            node: 0xffff,
        };
        let big = Hlc {
            wall_ms: 1_700_000_000_000,
            counter: 1,
            node: 1,
        };
        assert_eq!(small.to_string().parse::<Hlc>(), Ok(small));
        assert!(small.to_string() < big.to_string());
        assert!("12-1-1".parse::<Hlc>().is_err());
        assert!("".parse::<Hlc>().is_err());
        assert!("00000000000000x-00000-00000000".parse::<Hlc>().is_err());
    }
}
