//! The checks themselves.

use super::corpus::PopularCrates;
use super::index::{DeletionIndex, WordTrie, deletion_variants};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use typomania::checks::{Check, Omitted, Repeated, Squat, SwappedCharacters, Typos, Version};
use typomania::{AuthorSet, Corpus, Package};

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
pub(super) fn typo_table() -> Vec<(char, Vec<String>)> {
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

/// One side of the comparison (the popular targets, or the crates of the base lock file),
/// indexed so that a new name is compared only with the names that can be near it.
struct Side {
    /// In the order their hits are reported: popular names by rank, base-lock names sorted.
    names: Vec<String>,
    corpus: NameCorpus,
    deletions: DeletionIndex,
    words: WordTrie,
}

impl Side {
    fn new(names: Vec<String>) -> Self {
        Side {
            corpus: NameCorpus(names.iter().map(|n| (n.clone(), Anonymous)).collect()),
            deletions: DeletionIndex::new(&names),
            words: WordTrie::new(&names),
            names,
        }
    }

    fn contains(&self, name: &str) -> bool {
        self.corpus.0.contains_key(name)
    }
}

/// One of crates.io's checks, in the order its harness runs them.
enum Step {
    /// A check that only finds names within two edits of the new name (a repeated, swapped,
    /// omitted or mistyped character, a flipped bit): skipped when no name of the side can be
    /// that near (see [`TyposquatChecker::may_be_near`]).
    Near(Box<dyn Check>),
    /// A check that may find names further away (a version suffix removed).
    Far(Box<dyn Check>),
    /// The swapped-words check, through the side's [`WordTrie`].
    SwappedWords,
}

/// The steps of typomania's `Harness::builder()` (repeated, swapped characters, version)
/// followed by ours (omitted, swapped words, typos, bit flips), in that order.
fn steps() -> Vec<Step> {
    vec![
        Step::Near(Box::new(Repeated)),
        Step::Near(Box::new(SwappedCharacters)),
        Step::Far(Box::new(Version)),
        Step::Near(Box::new(Omitted::new(ALPHABET))),
        Step::SwappedWords,
        Step::Near(Box::new(Typos::new(typo_table().into_iter()))),
        Step::Near(Box::new(FlippedBit)),
    ]
}

/// Checks new crate names; build once per process (the popular side) and reuse.
pub struct TyposquatChecker {
    popular: PopularCrates,
    popular_side: Side,
    canonical: HashMap<String, String>,
    steps: Vec<Step>,
    /// Typos that replace one character by two (`w` -> `vv`, `m` -> `rn`): the only near
    /// findings two edits away, looked up directly.
    long_typos: Vec<(char, String)>,
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
        let popular_side = Side::new(popular.targets.clone());
        let canonical = popular
            .all
            .iter()
            .map(|n| (canonical(n), n.clone()))
            .collect();
        let long_typos = typo_table()
            .into_iter()
            .flat_map(|(c, subs)| subs.into_iter().map(move |s| (c, s)))
            .filter(|(_, s)| s.chars().count() > 1)
            .collect();
        TyposquatChecker {
            popular,
            popular_side,
            canonical,
            steps: steps(),
            long_typos,
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
        let existing_canonical: HashMap<String, String> = existing_list
            .iter()
            .map(|n| (canonical(n), n.clone()))
            .collect();
        let existing_side = Side::new(existing_list);
        let mut scratch = Scratch::default();
        let mut out = Vec::new();
        for name in new_names.iter().filter(|n| n.len() <= MAX_CRATE_NAME_LEN) {
            let hits = self.check_one(
                name,
                existing,
                &existing_side,
                &existing_canonical,
                &mut scratch,
            );
            if !hits.is_empty() {
                out.push((name.clone(), hits));
            }
        }
        out
    }

    fn check_one(
        &self,
        name: &str,
        existing: &HashSet<String>,
        existing_side: &Side,
        existing_canonical: &HashMap<String, String>,
        scratch: &mut Scratch,
    ) -> Vec<SquatHit> {
        if self.popular.all.contains(name) || existing.contains(name) {
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
        deletion_variants(name, &mut scratch.variants);
        let sides = [(&self.popular_side, true), (existing_side, false)];
        for (side, popular) in sides {
            for s in self.squats(side, name, &scratch.variants) {
                add(s.package(), format!("{s}"), popular);
            }
        }
        for (target, reason) in affix_targets(name) {
            if self.popular_side.contains(&target) {
                add(&target, reason, true);
            } else if existing.contains(&target) {
                add(&target, reason, false);
            }
        }
        if name.len() >= MIN_EDIT_LEN {
            // Every name within one edit shares a deletion variant with `name`; the others
            // are never compared. Candidates come in list order, as an exhaustive walk would
            // find them.
            for (side, popular) in sides {
                side.deletions
                    .candidates(&scratch.variants, &mut scratch.candidates);
                for &i in &scratch.candidates {
                    let target = &side.names[i as usize];
                    if target.len() >= MIN_EDIT_LEN
                        && target.len().abs_diff(name.len()) <= 1
                        && strsim::osa_distance(name, target) == 1
                    {
                        add(target, format!("is one edit from `{target}`"), popular);
                    }
                }
            }
        }
        hits
    }

    /// What crates.io's checks find for `name` against one side (as typomania's
    /// `Harness::check_package` with our checks would), without running the near checks
    /// when no name of the side can be near.
    fn squats(&self, side: &Side, name: &str, variants: &[u64]) -> Vec<Squat> {
        let mut out = Vec::new();
        if side.contains(name) {
            return out;
        }
        let near = self.may_be_near(side, name, variants);
        for step in &self.steps {
            let found = match step {
                Step::Near(check) if near => check.check(&side.corpus, name, &Anonymous),
                Step::Near(_) => continue,
                Step::Far(check) => check.check(&side.corpus, name, &Anonymous),
                Step::SwappedWords => {
                    side.words.swapped(name, &side.names, &mut out);
                    continue;
                }
            };
            // NameCorpus never fails.
            out.extend(found.unwrap_or_default());
        }
        out
    }

    /// Whether a near check can find anything for `name` on this side. Each of them finds a
    /// name one edit away (a character inserted, removed, replaced or swapped with its
    /// neighbour: the two share a deletion variant), or one of the typos that replace a
    /// character by two, looked up here directly. False only when none can.
    fn may_be_near(&self, side: &Side, name: &str, variants: &[u64]) -> bool {
        if side.deletions.any(variants) {
            return true;
        }
        name.char_indices().any(|(i, c)| {
            self.long_typos.iter().any(|(from, to)| {
                *from == c && {
                    let typo = format!("{}{to}{}", &name[..i], &name[i + c.len_utf8()..]);
                    side.contains(&typo)
                }
            })
        })
    }
}

/// Buffers reused from one new name to the next.
#[derive(Default)]
struct Scratch {
    variants: Vec<u64>,
    candidates: Vec<u32>,
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
