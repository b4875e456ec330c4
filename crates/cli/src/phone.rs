//! `cuecard phone setup|register|answer` and `cuecard call`: the softphone from the
//! command line. The SIP login is in the phone settings (`phone.json`, or
//! `--phone-settings`), the SIP password in the keychain (`cuecard keys set sip`, or
//! `$CUECARD_SIP_PASSWORD`).

use crate::output::Output;
use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Subcommand, ValueEnum};
use cuecard_secrets::{SecretName, Secrets};
use cuecard_softphone::settings::{MediaEncryption, PhoneSettings, SipTransport};
use cuecard_softphone::{CallAudio, Softphone, SoftphoneEvent, dialing, files};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Subcommand)]
pub enum PhoneCommand {
    /// Save the SIP login (the password goes in with `cuecard keys set sip`).
    Setup(SetupArgs),
    /// Register to the SIP Domain and report the result (a connection test), then unregister.
    Register,
    /// Register, wait for a call, answer it, and play/record until it ends.
    Answer(AnswerArgs),
}

#[derive(Args)]
pub struct SetupArgs {
    /// The SIP user name (the login on the Domain's credential list).
    #[arg(long)]
    user: String,
    /// The SIP Domain, e.g. acme.sip.twilio.com.
    #[arg(long)]
    domain: String,
    /// host:port to send to, when it is not the domain.
    #[arg(long)]
    proxy: Option<String>,
    #[arg(long, value_enum, default_value = "tls")]
    transport: TransportArg,
    #[arg(long, value_enum, default_value = "required")]
    encryption: EncryptionArg,
    /// An extra CA certificate (PEM) to trust for TLS.
    #[arg(long)]
    tls_ca_file: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum TransportArg {
    Udp,
    Tcp,
    Tls,
}

#[derive(Clone, Copy, ValueEnum)]
enum EncryptionArg {
    Off,
    Optional,
    Required,
}

#[derive(Args)]
pub struct CallAudioArgs {
    /// A WAV file to play into the call (any rate; silence after it ends).
    #[arg(long)]
    play: Option<PathBuf>,
    /// A WAV file to record the far end into (8 kHz mono).
    #[arg(long)]
    record: Option<PathBuf>,
    /// Hang up after this many seconds of talk (default: when the far end hangs up).
    #[arg(long)]
    seconds: Option<u64>,
}

#[derive(Args)]
pub struct CallArgs {
    /// A number (+15551234567, or national with --region), an extension, or a SIP address.
    target: String,
    /// Region for numbers written without a country code (ISO 3166).
    #[arg(long, default_value = "IN", env = "CUECARD_REGION")]
    region: String,
    #[command(flatten)]
    audio: CallAudioArgs,
}

#[derive(Args)]
pub struct AnswerArgs {
    #[command(flatten)]
    audio: CallAudioArgs,
    /// Give up when no call comes within this many seconds.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
}

#[derive(Serialize)]
struct Registered {
    user: String,
    domain: String,
    expires: u32,
}

#[derive(Serialize)]
struct CallSummary {
    target: String,
    status: String,
    reason: String,
    talk_seconds: u32,
    mos: Option<f64>,
    packets_lost: Option<u64>,
    recording: Option<PathBuf>,
}

pub fn settings_path(flag: Option<PathBuf>) -> Result<PathBuf> {
    flag.or_else(cuecard_store::phone_settings_path)
        .ok_or_else(|| anyhow!("no config directory on this system: pass --phone-settings PATH"))
}

pub fn run(cmd: PhoneCommand, settings: &Path, db: Option<PathBuf>, out: &Output) -> Result<()> {
    match cmd {
        PhoneCommand::Setup(args) => {
            let mut s = PhoneSettings::load(settings)?;
            s.user = args.user;
            s.domain = args.domain;
            s.proxy = args.proxy;
            s.transport = match args.transport {
                TransportArg::Udp => SipTransport::Udp,
                TransportArg::Tcp => SipTransport::Tcp,
                TransportArg::Tls => SipTransport::Tls,
            };
            s.encryption = match args.encryption {
                EncryptionArg::Off => MediaEncryption::Off,
                EncryptionArg::Optional => MediaEncryption::Optional,
                EncryptionArg::Required => MediaEncryption::Required,
            };
            s.tls_ca_file = args.tls_ca_file.map(|p| p.display().to_string());
            s.save(settings)?;
            out.print(&s, |s| {
                println!(
                    "Saved the SIP login {}@{} in {}",
                    s.user,
                    s.domain,
                    settings.display()
                )
            })
        }
        PhoneCommand::Register => runtime()?.block_on(async {
            let s = PhoneSettings::load(settings)?;
            let (phone, _events) = start(&s, None, Box::new(|_| CallAudio::Silent)).await?;
            let result = phone.phone().register().await;
            phone.shutdown().await;
            let expires = result.with_context(|| format!("registering {}@{}", s.user, s.domain))?;
            let line = Registered {
                user: s.user.clone(),
                domain: s.domain.clone(),
                expires,
            };
            out.print(&line, |l| {
                println!("Registered {}@{} for {} s", l.user, l.domain, l.expires)
            })
        }),
        PhoneCommand::Answer(args) => runtime()?.block_on(async {
            let s = PhoneSettings::load(settings)?;
            let (phone, mut events) = start(&s, db, audio_for(&args.audio)?).await?;
            phone
                .phone()
                .register()
                .await
                .with_context(|| format!("registering {}@{}", s.user, s.domain))?;
            eprintln!("Registered; waiting for a call…");
            let wait = tokio::time::timeout(Duration::from_secs(args.timeout), async {
                loop {
                    match events.recv().await {
                        Some(SoftphoneEvent::Incoming { call, from, .. }) => {
                            return Some((call, from));
                        }
                        Some(_) => {}
                        None => return None,
                    }
                }
            });
            let Ok(Some((call, from))) = wait.await else {
                phone.shutdown().await;
                bail!("no call came within {} s", args.timeout);
            };
            phone.phone().answer(call).await?;
            let summary = follow_call(&phone, &mut events, call, &from, &args.audio).await;
            phone.shutdown().await;
            print_summary(summary?, out)
        }),
    }
}

pub fn call(args: CallArgs, settings: &Path, db: Option<PathBuf>, out: &Output) -> Result<()> {
    runtime()?.block_on(async {
        let s = PhoneSettings::load(settings)?;
        // Numbers on the do-not-call list are refused before anything is dialled.
        let store = match &db {
            Some(path) => Some(cuecard_store::Store::open(path)?),
            None => None,
        };
        let target = dialing::prepare(&args.target, &args.region, store.as_ref())?;
        drop(store);
        let (phone, mut events) = start(&s, db, audio_for(&args.audio)?).await?;
        let call = phone.call(target.as_target()).await?;
        let summary = follow_call(&phone, &mut events, call, &args.target, &args.audio).await;
        phone.shutdown().await;
        print_summary(summary?, out)
    })
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

async fn start(
    s: &PhoneSettings,
    db: Option<PathBuf>,
    audio: cuecard_softphone::AudioChooser,
) -> Result<(Softphone, tokio::sync::mpsc::Receiver<SoftphoneEvent>)> {
    let password = Secrets::new()
        .get(SecretName::SipPassword)?
        .ok_or_else(|| anyhow!("no SIP password: store it with `cuecard keys set sip` (or set $CUECARD_SIP_PASSWORD)"))?
        .0;
    let config = s.to_config(password.expose())?;
    Ok(Softphone::start(config, db, audio).await?)
}

fn audio_for(args: &CallAudioArgs) -> Result<cuecard_softphone::AudioChooser> {
    let play = match &args.play {
        Some(path) => Some(files::read_wav_8k(path)?),
        None => None,
    };
    let record = args.record.clone();
    if play.is_none() && record.is_none() {
        return Ok(Box::new(|_| CallAudio::Silent));
    }
    Ok(Box::new(move |_| CallAudio::Files {
        play: play.clone(),
        record: record.clone(),
    }))
}

/// Waits for the call to be answered and to end (or hangs up after `--seconds`).
async fn follow_call(
    phone: &Softphone,
    events: &mut tokio::sync::mpsc::Receiver<SoftphoneEvent>,
    call: cuecard_sip::phone::CallId,
    target: &str,
    audio: &CallAudioArgs,
) -> Result<CallSummary> {
    let mut hangup_at: Option<tokio::time::Instant> = None;
    let mut last_quality = None;
    loop {
        let event = match hangup_at {
            Some(at) => match tokio::time::timeout_at(at, events.recv()).await {
                Ok(event) => event,
                Err(_) => {
                    hangup_at = None;
                    phone.phone().hangup(call).await?;
                    continue;
                }
            },
            None => events.recv().await,
        };
        match event {
            Some(SoftphoneEvent::Ringing { call: c }) if c == call => eprintln!("Ringing…"),
            Some(SoftphoneEvent::Established { call: c }) if c == call => {
                eprintln!("Connected.");
                hangup_at = audio
                    .seconds
                    .map(|s| tokio::time::Instant::now() + Duration::from_secs(s));
            }
            Some(SoftphoneEvent::Quality { call: c, stats }) if c == call => {
                last_quality = Some(stats)
            }
            Some(SoftphoneEvent::Ended {
                call: c,
                reason,
                status,
                record,
            }) if c == call => {
                return Ok(CallSummary {
                    target: target.to_string(),
                    status: format!("{status:?}"),
                    reason: format!("{reason:?}"),
                    talk_seconds: record.duration_secs,
                    mos: last_quality
                        .as_ref()
                        .map(|q| (q.mos * 100.0).round() / 100.0),
                    packets_lost: last_quality.as_ref().map(|q| q.packets_lost),
                    recording: audio.record.clone(),
                });
            }
            Some(_) => {}
            None => bail!("the phone stopped"),
        }
    }
}

fn print_summary(summary: CallSummary, out: &Output) -> Result<()> {
    let failed = !matches!(summary.status.as_str(), "Completed");
    out.print(&summary, |s| {
        print!(
            "Call to {}: {} ({}), {} s of talk",
            s.target, s.status, s.reason, s.talk_seconds
        );
        if let Some(mos) = s.mos {
            print!(", MOS {mos:.2}");
        }
        println!();
    })?;
    if failed {
        bail!("the call was not completed: {}", summary.reason);
    }
    Ok(())
}
