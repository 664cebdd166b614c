//! The suggested fix for an advisory: the lowest patched version, semver-compatible if possible.

use rustsec::Advisory;
use semver::{Comparator, Op, Version};

/// A version to move to, and whether it is semver-compatible with the current one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    pub version: Version,
    pub compatible: bool,
}

/// The lowest version that the advisory's `patched` requirements name and that is above
/// `current`, preferring one that `^current` accepts.
pub fn suggest_fix(advisory: &Advisory, current: &Version) -> Option<Fix> {
    let mut candidates: Vec<Version> = advisory
        .versions
        .patched()
        .iter()
        .flat_map(|req| req.comparators.iter().filter_map(lower_bound))
        .filter(|v| v > current && !advisory.versions.is_vulnerable(v))
        .collect();
    candidates.sort();
    candidates.dedup();
    let caret = semver::VersionReq {
        comparators: vec![Comparator {
            op: Op::Caret,
            major: current.major,
            minor: Some(current.minor),
            patch: Some(current.patch),
            pre: current.pre.clone(),
        }],
    };
    if let Some(v) = candidates.iter().find(|v| caret.matches(v)) {
        return Some(Fix {
            version: v.clone(),
            compatible: true,
        });
    }
    if let Some(version) = candidates.into_iter().next() {
        return Some(Fix {
            version,
            compatible: false,
        });
    }
    // No fixed release above: go back to the newest version the advisory says is unaffected
    // (`unaffected = ["<= 0.3.9"]` for a malicious 0.3.10).
    let mut back: Vec<Version> = advisory
        .versions
        .unaffected()
        .iter()
        .flat_map(|req| req.comparators.iter())
        .filter(|c| c.op == Op::LessEq || c.op == Op::Exact)
        .map(|c| Version::new(c.major, c.minor.unwrap_or(0), c.patch.unwrap_or(0)))
        .filter(|v| v < current && !advisory.versions.is_vulnerable(v))
        .collect();
    back.sort();
    back.pop().map(|version| Fix {
        compatible: caret.matches(&version),
        version,
    })
}

fn lower_bound(c: &Comparator) -> Option<Version> {
    match c.op {
        Op::GreaterEq | Op::Caret | Op::Tilde | Op::Exact | Op::Wildcard => Some(Version {
            major: c.major,
            minor: c.minor.unwrap_or(0),
            patch: c.patch.unwrap_or(0),
            pre: c.pre.clone(),
            build: semver::BuildMetadata::EMPTY,
        }),
        Op::Greater => Some(Version::new(
            c.major,
            c.minor.unwrap_or(0),
            c.patch.map(|p| p + 1).unwrap_or(0),
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn advisory(patched: &str) -> Advisory {
        let text = format!(
            "```toml\n[advisory]\nid = \"RUSTSEC-2024-0001\"\npackage = \"a\"\ndate = \"2024-01-01\"\n\n[versions]\npatched = [{patched}]\n```\n\n# T\n\nD.\n"
        );
        Advisory::from_str(&text).expect("advisory")
    }

    fn v(s: &str) -> Version {
        Version::parse(s).expect("version")
    }

    #[test]
    fn prefers_the_compatible_patch() {
        let a = advisory("\"^0.9.5\", \">= 0.10.2\"");
        assert_eq!(
            suggest_fix(&a, &v("0.9.1")),
            Some(Fix {
                version: v("0.9.5"),
                compatible: true
            })
        );
        assert_eq!(
            suggest_fix(&a, &v("0.10.0")),
            Some(Fix {
                version: v("0.10.2"),
                compatible: true
            })
        );
    }

    #[test]
    fn falls_back_to_a_breaking_upgrade() {
        let a = advisory("\">= 2.0.0\"");
        assert_eq!(
            suggest_fix(&a, &v("1.4.0")),
            Some(Fix {
                version: v("2.0.0"),
                compatible: false
            })
        );
    }

    #[test]
    fn goes_back_to_the_last_unaffected_release() {
        let text = "```toml\n[advisory]\nid = \"RUSTSEC-2026-0260\"\npackage = \"arrayref\"\ndate = \"2026-08-20\"\ncategories = [\"malicious\"]\n\n[versions]\nunaffected = [\"<= 0.3.9\"]\npatched = []\n```\n\n# T\n\nD.\n";
        let a = Advisory::from_str(text).expect("advisory");
        assert_eq!(
            suggest_fix(&a, &v("0.3.10")),
            Some(Fix {
                version: v("0.3.9"),
                compatible: false
            })
        );
    }

    #[test]
    fn no_patch_means_no_fix() {
        assert_eq!(suggest_fix(&advisory(""), &v("1.0.0")), None);
    }
}
