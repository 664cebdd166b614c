//! The documentation tells the truth about the code: every finding code is in the
//! reference table of `docs/findings.md` with its default level, and the table names no
//! code the engine does not have.

use std::collections::BTreeMap;

use lockwatch::engine::{Code, Level};

fn level_name(level: Level) -> &'static str {
    match level {
        Level::Deny => "deny",
        Level::Warn => "warn",
        Level::Allow => "allow",
    }
}

/// Rows of the codes table: "| `a`, `b` | level | meaning |" gives `a` and `b` at `level`.
fn documented_levels(markdown: &str) -> BTreeMap<String, String> {
    let mut levels = BTreeMap::new();
    let section = markdown
        .split("## Codes and default levels")
        .nth(1)
        .expect("docs/findings.md has a `## Codes and default levels` section");
    let section = section.split("\n## ").next().unwrap_or(section);
    for line in section.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // "", codes, level, meaning, ""
        if cells.len() < 4 || !cells[1].starts_with('`') {
            continue;
        }
        for code in cells[1].split(',') {
            let code = code.trim().trim_matches('`');
            let previous = levels.insert(code.to_string(), cells[2].to_string());
            assert!(previous.is_none(), "`{code}` is documented twice");
        }
    }
    levels
}

#[test]
fn every_finding_code_is_documented_with_its_default_level() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/findings.md");
    let markdown = std::fs::read_to_string(path).expect("docs/findings.md");
    let documented = documented_levels(&markdown);
    assert!(
        documented.len() >= 10,
        "the table was not found: {documented:?}"
    );
    for code in Code::ALL {
        let level = documented
            .get(code.as_str())
            .unwrap_or_else(|| panic!("`{}` is not in docs/findings.md", code.as_str()));
        assert_eq!(
            level,
            level_name(code.default_level()),
            "docs/findings.md gives `{}` the wrong default level",
            code.as_str()
        );
    }
    for name in documented.keys() {
        assert!(
            name.parse::<Code>().is_ok(),
            "docs/findings.md documents `{name}`, which is not a finding code"
        );
    }
}
