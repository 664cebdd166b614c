//! Escaping text that came from crates, lock files or advisories before it goes into
//! Markdown, HTML, a terminal or a workflow command.
//!
//! Every front end first passes such text through [`clean_line`] (one line) or
//! [`clean_block`] (keeps line breaks): control characters, bidirectional overrides and
//! isolates (U+202E, U+2066, ...), line and paragraph separators (U+2028, U+2029) and
//! invisible format characters (zero-width spaces, U+FEFF, tag characters) are shown as
//! `<U+XXXX>`, so a name cannot reorder what a reader sees, start a new line in a log, or
//! hide a character that makes it a different crate.

use std::fmt::Write;

/// Characters that change how the surrounding text is displayed or read without being
/// visible themselves: Unicode's format characters (Cf) that matter in practice, the line
/// and paragraph separators, and the Hangul fillers that render as blanks.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c as u32,
        0x00AD
            | 0x0600..=0x0605
            | 0x061C
            | 0x06DD
            | 0x070F
            | 0x115F
            | 0x1160
            | 0x180E
            | 0x200B..=0x200F
            | 0x2028..=0x202E
            | 0x2060..=0x206F
            | 0x3164
            | 0xFEFF
            | 0xFFA0
            | 0xFFF9..=0xFFFB
            | 0x1D173..=0x1D17A
            | 0xE0000..=0xE007F
    )
}

fn push_escaped(out: &mut String, c: char) {
    let _ = write!(out, "<U+{:04X}>", c as u32);
}

/// One line of untrusted text made visible: every control character (line breaks and tabs
/// included) and every invisible or direction-changing character becomes `<U+XXXX>`.
pub fn clean_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '\t' {
            out.push(' ');
        } else if c.is_control() || is_invisible(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    out
}

/// Untrusted text of several lines (a diff): line breaks and tabs stay, `\r\n` becomes
/// `\n`, everything else [`clean_line`] escapes is escaped.
pub fn clean_block(s: &str) -> String {
    let s = s.replace("\r\n", "\n");
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '\n' || c == '\t' {
            out.push(c);
        } else if c.is_control() || is_invisible(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether a word would become a link in GitHub-flavoured Markdown (an extended autolink:
/// a scheme, `www.`, or an e-mail address).
fn looks_like_link(word: &str) -> bool {
    let lower = word.to_ascii_lowercase();
    lower.contains("://") || lower.contains("www.") || lower.contains("mailto:")
}

/// Text safe inside a Markdown paragraph or table cell: no HTML, no links, no mentions,
/// no table breaks, one line. Words that GitHub would turn into links (URLs, `www.`) become
/// code spans.
pub fn inline(s: &str) -> String {
    let clean = clean_line(s);
    let mut out = String::with_capacity(clean.len() + 8);
    for (i, word) in clean.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if looks_like_link(word) {
            out.push_str(&code_span(word));
        } else {
            escape_word(word, &mut out);
        }
    }
    out
}

fn escape_word(word: &str, out: &mut String) {
    for c in word.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' => out.push_str("&#124;"),
            // A zero-width space after `@` keeps `@someone` from notifying anyone.
            '@' => out.push_str("@\u{200b}"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '!' | '~' | '(' | ')' | '$' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
}

/// Text written by lockwatch around untrusted parts: `` `quoted` `` parts become code spans
/// (their content cleaned), the rest is [`inline`] text. An unmatched backtick is shown as
/// itself.
pub fn text(s: &str) -> String {
    let parts: Vec<&str> = s.split('`').collect();
    let mut out = String::with_capacity(s.len() + 8);
    let pairs = parts.len() / 2; // number of complete code spans
    for (i, part) in parts.iter().enumerate() {
        if i % 2 == 1 && i / 2 < pairs && i + 1 < parts.len() {
            out.push_str(&code_span(part));
        } else {
            if i % 2 == 1 {
                out.push_str("\\`");
            }
            out.push_str(&inline(part));
        }
    }
    out
}

/// A code span that its content cannot break out of (also inside a table cell).
pub fn code_span(s: &str) -> String {
    let clean: String = clean_line(s)
        .chars()
        .map(|c| match c {
            '`' => '\'',
            '|' => '¦',
            c => c,
        })
        .collect();
    let clean = clean.trim();
    if clean.is_empty() {
        return "` `".into();
    }
    format!("`{clean}`")
}

/// Text safe inside HTML (a `<summary>`): entities for markup, no mentions, one line.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in clean_line(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '|' => out.push_str("&#124;"),
            '@' => out.push_str("@\u{200b}"),
            c => out.push(c),
        }
    }
    out
}

/// A fenced code block whose fence is longer than any backtick run inside.
pub fn fenced(lang: &str, body: &str) -> String {
    let body = clean_block(body);
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat((longest + 1).max(3));
    format!("{fence}{lang}\n{}\n{fence}\n", body.trim_end_matches('\n'))
}

/// Whether `name` is a crate name crates.io could have (so a link to it names that crate,
/// not another one that a sanitised form would point at).
pub fn is_crate_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Whether `v` is a plain version (for a link path segment).
pub fn is_version(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 64
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '+')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_neutralises_markup() {
        let hostile = "<img src=x onerror=alert(1)> [click](http://evil) @admin | `x`\n# heading";
        let out = inline(hostile);
        assert!(!out.contains('<') && !out.contains('\n'));
        // A word with a URL is a code span: never a link.
        assert!(out.contains("`[click](http://evil)`"), "{out}");
        assert!(out.contains("@\u{200b}admin"));
        assert!(!out.contains(" | "));
    }

    #[test]
    fn urls_become_code_spans() {
        assert_eq!(
            inline("moved to git+https://evil.example/x\\y now"),
            "moved to `git+https://evil.example/x\\y` now"
        );
        assert_eq!(inline("see www.evil.example"), "see `www.evil.example`");
    }

    #[test]
    fn bidi_and_separators_are_shown_not_obeyed() {
        let s = "a\u{202e}b\u{2028}c\u{2066}d\u{200b}e\u{feff}f\u{1b}g";
        let out = clean_line(s);
        assert_eq!(
            out,
            "a<U+202E>b<U+2028>c<U+2066>d<U+200B>e<U+FEFF>f<U+001B>g"
        );
        assert_eq!(clean_block("x\r\ny\u{2029}"), "x\ny<U+2029>");
        for rendered in [inline(s), code_span(s), html(s), fenced("", s), text(s)] {
            assert!(
                !rendered.chars().any(|c| c != '\u{200b}' && is_invisible(c)),
                "{rendered:?}"
            );
        }
    }

    #[test]
    fn quoted_parts_become_code_spans() {
        assert_eq!(
            text("`serde` 1.0: double free in `Drop`"),
            "`serde` 1.0: double free in `Drop`"
        );
        assert_eq!(text("a `b"), "a \\`b");
        assert_eq!(text("x `a|b` *y*"), "x `a¦b` \\*y\\*");
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

    #[test]
    fn only_real_crate_names_are_linkable() {
        assert!(is_crate_name("serde_json"));
        assert!(!is_crate_name("serde/../json"));
        assert!(!is_crate_name("https://evil"));
        assert!(!is_crate_name("serde\u{202e}"));
    }
}
