//! Snapshot assertions: text compared with a file under `tests/snapshots/`, or written there
//! with `LOCKWATCH_BLESS=1` (review the diff before committing). Used for what lockwatch
//! posts: the rendered fixtures (`tests/tests/render.rs`) and the App's comments.

use crate::bin::repo_root;
use std::path::PathBuf;

/// `tests/snapshots/`.
pub fn snapshot_dir() -> PathBuf {
    repo_root().join("tests/snapshots")
}

/// Compare `actual` with (or, with `LOCKWATCH_BLESS=1`, write it to) `tests/snapshots/<name>`.
/// The version in the footer is replaced, so that a release does not rewrite every snapshot.
pub fn assert_snapshot(name: &str, actual: &str) {
    let actual = actual.replace(
        &format!("lockwatch {}", env!("CARGO_PKG_VERSION")),
        "lockwatch VERSION",
    );
    let path = snapshot_dir().join(name);
    if std::env::var_os("LOCKWATCH_BLESS").is_some_and(|v| v == "1") {
        let dir = path
            .parent()
            .map(PathBuf::from)
            .unwrap_or_else(snapshot_dir);
        std::fs::create_dir_all(&dir).expect("create the snapshot directory");
        std::fs::write(&path, &actual).expect("write the snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with LOCKWATCH_BLESS=1 to write it",
            path.display()
        )
    });
    if expected != actual {
        let first = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "{} differs from what is rendered now, first at line {}:\n  snapshot: {:?}\n  now:      {:?}\nrun with LOCKWATCH_BLESS=1 to accept the change",
            path.display(),
            first + 1,
            expected.lines().nth(first),
            actual.lines().nth(first)
        );
    }
}
