//! Call recordings on the server: the organisation's policy, resumable uploads by the
//! call's rep, the recording stored per call, and the byte ranges a listener asks for.
//!
//! The call row syncs first (its `recording` field names the file's format, duration and
//! hash); the file follows through [`uploads`] when the policy lets it leave the device,
//! and lands in the [`crate::blobs`] store once its hash checks out. Managers then stream
//! it with range requests (see `routes/recordings.rs`).

pub mod policy;
pub mod range;
pub mod stored;
pub mod uploads;
