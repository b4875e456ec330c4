//! The plumbing the peers share: spawning a peer in a process group of its own (killed
//! with the test process on Linux), stopping it, capturing its output line by line (split
//! on `\r` as well as `\n`) into memory and a log file, waiting for a line with a
//! timeout, picking free loopback ports, and filling `@PLACEHOLDER@` templates.

use super::{PeerError, Result};
use std::collections::HashSet;
use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, UdpSocket};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// How many lines of a peer's log an error message or a failing test shows.
pub(crate) const TAIL_LINES: usize = 60;

/// Spawns `command` as the leader of a new process group; on Linux the child also gets
/// SIGTERM when the thread that spawned it exits (so a test process that is killed
/// takes its peers with it).
pub(crate) fn spawn(command: &mut Command, peer: &str) -> Result<Child> {
    command.process_group(0);
    #[cfg(target_os = "linux")]
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command
        .spawn()
        .map_err(|e| PeerError::io(format!("{peer}: cannot start {command:?}"), e))
}

/// Sends `signal` to `pid` (a negative pid: to that process group); errors (no such
/// process) are ignored.
pub(crate) fn signal(pid: i32, signal: i32) {
    // SAFETY: kill has no memory-safety preconditions.
    unsafe {
        libc::kill(pid, signal);
    }
}

/// Waits up to `timeout` for `child` to exit.
pub(crate) fn wait_exit(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => return None,
        }
    }
}

/// Stops `child`: each signal in `signals` in turn, each followed by up to its grace
/// period, then SIGKILL to its whole process group (stragglers included).
pub(crate) fn stop(child: &mut Child, signals: &[(i32, Duration)]) -> Option<ExitStatus> {
    let Ok(pid) = i32::try_from(child.id()) else {
        let _ = child.kill();
        return child.wait().ok();
    };
    let mut status = child.try_wait().ok().flatten();
    for &(sig, grace) in signals {
        if status.is_some() {
            break;
        }
        signal(pid, sig);
        status = wait_exit(child, grace);
    }
    // The group outlives its leader while forked workers (kamailio's) are still there.
    signal(-pid, libc::SIGKILL);
    if status.is_none() {
        status = child.wait().ok();
    }
    status
}

/// A just-started child that is stopped (SIGTERM, SIGKILL to its group) if it is
/// dropped before [`Started::keep`]: the error paths of a start leave nothing behind.
pub(crate) struct Started(Option<Child>);

impl Started {
    pub(crate) fn new(child: Child) -> Self {
        Self(Some(child))
    }

    pub(crate) fn child(&mut self) -> Option<&mut Child> {
        self.0.as_mut()
    }

    pub(crate) fn keep(mut self) -> Option<Child> {
        self.0.take()
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            stop(&mut child, &[(libc::SIGTERM, Duration::from_millis(500))]);
        }
    }
}

/// A peer's output so far, one entry per line, filled by reader threads.
#[derive(Clone, Default)]
pub(crate) struct SharedLog {
    inner: Arc<(Mutex<LogState>, Condvar)>,
}

#[derive(Default)]
struct LogState {
    lines: Vec<String>,
    open_streams: usize,
}

/// What waiting for a log line came to.
pub(crate) enum Waited {
    Found(String),
    TimedOut,
    /// Every stream reached its end (the process and its children are gone).
    Closed,
}

impl SharedLog {
    fn lock(&self) -> MutexGuard<'_, LogState> {
        self.inner
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Reads `stream` on a thread of its own until its end, appending each line (split on
    /// `\r` and `\n`, empty ones skipped) here and to `file`.
    pub(crate) fn attach(
        &self,
        stream: impl Read + Send + 'static,
        file: Option<Arc<Mutex<File>>>,
        name: &str,
    ) -> Result<()> {
        self.lock().open_streams += 1;
        let log = self.clone();
        std::thread::Builder::new()
            .name(format!("{name}-log"))
            .spawn(move || log.pump(stream, file.as_deref()))
            .map(drop)
            .map_err(|e| PeerError::io(format!("{name}: log thread"), e))
    }

    fn pump(&self, mut stream: impl Read, file: Option<&Mutex<File>>) {
        let mut pending = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            let n = match stream.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            pending.extend_from_slice(&buf[..n]);
            let mut lines = Vec::new();
            while let Some(end) = pending.iter().position(|&b| b == b'\n' || b == b'\r') {
                let line: Vec<u8> = pending.drain(..=end).collect();
                lines.push(strip_ansi(&String::from_utf8_lossy(&line[..end])));
            }
            self.push(lines, file);
        }
        let rest = strip_ansi(&String::from_utf8_lossy(&pending));
        self.push(vec![rest], file);
        self.lock().open_streams -= 1;
        self.inner.1.notify_all();
    }

    fn push(&self, lines: Vec<String>, file: Option<&Mutex<File>>) {
        let lines: Vec<String> = lines
            .into_iter()
            .filter(|line| !line.trim().is_empty())
            .collect();
        if lines.is_empty() {
            return;
        }
        if let Some(file) = file
            && let Ok(mut file) = file.lock()
        {
            for line in &lines {
                let _ = writeln!(file, "{line}");
            }
        }
        self.lock().lines.extend(lines);
        self.inner.1.notify_all();
    }

    pub(crate) fn text(&self) -> String {
        let state = self.lock();
        let mut text = state.lines.join("\n");
        text.push('\n');
        text
    }

    /// Whether every attached stream has reached its end (the process is gone).
    pub(crate) fn closed(&self) -> bool {
        self.lock().open_streams == 0
    }

    /// The number of lines so far: a mark for [`SharedLog::wait_for`].
    pub(crate) fn len(&self) -> usize {
        self.lock().lines.len()
    }

    pub(crate) fn count(&self, needle: &str) -> usize {
        self.count_where(|line| line.contains(needle))
    }

    pub(crate) fn count_where(&self, matches: impl Fn(&str) -> bool) -> usize {
        self.lock()
            .lines
            .iter()
            .filter(|line| matches(line))
            .count()
    }

    pub(crate) fn tail(&self, n: usize) -> String {
        let state = self.lock();
        let start = state.lines.len().saturating_sub(n);
        state.lines[start..].join("\n")
    }

    /// Waits for the first line at or after index `since` for which `matches` holds.
    pub(crate) fn wait_for(
        &self,
        since: usize,
        timeout: Duration,
        matches: impl Fn(&str) -> bool,
    ) -> Waited {
        let deadline = Instant::now() + timeout;
        let mut state = self.lock();
        let mut next = since;
        loop {
            if let Some(line) = state.lines.iter().skip(next).find(|line| matches(line)) {
                return Waited::Found(line.clone());
            }
            next = state.lines.len().max(since);
            if state.open_streams == 0 {
                return Waited::Closed;
            }
            let now = Instant::now();
            if now >= deadline {
                return Waited::TimedOut;
            }
            state = self
                .inner
                .1
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
    }
}

/// `line` without ANSI colour sequences (`ESC [ … m`; baresip colours its errors).
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            // parameters and intermediates, then one final byte in '@'..='~'
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Ports handed out by this process, never handed out twice.
fn handed_out() -> &'static Mutex<(u16, HashSet<u16>)> {
    static PORTS: OnceLock<Mutex<(u16, HashSet<u16>)>> = OnceLock::new();
    PORTS.get_or_init(|| {
        // Start somewhere different in each test process (nextest runs tests in parallel
        // processes), below the kernel's ephemeral range (32768+) so outgoing
        // connections do not take them meanwhile.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let seed = std::process::id().wrapping_mul(7919).wrapping_add(nanos);
        let offset = u16::try_from(seed % u32::from(PORT_SPAN)).unwrap_or(0);
        Mutex::new((offset, HashSet::new()))
    })
}

const PORT_BASE: u16 = 20000;
const PORT_SPAN: u16 = 12000;

/// Finds `count` consecutive ports on 127.0.0.1 that are free for both UDP and TCP and
/// returns the first. The ports come from 20000–31999 (below the kernel's ephemeral
/// range) and are never handed out twice by one process; another process may still take
/// one before the peer binds it, so the peers retry their start on a port clash.
pub fn free_port_block(count: u16) -> std::io::Result<u16> {
    let count = count.max(1);
    let mut guard = handed_out()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for _ in 0..PORT_SPAN {
        let offset = guard.0;
        guard.0 = (guard.0 + count) % PORT_SPAN;
        if offset + count > PORT_SPAN {
            continue;
        }
        let first = PORT_BASE + offset;
        let ports = first..first + count;
        if ports.clone().any(|p| guard.1.contains(&p)) {
            continue;
        }
        if ports.clone().all(port_is_free) {
            guard.1.extend(ports);
            return Ok(first);
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AddrInUse,
        format!("no {count} consecutive free ports on 127.0.0.1"),
    ))
}

fn port_is_free(port: u16) -> bool {
    let addr = SocketAddrV4::new(Ipv4Addr::LOCALHOST, port);
    UdpSocket::bind(addr).is_ok() && TcpListener::bind(addr).is_ok()
}

/// Whether something holds `port` on 127.0.0.1 (UDP or TCP).
pub(crate) fn port_taken(port: u16, udp: bool) -> bool {
    let addr = SocketAddrV4::new(Ipv4Addr::LOCALHOST, port);
    if udp {
        UdpSocket::bind(addr).is_err()
    } else {
        TcpListener::bind(addr).is_err()
    }
}

/// Replaces each `@KEY@` in `template` (in lines that are not `#` comments; `#!`
/// pre-processor lines count as code) and fails if a placeholder is left over in one.
pub(crate) fn fill_template(template: &str, vars: &[(&str, String)]) -> Result<String> {
    let mut out = String::with_capacity(template.len());
    for line in template.lines() {
        let comment = line.trim_start().starts_with('#') && !line.trim_start().starts_with("#!");
        if comment {
            out.push_str(line);
        } else {
            let mut line = line.to_owned();
            for (key, value) in vars {
                line = line.replace(&format!("@{key}@"), value);
            }
            if let Some(left) = leftover_placeholder(&line) {
                return Err(PeerError::Template(format!(
                    "placeholder {left} has no value in line {line:?}"
                )));
            }
            out.push_str(&line);
        }
        out.push('\n');
    }
    Ok(out)
}

fn leftover_placeholder(line: &str) -> Option<&str> {
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'@' {
            let rest = &line[i + 1..];
            let len = rest
                .bytes()
                .take_while(|b| b.is_ascii_uppercase() || *b == b'_' || b.is_ascii_digit())
                .count();
            if len > 0 && rest.as_bytes().get(len) == Some(&b'@') {
                return Some(&line[i..i + len + 2]);
            }
        }
        i += 1;
    }
    None
}

/// Writes `contents` to `path`.
pub(crate) fn write_file(path: &Path, contents: &str) -> Result<()> {
    std::fs::write(path, contents)
        .map_err(|e| PeerError::io(format!("cannot write {}", path.display()), e))
}

/// Whether the temp dirs of the peers are kept (`CUECARD_SIP_KEEP=1`) for a look after
/// the test.
pub(crate) fn keep_dirs() -> bool {
    std::env::var_os("CUECARD_SIP_KEEP").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Drops `dir`, or keeps it (and says where) when asked to or when a test is failing.
pub(crate) fn finish_dir(dir: Option<tempfile::TempDir>, peer: &str) {
    let Some(dir) = dir else { return };
    if keep_dirs() {
        let path = dir.keep();
        eprintln!("{peer}: kept {}", path.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_fill_code_lines_and_leave_comments_alone() {
        let filled = fill_template(
            "# @A@ stays\n#!ifdef X\nlisten=@A@:@B@\n",
            &[("A", "1.2.3.4".into()), ("B", "5".into())],
        )
        .expect("fill");
        assert_eq!(filled, "# @A@ stays\n#!ifdef X\nlisten=1.2.3.4:5\n");
        let err = fill_template("x=@MISSING_1@\n", &[]).expect_err("left over");
        assert!(err.to_string().contains("@MISSING_1@"), "{err}");
        // user@host is not a placeholder
        assert!(fill_template("<sip:bob@127.0.0.1:5060>;x=@Y@\n", &[("Y", "1".into())]).is_ok());
    }

    #[test]
    fn port_blocks_are_free_and_never_handed_out_twice() {
        let a = free_port_block(4).expect("block");
        let b = free_port_block(4).expect("block");
        assert!(a + 4 <= b || b + 4 <= a, "{a} and {b} overlap");
        for port in a..a + 4 {
            assert!(!port_taken(port, true) && !port_taken(port, false));
        }
    }

    #[test]
    fn log_lines_split_on_carriage_returns_too() {
        let log = SharedLog::default();
        log.attach(&b"one\r\ntwo\rthree\n\nfour"[..], None, "t")
            .expect("attach");
        match log.wait_for(0, Duration::from_secs(5), |l| l == "four") {
            Waited::Found(line) => assert_eq!(line, "four"),
            _ => panic!("no line 'four' in {:?}", log.text()),
        }
        assert_eq!(log.text(), "one\ntwo\nthree\nfour\n");
        assert_eq!(strip_ansi("\u{1b}[31mua: failed\u{1b}[;m!"), "ua: failed!");
        assert!(matches!(
            log.wait_for(0, Duration::from_secs(5), |l| l == "five"),
            Waited::Closed
        ));
    }
}
