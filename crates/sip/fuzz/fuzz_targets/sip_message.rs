//! Fuzz target: a SIP message from the network, as a datagram and as a TCP stream.
//! The body is [`cuecard_sip_fuzz::sip_message`] (`../targets.rs`), shared with the stable
//! corpus replay.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cuecard_sip_fuzz::sip_message(data));
