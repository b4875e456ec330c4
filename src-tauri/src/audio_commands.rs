//! The commands behind Settings → Audio: device lists, the live level meter (pushed to
//! the UI as events), the mic test and the echo test. The work is in `cuecard_audio::check`.

use crate::error::CommandError;
use crate::state::AppState;
use cuecard_audio::capture::CaptureEvent;
use cuecard_audio::check::{EchoTestResult, MeterReading, MeterSession, MicTestResult};
use cuecard_audio::device::{AudioHost, DeviceInfo};
use cuecard_audio::{AudioError, loopback};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, State};
use tauri_specta::Event;

type Result<T> = std::result::Result<T, CommandError>;

impl From<AudioError> for CommandError {
    fn from(error: AudioError) -> Self {
        let kind = match &error {
            AudioError::DeviceNotFound(_) | AudioError::NoDefaultDevice(_) => "device_not_found",
            AudioError::HostUnavailable(_) => "audio_unavailable",
            _ => "audio",
        };
        tracing::warn!(%error, "audio command failed");
        Self::new(kind, error.to_string())
    }
}

/// The audio system and its devices.
#[derive(Serialize, specta::Type)]
pub struct AudioDevices {
    /// "PulseAudio", "ALSA", "CoreAudio", "WASAPI".
    pub host: String,
    pub devices: Vec<DeviceInfo>,
    /// The input that captures what the speakers play (the far end of calls in other
    /// apps)…
    pub loopback: Option<String>,
    /// …or why there is none.
    pub loopback_error: Option<String>,
}

/// A level reading from the running meter, about ten a second.
#[derive(Clone, Serialize, Deserialize, specta::Type, Event)]
pub struct AudioLevelEvent {
    pub device: String,
    pub rms_db: f32,
    pub peak_db: f32,
    pub clipped: bool,
    pub speaking: bool,
}

/// Something happened to the metered device (an error, a restart on another device).
#[derive(Clone, Serialize, Deserialize, specta::Type, Event)]
pub struct AudioDeviceEvent {
    pub message: String,
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> std::result::Result<T, AudioError> + Send + 'static,
) -> Result<T> {
    tauri::async_runtime::spawn_blocking(work)
        .await
        .map_err(|e| CommandError::new("audio", e.to_string()))?
        .map_err(CommandError::from)
}

#[tauri::command]
#[specta::specta]
pub async fn audio_devices() -> Result<AudioDevices> {
    blocking(|| {
        let host = AudioHost::new()?;
        let devices = host.devices()?;
        let (loopback, loopback_error) = match loopback::default_output_loopback(&host) {
            Ok(id) => (Some(id), None),
            Err(e) => (None, Some(e.to_string())),
        };
        Ok(AudioDevices {
            host: host.name(),
            devices,
            loopback,
            loopback_error,
        })
    })
    .await
}

/// Starts (or moves) the level meter to `device` (`None`: the default input). Readings
/// arrive as `AudioLevelEvent`s. Returns the id of the device metered.
#[tauri::command]
#[specta::specta]
pub async fn audio_meter_start(
    app: AppHandle,
    state: State<'_, AppState>,
    device: Option<String>,
) -> Result<String> {
    // Only one meter at a time: stop the old one before opening the device again.
    drop(state.meter.lock().ok().and_then(|mut m| m.take()));
    let levels = app.clone();
    let session = blocking(move || {
        MeterSession::start(
            device,
            move |r: MeterReading| {
                let _ = AudioLevelEvent {
                    device: r.device,
                    rms_db: r.level.rms_db,
                    peak_db: r.level.peak_db,
                    clipped: r.level.clipped,
                    speaking: r.speaking,
                }
                .emit(&levels);
            },
            move |e: CaptureEvent| {
                let message = match e {
                    CaptureEvent::Error { device, message } => format!("{device}: {message}"),
                    CaptureEvent::Restarted { device, reason } => {
                        format!("switched to {device}: {reason}")
                    }
                    CaptureEvent::Stopped { reason } => format!("stopped: {reason}"),
                    CaptureEvent::Started { .. } => return,
                };
                let _ = AudioDeviceEvent { message }.emit(&app);
            },
        )
    })
    .await?;
    let id = session.device().to_owned();
    if let Ok(mut meter) = state.meter.lock() {
        *meter = Some(session);
    }
    Ok(id)
}

#[tauri::command]
#[specta::specta]
pub async fn audio_meter_stop(state: State<'_, AppState>) -> Result<()> {
    let session = state.meter.lock().ok().and_then(|mut m| m.take());
    if let Some(session) = session {
        tauri::async_runtime::spawn_blocking(move || session.stop())
            .await
            .map_err(|e| CommandError::new("audio", e.to_string()))?;
    }
    Ok(())
}

/// Records `seconds` from the mic, plays it back on `output`, and says how it sounded.
#[tauri::command]
#[specta::specta]
pub async fn audio_mic_test(
    state: State<'_, AppState>,
    mic: Option<String>,
    output: Option<String>,
    seconds: f64,
) -> Result<MicTestResult> {
    if !(0.5..=30.0).contains(&seconds) {
        return Err(CommandError::new(
            "invalid",
            format!("a mic test lasts 0.5 to 30 seconds, not {seconds}"),
        ));
    }
    // The meter holds the device: pause it for the test.
    drop(state.meter.lock().ok().and_then(|mut m| m.take()));
    blocking(move || {
        let result = cuecard_audio::check::mic_test(mic, seconds)?;
        cuecard_audio::check::play(output.as_deref(), &result.samples)?;
        Ok(result)
    })
    .await
}

/// Plays the echo-test clip on `output` while listening on `mic`.
#[tauri::command]
#[specta::specta]
pub async fn audio_echo_test(
    state: State<'_, AppState>,
    mic: Option<String>,
    output: Option<String>,
) -> Result<EchoTestResult> {
    drop(state.meter.lock().ok().and_then(|mut m| m.take()));
    blocking(move || cuecard_audio::check::echo_test(mic, output)).await
}
