//! Where the review goes: the sticky pull-request comment (the App's, same marker, edited in
//! place) and the job summary.

use crate::env::ActionEnv;
use lockwatch::github::{CommentOutcome, GitHubError, PrNumber, RepoClient, RepoName};
use std::io::Write;
use std::path::Path;
use std::time::Duration;

/// What happened to the comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommentStatus {
    /// Created, edited, or already saying this; `url` links to it.
    Published {
        id: u64,
        action: &'static str,
        url: String,
    },
    /// Not wanted (comment mode, no findings, not a pull request); the reason.
    Skipped(String),
    /// The token may not write (fork pull request, `permissions` without
    /// `pull-requests: write`): not a failure.
    ReadOnly(String),
    /// GitHub failed: said as a warning, never a failure of the review.
    Failed(String),
}

impl CommentStatus {
    pub fn url(&self) -> Option<&str> {
        match self {
            CommentStatus::Published { url, .. } => Some(url),
            _ => None,
        }
    }
}

/// Create or edit the sticky comment on pull request `number`: the marker comment written
/// by `author` (the token's identity), never another's.
pub async fn comment(
    env: &ActionEnv,
    number: u64,
    body: &str,
    create: bool,
    fork: bool,
    author: &str,
) -> CommentStatus {
    let Some(token) = env.token.clone() else {
        return CommentStatus::ReadOnly(
            "no token: set the github-token input (it defaults to ${{ github.token }})".into(),
        );
    };
    let Some(repo) = RepoName::parse(&env.repository) else {
        return CommentStatus::Failed(format!(
            "GITHUB_REPOSITORY `{}` is not owner/name",
            env.repository
        ));
    };
    let client =
        match RepoClient::with_token(&env.api_url, token, repo.clone(), Duration::from_secs(30)) {
            Ok(c) => c,
            Err(e) => return CommentStatus::Failed(e.to_string()),
        };
    let url = |id: u64| {
        format!(
            "{}/{repo}/pull/{number}#issuecomment-{id}",
            env.server_url.trim_end_matches('/')
        )
    };
    match client
        .upsert_report_comment(PrNumber(number), body, create, author)
        .await
    {
        Ok(CommentOutcome::Created(id)) => CommentStatus::Published {
            id,
            action: "created",
            url: url(id),
        },
        Ok(CommentOutcome::Updated(id)) => CommentStatus::Published {
            id,
            action: "updated",
            url: url(id),
        },
        Ok(CommentOutcome::Unchanged(id)) => CommentStatus::Published {
            id,
            action: "unchanged",
            url: url(id),
        },
        Ok(CommentOutcome::Skipped) => CommentStatus::Skipped(
            "nothing to flag, and the comment mode posts only on findings".into(),
        ),
        Err(GitHubError::Status {
            status: status @ (401 | 403 | 404),
            message,
            ..
        }) => {
            let why = if fork {
                "this pull request comes from a fork, and GitHub gives workflows of fork pull requests a read-only GITHUB_TOKEN"
            } else {
                "the token may not write pull-request comments (the workflow needs `permissions: pull-requests: write`)"
            };
            CommentStatus::ReadOnly(format!(
                "GitHub answered {status} ({message}) to the comment: {why}. The review is in the job summary and the annotations; this is not a failure"
            ))
        }
        Err(e) => CommentStatus::Failed(e.to_string()),
    }
}

/// Append the report to the job summary file.
pub fn append_summary(path: &Path, markdown: &str) -> anyhow::Result<()> {
    let mut f = crate::outputs::open_to_append(path, "GITHUB_STEP_SUMMARY")?;
    f.write_all(markdown.as_bytes())?;
    if !markdown.ends_with('\n') {
        f.write_all(b"\n")?;
    }
    Ok(())
}
