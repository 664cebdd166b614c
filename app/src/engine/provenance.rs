//! Release integrity of an updated crate: what the new `.crate` says about where it comes
//! from compared with the old one, the yank patterns around it in the index, and license
//! drift. Pure: everything comes from [`CrateFacts`].

use super::facts::{CrateFacts, IndexFacts, Release, VersionFacts, wants_fetch};
use crate::finding::{Code, Evidence, Finding, Level};
use crate::inspect::{CapabilityKind, CrateSurface, compare, owner_of};
use crate::lockfile::{Change, ChangeKind};
use crate::policy::{Policy, same_license};

/// Fewest yanked releases right before the new one that make a `yank-burst`.
pub const BURST_YANKED: usize = 2;

/// Findings about the release integrity of one change.
pub fn release_findings(
    path: &str,
    c: &Change,
    facts: &CrateFacts,
    policy: &Policy,
    out: &mut Vec<Finding>,
) {
    let Some(new) = &c.new else { return };
    if !wants_fetch(c) {
        return;
    }
    let version = new.version.to_string();
    let Some(vf) = facts.get(&c.name, &version) else {
        return;
    };
    if vf.checksum_mismatch.is_some() || vf.index_checksum_mismatch.is_some() {
        return; // not inspected: the mismatch is the finding
    }
    // Updates only: a downgrade goes back to a release that may predate Cargo's provenance
    // records, so comparing it with the newer one says nothing.
    let old_version = c
        .old
        .as_ref()
        .filter(|_| c.kind == ChangeKind::Updated)
        .map(|o| o.version.to_string());
    let old_vf = old_version.as_deref().and_then(|v| facts.get(&c.name, v));
    let new_surface = surface(vf);
    let old_surface = old_vf.and_then(surface);
    let at = |f: Finding| {
        f.krate(c.name.clone(), Some(version.clone()))
            .at(path, c.line())
    };
    let risk = fresh_risk(
        vf.index.as_ref(),
        old_vf.and_then(|f| f.index.as_ref()),
        old_surface,
        new_surface,
    );
    let mut found: Vec<Finding> = Vec::new();

    if let (Some(old), Some(new)) = (old_surface, new_surface) {
        provenance_delta(&c.name, &version, old, new, &mut found);
    }
    if let (Some(new), Some(old_v)) = (new_surface, old_version.as_deref()) {
        let old_license = old_surface.and_then(|s| s.provenance.license.as_deref());
        let new_license = new.provenance.license.as_deref();
        if old_surface.is_some() && !same_license(old_license, new_license) {
            found.push(Finding::new(
                Code::LicenseChanged,
                format!(
                    "the license of `{}` changed from {} ({old_v}) to {} ({version})",
                    c.name,
                    shown(old_license),
                    shown(new_license)
                ),
            ));
        }
    }
    if let Some(allowed) = &policy.licenses
        && let Some(new) = new_surface
    {
        let old_license = old_surface.and_then(|s| s.provenance.license.as_deref());
        let license = new.provenance.license.as_deref();
        // A crate is judged when it is new, or when its license changed.
        let judged = old_surface.is_none() || !same_license(old_license, license);
        if judged && let Err(why) = allowed.check(license, new.provenance.license_file.as_deref()) {
            found.push(Finding::new(
                Code::LicenseNotAllowed,
                format!("`{}` {version}: {why}", c.name),
            ));
        }
    }
    if let (Some(ix), Some(old_ix)) = (vf.index.as_ref(), old_vf.and_then(|f| f.index.as_ref()))
        && c.kind == ChangeKind::Updated
    {
        yank_patterns(c, &version, ix, old_ix, facts, policy, &mut found);
    }

    for mut f in found {
        // Measured on real updates (docs/findings.md): links move to a new owner in about 2 %
        // of benign updates, often with new dependencies or an edited build script, so only
        // new build-time code makes a moved repository `deny`; the rarer signals combine
        // with anything new.
        let combined: Vec<String> = match f.code {
            Code::VcsInfoMissing | Code::YankForcedUpgrade | Code::YankBurst => risk.all(),
            Code::RepositoryMoved => risk.new_code.clone(),
            _ => Vec::new(),
        };
        if !combined.is_empty() && !policy.levels.contains_key(&f.code) {
            f.level = Level::Deny;
            f.policy_note = Some(format!(
                "deny: the new release also brings {}",
                combined.join(", ")
            ));
        }
        out.push(at(f));
    }
}

fn surface(vf: &VersionFacts) -> Option<&CrateSurface> {
    vf.surface.as_ref().and_then(|s| s.as_ref().ok())
}

fn shown(license: Option<&str>) -> String {
    license.map_or_else(|| "none".to_owned(), |l| format!("`{l}`"))
}

/// What the new release adds that can run code.
#[derive(Debug, Default)]
struct Risk {
    /// New dependencies (from the index lines).
    deps: Option<String>,
    /// The existing build script changed.
    changed_script: bool,
    /// New build-time code: a new build script, proc-macro code, new capabilities (other
    /// than build-tool launches), new prebuilt binaries.
    new_code: Vec<String>,
}

impl Risk {
    fn all(&self) -> Vec<String> {
        let mut all: Vec<String> = self.deps.iter().cloned().collect();
        if self.changed_script {
            all.push("a changed build script".to_owned());
        }
        all.extend(self.new_code.iter().cloned());
        all
    }
}

fn fresh_risk(
    ix: Option<&IndexFacts>,
    old_ix: Option<&IndexFacts>,
    old: Option<&CrateSurface>,
    new: Option<&CrateSurface>,
) -> Risk {
    let mut risk = Risk::default();
    if let (Some(ix), Some(old_ix)) = (ix, old_ix) {
        let added: Vec<String> = ix
            .deps
            .difference(&old_ix.deps)
            .map(|n| format!("`{n}`"))
            .collect();
        if !added.is_empty() {
            risk.deps = Some(format!("new dependencies ({})", added.join(", ")));
        }
    }
    if let (Some(old), Some(new)) = (old, new) {
        let d = compare(old, new);
        if d.build_script_added {
            risk.new_code.push("a new build script".to_owned());
        } else if d.build_script_diff.is_some() {
            risk.changed_script = true;
        }
        if d.became_proc_macro {
            risk.new_code.push("proc-macro code".to_owned());
        }
        let mut kinds: Vec<String> = d
            .new_capabilities
            .iter()
            .filter(|c| c.kind != CapabilityKind::BuildTool)
            .map(|c| c.kind.to_string())
            .collect();
        kinds.dedup();
        if !kinds.is_empty() {
            risk.new_code.push(format!(
                "new build-time capabilities ({})",
                kinds.join(", ")
            ));
        }
        if !d.new_binaries.is_empty() {
            risk.new_code.push("new prebuilt binaries".to_owned());
        }
    }
    risk
}

/// Hosts run by the Rust project for every crate: a link moved there is not a move away.
const OFFICIAL_HOSTS: &[&str] = &["docs.rs", "crates.io", "lib.rs"];

/// The provenance delta between the old and the new `.crate`.
fn provenance_delta(
    name: &str,
    version: &str,
    old: &CrateSurface,
    new: &CrateSurface,
    out: &mut Vec<Finding>,
) {
    let (op, np) = (&old.provenance, &new.provenance);
    match (&op.vcs, &np.vcs) {
        (Some(o), None) => out.push(
            Finding::new(
                Code::VcsInfoMissing,
                format!(
                    "`{name}` {version} has no `.cargo_vcs_info.json`: nothing ties it to a commit of its repository, although the previous release named one{}",
                    o.commit
                        .as_deref()
                        .map(|c| format!(" ({})", short_sha(c)))
                        .unwrap_or_default()
                ),
            )
            .evidence(vec![Evidence {
                file: Some(".cargo_vcs_info.json".to_owned()),
                line: None,
                text: "missing in the new release".to_owned(),
            }]),
        ),
        (Some(o), Some(n)) => {
            if n.dirty && !o.dirty {
                out.push(Finding::new(
                    Code::VcsInfoDirty,
                    format!(
                        "`{name}` {version} was packaged from a work tree with uncommitted changes (`dirty: true` in `.cargo_vcs_info.json`{}): the published code is not exactly what the repository holds",
                        n.commit
                            .as_deref()
                            .map(|c| format!(", commit {}", short_sha(c)))
                            .unwrap_or_default()
                    ),
                ));
            }
            // No `path_in_vcs` (Cargo before 1.58 did not write it) and `""` both mean the
            // repository's root.
            let root = |p: &Option<String>| p.clone().unwrap_or_default();
            if !o.malformed && !n.malformed && root(&o.path_in_vcs) != root(&n.path_in_vcs) {
                out.push(Finding::new(
                    Code::VcsPathChanged,
                    format!(
                        "`{name}` {version} was packaged from `{}` of its repository, the previous release from `{}`",
                        n.path_in_vcs.as_deref().unwrap_or(""),
                        o.path_in_vcs.as_deref().unwrap_or("")
                    ),
                ));
            }
        }
        _ => {}
    }
    if op.manifest_orig && !np.manifest_orig {
        out.push(Finding::new(
            Code::ManifestOrigMissing,
            format!(
                "`{name}` {version} has no `Cargo.toml.orig`, which `cargo publish` always writes; the previous release had one, so this one was packaged another way"
            ),
        ));
    }
    let links = [
        (
            "repository",
            old.repository.as_deref(),
            new.repository.as_deref(),
        ),
        ("homepage", op.homepage.as_deref(), np.homepage.as_deref()),
        (
            "documentation",
            op.documentation.as_deref(),
            np.documentation.as_deref(),
        ),
    ];
    let mut moved: Vec<Evidence> = Vec::new();
    for (key, before, after) in links {
        let Some(before) = before else { continue };
        let (Some(old_owner), after_owner) = (owner_of(before), after.and_then(owner_of)) else {
            continue;
        };
        let changed = match &after_owner {
            // Moving the docs or homepage to crates.io's own hosts hides nothing.
            Some(a) if key != "repository" && OFFICIAL_HOSTS.contains(&a.as_str()) => false,
            Some(a) => *a != old_owner,
            // Dropping the repository link hides where the code comes from.
            None => key == "repository",
        };
        if changed {
            moved.push(Evidence {
                file: Some("Cargo.toml".to_owned()),
                line: None,
                text: format!("{key}: {before} -> {}", after.unwrap_or("(removed)")),
            });
        }
    }
    if !moved.is_empty() {
        let keys: Vec<&str> = moved
            .iter()
            .filter_map(|e| e.text.split(':').next())
            .collect();
        out.push(
            Finding::new(
                Code::RepositoryMoved,
                format!(
                    "`{name}` {version} points its {} at another host or owner than the previous release",
                    keys.join(", ")
                ),
            )
            .evidence(moved),
        );
    }
    if !op.authors.is_empty()
        && !np.authors.is_empty()
        && !op.authors.iter().any(|a| np.authors.contains(a))
    {
        out.push(Finding::new(
            Code::AuthorsReplaced,
            format!(
                "`{name}` {version} lists none of the previous release's authors ({} -> {})",
                op.authors.join(", "),
                np.authors.join(", ")
            ),
        ));
    }
}

fn short_sha(s: &str) -> String {
    s.chars().take(12).collect()
}

fn date_time(ts: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ts)
        .map(|t| {
            format!(
                "{} {:02}:{:02} UTC",
                t.date(),
                t.time().hour(),
                t.time().minute()
            )
        })
        .unwrap_or_else(|_| "an unknown date".to_owned())
}

/// When a release leaves the cooldown, if it is still inside it.
pub fn cooldown_end(pubtime: Option<i64>, now: i64, policy: &Policy) -> Option<i64> {
    let end = pubtime?.saturating_add(
        i64::try_from(policy.cooldown_hours)
            .ok()?
            .saturating_mul(3600),
    );
    (end > now).then_some(end)
}

/// Releases sorted by semver (unparsable versions are left out).
fn by_version(releases: &[Release]) -> Vec<(semver::Version, &Release)> {
    let mut v: Vec<_> = releases
        .iter()
        .filter_map(|r| semver::Version::parse(&r.version).ok().map(|v| (v, r)))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// The forced-upgrade and yank-burst patterns of an update.
fn yank_patterns(
    c: &Change,
    version: &str,
    ix: &IndexFacts,
    old_ix: &IndexFacts,
    facts: &CrateFacts,
    policy: &Policy,
    out: &mut Vec<Finding>,
) {
    let Some(until) = cooldown_end(ix.pubtime, facts.now, policy) else {
        return; // not fresh: whatever was yanked, the new release had time to be looked at
    };
    if ix.yanked {
        return; // the `yanked` finding says it
    }
    let Some(old) = c.old.as_ref().map(|o| o.version.to_string()) else {
        return;
    };
    let releases = if ix.releases.is_empty() {
        &old_ix.releases
    } else {
        &ix.releases
    };
    let sorted = by_version(releases);
    let new_v = semver::Version::parse(version).ok();
    // The yanked releases right before the new one, newest first.
    let run: Vec<&str> = sorted
        .iter()
        .rev()
        .skip_while(|(v, _)| new_v.as_ref().is_none_or(|n| v >= n))
        .take_while(|(_, r)| r.yanked)
        .map(|(_, r)| r.version.as_str())
        .collect();
    let wait = format!(
        "# or wait until {} (end of the {} h cooldown) and review {version} then",
        date_time(until),
        policy.cooldown_hours
    );
    let stay = |at: &str| {
        vec![
            format!(
                "# do not run `cargo update -p {}`: it moves to {version}, the release this pattern pushes",
                c.name
            ),
            format!(
                "# stay on {at}: keep the base lock file's entry (a yanked version still downloads for lock files that name it)"
            ),
            format!("# pin it in Cargo.toml until then: {} = \"={at}\"", c.name),
            wait.clone(),
        ]
    };
    let burst = if run.len() >= BURST_YANKED {
        format!(
            "; the {} releases right before it are yanked too ({})",
            run.len(),
            run.iter().rev().copied().collect::<Vec<_>>().join(", ")
        )
    } else {
        String::new()
    };
    if old_ix.yanked {
        out.push(
            Finding::new(
                Code::YankForcedUpgrade,
                format!(
                    "`{}` {old} (the base version) is yanked and the update goes to {version}, published less than {} h ago{burst}: the pattern of a hijacked crate whose good releases are yanked to push users onto a new one",
                    c.name, policy.cooldown_hours
                ),
            )
            .fix(stay(&old)),
        );
    } else if run.len() >= BURST_YANKED {
        out.push(
            Finding::new(
                Code::YankBurst,
                format!(
                    "`{}` {version} was published less than {} h ago{burst}",
                    c.name, policy.cooldown_hours
                ),
            )
            .fix(stay(&old)),
        );
    }
}

/// Why moving from `current` to `candidate` is not safe yet (empty when it is).
pub fn unsafe_reasons(
    current: Option<&Release>,
    candidate: &Release,
    now: i64,
    policy: &Policy,
) -> Vec<String> {
    let mut why = Vec::new();
    if candidate.yanked {
        why.push("yanked".to_owned());
    }
    if let Some(end) = cooldown_end(candidate.pubtime, now, policy) {
        why.push(format!("inside the cooldown until {}", date_time(end)));
    }
    if let Some(cur) = current {
        let added: Vec<String> = candidate
            .deps
            .difference(&cur.deps)
            .map(|d| {
                if candidate.build_deps.contains(d) {
                    format!("`{d}` (build)")
                } else {
                    format!("`{d}`")
                }
            })
            .collect();
        if !added.is_empty() {
            why.push(format!("adds dependencies {}", added.join(", ")));
        }
        if candidate.links.is_some() && candidate.links != cur.links {
            why.push(format!(
                "links the native library `{}`",
                candidate.links.as_deref().unwrap_or_default()
            ));
        }
    }
    why
}

/// The fix lines of an advisory finding: a `cargo update --precise` that never walks into
/// a release that is yanked, inside the cooldown, or that adds dependencies or native links
/// the current version lacks; when every patched release is like that, says so and gives the
/// safe alternative (stay and pin, or wait until a date). Without the crate's index
/// (`releases` None), the lowest patched version is suggested unchecked.
pub fn advisory_fix(
    name: &str,
    current: &semver::Version,
    advisory: &rustsec::Advisory,
    releases: Option<&[Release]>,
    now: i64,
    policy: &Policy,
) -> Vec<String> {
    let cmd = |v: &semver::Version| format!("cargo update -p {name}@{current} --precise {v}");
    let raise = |v: &semver::Version| {
        format!(
            "# no semver-compatible fix: raise the requirement on `{name}` to {v} in Cargo.toml (breaking upgrade)"
        )
    };
    let suggested = crate::advisories::suggest_fix(advisory, current);
    let Some(releases) = releases.filter(|r| !r.is_empty()) else {
        return match suggested {
            Some(f) if f.compatible || f.version < *current => vec![cmd(&f.version)],
            Some(f) => vec![raise(&f.version)],
            None => vec![format!(
                "# no patched release of `{name}`: remove or replace it"
            )],
        };
    };
    let sorted = by_version(releases);
    let cur = sorted.iter().find(|(v, _)| v == current).map(|(_, r)| *r);
    let caret = semver::VersionReq {
        comparators: vec![semver::Comparator {
            op: semver::Op::Caret,
            major: current.major,
            minor: Some(current.minor),
            patch: Some(current.patch),
            pre: current.pre.clone(),
        }],
    };
    let forward: Vec<&(semver::Version, &Release)> = sorted
        .iter()
        .filter(|(v, _)| v > current && v.pre.is_empty() && !advisory.versions.is_vulnerable(v))
        .collect();
    let mut skipped: Vec<(String, Vec<String>)> = Vec::new();
    let patched =
        |v: &semver::Version| advisory.versions.patched().iter().any(|req| req.matches(v));
    for compatible in [true, false] {
        let mut candidates: Vec<_> = forward
            .iter()
            .filter(|(v, _)| caret.matches(v) == compatible)
            .collect();
        // Across a breaking upgrade, a patched release before an old one the advisory merely
        // does not cover (time 0.1 -> 0.2.23, not 0.2.0); the sort is stable.
        if !compatible {
            candidates.sort_by_key(|(v, _)| !patched(v));
        }
        for (v, r) in candidates {
            // A breaking upgrade is a Cargo.toml edit reviewed on its own: new dependencies
            // are expected there. The trap of dependencies slipped into a `cargo update` is
            // only a semver-compatible move's.
            let why = unsafe_reasons(cur.filter(|_| compatible), r, now, policy);
            if why.is_empty() {
                let mut lines = vec![if compatible { cmd(v) } else { raise(v) }];
                if !skipped.is_empty() {
                    lines.push(format!(
                        "# not the earlier patched release(s): {}",
                        skipped_text(&skipped)
                    ));
                }
                return lines;
            }
            if !skipped.iter().any(|(s, _)| *s == v.to_string()) {
                skipped.push((v.to_string(), why));
            }
        }
    }
    if !skipped.is_empty() {
        let mut lines = vec![format!(
            "# every patched release of `{name}` is unsafe to move to yet: {}",
            skipped_text(&skipped)
        )];
        lines.push(format!(
            "# stay on {current} for now and pin it in Cargo.toml: {name} = \"={current}\""
        ));
        // The earliest release that is only waiting for its cooldown.
        let waiting = forward.iter().find_map(|(v, r)| {
            let cur = cur.filter(|_| caret.matches(v));
            let only_cooldown =
                r.pubtime.is_some() && !r.yanked && unsafe_reasons(cur, r, now, policy).len() == 1;
            cooldown_end(r.pubtime, now, policy)
                .filter(|_| only_cooldown)
                .map(|end| (v, end))
        });
        if let Some((v, end)) = waiting {
            lines.push(format!(
                "# or wait until {} (end of the {} h cooldown), review {v}, then: {}",
                date_time(end),
                policy.cooldown_hours,
                cmd(v)
            ));
        }
        return lines;
    }
    // No fixed release above: go back, as `suggest_fix` says, to an older release that the
    // advisory does not cover. A yanked one is acceptable there (it is what the lock file had
    // before); one inside the cooldown is not.
    match suggested {
        Some(f) if f.version < *current => {
            let back = sorted
                .iter()
                .find(|(v, _)| *v == f.version)
                .map(|(_, r)| *r);
            let why: Vec<String> = back
                .map(|r| unsafe_reasons(None, r, now, policy))
                .unwrap_or_default()
                .into_iter()
                .filter(|w| w != "yanked")
                .collect();
            if why.is_empty() {
                let mut lines = vec![cmd(&f.version)];
                if back.is_some_and(|r| r.yanked) {
                    lines.push(format!(
                        "# {} is yanked: Cargo 1.78 and later accept a yanked version with --precise; pin it with {name} = \"={}\"",
                        f.version, f.version
                    ));
                }
                lines
            } else {
                vec![format!(
                    "# no safe release of `{name}` to move to: {} is {}; remove or replace it",
                    f.version,
                    why.join(", ")
                )]
            }
        }
        Some(f) if !forward.is_empty() || f.compatible => vec![cmd(&f.version)],
        Some(f) => vec![raise(&f.version)],
        None => vec![format!(
            "# no patched release of `{name}`: remove or replace it"
        )],
    }
}

fn skipped_text(skipped: &[(String, Vec<String>)]) -> String {
    skipped
        .iter()
        .take(5)
        .map(|(v, why)| format!("{v} ({})", why.join("; ")))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::str::FromStr;

    const NOW: i64 = 1_800_000_000;

    fn release(version: &str, yanked: bool, age_h: i64, deps: &[&str]) -> Release {
        Release {
            version: version.to_owned(),
            yanked,
            pubtime: Some(NOW - age_h * 3600),
            deps: deps.iter().map(|d| (*d).to_owned()).collect(),
            ..Release::default()
        }
    }

    fn advisory(versions: &str) -> rustsec::Advisory {
        rustsec::Advisory::from_str(&format!(
            "```toml\n[advisory]\nid = \"RUSTSEC-2026-0001\"\npackage = \"a\"\ndate = \"2026-01-01\"\n\n[versions]\n{versions}\n```\n\n# T\n\nD.\n"
        ))
        .unwrap()
    }

    fn v(s: &str) -> semver::Version {
        semver::Version::parse(s).unwrap()
    }

    #[test]
    fn a_fix_skips_yanked_fresh_and_dependency_adding_releases() {
        let a = advisory("patched = [\">= 1.0.2\"]");
        let p = Policy::default();
        let releases = [
            release("1.0.1", false, 2000, &[]),
            release("1.0.2", true, 1000, &[]),
            release("1.0.3", false, 900, &["new-dep"]),
            release("1.0.4", false, 10, &[]),
            release("1.0.5", false, 800, &[]),
        ];
        let fix = advisory_fix("a", &v("1.0.1"), &a, Some(&releases), NOW, &p);
        assert_eq!(fix[0], "cargo update -p a@1.0.1 --precise 1.0.5", "{fix:?}");
        assert!(fix[1].contains("1.0.2 (yanked)"), "{fix:?}");
        assert!(
            fix[1].contains("1.0.3 (adds dependencies `new-dep`)"),
            "{fix:?}"
        );
        assert!(
            fix[1].contains("1.0.4 (inside the cooldown until"),
            "{fix:?}"
        );
        // Without the index, the lowest patched version, unchecked (as before).
        assert_eq!(
            advisory_fix("a", &v("1.0.1"), &a, None, NOW, &p),
            vec!["cargo update -p a@1.0.1 --precise 1.0.2".to_owned()]
        );
    }

    #[test]
    fn a_breaking_upgrade_may_add_dependencies() {
        // time 0.1.43 -> 0.2.23: the new major brings dependencies of its own; that is no
        // trap of a `cargo update`, so the raise is suggested, not "stay and pin".
        let releases = [
            release("0.1.43", false, 10_000, &[]),
            release("0.2.0", false, 10_000, &["serde"]),
            release("0.2.23", false, 10_000, &["serde"]),
        ];
        let fix = advisory_fix(
            "time",
            &v("0.1.43"),
            &advisory("patched = [\">= 0.2.23\"]\nunaffected = [\"= 0.2.0\"]"),
            Some(&releases),
            NOW,
            &Policy::default(),
        );
        assert_eq!(fix.len(), 1, "{fix:?}");
        assert!(
            fix[0].contains("raise the requirement on `time` to 0.2.23"),
            "{fix:?}"
        );
    }

    #[test]
    fn only_fresh_releases_means_stay_pin_or_wait() {
        let a = advisory("patched = [\">= 1.0.2\"]");
        let releases = [
            release("1.0.1", false, 2000, &[]),
            release("1.0.2", false, 5, &[]),
        ];
        let fix = advisory_fix(
            "a",
            &v("1.0.1"),
            &a,
            Some(&releases),
            NOW,
            &Policy::default(),
        );
        assert!(fix[0].starts_with("# every patched release"), "{fix:?}");
        assert!(fix[1].contains("a = \"=1.0.1\""), "{fix:?}");
        assert!(fix[2].starts_with("# or wait until "), "{fix:?}");
        assert!(fix.iter().all(|l| l.starts_with('#')), "{fix:?}");
    }

    #[test]
    fn going_back_may_use_a_yanked_release_but_not_a_fresh_one() {
        let a = advisory("unaffected = [\"<= 0.3.9\"]\npatched = []");
        let releases = [
            release("0.3.9", true, 9000, &[]),
            release("0.3.10", false, 1, &["proc-macro1"]),
        ];
        let fix = advisory_fix(
            "a",
            &v("0.3.10"),
            &a,
            Some(&releases),
            NOW,
            &Policy::default(),
        );
        assert_eq!(fix[0], "cargo update -p a@0.3.10 --precise 0.3.9");
        assert!(fix[1].contains("yanked"), "{fix:?}");
        let fresh_back = [
            release("0.3.9", false, 3, &[]),
            release("0.3.10", false, 1, &[]),
        ];
        let fix = advisory_fix(
            "a",
            &v("0.3.10"),
            &a,
            Some(&fresh_back),
            NOW,
            &Policy::default(),
        );
        assert!(fix[0].starts_with("# no safe release"), "{fix:?}");
    }

    #[test]
    fn cooldown_end_is_only_for_fresh_releases() {
        let p = Policy::default();
        assert_eq!(
            cooldown_end(Some(NOW - 3600), NOW, &p),
            Some(NOW + 71 * 3600)
        );
        assert_eq!(cooldown_end(Some(NOW - 73 * 3600), NOW, &p), None);
        assert_eq!(cooldown_end(None, NOW, &p), None);
        assert_eq!(date_time(0), "1970-01-01 00:00 UTC");
    }
}
