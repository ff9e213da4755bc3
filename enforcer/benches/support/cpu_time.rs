//! CPU time of the calling thread, for figures that stay meaningful on a
//! loaded machine (wall time there includes waiting for a core).
#![allow(dead_code)]

use std::time::Duration;

/// Time the calling thread has spent on a CPU
/// (`clock_gettime(CLOCK_THREAD_CPUTIME_ID)`: nanoseconds, not scheduler
/// ticks); `None` where the clock is unavailable.
pub fn thread_cpu() -> Option<Duration> {
    cpu_time::ThreadTime::try_now()
        .ok()
        .map(|t| t.as_duration())
}

/// Runs `f` and returns its wall time and its CPU time (CPU = wall when
/// thread CPU time is unavailable).
pub fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration, Duration) {
    let c0 = thread_cpu();
    let t0 = std::time::Instant::now();
    let out = f();
    let wall = t0.elapsed();
    let cpu = match (c0, thread_cpu()) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => wall,
    };
    (out, wall, cpu)
}
