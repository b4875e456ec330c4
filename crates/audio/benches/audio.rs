//! Audio engine figures (bench binary, release build):
//!
//! 1. **CPU per channel**: one minute of 48 kHz stereo speech through a speech channel —
//!    the ring, downmix and resampling to 16 kHz ("capture to 16 kHz frames"), then also
//!    the level meter and voice activity, then echo cancellation — in 10 ms callbacks.
//!    Reported as % of one core = CPU time / audio time.
//! 2. **Added latency, capture to consumer**: a producer thread plays the device callback
//!    (10 ms blocks at real-time pace, 48 kHz); the consumer polls as the engine does
//!    (every `POLL_INTERVAL`, 5 ms). Measured from the callback pushing a click to the consumer seeing it
//!    in the 16 kHz output.
//! 3. **Echo return loss enhancement** on the synthetic echo path of `tests/echo.rs`.
//! 4. **Soak** (`SOAK_SECONDS=600`): capture from a private PulseAudio daemon for that
//!    long through the full speech channel; dropped samples must stay at zero.
//!
//! Run: `cargo bench -p cuecard-audio --bench audio` (set `SOAK_SECONDS`, default 30).

use cuecard_audio::aec::{EchoCanceller, EchoConfig, erle_db};
use cuecard_audio::capture::{Capture, CaptureOptions, StreamFormat};
use cuecard_audio::dual::POLL_INTERVAL;
use cuecard_audio::metrics::StreamMetrics;
use cuecard_audio::pipeline::SpeechChannel;
use cuecard_audio::resample::{StreamResampler, downmix_into};
use cuecard_audio::ring::ring;
use cuecard_audio::testing::{PulseServer, speech};
use cuecard_audio::vad::VadConfig;
use cuecard_audio::{Channel, SPEECH_RATE};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// This thread's CPU time.
fn cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into memory we own.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// A minute of speech at 48 kHz stereo (espeak-ng, repeated), as a device delivers it.
fn device_audio() -> Vec<f32> {
    let line = speech(
        "We evaluated three vendors last quarter, and pricing was the main objection. \
         Could you walk me through how the pilot would work for our team?",
        48_000,
    );
    let mut mono = Vec::new();
    while mono.len() < 60 * 48_000 {
        mono.extend_from_slice(&line);
    }
    mono.truncate(60 * 48_000);
    mono.iter().flat_map(|&s| [s, s * 0.9]).collect()
}

fn cpu_per_channel() {
    let stereo = device_audio();
    let seconds = stereo.len() as f64 / 2.0 / 48_000.0;
    let block = 480 * 2; // 10 ms stereo
    let format = StreamFormat {
        sample_rate: 48_000,
        channels: 2,
    };

    // a) ring → downmix → 16 kHz.
    let (mut producer, mut consumer) = ring(48_000 * 2, Arc::new(StreamMetrics::default()));
    let mut resampler = StreamResampler::new(48_000, SPEECH_RATE).expect("resampler");
    let (mut raw, mut mono, mut out) = (Vec::new(), Vec::new(), Vec::new());
    let start = cpu_time();
    for chunk in stereo.chunks(block) {
        producer.push(chunk);
        raw.clear();
        consumer.pop_into(&mut raw, usize::MAX);
        mono.clear();
        downmix_into(&raw, 2, &mut mono);
        out.clear();
        resampler.process(&mono, &mut out).expect("resample");
    }
    let resample_cpu = (cpu_time() - start).as_secs_f64();

    // b) the whole speech channel: + level meter + voice activity.
    let mut channel = SpeechChannel::new(Channel::Rep, VadConfig::default());
    let start = cpu_time();
    for chunk in stereo.chunks(block) {
        out.clear();
        channel.push(chunk, format, &mut out).expect("push");
    }
    let channel_cpu = (cpu_time() - start).as_secs_f64();

    // c) + echo cancellation (the rep's channel on speakers).
    let mut channel = SpeechChannel::new(Channel::Rep, VadConfig::default());
    channel
        .enable_echo_cancellation(EchoConfig::default())
        .expect("aec");
    let reference = vec![0.01f32; 160];
    let start = cpu_time();
    for chunk in stereo.chunks(block) {
        channel.render_reference(&reference).expect("render");
        out.clear();
        channel.push(chunk, format, &mut out).expect("push");
    }
    let aec_cpu = (cpu_time() - start).as_secs_f64();

    println!("CPU per channel, {seconds:.0} s of 48 kHz stereo in 10 ms blocks (% of one core):");
    println!(
        "  ring + downmix + resample to 16 kHz: {:.3}%",
        100.0 * resample_cpu / seconds
    );
    println!(
        "  + level meter + voice activity:      {:.3}%",
        100.0 * channel_cpu / seconds
    );
    println!(
        "  + echo cancellation (AEC3):          {:.3}%",
        100.0 * aec_cpu / seconds
    );
}

fn added_latency() {
    let metrics = Arc::new(StreamMetrics::default());
    let (mut producer, mut consumer) = ring(48_000, metrics);
    let clicks = 50;
    let (tx, rx) = std::sync::mpsc::channel::<Instant>();
    let feeder = std::thread::spawn(move || {
        let silence = vec![0.0f32; 480];
        let mut click = vec![0.0f32; 480];
        click[240..250].fill(0.9);
        let start = Instant::now();
        for i in 0..clicks * 20 {
            // Real-time pace: block i is due at i × 10 ms.
            let due = start + Duration::from_millis(10 * i as u64);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            if i % 20 == 10 {
                let _ = tx.send(Instant::now());
                producer.push(&click);
            } else {
                producer.push(&silence);
            }
        }
    });
    let mut channel = SpeechChannel::new(Channel::Rep, VadConfig::default());
    let format = StreamFormat {
        sample_rate: 48_000,
        channels: 1,
    };
    let (mut raw, mut out) = (Vec::new(), Vec::new());
    let mut latencies = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(clicks as u64 / 5 + 3);
    while latencies.len() < clicks && Instant::now() < deadline {
        std::thread::sleep(POLL_INTERVAL);
        raw.clear();
        consumer.pop_into(&mut raw, usize::MAX);
        out.clear();
        channel.push(&raw, format, &mut out).expect("push");
        if out.iter().any(|s| s.abs() > 0.3)
            && let Ok(pushed) = rx.try_recv()
        {
            latencies.push(pushed.elapsed());
        }
    }
    feeder.join().expect("feeder");
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "Added latency, callback push → 16 kHz consumer ({} clicks, 5 ms polling): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        latencies.len(),
        ms(latencies[latencies.len() / 2]),
        ms(latencies[latencies.len() * 99 / 100]),
        ms(latencies[latencies.len() - 1])
    );
}

fn echo() {
    let mut far = Vec::new();
    for line in [
        "Thanks for calling. We looked at three vendors last quarter and the pricing was the main issue.",
        "Honestly the budget is approved for next year, not this one, so timing is a problem for us.",
        "Can you send me the security questionnaire and a reference customer in healthcare?",
    ] {
        far.extend(speech(line, SPEECH_RATE));
        far.extend(vec![0.0; 4800]);
    }
    far.truncate(far.len() / 160 * 160);
    // 48 ms delay, decaying 80 ms tail, −6 dB, as in tests/echo.rs.
    let delay = 768;
    let tail = 1280;
    let mut h = vec![0.0f32; delay + tail];
    let mut state = 7u32;
    for (i, tap) in h[delay..].iter_mut().enumerate() {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let r = (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
        *tap = r * (-(i as f32) / (tail as f32 / 5.0)).exp();
    }
    h[delay] = 0.5;
    let scale = 0.5 / h.iter().map(|t| t * t).sum::<f32>().sqrt();
    h.iter_mut().for_each(|t| *t *= scale);
    // Plus a faint noise floor (−72 dBFS), as a real mic has.
    let mut noise = 99u32;
    let mic: Vec<f32> = (0..far.len())
        .map(|i| {
            noise = noise.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let floor = ((noise >> 8) as f32 / (1u32 << 24) as f32 - 0.5) * 0.0005;
            floor
                + h.iter()
                    .enumerate()
                    .filter(|(k, t)| **t != 0.0 && *k <= i)
                    .map(|(k, t)| t * far[i - k])
                    .sum::<f32>()
        })
        .collect();
    let mut aec = EchoCanceller::new(SPEECH_RATE, EchoConfig::default()).expect("aec");
    let mut cleaned = Vec::new();
    for (f, m) in far.chunks(160).zip(mic.chunks(160)) {
        aec.render(f).expect("render");
        aec.process(m, &mut cleaned).expect("process");
    }
    let from = mic.len() / 3;
    println!(
        "Echo return loss enhancement (synthetic path, after the first third): {:.1} dB",
        erle_db(&mic[from..], &cleaned[from..])
    );
}

fn soak() {
    let seconds: u64 = std::env::var("SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let pulse = PulseServer::start();
    let mut capture = Capture::start(CaptureOptions::default()).expect("capture");
    // Keep something playing into the mic for the whole soak.
    let line = speech(
        "Soak test. The engine keeps up with the device for the whole call.",
        16_000,
    );
    let mut clip = Vec::new();
    while clip.len() < (seconds as usize + 5) * 16_000 {
        clip.extend_from_slice(&line);
    }
    let player = pulse.play("mic_feed", &clip);
    let mut channel = SpeechChannel::new(Channel::Rep, VadConfig::default());
    let (mut raw, mut out) = (Vec::new(), Vec::new());
    let mut produced = 0usize;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(seconds) {
        std::thread::sleep(POLL_INTERVAL);
        raw.clear();
        if let Some(format) = capture.read(&mut raw) {
            out.clear();
            channel.push(&raw, format, &mut out).expect("push");
            produced += out.len();
        }
    }
    let snapshot = capture.metrics().snapshot();
    drop(player);
    println!(
        "Soak: {seconds} s capture from PulseAudio → {:.1} s of 16 kHz audio; delivered {} samples, dropped {}, restarts {}",
        produced as f64 / 16_000.0,
        snapshot.delivered,
        snapshot.dropped,
        snapshot.restarts
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    cpu_per_channel();
    added_latency();
    echo();
    soak();
}
