//! `../shared` material, when the machine has it.

use std::path::PathBuf;

/// `../shared/<rel>` beside the repository, if present. When `LOCKWATCH_REQUIRE_SHARED` is
/// set (CI sets it), absence is a test failure instead of a skip.
#[allow(clippy::print_stderr)] // a visible note in the test log, not output
pub fn shared_path(rel: &str) -> Option<PathBuf> {
    let path = crate::bin::repo_root().join("..").join("shared").join(rel);
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("LOCKWATCH_REQUIRE_SHARED").is_none(),
        "LOCKWATCH_REQUIRE_SHARED is set but {} is missing",
        path.display()
    );
    eprintln!(
        "note: {} is not on this machine; this test checks nothing here",
        path.display()
    );
    None
}
