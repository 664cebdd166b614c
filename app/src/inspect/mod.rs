//! Static inspection of `.crate` archives: what a dependency can do at build
//! time (build script, proc macro) and what it ships besides Rust code.
//!
//! Inputs are hostile. The archive is streamed in memory (never unpacked,
//! nothing is written to disk, nothing is executed); every limit in
//! [`InspectLimits`] is enforced while streaming; malformed or dangerous
//! archives yield an [`InspectError`] whose message explains to maintainers
//! why the crate is unreviewable.

mod archive;
mod capabilities;
mod delta;
mod error;
mod inventory;
mod launch;
mod limits;
mod manifest;
mod markers;
mod provenance;
mod runtime_reach;
mod rust_source;
mod surface;
mod test_only;
mod tree;

use std::io::Read;

pub use delta::{SurfaceDelta, compare};
pub use error::InspectError;
pub use limits::InspectLimits;
pub use provenance::{Provenance, VcsInfo, owner_of};
pub use runtime_reach::{ReachKind, ReachSignal, RuntimeReach};
pub use surface::{
    BinaryFile, BinaryKind, BuildScript, Capability, CapabilityKind, CrateSurface, SOURCE_CAP,
    SuspiciousFile,
};

use archive::FileRecord;
use capabilities::{ScanEnv, join_path};
use manifest::BuildSetting;

/// A build dependency that is an HTTP client: the build script can download.
const HTTP_BUILD_DEPS: &[&str] = capabilities::HTTP_CRATES;

/// Inspects one `.crate` file (`gz_tarball`) of crate `name` at `version`.
pub fn inspect_crate(
    name: &str,
    version: &str,
    gz_tarball: impl Read,
    limits: &InspectLimits,
) -> Result<CrateSurface, InspectError> {
    let contents = archive::read_archive(name, version, gz_tarball, limits)?;
    let files = &contents.files;
    let mut notes = contents.notes.clone();
    let mut uninspected = Vec::new();

    let manifest_rec = files
        .get("Cargo.toml")
        .ok_or_else(|| InspectError::MissingManifest {
            expected: format!("{name}-{version}"),
        })?;
    let manifest_text = required_text(manifest_rec, limits).map_err(|e| match e {
        InspectError::UnparsableRust { reason, .. } => InspectError::InvalidManifest { reason },
        other => other,
    })?;
    let manifest = manifest::parse_manifest(manifest_text)?;
    if manifest.name.as_deref().is_some_and(|n| n != name) {
        notes.push(format!(
            "Cargo.toml names the package `{}`, not `{name}`",
            manifest.name.as_deref().unwrap_or_default()
        ));
    }

    let mut capabilities: Vec<Capability> = Vec::new();
    for dep in &manifest.build_deps {
        if HTTP_BUILD_DEPS.contains(&dep.name.as_str()) {
            capabilities.push(Capability {
                kind: CapabilityKind::Network,
                file: "Cargo.toml".to_owned(),
                line: dep.line,
                evidence: format!("build-dependency on HTTP client crate `{}`", dep.name),
            });
        }
    }
    let env = ScanEnv {
        files,
        crate_renames: manifest
            .build_deps
            .iter()
            .filter(|d| d.key != d.name)
            .map(|d| (d.key.replace('-', "_"), d.name.clone()))
            .collect(),
    };
    let mut budget = limits.max_source_files;

    let build_roots: Vec<String> = match &manifest.build {
        BuildSetting::Disabled => Vec::new(),
        BuildSetting::Auto => files
            .contains_key("build.rs")
            .then(|| "build.rs".to_owned())
            .into_iter()
            .collect(),
        BuildSetting::Paths(paths) => paths
            .iter()
            .map(|p| match join_path("", p) {
                Some(n) if files.contains_key(&n) => Ok(n),
                _ => Err(InspectError::MissingBuildScript { path: p.clone() }),
            })
            .collect::<Result<_, _>>()?,
    };
    let mut build_script = None;
    // Build-time code is judged as such; the library scan leaves it out.
    let mut build_files: std::collections::HashSet<String> = build_roots.iter().cloned().collect();
    for (i, root) in build_roots.iter().enumerate() {
        let scan = tree::scan_tree(&env, files, root, true, &mut budget, limits)?;
        build_files.extend(scan.modules.iter().cloned());
        capabilities.extend(scan.capabilities);
        notes.extend(scan.notes);
        uninspected.extend(scan.uninspected);
        if i == 0 {
            let source = files.get(root).map(capped_text).unwrap_or_default();
            let module_sources = scan
                .modules
                .iter()
                .map(|m| files.get(m).map(capped_text).unwrap_or_default())
                .collect();
            build_script = Some(BuildScript {
                path: root.clone(),
                source,
                modules: scan.modules,
                module_sources,
            });
        } else {
            notes.push(format!(
                "additional build script `{root}` (multiple build scripts) was inspected; only the first is shown"
            ));
        }
    }

    if manifest.proc_macro {
        let declared = manifest.lib_path.as_deref().unwrap_or("src/lib.rs");
        match join_path("", declared).filter(|p| files.contains_key(p)) {
            Some(root) => {
                let scan = tree::scan_tree(&env, files, &root, false, &mut budget, limits)?;
                capabilities.extend(scan.capabilities);
                notes.extend(scan.notes);
                uninspected.extend(scan.uninspected);
            }
            None => notes.push(format!(
                "proc-macro library root `{declared}` is not in the archive"
            )),
        }
    }

    capabilities.sort_by(|a, b| {
        (&a.file, a.line, a.kind, &a.evidence).cmp(&(&b.file, b.line, b.kind, &b.evidence))
    });
    capabilities.dedup();

    let mut build_dependencies: Vec<String> =
        manifest.build_deps.iter().map(|d| d.name.clone()).collect();
    build_dependencies.sort();
    build_dependencies.dedup();

    let runtime = runtime_reach::scan(files, &build_files, limits);
    let inv = inventory::classify(files);
    let provenance = provenance::read(files, &manifest);
    Ok(CrateSurface {
        build_script,
        proc_macro: manifest.proc_macro,
        links: manifest.links,
        repository: manifest.repository.map(|r| manifest::truncate(&r, 300)),
        build_dependencies,
        native_sources: inv.native_sources,
        binaries: inv.binaries,
        scripts: inv.scripts,
        suspicious_files: inv.suspicious_files,
        capabilities,
        provenance,
        runtime,
        file_count: files.len(),
        total_bytes: contents.total_bytes,
        notes,
        uninspected,
    })
}

/// The text of a file that must be read whole.
fn required_text<'a>(rec: &'a FileRecord, limits: &InspectLimits) -> Result<&'a str, InspectError> {
    let content = rec
        .content
        .as_deref()
        .ok_or_else(|| InspectError::FileTooLarge {
            path: rec.path.clone(),
            size: rec.size,
            limit: limits.max_file_bytes,
        })?;
    std::str::from_utf8(content).map_err(|_| InspectError::UnparsableRust {
        file: rec.path.clone(),
        reason: "not valid UTF-8".to_owned(),
    })
}

/// File text for display, capped at [`SOURCE_CAP`] bytes.
fn capped_text(rec: &FileRecord) -> String {
    let Some(content) = rec.content.as_deref() else {
        return String::new();
    };
    let text = String::from_utf8_lossy(content);
    if text.len() <= SOURCE_CAP {
        return text.into_owned();
    }
    let mut end = SOURCE_CAP;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}\n/* lockwatch: {} more bytes not shown */\n",
        &text[..end],
        text.len() - end
    )
}

#[cfg(test)]
mod tests;
