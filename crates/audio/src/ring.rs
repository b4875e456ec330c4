//! The hand-off between an audio callback and the rest of the engine: a lock-free
//! single-producer/single-consumer ring of samples ([`rtrb`]). The producer never blocks
//! and never allocates; what does not fit is dropped and counted in [`StreamMetrics`].

use crate::metrics::StreamMetrics;
use std::sync::Arc;

/// The callback's end of a ring.
pub struct SampleProducer {
    inner: rtrb::Producer<f32>,
    metrics: Arc<StreamMetrics>,
}

/// The engine's end of a ring.
pub struct SampleConsumer {
    inner: rtrb::Consumer<f32>,
}

/// A ring holding up to `capacity` samples.
pub fn ring(capacity: usize, metrics: Arc<StreamMetrics>) -> (SampleProducer, SampleConsumer) {
    let (inner_p, inner_c) = rtrb::RingBuffer::new(capacity);
    (
        SampleProducer {
            inner: inner_p,
            metrics,
        },
        SampleConsumer { inner: inner_c },
    )
}

impl SampleProducer {
    /// Copies as many samples as fit, counts the rest as dropped, and records the callback.
    /// Wait-free: safe to call from an audio callback.
    pub fn push(&mut self, samples: &[f32]) -> usize {
        let written = self.push_some(samples);
        self.metrics
            .record_callback(samples.len(), samples.len() - written);
        written
    }

    /// As [`push`](Self::push), converting each sample on the way in (device formats
    /// other than f32), still without allocating.
    pub fn push_converted<T: Copy>(&mut self, samples: &[T], convert: impl Fn(T) -> f32) -> usize {
        let n = samples.len().min(self.inner.slots());
        let written = match self.inner.write_chunk_uninit(n) {
            Ok(chunk) => chunk.fill_from_iter(samples[..n].iter().map(|&s| convert(s))),
            Err(_) => 0,
        };
        self.metrics
            .record_callback(samples.len(), samples.len() - written);
        written
    }

    fn push_some(&mut self, samples: &[f32]) -> usize {
        let n = samples.len().min(self.inner.slots());
        match self.inner.write_chunk_uninit(n) {
            Ok(chunk) => chunk.fill_from_iter(samples[..n].iter().copied()),
            Err(_) => 0,
        }
    }
}

impl SampleConsumer {
    /// Samples waiting to be read.
    pub fn available(&self) -> usize {
        self.inner.slots()
    }

    /// Moves every waiting sample (up to `max`) onto the end of `out`.
    pub fn pop_into(&mut self, out: &mut Vec<f32>, max: usize) -> usize {
        let n = self.inner.slots().min(max);
        match self.inner.read_chunk(n) {
            Ok(chunk) => {
                let (a, b) = chunk.as_slices();
                out.extend_from_slice(a);
                out.extend_from_slice(b);
                chunk.commit_all();
                n
            }
            Err(_) => 0,
        }
    }

    /// True once the producer is gone and nothing is left to read.
    pub fn is_finished(&self) -> bool {
        self.inner.is_abandoned() && self.inner.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_pass_in_order_and_overflow_is_counted() {
        let metrics = Arc::new(StreamMetrics::default());
        let (mut p, mut c) = ring(8, metrics.clone());
        assert_eq!(p.push(&[1.0, 2.0, 3.0]), 3);
        assert_eq!(p.push(&[4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]), 5);
        let snapshot = metrics.snapshot();
        assert_eq!(snapshot.delivered, 10);
        assert_eq!(snapshot.dropped, 2);
        let mut out = Vec::new();
        assert_eq!(c.pop_into(&mut out, usize::MAX), 8);
        assert_eq!(out, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
        // Wrap-around keeps order.
        p.push_converted(&[i16::MAX, 0, i16::MIN], |s| f32::from(s) / 32768.0);
        out.clear();
        c.pop_into(&mut out, 2);
        c.pop_into(&mut out, 2);
        assert_eq!(out.len(), 3);
        assert!((out[0] - 0.99997).abs() < 1e-4 && out[1] == 0.0 && out[2] == -1.0);
    }

    #[test]
    fn the_consumer_sees_the_producer_go() {
        let (p, c) = ring(4, Arc::new(StreamMetrics::default()));
        assert!(!c.is_finished());
        drop(p);
        assert!(c.is_finished());
    }
}
