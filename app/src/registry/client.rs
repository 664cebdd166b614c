//! The sparse registry HTTP client: index files, `config.json`, verified downloads.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use reqwest::header::{CONTENT_LENGTH, LOCATION};
use reqwest::{StatusCode, Url};
use tokio::sync::{OnceCell, Semaphore};

use super::cache::{CrateCache, sha256_hex};
use super::config::{RegistryConfig, is_sha256_hex};
use super::entry::{IndexEntry, ParsedIndex, parse_index_file};
use super::error::FetchError;
use super::index_url::{CRATES_IO_GIT_INDEX, IndexUrl, host_port, index_path};
use crate::retry;

/// Longest wait honoured from a `Retry-After` header (and longest backoff).
const MAX_RETRY_WAIT: Duration = Duration::from_secs(30);
/// Redirect hops followed (each to an allowlisted host only).
const MAX_REDIRECTS: usize = 5;

/// Settings of a [`RegistryClient`].
#[derive(Debug, Clone)]
pub struct RegistryClientConfig {
    /// The default registry: crates.io's index, or a mirror replacing it.
    pub index_url: IndexUrl,
    /// Alternative registries, by the name used in `.cargo/config.toml`.
    pub extra: Vec<(String, IndexUrl)>,
    /// `User-Agent` header.
    pub user_agent: String,
    /// Per-request timeout (connect, headers and body).
    pub timeout: Duration,
    /// Requests in flight at most, over all registries.
    pub max_concurrency: usize,
    /// Retries after the first attempt, for 5xx, 429, connect errors and timeouts.
    pub retries: u32,
    /// First backoff; doubled on each retry (no jitter), capped at 30 s.
    pub backoff: Duration,
    /// Largest `.crate` accepted (compressed bytes).
    pub max_crate_bytes: u64,
    /// Largest index file or `config.json` accepted.
    pub max_index_bytes: u64,
    /// Download hosts (`host:port`). `None`: trust the `dl` host each
    /// configured registry declares in its own `config.json`. `Some(list)`:
    /// only the index hosts and these hosts may serve downloads.
    pub allowed_dl_hosts: Option<Vec<String>>,
    /// How long a memoized index file is used before it is read again. A long-lived
    /// client (`lockwatch serve`) would otherwise see a version yanked after the file was
    /// read only when the client is rebuilt; a version published since is found anyway
    /// (see [`RegistryClient::entry`]).
    pub index_ttl: Duration,
}

impl Default for RegistryClientConfig {
    fn default() -> Self {
        Self {
            index_url: IndexUrl::crates_io(),
            extra: Vec::new(),
            user_agent: format!(
                "lockwatch/{} (+https://github.com/lockwatch/lockwatch)",
                env!("CARGO_PKG_VERSION")
            ),
            timeout: Duration::from_secs(30),
            max_concurrency: 8,
            retries: 3,
            backoff: Duration::from_millis(200),
            max_crate_bytes: 50_000_000,
            max_index_bytes: 16 * 1024 * 1024,
            allowed_dl_hosts: None,
            index_ttl: Duration::from_secs(5 * 60),
        }
    }
}

/// A client of sparse registries. Cheap to clone; clones share memoized
/// index files, the concurrency limit and the cache.
#[derive(Clone, Debug)]
pub struct RegistryClient {
    inner: Arc<Inner>,
}

type Memo<K, V> = Mutex<HashMap<K, Arc<OnceCell<Arc<V>>>>>;

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    cfg: RegistryClientConfig,
    semaphore: Semaphore,
    cache: Option<CrateCache>,
    configs: Memo<IndexUrl, RegistryConfig>,
    indexes: Memo<(IndexUrl, String), MemoIndex>,
    /// `host:port` that may be contacted: index hosts, then learned/pinned `dl` hosts.
    allowed: RwLock<HashSet<String>>,
}

/// A memoized index file and when it was read.
#[derive(Debug)]
struct MemoIndex {
    read_at: std::time::Instant,
    file: Arc<ParsedIndex>,
}

/// How one attempt failed.
enum Failure {
    /// Worth another attempt; optional wait requested by the server.
    Retry(FetchError, Option<Duration>),
    Fatal(FetchError),
}

impl Failure {
    fn into_error(self) -> FetchError {
        match self {
            Failure::Retry(e, _) | Failure::Fatal(e) => e,
        }
    }
}

/// The client's retries (`crate::retry`): what `attempt` found worth another attempt, with
/// the wait the server asked for.
impl retry::Retryable for Failure {
    fn is_transient(&self) -> bool {
        matches!(self, Failure::Retry(..))
    }
    fn retry_after(&self) -> Option<Duration> {
        match self {
            Failure::Retry(_, wait) => *wait,
            Failure::Fatal(_) => None,
        }
    }
}

/// `retries` from `backoff`, doubled each time; a longer wait (backoff or `Retry-After`) is
/// cut to `MAX_RETRY_WAIT`.
fn retry_policy(cfg: &RegistryClientConfig) -> retry::Policy {
    retry::Policy {
        retries: cfg.retries,
        backoff: cfg.backoff,
        max_wait: MAX_RETRY_WAIT,
        long_wait: retry::LongWait::Cap,
    }
}

impl RegistryClient {
    /// Builds a client; `cache`, when given, is used by [`download`](Self::download).
    pub fn new(cfg: RegistryClientConfig, cache: Option<CrateCache>) -> Result<Self, FetchError> {
        if cfg.max_concurrency == 0 {
            return Err(FetchError::InvalidConfig(
                "max_concurrency must be at least 1".into(),
            ));
        }
        let http = crate::http::registry_client(&cfg.user_agent, cfg.timeout)
            .map_err(|e| FetchError::InvalidConfig(format!("cannot build HTTP client: {e}")))?;
        let mut allowed: HashSet<String> = std::iter::once(&cfg.index_url)
            .chain(cfg.extra.iter().map(|(_, u)| u))
            .map(IndexUrl::host_port)
            .collect();
        allowed.extend(
            cfg.allowed_dl_hosts
                .iter()
                .flatten()
                .map(|h| h.to_ascii_lowercase()),
        );
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                semaphore: Semaphore::new(cfg.max_concurrency),
                cfg,
                cache,
                configs: Mutex::default(),
                indexes: Mutex::default(),
                allowed: RwLock::new(allowed),
            }),
        })
    }

    /// The settings.
    pub fn config(&self) -> &RegistryClientConfig {
        &self.inner.cfg
    }

    /// The cache, if any.
    pub fn cache(&self) -> Option<&CrateCache> {
        self.inner.cache.as_ref()
    }

    /// The configured registries: the default one first, then the extra ones.
    pub fn registries(&self) -> impl Iterator<Item = &IndexUrl> {
        let cfg = &self.inner.cfg;
        std::iter::once(&cfg.index_url).chain(cfg.extra.iter().map(|(_, u)| u))
    }

    /// Maps a Cargo.lock `source` to a configured registry: crates.io (git or
    /// sparse form) → the default index (possibly a mirror); a `sparse+` URL of
    /// a configured registry → it; anything else (git sources, unknown
    /// registries, path dependencies) → `None`.
    pub fn registry_for_source(&self, lock_source_url: &str) -> Option<IndexUrl> {
        let src = lock_source_url.trim();
        let git = src.trim_end_matches('/');
        if git == CRATES_IO_GIT_INDEX || git.strip_suffix(".git") == Some(CRATES_IO_GIT_INDEX) {
            return Some(self.inner.cfg.index_url.clone());
        }
        let url = IndexUrl::parse(src).ok()?;
        if url.is_crates_io() {
            return Some(self.inner.cfg.index_url.clone());
        }
        self.registries().find(|r| **r == url).cloned()
    }

    fn check_configured(&self, registry: &IndexUrl) -> Result<(), FetchError> {
        if self.registries().any(|r| r == registry) {
            Ok(())
        } else {
            Err(FetchError::UnknownRegistry(registry.to_string()))
        }
    }

    fn is_allowed(&self, url: &Url) -> Result<(), FetchError> {
        let host = host_port(url).unwrap_or_else(|| url.as_str().to_owned());
        let allowed = match self.inner.allowed.read() {
            Ok(set) => set.contains(&host),
            Err(poisoned) => poisoned.into_inner().contains(&host),
        };
        if allowed {
            Ok(())
        } else {
            tracing::warn!(%url, "refusing URL outside the host allowlist");
            Err(FetchError::DisallowedHost(host))
        }
    }

    /// The registry's `config.json`, fetched once per client.
    pub async fn registry_config(
        &self,
        registry: &IndexUrl,
    ) -> Result<Arc<RegistryConfig>, FetchError> {
        self.check_configured(registry)?;
        let cell = memo_cell(&self.inner.configs, registry.clone());
        cell.get_or_try_init(|| async {
            let url = registry
                .join("config.json")
                .ok_or_else(|| FetchError::InvalidConfig(format!("{registry}: bad base URL")))?;
            let what = format!("config.json of {registry}");
            let body = self.get(url, self.inner.cfg.max_index_bytes, &what).await?;
            let config = RegistryConfig::from_json(&body)?;
            if self.inner.cfg.allowed_dl_hosts.is_none() {
                let mut set = match self.inner.allowed.write() {
                    Ok(set) => set,
                    Err(poisoned) => poisoned.into_inner(),
                };
                set.insert(config.dl_host.clone());
            }
            Ok(Arc::new(config))
        })
        .await
        .cloned()
    }

    /// The parsed index file of a crate (memoized per client), with the count of skipped lines.
    pub async fn index_file(
        &self,
        registry: &IndexUrl,
        name: &str,
    ) -> Result<Arc<ParsedIndex>, FetchError> {
        self.check_configured(registry)?;
        let not_found = || FetchError::NotFound {
            what: format!("crate {name} in {registry}"),
        };
        let path = index_path(name).ok_or_else(not_found)?;
        let url = registry.join(&path).ok_or_else(not_found)?;
        let key = (registry.clone(), name.to_ascii_lowercase());
        let read = || async {
            let what = format!("crate {name} in {registry}");
            let body = self
                .get(url.clone(), self.inner.cfg.max_index_bytes, &what)
                .await?;
            Ok::<_, FetchError>(Arc::new(MemoIndex {
                read_at: std::time::Instant::now(),
                file: Arc::new(parse_index_file(name, &body)?),
            }))
        };
        let memo = memo_cell(&self.inner.indexes, key.clone())
            .get_or_try_init(read)
            .await?
            .clone();
        if memo.read_at.elapsed() <= self.inner.cfg.index_ttl {
            return Ok(memo.file.clone());
        }
        // Too old: read it again. If the registry cannot answer now, the copy read earlier
        // is still the best answer, kept for another TTL.
        let fresh = match read().await {
            Ok(fresh) => fresh,
            Err(e) => {
                tracing::warn!(krate = name, error = %e,
                    "cannot read an index file again; using the copy read earlier");
                Arc::new(MemoIndex {
                    read_at: std::time::Instant::now(),
                    file: memo.file.clone(),
                })
            }
        };
        self.replace_index(key, &memo, fresh.clone());
        Ok(fresh.file.clone())
    }

    /// Memoize `fresh` in place of `old`, unless a concurrent lookup replaced `old` first.
    fn replace_index(&self, key: (IndexUrl, String), old: &Arc<MemoIndex>, fresh: Arc<MemoIndex>) {
        let mut map = match self.inner.indexes.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        let current = map.get(&key).and_then(|cell| cell.get());
        if current.is_none_or(|current| Arc::ptr_eq(current, old)) {
            map.insert(key, Arc::new(OnceCell::new_with(Some(fresh))));
        }
    }

    /// All versions of a crate listed in the index (including yanked ones).
    pub async fn index_entries(
        &self,
        registry: &IndexUrl,
        name: &str,
    ) -> Result<Vec<IndexEntry>, FetchError> {
        Ok(self.index_file(registry, name).await?.entries.clone())
    }

    /// One version of a crate; `Ok(None)` when the crate exists but not that version.
    ///
    /// A memoized index file that lacks the version is fetched once more before `None`: the
    /// version may have been published since it was read (`lockwatch serve` keeps its client
    /// until the next advisory refresh, and a pull request may bump to a release minutes old).
    pub async fn entry(
        &self,
        registry: &IndexUrl,
        name: &str,
        version: &str,
    ) -> Result<Option<IndexEntry>, FetchError> {
        let find = |file: &ParsedIndex| file.entries.iter().find(|e| e.version == version).cloned();
        let file = self.index_file(registry, name).await?;
        if let Some(e) = find(&file) {
            return Ok(Some(e));
        }
        self.forget_index(registry, name, &file);
        let file = self.index_file(registry, name).await?;
        Ok(find(&file))
    }

    /// Drop the memoized index file of `name` if it is still `stale` (a concurrent lookup
    /// may already have replaced it: that newer one is kept).
    fn forget_index(&self, registry: &IndexUrl, name: &str, stale: &Arc<ParsedIndex>) {
        let mut map = match self.inner.indexes.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        let key = (registry.clone(), name.to_ascii_lowercase());
        if map
            .get(&key)
            .and_then(|cell| cell.get())
            .is_some_and(|current| Arc::ptr_eq(&current.file, stale))
        {
            map.remove(&key);
        }
    }

    /// Downloads a `.crate` and verifies it against `expected_sha256` (the lock
    /// file's checksum); served from the cache when present. Bytes failing
    /// verification are neither returned nor cached.
    pub async fn download(
        &self,
        registry: &IndexUrl,
        name: &str,
        version: &str,
        expected_sha256: &str,
    ) -> Result<Vec<u8>, FetchError> {
        let expected = expected_sha256.trim().to_ascii_lowercase();
        if !is_sha256_hex(&expected) {
            return Err(FetchError::InvalidChecksum(expected_sha256.to_owned()));
        }
        self.check_configured(registry)?;
        if let Some(cache) = self.inner.cache.clone() {
            let key = expected.clone();
            if let Ok(Some(bytes)) = tokio::task::spawn_blocking(move || cache.get(&key)).await {
                tracing::debug!(crate_name = name, version, "crate cache hit");
                return Ok(bytes);
            }
        }
        let config = self.registry_config(registry).await?;
        let url = config
            .download_url(name, version, &expected)
            .ok_or_else(|| FetchError::NotFound {
                what: format!("{name} {version} (not a valid crate name and version)"),
            })?;
        let what = format!("{name} {version} in {registry}");
        let bytes = self.get(url, self.inner.cfg.max_crate_bytes, &what).await?;
        let actual = sha256_hex(&bytes);
        if actual != expected {
            tracing::warn!(crate_name = name, version, %expected, %actual, "checksum mismatch");
            return Err(FetchError::ChecksumMismatch { expected, actual });
        }
        if let Some(cache) = self.inner.cache.clone() {
            let bytes = bytes.clone();
            let stored = tokio::task::spawn_blocking(move || cache.put(&expected, &bytes)).await;
            if let Err(e) = stored {
                tracing::warn!(error = %e, "crate cache: write task failed");
            }
        }
        Ok(bytes)
    }

    /// GET with the allowlist, concurrency limit, timeout, retries and size limit.
    async fn get(&self, url: Url, limit: u64, what: &str) -> Result<Vec<u8>, FetchError> {
        self.is_allowed(&url)?;
        let cfg = &self.inner.cfg;
        let mut attempt = 0;
        loop {
            let result = {
                let _permit = self
                    .inner
                    .semaphore
                    .acquire()
                    .await
                    .map_err(|_| FetchError::Network("client shut down".into()))?;
                match tokio::time::timeout(cfg.timeout, self.attempt(&url, limit, what)).await {
                    Ok(r) => r,
                    Err(_) => Err(Failure::Retry(
                        FetchError::Timeout {
                            url: url.to_string(),
                        },
                        None,
                    )),
                }
            };
            let failure = match result {
                Ok(bytes) => return Ok(bytes),
                Err(failure) => failure,
            };
            let Some(wait) = retry_policy(cfg).wait(attempt, &failure) else {
                return Err(failure.into_error());
            };
            let e = failure.into_error();
            tracing::debug!(%url, error = %e, ?wait, attempt, "retrying");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// One attempt, following redirects to allowlisted hosts only.
    async fn attempt(&self, url: &Url, limit: u64, what: &str) -> Result<Vec<u8>, Failure> {
        let mut url = url.clone();
        for _ in 0..=MAX_REDIRECTS {
            tracing::debug!(%url, "GET");
            let mut resp = self
                .inner
                .http
                .get(url.clone())
                .send()
                .await
                .map_err(|e| classify(&e, &url))?;
            let status = resp.status();
            if status.is_redirection() {
                let next = resp
                    .headers()
                    .get(LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|loc| url.join(loc).ok())
                    .ok_or_else(|| {
                        Failure::Fatal(FetchError::Http {
                            status: status.as_u16(),
                            url: url.to_string(),
                        })
                    })?;
                self.is_allowed(&next).map_err(Failure::Fatal)?;
                url = next;
                continue;
            }
            if status == StatusCode::NOT_FOUND
                || status == StatusCode::GONE
                || status == StatusCode::UNAVAILABLE_FOR_LEGAL_REASONS
            {
                return Err(Failure::Fatal(FetchError::NotFound {
                    what: what.to_owned(),
                }));
            }
            if status == StatusCode::TOO_MANY_REQUESTS {
                let retry_after =
                    crate::http::retry_after(resp.headers()).map(|d| d.min(MAX_RETRY_WAIT));
                return Err(Failure::Retry(
                    FetchError::RateLimited { retry_after },
                    retry_after,
                ));
            }
            if !status.is_success() {
                let e = FetchError::Http {
                    status: status.as_u16(),
                    url: url.to_string(),
                };
                return Err(if status.is_server_error() {
                    Failure::Retry(e, None)
                } else {
                    Failure::Fatal(e)
                });
            }
            let declared = resp
                .headers()
                .get(CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            if declared.is_some_and(|n| n > limit) {
                return Err(Failure::Fatal(FetchError::TooLarge { limit }));
            }
            let mut body = Vec::with_capacity(declared.unwrap_or(0).min(limit) as usize);
            while let Some(chunk) = resp.chunk().await.map_err(|e| classify(&e, &url))? {
                if (body.len() + chunk.len()) as u64 > limit {
                    return Err(Failure::Fatal(FetchError::TooLarge { limit }));
                }
                body.extend_from_slice(&chunk);
            }
            return Ok(body);
        }
        Err(Failure::Fatal(FetchError::Network(format!(
            "too many redirects from {url}"
        ))))
    }
}

fn memo_cell<K: std::hash::Hash + Eq, V>(memo: &Memo<K, V>, key: K) -> Arc<OnceCell<Arc<V>>> {
    let mut map = match memo.lock() {
        Ok(m) => m,
        Err(poisoned) => poisoned.into_inner(),
    };
    map.entry(key).or_default().clone()
}

fn classify(e: &reqwest::Error, url: &Url) -> Failure {
    if e.is_timeout() {
        Failure::Retry(
            FetchError::Timeout {
                url: url.to_string(),
            },
            None,
        )
    } else if e.is_connect() {
        Failure::Retry(
            FetchError::Network(format!("cannot connect to {url}")),
            None,
        )
    } else {
        Failure::Fatal(FetchError::Network(format!("{url}: {}", error_chain(e))))
    }
}

/// The error and its sources on one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg.replace('\n', " ")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::net::SocketAddr;
    use std::time::Instant;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;
    use crate::registry::entry::DepKind;
    use crate::registry::fake::FakeRegistry;
    use crate::registry::{IndexDep, index_url::CRATES_IO_INDEX};

    fn cfg(index_url: IndexUrl) -> RegistryClientConfig {
        RegistryClientConfig {
            index_url,
            timeout: Duration::from_secs(5),
            backoff: Duration::from_millis(10),
            ..RegistryClientConfig::default()
        }
    }

    fn client(fake: &FakeRegistry) -> RegistryClient {
        RegistryClient::new(cfg(fake.index_url()), None).unwrap()
    }

    fn cached_client(fake: &FakeRegistry, dir: &std::path::Path) -> RegistryClient {
        RegistryClient::new(cfg(fake.index_url()), Some(CrateCache::new(dir))).unwrap()
    }

    #[tokio::test]
    async fn index_entries_parsed_memoized_and_entry_lookup() {
        let fake = FakeRegistry::start().await;
        let mut renamed = IndexDep::normal("serde", "^1");
        renamed.rename = Some("ser".into());
        renamed.kind = DepKind::Build;
        let sum = fake.publish("Foo-Bar", "1.0.0", b"one".to_vec(), vec![renamed]);
        fake.publish("Foo-Bar", "1.1.0", b"two".to_vec(), vec![]);
        fake.yank("Foo-Bar", "1.1.0");
        let t = time::macros::datetime!(2024-05-06 07:08:09 UTC);
        fake.set_pubtime("Foo-Bar", "1.1.0", t);
        fake.add_raw_index_line("Foo-Bar", "{ this is not an entry");
        let c = client(&fake);
        let reg = fake.index_url();

        let file = c.index_file(&reg, "foo-bar").await.unwrap();
        assert_eq!(file.skipped, 1);
        let entries = c.index_entries(&reg, "Foo-Bar").await.unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].checksum, sum);
        assert_eq!(entries[0].deps[0].name, "serde");
        assert_eq!(entries[0].deps[0].rename.as_deref(), Some("ser"));
        assert_eq!(entries[0].deps[0].kind, DepKind::Build);
        let e = c.entry(&reg, "Foo-Bar", "1.1.0").await.unwrap().unwrap();
        assert!(e.yanked);
        assert_eq!(e.pubtime, Some(t));
        // One request for the index file, whatever the case of the name.
        assert_eq!(fake.requests(), vec!["GET /index/fo/o-/foo-bar".to_owned()]);
        // A version missing from the memoized file: the file is read once more.
        assert_eq!(c.entry(&reg, "Foo-Bar", "9.9.9").await.unwrap(), None);
        assert_eq!(fake.requests().len(), 2);
        // A version published after the file was memoized is found.
        fake.publish("Foo-Bar", "1.2.0", b"three".to_vec(), vec![]);
        let e = c.entry(&reg, "foo-bar", "1.2.0").await.unwrap().unwrap();
        assert_eq!(e.version, "1.2.0");
        assert_eq!(fake.requests().len(), 3);
        assert_eq!(c.index_entries(&reg, "Foo-Bar").await.unwrap().len(), 3);
        assert_eq!(fake.requests().len(), 3);
    }

    /// A yank after the file was memoized is seen once the memo is older than its TTL
    /// (`lockwatch serve` keeps one client for an hour).
    #[tokio::test]
    async fn a_memoized_index_file_is_read_again_after_its_ttl() {
        let fake = FakeRegistry::start().await;
        fake.publish("foo", "1.0.0", b"one".to_vec(), vec![]);
        let ttl = Duration::from_millis(300);
        let c = RegistryClient::new(
            RegistryClientConfig {
                index_ttl: ttl,
                ..cfg(fake.index_url())
            },
            None,
        )
        .unwrap();
        let reg = fake.index_url();
        let yanked = || async { c.entry(&reg, "foo", "1.0.0").await.unwrap().unwrap().yanked };
        assert!(!yanked().await);
        fake.yank("foo", "1.0.0");
        // Within the TTL the memo answers, without a request.
        assert!(!yanked().await);
        assert_eq!(fake.requests().len(), 1);
        tokio::time::sleep(ttl + Duration::from_millis(100)).await;
        assert!(yanked().await);
        assert_eq!(fake.requests().len(), 2);
        // The file read again is memoized in turn.
        assert!(yanked().await);
        assert_eq!(fake.requests().len(), 2);
        // Old again while the registry fails: the copy read earlier still answers.
        fake.publish("foo", "1.1.0", b"two".to_vec(), vec![]);
        fake.fail_next("/index/", 500, 100);
        tokio::time::sleep(ttl + Duration::from_millis(100)).await;
        assert!(yanked().await);
        assert!(fake.requests().len() > 2, "it tried to read the file again");
        assert_eq!(c.index_entries(&reg, "foo").await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn download_verifies_and_second_download_is_a_cache_hit() {
        let fake = FakeRegistry::start().await;
        let sum = fake.publish("foo", "1.0.0", b"crate bytes".to_vec(), vec![]);
        let dir = tempfile::tempdir().unwrap();
        let c = cached_client(&fake, dir.path());
        let reg = fake.index_url();
        assert_eq!(
            c.download(&reg, "foo", "1.0.0", &sum).await.unwrap(),
            b"crate bytes"
        );
        assert_eq!(
            c.download(&reg, "foo", "1.0.0", &sum).await.unwrap(),
            b"crate bytes"
        );
        assert_eq!(
            fake.requests(),
            vec!["GET /index/config.json", "GET /dl/foo/1.0.0"]
        );
        let stats = c.cache().unwrap().stats();
        assert_eq!((stats.hits, stats.misses), (1, 1));

        // A new client (new process) on the same directory: no request at all.
        let c2 = cached_client(&fake, dir.path());
        let upper = sum.to_ascii_uppercase();
        assert_eq!(
            c2.download(&reg, "foo", "1.0.0", &upper).await.unwrap(),
            b"crate bytes"
        );
        assert_eq!(fake.hits(), 2);
    }

    #[tokio::test]
    async fn corrupt_cache_file_is_refetched() {
        let fake = FakeRegistry::start().await;
        let sum = fake.publish("foo", "1.0.0", b"crate bytes".to_vec(), vec![]);
        let dir = tempfile::tempdir().unwrap();
        let c = cached_client(&fake, dir.path());
        let path = c.cache().unwrap().path_for(&sum).unwrap();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, b"crate byt").unwrap();
        let got = c
            .download(&fake.index_url(), "foo", "1.0.0", &sum)
            .await
            .unwrap();
        assert_eq!(got, b"crate bytes");
        assert_eq!(fake.hits_for("/dl/"), 1);
        assert_eq!(std::fs::read(&path).unwrap(), b"crate bytes");
    }

    #[tokio::test]
    async fn checksum_mismatch_is_an_error_and_not_cached() {
        let fake = FakeRegistry::start().await;
        let sum = fake.publish("foo", "1.0.0", b"crate bytes".to_vec(), vec![]);
        fake.serve_wrong_bytes("foo", "1.0.0");
        let dir = tempfile::tempdir().unwrap();
        let c = cached_client(&fake, dir.path());
        let err = c
            .download(&fake.index_url(), "foo", "1.0.0", &sum)
            .await
            .unwrap_err();
        let FetchError::ChecksumMismatch { expected, actual } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(expected, &sum);
        assert_eq!(actual, &sha256_hex(b"crate bytestampered"));
        assert!(!err.is_transient());
        assert!(!c.cache().unwrap().path_for(&sum).unwrap().exists());
        assert!(!c.cache().unwrap().path_for(actual).unwrap().exists());
    }

    #[tokio::test]
    async fn not_found_for_missing_crate_and_version() {
        let fake = FakeRegistry::start().await;
        fake.publish("foo", "1.0.0", b"x".to_vec(), vec![]);
        let c = client(&fake);
        let reg = fake.index_url();
        let err = c.index_entries(&reg, "nope").await.unwrap_err();
        assert!(
            matches!(err, FetchError::NotFound { ref what } if what.contains("nope")),
            "{err}"
        );
        let err = c
            .download(&reg, "foo", "2.0.0", &sha256_hex(b"x"))
            .await
            .unwrap_err();
        assert!(matches!(err, FetchError::NotFound { .. }), "{err}");
        // 404 is never retried.
        assert_eq!(fake.hits_for("/index/no/pe/nope"), 1);
        assert_eq!(fake.hits_for("/dl/"), 1);
    }

    #[tokio::test]
    async fn server_errors_are_retried_then_succeed() {
        let fake = FakeRegistry::start().await;
        fake.publish("foo", "1.0.0", b"x".to_vec(), vec![]);
        fake.fail_next("/index/3/f/foo", 500, 2);
        let c = client(&fake);
        let entries = c.index_entries(&fake.index_url(), "foo").await.unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(fake.hits_for("/index/3/f/foo"), 3);
    }

    #[tokio::test]
    async fn server_errors_give_up_after_the_retry_bound() {
        let fake = FakeRegistry::start().await;
        fake.publish("foo", "1.0.0", b"x".to_vec(), vec![]);
        fake.fail_next("/index/", 503, 100);
        let c = RegistryClient::new(
            RegistryClientConfig {
                retries: 2,
                ..cfg(fake.index_url())
            },
            None,
        )
        .unwrap();
        let err = c.index_entries(&fake.index_url(), "foo").await.unwrap_err();
        assert!(matches!(err, FetchError::Http { status: 503, .. }), "{err}");
        assert!(err.is_transient());
        assert_eq!(fake.hits(), 3);
        // Other 4xx are not retried.
        let fake = FakeRegistry::start().await;
        fake.fail_next("/index/", 403, 100);
        let err = client(&fake)
            .index_entries(&fake.index_url(), "foo")
            .await
            .unwrap_err();
        assert!(matches!(err, FetchError::Http { status: 403, .. }), "{err}");
        assert_eq!(fake.hits(), 1);
    }

    #[tokio::test]
    async fn rate_limit_honours_retry_after() {
        let fake = FakeRegistry::start().await;
        fake.publish("foo", "1.0.0", b"x".to_vec(), vec![]);
        fake.rate_limit_next("/index/", 1, 1);
        let c = client(&fake); // backoff 10 ms: only Retry-After explains a 1 s wait
        let start = Instant::now();
        c.index_entries(&fake.index_url(), "foo").await.unwrap();
        assert!(
            start.elapsed() >= Duration::from_secs(1),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(fake.hits(), 2);

        let fake = FakeRegistry::start().await;
        fake.rate_limit_next("/index/", 0, 100);
        let c = RegistryClient::new(
            RegistryClientConfig {
                retries: 1,
                ..cfg(fake.index_url())
            },
            None,
        )
        .unwrap();
        let err = c.index_entries(&fake.index_url(), "foo").await.unwrap_err();
        assert_eq!(
            err,
            FetchError::RateLimited {
                retry_after: Some(Duration::ZERO)
            }
        );
        assert_eq!(fake.hits(), 2);
    }

    #[tokio::test]
    async fn garbage_is_invalid_index_or_config() {
        let fake = FakeRegistry::start().await;
        let sum = fake.publish("foo", "1.0.0", b"x".to_vec(), vec![]);
        fake.serve_garbage("/index/");
        let c = client(&fake);
        let err = c.index_entries(&fake.index_url(), "foo").await.unwrap_err();
        assert!(matches!(err, FetchError::InvalidIndex(_)), "{err}");
        let err = c
            .download(&fake.index_url(), "foo", "1.0.0", &sum)
            .await
            .unwrap_err();
        assert!(matches!(err, FetchError::InvalidConfig(_)), "{err}");
    }

    #[tokio::test]
    async fn slow_response_times_out() {
        let fake = FakeRegistry::start().await;
        fake.publish("foo", "1.0.0", b"x".to_vec(), vec![]);
        fake.slow("/index/", Duration::from_secs(3));
        let c = RegistryClient::new(
            RegistryClientConfig {
                timeout: Duration::from_millis(200),
                retries: 1,
                ..cfg(fake.index_url())
            },
            None,
        )
        .unwrap();
        let start = Instant::now();
        let err = c.index_entries(&fake.index_url(), "foo").await.unwrap_err();
        assert!(
            matches!(err, FetchError::Timeout { ref url } if url.ends_with("/3/f/foo")),
            "{err}"
        );
        assert!(start.elapsed() < Duration::from_secs(2));
        assert_eq!(fake.hits(), 2); // timeouts are retried
    }

    #[tokio::test]
    async fn stalled_body_times_out() {
        let addr = raw_server(Raw::StallBody).await;
        let reg = IndexUrl::parse(&format!("sparse+http://{addr}/index/")).unwrap();
        let c = RegistryClient::new(
            RegistryClientConfig {
                timeout: Duration::from_millis(300),
                retries: 0,
                ..cfg(reg.clone())
            },
            None,
        )
        .unwrap();
        let err = c
            .download(&reg, "foo", "1.0.0", &sha256_hex(b"x"))
            .await
            .unwrap_err();
        assert!(matches!(err, FetchError::Timeout { .. }), "{err}");
    }

    #[tokio::test]
    async fn too_large_by_content_length_and_while_streaming() {
        let fake = FakeRegistry::start().await;
        let sum = fake.publish("foo", "1.0.0", vec![7; 5000], vec![]);
        let c = RegistryClient::new(
            RegistryClientConfig {
                max_crate_bytes: 4999,
                ..cfg(fake.index_url())
            },
            None,
        )
        .unwrap();
        let err = c
            .download(&fake.index_url(), "foo", "1.0.0", &sum)
            .await
            .unwrap_err();
        assert_eq!(err, FetchError::TooLarge { limit: 4999 });
        assert_eq!(fake.hits_for("/dl/"), 1); // not retried

        // No Content-Length: the limit is enforced on the streamed body.
        let addr = raw_server(Raw::Chunked(1_000_000)).await;
        let reg = IndexUrl::parse(&format!("sparse+http://{addr}/index/")).unwrap();
        let c = RegistryClient::new(
            RegistryClientConfig {
                max_crate_bytes: 10_000,
                ..cfg(reg.clone())
            },
            None,
        )
        .unwrap();
        let err = c
            .download(&reg, "foo", "1.0.0", &sha256_hex(b"x"))
            .await
            .unwrap_err();
        assert_eq!(err, FetchError::TooLarge { limit: 10_000 });
    }

    #[tokio::test]
    async fn dl_host_outside_a_pinned_allowlist_is_refused() {
        let fake = FakeRegistry::start().await;
        let other = FakeRegistry::start().await;
        let sum = fake.publish("foo", "1.0.0", b"x".to_vec(), vec![]);
        other.publish("foo", "1.0.0", b"x".to_vec(), vec![]);
        fake.set_dl_template(&format!("{}/dl/{{crate}}/{{version}}", other.base_url()));
        let c = RegistryClient::new(
            RegistryClientConfig {
                allowed_dl_hosts: Some(vec![]),
                ..cfg(fake.index_url())
            },
            None,
        )
        .unwrap();
        let err = c
            .download(&fake.index_url(), "foo", "1.0.0", &sum)
            .await
            .unwrap_err();
        assert_eq!(err, FetchError::DisallowedHost(other.addr().to_string()));
        assert_eq!(other.hits(), 0);

        // Same template, dl host trusted from config.json (the default policy).
        let c = client(&fake);
        assert_eq!(
            c.download(&fake.index_url(), "foo", "1.0.0", &sum)
                .await
                .unwrap(),
            b"x"
        );
        assert_eq!(other.requests(), vec!["GET /dl/foo/1.0.0"]);
    }

    #[tokio::test]
    async fn redirects_only_to_allowlisted_hosts() {
        let fake = FakeRegistry::start().await;
        let other = FakeRegistry::start().await;
        let sum = fake.publish("new", "1.0.0", b"x".to_vec(), vec![]);
        fake.redirect("/dl/old/", "/dl/new/1.0.0");
        fake.redirect("/dl/evil/", &format!("{}/dl/new/1.0.0", other.base_url()));
        let c = client(&fake);
        let reg = fake.index_url();
        assert_eq!(c.download(&reg, "old", "1.0.0", &sum).await.unwrap(), b"x");
        let err = c.download(&reg, "evil", "1.0.0", &sum).await.unwrap_err();
        assert_eq!(err, FetchError::DisallowedHost(other.addr().to_string()));
        assert_eq!(other.hits(), 0);
    }

    #[tokio::test]
    async fn unconfigured_registry_is_never_contacted() {
        let fake = FakeRegistry::start().await;
        let other = FakeRegistry::start().await;
        let c = client(&fake);
        let err = c
            .index_entries(&other.index_url(), "foo")
            .await
            .unwrap_err();
        assert!(matches!(err, FetchError::UnknownRegistry(_)), "{err}");
        let err = c
            .download(&other.index_url(), "foo", "1.0.0", &sha256_hex(b""))
            .await;
        assert!(matches!(err, Err(FetchError::UnknownRegistry(_))));
        let err = c.download(&fake.index_url(), "foo", "1.0.0", "abc").await;
        assert!(matches!(err, Err(FetchError::InvalidChecksum(_))));
        assert_eq!((fake.hits(), other.hits()), (0, 0));
    }

    #[tokio::test]
    async fn concurrency_bound_is_honoured() {
        let fake = FakeRegistry::start().await;
        fake.slow("/dl/", Duration::from_millis(300));
        let sums: Vec<String> = (0..6)
            .map(|i| fake.publish(&format!("c{i}"), "1.0.0", vec![i; 10], vec![]))
            .collect();
        let c = RegistryClient::new(
            RegistryClientConfig {
                max_concurrency: 2,
                ..cfg(fake.index_url())
            },
            None,
        )
        .unwrap();
        let tasks: Vec<_> = sums
            .into_iter()
            .enumerate()
            .map(|(i, sum)| {
                let (c, reg) = (c.clone(), fake.index_url());
                tokio::spawn(async move { c.download(&reg, &format!("c{i}"), "1.0.0", &sum).await })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert_eq!(fake.max_in_flight(), 2);
        assert_eq!(fake.hits_for("/dl/"), 6);
        assert_eq!(fake.hits_for("/index/config.json"), 1);
    }

    #[test]
    fn lock_sources_map_to_configured_registries() {
        let mirror = IndexUrl::parse("sparse+https://mirror.example/crates-io/").unwrap();
        let extra = IndexUrl::parse("sparse+https://my.registry/index/").unwrap();
        let c = RegistryClient::new(
            RegistryClientConfig {
                extra: vec![("mine".into(), extra.clone())],
                ..cfg(mirror.clone())
            },
            None,
        )
        .unwrap();
        let src = |s| c.registry_for_source(s);
        assert_eq!(src(CRATES_IO_GIT_INDEX), Some(mirror.clone()));
        assert_eq!(src(CRATES_IO_INDEX), Some(mirror.clone()));
        assert_eq!(src("sparse+https://my.registry/index"), Some(extra));
        assert_eq!(
            src("sparse+https://mirror.example/crates-io/"),
            Some(mirror)
        );
        assert_eq!(src("sparse+https://unknown.example/"), None);
        assert_eq!(src("git+https://github.com/a/b#0123abcd"), None);
        assert_eq!(src("registry+https://my.registry/index"), None);
    }

    #[derive(Clone, Copy)]
    enum Raw {
        /// Headers and a little of the body, then silence.
        StallBody,
        /// A chunked body of this many bytes, without Content-Length.
        Chunked(usize),
    }

    /// A one-request-per-connection HTTP/1.1 server for body-level faults
    /// the axum fake cannot produce; serves its own `config.json`.
    async fn raw_server(mode: Raw) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 8192];
                    let mut n = 0;
                    while !buf[..n].windows(4).any(|w| w == b"\r\n\r\n") {
                        match sock.read(&mut buf[n..]).await {
                            Ok(0) | Err(_) => return,
                            Ok(r) => n += r,
                        }
                    }
                    let head = String::from_utf8_lossy(&buf[..n]).into_owned();
                    let path = head.split_whitespace().nth(1).unwrap_or("");
                    if path == "/index/config.json" {
                        let body = format!(r#"{{"dl":"http://{addr}/dl/{{crate}}/{{version}}"}}"#);
                        let resp = format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = sock.write_all(resp.as_bytes()).await;
                        return;
                    }
                    match mode {
                        Raw::StallBody => {
                            let _ = sock
                                .write_all(
                                    b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789",
                                )
                                .await;
                            let _ = sock.flush().await;
                            tokio::time::sleep(Duration::from_secs(30)).await;
                        }
                        Raw::Chunked(total) => {
                            let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
                            if sock.write_all(head.as_bytes()).await.is_err() {
                                return;
                            }
                            let chunk = vec![b'a'; 1024];
                            for _ in 0..total / 1024 {
                                let mut frame = format!("{:x}\r\n", chunk.len()).into_bytes();
                                frame.extend_from_slice(&chunk);
                                frame.extend_from_slice(b"\r\n");
                                if sock.write_all(&frame).await.is_err() {
                                    return;
                                }
                            }
                            let _ = sock.write_all(b"0\r\n\r\n").await;
                        }
                    }
                });
            }
        });
        addr
    }
}
