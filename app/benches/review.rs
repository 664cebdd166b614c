//! `cargo bench -p lockwatch`: lock diff and full offline review on a 550-package lock pair.
//!
//! A plain timing harness (no criterion: one dependency less in our own lock file): each
//! case runs a warm-up, then N iterations, and prints min / median / mean.

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use lockwatch::advisories::AdvisoryDb;
use lockwatch::engine::{AdvisorySource, LockfileInput, ParsedLockfile, ReviewInput, review};
use lockwatch::lockfile::{crate_names, diff, parse_lock};
use lockwatch::policy::Policy;
use lockwatch::typosquat::{PopularCrates, TyposquatChecker};
use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

fn time<F: FnMut()>(name: &str, iterations: usize, mut f: F) {
    f();
    let mut samples: Vec<Duration> = (0..iterations)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    samples.sort();
    let mean = samples.iter().sum::<Duration>() / iterations as u32;
    println!(
        "{name:<44} min {:>9.3} ms  median {:>9.3} ms  mean {:>9.3} ms  (n={iterations})",
        samples[0].as_secs_f64() * 1e3,
        samples[iterations / 2].as_secs_f64() * 1e3,
        mean.as_secs_f64() * 1e3
    );
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let base = std::fs::read(root.join("tests/bench/data/base.Cargo.lock")).unwrap();
    let head = std::fs::read(root.join("tests/bench/data/head.Cargo.lock")).unwrap();
    let shared = root.join("../shared/advisory-db");
    let db_dir = if shared.is_dir() {
        shared
    } else {
        root.join("app/fixtures/advisory-db")
    };
    println!(
        "lock pair: {} packages; advisory db: {}",
        crate_names(&head).len(),
        db_dir.display()
    );

    time("parse both locks", 50, || {
        parse_lock(&base).unwrap();
        parse_lock(&head).unwrap();
    });
    let (b, h) = (parse_lock(&base).unwrap(), parse_lock(&head).unwrap());
    time("diff (already parsed)", 200, || {
        diff(Some(&b), Some(&h));
    });
    time("parse + diff", 50, || {
        let (b, h) = (parse_lock(&base).unwrap(), parse_lock(&head).unwrap());
        diff(Some(&b), Some(&h));
    });
    let names: HashSet<String> = crate_names(&base)
        .into_iter()
        .chain(crate_names(&head))
        .collect();
    time("load advisories for the lock's crates", 20, || {
        AdvisoryDb::load(&db_dir, Some(&names)).unwrap();
    });
    time("load every advisory", 5, || {
        AdvisoryDb::load(&db_dir, None).unwrap();
    });
    time("build typosquat checker", 20, || {
        TyposquatChecker::new(PopularCrates::embedded());
    });
    let db = AdvisoryDb::load(&db_dir, Some(&names)).unwrap();
    let checker = TyposquatChecker::new(PopularCrates::embedded());
    time("engine review (diff, advisories, typosquat)", 20, || {
        // Parsing included, as the pipeline does it once per review.
        let lockfiles = [ParsedLockfile::parse(&LockfileInput {
            path: "Cargo.lock".into(),
            base_path: None,
            base: Some(base.clone()),
            head: Some(head.clone()),
        })];
        let input = ReviewInput {
            lockfiles: &lockfiles,
            advisories: AdvisorySource::Db(&db),
            typosquat: Some(&checker),
            facts: None,
            pr: None,
            today: "2026-11-24".into(),
            notes: Vec::new(),
        };
        review(&input, &Policy::default());
    });
}
