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
                if line == "[[package]]" {
                    current = Some((i as u32 + 1, None, None, None));
                }
                continue;
            }
            let Some(cur) = current.as_mut() else {
                continue;
            };
            if let Some((key, value)) = line.split_once('=') {
                let value = value.trim().trim_matches('"').to_string();
                match key.trim() {
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

/// The crate names in a lock file, by a tolerant scan (used to load only the advisories needed).
pub fn crate_names(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let mut in_package = false;
    let mut names = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = line == "[[package]]";
            continue;
        }
        if in_package
            && let Some(rest) = line.strip_prefix("name")
            && let Some(value) = rest.trim_start().strip_prefix('=')
        {
            names.push(value.trim().trim_matches('"').to_string());
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
}
