//! Fuzz target: an SDP body: parse, write, parse again, and offer/answer with fixed local media.
//! The body is [`cuecard_sip_fuzz::sdp`] (`../targets.rs`), shared with the stable
//! corpus replay.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cuecard_sip_fuzz::sdp(data));
