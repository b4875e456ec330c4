//! Local stand-ins for the cloud speech vendors, for tests (feature `test-support`).
//!
//! Each is a real server on `127.0.0.1:0` speaking the vendor's documented protocol —
//! WebSocket for Deepgram's live API, multipart HTTP for OpenAI's transcriptions — run on
//! its own thread so synchronous tests can use it, and shut down when its handle drops.
//! Neither recognises speech: what was "said" is scripted, and every request is recorded
//! for the test to inspect. Faults (refused keys, drops, stalls, bad frames, slow or
//! broken answers) are scripted per connection or per request.
//!
//! - [`deepgram`]: [`DeepgramStandin`] and the position-coded test audio it "hears".
//! - [`openai`]: [`OpenAiStandin`] for `POST /v1/audio/transcriptions`.

pub mod deepgram;
pub mod openai;

pub use deepgram::{
    ConnectionRecord, ControlMessage, DeepgramScript, DeepgramStandin, Fault, ScriptWord,
    coded_audio, script_words,
};
pub use openai::{
    OpenAiReply, OpenAiRequest, OpenAiScript, OpenAiStandin, StandinSegment, WavInfo,
};
