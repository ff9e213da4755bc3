//! Audit recording benchmarks.
fn main() {}
