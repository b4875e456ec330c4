//! Call-media benchmark (`cargo bench -p cuecard-media`): CPU per call of a real
//! MediaStream pair on loopback (plain RTP and SRTP), jitter-buffer delay under 20 ms
//! jitter, and MOS from the simulated network — printed as one table.
//!
//! `CUECARD_MEDIA_BENCH_SECS` sets the real-time call length (default 20 s).

use std::net::UdpSocket;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use cuecard_media::sim::{NetworkProfile, SimReport, simulate};
use cuecard_media::{Codec, MediaConfig, MediaIo, MediaStats, MediaStream, SdesKey, SrtpSuite};

fn main() {
    let seconds: u64 = std::env::var("CUECARD_MEDIA_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    println!(
        "cuecard-media benchmark: {seconds} s real-time calls on loopback, simulated network runs\n"
    );

    let mut rows: Vec<(String, String)> = Vec::new();
    for srtp in [false, true] {
        let label = if srtp { "SRTP" } else { "plain RTP" };
        let result = real_call(Duration::from_secs(seconds), srtp);
        rows.push((
            format!("CPU per call, {label} (media thread)"),
            format!("{:.3} % of one core", result.thread_cpu_percent),
        ));
        rows.push((
            format!("CPU per call, {label} (whole process / 2)"),
            format!("{:.3} % of one core", result.process_cpu_percent),
        ));
        rows.push((
            format!("loopback call, {label}: buffer delay / MOS"),
            format!(
                "{:.1} ms / {:.2} (sent {}, received {}, lost {})",
                result.stats.buffer_delay_ms,
                result.stats.mos,
                result.stats.packets_sent,
                result.stats.packets_received,
                result.stats.packets_lost
            ),
        ));
    }

    // Real RTP between two streams through the UDP impairment relay (a 20 ms base delay).
    for (label, loss, jitter_ms) in [("3 % loss", 0.03, 0.0), ("±20 ms jitter", 0.0, 20.0)] {
        let stats = relay_call(Duration::from_secs(seconds), loss, jitter_ms);
        rows.push((
            format!("real RTP via relay, {label}: buffer delay / MOS"),
            format!(
                "{:.1} ms / {:.2} (received {}, lost {}, late {}, concealed {}, playout loss {:.2} %, jitter {:.1} ms)",
                stats.buffer_delay_ms,
                stats.mos,
                stats.packets_received,
                stats.packets_lost,
                stats.late_packets,
                stats.concealed_frames,
                stats.playout_loss_percent,
                stats.jitter_ms
            ),
        ));
    }

    let jittery = NetworkProfile {
        jitter: Duration::from_millis(20),
        seed: 11,
        ..NetworkProfile::default()
    };
    let report = simulate(&jittery, Duration::from_secs(600));
    rows.push((
        "sim ±20 ms jitter, 10 min: buffer delay mean / max".into(),
        format!(
            "{:.1} / {:.1} ms (target {:.1} ms)",
            report.mean_delay_ms, report.max_delay_ms, report.jitter.target_ms
        ),
    ));
    rows.push((
        "sim ±20 ms jitter: RFC 3550 jitter, late drops".into(),
        format!(
            "{:.1} ms, {:.3} % late",
            report.rfc3550_jitter_ms,
            100.0 * report.jitter.late as f64 / report.packets_sent as f64
        ),
    ));
    rows.push(("sim ±20 ms jitter: MOS".into(), mos(&report)));

    let clean = simulate(&NetworkProfile::default(), Duration::from_secs(120));
    rows.push(("sim clean (30 ms network): MOS".into(), mos(&clean)));
    let lossy = NetworkProfile {
        loss: 0.03,
        seed: 12,
        ..NetworkProfile::default()
    };
    let lossy = simulate(&lossy, Duration::from_secs(120));
    rows.push((
        "sim 3 % random loss: MOS".into(),
        format!(
            "{} ({} lost, {} concealed)",
            mos(&lossy),
            lossy.jitter.lost,
            lossy.jitter.concealed
        ),
    ));
    let worse = NetworkProfile {
        loss: 0.10,
        seed: 13,
        ..NetworkProfile::default()
    };
    rows.push((
        "sim 10 % random loss: MOS".into(),
        mos(&simulate(&worse, Duration::from_secs(120))),
    ));
    for drift_ppm in [300.0, -300.0] {
        let drifting = NetworkProfile {
            jitter: Duration::from_millis(5),
            drift_ppm,
            seed: 14,
            ..NetworkProfile::default()
        };
        let report = simulate(&drifting, Duration::from_secs(600));
        rows.push((
            format!("sim {drift_ppm:+} ppm drift, 10 min: delay / level range"),
            format!(
                "{:.0}–{:.0} ms / {:.0}–{:.0} ms, {} dropped / {} inserted frames",
                report.min_delay_ms,
                report.max_delay_ms,
                report.min_level_ms,
                report.max_level_ms,
                report.jitter.compressed,
                report.jitter.expanded
            ),
        ));
    }

    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    println!("{:<width$}  result", "measure");
    println!("{}  {}", "-".repeat(width), "-".repeat(50));
    for (k, v) in &rows {
        println!("{k:<width$}  {v}");
    }
}

fn mos(report: &SimReport) -> String {
    format!(
        "{:.2} (R {:.1})",
        report.quality.mos, report.quality.r_factor
    )
}

struct CallResult {
    thread_cpu_percent: f64,
    process_cpu_percent: f64,
    stats: MediaStats,
}

/// Two streams sending tones to each other for `length`; CPU from the media threads'
/// own clocks, and the whole process's (feeders included) halved, per call.
fn real_call(length: Duration, srtp: bool) -> CallResult {
    let a = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let b = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let (a_addr, b_addr) = (a.local_addr().expect("addr"), b.local_addr().expect("addr"));
    let mut alice = MediaConfig::new(a, b_addr, Codec::Pcmu);
    let mut bob = MediaConfig::new(b, a_addr, Codec::Pcmu);
    if srtp {
        let ka = SdesKey::generate(1, SrtpSuite::AesCm128HmacSha1_80);
        let kb = SdesKey::generate(1, SrtpSuite::AesCm128HmacSha1_80);
        alice.srtp = Some((ka.clone(), kb.clone()));
        bob.srtp = Some((kb, ka));
    }
    let (alice, alice_io) = MediaStream::start(alice).expect("start");
    let (bob, bob_io) = MediaStream::start(bob).expect("start");
    let stop = Arc::new(AtomicBool::new(false));
    let feeders = [
        spawn_feeder(alice_io, 440.0, Arc::clone(&stop)),
        spawn_feeder(bob_io, 660.0, Arc::clone(&stop)),
    ];
    // Let both settle, then measure.
    std::thread::sleep(Duration::from_secs(1));
    let thread_start = cpu_ms(&alice) + cpu_ms(&bob);
    let process_start = process_cpu();
    let wall_start = Instant::now();
    std::thread::sleep(length);
    let wall = wall_start.elapsed().as_secs_f64();
    // Stats are published every 20 ms tick; give the last one time to land.
    std::thread::sleep(Duration::from_millis(40));
    let thread_cpu = (cpu_ms(&alice) + cpu_ms(&bob) - thread_start) / 1000.0;
    let process_cpu = process_cpu() - process_start;
    let stats = bob.stats();
    stop.store(true, Ordering::Relaxed);
    for feeder in feeders {
        let _ = feeder.join();
    }
    CallResult {
        thread_cpu_percent: 100.0 * thread_cpu / wall / 2.0,
        process_cpu_percent: 100.0 * process_cpu / wall / 2.0,
        stats,
    }
}

/// Alice's tone to Bob through the impairment relay for `length`; Bob's readings.
fn relay_call(length: Duration, loss: f64, jitter_ms: f64) -> MediaStats {
    use cuecard_testserver::impair::{ImpairOptions, Jitter, UdpImpairment};
    let a = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let b = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let relay = UdpImpairment::start(ImpairOptions {
        loss,
        delay_ms: 20.0 + jitter_ms,
        jitter_ms,
        jitter: Jitter::Uniform,
        seed: 21,
        ..ImpairOptions::new(b.local_addr().expect("addr"))
    })
    .expect("relay");
    let alice = MediaConfig::new(a, relay.addr(), Codec::Pcmu);
    let bob = MediaConfig::new(
        b,
        relay.upstream_facing_addr().expect("relay addr"),
        Codec::Pcmu,
    );
    let (alice, alice_io) = MediaStream::start(alice).expect("start");
    let (bob, bob_io) = MediaStream::start(bob).expect("start");
    let stop = Arc::new(AtomicBool::new(false));
    let feeders = [
        spawn_feeder(alice_io, 440.0, Arc::clone(&stop)),
        spawn_feeder(bob_io, 660.0, Arc::clone(&stop)),
    ];
    std::thread::sleep(length);
    let stats = bob.stats();
    stop.store(true, Ordering::Relaxed);
    for feeder in feeders {
        let _ = feeder.join();
    }
    drop(alice);
    stats
}

fn cpu_ms(stream: &MediaStream) -> f64 {
    stream.stats().thread_cpu_ms.unwrap_or(0.0)
}

/// User + system CPU seconds of the whole process.
fn process_cpu() -> f64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a complete rusage into the pointer it is given.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
    if rc != 0 {
        return 0.0;
    }
    // SAFETY: the call succeeded, so the struct is initialised.
    let usage = unsafe { usage.assume_init() };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// Keeps a tone queued in the mic ring and drains the far end, like an audio device.
fn spawn_feeder(io: MediaIo, frequency: f64, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let MediaIo {
            mut mic,
            mut far_end,
        } = io;
        let capacity = mic.buffer().capacity();
        let mut n: u64 = 0;
        while !stop.load(Ordering::Relaxed) {
            while capacity - mic.slots() < 480 {
                let t = n as f64 / 8000.0;
                let sample = ((2.0 * std::f64::consts::PI * frequency * t).sin() * 0.5) as f32;
                if mic.push(sample).is_err() {
                    break;
                }
                n += 1;
            }
            while far_end.pop().is_ok() {}
            std::thread::sleep(Duration::from_millis(10));
        }
    })
}
