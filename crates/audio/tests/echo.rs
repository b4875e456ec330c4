//! Echo cancellation on a synthetic echo path: the prospect's speech (espeak-ng) played
//! through a simulated room — 48 ms of delay, a decaying 80 ms impulse response, −6 dB —
//! and picked up by the mic with a faint noise floor. The rep's channel must not carry
//! the prospect a second time: echo return loss enhancement ≥ 20 dB once converged, and
//! the rep's own speech must survive a double-talk stretch.

mod support;

use cuecard_audio::SPEECH_RATE;
use cuecard_audio::aec::{EchoCanceller, EchoConfig, erle_db};
use cuecard_audio::testing::speech;
use support::{Lcg, best_correlation, silence};

const RATE: u32 = SPEECH_RATE;

fn echo_path() -> Vec<f32> {
    let delay = (RATE as usize * 48) / 1000;
    let tail = (RATE as usize * 80) / 1000;
    let mut rng = Lcg(7);
    let mut h = vec![0.0f32; delay + tail];
    for (i, tap) in h[delay..].iter_mut().enumerate() {
        *tap = rng.next() * (-(i as f32) / (tail as f32 / 5.0)).exp();
    }
    // Direct path, then the room; overall gain about −6 dB.
    h[delay] = 0.5;
    let energy: f32 = h.iter().map(|t| t * t).sum();
    let scale = 0.5 / energy.sqrt();
    h.iter_mut().for_each(|t| *t *= scale);
    h
}

fn convolve(x: &[f32], h: &[f32]) -> Vec<f32> {
    let nz: Vec<(usize, f32)> = h
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, t)| *t != 0.0)
        .collect();
    let mut y = vec![0.0f32; x.len()];
    for (i, out) in y.iter_mut().enumerate() {
        *out = nz
            .iter()
            .filter(|(k, _)| *k <= i)
            .map(|(k, t)| t * x[i - k])
            .sum();
    }
    y
}

fn far_end_speech() -> Vec<f32> {
    let mut far = Vec::new();
    for line in [
        "Thanks for calling. We looked at three vendors last quarter and the pricing was the main issue.",
        "Honestly the budget is approved for next year, not this one, so timing is a problem for us.",
        "Can you send me the security questionnaire and a reference customer in healthcare?",
    ] {
        far.extend(speech(line, RATE));
        far.extend(silence(RATE, 300));
    }
    // Whole 10 ms frames.
    far.truncate(far.len() / 160 * 160);
    far
}

fn run(canceller: &mut EchoCanceller, far: &[f32], mic: &[f32]) -> Vec<f32> {
    // Feed in 10 ms steps as a live pipeline would: the reference first, then the mic.
    let step = RATE as usize / 100;
    let mut out = Vec::with_capacity(mic.len());
    for (f, m) in far.chunks(step).zip(mic.chunks(step)) {
        canceller.render(f).expect("render");
        canceller.process(m, &mut out).expect("process");
    }
    out
}

#[test]
fn echo_of_the_far_end_is_removed_from_the_mic() {
    let far = far_end_speech();
    let mut rng = Lcg(99);
    let mic: Vec<f32> = convolve(&far, &echo_path())
        .into_iter()
        .map(|s| s + rng.next() * 0.0005)
        .collect();
    let mut canceller = EchoCanceller::new(RATE, EchoConfig::default()).expect("aec");
    let cleaned = run(&mut canceller, &far, &mic);
    assert_eq!(cleaned.len(), mic.len());

    // Converged: the last two thirds.
    let from = mic.len() / 3;
    let erle = erle_db(&mic[from..], &cleaned[from..]);
    eprintln!(
        "ERLE {erle:.1} dB over {:.1} s",
        (mic.len() - from) as f64 / f64::from(RATE)
    );
    assert!(erle >= 20.0, "ERLE {erle:.1} dB");
}

#[test]
fn the_reps_own_voice_survives_double_talk() {
    let far = far_end_speech();
    let rep_line = speech(
        "We can start a pilot in two weeks with your security team.",
        RATE,
    );
    // The rep speaks over the last part of the call.
    let start = far.len() - rep_line.len() - RATE as usize / 2;
    let mut rep = vec![0.0f32; far.len()];
    rep[start..start + rep_line.len()].copy_from_slice(&rep_line);
    let echo = convolve(&far, &echo_path());
    let mic: Vec<f32> = echo.iter().zip(&rep).map(|(e, r)| e + r * 0.7).collect();

    let mut canceller = EchoCanceller::new(RATE, EchoConfig::default()).expect("aec");
    let cleaned = run(&mut canceller, &far, &mic);
    let window = start..start + rep_line.len();
    let (r, lag) = best_correlation(&rep[window.clone()], &cleaned[window], 400);
    eprintln!("rep speech in output: correlation {r:.2} at lag {lag}");
    assert!(r > 0.6, "the rep's speech was damaged: correlation {r:.2}");
}
