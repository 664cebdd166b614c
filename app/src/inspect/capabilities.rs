//! Capability detection in build-time Rust code, on the syntax tree (syn),
//! never by grepping text.
//!
//! The rules, per [`CapabilityKind`]:
//!
//! * **Network**: any path into `std::net` other than plain address types
//!   (`IpAddr`, `SocketAddr`, ...), and any path into an HTTP client crate
//!   (`reqwest`, `ureq`, `curl`, `hyper`, `attohttpc`, `minreq`, `isahc`,
//!   `surf`), also when renamed through `use ... as` or a renamed
//!   build-dependency.
//! * **Process**: `std::process::Command`, `std::os::{unix,windows}::process`,
//!   and `libc`/`nix` exec, spawn and `system` functions. The evidence shows the
//!   call, so a literal program name (`Command::new("curl")`) is visible.
//! * **EnvRead**: `std::env::{var, var_os, vars, vars_os}`, `env!` and
//!   `option_env!` reading anything but Cargo's build-script variables
//!   (`OUT_DIR`, `TARGET`, `CARGO_*`, `DEP_*`, ... and `PATH`). A name that
//!   is not a literal, and enumerating all variables, count as EnvRead.
//! * **CredentialPath**: environment names that look like secrets (`TOKEN`,
//!   `SECRET`, `KEY`, `PASSWORD`, `CREDENTIAL`; a vendor prefix alone such as `AWS_`
//!   or `GITHUB_` is not a secret: `AWS_LC_RS_DEV_TESTS_ONLY`, `GITHUB_SHA`)
//!   or name the home directory (`HOME`, `USERPROFILE`); string literals
//!   naming credential files (`.ssh`, `id_rsa`, `.cargo/credentials`,
//!   `.git-credentials`, `.npmrc`, `.aws/credentials`, `~/`, ...); calls to
//!   `home_dir`.
//! * **FileAccess** (a heuristic): a `std::fs` call, `File::open/create` or
//!   `OpenOptions::...open` whose path argument is
//!   - a string literal that is absolute, uses `..`, or starts with `~`: flagged;
//!   - a relative string literal without `..` (relative to the package): not flagged;
//!   - any other expression: not flagged when its text mentions `OUT_DIR` /
//!     `out_dir` / `CARGO_MANIFEST_DIR` / `manifest_dir`, or a local variable
//!     whose `let` initialiser (transitively) does; flagged otherwise.
//!
//!   `include!`, `include_str!` and `include_bytes!` of absolute or `..`
//!   paths are flagged too (they read files at compile time).
//! * **Obfuscation**: string literals over 200 characters made only of
//!   base64 or hex characters; byte strings and integer arrays over 256
//!   bytes; `include_bytes!` of a packaged file that is not UTF-8 text or
//!   has high entropy; base64 `decode`/`from_base64` calls applied to an
//!   encoded literal, or in a file that holds one.
//!
//! Macro bodies are inspected too: arguments that parse as expressions are
//! visited like code, other bodies (`macro_rules!`, custom syntax) are
//! scanned token by token for paths and literals. Attributes, including doc
//! comments, are skipped.

use std::collections::{BTreeMap, HashMap, HashSet};

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{Expr, Lit, Token, UseTree};

use super::archive::FileRecord;
use super::inventory::{is_high_entropy, known_compressed};
use super::launch::{ArgLists, FnKey, Launch, LaunchIndex, fn_key};
use super::manifest::truncate;
use super::markers;
use super::rust_source::macro_name;
use super::surface::{Capability, CapabilityKind};

/// HTTP client crates: calling into one from build-time code is network access (and one as a
/// build dependency is read the same way, `inspect::HTTP_BUILD_DEPS`).
pub(super) const HTTP_CRATES: &[&str] = &[
    "reqwest",
    "ureq",
    "curl",
    "hyper",
    "attohttpc",
    "minreq",
    "isahc",
    "surf",
];
const NET_DATA_TYPES: &[&str] = &[
    "IpAddr",
    "Ipv4Addr",
    "Ipv6Addr",
    "SocketAddr",
    "SocketAddrV4",
    "SocketAddrV6",
    "AddrParseError",
    "Shutdown",
    "Ipv6MulticastScope",
];
const EXEC_FUNCTIONS: &[&str] = &[
    "system",
    "popen",
    "execv",
    "execve",
    "execvp",
    "execvpe",
    "execl",
    "execle",
    "execlp",
    "fexecve",
    "fork",
    "vfork",
    "posix_spawn",
    "posix_spawnp",
];
const CARGO_ENV: &[&str] = &[
    "OUT_DIR",
    "TARGET",
    "HOST",
    "NUM_JOBS",
    "OPT_LEVEL",
    "DEBUG",
    "PROFILE",
    "RUSTC",
    "RUSTDOC",
    "RUSTC_LINKER",
    "RUSTC_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER",
    "RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "PATH",
];
const SECRET_ENV_MARKERS: &[&str] = &["TOKEN", "SECRET", "KEY", "PASSWORD", "CREDENTIAL"];
const CREDENTIAL_LITERALS: &[&str] = &markers::joined::<19>(&[
    &[".ssh"],
    markers::SSH_KEY_FILES,
    markers::TOOL_CREDENTIAL_FILES,
    &[
        ".config/gh",
        "~/",
        "GITHUB_TOKEN",
        "CARGO_REGISTRY_TOKEN",
        "home_dir()",
        "dirs::home_dir",
    ],
]);
const DECODE_FUNCTIONS: &[&str] = &[
    "decode",
    "from_base64",
    "decode_config",
    "decode_vec",
    "decode_to_vec",
];
const SAFE_PATH_MARKERS: &[&str] = &["out_dir", "outdir", "manifest_dir"];
const EVIDENCE_MAX: usize = 160;
const LONG_LITERAL: usize = 200;
const LONG_BYTES: usize = 256;

/// A module file referenced by the scanned file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ModuleRef {
    /// Candidate paths inside the package, in priority order (already normalized).
    pub candidates: Vec<String>,
    /// Directory for the modules declared by the referenced file.
    pub mod_dirs: Vec<String>,
    /// What referenced it, for notes: `mod helper` / `include!`.
    pub what: String,
    pub line: u32,
}

/// The findings of one file.
#[derive(Debug, Default)]
pub(crate) struct FileScan {
    pub capabilities: Vec<Capability>,
    pub modules: Vec<ModuleRef>,
    pub notes: Vec<String>,
    /// Code the file pulls in that cannot be inspected (a `#[path]` outside the package).
    pub uninspected: Vec<String>,
}

/// What the scanner needs to know about the rest of the package.
pub(crate) struct ScanEnv<'a> {
    pub files: &'a BTreeMap<String, FileRecord>,
    /// Build-dependency key (as written in code, `-` → `_`) → real crate name.
    pub crate_renames: HashMap<String, String>,
}

/// Scans one parsed file. `path` is the file inside the package, `mod_dir`
/// the directory where its `mod x;` children live.
pub(crate) fn scan_file(
    file: &syn::File,
    path: &str,
    mod_dir: &str,
    env: &ScanEnv<'_>,
) -> FileScan {
    let mut uses = UseCollector::default();
    uses.visit_file(file);
    let launches = LaunchIndex::new(file);
    let scanner = |chain_args: Option<HashMap<(usize, usize), ArgLists>>| Scanner {
        path,
        dir: parent(path).to_owned(),
        mod_dir: mod_dir.to_owned(),
        inline: Vec::new(),
        aliases: uses.aliases.clone(),
        globs: uses.globs.clone(),
        env,
        safe_vars: HashSet::new(),
        decode_calls: Vec::new(),
        has_encoded_literal: false,
        launches: &launches,
        fn_stack: Vec::new(),
        args_known: chain_args.is_some(),
        chain_args: chain_args.unwrap_or_default(),
        chained: HashSet::new(),
        in_type: 0,
        out: FileScan::default(),
    };
    // A first pass collects the arguments of every launch (`cmd.arg(..)` statements come
    // after the `Command::new` they belong to); the second judges the launches with them.
    let mut first = scanner(None);
    first.visit_file(file);
    let mut s = scanner(Some(first.chain_args));
    s.visit_file(file);
    if s.has_encoded_literal {
        for (line, evidence) in std::mem::take(&mut s.decode_calls) {
            s.push(
                CapabilityKind::Obfuscation,
                line,
                format!("{evidence} (decode call in a file with encoded literals)"),
            );
        }
    }
    let mut out = s.out;
    out.capabilities
        .sort_by(|a, b| (a.line, a.kind, &a.evidence).cmp(&(b.line, b.kind, &b.evidence)));
    out.capabilities.dedup();
    out
}

/// `use` declarations anywhere in the file: local name → full path.
#[derive(Default)]
struct UseCollector {
    aliases: HashMap<String, Vec<String>>,
    globs: Vec<Vec<String>>,
}

impl UseCollector {
    fn tree(&mut self, prefix: &mut Vec<String>, tree: &UseTree) {
        match tree {
            UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.tree(prefix, &p.tree);
                prefix.pop();
            }
            UseTree::Name(n) => {
                let name = n.ident.to_string();
                if name == "self" {
                    if let Some(last) = prefix.last() {
                        self.aliases.insert(last.clone(), prefix.clone());
                    }
                } else {
                    let mut full = prefix.clone();
                    full.push(name.clone());
                    self.aliases.insert(name, full);
                }
            }
            UseTree::Rename(r) => {
                let name = r.ident.to_string();
                let mut full = prefix.clone();
                if name != "self" {
                    full.push(name);
                }
                self.aliases.insert(r.rename.to_string(), full);
            }
            UseTree::Glob(_) => self.globs.push(prefix.clone()),
            UseTree::Group(g) => {
                for t in &g.items {
                    self.tree(prefix, t);
                }
            }
        }
    }
}

impl<'ast> Visit<'ast> for UseCollector {
    fn visit_item_use(&mut self, i: &'ast syn::ItemUse) {
        self.tree(&mut Vec::new(), &i.tree);
    }

    fn visit_item_extern_crate(&mut self, i: &'ast syn::ItemExternCrate) {
        if let Some((_, rename)) = &i.rename {
            self.aliases
                .insert(rename.to_string(), vec![i.ident.to_string()]);
        }
    }
}

struct Scanner<'a, 'l> {
    path: &'a str,
    dir: String,
    mod_dir: String,
    inline: Vec<String>,
    aliases: HashMap<String, Vec<String>>,
    globs: Vec<Vec<String>>,
    env: &'a ScanEnv<'a>,
    /// Local variables whose initialiser derives from OUT_DIR / the manifest dir.
    safe_vars: HashSet<String>,
    decode_calls: Vec<(u32, String)>,
    has_encoded_literal: bool,
    /// Functions and bindings of the file, to judge what `Command::new` launches.
    launches: &'l LaunchIndex<'l>,
    /// The functions being visited, innermost last.
    fn_stack: Vec<FnKey>,
    /// Arguments of `Command::new(..).arg(..)` chains, by the position of the `Command::new`
    /// call: literals, `None` for anything else, in order.
    chain_args: HashMap<(usize, usize), ArgLists>,
    /// `chain_args` is complete (collected by a first pass): do not collect again.
    args_known: bool,
    /// Method calls already counted as part of a `cmd.arg(..).arg(..)` statement.
    chained: HashSet<(usize, usize)>,
    /// Inside a type: naming `Command` there launches nothing.
    in_type: usize,
    out: FileScan,
}

/// What a resolved path gives access to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Network,
    Process,
    Env,
    Home,
    Fs,
    OpenOptions,
    Decode,
}

fn line_of(span: Span) -> u32 {
    u32::try_from(span.start().line).unwrap_or(u32::MAX)
}

fn collapse(s: &str) -> String {
    let joined = s.split_whitespace().collect::<Vec<_>>().join(" ");
    truncate(&joined, EVIDENCE_MAX)
}

fn source_of(node: &impl Spanned) -> Option<String> {
    node.span().source_text().map(|s| collapse(&s))
}

fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

/// Joins a relative path onto a package directory, resolving `.` and `..`.
/// `None` if it is absolute or escapes the package.
pub(crate) fn join_path(dir: &str, rel: &str) -> Option<String> {
    if rel.starts_with('/') || rel.starts_with('\\') || rel.as_bytes().get(1) == Some(&b':') {
        return None;
    }
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in rel.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

fn classify_env_name(name: &str) -> Option<CapabilityKind> {
    let upper = name.to_ascii_uppercase();
    if upper == "HOME"
        || upper == "USERPROFILE"
        || SECRET_ENV_MARKERS.iter().any(|m| upper.contains(m))
    {
        Some(CapabilityKind::CredentialPath)
    } else if CARGO_ENV.contains(&name) || name.starts_with("CARGO_") || name.starts_with("DEP_") {
        None
    } else {
        Some(CapabilityKind::EnvRead)
    }
}

fn encoded_alphabet(s: &str) -> Option<&'static str> {
    let body: Vec<u8> = s.bytes().filter(|b| !matches!(b, b'\n' | b'\r')).collect();
    if body.is_empty() {
        return None;
    }
    if body.iter().all(u8::is_ascii_hexdigit) {
        Some("hex")
    } else if body
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_'))
        && body.iter().any(u8::is_ascii_digit)
    {
        Some("base64")
    } else {
        None
    }
}

/// Why a literal path given to a file API is worth flagging.
fn suspicious_literal_path(p: &str) -> Option<&'static str> {
    if p.starts_with('/') || p.starts_with('\\') || p.as_bytes().get(1) == Some(&b':') {
        Some("absolute path")
    } else if p.starts_with('~') {
        Some("home-relative path")
    } else if p.split(['/', '\\']).any(|c| c == "..") {
        Some("path leaving the package with `..`")
    } else {
        None
    }
}

fn idents_in(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
}

impl Scanner<'_, '_> {
    fn push(&mut self, kind: CapabilityKind, line: u32, evidence: String) {
        self.out.capabilities.push(Capability {
            kind,
            file: self.path.to_owned(),
            line,
            evidence,
        });
    }

    fn resolve(&self, segments: &[String]) -> Vec<String> {
        let Some(first) = segments.first() else {
            return Vec::new();
        };
        let mut full = if let Some(alias) = self.aliases.get(first) {
            let mut v = alias.clone();
            v.extend_from_slice(&segments[1..]);
            v
        } else {
            let via_glob = self
                .globs
                .iter()
                .filter(|g| glob_item_ok(g, first))
                .find_map(|g| {
                    let mut v = g.clone();
                    v.extend_from_slice(segments);
                    target_of(&v).map(|_| v)
                });
            via_glob.unwrap_or_else(|| segments.to_vec())
        };
        if let Some(first) = full.first_mut()
            && let Some(real) = self.env.crate_renames.get(first.as_str())
        {
            *first = real.replace('-', "_");
        }
        full
    }

    fn path_target(&self, path: &syn::Path) -> Option<(Target, String)> {
        let segs: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        let full = self.resolve(&segs);
        target_of(&full).map(|t| (t, full.join("::")))
    }

    /// Evidence: the source text, plus the resolved path when it differs.
    fn evidence(&self, node: &impl Spanned, written: &syn::Path, resolved: &str) -> String {
        let text = source_of(node).unwrap_or_else(|| resolved.to_owned());
        let written: Vec<String> = written
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        if written.join("::") == resolved {
            text
        } else {
            format!("{text} [{resolved}]")
        }
    }

    fn is_safe_path_expr(&self, e: &Expr) -> bool {
        let Some(text) = e.span().source_text() else {
            return false;
        };
        let lower = text.to_ascii_lowercase();
        SAFE_PATH_MARKERS.iter().any(|m| lower.contains(m))
            || idents_in(&text).any(|w| self.safe_vars.contains(w))
    }

    fn string_literal(e: &Expr) -> Option<&syn::LitStr> {
        match e {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Str(s), ..
            }) => Some(s),
            Expr::Reference(r) => Self::string_literal(&r.expr),
            Expr::Paren(p) => Self::string_literal(&p.expr),
            _ => None,
        }
    }

    /// FileAccess heuristic for the path arguments of a file API call.
    fn check_file_args<'e>(
        &mut self,
        args: impl IntoIterator<Item = &'e Expr>,
        line: u32,
        evidence: &str,
    ) {
        let mut reasons: Vec<&'static str> = Vec::new();
        for arg in args {
            match Self::string_literal(arg) {
                Some(lit) => reasons.extend(suspicious_literal_path(&lit.value())),
                None if self.is_safe_path_expr(arg) => {}
                None => reasons.push("path not derived from OUT_DIR or CARGO_MANIFEST_DIR"),
            }
        }
        if let Some(reason) = reasons.first() {
            self.push(
                CapabilityKind::FileAccess,
                line,
                format!("{evidence} ({reason})"),
            );
        }
    }

    fn check_env_name(&mut self, name: Option<&syn::LitStr>, line: u32, evidence: String) {
        match name {
            Some(lit) => {
                if let Some(kind) = classify_env_name(&lit.value()) {
                    self.push(kind, line, evidence);
                }
            }
            None => self.push(CapabilityKind::EnvRead, line, evidence),
        }
    }

    /// A call `path(args)`; returns whether the arguments were fully handled.
    fn on_call(&mut self, call: &syn::ExprCall, path: &syn::Path) -> bool {
        let Some((target, resolved)) = self.path_target(path) else {
            return false;
        };
        let line = line_of(call.span());
        let evidence = self.evidence(call, path, &resolved);
        match target {
            Target::Network => self.push(CapabilityKind::Network, line, evidence),
            Target::Process => match call.args.first() {
                Some(program) if resolved == "std::process::Command::new" => {
                    let (kind, what) = self.judge_launch(call, program);
                    self.push(kind, line, format!("{evidence}: runs {what}"));
                }
                _ => self.push(CapabilityKind::Process, line, evidence),
            },
            Target::Home => self.push(CapabilityKind::CredentialPath, line, evidence),
            Target::Env => {
                if resolved.ends_with("vars") || resolved.ends_with("vars_os") {
                    self.push(
                        CapabilityKind::EnvRead,
                        line,
                        format!("{evidence} (all variables)"),
                    );
                } else {
                    let lit = call.args.first().and_then(Self::string_literal);
                    self.check_env_name(lit, line, evidence);
                    return lit.is_some() && call.args.len() == 1;
                }
            }
            Target::Fs => {
                let two_paths = matches!(
                    resolved.rsplit("::").next(),
                    Some("copy" | "rename" | "hard_link" | "soft_link")
                );
                let n = if two_paths { 2 } else { 1 };
                self.check_file_args(call.args.iter().take(n), line, &evidence);
            }
            Target::OpenOptions => {}
            Target::Decode => self.on_decode(call.args.iter(), line, evidence),
        }
        false
    }

    /// What `Command::new(program)` launches: a build tool, or a process to look at.
    fn judge_launch(&self, call: &syn::ExprCall, program: &Expr) -> (CapabilityKind, String) {
        let at = call.span().start();
        let args = self
            .chain_args
            .get(&(at.line, at.column))
            .cloned()
            .unwrap_or_default();
        let resolve = |p: &syn::Path| {
            let segs: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
            self.resolve(&segs)
        };
        match self.launches.judge(
            program,
            self.fn_stack.last().copied(),
            &resolve,
            &args,
            self.env.files,
        ) {
            Launch::BuildTool(what) => (CapabilityKind::BuildTool, what),
            Launch::PackageScript(what) => (CapabilityKind::PackageScript, what),
            Launch::Other(what) => (CapabilityKind::Process, what),
        }
    }

    /// Records the arguments of `Command::new(..).arg(..)` / `.args([..])` chains; the
    /// outermost call is visited first, so arguments are put in front. `cmd.arg(..)` on a
    /// binding `let mut cmd = Command::new(..)` adds them after what came before, in order.
    fn record_chain_arg(&mut self, m: &syn::ExprMethodCall) {
        if self.args_known {
            return;
        }
        let method = m.method.to_string();
        if method != "arg" && method != "args" {
            return;
        }
        if let Some(name) = path_root_ident(&m.receiver) {
            self.record_statement_args(m, &name);
            return;
        }
        let Expr::Call(root) = chain_root(&m.receiver) else {
            return;
        };
        if !self.is_command_new(root) {
            return;
        }
        let part = self.arg_part(m);
        let at = root.span().start();
        let lists = self
            .chain_args
            .entry((at.line, at.column))
            .or_insert_with(|| vec![Vec::new()]);
        // Every combination of this part (earlier in the chain) and what follows it.
        *lists = followed_by(&part, lists);
    }

    fn is_command_new(&self, call: &syn::ExprCall) -> bool {
        let Expr::Path(p) = &*call.func else {
            return false;
        };
        matches!(self.path_target(&p.path), Some((Target::Process, r)) if r == "std::process::Command::new")
    }

    /// The argument lists one `.arg(x)` / `.args(xs)` call adds.
    fn arg_part(&self, m: &syn::ExprMethodCall) -> ArgLists {
        let literal = |e: &Expr| Self::string_literal(e).map(syn::LitStr::value);
        let within = self.fn_stack.last().copied();
        match (m.method.to_string().as_str(), m.args.first()) {
            ("arg", Some(a)) => vec![vec![literal(a)]],
            ("args", Some(a)) => self
                .launches
                .arg_lists(a, within)
                .unwrap_or_else(|| vec![vec![None]]),
            _ => vec![vec![None]],
        }
    }

    /// `cmd.arg(a).arg(b)` where `cmd` is bound once to a `Command::new(..)` chain: the
    /// statement's arguments, appended to that launch's (statements come in source order).
    fn record_statement_args(&mut self, m: &syn::ExprMethodCall, name: &str) {
        let at = m.method.span().start();
        if !self.chained.insert((at.line, at.column)) {
            return;
        }
        let within = self.fn_stack.last().copied();
        let Some(init) = self.launches.single_binding(name, within) else {
            return;
        };
        let Expr::Call(root) = chain_root(init) else {
            return;
        };
        if !self.is_command_new(root) {
            return;
        }
        // The calls of this statement, outermost first; mark the inner ones as counted.
        let mut calls = vec![m];
        let mut e: &Expr = &m.receiver;
        while let Expr::MethodCall(inner) = e {
            let at = inner.method.span().start();
            self.chained.insert((at.line, at.column));
            calls.push(inner);
            e = &inner.receiver;
        }
        let mut lists: ArgLists = vec![Vec::new()];
        for call in calls.iter().rev() {
            let method = call.method.to_string();
            if method != "arg" && method != "args" {
                continue;
            }
            let part = self.arg_part(call);
            lists = followed_by(&lists, &part);
        }
        let at = root.span().start();
        let known = self
            .chain_args
            .entry((at.line, at.column))
            .or_insert_with(|| vec![Vec::new()]);
        *known = followed_by(known, &lists);
    }

    fn on_fn_body(&mut self, block: &syn::Block, visit_rest: impl FnOnce(&mut Self)) {
        self.fn_stack.push(fn_key(block));
        visit_rest(self);
        self.fn_stack.pop();
    }

    fn on_decode<'e>(
        &mut self,
        args: impl IntoIterator<Item = &'e Expr>,
        line: u32,
        evidence: String,
    ) {
        let encoded_arg = args.into_iter().any(|a| {
            Self::string_literal(a).is_some_and(|l| {
                let v = l.value();
                v.len() >= 16 && encoded_alphabet(&v).is_some()
            })
        });
        if encoded_arg {
            self.push(
                CapabilityKind::Obfuscation,
                line,
                format!("{evidence} (decodes an encoded literal)"),
            );
        } else {
            self.decode_calls.push((line, evidence));
        }
    }

    fn on_string(&mut self, value: &str, span: Span) {
        let line = line_of(span);
        if let Some(marker) = CREDENTIAL_LITERALS.iter().find(|m| value.contains(*m)) {
            self.push(
                CapabilityKind::CredentialPath,
                line,
                format!(
                    "string literal mentioning `{marker}`: {}",
                    collapse(&format!("{value:?}"))
                ),
            );
        }
        if value.len() >= 64 && encoded_alphabet(value).is_some() {
            self.has_encoded_literal = true;
        }
        if value.len() > LONG_LITERAL
            && let Some(alphabet) = encoded_alphabet(value)
        {
            self.push(
                CapabilityKind::Obfuscation,
                line,
                format!(
                    "{alphabet} string literal of {} characters: {}",
                    value.len(),
                    truncate(value, 40)
                ),
            );
        }
    }

    fn on_bytes(&mut self, value: &[u8], span: Span) {
        // Readable text in a byte string (a C header, a config file) is not a payload;
        // binary bytes or an encoded alphabet are.
        let readable_text = std::str::from_utf8(value).is_ok_and(|t| {
            encoded_alphabet(t).is_none()
                && t.chars()
                    .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
        });
        if value.len() > LONG_BYTES && !readable_text {
            self.push(
                CapabilityKind::Obfuscation,
                line_of(span),
                format!("byte string literal of {} bytes", value.len()),
            );
        }
        if let Ok(s) = std::str::from_utf8(value) {
            let line = line_of(span);
            if let Some(marker) = CREDENTIAL_LITERALS.iter().find(|m| s.contains(*m)) {
                self.push(
                    CapabilityKind::CredentialPath,
                    line,
                    format!("byte string mentioning `{marker}`"),
                );
            }
        }
    }

    fn on_literal(&mut self, lit: &Lit) {
        match lit {
            Lit::Str(s) => self.on_string(&s.value(), s.span()),
            Lit::ByteStr(b) => self.on_bytes(&b.value(), b.span()),
            Lit::CStr(c) => self.on_bytes(c.value().as_bytes(), c.span()),
            _ => {}
        }
    }

    /// `env!`, `include*!` and friends; returns true when handled.
    fn on_builtin_macro(&mut self, mac: &syn::Macro, name: &str) -> bool {
        let line = line_of(mac.span());
        let evidence = source_of(mac).unwrap_or_else(|| format!("{name}!(..)"));
        let args: Option<Punctuated<Expr, Token![,]>> =
            mac.parse_body_with(Punctuated::parse_terminated).ok();
        let first = args.as_ref().and_then(|a| a.first());
        let literal = first.and_then(Self::string_literal).map(syn::LitStr::value);
        match name {
            "env" | "option_env" => {
                let lit = first.and_then(Self::string_literal);
                self.check_env_name(lit, line, evidence);
                true
            }
            "include" | "include_str" | "include_bytes" => {
                let Some(rel) = literal else {
                    // `include!(concat!(env!("OUT_DIR"), ...))`: generated code.
                    if let Some(args) = &args {
                        for a in args {
                            self.visit_expr(a);
                        }
                    }
                    return true;
                };
                if let Some(first) = first.and_then(Self::string_literal) {
                    self.on_string(&rel, first.span());
                }
                if let Some(reason) = suspicious_literal_path(&rel) {
                    self.push(
                        CapabilityKind::FileAccess,
                        line,
                        format!("{evidence} ({reason})"),
                    );
                    return true;
                }
                let Some(target) = join_path(&self.dir, &rel) else {
                    return true;
                };
                match name {
                    "include" => self.out.modules.push(ModuleRef {
                        candidates: vec![target],
                        mod_dirs: vec![self.current_mod_dir()],
                        what: format!("include!({rel:?})"),
                        line,
                    }),
                    "include_bytes" => {
                        if let Some(rec) = self.env.files.get(&target) {
                            let opaque = !rec.utf8
                                || (is_high_entropy(rec) && known_compressed(&rec.head).is_none());
                            if opaque {
                                self.push(
                                    CapabilityKind::Obfuscation,
                                    line,
                                    format!(
                                        "{evidence} (embeds {} bytes of {})",
                                        rec.size,
                                        if rec.utf8 {
                                            "high-entropy text"
                                        } else {
                                            "binary data"
                                        }
                                    ),
                                );
                            }
                        }
                    }
                    _ => {}
                }
                true
            }
            _ => false,
        }
    }

    fn current_mod_dir(&self) -> String {
        let mut d = self.mod_dir.clone();
        for m in &self.inline {
            if !d.is_empty() {
                d.push('/');
            }
            d.push_str(m);
        }
        d
    }

    /// Fallback for macro bodies that are not expression lists: look at
    /// paths (`a::b::c`, optionally followed by `(...)`) and literals.
    fn scan_tokens(&mut self, tokens: TokenStream) {
        let mut stack = vec![tokens.into_iter()];
        let mut path: Vec<(String, Span)> = Vec::new();
        let mut colons = 0;
        while let Some(top) = stack.last_mut() {
            let Some(tt) = top.next() else {
                stack.pop();
                self.flush_token_path(&mut path, None);
                continue;
            };
            match tt {
                TokenTree::Ident(id) => {
                    if !path.is_empty() && colons != 2 {
                        self.flush_token_path(&mut path, None);
                    }
                    colons = 0;
                    path.push((id.to_string(), id.span()));
                }
                TokenTree::Punct(p) if p.as_char() == ':' && !path.is_empty() => {
                    colons += 1;
                }
                TokenTree::Punct(_) => {
                    colons = 0;
                    self.flush_token_path(&mut path, None);
                }
                TokenTree::Literal(l) => {
                    colons = 0;
                    self.flush_token_path(&mut path, None);
                    self.on_literal(&Lit::new(l));
                }
                TokenTree::Group(g) if g.delimiter() == Delimiter::Brace && colons == 2 => {
                    // `a::b::{c, d as e}`: a use list. Each item is the path it names (an
                    // address type of `std::net` is no network use) and a name in scope.
                    colons = 0;
                    let prefix: Vec<String> = path.drain(..).map(|(s, _)| s).collect();
                    self.use_list_in_tokens(&prefix, g.stream());
                    stack.push(g.stream().into_iter());
                }
                TokenTree::Group(g) => {
                    colons = 0;
                    let arg = if g.delimiter() == Delimiter::Parenthesis {
                        g.stream().into_iter().next()
                    } else {
                        None
                    };
                    self.flush_token_path(&mut path, arg);
                    stack.push(g.stream().into_iter());
                }
            }
        }
    }

    /// The items of a use list in a macro body (`prefix::{a, b as c, self}`), flushed as the
    /// paths they name and remembered as names in scope, as `UseCollector` does for `use`
    /// items outside macros.
    fn use_list_in_tokens(&mut self, prefix: &[String], list: TokenStream) {
        if prefix.is_empty() {
            return;
        }
        let span = first_span(&list);
        let mut items: Vec<(String, Option<String>)> = Vec::new();
        let mut after_as = false;
        for tt in list {
            match tt {
                TokenTree::Ident(id) if id == "as" => after_as = true,
                TokenTree::Ident(id) if after_as => {
                    if let Some(last) = items.last_mut() {
                        last.1 = Some(id.to_string());
                    }
                    after_as = false;
                }
                TokenTree::Ident(id) => items.push((id.to_string(), None)),
                _ => after_as = false,
            }
        }
        for (item, rename) in items {
            let mut full = prefix.to_vec();
            if item != "self" {
                full.push(item.clone());
            }
            let name = rename.unwrap_or_else(|| full.last().cloned().unwrap_or(item));
            let mut path: Vec<(String, Span)> = full.iter().map(|s| (s.clone(), span)).collect();
            self.flush_token_path(&mut path, None);
            let resolved = self.resolve(&full);
            self.aliases.insert(name, resolved);
        }
    }

    fn flush_token_path(&mut self, path: &mut Vec<(String, Span)>, first_arg: Option<TokenTree>) {
        if path.is_empty() {
            return;
        }
        let segs: Vec<String> = path.iter().map(|(s, _)| s.clone()).collect();
        let span = path[0].1;
        path.clear();
        if segs.len() < 2 && first_arg.is_none() {
            return;
        }
        let full = self.resolve(&segs);
        // The `std::net` module itself (`pub use std::net;` in serde's `crate_root!`) uses
        // nothing: what is used through it is (`net::TcpStream::connect`, resolved below).
        if first_arg.is_none() && is_net_module(&full) {
            if let Some(last) = segs.last() {
                self.aliases.insert(last.clone(), full);
            }
            return;
        }
        let Some(target) = target_of(&full) else {
            return;
        };
        let resolved = full.join("::");
        let line = line_of(span);
        let arg = match &first_arg {
            Some(TokenTree::Literal(l)) => format!("({l})"),
            Some(_) => "(..)".to_owned(),
            None => String::new(),
        };
        let evidence = format!("{}{arg} (in a macro body)", segs.join("::"));
        let evidence = if resolved == segs.join("::") {
            evidence
        } else {
            format!("{evidence} [{resolved}]")
        };
        match target {
            Target::Network => self.push(CapabilityKind::Network, line, evidence),
            Target::Process => self.push(CapabilityKind::Process, line, evidence),
            Target::Home => self.push(CapabilityKind::CredentialPath, line, evidence),
            Target::Env => {
                let name = match &first_arg {
                    Some(TokenTree::Literal(l)) => match Lit::new(l.clone()) {
                        Lit::Str(s) => Some(s),
                        _ => None,
                    },
                    _ => None,
                };
                self.check_env_name(name.as_ref(), line, evidence);
            }
            Target::Fs => {
                let safe = match &first_arg {
                    Some(TokenTree::Literal(l)) => match Lit::new(l.clone()) {
                        Lit::Str(s) => suspicious_literal_path(&s.value()).is_none(),
                        _ => false,
                    },
                    _ => false,
                };
                if !safe {
                    self.push(CapabilityKind::FileAccess, line, evidence);
                }
            }
            Target::OpenOptions | Target::Decode => {}
        }
    }
}

/// Whether `name` may come from `use glob::*` (only names that the
/// interesting modules really export, so that `String::new` after
/// `use std::net::*` does not resolve to `std::net::String`).
fn glob_item_ok(glob: &[String], name: &str) -> bool {
    const PRELUDE: &[&str] = &[
        "String", "Vec", "Box", "Option", "Some", "None", "Result", "Ok", "Err", "Path", "PathBuf",
    ];
    let glob: Vec<&str> = glob.iter().map(String::as_str).collect();
    match glob.as_slice() {
        ["std", "net"] => matches!(
            name,
            "TcpStream" | "TcpListener" | "UdpSocket" | "ToSocketAddrs"
        ),
        ["std", "process"] => name == "Command",
        ["std", "env"] => matches!(name, "var" | "var_os" | "vars" | "vars_os" | "home_dir"),
        ["std", "fs"] => name == "File" || name == "OpenOptions" || FS_FUNCTIONS.contains(&name),
        ["std", "os", "unix" | "windows", "process"] => name.ends_with("Ext"),
        ["libc"] => EXEC_FUNCTIONS.contains(&name),
        [krate, ..] if HTTP_CRATES.contains(krate) => {
            name.starts_with(char::is_uppercase) && !PRELUDE.contains(&name)
        }
        _ => false,
    }
}

const FS_FUNCTIONS: &[&str] = &[
    "read",
    "read_to_string",
    "write",
    "copy",
    "rename",
    "remove_file",
    "remove_dir",
    "remove_dir_all",
    "create_dir",
    "create_dir_all",
    "read_dir",
    "metadata",
    "set_permissions",
    "hard_link",
    "read_link",
    "canonicalize",
    "symlink_metadata",
    "exists",
];

/// `std::net` / `core::net`, the module alone.
fn is_net_module(full: &[String]) -> bool {
    matches!(
        full.iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice(),
        ["std" | "core", "net"]
    )
}

/// The span of a token stream's first token (the call site when it is empty).
fn first_span(tokens: &TokenStream) -> Span {
    tokens
        .clone()
        .into_iter()
        .next()
        .map_or_else(Span::call_site, |t| t.span())
}

/// What a fully resolved path reaches, if anything interesting.
fn target_of(full: &[String]) -> Option<Target> {
    let mut segs: Vec<&str> = full.iter().map(String::as_str).collect();
    if matches!(segs.first(), Some(&"core" | &"alloc")) {
        segs[0] = "std";
    }
    let last = *segs.last()?;
    match segs.as_slice() {
        ["std", "net", rest @ ..] => {
            return match rest.first() {
                Some(first) if NET_DATA_TYPES.contains(first) => None,
                _ => Some(Target::Network),
            };
        }
        [krate, _, ..] if HTTP_CRATES.contains(krate) => return Some(Target::Network),
        ["std", "process", "Command", ..] | ["std", "os", "unix" | "windows", "process", ..] => {
            return Some(Target::Process);
        }
        ["libc", f] if EXEC_FUNCTIONS.contains(f) => return Some(Target::Process),
        ["nix", "unistd", f] if f.starts_with("exec") || *f == "fork" => {
            return Some(Target::Process);
        }
        ["std", "env", "var" | "var_os" | "vars" | "vars_os"]
        | ["env", "var" | "var_os" | "vars" | "vars_os"] => return Some(Target::Env),
        ["std", "fs", "OpenOptions", ..] => return Some(Target::OpenOptions),
        ["std", "fs", ..] => return Some(Target::Fs),
        _ => {}
    }
    if last == "home_dir" {
        return Some(Target::Home);
    }
    if segs.len() >= 2 && DECODE_FUNCTIONS.contains(&last) {
        return Some(Target::Decode);
    }
    None
}

/// Walks a method-call chain down to its root expression.
/// `cmd` in `cmd.arg(..).arg(..)`: the local name a method chain starts from.
fn path_root_ident(mut e: &Expr) -> Option<String> {
    loop {
        match e {
            Expr::MethodCall(m) => e = &m.receiver,
            Expr::Paren(p) => e = &p.expr,
            Expr::Path(p) if p.qself.is_none() && p.path.segments.len() == 1 => {
                return Some(p.path.segments[0].ident.to_string());
            }
            _ => return None,
        }
    }
}

fn chain_root(mut e: &Expr) -> &Expr {
    loop {
        match e {
            Expr::MethodCall(m) => e = &m.receiver,
            Expr::Paren(p) => e = &p.expr,
            Expr::Try(t) => e = &t.expr,
            _ => return e,
        }
    }
}

impl<'ast> Visit<'ast> for Scanner<'_, '_> {
    fn visit_attribute(&mut self, _: &'ast syn::Attribute) {
        // Attributes (doc comments, cfgs, derives) are metadata, not behaviour.
    }

    fn visit_item_mod(&mut self, i: &'ast syn::ItemMod) {
        let name = i.ident.to_string();
        let path_attr = i.attrs.iter().find_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) if nv.path.is_ident("path") => match &nv.value {
                Expr::Lit(syn::ExprLit {
                    lit: Lit::Str(s), ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        });
        match &i.content {
            Some((_, items)) => {
                self.inline.push(path_attr.unwrap_or(name));
                for item in items {
                    self.visit_item(item);
                }
                self.inline.pop();
            }
            None => {
                let line = line_of(i.ident.span());
                let base = self.current_mod_dir();
                let (candidates, mod_dirs) = if let Some(p) = path_attr {
                    let dir = if self.inline.is_empty() {
                        self.dir.clone()
                    } else {
                        base
                    };
                    match join_path(&dir, &p) {
                        Some(t) => {
                            let d = parent(&t).to_owned();
                            (vec![t], vec![d])
                        }
                        None => {
                            self.out.uninspected.push(format!(
                                "{}:{line}: `#[path = {p:?}] mod {name};` points outside the package",
                                self.path
                            ));
                            return;
                        }
                    }
                } else {
                    let stem = if base.is_empty() {
                        name.clone()
                    } else {
                        format!("{base}/{name}")
                    };
                    (
                        vec![format!("{stem}.rs"), format!("{stem}/mod.rs")],
                        vec![stem.clone(), stem],
                    )
                };
                self.out.modules.push(ModuleRef {
                    candidates,
                    mod_dirs,
                    what: format!("mod {name}"),
                    line,
                });
            }
        }
    }

    fn visit_local(&mut self, i: &'ast syn::Local) {
        if let (syn::Pat::Ident(id), Some(init)) = (&i.pat, &i.init)
            && self.is_safe_path_expr(&init.expr)
        {
            self.safe_vars.insert(id.ident.to_string());
        }
        visit::visit_local(self, i);
    }

    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        if let Expr::Path(p) = &*call.func {
            let handled = self.on_call(call, &p.path);
            let targeted = self.path_target(&p.path).is_some();
            if !targeted {
                self.visit_expr(&call.func);
            }
            if !handled {
                for a in &call.args {
                    self.visit_expr(a);
                }
            }
            return;
        }
        visit::visit_expr_call(self, call);
    }

    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        self.record_chain_arg(m);
        let method = m.method.to_string();
        let line = line_of(m.method.span());
        if method == "open"
            && let Expr::Call(root) = chain_root(&m.receiver)
            && let Expr::Path(p) = &*root.func
            && let Some((Target::OpenOptions, _)) = self.path_target(&p.path)
        {
            let evidence = format!(
                "OpenOptions::...open({})",
                m.args.first().and_then(source_of).unwrap_or_default()
            );
            self.check_file_args(m.args.iter(), line, &evidence);
        } else if DECODE_FUNCTIONS.contains(&method.as_str()) {
            let evidence = format!(
                ".{method}({})",
                m.args.first().and_then(source_of).unwrap_or_default()
            );
            self.on_decode(m.args.iter(), line, evidence);
        } else if method == "home_dir" {
            self.push(
                CapabilityKind::CredentialPath,
                line,
                source_of(m).unwrap_or_else(|| ".home_dir()".into()),
            );
        }
        visit::visit_expr_method_call(self, m);
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.on_fn_body(&f.block, |s| visit::visit_item_fn(s, f));
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.on_fn_body(&f.block, |s| visit::visit_impl_item_fn(s, f));
    }

    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        match &f.default {
            Some(block) => self.on_fn_body(block, |s| visit::visit_trait_item_fn(s, f)),
            None => visit::visit_trait_item_fn(self, f),
        }
    }

    fn visit_type_path(&mut self, t: &'ast syn::TypePath) {
        self.in_type += 1;
        visit::visit_type_path(self, t);
        self.in_type -= 1;
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        // Paths that are not called directly: types, function references,
        // trait imports in `impl` blocks.
        if let Some((target, resolved)) = self.path_target(path) {
            let line = line_of(path.span());
            let evidence = self.evidence(path, path, &resolved);
            match target {
                Target::Network => self.push(CapabilityKind::Network, line, evidence),
                // A `Command` in a type (`fn f(c: &mut Command)`) launches nothing; only
                // `Command::new` does, and calls are judged in `on_call`.
                Target::Process if self.in_type > 0 => {}
                Target::Process => self.push(CapabilityKind::Process, line, evidence),
                Target::Env => self.push(CapabilityKind::EnvRead, line, evidence),
                Target::Home => self.push(CapabilityKind::CredentialPath, line, evidence),
                Target::Fs | Target::OpenOptions | Target::Decode => {}
            }
        }
        visit::visit_path(self, path);
    }

    fn visit_use_tree(&mut self, _: &'ast UseTree) {
        // Imports alone do nothing; their uses are resolved and reported.
    }

    fn visit_lit(&mut self, lit: &'ast Lit) {
        self.on_literal(lit);
    }

    fn visit_expr_array(&mut self, a: &'ast syn::ExprArray) {
        let ints = a
            .elems
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    Expr::Lit(syn::ExprLit {
                        lit: Lit::Int(_),
                        ..
                    })
                )
            })
            .count();
        if ints > LONG_BYTES {
            self.push(
                CapabilityKind::Obfuscation,
                line_of(a.span()),
                format!("array literal of {ints} integers"),
            );
            return;
        }
        visit::visit_expr_array(self, a);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        let name = macro_name(mac);
        if self.on_builtin_macro(mac, &name) {
            return;
        }
        self.visit_path(&mac.path);
        match mac.parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated) {
            Ok(args) if name != "macro_rules" => {
                for a in &args {
                    self.visit_expr(a);
                }
            }
            _ => self.scan_tokens(mac.tokens.clone()),
        }
    }
}

/// Every argument list of `firsts` followed by every one of `seconds`: the lists a chain of
/// `arg`/`args` calls may pass. More than 16 are one list of an unknown argument.
fn followed_by(firsts: &ArgLists, seconds: &ArgLists) -> ArgLists {
    let combined: ArgLists = firsts
        .iter()
        .flat_map(|f| seconds.iter().map(move |s| [f.clone(), s.clone()].concat()))
        .collect();
    if combined.len() > 16 {
        vec![vec![None]]
    } else {
        combined
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::inspect::rust_source::{on_parser_thread, parse_file};

    fn scan_with(
        src: &str,
        files: &BTreeMap<String, FileRecord>,
        renames: &[(&str, &str)],
    ) -> FileScan {
        let env = ScanEnv {
            files,
            crate_renames: renames
                .iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect(),
        };
        let src = src.to_owned();
        on_parser_thread(|| {
            let f = parse_file(&src, 100_000).unwrap();
            scan_file(&f, "build.rs", "", &env)
        })
        .unwrap()
    }

    fn scan(src: &str) -> FileScan {
        scan_with(src, &BTreeMap::new(), &[])
    }

    fn kinds(s: &FileScan) -> Vec<(CapabilityKind, u32)> {
        s.capabilities.iter().map(|c| (c.kind, c.line)).collect()
    }

    use CapabilityKind::*;

    #[test]
    fn benign_build_script_has_no_capabilities() {
        let s = scan(
            r#"
use std::env;
use std::fs;
use std::path::{Path, PathBuf};

/// Reads ~/.ssh? No: this doc comment is not code.
fn main() {
    println!("cargo:rerun-if-changed=src/x.c");
    println!("cargo:rerun-if-env-changed=CARGO_CFG_TARGET_OS");
    let out_dir = env::var("OUT_DIR").unwrap();
    let target = env::var("TARGET").unwrap();
    let feature = env::var_os("CARGO_FEATURE_STD").is_some();
    let dest = Path::new(&out_dir).join("gen.rs");
    fs::write(&dest, format!("pub const T: &str = {target:?};")).unwrap();
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let tpl = fs::read_to_string("templates/gen.rs.in").unwrap();
    fs::create_dir_all(manifest.join("x")).ok();
    cc::Build::new().file("src/x.c").include("include").compile("x");
    if feature { println!("cargo:rustc-cfg=has_std {}", tpl.len()); }
    let _ = std::env::var("PATH");
    let _ = include_str!(concat!(env!("OUT_DIR"), "/x.rs"));
}
"#,
        );
        assert_eq!(s.capabilities, [], "{:#?}", s.capabilities);
    }

    #[test]
    fn network_process_and_credentials_with_lines() {
        let s = scan(
            r#"use std::process::Command;
fn main() {
    let s = std::net::TcpStream::connect("1.2.3.4:80");
    let out = Command::new("curl").arg("-d").output();
    let t = std::env::var("GITHUB_TOKEN");
}
"#,
        );
        assert_eq!(
            kinds(&s),
            [(Network, 3), (Process, 4), (CredentialPath, 5)],
            "{:#?}",
            s.capabilities
        );
        let ev: Vec<_> = s.capabilities.iter().map(|c| c.evidence.as_str()).collect();
        assert_eq!(
            ev,
            [
                r#"std::net::TcpStream::connect("1.2.3.4:80")"#,
                r#"Command::new("curl") [std::process::Command::new]: runs `curl`, a downloader or network tool"#,
                r#"std::env::var("GITHUB_TOKEN")"#,
            ]
        );
    }

    #[test]
    fn compiler_probes_are_build_tools_and_shells_are_processes() {
        // quote's build script, plus a helper that takes the command by type.
        let s = scan(
            r#"use std::env;
use std::process::{self, Command};
fn main() {
    let rustc = env::var_os("RUSTC")?;
    let output = Command::new(rustc).arg("--version").output().ok()?;
    configure(&mut Command::new("cc"));
}
fn configure(cmd: &mut Command) -> process::Command {
    Command::new("sh").arg("-c").arg("id")
}
"#,
        );
        assert_eq!(
            kinds(&s),
            [(BuildTool, 5), (BuildTool, 6), (Process, 9)],
            "{:#?}",
            s.capabilities
        );
        let ev: Vec<_> = s.capabilities.iter().map(|c| c.evidence.as_str()).collect();
        assert_eq!(
            ev,
            [
                "Command::new(rustc) [std::process::Command::new]: runs the program in `RUSTC`",
                r#"Command::new("cc") [std::process::Command::new]: runs `cc`"#,
                r#"Command::new("sh") [std::process::Command::new]: runs `sh -c`, a shell given its program inline or on standard input"#,
            ]
        );
    }

    #[test]
    fn a_shell_running_the_packages_configure_is_a_package_script() {
        // tikv-jemalloc-sys's shape: the arguments come in later statements.
        let mut files = BTreeMap::new();
        let text = b"#! /bin/sh\n# Generated by GNU Autoconf\n".to_vec();
        files.insert(
            "configure/configure".to_owned(),
            FileRecord {
                path: "configure/configure".into(),
                size: text.len() as u64,
                head: text.clone(),
                content: Some(text),
                entropy: 4.0,
                utf8: true,
            },
        );
        let src = r#"use std::process::Command;
fn main() {
    let configure = build_dir.join("configure");
    let mut cmd = Command::new("sh");
    cmd.arg(configure.to_str().unwrap().replace('\\', "/"))
        .current_dir(&build_dir)
        .arg("--disable-cxx");
    cmd.arg("--enable-doc=no");
    run(&mut cmd);
}
"#;
        let s = scan_with(src, &files, &[]);
        assert_eq!(kinds(&s), [(PackageScript, 4)], "{:#?}", s.capabilities);
        assert!(
            s.capabilities[0].evidence.contains("configure/configure"),
            "{}",
            s.capabilities[0].evidence
        );
        // Without the script in the package, the same launch is a process.
        let s = scan_with(src, &BTreeMap::new(), &[]);
        assert_eq!(kinds(&s), [(Process, 4)], "{:#?}", s.capabilities);
        // Inline code given in a later statement is seen.
        let bad = src.replace(
            "    cmd.arg(\"--enable-doc=no\");",
            "    cmd.arg(\"-e\");\n    cmd.arg(\"-c\").arg(script);",
        );
        let s = scan_with(&bad, &files, &[]);
        assert_eq!(kinds(&s), [(Process, 4)], "{:#?}", s.capabilities);
        assert!(
            s.capabilities[0].evidence.contains("`sh -c`"),
            "{}",
            s.capabilities[0].evidence
        );
    }

    #[test]
    fn queries_of_git_and_brew_are_build_tools_when_their_arguments_are_known() {
        // Shapes of openssl-sys (brew through a helper) and curl-sys (git submodule).
        let s = scan(
            r#"use std::process::Command;
fn main() {
    let _ = execute_command_and_get_output("brew", &["--prefix", version]);
    let _ = Command::new("git").args(&["submodule", "update", "--init", "curl"]).status();
    let _ = Command::new("git").args(&["clone", "https://example.invalid/x"]).status();
    let _ = Command::new("brew").arg("install").arg("x").status();
    // Arguments given in later statements count too.
    let mut g = Command::new("git");
    g.arg("describe");
}
fn execute_command_and_get_output(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output();
    None
}
"#,
        );
        assert_eq!(
            kinds(&s),
            [
                (BuildTool, 4),
                (Process, 5),
                (Process, 6),
                (BuildTool, 8),
                (BuildTool, 12)
            ],
            "{:#?}",
            s.capabilities
        );
        assert!(
            s.capabilities[4]
                .evidence
                .ends_with("runs `brew --prefix` (a read-only query)")
        );
        // A helper that other files may call is not followed.
        let s = scan(
            r#"mod other;
fn run(p: &str) { std::process::Command::new(p); }
fn main() { run("cc"); }
"#,
        );
        assert_eq!(kinds(&s), [(Process, 2)], "{:#?}", s.capabilities);
        let s = scan(
            r#"pub fn run(p: &str) { std::process::Command::new(p); }
fn main() { run("cc"); }
"#,
        );
        assert_eq!(kinds(&s), [(Process, 1)], "{:#?}", s.capabilities);
    }

    #[test]
    fn aliases_globs_and_renamed_crates_resolve() {
        let s = scan(
            r#"use std::net::*;
use std::process::Command as C;
use std::env::var as v;
fn main() {
    let _ = TcpStream::connect("x:1");
    C::new("sh");
    v("AWS_SECRET_ACCESS_KEY");
    fetch::blocking::get("http://evil");
    let a: SocketAddr = "1.1.1.1:1".parse().unwrap();
}
"#,
        );
        let k = kinds(&s);
        assert!(k.contains(&(Network, 5)), "{k:?}");
        assert!(k.contains(&(Process, 6)), "{k:?}");
        assert!(k.contains(&(CredentialPath, 7)), "{k:?}");
        assert!(
            !k.contains(&(Network, 8)),
            "fetch is not renamed here: {k:?}"
        );
        assert!(
            !k.iter().any(|(_, l)| *l == 9),
            "SocketAddr is plain data: {k:?}"
        );
        let s = scan_with(
            "fn main() { fetch::blocking::get(\"http://evil\"); }",
            &BTreeMap::new(),
            &[("fetch", "reqwest")],
        );
        assert_eq!(kinds(&s), [(Network, 1)]);
        assert!(
            s.capabilities[0]
                .evidence
                .contains("[reqwest::blocking::get]")
        );
    }

    #[test]
    fn env_reads() {
        let s = scan(
            r#"fn main() {
    let a = std::env::var("OUT_DIR");
    let b = std::env::var("CC");
    let c = std::env::var(name);
    for (k, v) in std::env::vars() {}
    let d = env!("HOME");
    let e = option_env!("NPM_TOKEN");
    let f = std::env::var("CARGO_REGISTRY_TOKEN");
    let g = env!("CARGO_PKG_VERSION");
    let h = std::env::var("AWS_LC_SYS_STATIC");
    let i = std::env::var("AWS_SECRET_ACCESS_KEY");
}"#,
        );
        assert_eq!(
            kinds(&s),
            [
                (EnvRead, 3),
                (EnvRead, 4),
                (EnvRead, 5),
                (CredentialPath, 6),
                (CredentialPath, 7),
                (CredentialPath, 8),
                (EnvRead, 10),
                (CredentialPath, 11)
            ],
            "{:#?}",
            s.capabilities
        );
    }

    #[test]
    fn file_access_heuristic() {
        let s = scan(
            r#"use std::fs::{self, File, OpenOptions};
fn main() {
    let out = std::env::var("OUT_DIR").unwrap();
    let p = std::path::Path::new(&out).join("a");
    fs::write(&p, "ok");
    File::open("data/table.txt");
    File::open("/etc/passwd");
    fs::read_to_string("../../secrets");
    fs::read(somewhere());
    OpenOptions::new().append(true).open("/tmp/x");
    let k = include_str!("/home/u/.ssh/id_rsa");
}"#,
        );
        let k = kinds(&s);
        assert_eq!(
            k.iter()
                .filter(|(kind, _)| *kind == FileAccess)
                .map(|(_, l)| *l)
                .collect::<Vec<_>>(),
            [7, 8, 9, 10, 11],
            "{:#?}",
            s.capabilities
        );
        assert!(
            s.capabilities
                .iter()
                .any(|c| c.evidence.contains("absolute path"))
        );
    }

    #[test]
    fn credential_literals_and_home_dir() {
        let s = scan(
            r#"fn main() {
    let p = dirs::home_dir().unwrap().join(".cargo/credentials.toml");
    let q = "~/.aws/credentials";
}"#,
        );
        let k = kinds(&s);
        assert!(k.contains(&(CredentialPath, 2)), "{k:?}");
        assert!(k.contains(&(CredentialPath, 3)), "{k:?}");
    }

    #[test]
    fn obfuscation() {
        let long_b64 = "QUFB".repeat(60) + "0";
        let bytes = "0x41, ".repeat(300);
        let src = format!(
            r#"fn main() {{
    let a = "{long_b64}";
    let b = [{bytes}];
    let c = base64::decode("aGVsbG8gd29ybGQgaGVsbG8gd29ybGQ=");
    let d = include_bytes!("payload.bin");
    let e = include_bytes!("icon.svg");
}}"#
        );
        let mut files = BTreeMap::new();
        for (name, utf8) in [("payload.bin", false), ("icon.svg", true)] {
            files.insert(
                name.to_owned(),
                FileRecord {
                    path: name.into(),
                    size: 100,
                    head: vec![],
                    content: None,
                    entropy: 4.0,
                    utf8,
                },
            );
        }
        let s = scan_with(&src, &files, &[]);
        assert_eq!(
            kinds(&s),
            [
                (Obfuscation, 2),
                (Obfuscation, 3),
                (Obfuscation, 4),
                (Obfuscation, 5)
            ],
            "{:#?}",
            s.capabilities
        );
    }

    #[test]
    fn long_byte_strings_of_readable_text_are_not_obfuscation() {
        // libdbus-sys 0.2.7 writes C headers from byte strings of 306 and 765 bytes.
        let header = "#define DBUS_VERSION 1\\n".repeat(20);
        let binary = "\\x7fELF\\x02".repeat(60);
        let encoded = "QUFB0".repeat(80);
        let s = scan(&format!(
            "fn main() {{\n    let a = b\"{header}\";\n    let b = b\"{binary}\";\n    let c = b\"{encoded}\";\n}}\n"
        ));
        assert_eq!(
            kinds(&s),
            [(Obfuscation, 3), (Obfuscation, 4)],
            "{:#?}",
            s.capabilities
        );
    }

    #[test]
    fn macro_bodies_are_inspected() {
        let s = scan(
            r#"macro_rules! go {
    () => { std::process::Command::new("sh") };
}
fn main() {
    println!("{:?}", std::net::TcpStream::connect("a:1"));
    my_macro! { weird syntax => std::env::var("SSH_AUTH_SOCK") }
}"#,
        );
        let k = kinds(&s);
        assert!(k.contains(&(Process, 2)), "{k:?}");
        assert!(k.contains(&(Network, 5)), "{k:?}");
        assert!(k.contains(&(EnvRead, 6)), "{k:?}");
    }

    #[test]
    fn std_net_in_a_macro_body_is_judged_by_what_is_used_through_it() {
        // serde_core 1.0.228's `crate_root!` re-exports `std::net` for its address types.
        let s = scan(
            r#"macro_rules! crate_root {
    () => {
        pub use std::net;
        pub use std::net::{IpAddr, SocketAddr as Sa};
    };
}
fn main() {}"#,
        );
        assert!(kinds(&s).is_empty(), "{:#?}", s.capabilities);
        // A socket through the module, or named in a use list, is network use.
        let s = scan(
            r#"macro_rules! go {
    () => {
        use std::net;
        let _ = net::TcpStream::connect("a:1");
    };
}
macro_rules! two {
    () => {
        use std::net::{IpAddr, TcpStream as T};
        use std::process::{self, Command};
        let _ = T::connect("b:2");
        let _ = Command::new("sh");
    };
}
fn main() {}"#,
        );
        let k = kinds(&s);
        assert!(k.contains(&(Network, 4)), "{k:?}");
        assert!(k.contains(&(Network, 11)), "{k:?}");
        assert!(k.contains(&(Process, 12)), "{k:?}");
    }

    #[test]
    fn modules_and_includes_are_reported() {
        let s = scan(
            r#"mod helper;
#[path = "../x/gen.rs"] mod generated;
mod inline { mod deeper; }
include!("more.rs");
fn main() {}"#,
        );
        let m: Vec<_> = s
            .modules
            .iter()
            .map(|m| (m.candidates.clone(), m.line))
            .collect();
        assert_eq!(
            m,
            [
                (vec!["helper.rs".to_owned(), "helper/mod.rs".to_owned()], 1),
                (
                    vec![
                        "inline/deeper.rs".to_owned(),
                        "inline/deeper/mod.rs".to_owned()
                    ],
                    3
                ),
                (vec!["more.rs".to_owned()], 4),
            ]
        );
        assert!(
            s.uninspected[0].contains("outside the package"),
            "{:?}",
            s.uninspected
        );
    }

    #[test]
    fn join_path_resolves_and_refuses_escapes() {
        assert_eq!(join_path("a/b", "../c.rs").as_deref(), Some("a/c.rs"));
        assert_eq!(join_path("", "./x/y.rs").as_deref(), Some("x/y.rs"));
        assert_eq!(join_path("", "../x.rs"), None);
        assert_eq!(join_path("a", "/etc/x"), None);
    }
}
