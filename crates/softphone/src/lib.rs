//! Cuecard's softphone: the SIP phone (`cuecard-sip`) and each call's media stream
//! (`cuecard-media`) run together, the call's audio wired to where it should come from
//! and go to, and every call logged to the store (`cuecard-store`).
//!
//! - [`Softphone`]: the handle the app and the command line drive; it reports
//!   [`SoftphoneEvent`]s, including a call-quality reading every second.
//! - [`board`]: what the phone screens show (registration, calls, quality), kept from
//!   the events.
//! - [`settings`]: Settings → Phone (the SIP login; the password is in the keychain).
//! - [`calllog`]: call records as calls go.
//! - [`media`]: negotiated SDP to a running media stream.
//! - [`dialing`]: what the dialer makes of a typed number (E.164, do-not-call).
//! - [`devices`]: call audio on the microphone and speaker.
//! - [`files`]: call audio from and to WAV files.

pub mod board;
pub mod calllog;
pub mod devices;
pub mod dialing;
pub mod files;
pub mod media;
pub mod settings;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use cuecard_core::{Call, CallDirection, CallStatus};
use cuecard_media::{MediaIo, MediaStats, MediaStream};
use cuecard_sip::SipError;
use cuecard_sip::phone::{CallId, EndReason, Phone, PhoneConfig, PhoneEvent};
use tokio::sync::{mpsc, oneshot};

use calllog::CallLog;
use devices::{DeviceAudio, DeviceOptions};
use files::FileAudio;

pub type Result<T, E = SoftphoneError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum SoftphoneError {
    #[error(transparent)]
    Sip(#[from] SipError),
    #[error("call media: {0}")]
    Media(String),
    #[error("{path}: {reason}")]
    Audio { path: PathBuf, reason: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the phone settings in {path} are not valid JSON ({reason}); fix or delete the file")]
    Settings { path: PathBuf, reason: String },
    #[error("{0}")]
    NotSetUp(String),
    #[error("call log: {0}")]
    Store(String),
    /// What was dialled is not a number or address that can be called.
    #[error("{0}")]
    Dial(String),
    /// The number is on the do-not-call list.
    #[error("{0}")]
    DoNotCall(String),
    #[error("{0}")]
    Timeout(String),
    #[error("call {0}: {1}")]
    Call(u64, String),
    #[error("the softphone has stopped")]
    Stopped,
}

/// Where a call's audio comes from and goes to.
pub enum CallAudio {
    /// Nothing is played; what arrives is dropped.
    Silent,
    /// Samples (8 kHz mono) played into the call, and a WAV the far end is recorded to.
    Files {
        play: Option<Vec<f32>>,
        record: Option<PathBuf>,
    },
    /// The microphone and speaker (and the live coach's far-end feed).
    Devices(DeviceOptions),
    /// The caller takes the media ends itself (a test, a bench).
    Take(mpsc::UnboundedSender<(CallId, MediaIo)>),
}

/// Picks each call's audio when its media starts.
pub type AudioChooser = Box<dyn FnMut(CallId) -> CallAudio + Send>;

/// What the softphone reports.
#[derive(Debug, Clone, PartialEq)]
pub enum SoftphoneEvent {
    Registered {
        expires: u32,
    },
    RegistrationFailed {
        reason: String,
        unauthorized: bool,
    },
    Unregistered,
    Incoming {
        call: CallId,
        from: String,
        display: Option<String>,
    },
    Ringing {
        call: CallId,
    },
    Established {
        call: CallId,
    },
    Held {
        call: CallId,
        by_remote: bool,
    },
    Resumed {
        call: CallId,
        by_remote: bool,
    },
    Dtmf {
        call: CallId,
        digit: char,
    },
    TransferRequested {
        call: CallId,
        target: String,
    },
    /// The call's audio devices could not be opened: the call is up but silent.
    AudioFailed {
        call: CallId,
        reason: String,
    },
    /// A reading of the call's media, every second while it is up.
    Quality {
        call: CallId,
        stats: Box<MediaStats>,
    },
    /// The call is over and logged with this status (`record` is the stored call).
    Ended {
        call: CallId,
        reason: EndReason,
        status: CallStatus,
        record: Box<Call>,
    },
}

enum Command {
    Call(String, oneshot::Sender<Result<CallId>>),
    Dtmf(CallId, char, oneshot::Sender<Result<()>>),
    Mute(CallId, bool, oneshot::Sender<Result<()>>),
    Stats(CallId, oneshot::Sender<Option<MediaStats>>),
}

struct ActiveCall {
    record: Call,
    media: Option<MediaStream>,
    audio: RunningAudio,
}

/// What a call's audio is doing, once its media is up.
#[derive(Default)]
enum RunningAudio {
    #[default]
    None,
    Files(FileAudio),
    Devices(DeviceAudio),
}

/// A running softphone. Cheap to clone.
#[derive(Clone)]
pub struct Softphone {
    phone: Phone,
    commands: mpsc::Sender<Command>,
}

impl Softphone {
    /// Starts the phone; calls are logged into the database at `db` (if any), and each
    /// call's audio is what `audio` picks.
    pub async fn start(
        config: PhoneConfig,
        db: Option<PathBuf>,
        audio: AudioChooser,
    ) -> Result<(Softphone, mpsc::Receiver<SoftphoneEvent>)> {
        let log = CallLog::open(db)?;
        let identity = format!("sip:{}@{}", config.user, config.domain);
        let (phone, phone_events) = Phone::start(config).await?;
        let (commands, command_rx) = mpsc::channel(32);
        let (events, event_rx) = mpsc::channel(256);
        let runner = Runner {
            phone: phone.clone(),
            log,
            identity,
            calls: HashMap::new(),
            audio,
            events,
        };
        tokio::spawn(runner.run(phone_events, command_rx));
        Ok((Softphone { phone, commands }, event_rx))
    }

    /// The SIP phone, for registration and call control.
    pub fn phone(&self) -> &Phone {
        &self.phone
    }

    /// Places a call and logs it.
    pub async fn call(&self, target: &str) -> Result<CallId> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::Call(target.to_string(), tx))
            .await
            .map_err(|_| SoftphoneError::Stopped)?;
        rx.await.map_err(|_| SoftphoneError::Stopped)?
    }

    /// Sends a digit in the media (RFC 4733) when the call agreed telephone-event, else
    /// by SIP INFO.
    pub async fn dtmf(&self, call: CallId, digit: char) -> Result<()> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::Dtmf(call, digit, tx))
            .await
            .map_err(|_| SoftphoneError::Stopped)?;
        rx.await.map_err(|_| SoftphoneError::Stopped)?
    }

    /// Mutes or unmutes our side (silence is sent, the call stays up).
    pub async fn mute(&self, call: CallId, muted: bool) -> Result<()> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::Mute(call, muted, tx))
            .await
            .map_err(|_| SoftphoneError::Stopped)?;
        rx.await.map_err(|_| SoftphoneError::Stopped)?
    }

    /// The call's media readings now.
    pub async fn stats(&self, call: CallId) -> Option<MediaStats> {
        let (tx, rx) = oneshot::channel();
        self.commands.send(Command::Stats(call, tx)).await.ok()?;
        rx.await.ok()?
    }

    /// Hangs up, unregisters and stops.
    pub async fn shutdown(&self) {
        self.phone.shutdown().await;
    }
}

/// What a connection test found.
#[derive(Clone, Debug, PartialEq, serde::Serialize, specta::Type)]
pub struct ConnectionTest {
    /// `user@domain`.
    pub account: String,
    /// How long the Domain granted the registration, seconds.
    pub expires: u32,
    /// From the first REGISTER to the 200 OK, digest round included.
    pub elapsed_ms: u32,
}

/// Settings → Phone's "Test connection": registers with `config`, then unregisters. The
/// error says what went wrong (wrong password, no answer within `timeout`, TLS, DNS).
pub async fn test_connection(config: PhoneConfig, timeout: Duration) -> Result<ConnectionTest> {
    let account = format!("{}@{}", config.user, config.domain);
    let (phone, _events) = Phone::start(config).await?;
    let started = std::time::Instant::now();
    let result = tokio::time::timeout(timeout, phone.register()).await;
    let elapsed_ms = started.elapsed().as_millis().min(u128::from(u32::MAX)) as u32;
    phone.shutdown().await;
    match result {
        Ok(Ok(expires)) => Ok(ConnectionTest {
            account,
            expires,
            elapsed_ms,
        }),
        Ok(Err(e)) => Err(e.into()),
        Err(_) => Err(SoftphoneError::Timeout(format!(
            "no answer from the SIP Domain within {} s: check the domain, proxy and transport",
            timeout.as_secs()
        ))),
    }
}

struct Runner {
    phone: Phone,
    log: CallLog,
    identity: String,
    calls: HashMap<CallId, ActiveCall>,
    audio: AudioChooser,
    events: mpsc::Sender<SoftphoneEvent>,
}

impl Runner {
    async fn run(
        mut self,
        mut phone_events: mpsc::Receiver<PhoneEvent>,
        mut commands: mpsc::Receiver<Command>,
    ) {
        // DTMF from the media is looked for every 50 ms; quality goes out every second.
        let mut tick = tokio::time::interval(Duration::from_millis(50));
        let mut ticks = 0u32;
        loop {
            tokio::select! {
                event = phone_events.recv() => match event {
                    Some(event) => self.on_phone_event(event).await,
                    None => break,
                },
                Some(command) = commands.recv() => self.on_command(command).await,
                _ = tick.tick() => {
                    ticks = ticks.wrapping_add(1);
                    self.report_dtmf().await;
                    if ticks.is_multiple_of(20) {
                        self.report_quality().await;
                    }
                }
            }
        }
        for (_, call) in self.calls.drain() {
            stop_call(call);
        }
    }

    async fn emit(&mut self, event: SoftphoneEvent) {
        let _ = self.events.send(event).await;
    }

    async fn on_command(&mut self, command: Command) {
        match command {
            Command::Call(target, tx) => {
                let result = self.phone.call(&target).await.map_err(SoftphoneError::from);
                if let Ok(id) = result {
                    let record = self
                        .log
                        .begin(CallDirection::Outbound, &self.identity, &target);
                    self.calls.insert(
                        id,
                        ActiveCall {
                            record,
                            media: None,
                            audio: RunningAudio::None,
                        },
                    );
                }
                let _ = tx.send(result);
            }
            Command::Dtmf(id, digit, tx) => {
                let in_media = self
                    .calls
                    .get(&id)
                    .and_then(|c| c.media.as_ref())
                    .map(|m| m.send_dtmf(digit));
                let result = match in_media {
                    Some(Ok(())) => Ok(()),
                    Some(Err(cuecard_media::MediaError::DtmfNotNegotiated)) | None => self
                        .phone
                        .send_info_dtmf(id, digit)
                        .await
                        .map_err(SoftphoneError::from),
                    Some(Err(e)) => Err(SoftphoneError::Media(e.to_string())),
                };
                let _ = tx.send(result);
            }
            Command::Mute(id, muted, tx) => {
                let result = match self.calls.get(&id).and_then(|c| c.media.as_ref()) {
                    Some(media) => media
                        .set_mute(muted)
                        .map_err(|e| SoftphoneError::Media(e.to_string())),
                    None => Err(SoftphoneError::Call(id.0, "has no media yet".into())),
                };
                let _ = tx.send(result);
            }
            Command::Stats(id, tx) => {
                let _ = tx.send(
                    self.calls
                        .get(&id)
                        .and_then(|c| c.media.as_ref())
                        .map(MediaStream::stats),
                );
            }
        }
    }

    async fn report_dtmf(&mut self) {
        let digits: Vec<(CallId, char)> = self
            .calls
            .iter()
            .filter_map(|(id, c)| c.media.as_ref().map(|m| (*id, m.dtmf_events())))
            .flat_map(|(id, digits)| digits.into_iter().map(move |d| (id, d)))
            .collect();
        for (call, digit) in digits {
            self.emit(SoftphoneEvent::Dtmf { call, digit }).await;
        }
    }

    async fn report_quality(&mut self) {
        let readings: Vec<(CallId, MediaStats)> = self
            .calls
            .iter()
            .filter_map(|(id, c)| c.media.as_ref().map(|m| (*id, m.stats())))
            .collect();
        for (call, stats) in readings {
            self.emit(SoftphoneEvent::Quality {
                call,
                stats: Box::new(stats),
            })
            .await;
        }
    }

    async fn on_phone_event(&mut self, event: PhoneEvent) {
        match event {
            PhoneEvent::Registered { expires, .. } => {
                self.emit(SoftphoneEvent::Registered { expires }).await
            }
            PhoneEvent::RegistrationFailed {
                reason,
                unauthorized,
            } => {
                self.emit(SoftphoneEvent::RegistrationFailed {
                    reason,
                    unauthorized,
                })
                .await;
            }
            PhoneEvent::Unregistered => self.emit(SoftphoneEvent::Unregistered).await,
            PhoneEvent::Incoming {
                call,
                from,
                display,
            } => {
                let record = self
                    .log
                    .begin(CallDirection::Inbound, &from, &self.identity);
                self.calls.insert(
                    call,
                    ActiveCall {
                        record,
                        media: None,
                        audio: RunningAudio::None,
                    },
                );
                self.emit(SoftphoneEvent::Incoming {
                    call,
                    from,
                    display,
                })
                .await;
            }
            PhoneEvent::Ringing { call } => {
                if let Some(active) = self.calls.get_mut(&call) {
                    self.log.ringing(&mut active.record);
                }
                self.emit(SoftphoneEvent::Ringing { call }).await;
            }
            PhoneEvent::MediaStart {
                call,
                sockets,
                media: agreed,
            } => {
                let Some(active) = self.calls.get_mut(&call) else {
                    return;
                };
                match media::start(sockets, &agreed) {
                    Ok((stream, io)) => {
                        active.media = Some(stream);
                        match (self.audio)(call) {
                            CallAudio::Silent => drop(io),
                            CallAudio::Files { play, record } => {
                                match FileAudio::start(io, play, record) {
                                    Ok(files) => active.audio = RunningAudio::Files(files),
                                    Err(e) => tracing::error!(%call, "call audio files: {e}"),
                                }
                            }
                            CallAudio::Devices(options) => match DeviceAudio::start(io, options) {
                                Ok(devices) => active.audio = RunningAudio::Devices(devices),
                                Err(e) => {
                                    tracing::error!(%call, "call audio devices: {e}");
                                    self.emit(SoftphoneEvent::AudioFailed {
                                        call,
                                        reason: e.to_string(),
                                    })
                                    .await;
                                }
                            },
                            CallAudio::Take(tx) => {
                                let _ = tx.send((call, io));
                            }
                        }
                    }
                    Err(e) => {
                        tracing::error!(%call, "media did not start, hanging up: {e}");
                        let phone = self.phone.clone();
                        tokio::spawn(async move { phone.hangup(call).await });
                    }
                }
            }
            PhoneEvent::MediaChange {
                call,
                media: agreed,
            } => {
                if let Some(stream) = self.calls.get(&call).and_then(|c| c.media.as_ref())
                    && let Err(e) = media::apply(stream, &agreed)
                {
                    tracing::warn!(%call, "media change: {e}");
                }
            }
            PhoneEvent::Established { call } => {
                if let Some(active) = self.calls.get_mut(&call) {
                    self.log.answered(&mut active.record);
                }
                self.emit(SoftphoneEvent::Established { call }).await;
            }
            PhoneEvent::Held { call, by_remote } => {
                self.emit(SoftphoneEvent::Held { call, by_remote }).await
            }
            PhoneEvent::Resumed { call, by_remote } => {
                self.emit(SoftphoneEvent::Resumed { call, by_remote }).await
            }
            PhoneEvent::Dtmf { call, digit } => {
                self.emit(SoftphoneEvent::Dtmf { call, digit }).await
            }
            PhoneEvent::TransferRequested {
                call,
                target,
                new_call,
            } => {
                if let Some(new_call) = new_call {
                    let record = self
                        .log
                        .begin(CallDirection::Outbound, &self.identity, &target);
                    self.calls.insert(
                        new_call,
                        ActiveCall {
                            record,
                            media: None,
                            audio: RunningAudio::None,
                        },
                    );
                }
                self.emit(SoftphoneEvent::TransferRequested { call, target })
                    .await;
            }
            PhoneEvent::TransferProgress { .. } => {}
            PhoneEvent::Ended { call, reason } => {
                let Some(mut active) = self.calls.remove(&call) else {
                    return;
                };
                self.log.ended(&mut active.record, &reason);
                let status = active.record.status;
                let record = Box::new(active.record.clone());
                stop_call(active);
                self.emit(SoftphoneEvent::Ended {
                    call,
                    reason,
                    status,
                    record,
                })
                .await;
            }
        }
    }
}

fn stop_call(mut call: ActiveCall) {
    match std::mem::take(&mut call.audio) {
        RunningAudio::Files(files) => {
            if let Err(e) = files.finish() {
                tracing::error!("finishing the call's recording: {e}");
            }
        }
        RunningAudio::Devices(devices) => devices.stop(),
        RunningAudio::None => {}
    }
    if let Some(mut media) = call.media.take() {
        media.stop();
    }
}
