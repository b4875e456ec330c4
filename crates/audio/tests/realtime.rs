//! Real-time safety of what runs inside device callbacks: pushing into a ring (every
//! sample format the capture converts) and counting must not allocate. A counting global
//! allocator watches this thread while the callback bodies run.

use cuecard_audio::metrics::StreamMetrics;
use cuecard_audio::ring::ring;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;

struct Counting;

thread_local! {
    static WATCHING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if WATCHING.with(Cell::get) {
            ALLOCATIONS.with(|a| a.set(a.get() + 1));
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn allocations_during(work: impl FnOnce()) -> usize {
    ALLOCATIONS.with(|a| a.set(0));
    WATCHING.with(|w| w.set(true));
    work();
    WATCHING.with(|w| w.set(false));
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn callback_work_does_not_allocate_even_when_the_ring_overflows() {
    let metrics = Arc::new(StreamMetrics::default());
    let (mut producer, mut consumer) = ring(4800, metrics.clone());
    let f32_block = vec![0.25f32; 480];
    let i16_block = vec![1000i16; 480];
    let i32_block = vec![1i32 << 20; 480];
    let mut drained = Vec::with_capacity(48_000);
    let n = allocations_during(|| {
        for round in 0..200 {
            producer.push(&f32_block);
            producer.push_converted(&i16_block, |s| f32::from(s) / 32768.0);
            producer.push_converted(&i32_block, |s| s as f32 / 2_147_483_648.0);
            let _ = metrics.since_last_callback();
            // The reader falls behind half the time, so the ring overflows and drops.
            if round % 2 == 0 {
                drained.clear();
                consumer.pop_into(&mut drained, 1440);
            }
        }
    });
    assert_eq!(n, 0, "{n} allocations in callback work");
    let snapshot = metrics.snapshot();
    assert_eq!(snapshot.callbacks, 600);
    assert!(snapshot.dropped > 0, "the overflow path ran");
}
