//! Parsing hostile Rust source safely: bounded size, bounded nesting, and a
//! dedicated thread with a large stack for the recursive parser and visitor.

use std::str::FromStr;

use proc_macro2::{TokenStream, TokenTree};

/// Deepest `()`/`[]`/`{}` nesting accepted.
const MAX_GROUP_DEPTH: usize = 256;
/// Stack of the parsing thread. syn's parser, its visitor and the drop of
/// the syntax tree recurse once per nesting level of expressions and types;
/// the token limit bounds that depth and this stack covers it.
const PARSE_STACK: usize = 256 * 1024 * 1024;

/// Runs `work` on a fresh thread with a large stack. proc-macro2 keeps span
/// locations in a thread-local map; the fresh thread also frees it on exit.
pub(crate) fn on_parser_thread<T: Send>(work: impl FnOnce() -> T + Send) -> Result<T, String> {
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("lockwatch-rust-parse".into())
            .stack_size(PARSE_STACK)
            .spawn_scoped(scope, work)
            .map_err(|e| format!("cannot start the parser thread: {e}"))?;
        handle
            .join()
            .map_err(|_| "the Rust parser failed unexpectedly".to_owned())
    })
}

/// Lexes and parses a file; must run on [`on_parser_thread`].
pub(crate) fn parse_file(text: &str, max_tokens: usize) -> Result<syn::File, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // Blank a shebang line (keeping the newline so line numbers stay right).
    let blanked;
    let text = if text.starts_with("#!") && !text.starts_with("#![") {
        let end = text.find('\n').unwrap_or(text.len());
        blanked = format!("{}{}", " ".repeat(end), &text[end..]);
        blanked.as_str()
    } else {
        text
    };
    let tokens = TokenStream::from_str(text).map_err(|e| {
        let at = e.span().start();
        format!("line {}: cannot tokenize: {e}", at.line)
    })?;
    check_shape(&tokens, max_tokens)?;
    syn::parse2::<syn::File>(tokens).map_err(|e| {
        let at = e.span().start();
        format!("line {}: {e}", at.line)
    })
}

/// Rejects token streams that are too long or too deeply nested, without
/// recursion.
fn check_shape(tokens: &TokenStream, max_tokens: usize) -> Result<(), String> {
    let mut count = 0usize;
    let mut stack = vec![tokens.clone().into_iter()];
    while let Some(top) = stack.last_mut() {
        match top.next() {
            None => {
                stack.pop();
            }
            Some(tt) => {
                count += 1;
                if count > max_tokens {
                    return Err(format!(
                        "more than {max_tokens} tokens; too large to inspect safely"
                    ));
                }
                if let TokenTree::Group(g) = tt {
                    if stack.len() >= MAX_GROUP_DEPTH {
                        return Err(format!(
                            "brackets nested deeper than {MAX_GROUP_DEPTH} levels; too deep to inspect safely"
                        ));
                    }
                    stack.push(g.stream().into_iter());
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<usize, String> {
        let text = text.to_owned();
        on_parser_thread(move || parse_file(&text, 250_000).map(|f| f.items.len())).unwrap()
    }

    #[test]
    fn parses_with_shebang_and_bom() {
        assert_eq!(parse("\u{feff}#!/usr/bin/env run-cargo-script\nfn main() {}\n"), Ok(1));
        assert_eq!(parse("#![allow(unused)]\nfn main() {}\n"), Ok(1));
    }

    #[test]
    fn reports_the_line_of_a_syntax_error() {
        let e = parse("fn main() {\n    let x = ;\n}\n").unwrap_err();
        assert!(e.starts_with("line 2"), "{e}");
        let e = parse("fn main() { \"unterminated }\n").unwrap_err();
        assert!(e.contains("tokenize"), "{e}");
    }

    #[test]
    fn refuses_deep_brackets_without_overflowing() {
        let text = format!("fn main() {{ {}1{} }}", "(".repeat(200_000), ")".repeat(200_000));
        let e = parse(&text).unwrap_err();
        assert!(e.contains("nested deeper"), "{e}");
    }

    #[test]
    fn refuses_too_many_tokens() {
        let text = format!("fn main() {{ let x = {}1; }}", "!".repeat(300_000));
        let e = parse(&text).unwrap_err();
        assert!(e.contains("tokens"), "{e}");
    }

    #[test]
    fn survives_long_unary_and_binary_chains_within_the_limit() {
        // Each one nests the syntax tree ~120k levels deep.
        for body in [
            format!("let x = {}1;", "!".repeat(120_000)),
            format!("let x = 1{};", " + 1".repeat(60_000)),
            format!("let x = a{};", " = a".repeat(60_000)),
        ] {
            let text = format!("fn main() {{ {body} }}");
            assert_eq!(parse(&text), Ok(1));
        }
    }
}
