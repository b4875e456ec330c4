//! Who is calling: passwords, tokens, the caller extractor and the auth rate limit.

pub mod caller;
pub mod password;
pub mod ratelimit;
pub mod tokens;

pub use caller::Caller;
