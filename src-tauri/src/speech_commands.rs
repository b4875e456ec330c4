//! The commands behind Settings → Speech: the speech settings (engine per use), the
//! cloud API keys (OS keychain), the model manager (catalog, download with progress and
//! cancel, import, remove) and the live transcription test from the mic. The work is in
//! `cuecard_stt`, `cuecard_models` and `cuecard_secrets`.

use crate::error::CommandError;
use crate::state::AppState;
use cuecard_models::catalog::CATALOG;
use cuecard_models::download::{CancelToken, DownloadOptions};
use cuecard_models::store::{InstalledModel, ModelStore};
use cuecard_secrets::{SecretName, SecretSource, Secrets, SecretsError};
use cuecard_stt::engine::{EngineKind, SpeechEngine};
use cuecard_stt::live_mic::LiveMic;
use cuecard_stt::local::LocalConfig;
use cuecard_stt::select::{EngineKeys, engine_for, local_engine};
use cuecard_stt::settings::{SpeechSettings, SpeechUse};
use cuecard_stt::{SttError, TranscriptEvent};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;
use tauri::{AppHandle, State};
use tauri_specta::Event;

type Result<T> = std::result::Result<T, CommandError>;

impl From<SttError> for CommandError {
    fn from(error: SttError) -> Self {
        let kind = match &error {
            SttError::Settings { .. } => "invalid",
            SttError::Model { .. } => "model",
            SttError::Auth { .. } => "auth",
            _ => "speech",
        };
        tracing::warn!(%error, "speech command failed");
        Self::new(kind, error.to_string())
    }
}

impl From<cuecard_models::error::ModelError> for CommandError {
    fn from(error: cuecard_models::error::ModelError) -> Self {
        let kind = match &error {
            cuecard_models::error::ModelError::Cancelled(_) => "cancelled",
            _ => "model",
        };
        tracing::warn!(%error, "model command failed");
        Self::new(kind, error.to_string())
    }
}

impl From<SecretsError> for CommandError {
    fn from(error: SecretsError) -> Self {
        let kind = match &error {
            SecretsError::Invalid { .. } => "invalid",
            SecretsError::Unavailable(_) => "keychain_unavailable",
            _ => "keychain",
        };
        tracing::warn!(%error, "keychain command failed");
        Self::new(kind, error.to_string())
    }
}

fn settings_path() -> Result<PathBuf> {
    cuecard_store::speech_settings_path()
        .ok_or_else(|| CommandError::new("invalid", "no data directory on this system"))
}

fn model_store() -> Result<ModelStore> {
    cuecard_store::models_dir()
        .map(ModelStore::new)
        .ok_or_else(|| CommandError::new("invalid", "no data directory on this system"))
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tauri::async_runtime::spawn_blocking(work)
        .await
        .map_err(|e| CommandError::new("speech", e.to_string()))?
}

/// The speech settings, or the defaults and why the file could not be used.
#[derive(Serialize, specta::Type)]
pub struct SpeechSettingsState {
    pub settings: SpeechSettings,
    /// The settings file is unreadable; it is left as it is until the user saves.
    pub problem: Option<String>,
}

#[tauri::command]
#[specta::specta]
pub async fn speech_settings() -> Result<SpeechSettingsState> {
    let path = settings_path()?;
    Ok(match SpeechSettings::load(&path) {
        Ok(settings) => SpeechSettingsState {
            settings,
            problem: None,
        },
        Err(e) => SpeechSettingsState {
            settings: SpeechSettings::default(),
            problem: Some(format!("{e}. Saving replaces it with what is shown.")),
        },
    })
}

#[tauri::command]
#[specta::specta]
pub async fn save_speech_settings(settings: SpeechSettings) -> Result<SpeechSettings> {
    settings.save(&settings_path()?)?;
    tracing::info!(
        live = settings.live_call.engine.as_str(),
        practice = settings.practice.engine.as_str(),
        post_call = settings.post_call.engine.as_str(),
        "speech settings saved"
    );
    Ok(settings)
}

/// Whether a cloud key is set, and where (never its value).
#[derive(Serialize, specta::Type)]
pub struct KeyStatus {
    pub name: SecretName,
    pub label: String,
    pub source: Option<SecretSource>,
    /// The environment variable that overrides the keychain.
    pub env_var: String,
    /// Why the keychain could not be asked.
    pub error: Option<String>,
}

fn key_statuses() -> Vec<KeyStatus> {
    let secrets = Secrets::new();
    SecretName::SPEECH
        .into_iter()
        .map(|name| {
            let (source, error) = match secrets.source(name) {
                Ok(source) => (source, None),
                Err(e) => (None, Some(e.to_string())),
            };
            KeyStatus {
                name,
                label: name.label().into(),
                source,
                env_var: name.env_var().into(),
                error,
            }
        })
        .collect()
}

#[tauri::command]
#[specta::specta]
pub async fn speech_keys() -> Result<Vec<KeyStatus>> {
    blocking(|| Ok(key_statuses())).await
}

/// Stores a cloud API key in the OS keychain.
#[tauri::command]
#[specta::specta]
pub async fn set_speech_key(name: SecretName, value: String) -> Result<Vec<KeyStatus>> {
    blocking(move || {
        Secrets::new().set(name, &value)?;
        Ok(key_statuses())
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn remove_speech_key(name: SecretName) -> Result<Vec<KeyStatus>> {
    blocking(move || {
        Secrets::new().delete(name)?;
        Ok(key_statuses())
    })
    .await
}

/// A catalog model and whether it is here.
#[derive(Serialize, specta::Type)]
pub struct CatalogModel {
    pub id: String,
    pub english_only: bool,
    pub approx_mib: u32,
    pub parameters: String,
    pub installed: bool,
}

/// The model manager's view.
#[derive(Serialize, specta::Type)]
pub struct ModelsOverview {
    pub dir: String,
    pub installed: Vec<InstalledModel>,
    pub catalog: Vec<CatalogModel>,
    /// Downloads running now.
    pub downloading: Vec<String>,
}

fn overview(state: &AppState) -> Result<ModelsOverview> {
    let store = model_store()?;
    let installed = store.list()?;
    let catalog = CATALOG
        .iter()
        .map(|e| CatalogModel {
            id: e.id.into(),
            english_only: e.english_only,
            approx_mib: e.approx_mib,
            parameters: e.parameters.into(),
            installed: installed.iter().any(|m| m.id == e.id),
        })
        .collect();
    let downloading = state
        .speech
        .lock()
        .map(|s| s.downloads.keys().cloned().collect())
        .unwrap_or_default();
    Ok(ModelsOverview {
        dir: store.dir().display().to_string(),
        installed,
        catalog,
        downloading,
    })
}

#[tauri::command]
#[specta::specta]
pub async fn speech_models(state: State<'_, AppState>) -> Result<ModelsOverview> {
    overview(&state)
}

/// Progress of a model download, a few times a second.
#[derive(Clone, Serialize, Deserialize, specta::Type, Event)]
pub struct ModelDownloadEvent {
    pub id: String,
    pub downloaded: u64,
    pub total: Option<u64>,
    /// Bytes kept from an interrupted download.
    pub resumed_from: u64,
}

/// Downloads a catalog model (resuming an interrupted download), verifying its SHA-256.
/// Progress arrives as `ModelDownloadEvent`s; `model_download_cancel` stops it.
#[tauri::command]
#[specta::specta]
pub async fn model_download(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
) -> Result<InstalledModel> {
    let entry = cuecard_models::catalog::find(&id)
        .ok_or_else(|| CommandError::new("not_found", format!("no model {id:?} in the catalog")))?;
    let settings = SpeechSettings::load(&settings_path()?).unwrap_or_default();
    let store = model_store()?;
    let cancel = CancelToken::default();
    {
        let mut speech = state
            .speech
            .lock()
            .map_err(|_| CommandError::new("speech", "state lock poisoned"))?;
        if speech.downloads.contains_key(&id) {
            return Err(CommandError::new(
                "invalid",
                format!("{id} is already downloading"),
            ));
        }
        speech.downloads.insert(id.clone(), cancel.clone());
    }
    let options = DownloadOptions {
        url_template: settings.models_url,
        ..DownloadOptions::default()
    };
    let event_id = id.clone();
    let result = blocking(move || {
        let mut last = std::time::Instant::now() - std::time::Duration::from_secs(1);
        Ok(cuecard_models::download::download(
            &store,
            entry,
            &options,
            &cancel,
            |p| {
                let done = p.total.is_some_and(|t| p.downloaded >= t);
                if done || last.elapsed() >= std::time::Duration::from_millis(150) {
                    last = std::time::Instant::now();
                    let _ = ModelDownloadEvent {
                        id: event_id.clone(),
                        downloaded: p.downloaded,
                        total: p.total,
                        resumed_from: p.resumed_from,
                    }
                    .emit(&app);
                }
            },
        )?)
    })
    .await;
    if let Ok(mut speech) = state.speech.lock() {
        speech.downloads.remove(&id);
    }
    if result.is_ok() {
        tracing::info!(model = %id, "model downloaded");
    }
    result
}

#[tauri::command]
#[specta::specta]
pub async fn model_download_cancel(state: State<'_, AppState>, id: String) -> Result<()> {
    if let Ok(speech) = state.speech.lock()
        && let Some(cancel) = speech.downloads.get(&id)
    {
        cancel.cancel();
    }
    Ok(())
}

/// Progress of a model import (copying a ggml file or converting a faster-whisper model).
#[derive(Clone, Serialize, Deserialize, specta::Type, Event)]
pub struct ModelImportEvent {
    pub path: String,
    /// 0.0–1.0.
    pub fraction: f32,
}

/// Installs a model from a ggml file or a CTranslate2 (faster-whisper) directory.
/// Progress arrives as `ModelImportEvent`s.
#[tauri::command]
#[specta::specta]
pub async fn model_import(
    app: AppHandle,
    path: String,
    name: Option<String>,
) -> Result<InstalledModel> {
    let shown = path.trim().to_owned();
    let path = PathBuf::from(&shown);
    let name = name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    let store = model_store()?;
    blocking(move || {
        let mut last = -1.0f32;
        let model = store.import_with_progress(&path, name.as_deref(), &mut |fraction| {
            if fraction - last >= 0.02 || fraction >= 1.0 {
                last = fraction;
                let _ = ModelImportEvent {
                    path: shown.clone(),
                    fraction,
                }
                .emit(&app);
            }
        })?;
        tracing::info!(model = %model.id, "model imported");
        Ok(model)
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn model_remove(state: State<'_, AppState>, id: String) -> Result<ModelsOverview> {
    let store = model_store()?;
    store.remove(&id)?;
    if let Ok(mut speech) = state.speech.lock() {
        speech.local = None;
    }
    overview(&state)
}

/// A transcript event from the running mic test.
#[derive(Clone, Serialize, Deserialize, specta::Type, Event)]
pub struct SpeechTestEvent {
    pub event: TranscriptEvent,
}

/// The mic test that started.
#[derive(Serialize, specta::Type)]
pub struct SpeechTestStarted {
    pub device: String,
    pub engine: EngineKind,
    /// Why the chosen engine is not the one running (e.g. no key, so local).
    pub warning: Option<String>,
}

/// Transcribes the mic live with the engine chosen for live calls. Events arrive as
/// `SpeechTestEvent`s until `speech_test_stop`.
#[tauri::command]
#[specta::specta]
pub async fn speech_test_start(
    app: AppHandle,
    state: State<'_, AppState>,
    mic: Option<String>,
) -> Result<SpeechTestStarted> {
    // One test at a time, and the level meter lets go of the mic.
    let old = state.speech.lock().ok().and_then(|mut s| s.live_mic.take());
    drop(state.meter.lock().ok().and_then(|mut m| m.take()));
    let settings = SpeechSettings::load(&settings_path()?)?;
    let cached = cached_local_engine(&state, &settings);
    let (mic_session, started, loaded) = blocking(move || {
        drop(old);
        let (live, loaded) = live_call_engine(&settings, cached)?;
        let (tx, rx) = std::sync::mpsc::channel::<TranscriptEvent>();
        std::thread::Builder::new()
            .name("speech-test-events".into())
            .spawn(move || {
                for event in rx {
                    let _ = SpeechTestEvent { event }.emit(&app);
                }
            })
            .map_err(|e| CommandError::new("speech", e.to_string()))?;
        let mic_session = LiveMic::start(live.engine, mic, &live.language, tx)?;
        let started = SpeechTestStarted {
            device: mic_session.device().to_owned(),
            engine: live.kind,
            warning: live.warning,
        };
        Ok((mic_session, started, loaded))
    })
    .await?;
    if let Ok(mut speech) = state.speech.lock() {
        speech.live_mic = Some(mic_session);
    }
    remember_local_engine(&state, loaded);
    Ok(started)
}

/// A local engine that was loaded, with the model name the settings gave for it.
pub(crate) type LoadedEngine = (Option<String>, Arc<dyn SpeechEngine>);

/// The engine for live calls, ready to stream.
pub(crate) struct LiveEngine {
    pub engine: Arc<dyn SpeechEngine>,
    pub kind: EngineKind,
    /// Why the chosen engine is not the one running (e.g. no key, so local).
    pub warning: Option<String>,
    pub language: String,
}

/// The local engine loaded earlier, while the settings still name its model.
pub(crate) fn cached_local_engine(
    state: &AppState,
    settings: &SpeechSettings,
) -> Option<Arc<dyn SpeechEngine>> {
    state
        .speech
        .lock()
        .ok()
        .and_then(|s| s.local.clone())
        .filter(|(name, _)| *name == settings.local_model)
        .map(|(_, engine)| engine)
}

/// Keeps a freshly loaded local engine (with the model name it was loaded for) for the
/// next live use.
pub(crate) fn remember_local_engine(state: &AppState, loaded: Option<LoadedEngine>) {
    if let Some(loaded) = loaded
        && let Ok(mut speech) = state.speech.lock()
    {
        speech.local = Some(loaded);
    }
}

/// Picks the live-call engine the settings ask for (falling back to local without a
/// key), loading the local model unless `cached` is it. Blocking. Returns the engine and,
/// when a model was loaded, the model name and engine to remember.
pub(crate) fn live_call_engine(
    settings: &SpeechSettings,
    cached: Option<Arc<dyn SpeechEngine>>,
) -> Result<(LiveEngine, Option<LoadedEngine>)> {
    let kind = settings.live_call.engine;
    let keys = EngineKeys::for_engine(kind, &Secrets::new())?;
    let mut loaded = None;
    let selected = engine_for(SpeechUse::LiveCall, settings, &keys, || {
        let engine: Arc<dyn SpeechEngine> = match cached {
            Some(engine) => engine,
            None => {
                let engine: Arc<dyn SpeechEngine> = Arc::new(local_engine(
                    &model_store_or_err()?,
                    settings,
                    LocalConfig::default(),
                )?);
                loaded = Some((settings.local_model.clone(), Arc::clone(&engine)));
                engine
            }
        };
        Ok(engine)
    })?;
    Ok((
        LiveEngine {
            engine: selected.engine,
            kind: selected.kind,
            warning: selected.warning,
            language: settings.language.clone(),
        },
        loaded,
    ))
}

fn model_store_or_err() -> std::result::Result<ModelStore, SttError> {
    model_store().map_err(|e| SttError::Model {
        path: PathBuf::new(),
        message: e.message,
    })
}

/// Ends the mic test; its last finals arrive before this returns.
#[tauri::command]
#[specta::specta]
pub async fn speech_test_stop(state: State<'_, AppState>) -> Result<()> {
    let session = state.speech.lock().ok().and_then(|mut s| s.live_mic.take());
    if let Some(session) = session {
        blocking(move || {
            session.stop();
            Ok(())
        })
        .await?;
    }
    Ok(())
}
