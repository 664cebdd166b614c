//! The Action's composite mode (`action/binary/`): `install.sh` downloads the release
//! archive for the runner's platform from a local HTTP server laid out like GitHub's release
//! downloads, verifies its SHA-256, unpacks it, and the unpacked `lockwatch-action` runs a
//! review. A wrong checksum is refused before anything is unpacked.
#![allow(clippy::unwrap_used)]

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lockwatch_tests::bin::{fixture_db, lockwatch_action_bin, repo_root};
use lockwatch_tests::gitrepo::GitRepo;
use lockwatch_tests::lockgen::{lock, member, reg};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

const VERSION: &str = "v0.1.0";

/// Files served by path, and every path asked for.
#[derive(Default)]
struct Served {
    files: BTreeMap<String, Vec<u8>>,
    requests: Vec<String>,
}

async fn serve_file(State(s): State<Arc<Mutex<Served>>>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let mut s = s.lock().unwrap();
    s.requests.push(path.clone());
    match s.files.get(&path) {
        Some(bytes) => bytes.clone().into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn start_server(served: Arc<Mutex<Served>>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new().fallback(serve_file).with_state(served);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    url
}

/// The runner's names for this machine, and the release target they map to.
fn platform() -> (&'static str, &'static str) {
    match std::env::consts::ARCH {
        "x86_64" => ("X64", "x86_64-unknown-linux-gnu"),
        "aarch64" => ("ARM64", "aarch64-unknown-linux-gnu"),
        other => panic!("no release target for {other}"),
    }
}

/// A release archive as release.yml packs it, `lockwatch-VERSION-TARGET/`, with the binary
/// the composite mode runs (this build's real `lockwatch-action`; the other binaries of a
/// release are left out to keep the archive small).
fn release_archive(dir: &Path, target: &str) -> Vec<u8> {
    let name = format!("lockwatch-{VERSION}-{target}");
    let stage = dir.join("stage").join(&name);
    std::fs::create_dir_all(&stage).unwrap();
    let bin = lockwatch_action_bin();
    std::os::unix::fs::symlink(&bin, stage.join(bin.file_name().unwrap())).unwrap();
    let archive = dir.join(format!("{name}.tar.gz"));
    let out = Command::new("tar")
        .args(["--dereference", "-I", "gzip -1", "-cf"])
        .arg(&archive)
        .arg("-C")
        .arg(dir.join("stage"))
        .arg(&name)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(archive).unwrap()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// `bash action/binary/install.sh` as the composite step runs it.
fn install(vars: &[(&str, &str)], runner_temp: &Path, output: &Path) -> Output {
    let (arch, _) = platform();
    let mut cmd = Command::new("bash");
    cmd.arg(repo_root().join("action/binary/install.sh"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", arch)
        .env("RUNNER_TEMP", runner_temp)
        .env("GITHUB_OUTPUT", output);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

/// Directories the script left in RUNNER_TEMP.
fn left_in(runner_temp: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(runner_temp)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_composite_mode_downloads_verifies_and_runs_the_release_binary() {
    let (_, target) = platform();
    let scratch = tempfile::tempdir().unwrap();
    let asset = format!("lockwatch-{VERSION}-{target}.tar.gz");
    let archive = release_archive(scratch.path(), target);
    let good = sha256_hex(&archive);
    let sums = format!(
        "{good}  {asset}\n{}  lockwatch-{VERSION}-aarch64-apple-darwin.tar.gz\n",
        "0".repeat(64)
    );
    let served = Arc::new(Mutex::new(Served::default()));
    {
        let mut s = served.lock().unwrap();
        s.files
            .insert(format!("/dl/{VERSION}/{asset}"), archive.clone());
        s.files
            .insert(format!("/dl/{VERSION}/SHA256SUMS"), sums.into_bytes());
    }
    let url = format!("{}/dl", start_server(served.clone()).await);
    let runs = |name: &str| {
        let d = scratch.path().join(name);
        std::fs::create_dir_all(&d).unwrap();
        (d.clone(), d.join("github-output"))
    };

    // Verified against the release's SHA256SUMS, unpacked, named in $GITHUB_OUTPUT.
    let (temp, output) = runs("good");
    let base = [
        ("LOCKWATCH_VERSION", VERSION),
        ("LOCKWATCH_DOWNLOAD_URL", url.as_str()),
    ];
    let out = tokio::task::block_in_place(|| install(&base, &temp, &output));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!("verified: sha256 {good}")),
        "{stdout}"
    );
    let dir = PathBuf::from(stdout.lines().last().unwrap());
    assert_eq!(
        std::fs::read_to_string(&output).unwrap(),
        format!("dir={}\n", dir.display())
    );
    assert_eq!(
        dir.file_name().unwrap().to_str().unwrap(),
        format!("lockwatch-{VERSION}-{target}")
    );
    assert_eq!(
        std::fs::read(dir.join("lockwatch-action")).unwrap(),
        std::fs::read(lockwatch_action_bin()).unwrap()
    );

    // ... and it runs: a scheduled full scan of a repository with regex 1.5.4.
    let repo = GitRepo::new();
    repo.write(
        "Cargo.toml",
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\n",
    );
    repo.write(
        "Cargo.lock",
        lock(
            3,
            &[
                reg("regex", "1.5.4"),
                member("app", "0.1.0").deps(&["regex"]),
            ],
        ),
    );
    let head = repo.commit("main");
    let step_output = temp.join("step-output");
    let ran = Command::new(dir.join("lockwatch-action"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &temp)
        .env("GITHUB_EVENT_NAME", "schedule")
        .env("GITHUB_REPOSITORY", "Codertocat/Hello-World")
        .env("GITHUB_WORKSPACE", repo.path())
        .env("GITHUB_SHA", &head)
        .env("GITHUB_OUTPUT", &step_output)
        .env("RUNNER_TEMP", &temp)
        .env("INPUT_ADVISORY-DB", fixture_db())
        .env("INPUT_FETCH-CRATES", "false")
        .env("INPUT_FAIL-ON", "deny")
        .output()
        .unwrap();
    let ran_stdout = text(&ran.stdout);
    assert_eq!(
        ran.status.code(),
        Some(1),
        "{ran_stdout}{}",
        text(&ran.stderr)
    );
    assert!(
        ran_stdout.contains("::error file=Cargo.lock"),
        "{ran_stdout}"
    );
    assert!(
        std::fs::read_to_string(&step_output)
            .unwrap()
            .contains("fail")
    );

    // A pinned sha256 input: SHA256SUMS is not even fetched.
    let (temp, output) = runs("pinned");
    let before = served.lock().unwrap().requests.len();
    let pinned = [
        ("LOCKWATCH_VERSION", VERSION),
        ("LOCKWATCH_DOWNLOAD_URL", url.as_str()),
        ("LOCKWATCH_SHA256", good.as_str()),
    ];
    let out = tokio::task::block_in_place(|| install(&pinned, &temp, &output));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let asked: Vec<String> = served.lock().unwrap().requests[before..].to_vec();
    assert_eq!(asked, vec![format!("/dl/{VERSION}/{asset}")]);

    // A wrong sha256 input is refused, even though SHA256SUMS would agree with the file.
    let (temp, output) = runs("wrong-input");
    let wrong = "ab".repeat(32);
    let refused = [
        ("LOCKWATCH_VERSION", VERSION),
        ("LOCKWATCH_DOWNLOAD_URL", url.as_str()),
        ("LOCKWATCH_SHA256", wrong.as_str()),
    ];
    let out = tokio::task::block_in_place(|| install(&refused, &temp, &output));
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("checksum mismatch") && err.contains(&wrong) && err.contains(&good),
        "{err}"
    );
    assert!(
        left_in(&temp).iter().all(|p| p == &output),
        "{:?}",
        left_in(&temp)
    );
    assert!(
        std::fs::read_to_string(&output)
            .unwrap_or_default()
            .is_empty()
    );

    // A tampered archive (SHA256SUMS no longer matches) is refused, nothing unpacked.
    let mut tampered = archive.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 0xff;
    served
        .lock()
        .unwrap()
        .files
        .insert(format!("/dl/{VERSION}/{asset}"), tampered);
    let (temp, output) = runs("tampered");
    let out = tokio::task::block_in_place(|| install(&base, &temp, &output));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains(&format!(
            "checksum mismatch for {asset}: SHA256SUMS of {VERSION} says {good}"
        )),
        "{}",
        text(&out.stderr)
    );
    assert!(left_in(&temp).iter().all(|p| p == &output));

    // What cannot be installed says why.
    let (temp, output) = runs("other");
    let cases: [(&[(&str, &str)], &str); 4] = [
        (
            &[
                ("LOCKWATCH_VERSION", "v9.9.9"),
                ("LOCKWATCH_DOWNLOAD_URL", url.as_str()),
            ],
            "cannot download",
        ),
        (
            &[
                ("LOCKWATCH_VERSION", "main; rm -rf /"),
                ("LOCKWATCH_DOWNLOAD_URL", url.as_str()),
            ],
            "is not a release tag",
        ),
        (
            &[
                ("LOCKWATCH_VERSION", VERSION),
                ("LOCKWATCH_DOWNLOAD_URL", "http://example.com/dl"),
            ],
            "is not https",
        ),
        (
            &[
                ("LOCKWATCH_VERSION", VERSION),
                ("LOCKWATCH_SHA256", "not-hex"),
            ],
            "is not 64 hex digits",
        ),
    ];
    for (vars, says) in cases {
        let out = tokio::task::block_in_place(|| install(vars, &temp, &output));
        assert_eq!(out.status.code(), Some(1), "{vars:?}");
        assert!(
            text(&out.stderr).contains(says),
            "{vars:?}: {}",
            text(&out.stderr)
        );
    }
    let windows = Command::new("bash")
        .arg(repo_root().join("action/binary/install.sh"))
        .env("RUNNER_OS", "Windows")
        .env("RUNNER_ARCH", "X64")
        .env("LOCKWATCH_VERSION", VERSION)
        .output()
        .unwrap();
    assert_eq!(windows.status.code(), Some(1));
    assert!(text(&windows.stderr).contains("no lockwatch release binary for Windows/X64"));
}
