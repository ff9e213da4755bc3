//! Document fingerprinting at the scale issue 23 names: 10,000 registered
//! documents, and the lookup of a 1 MB text.
//!
//! The registered documents are generated (fixed seed): each is about
//! 2,500 words (five pages) drawn from a 30,000-word vocabulary with a
//! Zipf-like frequency, so that, like real documents, they share common
//! words but not passages. The looked-up text is 1 MB of the business prose
//! corpus (`benches/support/business.rs`) with one paragraph of a
//! registered document pasted into its middle, which must be found.
//!
//! Prints: registration rate, index build time, index memory and the
//! process's peak resident memory, and the lookup time of the 1 MB text
//! (best and median of 20) and of the 16 KB the keyboard gate looks up
//! per keystroke (median and p99 of 200).
//!
//! Run: `cargo run --release -p enforcer --example fingerprint_bench [DOCS]`

#[path = "../benches/support/business.rs"]
mod business;
#[path = "../benches/support/corpus.rs"]
mod corpus;

use std::time::Instant;

use enforcer::fingerprint::{Index, Store, Thresholds};

/// SplitMix64, for the generated documents.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

fn vocabulary(n: usize) -> Vec<String> {
    const SYL: [&str; 24] = [
        "ka", "lo", "mer", "tis", "an", "dor", "ve", "sun", "pri", "cal", "ter", "ol", "ba", "nex",
        "ri", "mon", "es", "tra", "gu", "fil", "or", "pe", "quin", "de",
    ];
    let mut rng = Rng(7);
    (0..n)
        .map(|_| {
            let k = 1 + (rng.next() % 3) as usize;
            (0..k).map(|_| SYL[(rng.next() % 24) as usize]).collect()
        })
        .collect()
}

fn document(rng: &mut Rng, vocab: &[String], words: usize) -> String {
    let mut out = String::with_capacity(words * 7);
    for i in 0..words {
        // Zipf-like: small indices far more often.
        let r = (rng.next() % 1_000_000) as f64 / 1_000_000.0;
        let idx = ((vocab.len() as f64).powf(r) as usize).min(vocab.len() - 1);
        out.push_str(&vocab[idx]);
        out.push(if i % 17 == 16 { '.' } else { ' ' });
        if i % 120 == 119 {
            out.push_str("\n\n");
        }
    }
    out
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let docs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().unwrap();
    let vocab = vocabulary(30_000);
    let mut rng = Rng(42);
    let mut store = Store::open(&dir.path().join("store"), true).unwrap();
    let started = Instant::now();
    let mut words = 0usize;
    let mut pasted = String::new();
    for i in 0..docs {
        let text = document(&mut rng, &vocab, 2_500);
        if i == docs / 2 {
            pasted = text.split("\n\n").nth(3).unwrap().to_owned();
        }
        let d = store
            .add(&format!("doc-{i}"), &format!("{i:064x}"), &text, false)
            .unwrap();
        words += d.words;
    }
    store.commit().unwrap();
    let took = started.elapsed();
    println!(
        "registered {docs} documents ({:.1} M words) in {:.1} s: {:.0} documents/s",
        words as f64 / 1e6,
        took.as_secs_f64(),
        docs as f64 / took.as_secs_f64()
    );
    let started = Instant::now();
    let index = Index::build(&store, Thresholds::default()).unwrap();
    println!(
        "index built in {:.2} s: {} fingerprints, {:.1} MB in its arrays, peak resident {:.0} MB",
        started.elapsed().as_secs_f64(),
        index.len(),
        index.memory_bytes() as f64 / 1e6,
        peak_rss_mb()
    );
    let corpus_path = dir.path().join("prose.txt");
    business::write(business::Kind::Prose, 1 << 20, &corpus_path).unwrap();
    let prose = std::fs::read_to_string(&corpus_path).unwrap();
    let mut cut = prose.len() / 2;
    while !prose.is_char_boundary(cut) {
        cut += 1;
    }
    let text = format!("{}\n{pasted}\n{}", &prose[..cut], &prose[cut..]);
    let mut times = Vec::new();
    let mut found = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        found = index.lookup(&text);
        times.push(t.elapsed());
    }
    times.sort();
    assert_eq!(
        found.first().map(|m| m.name.clone()),
        Some(format!("doc-{}", docs / 2)),
        "the pasted paragraph is found: {found:?}"
    );
    println!(
        "lookup of {:.2} MB of business prose with one pasted paragraph: best {:.2} ms, median {:.2} ms (found {})",
        text.len() as f64 / 1e6,
        times[0].as_secs_f64() * 1e3,
        times[times.len() / 2].as_secs_f64() * 1e3,
        found[0].name
    );
    // The keyboard gate's check: the 16 KB around an edit of a long field,
    // looked up once per keystroke.
    let window = &prose[..16 << 10];
    let mut times = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        found = index.lookup(window);
        times.push(t.elapsed());
    }
    times.sort();
    assert!(found.is_empty(), "business prose matches nothing");
    println!(
        "keystroke check (lookup of the 16 KB around an edit): median {:.3} ms, p99 {:.3} ms",
        times[times.len() / 2].as_secs_f64() * 1e3,
        times[times.len() * 99 / 100].as_secs_f64() * 1e3,
    );
}
