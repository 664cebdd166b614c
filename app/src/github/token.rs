//! `TokenClient`: one repository, authenticated by a plain token (the Actions `GITHUB_TOKEN`)
//! instead of the App's installation tokens. Used by the GitHub Action to keep the same
//! sticky comment (`COMMENT_MARKER`, edited in place) as the App.
//!
//! It shares the request exchange (`client::exchange`) and the rule that finds the comment
//! (`models::report_comment`) with `RepoClient`; only authentication differs.

use super::client::ApiResponse;
use super::models::IssueComment;
use super::{CommentOutcome, GitHubError, PrNumber, RepoName};
use axum::http::Method;
use octocrab::Octocrab;
use secrecy::SecretString;
use serde_json::json;
use std::time::Duration;

const JSON: &str = "application/vnd.github+json";
const MAX_PAGES: usize = 100;
/// Attempts per request when GitHub answers 5xx or does not answer.
const ATTEMPTS: u32 = 3;

/// A repository client with a fixed token.
pub struct TokenClient {
    octo: Octocrab,
    base: String,
    token: SecretString,
    repo: RepoName,
    timeout: Duration,
}

impl std::fmt::Debug for TokenClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenClient")
            .field("base", &self.base)
            .field("repo", &self.repo)
            .finish_non_exhaustive()
    }
}

impl TokenClient {
    /// `api_url`: `https://api.github.com` or GHES's `https://HOST/api/v3`.
    pub fn new(
        api_url: &str,
        token: SecretString,
        repo: RepoName,
        timeout: Duration,
    ) -> Result<TokenClient, GitHubError> {
        crate::http::install_crypto_provider();
        let base = api_url.trim_end_matches('/').to_string();
        let octo = Octocrab::builder()
            .base_uri(base.as_str())
            .map_err(|e| GitHubError::Credentials(format!("bad GitHub API URL: {e}")))?
            .set_connect_timeout(Some(timeout))
            .set_read_timeout(Some(timeout))
            .build()
            .map_err(|e| GitHubError::Credentials(format!("cannot build the client: {e}")))?;
        Ok(TokenClient {
            octo,
            base,
            token,
            repo,
            timeout,
        })
    }

    pub fn repo(&self) -> &RepoName {
        &self.repo
    }

    fn path(&self, rest: &str) -> String {
        self.repo.api_path(rest)
    }

    /// Find lockwatch's comment (by `COMMENT_MARKER`) and edit it in place; create it only
    /// when `create` and none exists. Never a second comment. A read-only token gets
    /// `GitHubError::Status { status: 403, .. }` from the write.
    pub async fn upsert_report_comment(
        &self,
        pr: PrNumber,
        body: &str,
        create: bool,
    ) -> Result<CommentOutcome, GitHubError> {
        let comments = self
            .list_comments(self.path(&format!("/issues/{}/comments?per_page=100", pr.0)))
            .await?;
        let existing = super::models::report_comment(&comments);
        match existing {
            Some(c) if c.body.as_deref() == Some(body) => Ok(CommentOutcome::Unchanged(c.id)),
            Some(c) => {
                self.send(
                    Method::PATCH,
                    &self.path(&format!("/issues/comments/{}", c.id)),
                    Some(&json!({ "body": body })),
                )
                .await?;
                Ok(CommentOutcome::Updated(c.id))
            }
            None if create => {
                let resp = self
                    .send(
                        Method::POST,
                        &self.path(&format!("/issues/{}/comments", pr.0)),
                        Some(&json!({ "body": body })),
                    )
                    .await?;
                let c: IssueComment = resp.json("POST issue comment")?;
                Ok(CommentOutcome::Created(c.id))
            }
            None => Ok(CommentOutcome::Skipped),
        }
    }

    async fn list_comments(&self, first: String) -> Result<Vec<IssueComment>, GitHubError> {
        let mut items = Vec::new();
        let mut next = Some(first);
        let mut pages = 0;
        while let Some(path) = next.take() {
            let resp = self.send(Method::GET, &path, None).await?;
            let page: Vec<IssueComment> = resp.json("GET issue comments")?;
            items.extend(page);
            pages += 1;
            if pages >= MAX_PAGES {
                break;
            }
            next = match resp.next_link() {
                Some(url) => Some(
                    url.strip_prefix(&self.base)
                        .filter(|r| r.starts_with('/'))
                        .map(str::to_string)
                        .ok_or_else(|| GitHubError::Decode {
                            what: "GET issue comments".into(),
                            message: "a Link header points outside the GitHub API".into(),
                        })?,
                ),
                None => None,
            };
        }
        Ok(items)
    }

    /// One request, retried on 5xx and transport errors; 2xx is `Ok`.
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<ApiResponse, GitHubError> {
        let what = format!("{method} {}", path.split('?').next().unwrap_or(path));
        let mut attempt = 1;
        loop {
            let err = match self.send_once(&method, path, body, &what).await {
                Ok(r) if (200..300).contains(&r.status) => return Ok(r),
                Ok(r) => status_error(&r, &what),
                Err(e) => e,
            };
            let retry = match &err {
                GitHubError::Status { status, .. } => *status >= 500,
                GitHubError::Timeout { .. } | GitHubError::Transport { .. } => true,
                _ => false,
            };
            if !retry || attempt >= ATTEMPTS {
                return Err(err);
            }
            tokio::time::sleep(Duration::from_millis(250 * u64::from(attempt))).await;
            attempt += 1;
        }
    }

    async fn send_once(
        &self,
        method: &Method,
        path: &str,
        body: Option<&serde_json::Value>,
        what: &str,
    ) -> Result<ApiResponse, GitHubError> {
        super::client::exchange(
            &self.octo,
            self.timeout,
            method,
            path,
            &self.token,
            body,
            JSON,
            what,
        )
        .await
    }
}

fn status_error(r: &ApiResponse, what: &str) -> GitHubError {
    #[derive(serde::Deserialize)]
    struct Body {
        #[serde(default)]
        message: String,
    }
    let message = serde_json::from_slice::<Body>(&r.body)
        .map(|b| b.message)
        .unwrap_or_default();
    GitHubError::Status {
        status: r.status,
        what: what.to_string(),
        message: message.chars().take(300).collect(),
        retry_after: None,
        rate_limited: false,
    }
}
