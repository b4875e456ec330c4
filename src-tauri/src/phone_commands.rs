//! The commands behind the phone: Settings → Phone (the SIP login, its password in the
//! keychain, a connection test), going online, the dialer and in-call controls, and the
//! call log. The softphone (`cuecard_softphone`) runs inside the app once the rep goes
//! online; after every change its board (`cuecard_softphone::board`) goes to every window
//! as a `PhoneEvent`. Calls play on the rep's devices; with coaching on, a call's far end
//! feeds the live coach directly, and the coached call is filed into the same call-log
//! entry when it ends.

use crate::commands::with_store;
use crate::error::CommandError;
use crate::live_commands;
use crate::state::AppState;
use cuecard_audio::dual::{FarEndFeed, far_end_feed};
use cuecard_core::{Call, ContactId};
use cuecard_secrets::{SecretName, Secrets};
use cuecard_sip::phone::CallId;
use cuecard_softphone::board::{Board, PhoneNotice};
use cuecard_softphone::devices::DeviceOptions;
use cuecard_softphone::dialing;
use cuecard_softphone::settings::PhoneSettings;
use cuecard_softphone::{CallAudio, ConnectionTest, Softphone, SoftphoneError, SoftphoneEvent};
use cuecard_store::KeyKind;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tauri::{AppHandle, Manager, State};
use tauri_specta::Event;

type Result<T> = std::result::Result<T, CommandError>;

/// How long "Test connection" waits for the SIP Domain.
const TEST_TIMEOUT: Duration = Duration::from_secs(15);

/// The phone inside the app.
#[derive(Default)]
pub struct PhoneState {
    softphone: Option<Softphone>,
    board: Board,
    /// The devices the next call's audio opens (the dialer passes Settings → Audio's).
    devices: Arc<Mutex<CallDevices>>,
    /// Far-end feeds of calls whose media is up, for the coach.
    feeds: Arc<Mutex<HashMap<u64, FarEndFeed>>>,
    /// Calls to coach once they connect.
    coach: HashSet<u64>,
    /// Counts softphone starts: events from a phone that was replaced are ignored.
    generation: u64,
}

#[derive(Clone, Default)]
struct CallDevices {
    mic: Option<String>,
    speaker: Option<String>,
}

/// The whole board, after any change, to every window.
#[derive(Clone, Serialize, specta::Type, Event)]
pub struct PhoneEvent {
    pub board: Board,
    /// Something to say once (a toast).
    pub notice: Option<PhoneNotice>,
}

/// Settings → Phone as the screen shows it.
#[derive(Serialize, specta::Type)]
pub struct PhoneSettingsView {
    pub settings: PhoneSettings,
    /// A SIP password is in the keychain (or in `$CUECARD_SIP_PASSWORD`).
    pub password_saved: bool,
}

/// How a call's audio should run.
#[derive(Clone, Debug, Default, Deserialize, specta::Type)]
pub struct CallOptions {
    /// Input device (`None`: the default), from Settings → Audio.
    pub mic: Option<String>,
    /// Output device (`None`: the default).
    pub speaker: Option<String>,
    /// Start the live coach when the call connects.
    pub coach: bool,
}

/// What the dialer asks for.
#[derive(Deserialize, specta::Type)]
pub struct DialRequest {
    /// A number (national numbers read in `region`), an extension or a SIP address.
    pub target: String,
    /// ISO 3166 region for numbers without a country code.
    pub region: String,
    /// The contact being called, when the rep picked one.
    pub contact_id: Option<ContactId>,
    pub options: CallOptions,
}

/// One row of the call log.
#[derive(Serialize, specta::Type)]
pub struct CallLogEntry {
    pub call: Call,
    pub contact_name: Option<String>,
}

fn phone(state: &AppState) -> Result<MutexGuard<'_, PhoneState>> {
    state
        .phone
        .lock()
        .map_err(|_| CommandError::new("phone", "the phone lock was poisoned; restart Cuecard"))
}

fn softphone_error(error: SoftphoneError) -> CommandError {
    let kind = match &error {
        SoftphoneError::Dial(_) => "invalid",
        SoftphoneError::DoNotCall(_) => "do_not_call",
        SoftphoneError::NotSetUp(_) => "not_set_up",
        SoftphoneError::Settings { .. } => "invalid",
        _ => "phone",
    };
    tracing::warn!(%error, "phone command failed");
    CommandError::new(kind, error.to_string())
}

fn settings_path() -> Result<std::path::PathBuf> {
    cuecard_store::phone_settings_path()
        .ok_or_else(|| CommandError::new("invalid", "no config directory on this system"))
}

fn password_saved() -> bool {
    matches!(Secrets::new().get(SecretName::SipPassword), Ok(Some(_)))
}

fn sip_password(typed: Option<String>) -> Result<String> {
    if let Some(typed) = typed.filter(|p| !p.is_empty()) {
        return Ok(typed);
    }
    Ok(Secrets::new()
        .get(SecretName::SipPassword)?
        .ok_or_else(|| {
            CommandError::new(
                "not_set_up",
                "no SIP password yet: enter it in Settings → Phone",
            )
        })?
        .0
        .expose()
        .to_string())
}

/// Sends the board to every window.
fn publish(app: &AppHandle, board: Board, notice: Option<PhoneNotice>) {
    if let Err(e) = (PhoneEvent { board, notice }).emit(app) {
        tracing::warn!("phone event not delivered: {e}");
    }
}

#[tauri::command]
#[specta::specta]
pub async fn phone_settings() -> Result<PhoneSettingsView> {
    let settings = PhoneSettings::load(&settings_path()?).map_err(softphone_error)?;
    Ok(PhoneSettingsView {
        settings,
        password_saved: password_saved(),
    })
}

/// Saves the login; a non-empty `password` goes to the keychain (an empty one keeps the
/// saved password). A phone that is online signs in again with them (at once when no
/// call is up; otherwise the next time it goes online).
#[tauri::command]
#[specta::specta]
pub async fn save_phone_settings(
    app: AppHandle,
    state: State<'_, AppState>,
    settings: PhoneSettings,
    password: Option<String>,
) -> Result<PhoneSettingsView> {
    if settings.user.trim().is_empty() {
        return Err(CommandError::new("invalid", "the SIP user name is empty"));
    }
    if settings.domain.trim().is_empty() {
        return Err(CommandError::new("invalid", "the SIP Domain is empty"));
    }
    // The settings must make a working configuration before they are kept.
    settings.to_config("check").map_err(softphone_error)?;
    settings.save(&settings_path()?).map_err(softphone_error)?;
    if let Some(password) = password.filter(|p| !p.is_empty()) {
        Secrets::new().set(SecretName::SipPassword, &password)?;
    }
    tracing::info!(user = %settings.user, domain = %settings.domain, "phone settings saved");
    let restart = {
        let mut p = phone(&state)?;
        if p.board.live_calls().next().is_none() {
            p.softphone.take()
        } else {
            None
        }
    };
    if let Some(old) = restart {
        old.shutdown().await;
        if let Err(e) = ensure_online(&app, &state).await {
            tracing::warn!(error = %e.message, "the phone did not come back online");
            let board = {
                let mut p = phone(&state)?;
                p.board = Board::default();
                p.board.clone()
            };
            publish(&app, board, None);
        }
    }
    Ok(PhoneSettingsView {
        settings,
        password_saved: password_saved(),
    })
}

/// Registers with these settings (and the typed password, else the saved one), then
/// unregisters: nothing is saved.
#[tauri::command]
#[specta::specta]
pub async fn phone_test(
    settings: PhoneSettings,
    password: Option<String>,
) -> Result<ConnectionTest> {
    let password = sip_password(password)?;
    let config = settings.to_config(&password).map_err(softphone_error)?;
    cuecard_softphone::test_connection(config, TEST_TIMEOUT)
        .await
        .map_err(softphone_error)
}

/// The board now (a window that opens asks).
#[tauri::command]
#[specta::specta]
pub async fn phone_board(state: State<'_, AppState>) -> Result<Board> {
    Ok(phone(&state)?.board.clone())
}

/// Starts the phone (if it is not running) and registers.
#[tauri::command]
#[specta::specta]
pub async fn phone_go_online(app: AppHandle, state: State<'_, AppState>) -> Result<Board> {
    ensure_online(&app, &state).await?;
    Ok(phone(&state)?.board.clone())
}

/// Unregisters and stops the phone (ending any call).
#[tauri::command]
#[specta::specta]
pub async fn phone_go_offline(app: AppHandle, state: State<'_, AppState>) -> Result<Board> {
    let running = phone(&state)?.softphone.take();
    if let Some(softphone) = running {
        softphone.shutdown().await;
    }
    let board = {
        let mut p = phone(&state)?;
        p.board = Board::default();
        p.board.clone()
    };
    publish(&app, board.clone(), None);
    Ok(board)
}

/// The running softphone, started and registering if it was not.
async fn ensure_online(app: &AppHandle, state: &AppState) -> Result<Softphone> {
    if let Some(softphone) = phone(state)?.softphone.clone() {
        return Ok(softphone);
    }
    let settings = PhoneSettings::load(&settings_path()?).map_err(softphone_error)?;
    let password = sip_password(None)?;
    let config = settings.to_config(&password).map_err(softphone_error)?;
    let account = format!("{}@{}", config.user, config.domain);
    let (devices, feeds) = {
        let p = phone(state)?;
        (p.devices.clone(), p.feeds.clone())
    };
    let chooser: cuecard_softphone::AudioChooser = Box::new(move |call: CallId| {
        let chosen = devices.lock().map(|d| d.clone()).unwrap_or_default();
        let (feeder, feed) = far_end_feed(8000);
        if let Ok(mut feeds) = feeds.lock() {
            feeds.insert(call.0, feed);
        }
        CallAudio::Devices(DeviceOptions {
            mic: chosen.mic,
            speaker: chosen.speaker,
            far_feed: Some(feeder),
        })
    });
    let (softphone, events) = Softphone::start(config, Some(state.db_path.clone()), chooser)
        .await
        .map_err(softphone_error)?;
    let raced = {
        let mut p = phone(state)?;
        match p.softphone.clone() {
            Some(running) => Some(running),
            None => {
                p.softphone = Some(softphone.clone());
                p.generation += 1;
                p.board = Board::default();
                p.board.connecting(&account);
                None
            }
        }
    };
    if let Some(running) = raced {
        // Another command started it meanwhile: keep that one.
        softphone.shutdown().await;
        return Ok(running);
    }
    let (board, generation) = {
        let p = phone(state)?;
        (p.board.clone(), p.generation)
    };
    publish(app, board, None);
    tauri::async_runtime::spawn(follow_events(app.clone(), events, generation));
    let registering = softphone.clone();
    tauri::async_runtime::spawn(async move {
        // The outcome also arrives as an event, which updates the board.
        if let Err(e) = registering.phone().register().await {
            tracing::warn!(%e, "registration failed");
        }
    });
    Ok(softphone)
}

/// The contact a number or SIP address belongs to.
fn lookup_contact(state: &AppState, remote: &str) -> Option<(ContactId, String)> {
    let number = cuecard_softphone::calllog::number_in(remote)?;
    with_store(state, |store| {
        let id = store
            .contacts_with_key(KeyKind::Phone, &number)?
            .into_iter()
            .next();
        Ok(match id {
            Some(id) => store.contact(id)?.map(|c| (id, c.fields.display_name())),
            None => None,
        })
    })
    .ok()
    .flatten()
}

/// Applies the softphone's events to the board, tells the windows, and starts or ends
/// the coach with the call.
async fn follow_events(
    app: AppHandle,
    mut events: tokio::sync::mpsc::Receiver<SoftphoneEvent>,
    generation: u64,
) {
    while let Some(event) = events.recv().await {
        let state = app.state::<AppState>();
        let lookup = |remote: &str| lookup_contact(&state, remote);
        let applied = phone(&state).map(|mut p| {
            if p.generation != generation {
                return None;
            }
            let notice = p.board.apply(&event, &lookup);
            Some((p.board.clone(), notice))
        });
        let Ok(Some((board, notice))) = applied else {
            continue;
        };
        if matches!(event, SoftphoneEvent::Incoming { .. }) {
            bring_to_front(&app);
        }
        publish(&app, board.clone(), notice);
        match event {
            SoftphoneEvent::Established { call } => {
                let coach = phone(&state)
                    .map(|p| p.coach.contains(&call.0))
                    .unwrap_or(false);
                if coach {
                    start_coach(&app, call, &board).await;
                }
            }
            SoftphoneEvent::Ended { call, record, .. } => {
                if let Ok(mut p) = phone(&state) {
                    p.coach.remove(&call.0);
                    if let Ok(mut feeds) = p.feeds.lock() {
                        feeds.remove(&call.0);
                    }
                }
                live_commands::end_phone_call(&app, call.0, *record).await;
            }
            _ => {}
        }
    }
    tracing::info!("the softphone stopped");
}

/// Starts the live coach on a connected call, its far end fed by the call's media.
async fn start_coach(app: &AppHandle, call: CallId, board: &Board) {
    let state = app.state::<AppState>();
    let feed = phone(&state)
        .ok()
        .and_then(|p| p.feeds.lock().ok().and_then(|mut f| f.remove(&call.0)));
    let Some(feed) = feed else {
        tracing::warn!(%call, "no far-end feed for the coach");
        return;
    };
    let mic = phone(&state)
        .ok()
        .and_then(|p| p.devices.lock().ok().and_then(|d| d.mic.clone()));
    let view = board.call(call).cloned();
    let contact_id = view.as_ref().and_then(|c| c.contact_id);
    let direction = view
        .map(|c| c.direction)
        .unwrap_or(cuecard_core::CallDirection::Outbound);
    if let Err(e) =
        live_commands::start_for_phone_call(app.clone(), call.0, contact_id, direction, mic, feed)
            .await
    {
        tracing::warn!(%call, error = %e.message, "the coach did not start");
        let board = phone(&state).map(|p| p.board.clone()).unwrap_or_default();
        publish(
            app,
            board,
            Some(PhoneNotice::AudioFailed {
                call: call.0,
                message: format!("The coach did not start: {}", e.message),
            }),
        );
    }
}

/// An incoming call raises the main window.
fn bring_to_front(app: &AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
        let _ = window.request_user_attention(Some(tauri::UserAttentionType::Critical));
    }
}

/// A coached call loads its speech model while it rings, not after it connects.
fn warm_up_coach(app: &AppHandle, options: &CallOptions) {
    if options.coach {
        tauri::async_runtime::spawn(live_commands::warm_up(app.clone()));
    }
}

fn remember_options(state: &AppState, call: Option<CallId>, options: &CallOptions) -> Result<()> {
    let mut p = phone(state)?;
    if let Ok(mut devices) = p.devices.lock() {
        *devices = CallDevices {
            mic: options.mic.clone(),
            speaker: options.speaker.clone(),
        };
    }
    if let Some(call) = call {
        if options.coach {
            p.coach.insert(call.0);
        } else {
            p.coach.remove(&call.0);
        }
    }
    Ok(())
}

fn running(state: &AppState) -> Result<Softphone> {
    phone(state)?
        .softphone
        .clone()
        .ok_or_else(|| CommandError::new("invalid", "the phone is offline"))
}

/// Places a call: the target is checked (E.164, do-not-call) and the phone goes online
/// first if it is not.
#[tauri::command]
#[specta::specta]
pub async fn phone_call(
    app: AppHandle,
    state: State<'_, AppState>,
    request: DialRequest,
) -> Result<Board> {
    let target = with_store(&state, |store| {
        dialing::prepare(&request.target, &request.region, Some(&*store)).map_err(softphone_error)
    })?;
    let softphone = ensure_online(&app, &state).await?;
    if phone(&state)?.board.live_calls().next().is_some() {
        return Err(CommandError::new(
            "invalid",
            "a call is already in progress: hang up first",
        ));
    }
    remember_options(&state, None, &request.options)?;
    warm_up_coach(&app, &request.options);
    let contact = match request.contact_id {
        Some(id) => with_store(&state, |store| {
            Ok(store.contact(id)?.map(|c| (id, c.fields.display_name())))
        })?,
        None => lookup_contact(&state, target.as_target()),
    };
    let call = softphone
        .call(target.as_target())
        .await
        .map_err(softphone_error)?;
    let board = {
        let mut p = phone(&state)?;
        if request.options.coach {
            p.coach.insert(call.0);
        }
        p.board.placed(call, target.as_target(), contact);
        p.board.clone()
    };
    tracing::info!(%call, "call placed");
    publish(&app, board.clone(), None);
    Ok(board)
}

#[tauri::command]
#[specta::specta]
pub async fn phone_answer(
    app: AppHandle,
    state: State<'_, AppState>,
    call: u64,
    options: CallOptions,
) -> Result<()> {
    remember_options(&state, Some(CallId(call)), &options)?;
    warm_up_coach(&app, &options);
    running(&state)?
        .phone()
        .answer(CallId(call))
        .await
        .map_err(|e| softphone_error(e.into()))
}

/// Turns an incoming call away with 486 Busy Here.
#[tauri::command]
#[specta::specta]
pub async fn phone_reject(state: State<'_, AppState>, call: u64) -> Result<()> {
    running(&state)?
        .phone()
        .reject(CallId(call), 486)
        .await
        .map_err(|e| softphone_error(e.into()))
}

#[tauri::command]
#[specta::specta]
pub async fn phone_hangup(state: State<'_, AppState>, call: u64) -> Result<()> {
    running(&state)?
        .phone()
        .hangup(CallId(call))
        .await
        .map_err(|e| softphone_error(e.into()))
}

#[tauri::command]
#[specta::specta]
pub async fn phone_mute(
    app: AppHandle,
    state: State<'_, AppState>,
    call: u64,
    muted: bool,
) -> Result<()> {
    running(&state)?
        .mute(CallId(call), muted)
        .await
        .map_err(softphone_error)?;
    let board = {
        let mut p = phone(&state)?;
        p.board.set_muted(CallId(call), muted);
        p.board.clone()
    };
    publish(&app, board, None);
    Ok(())
}

/// Holds or resumes (the board changes when the far end has agreed).
#[tauri::command]
#[specta::specta]
pub async fn phone_hold(state: State<'_, AppState>, call: u64, held: bool) -> Result<()> {
    running(&state)?
        .phone()
        .hold(CallId(call), held)
        .await
        .map_err(|e| softphone_error(e.into()))
}

#[tauri::command]
#[specta::specta]
pub async fn phone_dtmf(state: State<'_, AppState>, call: u64, digit: String) -> Result<()> {
    let mut chars = digit.chars();
    let (Some(d), None) = (chars.next(), chars.next()) else {
        return Err(CommandError::new(
            "invalid",
            format!("{digit:?} is not one key"),
        ));
    };
    if !matches!(d, '0'..='9' | '*' | '#' | 'A'..='D') {
        return Err(CommandError::new(
            "invalid",
            format!("{d:?} is not a keypad key"),
        ));
    }
    running(&state)?
        .dtmf(CallId(call), d)
        .await
        .map_err(softphone_error)
}

/// Blind transfer to a number or address (checked like a dialled one).
#[tauri::command]
#[specta::specta]
pub async fn phone_transfer(
    state: State<'_, AppState>,
    call: u64,
    target: String,
    region: String,
) -> Result<()> {
    let target = with_store(&state, |store| {
        dialing::prepare(&target, &region, Some(&*store)).map_err(softphone_error)
    })?;
    running(&state)?
        .phone()
        .transfer(CallId(call), target.as_target())
        .await
        .map_err(|e| softphone_error(e.into()))
}

/// The call log, newest first, with each call's contact.
#[tauri::command]
#[specta::specta]
pub async fn recent_calls(state: State<'_, AppState>, limit: u32) -> Result<Vec<CallLogEntry>> {
    with_store(&state, |store| {
        let calls = store.recent_calls(limit.clamp(1, 500))?;
        let mut names: HashMap<ContactId, Option<String>> = HashMap::new();
        let mut entries = Vec::with_capacity(calls.len());
        for call in calls {
            let contact_name = match call.contact_id {
                Some(id) => match names.get(&id) {
                    Some(name) => name.clone(),
                    None => {
                        let name = store.contact(id)?.map(|c| c.fields.display_name());
                        names.insert(id, name.clone());
                        name
                    }
                },
                None => None,
            };
            entries.push(CallLogEntry { call, contact_name });
        }
        Ok(entries)
    })
}

/// Puts the phone online as the app starts when a SIP login and its password are saved,
/// so incoming calls ring without the rep opening the phone first.
pub fn go_online_at_launch(app: AppHandle) {
    // Off the start-up path: the settings file and the keychain are read on a worker.
    tauri::async_runtime::spawn(async move {
        let ready = tauri::async_runtime::spawn_blocking(|| {
            settings_path()
                .ok()
                .and_then(|path| PhoneSettings::load(&path).ok())
                .is_some_and(|s| !s.user.trim().is_empty() && !s.domain.trim().is_empty())
                && password_saved()
        })
        .await
        .unwrap_or(false);
        if !ready {
            return;
        }
        let state = app.state::<AppState>();
        if let Err(e) = ensure_online(&app, &state).await {
            tracing::warn!(error = %e.message, "the phone did not go online at launch");
        }
    });
}

/// Hangs up and unregisters as the app quits.
pub fn stop_on_exit(app: &AppHandle) {
    let state = app.state::<AppState>();
    let running = state.phone.lock().ok().and_then(|mut p| p.softphone.take());
    if let Some(softphone) = running {
        tauri::async_runtime::block_on(async {
            let _ = tokio::time::timeout(Duration::from_secs(3), softphone.shutdown()).await;
        });
    }
}
