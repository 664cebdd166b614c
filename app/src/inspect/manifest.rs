//! The parts of the packaged (normalized) `Cargo.toml` that matter for review.

use toml::{Table, Value};

use super::InspectError;

/// Deepest `[`/`{` nesting accepted before parsing (guards the TOML parser's
/// recursion; real manifests stay below 5).
const MAX_NESTING: usize = 64;

/// How the package declares its build script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BuildSetting {
    /// `build` absent (or `true`): `build.rs` at the package root, if present.
    Auto,
    /// `build = false`.
    Disabled,
    /// `build = "path"` (or a list of paths, unstable multiple build scripts).
    Paths(Vec<String>),
}

/// A `[build-dependencies]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BuildDep {
    /// The name the build script uses (the TOML key).
    pub key: String,
    /// The crate's real name (`package = "..."` when renamed).
    pub name: String,
    /// 1-based line of the entry in `Cargo.toml`, 0 if not found.
    pub line: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Manifest {
    pub name: Option<String>,
    pub version: Option<String>,
    pub build: BuildSetting,
    pub proc_macro: bool,
    pub lib_path: Option<String>,
    pub links: Option<String>,
    /// `package.repository`: what the package says its source repository is.
    pub repository: Option<String>,
    pub homepage: Option<String>,
    pub documentation: Option<String>,
    /// `package.license` (an SPDX expression, as written).
    pub license: Option<String>,
    /// `package.license-file`.
    pub license_file: Option<String>,
    /// `package.authors` (strings only).
    pub authors: Vec<String>,
    pub build_deps: Vec<BuildDep>,
}

fn invalid(reason: impl Into<String>) -> InspectError {
    InspectError::InvalidManifest {
        reason: reason.into(),
    }
}

pub(crate) fn parse_manifest(text: &str) -> Result<Manifest, InspectError> {
    let mut depth = 0usize;
    for b in text.bytes() {
        match b {
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(invalid(format!("nesting deeper than {MAX_NESTING} levels")));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    let table: Table = text.parse().map_err(|e: toml::de::Error| {
        let mut reason = e.message().to_owned();
        if let Some(span) = e.span() {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            reason = format!("line {line}: {reason}");
        }
        invalid(truncate(&reason, 300))
    })?;

    let package = table
        .get("package")
        .or_else(|| table.get("project"))
        .and_then(Value::as_table);
    let str_key = |key: &str| {
        package
            .and_then(|p| p.get(key))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };

    let build = match package.and_then(|p| p.get("build")) {
        None | Some(Value::Boolean(true)) => BuildSetting::Auto,
        Some(Value::Boolean(false)) => BuildSetting::Disabled,
        Some(Value::String(s)) => BuildSetting::Paths(vec![s.clone()]),
        Some(Value::Array(items)) => BuildSetting::Paths(
            items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| invalid("`package.build` list holds a non-string"))
                })
                .collect::<Result<_, _>>()?,
        ),
        Some(other) => {
            return Err(invalid(format!(
                "`package.build` is a {}, expected a path or a boolean",
                other.type_str()
            )));
        }
    };

    let lib = table.get("lib").and_then(Value::as_table);
    let proc_macro = lib
        .and_then(|l| l.get("proc-macro").or_else(|| l.get("proc_macro")))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let lib_path = lib
        .and_then(|l| l.get("path"))
        .and_then(Value::as_str)
        .map(str::to_owned);

    let mut dep_tables: Vec<&Table> = Vec::new();
    collect_build_dep_tables(&table, &mut dep_tables);
    if let Some(targets) = table.get("target").and_then(Value::as_table) {
        for cfg in targets.values().filter_map(Value::as_table) {
            collect_build_dep_tables(cfg, &mut dep_tables);
        }
    }
    let mut build_deps: Vec<BuildDep> = Vec::new();
    for deps in dep_tables {
        for (key, spec) in deps {
            let name = spec
                .as_table()
                .and_then(|t| t.get("package"))
                .and_then(Value::as_str)
                .unwrap_or(key)
                .to_owned();
            if build_deps.iter().any(|d| d.key == *key && d.name == name) {
                continue;
            }
            build_deps.push(BuildDep {
                key: key.clone(),
                line: dep_line(text, key),
                name,
            });
        }
    }

    Ok(Manifest {
        name: str_key("name"),
        version: str_key("version"),
        build,
        proc_macro,
        lib_path,
        links: str_key("links"),
        repository: str_key("repository"),
        homepage: str_key("homepage"),
        documentation: str_key("documentation"),
        license: str_key("license"),
        license_file: str_key("license-file").or_else(|| str_key("license_file")),
        authors: package
            .and_then(|p| p.get("authors"))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .take(64)
                    .map(|s| truncate(s, 200))
                    .collect()
            })
            .unwrap_or_default(),
        build_deps,
    })
}

fn collect_build_dep_tables<'a>(t: &'a Table, out: &mut Vec<&'a Table>) {
    for key in ["build-dependencies", "build_dependencies"] {
        if let Some(deps) = t.get(key).and_then(Value::as_table) {
            out.push(deps);
        }
    }
}

/// Best-effort line of a build-dependency: `key = ...` inside a
/// `[...build-dependencies]` table, or a `[...build-dependencies.key]` header.
fn dep_line(text: &str, key: &str) -> u32 {
    let mut in_section = false;
    for (i, line) in text.lines().enumerate() {
        let line_no = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let t = line.trim();
        if t.starts_with('[') {
            let header: String = t
                .trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or("")
                .chars()
                .filter(|c| !matches!(c, '"' | '\'' | ' ' | '\t'))
                .collect();
            let is_deps =
                |h: &str| h.ends_with("build-dependencies") || h.ends_with("build_dependencies");
            if let Some(prefix) = header.strip_suffix(key).and_then(|h| h.strip_suffix('.'))
                && is_deps(prefix)
            {
                return line_no;
            }
            in_section = is_deps(&header);
            continue;
        }
        if in_section {
            let rest = t
                .strip_prefix(&format!("\"{key}\""))
                .or_else(|| t.strip_prefix(key));
            if let Some(rest) = rest
                && matches!(rest.trim_start().chars().next(), Some('=' | '.'))
            {
                return line_no;
            }
        }
    }
    0
}

pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn build_settings() {
        let m = parse_manifest("[package]\nname = \"a\"\n").unwrap();
        assert_eq!(m.build, BuildSetting::Auto);
        let m = parse_manifest("[package]\nbuild = false\n").unwrap();
        assert_eq!(m.build, BuildSetting::Disabled);
        let m = parse_manifest("[package]\nbuild = \"tools/gen.rs\"\n").unwrap();
        assert_eq!(m.build, BuildSetting::Paths(vec!["tools/gen.rs".into()]));
        let m = parse_manifest("[package]\nbuild = [\"a.rs\", \"b.rs\"]\n").unwrap();
        assert_eq!(
            m.build,
            BuildSetting::Paths(vec!["a.rs".into(), "b.rs".into()])
        );
        let e = parse_manifest("[package]\nbuild = 3\n").unwrap_err();
        assert!(matches!(e, InspectError::InvalidManifest { .. }));
    }

    #[test]
    fn proc_macro_both_spellings() {
        assert!(
            parse_manifest("[lib]\nproc-macro = true\n")
                .unwrap()
                .proc_macro
        );
        assert!(
            parse_manifest("[lib]\nproc_macro = true\n")
                .unwrap()
                .proc_macro
        );
        assert!(
            !parse_manifest("[lib]\npath = \"x.rs\"\n")
                .unwrap()
                .proc_macro
        );
    }

    #[test]
    fn build_dependencies_with_renames_targets_and_lines() {
        let text = r#"[package]
name = "foo-sys"
links = "foo"

[build-dependencies.cc]
version = "1"

[build-dependencies]
fetch = { package = "reqwest", version = "0.12" }

[target.'cfg(windows)'.build-dependencies]
winres = "0.1"
"#;
        let m = parse_manifest(text).unwrap();
        assert_eq!(m.links.as_deref(), Some("foo"));
        let got: Vec<_> = m
            .build_deps
            .iter()
            .map(|d| (d.key.as_str(), d.name.as_str(), d.line))
            .collect();
        assert!(got.contains(&("cc", "cc", 5)), "{got:?}");
        assert!(got.contains(&("fetch", "reqwest", 9)), "{got:?}");
        assert!(got.contains(&("winres", "winres", 12)), "{got:?}");
    }

    #[test]
    fn not_toml_is_an_error_with_a_line() {
        let e = parse_manifest("[package\nname = ").unwrap_err();
        let InspectError::InvalidManifest { reason } = e else {
            panic!("wrong error {e:?}")
        };
        assert!(reason.starts_with("line 1"), "{reason}");
    }

    #[test]
    fn deep_nesting_is_refused_without_recursion() {
        let text = format!("a = {}", "[".repeat(100_000));
        let e = parse_manifest(&text).unwrap_err();
        assert!(e.to_string().contains("nesting"), "{e}");
    }
}
