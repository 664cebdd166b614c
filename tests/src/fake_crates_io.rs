//! A fake crates.io web API on loopback, for the publisher checks
//! (`lockwatch::registry::crates_io_api`), beside the fake sparse registry
//! (`lockwatch::registry::fake::FakeRegistry`).
//!
//! It answers `GET /api/v1/crates/{name}/versions` (newest first with `sort=date`, seek
//! pagination with `per_page` and `meta.next_page`) and `GET /api/v1/crates/{name}/{version}`
//! in the shapes of crates.io's own source and snapshots (rust-lang/crates.io at
//! 57fa000662f511321daa61e6769f190ea0e80771):
//! `src/tests/routes/crates/versions/snapshots/integration__routes__crates__versions__list__versions-2.snap`
//! (a list page: `versions[]`, `meta.total`, `meta.next_page`),
//! `.../integration__routes__crates__versions__read__show_by_crate_name_and_version.snap`
//! (one version under `version`, `published_by` a user), `.../..._semver_no_published_by.snap`
//! (`published_by: null`),
//! `src/tests/krate/publish/snapshots/integration__krate__publish__trustpub_github__full_flow-9.snap`
//! (trusted publishing: `published_by: null`, `trustpub_data` with `provider`, `repository`,
//! `run_id`, `sha`), and `crates/crates_io_database/src/models/trustpub/data.rs` (the GitLab
//! form: `project_path`, `job_id`). `next_page` is a query string (`?per_page=..&sort=date&seek=..`)
//! as `RequestUtils::query_with_params` in `src/util/request_helpers.rs` builds it; `per_page`
//! over 100 is a 400 as in `src/controllers/helpers/pagination.rs`.
//!
//! Faults for the hostile cases: a raw body for a crate, a body larger than any limit, a
//! status, a `next_page` that points at itself. Every request is logged with its
//! `User-Agent` and the time it arrived.

#![allow(clippy::unwrap_used)] // test support: a panic is the failure report

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Who published a release.
#[derive(Debug, Clone)]
pub enum PublishedBy {
    /// A crates.io account with an API token (`published_by.login`).
    User(String),
    /// Trusted publishing from a GitHub repository (`owner/name`) and workflow run.
    GitHub { repository: String, run_id: String },
    /// Trusted publishing from GitLab CI.
    GitLab {
        project_path: String,
        job_id: String,
    },
    /// Before crates.io recorded publishers (`published_by: null`, no `trustpub_data`).
    Unknown,
}

impl PublishedBy {
    pub fn user(login: &str) -> Self {
        PublishedBy::User(login.into())
    }

    pub fn github(repository: &str, run_id: &str) -> Self {
        PublishedBy::GitHub {
            repository: repository.into(),
            run_id: run_id.into(),
        }
    }
}

#[derive(Debug, Clone)]
struct Release {
    num: String,
    created_at: OffsetDateTime,
    by: PublishedBy,
    id: u64,
}

/// A logged request.
#[derive(Debug, Clone)]
pub struct Logged {
    /// Path and query.
    pub target: String,
    pub user_agent: Option<String>,
    pub at: Instant,
}

#[derive(Debug, Default)]
struct FakeState {
    crates: BTreeMap<String, Vec<Release>>,
    raw: BTreeMap<String, String>,
    huge: Vec<String>,
    status: BTreeMap<String, u16>,
    self_pointing: Vec<String>,
    log: Vec<Logged>,
    next_id: u64,
}

type Shared = Arc<Mutex<FakeState>>;

fn lock(s: &Shared) -> MutexGuard<'_, FakeState> {
    match s.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

/// The fake API; stops when dropped.
#[derive(Debug)]
pub struct FakeCratesIo {
    addr: SocketAddr,
    state: Shared,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeCratesIo {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeCratesIo {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state: Shared = Arc::default();
        let app = Router::new().fallback(handle).with_state(state.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeCratesIo {
            addr,
            state,
            server,
        }
    }

    /// `http://127.0.0.1:PORT`, the value of `--crates-io-api`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Records a release of `name` published at `created_at` by `by`.
    pub fn publish(&self, name: &str, num: &str, created_at: OffsetDateTime, by: PublishedBy) {
        let mut st = lock(&self.state);
        st.next_id += 1;
        let id = st.next_id;
        st.crates.entry(name.to_owned()).or_default().push(Release {
            num: num.into(),
            created_at,
            by,
            id,
        });
    }

    /// Answer every request about `name` with this body (status 200).
    pub fn raw(&self, name: &str, body: &str) {
        lock(&self.state).raw.insert(name.into(), body.into());
    }

    /// Answer every request about `name` with about 20 MB of a valid-looking JSON prefix.
    pub fn huge(&self, name: &str) {
        lock(&self.state).huge.push(name.into());
    }

    /// Answer every request about `name` with this status.
    pub fn status(&self, name: &str, status: u16) {
        lock(&self.state).status.insert(name.into(), status);
    }

    /// `next_page` of `name`'s pages always asks for the same page again.
    pub fn self_pointing(&self, name: &str) {
        lock(&self.state).self_pointing.push(name.into());
    }

    pub fn requests(&self) -> Vec<Logged> {
        lock(&self.state).log.clone()
    }

    /// Requests about `name`.
    pub fn requests_for(&self, name: &str) -> Vec<Logged> {
        let prefix = format!("/api/v1/crates/{name}/");
        self.requests()
            .into_iter()
            .filter(|l| l.target.starts_with(&prefix))
            .collect()
    }
}

fn user(login: &str, id: u64) -> Value {
    json!({
        "avatar": null,
        "created_at": "2019-03-01T10:00:00.000000Z",
        "github_username_matches": true,
        "id": id,
        "login": login,
        "name": null,
        "url": format!("https://github.com/{login}")
    })
}

/// One release as `EncodableVersion` (crates_io_api_types) serializes it.
fn encodable(name: &str, r: &Release) -> Value {
    let time = r.created_at.format(&Rfc3339).unwrap();
    let (published_by, trustpub, audit) = match &r.by {
        PublishedBy::User(login) => {
            let u = user(login, 7);
            (
                u.clone(),
                Value::Null,
                json!([{ "action": "publish", "time": time, "user": u }]),
            )
        }
        PublishedBy::GitHub { repository, run_id } => (
            Value::Null,
            json!({ "provider": "github", "repository": repository, "run_id": run_id, "sha": "0123456789abcdef0123456789abcdef01234567" }),
            json!([]),
        ),
        PublishedBy::GitLab {
            project_path,
            job_id,
        } => (
            Value::Null,
            json!({ "provider": "gitlab", "project_path": project_path, "job_id": job_id, "sha": "0123456789abcdef0123456789abcdef01234567" }),
            json!([]),
        ),
        PublishedBy::Unknown => (Value::Null, Value::Null, json!([])),
    };
    let num = &r.num;
    json!({
        "audit_actions": audit,
        "bin_names": [],
        "checksum": "c241cd77c3723ccf1aa453f169ee60c0a888344da504bee0142adb859092acb4",
        "crate": name,
        "crate_size": 1234,
        "created_at": time,
        "description": "description",
        "dl_path": format!("/api/v1/crates/{name}/{num}/download"),
        "documentation": null,
        "downloads": 0,
        "edition": "2021",
        "features": {},
        "has_lib": true,
        "homepage": null,
        "id": r.id,
        "lib_links": null,
        "license": "MIT",
        "linecounts": { "languages": {}, "total_code_lines": 0, "total_comment_lines": 0 },
        "links": {
            "authors": format!("/api/v1/crates/{name}/{num}/authors"),
            "dependencies": format!("/api/v1/crates/{name}/{num}/dependencies"),
            "version_downloads": format!("/api/v1/crates/{name}/{num}/downloads")
        },
        "num": num,
        "published_by": published_by,
        "readme_path": format!("/api/v1/crates/{name}/{num}/readme"),
        "repository": null,
        "rust_version": null,
        "trustpub_data": trustpub,
        "updated_at": time,
        "yank_message": null,
        "yanked": false
    })
}

fn json_response(v: &Value) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        v.to_string(),
    )
        .into_response()
}

fn not_found(detail: String) -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        json!({ "errors": [{ "detail": detail }] }).to_string(),
    )
        .into_response()
}

async fn handle(State(state): State<Shared>, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let ua = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut st = lock(&state);
    st.log.push(Logged {
        target: if query.is_empty() {
            path.clone()
        } else {
            format!("{path}?{query}")
        },
        user_agent: ua.clone(),
        at: Instant::now(),
    });
    // crates.io refuses requests without a user agent (its crawler policy).
    if ua.is_none() {
        return (StatusCode::FORBIDDEN, "no user agent").into_response();
    }
    let Some(rest) = path.strip_prefix("/api/v1/crates/") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Some((name, what)) = rest.split_once('/') else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if let Some(code) = st.status.get(name) {
        return StatusCode::from_u16(*code).unwrap().into_response();
    }
    if let Some(body) = st.raw.get(name) {
        return body.clone().into_response();
    }
    if st.huge.iter().any(|n| n == name) {
        let chunk = format!(
            "{{\"versions\": [{}",
            "{\"num\": \"1.0.0\"},".repeat(1 << 14)
        );
        return Body::from(chunk.repeat(80)).into_response(); // about 20 MB
    }
    let Some(releases) = st.crates.get(name) else {
        return not_found(format!("crate `{name}` does not exist"));
    };
    let mut releases = releases.clone();
    releases.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    if what != "versions" {
        return match releases.iter().find(|r| r.num == what) {
            Some(r) => json_response(&json!({ "version": encodable(name, r) })),
            None => not_found(format!("crate `{name}` does not have a version `{what}`")),
        };
    }
    let params: BTreeMap<String, String> = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let total = releases.len();
    let Some(per_page) = params.get("per_page").and_then(|p| p.parse::<usize>().ok()) else {
        // Without per_page crates.io answers every release at once.
        let versions: Vec<Value> = releases.iter().map(|r| encodable(name, r)).collect();
        return json_response(
            &json!({ "versions": versions, "meta": { "total": total, "next_page": null } }),
        );
    };
    if per_page == 0 || per_page > 100 {
        return (
            StatusCode::BAD_REQUEST,
            "cannot request more than 100 items",
        )
            .into_response();
    }
    let offset = params
        .get("seek")
        .and_then(|s| s.strip_prefix('o'))
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(0);
    let page: Vec<Value> = releases
        .iter()
        .skip(offset)
        .take(per_page)
        .map(|r| encodable(name, r))
        .collect();
    let self_pointing = st.self_pointing.iter().any(|n| n == name);
    let next = if self_pointing {
        Some(format!("?per_page={per_page}&sort=date&seek=o{offset}"))
    } else if page.len() == per_page {
        Some(format!(
            "?per_page={per_page}&sort=date&seek=o{}",
            offset + per_page
        ))
    } else {
        None
    };
    json_response(&json!({ "versions": page, "meta": { "total": total, "next_page": next } }))
}
