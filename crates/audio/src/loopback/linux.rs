//! Linux loopback: PulseAudio (and PipeWire's PulseAudio server) expose every output
//! ("sink") as an input named `<sink>.monitor`; recording it records what plays.

use crate::device::{AudioHost, Direction};
use crate::error::{AudioError, Result};

/// The monitor source of the current default output.
pub fn default_output_monitor(host: &AudioHost) -> Result<String> {
    let sink = host
        .default_id(Direction::Output)
        .ok_or(AudioError::NoDefaultDevice("output"))?;
    let monitor = format!("{sink}.monitor");
    let found = host
        .devices()?
        .into_iter()
        .any(|d| d.direction == Direction::Input && d.id == monitor);
    if found {
        Ok(monitor)
    } else {
        Err(AudioError::Unsupported(format!(
            "the audio system ({}) offers no loopback of {sink:?}: output loopback needs \
             PulseAudio or PipeWire",
            host.name()
        )))
    }
}
