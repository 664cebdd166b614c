//! The indexed checker finds exactly what the exhaustive comparison it replaced found: the
//! same names flagged, the same targets in the same order, with the same reasons. The
//! exhaustive version is kept here, as it was, as the reference.

use super::corpus::PopularCrates;
use super::index::WordTrie;
use super::rules::{MAX_CRATE_NAME_LEN, SquatHit, TyposquatChecker};
use crate::testkit::rng::Rng;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;
use typomania::checks::{Check, Omitted, Squat, SwappedWords, Typos};
use typomania::{AuthorSet, Corpus, Harness, Package};

const ALPHABET: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
const AFFIXES: &[&str] = &["api", "cargo", "cli", "core", "lib", "rs", "rust", "sys"];
const MIN_EDIT_LEN: usize = 5;

struct NoAuthors;
impl AuthorSet for NoAuthors {
    fn contains(&self, _: &str) -> bool {
        false
    }
}

struct Anonymous;
impl Package for Anonymous {
    fn authors(&self) -> &dyn AuthorSet {
        &NoAuthors
    }
    fn description(&self) -> Option<&str> {
        None
    }
    fn shared_authors(&self, _: &dyn AuthorSet) -> bool {
        false
    }
}

struct NameCorpus(HashMap<String, Anonymous>);
impl Corpus for NameCorpus {
    fn contains_name(&self, name: &str) -> typomania::Result<bool> {
        Ok(self.0.contains_key(name))
    }
    fn get(&self, name: &str) -> typomania::Result<Option<&dyn Package>> {
        Ok(self.0.get(name).map(|p| p as &dyn Package))
    }
}

struct FlippedBit;
impl Check for FlippedBit {
    fn check(
        &self,
        corpus: &dyn Corpus,
        name: &str,
        package: &dyn Package,
    ) -> typomania::Result<Vec<Squat>> {
        let mut squats = Vec::new();
        let bytes = name.as_bytes();
        for i in 0..bytes.len() {
            for bit in 0..7 {
                let mut flipped = bytes.to_vec();
                flipped[i] ^= 1 << bit;
                let Ok(candidate) = String::from_utf8(flipped) else {
                    continue;
                };
                if candidate.chars().all(|c| ALPHABET.contains(c))
                    && corpus.possible_squat(&candidate, name, package)?
                {
                    squats.push(Squat::Bitflip(candidate));
                }
            }
        }
        Ok(squats)
    }
}

fn harness(names: &[String]) -> Harness<NameCorpus> {
    Harness::builder()
        .with_check(Omitted::new(ALPHABET))
        .with_check(SwappedWords::new("-_"))
        .with_check(Typos::new(super::rules::typo_table().into_iter()))
        .with_check(FlippedBit)
        .build(NameCorpus(
            names.iter().map(|n| (n.clone(), Anonymous)).collect(),
        ))
}

fn canonical(name: &str) -> String {
    name.to_ascii_lowercase().replace('-', "_")
}

fn affix_targets(name: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for affix in AFFIXES {
        for sep in ["-", "_"] {
            if let Some(rest) = name.strip_prefix(&format!("{affix}{sep}")) {
                out.push((
                    rest.to_string(),
                    format!("adds the prefix `{affix}{sep}` to `{rest}`"),
                ));
            }
            if let Some(rest) = name.strip_suffix(&format!("{sep}{affix}")) {
                out.push((
                    rest.to_string(),
                    format!("adds the suffix `{sep}{affix}` to `{rest}`"),
                ));
            }
        }
    }
    out.retain(|(rest, _)| rest.len() >= 2);
    out
}

/// The exhaustive checker as it was before the indexes: every check against every name.
struct Exhaustive {
    popular: PopularCrates,
    popular_harness: Harness<NameCorpus>,
    canonical: HashMap<String, String>,
}

impl Exhaustive {
    fn new(popular: PopularCrates) -> Self {
        Exhaustive {
            popular_harness: harness(&popular.targets),
            canonical: popular
                .all
                .iter()
                .map(|n| (canonical(n), n.clone()))
                .collect(),
            popular,
        }
    }

    fn check(
        &self,
        new_names: &[String],
        existing: &HashSet<String>,
    ) -> Vec<(String, Vec<SquatHit>)> {
        let mut existing_list: Vec<String> = existing
            .iter()
            .filter(|n| n.len() <= MAX_CRATE_NAME_LEN)
            .cloned()
            .collect();
        existing_list.sort();
        let existing_harness = harness(&existing_list);
        let existing_canonical: HashMap<String, String> = existing_list
            .iter()
            .map(|n| (canonical(n), n.clone()))
            .collect();
        let mut out = Vec::new();
        for name in new_names.iter().filter(|n| n.len() <= MAX_CRATE_NAME_LEN) {
            let hits = self.check_one(name, &existing_list, &existing_harness, &existing_canonical);
            if !hits.is_empty() {
                out.push((name.clone(), hits));
            }
        }
        out
    }

    fn check_one(
        &self,
        name: &str,
        existing: &[String],
        existing_harness: &Harness<NameCorpus>,
        existing_canonical: &HashMap<String, String>,
    ) -> Vec<SquatHit> {
        if self.popular.all.contains(name) || existing.iter().any(|e| e == name) {
            return Vec::new();
        }
        let mut hits: Vec<SquatHit> = Vec::new();
        let mut add = |target: &str, reason: String, popular: bool| {
            if target != name && !hits.iter().any(|h| h.target == target) {
                hits.push(SquatHit {
                    target: target.to_string(),
                    reason,
                    popular,
                });
            }
        };
        let canon = canonical(name);
        for (map, popular) in [(&self.canonical, true), (existing_canonical, false)] {
            if let Some(target) = map.get(&canon) {
                add(
                    target,
                    format!("differs from `{target}` only in `-`/`_` or letter case"),
                    popular,
                );
            }
        }
        for (h, popular) in [(&self.popular_harness, true), (existing_harness, false)] {
            if let Ok(squats) = h.check_package(name, Box::new(Anonymous)) {
                for s in squats {
                    add(s.package(), format!("{s}"), popular);
                }
            }
        }
        let popular_targets: HashSet<&str> =
            self.popular.targets.iter().map(String::as_str).collect();
        for (target, reason) in affix_targets(name) {
            if popular_targets.contains(target.as_str()) {
                add(&target, reason, true);
            } else if existing.contains(&target) {
                add(&target, reason, false);
            }
        }
        if name.len() >= MIN_EDIT_LEN {
            let candidates = self
                .popular
                .targets
                .iter()
                .map(|t| (t, true))
                .chain(existing.iter().map(|t| (t, false)));
            for (target, popular) in candidates {
                if target.len() >= MIN_EDIT_LEN
                    && target.len().abs_diff(name.len()) <= 1
                    && strsim::osa_distance(name, target) == 1
                {
                    add(target, format!("is one edit from `{target}`"), popular);
                }
            }
        }
        hits
    }
}

fn both() -> &'static (TyposquatChecker, Exhaustive) {
    static C: OnceLock<(TyposquatChecker, Exhaustive)> = OnceLock::new();
    C.get_or_init(|| {
        (
            TyposquatChecker::new(PopularCrates::embedded()),
            Exhaustive::new(PopularCrates::embedded()),
        )
    })
}

/// One random mangling of `name`, of the kinds the checks look for and some they do not.
fn mangle(rng: &mut Rng, name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let alphabet: Vec<char> = ALPHABET.chars().collect();
    let at = rng.below(chars.len() + 1);
    let mut out = chars.clone();
    match rng.below(12) {
        0 => out.insert(at, *rng.pick(&alphabet)),
        1 if !chars.is_empty() => {
            out.remove(at.min(chars.len() - 1));
        }
        2 if !chars.is_empty() => out[at.min(chars.len() - 1)] = *rng.pick(&alphabet),
        3 if chars.len() >= 2 => {
            let i = at.min(chars.len() - 2);
            out.swap(i, i + 1);
        }
        4 if !chars.is_empty() => {
            let i = at.min(chars.len() - 1);
            out.insert(i, chars[i]);
        }
        5 => {
            let affix = rng.pick(AFFIXES);
            let sep = rng.pick(&["-", "_"]);
            return if rng.below(2) == 0 {
                format!("{affix}{sep}{name}")
            } else {
                format!("{name}{sep}{affix}")
            };
        }
        6 => {
            let mut words: Vec<&str> = name.split(['-', '_']).collect();
            words.rotate_left(1);
            return words.join(*rng.pick(&["-", "_"]));
        }
        7 => return format!("{name}{}", rng.below(30)),
        8 if !chars.is_empty() => {
            let i = at.min(chars.len() - 1);
            let flipped = (chars[i] as u32) ^ (1 << rng.below(7));
            out[i] = char::from_u32(flipped).unwrap_or('x');
        }
        9 => {
            return name
                .replacen('w', "vv", 1)
                .replacen('m', "rn", 1)
                .replacen('-', "_", 1);
        }
        10 => return name.to_ascii_uppercase(),
        _ => {
            // two edits
            let once = mangle(rng, name);
            return mangle(rng, &once);
        }
    }
    out.into_iter().collect()
}

/// Asserts that the checker finds exactly what the exhaustive comparison finds.
pub(crate) fn assert_same(new: &[String], existing: &HashSet<String>) {
    let (fast, slow) = both();
    let got = fast.check(new, existing);
    let want = slow.check(new, existing);
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g, w);
    }
    assert_eq!(got.len(), want.len(), "{got:?}\nvs\n{want:?}");
    assert_eq!(got, want);
}

#[test]
fn mangled_popular_names_get_exactly_the_exhaustive_findings() {
    let popular = PopularCrates::embedded();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut existing: HashSet<String> = HashSet::new();
    for _ in 0..200 {
        let base = rng.pick(&popular.targets).clone();
        existing.insert(mangle(&mut rng, &base));
        existing.insert(format!("acme-{}", rng.pick(&popular.targets)));
    }
    let existing_list: Vec<String> = existing.iter().cloned().collect();
    let mut new = Vec::new();
    for _ in 0..800 {
        let base = if rng.below(4) == 0 {
            rng.pick(&existing_list).clone()
        } else {
            rng.pick(&popular.targets).clone()
        };
        new.push(mangle(&mut rng, &base));
    }
    // Some names are flagged, some are not: both paths are exercised.
    let flagged = both().0.check(&new, &existing).len();
    assert!(flagged > 100 && flagged < new.len(), "{flagged}");
    assert_same(&new, &existing);
    assert_same(&new, &HashSet::new());
}

#[test]
fn random_and_multi_word_names_get_exactly_the_exhaustive_findings() {
    let mut rng = Rng(42);
    let letters: Vec<char> = "abcdefghijklmnopqrstuvwxyz0123456789-_".chars().collect();
    let words = [
        "core", "sys", "rs", "a", "b", "serde", "json", "tokio", "util", "",
    ];
    let mut new = Vec::new();
    for _ in 0..200 {
        let len = 1 + rng.below(14);
        new.push((0..len).map(|_| *rng.pick(&letters)).collect::<String>());
        let n = 2 + rng.below(6);
        let parts: Vec<&str> = (0..n).map(|_| *rng.pick(&words)).collect();
        new.push(parts.join(*rng.pick(&["-", "_"])));
    }
    new.push("é-serde".to_owned());
    new.push("sërde".to_owned());
    new.push(String::new());
    let existing: HashSet<String> = [
        "a-b-core",
        "core-a-b",
        "b_a",
        "a-a",
        "serde-json-util",
        "json-a",
        "tokio-util-a-b-sys",
        "sys-a",
        "ab",
        "-a",
        "a--b",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_same(&new, &existing);
}

/// The word trie finds the names typomania's `SwappedWords` finds, in its order (the first
/// time it finds each), on names with repeated and empty words.
#[test]
fn word_trie_matches_typomania_swapped_words() {
    let corpus_names: Vec<String> = [
        "a-b",
        "b-a",
        "a_b",
        "b_a",
        "a-a",
        "a-b-c",
        "c-b-a",
        "b_c_a",
        "a-b-c-d-e",
        "e-d-c-b-a",
        "a--b",
        "-a-b",
        "b-a-",
        "x-y",
        "a-b_c",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let corpus = NameCorpus(
        corpus_names
            .iter()
            .map(|n| (n.clone(), Anonymous))
            .collect(),
    );
    let trie = WordTrie::new(&corpus_names);
    let check = SwappedWords::new("-_");
    for name in [
        "a-b",
        "b_a",
        "a-a",
        "a-a-a",
        "c-a-b",
        "a_b_c",
        "a-b-c-d-e-f",
        "f-e-d-c-b-a",
        "a-a-b-b",
        "a--b",
        "b--a",
        "-b-a",
        "a-b-",
        "y-x",
        "a",
        "",
        "b-a-a-a-a-a-a-a",
    ] {
        let want: Vec<String> = check
            .check(&corpus, name, &Anonymous)
            .unwrap_or_default()
            .iter()
            .map(|s| s.package().to_owned())
            .fold(Vec::new(), |mut seen, n| {
                if !seen.contains(&n) {
                    seen.push(n);
                }
                seen
            });
        let mut got = Vec::new();
        trie.swapped(name, &corpus_names, &mut got);
        let got: Vec<String> = got.iter().map(|s| s.package().to_owned()).collect();
        assert_eq!(got, want, "{name}");
    }
}

/// A 64-character name of 32 one-letter words: typomania tries 24 million orderings; the
/// trie only those that begin a name.
#[test]
fn many_words_are_cheap() {
    let name = (0..32)
        .map(|i| ((b'a' + (i % 26) as u8) as char).to_string())
        .collect::<Vec<_>>()
        .join("-");
    assert_eq!(name.len(), 63);
    let existing: HashSet<String> = ["a-b-c-d-e", "e-d-c-b-a", "a-a-a-a-a", "z-y-x-w-v"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let start = std::time::Instant::now();
    let got = both().0.check(std::slice::from_ref(&name), &existing);
    assert!(start.elapsed().as_secs() < 5, "{:?}", start.elapsed());
    let targets: Vec<&str> = got[0].1.iter().map(|h| h.target.as_str()).collect();
    assert_eq!(targets, ["a-b-c-d-e", "e-d-c-b-a", "z-y-x-w-v"], "{got:?}");
}
