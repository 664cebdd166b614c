//! What changed between two versions of a crate, for reviewers.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use similar::TextDiff;

use super::surface::{BinaryFile, BuildScript, Capability, CapabilityKind, CrateSurface};

/// Lines of build-script diff kept before cutting.
const DIFF_MAX_LINES: usize = 200;

/// The review-relevant differences between an old and a new version.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SurfaceDelta {
    pub build_script_added: bool,
    pub build_script_removed: bool,
    /// Unified diff of the build script and its modules (against an empty
    /// file when the script is new), cut to ~200 lines with a
    /// `... N more lines` note. `None` when nothing changed.
    pub build_script_diff: Option<String>,
    pub became_proc_macro: bool,
    pub stopped_proc_macro: bool,
    /// Capabilities whose (kind, evidence) did not occur in the old version.
    pub new_capabilities: Vec<Capability>,
    pub new_native_sources: Vec<String>,
    pub new_binaries: Vec<BinaryFile>,
    /// The new `links` value when it was added or changed.
    pub links_added: Option<String>,
    pub new_build_dependencies: Vec<String>,
}

impl SurfaceDelta {
    /// Whether the new version adds nothing worth a reviewer's attention.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Compares two inspected versions.
pub fn compare(old: &CrateSurface, new: &CrateSurface) -> SurfaceDelta {
    let old_caps: HashSet<(CapabilityKind, &str)> = old
        .capabilities
        .iter()
        .map(|c| (c.kind, c.evidence.as_str()))
        .collect();
    let old_native: HashSet<&String> = old.native_sources.iter().collect();
    let old_bins: HashSet<&BinaryFile> = old.binaries.iter().collect();
    let old_deps: HashSet<&String> = old.build_dependencies.iter().collect();
    let mut seen = HashSet::new();
    SurfaceDelta {
        build_script_added: old.build_script.is_none() && new.build_script.is_some(),
        build_script_removed: old.build_script.is_some() && new.build_script.is_none(),
        build_script_diff: match &new.build_script {
            Some(n) => build_script_diff(old.build_script.as_ref(), n),
            None => None,
        },
        became_proc_macro: !old.proc_macro && new.proc_macro,
        stopped_proc_macro: old.proc_macro && !new.proc_macro,
        new_capabilities: new
            .capabilities
            .iter()
            .filter(|c| !old_caps.contains(&(c.kind, c.evidence.as_str())))
            .filter(|c| seen.insert((c.kind, c.evidence.clone())))
            .cloned()
            .collect(),
        new_native_sources: new
            .native_sources
            .iter()
            .filter(|p| !old_native.contains(p))
            .cloned()
            .collect(),
        new_binaries: new
            .binaries
            .iter()
            .filter(|b| !old_bins.contains(b))
            .cloned()
            .collect(),
        links_added: new.links.clone().filter(|_| old.links != new.links),
        new_build_dependencies: new
            .build_dependencies
            .iter()
            .filter(|d| !old_deps.contains(d))
            .cloned()
            .collect(),
    }
}

fn build_script_diff(old: Option<&BuildScript>, new: &BuildScript) -> Option<String> {
    let mut pairs: Vec<(String, &str, &str)> = Vec::new();
    let old_main = old.map_or("", |o| o.source.as_str());
    pairs.push((new.path.clone(), old_main, new.source.as_str()));
    for (path, src) in new.modules.iter().zip(&new.module_sources) {
        let before = old
            .and_then(|o| {
                o.modules
                    .iter()
                    .position(|m| m == path)
                    .and_then(|i| o.module_sources.get(i))
            })
            .map_or("", String::as_str);
        pairs.push((path.clone(), before, src.as_str()));
    }
    let mut text = String::new();
    for (path, before, after) in pairs {
        if before == after {
            continue;
        }
        let diff = TextDiff::from_lines(before, after);
        let old_name = if before.is_empty() {
            "/dev/null".to_owned()
        } else {
            format!("a/{path}")
        };
        text.push_str(
            &diff
                .unified_diff()
                .context_radius(3)
                .header(&old_name, &format!("b/{path}"))
                .to_string(),
        );
    }
    if text.is_empty() {
        return None;
    }
    let total = text.lines().count();
    if total <= DIFF_MAX_LINES {
        return Some(text);
    }
    let mut cut: String = text
        .lines()
        .take(DIFF_MAX_LINES)
        .flat_map(|l| [l, "\n"])
        .collect();
    cut.push_str(&format!("... {} more lines\n", total - DIFF_MAX_LINES));
    Some(cut)
}
