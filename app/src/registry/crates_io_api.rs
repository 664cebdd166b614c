//! The crates.io web API, read for one thing the index does not carry: who published each
//! release of a crate, and whether it was published through trusted publishing (from which
//! repository and workflow run). The engine turns it into `publisher-new` and
//! `trusted-publishing-dropped` (`engine/publisher.rs`).
//!
//! One endpoint: `GET /api/v1/crates/{name}/versions?per_page=50&sort=date` (newest release
//! first), followed page by page through `meta.next_page` (a seek token) only as far as a
//! review needs: until the new version, the old version and an earlier release by the new
//! version's publisher have been seen (one request for nearly every crate), at most
//! [`MAX_PAGES_PER_CRATE`] pages per crate and [`MAX_REQUESTS_PER_REVIEW`] requests per
//! review. The single version endpoint (`GET /api/v1/crates/{name}/{version}`) has the same
//! shape per version but would need one request per release to learn the earlier publishers.
//!
//! The response shapes come from crates.io's own source (rust-lang/crates.io at
//! 57fa000662f511321daa61e6769f190ea0e80771):
//! - `crates/crates_io_api_types/src/lib.rs` (`EncodableVersion`: `num`, `created_at`,
//!   `published_by` — null for releases published before crates.io recorded it and for
//!   releases published through trusted publishing — and `trustpub_data`);
//! - `crates/crates_io_database/src/models/trustpub/data.rs` (`trustpub_data`, tagged by
//!   `provider`: `github` with `repository`, `run_id`, `sha`; `gitlab` with `project_path`,
//!   `job_id`, `sha`);
//! - `src/controllers/krate/versions.rs` and `src/controllers/helpers/pagination.rs`
//!   (`per_page` at most 100, seek pagination, `meta.next_page` a query string such as
//!   `?per_page=50&sort=date&seek=...`, `meta.total`);
//! - the snapshots `src/tests/routes/crates/versions/snapshots/integration__routes__crates__versions__list__versions-2.snap`,
//!   `.../integration__routes__crates__versions__read__show_by_crate_name_and_version.snap`,
//!   `.../integration__routes__crates__versions__read__show_by_crate_name_and_semver_no_published_by.snap`
//!   and `src/tests/krate/publish/snapshots/integration__krate__publish__trustpub_github__full_flow-9.snap`
//!   (a release published through trusted publishing: `published_by: null`, `trustpub_data`
//!   set).
//!
//! Politeness: crates.io's data access policy (<https://crates.io/data-access>, "crates.io
//! API") allows API use at "a maximum of 1 request per second" with "a `user-agent` header
//! that identifies your application". Every request of this process goes through one slot:
//! one request at a time, at least [`MIN_INTERVAL`] apart, longer after a `429` with
//! `Retry-After`; the user agent names lockwatch and its home page. Answers are cached on
//! disk (a release's publisher never changes, so a cached history that covers the versions a
//! review asks about is reused as is).
//!
//! Hostile answers: bodies are read up to [`MAX_PAGE_BYTES`]; every field kept is checked
//! (version syntax, login and repository characters, lengths); no redirect is followed and
//! a `next_page` is reduced to its seek token on the configured host. Anything else is an
//! error for that crate, which the review reports in one note.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, CONTENT_LENGTH};
use reqwest::{StatusCode, Url};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::config::is_valid_version;
use super::index_url::is_valid_crate_name;
use crate::lockfile::{Change, ChangeKind, SourceKind};

/// The crates.io web API (the `auto` setting when the index is crates.io's own).
pub const CRATES_IO_API: &str = "https://crates.io";
/// Shortest time between two API requests of this process (crates.io's data access policy:
/// at most 1 request per second).
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);
/// Releases asked for per page (crates.io allows at most 100).
pub const PER_PAGE: u32 = 50;
/// Pages read per crate at most (so at most 200 releases, newest first).
pub const MAX_PAGES_PER_CRATE: usize = 4;
/// API requests per review at most (at one a second, about half a minute).
pub const MAX_REQUESTS_PER_REVIEW: usize = 30;
/// Largest page accepted (a page of 50 releases of a crate with thousands of features is a
/// few megabytes).
pub const MAX_PAGE_BYTES: u64 = 8 * 1024 * 1024;
/// Longest `Retry-After` honoured before the next request of this process.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// Version of the on-disk cache format.
const CACHE_VERSION: u32 = 1;

/// How a release was published through trusted publishing (`trustpub_data`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedPublisher {
    /// `github`, `gitlab` (or a provider crates.io adds later).
    pub provider: String,
    /// The GitHub repository (`owner/name`) or GitLab project path.
    pub repository: Option<String>,
    /// The workflow run (GitHub `run_id`) or job (GitLab `job_id`).
    pub run: Option<String>,
    /// The commit the workflow ran on.
    pub sha: Option<String>,
}

impl TrustedPublisher {
    /// Where the run can be seen, for GitHub and GitLab.
    pub fn run_url(&self) -> Option<String> {
        let (repo, run) = (self.repository.as_deref()?, self.run.as_deref()?);
        match self.provider.as_str() {
            "github" => Some(format!("https://github.com/{repo}/actions/runs/{run}")),
            "gitlab" => Some(format!("https://gitlab.com/{repo}/-/jobs/{run}")),
            _ => None,
        }
    }

    /// `GitHub repository `o/r`` and the like, for messages.
    pub fn describe(&self) -> String {
        let provider = match self.provider.as_str() {
            "github" => "GitHub Actions".to_owned(),
            "gitlab" => "GitLab CI".to_owned(),
            other => format!("`{other}`"),
        };
        let mut s = provider;
        if let Some(repo) = &self.repository {
            s.push_str(&format!(" in `{repo}`"));
        }
        if let Some(run) = &self.run {
            s.push_str(&format!(" (run {run})"));
        }
        s
    }
}

/// One release as the API describes its publication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedVersion {
    pub num: String,
    /// `created_at`, seconds since the Unix epoch.
    pub created_at: Option<i64>,
    /// The crates.io login of the account that published it (`published_by`); None for
    /// releases before crates.io recorded it and for trusted publishing.
    pub publisher: Option<String>,
    /// Set when it was published through trusted publishing.
    pub trusted: Option<TrustedPublisher>,
}

/// The releases of a crate read from the API, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishHistory {
    pub versions: Vec<PublishedVersion>,
    /// Every release was read (false: reading stopped once the review had what it needed,
    /// or at the page budget).
    pub complete: bool,
    /// The number of releases crates.io says the crate has (`meta.total`).
    pub total: Option<u64>,
}

impl PublishHistory {
    pub fn version(&self, num: &str) -> Option<&PublishedVersion> {
        self.versions.iter().find(|v| v.num == num)
    }

    /// The releases published before `new` (by `created_at`; by list position, newest
    /// first, where a time is missing).
    pub fn earlier_than(&self, new: &PublishedVersion) -> Vec<&PublishedVersion> {
        let pos = self.versions.iter().position(|v| v.num == new.num);
        self.versions
            .iter()
            .enumerate()
            .filter(|(i, v)| {
                v.num != new.num
                    && match (v.created_at, new.created_at) {
                        (Some(t), Some(n)) => t < n,
                        _ => pos.is_some_and(|p| *i > p),
                    }
            })
            .map(|(_, v)| v)
            .collect()
    }

    /// Does it answer a review that asks about these updates (`(old, new)` versions)? Every
    /// version is there, and for each new version published by an account, an earlier
    /// release by the same account is there too, or the history is complete.
    pub fn covers(&self, updates: &BTreeSet<(String, String)>) -> bool {
        updates.iter().all(|(old, new)| {
            let Some(n) = self.version(new) else {
                return false;
            };
            if self.version(old).is_none() {
                return self.complete;
            }
            match &n.publisher {
                Some(login) if n.trusted.is_none() && !self.complete => self
                    .earlier_than(n)
                    .iter()
                    .any(|e| e.publisher.as_deref().is_some_and(|p| same_login(p, login))),
                _ => true,
            }
        })
    }
}

/// crates.io logins compare without case (they are GitHub logins).
pub fn same_login(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// What the API said about the updated crates of one review.
#[derive(Debug, Clone, Default)]
pub struct PublisherFacts {
    /// By crate name.
    pub histories: HashMap<String, PublishHistory>,
    /// Set when the checks did not run for some updated crates: the one note that says so.
    pub not_run: Option<String>,
}

impl PublisherFacts {
    /// Nothing was learned, for this reason.
    pub fn failed(reason: &str) -> PublisherFacts {
        PublisherFacts {
            histories: HashMap::new(),
            not_run: Some(format!(
                "Publisher checks (`publisher-new`, `trusted-publishing-dropped`) did not run: {reason}"
            )),
        }
    }
}

/// The updated crates.io crates of a review whose publishers are asked about.
#[derive(Debug, Clone, Default)]
pub struct PublisherQueue {
    /// Crate name → `(old, new)` versions.
    updates: BTreeMap<String, BTreeSet<(String, String)>>,
}

impl PublisherQueue {
    /// Queue a change if it is an update of a crate from crates.io on both sides.
    pub fn add(&mut self, c: &Change) {
        if c.kind != ChangeKind::Updated || !is_valid_crate_name(&c.name) {
            return;
        }
        let (Some(old), Some(new)) = (&c.old, &c.new) else {
            return;
        };
        if old.source != SourceKind::CratesIo || new.source != SourceKind::CratesIo {
            return;
        }
        self.updates
            .entry(c.name.clone())
            .or_default()
            .insert((old.version.to_string(), new.version.to_string()));
    }

    pub fn is_empty(&self) -> bool {
        self.updates.is_empty()
    }

    pub fn len(&self) -> usize {
        self.updates.len()
    }
}

/// Why the API could not answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// Nothing more can be asked in this review (no connection, timeout, server error,
    /// rate limited or refused).
    #[error("{0}")]
    Unreachable(String),
    /// This crate's answer was unusable (not found, malformed, too large).
    #[error("{0}")]
    Crate(String),
}

/// Settings of a [`CratesIoApi`].
#[derive(Debug, Clone)]
pub struct CratesIoApiConfig {
    /// `https://crates.io` (no trailing path), or a test server.
    pub base: Url,
    pub user_agent: String,
    pub timeout: Duration,
    /// At least [`MIN_INTERVAL`] in production; tests of the client may shorten it.
    pub min_interval: Duration,
    /// Where answers are cached (`<dir>/<name>.v1.json`); None: in memory only.
    pub cache_dir: Option<PathBuf>,
}

impl CratesIoApiConfig {
    /// The settings for an API base URL (`https://crates.io`): http or https, a host, no
    /// credentials, query or fragment.
    pub fn new(base: &str, cache_dir: Option<PathBuf>) -> Result<Self, String> {
        let url = Url::parse(base.trim()).map_err(|e| format!("`{base}`: {e}"))?;
        if !matches!(url.scheme(), "https" | "http")
            || url.host_str().is_none()
            || !url.username().is_empty()
            || url.password().is_some()
            || url.query().is_some()
            || url.fragment().is_some()
        {
            return Err(format!(
                "`{base}` is not an http(s) URL of the crates.io API (such as {CRATES_IO_API})"
            ));
        }
        Ok(CratesIoApiConfig {
            base: url,
            user_agent: crate::http::user_agent(),
            timeout: Duration::from_secs(20),
            min_interval: MIN_INTERVAL,
            cache_dir,
        })
    }
}

/// A client of the crates.io API. Cheap to clone; clones share the in-memory answers.
#[derive(Debug, Clone)]
pub struct CratesIoApi {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    cfg: CratesIoApiConfig,
    memo: Mutex<HashMap<String, Arc<PublishHistory>>>,
}

/// The one request slot of this process: when the next request may start. Held through a
/// request, so requests never overlap.
static SLOT: tokio::sync::Mutex<Option<Instant>> = tokio::sync::Mutex::const_new(None);

/// A page of `GET /api/v1/crates/{name}/versions`, as far as lockwatch reads it.
#[derive(Deserialize)]
struct RawPage {
    versions: Vec<RawVersion>,
    #[serde(default)]
    meta: RawMeta,
}

#[derive(Deserialize, Default)]
struct RawMeta {
    #[serde(default)]
    next_page: Option<String>,
    #[serde(default)]
    total: Option<u64>,
}

#[derive(Deserialize)]
struct RawVersion {
    num: String,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    published_by: Option<RawUser>,
    #[serde(default)]
    trustpub_data: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawUser {
    login: String,
}

impl CratesIoApi {
    pub fn new(cfg: CratesIoApiConfig) -> Result<Self, String> {
        let http = crate::http::registry_client(&cfg.user_agent, cfg.timeout)
            .map_err(|e| format!("cannot build the crates.io API client: {e}"))?;
        Ok(CratesIoApi {
            inner: Arc::new(Inner {
                http,
                cfg,
                memo: Mutex::default(),
            }),
        })
    }

    /// The API base URL.
    pub fn base(&self) -> &Url {
        &self.inner.cfg.base
    }

    /// Ask about every queued update, within the review's request budget. Crates whose
    /// answer could not be had are named in one note (`not_run`); once the API cannot be
    /// reached, nothing more is asked.
    pub async fn publisher_facts(&self, queue: PublisherQueue) -> PublisherFacts {
        let mut facts = PublisherFacts::default();
        let mut budget = MAX_REQUESTS_PER_REVIEW;
        let mut missed: Vec<String> = Vec::new();
        let mut reasons: Vec<String> = Vec::new();
        let total = queue.len();
        let mut stopped: Option<String> = None;
        for (name, updates) in queue.updates {
            if let Some(why) = &stopped {
                missed.push(name);
                if !reasons.contains(why) {
                    reasons.push(why.clone());
                }
                continue;
            }
            match self.history(&name, &updates, &mut budget).await {
                Ok(h) => {
                    facts.histories.insert(name, h);
                }
                Err(e) => {
                    let why = e.to_string();
                    if matches!(e, ApiError::Unreachable(_)) {
                        stopped = Some(why.clone());
                    }
                    if !reasons.contains(&why) {
                        reasons.push(why);
                    }
                    missed.push(name);
                }
            }
        }
        if !missed.is_empty() {
            let shown: Vec<String> = missed.iter().take(5).map(|n| format!("`{n}`")).collect();
            let more = if missed.len() > shown.len() {
                format!(" and {} more", missed.len() - shown.len())
            } else {
                String::new()
            };
            reasons.truncate(3);
            facts.not_run = Some(format!(
                "Publisher checks (`publisher-new`, `trusted-publishing-dropped`) did not run for {} of {} updated crates.io {} ({}{more}): {}",
                missed.len(),
                total,
                if total == 1 { "crate" } else { "crates" },
                shown.join(", "),
                reasons.join("; ")
            ));
        }
        facts
    }

    /// The publication history of `name`, enough for `updates`: from memory, the disk
    /// cache, or the API.
    async fn history(
        &self,
        name: &str,
        updates: &BTreeSet<(String, String)>,
        budget: &mut usize,
    ) -> Result<PublishHistory, ApiError> {
        let key = name.to_ascii_lowercase();
        let memo = lock(&self.inner.memo).get(&key).cloned();
        if let Some(h) = memo.filter(|h| h.covers(updates)) {
            return Ok((*h).clone());
        }
        if let Some(h) = self.cached(&key).filter(|h| h.covers(updates)) {
            lock(&self.inner.memo).insert(key, Arc::new(h.clone()));
            return Ok(h);
        }
        let h = self.read_history(name, updates, budget).await?;
        let missing: Vec<&str> = updates
            .iter()
            .map(|(_, new)| new.as_str())
            .filter(|n| h.version(n).is_none())
            .collect();
        if !missing.is_empty() && h.complete {
            return Err(ApiError::Crate(format!(
                "crates.io lists no release {} of `{name}`",
                missing.join(", ")
            )));
        }
        if !missing.is_empty() {
            return Err(ApiError::Crate(format!(
                "`{name}` {} is not among the {} newest releases the per-crate budget reads",
                missing.join(", "),
                h.versions.len()
            )));
        }
        self.store(&key, &h);
        lock(&self.inner.memo).insert(key, Arc::new(h.clone()));
        Ok(h)
    }

    /// Read pages, newest release first, until the history covers `updates`, it is
    /// complete, or a budget is spent.
    async fn read_history(
        &self,
        name: &str,
        updates: &BTreeSet<(String, String)>,
        budget: &mut usize,
    ) -> Result<PublishHistory, ApiError> {
        let mut history = PublishHistory::default();
        let mut seek: Option<String> = None;
        for page in 0..MAX_PAGES_PER_CRATE {
            if *budget == 0 {
                if page == 0 {
                    return Err(ApiError::Crate(format!(
                        "the review's budget of {MAX_REQUESTS_PER_REVIEW} crates.io API requests (at most one a second, crates.io's data access policy) was spent"
                    )));
                }
                break;
            }
            *budget -= 1;
            let url = self.page_url(name, seek.as_deref())?;
            let body = self.get(&url).await?;
            let (versions, next, total) = parse_page(&body).map_err(|e| {
                ApiError::Crate(format!("the answer for `{name}` is not usable: {e}"))
            })?;
            history.total = total.or(history.total);
            for v in versions {
                if history.version(&v.num).is_none() {
                    history.versions.push(v);
                }
            }
            match next {
                None => {
                    history.complete = true;
                    break;
                }
                Some(next) if seek.as_deref() == Some(next.as_str()) => {
                    return Err(ApiError::Crate(format!(
                        "the answer for `{name}` points at the page it is"
                    )));
                }
                Some(next) => seek = Some(next),
            }
            if history.covers(updates) {
                break;
            }
        }
        Ok(history)
    }

    fn page_url(&self, name: &str, seek: Option<&str>) -> Result<Url, ApiError> {
        let mut url = self.inner.cfg.base.clone();
        let path = format!(
            "{}/api/v1/crates/{name}/versions",
            url.path().trim_end_matches('/')
        );
        url.set_path(&path);
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("per_page", &PER_PAGE.to_string());
            q.append_pair("sort", "date");
            if let Some(s) = seek {
                q.append_pair("seek", s);
            }
        }
        Ok(url)
    }

    /// One GET through the process's request slot: never two at once, at least
    /// `min_interval` apart, and after a `429` not before its `Retry-After`.
    async fn get(&self, url: &Url) -> Result<Vec<u8>, ApiError> {
        let mut slot = SLOT.lock().await;
        if let Some(next) = *slot {
            tokio::time::sleep_until(next.into()).await;
        }
        let cfg = &self.inner.cfg;
        let result = tokio::time::timeout(cfg.timeout, self.attempt(url)).await;
        let mut next = Instant::now() + cfg.min_interval;
        let result = match result {
            Ok(Ok(body)) => Ok(body),
            Ok(Err(Attempt::RetryAfter(wait, e))) => {
                next = Instant::now() + wait.min(MAX_RETRY_AFTER).max(cfg.min_interval);
                Err(e)
            }
            Ok(Err(Attempt::Failed(e))) => Err(e),
            Err(_) => Err(ApiError::Unreachable(format!(
                "the crates.io API at {} did not answer within {} s",
                cfg.base,
                cfg.timeout.as_secs()
            ))),
        };
        *slot = Some(next);
        result
    }

    async fn attempt(&self, url: &Url) -> Result<Vec<u8>, Attempt> {
        let base = &self.inner.cfg.base;
        let mut resp = self
            .inner
            .http
            .get(url.clone())
            .header(ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| {
                Attempt::Failed(ApiError::Unreachable(format!(
                    "the crates.io API at {base} could not be reached ({})",
                    if e.is_connect() {
                        "cannot connect".to_owned()
                    } else if e.is_timeout() {
                        "timed out".to_owned()
                    } else {
                        "the request failed".to_owned()
                    }
                )))
            })?;
        let status = resp.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            let wait = crate::http::retry_after(resp.headers()).unwrap_or(MAX_RETRY_AFTER);
            return Err(Attempt::RetryAfter(
                wait,
                ApiError::Unreachable(format!(
                    "the crates.io API at {base} asked lockwatch to slow down (429)"
                )),
            ));
        }
        if status == StatusCode::NOT_FOUND {
            return Err(Attempt::Failed(ApiError::Crate(
                "crates.io does not know the crate (404)".into(),
            )));
        }
        if !status.is_success() {
            return Err(Attempt::Failed(ApiError::Unreachable(format!(
                "the crates.io API at {base} answered {}",
                status.as_u16()
            ))));
        }
        let too_large = || {
            Attempt::Failed(ApiError::Crate(format!(
                "the answer is larger than {} MB",
                MAX_PAGE_BYTES / 1024 / 1024
            )))
        };
        let declared = resp
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > MAX_PAGE_BYTES) {
            return Err(too_large());
        }
        let mut body = Vec::with_capacity(declared.unwrap_or(0).min(MAX_PAGE_BYTES) as usize);
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    if (body.len() + chunk.len()) as u64 > MAX_PAGE_BYTES {
                        return Err(too_large());
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => return Ok(body),
                Err(_) => {
                    return Err(Attempt::Failed(ApiError::Unreachable(format!(
                        "the crates.io API at {base} broke off its answer"
                    ))));
                }
            }
        }
    }

    fn cache_path(&self, key: &str) -> Option<PathBuf> {
        self.inner
            .cfg
            .cache_dir
            .as_ref()
            .map(|d| d.join(format!("{key}.v{CACHE_VERSION}.json")))
    }

    fn cached(&self, key: &str) -> Option<PublishHistory> {
        let path = self.cache_path(key)?;
        let meta = std::fs::metadata(&path).ok()?;
        if meta.len() > MAX_PAGE_BYTES {
            return None;
        }
        let h: PublishHistory = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
        // Written by this module, but checked like an answer all the same.
        h.versions
            .iter()
            .all(|v| check_version(v).is_ok())
            .then_some(h)
    }

    fn store(&self, key: &str, h: &PublishHistory) {
        if let Some(path) = self.cache_path(key) {
            super::store_json(&path, key, h);
        }
    }
}

enum Attempt {
    RetryAfter(Duration, ApiError),
    Failed(ApiError),
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// A page's releases, its next seek token and the total, every kept field checked.
fn parse_page(body: &[u8]) -> Result<(Vec<PublishedVersion>, Option<String>, Option<u64>), String> {
    // serde's own message may quote the answer: only its kind and place are said.
    let page: RawPage = serde_json::from_slice(body).map_err(|e| {
        let kind = match e.classify() {
            serde_json::error::Category::Data => "not of the expected shape",
            serde_json::error::Category::Eof => "cut short",
            serde_json::error::Category::Syntax | serde_json::error::Category::Io => "not JSON",
        };
        format!("{kind} (line {}, column {})", e.line(), e.column())
    })?;
    if page.versions.len() > 100 {
        return Err(format!(
            "{} releases on one page (at most 100 were asked for)",
            page.versions.len()
        ));
    }
    let mut out = Vec::with_capacity(page.versions.len());
    for raw in page.versions {
        let created_at = match raw.created_at.as_deref() {
            None => None,
            Some(t) => Some(
                OffsetDateTime::parse(t, &Rfc3339)
                    .map_err(|_| "a `created_at` is not an RFC 3339 time".to_owned())?
                    .unix_timestamp(),
            ),
        };
        let trusted = match raw.trustpub_data {
            None | Some(serde_json::Value::Null) => None,
            Some(v) => Some(trusted_publisher(&v)?),
        };
        let v = PublishedVersion {
            num: raw.num,
            created_at,
            publisher: raw.published_by.map(|u| u.login),
            trusted,
        };
        check_version(&v)?;
        out.push(v);
    }
    let next = match page.meta.next_page {
        None => None,
        Some(next) => Some(seek_token(&next)?),
    };
    Ok((out, next, page.meta.total))
}

/// The `seek` value of a `next_page` query string; nothing else of it is used.
fn seek_token(next_page: &str) -> Result<String, String> {
    if next_page.len() > 1_000 {
        return Err("`next_page` is too long".into());
    }
    let query = next_page.split_once('?').map_or(next_page, |(_, q)| q);
    let parsed = Url::parse(&format!("http://next.invalid/?{query}"))
        .map_err(|_| "`next_page` is not a query string".to_owned())?;
    let seek = parsed
        .query_pairs()
        .find(|(k, _)| k == "seek")
        .map(|(_, v)| v.into_owned())
        .ok_or_else(|| "`next_page` has no seek token".to_owned())?;
    if seek.is_empty()
        || seek.len() > 200
        || !seek
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'=' | b'+' | b'/'))
    {
        return Err("`next_page` has a malformed seek token".into());
    }
    Ok(seek)
}

fn trusted_publisher(v: &serde_json::Value) -> Result<TrustedPublisher, String> {
    let obj = v
        .as_object()
        .ok_or_else(|| "a `trustpub_data` is not an object".to_owned())?;
    let text = |keys: &[&str]| -> Result<Option<String>, String> {
        for k in keys {
            match obj.get(*k) {
                None | Some(serde_json::Value::Null) => continue,
                Some(serde_json::Value::String(s)) => return Ok(Some(s.clone())),
                Some(_) => return Err(format!("`trustpub_data.{k}` is not a string")),
            }
        }
        Ok(None)
    };
    Ok(TrustedPublisher {
        provider: text(&["provider"])?
            .ok_or_else(|| "a `trustpub_data` has no provider".to_owned())?,
        repository: text(&["repository", "project_path"])?,
        run: text(&["run_id", "job_id"])?,
        sha: text(&["sha"])?,
    })
}

fn charset(s: &str, max: usize, extra: &[u8]) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || extra.contains(&b))
}

/// Every field kept from an answer is plain: a version, a login, a repository path.
fn check_version(v: &PublishedVersion) -> Result<(), String> {
    if !is_valid_version(&v.num) {
        return Err("a release has no valid version number".into());
    }
    if let Some(login) = &v.publisher
        && !charset(login, 64, b"-_.")
    {
        return Err(format!(
            "release {} has a malformed `published_by.login`",
            v.num
        ));
    }
    if let Some(t) = &v.trusted {
        let ok = charset(&t.provider, 32, b"-_")
            && t.repository
                .as_deref()
                .is_none_or(|r| charset(r, 200, b"-_./") && !r.contains(".."))
            && t.run.as_deref().is_none_or(|r| charset(r, 64, b"-_"))
            && t.sha.as_deref().is_none_or(|s| charset(s, 64, b"-_"));
        if !ok {
            return Err(format!("release {} has a malformed `trustpub_data`", v.num));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// `integration__routes__crates__versions__list__versions-2.snap` (crates.io), with
    /// the `[datetime]` placeholders filled in and `meta.next_page` as the seek form
    /// returns it.
    const LIST_SNAPSHOT: &str = r#"{
      "meta": { "next_page": null, "total": 3 },
      "versions": [
        { "audit_actions": [], "bin_names": null, "checksum": "0000000000000000000000000000000000000000000000000000000000000000",
          "crate": "foo_versions", "crate_size": 0, "created_at": "2017-01-06T14:23:11.123456Z", "description": null,
          "dl_path": "/api/v1/crates/foo_versions/1.0.0/download", "documentation": null, "downloads": 0, "edition": null,
          "features": {}, "has_lib": null, "homepage": null, "id": 2, "lib_links": null, "license": null,
          "linecounts": { "languages": {}, "total_code_lines": 9000, "total_comment_lines": 0 },
          "links": { "authors": "/api/v1/crates/foo_versions/1.0.0/authors", "dependencies": "/api/v1/crates/foo_versions/1.0.0/dependencies", "version_downloads": "/api/v1/crates/foo_versions/1.0.0/downloads" },
          "num": "1.0.0", "published_by": null, "readme_path": "/api/v1/crates/foo_versions/1.0.0/readme", "repository": null,
          "rust_version": "1.64", "trustpub_data": null, "updated_at": "2017-01-06T14:23:11.123456Z", "yank_message": null, "yanked": false },
        { "audit_actions": [ { "action": "publish", "time": "2017-01-05T14:23:11Z",
            "user": { "avatar": null, "created_at": "2016-01-06T14:23:11Z", "github_username_matches": true, "id": 1, "login": "foo", "name": null, "url": "https://github.com/foo" } } ],
          "bin_names": null, "checksum": "0000000000000000000000000000000000000000000000000000000000000000",
          "crate": "foo_versions", "crate_size": 0, "created_at": "2017-01-05T14:23:11Z", "num": "0.5.1",
          "published_by": { "avatar": null, "created_at": "2016-01-06T14:23:11Z", "github_username_matches": true, "id": 1, "login": "foo", "name": null, "url": "https://github.com/foo" },
          "trustpub_data": null, "yanked": false },
        { "created_at": "2017-01-04T14:23:11Z", "num": "0.5.0",
          "published_by": { "avatar": null, "created_at": "2016-01-06T14:23:11Z", "github_username_matches": true, "id": 1, "login": "foo", "name": null, "url": "https://github.com/foo" },
          "trustpub_data": { "provider": "github", "repository": "rust-lang/foo-rs", "run_id": "example-run-id", "sha": "example-sha" } }
      ]
    }"#;

    #[test]
    fn reads_crates_io_list_snapshot() {
        let (versions, next, total) = parse_page(LIST_SNAPSHOT.as_bytes()).unwrap();
        assert_eq!(next, None);
        assert_eq!(total, Some(3));
        let nums: Vec<&str> = versions.iter().map(|v| v.num.as_str()).collect();
        assert_eq!(nums, ["1.0.0", "0.5.1", "0.5.0"]);
        assert_eq!(versions[0].publisher, None);
        assert_eq!(versions[1].publisher.as_deref(), Some("foo"));
        assert_eq!(versions[1].created_at, Some(1_483_626_191));
        let t = versions[2].trusted.as_ref().unwrap();
        assert_eq!(t.provider, "github");
        assert_eq!(t.repository.as_deref(), Some("rust-lang/foo-rs"));
        assert_eq!(
            t.run_url().as_deref(),
            Some("https://github.com/rust-lang/foo-rs/actions/runs/example-run-id")
        );
    }

    #[test]
    fn reads_gitlab_trustpub_data() {
        // `test_gitlab_serialization` in crates_io_database/src/models/trustpub/data.rs.
        let v = serde_json::json!({
            "provider": "gitlab", "project_path": "rust-lang/cargo",
            "job_id": "example-job-id", "sha": "example-sha"
        });
        let t = trusted_publisher(&v).unwrap();
        assert_eq!(t.repository.as_deref(), Some("rust-lang/cargo"));
        assert_eq!(t.run.as_deref(), Some("example-job-id"));
        assert_eq!(
            t.run_url().as_deref(),
            Some("https://gitlab.com/rust-lang/cargo/-/jobs/example-job-id")
        );
    }

    #[test]
    fn next_page_is_reduced_to_its_seek_token() {
        assert_eq!(
            seek_token("?per_page=50&sort=date&seek=WzE3MDAwMDAwMDAsMTJd").unwrap(),
            "WzE3MDAwMDAwMDAsMTJd"
        );
        assert!(seek_token("https://evil.example/?x=1").is_err());
        assert!(seek_token("?seek=a%20b").is_err());
        assert!(seek_token(&format!("?seek={}", "a".repeat(300))).is_err());
    }

    #[test]
    fn hostile_answers_are_errors_not_panics() {
        for body in [
            "",
            "<html>",
            "[]",
            r#"{"versions": {}}"#,
            r#"{"versions": [{"num": 5}]}"#,
            r#"{"versions": [{"num": "not a version!"}]}"#,
            r#"{"versions": [{"num": "1.0.0", "created_at": "yesterday"}]}"#,
            r#"{"versions": [{"num": "1.0.0", "published_by": {"login": "a`b <img>"}}]}"#,
            r#"{"versions": [{"num": "1.0.0", "published_by": "foo"}]}"#,
            r#"{"versions": [{"num": "1.0.0", "trustpub_data": "github"}]}"#,
            r#"{"versions": [{"num": "1.0.0", "trustpub_data": {"repository": "a/b"}}]}"#,
            r#"{"versions": [{"num": "1.0.0", "trustpub_data": {"provider": "github", "repository": "../../x"}}]}"#,
            r#"{"versions": [], "meta": {"next_page": "?page=2"}}"#,
        ] {
            assert!(parse_page(body.as_bytes()).is_err(), "{body}");
        }
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(parse_page(deep.as_bytes()).is_err());
        let many: Vec<String> = (0..101)
            .map(|i| format!(r#"{{"num": "1.0.{i}"}}"#))
            .collect();
        let body = format!(r#"{{"versions": [{}]}}"#, many.join(","));
        assert!(parse_page(body.as_bytes()).is_err());
    }

    fn v(num: &str, t: i64, publisher: Option<&str>) -> PublishedVersion {
        PublishedVersion {
            num: num.into(),
            created_at: Some(t),
            publisher: publisher.map(Into::into),
            trusted: None,
        }
    }

    #[test]
    fn a_history_covers_an_update_once_the_publisher_is_seen_earlier() {
        let updates: BTreeSet<(String, String)> = [("1.0.0".to_owned(), "1.1.0".to_owned())].into();
        let mut h = PublishHistory {
            versions: vec![v("1.2.0", 30, Some("a")), v("1.1.0", 20, Some("b"))],
            complete: false,
            total: Some(40),
        };
        assert!(
            !h.covers(&updates),
            "no old version, no earlier release by b"
        );
        h.versions.push(v("1.0.5", 15, Some("B")));
        assert!(!h.covers(&updates), "the old version is still missing");
        h.versions.push(v("1.0.0", 10, Some("a")));
        assert!(h.covers(&updates));
        let h = PublishHistory {
            versions: vec![v("1.1.0", 20, Some("b")), v("1.0.0", 10, Some("a"))],
            complete: false,
            total: None,
        };
        assert!(!h.covers(&updates), "b may have published an older release");
        assert!(
            PublishHistory {
                complete: true,
                ..h
            }
            .covers(&updates)
        );
    }

    #[test]
    fn api_urls_must_be_plain_http_urls() {
        assert!(CratesIoApiConfig::new("https://crates.io", None).is_ok());
        assert!(CratesIoApiConfig::new("http://127.0.0.1:8080/", None).is_ok());
        for bad in [
            "crates.io",
            "ftp://crates.io",
            "https://user:pw@crates.io",
            "https://crates.io/?x=1",
        ] {
            assert!(CratesIoApiConfig::new(bad, None).is_err(), "{bad}");
        }
        let api =
            CratesIoApi::new(CratesIoApiConfig::new("http://h:1/mirror/", None).unwrap()).unwrap();
        assert_eq!(
            api.page_url("serde", Some("abc")).unwrap().as_str(),
            "http://h:1/mirror/api/v1/crates/serde/versions?per_page=50&sort=date&seek=abc"
        );
    }
}
