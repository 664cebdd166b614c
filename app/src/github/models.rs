//! The parts of GitHub's JSON lockwatch reads and writes (lenient on input).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize)]
pub struct InstallationToken {
    pub token: String,
    pub expires_at: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct GitRef {
    #[serde(default)]
    pub sha: String,
    #[serde(default, rename = "ref")]
    pub ref_name: String,
}

/// `GET /repos/{owner}/{repo}/pulls/{pull_number}`.
#[derive(Debug, Clone, Deserialize)]
pub struct PullRequest {
    pub number: u64,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub draft: bool,
    pub head: GitRef,
    pub base: GitRef,
}

/// One entry of `GET .../pulls/{n}/files`.
#[derive(Debug, Clone, Deserialize)]
pub struct PrFile {
    pub filename: String,
    /// `added`, `removed`, `modified`, `renamed`, `copied`, `changed`, `unchanged`.
    pub status: String,
    #[serde(default)]
    pub previous_filename: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IssueComment {
    pub id: u64,
    #[serde(default)]
    pub body: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AppRef {
    pub id: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CheckRun {
    pub id: u64,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub head_sha: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub app: Option<AppRef>,
}

/// The part of a commit comparison lockwatch reads.
#[derive(Debug, Clone, Deserialize)]
pub struct Comparison {
    #[serde(default)]
    pub files: Vec<PrFile>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CheckRunList {
    #[serde(default)]
    pub check_runs: Vec<CheckRun>,
}

/// A check run's conclusion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Conclusion {
    Success,
    Neutral,
    Failure,
    /// Not reviewed, and not passing: GitHub shows it grey, and branch protection does not
    /// count it as passed.
    Cancelled,
}

/// One annotation on a line of a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Annotation {
    pub path: String,
    pub start_line: u32,
    pub end_line: u32,
    /// `notice`, `warning` or `failure`.
    pub annotation_level: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// lockwatch's own sticky comment among a pull request's comments (found by the hidden
/// marker). One rule for the App and the Action, so both edit the same comment.
pub fn report_comment(comments: &[IssueComment]) -> Option<&IssueComment> {
    comments.iter().find(|c| {
        c.body
            .as_deref()
            .is_some_and(|b| b.contains(crate::report::COMMENT_MARKER))
    })
}
