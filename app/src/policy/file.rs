//! Reading `.github/lockwatch.toml`: unknown keys are errors that point at the line.

use super::model::{CRATES_IO_NAME, CommentMode, IgnoreEntry, Policy, RegistryEntry, TrustEntry};
use crate::finding::{Code, Level, UnknownCode};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Where the policy lives in a repository.
pub const POLICY_PATH: &str = ".github/lockwatch.toml";

/// A policy file that could not be used, with where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PolicyError {
    pub message: String,
    pub line: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawPolicy {
    #[serde(default)]
    levels: BTreeMap<String, Level>,
    cooldown_hours: Option<u64>,
    require_split: Option<bool>,
    fail_on_existing: Option<bool>,
    comment: Option<CommentMode>,
    #[serde(default)]
    registries: Vec<RegistryEntry>,
    #[serde(default)]
    ignore: Vec<IgnoreEntry>,
    #[serde(default)]
    trust: Vec<TrustEntry>,
    licenses: Option<super::LicensePolicy>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Parse and validate a policy file.
pub fn parse_policy(text: &str) -> Result<Policy, PolicyError> {
    let raw: RawPolicy = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start));
        let msg = e.message().trim().to_string();
        PolicyError {
            message: match line {
                Some(l) => format!("{POLICY_PATH} line {l}: {msg}"),
                None => format!("{POLICY_PATH}: {msg}"),
            },
            line,
        }
    })?;
    let error = |what: String, needle: &str| {
        let line = text.find(needle).map(|o| line_of(text, o));
        PolicyError {
            message: match line {
                Some(l) => format!("{POLICY_PATH} line {l}: {what}"),
                None => format!("{POLICY_PATH}: {what}"),
            },
            line,
        }
    };
    let mut policy = Policy::default();
    for (key, level) in raw.levels {
        let code: Code = key
            .parse()
            .map_err(|e: UnknownCode| error(e.to_string(), &key))?;
        policy.levels.insert(code, level);
    }
    if let Some(h) = raw.cooldown_hours {
        policy.cooldown_hours = h;
    }
    if let Some(s) = raw.require_split {
        policy.require_split = s;
    }
    if let Some(f) = raw.fail_on_existing {
        policy.fail_on_existing = f;
    }
    if let Some(c) = raw.comment {
        policy.comment = c;
    }
    for r in &raw.registries {
        if !r.index.starts_with("sparse+http") {
            return Err(error(
                format!(
                    "registry `{}`: index must be a sparse index URL (`sparse+https://...`)",
                    r.name
                ),
                &r.index,
            ));
        }
    }
    for i in &raw.ignore {
        if i.reason.trim().is_empty() {
            return Err(error(format!("ignore `{}` needs a reason", i.id), &i.id));
        }
        if let Some(until) = &i.until
            && time::Date::parse(
                until,
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .is_err()
        {
            return Err(error(
                format!("ignore `{}`: `until` must be a date like 2026-12-31", i.id),
                until,
            ));
        }
    }
    for t in &raw.trust {
        if t.version.is_none() && t.checksum.is_none() {
            return Err(error(
                format!("trust `{}` needs a `version` or a `checksum`", t.krate),
                &t.krate,
            ));
        }
        if t.reason.trim().is_empty() {
            return Err(error(
                format!("trust `{}` needs a reason", t.krate),
                &t.krate,
            ));
        }
        if let Some(r) = &t.registry
            && r != CRATES_IO_NAME
            && !raw.registries.iter().any(|e| &e.name == r)
        {
            return Err(error(
                format!(
                    "trust `{}`: registry `{r}` is neither `{CRATES_IO_NAME}` nor the name of a [[registries]] entry",
                    t.krate
                ),
                r,
            ));
        }
        if let Some(c) = &t.checksum
            && !(c.len() == 64 && c.chars().all(|ch| ch.is_ascii_hexdigit()))
        {
            return Err(error(
                format!(
                    "trust `{}`: checksum must be the 64 hex digits of the lock file's `checksum`",
                    t.krate
                ),
                c,
            ));
        }
    }
    if let Some(l) = &raw.licenses
        && let Err(why) = l.validate()
    {
        return Err(error(format!("licenses: {why}"), "[licenses]"));
    }
    policy.licenses = raw.licenses;
    policy.registries = raw.registries;
    policy.ignore = raw.ignore;
    policy.trust = raw.trust;
    Ok(policy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lockfile::SourceKind;

    #[test]
    fn empty_file_is_the_default_policy() {
        assert_eq!(parse_policy("").expect("empty"), Policy::default());
    }

    #[test]
    fn reads_every_field() {
        let p = parse_policy(
            r#"
cooldown-hours = 24
require-split = false
fail-on-existing = true
comment = "always"

[levels]
yanked = "deny"
typosquat = "warn"

[[registries]]
name = "corp"
index = "sparse+https://registry.example.com/index/"

[[ignore]]
id = "RUSTSEC-2020-0071"
reason = "not reachable: we never format local times"
until = "2027-01-31"

[[trust]]
crate = "openssl-sys"
version = "0.9.100"
reason = "reviewed build.rs"
"#,
        )
        .expect("valid");
        assert_eq!(p.cooldown_hours, 24);
        assert!(!p.require_split);
        assert!(p.fail_on_existing);
        assert_eq!(p.comment, CommentMode::Always);
        assert_eq!(p.level_of(Code::Yanked), Level::Deny);
        assert_eq!(p.level_of(Code::Typosquat), Level::Warn);
        assert_eq!(p.level_of(Code::NativeCode), Level::Warn);
        assert!(p.knows_registry("sparse+https://registry.example.com/index"));
        let io = SourceKind::CratesIo;
        assert!(p.trusted("openssl-sys", "0.9.100", &io, None).is_some());
        assert!(p.trusted("openssl-sys", "0.9.101", &io, None).is_none());
    }

    #[test]
    fn trust_entries_match_every_field_they_pin() {
        let sum = "ab".repeat(32);
        let p = parse_policy(&format!(
            r#"
[[registries]]
name = "corp"
index = "sparse+https://registry.example.com/index/"

[[trust]]
crate = "pinned"
version = "1.0.0"
checksum = "{sum}"
reason = "r"

[[trust]]
crate = "bysum"
checksum = "{sum}"
reason = "r"

[[trust]]
crate = "corpcrate"
version = "2.0.0"
registry = "corp"
reason = "r"
"#
        ))
        .expect("valid");
        let io = SourceKind::CratesIo;
        let corp = SourceKind::Registry("sparse+https://registry.example.com/index/".into());
        let other = SourceKind::Registry("sparse+https://evil.example/index/".into());
        let wrong = "cd".repeat(32);
        assert!(p.trusted("pinned", "1.0.0", &io, Some(&sum)).is_some());
        assert!(p.trusted("pinned", "1.0.0", &io, Some(&wrong)).is_none());
        assert!(p.trusted("pinned", "1.0.0", &io, None).is_none());
        assert!(p.trusted("pinned", "1.0.0", &other, Some(&sum)).is_none());
        assert!(p.trusted("bysum", "9.9.9", &io, Some(&sum)).is_some());
        assert!(p.trusted("bysum", "9.9.9", &io, Some(&wrong)).is_none());
        assert!(p.trusted("corpcrate", "2.0.0", &corp, None).is_some());
        assert!(p.trusted("corpcrate", "2.0.0", &io, None).is_none());
        assert!(p.trusted("corpcrate", "2.0.0", &other, None).is_none());
        assert!(
            p.trusted("pinned", "1.0.0", &SourceKind::Git("x".into()), Some(&sum))
                .is_none()
        );
        assert!(
            parse_policy("[[trust]]\ncrate = \"x\"\nversion = \"1.0.0\"\nregistry = \"nope\"\nreason = \"r\"\n")
                .is_err()
        );
        assert!(
            parse_policy("[[trust]]\ncrate = \"x\"\nchecksum = \"abc\"\nreason = \"r\"\n").is_err()
        );
    }

    #[test]
    fn unknown_keys_point_at_their_line() {
        let err = parse_policy("cooldown-hours = 1\ncooldown = 2\n").unwrap_err();
        assert_eq!(err.line, Some(2), "{err}");
        assert!(err.message.contains("cooldown"), "{err}");
        let err = parse_policy("[levels]\nno-such-code = \"deny\"\n").unwrap_err();
        assert_eq!(err.line, Some(2), "{err}");
    }

    #[test]
    fn bad_values_are_errors() {
        assert!(parse_policy("[levels]\nyanked = \"fatal\"\n").is_err());
        assert!(parse_policy("[[ignore]]\nid = \"X\"\nreason = \"\"\n").is_err());
        assert!(
            parse_policy("[[ignore]]\nid = \"X\"\nreason = \"r\"\nuntil = \"soon\"\n").is_err()
        );
        assert!(parse_policy("[[trust]]\ncrate = \"x\"\nreason = \"r\"\n").is_err());
        assert!(parse_policy("comment = \"sometimes\"\n").is_err());
        let err = parse_policy("\nfail-on-existing = \"yes\"\n").unwrap_err();
        assert_eq!(err.line, Some(2), "{err}");
        let err = parse_policy("fail-on-existing-advisories = true\n").unwrap_err();
        assert!(err.message.contains("unknown field"), "{err}");
        assert!(parse_policy("not toml at all [").is_err());
        let err = parse_policy("\n[licenses]\nallow = [\"MIT\", \"Bogus-1\"]\n").unwrap_err();
        assert_eq!(err.line, Some(2), "{err}");
        assert!(err.message.contains("Bogus-1"), "{err}");
        let ok = parse_policy("[licenses]\nallow = [\"MIT\"]\n").expect("valid");
        assert_eq!(ok.licenses.map(|l| l.allow), Some(vec!["MIT".to_owned()]));
    }
}
