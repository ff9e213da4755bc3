//! Session audit: tamper-evident recordings, their index, retention and reader.
//!
//! A recording is a directory per session, `<root>/<yyyy-mm-dd>/<session>/`,
//! holding numbered **segment files** (`000001.seg`, `000002.seg`, ...) and a
//! sidecar **keyframe index** (`keyframes.idx`). Design choices:
//!
//! - **Append-only, length-prefixed records** ([`format`]): every record is
//!   `len u32 | kind u8 | seq u64 | mono_ms u64 | wall_ms i64 | payload | hash[32]`,
//!   written with a single `write` so a killed process leaves at most one
//!   partial record, at the very end.
//! - **A hash chain**: `hash = SHA-256(previous hash || record bytes)`. Each
//!   segment opens with a header record naming the previous segment's final
//!   hash and closes, when it rotates or the session ends, with a seal record
//!   holding its record count. Editing, deleting or reordering any record (or
//!   segment) breaks the chain at that record; [`verify`] reports the first
//!   break with its segment, byte offset and record number, and tells a
//!   crash-truncated tail apart from tampering.
//! - **Frames are stored as streamed** (JPEG, unchanged) and deduplicated by
//!   content hash: a repeat is a small reference record to the first copy.
//! - **Seeking without scanning**: every few seconds the recorder appends a
//!   fixed-size entry to `keyframes.idx` (time, where the full frame is, where
//!   to resume reading). The index is a hint: the [`Reader`] checks what it
//!   points at, and the chain stays the source of truth.
//! - **Index and retention** ([`Index`], [`Store::apply_retention`]): SQLite
//!   at `<root>/index.sqlite` lists sessions and incidents for search; deletions
//!   by retention are appended to `<root>/retention.log`, itself hash-chained.
//! - **Object storage** (`[audit.object_store]`, [`upload`], [`source`]):
//!   sealed segments and the keyframe index are uploaded, off the recording
//!   path, to `<prefix>/<yyyy-mm-dd>/<session>/` in an S3-compatible bucket;
//!   readers get a session from local disk or, once its local copy is gone,
//!   from the bucket ([`SegmentSource`]). The files are the same bytes, so
//!   the chain and [`verify`] are unchanged.
//! - **Export** ([`export`]): one uncompressed tar with the segments, the
//!   keyframe index, the index rows and a manifest naming the chain head, so
//!   the [`Reader`] can seek inside it in place and [`verify`] can check it.
//!
//! Nothing sensitive is stored raw: typed text is reduced to its length unless
//! the caller explicitly keeps it, and decision evidence arrives redacted.

pub mod access;
pub mod bucket;
pub mod bundle;
pub mod chainlog;
pub mod config;
pub mod error;
pub mod event;
pub mod format;
pub mod index;
pub mod keyframes;
pub mod live;
pub mod reader;
pub mod recorder;
pub mod retention;
pub mod source;
pub mod store;
pub mod upload;
pub mod verify;

pub use access::{AccessEntry, AccessLog};
pub use bucket::Bucket;
pub use bundle::{export, Manifest};
pub use config::{AuditConfig, ObjectStoreConfig};
pub use error::{Error, Result};
pub use event::{Decision, DecisionEvent, Event, Frame, Input, InputEvent, InputKind};
pub use index::{Changes, Incident, IncidentQuery, Index, SessionQuery, SessionRow, Shipped};
pub use live::{AuditService, Health, LiveRecorder};
pub use reader::{Reader, RecordedEvent, Seek};
pub use recorder::{Recorder, SessionInfo};
pub use retention::{verify_retention_log, RetentionEntry};
pub use source::{LocalCopy, SegmentSource};
pub use store::Store;
pub use upload::{BucketHealth, SweepOutcome};
pub use verify::{verify, verify_bundle, verify_dir, Problem, ProblemKind, Status, VerifyReport};
