//! Cuecard's client for OpenAI-compatible chat completions: OpenAI itself, or a server
//! on the rep's own machine that speaks the same API (llama.cpp's `llama-server`,
//! Ollama, vLLM). Used where a language model adds to the product's own rules: live
//! suggestions during a call, and later the practice personas and follow-up drafts.
//!
//! - [`chat`]: the client — `POST {base}/chat/completions`, the documented request and
//!   answer, errors that carry the server's own message.
//! - `standin` (feature `test-support`): a local server that follows the documented
//!   protocol, for tests.

pub mod chat;
#[cfg(feature = "test-support")]
pub mod standin;

pub use chat::{ChatClient, ChatConfig, ChatMessage, LlmError, Role};
