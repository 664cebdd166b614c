//! Running the real `lockwatch` binary.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;

/// `cargo build` for a nested build, without the variables Cargo set for this test process
/// (`CARGO_MANIFEST_DIR`, `CARGO_PKG_*`, ...): build scripts that track them (ring tracks
/// `CARGO_MANIFEST_DIR`) would see them change, and the nested build and the next
/// `cargo test` would rebuild ring, rustls, reqwest, octocrab and lockwatch each time.
fn nested_cargo_build() -> Command {
    let mut cmd = Command::new(env!("CARGO"));
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        if key.starts_with("CARGO_PKG_")
            || key.starts_with("CARGO_MANIFEST_")
            || key.starts_with("CARGO_BIN_")
            || matches!(
                key,
                "CARGO_CRATE_NAME" | "CARGO_PRIMARY_PACKAGE" | "CARGO_TARGET_TMPDIR"
            )
        {
            cmd.env_remove(key);
        }
    }
    cmd.arg("build");
    cmd
}

/// Build `bin` of `package` in this test binary's profile, with `features`, and return its
/// path.
fn build_binary(package: &str, bin: &str, features: &[&str]) -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    // target/<profile>/deps/<test> -> target/<profile>/<bin>
    let dir = exe.parent().and_then(|p| p.parent()).expect("target dir");
    let mut cmd = nested_cargo_build();
    cmd.args(["--quiet", "-p", package, "--bin", bin]);
    for f in features {
        cmd.args(["--features", f]);
    }
    if dir.file_name().is_some_and(|n| n == "release") {
        cmd.arg("--release");
    }
    let status = cmd.status().expect("cargo build");
    assert!(status.success(), "building {bin} failed");
    dir.join(format!("{bin}{}", std::env::consts::EXE_SUFFIX))
}

/// Path of the `lockwatch` binary, brought up to date once per test process (this crate
/// does not depend on the binary, so `cargo test -p lockwatch-tests` alone would not build it).
/// Built with the test-only `fault-injection` feature (inert unless a test sets its
/// variable; see `app/src/server/fault.rs`), which no release build has.
pub fn lockwatch_bin() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| build_binary("lockwatch", "lockwatch", &["fault-injection"]))
        .clone()
}

/// Path of the `lockwatch-action` binary (the Action's entry point), built once per test
/// process like [`lockwatch_bin`].
pub fn lockwatch_action_bin() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| build_binary("lockwatch-action", "lockwatch-action", &[]))
        .clone()
}

/// Path of the `cargo-lockwatch` binary (`cargo lockwatch`), built once per test process.
pub fn cargo_lockwatch_bin() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| build_binary("lockwatch", "cargo-lockwatch", &["fault-injection"]))
        .clone()
}

/// Run `lockwatch` with arguments; HOME and the cache point at a scratch directory.
pub fn run_lockwatch(args: &[&str], scratch: &std::path::Path) -> Output {
    run_lockwatch_env(args, scratch, &[])
}

/// `run_lockwatch` with more environment variables (e.g. `LOCKWATCH_MAX_CRATES`).
pub fn run_lockwatch_env(args: &[&str], scratch: &std::path::Path, env: &[(&str, &str)]) -> Output {
    Command::new(lockwatch_bin())
        .args(args)
        .env("HOME", scratch)
        .env("XDG_CACHE_HOME", scratch.join("cache"))
        // No test may reach the real registry: a refused loopback port unless a test says otherwise.
        .env("LOCKWATCH_INDEX_URL", "sparse+http://127.0.0.1:9/")
        .env_remove("LOCKWATCH_ADVISORY_DB")
        .env_remove("LOCKWATCH_CACHE_DIR")
        .env_remove("LOCKWATCH_MAX_CRATES")
        .env_remove("LOCKWATCH_CRATES_IO_API")
        .envs(env.iter().copied())
        .output()
        .expect("run lockwatch")
}

/// The repository root (the workspace).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// The fixture advisory database kept in the repository.
pub fn fixture_db() -> PathBuf {
    repo_root().join("app/fixtures/advisory-db")
}
