//! A fake sparse registry for tests (test support, not for production use).
//!
//! [`FakeRegistry::start`] serves, on `127.0.0.1` with an ephemeral port:
//! - `/index/config.json` (`dl` = `http://127.0.0.1:PORT/dl/{crate}/{version}`),
//! - `/index/{prefix}/{name}` sparse index files,
//! - `/dl/{crate}/{version}` crate files,
//!
//! with fault injection (failures, slowness, garbage, wrong bytes, redirects),
//! a request log and an in-flight request counter. The server stops when the
//! `FakeRegistry` is dropped.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;

use super::cache::sha256_hex;
use super::entry::{IndexDep, IndexEntry};
use super::index_url::{IndexUrl, index_path};

/// A fake sparse registry served over HTTP on loopback. See the module docs.
#[derive(Debug)]
pub struct FakeRegistry {
    addr: SocketAddr,
    state: Arc<Mutex<FakeState>>,
    server: tokio::task::JoinHandle<()>,
}

#[derive(Debug, Default)]
struct FakeState {
    dl_template: String,
    /// Lowercase name → versions in publication order.
    crates: BTreeMap<String, Vec<FakeVersion>>,
    /// Raw extra lines appended to an index file (lowercase name → lines).
    raw_lines: BTreeMap<String, Vec<String>>,
    failures: Vec<Failure>,
    slow: Vec<(String, Duration)>,
    garbage: Vec<String>,
    redirects: Vec<(String, String)>,
    requests: Vec<String>,
    in_flight: usize,
    max_in_flight: usize,
}

#[derive(Debug)]
struct FakeVersion {
    entry: IndexEntry,
    bytes: Vec<u8>,
    wrong_bytes: bool,
}

#[derive(Debug)]
struct Failure {
    prefix: String,
    status: StatusCode,
    retry_after: Option<u64>,
    remaining: u32,
}

type Shared = Arc<Mutex<FakeState>>;

fn lock(state: &Shared) -> MutexGuard<'_, FakeState> {
    match state.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl FakeRegistry {
    /// Starts serving on `127.0.0.1:0`.
    ///
    /// # Panics
    /// If the loopback listener cannot be bound (test support only).
    #[allow(clippy::expect_used)]
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let state: Shared = Arc::new(Mutex::new(FakeState {
            dl_template: format!("http://{addr}/dl/{{crate}}/{{version}}"),
            ..FakeState::default()
        }));
        let app = Router::new().fallback(handle).with_state(state.clone());
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!(error = %e, "fake registry stopped");
            }
        });
        Self {
            addr,
            state,
            server,
        }
    }

    /// The socket address served.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `sparse+http://127.0.0.1:PORT/index/`.
    ///
    /// # Panics
    /// Never in practice: the URL is well-formed.
    #[allow(clippy::expect_used)]
    pub fn index_url(&self) -> IndexUrl {
        IndexUrl::parse(&format!("sparse+http://{}/index/", self.addr)).expect("valid URL")
    }

    /// Replaces the `dl` template served in `config.json`.
    pub fn set_dl_template(&self, template: &str) {
        lock(&self.state).dl_template = template.to_owned();
    }

    /// Publishes a version; returns the checksum of `crate_bytes` (the `cksum`).
    pub fn publish(
        &self,
        name: &str,
        version: &str,
        crate_bytes: Vec<u8>,
        deps: Vec<IndexDep>,
    ) -> String {
        let checksum = sha256_hex(&crate_bytes);
        let entry = IndexEntry {
            name: name.to_owned(),
            version: version.to_owned(),
            deps,
            checksum: checksum.clone(),
            yanked: false,
            links: None,
            pubtime: None,
            rust_version: None,
            features: BTreeMap::new(),
        };
        let mut st = lock(&self.state);
        let versions = st.crates.entry(name.to_ascii_lowercase()).or_default();
        versions.retain(|v| v.entry.version != version);
        versions.push(FakeVersion {
            entry,
            bytes: crate_bytes,
            wrong_bytes: false,
        });
        checksum
    }

    fn with_version(&self, name: &str, version: &str, f: impl FnOnce(&mut FakeVersion)) {
        let mut st = lock(&self.state);
        if let Some(v) = st
            .crates
            .get_mut(&name.to_ascii_lowercase())
            .and_then(|vs| vs.iter_mut().find(|v| v.entry.version == version))
        {
            f(v);
        }
    }

    /// Marks a published version as yanked.
    pub fn yank(&self, name: &str, version: &str) {
        self.with_version(name, version, |v| v.entry.yanked = true);
    }

    /// Sets the `pubtime` of a published version.
    pub fn set_pubtime(&self, name: &str, version: &str, pubtime: OffsetDateTime) {
        self.with_version(name, version, |v| v.entry.pubtime = Some(pubtime));
    }

    /// Serves different bytes than published (and than the `cksum`) for this version.
    pub fn serve_wrong_bytes(&self, name: &str, version: &str) {
        self.with_version(name, version, |v| v.wrong_bytes = true);
    }

    /// Appends a raw line (valid or not) to a crate's index file.
    pub fn add_raw_index_line(&self, name: &str, line: &str) {
        lock(&self.state)
            .raw_lines
            .entry(name.to_ascii_lowercase())
            .or_default()
            .push(line.to_owned());
    }

    /// The next `count` requests whose path starts with `path_prefix` get `status`.
    pub fn fail_next(&self, path_prefix: &str, status: u16, count: u32) {
        self.push_failure(path_prefix, status, None, count);
    }

    /// The next `count` requests under `path_prefix` get 429 with `Retry-After: secs`.
    pub fn rate_limit_next(&self, path_prefix: &str, retry_after_secs: u64, count: u32) {
        self.push_failure(path_prefix, 429, Some(retry_after_secs), count);
    }

    fn push_failure(&self, prefix: &str, status: u16, retry_after: Option<u64>, count: u32) {
        lock(&self.state).failures.push(Failure {
            prefix: prefix.to_owned(),
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            retry_after,
            remaining: count,
        });
    }

    /// Requests under `path_prefix` wait `delay` before being answered.
    pub fn slow(&self, path_prefix: &str, delay: Duration) {
        lock(&self.state).slow.push((path_prefix.to_owned(), delay));
    }

    /// Requests under `path_prefix` are answered 200 with bytes that are not JSON.
    pub fn serve_garbage(&self, path_prefix: &str) {
        lock(&self.state).garbage.push(path_prefix.to_owned());
    }

    /// Requests under `path_prefix` are answered `302 Location: location`.
    pub fn redirect(&self, path_prefix: &str, location: &str) {
        lock(&self.state)
            .redirects
            .push((path_prefix.to_owned(), location.to_owned()));
    }

    /// Request log, oldest first, as `"GET /path"`.
    pub fn requests(&self) -> Vec<String> {
        lock(&self.state).requests.clone()
    }

    /// Number of requests received so far.
    pub fn hits(&self) -> usize {
        lock(&self.state).requests.len()
    }

    /// Number of requests received whose path starts with `path_prefix`.
    pub fn hits_for(&self, path_prefix: &str) -> usize {
        lock(&self.state)
            .requests
            .iter()
            .filter(|r| {
                r.split_once(' ')
                    .is_some_and(|(_, p)| p.starts_with(path_prefix))
            })
            .count()
    }

    /// Most requests ever handled at the same time.
    pub fn max_in_flight(&self) -> usize {
        lock(&self.state).max_in_flight
    }
}

impl Drop for FakeRegistry {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Decrements the in-flight counter however the handler ends (including cancellation).
struct InFlight(Shared);

impl Drop for InFlight {
    fn drop(&mut self) {
        lock(&self.0).in_flight -= 1;
    }
}

async fn handle(State(state): State<Shared>, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    let (delay, early) = {
        let mut st = lock(&state);
        st.requests.push(format!("{} {path}", req.method()));
        st.in_flight += 1;
        st.max_in_flight = st.max_in_flight.max(st.in_flight);
        let delay = st
            .slow
            .iter()
            .filter(|(p, _)| path.starts_with(p.as_str()))
            .map(|(_, d)| *d)
            .max();
        (delay, early_response(&mut st, &path))
    };
    let _guard = InFlight(state.clone());
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    if let Some(resp) = early {
        return resp;
    }
    let st = lock(&state);
    if path == "/index/config.json" {
        let body = serde_json::json!({ "dl": st.dl_template, "api": null });
        return (
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response();
    }
    if let Some(index_file) = path.strip_prefix("/index/") {
        let found = st
            .crates
            .iter()
            .filter(|(name, _)| index_path(name).as_deref() == Some(index_file))
            .map(|(name, versions)| {
                let mut lines: Vec<String> =
                    versions.iter().map(|v| v.entry.to_json_line()).collect();
                lines.extend(st.raw_lines.get(name).into_iter().flatten().cloned());
                lines.join("\n") + "\n"
            })
            .next();
        return match found {
            Some(body) => body.into_response(),
            None => StatusCode::NOT_FOUND.into_response(),
        };
    }
    if let Some((name, version)) = path
        .strip_prefix("/dl/")
        .and_then(|rest| rest.split_once('/'))
    {
        let found = st
            .crates
            .get(&name.to_ascii_lowercase())
            .and_then(|vs| vs.iter().find(|v| v.entry.version == version));
        return match found {
            Some(v) => {
                let mut bytes = v.bytes.clone();
                if v.wrong_bytes {
                    bytes.extend_from_slice(b"tampered");
                }
                Body::from(bytes).into_response()
            }
            None => StatusCode::NOT_FOUND.into_response(),
        };
    }
    StatusCode::NOT_FOUND.into_response()
}

/// Injected faults, checked before normal routing.
fn early_response(st: &mut FakeState, path: &str) -> Option<Response> {
    if let Some(f) = st
        .failures
        .iter_mut()
        .find(|f| f.remaining > 0 && path.starts_with(f.prefix.as_str()))
    {
        f.remaining -= 1;
        let mut resp = f.status.into_response();
        if let Some(secs) = f.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        return Some(resp);
    }
    if let Some((_, location)) = st
        .redirects
        .iter()
        .find(|(p, _)| path.starts_with(p.as_str()))
    {
        let mut resp = StatusCode::FOUND.into_response();
        if let Ok(v) = HeaderValue::from_str(location) {
            resp.headers_mut().insert(header::LOCATION, v);
        }
        return Some(resp);
    }
    if st.garbage.iter().any(|p| path.starts_with(p.as_str())) {
        return Some("<html>this is not {json".into_response());
    }
    None
}
