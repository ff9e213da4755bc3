//! The `isolator` command line.
fn main() {}
