//! Split pull requests: ask for dependency bumps that a pull request's own manifest edits do
//! not explain to go into a separate pull request (`mixed-pr`), flag raised requirements in
//! feature pull requests (`requirement-raised`), and show what an edited policy file would
//! change (`policy-changed`, `policy-invalid`). Pure: the front ends supply the files.
//!
//! - `classify`: which changed files are dependency-side and which are work;
//! - `manifest`: dependency tables of a `Cargo.toml` and their edits;
//! - `pyproject`: whether a `pyproject.toml` edit is dependency bookkeeping;
//! - `explain`: which lock changes follow from those edits (dependency graphs);
//! - `commands`: how to split, as shell commands;
//! - `policy_diff`: the head policy against the one in force.

pub mod classify;
pub mod commands;
pub mod content;
pub mod explain;
pub mod manifest;
pub mod policy_diff;
pub mod pyproject;

use crate::finding::{Code, Evidence, Finding};
use crate::lockfile::{Change, ChangeKind, LockfileInput, ParsedLock};
use crate::policy::{POLICY_PATH, Policy, parse_policy};
use classify::{Classified, FileKind, classify_path};
use commands::{Bump, lock_dir, split_commands};
use explain::{Explanation, LockGraph, explain};
use manifest::{DepEdit, dependency_edits, manifest_change, parse_manifest};
use std::collections::BTreeSet;
use toml::Table;

/// A file the change touched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedPath {
    pub path: String,
    /// `added`, `modified`, `removed` (GitHub's words; git's A/M/D map onto them).
    pub status: String,
}

/// The pull request around the lock files: what the split rule and the policy-edit report
/// need. Pure data; absent (`None` in `ReviewInput`) when only two lock files are compared.
#[derive(Debug, Clone, Default)]
pub struct PrContext {
    pub changed_files: Vec<ChangedPath>,
    /// `Cargo.toml` files, both sides: every changed one, and the one beside each changed
    /// lock file (the workspace root, for `foo.workspace = true`).
    pub manifests: Vec<LockfileInput>,
    /// `.github/lockwatch.toml` at the head (None: absent there).
    pub head_policy: Option<Vec<u8>>,
    /// What the author calls the base in commands (`origin/main`); default `origin/HEAD`.
    pub base_ref: Option<String>,
    /// Both sides of the changed files the path rules count as work, when there are few
    /// (`content::sources_to_read`): their content can show a `rust-version` edit, a
    /// generated file, or code that adapts to an upgraded dependency.
    pub sources: Vec<LockfileInput>,
}

impl PrContext {
    fn manifest(&self, path: &str) -> (Option<Table>, Option<Table>) {
        self.manifests
            .iter()
            .find(|m| m.path == path)
            .map(|m| {
                (
                    m.base.as_deref().and_then(parse_manifest),
                    m.head.as_deref().and_then(parse_manifest),
                )
            })
            .unwrap_or_default()
    }

    /// Both sides of a work file as text, when the front end supplied it (`None`: not
    /// supplied, too large or not UTF-8 on a side it has).
    fn source(&self, path: &str) -> Option<(Option<&str>, Option<&str>)> {
        let s = self.sources.iter().find(|s| s.path == path)?;
        fn side(b: &Option<Vec<u8>>) -> Option<Option<&str>> {
            match b {
                None => Some(None),
                Some(bytes) => content::text(Some(bytes)).map(Some),
            }
        }
        Some((side(&s.base)?, side(&s.head)?))
    }

    fn changed(&self, path: &str) -> bool {
        self.changed_files.iter().any(|f| f.path == path)
    }

    fn base_ref(&self) -> &str {
        self.base_ref.as_deref().unwrap_or("origin/HEAD")
    }
}

/// What changed in a manifest (`Cargo.toml` or `pyproject.toml`) whose two sides we have.
fn content_change(kind: FileKind, m: &LockfileInput) -> manifest::ManifestChange {
    let (b, h) = (
        m.base.as_deref().map(parse_manifest),
        m.head.as_deref().map(parse_manifest),
    );
    if matches!(b, Some(None)) || matches!(h, Some(None)) {
        return manifest::ManifestChange::Other(vec!["not readable as TOML".into()]);
    }
    let (b, h) = (b.flatten(), h.flatten());
    match kind {
        FileKind::PythonProject => pyproject::pyproject_change(b.as_ref(), h.as_ref()),
        _ => manifest_change(b.as_ref(), h.as_ref()),
    }
}

/// Every changed file, classified.
pub fn classify_files(pr: &PrContext) -> Vec<Classified> {
    pr.changed_files
        .iter()
        .map(|f| {
            let mut kind = classify_path(&f.path);
            if kind == FileKind::Other
                && let Some((base, head)) = pr.source(&f.path)
            {
                let d = content::LineDiff::of(base.unwrap_or(""), head.unwrap_or(""));
                if base.is_some() && head.is_some() && content::rust_version_only(&d) {
                    kind = FileKind::Toolchain;
                } else if content::generated_marker(base, head).is_some() {
                    kind = FileKind::Regenerated;
                }
            }
            let manifest = pr
                .manifests
                .iter()
                .find(|m| m.path == f.path && classify::content_is_read(&m.path))
                .map(|m| content_change(kind, m));
            Classified {
                path: f.path.clone(),
                kind,
                manifest,
            }
        })
        .collect()
}

fn dir_of(path: &str) -> &str {
    lock_dir(path)
}

fn under(dir: &str, root: &str) -> bool {
    root.is_empty() || dir == root || dir.starts_with(&format!("{root}/"))
}

fn join(dir: &str, file: &str) -> String {
    if dir.is_empty() {
        file.to_string()
    } else {
        format!("{dir}/{file}")
    }
}

/// The manifest edits of the workspace that owns `lock_path`: manifests in its directory
/// tree, except those of nested workspaces (a directory with its own changed lock file or a
/// `[workspace]` manifest).
pub fn workspace_edits(pr: &PrContext, lock_path: &str) -> Vec<DepEdit> {
    let root_dir = dir_of(lock_path);
    let root_path = join(root_dir, "Cargo.toml");
    let (root_base, root_head) = pr.manifest(&root_path);
    let is_nested_root = |dir: &str| -> bool {
        if dir == root_dir {
            return false;
        }
        if pr.changed(&join(dir, "Cargo.lock")) {
            return true;
        }
        let (b, h) = pr.manifest(&join(dir, "Cargo.toml"));
        [b, h].iter().flatten().any(|t| t.contains_key("workspace"))
    };
    let mut edits = Vec::new();
    for m in &pr.manifests {
        let dir = dir_of(&m.path);
        if classify_path(&m.path) != FileKind::Manifest || !under(dir, root_dir) {
            continue;
        }
        // Any directory between the lock file and this manifest that is its own workspace?
        let mut d = dir;
        let mut nested = false;
        while under(d, root_dir) && d != root_dir {
            if is_nested_root(d) {
                nested = true;
                break;
            }
            d = dir_of(d);
        }
        if nested {
            continue;
        }
        let (b, h) = pr.manifest(&m.path);
        edits.extend(dependency_edits(
            &m.path,
            b.as_ref(),
            h.as_ref(),
            root_base.as_ref().or(b.as_ref()),
            root_head.as_ref().or(h.as_ref()),
        ));
    }
    edits
}

/// Everything the split rule found for one lock file.
#[derive(Debug, Default)]
pub struct LockAnalysis {
    pub work: Vec<Classified>,
    pub edits: Vec<DepEdit>,
    pub explanation: Explanation,
    /// When every work file is code adapting to dependencies this pull request upgrades
    /// (see `adaptation`): file -> the upgraded crates its changed lines use. The pull
    /// request is then a dependency pull request, and its work list is empty.
    pub adapted: Option<std::collections::BTreeMap<String, Vec<String>>>,
}

/// The adaptation rule (`docs/split.md` §1, "Decision on code that adapts to an upgrade"):
/// the pull request changes the version requirement of dependencies whose locked versions
/// changed (updated, or a copy added or removed: `0.0.4` gone when `0.0.7` was locked too), and its work is only Rust code whose changed lines use those dependencies (or no
/// dependency at all, with at least one file that uses an upgraded one). Such code is the
/// adaptation the upgrade needed, not a feature a bump hides in.
fn adaptation(
    pr: &PrContext,
    work: &[Classified],
    edits: &[DepEdit],
    base: &ParsedLock,
    head: &ParsedLock,
    changes: &[Change],
) -> Option<std::collections::BTreeMap<String, Vec<String>>> {
    if work.is_empty() {
        return None;
    }
    let rust = |n: &str| n.replace('-', "_");
    let moved = |krate: &str| {
        changes.iter().any(|c| {
            c.name == krate
                && matches!(
                    c.kind,
                    ChangeKind::Updated
                        | ChangeKind::Downgraded
                        | ChangeKind::Added
                        | ChangeKind::Removed
                )
        })
    };
    let upgraded: BTreeSet<String> = edits
        .iter()
        .filter(|e| e.kind == manifest::EditKind::Changed)
        .filter(|e| matches!((&e.old_req, &e.new_req), (Some(o), Some(n)) if o != n))
        .filter(|e| moved(&e.krate))
        .flat_map(|e| [rust(&e.key), rust(&e.krate)])
        .collect();
    let external: BTreeSet<String> = [&base.lock, &head.lock]
        .into_iter()
        .flat_map(|l| l.packages.iter())
        .filter(|p| p.source.is_some())
        .map(|p| rust(p.name.as_str()))
        .collect();
    content::adaptation(
        work.iter().map(|w| (w.path.as_str(), pr.source(&w.path))),
        &external,
        &upgraded,
    )
}

/// Analyse one lock file (both sides present).
pub fn analyze(
    pr: &PrContext,
    lock_path: &str,
    base: &ParsedLock,
    head: &ParsedLock,
    changes: &[Change],
) -> (LockAnalysis, LockGraph, LockGraph) {
    let work: Vec<Classified> = classify_files(pr)
        .into_iter()
        .filter(Classified::is_work)
        .collect();
    let edits = workspace_edits(pr, lock_path);
    let edited: BTreeSet<String> = edits.iter().map(|e| e.krate.clone()).collect();
    let (bg, hg) = (LockGraph::new(&base.lock), LockGraph::new(&head.lock));
    let explanation = explain(Some(&bg), Some(&hg), changes, &edited);
    let adapted = adaptation(pr, &work, &edits, base, head, changes);
    let work = if adapted.is_some() { Vec::new() } else { work };
    (
        LockAnalysis {
            work,
            edits,
            explanation,
            adapted,
        },
        bg,
        hg,
    )
}

fn describe_change(c: &Change) -> String {
    match (c.old_version(), c.new_version()) {
        (Some(o), Some(n)) if o != n => format!("{} {o} -> {n}", c.name),
        (Some(o), None) => format!("{} {o} (removed)", c.name),
        (None, Some(n)) => format!("{} {n} (added)", c.name),
        (_, n) => format!("{} {} ({})", c.name, n.unwrap_or_default(), c.kind.as_str()),
    }
}

fn summarize(items: &[String], max: usize) -> String {
    if items.len() <= max {
        items.join(", ")
    } else {
        format!("{} and {} more", items[..max].join(", "), items.len() - max)
    }
}

/// `mixed-pr` and `requirement-raised` findings for one lock file. Lock files added or
/// removed as a whole (a new or deleted workspace) are never mixed.
pub fn lockfile_findings(
    pr: &PrContext,
    lock_path: &str,
    base: Option<&ParsedLock>,
    head: Option<&ParsedLock>,
    changes: &[Change],
) -> Vec<Finding> {
    let (Some(base), Some(head)) = (base, head) else {
        return Vec::new();
    };
    let (a, bg, hg) = analyze(pr, lock_path, base, head, changes);
    let mut out = Vec::new();
    if a.work.is_empty() {
        return out;
    }
    let work: Vec<String> = a.work.iter().map(Classified::describe).collect();
    for e in a.edits.iter().filter(|e| e.raises_requirement()) {
        let follows: Vec<String> = a
            .explanation
            .explained
            .iter()
            .filter(|(_, cause)| **cause == e.krate)
            .map(|(&i, _)| describe_change(&changes[i]))
            .collect();
        let mut message = format!(
            "{}, in a pull request that also changes {}",
            e.describe(),
            summarize(&work, 3)
        );
        if !follows.is_empty() {
            message.push_str(&format!(
                "; in {lock_path} this brings {}",
                summarize(&follows, 5)
            ));
        }
        message.push_str(": if the change does not need the newer version, raise it in a dependency pull request");
        let line = changes
            .iter()
            .find(|c| c.name == e.krate)
            .and_then(Change::line);
        out.push(
            Finding::new(Code::RequirementRaised, message)
                .krate(e.krate.clone(), e.new_req.clone())
                .at(lock_path, line),
        );
    }
    let unrelated = &a.explanation.unrelated;
    if unrelated.is_empty() {
        return out;
    }
    let listed: Vec<String> = unrelated
        .iter()
        .map(|&i| {
            let mut s = describe_change(&changes[i]);
            if let Some(&m) = a.explanation.carried_by.get(&i) {
                s.push_str(&format!(", with {}", changes[m].name));
            }
            s
        })
        .collect();
    let evidence: Vec<Evidence> = unrelated
        .iter()
        .zip(&listed)
        .map(|(&i, text)| Evidence {
            file: Some(lock_path.to_string()),
            line: changes[i].line(),
            text: format!("{text}: not reached from any dependency this pull request edits"),
        })
        .collect();
    let movers: Vec<(String, String)> = unrelated
        .iter()
        .map(|&i| &changes[i])
        .filter(|c| matches!(c.kind, ChangeKind::Updated | ChangeKind::Downgraded))
        .filter_map(|c| c.new_version().map(|v| (c.name.clone(), v)))
        .collect();
    let bumps: Vec<Bump> = hg
        .deps_first(&movers)
        .into_iter()
        .filter_map(|(name, new)| {
            let c = changes
                .iter()
                .find(|c| c.name == name && c.new_version().as_deref() == Some(&new))?;
            Some(Bump {
                ambiguous: bg.versions_of(&name) > 1,
                old: c.old_version()?,
                name,
                new,
            })
        })
        .collect();
    let mut fix = split_commands(lock_path, pr.base_ref(), &bumps);
    if bumps.is_empty() {
        fix.drain(..3);
    }
    let mut details = String::new();
    if !a.edits.is_empty() {
        details.push_str("Manifest edits in this pull request:\n");
        for e in &a.edits {
            details.push_str(&format!("- {}\n", e.describe()));
        }
    }
    if !a.explanation.explained.is_empty() {
        details.push_str("Lock changes they explain:\n");
        for (&i, cause) in &a.explanation.explained {
            details.push_str(&format!(
                "- {} (by `{cause}`)\n",
                describe_change(&changes[i])
            ));
        }
    }
    let message = format!(
        "this pull request changes {} and also bumps {} crate{} in {lock_path} that its manifest changes do not explain: {}. Move {} into a separate dependency pull request, so each can be reviewed and reverted on its own",
        summarize(&work, 3),
        unrelated.len(),
        if unrelated.len() == 1 { "" } else { "s" },
        summarize(&listed, 10),
        if unrelated.len() == 1 { "it" } else { "them" },
    );
    let mut finding = Finding::new(Code::MixedPr, message)
        .at(
            lock_path,
            unrelated.first().and_then(|&i| changes[i].line()),
        )
        .evidence(evidence)
        .fix(fix);
    if !details.is_empty() {
        finding = finding.details(details);
    }
    out.push(finding);
    out
}

/// Findings about the pull request's own `.github/lockwatch.toml` edits, against the policy
/// in force (which the edit never changes for this review).
pub fn policy_findings(pr: &PrContext, in_force: &Policy) -> Vec<Finding> {
    if !pr.changed(POLICY_PATH) {
        return Vec::new();
    }
    let Some(bytes) = &pr.head_policy else {
        let lines = policy_diff::describe_changes(in_force, &Policy::default());
        let mut message = format!(
            "this pull request deletes {POLICY_PATH}: after merge lockwatch uses its defaults"
        );
        if !lines.is_empty() {
            message.push_str(&format!(", which {}", lines.join("; ")));
        }
        return vec![Finding::new(Code::PolicyChanged, message).at(POLICY_PATH, None)];
    };
    let parsed = std::str::from_utf8(bytes)
        .map_err(|_| format!("{POLICY_PATH} is not UTF-8"))
        .and_then(|t| parse_policy(t).map_err(|e| e.message));
    match parsed {
        Err(message) => vec![
            Finding::new(
                Code::PolicyInvalid,
                format!(
                    "the {POLICY_PATH} in this pull request is invalid ({message}); this review uses the base branch's policy, and after merge lockwatch would fall back to its defaults"
                ),
            )
            .at(POLICY_PATH, None),
        ],
        Ok(head) => {
            let lines = policy_diff::describe_changes(in_force, &head);
            if lines.is_empty() {
                return Vec::new();
            }
            let evidence = lines
                .iter()
                .map(|l| Evidence {
                    file: Some(POLICY_PATH.to_string()),
                    line: None,
                    text: format!("this PR {l}"),
                })
                .collect();
            vec![
                Finding::new(
                    Code::PolicyChanged,
                    format!(
                        "this pull request edits {POLICY_PATH}; it takes effect only after merge, not in this review. This PR {}",
                        lines.join("; ")
                    ),
                )
                .at(POLICY_PATH, None)
                .evidence(evidence),
            ]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str) -> ChangedPath {
        ChangedPath {
            path: path.into(),
            status: "modified".into(),
        }
    }

    fn side(path: &str, base: Option<&str>, head: Option<&str>) -> LockfileInput {
        LockfileInput {
            path: path.into(),
            base_path: None,
            base: base.map(|s| s.as_bytes().to_vec()),
            head: head.map(|s| s.as_bytes().to_vec()),
        }
    }

    #[test]
    fn policy_edits_are_described_against_the_policy_in_force() {
        let mut pr = PrContext {
            changed_files: vec![file(POLICY_PATH)],
            head_policy: Some(b"[[ignore]]\nid = \"RUSTSEC-2026-0260\"\nreason = \"x\"\n".to_vec()),
            ..Default::default()
        };
        let f = policy_findings(&pr, &Policy::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].code, Code::PolicyChanged);
        assert!(
            f[0].message
                .contains("adds an ignore for RUSTSEC-2026-0260"),
            "{}",
            f[0].message
        );

        pr.head_policy = Some(b"cooldown = 1\n".to_vec());
        let f = policy_findings(&pr, &Policy::default());
        assert_eq!(f[0].code, Code::PolicyInvalid);
        assert!(f[0].message.contains("line 1"), "{}", f[0].message);

        pr.head_policy = None;
        let strict = parse_policy("require-split = false\n").expect("policy");
        let f = policy_findings(&pr, &strict);
        assert!(f[0].message.contains("deletes") && f[0].message.contains("require-split on"));

        // Not edited by the PR: nothing to say, whatever the head holds.
        pr.changed_files = vec![file("src/lib.rs")];
        pr.head_policy = Some(b"not toml [".to_vec());
        assert!(policy_findings(&pr, &Policy::default()).is_empty());
    }

    #[test]
    fn nested_workspaces_keep_their_own_edits() {
        let root = "[workspace]\nmembers = [\"crates/a\"]\n";
        let pr = PrContext {
            changed_files: vec![
                file("Cargo.lock"),
                file("crates/a/Cargo.toml"),
                file("tools/xtask/Cargo.toml"),
                file("tools/xtask/Cargo.lock"),
            ],
            manifests: vec![
                side("Cargo.toml", Some(root), Some(root)),
                side(
                    "crates/a/Cargo.toml",
                    Some("[dependencies]\n"),
                    Some("[dependencies]\ncsv = \"1\"\n"),
                ),
                side(
                    "tools/xtask/Cargo.toml",
                    Some("[workspace]\n[dependencies]\n"),
                    Some("[workspace]\n[dependencies]\nrand = \"0.8\"\n"),
                ),
            ],
            ..Default::default()
        };
        let names = |lock: &str| -> Vec<String> {
            workspace_edits(&pr, lock)
                .into_iter()
                .map(|e| e.krate)
                .collect()
        };
        assert_eq!(names("Cargo.lock"), vec!["csv"]);
        assert_eq!(names("tools/xtask/Cargo.lock"), vec!["rand"]);
    }

    #[test]
    fn classification_reads_manifest_content() {
        let pr = PrContext {
            changed_files: vec![
                file("Cargo.toml"),
                file("a/Cargo.toml"),
                file("b/Cargo.toml"),
            ],
            manifests: vec![
                side(
                    "Cargo.toml",
                    Some("[dependencies]\nx = \"1\"\n"),
                    Some("[dependencies]\nx = \"2\"\n"),
                ),
                side(
                    "a/Cargo.toml",
                    Some("[features]\n"),
                    Some("[features]\nf = []\n"),
                ),
                side("b/Cargo.toml", Some("x = 1\n"), Some("not toml [")),
            ],
            ..Default::default()
        };
        let work: Vec<bool> = classify_files(&pr)
            .iter()
            .map(Classified::is_work)
            .collect();
        assert_eq!(work, vec![false, true, true]);
    }
}
