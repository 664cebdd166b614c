//! The review-relevant surface of one crate version (the result model).

use std::fmt;

use serde::{Deserialize, Serialize};

/// What a crate version can do at build time and ships besides Rust code.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CrateSurface {
    /// The build script that Cargo would run, if any.
    pub build_script: Option<BuildScript>,
    /// `[lib] proc-macro = true`: code that runs inside the compiler.
    pub proc_macro: bool,
    /// `package.links`.
    pub links: Option<String>,
    /// `package.repository` as the package declares it (anyone can write any URL there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// Real names from `[build-dependencies]` and `target.*.build-dependencies`, sorted.
    pub build_dependencies: Vec<String>,
    /// C/C++/assembly sources and headers.
    pub native_sources: Vec<String>,
    /// Prebuilt binaries recognised by their magic bytes.
    pub binaries: Vec<BinaryFile>,
    /// Files starting with a `#!` shebang.
    pub scripts: Vec<String>,
    /// Unusually large or high-entropy files.
    pub suspicious_files: Vec<SuspiciousFile>,
    /// Capabilities found in build-time code (build script, proc macro).
    pub capabilities: Vec<Capability>,
    /// What the release records about its origin (VCS commit, links, license, authors).
    #[serde(default)]
    pub provenance: super::Provenance,
    /// What the library (run-time) code can do: network, processes, credential paths,
    /// secrets, exfiltration patterns (`inspect/runtime_reach.rs`).
    #[serde(default)]
    pub runtime: super::RuntimeReach,
    /// Number of regular files in the archive.
    pub file_count: usize,
    /// Sum of the sizes of the regular files.
    pub total_bytes: u64,
    /// Things worth knowing about the package (missing module files, file names that
    /// differ only by case, a manifest naming another package); shown in the report.
    pub notes: Vec<String>,
    /// Build-time code that could not be inspected (a module over the size or token
    /// limit, unparsable or not UTF-8, a `#[path]` outside the package, files past the
    /// source-file limit; a proc macro whose library cannot be parsed): the engine reports
    /// it as `unreviewable`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uninspected: Vec<String>,
}

/// The build script and the module files it pulls in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildScript {
    /// Path of the main file inside the package.
    pub path: String,
    /// Text of the main file, capped at [`SOURCE_CAP`] bytes.
    pub source: String,
    /// Paths of the module files it includes (`mod x;`, `#[path]`, `include!`).
    pub modules: Vec<String>,
    /// Text of those module files, capped at [`SOURCE_CAP`] bytes each
    /// (same order as `modules`; lets reviewers diff helper modules too).
    pub module_sources: Vec<String>,
}

/// Maximum bytes of build-script text kept in a [`BuildScript`].
pub const SOURCE_CAP: usize = 256 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct BinaryFile {
    pub path: String,
    pub kind: BinaryKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BinaryKind {
    Elf,
    Pe,
    MachO,
    ArArchive,
    Wasm,
    CoffObject,
    WindowsImportLib,
}

impl fmt::Display for BinaryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Elf => "ELF executable/library",
            Self::Pe => "Windows PE executable/DLL",
            Self::MachO => "Mach-O executable/library",
            Self::ArArchive => "static library (ar archive)",
            Self::Wasm => "WebAssembly module",
            Self::CoffObject => "COFF object file",
            Self::WindowsImportLib => "Windows library (.lib)",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuspiciousFile {
    pub path: String,
    pub reason: String,
}

/// One piece of evidence that build-time code can do something.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Capability {
    pub kind: CapabilityKind,
    /// Path inside the package (no `NAME-VERSION/` prefix).
    pub file: String,
    /// 1-based line; 0 when unknown.
    pub line: u32,
    /// The code (or manifest entry) that shows it, shortened.
    pub evidence: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CapabilityKind {
    /// Opens network connections (std::net, HTTP client crates).
    Network,
    /// Spawns processes other than the build tools below (a shell, a downloader, an
    /// interpreter, a program whose name is computed or comes from an unknown place).
    Process,
    /// Runs a normal build tool: the compiler Cargo passes in (`RUSTC`, `RUSTC_WRAPPER`),
    /// Cargo, the C toolchain (`cc`, `CC`, `ar`, ...), `pkg-config`-style probes, or a
    /// read-only `git` query.
    BuildTool,
    /// Runs the package's own scripts: a shell or interpreter given a script the package ships
    /// (`sh configure`, `perl crypto/aes.pl`), or a build tool at a path inside the package.
    /// The script is reviewable content; inline code (`sh -c`, `perl -e`) is a `Process`.
    PackageScript,
    /// Reads environment variables beyond Cargo's build-script variables.
    EnvRead,
    /// Reads or writes files outside `OUT_DIR` / the package.
    FileAccess,
    /// Touches credentials or the home directory.
    CredentialPath,
    /// Carries encoded or opaque payloads.
    Obfuscation,
}

impl fmt::Display for CapabilityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Network => "network",
            Self::Process => "process",
            Self::BuildTool => "build-tool",
            Self::PackageScript => "package-script",
            Self::EnvRead => "env-read",
            Self::FileAccess => "file-access",
            Self::CredentialPath => "credential-path",
            Self::Obfuscation => "obfuscation",
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn kinds_display_and_serialize_kebab_case() {
        for k in [
            CapabilityKind::Network,
            CapabilityKind::Process,
            CapabilityKind::BuildTool,
            CapabilityKind::PackageScript,
            CapabilityKind::EnvRead,
            CapabilityKind::FileAccess,
            CapabilityKind::CredentialPath,
            CapabilityKind::Obfuscation,
        ] {
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{k}\""));
            let back: CapabilityKind = serde_json::from_str(&json).unwrap();
            assert_eq!(back, k);
        }
        assert_eq!(
            serde_json::to_string(&BinaryKind::WindowsImportLib).unwrap(),
            "\"windows-import-lib\""
        );
    }
}
