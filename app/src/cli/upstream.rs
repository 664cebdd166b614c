//! The base `lockwatch check` (and `cargo lockwatch`) compares with when no `--base` is
//! given: where the current branch left its upstream's default branch, `git merge-base HEAD
//! origin/HEAD`, which is what a pull request from this branch would be compared with.

use crate::git::Repo;
use anyhow::{Context, bail};

/// Upstream branches tried in order: the remote's default branch as `git clone` records
/// it, then the two usual names (a remote added by hand has no `origin/HEAD`).
pub const UPSTREAMS: [&str; 3] = ["origin/HEAD", "origin/main", "origin/master"];

/// The base found for HEAD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamBase {
    /// The merge-base commit.
    pub commit: String,
    /// The upstream branch it was found with (e.g. `origin/HEAD`), for messages and for the
    /// split commands.
    pub upstream: String,
}

/// The merge base of HEAD and the first of [`UPSTREAMS`] that exists.
pub fn upstream_base(repo: &Repo) -> anyhow::Result<UpstreamBase> {
    let dir = repo.dir().display();
    repo.resolve("HEAD").with_context(|| {
        format!("{dir} has no commit yet, so there is nothing to compare with: commit first, or give --base-lock FILE --head-lock FILE")
    })?;
    let Some(upstream) = UPSTREAMS.iter().find(|u| repo.resolve(u).is_ok()) else {
        bail!(
            "cannot tell what to compare with: {dir} has none of {}. Fetch the upstream and record its default branch (`git fetch origin && git remote set-head origin --auto`), or name the base: `--base REV`",
            UPSTREAMS.join(", ")
        );
    };
    let commit = repo.merge_base("HEAD", upstream)?.with_context(|| {
        format!("HEAD and {upstream} have no commit in common: name the base with `--base REV`")
    })?;
    Ok(UpstreamBase {
        commit,
        upstream: upstream.to_string(),
    })
}
