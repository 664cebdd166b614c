//! `RepoClient`: the named operations lockwatch performs on one repository.

use super::client::{Auth, GitHubApp};
use super::models::{CheckRunList, Comparison, IssueComment, PrFile, PullRequest};
use super::{
    Annotation, CheckRun, CommitSha, Conclusion, GitHubError, InstallationId, PrNumber, RepoName,
};
use axum::http::Method;
use secrecy::SecretString;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

const JSON: &str = "application/vnd.github+json";
const RAW: &str = "application/vnd.github.raw+json";
/// GitHub lists at most this many files of a pull request.
pub const MAX_CHANGED_FILES: usize = 3000;
/// GitHub lists at most this many files of a comparison of two commits.
pub const MAX_COMPARED_FILES: usize = 300;
/// Annotations per check-run request (GitHub's limit).
const ANNOTATIONS_PER_REQUEST: usize = 50;
/// `output.summary` limit of the Checks API.
const MAX_SUMMARY_CHARS: usize = 65_535;
/// Pages followed at most for one listing (a guard against a looping `Link`).
const MAX_PAGES: usize = 100;
/// Contents requests for a listed file before its blob is asked for.
const LISTED_FILE_TRIES: u32 = 3;
/// Wait before the second contents request (twice that before the third).
const LISTED_FILE_WAIT: Duration = Duration::from_millis(200);

/// The changed files of a pull request.
#[derive(Debug, Clone, Default)]
pub struct ChangedFiles {
    pub files: Vec<PrFile>,
    /// GitHub's 3,000-file cap was hit: the list is incomplete.
    pub capped: bool,
}

/// What `upsert_report_comment` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentOutcome {
    Created(u64),
    Updated(u64),
    /// The existing comment already says this.
    Unchanged(u64),
    /// No comment exists and none was wanted.
    Skipped,
}

/// One repository, as one installation.
#[derive(Debug, Clone)]
pub struct RepoClient {
    app: Arc<GitHubApp>,
    auth: Auth,
    repo: RepoName,
}

/// Percent-encode each segment of a repository path, keeping `/`.
fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl RepoClient {
    pub fn new(app: Arc<GitHubApp>, installation: InstallationId, repo: RepoName) -> Self {
        RepoClient {
            app,
            auth: Auth::Installation(installation),
            repo,
        }
    }

    /// One repository with a fixed token (the GitHub Action's `GITHUB_TOKEN`), for the
    /// same sticky comment as the App's. `api_url`: `https://api.github.com` or GHES's
    /// `https://HOST/api/v3`.
    pub fn with_token(
        api_url: &str,
        token: SecretString,
        repo: RepoName,
        timeout: Duration,
    ) -> Result<Self, GitHubError> {
        Ok(RepoClient {
            app: Arc::new(GitHubApp::with_token(api_url, token, timeout)?),
            auth: Auth::Token,
            repo,
        })
    }

    pub fn repo(&self) -> &RepoName {
        &self.repo
    }

    fn path(&self, rest: &str) -> String {
        self.repo.api_path(rest)
    }

    async fn get(
        &self,
        path: &str,
        accept: &str,
    ) -> Result<super::client::ApiResponse, GitHubError> {
        self.app
            .send(Method::GET, path, self.auth, None, accept)
            .await
    }

    async fn write(
        &self,
        method: Method,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<super::client::ApiResponse, GitHubError> {
        self.app
            .send(method, path, self.auth, Some(body), JSON)
            .await
    }

    /// Every page of a list endpoint (`first` carries `per_page`), following `Link: next`.
    async fn list<T: serde::de::DeserializeOwned>(
        &self,
        first: String,
        what: &str,
        limit: usize,
    ) -> Result<(Vec<T>, bool), GitHubError> {
        let mut items = Vec::new();
        let mut next = Some(first);
        let mut pages = 0;
        while let Some(path) = next.take() {
            let resp = self.get(&path, JSON).await?;
            let page: Vec<T> = resp.json(what)?;
            items.extend(page);
            pages += 1;
            if items.len() >= limit {
                items.truncate(limit);
                return Ok((items, true));
            }
            if pages >= MAX_PAGES && resp.next_link().is_some() {
                // More pages than lockwatch follows: the list is incomplete, say so.
                return Ok((items, true));
            }
            next = match resp.next_link() {
                Some(url) => Some(self.app.relative(&url).ok_or_else(|| GitHubError::Decode {
                    what: what.to_string(),
                    message: "a Link header points outside the GitHub API".into(),
                })?),
                None => None,
            };
        }
        Ok((items, false))
    }

    /// The pull request as it is now.
    pub async fn pull_request(&self, pr: PrNumber) -> Result<PullRequest, GitHubError> {
        self.get(&self.path(&format!("/pulls/{}", pr.0)), JSON)
            .await?
            .json("GET pull request")
    }

    /// The pull request's head commit as GitHub has it now. A job re-reads it just before
    /// publishing: which head is the newest is GitHub's word, not the order in which
    /// deliveries arrived.
    pub async fn pull_request_head(&self, pr: PrNumber) -> Result<CommitSha, GitHubError> {
        let sha = self.pull_request(pr).await?.head.sha;
        CommitSha::parse(&sha).ok_or_else(|| GitHubError::Decode {
            what: "GET pull request".into(),
            message: "the head SHA is not a commit SHA".into(),
        })
    }

    /// The files a pull request changes (paginated; GitHub stops at 3,000). `expected`:
    /// the pull request's `changed_files` count; a listing that ends with fewer files (its
    /// pages stopped early) is incomplete, like one that reached the cap.
    pub async fn changed_files(
        &self,
        pr: PrNumber,
        expected: Option<u64>,
    ) -> Result<ChangedFiles, GitHubError> {
        let (files, capped) = self
            .list(
                self.path(&format!("/pulls/{}/files?per_page=100", pr.0)),
                "GET pull request files",
                MAX_CHANGED_FILES,
            )
            .await?;
        let short = expected.is_some_and(|n| (files.len() as u64) < n);
        Ok(ChangedFiles {
            files,
            capped: capped || short,
        })
    }

    /// The files changed from `base` to `head` (compare API; GitHub lists at most 300, on
    /// the first page only), for a merge group, which has no pull request to list them.
    pub async fn compared_files(
        &self,
        base: &CommitSha,
        head: &CommitSha,
    ) -> Result<ChangedFiles, GitHubError> {
        let url = self.path(&format!("/compare/{}...{}", base.as_str(), head.as_str()));
        let comparison: Comparison = self.get(&url, JSON).await?.json("GET compare")?;
        let capped = comparison.files.len() >= MAX_COMPARED_FILES;
        Ok(ChangedFiles {
            files: comparison.files,
            capped,
        })
    }

    /// A file's bytes at a commit (contents API, raw media type: works past 1 MB), or `None`
    /// when it does not exist there.
    pub async fn file_at(
        &self,
        path: &str,
        sha: &CommitSha,
    ) -> Result<Option<Vec<u8>>, GitHubError> {
        let url = self.path(&format!(
            "/contents/{}?ref={}",
            encode_path(path),
            sha.as_str()
        ));
        match self.get(&url, RAW).await {
            Ok(r) => Ok(Some(r.body.to_vec())),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A file the list of changed files says exists at `sha`: a 404 is not taken for
    /// "absent". The contents API is asked again (GitHub answers 404 for a while after a
    /// push, and under load), then the blob named by the list (`blob`), if any. `None`
    /// only when every way answered 404: the caller reports the file as unreviewable.
    pub async fn listed_file_at(
        &self,
        path: &str,
        sha: &CommitSha,
        blob: Option<&str>,
    ) -> Result<Option<Vec<u8>>, GitHubError> {
        for attempt in 0..LISTED_FILE_TRIES {
            if attempt > 0 {
                tokio::time::sleep(LISTED_FILE_WAIT * attempt).await;
            }
            if let Some(bytes) = self.file_at(path, sha).await? {
                return Ok(Some(bytes));
            }
        }
        let Some(blob) = blob.filter(|b| CommitSha::parse(b).is_some()) else {
            return Ok(None);
        };
        let url = self.path(&format!("/git/blobs/{blob}"));
        match self.get(&url, RAW).await {
            Ok(r) => Ok(Some(r.body.to_vec())),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The login lockwatch's comments are written by: the App's bot account
    /// (`<slug>[bot]`, from `GET /app`). A token client (the Action) is told its login.
    pub async fn bot_login(&self) -> Result<String, GitHubError> {
        self.app.bot_login().await
    }

    /// Find lockwatch's comment (by `COMMENT_MARKER`, written by `author`: see
    /// `models::report_comment`) and edit it in place; create it only when `create` and
    /// none exists. Never a second comment, never someone else's.
    pub async fn upsert_report_comment(
        &self,
        pr: PrNumber,
        body: &str,
        create: bool,
        author: &str,
    ) -> Result<CommentOutcome, GitHubError> {
        let existing = self.find_report_comment(pr, author).await?;
        self.write_report_comment(pr, existing.as_ref(), body, create)
            .await
    }

    /// The sticky comment of `author` on `pr` (marker and author), if there is one. With
    /// `write_report_comment`, for callers that must check something between the two (the
    /// App checks it still holds the job's lease).
    pub async fn find_report_comment(
        &self,
        pr: PrNumber,
        author: &str,
    ) -> Result<Option<IssueComment>, GitHubError> {
        let (comments, _) = self
            .list::<IssueComment>(
                self.path(&format!("/issues/{}/comments?per_page=100", pr.0)),
                "GET issue comments",
                usize::MAX,
            )
            .await?;
        Ok(super::models::report_comment(&comments, author).cloned())
    }

    /// Edit `existing` to `body`, or create the comment when there is none and `create`.
    pub async fn write_report_comment(
        &self,
        pr: PrNumber,
        existing: Option<&IssueComment>,
        body: &str,
        create: bool,
    ) -> Result<CommentOutcome, GitHubError> {
        match existing {
            Some(c) if c.body.as_deref() == Some(body) => Ok(CommentOutcome::Unchanged(c.id)),
            Some(c) => {
                self.write(
                    Method::PATCH,
                    &self.path(&format!("/issues/comments/{}", c.id)),
                    &json!({ "body": body }),
                )
                .await?;
                Ok(CommentOutcome::Updated(c.id))
            }
            None if create => {
                let resp = self
                    .write(
                        Method::POST,
                        &self.path(&format!("/issues/{}/comments", pr.0)),
                        &json!({ "body": body }),
                    )
                    .await?;
                let c: IssueComment = resp.json("POST issue comment")?;
                Ok(CommentOutcome::Created(c.id))
            }
            None => Ok(CommentOutcome::Skipped),
        }
    }

    /// This App's newest check run called `name` on `sha`, if there is one.
    pub async fn find_check_run(
        &self,
        sha: &CommitSha,
        name: &str,
    ) -> Result<Option<CheckRun>, GitHubError> {
        let url = self.path(&format!(
            "/commits/{}/check-runs?check_name={}&filter=latest&per_page=100",
            sha.as_str(),
            encode_path(name)
        ));
        let list: CheckRunList = self.get(&url, JSON).await?.json("GET check runs")?;
        let app_id = self.app.app_id();
        Ok(list.check_runs.into_iter().find(|c| {
            c.name == name
                && c.head_sha == sha.as_str()
                && c.app.as_ref().is_none_or(|a| Some(a.id) == app_id)
        }))
    }

    /// A new `in_progress` check run.
    pub async fn create_check_run(
        &self,
        sha: &CommitSha,
        name: &str,
        title: &str,
        summary: &str,
    ) -> Result<u64, GitHubError> {
        let body = json!({
            "name": name,
            "head_sha": sha.as_str(),
            "status": "in_progress",
            "started_at": now_rfc3339(),
            "output": { "title": title, "summary": clip(summary) },
        });
        let run: CheckRun = self
            .write(Method::POST, &self.path("/check-runs"), &body)
            .await?
            .json("POST check run")?;
        Ok(run.id)
    }

    /// Set a check run found again back to `in_progress`.
    pub async fn restart_check_run(
        &self,
        id: u64,
        title: &str,
        summary: &str,
    ) -> Result<(), GitHubError> {
        let body = json!({
            "status": "in_progress",
            "output": { "title": title, "summary": clip(summary) },
        });
        self.patch_check_run(id, &body).await
    }

    /// `PATCH` a check run.
    async fn patch_check_run(&self, id: u64, body: &serde_json::Value) -> Result<(), GitHubError> {
        let path = self.path(&format!("/check-runs/{id}"));
        self.write(Method::PATCH, &path, body).await?;
        Ok(())
    }

    /// Replace a check run's text, leaving its status and conclusion as they are (e.g. to
    /// say that the pull-request comment could not be published).
    pub async fn update_check_run_text(
        &self,
        id: u64,
        title: &str,
        summary: &str,
    ) -> Result<(), GitHubError> {
        let body = json!({ "output": { "title": title, "summary": clip(summary) } });
        self.patch_check_run(id, &body).await
    }

    /// Complete a check run: annotations go out 50 per request, the conclusion with the last.
    pub async fn complete_check_run(
        &self,
        id: u64,
        conclusion: Conclusion,
        title: &str,
        summary: &str,
        annotations: &[Annotation],
    ) -> Result<(), GitHubError> {
        let summary = clip(summary);
        let chunks: Vec<&[Annotation]> = if annotations.is_empty() {
            vec![&[]]
        } else {
            annotations.chunks(ANNOTATIONS_PER_REQUEST).collect()
        };
        let last = chunks.len() - 1;
        for (i, chunk) in chunks.into_iter().enumerate() {
            let mut output = json!({ "title": title, "summary": summary });
            if !chunk.is_empty() {
                output["annotations"] = json!(chunk);
            }
            let body = if i == last {
                json!({
                    "status": "completed",
                    "conclusion": conclusion,
                    "completed_at": now_rfc3339(),
                    "output": output,
                })
            } else {
                json!({ "output": output })
            };
            self.patch_check_run(id, &body).await?;
        }
        Ok(())
    }
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// Cut a summary to the Checks API limit, on a character boundary.
fn clip(s: &str) -> String {
    if s.chars().count() <= MAX_SUMMARY_CHARS {
        return s.to_string();
    }
    let note = "\n\n… (cut to GitHub's check-run size limit; the PR comment has the rest)";
    let keep = MAX_SUMMARY_CHARS - note.chars().count();
    let mut out: String = s.chars().take(keep).collect();
    out.push_str(note);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_encoded_per_segment() {
        assert_eq!(
            encode_path(".github/lockwatch.toml"),
            ".github/lockwatch.toml"
        );
        assert_eq!(encode_path("a b/c?d#e"), "a%20b/c%3Fd%23e");
    }

    #[test]
    fn summaries_are_clipped_to_the_checks_limit() {
        let long = "é".repeat(70_000);
        let c = clip(&long);
        assert_eq!(c.chars().count(), MAX_SUMMARY_CHARS);
        assert_eq!(clip("short"), "short");
    }
}
