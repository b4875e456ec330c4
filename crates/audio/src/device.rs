//! Audio devices: listing inputs and outputs with the defaults marked, and finding a
//! device by the id the user picked.
//!
//! On Linux cpal talks to PulseAudio (or PipeWire's PulseAudio server) directly when one
//! runs, which also lists each output's *monitor* — the far-end loopback source — and
//! falls back to ALSA otherwise. Ids are cpal's stable `host:name` strings, safe to keep
//! in settings.

use crate::error::{AudioError, Result};
use cpal::traits::{DeviceTrait, HostTrait};
use serde::Serialize;

/// Which way audio flows through a device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Input,
    Output,
}

/// A device as the settings screen and the CLI show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, specta::Type)]
pub struct DeviceInfo {
    /// Stable id (`host:name`), what settings store.
    pub id: String,
    /// What to show the user.
    pub name: String,
    pub direction: Direction,
    pub is_default: bool,
    /// An output's loopback (PulseAudio monitor): what the computer is playing.
    pub is_monitor: bool,
    /// The device's preferred format, when it reports one.
    pub sample_rate: Option<u32>,
    pub channels: Option<u16>,
}

/// The audio system: cpal's default host for this platform.
pub struct AudioHost {
    host: cpal::Host,
}

impl std::fmt::Debug for AudioHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AudioHost")
            .field("host", &self.host.id())
            .finish()
    }
}

pub(crate) fn device_id(device: &cpal::Device) -> String {
    device
        .id()
        .map(|id| id.to_string())
        .unwrap_or_else(|_| device_name(device))
}

pub(crate) fn device_name(device: &cpal::Device) -> String {
    device
        .description()
        .map(|d| d.name().to_owned())
        .unwrap_or_else(|_| "unnamed device".to_owned())
}

impl AudioHost {
    pub fn new() -> Result<Self> {
        Ok(Self {
            host: cpal::default_host(),
        })
    }

    /// The host's name ("PulseAudio", "ALSA", "CoreAudio", "WASAPI").
    pub fn name(&self) -> String {
        self.host.id().name().to_owned()
    }

    /// Every input and output, defaults marked.
    pub fn devices(&self) -> Result<Vec<DeviceInfo>> {
        let default_in = self.host.default_input_device().map(|d| device_id(&d));
        let default_out = self.host.default_output_device().map(|d| device_id(&d));
        let mut out = Vec::new();
        let inputs = self
            .host
            .input_devices()
            .map_err(|e| AudioError::HostUnavailable(e.to_string()))?;
        for device in inputs {
            let id = device_id(&device);
            let config = device.default_input_config().ok();
            out.push(DeviceInfo {
                is_default: default_in.as_deref() == Some(id.as_str()),
                is_monitor: id.ends_with(".monitor"),
                name: device_name(&device),
                direction: Direction::Input,
                sample_rate: config.as_ref().map(|c| c.sample_rate()),
                channels: config.as_ref().map(|c| c.channels()),
                id,
            });
        }
        let outputs = self
            .host
            .output_devices()
            .map_err(|e| AudioError::HostUnavailable(e.to_string()))?;
        for device in outputs {
            let id = device_id(&device);
            let config = device.default_output_config().ok();
            out.push(DeviceInfo {
                is_default: default_out.as_deref() == Some(id.as_str()),
                is_monitor: false,
                name: device_name(&device),
                direction: Direction::Output,
                sample_rate: config.as_ref().map(|c| c.sample_rate()),
                channels: config.as_ref().map(|c| c.channels()),
                id,
            });
        }
        Ok(out)
    }

    /// The input with this id (or display name), or the default input.
    pub fn input(&self, id: Option<&str>) -> Result<cpal::Device> {
        match id {
            None => self
                .host
                .default_input_device()
                .ok_or(AudioError::NoDefaultDevice("input")),
            Some(id) => self.find(id, Direction::Input),
        }
    }

    /// The output with this id (or display name), or the default output.
    pub fn output(&self, id: Option<&str>) -> Result<cpal::Device> {
        match id {
            None => self
                .host
                .default_output_device()
                .ok_or(AudioError::NoDefaultDevice("output")),
            Some(id) => self.find(id, Direction::Output),
        }
    }

    /// The id of the current default device of a direction, if there is one.
    pub fn default_id(&self, direction: Direction) -> Option<String> {
        match direction {
            Direction::Input => self.host.default_input_device(),
            Direction::Output => self.host.default_output_device(),
        }
        .map(|d| device_id(&d))
    }

    fn find(&self, id: &str, direction: Direction) -> Result<cpal::Device> {
        let devices = match direction {
            Direction::Input => self.host.input_devices().map(|d| d.collect::<Vec<_>>()),
            Direction::Output => self.host.output_devices().map(|d| d.collect::<Vec<_>>()),
        }
        .map_err(|e| AudioError::HostUnavailable(e.to_string()))?;
        // An exact id first, then the short name after `host:`, then the display name.
        let matches = |d: &cpal::Device| {
            let full = device_id(d);
            full == id || full.split_once(':').is_some_and(|(_, name)| name == id)
        };
        let by_id = devices.iter().find(|d| matches(d)).cloned();
        by_id
            .or_else(|| devices.into_iter().find(|d| device_name(d) == id))
            .ok_or_else(|| AudioError::DeviceNotFound(id.to_owned()))
    }
}
