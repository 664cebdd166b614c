//! Parsing hostile Rust source safely: bounded size, bounded nesting, and a
//! dedicated thread with a large stack for the recursive parser and visitor.

use std::str::FromStr;

use proc_macro2::{TokenStream, TokenTree};

/// Deepest `()`/`[]`/`{}` nesting accepted.
const MAX_GROUP_DEPTH: usize = 256;
/// Upper bound on how deeply the parser may have to recurse, estimated
/// from the tokens (see [`check_shape`]).
const MAX_NESTING_POTENTIAL: usize = 20_000;
/// Stack of the parsing thread. syn's parser, its visitor and the drop of
/// the syntax tree recurse once per nesting level of expressions and types
/// (a few KiB per level in debug builds); [`MAX_NESTING_POTENTIAL`] bounds
/// the levels and this stack covers them with a wide margin.
const PARSE_STACK: usize = 256 * 1024 * 1024;

/// The name a macro is called by: the last segment of its path (`println` for
/// `std::println!`).
pub(crate) fn macro_name(mac: &syn::Macro) -> String {
    mac.path
        .segments
        .last()
        .map(|s| s.ident.to_string())
        .unwrap_or_default()
}

/// Why a Rust file was not parsed (the message of its `unreviewable`-style note).
#[derive(Debug, thiserror::Error)]
pub(crate) enum ParseError {
    #[error("cannot start the parser thread: {0}")]
    Thread(#[source] std::io::Error),
    #[error("the Rust parser failed unexpectedly")]
    Panicked,
    #[error("line {line}: cannot tokenize: {message}")]
    Tokenize { line: usize, message: String },
    #[error("line {line}: {message}")]
    Syntax { line: usize, message: String },
    #[error("more than {0} tokens; too large to inspect safely")]
    TooManyTokens(usize),
    #[error("expressions or types nested too deeply to inspect safely")]
    TooDeep,
    #[error("brackets nested deeper than {MAX_GROUP_DEPTH} levels; too deep to inspect safely")]
    BracketsTooDeep,
}

/// Runs `work` on a fresh thread with a large stack. proc-macro2 keeps span
/// locations in a thread-local map; the fresh thread also frees it on exit.
pub(crate) fn on_parser_thread<T: Send>(work: impl FnOnce() -> T + Send) -> Result<T, ParseError> {
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("lockwatch-rust-parse".into())
            .stack_size(PARSE_STACK)
            .spawn_scoped(scope, work)
            .map_err(ParseError::Thread)?;
        handle.join().map_err(|_| ParseError::Panicked)
    })
}

/// Lexes and parses a file; must run on [`on_parser_thread`].
pub(crate) fn parse_file(text: &str, max_tokens: usize) -> Result<syn::File, ParseError> {
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
    let tokens = TokenStream::from_str(text).map_err(|e| ParseError::Tokenize {
        line: e.span().start().line,
        message: e.to_string(),
    })?;
    check_shape(&tokens, max_tokens)?;
    syn::parse2::<syn::File>(tokens).map_err(|e| ParseError::Syntax {
        line: e.span().start().line,
        message: e.to_string(),
    })
}

/// Rejects token streams that are too long or could nest the syntax tree
/// too deeply, without recursion.
///
/// Recursion in the parser (unary operators, right-associative assignment,
/// closures, nested generics, `else if` chains, ...) only grows while tokens
/// are consumed, and falls back at statement ends. So the depth is bounded
/// by the sum, over the enclosing bracket groups, of the tokens seen since
/// the last `;` (or `,` outside angle brackets, or a keyword that can only
/// start an item such as `pub`) at that level. Real code stays
/// far below [`MAX_NESTING_POTENTIAL`]; hostile chains such as `!!!!...x`,
/// `a = a = ...` or `Option<Option<...>>` exceed it.
const ITEM_STARTS: &[&str] = &["pub", "struct", "enum", "union", "trait", "mod", "use"];

fn check_shape(tokens: &TokenStream, max_tokens: usize) -> Result<(), ParseError> {
    struct Level {
        iter: proc_macro2::token_stream::IntoIter,
        segment: usize,
        angle: bool,
    }
    let mut count = 0usize;
    let mut potential = 0usize;
    let mut stack = vec![Level {
        iter: tokens.clone().into_iter(),
        segment: 0,
        angle: false,
    }];
    while let Some(top) = stack.last_mut() {
        let Some(tt) = top.iter.next() else {
            potential -= top.segment;
            stack.pop();
            continue;
        };
        count += 1;
        if count > max_tokens {
            return Err(ParseError::TooManyTokens(max_tokens));
        }
        match &tt {
            TokenTree::Punct(p) if p.as_char() == ';' || (p.as_char() == ',' && !top.angle) => {
                potential -= top.segment;
                top.segment = 0;
                top.angle = false;
                continue;
            }
            // Tokens that cannot continue an expression or type: an item
            // starts here (and if not, syn rejects the input at this point).
            TokenTree::Ident(id) if ITEM_STARTS.iter().any(|k| id == k) => {
                potential -= top.segment;
                top.segment = 0;
                top.angle = false;
            }
            TokenTree::Punct(p) if p.as_char() == '<' => top.angle = true,
            _ => {}
        }
        top.segment += 1;
        potential += 1;
        if potential > MAX_NESTING_POTENTIAL {
            return Err(ParseError::TooDeep);
        }
        if let TokenTree::Group(g) = tt {
            if stack.len() >= MAX_GROUP_DEPTH {
                return Err(ParseError::BracketsTooDeep);
            }
            stack.push(Level {
                iter: g.stream().into_iter(),
                segment: 0,
                angle: false,
            });
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
        on_parser_thread(move || parse_file(&text, 250_000).map(|f| f.items.len()))
            .unwrap()
            .map_err(|e| e.to_string())
    }

    #[test]
    fn parses_with_shebang_and_bom() {
        assert_eq!(
            parse("\u{feff}#!/usr/bin/env run-cargo-script\nfn main() {}\n"),
            Ok(1)
        );
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
        let text = format!(
            "fn main() {{ {}1{} }}",
            "(".repeat(200_000),
            ")".repeat(200_000)
        );
        let e = parse(&text).unwrap_err();
        assert!(e.contains("nested deeper"), "{e}");
    }

    #[test]
    fn refuses_too_many_tokens() {
        let text = format!("fn main() {{ {} }}", "let x = 1;".repeat(60_000));
        let e = parse(&text).unwrap_err();
        assert!(e.contains("tokens"), "{e}");
    }

    #[test]
    fn refuses_deep_chains_without_overflowing() {
        // Each of these would nest the parser ~100k levels deep.
        for body in [
            format!("let x = {}1;", "!".repeat(100_000)),
            format!("let x = a{};", " = a".repeat(50_000)),
            format!("let x = a{};", " = {a}".repeat(50_000)),
            format!(
                "let x: {}u8{};",
                "Option<u8, ".repeat(30_000),
                ">".repeat(30_000)
            ),
            format!("let x = {}1;", "|| ".repeat(100_000)),
        ] {
            let text = format!("fn main() {{ {body} }}");
            let e = parse(&text).unwrap_err();
            assert!(e.contains("too deep"), "{e}");
        }
        // Item keywords reset the estimate; inside an expression syn rejects
        // them at once, before recursing further.
        let text = format!("fn main() {{ let x = {}1; }}", "pub !".repeat(50_000));
        assert!(parse(&text).unwrap_err().contains("expected"));
    }

    #[test]
    fn accepts_large_but_flat_real_code() {
        let fns: String = (0..2_000)
            .map(|i| format!("#[inline]\npub fn f{i}(x: Vec<u8>) -> u8 {{ x[0] }}\n"))
            .collect();
        let table = format!(
            "const T: [u32; 20000] = [{}];\n",
            (0..20_000)
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        assert_eq!(parse(&format!("{fns}{table}")), Ok(2_001));
        // Binary chains parse iteratively; a long sum is fine when flat enough.
        assert_eq!(
            parse(&format!(
                "fn main() {{ let x = 1{}; }}",
                " + 1".repeat(5_000)
            )),
            Ok(1)
        );
    }
}
