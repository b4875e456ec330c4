//! Call figures with real peers on loopback (kamailio as the SIP Domain, baresip as the
//! far end), release build:
//!
//! - call set-up: `call()` to the call reported up (INVITE, kamailio's 407 and the
//!   INVITE again with credentials, 100/180/200, ACK), over `CALLS` calls;
//! - CPU of one G.711 call over `SECONDS` of talk, ours side by side with baresip's on
//!   the same call: whole-process CPU of each (both play a WAV and take the far end), and
//!   our media thread alone.
//!
//! `cargo bench -p cuecard-softphone --bench call` (env `CALLS`, `SECONDS`).

use std::time::{Duration, Instant};

use cuecard_sip::phone::{CallId, PhoneConfig};
use cuecard_sip::sdp::SrtpPolicy;
use cuecard_softphone::{CallAudio, Softphone, SoftphoneEvent};
use cuecard_testserver::sip::{
    Baresip, BaresipOptions, Kamailio, KamailioOptions, Transport, require_binaries, wav,
};
use tokio::sync::mpsc::Receiver;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// CPU seconds this process has used (user + system).
fn own_cpu() -> f64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given; RUSAGE_SELF is always valid.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr());
        usage.assume_init()
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

/// CPU seconds of another process, from /proc/PID/stat (utime + stime, in clock ticks).
fn process_cpu(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of the whole line; 11 and 12 after the state field.
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // SAFETY: sysconf with a valid name only reads a constant.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    Some(ticks / hz)
}

/// The pid of the baresip whose config dir is `dir`.
fn pid_of(dir: &std::path::Path) -> Option<u32> {
    let needle = dir.to_string_lossy().to_string();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if (cmdline.starts_with("baresip") || cmdline.contains("/baresip "))
            && cmdline.contains(&needle)
        {
            return Some(pid);
        }
    }
    None
}

fn wait<T>(
    rt: &tokio::runtime::Runtime,
    events: &mut Receiver<SoftphoneEvent>,
    pick: impl FnMut(SoftphoneEvent) -> Option<T>,
) -> T {
    cuecard_testserver::events::wait_for(
        rt,
        events,
        Duration::from_secs(10),
        "softphone event",
        pick,
    )
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    if !require_binaries(&["kamailio", "baresip"]) {
        return;
    }
    let calls = env_or("CALLS", 30);
    let seconds = env_or("SECONDS", 20);
    let dir = tempfile::tempdir().expect("temp dir");
    let bob_wav = dir.path().join("bob.wav");
    wav::write_tone_wav(&bob_wav, 440.0, (seconds + 60) as f64, 0.5).expect("wav");
    let kam = Kamailio::start(KamailioOptions::default()).expect("kamailio");
    let bob = Baresip::start(BaresipOptions::registered_with(
        &kam,
        "bob",
        Transport::Udp,
        &bob_wav,
    ))
    .expect("baresip");
    bob.wait_registered(Duration::from_secs(10))
        .expect("bob registers");
    let bob_pid = pid_of(bob.dir());

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut config = PhoneConfig::new("alice", kam.password(), kam.domain());
    config.proxy = kam.udp_addr().to_string();
    config.local_ip = Some([127, 0, 0, 1].into());
    config.srtp = SrtpPolicy::Off;
    let ours: Vec<f32> = wav::tone(1000.0, (seconds + 60) as f64, 0.5, 8000)
        .iter()
        .map(|s| f32::from(*s) / 32768.0)
        .collect();
    let audio = Box::new(move |_: CallId| CallAudio::Files {
        play: Some(ours.clone()),
        record: None,
    });
    let (phone, mut events) = rt
        .block_on(Softphone::start(config, None, audio))
        .expect("softphone");

    // Set-up time.
    let mut setup_ms = Vec::new();
    for _ in 0..calls {
        let started = Instant::now();
        let call = rt.block_on(phone.call("bob")).expect("call");
        wait(&rt, &mut events, |e| {
            matches!(e, SoftphoneEvent::Established { call: c } if c == call).then_some(())
        });
        setup_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        rt.block_on(phone.phone().hangup(call)).expect("hangup");
        wait(&rt, &mut events, |e| {
            matches!(e, SoftphoneEvent::Ended { call: c, .. } if c == call).then_some(())
        });
        std::thread::sleep(Duration::from_millis(50));
    }
    setup_ms.sort_by(f64::total_cmp);

    // CPU of one call.
    let call = rt.block_on(phone.call("bob")).expect("call");
    wait(&rt, &mut events, |e| {
        matches!(e, SoftphoneEvent::Established { call: c } if c == call).then_some(())
    });
    std::thread::sleep(Duration::from_secs(2));
    let media_before = rt
        .block_on(phone.stats(call))
        .and_then(|s| s.thread_cpu_ms)
        .unwrap_or(0.0);
    let (ours_before, bob_before) = (own_cpu(), bob_pid.and_then(process_cpu));
    let wall = Instant::now();
    std::thread::sleep(Duration::from_secs(seconds));
    let elapsed = wall.elapsed().as_secs_f64();
    let (ours_after, bob_after) = (own_cpu(), bob_pid.and_then(process_cpu));
    let stats = rt.block_on(phone.stats(call)).expect("stats");
    let media_ms = stats.thread_cpu_ms.unwrap_or(0.0) - media_before;
    rt.block_on(phone.phone().hangup(call)).expect("hangup");
    rt.block_on(phone.shutdown());

    let pct = |cpu: f64| 100.0 * cpu / elapsed;
    println!(
        "Call set-up on loopback, {calls} calls (INVITE, 407, INVITE with credentials, 100/180/200, ACK):"
    );
    println!(
        "  p50 {:.1} ms   p95 {:.1} ms   max {:.1} ms",
        percentile(&setup_ms, 0.5),
        percentile(&setup_ms, 0.95),
        percentile(&setup_ms, 1.0)
    );
    println!("CPU of one G.711 call over {elapsed:.1} s (same call, side by side):");
    println!(
        "  cuecard, whole process   {:.2} % of one core",
        pct(ours_after - ours_before)
    );
    println!(
        "  cuecard, media thread    {:.2} % of one core",
        pct(media_ms / 1000.0)
    );
    match (bob_before, bob_after) {
        (Some(before), Some(after)) => println!(
            "  baresip, whole process   {:.2} % of one core",
            pct(after - before)
        ),
        _ => println!("  baresip: its CPU time could not be read"),
    }
    println!(
        "  call quality: MOS {:.2}, {} packets received, {} lost, jitter-buffer delay {:.0} ms",
        stats.mos, stats.packets_received, stats.packets_lost, stats.buffer_delay_ms
    );
    drop(bob);
}
