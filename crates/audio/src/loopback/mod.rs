//! The far end when Cuecard did not place the call (a softphone or meeting app of the
//! rep's): whatever the computer plays, captured through the platform's output loopback.
//! Calls Cuecard places feed the far end from the call media instead
//! ([`crate::dual::far_end_feed`]).
//!
//! Each platform's mechanism lives in its own module:
//! - Linux ([`linux`]): the PulseAudio/PipeWire *monitor* source of the default output, an
//!   ordinary input device.
//! - Windows (`windows`): WASAPI loopback — the default output opened as an input.
//! - macOS (`macos`): a Core Audio process tap on the default output (macOS 14.6+).
//!
//! On Windows and macOS the loopback is named `loopback:<output id>`; the capture opens
//! that output with its output format (see `capture::Source::OutputLoopback`), code that
//! is compiled and type-checked on every platform. The two modules themselves are only
//! built on their own targets, which this project's CI cannot build or run.

#[cfg(target_os = "linux")]
pub mod linux;
#[cfg(target_os = "macos")]
pub mod macos;
#[cfg(target_os = "windows")]
pub mod windows;

use crate::device::AudioHost;
use crate::error::Result;

/// The prefix of a capture device id that means "what this output plays".
pub const OUTPUT_LOOPBACK_PREFIX: &str = "loopback:";

/// The input device id that captures what the default output plays.
pub fn default_output_loopback(host: &AudioHost) -> Result<String> {
    #[cfg(target_os = "linux")]
    {
        linux::default_output_monitor(host)
    }
    #[cfg(target_os = "windows")]
    {
        windows::default_output_loopback(host)
    }
    #[cfg(target_os = "macos")]
    {
        macos::default_output_tap(host)
    }
    #[cfg(not(any(target_os = "linux", target_os = "windows", target_os = "macos")))]
    {
        let _ = host;
        Err(crate::error::AudioError::Unsupported(
            "system output loopback is not available on this platform".into(),
        ))
    }
}
