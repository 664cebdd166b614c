//! A fake GitHub REST API for end-to-end tests of `lockwatch serve`.
//!
//! Three layers: plain in-memory state (`World`: installations, trees at commits, pull
//! requests, comments, check runs), an axum facade that serves exactly the operations of
//! `fixtures/github/openapi-subset.json` (validating each request against it, checking the
//! App JWT and the installation tokens it issued, paginating with `Link`), and a channel of
//! what the App published that tests await with a timeout. Anything unexpected is recorded
//! and fails `assert_clean`.

pub mod openapi;
pub mod webhooks;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use openapi::Spec;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// The repository every fixture payload names.
pub const REPO: &str = "Codertocat/Hello-World";
pub const INSTALLATION: u64 = 1;
pub const APP_ID: u64 = 4242;
/// The App's slug (`GET /app`); its installation tokens comment as `lockwatch-test[bot]`.
pub const APP_SLUG: &str = "lockwatch-test";
/// The account an installation token writes as, unless `World::token_logins` says other.
pub const BOT_LOGIN: &str = "lockwatch-test[bot]";

/// The blob SHA the fake gives a file's bytes (40 hex digits, stable).
pub fn blob_sha(bytes: &[u8]) -> String {
    use std::hash::{Hash, Hasher};
    let mut parts = String::new();
    for salt in 0u8..3 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (salt, bytes).hash(&mut h);
        parts.push_str(&format!("{:016x}", h.finish()));
    }
    parts[..40].to_string()
}

/// Paths of the throwaway test key pair.
pub fn test_key_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/TEST-ONLY-github-app-key.pem")
}
fn test_public_key_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/TEST-ONLY-github-app-key.pub.pem")
}

/// Something the App published.
#[derive(Debug, Clone, PartialEq)]
pub enum Published {
    CommentCreated {
        issue: u64,
        id: u64,
        body: String,
    },
    CommentEdited {
        id: u64,
        body: String,
    },
    CheckRunCreated {
        id: u64,
        head_sha: String,
        status: String,
    },
    CheckRunUpdated {
        id: u64,
        head_sha: String,
        status: String,
        conclusion: Option<String>,
        title: Option<String>,
        summary: Option<String>,
        annotations: Vec<Value>,
    },
}

/// An injected failure.
#[derive(Debug, Clone)]
pub enum FaultKind {
    ServerError,
    /// 403 with `Retry-After` (GitHub's secondary rate limit).
    SecondaryRateLimit {
        retry_after_secs: u64,
    },
    /// Answer normally, after this delay.
    Slow(Duration),
    NotFound,
    /// Revoke every installation token issued so far (as when an installation token is
    /// revoked on GitHub), then answer this request `401 Bad credentials`, as GitHub does
    /// for a revoked token.
    RevokeTokens,
}

#[derive(Debug, Clone)]
struct Fault {
    op_id: String,
    kind: FaultKind,
    times: usize,
}

#[derive(Debug, Clone)]
struct RateWindow {
    limit: u64,
    window: Duration,
    remaining: u64,
    /// Unix seconds.
    reset_at: u64,
}

#[derive(Debug, Clone)]
pub struct Pr {
    pub base_sha: String,
    pub head_sha: String,
    pub draft: bool,
}

#[derive(Debug, Clone)]
pub struct Comment {
    pub id: u64,
    pub repo: String,
    pub issue: u64,
    pub body: String,
    /// The login that wrote it.
    pub author: String,
}

#[derive(Debug, Clone)]
pub struct CheckRun {
    pub id: u64,
    pub repo: String,
    pub name: String,
    pub head_sha: String,
    pub status: String,
    pub conclusion: Option<String>,
    pub annotations: Vec<Value>,
    pub summary: Option<String>,
}

/// The fake's state.
#[derive(Default)]
pub struct World {
    pub installations: HashMap<u64, Vec<String>>,
    tokens: HashMap<String, u64>,
    /// Installation tokens minted (`POST /app/installations/{id}/access_tokens` answered).
    pub tokens_minted: usize,
    /// Installation tokens revoked by [`FaultKind::RevokeTokens`].
    pub tokens_revoked: usize,
    /// Requests refused `401` for a missing, unknown or revoked installation token.
    pub unauthorized: usize,
    /// (repo, sha) -> path -> bytes.
    pub trees: HashMap<(String, String), BTreeMap<String, Vec<u8>>>,
    pub prs: HashMap<(String, u64), Pr>,
    pub comments: Vec<Comment>,
    pub check_runs: Vec<CheckRun>,
    /// Token -> the login it writes comments as (default `BOT_LOGIN`).
    pub token_logins: HashMap<String, String>,
    /// (sha, path) the contents API answers 404 for, although the file is in the tree (as
    /// GitHub does for a while after a push, or under load).
    pub hidden: std::collections::HashSet<(String, String)>,
    /// Blob SHAs the blob API answers 404 for.
    pub hidden_blobs: std::collections::HashSet<String>,
    /// The pull-request file listing stops after this many pages without saying so (no
    /// `Link: next`), as a listing cut short does; `pulls/get` still counts every file.
    pub file_list_pages: Option<usize>,
    faults: Vec<Fault>,
    /// GitHub's primary rate limit of installation requests, when set: `limit` requests per
    /// window of `window` (see [`FakeGitHub::rate_limit`]).
    rate: Option<RateWindow>,
    /// Installation requests refused `403` because the rate limit was spent.
    pub rate_limited: usize,
    /// Requests the real API would reject, or that nobody expected.
    pub errors: Vec<String>,
    /// `METHOD path` of every request, in order.
    pub log: Vec<String>,
    next_id: u64,
    base_url: String,
}

impl World {
    fn id(&mut self) -> u64 {
        self.next_id += 1;
        1000 + self.next_id
    }

    /// The files that differ from commit `base` to commit `head`, by path, as GitHub lists
    /// them (`filename`, `status`).
    fn changed_between(&self, repo: &str, base: &str, head: &str) -> Vec<Value> {
        let empty = BTreeMap::new();
        let tree = |sha: &str| {
            self.trees
                .get(&(repo.to_string(), sha.to_string()))
                .unwrap_or(&empty)
        };
        let (b, h) = (tree(base), tree(head));
        let mut files = Vec::new();
        for (path, content) in h {
            let sha = blob_sha(content);
            match b.get(path) {
                None => files.push(json!({"filename": path, "status": "added", "sha": sha})),
                Some(old) if old != content => {
                    files.push(json!({"filename": path, "status": "modified", "sha": sha}))
                }
                _ => {}
            }
        }
        for path in b.keys().filter(|k| !h.contains_key(*k)) {
            files.push(json!({"filename": path, "status": "removed"}));
        }
        files.sort_by(|a, b| a["filename"].as_str().cmp(&b["filename"].as_str()));
        files
    }
}

struct Shared {
    world: Mutex<World>,
    spec: Spec,
    key: DecodingKey,
    tx: mpsc::UnboundedSender<Published>,
}

/// A running fake GitHub.
pub struct FakeGitHub {
    pub url: String,
    shared: Arc<Shared>,
    rx: tokio::sync::Mutex<mpsc::UnboundedReceiver<Published>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeGitHub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeGitHub {
    /// Start on 127.0.0.1 with installation 1 on `Codertocat/Hello-World`.
    pub async fn start() -> FakeGitHub {
        let pem = std::fs::read(test_public_key_path()).expect("test public key");
        let (tx, rx) = mpsc::unbounded_channel();
        let mut world = World::default();
        world
            .installations
            .insert(INSTALLATION, vec![REPO.to_string()]);
        let shared = Arc::new(Shared {
            world: Mutex::new(world),
            spec: Spec::load(),
            key: DecodingKey::from_rsa_pem(&pem).expect("public key"),
            tx,
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        shared.world.lock().expect("fake GitHub state").base_url = url.clone();
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeGitHub {
            url,
            shared,
            rx: tokio::sync::Mutex::new(rx),
            task,
        }
    }

    /// Read or change the state.
    pub fn world<T>(&self, f: impl FnOnce(&mut World) -> T) -> T {
        f(&mut self.shared.world.lock().expect("fake GitHub state"))
    }

    /// A commit of `REPO` with these files.
    pub fn commit(&self, sha: &str, files: &[(&str, &str)]) {
        let tree = files
            .iter()
            .map(|(p, c)| (p.to_string(), c.as_bytes().to_vec()))
            .collect();
        self.world(|w| w.trees.insert((REPO.to_string(), sha.to_string()), tree));
    }

    /// Open (or move) a pull request of `REPO`.
    pub fn set_pr(&self, number: u64, base_sha: &str, head_sha: &str, draft: bool) {
        self.world(|w| {
            w.prs.insert(
                (REPO.to_string(), number),
                Pr {
                    base_sha: base_sha.into(),
                    head_sha: head_sha.into(),
                    draft,
                },
            )
        });
    }

    /// A comment on `issue` of `REPO` written by `author` (not lockwatch).
    pub fn comment_as(&self, issue: u64, author: &str, body: &str) -> u64 {
        self.world(|w| {
            let id = w.id();
            w.comments.push(Comment {
                id,
                repo: REPO.to_string(),
                issue,
                body: body.to_string(),
                author: author.to_string(),
            });
            id
        })
    }

    /// The contents API answers 404 for `path` at `sha` (and, with `blob_too`, the blob API
    /// for its blob), although the file is there.
    pub fn hide(&self, sha: &str, path: &str, blob_too: bool) {
        self.world(|w| {
            w.hidden.insert((sha.to_string(), path.to_string()));
            if blob_too {
                let blob = w
                    .trees
                    .get(&(REPO.to_string(), sha.to_string()))
                    .and_then(|t| t.get(path))
                    .map(|b| blob_sha(b));
                w.hidden_blobs.extend(blob);
            }
        });
    }

    /// Fail the next `times` requests of an operation (by operationId, e.g. `checks/create`).
    /// Grant installation requests (all installations together) `limit` requests per
    /// `window`, as GitHub's primary rate limit does per installation and hour: every answer
    /// says `x-ratelimit-remaining` and `x-ratelimit-reset`; a request past the limit is
    /// answered `403` "API rate limit exceeded" and counted in `World::rate_limited`.
    pub fn rate_limit(&self, limit: u64, window: Duration) {
        self.world(|w| {
            w.rate = Some(RateWindow {
                limit,
                window,
                remaining: 0,
                reset_at: 0,
            })
        });
    }

    pub fn fail(&self, op_id: &str, kind: FaultKind, times: usize) {
        self.world(|w| {
            w.faults.push(Fault {
                op_id: op_id.into(),
                kind,
                times,
            })
        });
    }

    /// The next published event, or panic after `timeout`.
    pub async fn next(&self, timeout: Duration) -> Published {
        let mut rx = self.rx.lock().await;
        match tokio::time::timeout(timeout, rx.recv()).await {
            Ok(Some(p)) => p,
            Ok(None) => panic!("the fake GitHub stopped"),
            Err(_) => panic!(
                "nothing published within {timeout:?}; unexpected requests: {:?}; log tail: {:?}",
                self.world(|w| w.errors.clone()),
                self.world(|w| w.log.iter().rev().take(10).cloned().collect::<Vec<_>>())
            ),
        }
    }

    /// Published events until one matches `pred` (all of them, that one last).
    pub async fn until(
        &self,
        timeout: Duration,
        pred: impl Fn(&Published) -> bool,
    ) -> Vec<Published> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let p = self.next(left.max(Duration::from_millis(1))).await;
            let done = pred(&p);
            seen.push(p);
            if done {
                return seen;
            }
        }
    }

    /// Events already published and not yet read.
    pub async fn drain(&self) -> Vec<Published> {
        let mut rx = self.rx.lock().await;
        let mut out = Vec::new();
        while let Ok(p) = rx.try_recv() {
            out.push(p);
        }
        out
    }

    /// No request broke the description or surprised the fake.
    pub fn assert_clean(&self) {
        let errors = self.world(|w| w.errors.clone());
        assert!(
            errors.is_empty(),
            "the fake GitHub saw bad requests: {errors:#?}"
        );
    }

    pub fn comments(&self) -> Vec<Comment> {
        self.world(|w| w.comments.clone())
    }

    pub fn check_runs(&self) -> Vec<CheckRun> {
        self.world(|w| w.check_runs.clone())
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(
            json!({ "message": message, "documentation_url": "https://docs.github.com/rest" }),
        ),
    )
        .into_response()
}

fn query_map(uri: &Uri) -> HashMap<String, String> {
    uri.query()
        .unwrap_or_default()
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k.to_string(), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::to_string)
}

async fn handle(
    State(s): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let query = query_map(&uri);
    s.world
        .lock()
        .expect("fake GitHub state")
        .log
        .push(format!("{method} {path}"));
    let Some((op, params)) = s.spec.find(method.as_str(), &path) else {
        let msg = format!("{method} {path}: not an operation of the reviewed API subset");
        s.world
            .lock()
            .expect("fake GitHub state")
            .errors
            .push(msg.clone());
        return error(StatusCode::NOT_FOUND, &msg);
    };
    let errs = s.spec.validate(op, &params, &query, &body);
    if !errs.is_empty() {
        let msg = format!("{method} {path} ({}): {}", op.id, errs.join("; "));
        s.world
            .lock()
            .expect("fake GitHub state")
            .errors
            .push(msg.clone());
        return error(StatusCode::UNPROCESSABLE_ENTITY, &msg);
    }
    let op_id = op.id.clone();
    let mut rate_headers: Option<(String, String)> = None;
    // Authentication: the App JWT on /app..., an installation token elsewhere.
    let token = bearer(&headers);
    if path.starts_with("/app") {
        if let Err(e) = check_jwt(&s.key, token.as_deref()) {
            let msg = format!("{method} {path}: bad App JWT: {e}");
            s.world
                .lock()
                .expect("fake GitHub state")
                .errors
                .push(msg.clone());
            return error(StatusCode::UNAUTHORIZED, &msg);
        }
    } else {
        let repo = format!(
            "{}/{}",
            params.get("owner").map_or("", |v| v),
            params.get("repo").map_or("", |v| v)
        );
        let mut w = s.world.lock().expect("fake GitHub state");
        let ok = token
            .as_deref()
            .and_then(|t| w.tokens.get(t))
            .and_then(|i| w.installations.get(i))
            .is_some_and(|repos| repos.contains(&repo));
        if !ok {
            w.unauthorized += 1;
            return error(StatusCode::UNAUTHORIZED, "Bad credentials");
        }
        if let Some(rate) = &mut w.rate {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            if now >= rate.reset_at {
                rate.remaining = rate.limit;
                rate.reset_at = now + rate.window.as_secs().max(1);
            }
            let reset = rate.reset_at.to_string();
            if rate.remaining == 0 {
                w.rate_limited += 1;
                return (
                    StatusCode::FORBIDDEN,
                    [
                        ("x-ratelimit-remaining", "0".to_string()),
                        ("x-ratelimit-reset", reset),
                    ],
                    axum::Json(
                        json!({"message": "API rate limit exceeded for installation ID 1."}),
                    ),
                )
                    .into_response();
            }
            rate.remaining -= 1;
            rate_headers = Some((rate.remaining.to_string(), reset));
        }
        drop(w);
    }
    // Injected faults.
    let fault = {
        let mut w = s.world.lock().expect("fake GitHub state");
        let f = w
            .faults
            .iter_mut()
            .find(|f| f.op_id == op_id && f.times > 0);
        f.map(|f| {
            f.times -= 1;
            f.kind.clone()
        })
    };
    match fault {
        Some(FaultKind::ServerError) => return error(StatusCode::BAD_GATEWAY, "Server Error"),
        Some(FaultKind::NotFound) => return error(StatusCode::NOT_FOUND, "Not Found"),
        Some(FaultKind::SecondaryRateLimit { retry_after_secs }) => {
            return (
                StatusCode::FORBIDDEN,
                [("retry-after", retry_after_secs.to_string())],
                axum::Json(json!({"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."})),
            )
                .into_response();
        }
        Some(FaultKind::Slow(d)) => tokio::time::sleep(d).await,
        Some(FaultKind::RevokeTokens) => {
            let mut w = s.world.lock().expect("fake GitHub state");
            w.tokens_revoked += w.tokens.len();
            w.tokens.clear();
            w.unauthorized += 1;
            return error(StatusCode::UNAUTHORIZED, "Bad credentials");
        }
        None => {}
    }
    let body: Value = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body).unwrap_or(Value::Null)
    };
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let login = {
        let w = s.world.lock().expect("fake GitHub state");
        token
            .as_deref()
            .and_then(|t| w.token_logins.get(t).cloned())
            .unwrap_or_else(|| BOT_LOGIN.to_string())
    };
    let mut response = dispatch(&s, &op_id, &params, &query, &body, &accept, &login);
    let (remaining, reset) = rate_headers.unwrap_or_else(|| ("4999".into(), "0".into()));
    let h = response.headers_mut();
    h.insert(
        "x-ratelimit-remaining",
        remaining.parse().expect("fake GitHub"),
    );
    if reset != "0" {
        h.insert("x-ratelimit-reset", reset.parse().expect("fake GitHub"));
    }
    response
}

fn check_jwt(key: &DecodingKey, token: Option<&str>) -> Result<(), String> {
    let token = token.ok_or("no Authorization header")?;
    let mut v = Validation::new(Algorithm::RS256);
    v.set_issuer(&[APP_ID.to_string()]);
    v.set_required_spec_claims(&["exp", "iat", "iss"]);
    v.leeway = 0;
    let data = jsonwebtoken::decode::<Value>(token, key, &v).map_err(|e| e.to_string())?;
    let (iat, exp) = (
        data.claims["iat"].as_i64().unwrap_or(0),
        data.claims["exp"].as_i64().unwrap_or(0),
    );
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    if iat > now {
        return Err("iat is in the future".into());
    }
    if exp - iat > 600 {
        return Err(format!("exp is {} s after iat (max 600)", exp - iat));
    }
    Ok(())
}

fn page_of<T: Clone>(
    items: &[T],
    query: &HashMap<String, String>,
    base: &str,
    path: &str,
) -> (Vec<T>, Option<String>) {
    let per_page: usize = query
        .get("per_page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let page: usize = query
        .get("page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1);
    let last = items.len().div_ceil(per_page).max(1);
    let chunk = items
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .cloned()
        .collect();
    let link = (page < last).then(|| {
        format!(
            "<{base}{path}?per_page={per_page}&page={}>; rel=\"next\", <{base}{path}?per_page={per_page}&page={last}>; rel=\"last\"",
            page + 1
        )
    });
    (chunk, link)
}

fn with_link(status: StatusCode, v: Value, link: Option<String>) -> Response {
    let mut r = (status, axum::Json(v)).into_response();
    if let Some(l) = link {
        r.headers_mut()
            .insert(header::LINK, l.parse().expect("fake GitHub"));
    }
    r
}

fn check_run_json(c: &CheckRun) -> Value {
    json!({
        "id": c.id, "name": c.name, "head_sha": c.head_sha, "status": c.status,
        "conclusion": c.conclusion, "app": {"id": APP_ID},
    })
}

fn dispatch(
    s: &Shared,
    op_id: &str,
    p: &HashMap<String, String>,
    query: &HashMap<String, String>,
    body: &Value,
    accept: &str,
    login: &str,
) -> Response {
    let mut w = s.world.lock().expect("fake GitHub state");
    let repo = format!(
        "{}/{}",
        p.get("owner").map_or("", |v| v),
        p.get("repo").map_or("", |v| v)
    );
    let num = |k: &str| p.get(k).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let base = w.base_url.clone();
    match op_id {
        "apps/create-installation-access-token" => {
            let id = num("installation_id");
            if !w.installations.contains_key(&id) {
                return error(StatusCode::NOT_FOUND, "Not Found");
            }
            let n = w.id();
            w.tokens_minted += 1;
            let token = format!("ghs_TEST{n}x{}", "a".repeat(12 + (n as usize % 7)));
            w.tokens.insert(token.clone(), id);
            let expires = (time::OffsetDateTime::now_utc() + time::Duration::hours(1))
                .replace_nanosecond(0)
                .expect("fake GitHub")
                .format(&time::format_description::well_known::Rfc3339)
                .expect("fake GitHub");
            (StatusCode::CREATED, axum::Json(json!({"token": token, "expires_at": expires, "permissions": {}, "repository_selection": "all"}))).into_response()
        }
        "apps/get-authenticated" => axum::Json(json!({
            "id": APP_ID, "slug": APP_SLUG, "name": "lockwatch (test)",
            "owner": {"login": "lockwatch"}, "permissions": {}, "events": [],
        }))
        .into_response(),
        "pulls/get" => match w.prs.get(&(repo.clone(), num("pull_number"))) {
            Some(pr) => axum::Json(json!({
                "changed_files": w.changed_between(&repo, &pr.base_sha, &pr.head_sha).len(),
                "number": num("pull_number"), "state": "open", "draft": pr.draft,
                "head": {"sha": pr.head_sha, "ref": "feature"},
                "base": {"sha": pr.base_sha, "ref": "main"},
            }))
            .into_response(),
            None => error(StatusCode::NOT_FOUND, "Not Found"),
        },
        "pulls/list-files" => {
            let Some(pr) = w.prs.get(&(repo.clone(), num("pull_number"))).cloned() else {
                return error(StatusCode::NOT_FOUND, "Not Found");
            };
            let mut files = w.changed_between(&repo, &pr.base_sha, &pr.head_sha);
            files.truncate(3000);
            let path = format!("/repos/{repo}/pulls/{}/files", num("pull_number"));
            let (chunk, mut link) = page_of(&files, query, &base, &path);
            let page: usize = query.get("page").and_then(|v| v.parse().ok()).unwrap_or(1);
            if w.file_list_pages.is_some_and(|n| page >= n) {
                link = None;
            }
            with_link(StatusCode::OK, Value::Array(chunk), link)
        }
        // `BASE...HEAD`; the files of the whole comparison come on the first page, 300 at
        // most, as GitHub lists them.
        "repos/compare-commits" => {
            let basehead = p.get("basehead").cloned().unwrap_or_default();
            let Some((b, h)) = basehead.split_once("...") else {
                w.errors
                    .push(format!("compare without BASE...HEAD: {basehead}"));
                return error(StatusCode::NOT_FOUND, "Not Found");
            };
            for sha in [b, h] {
                if !w.trees.contains_key(&(repo.clone(), sha.to_string())) {
                    return error(StatusCode::NOT_FOUND, "Not Found");
                }
            }
            let mut files = w.changed_between(&repo, b, h);
            let total = files.len();
            files.truncate(300);
            axum::Json(json!({
                "status": "ahead", "ahead_by": 1, "behind_by": 0, "total_commits": 1,
                "commits": [], "files": files, "changed_files_in_comparison": total,
            }))
            .into_response()
        }
        "repos/get-content" => {
            if accept != "application/vnd.github.raw+json" {
                w.errors.push(format!(
                    "contents requested as {accept:?}; the fake serves raw only"
                ));
                return error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported");
            }
            let Some(sha) = query.get("ref") else {
                w.errors.push("contents without ?ref=".into());
                return error(StatusCode::NOT_FOUND, "Not Found");
            };
            let path = percent_decode(p.get("path").map_or("", |v| v));
            if w.hidden.contains(&(sha.clone(), path.clone())) {
                return error(StatusCode::NOT_FOUND, "Not Found");
            }
            match w
                .trees
                .get(&(repo.clone(), sha.clone()))
                .and_then(|t| t.get(&path))
            {
                Some(bytes) => (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, "application/vnd.github.raw+json")],
                    bytes.clone(),
                )
                    .into_response(),
                None => error(StatusCode::NOT_FOUND, "Not Found"),
            }
        }
        "git/get-blob" => {
            if accept != "application/vnd.github.raw+json" {
                w.errors.push(format!(
                    "blob requested as {accept:?}; the fake serves raw only"
                ));
                return error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported");
            }
            let want = p.get("file_sha").cloned().unwrap_or_default();
            if w.hidden_blobs.contains(&want) {
                return error(StatusCode::NOT_FOUND, "Not Found");
            }
            let found = w
                .trees
                .iter()
                .filter(|((r, _), _)| *r == repo)
                .flat_map(|(_, t)| t.values())
                .find(|b| blob_sha(b) == want)
                .cloned();
            match found {
                Some(bytes) => (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, "application/vnd.github.raw+json")],
                    bytes,
                )
                    .into_response(),
                None => error(StatusCode::NOT_FOUND, "Not Found"),
            }
        }
        "issues/list-comments" => {
            let issue = num("issue_number");
            let all: Vec<Value> = w
                .comments
                .iter()
                .filter(|c| c.repo == repo && c.issue == issue)
                .map(|c| json!({"id": c.id, "body": c.body, "user": {"login": c.author, "type": if c.author.ends_with("[bot]") { "Bot" } else { "User" }}}))
                .collect();
            let path = format!("/repos/{repo}/issues/{issue}/comments");
            let (chunk, link) = page_of(&all, query, &base, &path);
            with_link(StatusCode::OK, Value::Array(chunk), link)
        }
        "issues/create-comment" => {
            let issue = num("issue_number");
            let id = w.id();
            let text = body["body"].as_str().unwrap_or_default().to_string();
            w.comments.push(Comment {
                id,
                repo: repo.clone(),
                issue,
                body: text.clone(),
                author: login.to_string(),
            });
            let _ = s.tx.send(Published::CommentCreated {
                issue,
                id,
                body: text.clone(),
            });
            let mut r = (
                StatusCode::CREATED,
                axum::Json(json!({"id": id, "body": text})),
            )
                .into_response();
            r.headers_mut().insert(
                header::LOCATION,
                format!("{base}/repos/{repo}/issues/comments/{id}")
                    .parse()
                    .expect("fake GitHub"),
            );
            r
        }
        "issues/update-comment" => {
            let id = num("comment_id");
            let text = body["body"].as_str().unwrap_or_default().to_string();
            match w.comments.iter_mut().find(|c| c.id == id && c.repo == repo) {
                // GitHub lets nobody but its author (and admins) edit a comment.
                Some(c) if c.author != login => error(
                    StatusCode::FORBIDDEN,
                    "Must have admin rights to Repository.",
                ),
                Some(c) => {
                    c.body = text.clone();
                    let _ = s.tx.send(Published::CommentEdited {
                        id,
                        body: text.clone(),
                    });
                    axum::Json(json!({"id": id, "body": text})).into_response()
                }
                None => error(StatusCode::NOT_FOUND, "Not Found"),
            }
        }
        "checks/create" => {
            let id = w.id();
            let c = CheckRun {
                id,
                repo: repo.clone(),
                name: body["name"].as_str().unwrap_or_default().into(),
                head_sha: body["head_sha"].as_str().unwrap_or_default().into(),
                status: body["status"].as_str().unwrap_or("queued").into(),
                conclusion: body["conclusion"].as_str().map(str::to_string),
                annotations: Vec::new(),
                summary: body["output"]["summary"].as_str().map(str::to_string),
            };
            let _ = s.tx.send(Published::CheckRunCreated {
                id,
                head_sha: c.head_sha.clone(),
                status: c.status.clone(),
            });
            let v = check_run_json(&c);
            w.check_runs.push(c);
            (StatusCode::CREATED, axum::Json(v)).into_response()
        }
        "checks/update" => {
            let id = num("check_run_id");
            let Some(c) = w
                .check_runs
                .iter_mut()
                .find(|c| c.id == id && c.repo == repo)
            else {
                return error(StatusCode::NOT_FOUND, "Not Found");
            };
            if let Some(st) = body["status"].as_str() {
                c.status = st.into();
            }
            if let Some(co) = body["conclusion"].as_str() {
                c.conclusion = Some(co.into());
                c.status = "completed".into();
            } else if body["status"].as_str().is_some() {
                c.conclusion = None;
            }
            if let Some(sm) = body["output"]["summary"].as_str() {
                c.summary = Some(sm.into());
            }
            let ann: Vec<Value> = body["output"]["annotations"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            c.annotations.extend(ann.iter().cloned());
            let _ = s.tx.send(Published::CheckRunUpdated {
                id,
                head_sha: c.head_sha.clone(),
                status: c.status.clone(),
                conclusion: body["conclusion"].as_str().map(str::to_string),
                title: body["output"]["title"].as_str().map(str::to_string),
                summary: body["output"]["summary"].as_str().map(str::to_string),
                annotations: ann,
            });
            axum::Json(check_run_json(c)).into_response()
        }
        "checks/list-for-ref" => {
            let sha = p.get("ref").cloned().unwrap_or_default();
            let name = query.get("check_name");
            let runs: Vec<Value> = w
                .check_runs
                .iter()
                .rev()
                .filter(|c| {
                    c.repo == repo && c.head_sha == sha && name.is_none_or(|n| *n == c.name)
                })
                .map(check_run_json)
                .collect();
            axum::Json(json!({"total_count": runs.len(), "check_runs": runs})).into_response()
        }
        other => {
            let msg = format!("operation {other} is in the subset but the fake does not serve it");
            w.errors.push(msg.clone());
            error(StatusCode::NOT_IMPLEMENTED, &msg)
        }
    }
}
