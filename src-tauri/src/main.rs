//! The Cuecard desktop app's entry point.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

/// mimalloc instead of the system allocator: a bulk import builds rows on one thread and
/// frees them on another, which glibc's allocator handles badly (the 100,000-row import
/// took 8.6 s with it, 5.5 s with mimalloc; see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    cuecard_desktop::run();
}
