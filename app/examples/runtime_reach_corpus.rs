//! Measurement helper for the run-time reach rules (issue 17.6, `docs/findings.md`):
//! reads `NAME<TAB>VERSION<TAB>PATH-TO-.crate` lines on stdin, inspects each crate with the
//! default limits, and prints one JSON line per crate: its library signals (`runtime`), how
//! long the inspection took, and the inspection error if any. `tests/bench/runtime-reach.py`
//! drives it over the crates of the real-world corpus and counts the signals.
//!
//!   cargo run --release --example runtime_reach_corpus < list.tsv > reach.jsonl

#![allow(clippy::print_stdout, clippy::print_stderr)]

use lockwatch::inspect::{InspectLimits, inspect_crate};
use std::io::BufRead;
use std::time::Instant;

fn main() {
    let limits = InspectLimits::default();
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let mut parts = line.splitn(3, '\t');
        let (Some(name), Some(version), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            eprintln!("skipped: {line}");
            continue;
        };
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{path}: {e}");
                continue;
            }
        };
        let t = Instant::now();
        let result = inspect_crate(name, version, bytes.as_slice(), &limits);
        let ms = t.elapsed().as_millis();
        let row = match result {
            Ok(s) => {
                serde_json::json!({"name": name, "version": version, "ms": ms, "runtime": s.runtime})
            }
            Err(e) => {
                serde_json::json!({"name": name, "version": version, "ms": ms, "error": e.to_string()})
            }
        };
        println!("{row}");
    }
}
