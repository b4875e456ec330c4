//! sipp for scripted SIP traffic: a scenario (one of [`scenarios`] or your own XML)
//! written to a temp dir and run once on a free local port, with its error and message
//! traces read back. A UAC scenario sends to a target (kamailio, or the user agent under
//! test); a UAS scenario waits for the user agent under test to send to it.

use super::process::{self, TAIL_LINES};
use super::{PeerError, Result, Transport, binary};
use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The shipped scenarios (`crates/testserver/sip/scenarios/`). Each file's comment says
/// how to run it and what it expects. Values come from [`SippArgs`]: `[service]` is
/// `service` (`-s`), `[caller]` a `-key caller NAME` in `keys`, `[authentication]` uses
/// `auth_user`/`auth_password` (MD5 only).
pub mod scenarios {
    /// UAC: REGISTER → 401 → REGISTER with Authorization → 200. Target: a registrar.
    pub const REGISTER_AUTH: &str = include_str!("../../sip/scenarios/register_auth.xml");
    /// UAC through a proxy: INVITE → 407 → ACK → INVITE with Proxy-Authorization → 200 →
    /// ACK → INFO (dtmf-relay `5`) → 200 → BYE → 200, honouring Record-Route. Needs
    /// `service` (callee) and the key `caller`.
    pub const UAC_INVITE_AUTH_INFO_BYE: &str =
        include_str!("../../sip/scenarios/uac_invite_auth_info_bye.xml");
    /// UAC: OPTIONS whose Content-Length is larger than its body (UDP): expects 400
    /// (RFC 3261 §18.3).
    pub const UAC_CONTENT_LENGTH_TOO_LONG: &str =
        include_str!("../../sip/scenarios/uac_content_length_too_long.xml");
    /// UAC: OPTIONS whose Content-Length is smaller than the datagram's body: the extra
    /// bytes must be discarded and the request answered 200.
    pub const UAC_CONTENT_LENGTH_TOO_SHORT: &str =
        include_str!("../../sip/scenarios/uac_content_length_too_short.xml");
    /// UAC: an OPTIONS without Call-ID and CSeq (an answer cannot be matched, so none is
    /// expected), then a well-formed OPTIONS that must get 200: the UA survived.
    pub const UAC_MISSING_CALL_ID_CSEQ: &str =
        include_str!("../../sip/scenarios/uac_missing_call_id_cseq.xml");
    /// UAC: a BYE for a dialog that does not exist: expects 481.
    pub const UAC_BYE_UNKNOWN_DIALOG: &str =
        include_str!("../../sip/scenarios/uac_bye_unknown_dialog.xml");
    /// UAC: the same INVITE (same branch, CSeq) sent 3 times: INVITE → 200, copy → the
    /// 200 re-sent, copy → the 200 re-sent, ACK, BYE → 200; one call. The copies follow
    /// the first 200 (sipp cannot send two messages back to back without an answer
    /// slipping in between). Run with `retransmissions: false` (`-nr`: otherwise sipp
    /// swallows each re-sent 200 as a retransmission). The target must answer by itself.
    pub const UAC_INVITE_RETRANSMITTED: &str =
        include_str!("../../sip/scenarios/uac_invite_retransmitted.xml");
    /// UAS: answers every REGISTER with 401 and a fresh nonce, forever. Stop it with
    /// [`super::Sipp::stop`] and count the REGISTERs with [`super::SippOutcome::received`].
    pub const UAS_ENDLESS_401: &str = include_str!("../../sip/scenarios/uas_endless_401.xml");
    /// UAS: answers INVITE with 486 Busy Here and waits for the ACK.
    pub const UAS_BUSY_486: &str = include_str!("../../sip/scenarios/uas_busy_486.xml");
    /// UAS: answers INVITE with 180 Ringing, waits for CANCEL, answers it 200 and the
    /// INVITE 487, waits for the ACK.
    pub const UAS_RING_THEN_CANCEL: &str =
        include_str!("../../sip/scenarios/uas_ring_then_cancel.xml");
}

/// How to run a scenario.
#[derive(Debug, Clone)]
pub struct SippArgs {
    /// Where a UAC scenario sends (`[remote_ip]:[remote_port]`); `None` for UAS ones.
    pub target: Option<SocketAddr>,
    /// `-s`: `[service]`, the user part of the Request-URI.
    pub service: Option<String>,
    /// `-au`: the digest user name.
    pub auth_user: Option<String>,
    /// `-ap`: the digest password.
    pub auth_password: Option<String>,
    /// `-key NAME VALUE` pairs: `[NAME]` in the scenario.
    pub keys: Vec<(String, String)>,
    /// UDP or TCP (Debian's sipp has no TLS).
    pub transport: Transport,
    /// `-timeout`: sipp gives up after this (whole seconds, at least 1).
    pub timeout: Duration,
    /// `-m`: calls to run.
    pub calls: u32,
    /// sipp's UDP retransmissions and retransmission detection; `false` adds `-nr`.
    pub retransmissions: bool,
    /// More arguments, appended last.
    pub extra: Vec<String>,
}

impl Default for SippArgs {
    fn default() -> Self {
        Self {
            target: None,
            service: None,
            auth_user: None,
            auth_password: None,
            keys: Vec::new(),
            transport: Transport::Udp,
            timeout: Duration::from_secs(10),
            calls: 1,
            retransmissions: true,
            extra: Vec::new(),
        }
    }
}

impl SippArgs {
    /// A UAC scenario sending to `target`.
    pub fn to(target: SocketAddr) -> Self {
        Self {
            target: Some(target),
            ..Self::default()
        }
    }

    /// Adds `-key name value`.
    pub fn key(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.keys.push((name.into(), value.into()));
        self
    }
}

/// How a sipp run ended.
#[derive(Debug, Clone)]
pub struct SippOutcome {
    /// The exit status (of a stopped run: after SIGINT or SIGKILL); `None` if it could
    /// not be reaped.
    pub status: Option<ExitStatus>,
    /// `-trace_err`: unexpected messages, timeouts and the like.
    pub errors: String,
    /// `-trace_msg`: every message sent and received.
    pub messages: String,
    /// sipp's stdout and stderr.
    pub output: String,
}

impl SippOutcome {
    /// Exit code 0: every call ran through the scenario.
    pub fn success(&self) -> bool {
        self.status.and_then(|s| s.code()) == Some(0)
    }

    /// The start lines of the messages sipp received (`REGISTER sip:… SIP/2.0`,
    /// `SIP/2.0 200 OK`), in order.
    pub fn received(&self) -> Vec<String> {
        self.start_lines("message received")
    }

    /// The start lines of the messages sipp sent, in order (retransmissions included).
    pub fn sent(&self) -> Vec<String> {
        self.start_lines("message sent")
    }

    fn start_lines(&self, marker: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut lines = self.messages.lines();
        while let Some(line) = lines.next() {
            if line.contains(marker)
                && let Some(start) = lines.by_ref().map(str::trim).find(|l| !l.is_empty())
            {
                out.push(start.to_owned());
            }
        }
        out
    }

    /// A summary for assertion messages.
    pub fn report(&self) -> String {
        let tail = |text: &str| {
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n")
        };
        format!(
            "sipp exit: {:?}\n--- errors ---\n{}\n--- messages (tail) ---\n{}\n--- output (tail) ---\n{}",
            self.status,
            tail(&self.errors),
            tail(&self.messages),
            tail(&self.output)
        )
    }
}

/// A sipp run in the background (see [`Sipp::spawn`]); killed when dropped.
pub struct Sipp {
    child: Option<Child>,
    dir: Option<tempfile::TempDir>,
    dir_path: PathBuf,
    port: u16,
    media_port: u16,
    timeout: Duration,
}

impl Sipp {
    /// Runs `scenario_xml` once with `args` and waits for the end.
    pub fn run(scenario_xml: &str, args: &SippArgs) -> Result<SippOutcome> {
        Self::spawn(scenario_xml, args)?.wait()
    }

    /// Starts `scenario_xml` with `args` and returns once sipp holds its local port (a
    /// UAS scenario is then ready for the user agent under test: [`Sipp::local_addr`]).
    pub fn spawn(scenario_xml: &str, args: &SippArgs) -> Result<Self> {
        if args.transport == Transport::Tls {
            return Err(PeerError::Protocol {
                peer: "sipp".into(),
                message: "Debian's sipp is built without TLS".into(),
            });
        }
        let bin = binary("sipp")?;
        let dir = tempfile::Builder::new()
            .prefix("cuecard-sipp-")
            .tempdir()
            .map_err(|e| PeerError::io("sipp: temp dir", e))?;
        let dir_path = dir.path().to_path_buf();
        let scenario = dir_path.join("scenario.xml");
        process::write_file(&scenario, scenario_xml)?;
        let port = process::free_port_block(1).map_err(|e| PeerError::io("sipp: ports", e))?;
        // sipp opens RTP/RTCP for audio and video from -mp on.
        let media_port =
            process::free_port_block(4).map_err(|e| PeerError::io("sipp: ports", e))?;
        let seconds = args.timeout.as_secs_f64().ceil().max(1.0) as u64;

        let mut command = Command::new(bin);
        if let Some(target) = args.target {
            command.arg(target.to_string());
        }
        command
            .arg("-sf")
            .arg(&scenario)
            .args(["-i", "127.0.0.1", "-p", &port.to_string()])
            .args(["-mp", &media_port.to_string()])
            .args(["-m", &args.calls.to_string()])
            .args(["-timeout", &seconds.to_string()])
            .args(["-nostdin", "-trace_err", "-trace_msg"])
            .args([
                "-t",
                match args.transport {
                    Transport::Tcp => "t1",
                    _ => "u1",
                },
            ]);
        if let Some(service) = &args.service {
            command.args(["-s", service]);
        }
        if let Some(user) = &args.auth_user {
            command.args(["-au", user]);
        }
        if let Some(password) = &args.auth_password {
            command.args(["-ap", password]);
        }
        for (name, value) in &args.keys {
            command.args(["-key", name, value]);
        }
        if !args.retransmissions {
            command.arg("-nr");
        }
        command.args(&args.extra);
        let output = File::create(dir_path.join("sipp.out"))
            .map_err(|e| PeerError::io("sipp: output file", e))?;
        let errors = output
            .try_clone()
            .map_err(|e| PeerError::io("sipp: output file", e))?;
        command
            .current_dir(&dir_path)
            .stdin(Stdio::null())
            .stdout(output)
            .stderr(errors);
        let child = process::spawn(&mut command, "sipp")?;
        let mut sipp = Self {
            child: Some(child),
            dir: Some(dir),
            dir_path,
            port,
            media_port,
            timeout: Duration::from_secs(seconds),
        };
        let udp = args.transport == Transport::Udp;
        let deadline = Instant::now() + Duration::from_secs(5);
        while !process::port_taken(port, udp) {
            let exited = sipp
                .child
                .as_mut()
                .is_some_and(|child| matches!(child.try_wait(), Ok(Some(_))));
            if exited || Instant::now() >= deadline {
                // A UAC scenario may be over already: that is for wait() to report.
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(sipp)
    }

    /// Its SIP address (`[local_ip]:[local_port]`).
    pub fn local_addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// The first of its media ports (`[media_port]`).
    pub fn media_port(&self) -> u16 {
        self.media_port
    }

    /// The temp dir (scenario, traces, `sipp.out`).
    pub fn dir(&self) -> &Path {
        &self.dir_path
    }

    /// Waits for sipp to end by itself (up to its timeout plus 5 s, then it is stopped).
    pub fn wait(mut self) -> Result<SippOutcome> {
        let status = self
            .child
            .as_mut()
            .and_then(|child| process::wait_exit(child, self.timeout + Duration::from_secs(5)));
        self.finish(status)
    }

    /// Stops sipp now (SIGINT: it quits and writes its traces; SIGKILL after 2 s): how a
    /// UAS scenario that never ends ([`scenarios::UAS_ENDLESS_401`]) is ended.
    pub fn stop(mut self) -> Result<SippOutcome> {
        self.finish(None)
    }

    fn finish(&mut self, ended: Option<ExitStatus>) -> Result<SippOutcome> {
        let status = match (ended, self.child.as_mut()) {
            (Some(status), _) => Some(status),
            (None, Some(child)) => process::stop(child, &[(libc::SIGINT, Duration::from_secs(2))]),
            (None, None) => None,
        };
        self.child = None;
        let read = |suffix: &str| -> String {
            std::fs::read_dir(&self.dir_path)
                .into_iter()
                .flatten()
                .flatten()
                .map(|entry| entry.path())
                .filter(|path| {
                    path.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.ends_with(suffix))
                })
                .map(|path| std::fs::read_to_string(path).unwrap_or_default())
                .collect::<Vec<_>>()
                .join("\n")
        };
        let outcome = SippOutcome {
            status,
            errors: read("_errors.log"),
            messages: read("_messages.log"),
            output: read("sipp.out"),
        };
        Ok(outcome)
    }
}

impl Drop for Sipp {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            process::stop(&mut child, &[(libc::SIGINT, Duration::from_secs(2))]);
        }
        process::finish_dir(self.dir.take(), "sipp");
    }
}
