//! The checks themselves.

use super::corpus::PopularCrates;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use typomania::checks::{Check, Omitted, Squat, SwappedWords, Typos};
use typomania::{AuthorSet, Corpus, Harness, Package};

/// Characters allowed in crate names.
const ALPHABET: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
/// crates.io's affixes.
const AFFIXES: &[&str] = &["api", "cargo", "cli", "core", "lib", "rs", "rust", "sys"];
/// Names shorter than this are not compared by plain edit distance (too many near neighbours).
const MIN_EDIT_LEN: usize = 5;

/// The longest name crates.io accepts. A lock file may name anything; a longer name is no
/// crates.io crate (the engine reports it as `unreviewable`) and is never compared.
pub const MAX_CRATE_NAME_LEN: usize = 64;

/// One suspected target of a new name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SquatHit {
    /// The crate the new name may imitate.
    pub target: String,
    /// How the names relate, e.g. "one edit from `proc-macro2`".
    pub reason: String,
    /// Whether the target is a popular crate (else a crate already in the lock file).
    pub popular: bool,
}

struct NoAuthors;
impl AuthorSet for NoAuthors {
    fn contains(&self, _: &str) -> bool {
        false
    }
}

/// Without owner data every corpus entry is a possible target (crates.io also drops hits
/// that share an owner; a lock file does not say who owns what).
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

fn harness(names: &[String]) -> Harness<NameCorpus> {
    let typos = typo_table();
    Harness::builder()
        .with_check(Omitted::new(ALPHABET))
        .with_check(SwappedWords::new("-_"))
        .with_check(Typos::new(typos.into_iter()))
        .with_check(FlippedBit)
        .build(NameCorpus(
            names.iter().map(|n| (n.clone(), Anonymous)).collect(),
        ))
}

/// typomania's `Bitflips` precomputes every one-bit flip of every corpus name (about 0.7 s
/// for 3,000 names in a debug build). A bit flip is its own inverse, so flipping the new
/// name's characters and looking the results up finds the same targets with ~100 lookups.
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

/// Keyboard neighbours and look-alikes (after crates.io's table, in our own words).
fn typo_table() -> Vec<(char, Vec<String>)> {
    let rows: &[(char, &str)] = &[
        ('1', "2 q i l"),
        ('2', "1 3 q w z"),
        ('3', "2 4 w e"),
        ('4', "3 5 e r"),
        ('5', "4 6 r t"),
        ('6', "5 7 t y"),
        ('7', "6 8 y u"),
        ('8', "7 9 u i"),
        ('9', "8 0 i o"),
        ('0', "9 o p"),
        ('q', "1 2 w a"),
        ('w', "2 3 e s a q vv"),
        ('e', "3 4 r d s w"),
        ('r', "4 5 t f d e"),
        ('t', "5 6 y g f r"),
        ('y', "6 7 u h g t z"),
        ('u', "7 8 i j h y v"),
        ('i', "8 9 o k j u 1 l"),
        ('o', "9 0 p l k i"),
        ('p', "0 o l"),
        ('a', "q w s z"),
        ('s', "w e d x z a 5"),
        ('d', "e r f c x s"),
        ('f', "r t g v c d"),
        ('g', "t y h b v f q"),
        ('h', "y u j n b g"),
        ('j', "u i k m n h"),
        ('k', "i o l m j"),
        ('l', "o p k i 1"),
        ('z', "a s x y"),
        ('x', "z s d c"),
        ('c', "x d f v"),
        ('v', "c f g b u"),
        ('b', "v g h n"),
        ('n', "b h j m"),
        ('m', "n j k rn"),
    ];
    let mut table: Vec<(char, Vec<String>)> = rows
        .iter()
        .map(|(c, subs)| (*c, subs.split(' ').map(String::from).collect()))
        .collect();
    table.push(('-', vec!["_".into(), String::new()]));
    table.push(('_', vec!["-".into(), String::new()]));
    table
}

/// Checks new crate names; build once per process (the popular side) and reuse.
pub struct TyposquatChecker {
    popular: PopularCrates,
    popular_harness: Harness<NameCorpus>,
    canonical: HashMap<String, String>,
}

impl std::fmt::Debug for TyposquatChecker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TyposquatChecker")
            .field("popular", &self.popular.all.len())
            .finish()
    }
}

fn canonical(name: &str) -> String {
    name.to_ascii_lowercase().replace('-', "_")
}

impl TyposquatChecker {
    pub fn new(popular: PopularCrates) -> Self {
        let popular_harness = harness(&popular.targets);
        let canonical = popular
            .all
            .iter()
            .map(|n| (canonical(n), n.clone()))
            .collect();
        TyposquatChecker {
            popular,
            popular_harness,
            canonical,
        }
    }

    /// Suspected targets of each new name. `existing` are the names of the base lock file.
    /// Names over `MAX_CRATE_NAME_LEN` are skipped on both sides.
    pub fn check(
        &self,
        new_names: &[String],
        existing: &HashSet<String>,
    ) -> Vec<(String, Vec<SquatHit>)> {
        // Longer names are not crates.io names (the engine reports them): never compared, so
        // a hostile name cannot make the distance computations quadratic in its length.
        let existing_list: Vec<String> = {
            let mut v: Vec<String> = existing
                .iter()
                .filter(|n| n.len() <= MAX_CRATE_NAME_LEN)
                .cloned()
                .collect();
            v.sort();
            v
        };
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

/// Names the new name would be if an affix were removed (`rust-foo` -> `foo`).
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    fn checker() -> &'static TyposquatChecker {
        static C: OnceLock<TyposquatChecker> = OnceLock::new();
        C.get_or_init(|| TyposquatChecker::new(PopularCrates::embedded()))
    }

    fn targets(name: &str, existing: &[&str]) -> Vec<String> {
        let existing: HashSet<String> = existing.iter().map(|s| s.to_string()).collect();
        checker()
            .check(&[name.to_string()], &existing)
            .into_iter()
            .flat_map(|(_, hits)| hits.into_iter().map(|h| h.target))
            .collect()
    }

    #[test]
    fn catches_the_arrayref_attack_name() {
        assert!(targets("proc-macro1", &[]).contains(&"proc-macro2".to_string()));
    }

    #[test]
    fn catches_each_kind_of_mangling() {
        let cases = [
            ("serde-json", "serde_json"), // separator swap
            ("Serde_Json", "serde_json"), // case
            ("serdde", "serde"),          // repeated
            ("sedre", "serde"),           // swapped
            ("tokio2", "tokio"),          // version suffix
            ("reqest", "reqwest"),        // omitted
            ("rust-tokio", "tokio"),      // prefix
            ("tokio-rs", "tokio"),        // suffix
            ("json-serde", "serde_json"), // swapped words
            ("rayonx", "rayon"),          // inserted character (single edit)
            ("hypar", "hyper"),           // substitution (single edit)
        ];
        for (name, target) in cases {
            let got = targets(name, &[]);
            assert!(got.contains(&target.to_string()), "{name}: {got:?}");
        }
    }

    #[test]
    fn finds_bit_flips() {
        // 'e' (0x65) ^ 0x04 = 'a' (0x61)
        assert!(targets("sarde", &[]).contains(&"serde".to_string()));
    }

    #[test]
    fn compares_against_the_base_lock_too() {
        let got = targets("mycompany-auth2", &["mycompany-auth"]);
        assert_eq!(got, vec!["mycompany-auth".to_string()]);
    }

    #[test]
    fn popular_and_existing_crates_are_never_flagged() {
        for name in [
            "serde_json",
            "rand_core",
            "tokio-util",
            "proc-macro2",
            "syn",
            "serde",
            "windows-sys",
            "openssl-sys",
            "futures-core",
        ] {
            assert!(
                targets(name, &["tokio", "rand", "serde"]).is_empty(),
                "{name}"
            );
        }
        assert!(targets("mycompany-auth", &["mycompany-auth"]).is_empty());
    }

    #[test]
    fn ordinary_new_names_are_not_flagged() {
        for name in ["lockwatch", "my-internal-tool", "quux-frobnicator"] {
            assert!(
                targets(name, &[]).is_empty(),
                "{name}: {:?}",
                targets(name, &[])
            );
        }
    }
}
