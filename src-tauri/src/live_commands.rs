//! The commands behind a coached live call: start runs a `cuecard_calls::LiveSession`
//! (the rep's mic, the far end from the speakers' loopback for a call in another app,
//! the live-call speech engine, the team's playbook) and opens the always-on-top
//! coaching overlay; its output goes to every window as `LiveCallEvent`s. Stop ends the
//! audio and files the call under its contact (recording, transcript, scorecard,
//! timeline), or throws it away.

use crate::commands::with_store;
use crate::error::CommandError;
use crate::speech_commands::{cached_local_engine, live_call_engine, remember_local_engine};
use crate::state::AppState;
use cuecard_audio::capture::CaptureOptions;
use cuecard_audio::dual::{DualOptions, FarEnd};
use cuecard_calls::{CallRecord, Filed, LiveEvent, LiveSession, RecordingSource, SessionOptions};
use cuecard_coach::assist::{Assist, AssistConfig};
use cuecard_coach::documents;
use cuecard_coach::settings::CoachSettings;
use cuecard_core::{CallDirection, Contact, ContactId};
use cuecard_secrets::{SecretName, Secrets};
use cuecard_stt::engine::EngineKind;
use cuecard_stt::settings::SpeechSettings;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use tauri::{AppHandle, Manager, State, WebviewUrl, WebviewWindowBuilder};
use tauri_specta::Event;

type Result<T> = std::result::Result<T, CommandError>;

/// The overlay window's label.
pub const OVERLAY: &str = "overlay";

/// The overlay's width, logical pixels.
const OVERLAY_WIDTH: f64 = 400.0;

/// Where the other side of the call is heard.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum FarEndSource {
    /// What the computer plays (the call runs in another app).
    Speakers,
    /// Nowhere: only the rep is transcribed (practice, an in-person meeting).
    None,
}

#[derive(Deserialize, specta::Type)]
pub struct LiveCallRequest {
    /// The contact the call is with, to file it under.
    pub contact_id: Option<ContactId>,
    pub far_end: FarEndSource,
    /// The rep's input device (`None`: the default).
    pub mic: Option<String>,
}

/// A call that started.
#[derive(Clone, Serialize, specta::Type)]
pub struct LiveCallInfo {
    pub contact: Option<Contact>,
    pub rep_device: String,
    pub far_device: Option<String>,
    pub engine: EngineKind,
    /// Why the chosen engine is not the one running.
    pub warning: Option<String>,
    pub playbook: String,
    /// Language-model suggestions are on.
    pub assist: bool,
}

/// What a running call shows, to every window.
#[derive(Clone, Serialize, specta::Type, Event)]
pub struct LiveCallEvent {
    pub event: LiveEvent,
}

/// The call ended (from either window).
#[derive(Clone, Serialize, specta::Type, Event)]
pub struct LiveCallEndedEvent {
    /// Where it was filed; `None` when discarded or nothing was said.
    pub filed: Option<Filed>,
}

/// A live call in progress.
pub struct LiveCall {
    session: LiveSession,
    info: LiveCallInfo,
    playbook: cuecard_coach::Playbook,
}

fn playbook_error(e: impl std::fmt::Display) -> CommandError {
    CommandError::new("invalid", e.to_string())
}

#[tauri::command]
#[specta::specta]
pub async fn live_call_start(
    app: AppHandle,
    state: State<'_, AppState>,
    request: LiveCallRequest,
) -> Result<LiveCallInfo> {
    if state.live.lock().map(|l| l.is_some()).unwrap_or(false) {
        return Err(CommandError::new(
            "invalid",
            "a call is already being coached",
        ));
    }
    let contact = match request.contact_id {
        Some(id) => Some(with_store(&state, |store| {
            store.contact(id)?.ok_or_else(|| {
                CommandError::new("not_found", format!("contact {id} does not exist"))
            })
        })?),
        None => None,
    };
    // The meter and the mic test let go of the devices.
    drop(state.meter.lock().ok().and_then(|mut m| m.take()));
    drop(state.speech.lock().ok().and_then(|mut s| s.live_mic.take()));
    let settings_path = cuecard_store::speech_settings_path()
        .ok_or_else(|| CommandError::new("invalid", "no data directory on this system"))?;
    let settings = SpeechSettings::load(&settings_path)?;
    let cached = cached_local_engine(&state, &settings);
    let recording = recording_path(&state)?;
    let playbook =
        documents::playbook(cuecard_store::playbook_path().as_deref()).map_err(playbook_error)?;
    let assist = assist_for(&playbook)?;
    let assist_on = assist.is_some();
    let events_app = app.clone();
    let far_end = request.far_end;
    let mic = request.mic;
    let session_playbook = playbook.clone();
    let (session, live, loaded) = tauri::async_runtime::spawn_blocking(move || {
        let (live, loaded) = live_call_engine(&settings, cached)?;
        let far = match far_end {
            FarEndSource::Speakers => FarEnd::Device(CaptureOptions {
                device: Some(speakers_loopback()?),
                ..CaptureOptions::default()
            }),
            FarEndSource::None => FarEnd::None,
        };
        let (tx, rx) = std::sync::mpsc::channel::<LiveEvent>();
        std::thread::Builder::new()
            .name("live-call-events".into())
            .spawn(move || {
                for event in rx {
                    let _ = LiveCallEvent { event }.emit(&events_app);
                }
            })
            .map_err(|e| CommandError::new("live", e.to_string()))?;
        let session = LiveSession::start(
            std::sync::Arc::clone(&live.engine),
            SessionOptions {
                capture: DualOptions {
                    rep: CaptureOptions {
                        device: mic,
                        ..CaptureOptions::default()
                    },
                    far,
                    // The speakers' sound reaches the mic: cancel it so the prospect is
                    // not transcribed as the rep.
                    echo_cancellation: matches!(far_end, FarEndSource::Speakers),
                    vad: Default::default(),
                },
                language: live.language.clone(),
                playbook: session_playbook,
                assist,
                recording: Some(recording),
            },
            tx,
        )
        .map_err(call_error)?;
        Ok::<_, CommandError>((session, live, loaded))
    })
    .await
    .map_err(|e| CommandError::new("live", e.to_string()))??;
    remember_local_engine(&state, loaded);
    let info = LiveCallInfo {
        contact,
        rep_device: session.rep_device().to_owned(),
        far_device: session.far_device().map(str::to_owned),
        engine: live.kind,
        warning: live.warning,
        playbook: playbook.playbook.name.clone(),
        assist: assist_on,
    };
    if let Ok(mut slot) = state.live.lock() {
        *slot = Some(LiveCall {
            session,
            info: info.clone(),
            playbook,
        });
    }
    open_overlay(&app)?;
    tracing::info!(engine = ?info.engine, rep = %info.rep_device, far = ?info.far_device, "live call started");
    Ok(info)
}

/// The call being coached, if any (the overlay asks when it opens).
#[tauri::command]
#[specta::specta]
pub async fn live_call_info(state: State<'_, AppState>) -> Result<Option<LiveCallInfo>> {
    Ok(state
        .live
        .lock()
        .ok()
        .and_then(|l| l.as_ref().map(|c| c.info.clone())))
}

/// Ends the call. With `save`, files it (when anything was said) and returns where;
/// otherwise its recording is deleted.
#[tauri::command]
#[specta::specta]
pub async fn live_call_stop(
    app: AppHandle,
    state: State<'_, AppState>,
    save: bool,
) -> Result<Option<Filed>> {
    let Some(call) = state.live.lock().ok().and_then(|mut l| l.take()) else {
        return Err(CommandError::new("invalid", "no call is being coached"));
    };
    let LiveCall {
        session,
        info,
        playbook,
    } = call;
    let finished = tauri::async_runtime::spawn_blocking(move || session.stop())
        .await
        .map_err(|e| CommandError::new("live", e.to_string()))?
        .map_err(call_error)?;
    if let Some(window) = app.get_webview_window(OVERLAY) {
        let _ = window.close();
    }
    let filed = if save && !finished.segments.is_empty() {
        let rubric =
            documents::rubric(cuecard_store::rubric_path().as_deref()).map_err(playbook_error)?;
        let review = cuecard_calls::review_call(&playbook, &rubric, &finished.segments)
            .map_err(call_error)?;
        let db = state.db_path.clone();
        Some(with_store(&state, |store| {
            cuecard_calls::file_call(
                store,
                &db,
                CallRecord {
                    contact: info.contact.as_ref(),
                    direction: CallDirection::Outbound,
                    segments: &finished.segments,
                    review: &review,
                    recording: finished.recording.as_deref().map(RecordingSource::Move),
                    ended_at: cuecard_core::now(),
                },
            )
            .map_err(call_error)
        })?)
    } else {
        if let Some(path) = &finished.recording {
            let _ = std::fs::remove_file(path);
        }
        None
    };
    tracing::info!(
        saved = filed.is_some(),
        duration_ms = finished.duration_ms,
        "live call ended"
    );
    let _ = LiveCallEndedEvent {
        filed: filed.clone(),
    }
    .emit(&app);
    Ok(filed)
}

/// The language-model assistant when Settings turn it on: the endpoint and model from
/// the coach's settings, the key from the keychain (none is fine for a local server).
fn assist_for(playbook: &cuecard_coach::Playbook) -> Result<Option<Assist>> {
    let path = cuecard_store::coach_settings_path()
        .ok_or_else(|| CommandError::new("invalid", "no data directory on this system"))?;
    let settings =
        CoachSettings::load(&path).map_err(|e| CommandError::new("invalid", e.to_string()))?;
    if !settings.assist.enabled {
        return Ok(None);
    }
    let key = Secrets::new()
        .get(SecretName::LlmApiKey)?
        .map(|(secret, _)| secret);
    let client = settings
        .assist
        .client(key)
        .map_err(|e| CommandError::new("invalid", e.to_string()))?;
    let config = AssistConfig {
        max_age: settings.assist.max_age(),
        playbook: playbook.playbook.name.clone(),
        ..AssistConfig::default()
    };
    Ok(Some(Assist::new(
        client,
        config,
        tauri::async_runtime::handle().inner().clone(),
    )))
}

fn call_error(error: cuecard_calls::CallError) -> CommandError {
    tracing::warn!(%error, "live call failed");
    CommandError::new("live", error.to_string())
}

/// A fresh file in the recordings directory for this call (renamed to the call's id
/// when it is filed).
fn recording_path(state: &AppState) -> Result<PathBuf> {
    let dir = cuecard_store::recordings_dir(&state.db_path);
    std::fs::create_dir_all(&dir).map_err(|e| {
        CommandError::new(
            "io",
            format!(
                "cannot create the recordings directory {}: {e}",
                dir.display()
            ),
        )
    })?;
    let stamp = cuecard_core::now().format("%Y%m%dT%H%M%S%.3fZ");
    Ok(dir.join(format!("live-{stamp}.ogg")))
}

/// The loopback input of the default output on this platform.
fn speakers_loopback() -> Result<String> {
    let host = cuecard_audio::device::AudioHost::new()
        .map_err(|e| CommandError::new("audio", e.to_string()))?;
    cuecard_audio::loopback::default_output_loopback(&host)
        .map_err(|e| CommandError::new("audio", e.to_string()))
}

/// The coaching overlay: a compact window that stays above the call app.
fn open_overlay(app: &AppHandle) -> Result<()> {
    if let Some(window) = app.get_webview_window(OVERLAY) {
        let _ = window.set_focus();
        return Ok(());
    }
    let mut builder =
        WebviewWindowBuilder::new(app, OVERLAY, WebviewUrl::App("overlay.html".into()))
            .title("Cuecard coach")
            .inner_size(OVERLAY_WIDTH, 680.0)
            .min_inner_size(320.0, 360.0)
            .always_on_top(true);
    // At the right edge of the main screen, where it covers least of a call app.
    if let Ok(Some(monitor)) = app.primary_monitor() {
        let size = monitor.size().to_logical::<f64>(monitor.scale_factor());
        builder = builder.position((size.width - OVERLAY_WIDTH - 24.0).max(0.0), 48.0);
    }
    builder.build().map_err(|e| {
        CommandError::new("window", format!("cannot open the coaching overlay: {e}"))
    })?;
    Ok(())
}
