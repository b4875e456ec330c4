//! Kamailio as a loopback registrar and proxy with digest auth, standing in for a Twilio
//! SIP Domain: `sip/kamailio.cfg.tmpl` filled in a temp dir (with a self-signed
//! certificate for TLS), run in the foreground on free ports, its stderr captured, and
//! the cfg's `TEST:` log lines waited for.

use super::process::{self, SharedLog, TAIL_LINES, Waited};
use super::{PeerError, Result, binary, sip_options};
use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CONFIG_TEMPLATE: &str = include_str!("../../sip/kamailio.cfg.tmpl");

/// The digest algorithm kamailio challenges with. Kamailio 5.6 offers exactly one per
/// instance (module parameter `auth.algorithm`). baresip 1.0.0 and sipp 3.6.1 answer only
/// MD5 challenges: SHA-256 is for the user agent under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Algorithm {
    #[default]
    Md5,
    Sha256,
}

impl Algorithm {
    fn cfg_value(self) -> &'static str {
        match self {
            Self::Md5 => "MD5",
            Self::Sha256 => "SHA-256",
        }
    }
}

/// How to start a [`Kamailio`].
#[derive(Debug, Clone)]
pub struct KamailioOptions {
    /// The digest realm in the challenges.
    pub realm: String,
    /// The one password every user authenticates with (any user name works, but the
    /// auth user must equal the To user of a REGISTER and the From user otherwise).
    pub password: String,
    pub algorithm: Algorithm,
    /// Also listen for TLS (with a fresh self-signed certificate for 127.0.0.1 and
    /// localhost: [`Kamailio::cert_pem`]).
    pub tls: bool,
    /// A host name kamailio treats as itself (R-URI and From hosts), besides 127.0.0.1.
    pub domain: String,
    /// How long to wait for it to answer OPTIONS after the start.
    pub startup_timeout: Duration,
}

impl Default for KamailioOptions {
    fn default() -> Self {
        Self {
            realm: "test.sip.local".into(),
            password: "s3cret".into(),
            algorithm: Algorithm::Md5,
            tls: false,
            domain: "test.sip.local".into(),
            startup_timeout: Duration::from_secs(10),
        }
    }
}

/// A running kamailio; stopped (SIGTERM, then SIGKILL to its workers) and its temp dir
/// removed when dropped. Drop it after the baresips registered with it (see the module
/// docs of [`crate::sip`]).
pub struct Kamailio {
    child: Option<Child>,
    dir: Option<tempfile::TempDir>,
    dir_path: PathBuf,
    log: SharedLog,
    sip_port: u16,
    tls_port: Option<u16>,
    cert_pem: Option<String>,
    options: KamailioOptions,
}

impl Kamailio {
    /// Starts kamailio and waits until it answers OPTIONS over UDP and accepts TCP (and
    /// TLS) connections. Retries on fresh ports when a port was taken meanwhile.
    pub fn start(options: KamailioOptions) -> Result<Self> {
        let bin = binary("kamailio")?;
        let modules = modules_dir()?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            match Self::try_start(&bin, &modules, &options) {
                Err(PeerError::Exited { log, .. })
                    if attempt < 3 && log.contains("Address already in use") =>
                {
                    continue;
                }
                result => return result,
            }
        }
    }

    fn try_start(bin: &Path, modules: &Path, options: &KamailioOptions) -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("cuecard-kamailio-")
            .tempdir()
            .map_err(|e| PeerError::io("kamailio: temp dir", e))?;
        let dir_path = dir.path().to_path_buf();
        let sip_port =
            process::free_port_block(1).map_err(|e| PeerError::io("kamailio: ports", e))?;
        let tls_port = if options.tls {
            Some(process::free_port_block(1).map_err(|e| PeerError::io("kamailio: ports", e))?)
        } else {
            None
        };
        let cert_path = dir_path.join("cert.pem");
        let key_path = dir_path.join("key.pem");
        let cert_pem = if options.tls {
            let (cert, key) = self_signed_cert()?;
            process::write_file(&cert_path, &cert)?;
            process::write_file(&key_path, &key)?;
            Some(cert)
        } else {
            None
        };
        let cfg = process::fill_template(
            CONFIG_TEMPLATE,
            &[
                ("LISTEN_IP", "127.0.0.1".into()),
                ("SIP_PORT", sip_port.to_string()),
                ("TLS_PORT", tls_port.unwrap_or(0).to_string()),
                ("TLS_CERT", cert_path.display().to_string()),
                ("TLS_KEY", key_path.display().to_string()),
                ("DOMAIN", options.domain.clone()),
                ("REALM", options.realm.clone()),
                ("PASSWORD", options.password.clone()),
                ("AUTH_ALGORITHM", options.algorithm.cfg_value().into()),
                ("MODULES_DIR", format!("{}/", modules.display())),
            ],
        )?;
        let cfg_path = dir_path.join("kamailio.cfg");
        process::write_file(&cfg_path, &cfg)?;

        let mut command = Command::new(bin);
        command.arg("-f").arg(&cfg_path);
        if options.tls {
            command.args(["-A", "WITH_TLS"]);
        }
        command
            .args(["-DD", "-E", "-m", "64", "-M", "8", "-P"])
            .arg(dir_path.join("kamailio.pid"))
            .arg("-Y")
            .arg(&dir_path)
            .arg("-w")
            .arg(&dir_path)
            .current_dir(&dir_path)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let log_file = File::create(dir_path.join("kamailio.log"))
            .map_err(|e| PeerError::io("kamailio: log file", e))?;
        let mut child = process::spawn(&mut command, "kamailio")?;
        let (stderr, stdout) = (child.stderr.take(), child.stdout.take());
        // From here on, dropping `kamailio` (an error below) stops the process.
        let kamailio = Self {
            child: Some(child),
            dir: Some(dir),
            dir_path,
            log: SharedLog::default(),
            sip_port,
            tls_port,
            cert_pem,
            options: options.clone(),
        };
        let file = Some(Arc::new(Mutex::new(log_file)));
        if let Some(stderr) = stderr {
            kamailio.log.attach(stderr, file.clone(), "kamailio")?;
        }
        if let Some(stdout) = stdout {
            kamailio.log.attach(stdout, file, "kamailio")?;
        }
        kamailio.wait_ready()?;
        Ok(kamailio)
    }

    fn wait_ready(&self) -> Result<()> {
        let timeout = self.options.startup_timeout;
        let deadline = Instant::now() + timeout;
        let mut answered = false;
        while Instant::now() < deadline {
            if self.exited() {
                return Err(PeerError::Exited {
                    peer: "kamailio".into(),
                    what: "its start".into(),
                    log: self.log.tail(TAIL_LINES),
                });
            }
            answered = answered || sip_options(self.udp_addr(), Duration::from_millis(300)).is_ok();
            let tcp = TcpStream::connect_timeout(&self.tcp_addr(), Duration::from_millis(300));
            let tls = self
                .tls_addr()
                .map(|addr| TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_ok());
            if answered && tcp.is_ok() && tls.unwrap_or(true) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(PeerError::Timeout {
            peer: "kamailio".into(),
            what: "answering OPTIONS and accepting TCP/TLS connections".into(),
            timeout,
            log: self.log.tail(TAIL_LINES),
        })
    }

    /// Whether the process has gone (its output streams are closed).
    fn exited(&self) -> bool {
        self.log.closed()
    }

    /// The UDP address (TCP listens on the same port).
    pub fn udp_addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.sip_port))
    }

    pub fn tcp_addr(&self) -> SocketAddr {
        self.udp_addr()
    }

    /// The TLS address, when started with `tls: true`.
    pub fn tls_addr(&self) -> Option<SocketAddr> {
        self.tls_port
            .map(|port| SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
    }

    /// The extra host name kamailio treats as itself.
    pub fn domain(&self) -> &str {
        &self.options.domain
    }

    pub fn realm(&self) -> &str {
        &self.options.realm
    }

    pub fn password(&self) -> &str {
        &self.options.password
    }

    pub fn algorithm(&self) -> Algorithm {
        self.options.algorithm
    }

    /// The address of record of `user` here: `sip:USER@127.0.0.1:PORT` (what a phone
    /// registers and what a caller dials; the proxy forks to every registered contact).
    pub fn aor(&self, user: &str) -> String {
        format!("sip:{user}@{}", self.udp_addr())
    }

    /// The self-signed certificate (PEM; SAN IP 127.0.0.1 and DNS localhost) a TLS client
    /// must trust, when started with `tls: true`.
    pub fn cert_pem(&self) -> Option<&str> {
        self.cert_pem.as_deref()
    }

    /// The file holding [`Kamailio::cert_pem`].
    pub fn cert_path(&self) -> Option<PathBuf> {
        self.cert_pem
            .as_ref()
            .map(|_| self.dir_path.join("cert.pem"))
    }

    /// The temp dir (cfg, certificate, `kamailio.log`).
    pub fn dir(&self) -> &Path {
        &self.dir_path
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir_path.join("kamailio.log")
    }

    /// Everything kamailio logged so far.
    pub fn log(&self) -> String {
        self.log.text()
    }

    /// A mark in the log for [`Kamailio::wait_log_since`]: what comes after now.
    pub fn log_mark(&self) -> usize {
        self.log.len()
    }

    /// How many log lines so far contain `needle`.
    pub fn count_log(&self, needle: &str) -> usize {
        self.log.count(needle)
    }

    /// Waits for a log line containing `needle` (anywhere in the log) and returns it.
    pub fn wait_log(&self, needle: &str, timeout: Duration) -> Result<String> {
        self.wait_log_since(0, needle, timeout)
    }

    /// Waits for a log line containing `needle` after `mark` ([`Kamailio::log_mark`]).
    pub fn wait_log_since(&self, mark: usize, needle: &str, timeout: Duration) -> Result<String> {
        self.wait_line(mark, timeout, needle, |line| line.contains(needle))
    }

    fn wait_line(
        &self,
        mark: usize,
        timeout: Duration,
        what: &str,
        matches: impl Fn(&str) -> bool,
    ) -> Result<String> {
        match self.log.wait_for(mark, timeout, matches) {
            Waited::Found(line) => Ok(line),
            Waited::TimedOut => Err(PeerError::Timeout {
                peer: "kamailio".into(),
                what: format!("a log line with {what:?}"),
                timeout,
                log: self.log.tail(TAIL_LINES),
            }),
            Waited::Closed => Err(PeerError::Exited {
                peer: "kamailio".into(),
                what: format!("a log line with {what:?}"),
                log: self.log.tail(TAIL_LINES),
            }),
        }
    }

    /// Waits for `TEST: registered sip:USER@…` with a non-zero expiry (a binding saved).
    pub fn wait_registered(&self, user: &str, timeout: Duration) -> Result<String> {
        let needle = format!("TEST: registered sip:{user}@");
        self.wait_line(0, timeout, &needle, |line| {
            line.contains(&needle) && !line.contains("expires=0")
        })
    }

    /// Waits for an un-REGISTER of `user` (`TEST: registered …;expires=0`).
    pub fn wait_unregistered(&self, user: &str, timeout: Duration) -> Result<String> {
        let needle = format!("TEST: registered sip:{user}@");
        self.wait_line(0, timeout, &needle, |line| {
            line.contains(&needle) && line.contains("expires=0")
        })
    }

    /// Waits for a digest challenge (401/407) to a `method` request
    /// (`TEST: challenge METHOD from … (auth rc=…)`).
    pub fn wait_challenge(&self, method: &str, timeout: Duration) -> Result<String> {
        self.wait_log(&format!("TEST: challenge {method} "), timeout)
    }

    /// Waits for an authenticated initial `method` request (`INVITE`, `MESSAGE`, …) being
    /// relayed to a registered contact (`TEST: METHOD sip:from -> sip:contact (dst …)`).
    pub fn wait_relayed(&self, method: &str, timeout: Duration) -> Result<String> {
        let needle = format!("TEST: {method} ");
        self.wait_line(0, timeout, &needle, |line| {
            line.contains(&needle) && line.contains(" -> ")
        })
    }

    /// Waits for an in-dialog `method` request (`BYE`, `INFO`, re-`INVITE`, `REFER`…)
    /// relayed along the Record-Route (`TEST: in-dialog METHOD relayed from … to …`).
    pub fn wait_in_dialog(&self, method: &str, timeout: Duration) -> Result<String> {
        self.wait_log(&format!("TEST: in-dialog {method} relayed"), timeout)
    }

    /// Sends OPTIONS to kamailio itself over UDP and returns the status line
    /// (`SIP/2.0 200 Keepalive`).
    pub fn options_ping(&self, timeout: Duration) -> Result<String> {
        sip_options(self.udp_addr(), timeout)
    }
}

impl Drop for Kamailio {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            process::stop(&mut child, &[(libc::SIGTERM, Duration::from_secs(5))]);
        }
        if std::thread::panicking() {
            eprintln!(
                "--- kamailio log tail ({}) ---\n{}",
                self.dir_path.display(),
                self.log.tail(TAIL_LINES)
            );
        }
        process::finish_dir(self.dir.take(), "kamailio");
    }
}

/// Where kamailio's modules are: `$CUECARD_KAMAILIO_MODULES`, else the first of the usual
/// places that has `tm.so`.
fn modules_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("CUECARD_KAMAILIO_MODULES") {
        return Ok(PathBuf::from(dir));
    }
    let mut candidates = vec![PathBuf::from("/usr/lib/x86_64-linux-gnu/kamailio/modules")];
    if let Ok(entries) = std::fs::read_dir("/usr/lib") {
        candidates.extend(entries.flatten().map(|e| e.path().join("kamailio/modules")));
    }
    candidates.extend(
        [
            "/usr/lib64/kamailio/modules",
            "/usr/lib/kamailio/modules",
            "/usr/local/lib64/kamailio/modules",
            "/usr/local/lib/kamailio/modules",
        ]
        .map(PathBuf::from),
    );
    candidates
        .into_iter()
        .find(|dir| dir.join("tm.so").is_file())
        .ok_or(PeerError::Missing {
            binary: "kamailio modules (tm.so)",
            package: "kamailio",
        })
}

/// A self-signed certificate for 127.0.0.1 and localhost: (certificate PEM, key PEM).
fn self_signed_cert() -> Result<(String, String)> {
    let mut params =
        rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "127.0.0.1");
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let key = rcgen::KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    Ok((cert.pem(), key.serialize_pem()))
}
