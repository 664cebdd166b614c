//! Workflow commands (`::error file=...,line=...::message`), with every piece of text that
//! came from a crate, a lock file or an advisory escaped the way the runner unescapes it, so
//! it cannot end the command early or start another one.

use lockwatch::engine::{Finding, Level};

/// Escape a command's message: `%` → `%25`, CR → `%0D`, LF → `%0A`; bidirectional,
/// line-separator and other invisible characters are shown as `<U+XXXX>` (the report's
/// shared escaping, `lockwatch::report::clean_block`).
pub fn escape_data(s: &str) -> String {
    lockwatch::report::clean_block(s)
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape a property value: as data, plus `:` → `%3A` and `,` → `%2C`.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// One workflow command line (ends with `\n`).
pub fn command(name: &str, properties: &[(&str, String)], message: &str) -> String {
    let props: Vec<String> = properties
        .iter()
        .map(|(k, v)| format!("{k}={}", escape_property(v)))
        .collect();
    let sep = if props.is_empty() { "" } else { " " };
    format!(
        "::{name}{sep}{}::{}\n",
        props.join(","),
        escape_data(message)
    )
}

/// The annotation of a shown finding: `::error` for deny, `::warning` for warn, on the
/// lock file's `[[package]]` line when known. `None` for hidden (`allow`) findings.
pub fn annotation(f: &Finding) -> Option<String> {
    let name = match f.level {
        Level::Deny => "error",
        Level::Warn => "warning",
        Level::Allow => return None,
    };
    let mut props = Vec::new();
    if let Some(file) = &f.lockfile {
        props.push(("file", file.clone()));
        if let Some(line) = f.line {
            props.push(("line", line.to_string()));
        }
    }
    let krate = match (&f.krate, &f.version) {
        (Some(k), Some(v)) => format!(" ({k} {v})"),
        (Some(k), None) => format!(" ({k})"),
        _ => String::new(),
    };
    let title: String = format!("lockwatch {}{krate}", f.code.as_str())
        .chars()
        .take(250)
        .collect();
    props.push(("title", title));
    let message: String = f.message.chars().take(4000).collect();
    Some(command(name, &props, &message))
}

/// A plain log line: one line, so it can never start a workflow command.
pub fn log_line(message: &str) -> String {
    let one: String = message
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    format!("lockwatch: {one}\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockwatch::engine::Code;

    #[test]
    fn escapes_follow_the_runner() {
        assert_eq!(escape_data("a%b\nc::d"), "a%25b%0Ac::d");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
        // A lone CR could overwrite what the log shows: it is made visible.
        assert_eq!(escape_data("a\rb\r\nc"), "a<U+000D>b%0Ac");
    }

    #[test]
    fn hostile_finding_text_stays_on_one_command_line() {
        let f = Finding::new(
            Code::Typosquat,
            "evil\n::set-output name=verdict::pass\r%0A",
        )
        .krate("a,b:c\n::warning::x", Some("1.0.0".into()))
        .at("sub/Cargo.lock", Some(7))
        .level(Level::Deny);
        let line = annotation(&f).unwrap_or_default();
        assert_eq!(
            line,
            "::error file=sub/Cargo.lock,line=7,title=lockwatch typosquat (a%2Cb%3Ac%0A%3A%3Awarning%3A%3Ax 1.0.0)::evil%0A::set-output name=verdict::pass<U+000D>%250A\n"
        );
        assert_eq!(line.matches('\n').count(), 1);
    }

    #[test]
    fn bidi_and_line_separators_are_shown_not_obeyed() {
        let f = Finding::new(Code::Typosquat, "new crate `ser\u{202e}de` \u{2028}x")
            .krate("ser\u{202e}de\u{2066}", Some("1.0.0".into()))
            .at("Cargo.lock", Some(7));
        let line = annotation(&f).unwrap_or_default();
        assert!(
            !line.contains(['\u{202e}', '\u{2028}', '\u{2066}']),
            "{line:?}"
        );
        assert!(line.contains("ser<U+202E>de<U+2066> 1.0.0"), "{line}");
        assert!(line.contains("`ser<U+202E>de` <U+2028>x"), "{line}");
    }

    #[test]
    fn allow_findings_are_not_annotated() {
        let f = Finding::new(Code::Yanked, "x").level(Level::Allow);
        assert!(annotation(&f).is_none());
    }

    #[test]
    fn log_lines_cannot_start_a_command() {
        assert_eq!(log_line("a\n::error::x"), "lockwatch: a ::error::x\n");
    }
}
