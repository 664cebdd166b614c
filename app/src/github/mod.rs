//! The one GitHub boundary: octocrab lives here and nowhere else.
//!
//! `GitHubApp` holds the App's credentials (App JWT, cached installation tokens) and sends
//! every request through one wrapper (timeout, retries with backoff honouring `Retry-After`
//! and `x-ratelimit-reset`, a fresh token on 401, metrics). `RepoClient` has one named method
//! per thing lockwatch does on a repository.

mod auth;
mod client;
mod models;
mod repo;

pub use client::{ApiObserver, GitHubApp, GitHubAppConfig, RateBudget, futures_box};
pub use models::{Annotation, CheckRun, Conclusion, IssueComment, PrFile, PullRequest};
pub use repo::{ChangedFiles, CommentOutcome, MAX_CHANGED_FILES, MAX_COMPARED_FILES, RepoClient};

use std::fmt;
use std::time::Duration;

/// `owner/name`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RepoName {
    owner: String,
    name: String,
}

impl RepoName {
    /// The REST path of this repository followed by `rest`: `/repos/{owner}/{name}{rest}`.
    pub fn api_path(&self, rest: &str) -> String {
        format!("/repos/{}/{}{rest}", self.owner(), self.name())
    }

    /// Parse `owner/name`; both parts must be non-empty and free of `/`.
    pub fn parse(full: &str) -> Option<RepoName> {
        let (owner, name) = full.split_once('/')?;
        let ok = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        (ok(owner) && ok(name)).then(|| RepoName {
            owner: owner.to_string(),
            name: name.to_string(),
        })
    }
    pub fn owner(&self) -> &str {
        &self.owner
    }
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Display for RepoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// A pull request number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PrNumber(pub u64);

impl fmt::Display for PrNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// A full commit SHA (40 or 64 hex digits).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CommitSha(String);

impl CommitSha {
    pub fn parse(s: &str) -> Option<CommitSha> {
        (matches!(s.len(), 40 | 64) && s.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| CommitSha(s.to_ascii_lowercase()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The first 7 digits, for messages.
    pub fn short(&self) -> &str {
        &self.0[..7]
    }
}

impl fmt::Display for CommitSha {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A GitHub App installation id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InstallationId(pub u64);

impl fmt::Display for InstallationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What went wrong talking to GitHub. `what` names the request (method and path, never a
/// token or a query string).
#[derive(Debug, thiserror::Error)]
pub enum GitHubError {
    #[error("GitHub answered {status} to {what}: {message}")]
    Status {
        status: u16,
        what: String,
        message: String,
        retry_after: Option<Duration>,
        rate_limited: bool,
    },
    #[error("GitHub did not answer {what} within {secs} s")]
    Timeout { what: String, secs: u64 },
    #[error("cannot reach GitHub for {what}: {message}")]
    Transport { what: String, message: String },
    #[error("unexpected answer from GitHub to {what}: {message}")]
    Decode { what: String, message: String },
    #[error("GitHub App credentials: {0}")]
    Credentials(String),
}

impl GitHubError {
    /// Worth retrying later: 5xx, 429, rate limits, timeouts, connection errors.
    pub fn is_transient(&self) -> bool {
        match self {
            GitHubError::Status {
                status,
                rate_limited,
                ..
            } => *status >= 500 || *status == 429 || *rate_limited,
            GitHubError::Timeout { .. } | GitHubError::Transport { .. } => true,
            GitHubError::Decode { .. } | GitHubError::Credentials(_) => false,
        }
    }

    /// How long GitHub asked us to wait, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            GitHubError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            GitHubError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// The GitHub client's retries (`crate::retry`) classify its errors with these.
impl crate::retry::Retryable for GitHubError {
    fn is_transient(&self) -> bool {
        GitHubError::is_transient(self)
    }
    fn retry_after(&self) -> Option<Duration> {
        GitHubError::retry_after(self)
    }
}
