//! The fuzz targets (`lockwatch::testkit::fuzz`) on stable, with a fixed budget: every seed
//! of `fuzz/corpus/<target>/` as it is, then deterministic mutations of them (bit flips,
//! cut, repeated and spliced spans, inserted tokens). Any panic fails the test, and the
//! failing input is written to `target/fuzz-failures/` to become a seed and a regression
//! test. The same targets run under libFuzzer with `cargo +nightly fuzz run <target>`
//! (see `fuzz/README.md`); this run is what `cargo test` can afford on every change.
//!
//! `LOCKWATCH_FUZZ_ITERATIONS` sets the mutations per target (default 300).
//! `LOCKWATCH_WRITE_FUZZ_CORPUS=1` (re)writes the generated `.crate` seeds.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

use lockwatch::testkit::Krate;
use lockwatch::testkit::fuzz::TARGETS;
use lockwatch::testkit::rng::Rng;
use std::path::{Path, PathBuf};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus")
}

/// Generated `.crate` seeds (the archive targets need real gzip and tar to start from).
fn crate_seeds() -> Vec<(String, Krate)> {
    let plain = Krate::new("fuzz", "1.0.0").file("src/lib.rs", "pub fn f() {}\n");
    let build = Krate::new("fuzz", "1.0.0")
        .package_key("build", "\"build.rs\"")
        .file(
            "build.rs",
            "fn main() { std::process::Command::new(\"sh\"); }\n",
        )
        .file("src/lib.rs", "");
    let native = Krate::new("fuzz", "1.0.0")
        .package_key("links", "\"z\"")
        .file("src/lib.rs", "")
        .file("src/native.c", "int f(void) { return 1; }\n")
        .file_bytes("blob.bin", b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0");
    vec![
        ("plain.crate".into(), plain),
        ("build.crate".into(), build),
        ("native.crate".into(), native),
    ]
}

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = corpus_dir().join(target);
    let mut out: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .map(|p| {
                    let bytes = std::fs::read(&p).unwrap();
                    (p, bytes)
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    let mut seeds: Vec<Vec<u8>> = out.into_iter().map(|(_, b)| b).collect();
    if target == "crate_archive" || target == "crate_tar" {
        for (_, k) in crate_seeds() {
            seeds.push(if target == "crate_tar" {
                k.build_tar()
            } else {
                k.build()
            });
        }
    }
    seeds.push(Vec::new());
    seeds
}

const TOKENS: &[&[u8]] = &[
    b"[[package]]\n",
    b"name = \"",
    b"version = \"",
    b"dependencies = [\n",
    b"source = \"git+https://example.com/x#",
    b"checksum = \"",
    b"\"\n",
    b"{\"",
    b"\":",
    b"null",
    b"[",
    b"]",
    b"\\u0000",
    b"9999999999999999999999",
    b"-1",
    b"\xff\xfe",
    b"\n",
    b"../",
];

fn mutate(rng: &mut Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(v.len() + 1);
        match rng.below(7) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 if !v.is_empty() => {
                let end = (at + rng.below(64)).min(v.len());
                v.drain(at.min(end)..end);
            }
            2 => {
                let t = TOKENS[rng.below(TOKENS.len())];
                v.splice(at..at, t.iter().copied());
            }
            3 if !v.is_empty() => {
                // Repeat a span: deep nesting, long names, many entries.
                let start = rng.below(v.len());
                let end = (start + 1 + rng.below(32)).min(v.len());
                let span = v[start..end].to_vec();
                let times = 1 + rng.below(200);
                let rep: Vec<u8> = span
                    .iter()
                    .copied()
                    .cycle()
                    .take(span.len() * times)
                    .collect();
                v.splice(at..at, rep);
            }
            4 if !other.is_empty() => {
                let start = rng.below(other.len());
                let end = (start + rng.below(256)).min(other.len());
                v.splice(at..at, other[start..end].iter().copied());
            }
            5 => v.truncate(at),
            _ => {
                let b = rng.next_u64() as u8;
                v.insert(at, b);
            }
        }
    }
    v
}

fn run_one(target: &str, f: fn(&[u8]), input: &[u8]) {
    let result = std::panic::catch_unwind(|| f(input));
    if result.is_err() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/fuzz-failures");
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join(format!("{target}-{:016x}", fxhash(input)));
        let _ = std::fs::write(&path, input);
        panic!(
            "fuzz target {target} panicked; input saved to {}",
            path.display()
        );
    }
}

fn fxhash(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &x| {
        (h ^ u64::from(x)).wrapping_mul(0x100_0000_01b3)
    })
}

#[test]
fn every_fuzz_target_survives_its_seeds_and_a_fixed_budget_of_mutations() {
    if std::env::var_os("LOCKWATCH_WRITE_FUZZ_CORPUS").is_some() {
        for (name, k) in crate_seeds() {
            std::fs::write(corpus_dir().join("crate_archive").join(&name), k.build()).unwrap();
            let tar = name.replace(".crate", ".tar");
            std::fs::write(corpus_dir().join("crate_tar").join(tar), k.build_tar()).unwrap();
        }
    }
    let iterations: usize = std::env::var("LOCKWATCH_FUZZ_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    for (target, f) in TARGETS {
        let seeds = seeds(target);
        assert!(
            seeds.len() > 1,
            "no seed corpus for {target} in {}",
            corpus_dir().display()
        );
        for s in &seeds {
            run_one(target, *f, s);
        }
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ fxhash(target.as_bytes()));
        for _ in 0..iterations {
            let a = &seeds[rng.below(seeds.len())];
            let b = &seeds[rng.below(seeds.len())];
            let input = mutate(&mut rng, a, b);
            run_one(target, *f, &input);
        }
    }
}
