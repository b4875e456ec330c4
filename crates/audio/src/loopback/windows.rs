//! Windows loopback: WASAPI records what an output device renders when that device is
//! opened for capture with `AUDCLNT_STREAMFLAGS_LOOPBACK`, which cpal does for an
//! output device used as an input. No driver or virtual cable is needed.

use super::OUTPUT_LOOPBACK_PREFIX;
use crate::device::{AudioHost, Direction};
use crate::error::{AudioError, Result};

/// `loopback:<default output id>`.
pub fn default_output_loopback(host: &AudioHost) -> Result<String> {
    let output = host
        .default_id(Direction::Output)
        .ok_or(AudioError::NoDefaultDevice("output"))?;
    Ok(format!("{OUTPUT_LOOPBACK_PREFIX}{output}"))
}
