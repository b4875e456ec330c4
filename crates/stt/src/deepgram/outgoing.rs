//! The audio a Deepgram session sends: per-channel queues interleaved into frames, the
//! tail kept for backfill after a reconnect, and the mapping from stream time back to
//! each channel's own time.
//!
//! Deepgram's multichannel stream advances every channel together (one sample of each
//! per frame), so the session has one *stream* clock. A channel that falls more than
//! the allowed skew behind the others (or any channel at the end) is padded with
//! silence; the padding is remembered so that times reported in stream time map back to
//! the channel's own audio.

use std::collections::VecDeque;

/// Frames (one sample per channel) per millisecond at 16 kHz.
pub const FRAMES_PER_MS: u64 = crate::SAMPLE_RATE as u64 / 1000;

/// f32 in -1..1 to 16-bit PCM.
pub fn to_i16(samples: &[f32]) -> Vec<i16> {
    samples
        .iter()
        .map(|s| (s.clamp(-1.0, 1.0) * 32767.0).round() as i16)
        .collect()
}

pub struct Outgoing {
    channels: usize,
    queues: Vec<VecDeque<i16>>,
    /// Frames sent so far: the stream position of the next frame.
    sent_frames: u64,
    /// Interleaved samples of the frames `retained_from..sent_frames`.
    retained: VecDeque<i16>,
    retained_from: u64,
    max_retained_frames: u64,
    max_skew_frames: usize,
    /// Per channel: silence inserted at (stream frame, frames).
    pads: Vec<Vec<(u64, u64)>>,
    /// Unacknowledged frames that fell out of the backfill window since the last look.
    dropped_frames: u64,
}

impl Outgoing {
    pub fn new(channels: usize, max_retained_frames: u64, max_skew_frames: usize) -> Self {
        Self {
            channels,
            queues: vec![VecDeque::new(); channels],
            sent_frames: 0,
            retained: VecDeque::new(),
            retained_from: 0,
            max_retained_frames,
            max_skew_frames,
            pads: vec![Vec::new(); channels],
            dropped_frames: 0,
        }
    }

    pub fn push(&mut self, channel: usize, samples: &[i16]) {
        if let Some(queue) = self.queues.get_mut(channel) {
            queue.extend(samples.iter().copied());
        }
    }

    /// Whether audio is queued that has not been sent.
    pub fn has_pending(&self) -> bool {
        self.queues.iter().any(|q| !q.is_empty())
    }

    pub fn sent_frames(&self) -> u64 {
        self.sent_frames
    }

    /// The stream position the backfill starts from.
    pub fn retained_from(&self) -> u64 {
        self.retained_from
    }

    /// Up to `max_frames` frames as little-endian bytes, or `None` when no channel can
    /// be interleaved yet. With `flush`, every lagging channel is padded to the longest.
    pub fn next_chunk(&mut self, flush: bool, max_frames: usize) -> Option<Vec<u8>> {
        let longest = self.queues.iter().map(VecDeque::len).max().unwrap_or(0);
        let shortest = self.queues.iter().map(VecDeque::len).min().unwrap_or(0);
        let target = if flush {
            longest
        } else if longest - shortest > self.max_skew_frames {
            longest - self.max_skew_frames
        } else {
            shortest
        };
        for (c, queue) in self.queues.iter_mut().enumerate() {
            if queue.len() < target {
                let missing = target - queue.len();
                self.pads[c].push((self.sent_frames + queue.len() as u64, missing as u64));
                queue.extend(std::iter::repeat_n(0, missing));
            }
        }
        let frames = self
            .queues
            .iter()
            .map(VecDeque::len)
            .min()
            .unwrap_or(0)
            .min(max_frames);
        if frames == 0 {
            return None;
        }
        let mut bytes = Vec::with_capacity(frames * self.channels * 2);
        for _ in 0..frames {
            for queue in &mut self.queues {
                let sample = queue.pop_front().unwrap_or(0);
                bytes.extend_from_slice(&sample.to_le_bytes());
                self.retained.push_back(sample);
            }
        }
        self.sent_frames += frames as u64;
        let kept = self.sent_frames - self.retained_from;
        if kept > self.max_retained_frames {
            let excess = kept - self.max_retained_frames;
            self.drain_retained(excess);
            self.dropped_frames += excess;
        }
        Some(bytes)
    }

    /// Everything before stream frame `frame` has been transcribed for good: it need
    /// not be sent again.
    pub fn acknowledge(&mut self, frame: u64) {
        let frame = frame.min(self.sent_frames);
        if frame > self.retained_from {
            self.drain_retained(frame - self.retained_from);
        }
    }

    fn drain_retained(&mut self, frames: u64) {
        let samples = (frames as usize).saturating_mul(self.channels);
        let samples = samples.min(self.retained.len());
        self.retained.drain(..samples);
        self.retained_from += frames;
    }

    /// The retained frames, in chunks of at most `max_frames`, to resend on a new
    /// connection (which then starts at [`Outgoing::retained_from`]).
    pub fn backfill(&self, max_frames: usize) -> Vec<Vec<u8>> {
        let per_chunk = max_frames.max(1) * self.channels;
        let samples: Vec<i16> = self.retained.iter().copied().collect();
        samples
            .chunks(per_chunk)
            .map(|chunk| chunk.iter().flat_map(|s| s.to_le_bytes()).collect())
            .collect()
    }

    /// Unacknowledged frames lost from the backfill window since the last call.
    pub fn take_dropped(&mut self) -> u64 {
        std::mem::take(&mut self.dropped_frames)
    }

    /// Stream milliseconds to milliseconds of `channel`'s own audio (padding removed).
    pub fn channel_ms(&self, channel: usize, stream_ms: u64) -> u32 {
        let frame = stream_ms * FRAMES_PER_MS;
        let padded: u64 = self
            .pads
            .get(channel)
            .map(|pads| {
                pads.iter()
                    .filter(|(at, _)| *at < frame)
                    .map(|(at, len)| (*len).min(frame - at))
                    .sum()
            })
            .unwrap_or(0);
        u32::try_from((frame - padded.min(frame)) / FRAMES_PER_MS).unwrap_or(u32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(bytes: &[u8]) -> Vec<i16> {
        bytes
            .chunks(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]))
            .collect()
    }

    #[test]
    fn interleaves_what_every_channel_has() {
        let mut out = Outgoing::new(2, 1000, 100);
        out.push(0, &[1, 2, 3]);
        assert!(
            out.next_chunk(false, 100).is_none(),
            "channel 1 has nothing yet"
        );
        out.push(1, &[10, 20]);
        let chunk = out.next_chunk(false, 100).expect("two frames");
        assert_eq!(samples(&chunk), vec![1, 10, 2, 20]);
        assert_eq!(out.sent_frames(), 2);
        assert!(out.has_pending());
        let flushed = out.next_chunk(true, 100).expect("flush pads channel 1");
        assert_eq!(samples(&flushed), vec![3, 0]);
        // Channel 1 was padded at stream frame 2: its time stops there.
        assert_eq!(out.channel_ms(0, 0), 0);
    }

    #[test]
    fn a_channel_too_far_behind_is_padded_and_its_times_skip_the_padding() {
        let mut out = Outgoing::new(2, 1_000_000, 16 * 200);
        out.push(0, &vec![5; 16 * 500]);
        let chunk = out.next_chunk(false, usize::MAX).expect("skew over 200 ms");
        assert_eq!(chunk.len(), 16 * 300 * 4, "channel 1 padded to 300 ms");
        out.push(1, &vec![7; 16 * 200]);
        out.push(0, &vec![5; 16 * 200]);
        out.next_chunk(false, usize::MAX).expect("more");
        // Channel 1's first real sample went out at stream 300 ms.
        assert_eq!(out.channel_ms(1, 300), 0);
        assert_eq!(out.channel_ms(1, 400), 100);
        assert_eq!(out.channel_ms(0, 400), 400);
    }

    #[test]
    fn retains_unacknowledged_frames_for_backfill() {
        let mut out = Outgoing::new(1, 10, 0);
        out.push(0, &[1, 2, 3, 4, 5, 6]);
        out.next_chunk(false, 100).expect("sent");
        out.acknowledge(4);
        assert_eq!(out.retained_from(), 4);
        assert_eq!(
            out.backfill(1)
                .iter()
                .map(|c| samples(c))
                .collect::<Vec<_>>(),
            vec![vec![5], vec![6]]
        );
        out.push(0, &(0..20).collect::<Vec<i16>>());
        out.next_chunk(false, 100).expect("sent");
        assert_eq!(out.sent_frames(), 26);
        assert_eq!(out.retained_from(), 16, "only 10 frames are kept");
        assert_eq!(out.take_dropped(), 12);
        assert_eq!(out.take_dropped(), 0);
    }

    #[test]
    fn converts_to_16_bit() {
        assert_eq!(
            to_i16(&[0.0, 1.0, -1.0, 2.0, 0.5]),
            vec![0, 32767, -32767, 32767, 16384]
        );
    }
}
