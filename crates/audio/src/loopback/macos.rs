//! macOS loopback: a Core Audio process tap (macOS 14.6 and later) on the default output,
//! wrapped in a private aggregate device that can be read like an input. cpal creates
//! both when an output device is opened as an input, and removes them when the stream
//! ends. The first use asks the user for the "screen and system audio recording"
//! permission; a refusal surfaces as a device error naming the output.

use super::OUTPUT_LOOPBACK_PREFIX;
use crate::device::{AudioHost, Direction};
use crate::error::{AudioError, Result};

/// `loopback:<default output id>`.
pub fn default_output_tap(host: &AudioHost) -> Result<String> {
    let output = host
        .default_id(Direction::Output)
        .ok_or(AudioError::NoDefaultDevice("output"))?;
    Ok(format!("{OUTPUT_LOOPBACK_PREFIX}{output}"))
}
