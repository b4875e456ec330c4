//! The call recorder: both channels survive a round trip through Ogg Opus and WAV, a file
//! cut short (a crash) is still readable up to where it stopped, and a full disk is a
//! clear error that leaves what was written playable.

mod support;

use cuecard_audio::SPEECH_RATE;
use cuecard_audio::error::AudioError;
use cuecard_audio::recorder::{
    OggOpusWriter, Recorder, RecordingFormat, StereoSink, read_recording,
};
use cuecard_audio::testing::speech;
use std::io::Write;
use support::best_correlation;

const RATE: u32 = SPEECH_RATE;

/// Two different people, one per channel.
fn conversation() -> (Vec<f32>, Vec<f32>) {
    let rep = speech(
        "Hi, this is Dana from Cuecard. Do you have a minute to talk about your pipeline?",
        RATE,
    );
    let far = speech(
        "Sure, but we already use a competitor and the contract renews in March.",
        RATE,
    );
    let n = rep.len().max(far.len());
    let pad = |mut v: Vec<f32>| {
        v.resize(n, 0.0);
        v
    };
    (pad(rep), pad(far))
}

fn write_in_chunks(recorder: &mut Recorder, rep: &[f32], far: &[f32]) {
    // As the live pipeline does: 20 ms at a time.
    for (r, f) in rep.chunks(320).zip(far.chunks(320)) {
        recorder.write(r, f).expect("write");
    }
}

/// Each channel must carry its own speaker, not the other one.
fn assert_channels_intact(rep: &[f32], far: &[f32], got_rep: &[f32], got_far: &[f32], min: f64) {
    let (r_rep, _) = best_correlation(rep, got_rep, 200);
    let (r_far, _) = best_correlation(far, got_far, 200);
    let (r_cross, _) = best_correlation(rep, got_far, 200);
    assert!(r_rep > min, "rep channel correlation {r_rep:.3}");
    assert!(r_far > min, "far-end channel correlation {r_far:.3}");
    assert!(r_cross < 0.3, "channels leak into each other: {r_cross:.3}");
}

#[test]
fn ogg_opus_round_trip_keeps_both_channels_and_the_length() {
    let (rep, far) = conversation();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("call.opus");
    let mut recorder = Recorder::create(&path, RecordingFormat::OggOpus, RATE).expect("create");
    write_in_chunks(&mut recorder, &rep, &far);
    recorder.finish().expect("finish");

    let bytes = std::fs::metadata(&path).expect("meta").len();
    let seconds = rep.len() as f64 / f64::from(RATE);
    assert!(
        (bytes as f64) < seconds * 5_000.0,
        "{bytes} bytes for {seconds:.1} s"
    );

    let back = read_recording(&path).expect("read");
    assert!(!back.truncated);
    assert_eq!(back.sample_rate, RATE);
    assert_eq!(
        back.rep.len(),
        rep.len(),
        "exact length (pre-skip and end trimming)"
    );
    assert_channels_intact(&rep, &far, &back.rep, &back.far, 0.9);
}

#[test]
fn wav_round_trip_is_sample_exact_to_16_bits() {
    let (rep, far) = conversation();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("call.wav");
    assert_eq!(RecordingFormat::for_path(&path), RecordingFormat::Wav);
    let mut recorder = Recorder::create(&path, RecordingFormat::Wav, RATE).expect("create");
    write_in_chunks(&mut recorder, &rep, &far);
    recorder.finish().expect("finish");
    // Standard readers agree.
    let reader = hound::WavReader::open(&path).expect("hound reads it");
    assert_eq!(reader.spec().channels, 2);
    assert_eq!(reader.duration() as usize, rep.len());

    let back = read_recording(&path).expect("read");
    assert!(!back.truncated);
    assert_eq!(back.rep.len(), rep.len());
    for (a, b) in rep.iter().zip(&back.rep).chain(far.iter().zip(&back.far)) {
        assert!((a - b).abs() < 1.0 / 16_000.0);
    }
}

#[test]
fn a_recording_cut_short_by_a_crash_is_still_readable() {
    let (rep, far) = conversation();
    let dir = tempfile::tempdir().expect("tempdir");
    for format in [RecordingFormat::OggOpus, RecordingFormat::Wav] {
        let path = dir.path().join(format!("crash-{format:?}"));
        let mut recorder = Recorder::create(&path, format, RATE).expect("create");
        write_in_chunks(&mut recorder, &rep, &far);
        // The app dies: no finish, and the last bytes never reach the disk.
        drop(recorder);
        let full = std::fs::read(&path).expect("read");
        let cut = &full[..full.len() * 3 / 4 - 37];
        std::fs::write(&path, cut).expect("write");

        let back = read_recording(&path).expect("recovers");
        assert!(back.truncated, "{format:?}");
        let kept = back.rep.len() as f64 / rep.len() as f64;
        assert!(kept > 0.5, "{format:?} kept only {:.0}%", kept * 100.0);
        let n = back.rep.len();
        assert_channels_intact(&rep[..n], &far[..n], &back.rep, &back.far, 0.8);
    }
}

/// A writer that accepts `room` bytes and then fails like a full disk.
struct FullDisk {
    written: Vec<u8>,
    room: usize,
}

impl Write for FullDisk {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.written.len() >= self.room {
            return Err(std::io::Error::new(
                std::io::ErrorKind::StorageFull,
                "No space left on device",
            ));
        }
        let n = buf.len().min(self.room - self.written.len());
        self.written.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_full_disk_is_a_clear_error_and_the_file_so_far_plays() {
    let (rep, far) = conversation();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("full.opus");
    let mut writer = OggOpusWriter::new(
        FullDisk {
            written: Vec::new(),
            room: 6_000,
        },
        RATE,
        &path,
    )
    .expect("writer");
    let mut error = None;
    for (r, f) in rep.chunks(320).zip(far.chunks(320)) {
        if let Err(e) = writer.write(r, f) {
            error = Some(e);
            break;
        }
    }
    let error = error.expect("the disk filled up");
    assert!(matches!(error, AudioError::RecordingIo { .. }), "{error}");
    assert!(error.to_string().contains("No space left"), "{error}");

    // What reached the disk is a valid, if short, recording.
    std::fs::write(&path, writer.into_inner().written).expect("save");
    let back = read_recording(&path).expect("readable");
    assert!(back.truncated);
    assert!(
        back.rep.len() as u32 > RATE / 2,
        "{} frames",
        back.rep.len()
    );
    let n = back.rep.len();
    assert_channels_intact(&rep[..n], &far[..n], &back.rep, &back.far, 0.8);
}

#[test]
fn damaged_files_are_refused_or_recovered_never_a_panic() {
    let (rep, far) = conversation();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut originals = Vec::new();
    for format in [RecordingFormat::OggOpus, RecordingFormat::Wav] {
        let path = dir.path().join(format!("orig-{format:?}"));
        let mut recorder = Recorder::create(&path, format, RATE).expect("create");
        write_in_chunks(
            &mut recorder,
            &rep[..RATE as usize * 2],
            &far[..RATE as usize * 2],
        );
        recorder.finish().expect("finish");
        originals.push(std::fs::read(&path).expect("read"));
    }
    // Seeded mutations: flipped bytes, cuts, garbage tails, random files.
    let mut rng = support::Lcg(2026);
    let mut next = |n: usize| ((rng.next() + 0.5) * n as f32) as usize % n.max(1);
    let path = dir.path().join("mutant.bin");
    let (mut recovered, mut refused) = (0, 0);
    for round in 0..400 {
        let mut bytes = originals[round % 2].clone();
        match round % 4 {
            0 => {
                for _ in 0..1 + next(8) {
                    let i = next(bytes.len());
                    bytes[i] ^= 1 << next(8);
                }
            }
            1 => bytes.truncate(next(bytes.len())),
            2 => bytes.extend((0..next(500)).map(|i| (i * 37) as u8)),
            _ => bytes = (0..next(4000)).map(|i| (i * 131 % 251) as u8).collect(),
        }
        std::fs::write(&path, &bytes).expect("write");
        match read_recording(&path) {
            Ok(recording) => {
                assert_eq!(recording.rep.len(), recording.far.len());
                recovered += 1;
            }
            Err(e) => {
                // A clear error that names the file.
                assert!(matches!(e, AudioError::Recording { .. }), "{e:?}");
                assert!(e.to_string().contains("mutant.bin"), "{e}");
                refused += 1;
            }
        }
    }
    assert!(
        recovered > 50 && refused > 50,
        "{recovered} recovered, {refused} refused"
    );
}

#[test]
fn unsupported_recording_formats_are_refused_up_front() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("call.opus");
    let err = Recorder::create(&path, RecordingFormat::OggOpus, 44_100)
        .err()
        .expect("refused");
    assert!(err.to_string().contains("44100 Hz"), "{err}");
    let err = cuecard_audio::aec::EchoCanceller::new(8_000, Default::default())
        .err()
        .expect("refused");
    assert!(err.to_string().contains("8000 Hz"), "{err}");
}
