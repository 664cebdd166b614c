//! One harness for the App (`tests/tests/app.rs`) and Action (`tests/tests/action.rs`)
//! suites, so that a test reads like the story it checks:
//!
//! ```text
//! let app = App::new(&[]).await;
//! let pr = app.open_pr(2, &tree(None, 0), &tree(Some("1.5.4"), 0)).await;
//! app.expect_check(&pr.head, "failure").await;
//! let comment = app.expect_comment(pr.number);
//! assert_snapshot("app/advisory.comment.md", &app.redact(&comment.body));
//! app.finish().await;
//! ```
//!
//! - [`app`]: `lockwatch serve` in process against the fake GitHub: commits, pull requests,
//!   pushes, deliveries, and what was published ([`events::Events`]); queue state is read
//!   from the job database (`lockwatch::queue::Store`), never from `/metrics` text.
//! - [`process`]: the real `lockwatch serve` binary, where a signal or a kill is the point.
//! - [`action`]: one step of the GitHub Action (its runner variables, event file, outputs).
//! - here: the repository the stories use ([`tree`]), fresh SHAs, the `serve` flags.

pub mod action;
pub mod app;
pub mod events;
pub mod process;

use crate::bin::fixture_db;
use crate::fake_github::test_key_path;
use crate::lockgen::{lock, member, reg};
use clap::Parser;
use lockwatch::cli::{Cli, Command};
use lockwatch::server::ServeArgs;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How long a test waits for anything to be published.
pub const WAIT: Duration = Duration::from_secs(30);
/// The webhook secret the App tests sign with.
pub const SECRET: &str = "test-webhook-secret";
/// A second, older secret the App also accepts (secret rotation).
pub const OLD_SECRET: &str = "previous-secret-still-accepted";

static SHA: AtomicU64 = AtomicU64::new(1);

/// A fresh commit SHA.
pub fn sha() -> String {
    format!(
        "{:040x}",
        0xabc0_0000_0000u64 + SHA.fetch_add(1, Ordering::Relaxed)
    )
}

/// A repository's files: (path, contents).
pub type Files = Vec<(String, String)>;

/// The repository at a commit: a workspace member depending on serde and, maybe, regex
/// (regex 1.5.4 has RUSTSEC-2022-0013 in the fixture database; 1.5.5 is fixed), with
/// `extra_files` generated source files besides.
pub fn tree(regex: Option<&str>, extra_files: usize) -> Files {
    let mut pkgs = vec![reg("serde", "1.0.0")];
    let mut deps = vec!["serde"];
    let mut manifest = "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nserde = \"1\"\n".to_string();
    if let Some(v) = regex {
        pkgs.push(reg("regex", v));
        deps.push("regex");
        manifest.push_str(&format!("regex = \"={v}\"\n"));
    }
    pkgs.push(member("app", "0.1.0").deps(&deps));
    let mut files = vec![
        ("Cargo.toml".to_string(), manifest),
        ("Cargo.lock".to_string(), lock(3, &pkgs)),
        ("src/main.rs".to_string(), "fn main() {}\n".to_string()),
    ];
    for i in 0..extra_files {
        files.push((format!("src/gen/f{i:03}.rs"), format!("// generated {i}\n")));
    }
    files
}

/// A merge group's head: regex 1.5.4 added (RUSTSEC-2022-0013) by one queued pull
/// request, and by another a code change with serde bumped in the lock file only: as one
/// pull request that would be a `mixed-pr`; in a merge group it is two pull requests.
pub fn merge_group_head_tree() -> Files {
    let mut files = tree(Some("1.5.4"), 0);
    for (path, text) in &mut files {
        match path.as_str() {
            "Cargo.lock" => {
                *text = text.replace(
                    "\"serde\"\nversion = \"1.0.0\"",
                    "\"serde\"\nversion = \"1.0.1\"",
                )
            }
            "src/main.rs" => *text = "fn main() {\n    println!(\"queued\");\n}\n".into(),
            _ => {}
        }
    }
    files
}

/// The contents of `path` among `files`.
pub fn file<'a>(files: &'a [(String, String)], path: &str) -> &'a str {
    files
        .iter()
        .find(|(p, _)| p == path)
        .map(|(_, c)| c.as_str())
        .unwrap_or_else(|| panic!("no {path} in the tree"))
}

/// 1-based line of the `[[package]]` of `name` in a lock file.
pub fn package_line(lock_text: &str, name: &str) -> u64 {
    let lines: Vec<&str> = lock_text.lines().collect();
    let at = lines
        .iter()
        .position(|l| *l == format!("name = \"{name}\""))
        .expect("package");
    assert_eq!(lines[at - 1], "[[package]]");
    at as u64
}

/// `lockwatch serve` flags for the fake GitHub at `fake_url`, data in `data`, signed with
/// `secrets` (comma-separated), then `extra`. Crates are not fetched unless `extra` names a
/// (local) registry with `--index-url`; deliveries are not coalesced unless `extra` says
/// `--coalesce-ms`.
pub fn serve_args(fake_url: &str, data: &Path, secrets: &str, extra: &[&str]) -> ServeArgs {
    let key = test_key_path().display().to_string();
    let db = fixture_db().display().to_string();
    let data = data.display().to_string();
    let app_id = crate::fake_github::APP_ID.to_string();
    let mut argv = vec![
        "lockwatch",
        "serve",
        "--app-id",
        &app_id,
        "--private-key-file",
        &key,
        "--webhook-secret",
        secrets,
        "--github-api-url",
        fake_url,
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        &data,
        "--advisory-db",
        &db,
        "--retry-base-ms",
        "50",
        "--github-timeout-secs",
        "5",
    ];
    if !extra.contains(&"--index-url") {
        argv.push("--no-fetch");
    }
    if !extra.contains(&"--coalesce-ms") {
        argv.extend_from_slice(&["--coalesce-ms", "0"]);
    }
    argv.extend_from_slice(extra);
    match Cli::try_parse_from(argv).expect("serve flags").command {
        Command::Serve(args) => *args,
        _ => unreachable!("`serve` parses as the serve command"),
    }
}

/// A fresh PostgreSQL database, or None (with a message) when none is configured; CI sets
/// `LOCKWATCH_REQUIRE_POSTGRES=1`, which turns a missing one into a failure.
pub async fn postgres_or_skip() -> Option<String> {
    let url = lockwatch::testkit::databases::fresh_postgres()
        .await
        .expect("LOCKWATCH_TEST_POSTGRES_URL is usable");
    if url.is_none() {
        #[allow(clippy::print_stderr)]
        {
            eprintln!("not run: set LOCKWATCH_TEST_POSTGRES_URL (see tests/start-postgres.sh)");
        }
    }
    url
}
