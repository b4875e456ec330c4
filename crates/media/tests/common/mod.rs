//! Helpers for tests that run real `MediaStream`s on loopback: socket pairs, a tone
//! played into a stream's microphone ring, and analysis of what came out.

#![allow(dead_code)]

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use cuecard_media::{Codec, MediaConfig, MediaIo, MediaStream, SdesKey, SrtpSuite};

pub fn bind() -> UdpSocket {
    UdpSocket::bind("127.0.0.1:0").expect("bind loopback socket")
}

pub fn addr(socket: &UdpSocket) -> SocketAddr {
    socket.local_addr().expect("local addr")
}

/// Two configurations that talk to each other over rtcp-mux, with fast RTCP.
pub fn config_pair(codec: Codec, srtp: bool) -> (MediaConfig, MediaConfig) {
    let (a, b) = (bind(), bind());
    let (a_addr, b_addr) = (addr(&a), addr(&b));
    let mut alice = MediaConfig::new(a, b_addr, codec);
    let mut bob = MediaConfig::new(b, a_addr, codec);
    alice.rtcp_interval = Duration::from_millis(400);
    bob.rtcp_interval = Duration::from_millis(400);
    if srtp {
        let alice_key = SdesKey::generate(1, SrtpSuite::AesCm128HmacSha1_80);
        let bob_key = SdesKey::generate(1, SrtpSuite::AesCm128HmacSha1_80);
        alice.srtp = Some((alice_key.clone(), bob_key.clone()));
        bob.srtp = Some((bob_key, alice_key));
    }
    (alice, bob)
}

pub fn start(config: MediaConfig) -> (MediaStream, MediaIo) {
    MediaStream::start(config).expect("start media stream")
}

/// Plays a tone into a mic ring in real time (keeping about 90 ms queued, so a
/// briefly starved test thread does not starve the stream) and records the
/// far end, until stopped.
pub struct Endpoint {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Vec<f32>>>,
}

impl Endpoint {
    pub fn run(io: MediaIo, frequency: f64) -> Endpoint {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let MediaIo {
                mut mic,
                mut far_end,
            } = io;
            let mut heard = Vec::new();
            let mut n: u64 = 0;
            let capacity = mic.buffer().capacity();
            while !flag.load(Ordering::Relaxed) {
                while capacity - mic.slots() < 720 {
                    let t = n as f64 / 8000.0;
                    let sample = (2.0 * std::f64::consts::PI * frequency * t).sin() * 0.5;
                    if mic.push(sample as f32).is_err() {
                        break;
                    }
                    n += 1;
                }
                while let Ok(sample) = far_end.pop() {
                    heard.push(sample);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            heard
        });
        Endpoint {
            stop,
            thread: Some(thread),
        }
    }

    /// Stops and returns the far-end audio recorded.
    pub fn finish(mut self) -> Vec<f32> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .take()
            .map(|t| t.join().expect("endpoint thread"))
            .unwrap_or_default()
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Power of `samples` at `frequency` (Goertzel), normalised so that a pure sine of
/// amplitude A over the whole block gives A²/2.
pub fn tone_power(samples: &[f32], frequency: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * frequency / 8000.0;
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s0 = f64::from(x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    2.0 * power / (samples.len() as f64).powi(2)
}

pub fn mean_square(samples: &[f32]) -> f64 {
    samples.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / samples.len().max(1) as f64
}

/// The strongest frequency between 100 and 3500 Hz, in 10 Hz steps.
pub fn dominant_frequency(samples: &[f32]) -> f64 {
    (10..=350)
        .map(|step| f64::from(step) * 10.0)
        .map(|f| (f, tone_power(samples, f)))
        .fold(
            (0.0, f64::MIN),
            |best, (f, p)| if p > best.1 { (f, p) } else { best },
        )
        .0
}

/// Tone power at `frequency` averaged over consecutive 100 ms windows (a phase jump
/// from a concealed or skipped frame would cancel power in a single long window).
pub fn tone_level(samples: &[f32], frequency: f64) -> f64 {
    let windows: Vec<f64> = samples
        .chunks_exact(800)
        .map(|w| tone_power(w, frequency))
        .collect();
    windows.iter().sum::<f64>() / windows.len().max(1) as f64
}

/// Share of the block's energy in the tone at `frequency` (1.0 for a pure tone),
/// measured over consecutive 100 ms windows and averaged, so that a phase jump from a
/// concealed or skipped frame costs only its own window.
pub fn tone_purity(samples: &[f32], frequency: f64) -> f64 {
    let windows: Vec<f64> = samples
        .chunks_exact(800)
        .map(|w| tone_power(w, frequency) / mean_square(w).max(1e-12))
        .collect();
    windows.iter().sum::<f64>() / windows.len().max(1) as f64
}

/// Polls `condition` until it holds or `timeout` passes.
pub fn wait_until(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    condition()
}
