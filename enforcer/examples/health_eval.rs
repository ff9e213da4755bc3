//! Quality and speed of the `medication` and `diagnosis` detectors (issue
//! 23, part 4): recall on clinical notes, false positives on ordinary and
//! medical prose, and scan speed with and without the `health` profile.
//!
//! ```text
//! cargo run --release -p enforcer --example health_eval -- \
//!     [--mtsamples mtsamples.csv] [--medquad DIR] [--docs /usr/share/doc] [--speed]
//! cargo run --release -p enforcer --example health_eval -- --write-prose FILE
//! ```
//!
//! - `--mtsamples`: the MTSamples transcriptions CSV (Kaggle
//!   "medicaltranscriptions", CC0; its `transcription` column, or a
//!   one-column variant's first column): clinical notes, each should fire;
//! - `--medquad`: the MedQuAD collection's folder (NIH consumer health
//!   pages as XML, CC BY 4.0): general medical prose, each `<Answer>` one
//!   document, none should fire;
//! - `--docs`: a folder of ordinary prose (`/usr/share/doc`: READMEs,
//!   changelogs, copyright files; `.gz` read, files over 4 MB skipped);
//! - always: the benchmark business corpora (`benches/support/business.rs`,
//!   1 MB each of prose, e-mail, CSV, JSON, logs, HTML, code) and the
//!   throughput prose (`benches/support/corpus.rs`), one document per 4 KB;
//! - `--speed`: the time and memory of building the dictionaries (the
//!   first scan that selects them), then MB/s (thread CPU, best of 5) of
//!   4 MB of prose and of the clinical notes with all predefined profiles,
//!   all but `health`, and `health` alone;
//! - `--write-prose FILE`: writes the generated prose corpora to FILE (the
//!   dictionary generator's ordinary-prose input) and exits.
//!
//! Per corpus it prints documents, MB, `medication` and `diagnosis`
//! findings (counted by the `health` profile), the documents with one, and
//! false positives per MB and per document where none should fire.

#[path = "../benches/support/business.rs"]
mod business;
#[path = "../benches/support/corpus.rs"]
mod corpus;
#[path = "../benches/support/cpu_time.rs"]
mod cpu_time;

use std::io::Read;
use std::path::Path;

use enforcer::detect::PREDEFINED_PROFILES;
use enforcer::Engine;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1).cloned()
}

fn flag(name: &str) -> bool {
    std::env::args().any(|a| a == name)
}

/// The transcriptions of an MTSamples CSV.
fn mtsamples(path: &str) -> Vec<String> {
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    let headers = r.headers().cloned().unwrap_or_default();
    let col = headers
        .iter()
        .position(|h| h == "transcription")
        .unwrap_or(0);
    r.records()
        .filter_map(|rec| rec.ok())
        .filter_map(|rec| rec.get(col).map(str::to_string))
        .filter(|t| t.len() > 200)
        .collect()
}

/// The `<Answer>` texts of the MedQuAD XML files under `dir`.
fn medquad(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for path in files(dir) {
        let Ok(xml) = std::fs::read_to_string(&path) else {
            continue;
        };
        let mut rest = xml.as_str();
        while let Some(i) = rest.find("<Answer>") {
            rest = &rest[i + 8..];
            let Some(j) = rest.find("</Answer>") else {
                break;
            };
            let text = rest[..j]
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&");
            if text.len() > 100 {
                out.push(text);
            }
            rest = &rest[j..];
        }
    }
    out
}

fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        let mut entries: Vec<_> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// Text files under `dir` (gzip read; binary and files over 4 MB skipped).
fn docs(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for p in files(dir) {
        if std::fs::metadata(&p).map_or(true, |m| m.len() > 4 << 20) {
            continue;
        }
        let Ok(raw) = std::fs::read(&p) else { continue };
        let raw = if p.extension().is_some_and(|e| e == "gz") {
            let mut v = Vec::new();
            if flate2::read::GzDecoder::new(&raw[..])
                .read_to_end(&mut v)
                .is_err()
            {
                continue;
            }
            v
        } else {
            raw
        };
        if raw.iter().take(4096).any(|&b| b == 0) {
            continue;
        }
        out.push(String::from_utf8_lossy(&raw).into_owned());
    }
    out
}

/// The generated prose corpora, cut into 4 KB documents.
fn generated() -> Vec<(String, Vec<String>)> {
    let dir = std::env::temp_dir().join(format!("health-eval-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut out = Vec::new();
    for kind in business::Kind::ALL {
        let path = dir.join(kind.name());
        business::write(kind, 1 << 20, &path).expect("corpus");
        let text = std::fs::read_to_string(&path).expect("corpus");
        out.push((format!("business {}", kind.name()), chunks(&text)));
    }
    let _ = std::fs::remove_dir_all(&dir);
    out.push((
        "throughput prose".to_string(),
        chunks(&corpus::prose(1 << 20)),
    ));
    out
}

fn chunks(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let mut end = rest.len().min(4096);
        while !rest.is_char_boundary(end) {
            end += 1;
        }
        out.push(rest[..end].to_string());
        rest = &rest[end..];
    }
    out
}

/// (medication findings, diagnosis findings, documents with one); with
/// `--top`, prints the most frequent matched terms, with `--misses N` the
/// start of N documents without one.
fn count(engine: &Engine, docs: &[String], show: usize) -> (usize, usize, usize) {
    let sel = engine.selection(&["health"]).expect("health profile");
    let (mut med, mut dx, mut fired) = (0, 0, 0);
    let mut shown = 0;
    let mut top: std::collections::HashMap<String, usize> = Default::default();
    let mut misses: usize = arg("--misses").and_then(|s| s.parse().ok()).unwrap_or(0);
    for d in docs {
        let r = engine.scan_selection(d, &sel);
        let hits: Vec<_> = r
            .findings
            .iter()
            .filter(|f| f.detector == "medication" || f.detector == "diagnosis")
            .collect();
        med += hits.iter().filter(|f| f.detector == "medication").count();
        dx += hits.iter().filter(|f| f.detector == "diagnosis").count();
        for f in &hits {
            *top.entry(d[f.start..f.end].to_lowercase()).or_default() += 1;
        }
        if hits.is_empty() && misses > 0 {
            misses -= 1;
            let mut end = d.len().min(600);
            while !d.is_char_boundary(end) {
                end += 1;
            }
            println!("    miss: {}", d[..end].replace('\n', " "));
        }
        if !hits.is_empty() {
            fired += 1;
            for f in hits {
                if shown < show {
                    shown += 1;
                    let mut lo = f.start.saturating_sub(60);
                    while !d.is_char_boundary(lo) {
                        lo -= 1;
                    }
                    let mut hi = (f.end + 60).min(d.len());
                    while !d.is_char_boundary(hi) {
                        hi += 1;
                    }
                    println!(
                        "    {} {}: ...{}...",
                        f.detector,
                        f.evidence,
                        d[lo..hi].replace('\n', " ")
                    );
                }
            }
        }
    }
    if flag("--top") {
        let mut v: Vec<_> = top.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let list: Vec<String> = v.iter().take(40).map(|(t, n)| format!("{t} {n}")).collect();
        println!("    top: {}", list.join(", "));
    }
    (med, dx, fired)
}

fn main() {
    if let Some(path) = arg("--write-prose") {
        let mut all = String::new();
        for (_, docs) in generated() {
            if docs.len() > 1 {
                all.push_str(&docs.concat());
            }
        }
        std::fs::write(&path, all).expect("write prose");
        return;
    }
    let engine = Engine::with_defaults();
    if flag("--speed") {
        // The dictionaries are built on the first scan that selects them.
        let rss = || {
            std::fs::read_to_string("/proc/self/statm")
                .ok()
                .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
                .map_or(0, |pages| pages * 4096)
        };
        let sel = engine.selection(&["health"]).expect("health profile");
        let before = rss();
        let t = std::time::Instant::now();
        let r = engine.scan_selection("The patient takes metformin 500 mg daily.", &sel);
        println!(
            "first scan selecting the dictionaries (builds them): {:.1} ms, resident memory +{:.1} MB, {} finding(s)\n",
            t.elapsed().as_secs_f64() * 1e3,
            rss().saturating_sub(before) as f64 / 1e6,
            r.findings.len()
        );
    }
    let show: usize = arg("--show").and_then(|s| s.parse().ok()).unwrap_or(0);
    println!("| corpus | documents | MB | medication | diagnosis | documents with one | per MB | per document |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    let mut clinical = Vec::new();
    let mut sets: Vec<(String, Vec<String>, bool)> = Vec::new();
    if let Some(p) = arg("--mtsamples") {
        clinical = mtsamples(&p);
        sets.push(("MTSamples clinical notes".into(), clinical.clone(), true));
    }
    if let Some(p) = arg("--medquad") {
        sets.push((
            "MedQuAD medical prose".into(),
            medquad(Path::new(&p)),
            false,
        ));
    }
    if let Some(p) = arg("--docs") {
        sets.push((format!("{p} texts"), docs(Path::new(&p)), false));
    }
    for (name, d) in generated() {
        sets.push((name, d, false));
    }
    for (name, d, positive) in &sets {
        let bytes: usize = d.iter().map(String::len).sum();
        let mb = bytes as f64 / 1e6;
        let (med, dx, fired) = count(&engine, d, show);
        let n = d.len().max(1) as f64;
        if *positive {
            println!(
                "| {name} | {} | {mb:.2} | {med} | {dx} | {fired} (recall {:.3}) | - | - |",
                d.len(),
                fired as f64 / n
            );
        } else {
            println!(
                "| {name} | {} | {mb:.2} | {med} | {dx} | {fired} | {:.2} | {:.4} |",
                d.len(),
                (med + dx) as f64 / mb.max(1e-9),
                fired as f64 / n
            );
        }
    }
    if flag("--speed") {
        speed(&engine, &clinical);
    }
}

fn speed(engine: &Engine, clinical: &[String]) {
    let without: Vec<&str> = PREDEFINED_PROFILES
        .iter()
        .copied()
        .filter(|p| *p != "health")
        .collect();
    let selections = [
        ("all predefined profiles", PREDEFINED_PROFILES.to_vec()),
        ("all but health", without),
        ("health alone", vec!["health"]),
    ];
    let prose = corpus::prose(4 << 20);
    let notes = clinical.join("\n\n");
    println!("\n| text | selection | MB/s (thread CPU, best of 5) |");
    println!("| --- | --- | --- |");
    for (text_name, text) in [("prose 4 MB", &prose), ("clinical notes", &notes)] {
        if text.is_empty() {
            continue;
        }
        for (sel_name, profiles) in &selections {
            let sel = engine.selection(profiles).expect("profiles");
            let _ = engine.scan_selection(text, &sel);
            let mut best = f64::MAX;
            for _ in 0..5 {
                let (_, _, cpu) = cpu_time::timed(|| engine.scan_selection(text, &sel));
                best = best.min(cpu.as_secs_f64());
            }
            println!(
                "| {text_name} ({:.1} MB) | {sel_name} | {:.0} |",
                text.len() as f64 / 1e6,
                text.len() as f64 / 1e6 / best
            );
        }
    }
}
