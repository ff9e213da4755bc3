//! Prometheus metrics, liveness and readiness of one isolator node.
//!
//! [`Metrics`] holds one Prometheus registry **per server**: `build_state`
//! makes it and hands it to the enforcer and the session manager, the way
//! every shared service travels (no process global, so tests that run
//! several servers in one process never share a counter). The hooks are
//! atomic increments or lock-free histogram observations (the `prometheus`
//! crate's histograms are atomic); the only lookups by label (a gate
//! decision, a session end, a scan) take an uncontended read lock, never on
//! the frame path. Values that already live elsewhere (live sessions, the
//! extraction workers' restarts, bytes recorded, Chromium's memory and CPU)
//! are read at scrape time by samplers ([`Metrics::on_scrape`]), so the hot
//! paths pay nothing for them.
//!
//! `[metrics] listen` opens a separate listener ([`server`]) with
//! `/metrics` (text format 0.0.4), `/livez` (200 while the process serves
//! HTTP) and `/readyz` (200 `ready`, or 503 and one line of reasons).
//!
//! Readiness is a [`Readiness`] handle (in `AppState` and [`Metrics::readiness`]);
//! making the node unready for a new reason is one call, clearing it another:
//!
//! ```
//! let readiness = isolator::metrics::Readiness::new();
//! readiness.set_not_ready("draining", "the node is being drained");
//! assert!(readiness.status().is_err());
//! readiness.set_ready("draining");
//! assert!(readiness.status().is_ok());
//! ```
//!
//! The server itself sets `shutdown` while it stops and checks `capacity`
//! (the session cap reached) at each probe.
//!
//! Metric families (labels are bounded: gate and outcome names, detector
//! ids from the policy, end reasons; never users, URLs or session ids):
//!
//! | name | type | labels |
//! | --- | --- | --- |
//! | `isolator_build_info` | gauge (1) | `version` |
//! | `isolator_ready` | gauge (1 ready, 0 not) | |
//! | `isolator_sessions` | gauge | `state` = `active`, `attached`, `detached`, `resting` (attached, screencast stopped while the page is still) |
//! | `isolator_sessions_started_total` | counter | |
//! | `isolator_sessions_ended_total` | counter | `reason` (the protocol's end reasons) |
//! | `isolator_frames_sent_total` | counter | |
//! | `isolator_screenshots_total` | counter | `why` = `quiet` (no frame followed the last one: Chromium may have dropped a paint), `cast_start` (a cast started or woke) |
//! | `isolator_input_to_frame_seconds` | histogram | |
//! | `isolator_gate_decisions_total` | counter | `gate`, `outcome` (`allow`, `block`, `audit`), `detector` (the first detector of the verdict, or `none`) |
//! | `isolator_scan_seconds` | histogram | `kind` = `text`, `file` |
//! | `isolator_scan_failures_total` | counter | `reason` = `timeout`, `error`, `unscannable` (the scan failed closed) |
//! | `isolator_extract_worker_restarts_total` | counter | |
//! | `isolator_chromium_processes` | gauge | |
//! | `isolator_chromium_memory_bytes` | gauge | `kind` = `rss`, `pss` (summed over the browser's processes), `cgroup` (charged to its cgroup) |
//! | `isolator_chromium_cpu_seconds_total` | counter | |
//! | `isolator_recording_bytes_total` | counter | |
//! | `isolator_egress_requests_total` | counter | `outcome` = `allowed`, `blocked`, `failed` |
//!
//! `isolator_input_to_frame_seconds` is measured by each client socket:
//! from the first input (key, text, paste, mouse, touch) after the last
//! frame sent to the next frame sent, so it is the latency the user sees.

pub mod config;
pub mod process;
mod readiness;
pub mod server;

use std::sync::Mutex;
use std::time::Duration;

use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry,
};

pub use config::MetricsConfig;
pub use readiness::Readiness;

/// Which scan a duration is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScanKind {
    /// Text (paste, keyboard, copy, page text, request bodies).
    Text,
    /// A file extracted by a worker (upload, download, print, image).
    File,
}

/// Why a scan failed closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScanFailure {
    /// It ran past its budget.
    Timeout,
    /// It errored (the scanning task died, the workers could not start).
    Error,
    /// The extraction could not read the file (a worker crashed or ran out
    /// of time or memory, an encrypted or malformed file, a limit reached).
    Unscannable,
}

/// The protocol's end reasons (`crate::protocol::EndReason`, snake case),
/// created at zero.
const END_REASONS: [&str; 7] = [
    "closed",
    "idle",
    "browser_crashed",
    "replaced",
    "terminated",
    "shutdown",
    "error",
];

/// A sampler run before each scrape.
type Sampler = Box<dyn Fn(&Metrics) + Send + Sync>;

/// The metrics of one server; see the module docs.
pub struct Metrics {
    registry: Registry,
    readiness: Readiness,
    samplers: Mutex<Vec<Sampler>>,
    ready: IntGauge,
    sessions: IntGaugeVec,
    sessions_started: IntCounter,
    sessions_ended: IntCounterVec,
    frames_sent: IntCounter,
    screenshots: IntCounterVec,
    input_to_frame: Histogram,
    gate_decisions: IntCounterVec,
    scan_seconds: HistogramVec,
    scan_failures: IntCounterVec,
    worker_restarts: IntCounter,
    chromium_processes: IntGauge,
    chromium_memory: IntGaugeVec,
    chromium_cpu: prometheus::Counter,
    recording_bytes: IntCounter,
    egress_requests: IntCounterVec,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Registers `metric` in `registry` and returns it.
fn reg<M: prometheus::core::Collector + Clone + 'static>(registry: &Registry, metric: M) -> M {
    registry
        .register(Box::new(metric.clone()))
        .expect("metric names are distinct literals");
    metric
}

fn counter(r: &Registry, name: &str, help: &str) -> IntCounter {
    reg(r, IntCounter::new(name, help).expect("valid metric"))
}

fn counter_vec(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    reg(
        r,
        IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric"),
    )
}

fn gauge_vec(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    reg(
        r,
        IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric"),
    )
}

impl Metrics {
    /// A fresh registry with every family of the module docs.
    pub fn new() -> Self {
        let r = Registry::new();
        let build = gauge_vec(
            &r,
            "isolator_build_info",
            "The isolator build serving, always 1.",
            &["version"],
        );
        build.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
        let sessions = gauge_vec(
            &r,
            "isolator_sessions",
            "Live sessions: active (all), attached (a client is connected), detached (waiting for a reconnect), resting (attached, screencast stopped while the page is still).",
            &["state"],
        );
        for state in ["active", "attached", "detached", "resting"] {
            sessions.with_label_values(&[state]).set(0);
        }
        let input_to_frame = reg(
            &r,
            Histogram::with_opts(
                HistogramOpts::new(
                    "isolator_input_to_frame_seconds",
                    "Time from a client's input to the next frame sent to that client.",
                )
                .buckets(vec![
                    0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0,
                ]),
            )
            .expect("valid metric"),
        );
        let scan_seconds = reg(
            &r,
            HistogramVec::new(
                HistogramOpts::new(
                    "isolator_scan_seconds",
                    "Duration of content scans by the enforcement gates (text in the server, files in the extraction workers).",
                )
                .buckets(vec![
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                    5.0, 10.0, 30.0,
                ]),
                &["kind"],
            )
            .expect("valid metric"),
        );
        let m = Metrics {
            readiness: Readiness::new(),
            samplers: Mutex::new(Vec::new()),
            ready: reg(
                &r,
                IntGauge::new("isolator_ready", "1 when the node can take sessions (/readyz answers 200), else 0.")
                    .expect("valid metric"),
            ),
            sessions,
            sessions_started: counter(&r, "isolator_sessions_started_total", "Sessions started."),
            sessions_ended: counter_vec(
                &r,
                "isolator_sessions_ended_total",
                "Sessions ended, by reason.",
                &["reason"],
            ),
            frames_sent: counter(&r, "isolator_frames_sent_total", "Frames sent to clients."),
            screenshots: counter_vec(
                &r,
                "isolator_screenshots_total",
                "Screenshots taken to refresh a client's screen, by why.",
                &["why"],
            ),
            input_to_frame,
            gate_decisions: counter_vec(
                &r,
                "isolator_gate_decisions_total",
                "Enforcement decisions, by gate, outcome and the first detector that fired (or none).",
                &["gate", "outcome", "detector"],
            ),
            scan_seconds,
            scan_failures: counter_vec(
                &r,
                "isolator_scan_failures_total",
                "Scans that failed closed (the action was blocked), by reason.",
                &["reason"],
            ),
            worker_restarts: counter(
                &r,
                "isolator_extract_worker_restarts_total",
                "Extraction worker processes replaced after a crash, a timeout or a protocol error.",
            ),
            chromium_processes: reg(
                &r,
                IntGauge::new("isolator_chromium_processes", "Processes of the isolated Chromium.")
                    .expect("valid metric"),
            ),
            chromium_memory: gauge_vec(
                &r,
                "isolator_chromium_memory_bytes",
                "Memory of the isolated Chromium: rss and pss summed over its processes, cgroup as charged to its cgroup.",
                &["kind"],
            ),
            chromium_cpu: reg(
                &r,
                prometheus::Counter::new(
                    "isolator_chromium_cpu_seconds_total",
                    "CPU time (user and system) of the isolated Chromium since it started.",
                )
                .expect("valid metric"),
            ),
            recording_bytes: counter(
                &r,
                "isolator_recording_bytes_total",
                "Bytes written to session recordings.",
            ),
            egress_requests: counter_vec(
                &r,
                "isolator_egress_requests_total",
                "Requests of the isolated browser seen by the egress proxies, by outcome.",
                &["outcome"],
            ),
            registry: r,
        };
        m.ready.set(1);
        m.zero_bounded_series();
        m
    }

    /// Creates the series of every bounded label value at zero, so that
    /// each family is in the first scrape (a dashboard or alert on a
    /// missing series sees nothing, not zero). Detectors other than `none`
    /// appear with their first decision.
    fn zero_bounded_series(&self) {
        for reason in END_REASONS {
            self.sessions_ended.with_label_values(&[reason]);
        }
        for action in policies::Action::ALL {
            for outcome in ["allow", "block", "audit"] {
                self.gate_decisions
                    .with_label_values(&[action.as_str(), outcome, "none"]);
            }
        }
        for kind in ["text", "file"] {
            self.scan_seconds.with_label_values(&[kind]);
        }
        for reason in ["timeout", "error", "unscannable"] {
            self.scan_failures.with_label_values(&[reason]);
        }
        for outcome in ["allowed", "blocked", "failed"] {
            self.egress_requests.with_label_values(&[outcome]);
        }
        self.set_chromium(None, None, None);
    }

    /// The node's readiness (`/readyz`).
    pub fn readiness(&self) -> &Readiness {
        &self.readiness
    }

    /// Runs `sample` before each scrape, to copy values kept elsewhere into
    /// the families (the `set_*` methods). It must be cheap and must not
    /// block on async locks.
    pub fn on_scrape(&self, sample: impl Fn(&Metrics) + Send + Sync + 'static) {
        self.samplers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Box::new(sample));
    }

    /// Every family in the Prometheus text format 0.0.4, after the samplers ran.
    pub fn encode(&self) -> String {
        // Scrapes are serialized: the samplers set absolute values.
        let samplers = self.samplers.lock().unwrap_or_else(|p| p.into_inner());
        for sample in samplers.iter() {
            sample(self);
        }
        self.ready.set(i64::from(self.readiness.status().is_ok()));
        let families = self.registry.gather();
        drop(samplers);
        prometheus::TextEncoder::new()
            .encode_to_string(&families)
            .expect("the text encoder writes to a String")
    }

    /// A session started.
    pub fn session_started(&self) {
        self.sessions_started.inc();
    }

    /// A session ended for `reason` (one of the protocol's end reasons).
    pub fn session_ended(&self, reason: &str) {
        self.sessions_ended.with_label_values(&[reason]).inc();
    }

    /// A frame went to a client; `since_input` is the time since the first
    /// input not yet answered by a frame, if any.
    pub fn frame_sent(&self, since_input: Option<Duration>) {
        self.frames_sent.inc();
        if let Some(d) = since_input {
            self.input_to_frame.observe(d.as_secs_f64());
        }
    }

    /// A screenshot of a tab was asked for (`why`: `quiet` or `cast_start`).
    pub fn screenshot_taken(&self, why: &str) {
        self.screenshots.with_label_values(&[why]).inc();
    }

    /// How many screenshots were asked for, for `why`.
    pub fn screenshots(&self, why: &str) -> u64 {
        self.screenshots.with_label_values(&[why]).get()
    }

    /// One gate decision (`gate` and `outcome` as their lowercase names).
    pub fn gate_decision(&self, gate: &str, outcome: &str, detector: Option<&str>) {
        self.gate_decisions
            .with_label_values(&[gate, outcome, detector.unwrap_or("none")])
            .inc();
    }

    /// A scan of `kind` took `took`.
    pub fn scan(&self, kind: ScanKind, took: Duration) {
        let kind = match kind {
            ScanKind::Text => "text",
            ScanKind::File => "file",
        };
        self.scan_seconds
            .with_label_values(&[kind])
            .observe(took.as_secs_f64());
    }

    /// A scan failed closed.
    pub fn scan_failed(&self, why: ScanFailure) {
        let reason = match why {
            ScanFailure::Timeout => "timeout",
            ScanFailure::Error => "error",
            ScanFailure::Unscannable => "unscannable",
        };
        self.scan_failures.with_label_values(&[reason]).inc();
    }

    /// A request of the isolated browser, `allowed`, `blocked` or `failed`.
    pub fn egress_request(&self, outcome: &str) {
        self.egress_requests.with_label_values(&[outcome]).inc();
    }

    /// Sampler: live sessions, how many of them have a client attached, and
    /// how many of those rest their screencast.
    pub fn set_sessions(&self, active: usize, attached: usize, resting: usize) {
        let g = |state: &str, n: usize| {
            self.sessions
                .with_label_values(&[state])
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        };
        g("active", active);
        g("attached", attached);
        g("detached", active.saturating_sub(attached));
        g("resting", resting);
    }

    /// Sampler: extraction workers replaced since the server started.
    pub fn set_worker_restarts(&self, total: u64) {
        set_counter(&self.worker_restarts, total);
    }

    /// Sampler: bytes written to recordings since the server started.
    pub fn set_recording_bytes(&self, total: u64) {
        set_counter(&self.recording_bytes, total);
    }

    /// Sampler: the isolated Chromium's processes now (`None`: not
    /// running), the memory charged to its cgroup and the CPU seconds since
    /// it started (the cgroup's when it has one, which keeps exited
    /// renderers' time).
    pub fn set_chromium(
        &self,
        usage: Option<process::Usage>,
        cgroup_bytes: Option<u64>,
        cpu: Option<f64>,
    ) {
        let u = usage.unwrap_or_default();
        self.chromium_processes
            .set(i64::try_from(u.processes).unwrap_or(i64::MAX));
        let mem = |kind: &str, v: u64| {
            self.chromium_memory
                .with_label_values(&[kind])
                .set(i64::try_from(v).unwrap_or(i64::MAX));
        };
        mem("rss", u.rss_bytes);
        mem("pss", u.pss_bytes);
        mem("cgroup", cgroup_bytes.unwrap_or(0));
        let cpu = cpu.unwrap_or(u.cpu_seconds);
        // A relaunched browser starts again from zero: a counter reset,
        // which Prometheus' rate() handles.
        self.chromium_cpu.reset();
        self.chromium_cpu.inc_by(cpu.max(0.0));
    }
}

/// Sets a counter sampled from a monotonic source (under the scrape lock).
fn set_counter(c: &IntCounter, total: u64) {
    let now = c.get();
    if total >= now {
        c.inc_by(total - now);
    } else {
        c.reset();
        c.inc_by(total);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn screenshots_are_counted_by_why() {
        let m = Metrics::new();
        m.screenshot_taken("quiet");
        m.screenshot_taken("quiet");
        m.screenshot_taken("cast_start");
        let t = m.encode();
        assert!(
            t.contains(r#"isolator_screenshots_total{why="quiet"} 2"#),
            "{t}"
        );
        assert!(
            t.contains(r#"isolator_screenshots_total{why="cast_start"} 1"#),
            "{t}"
        );
        assert_eq!(m.screenshots("quiet"), 2);
    }

    #[test]
    fn two_registries_share_nothing() {
        let (a, b) = (Metrics::new(), Metrics::new());
        a.frame_sent(Some(Duration::from_millis(40)));
        a.gate_decision("paste", "block", Some("credit_card"));
        let (ta, tb) = (a.encode(), b.encode());
        assert!(ta.contains("isolator_frames_sent_total 1\n"), "{ta}");
        assert!(tb.contains("isolator_frames_sent_total 0\n"), "{tb}");
        assert!(
            ta.contains(
                r#"isolator_gate_decisions_total{detector="credit_card",gate="paste",outcome="block"} 1"#
            ),
            "{ta}"
        );
        assert!(
            ta.contains("isolator_input_to_frame_seconds_bucket{le=\"0.05\"} 1\n"),
            "{ta}"
        );
        assert!(
            ta.contains("isolator_input_to_frame_seconds_bucket{le=\"0.025\"} 0\n"),
            "{ta}"
        );
    }

    #[test]
    fn samplers_run_at_scrape_time() {
        let m = Metrics::new();
        let n = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(5));
        let src = n.clone();
        m.on_scrape(move |m| {
            m.set_recording_bytes(src.load(std::sync::atomic::Ordering::Relaxed));
            m.set_sessions(3, 1, 1);
        });
        assert!(m.encode().contains("isolator_recording_bytes_total 5\n"));
        n.store(9, std::sync::atomic::Ordering::Relaxed);
        let text = m.encode();
        assert!(
            text.contains("isolator_recording_bytes_total 9\n"),
            "{text}"
        );
        assert!(
            text.contains("isolator_sessions{state=\"detached\"} 2\n")
                && text.contains("isolator_sessions{state=\"resting\"} 1\n"),
            "{text}"
        );
        m.readiness().set_not_ready("draining", "drained");
        assert!(m.encode().contains("isolator_ready 0\n"));
    }
}
