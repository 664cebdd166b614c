//! The only place the CLI writes to stdout and stderr.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;

/// Write the report to stdout (a closed pipe is not an error).
pub fn report(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    if !text.ends_with('\n') {
        let _ = out.write_all(b"\n");
    }
    let _ = out.flush();
}

/// One line on stderr that is not an error (e.g. which base was chosen).
pub fn note(message: &str) {
    error_line(message);
}

/// One line on stderr.
pub fn error_line(message: &str) {
    let line: String = message
        .chars()
        .filter(|c| *c != '\n' && *c != '\r')
        .collect();
    eprintln!("lockwatch: {line}");
}
