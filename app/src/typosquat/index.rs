//! Indexes over the names a new crate name is compared with, so that each new name is compared
//! only with the few names that can be near it, not with every name (issue 14: a lock file of
//! 78,537 new crates took two minutes, nearly all of it comparing each new name with each of
//! the 3,000 popular names).
//!
//! * [`DeletionIndex`]: every name under its *deletion variants* (the name itself and the name
//!   with any one character removed), hashed. Two names within one edit of each other (one
//!   character inserted, removed or replaced, or two adjacent characters swapped) share a
//!   variant: remove the inserted, replaced or one of the swapped characters on both sides.
//!   So the names sharing a variant with a new name include every name within one edit, and
//!   the distance is computed only for those. A hash collision only adds a candidate.
//! * [`WordTrie`]: names split into words at `-` and at `_`, for the swapped-words check.
//!   typomania tries every ordering of up to five of the new name's words (24 million for a
//!   64-character name of 32 one-letter words); the trie walks only the orderings that begin
//!   some name, and each repeated word once per position.

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::Hasher;
use typomania::checks::Squat;

/// The hashed deletion variants of `name` (itself, and without each one of its characters),
/// sorted and without repeats, into `out`.
pub(super) fn deletion_variants(name: &str, out: &mut Vec<u64>) {
    out.clear();
    out.push(hash(name.as_bytes()));
    let bytes = name.as_bytes();
    let mut buf = Vec::with_capacity(bytes.len());
    for (i, c) in name.char_indices() {
        buf.clear();
        buf.extend_from_slice(&bytes[..i]);
        buf.extend_from_slice(&bytes[i + c.len_utf8()..]);
        out.push(hash(&buf));
    }
    out.sort_unstable();
    out.dedup();
}

/// A fixed-key SipHash: the same bytes always give the same value; names chosen by an
/// attacker cannot be made to collide with chosen names in practice.
fn hash(bytes: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    h.write(bytes);
    h.finish()
}

/// Names (by their position in a list) under each of their deletion variants.
pub(super) struct DeletionIndex {
    /// (variant hash, position of the name), sorted.
    entries: Vec<(u64, u32)>,
}

impl DeletionIndex {
    pub(super) fn new(names: &[String]) -> Self {
        let mut entries = Vec::new();
        let mut variants = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let Ok(i) = u32::try_from(i) else { break };
            deletion_variants(name, &mut variants);
            entries.extend(variants.iter().map(|&v| (v, i)));
        }
        entries.sort_unstable();
        DeletionIndex { entries }
    }

    fn matching(&self, variant: u64) -> &[(u64, u32)] {
        let start = self.entries.partition_point(|&(v, _)| v < variant);
        let end = start + self.entries[start..].partition_point(|&(v, _)| v == variant);
        &self.entries[start..end]
    }

    /// Whether any name shares one of `variants` (from [`deletion_variants`]).
    pub(super) fn any(&self, variants: &[u64]) -> bool {
        variants.iter().any(|&v| !self.matching(v).is_empty())
    }

    /// The positions of the names sharing one of `variants`, ascending, into `out`: a
    /// superset of the names within one edit of the name the variants are of.
    pub(super) fn candidates(&self, variants: &[u64], out: &mut Vec<u32>) {
        out.clear();
        for &v in variants {
            out.extend(self.matching(v).iter().map(|&(_, i)| i));
        }
        out.sort_unstable();
        out.dedup();
    }
}

/// typomania's word delimiters, in its order.
const DELIMITERS: [char; 2] = ['-', '_'];
/// typomania's `SwappedWords` orders at most this many words.
const MAX_WORDS: usize = 5;

#[derive(Default)]
struct Node {
    children: HashMap<Box<str>, u32>,
    /// The position of the name whose words end here.
    name: Option<u32>,
}

/// One trie of words per delimiter.
pub(super) struct WordTrie {
    tries: [Vec<Node>; 2],
}

impl WordTrie {
    pub(super) fn new(names: &[String]) -> Self {
        let mut tries: [Vec<Node>; 2] = [vec![Node::default()], vec![Node::default()]];
        for (i, name) in names.iter().enumerate() {
            let Ok(i) = u32::try_from(i) else { break };
            for (trie, delimiter) in tries.iter_mut().zip(DELIMITERS) {
                // A one-word name is never an ordering of two or more words.
                if !name.contains(delimiter) {
                    continue;
                }
                let mut at = 0usize;
                for word in name.split(delimiter) {
                    let next = trie.len();
                    let child = *trie[at].children.entry(word.into()).or_insert(next as u32);
                    if child as usize == next {
                        trie.push(Node::default());
                    }
                    at = child as usize;
                }
                trie[at].name = Some(i);
            }
        }
        WordTrie { tries }
    }

    /// What typomania's `SwappedWords::new("-_")` finds for `name` against `names` (the list
    /// this trie was built from): the names made of `k` of `name`'s words (`k` = the number of
    /// words, at most five) in any order, joined by one delimiter, other than `name` itself.
    /// In typomania's order (orderings of word positions lexicographically, `-` before `_`),
    /// each name once (typomania repeats a name once per ordering of equal words).
    pub(super) fn swapped(&self, name: &str, names: &[String], out: &mut Vec<Squat>) {
        let words: Vec<&str> = name.split(DELIMITERS).collect();
        if words.len() < 2 {
            return;
        }
        let k = words.len().min(MAX_WORDS);
        let mut used = vec![false; words.len()];
        let start = [Some(0), Some(0)];
        let mut seen = Vec::new();
        self.walk(&words, &mut used, k, start, &mut |i| {
            let found = &names[i as usize];
            if found != name && !seen.contains(&i) {
                seen.push(i);
                out.push(Squat::SwappedWords(found.clone()));
            }
        });
    }

    fn walk(
        &self,
        words: &[&str],
        used: &mut [bool],
        left: usize,
        at: [Option<u32>; 2],
        emit: &mut dyn FnMut(u32),
    ) {
        if left == 0 {
            for (trie, node) in self.tries.iter().zip(at) {
                if let Some(i) = node.and_then(|n| trie[n as usize].name) {
                    emit(i);
                }
            }
            return;
        }
        // A word equal to one tried before at this position leads to the same names (the
        // remaining words are the same), all of them already found.
        let mut tried: Vec<&str> = Vec::new();
        for (w, word) in words.iter().enumerate() {
            if used[w] || tried.contains(word) {
                continue;
            }
            tried.push(word);
            let next = [0, 1].map(|t| {
                at[t].and_then(|n| self.tries[t][n as usize].children.get(*word).copied())
            });
            if next.iter().all(Option::is_none) {
                continue;
            }
            used[w] = true;
            self.walk(words, used, left - 1, next, emit);
            used[w] = false;
        }
    }
}
