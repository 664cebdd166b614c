//! Escaping text that came from crates, lock files or advisories before it goes into Markdown.

/// Text safe inside a Markdown paragraph or table cell: no HTML, no links, no mentions,
/// no table breaks, one line.
pub fn inline(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' => out.push_str("&#124;"),
            '@' => out.push_str("@\u{200b}"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '!' | '~' | '(' | ')' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A code span that its content cannot break out of.
pub fn code_span(s: &str) -> String {
    let clean: String = s
        .chars()
        .map(|c| if c == '`' || c.is_control() { '\'' } else { c })
        .map(|c| if c == '|' { '¦' } else { c })
        .collect();
    format!("`{clean}`")
}

/// A fenced code block whose fence is longer than any backtick run inside.
pub fn fenced(lang: &str, body: &str) -> String {
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat((longest + 1).max(3));
    format!("{fence}{lang}\n{}\n{fence}\n", body.trim_end_matches('\n'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_neutralises_markup() {
        let hostile = "<img src=x onerror=alert(1)> [click](http://evil) @admin | `x`\n# heading";
        let out = inline(hostile);
        assert!(!out.contains('<') && !out.contains('\n'));
        assert!(!out.contains("](http"));
        assert!(out.contains("@\u{200b}admin"));
        assert!(!out.contains(" | "));
    }

    #[test]
    fn fences_outgrow_the_content() {
        let out = fenced("diff", "a ```` b");
        assert!(out.starts_with("`````diff\n"));
        assert!(out.ends_with("`````\n"));
    }

    #[test]
    fn code_spans_cannot_be_closed_early() {
        assert_eq!(code_span("a`b|c"), "`a'b¦c`");
    }
}
