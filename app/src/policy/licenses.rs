//! `[licenses] allow = [...]`: which licenses new and changed crates may have.

use serde::{Deserialize, Serialize};

/// The licenses the policy allows, as SPDX license identifiers (optionally with `WITH` an
/// exception or a `+`), e.g. `"MIT"`, `"Apache-2.0"`, `"Apache-2.0 WITH LLVM-exception"`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicensePolicy {
    pub allow: Vec<String>,
}

/// An entry of `[licenses] allow` that is not an SPDX license (found when the policy is read).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{entry}` is not an SPDX license identifier: {reason}")]
pub struct LicenseEntryError {
    pub entry: String,
    pub reason: String,
}

/// Why a crate's license does not satisfy `[licenses] allow` (one sentence, which the
/// `license-not-allowed` finding carries).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LicenseRefused {
    #[error("it declares no license")]
    Undeclared,
    #[error(
        "it declares no SPDX license, only the license file `{file}`, so it cannot be checked against `[licenses] allow`"
    )]
    OnlyFile { file: String },
    #[error(
        "its license `{license}` is not a valid SPDX expression ({reason}), so it cannot be checked against `[licenses] allow`"
    )]
    NotSpdx { license: String, reason: String },
    #[error(
        "its license `{license}` is not allowed by the policy's `[licenses] allow` ({allowed})"
    )]
    NotAllowed { license: String, allowed: String },
}

fn licensee(entry: &str) -> Result<spdx::Licensee, LicenseEntryError> {
    spdx::Licensee::parse_mode(entry.trim(), spdx::ParseMode::LAX).map_err(|e| LicenseEntryError {
        entry: entry.to_string(),
        reason: e.reason.to_string(),
    })
}

impl LicensePolicy {
    /// Every entry parses as an SPDX license (checked when the policy is read).
    pub fn validate(&self) -> Result<(), LicenseEntryError> {
        self.allow.iter().try_for_each(|e| licensee(e).map(|_| ()))
    }

    /// Ok when `license` (a crate's SPDX expression) is satisfied by the allowed licenses;
    /// else why not.
    pub fn check(
        &self,
        license: Option<&str>,
        license_file: Option<&str>,
    ) -> Result<(), LicenseRefused> {
        let Some(license) = license.map(str::trim).filter(|l| !l.is_empty()) else {
            return Err(match license_file {
                Some(f) => LicenseRefused::OnlyFile {
                    file: f.to_string(),
                },
                None => LicenseRefused::Undeclared,
            });
        };
        let expr = spdx::Expression::parse_mode(license, spdx::ParseMode::LAX).map_err(|e| {
            LicenseRefused::NotSpdx {
                license: license.to_string(),
                reason: e.reason.to_string(),
            }
        })?;
        let allowed: Vec<spdx::Licensee> =
            self.allow.iter().filter_map(|e| licensee(e).ok()).collect();
        if expr.evaluate(|req| allowed.iter().any(|l| l.satisfies(req))) {
            Ok(())
        } else {
            Err(LicenseRefused::NotAllowed {
                license: license.to_string(),
                allowed: self.allow.join(", "),
            })
        }
    }
}

/// Whether two license fields say the same thing: equal text, or SPDX expressions that are
/// equivalent (`MIT/Apache-2.0`, `MIT OR Apache-2.0` and `Apache-2.0 OR MIT` are one license
/// choice). Decided by evaluating both over every combination of their licenses (at most
/// 12 distinct licenses; beyond that, or when either does not parse, the text decides).
pub fn same_license(a: Option<&str>, b: Option<&str>) -> bool {
    let (a, b) = match (a.map(str::trim), b.map(str::trim)) {
        (None, None) => return true,
        (Some(a), Some(b)) if a == b => return true,
        (Some(a), Some(b)) => (a, b),
        _ => return false,
    };
    let parse = |t: &str| spdx::Expression::parse_mode(t, spdx::ParseMode::LAX).ok();
    let (Some(ea), Some(eb)) = (parse(a), parse(b)) else {
        return false;
    };
    let mut names: Vec<String> = ea
        .requirements()
        .chain(eb.requirements())
        .map(|r| r.req.to_string())
        .collect();
    names.sort();
    names.dedup();
    if names.len() > 12 {
        return false;
    }
    (0u32..(1 << names.len())).all(|mask| {
        let chosen = |req: &spdx::LicenseReq| {
            let name = req.to_string();
            names
                .iter()
                .position(|n| *n == name)
                .is_some_and(|i| mask & (1 << i) != 0)
        };
        ea.evaluate(chosen) == eb.evaluate(chosen)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(allow: &[&str]) -> LicensePolicy {
        LicensePolicy {
            allow: allow.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn expressions_are_evaluated_not_compared_as_text() {
        let p = policy(&["MIT", "Apache-2.0"]);
        assert!(p.validate().is_ok());
        assert!(p.check(Some("MIT OR Apache-2.0"), None).is_ok());
        assert!(p.check(Some("MIT/Apache-2.0"), None).is_ok());
        assert!(
            p.check(Some("(MIT OR GPL-3.0-only) AND Apache-2.0"), None)
                .is_ok()
        );
        let e = p.check(Some("GPL-3.0-only"), None).unwrap_err();
        assert!(e.to_string().contains("not allowed"), "{e}");
        assert!(p.check(Some("MIT AND GPL-3.0-only"), None).is_err());
        assert!(
            p.check(None, Some("LICENSE"))
                .unwrap_err()
                .to_string()
                .contains("LICENSE")
        );
        assert!(p.check(Some("not a ((license"), None).is_err());
        assert!(
            policy(&["Apache-2.0 WITH LLVM-exception"])
                .check(Some("Apache-2.0 WITH LLVM-exception"), None)
                .is_ok()
        );
    }

    #[test]
    fn spellings_of_one_license_are_the_same_license() {
        assert!(same_license(
            Some("MIT/Apache-2.0"),
            Some("Apache-2.0 OR MIT")
        ));
        assert!(same_license(
            Some("Unlicense/MIT"),
            Some("MIT OR Unlicense")
        ));
        assert!(same_license(None, None));
        assert!(!same_license(None, Some("MIT")));
        assert!(!same_license(Some("MIT OR Apache-2.0"), Some("MIT")));
        assert!(!same_license(
            Some("MIT OR Apache-2.0"),
            Some("MIT AND Apache-2.0")
        ));
        assert!(!same_license(Some("MPL-2.0"), Some("CDLA-Permissive-2.0")));
        assert!(!same_license(Some("not spdx"), Some("also not")));
    }

    #[test]
    fn unknown_identifiers_are_refused() {
        assert!(policy(&["MIT", "Nonsense-License-9"]).validate().is_err());
        assert!(policy(&["MIT OR Apache-2.0"]).validate().is_err());
    }
}
