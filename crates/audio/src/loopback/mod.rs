//! The far end when Cuecard did not place the call (a softphone or meeting app of the
//! rep's): whatever the computer plays, captured through the platform's output loopback.
//! Calls Cuecard places feed the far end from the call media instead.
//!
//! Each platform's mechanism lives in its own module:
//! - Linux: the PulseAudio/PipeWire *monitor* source of the default output ([`linux`]).
//! - macOS (Core Audio process taps) and Windows (WASAPI loopback): not built yet; the
//!   CLI and the app say so instead of capturing silence.

#[cfg(target_os = "linux")]
pub mod linux;

use crate::device::AudioHost;
use crate::error::Result;

/// The input device id that captures what the default output plays.
pub fn default_output_loopback(host: &AudioHost) -> Result<String> {
    #[cfg(target_os = "linux")]
    {
        linux::default_output_monitor(host)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = host;
        Err(crate::error::AudioError::Unsupported(
            "system output loopback is not available on this platform yet".into(),
        ))
    }
}
