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
    /// How many files the pull request changes, as GitHub counts them: a listing that
    /// returned fewer was cut short.
    #[serde(default)]
    pub changed_files: Option<u64>,
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
    /// The blob SHA of the file at the head (absent for a removed file).
    #[serde(default)]
    pub sha: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IssueComment {
    pub id: u64,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub user: Option<User>,
}

/// The author of a comment.
#[derive(Debug, Clone, Deserialize)]
pub struct User {
    #[serde(default)]
    pub login: String,
}

/// `GET /app`: the App the JWT belongs to.
#[derive(Debug, Clone, Deserialize)]
pub struct AppInfo {
    pub slug: String,
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

/// lockwatch's own sticky comment among a pull request's comments: the hidden marker AND
/// written by `author` (the App's bot account, `<slug>[bot]`, or the Action token's
/// identity). Anyone can paste the marker into a comment of their own; such a comment is
/// never edited, never taken for lockwatch's. One rule for the App and the Action.
pub fn report_comment<'a>(comments: &'a [IssueComment], author: &str) -> Option<&'a IssueComment> {
    comments.iter().find(|c| {
        c.user
            .as_ref()
            .is_some_and(|u| u.login.eq_ignore_ascii_case(author))
            && c.body
                .as_deref()
                .is_some_and(|b| b.contains(crate::report::COMMENT_MARKER))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comment(id: u64, login: &str, body: &str) -> IssueComment {
        IssueComment {
            id,
            body: Some(body.to_string()),
            user: Some(User {
                login: login.to_string(),
            }),
        }
    }

    #[test]
    fn the_sticky_comment_is_the_marker_written_by_lockwatch_itself() {
        let marker = crate::report::COMMENT_MARKER;
        let comments = vec![
            comment(1, "mallory", &format!("{marker} looks good to me")),
            comment(2, "lockwatch[bot]", "an unrelated note"),
            comment(3, "lockwatch[bot]", &format!("{marker} the report")),
        ];
        assert_eq!(
            report_comment(&comments, "lockwatch[bot]").map(|c| c.id),
            Some(3)
        );
        assert_eq!(
            report_comment(&comments, "LockWatch[bot]").map(|c| c.id),
            Some(3)
        );
        assert!(report_comment(&comments[..2], "lockwatch[bot]").is_none());
        let anonymous = IssueComment {
            id: 4,
            body: Some(marker.to_string()),
            user: None,
        };
        assert!(report_comment(&[anonymous], "lockwatch[bot]").is_none());
    }
}
