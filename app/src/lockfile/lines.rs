//! Where each `[[package]]` entry starts in the lock file text (for annotations and SARIF).

use std::collections::HashMap;

/// Maps `(name, version)` to the 1-based line of the entry's `[[package]]` header.
#[derive(Debug, Default, Clone)]
pub struct LineIndex {
    entries: HashMap<(String, String), Vec<(Option<String>, u32)>>,
}

impl LineIndex {
    /// Scan the text once; tolerant of anything (it only records what it recognises).
    pub fn new(text: &str) -> Self {
        let mut entries: HashMap<(String, String), Vec<(Option<String>, u32)>> = HashMap::new();
        let mut current: Option<(u32, Option<String>, Option<String>, Option<String>)> = None;
        let mut flush =
            |cur: &mut Option<(u32, Option<String>, Option<String>, Option<String>)>| {
                if let Some((line, Some(name), Some(version), source)) = cur.take() {
                    entries
                        .entry((name, version))
                        .or_default()
                        .push((source, line));
                }
            };
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.starts_with('[') {
                flush(&mut current);
                if is_package_header(line) {
                    current = Some((i as u32 + 1, None, None, None));
                }
                continue;
            }
            let Some(cur) = current.as_mut() else {
                continue;
            };
            if let Some((key, value)) = key_value(line) {
                match key.as_str() {
                    "name" => cur.1 = Some(value),
                    "version" => cur.2 = Some(value),
                    "source" => cur.3 = Some(value),
                    _ => {}
                }
            }
        }
        flush(&mut current);
        LineIndex { entries }
    }

    /// The line of a package entry; the source disambiguates same name+version entries.
    pub fn line_of(&self, name: &str, version: &str, source: Option<&str>) -> Option<u32> {
        let list = self.entries.get(&(name.to_string(), version.to_string()))?;
        list.iter()
            .find(|(s, _)| s.as_deref() == source)
            .or_else(|| list.first())
            .map(|(_, line)| *line)
    }
}

/// `[[package]]`, as TOML allows it to be written (`[[ package ]]  # comment`).
fn is_package_header(line: &str) -> bool {
    let code = line.split('#').next().unwrap_or(line);
    let compact: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    compact == "[[package]]"
}

/// A `key = "string"` line read as TOML (so `name = 'a' # note` is `a`), else the plain
/// text after `=` without quotes (a line that is not valid TOML on its own).
fn key_value(line: &str) -> Option<(String, String)> {
    let (key, value) = line.split_once('=')?;
    let key = key.trim().trim_matches('"').trim_matches('\'').to_string();
    if let Ok(table) = toml::from_str::<toml::Table>(line)
        && let Some((_, toml::Value::String(v))) = table.into_iter().next()
    {
        return Some((key, v));
    }
    Some((key, value.trim().trim_matches('"').to_string()))
}

/// The crate names in a lock file (used to load only the advisories needed): the parsed
/// lock's when it parses (TOML strings may be quoted, escaped and commented in ways a line
/// scan misreads, and a misread name would hide its advisories), else a tolerant scan.
pub fn crate_names(bytes: &[u8]) -> Vec<String> {
    if let Ok(parsed) = super::parse_lock(bytes) {
        return parsed
            .lock
            .packages
            .iter()
            .map(|p| p.name.as_str().to_string())
            .collect();
    }
    let text = String::from_utf8_lossy(bytes);
    let mut in_package = false;
    let mut names = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = is_package_header(line);
            continue;
        }
        if in_package
            && let Some((key, value)) = key_value(line)
            && key == "name"
        {
            names.push(value);
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_package_headers() {
        let text = "version = 3\n\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\n\n[[package]]\nname = \"b\"\nversion = \"2.0.0\"\nsource = \"registry+x\"\n";
        let index = LineIndex::new(text);
        assert_eq!(index.line_of("a", "1.0.0", None), Some(3));
        assert_eq!(index.line_of("b", "2.0.0", Some("registry+x")), Some(7));
        assert_eq!(index.line_of("c", "1.0.0", None), None);
    }

    #[test]
    fn reads_commented_and_single_quoted_values() {
        let text = "version = 4 # reviewed\n\n[[ package ]] # x\nname = 'a' # note\nversion = \"1.0.0\" # pinned\n";
        let index = LineIndex::new(text);
        assert_eq!(index.line_of("a", "1.0.0", None), Some(3));
        assert_eq!(crate_names(text.as_bytes()), vec!["a".to_string()]);
        // Not a lock file cargo-lock reads (no version of `a`): the tolerant scan still
        // reads the name as TOML.
        assert_eq!(
            crate_names(b"[[package]]\nname = \"b\" # c\n"),
            vec!["b".to_string()]
        );
    }
}
