//! Real SIP peers on loopback for integration tests of a SIP user agent (feature
//! `sip-peers`): [`Kamailio`] as registrar and proxy with digest auth (the stand-in for a
//! Twilio SIP Domain), [`Baresip`] as the far-end phone (plays a WAV, records what it
//! hears, reports calls and DTMF as events), and [`Sipp`] for scripted edge traffic
//! ([`scenarios`]). [`wav`] makes test signals and checks received audio.
//!
//! The peers are the Debian 12 packages `kamailio kamailio-tls-modules baresip-core
//! sip-tester` (`scripts/dev.sh deps` installs them). Each peer runs in a temp dir of its
//! own on ports of its own and is stopped when dropped. Tests start with
//! [`require_binaries`], which skips (prints why and returns `false`) where the packages
//! are missing, except under CI, where that is a failure.
//!
//! **Drop order**: a baresip un-REGISTERs when it stops, so it must stop before the
//! kamailio it registered with (otherwise its stop takes a second signal). Rust drops
//! locals in reverse order of declaration: declare the [`Kamailio`] first, then the
//! [`Baresip`]s.
//!
//! A peer sends SIGTERM to itself if the thread that started it exits (Linux), so start
//! peers on the test's own thread and do not share them between tests through statics.
//! Set `CUECARD_SIP_KEEP=1` to keep the temp dirs (configs, logs, recordings).

mod baresip;
mod kamailio;
mod process;
mod sipp;
pub mod wav;

pub use baresip::{Answer, Baresip, BaresipOptions, CtrlResponse, Event, Srtp};
pub use kamailio::{Algorithm, Kamailio, KamailioOptions};
pub use process::free_port_block;
pub use sipp::{Sipp, SippArgs, SippOutcome, scenarios};

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Failures of the peers.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    #[error("`{binary}` is not installed (Debian package `{package}`)")]
    Missing {
        binary: &'static str,
        package: &'static str,
    },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{peer}: {what} did not happen within {timeout:?}\n--- {peer} log tail ---\n{log}")]
    Timeout {
        peer: String,
        what: String,
        timeout: Duration,
        log: String,
    },
    #[error("{peer} exited while waiting for {what}\n--- {peer} log tail ---\n{log}")]
    Exited {
        peer: String,
        what: String,
        log: String,
    },
    #[error("{peer}: {message}")]
    Protocol { peer: String, message: String },
    #[error("template: {0}")]
    Template(String),
    #[error("TLS certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("WAV: {0}")]
    Wav(#[from] hound::Error),
}

impl PeerError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}

pub type Result<T, E = PeerError> = std::result::Result<T, E>;

/// SIP transports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Transport {
    #[default]
    Udp,
    Tcp,
    Tls,
}

impl Transport {
    /// The `transport=` URI parameter value.
    pub fn param(self) -> &'static str {
        match self {
            Self::Udp => "udp",
            Self::Tcp => "tcp",
            Self::Tls => "tls",
        }
    }
}

/// The peers' binaries and the Debian packages they come from.
pub const BINARIES: [(&str, &str); 3] = [
    ("kamailio", "kamailio"),
    ("baresip", "baresip-core"),
    ("sipp", "sip-tester"),
];

/// Where `name` is: `$PATH`, then `/usr/sbin` and `/sbin` (kamailio lives there and a
/// non-root `$PATH` often lacks them).
pub fn find_binary(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

pub(crate) fn binary(name: &'static str) -> Result<PathBuf> {
    find_binary(name).ok_or_else(|| PeerError::Missing {
        binary: name,
        package: BINARIES
            .iter()
            .find(|(binary, _)| *binary == name)
            .map_or(name, |(_, package)| package),
    })
}

/// Whether this is a CI run (`CI` set to anything but empty, `0` or `false`).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

/// The first line of a test that needs the peers `names` (e.g. `["kamailio", "baresip"]`):
/// `true` when they are all installed. Otherwise it prints what is missing and returns
/// `false` (the test returns early: skipped), or under CI panics: there, missing peers
/// are a broken setup, not a reason to skip.
pub fn require_binaries(names: &[&str]) -> bool {
    let missing: Vec<String> = names
        .iter()
        .filter(|name| find_binary(name).is_none())
        .map(|name| {
            let package = BINARIES
                .iter()
                .find(|(binary, _)| binary == name)
                .map_or(*name, |(_, package)| package);
            format!("{name} (Debian package {package})")
        })
        .collect();
    if missing.is_empty() {
        return true;
    }
    let message = format!(
        "SIP peers missing: {}; install them with scripts/dev.sh deps",
        missing.join(", ")
    );
    assert!(!in_ci(), "{message} (CI is set, so this is a failure)");
    eprintln!("SKIPPED: {message}");
    false
}

/// Sends a SIP OPTIONS for `sip:TARGET` over UDP to `target` (retransmitted every
/// 250 ms) and returns the status line of the first final response, e.g.
/// `SIP/2.0 200 Keepalive` from kamailio (a baresip answers 404: no user in the URI).
pub fn sip_options(target: SocketAddr, timeout: Duration) -> Result<String> {
    sip_options_to(target, &format!("sip:{target}"), timeout)
}

/// [`sip_options`] with the Request-URI `request_uri`, sent to `send_to` (e.g. through an
/// [`crate::impair::UdpImpairment`] relay to kamailio: the URI names kamailio).
pub fn sip_options_to(send_to: SocketAddr, request_uri: &str, timeout: Duration) -> Result<String> {
    let socket =
        UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| PeerError::io("OPTIONS: bind", e))?;
    let local = socket
        .local_addr()
        .map_err(|e| PeerError::io("OPTIONS: local address", e))?;
    let tag = std::process::id();
    let request = format!(
        "OPTIONS {request_uri} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {local};branch=z9hG4bK-opt-{tag}-{port};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:probe@{local}>;tag=probe{tag}\r\n\
         To: <{request_uri}>\r\n\
         Call-ID: options-{tag}-{port}@127.0.0.1\r\n\
         CSeq: 1 OPTIONS\r\n\
         Accept: application/sdp\r\n\
         Content-Length: 0\r\n\r\n",
        port = local.port()
    );
    socket
        .set_read_timeout(Some(Duration::from_millis(250)))
        .map_err(|e| PeerError::io("OPTIONS: timeout", e))?;
    let deadline = Instant::now() + timeout;
    let mut buf = [0u8; 65535];
    while Instant::now() < deadline {
        // The peer may not be listening yet: a refused send is retried like a lost one.
        let _ = socket.send_to(request.as_bytes(), send_to);
        let wait_until = Instant::now() + Duration::from_millis(250);
        while Instant::now() < wait_until {
            let n = match socket.recv_from(&mut buf) {
                Ok((n, _)) => n,
                Err(e) => {
                    // ICMP "port unreachable" comes back at once: do not spin on it.
                    if !matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) {
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    break;
                }
            };
            let text = String::from_utf8_lossy(&buf[..n]);
            let status = text.lines().next().unwrap_or_default().to_owned();
            let code = status.split_whitespace().nth(1).unwrap_or_default();
            if code.len() == 3 && !code.starts_with('1') {
                return Ok(status);
            }
        }
    }
    Err(PeerError::Timeout {
        peer: format!("{request_uri} at {send_to}"),
        what: "an answer to OPTIONS".into(),
        timeout,
        log: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_binaries_skip_outside_ci_and_fail_under_it() {
        let missing = ["cuecard-no-such-sip-peer"];
        if in_ci() {
            assert!(std::panic::catch_unwind(|| require_binaries(&missing)).is_err());
        } else {
            assert!(!require_binaries(&missing));
        }
        assert!(require_binaries(&[]));
        assert!(matches!(
            binary("cuecard-no-such-sip-peer"),
            Err(PeerError::Missing { .. })
        ));
    }
}
