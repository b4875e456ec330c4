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
use cuecard_audio::dual::FarEndFeed;
use cuecard_audio::dual::{DualOptions, FarEnd};
use cuecard_calls::{CallRecord, Filed, LiveEvent, LiveSession, RecordingSource, SessionOptions};
use cuecard_coach::assist::{Assist, AssistConfig};
use cuecard_coach::documents;
use cuecard_coach::settings::CoachSettings;
use cuecard_core::{Call, CallDirection, Contact, ContactId};
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
    /// The phone call (the softphone's id) this coaches, when Cuecard placed or took it:
    /// the coach ends with the call.
    pub phone_call: Option<u64>,
}

/// What a running call shows, to every window.
#[derive(Clone, Serialize, specta::Type, Event)]
pub struct LiveCallEvent {
    pub event: LiveEvent,
}

/// The coach started on a call the phone placed or took.
#[derive(Clone, Serialize, specta::Type, Event)]
pub struct LiveCallStartedEvent {
    pub info: LiveCallInfo,
}

/// The call ended (from either window, or because the app quit).
#[derive(Clone, Serialize, specta::Type, Event)]
pub struct LiveCallEndedEvent {
    /// Where it was filed; `None` when discarded, not filed, or nothing was said.
    pub filed: Option<Filed>,
    /// What became of a call that was not filed (where its recording was kept, or why
    /// filing failed).
    pub message: Option<String>,
}

/// A live call in progress.
pub struct LiveCall {
    session: LiveSession,
    info: LiveCallInfo,
    playbook: cuecard_coach::Playbook,
    direction: CallDirection,
}

/// A softphone call the coach listens to: its far end comes from the call's media.
pub struct PhoneLink {
    pub call: u64,
    pub direction: CallDirection,
    pub feed: FarEndFeed,
}

/// The app's one live call: none, one opening its devices and engine (a second start
/// is refused meanwhile), or one running.
#[derive(Default)]
pub enum LiveSlot {
    #[default]
    Idle,
    Starting,
    Running(Box<LiveCall>),
}

fn playbook_error(e: impl std::fmt::Display) -> CommandError {
    CommandError::new("invalid", e.to_string())
}

fn slot(state: &AppState) -> Result<std::sync::MutexGuard<'_, LiveSlot>> {
    state
        .live
        .lock()
        .map_err(|_| CommandError::new("live", "the live call lock was poisoned; restart Cuecard"))
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tauri::async_runtime::spawn_blocking(work)
        .await
        .map_err(|e| CommandError::new("live", e.to_string()))?
}

#[tauri::command]
#[specta::specta]
pub async fn live_call_start(
    app: AppHandle,
    state: State<'_, AppState>,
    request: LiveCallRequest,
) -> Result<LiveCallInfo> {
    launch(app, &state, request, None).await
}

/// Held while a local model loads for the live coach, so a coach starting during a
/// warm-up waits for that model instead of loading a second copy beside it.
static ENGINE_LOAD: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Loads the live-call speech engine ahead of a coached phone call (when it is dialled
/// or answered), so the coach is listening by the time the call connects. Errors are
/// left for the coach's start to report.
pub async fn warm_up(app: AppHandle) {
    let state = app.state::<AppState>();
    let Some(path) = cuecard_store::speech_settings_path() else {
        return;
    };
    let Ok(settings) = SpeechSettings::load(&path) else {
        return;
    };
    let _loading = ENGINE_LOAD.lock().await;
    if cached_local_engine(&state, &settings).is_some() {
        return;
    }
    let loaded = blocking(move || Ok(live_call_engine(&settings, None)?.1)).await;
    match loaded {
        Ok(loaded) => remember_local_engine(&state, loaded),
        Err(e) => tracing::debug!(error = %e.message, "speech engine not warmed up"),
    }
}

/// Coaches a call the softphone placed or took (called when it connects).
pub async fn start_for_phone_call(
    app: AppHandle,
    call: u64,
    contact_id: Option<ContactId>,
    direction: CallDirection,
    mic: Option<String>,
    feed: FarEndFeed,
) -> Result<LiveCallInfo> {
    let state = app.state::<AppState>();
    let request = LiveCallRequest {
        contact_id,
        far_end: FarEndSource::None,
        mic,
    };
    let link = PhoneLink {
        call,
        direction,
        feed,
    };
    let info = launch(app.clone(), &state, request, Some(link)).await?;
    // Windows that did not start it (the phone screen did) learn of it here.
    let _ = LiveCallStartedEvent { info: info.clone() }.emit(&app);
    Ok(info)
}

async fn launch(
    app: AppHandle,
    state: &AppState,
    request: LiveCallRequest,
    phone: Option<PhoneLink>,
) -> Result<LiveCallInfo> {
    {
        let mut slot = slot(state)?;
        if !matches!(*slot, LiveSlot::Idle) {
            return Err(CommandError::new(
                "invalid",
                "a call is already being coached",
            ));
        }
        *slot = LiveSlot::Starting;
    }
    // The meter and the mic test let go of the devices.
    drop(state.meter.lock().ok().and_then(|mut m| m.take()));
    drop(state.speech.lock().ok().and_then(|mut s| s.live_mic.take()));
    let started = start(app.clone(), request, phone).await;
    let mut slot = slot(state)?;
    match started {
        Ok(call) => {
            let mut info = call.info.clone();
            *slot = LiveSlot::Running(Box::new(call));
            drop(slot);
            if let Err(e) = open_overlay(&app) {
                info.warning = Some(e.message);
            }
            tracing::info!(engine = ?info.engine, rep = %info.rep_device, far = ?info.far_device, "live call started");
            Ok(info)
        }
        Err(e) => {
            *slot = LiveSlot::Idle;
            Err(e)
        }
    }
}

/// Everything that opens a call, off the async runtime: the contact, the settings, the
/// engine (maybe loading a model), the keychain, the devices.
async fn start(
    app: AppHandle,
    request: LiveCallRequest,
    phone: Option<PhoneLink>,
) -> Result<LiveCall> {
    let state = app.state::<AppState>();
    let settings_path = cuecard_store::speech_settings_path()
        .ok_or_else(|| CommandError::new("invalid", "no data directory on this system"))?;
    let settings = SpeechSettings::load(&settings_path)?;
    // A warm-up in flight finishes first; then its engine is the cached one.
    let _loading = ENGINE_LOAD.lock().await;
    let cached = cached_local_engine(&state, &settings);
    let worker = app.clone();
    let (call, loaded) = blocking(move || {
        let state = worker.state::<AppState>();
        let contact = match request.contact_id {
            Some(id) => Some(with_store(&state, |store| {
                store.contact(id)?.ok_or_else(|| {
                    CommandError::new("not_found", format!("contact {id} does not exist"))
                })
            })?),
            None => None,
        };
        let playbook = documents::playbook(cuecard_store::playbook_path().as_deref())
            .map_err(playbook_error)?;
        let (assist, assist_problem) = match assist_for(&playbook) {
            Ok(assist) => (assist, None),
            // Suggestions are optional: the call goes on without them.
            Err(e) => {
                tracing::warn!(error = %e.message, "AI suggestions are off for this call");
                (None, Some(format!("AI suggestions are off: {}", e.message)))
            }
        };
        let recording = recording_path(&state)?;
        let (live, loaded) = live_call_engine(&settings, cached)?;
        let phone_call = phone.as_ref().map(|link| link.call);
        let direction = phone
            .as_ref()
            .map_or(CallDirection::Outbound, |link| link.direction);
        // The far end plays on the rep's speakers either way (a phone call's through
        // our own playback): cancel it from the mic so it is not transcribed as the rep.
        let echo_cancellation =
            phone.is_some() || matches!(request.far_end, FarEndSource::Speakers);
        let far = match (phone, request.far_end) {
            (Some(link), _) => FarEnd::Feed(link.feed),
            (None, FarEndSource::Speakers) => FarEnd::Device(CaptureOptions {
                device: Some(speakers_loopback()?),
                ..CaptureOptions::default()
            }),
            (None, FarEndSource::None) => FarEnd::None,
        };
        let (tx, rx) = std::sync::mpsc::channel::<LiveEvent>();
        let events_app = worker.clone();
        std::thread::Builder::new()
            .name("live-call-events".into())
            .spawn(move || {
                for event in rx {
                    let _ = LiveCallEvent { event }.emit(&events_app);
                }
            })
            .map_err(|e| CommandError::new("live", e.to_string()))?;
        let assist_on = assist.is_some();
        let session = LiveSession::start(
            std::sync::Arc::clone(&live.engine),
            SessionOptions {
                capture: DualOptions {
                    rep: CaptureOptions {
                        device: request.mic,
                        ..CaptureOptions::default()
                    },
                    far,
                    echo_cancellation,
                    vad: Default::default(),
                },
                language: live.language.clone(),
                playbook: playbook.clone(),
                assist,
                recording: Some(recording),
            },
            tx,
        )
        .map_err(call_error)?;
        let warning = [live.warning, assist_problem]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>();
        let info = LiveCallInfo {
            contact,
            rep_device: session.rep_device().to_owned(),
            far_device: session.far_device().map(str::to_owned),
            engine: live.kind,
            warning: (!warning.is_empty()).then(|| warning.join(" · ")),
            playbook: playbook.playbook.name.clone(),
            assist: assist_on,
            phone_call,
        };
        Ok((
            LiveCall {
                session,
                info,
                playbook,
                direction,
            },
            loaded,
        ))
    })
    .await?;
    remember_local_engine(&state, loaded);
    Ok(call)
}

/// The call being coached, if any (the overlay asks when it opens).
#[tauri::command]
#[specta::specta]
pub async fn live_call_info(state: State<'_, AppState>) -> Result<Option<LiveCallInfo>> {
    Ok(match &*slot(&state)? {
        LiveSlot::Running(call) => Some(call.info.clone()),
        _ => None,
    })
}

/// Brings the overlay back (after it was closed) while a call runs.
#[tauri::command]
#[specta::specta]
pub async fn live_call_overlay(app: AppHandle, state: State<'_, AppState>) -> Result<()> {
    if !matches!(*slot(&state)?, LiveSlot::Running(_)) {
        return Err(CommandError::new("invalid", "no call is being coached"));
    }
    open_overlay(&app)
}

/// Ends the call. With `save`, files it and returns where (a call where nothing could be
/// transcribed keeps its recording instead); otherwise its recording is deleted. The
/// overlay closes and every window hears `LiveCallEndedEvent`, whatever happens.
#[tauri::command]
#[specta::specta]
pub async fn live_call_stop(
    app: AppHandle,
    state: State<'_, AppState>,
    save: bool,
) -> Result<Option<Filed>> {
    let call = {
        let mut slot = slot(&state)?;
        match std::mem::take(&mut *slot) {
            LiveSlot::Running(call) => call,
            other => {
                let starting = matches!(other, LiveSlot::Starting);
                *slot = other;
                return Err(CommandError::new(
                    "invalid",
                    if starting {
                        "the call is still starting"
                    } else {
                        "no call is being coached"
                    },
                ));
            }
        }
    };
    finish(&app, *call, save, None).await
}

/// Stops `call`, files it (or not), closes the overlay and tells every window.
async fn finish(
    app: &AppHandle,
    call: LiveCall,
    save: bool,
    logged: Option<Call>,
) -> Result<Option<Filed>> {
    let worker = app.clone();
    let outcome = blocking(move || end_call(&worker, call, save, logged.as_ref())).await;
    if let Some(window) = app.get_webview_window(OVERLAY) {
        let _ = window.close();
    }
    let (filed, message) = match &outcome {
        Ok(ended) => (ended.filed.clone(), ended.message.clone()),
        Err(e) => (None, Some(e.message.clone())),
    };
    let _ = LiveCallEndedEvent {
        filed: filed.clone(),
        message,
    }
    .emit(app);
    outcome.map(|_| filed)
}

/// The softphone call `call` ended (already logged as `record`): if the coach was on
/// it, it ends too and is filed into that log entry.
pub async fn end_phone_call(app: &AppHandle, call: u64, record: Call) {
    let state = app.state::<AppState>();
    let coached = match state.live.lock() {
        Ok(mut slot) => match std::mem::take(&mut *slot) {
            LiveSlot::Running(live) if live.info.phone_call == Some(call) => Some(live),
            other => {
                *slot = other;
                None
            }
        },
        Err(_) => None,
    };
    if let Some(live) = coached {
        match finish(app, *live, true, Some(record)).await {
            Ok(filed) => tracing::info!(call, filed = filed.is_some(), "coached call filed"),
            Err(e) => tracing::warn!(call, error = %e.message, "coached call not filed"),
        }
    }
}

/// Ends the running call as the app quits: filed, so nothing said is lost.
pub fn end_on_exit(app: &AppHandle) {
    let state = app.state::<AppState>();
    let call = match state.live.lock() {
        Ok(mut slot) => match std::mem::take(&mut *slot) {
            LiveSlot::Running(call) => Some(call),
            _ => None,
        },
        Err(_) => None,
    };
    if let Some(call) = call {
        match end_call(app, *call, true, None) {
            Ok(ended) => tracing::info!(filed = ended.filed.is_some(), "live call filed on quit"),
            Err(e) => tracing::warn!(error = %e.message, "live call could not be filed on quit"),
        }
    }
}

/// How a call ended.
struct Ended {
    filed: Option<Filed>,
    message: Option<String>,
}

/// Stops `call` and files or discards it. Blocking.
fn end_call(app: &AppHandle, call: LiveCall, save: bool, logged: Option<&Call>) -> Result<Ended> {
    let LiveCall {
        session,
        info,
        playbook,
        direction,
    } = call;
    let finished = session.stop().map_err(call_error)?;
    tracing::info!(
        finals = finished.segments.len(),
        duration_ms = finished.duration_ms,
        save,
        "live call ended"
    );
    let kept = |why: &str| {
        finished.recording.as_ref().map_or_else(
            || why.to_owned(),
            |path| format!("{why}; the recording is kept at {}", path.display()),
        )
    };
    if !save {
        if let Some(path) = &finished.recording {
            let _ = std::fs::remove_file(path);
        }
        return Ok(Ended {
            filed: None,
            message: None,
        });
    }
    if finished.segments.is_empty() {
        return Ok(Ended {
            filed: None,
            message: Some(kept(
                "Nothing was transcribed, so there is no call to score",
            )),
        });
    }
    let filed = (|| {
        let rubric =
            documents::rubric(cuecard_store::rubric_path().as_deref()).map_err(playbook_error)?;
        let review = cuecard_calls::review_call(&playbook, &rubric, &finished.segments)
            .map_err(call_error)?;
        let state = app.state::<AppState>();
        let db = state.db_path.clone();
        with_store(&state, |store| {
            cuecard_calls::file_call(
                store,
                &db,
                CallRecord {
                    contact: info.contact.as_ref(),
                    direction,
                    segments: &finished.segments,
                    review: &review,
                    recording: finished.recording.as_deref().map(RecordingSource::Move),
                    duration_ms: Some(finished.duration_ms),
                    ended_at: cuecard_core::now(),
                    logged,
                },
            )
            .map_err(call_error)
        })
    })();
    match filed {
        Ok(filed) => Ok(Ended {
            filed: Some(filed),
            message: None,
        }),
        // Filing undoes itself; the recording stays where it was recorded.
        Err(e) => Err(CommandError::new(
            &e.kind,
            kept(&format!("The call could not be filed: {}", e.message)),
        )),
    }
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
