//! Names a new crate may imitate that are neither popular nor in the lock file: a small,
//! bounded set of candidates derived from the name alone, most likely first, for the fetch
//! stage to look up in the registry index (`gather.rs`; judged in `engine/lookalike.rs`).
//!
//! About half of the malicious look-alikes RustSec lists imitate crates that are not on the
//! popular list (`finch-rust` → `finch`, `lasso-rs` → `lasso`, `monero-rpc-rs` →
//! `monero-rpc`, `polymarket-client-sdks` → `polymarket-client-sdk`,
//! `tauri-win-rt-notification` → `tauri-winrt-notification`). The derivations, in order:
//!
//! 1. an affix removed (`-rs`, `-rust`, `-rst`, `-sys`, `-core`, `-lib`, `-main`, `rust-`,
//!    `rs-`), in the name's own separator and in the other one (the sparse index is keyed by
//!    the exact spelling: `serde-json` is a 404 while `serde_json` exists);
//! 2. a plural made singular (`-s` dropped from any word);
//! 3. a doubled letter undoubled (`postgress` → `postgres`);
//! 4. split words joined (`bit-flags` → `bitflags`; adjacent pairs of three or more words);
//! 5. a singular made plural, `-rs` added;
//! 6. one adjacent swap, then one letter doubled.
//!
//! `-` against `_` alone is never a candidate: crates.io treats them as the same name. Every
//! candidate is a valid crates.io name (ASCII letters, digits, `-`, `_`, a letter first, at
//! most 64 characters); at most [`MAX_CANDIDATES`] per name.

use super::MAX_CRATE_NAME_LEN;

/// Candidates looked up per new name at most.
pub const MAX_CANDIDATES: usize = 8;

/// Affix words removed when they end a name.
const SUFFIXES: &[&str] = &["rs", "rust", "rst", "sys", "core", "lib", "main"];
/// Affix words removed when they start a name.
const PREFIXES: &[&str] = &["rust", "rs"];

/// A name the new crate may imitate, and how it was derived from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub name: String,
    /// How the new name differs from it, for the evidence ("`-rs` added").
    pub how: String,
}

/// Is this a name crates.io accepts?
pub fn is_valid_crate_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_CRATE_NAME_LEN
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The same crate on crates.io: case and `-`/`_` do not count.
fn canonical(name: &str) -> String {
    name.to_ascii_lowercase().replace('_', "-")
}

/// At most [`MAX_CANDIDATES`] names `name` may imitate, most likely first. None for a name
/// that is not a valid crates.io name.
pub fn candidates(name: &str) -> Vec<Candidate> {
    if !is_valid_crate_name(name) {
        return Vec::new();
    }
    let lower = name.to_ascii_lowercase();
    let sep = lower
        .chars()
        .find(|c| *c == '-' || *c == '_')
        .unwrap_or('-');
    let other = if sep == '-' { '_' } else { '-' };
    let words: Vec<&str> = lower.split(['-', '_']).collect();
    let join = |ws: &[&str], s: char| ws.join(&s.to_string());
    let own = canonical(&lower);
    let mut out: Vec<Candidate> = Vec::new();
    let mut push = |cand: String, how: String| {
        if out.len() < MAX_CANDIDATES
            && is_valid_crate_name(&cand)
            && canonical(&cand) != own
            && !out.iter().any(|c| c.name == cand)
        {
            out.push(Candidate { name: cand, how });
        }
    };
    let n = words.len();
    // 1. An affix removed.
    if n >= 2 && words.iter().all(|w| !w.is_empty()) {
        let mut stripped: Vec<(&[&str], String)> = Vec::new();
        if SUFFIXES.contains(&words[n - 1]) {
            stripped.push((&words[..n - 1], format!("`{sep}{}` added", words[n - 1])));
        }
        if PREFIXES.contains(&words[0]) {
            stripped.push((&words[1..], format!("`{}{sep}` added", words[0])));
        }
        for (rest, how) in stripped {
            push(join(rest, sep), how.clone());
            if rest.len() >= 2 {
                push(join(rest, other), how);
            }
        }
    }
    // 2. A plural made singular, in any word.
    for (i, w) in words.iter().enumerate() {
        if is_plural(w) {
            let mut ws = words.clone();
            ws[i] = &w[..w.len() - 1];
            push(join(&ws, sep), format!("`{w}` for `{}`", ws[i]));
        }
    }
    // 3. A doubled letter undoubled.
    let bytes = lower.as_bytes();
    for i in 1..bytes.len() {
        if bytes[i] == bytes[i - 1] && bytes[i].is_ascii_alphabetic() {
            let cand = format!("{}{}", &lower[..i], &lower[i + 1..]);
            push(cand, format!("`{}` doubled", bytes[i] as char));
        }
    }
    // 4. Split words joined: all of them, then each adjacent pair.
    if n >= 2 && words.iter().all(|w| !w.is_empty()) {
        push(words.concat(), "words split".to_owned());
        if n >= 3 {
            for i in 0..n - 1 {
                let mut ws: Vec<String> = words.iter().map(|w| w.to_string()).collect();
                let joined = format!("{}{}", ws[i], ws[i + 1]);
                ws.splice(i..i + 2, [joined.clone()]);
                push(
                    ws.join(&sep.to_string()),
                    format!("`{joined}` split into `{}{sep}{}`", words[i], words[i + 1]),
                );
            }
        }
    }
    // 5. A singular made plural; `-rs` added.
    if let Some(last) = words.last().filter(|w| !w.is_empty() && !w.ends_with('s')) {
        push(format!("{lower}s"), format!("`{last}s` made singular"));
    }
    if !words.last().is_some_and(|w| SUFFIXES.contains(w)) {
        push(format!("{lower}{sep}rs"), format!("`{sep}rs` removed"));
    }
    // 6. One adjacent swap (letters and digits, not across a separator), one letter doubled.
    for i in 1..bytes.len() {
        let (a, b) = (bytes[i - 1], bytes[i]);
        if a != b && a.is_ascii_alphanumeric() && b.is_ascii_alphanumeric() {
            let mut s = bytes.to_vec();
            s.swap(i - 1, i);
            if let Ok(cand) = String::from_utf8(s) {
                push(cand, format!("`{}{}` swapped", a as char, b as char));
            }
        }
    }
    for i in 0..bytes.len() {
        if bytes[i].is_ascii_alphabetic() && bytes.get(i + 1) != Some(&bytes[i]) {
            let cand = format!("{}{}", &lower[..=i], &lower[i..]);
            push(cand, format!("`{0}{0}` written `{0}`", bytes[i] as char));
        }
    }
    out
}

/// `tracings`, `sdks`, `notifications`; not `class`, `status`, `axis`, `rs` or `sys`.
fn is_plural(w: &str) -> bool {
    w.len() >= 4
        && w.ends_with('s')
        && !["ss", "us", "is", "ys", "rs"]
            .iter()
            .any(|e| w.ends_with(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(name: &str) -> Vec<String> {
        candidates(name).into_iter().map(|c| c.name).collect()
    }

    #[test]
    fn an_affix_is_removed_first_in_both_spellings() {
        let c = names("serde-json-rs");
        assert_eq!(&c[..2], ["serde-json", "serde_json"]);
        assert_eq!(names("finch-rust")[0], "finch");
        assert_eq!(names("lasso-rs")[0], "lasso");
        assert_eq!(names("rust-decimal")[0], "decimal");
        assert_eq!(names("monero_rpc_rs")[..2], ["monero_rpc", "monero-rpc"]);
        assert_eq!(names("libusb1-main")[0], "libusb1");
        assert_eq!(names("openssl-sys")[0], "openssl");
        assert_eq!(names("sha-rst")[0], "sha");
        let c = candidates("foo-core");
        assert_eq!(c[0].how, "`-core` added");
    }

    #[test]
    fn plurals_doubled_letters_and_split_words() {
        assert_eq!(names("polymarket-client-sdks")[0], "polymarket-client-sdk");
        assert_eq!(names("polymarkets-client-sdk")[0], "polymarket-client-sdk");
        assert_eq!(names("tracings")[0], "tracing");
        assert_eq!(names("postgress")[0], "postgres");
        assert_eq!(names("bit-flags")[0], "bit-flag");
        assert!(names("bit-flags").contains(&"bitflags".to_owned()));
        assert!(
            names("tauri-win-rt-notification").contains(&"tauri-winrt-notification".to_owned())
        );
        // Not plurals.
        for w in ["status", "axis", "keys", "corpus"] {
            assert!(!names(w).contains(&w[..w.len() - 1].to_owned()), "{w}");
        }
    }

    #[test]
    fn one_cheap_edit_when_room_is_left() {
        let c = names("serd");
        assert!(c.contains(&"serds".to_owned()), "{c:?}");
        assert!(c.contains(&"serd-rs".to_owned()), "{c:?}");
        assert!(c.contains(&"esrd".to_owned()), "{c:?}");
        let c = names("toiko");
        assert!(c.contains(&"tokio".to_owned()), "{c:?}");
    }

    #[test]
    fn bounded_valid_and_never_the_same_crate() {
        for name in [
            "a",
            "ab",
            "serde_json",
            "serde-json",
            "x-y-z-w-v-u-t-s",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "rust-rs",
            "rs-sys",
            "a--b",
            "-x",
            "x-",
            "Foo_Bar-RS",
        ] {
            let c = candidates(name);
            assert!(c.len() <= MAX_CANDIDATES, "{name}: {c:?}");
            for cand in &c {
                assert!(is_valid_crate_name(&cand.name), "{name}: {cand:?}");
                assert_ne!(canonical(&cand.name), canonical(name), "{name}");
                assert!(!cand.how.is_empty());
            }
            let mut unique = c.clone();
            unique.dedup_by(|a, b| a.name == b.name);
            assert_eq!(unique.len(), c.len(), "{name}");
        }
        // A 64-character name gets no candidate longer than 64.
        let long = "b".repeat(62) + "-x";
        assert!(candidates(&long).iter().all(|c| c.name.len() <= 64));
        // Not crate names: nothing to look up.
        for bad in ["", "1abc", "a b", "ä", "a/b", &"c".repeat(65)] {
            assert!(candidates(bad).is_empty(), "{bad}");
        }
        // `-` and `_` alone is not a candidate.
        assert!(!names("serde-json").contains(&"serde_json".to_owned()));
        // Case is not either.
        assert!(names("Serde").iter().all(|n| n != "serde"));
    }
}
