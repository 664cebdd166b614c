//! The typosquat finding: a new crate name close to a popular crate, or to a crate already
//! in the lock file, judged with the registry's evidence.
//!
//! A name alone cannot tell an imitation from a family of crates of one project or from an
//! established crate that happens to be spelled alike. The registry can:
//!
//! * **young**: the crate's first release (the earliest `pubtime` in the index) is less than
//!   [`YOUNG_DAYS`] days old; **few releases**: at most [`FEW_RELEASES`] versions in the
//!   index and a first release less than [`FEW_RELEASES_DAYS`] days ago (older crates are
//!   established by age: real lock files hold crates like `btparse`, six years and three
//!   releases). Malicious look-alikes (RustSec's `proc-macro1`, `rustdecimal`,
//!   `lazystatic`, ...) were days old with one or two releases when they were caught.
//! * **sibling**: the new crate's packaged `Cargo.toml` names the same `repository` as the
//!   crate it resembles (`NAME-core` next to `NAME`, `…3` after `…2`).
//!
//! | evidence | level |
//! |---|---|
//! | not available (offline, index unreadable) | deny, as by the name alone, saying the evidence was missing |
//! | young or few releases, not a sibling | deny |
//! | sibling, young or few releases | warn (a `repository` is a claim anyone can copy) |
//! | sibling, established | no finding |
//! | established (neither young nor few releases), not a sibling | warn |

use super::facts::{CrateFacts, ReleaseHistory};
use crate::finding::{Code, Evidence, Finding, Level};
use crate::lockfile::{Change, ChangeKind, ParsedLock};
use crate::policy::Policy;
use crate::typosquat::{SquatHit, TyposquatChecker};
use std::collections::{HashMap, HashSet};

/// A crate whose first release is younger than this is young.
pub const YOUNG_DAYS: i64 = 90;
/// A crate with at most this many releases has few...
pub const FEW_RELEASES: usize = 3;
/// ...when its first release is younger than this (or its age is unknown).
pub const FEW_RELEASES_DAYS: i64 = 365;

/// Names in the head lock file that the base lock file did not have, and the base names.
pub fn new_crate_names(
    base: Option<&ParsedLock>,
    changes: &[Change],
) -> (Vec<String>, HashSet<String>) {
    let base_names: HashSet<String> = base
        .map(|b| {
            b.lock
                .packages
                .iter()
                .map(|p| p.name.as_str().to_string())
                .collect()
        })
        .unwrap_or_default();
    let mut new_names: Vec<String> = changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Added && !base_names.contains(&c.name))
        .map(|c| c.name.clone())
        .collect();
    new_names.dedup();
    (new_names, base_names)
}

/// What the registry says about the new crate, or why nothing.
enum Registry {
    Known {
        history: ReleaseHistory,
        repository: Option<String>,
    },
    Unavailable(String),
}

fn registry_evidence(facts: Option<&CrateFacts>, name: &str, version: Option<&str>) -> Registry {
    let Some(facts) = facts else {
        return Registry::Unavailable("crates were not fetched".to_owned());
    };
    let vf = version.and_then(|v| facts.get(name, v));
    let Some(index) = vf.and_then(|f| f.index.as_ref()) else {
        let why = vf
            .and_then(|f| f.index_error.clone())
            .or_else(|| facts.not_fetched.clone())
            .unwrap_or_else(|| "the crate was not looked up in a registry index".to_owned());
        return Registry::Unavailable(why);
    };
    let repository = vf
        .and_then(|f| f.surface.as_ref())
        .and_then(|s| s.as_ref().ok())
        .and_then(|s| s.repository.clone());
    Registry::Known {
        history: index.history,
        repository,
    }
}

/// A looked-up repository as evidence shows it: `` `URL` ``, `none declared`, or
/// `unknown (why)`.
pub(super) fn repository_text(repository: &Result<Option<String>, String>) -> String {
    match repository {
        Ok(Some(r)) => format!("`{r}`"),
        Ok(None) => "none declared".to_owned(),
        Err(why) => format!("unknown ({why})"),
    }
}

/// Does a looked-up repository have the key `own` (see [`repository_key`])?
pub(super) fn same_repository(
    own: Option<&String>,
    theirs: &Result<Option<String>, String>,
) -> bool {
    match (own, theirs) {
        (Some(a), Ok(Some(b))) => repository_key(b).as_ref() == Some(a),
        _ => false,
    }
}

/// The evidence line that sets the repository `name` declares (`own`) beside the one of
/// `other` (`theirs`, from [`repository_text`]).
pub(super) fn repositories_note(
    name: &str,
    own: Option<&str>,
    other: &str,
    theirs: &str,
) -> String {
    format!(
        "repository of `{name}`: {}; of `{other}`: {theirs}",
        own.map_or("none declared".to_owned(), |r| format!("`{r}`"))
    )
}

/// `https://github.com/Owner/Repo.git/tree/main/x` → `github.com/owner/repo`: host and the
/// first two path segments, lowercased, without scheme, `www.`, `.git` or trailing parts.
pub fn repository_key(url: &str) -> Option<String> {
    let url = url.trim().to_ascii_lowercase();
    let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
    let rest = rest.strip_prefix("www.").unwrap_or(rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    // scp-like `git@host:owner/name`
    let scp;
    let rest = if !url.contains("://") && rest.split('/').next().is_some_and(|h| h.contains(':')) {
        scp = rest.replacen(':', "/", 1);
        scp.as_str()
    } else {
        rest
    };
    let mut parts = rest
        .split(['/', '?', '#'])
        .filter(|p| !p.is_empty())
        .map(|p| p.strip_suffix(".git").unwrap_or(p));
    let host = parts.next()?;
    let owner = parts.next()?;
    let repo = parts.next();
    Some(match repo {
        Some(r) => format!("{host}/{owner}/{r}"),
        None => format!("{host}/{owner}"),
    })
}

fn date(ts: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ts)
        .map(|t| t.date().to_string())
        .unwrap_or_else(|_| "an unknown date".to_owned())
}

use crate::finding::count as plural;

/// Typosquat findings for the new crates of one lock file.
#[allow(clippy::too_many_arguments)]
pub fn typosquat_findings(
    path: &str,
    changes: &[Change],
    base: Option<&ParsedLock>,
    checker: &TyposquatChecker,
    facts: Option<&CrateFacts>,
    policy: &Policy,
    pulled_in: &dyn Fn(&Change) -> Vec<String>,
    out: &mut Vec<Finding>,
) {
    let (new_names, base_names) = new_crate_names(base, changes);
    let now = facts.map(|f| f.now);
    // The first added change of each name (looked up once per flagged name: a lock file can
    // add tens of thousands of crates).
    let mut added: HashMap<&str, &Change> = HashMap::new();
    for c in changes.iter().filter(|c| c.kind == ChangeKind::Added) {
        added.entry(c.name.as_str()).or_insert(c);
    }
    for (name, hits) in checker.check(&new_names, &base_names) {
        let change = added.get(name.as_str()).copied();
        let version = change.and_then(Change::new_version);
        let mut evidence: Vec<Evidence> = hits
            .iter()
            .map(|h| {
                note(format!(
                    "{} ({})",
                    h.reason,
                    if h.popular {
                        "a popular crate"
                    } else {
                        "already in this lock file"
                    }
                ))
            })
            .collect();
        let judged = judge(
            &name,
            &hits,
            registry_evidence(facts, &name, version.as_deref()),
            facts,
            now,
            &mut evidence,
        );
        let Some((level, targets, summary)) = judged else {
            continue;
        };
        if let Some(path_in) = change.map(pulled_in).filter(|p| !p.is_empty()) {
            evidence.push(note(format!("pulled in by {}", path_in.join(" -> "))));
        }
        let mut f = looks_like(&name, &targets, &summary)
            .krate(name.clone(), version)
            .at(path, change.and_then(Change::line))
            .evidence(evidence);
        if level < Level::Deny {
            f.level = policy.level_of(Code::Typosquat).min(level);
            f.policy_note = Some(
                "the registry shows an established crate or a sibling of the crate it resembles: reported at warn at most".to_owned(),
            );
        }
        out.push(f);
    }
}

/// The finding that new crate `name` looks like the crates `targets`; `rest` ends the
/// sentence (what the registry showed of them).
pub(super) fn looks_like(name: &str, targets: &[String], rest: &str) -> Finding {
    let shown: Vec<String> = targets.iter().map(|t| format!("`{t}`")).collect();
    Finding::new(
        Code::Typosquat,
        format!("new crate `{name}` looks like {}{rest}", shown.join(", ")),
    )
}

fn note(text: String) -> Evidence {
    Evidence {
        file: None,
        line: None,
        text,
    }
}

/// The level, the targets to name and a summary for the message; None: no finding.
fn judge(
    name: &str,
    hits: &[SquatHit],
    registry: Registry,
    facts: Option<&CrateFacts>,
    now: Option<i64>,
    evidence: &mut Vec<Evidence>,
) -> Option<(Level, Vec<String>, String)> {
    let all: Vec<String> = hits.iter().map(|h| h.target.clone()).collect();
    let (history, repository) = match registry {
        Registry::Unavailable(why) => {
            evidence.push(note(format!(
                "registry evidence (first release, number of releases, repository) was not available: {why}; judged by the name alone"
            )));
            return Some((Level::Deny, all, String::new()));
        }
        Registry::Known {
            history,
            repository,
        } => (history, repository),
    };
    let age_days = match (history.first_published, now) {
        (Some(first), Some(now)) => Some((now - first).max(0) / 86_400),
        _ => None,
    };
    let young = age_days.is_some_and(|d| d < YOUNG_DAYS);
    let few = history.releases <= FEW_RELEASES && age_days.is_none_or(|d| d < FEW_RELEASES_DAYS);
    let first = match (history.first_published, age_days) {
        (Some(ts), Some(days)) => format!("first published {} ({days} days ago)", date(ts)),
        _ => "no publication time in the index".to_owned(),
    };
    evidence.push(note(format!(
        "registry: {first}, {}",
        plural(history.releases, "release", "releases")
    )));
    let own = repository.as_deref().and_then(repository_key);
    let mut siblings = Vec::new();
    let mut others = Vec::new();
    for h in hits {
        let theirs = facts
            .and_then(|f| f.repositories.get(&h.target))
            .cloned()
            .unwrap_or_else(|| Err("not looked up".to_owned()));
        let same = same_repository(own.as_ref(), &theirs);
        let theirs_text = repository_text(&theirs);
        if same {
            evidence.push(note(format!(
                "`{name}` declares the same repository as `{}`: {theirs_text}",
                h.target
            )));
            siblings.push(h.target.clone());
        } else {
            evidence.push(note(repositories_note(
                name,
                repository.as_deref(),
                &h.target,
                &theirs_text,
            )));
            others.push(h.target.clone());
        }
    }
    let fresh = young || few;
    if !others.is_empty() {
        return Some(if fresh {
            (Level::Deny, others, String::new())
        } else {
            (
                Level::Warn,
                others,
                ", but it is an established crate of its own".to_owned(),
            )
        });
    }
    // Every resembled crate shares the new crate's repository.
    fresh.then(|| {
        (
            Level::Warn,
            siblings,
            ", and declares the same repository (a sibling crate, or copied metadata)".to_owned(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_keys_compare_host_owner_and_name() {
        for (a, b) in [
            (
                "https://github.com/serde-rs/serde",
                "http://www.github.com/Serde-rs/serde.git",
            ),
            (
                "https://github.com/dtolnay/proc-macro2/",
                "git@github.com:dtolnay/proc-macro2",
            ),
            (
                "https://github.com/bevyengine/bevy/tree/main/crates/bevy_ecs",
                "https://github.com/bevyengine/bevy",
            ),
        ] {
            assert_eq!(repository_key(a), repository_key(b), "{a} vs {b}");
        }
        assert_ne!(
            repository_key("https://github.com/dtolnay/proc-macro2"),
            repository_key("https://github.com/evil/proc-macro2")
        );
    }
}

#[cfg(test)]
mod malicious {
    use super::*;
    use crate::typosquat::PopularCrates;

    /// Every crate that RustSec's snapshot marks malicious (`informational = "malicious"`),
    /// except `arrayref` (a real crate whose one release was hijacked).
    const RUSTSEC_MALICIOUS: &[&str] = &[
        "acceptxmr-rs",
        "append-only-vec",
        "bit-flags",
        "chrono_anchor",
        "clob-sdk",
        "custom-req-on-workers",
        "dnp3times",
        "envlogger",
        "evm-units",
        "exploration",
        "finch-rst",
        "finch-rust",
        "finch_cli_rust",
        "hann-rs-service",
        "if-cfg",
        "internment",
        "jfrog_quotes",
        "lasso-rs",
        "lazystatic",
        "lfest-main",
        "libusb1-main",
        "littest",
        "logflux",
        "logtrace",
        "microsoftsystem64",
        "monero-api",
        "monero-rpc-rs",
        "mysten-metrics",
        "oncecell",
        "onering",
        "openvpn-plugin-rs",
        "polymarket-client-sdks",
        "polymarket-clients-sdk",
        "polymarkets-client-sdk",
        "polymarkets-rs-clob-client",
        "postgresderive",
        "postgress",
        "pretty-changelog-logger",
        "proc-macro-en",
        "proc-macro1",
        "rands",
        "registry-win",
        "replit_ruspty",
        "rpc-check",
        "rustdecimal",
        "safe-agent-rs",
        "serd",
        "sha-rst",
        "sha-rust",
        "sophosfirewall-python",
        "statsrelay-protobuf",
        "sui-execution-cut",
        "tauri-win-rt-notification",
        "tauri-winrt-notifications",
        "time-sync",
        "time_calibrator",
        "time_calibrators",
        "tiny-server",
        "tracing-check",
        "tracing-ethers",
        "tracing_checks",
        "tracings",
        "tree-sitter-pkl",
        "uniswap-utils",
        "win-base64-rs",
        "win-crypto",
        "win_run_rs",
        "windows-service-rs",
        "windowsservice",
        "winx-rs",
        "xrvrv",
    ];

    /// The ones whose name alone is a look-alike of a popular crate.
    const LOOK_ALIKES: &[(&str, &str)] = &[
        ("bit-flags", "bitflags"),
        ("envlogger", "env_logger"),
        ("if-cfg", "cfg-if"),
        ("lazystatic", "lazy_static"),
        ("oncecell", "once_cell"),
        ("postgresderive", "postgres-derive"),
        ("postgress", "postgres"),
        ("proc-macro1", "proc-macro2"),
        ("rustdecimal", "rust_decimal"),
        ("serd", "serde"),
        ("tracings", "tracing"),
        ("windows-service-rs", "windows-service"),
        ("windowsservice", "windows-service"),
        ("winx-rs", "winx"),
    ];

    const NOW: i64 = 1_800_000_000;
    const DAY: i64 = 86_400;

    fn level_with(name: &str, hits: &[SquatHit], history: ReleaseHistory) -> Option<Level> {
        let registry = Registry::Known {
            history,
            repository: Some(format!("https://github.com/someone/{name}")),
        };
        judge(name, hits, registry, None, Some(NOW), &mut Vec::new()).map(|(l, _, _)| l)
    }

    #[test]
    fn rustsec_malicious_look_alikes_are_denied_when_young() {
        let checker = TyposquatChecker::new(PopularCrates::embedded());
        let names: Vec<String> = RUSTSEC_MALICIOUS.iter().map(|s| s.to_string()).collect();
        let flagged = checker.check(&names, &HashSet::new());
        let found: Vec<(&str, &str)> = flagged
            .iter()
            .map(|(n, h)| (n.as_str(), h[0].target.as_str()))
            .collect();
        assert_eq!(found, LOOK_ALIKES);
        for (name, hits) in &flagged {
            // As they were when caught: days old, one or two releases.
            for (releases, age_days) in [(1, 0), (2, 5), (1, 60)] {
                let young = ReleaseHistory {
                    releases,
                    first_published: Some(NOW - age_days * DAY),
                };
                assert_eq!(
                    level_with(name, hits, young),
                    Some(Level::Deny),
                    "{name} {releases} releases {age_days} days"
                );
            }
            // Past the young window but with very few releases: still deny.
            let sparse = ReleaseHistory {
                releases: 3,
                first_published: Some(NOW - 300 * DAY),
            };
            assert_eq!(level_with(name, hits, sparse), Some(Level::Deny), "{name}");
            // No publication times (another registry): the number of releases decides.
            let undated = ReleaseHistory {
                releases: 2,
                first_published: None,
            };
            assert_eq!(level_with(name, hits, undated), Some(Level::Deny), "{name}");
            // Years old: established by age, whatever the number of releases.
            let old = ReleaseHistory {
                releases: 2,
                first_published: Some(NOW - 2000 * DAY),
            };
            assert_eq!(level_with(name, hits, old), Some(Level::Warn), "{name}");
            // The same name with years of releases would be an established crate.
            let established = ReleaseHistory {
                releases: 40,
                first_published: Some(NOW - 2000 * DAY),
            };
            assert_eq!(
                level_with(name, hits, established),
                Some(Level::Warn),
                "{name}"
            );
        }
        // Without registry evidence the name alone decides.
        let (name, hits) = &flagged[0];
        let mut ev = Vec::new();
        let unavailable = Registry::Unavailable("offline".to_owned());
        let judged = judge(name, hits, unavailable, None, Some(NOW), &mut ev);
        assert_eq!(judged.map(|(l, _, _)| l), Some(Level::Deny));
        assert!(ev[0].text.contains("not available: offline"), "{ev:?}");
    }

    /// The indexed comparison finds exactly what the exhaustive one found for these names.
    #[test]
    fn rustsec_malicious_names_get_exactly_the_exhaustive_findings() {
        let names: Vec<String> = RUSTSEC_MALICIOUS.iter().map(|s| s.to_string()).collect();
        crate::typosquat::equivalence::assert_same(&names, &HashSet::new());
        let existing: HashSet<String> = ["tracing", "serde", "postgres", "mycompany-auth"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        crate::typosquat::equivalence::assert_same(&names, &existing);
    }

    #[test]
    fn a_copied_repository_only_lowers_a_young_crate_to_a_warning() {
        let checker = TyposquatChecker::new(PopularCrates::embedded());
        let flagged = checker.check(&["proc-macro1".to_owned()], &HashSet::new());
        let (name, hits) = &flagged[0];
        let mut facts = CrateFacts::default();
        facts.repositories.insert(
            "proc-macro2".to_owned(),
            Ok(Some("https://github.com/dtolnay/proc-macro2".to_owned())),
        );
        let claims_same = || Registry::Known {
            history: ReleaseHistory {
                releases: 1,
                first_published: Some(NOW - DAY),
            },
            repository: Some("https://github.com/dtolnay/proc-macro2".to_owned()),
        };
        let judged = judge(
            name,
            hits,
            claims_same(),
            Some(&facts),
            Some(NOW),
            &mut Vec::new(),
        );
        assert_eq!(judged.map(|(l, _, _)| l), Some(Level::Warn));
    }
}
