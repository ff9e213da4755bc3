//! The model file: a multinomial naive Bayes table over hashed features,
//! and the trainer that writes it.
//!
//! Format (version 1), all text up to the `data` line, then binary:
//!
//! ```text
//! isolator-source-code-model 1
//! buckets 32768
//! classes prose data rust python javascript c shell perl html css sql
//! scale 1024
//! thresholds <code> <high>
//! data
//! <buckets x classes little-endian i16>
//! ```
//!
//! Entry `[b][c]` is `round(scale * ln P(bucket b | class c))` (Laplace
//! smoothing). Class 0 is always `prose`; `prose` and `data` are not code
//! ([`super::NOT_CODE`]). The two thresholds are margins in thousandths of a
//! nat per feature: a text is code when the best code class out-scores the
//! best class that is not code by more than `code`, with high confidence
//! above `high` (both calibrated on the training split by the training
//! command, `enforcer/examples/train_source_code.rs`).

use super::features::BUCKETS;

/// First line of every model file.
pub const MAGIC: &str = "isolator-source-code-model 1";

/// A parsed model.
#[derive(Debug)]
pub struct Model {
    /// Class names; `classes[0]` is `prose`.
    pub classes: Vec<String>,
    /// `round(scale * ln P(bucket | class))`, bucket-major.
    table: Vec<i16>,
    scale: f32,
    /// Margin (nats per feature) above which a text is code.
    pub code_threshold: f32,
    /// Margin above which it is code with high confidence.
    pub high_threshold: f32,
}

/// Why a model file could not be read.
#[derive(Debug, PartialEq, Eq)]
pub struct FormatError(pub String);

impl std::fmt::Display for FormatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "source-code model: {}", self.0)
    }
}

impl std::error::Error for FormatError {}

impl Model {
    /// Parses a model file.
    pub fn parse(bytes: &[u8]) -> Result<Model, FormatError> {
        let bad = |m: &str| FormatError(m.to_string());
        let mut rest = bytes;
        let mut line = || -> Result<&str, FormatError> {
            let end = rest
                .iter()
                .position(|&b| b == b'\n')
                .ok_or_else(|| bad("truncated header"))?;
            let l = std::str::from_utf8(&rest[..end]).map_err(|_| bad("header is not UTF-8"))?;
            rest = &rest[end + 1..];
            Ok(l)
        };
        if line()? != MAGIC {
            return Err(bad("not a version 1 model (bad first line)"));
        }
        let field = |l: &str, name: &str| -> Result<String, FormatError> {
            l.strip_prefix(name)
                .and_then(|v| v.strip_prefix(' '))
                .map(str::to_string)
                .ok_or_else(|| FormatError(format!("expected `{name}`, found `{l}`")))
        };
        let buckets: usize = field(line()?, "buckets")?
            .parse()
            .map_err(|_| bad("bad bucket count"))?;
        if buckets != BUCKETS {
            return Err(FormatError(format!(
                "{buckets} buckets, this build hashes into {BUCKETS}"
            )));
        }
        let classes: Vec<String> = field(line()?, "classes")?
            .split(' ')
            .map(str::to_string)
            .collect();
        if classes.len() < 2
            || classes[0] != "prose"
            || classes
                .iter()
                .all(|c| super::NOT_CODE.contains(&c.as_str()))
        {
            return Err(bad("classes must start with `prose` and name a language"));
        }
        let scale: f32 = field(line()?, "scale")?
            .parse()
            .map_err(|_| bad("bad scale"))?;
        let th = field(line()?, "thresholds")?;
        let th: Vec<f32> = th
            .split(' ')
            .map(|t| t.parse::<f32>().map(|v| v / 1000.0))
            .collect::<Result<_, _>>()
            .map_err(|_| bad("bad thresholds"))?;
        if th.len() != 2 || scale.is_nan() || scale <= 0.0 {
            return Err(bad("bad thresholds or scale"));
        }
        if line()? != "data" {
            return Err(bad("expected `data`"));
        }
        let n = buckets * classes.len();
        if rest.len() != 2 * n {
            return Err(FormatError(format!(
                "table is {} bytes, expected {}",
                rest.len(),
                2 * n
            )));
        }
        let table = rest
            .chunks_exact(2)
            .map(|c| i16::from_le_bytes([c[0], c[1]]))
            .collect();
        Ok(Model {
            classes,
            table,
            scale,
            code_threshold: th[0],
            high_threshold: th[1],
        })
    }

    /// Mean log-likelihood per feature of `text` under each class (nats),
    /// features weighted by `ln(1 + count)`; `None` without any feature.
    pub fn scores(&self, text: &str) -> Option<Vec<f32>> {
        let mut buckets = Vec::with_capacity(text.len() / 2);
        super::features::for_each(text, |b| buckets.push(b));
        if buckets.is_empty() {
            return None;
        }
        buckets.sort_unstable();
        let k = self.classes.len();
        let mut sums = vec![0f32; k];
        let mut total = 0f32;
        for run in buckets.chunk_by(|a, b| a == b) {
            let w = (1.0 + run.len() as f32).ln();
            total += w;
            let row = &self.table[run[0] as usize * k..][..k];
            for (s, &v) in sums.iter_mut().zip(row) {
                *s += w * f32::from(v);
            }
        }
        let norm = 1.0 / (total * self.scale);
        Some(sums.into_iter().map(|s| s * norm).collect())
    }
}

/// Counts features per class and writes a model file.
#[derive(Debug)]
pub struct Trainer {
    classes: Vec<String>,
    /// Weighted counts, bucket-major.
    counts: Vec<f64>,
}

impl Trainer {
    /// A trainer for these classes (`prose` first).
    pub fn new(classes: &[&str]) -> Trainer {
        assert_eq!(classes.first(), Some(&"prose"), "class 0 must be prose");
        Trainer {
            classes: classes.iter().map(|c| c.to_string()).collect(),
            counts: vec![0.0; BUCKETS * classes.len()],
        }
    }

    /// Adds one training text of class `class` (features weighted as in
    /// [`Model::scores`]).
    pub fn add(&mut self, class: usize, text: &str) {
        let mut buckets = Vec::with_capacity(text.len() / 2);
        super::features::for_each(text, |b| buckets.push(b));
        buckets.sort_unstable();
        let k = self.classes.len();
        for run in buckets.chunk_by(|a, b| a == b) {
            self.counts[run[0] as usize * k + class] += (1.0 + run.len() as f64).ln();
        }
    }

    /// The model file, with Laplace smoothing `alpha` and thresholds in
    /// nats per feature.
    pub fn to_bytes(&self, alpha: f64, code_threshold: f32, high_threshold: f32) -> Vec<u8> {
        let k = self.classes.len();
        let scale = 1024.0f64;
        let mut totals = vec![0f64; k];
        for row in self.counts.chunks_exact(k) {
            for (t, v) in totals.iter_mut().zip(row) {
                *t += v;
            }
        }
        let mut out = format!(
            "{MAGIC}\nbuckets {BUCKETS}\nclasses {}\nscale {scale}\nthresholds {} {}\ndata\n",
            self.classes.join(" "),
            (code_threshold * 1000.0).round(),
            (high_threshold * 1000.0).round(),
        )
        .into_bytes();
        out.reserve(2 * self.counts.len());
        // Every class gets the same mass: with unequal totals, smoothing
        // would make a small class's unseen features cheaper, and any
        // unfamiliar text (a language the training prose lacks) drift to it.
        let mean = totals.iter().sum::<f64>() / k as f64;
        let norm: Vec<f64> = totals.iter().map(|t| mean / t.max(1.0)).collect();
        for row in self.counts.chunks_exact(k) {
            for (c, v) in row.iter().enumerate() {
                let lp = ((v * norm[c] + alpha) / (mean + alpha * BUCKETS as f64)).ln();
                let q = (lp * scale).round().clamp(f64::from(i16::MIN), 0.0) as i16;
                out.extend_from_slice(&q.to_le_bytes());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Vec<u8> {
        let mut t = Trainer::new(&["prose", "rust"]);
        t.add(0, "The quick brown fox jumps over the lazy dog.\n");
        t.add(1, "fn main() {\n    let x = 1;\n}\n");
        t.to_bytes(0.1, 0.0, 0.5)
    }

    #[test]
    fn trained_model_round_trips_and_separates_its_classes() {
        let m = Model::parse(&tiny()).unwrap();
        assert_eq!(m.classes, ["prose", "rust"]);
        assert_eq!(m.high_threshold, 0.5);
        let s = m.scores("fn main() {\n    let y = 2;\n}\n").unwrap();
        assert!(s[1] > s[0], "{s:?}");
        let s = m.scores("The lazy dog jumps over the fox.\n").unwrap();
        assert!(s[0] > s[1], "{s:?}");
    }

    #[test]
    fn damaged_files_are_refused() {
        let good = tiny();
        assert!(Model::parse(&good[..good.len() - 1]).is_err());
        assert!(Model::parse(b"isolator-source-code-model 2\n").is_err());
        assert!(Model::parse(b"").is_err());
        let other = String::from_utf8_lossy(&good[..60]).replace("buckets 32768", "buckets 16");
        assert!(Model::parse(other.as_bytes()).is_err());
    }
}
