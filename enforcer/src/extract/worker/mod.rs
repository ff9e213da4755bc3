//! Extraction in worker processes: a crash, an out-of-memory or a stack
//! overflow in a parser costs one worker, never the server.
//!
//! The pool ([`WorkerPool`]) starts N copies of a program that runs
//! [`serve`] over its stdin/stdout (for isolator: `isolator extract-worker`;
//! the program and arguments are configurable so tests and other hosts can
//! point elsewhere). Each worker:
//! - sets its own limits at start from the setup message: `RLIMIT_AS`
//!   (memory) once, and before each file an `RLIMIT_CPU` soft limit of "CPU
//!   used so far + the per-file allowance", so the limit is per file although
//!   the worker is reused (the kernel sends SIGXCPU past it);
//! - warms its OCR engine before reporting ready, and runs with
//!   `OMP_THREAD_LIMIT=1`, which the pool puts in its environment;
//! - answers one request at a time;
//! - may run helper programs (poppler's `pdftotext` and `pdftoppm`,
//!   `tesseract --psm 0`) as its children: they inherit its user and its
//!   memory and CPU limits, die with it (`setpriv --pdeathsig KILL`) and are
//!   killed at the file's deadline.
//!
//! The parent enforces wall time: a worker that has not answered by the
//! file's deadline (plus a grace period) is killed and replaced, and the file
//! is [`Extraction::Unscannable`](super::Extraction) with the reason. A worker
//! that dies (signal, exit, broken pipe, out-of-protocol reply) is handled the
//! same way: the reason names what happened (CPU limit, crash, kill).
//!
//! The protocol ([`protocol`]) is length-prefixed frames with size caps in
//! both directions: setup/ready once, then request header + body, reply.
//! A file on disk ([`WorkerPool::extract_file`]) is streamed into its body
//! frame in small chunks by the pool's I/O thread, so the parent never holds
//! the file whole in memory; only the worker does, under its own limits.

mod pool;
pub mod protocol;
mod rlimits;
mod serve;

pub use pool::{WorkerConfig, WorkerPool};
pub use serve::serve;
