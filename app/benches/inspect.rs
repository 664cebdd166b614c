//! `cargo bench -p lockwatch --bench inspect`: single-threaded inspection throughput on a
//! corpus of real `.crate` files, next to `gzip -dc` of the same files in the same run, and
//! peak memory while inspecting a 50 MB crate.
//!
//! Corpus: `LOCKWATCH_CRATE_CORPUS` (a directory of `.crate` files), else Cargo's own download
//! cache (`~/.cargo/registry/cache/*/`), which holds the real crates of this workspace's
//! dependency tree after any build. `tests/bench/fetch-corpus.sh` fills a directory from a
//! lock file (opt-in, needs the network).

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::print_stderr)]

use lockwatch::inspect::{InspectLimits, inspect_crate};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

fn corpus() -> Vec<PathBuf> {
    let dirs: Vec<PathBuf> = match std::env::var_os("LOCKWATCH_CRATE_CORPUS") {
        Some(d) => vec![PathBuf::from(d)],
        None => {
            let home = PathBuf::from(std::env::var_os("CARGO_HOME").unwrap_or_else(|| {
                PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                    .join(".cargo")
                    .into_os_string()
            }));
            std::fs::read_dir(home.join("registry/cache"))
                .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
                .unwrap_or_default()
        }
    };
    let mut files: Vec<PathBuf> = dirs
        .iter()
        .flat_map(|d| {
            std::fs::read_dir(d)
                .into_iter()
                .flatten()
                .filter_map(|e| e.ok().map(|e| e.path()))
        })
        .filter(|p| p.extension().is_some_and(|e| e == "crate"))
        .collect();
    files.sort();
    files
}

fn name_version(p: &std::path::Path) -> (String, String) {
    let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
    // split at the last '-' followed by a digit (`proc-macro2-1.0.95`)
    let idx = stem
        .match_indices('-')
        .map(|(i, _)| i)
        .rfind(|&i| stem[i + 1..].starts_with(|c: char| c.is_ascii_digit()))
        .unwrap_or(0);
    (stem[..idx].to_string(), stem[idx + 1..].to_string())
}

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--peak-memory") {
        return peak_memory(args.get(i + 1).map(PathBuf::from));
    }
    let files = corpus();
    if files.len() < 200 {
        eprintln!(
            "corpus has {} .crate files (< 200); set LOCKWATCH_CRATE_CORPUS or run tests/bench/fetch-corpus.sh",
            files.len()
        );
    }
    let blobs: Vec<(PathBuf, Vec<u8>)> = files
        .iter()
        .map(|p| (p.clone(), std::fs::read(p).unwrap()))
        .collect();
    let compressed: usize = blobs.iter().map(|(_, b)| b.len()).sum();
    let limits = InspectLimits::default();

    let t = Instant::now();
    let mut inflated = 0u64;
    let mut failures = 0;
    for (path, bytes) in &blobs {
        let (name, version) = name_version(path);
        match inspect_crate(&name, &version, bytes.as_slice(), &limits) {
            Ok(s) => inflated += s.total_bytes,
            Err(_) => failures += 1,
        }
    }
    let lw = t.elapsed().as_secs_f64();

    let t = Instant::now();
    for (_, bytes) in &blobs {
        let mut child = Command::new("gzip")
            .arg("-dc")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(bytes).unwrap();
        child.wait().unwrap();
    }
    let gz = t.elapsed().as_secs_f64();
    // One gzip process over all members concatenated: decompression alone.
    let t = Instant::now();
    let mut child = Command::new("gzip")
        .arg("-dc")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    {
        let mut stdin = child.stdin.take().unwrap();
        for (_, bytes) in &blobs {
            stdin.write_all(bytes).unwrap();
        }
    }
    child.wait().unwrap();
    let gz_one = t.elapsed().as_secs_f64();
    let mb = |x: f64| x / 1e6;
    println!(
        "| corpus | {} .crate files, {:.1} MB compressed, {:.1} MB inflated ({} unreviewable) |",
        blobs.len(),
        mb(compressed as f64),
        mb(inflated as f64),
        failures
    );
    println!(
        "| lockwatch inspect (1 thread) | {:.2} s, {:.1} MB/s compressed |",
        lw,
        mb(compressed as f64) / lw
    );
    println!(
        "| gzip -dc (one process per file) | {:.2} s, {:.1} MB/s compressed |",
        gz,
        mb(compressed as f64) / gz
    );
    println!(
        "| gzip -dc (one process, all files concatenated) | {:.2} s, {:.1} MB/s compressed |",
        gz_one,
        mb(compressed as f64) / gz_one
    );
    println!(
        "| lockwatch throughput / gzip -dc throughput | {:.0} % (per-file gzip), {:.0} % (one gzip) |",
        100.0 * gz / lw,
        100.0 * gz_one / lw
    );
    let out = Command::new(std::env::current_exe().unwrap())
        .arg("--peak-memory")
        .output()
        .unwrap();
    print!("{}", String::from_utf8_lossy(&out.stdout));
}

/// Peak memory while inspecting a 50 MB crate: the parent builds the crate (incompressible
/// data, so 50 MB compressed) into a temp file; a fresh process streams it from disk through
/// `inspect_crate` and reports its own peak resident set (VmHWM), which is the whole cost.
fn peak_memory(file: Option<PathBuf>) {
    let Some(file) = file else {
        let mut data = vec![0u8; 50 * 1024 * 1024];
        let mut x: u64 = 0x9E3779B97F4A7C15;
        for b in data.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
        let krate = lockwatch::testkit::Krate::new("big", "1.0.0")
            .file("src/lib.rs", "pub fn f() {}\n")
            .file_bytes("assets/blob.bin", &data)
            .build();
        let path =
            std::env::temp_dir().join(format!("lockwatch-bench-big-{}.crate", std::process::id()));
        std::fs::write(&path, &krate).unwrap();
        let out = Command::new(std::env::current_exe().unwrap())
            .arg("--peak-memory")
            .arg(&path)
            .output()
            .unwrap();
        let _ = std::fs::remove_file(&path);
        print!("{}", String::from_utf8_lossy(&out.stdout));
        return;
    };
    let size = std::fs::metadata(&file).unwrap().len();
    let t = Instant::now();
    let s = inspect_crate(
        "big",
        "1.0.0",
        std::io::BufReader::new(std::fs::File::open(&file).unwrap()),
        &InspectLimits::default(),
    )
    .unwrap();
    println!(
        "| 50 MB crate ({:.1} MB compressed, streamed from disk) | {:.2} s; peak RSS of the whole process {} MiB; {} suspicious file(s) |",
        size as f64 / 1e6,
        t.elapsed().as_secs_f64(),
        vm_hwm_kib() / 1024,
        s.suspicious_files.len()
    );
}
