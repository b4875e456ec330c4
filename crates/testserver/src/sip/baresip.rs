//! baresip as the far-end phone: `sip/baresip/{config,accounts}.tmpl` filled in a temp
//! dir (own SIP port pair, own RTP port range, a WAV as the microphone, the received audio
//! recorded by the `sndfile` filter), driven through `ctrl_tcp` (netstring JSON commands
//! and events), its stdout captured line by line.

use super::kamailio::Kamailio;
use super::process::{self, SharedLog, TAIL_LINES, Waited};
use super::{PeerError, Result, Transport, binary};
use serde_json::Value;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const CONFIG_TEMPLATE: &str = include_str!("../../sip/baresip/config.tmpl");
const ACCOUNTS_TEMPLATE: &str = include_str!("../../sip/baresip/accounts.tmpl");
const MODULE_PATH: &str = "/usr/lib/baresip/modules";
/// RTP ports per peer (`rtp_ports`; RTP and RTCP pairs, no rtcp-mux).
const RTP_PORTS: u16 = 20;
/// How long a ctrl_tcp command waits for its response.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(5);

/// What baresip does with an incoming call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Answer {
    /// Answers at once (`answermode=auto`).
    #[default]
    Auto,
    /// Rings (180) until [`Baresip::accept`] or [`Baresip::hangup`].
    Manual,
    /// Rejects every call with `486 Rejected` (the harness hangs up on `CALL_INCOMING`).
    Busy,
}

/// Media encryption (SDES-SRTP, `a=crypto`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Srtp {
    /// Plain RTP.
    #[default]
    None,
    /// Offers RTP/AVP with `a=crypto`, accepts plain RTP (`mediaenc=srtp`).
    Optional,
    /// RTP/SAVP only: a plain-RTP offer gets 488 (`mediaenc=srtp-mand`).
    Mandatory,
}

impl Srtp {
    fn param(self) -> Option<&'static str> {
        match self {
            Self::None => None,
            Self::Optional => Some("srtp"),
            Self::Mandatory => Some("srtp-mand"),
        }
    }
}

/// How to start a [`Baresip`].
#[derive(Debug, Clone)]
pub struct BaresipOptions {
    /// User part of the address of record.
    pub user: String,
    pub password: String,
    /// The registrar's UDP/TCP address (kamailio's [`Kamailio::udp_addr`]): the host
    /// part of the address of record. `None`: no registration; the address of record is
    /// baresip's own address and calls go direct.
    pub registrar: Option<SocketAddr>,
    /// Where requests go (outbound proxy); `None`: the registrar. For TLS this must be
    /// kamailio's [`Kamailio::tls_addr`].
    pub outbound: Option<SocketAddr>,
    pub transport: Transport,
    /// CA file (PEM) for TLS to the proxy: [`Kamailio::cert_path`].
    pub cafile: Option<PathBuf>,
    /// The microphone: an 8 kHz mono s16 WAV ([`crate::sip::wav`]). When it ends, baresip
    /// hangs up the call ("end of file"): make it longer than the call.
    pub play_wav: PathBuf,
    pub answer: Answer,
    pub srtp: Srtp,
    /// `audio_codecs`, e.g. `PCMU/8000/1`; G.711 is what these tests use (g722, opus, l16
    /// and gsm modules load on demand).
    pub codecs: Vec<String>,
    /// Re-registration interval in seconds.
    pub regint: u32,
    /// How long [`Baresip::start`] waits for the ctrl_tcp port.
    pub startup_timeout: Duration,
}

impl BaresipOptions {
    /// A phone `user` that registers nowhere (calls go direct to and from its
    /// [`Baresip::contact_uri`]), plays `play_wav` and answers at once.
    pub fn new(user: impl Into<String>, play_wav: impl Into<PathBuf>) -> Self {
        Self {
            user: user.into(),
            password: String::new(),
            registrar: None,
            outbound: None,
            transport: Transport::Udp,
            cafile: None,
            play_wav: play_wav.into(),
            answer: Answer::Auto,
            srtp: Srtp::None,
            codecs: vec!["PCMU/8000/1".into(), "PCMA/8000/1".into()],
            regint: 300,
            startup_timeout: Duration::from_secs(10),
        }
    }

    /// A phone `user` registered with `kamailio` over `transport` (TLS: kamailio must
    /// have been started with `tls: true`; its certificate is trusted).
    pub fn registered_with(
        kamailio: &Kamailio,
        user: impl Into<String>,
        transport: Transport,
        play_wav: impl Into<PathBuf>,
    ) -> Self {
        let outbound = match transport {
            Transport::Tls => kamailio.tls_addr(),
            Transport::Udp | Transport::Tcp => Some(kamailio.udp_addr()),
        };
        Self {
            password: kamailio.password().into(),
            registrar: Some(kamailio.udp_addr()),
            outbound,
            transport,
            cafile: kamailio.cert_path(),
            ..Self::new(user, play_wav)
        }
    }
}

/// A baresip event from ctrl_tcp, e.g. `CALL_ESTABLISHED`, `CALL_DTMF_START` (param: the
/// digit), `CALL_CLOSED` (param: the reason), `CALL_INCOMING`, `CALL_RINGING`,
/// `REGISTER_OK`, `CALL_MENC`.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The `type`.
    pub kind: String,
    pub class: String,
    pub param: Option<String>,
    /// The call id.
    pub id: Option<String>,
    pub peer_uri: Option<String>,
    /// `incoming` or `outgoing`.
    pub direction: Option<String>,
    pub account_aor: Option<String>,
    pub raw: Value,
}

impl Event {
    fn from_json(raw: Value) -> Self {
        let text = |key: &str| raw.get(key).and_then(Value::as_str).map(str::to_owned);
        Self {
            kind: text("type").unwrap_or_default(),
            class: text("class").unwrap_or_default(),
            param: text("param"),
            id: text("id"),
            peer_uri: text("peeruri"),
            direction: text("direction"),
            account_aor: text("accountaor"),
            raw,
        }
    }
}

/// The response to a ctrl_tcp command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CtrlResponse {
    pub ok: bool,
    /// What the command printed.
    pub data: String,
}

#[derive(Default)]
struct CtrlState {
    /// Every event so far, and whether [`Baresip::wait_event`] handed it out already.
    events: Vec<(Event, bool)>,
    responses: HashMap<String, CtrlResponse>,
    closed: bool,
}

#[derive(Default)]
struct Ctrl {
    state: Mutex<CtrlState>,
    changed: Condvar,
}

impl Ctrl {
    fn lock(&self) -> MutexGuard<'_, CtrlState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Waits until `take` finds something in the state, or `timeout`.
    fn wait<T>(
        &self,
        timeout: Duration,
        mut take: impl FnMut(&mut CtrlState) -> Option<T>,
    ) -> (Option<T>, bool) {
        let deadline = Instant::now() + timeout;
        let mut state = self.lock();
        loop {
            if let Some(found) = take(&mut state) {
                return (Some(found), false);
            }
            let now = Instant::now();
            if state.closed || now >= deadline {
                return (None, state.closed);
            }
            state = self
                .changed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
    }
}

/// A running baresip; stopped when dropped (SIGTERM: it un-REGISTERs and exits; a second
/// SIGTERM after 2 s if it has not, e.g. because its registrar is gone; SIGKILL after one
/// more second). Drop it before the [`Kamailio`] it registered with.
pub struct Baresip {
    child: Option<Child>,
    dir: Option<tempfile::TempDir>,
    dir_path: PathBuf,
    log: SharedLog,
    ctrl: Arc<Ctrl>,
    writer: Arc<Mutex<TcpStream>>,
    reader: Option<JoinHandle<()>>,
    tokens: AtomicU64,
    user: String,
    aor: String,
    sip_port: u16,
}

impl Baresip {
    /// Starts baresip and connects to its ctrl_tcp port. Registration happens in the
    /// background: [`Baresip::wait_registered`]. Retries on fresh ports when a port was
    /// taken meanwhile.
    pub fn start(options: BaresipOptions) -> Result<Self> {
        let bin = binary("baresip")?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            match Self::try_start(&bin, &options) {
                Err(PeerError::Exited { log, .. })
                    if attempt < 3
                        && (log.contains("Address already in use")
                            || log.contains("Address in use")) =>
                {
                    continue;
                }
                result => return result,
            }
        }
    }

    fn try_start(bin: &Path, options: &BaresipOptions) -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix(&format!("cuecard-baresip-{}-", options.user))
            .tempdir()
            .map_err(|e| PeerError::io("baresip: temp dir", e))?;
        let dir_path = dir.path().to_path_buf();
        let rec_dir = dir_path.join("rec");
        std::fs::create_dir(&rec_dir).map_err(|e| PeerError::io("baresip: rec dir", e))?;
        let ports = |n| process::free_port_block(n).map_err(|e| PeerError::io("baresip: ports", e));
        // UDP/TCP on P, TLS on P+1
        let sip_port = ports(2)?;
        let ctrl_port = ports(1)?;
        let rtp = ports(RTP_PORTS)?;

        let cafile = match &options.cafile {
            Some(path) => format!("sip_cafile\t\t{}", path.display()),
            None => "# no sip_cafile".into(),
        };
        let config = process::fill_template(
            CONFIG_TEMPLATE,
            &[
                ("SIP_PORT", sip_port.to_string()),
                ("CTRL_PORT", ctrl_port.to_string()),
                ("PLAY_WAV", options.play_wav.display().to_string()),
                ("REC_DIR", rec_dir.display().to_string()),
                ("SIP_CAFILE", cafile),
                ("MODULE_PATH", MODULE_PATH.into()),
                ("CODEC_MODULES", codec_modules(&options.codecs)),
                ("RTP_PORTS", format!("{rtp}-{}", rtp + RTP_PORTS - 1)),
            ],
        )?;
        process::write_file(&dir_path.join("config"), &config)?;

        let own = SocketAddr::from((Ipv4Addr::LOCALHOST, sip_port));
        let aor_host = options.registrar.unwrap_or(own);
        let mut params = Vec::new();
        if !options.password.is_empty() {
            params.push(format!("auth_pass={}", options.password));
        }
        if let Some(outbound) = options.outbound.or(options.registrar) {
            params.push(format!(
                "outbound=\"sip:{outbound};transport={}\"",
                options.transport.param()
            ));
        }
        let regint = if options.registrar.is_some() {
            options.regint
        } else {
            0
        };
        params.push(format!("regint={regint}"));
        params.push(format!(
            "answermode={}",
            match options.answer {
                Answer::Auto => "auto",
                Answer::Manual | Answer::Busy => "manual",
            }
        ));
        params.push(format!("audio_codecs={}", options.codecs.join(",")));
        params.push("ptime=20".into());
        if let Some(menc) = options.srtp.param() {
            params.push(format!("mediaenc={menc}"));
        }
        let accounts = process::fill_template(
            ACCOUNTS_TEMPLATE,
            &[
                ("USER", options.user.clone()),
                ("AOR_HOST", aor_host.to_string()),
                ("PARAMS", params.join(";")),
            ],
        )?;
        process::write_file(&dir_path.join("accounts"), &accounts)?;

        let mut command = Command::new(bin);
        command
            .arg("-f")
            .arg(&dir_path)
            .current_dir(&dir_path)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let log_file = File::create(dir_path.join("baresip.log"))
            .map_err(|e| PeerError::io("baresip: log file", e))?;
        // Stopped again if anything below fails.
        let mut started = process::Started::new(process::spawn(&mut command, "baresip")?);
        let log = SharedLog::default();
        let file = Some(Arc::new(Mutex::new(log_file)));
        let name = format!("baresip-{}", options.user);
        let child = started.child().ok_or_else(|| PeerError::Protocol {
            peer: name.clone(),
            message: "no child process".into(),
        })?;
        let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
        if let Some(stdout) = stdout {
            log.attach(stdout, file.clone(), &name)?;
        }
        if let Some(stderr) = stderr {
            log.attach(stderr, file, &name)?;
        }

        let ctrl_addr = SocketAddr::from((Ipv4Addr::LOCALHOST, ctrl_port));
        let deadline = Instant::now() + options.startup_timeout;
        let stream = loop {
            if let Ok(stream) = TcpStream::connect_timeout(&ctrl_addr, Duration::from_millis(200)) {
                break stream;
            }
            let exited = log.closed()
                || started
                    .child()
                    .is_some_and(|child| matches!(child.try_wait(), Ok(Some(_))));
            if exited || Instant::now() >= deadline {
                drop(started);
                let tail = log.tail(TAIL_LINES);
                process::finish_dir(Some(dir), &name);
                return Err(if exited {
                    PeerError::Exited {
                        peer: name,
                        what: "its ctrl_tcp port".into(),
                        log: tail,
                    }
                } else {
                    PeerError::Timeout {
                        peer: name,
                        what: "its ctrl_tcp port".into(),
                        timeout: options.startup_timeout,
                        log: tail,
                    }
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let _ = stream.set_nodelay(true);
        let read_half = stream
            .try_clone()
            .map_err(|e| PeerError::io("baresip: ctrl_tcp", e))?;
        let writer = Arc::new(Mutex::new(stream));
        let ctrl = Arc::new(Ctrl::default());
        let reader = {
            let ctrl = ctrl.clone();
            let writer = writer.clone();
            let busy = options.answer == Answer::Busy;
            std::thread::Builder::new()
                .name(format!("{name}-ctrl"))
                .spawn(move || read_ctrl(read_half, &ctrl, &writer, busy))
                .map_err(|e| PeerError::io("baresip: ctrl thread", e))?
        };
        Ok(Self {
            child: started.keep(),
            dir: Some(dir),
            dir_path,
            log,
            ctrl,
            writer,
            reader: Some(reader),
            tokens: AtomicU64::new(0),
            user: options.user.clone(),
            aor: format!("sip:{}@{aor_host}", options.user),
            sip_port,
        })
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    /// The address of record, `sip:USER@REGISTRAR` (or `sip:USER@OWN_ADDR` when it
    /// registers nowhere).
    pub fn aor(&self) -> &str {
        &self.aor
    }

    /// Its own SIP address (UDP and TCP).
    pub fn sip_addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.sip_port))
    }

    /// Its own SIP TLS address (the port after [`Baresip::sip_addr`]'s).
    pub fn tls_addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.sip_port + 1))
    }

    /// A URI that reaches it directly, without a proxy: `sip:USER@127.0.0.1:PORT`.
    pub fn contact_uri(&self) -> String {
        format!("sip:{}@{}", self.user, self.sip_addr())
    }

    /// The temp dir (config, accounts, `baresip.log`, `rec/`).
    pub fn dir(&self) -> &Path {
        &self.dir_path
    }

    /// Where the `sndfile` filter writes `dump-<time>-dec.wav` (received) and `-enc.wav`
    /// (sent) for each call.
    pub fn recording_dir(&self) -> PathBuf {
        self.dir_path.join("rec")
    }

    /// The newest recording of received audio (`*-dec.wav`). Its header is complete once
    /// the call has closed; [`crate::sip::wav::read_wav`] reads an open one too. Names
    /// have one-second resolution: two calls within a second share a file.
    pub fn received_wav(&self) -> Option<PathBuf> {
        self.newest_recording("-dec.wav")
    }

    /// Waits for the recording of received audio to appear (baresip writes it as the call
    /// runs; a test that hung up looks for it next).
    pub fn wait_received_wav(&self, timeout: Duration) -> Result<PathBuf> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Some(path) = self.received_wav() {
                return Ok(path);
            }
            if std::time::Instant::now() >= deadline {
                return Err(PeerError::Timeout {
                    peer: "baresip".into(),
                    what: "a recording of the received audio".into(),
                    timeout,
                    log: String::new(),
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The newest recording of sent audio (`*-enc.wav`).
    pub fn sent_wav(&self) -> Option<PathBuf> {
        self.newest_recording("-enc.wav")
    }

    fn newest_recording(&self, suffix: &str) -> Option<PathBuf> {
        let mut found: Vec<PathBuf> = std::fs::read_dir(self.recording_dir())
            .ok()?
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| {
                path.file_name()
                    .and_then(|name| name.to_str())
                    .is_some_and(|name| name.ends_with(suffix))
            })
            .collect();
        found.sort();
        found.pop()
    }

    /// Sends a ctrl_tcp command (a menu command: `dial`, `hangup`, `accept`, `sndcode`,
    /// `hold`, `resume`, `transfer`, `reinvite`, `listcalls`, …; the in-call ones only
    /// while a call is up) and waits for its response.
    pub fn command(&self, command: &str, params: &str) -> Result<CtrlResponse> {
        let token = format!("t{}", self.tokens.fetch_add(1, Ordering::Relaxed));
        send_command(&self.writer, command, params, &token)
            .map_err(|e| PeerError::io(format!("baresip-{}: ctrl_tcp {command}", self.user), e))?;
        match self
            .ctrl
            .wait(COMMAND_TIMEOUT, |state| state.responses.remove(&token))
        {
            (Some(response), _) => Ok(response),
            (None, closed) => Err(self.gave_up(
                &format!("a response to `{command}`"),
                COMMAND_TIMEOUT,
                closed,
            )),
        }
    }

    /// Places a call to `uri` (through the outbound proxy when there is one).
    pub fn dial(&self, uri: &str) -> Result<CtrlResponse> {
        self.command("dial", uri)
    }

    /// Answers the ringing incoming call ([`Answer::Manual`]).
    pub fn accept(&self) -> Result<CtrlResponse> {
        self.command("accept", "")
    }

    /// Hangs up the current call (BYE; CANCEL while it rings out; 486 to an incoming one).
    /// baresip reports no `CALL_CLOSED` event for a local hangup.
    pub fn hangup(&self) -> Result<CtrlResponse> {
        self.command("hangup", "")
    }

    /// Sends DTMF `digits` (0-9, *, #, A-D) as RFC 4733 telephone-events.
    pub fn send_dtmf(&self, digits: &str) -> Result<CtrlResponse> {
        self.command("sndcode", digits)
    }

    /// Every event received so far.
    pub fn events(&self) -> Vec<Event> {
        self.ctrl
            .lock()
            .events
            .iter()
            .map(|(e, _)| e.clone())
            .collect()
    }

    /// Waits for the oldest event of type `kind` not handed out by a `wait_event*` call
    /// before (so three calls return three `CALL_DTMF_START`s in order).
    pub fn wait_event(&self, kind: &str, timeout: Duration) -> Result<Event> {
        self.wait_event_where(kind, timeout, |_| true)
    }

    /// [`Baresip::wait_event`] for an event that also satisfies `matches`.
    pub fn wait_event_where(
        &self,
        kind: &str,
        timeout: Duration,
        matches: impl Fn(&Event) -> bool,
    ) -> Result<Event> {
        let found = self.ctrl.wait(timeout, |state| {
            let (event, taken) = state
                .events
                .iter_mut()
                .find(|(event, taken)| !*taken && event.kind == kind && matches(event))?;
            *taken = true;
            Some(event.clone())
        });
        match found {
            (Some(event), _) => Ok(event),
            (None, closed) => Err(self.gave_up(&format!("a {kind} event"), timeout, closed)),
        }
    }

    /// Waits until the registrar accepted the registration (a `200 OK … [1 binding]`
    /// line, or a `REGISTER_OK` event).
    pub fn wait_registered(&self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        let prefix = format!("{}@", self.user);
        loop {
            let logged = self.log.count_where(|line| {
                line.contains(&prefix)
                    && line.contains("} 200 ")
                    && line.contains(" binding")
                    && !line.contains("[0 binding")
            }) > 0;
            let evented = self
                .ctrl
                .lock()
                .events
                .iter()
                .any(|(event, _)| event.kind == "REGISTER_OK");
            if logged || evented {
                return Ok(());
            }
            if self.log.closed() || Instant::now() >= deadline {
                return Err(self.gave_up("a registration", timeout, self.log.closed()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Everything baresip printed so far (split on `\r` and `\n`).
    pub fn log(&self) -> String {
        self.log.text()
    }

    /// A mark in the log for [`Baresip::wait_log_since`].
    pub fn log_mark(&self) -> usize {
        self.log.len()
    }

    /// Waits for a printed line containing `needle` (anywhere in the log) and returns it.
    pub fn wait_log(&self, needle: &str, timeout: Duration) -> Result<String> {
        self.wait_log_since(0, needle, timeout)
    }

    /// Waits for a printed line containing `needle` after `mark`.
    pub fn wait_log_since(&self, mark: usize, needle: &str, timeout: Duration) -> Result<String> {
        match self
            .log
            .wait_for(mark, timeout, |line| line.contains(needle))
        {
            Waited::Found(line) => Ok(line),
            Waited::TimedOut => {
                Err(self.gave_up(&format!("a line with {needle:?}"), timeout, false))
            }
            Waited::Closed => Err(self.gave_up(&format!("a line with {needle:?}"), timeout, true)),
        }
    }

    fn gave_up(&self, what: &str, timeout: Duration, exited: bool) -> PeerError {
        let peer = format!("baresip-{}", self.user);
        let log = self.log.tail(TAIL_LINES);
        if exited {
            PeerError::Exited {
                peer,
                what: what.into(),
                log,
            }
        } else {
            PeerError::Timeout {
                peer,
                what: what.into(),
                timeout,
                log,
            }
        }
    }
}

impl Drop for Baresip {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            process::stop(
                &mut child,
                &[
                    (libc::SIGTERM, Duration::from_secs(2)),
                    (libc::SIGTERM, Duration::from_secs(1)),
                ],
            );
        }
        if let Ok(stream) = self.writer.lock() {
            let _ = stream.shutdown(Shutdown::Both);
        }
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        if std::thread::panicking() {
            eprintln!(
                "--- baresip-{} log tail ({}) ---\n{}",
                self.user,
                self.dir_path.display(),
                self.log.tail(TAIL_LINES)
            );
        }
        process::finish_dir(self.dir.take(), &format!("baresip-{}", self.user));
    }
}

/// `module X.so` lines for the codec modules `codecs` need (G.711 always).
fn codec_modules(codecs: &[String]) -> String {
    let mut modules = vec!["g711"];
    for codec in codecs {
        let name = codec
            .split('/')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let module = match name.as_str() {
            "g722" => "g722",
            "opus" => "opus",
            "l16" => "l16",
            "gsm" => "gsm",
            _ => continue,
        };
        if !modules.contains(&module) {
            modules.push(module);
        }
    }
    modules
        .iter()
        .map(|m| format!("module\t\t\t{m}.so"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn send_command(
    writer: &Mutex<TcpStream>,
    command: &str,
    params: &str,
    token: &str,
) -> std::io::Result<()> {
    let body =
        serde_json::json!({ "command": command, "params": params, "token": token }).to_string();
    let mut stream = writer
        .lock()
        .map_err(|_| std::io::Error::other("ctrl_tcp writer poisoned"))?;
    stream.write_all(format!("{}:{body},", body.len()).as_bytes())
}

/// Reads netstrings (`<len>:<json>,`) from ctrl_tcp until the connection ends: events go
/// to the list, responses to their token. With `busy`, answers `CALL_INCOMING` with a
/// hangup (486).
fn read_ctrl(stream: TcpStream, ctrl: &Ctrl, writer: &Mutex<TcpStream>, busy: bool) {
    let mut reader = BufReader::new(stream);
    while let Some(message) = read_netstring(&mut reader) {
        let Ok(json) = serde_json::from_slice::<Value>(&message) else {
            continue;
        };
        let mut state = ctrl.lock();
        if json.get("event").and_then(Value::as_bool) == Some(true) {
            let event = Event::from_json(json);
            if busy && event.kind == "CALL_INCOMING" {
                let _ = send_command(writer, "hangup", "", "busy");
            }
            state.events.push((event, false));
        } else if json.get("response").and_then(Value::as_bool) == Some(true) {
            let token = json
                .get("token")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let response = CtrlResponse {
                ok: json.get("ok").and_then(Value::as_bool).unwrap_or(false),
                data: json
                    .get("data")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            };
            state.responses.insert(token, response);
        }
        drop(state);
        ctrl.changed.notify_all();
    }
    ctrl.lock().closed = true;
    ctrl.changed.notify_all();
}

fn read_netstring(reader: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut len = Vec::new();
    reader.read_until(b':', &mut len).ok()?;
    if len.pop() != Some(b':') {
        return None;
    }
    let len: usize = std::str::from_utf8(&len).ok()?.trim().parse().ok()?;
    let mut body = vec![0u8; len + 1];
    reader.read_exact(&mut body).ok()?;
    if body.pop() != Some(b',') {
        return None;
    }
    Some(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netstrings_are_read_one_by_one() {
        let mut input = &b"3:abc,0:,5:{\"a\"},"[..];
        assert_eq!(read_netstring(&mut input), Some(b"abc".to_vec()));
        assert_eq!(read_netstring(&mut input), Some(Vec::new()));
        assert_eq!(read_netstring(&mut input), Some(b"{\"a\"}".to_vec()));
        assert_eq!(read_netstring(&mut input), None);
        assert_eq!(read_netstring(&mut &b"3:abcd"[..]), None);
    }

    #[test]
    fn codec_modules_follow_the_codecs() {
        let codecs = [
            "G722/16000/1".to_owned(),
            "PCMU/8000/1".to_owned(),
            "opus/48000/2".to_owned(),
        ];
        assert_eq!(
            codec_modules(&codecs),
            "module\t\t\tg711.so\nmodule\t\t\tg722.so\nmodule\t\t\topus.so"
        );
    }
}
