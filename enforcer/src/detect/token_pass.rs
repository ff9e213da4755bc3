//! The token pass of a scan: number-like candidates, checked only by the
//! detectors that could take them.
//!
//! [`token::for_each_chain`] finds chains of grouped words around digits;
//! every contiguous sub-range of a chain (bounded in words and length) is a
//! candidate. Dense data (CSV exports, logs, numeric tables) has a chain
//! every 15 bytes or so, and nearly none of their candidates is sensitive, so
//! the pass is built to reject candidates before building them:
//!
//! - a [`TokenTable`] holds, for every (compact length, word count) slot and
//!   for every character [`Class`], the set of token detectors whose
//!   [`Shape`] admits it, as a bit set; a candidate's class follows from its
//!   chain's [`ChainFacts`] in constant time, so its detector set is two
//!   table lookups and an AND;
//! - detectors that need a context word to report anything
//!   ([`CONTEXT_ONLY`](super::predefined::CONTEXT_ONLY)) are dropped for a whole chain when none
//!   of their words is near it (asked at most once per chain and detector,
//!   and only when some candidate could go to them);
//! - only candidates left with a detector are built ([`Cand::fill_known`]), longest
//!   first, and a candidate a detector accepts claims its span, as before.
//!
//! Findings are exactly those of checking every candidate with every
//! detector: each rejection above is one the detector's own function would
//! make. Tests check the shapes and classes against the functions
//! (`predefined`), the classes read off chains against built candidates
//! (`token`), and whole scans against an unfiltered table (`engine`).

use super::context::ContextScan;
use super::predefined::{Score, Shape};
use super::token::{self, Cand, ChainFacts, Class};
use super::types::Confidence;

/// A token detector's check: shape and checksum of one candidate.
pub(super) type TokenCheck = fn(&Cand<'_>) -> Option<Score>;

/// A finding before mapping: detector index and normalised span.
#[derive(Clone, Copy, Debug)]
pub(super) struct Raw {
    pub det: usize,
    pub start: usize,
    pub end: usize,
    pub confidence: Confidence,
    /// Whether a context word (or the detector's keyword) raised the confidence.
    pub ctx: bool,
}

/// The token detectors of an engine, indexed by what they can take.
#[derive(Debug)]
pub(super) struct TokenTable {
    /// Bit `k` of every set below stands for `checks[k]`: (engine
    /// detector index, check).
    checks: Vec<(usize, TokenCheck)>,
    /// For each (compact length, word count) [`slot`]: the detectors
    /// admitting it, and those admitting some slot reachable from it by
    /// adding words (neither can shrink).
    slots: Vec<(Set, Set)>,
    /// For each [`Class`]: the detectors admitting it, and those admitting
    /// some class reachable from it by adding words (letters, lower case
    /// and separators can only appear; the `+` and the first letter are
    /// fixed; a second letter may appear).
    classes: Vec<(Set, Set)>,
    /// For each slot: the detectors admitting it or a smaller one (fewer
    /// alphanumerics or words): what some candidate of a chain that size may meet.
    slot_within: Vec<Set>,
    /// For each class: the detectors admitting one of its subsets (a
    /// candidate's bits are a subset of its chain's [`ChainFacts::any`]).
    class_within: Vec<Set>,
    /// Detectors that report nothing without a context word near.
    ctx_only: Set,
    /// Their engine detector indexes, in bit order (what
    /// [`ContextScan::dets_near`] is asked about).
    ctx_dets: Vec<usize>,
}

/// Index of a candidate's (compact length, word count, leading `+`) in a slot table.
fn slot(len: usize, words: usize, plus: bool) -> usize {
    (len.min(token::MAX_COMPACT) * (token::MAX_WORDS + 1) + words.min(token::MAX_WORDS)) * 2
        + usize::from(plus)
}

/// A set of token detectors: bit `k` for [`TokenTable`]'s `checks[k]`.
pub(super) type Set = u64;

/// Iterates the set bits of `m`, lowest first.
fn bits(mut m: Set) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        (m != 0).then(|| {
            let k = m.trailing_zeros() as usize;
            m &= m - 1;
            k
        })
    })
}

impl TokenTable {
    /// Indexes `dets`: (engine detector index, check, shape, whether it
    /// needs context), in engine order. At most 64 (a [`Set`] is 64 bits;
    /// the predefined set has 62).
    pub(super) fn new(dets: &[(usize, TokenCheck, Shape, bool)]) -> TokenTable {
        assert!(dets.len() <= 64, "{} token detectors", dets.len());
        let mut by_slot: Vec<Set> = vec![0; (token::MAX_COMPACT + 1) * (token::MAX_WORDS + 1) * 2];
        let mut by_class: Vec<Set> = vec![0; Class::COUNT];
        let mut ctx_only = 0;
        for (k, (_, _, shape, needs_context)) in dets.iter().enumerate() {
            for len in 0..=token::MAX_COMPACT {
                for words in 0..=token::MAX_WORDS {
                    for plus in [false, true] {
                        if shape.admits(len, words, plus) {
                            by_slot[slot(len, words, plus)] |= 1 << k;
                        }
                    }
                }
            }
            for (c, set) in by_class.iter_mut().enumerate() {
                if shape.admits_class(Class(c as u16)) {
                    *set |= 1 << k;
                }
            }
            if *needs_context {
                ctx_only |= 1 << k;
            }
        }
        let mut slot_reach = by_slot.clone();
        for plus in [false, true] {
            for len in (0..=token::MAX_COMPACT).rev() {
                for words in (0..=token::MAX_WORDS).rev() {
                    let mut m = by_slot[slot(len, words, plus)];
                    if len < token::MAX_COMPACT {
                        m |= slot_reach[slot(len + 1, words, plus)];
                    }
                    if words < token::MAX_WORDS {
                        m |= slot_reach[slot(len, words + 1, plus)];
                    }
                    slot_reach[slot(len, words, plus)] = m;
                }
            }
        }
        // Supersets (sum over supersets, bit by bit): what a class may grow
        // into by adding words; the `+` and first-letter bits are fixed.
        let fixed = usize::from(Class::PLUS | Class::LETTER_FIRST);
        let mut class_reach = by_class.clone();
        for b in (0..Class::BITS)
            .map(|b| 1usize << b)
            .filter(|b| b & fixed == 0)
        {
            for c in (0..Class::COUNT).filter(|c| c & b == 0) {
                class_reach[c] |= class_reach[c | b];
            }
        }
        let mut slot_within = by_slot.clone();
        for len in 0..=token::MAX_COMPACT {
            for words in 0..=token::MAX_WORDS {
                for plus in [false, true] {
                    let mut m = by_slot[slot(len, words, plus)] | by_slot[slot(len, words, !plus)];
                    if len > 0 {
                        m |= slot_within[slot(len - 1, words, plus)];
                    }
                    if words > 0 {
                        m |= slot_within[slot(len, words - 1, plus)];
                    }
                    slot_within[slot(len, words, plus)] = m;
                }
            }
        }
        // Subsets (sum over subsets): what a candidate of the chain may meet.
        let mut class_within = by_class.clone();
        for b in (0..Class::BITS).map(|b| 1usize << b) {
            for c in (0..Class::COUNT).filter(|c| c & b != 0) {
                class_within[c] |= class_within[c ^ b];
            }
        }
        TokenTable {
            checks: dets.iter().map(|&(d, f, _, _)| (d, f)).collect(),
            slot_within,
            class_within,
            slots: by_slot.into_iter().zip(slot_reach).collect(),
            classes: by_class.iter().copied().zip(class_reach).collect(),
            ctx_only,
            ctx_dets: bits(ctx_only).map(|k| dets[k].0).collect(),
        }
    }

    /// The same detectors without any filter: every candidate meets every
    /// detector (the reference the filtered table is tested against).
    #[cfg(test)]
    pub(super) fn unfiltered(&self) -> TokenTable {
        TokenTable {
            checks: self.checks.clone(),
            slots: vec![(Set::MAX, Set::MAX); self.slots.len()],
            classes: vec![(Set::MAX, Set::MAX); Class::COUNT],
            slot_within: vec![Set::MAX; self.slot_within.len()],
            class_within: vec![Set::MAX; Class::COUNT],
            ctx_only: 0,
            ctx_dets: Vec::new(),
        }
    }

    /// The context-only detectors (as a [`Set`]) one of whose context
    /// words may be near some candidate of the chain `words`: every
    /// occurrence `near` accepts for a candidate `[s, e)` inside the chain
    /// starts at or after `chain start - window` and ends by `chain end +
    /// window`, and `near` at the point `x = chain start - window` with a
    /// window reaching `chain end + window` accepts every such occurrence
    /// (it may accept more: this only has to be a superset).
    fn chain_context(
        &self,
        context: &ContextScan<'_>,
        t: &str,
        words: &[(usize, usize)],
        window: usize,
    ) -> Set {
        let start = token::cand_start(t, words, 0);
        let end = words[words.len() - 1].1;
        let x = start.saturating_sub(window);
        let near = context.dets_near(x, x, end + window - x, &self.ctx_dets);
        bits(self.ctx_only)
            .enumerate()
            .filter(|&(n, _)| near & (1 << n) != 0)
            .fold(0, |m, (_, k)| m | 1 << k)
    }

    /// The bit set of the token detectors `on` selects.
    pub(super) fn selected(&self, on: impl Fn(usize) -> bool) -> Set {
        self.checks
            .iter()
            .enumerate()
            .filter(|(_, (d, _))| on(*d))
            .fold(0, |m, (k, _)| m | 1 << k)
    }

    /// Runs the token pass over `t` with the detectors in `selected`,
    /// pushing findings to `raws`. `resolve` turns a detector's score at a
    /// span into a confidence (or nothing, when it needs context that is
    /// not there); `context` (the words of the context-only detectors at
    /// least) and `window` answer whether one of those detectors' context
    /// words is near a chain.
    pub(super) fn run(
        &self,
        t: &str,
        selected: Set,
        context: &ContextScan<'_>,
        window: usize,
        resolve: &impl Fn(usize, Score, usize, usize) -> Option<(Confidence, bool)>,
        raws: &mut Vec<Raw>,
    ) {
        if selected == 0 {
            return;
        }
        // Candidates of a chain that some detector may take: (compact
        // length, span length, start, first word, last word, detectors,
        // whether it holds a letter).
        let mut order: Vec<(usize, usize, usize, usize, usize, Set, bool)> = Vec::new();
        let mut claimed: Vec<(usize, usize)> = Vec::new();
        let mut c = Cand::empty(t);
        let mut facts = ChainFacts::default();
        token::for_each_chain(t, 0, t.len(), |words, flags| {
            if let ([(s, e)], [f]) = (words, flags) {
                // A lone word (most chains of dense data): one lookup.
                let len = e - s;
                if f & token::WORD_DIGIT == 0 || len > token::MAX_COMPACT {
                    return;
                }
                let start = token::cand_start(t, words, 0);
                let class = token::word_class(t, *s, *e, start, token::flag_bits(*f));
                let plus = class.has(Class::PLUS);
                if self.slots[slot(len, 1, plus)].0
                    & self.classes[usize::from(class.0)].0
                    & selected
                    == 0
                {
                    return;
                }
            }
            facts.reset(t, words, flags);
            // The whole chain: can any candidate of it meet a detector?
            let within = self.slot_within[slot(facts.total(), words.len(), false)]
                & self.class_within[usize::from(facts.any().0)]
                & selected;
            if within == 0 {
                return;
            }
            order.clear();
            claimed.clear();
            // Context-only detectors are asked about once per chain, all
            // at once, when a candidate could go to one: is one of their
            // words near any candidate of it? (A superset of `near` for each
            // candidate: see `chain_context`.) Not asked before a candidate
            // needs it: on prose that would scan context words everywhere.
            let mut ctx_live: Option<Set> = None;
            for i in 0..words.len() {
                let start = token::cand_start(t, words, i);
                let mut compact = 0;
                let mut class = facts.first(t, words, i, start);
                for j in i..words.len().min(i + token::MAX_WORDS) {
                    compact += words[j].1 - words[j].0;
                    if compact > token::MAX_COMPACT {
                        break;
                    }
                    if j > i {
                        class = facts.extend(class, t, words, i, j);
                    }
                    let plus = class.0.has(Class::PLUS);
                    let (slot_admit, slot_reach) = self.slots[slot(compact, j - i + 1, plus)];
                    let (class_admit, class_reach) = self.classes[usize::from(class.0 .0)];
                    if slot_reach & class_reach & selected == 0 {
                        // No longer candidate from word i can meet a detector.
                        break;
                    }
                    let m = slot_admit & class_admit & selected;
                    if m == 0 || !class.1 {
                        continue;
                    }
                    let m = if m & self.ctx_only == 0 {
                        m
                    } else {
                        let live = *ctx_live
                            .get_or_insert_with(|| self.chain_context(context, t, words, window));
                        m & (!self.ctx_only | live)
                    };
                    if m != 0 {
                        let letters = class.0.has(Class::LETTERS);
                        order.push((compact, words[j].1 - start, start, i, j, m, letters));
                    }
                }
            }
            order.sort_unstable_by(|a, b| (b.0, b.1).cmp(&(a.0, a.1)).then(a.2.cmp(&b.2)));
            for &(_, len, start, i, j, m, letters) in &order {
                let end = start + len;
                if claimed
                    .iter()
                    .any(|&(s, e)| s < end && start < e && (s, e) != (start, end))
                {
                    continue;
                }
                if !c.fill_known(t, words, i, j, letters) {
                    continue;
                }
                let mut hit = false;
                // Whether it is a piece of a longer number: only asked
                // once a detector accepts it (most candidates fail).
                let mut embedded: Option<bool> = None;
                for k in bits(m) {
                    let (d, f) = self.checks[k];
                    let Some(score) = f(&c) else { continue };
                    let Some((conf, ctx)) = resolve(d, score, c.start, c.end) else {
                        continue;
                    };
                    let piece = *embedded.get_or_insert_with(|| token::embedded(t, words, i, j));
                    raws.push(Raw {
                        det: d,
                        start: c.start,
                        end: c.end,
                        confidence: if piece { Confidence::Low } else { conf },
                        ctx,
                    });
                    hit = true;
                }
                if hit && embedded == Some(false) {
                    claimed.push((c.start, c.end));
                }
            }
        });
    }
}
