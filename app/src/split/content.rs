//! What the content of a changed file says, for the files the path rules count as work
//! (see `docs/split.md` §1, "Decision on content"). Three readings, all from the two sides
//! of the file (never from titles, authors or repository names):
//!
//! - `rust_version_only`: every changed line sets `rust-version = "…"`: the same toolchain
//!   bookkeeping as in a `Cargo.toml`, in a file that is not one (manifest templates);
//! - `generated_marker`: the file says in its first lines that a tool generated it
//!   (`@generated`, `DO NOT EDIT`, `auto-generated`, …), on both sides;
//! - `references` / `judge_source`: the crates a changed Rust file's changed lines use,
//!   resolved through the file's own `use` declarations, so the split rule can tell code
//!   that adapts to an upgraded dependency from code that does other work.
//!
//! Pure and bounded: at most `MAX_SOURCES` files of at most `MAX_SOURCE_BYTES` each are
//! read; anything else is judged by its path, as before.

use super::ChangedPath;
use super::classify::{FileKind, classify_path};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The split rule reads the content of the files its path rules count as work only when a
/// pull request has at most this many of them (a larger change is not an adaptation).
pub const MAX_SOURCES: usize = 20;
/// A file larger than this (either side) is judged by its path alone.
pub const MAX_SOURCE_BYTES: usize = 1 << 20;
/// Generated-file markers are looked for in this many first lines (rustfmt and most
/// generators put them in the header).
const MARKER_LINES: usize = 5;

/// The changed files whose two sides the front ends read for this module: the files the
/// path rules count as work (code, docs, everything `FileKind::Other`), when there are at
/// most `MAX_SOURCES` of them; none otherwise.
pub fn sources_to_read(changed: &[ChangedPath]) -> Vec<String> {
    let work: Vec<String> = changed
        .iter()
        .filter(|f| classify_path(&f.path) == FileKind::Other)
        .map(|f| f.path.clone())
        .collect();
    if work.len() > MAX_SOURCES {
        Vec::new()
    } else {
        work
    }
}

/// The text of one side, when it is small enough and UTF-8.
pub fn text(bytes: Option<&[u8]>) -> Option<&str> {
    bytes
        .filter(|b| b.len() <= MAX_SOURCE_BYTES)
        .and_then(|b| std::str::from_utf8(b).ok())
}

/// The lines a change removed and added (as multisets: a moved line is not a change).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LineDiff {
    pub removed: Vec<String>,
    pub added: Vec<String>,
}

impl LineDiff {
    pub fn of(base: &str, head: &str) -> LineDiff {
        let mut count: HashMap<&str, i64> = HashMap::new();
        for l in base.lines() {
            *count.entry(l.trim_end()).or_default() -= 1;
        }
        for l in head.lines() {
            *count.entry(l.trim_end()).or_default() += 1;
        }
        let mut d = LineDiff::default();
        // In file order, each differing line as often as its count says.
        for l in base.lines().map(str::trim_end) {
            if let Some(n) = count.get_mut(l).filter(|n| **n < 0) {
                *n += 1;
                d.removed.push(l.to_string());
            }
        }
        for l in head.lines().map(str::trim_end) {
            if let Some(n) = count.get_mut(l).filter(|n| **n > 0) {
                *n -= 1;
                d.added.push(l.to_string());
            }
        }
        d
    }

    /// Every changed line that is not blank.
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.removed
            .iter()
            .chain(&self.added)
            .map(String::as_str)
            .filter(|l| !l.trim().is_empty())
    }
}

/// Does every changed line set `rust-version` (and at least one does)? A template of a
/// manifest (`Cargo.toml.hbs`, tauri's `Cargo.crate-manifest`, a `cargo-generate` template)
/// is not TOML, but this edit of it is the toolchain bookkeeping `docs/split.md` describes.
pub fn rust_version_only(d: &LineDiff) -> bool {
    let is_rv = |l: &str| {
        let l = l.trim();
        l.strip_prefix("rust-version")
            .map(str::trim_start)
            .and_then(|r| r.strip_prefix('='))
            .map(str::trim)
            .is_some_and(|v| {
                v.len() >= 2
                    && v.starts_with('"')
                    && v.ends_with('"')
                    && v[1..v.len() - 1]
                        .chars()
                        .all(|c| c.is_ascii_digit() || c == '.')
            })
    };
    let mut any = false;
    for l in d.lines() {
        if !is_rv(l) {
            return false;
        }
        any = true;
    }
    any
}

/// Markers of generated files, matched case-insensitively in the first lines: Go's and
/// many generators' `DO NOT EDIT`, Facebook's and rustfmt's `@generated`, and the
/// "auto-generated" / "automatically generated" banners of napi-rs, bindgen, prost, ...
const GENERATED_MARKERS: &[&str] = &[
    "@generated",
    "do not edit",
    "auto-generated",
    "autogenerated",
    "automatically generated",
];

fn marker_in(text: &str) -> Option<&'static str> {
    text.lines().take(MARKER_LINES).find_map(|l| {
        let l = l.to_ascii_lowercase();
        GENERATED_MARKERS.iter().copied().find(|m| l.contains(m))
    })
}

/// The marker a generated file carries in its first lines, on every side it has (a file
/// that only the head calls generated is not taken at its word).
pub fn generated_marker(base: Option<&str>, head: Option<&str>) -> Option<&'static str> {
    let head = head?;
    let m = marker_in(head)?;
    match base {
        Some(b) => marker_in(b).map(|_| m),
        None => Some(m),
    }
}

// ------------------------------------------------------------------------------------------
// Rust sources: which crates the changed lines use

/// Identifiers, `::` and the punctuation of `use` trees, from a line or a declaration with
/// string literals and comments taken out.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    Path,
    Open,
    Close,
    Comma,
    Star,
    Other,
}

fn tokens(s: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let b: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && b.get(i + 1) == Some(&'/') {
            // Line comment: skip to the end of the line.
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && b.get(i + 1) == Some(&'*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == '*' && b[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if c == '"' {
            i += 1;
            while i < b.len() && b[i] != '"' {
                if b[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push(Tok::Other);
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_') {
                i += 1;
            }
            out.push(Tok::Ident(b[start..i].iter().collect()));
        } else if c == ':' && b.get(i + 1) == Some(&':') {
            out.push(Tok::Path);
            i += 2;
        } else {
            out.push(match c {
                '{' => Tok::Open,
                '}' => Tok::Close,
                ',' => Tok::Comma,
                '*' => Tok::Star,
                _ => Tok::Other,
            });
            i += 1;
        }
    }
    out
}

/// Names a file brings into scope with `use` (and `extern crate … as …`), each with the
/// first segment of its path: `use image::{codecs::png::PngEncoder, ColorType as C}` gives
/// `PngEncoder -> image`, `C -> image`, `image -> image`.
pub fn imports(src: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let toks = tokens(src);
    // Statements end at `;`, which the tokenizer reports as Other: find `use` at a
    // statement start and read its tree.
    let mut i = 0;
    while i < toks.len() {
        let at_use = toks[i] == Tok::Ident("use".into());
        if at_use {
            let (_, next) = use_tree(&toks, i + 1, (None, None), &mut out, 0);
            i = next.max(i + 1);
        } else if toks[i] == Tok::Ident("extern".into())
            && toks.get(i + 1) == Some(&Tok::Ident("crate".into()))
        {
            if let (Some(Tok::Ident(name)), Some(Tok::Ident(kw)), Some(Tok::Ident(alias))) =
                (toks.get(i + 2), toks.get(i + 3), toks.get(i + 4))
                && kw == "as"
            {
                out.insert(alias.clone(), name.clone());
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    out
}

/// Read one use tree from `i`; `outer` is the first and the last segment of the enclosing
/// path (None at the top). Returns whether a tree was read and where it ends.
fn use_tree(
    toks: &[Tok],
    mut i: usize,
    outer: (Option<&str>, Option<&str>),
    out: &mut HashMap<String, String>,
    depth: usize,
) -> (bool, usize) {
    let (root, parent) = outer;
    if depth > 32 {
        return (false, toks.len());
    }
    if toks.get(i) == Some(&Tok::Path) {
        i += 1;
    }
    if toks.get(i) == Some(&Tok::Open) {
        return (true, use_list(toks, i + 1, outer, out, depth));
    }
    let Some(Tok::Ident(first)) = toks.get(i) else {
        return (false, i);
    };
    let root = root.unwrap_or(first).to_string();
    let mut last = first.clone();
    let mut prev: Option<String> = None;
    i += 1;
    while toks.get(i) == Some(&Tok::Path) {
        match toks.get(i + 1) {
            Some(Tok::Open) => {
                return (
                    true,
                    use_list(toks, i + 2, (Some(&root), Some(&last)), out, depth),
                );
            }
            Some(Tok::Star) => return (true, i + 2),
            Some(Tok::Ident(s)) => {
                prev = Some(std::mem::replace(&mut last, s.clone()));
                i += 2;
            }
            _ => return (true, i + 1),
        }
    }
    if toks.get(i) == Some(&Tok::Ident("as".into())) {
        if let Some(Tok::Ident(alias)) = toks.get(i + 1) {
            out.insert(alias.clone(), root);
        }
        return (true, i + 2);
    }
    // `use foo::{self}`: `self` names the enclosing module.
    let name = if last == "self" {
        prev.or(parent.map(str::to_string)).unwrap_or(root.clone())
    } else {
        last
    };
    out.insert(name, root);
    (true, i)
}

fn use_list(
    toks: &[Tok],
    mut i: usize,
    outer: (Option<&str>, Option<&str>),
    out: &mut HashMap<String, String>,
    depth: usize,
) -> usize {
    while i < toks.len() {
        match toks[i] {
            Tok::Close => return i + 1,
            Tok::Comma => i += 1,
            _ => {
                let (read, next) = use_tree(toks, i, outer, out, depth + 1);
                i = if read { next } else { i + 1 };
            }
        }
    }
    i
}

/// Path roots that name the language or the crate itself, never a dependency.
const NOT_CRATES: &[&str] = &["crate", "self", "super", "Self", "std", "core", "alloc"];

/// The crates (names as written in Rust, `-` as `_`) the changed lines of a Rust file use:
/// the first segment of every path (`tempfile::NamedTempFile`), and every name the file
/// imports (`Pool` after `use regex_automata::util::pool::Pool`), resolved to its crate.
pub fn references(base: Option<&str>, head: Option<&str>) -> BTreeSet<String> {
    let mut names = HashMap::new();
    for side in [base, head].into_iter().flatten() {
        names.extend(imports(side));
    }
    let d = LineDiff::of(base.unwrap_or(""), head.unwrap_or(""));
    let mut out = BTreeSet::new();
    for line in d.lines() {
        let t = line.trim_start();
        // A changed `use` line says what the file imports, not what it uses.
        if t.starts_with("use ") || t.starts_with("pub use ") || t.starts_with("//") {
            continue;
        }
        let toks = tokens(line);
        for (k, tok) in toks.iter().enumerate() {
            let Tok::Ident(id) = tok else { continue };
            let after_path = k > 0 && toks[k - 1] == Tok::Path;
            if after_path {
                continue;
            }
            let root = match names.get(id) {
                Some(r) => r.clone(),
                None if toks.get(k + 1) == Some(&Tok::Path) => id.clone(),
                None => continue,
            };
            if !NOT_CRATES.contains(&root.as_str()) {
                out.insert(root.replace('-', "_"));
            }
        }
    }
    out
}

/// What a changed Rust file's changed lines do, against the crates of its lock file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceUse {
    /// They use no dependency (the project's own code, the standard library, literals).
    Neutral,
    /// They use dependencies, and only ones whose requirement this pull request changed and
    /// whose locked version moved: the adaptation that upgrade needed.
    Adapts(Vec<String>),
    /// They use a dependency this pull request did not upgrade.
    Uses(Vec<String>),
}

/// Judge a changed Rust file: `external` are the registry and git crates of the lock file
/// (names with `_`), `upgraded` those this pull request upgraded.
pub fn judge_source(
    base: Option<&str>,
    head: Option<&str>,
    external: &BTreeSet<String>,
    upgraded: &BTreeSet<String>,
) -> SourceUse {
    let used: Vec<String> = references(base, head)
        .into_iter()
        .filter(|c| external.contains(c))
        .collect();
    if used.is_empty() {
        return SourceUse::Neutral;
    }
    let other: Vec<String> = used
        .iter()
        .filter(|c| !upgraded.contains(*c))
        .cloned()
        .collect();
    if other.is_empty() {
        SourceUse::Adapts(used)
    } else {
        SourceUse::Uses(other)
    }
}

/// The judgement of every work file of a pull request, for the adaptation rule: `Some`
/// (file -> crates it adapts to) when every work file is a Rust source the front end
/// supplied, none uses a dependency the pull request did not upgrade, and at least one
/// adapts to an upgraded one; `None` otherwise.
pub fn adaptation<'a>(
    work: impl IntoIterator<Item = (&'a str, Option<(Option<&'a str>, Option<&'a str>)>)>,
    external: &BTreeSet<String>,
    upgraded: &BTreeSet<String>,
) -> Option<BTreeMap<String, Vec<String>>> {
    if upgraded.is_empty() {
        return None;
    }
    let mut adapted = BTreeMap::new();
    for (path, sides) in work {
        let (base, head) = sides?;
        if !path.ends_with(".rs") {
            return None;
        }
        match judge_source(base, head, external, upgraded) {
            SourceUse::Neutral => {}
            SourceUse::Adapts(c) => {
                adapted.insert(path.to_string(), c);
            }
            SourceUse::Uses(_) => return None,
        }
    }
    (!adapted.is_empty()).then_some(adapted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn imports_resolve_nested_trees_aliases_and_self() {
        let src = "use {\n    globset::Glob,\n    regex_automata::util::pool::Pool,\n};\nuse image::{codecs::png::{CompressionType, PngEncoder}, ColorType as C, self};\nuse chalk_solve::rust_ir::{self, X};\nuse crate::x::Y;\nextern crate foo_bar as fb;\nfn f() { let s = \"use nothing::Here;\"; }\n";
        let m = imports(src);
        assert_eq!(m.get("Pool").map(String::as_str), Some("regex_automata"));
        assert_eq!(m.get("Glob").map(String::as_str), Some("globset"));
        assert_eq!(m.get("PngEncoder").map(String::as_str), Some("image"));
        assert_eq!(m.get("C").map(String::as_str), Some("image"));
        assert_eq!(m.get("image").map(String::as_str), Some("image"));
        assert_eq!(m.get("Y").map(String::as_str), Some("crate"));
        assert_eq!(m.get("rust_ir").map(String::as_str), Some("chalk_solve"));
        assert_eq!(m.get("fb").map(String::as_str), Some("foo_bar"));
        assert!(
            !m.contains_key("Here"),
            "a string literal is not a use declaration"
        );
    }

    #[test]
    fn references_come_from_changed_lines_only() {
        let base = "use tempfile::TempPath;\nuse serde::Serialize;\nfn f() {\n    let p = TempPath::from_path(x);\n    let s: Serialize;\n}\n";
        let head = "use tempfile::TempPath;\nuse serde::Serialize;\nfn f() {\n    let p = TempPath::try_from_path(x)?; // serde::\n    let s: Serialize;\n}\n";
        assert_eq!(references(Some(base), Some(head)), set(&["tempfile"]));
        // Literals and comments name no crate; std and the crate itself are not dependencies.
        let head2 = "fn f() {\n    let m = \"regex::Regex\"; // tokio::spawn\n    std::mem::drop(crate::x::y());\n}\n";
        assert!(references(Some("fn f() {\n}\n"), Some(head2)).is_empty());
    }

    #[test]
    fn sources_are_judged_against_the_upgraded_crates() {
        let external = set(&["tempfile", "serde_json", "regex"]);
        let upgraded = set(&["tempfile"]);
        let adapts = judge_source(
            Some("fn f() { tempfile::a(); }\n"),
            Some("fn f() { tempfile::b(); }\n"),
            &external,
            &upgraded,
        );
        assert_eq!(adapts, SourceUse::Adapts(vec!["tempfile".into()]));
        let uses = judge_source(
            Some("fn f() {}\n"),
            Some("fn f() {}\nfn g() { serde_json::json!({}); tempfile::b(); }\n"),
            &external,
            &upgraded,
        );
        assert_eq!(uses, SourceUse::Uses(vec!["serde_json".into()]));
        let neutral = judge_source(
            Some("fn f() { a(); }\n"),
            Some("fn f() { b(); }\n"),
            &external,
            &upgraded,
        );
        assert_eq!(neutral, SourceUse::Neutral);
    }

    #[test]
    fn adaptation_needs_every_file_and_one_real_adaptation() {
        let external = set(&["tempfile", "regex"]);
        let upgraded = set(&["tempfile"]);
        let a = ("src/a.rs", Some((Some("x"), Some("tempfile::keep()"))));
        let n = ("src/n.rs", Some((Some("a()"), Some("b()"))));
        let got = adaptation([a, n], &external, &upgraded).expect("adaptation");
        assert_eq!(got.keys().collect::<Vec<_>>(), vec!["src/a.rs"]);
        // Only neutral files: no evidence of an adaptation.
        assert!(adaptation([n], &external, &upgraded).is_none());
        // A file whose content was not supplied, or that is not Rust, blocks it.
        assert!(adaptation([a, ("src/m.rs", None)], &external, &upgraded).is_none());
        assert!(
            adaptation(
                [a, ("README.md", Some((Some("a"), Some("b"))))],
                &external,
                &upgraded
            )
            .is_none()
        );
        // No upgrade in the pull request: nothing to adapt to.
        assert!(adaptation([a], &external, &BTreeSet::new()).is_none());
    }

    #[test]
    fn rust_version_lines_and_generated_markers() {
        let d = LineDiff::of(
            "[package]\nname = \"{{ name }}\"\nrust-version = \"1.78\"\n",
            "[package]\nname = \"{{ name }}\"\nrust-version = \"1.77.2\"\n",
        );
        assert!(rust_version_only(&d));
        let d = LineDiff::of(
            "rust-version = \"1.78\"\n",
            "rust-version = \"1.78\"\nx = 1\n",
        );
        assert!(!rust_version_only(&d));
        assert!(!rust_version_only(&LineDiff::of("a\n", "a\n")));
        let gen_js = "// prettier-ignore\n/* eslint-disable */\n/* auto-generated by NAPI-RS */\nmodule.exports = 1\n";
        assert_eq!(
            generated_marker(Some(gen_js), Some(gen_js)),
            Some("auto-generated")
        );
        // Only the head claims it: not taken at its word.
        assert_eq!(generated_marker(Some("let x = 1\n"), Some(gen_js)), None);
        // A marker past the header is not one.
        let late = "a\nb\nc\nd\ne\nf\n// @generated\n";
        assert_eq!(generated_marker(None, Some(late)), None);
    }
}
