//! Every finding of the benchmark corpora, one per line, for diffing the
//! findings of two builds (an optimisation must not change them).
//!
//! ```text
//! cargo run --release -p enforcer --example findings_dump [-- --mb 4] > after.txt
//! diff before.txt after.txt
//! ```
//!
//! Scans the corpora of `throughput` (`corpus.rs`: prose, dense data,
//! source code, `--mb` MB each) and of `scan_bench` (`business.rs`: seven
//! business corpora of 1 MB, written to a temporary directory), all
//! predefined profiles on, and prints for each finding its corpus,
//! detector, byte span, confidence and redacted evidence, then a count
//! per corpus.

#[path = "../benches/support/business.rs"]
mod business;
#[path = "../benches/support/corpus.rs"]
mod corpus;

use std::io::Write;

use enforcer::detect::PREDEFINED_PROFILES;
use enforcer::Engine;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mb: usize = args
        .iter()
        .position(|a| a == "--mb")
        .and_then(|i| args.get(i + 1))
        .map(|v| v.parse().expect("--mb takes a whole number"))
        .unwrap_or(4);
    let engine = Engine::with_defaults();
    let sel = engine.selection(&PREDEFINED_PROFILES).expect("profiles");
    let mut corpora: Vec<(String, String)> = vec![
        ("prose".into(), corpus::prose(mb << 20)),
        ("dense".into(), corpus::dense(mb << 20)),
        ("code".into(), corpus::code(mb << 20)),
    ];
    let dir = std::env::temp_dir().join(format!("findings_dump-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    for kind in business::Kind::ALL {
        let path = dir.join(format!("{}.{}", kind.name(), kind.ext()));
        business::write(kind, 1 << 20, &path).expect("corpus written");
        let text = std::fs::read_to_string(&path).expect("corpus read");
        corpora.push((format!("business-{}", kind.name()), text));
    }
    std::fs::remove_dir_all(&dir).ok();
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    let mut counts = Vec::new();
    for (name, text) in &corpora {
        let r = engine.scan_selection(text, &sel);
        for f in &r.findings {
            writeln!(
                out,
                "{name}\t{}\t{}..{}\t{:?}\t{}",
                f.detector, f.start, f.end, f.confidence, f.evidence
            )
            .expect("stdout");
        }
        counts.push((name, r.findings.len()));
    }
    for (name, n) in counts {
        writeln!(out, "# {name}: {n} findings").expect("stdout");
    }
}
