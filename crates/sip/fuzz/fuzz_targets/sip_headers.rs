//! Fuzz target: header values, one per input line, through the URI, Via, name-addr, CSeq and digest parsers.
//! The body is [`cuecard_sip_fuzz::sip_headers`] (`../targets.rs`), shared with the stable
//! corpus replay.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cuecard_sip_fuzz::sip_headers(data));
