//! The jitter buffer over a simulated network (seeded, so every run is the same):
//! delay under jitter, concealment under loss, and a bounded level under clock drift.

use std::time::Duration;

use cuecard_media::sim::{NetworkProfile, simulate};

fn minutes(m: u64) -> Duration {
    Duration::from_secs(60 * m)
}

#[test]
fn twenty_ms_jitter_keeps_delay_low_and_late_drops_rare() {
    for seed in 1..=5 {
        let profile = NetworkProfile {
            jitter: Duration::from_millis(20),
            seed,
            ..NetworkProfile::default()
        };
        let report = simulate(&profile, minutes(2));
        println!("{report:#?}");
        let late_share = report.jitter.late as f64 / report.packets_sent as f64;
        assert!(
            report.mean_delay_ms <= 60.0,
            "seed {seed}: mean delay {:.1} ms",
            report.mean_delay_ms
        );
        assert!(
            late_share < 0.01,
            "seed {seed}: {:.2}% late",
            late_share * 100.0
        );
        assert!(
            report.quality.mos >= 4.2,
            "seed {seed}: MOS {:.2}",
            report.quality.mos
        );
    }
}

#[test]
fn random_loss_is_concealed_frame_for_frame() {
    let profile = NetworkProfile {
        loss: 0.03,
        seed: 7,
        ..NetworkProfile::default()
    };
    let report = simulate(&profile, minutes(2));
    println!("{report:#?}");
    let dropped = report.packets_dropped;
    assert!(
        (150..=210).contains(&dropped),
        "3% of 6000 packets: {dropped}"
    );
    // Every packet the network lost is counted as lost (the last one may still be in
    // flight when the run ends) and is one concealed frame, unless the buffer, shrinking
    // its delay, skipped that missing frame instead of concealing it.
    assert!(
        report.jitter.lost.abs_diff(dropped) <= 1,
        "{} lost vs {dropped} dropped",
        report.jitter.lost
    );
    assert!(report.jitter.concealed <= report.jitter.lost);
    assert!(report.jitter.concealed + report.jitter.compressed >= report.jitter.lost);
    assert_eq!(report.frames_concealed, report.jitter.concealed);
    assert_eq!(report.jitter.late, 0);
    assert!(report.quality.mos >= 3.8, "MOS {:.2}", report.quality.mos);
}

#[test]
fn clock_drift_keeps_the_buffer_level_bounded() {
    for drift_ppm in [300.0, -300.0] {
        let profile = NetworkProfile {
            jitter: Duration::from_millis(5),
            drift_ppm,
            seed: 3,
            ..NetworkProfile::default()
        };
        let report = simulate(&profile, minutes(10));
        println!("{drift_ppm} ppm: {report:#?}");
        // 300 ppm over 10 minutes is 180 ms of drift; the buffer must absorb it.
        assert!(
            report.max_level_ms <= 120.0,
            "{drift_ppm} ppm: level up to {:.1} ms",
            report.max_level_ms
        );
        assert!(
            report.max_delay_ms <= 120.0,
            "{drift_ppm} ppm: delay up to {:.1} ms",
            report.max_delay_ms
        );
        let adjustments = if drift_ppm > 0.0 {
            report.jitter.compressed
        } else {
            report.jitter.expanded
        };
        assert!(
            (5..=30).contains(&adjustments),
            "{drift_ppm} ppm: {adjustments} frame adjustments"
        );
        let concealed_share =
            report.frames_concealed as f64 / (report.frames_audio + report.frames_concealed) as f64;
        assert!(
            concealed_share < 0.005,
            "{drift_ppm} ppm: {:.2}% concealed",
            concealed_share * 100.0
        );
    }
}

#[test]
fn no_jitter_no_loss_plays_everything() {
    let report = simulate(&NetworkProfile::default(), minutes(1));
    assert_eq!(report.frames_concealed, 0);
    assert_eq!(report.jitter.late, 0);
    assert_eq!(report.jitter.resyncs, 0);
    assert!(report.mean_delay_ms <= 45.0, "{:.1}", report.mean_delay_ms);
    assert!(report.quality.mos >= 4.3, "{:.2}", report.quality.mos);
}
