//! Capture streams.
