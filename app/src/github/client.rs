//! `GitHubApp`: octocrab with a configurable base URL, and the one request wrapper. It
//! speaks as the App (JWT, installation tokens) or, for the GitHub Action, with one fixed
//! token (`GitHubApp::with_token`); the retries, error mapping and metrics are the same.

use super::auth::{AppKey, TokenCache};
use super::models::InstallationToken;
use super::{GitHubError, InstallationId};
use crate::retry;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method, Request, header};
use octocrab::{OctoBody, Octocrab};
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

/// Largest response body read (GitHub serves files up to 100 MB raw; lock files are far
/// smaller, and anything above this is reported, not read).
const MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;
/// Longest wait honoured inside one call; longer waits go back to the queue.
const MAX_INLINE_WAIT: Duration = Duration::from_secs(10);

/// Told about every GitHub response (for metrics).
pub trait ApiObserver: Send + Sync {
    /// `status` is 0 for a timeout or a connection error.
    fn api_call(&self, status: u16, rate_limit_remaining: Option<i64>);
}

/// A rate-limit budget per installation shared by several processes (the replicas of one
/// App share GitHub's limit of each installation): asked before every request made as an
/// installation, told what GitHub's `x-ratelimit-*` headers said after it.
pub trait RateBudget: Send + Sync {
    /// Take one request from `installation`'s budget: `None` to go ahead, or how long to
    /// wait for its reset.
    fn take(&self, installation: u64) -> futures_box::BoxFuture<'_, Option<Duration>>;
    /// GitHub's `x-ratelimit-remaining` and `x-ratelimit-reset` (Unix seconds).
    fn observe(
        &self,
        installation: u64,
        remaining: i64,
        reset_at: i64,
    ) -> futures_box::BoxFuture<'_, ()>;
}

/// A boxed future, without a dependency for it.
pub mod futures_box {
    /// `Pin<Box<dyn Future + Send>>`.
    pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;
}

/// Settings of a [`GitHubApp`].
pub struct GitHubAppConfig {
    /// `https://api.github.com`, or `https://HOST/api/v3` for GitHub Enterprise Server.
    pub api_url: String,
    pub app_id: u64,
    /// The App's private key (PEM).
    pub private_key_pem: SecretString,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Retries inside one call for transient failures (the queue retries beyond that).
    pub retries: u32,
    /// First backoff of those retries; doubled each time.
    pub backoff: Duration,
    pub observer: Option<Arc<dyn ApiObserver>>,
}

/// Who a request is made as.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Auth {
    App,
    Installation(InstallationId),
    /// The client's fixed token (`GitHubApp::with_token`).
    Token,
}

/// What the client signs requests with.
enum Credentials {
    App { key: AppKey, tokens: TokenCache },
    Token(SecretString),
}

/// A response with its body read.
pub(crate) struct ApiResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl ApiResponse {
    pub fn json<T: serde::de::DeserializeOwned>(&self, what: &str) -> Result<T, GitHubError> {
        serde_json::from_slice(&self.body).map_err(|e| GitHubError::Decode {
            what: what.to_string(),
            message: e.to_string(),
        })
    }

    /// The `rel="next"` URL of the `Link` header.
    pub fn next_link(&self) -> Option<String> {
        let link = self.headers.get(header::LINK)?.to_str().ok()?;
        link.split(',').find_map(|part| {
            let (url, params) = part.split_once(';')?;
            params
                .split(';')
                .any(|p| p.trim() == "rel=\"next\"")
                .then(|| {
                    url.trim()
                        .trim_start_matches('<')
                        .trim_end_matches('>')
                        .to_string()
                })
        })
    }
}

/// The GitHub App: credentials, token cache and the request wrapper.
pub struct GitHubApp {
    octo: Octocrab,
    base: String,
    credentials: Credentials,
    timeout: Duration,
    retries: u32,
    backoff: Duration,
    observer: Option<Arc<dyn ApiObserver>>,
    /// The installations' shared rate-limit budget (replicas on PostgreSQL).
    budget: Option<Arc<dyn RateBudget>>,
    /// The App's bot account, `<slug>[bot]` (`GET /app`, asked once).
    bot_login: tokio::sync::OnceCell<String>,
}

impl std::fmt::Debug for GitHubApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHubApp")
            .field("base", &self.base)
            .field("app_id", &self.app_id())
            .finish_non_exhaustive()
    }
}

impl GitHubApp {
    pub fn new(config: GitHubAppConfig) -> Result<GitHubApp, GitHubError> {
        crate::http::install_crypto_provider();
        let key = AppKey::from_pem(
            config.app_id,
            config.private_key_pem.expose_secret().as_bytes(),
        )?;
        let base = config.api_url.trim_end_matches('/').to_string();
        Ok(GitHubApp {
            octo: octocrab_for(&base, config.timeout)?,
            base,
            credentials: Credentials::App {
                key,
                tokens: TokenCache::default(),
            },
            timeout: config.timeout,
            retries: config.retries,
            backoff: config.backoff,
            observer: config.observer,
            budget: None,
            bot_login: tokio::sync::OnceCell::new(),
        })
    }

    /// A client that sends one fixed token (the Actions `GITHUB_TOKEN`) with every request;
    /// `Auth::Token` requests use it. Two retries, from 250 ms, for transient failures.
    pub fn with_token(
        api_url: &str,
        token: SecretString,
        timeout: Duration,
    ) -> Result<GitHubApp, GitHubError> {
        crate::http::install_crypto_provider();
        let base = api_url.trim_end_matches('/').to_string();
        Ok(GitHubApp {
            octo: octocrab_for(&base, timeout)?,
            base,
            credentials: Credentials::Token(token),
            timeout,
            retries: 2,
            backoff: Duration::from_millis(250),
            observer: None,
            budget: None,
            bot_login: tokio::sync::OnceCell::new(),
        })
    }

    /// The App's id; `None` for a fixed-token client.
    pub fn app_id(&self) -> Option<u64> {
        match &self.credentials {
            Credentials::App { key, .. } => Some(key.app_id()),
            Credentials::Token(_) => None,
        }
    }

    /// The App's bot account (`<slug>[bot]`), the author of its comments: `GET /app` with
    /// the App JWT, asked once per process.
    pub async fn bot_login(&self) -> Result<String, GitHubError> {
        self.bot_login
            .get_or_try_init(|| async {
                let resp = self
                    .send(
                        Method::GET,
                        "/app",
                        Auth::App,
                        None,
                        "application/vnd.github+json",
                    )
                    .await?;
                let info: super::models::AppInfo = resp.json("GET /app")?;
                if info.slug.is_empty() {
                    return Err(GitHubError::Decode {
                        what: "GET /app".into(),
                        message: "the App has no slug".into(),
                    });
                }
                Ok(format!("{}[bot]", info.slug))
            })
            .await
            .cloned()
    }

    /// The App's key and installation tokens, for `Auth::App` and `Auth::Installation`.
    fn app_credentials(&self) -> Result<(&AppKey, &TokenCache), GitHubError> {
        match &self.credentials {
            Credentials::App { key, tokens } => Ok((key, tokens)),
            Credentials::Token(_) => Err(GitHubError::Credentials(
                "a token client cannot speak as a GitHub App".into(),
            )),
        }
    }

    /// The path (and query) of a URL GitHub gave us, if it points at our API base.
    pub(crate) fn relative(&self, url: &str) -> Option<String> {
        let rest = url.strip_prefix(&self.base)?;
        rest.starts_with('/').then(|| rest.to_string())
    }

    /// An installation token, from the cache or freshly made.
    async fn installation_token(&self, id: InstallationId) -> Result<SecretString, GitHubError> {
        let (_, tokens) = self.app_credentials()?;
        if let Some(t) = tokens.get(id) {
            return Ok(t);
        }
        let path = format!("/app/installations/{}/access_tokens", id.0);
        let resp = self
            .send(
                Method::POST,
                &path,
                Auth::App,
                None,
                "application/vnd.github+json",
            )
            .await?;
        let tok: InstallationToken = resp.json("POST /app/installations/{id}/access_tokens")?;
        let expires_at = OffsetDateTime::parse(
            &tok.expires_at,
            &time::format_description::well_known::Rfc3339,
        )
        .map_err(|e| GitHubError::Decode {
            what: "installation token".into(),
            message: format!("bad expires_at: {e}"),
        })?;
        let token = SecretString::from(tok.token);
        tokens.put(id, token.clone(), expires_at);
        Ok(token)
    }

    /// Share the installations' rate limits with other processes through `budget`.
    pub fn with_rate_budget(mut self, budget: Arc<dyn RateBudget>) -> Self {
        self.budget = Some(budget);
        self
    }

    /// Send one request with retries; 2xx is `Ok`, anything else an error.
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        auth: Auth,
        body: Option<&serde_json::Value>,
        accept: &str,
    ) -> Result<ApiResponse, GitHubError> {
        let what = format!("{method} {}", path.split('?').next().unwrap_or(path));
        let mut refreshed = false;
        let mut attempt = 0u32;
        loop {
            let bearer = match auth {
                Auth::App => self.app_credentials()?.0.jwt()?,
                Auth::Installation(id) => Box::pin(self.installation_token(id)).await?,
                Auth::Token => match &self.credentials {
                    Credentials::Token(t) => t.clone(),
                    Credentials::App { .. } => {
                        return Err(GitHubError::Credentials(
                            "an App client has no fixed token".into(),
                        ));
                    }
                },
            };
            if let (Auth::Installation(id), Some(budget)) = (auth, &self.budget)
                && let Some(wait) = budget.take(id.0).await
            {
                // Spent down to the reserve by this App's processes together: wait for the
                // reset here when it is near, else the job goes back to the queue until then.
                if wait > MAX_INLINE_WAIT {
                    return Err(GitHubError::Status {
                        status: 429,
                        what: what.clone(),
                        message: "the installation's rate limit is spent (shared by the replicas) until it resets".into(),
                        retry_after: Some(wait),
                        rate_limited: true,
                    });
                }
                tracing::info!(request = %what, installation = id.0, wait_ms = wait.as_millis() as u64, "waiting for the installation's rate limit to reset");
                tokio::time::sleep(wait).await;
            }
            let result = self
                .send_once(Outgoing {
                    method: &method,
                    path,
                    bearer: &bearer,
                    body,
                    accept,
                    what: &what,
                })
                .await;
            if let (Auth::Installation(id), Some(budget), Ok(r)) = (auth, &self.budget, &result)
                && let (Some(remaining), Some(reset_at)) = (
                    header_i64(&r.headers, "x-ratelimit-remaining"),
                    header_i64(&r.headers, "x-ratelimit-reset"),
                )
            {
                budget.observe(id.0, remaining, reset_at).await;
            }
            let err = match result {
                Ok(r) if (200..300).contains(&r.status) => return Ok(r),
                Ok(r) => status_error(&r, &what),
                Err(e) => e,
            };
            // A 401 with an installation token: the cached token was revoked or expired
            // early. Drop it, mint a new one, and try once more.
            if let (Auth::Installation(id), Some(401), false) = (auth, err.status(), refreshed) {
                tracing::warn!(request = %what, installation = id.0, "GitHub rejected the installation token; minting a new one");
                self.app_credentials()?.1.forget(id, &bearer);
                refreshed = true;
                continue;
            }
            let Some(wait) = self.retry_policy().wait(attempt, &err) else {
                return Err(err);
            };
            tracing::warn!(request = %what, error = %err, wait_ms = wait.as_millis() as u64, "retrying GitHub request");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// Retries of transient failures inside one call; a wait past `MAX_INLINE_WAIT` goes
    /// back to the caller (the App's queue retries later).
    fn retry_policy(&self) -> retry::Policy {
        retry::Policy {
            retries: self.retries,
            backoff: self.backoff,
            max_wait: MAX_INLINE_WAIT,
            long_wait: retry::LongWait::GiveUp,
        }
    }

    async fn send_once(&self, request: Outgoing<'_>) -> Result<ApiResponse, GitHubError> {
        let result = exchange(&self.octo, self.timeout, request).await;
        if let Some(obs) = &self.observer {
            match &result {
                Ok(r) => obs.api_call(r.status, header_i64(&r.headers, "x-ratelimit-remaining")),
                Err(_) => obs.api_call(0, None),
            }
        }
        result
    }
}

fn octocrab_for(base: &str, timeout: Duration) -> Result<Octocrab, GitHubError> {
    Octocrab::builder()
        .base_uri(base)
        .map_err(|e| GitHubError::Credentials(format!("bad GitHub API URL: {e}")))?
        .set_connect_timeout(Some(timeout))
        .set_read_timeout(Some(timeout))
        .build()
        .map_err(|e| GitHubError::Credentials(format!("cannot build the client: {e}")))
}

/// One attempt of a request, as [`GitHubApp::send`] makes it.
#[derive(Clone, Copy)]
struct Outgoing<'a> {
    method: &'a Method,
    path: &'a str,
    bearer: &'a SecretString,
    body: Option<&'a serde_json::Value>,
    accept: &'a str,
    /// The request for messages: method and path without the query.
    what: &'a str,
}

/// One request with a bearer credential and a timeout; the answer's body is read in full
/// (capped). Shared by the App's installation client and the Action's token client.
async fn exchange(
    octo: &Octocrab,
    timeout: Duration,
    request: Outgoing<'_>,
) -> Result<ApiResponse, GitHubError> {
    let Outgoing {
        method,
        path,
        bearer,
        body,
        accept,
        what,
    } = request;
    let transport = |message: String| GitHubError::Transport {
        what: what.to_string(),
        message,
    };
    let mut auth = HeaderValue::from_str(&format!("Bearer {}", bearer.expose_secret()))
        .map_err(|_| GitHubError::Credentials("token is not a valid header value".into()))?;
    auth.set_sensitive(true);
    let builder = Request::builder()
        .method(method.clone())
        .uri(path)
        .header(header::AUTHORIZATION, auth)
        .header(header::ACCEPT, accept)
        .header(header::USER_AGENT, crate::http::user_agent())
        .header("X-GitHub-Api-Version", "2022-11-28");
    let request = match body {
        Some(b) => builder
            .header(header::CONTENT_TYPE, "application/json")
            .body(OctoBody::from(b.to_string())),
        None => builder.body(OctoBody::empty()),
    }
    .map_err(|e| transport(e.to_string()))?;
    let round_trip = async {
        let resp = octo
            .execute(request)
            .await
            .map_err(|e| transport(e.to_string()))?;
        let (parts, body) = resp.into_parts();
        let body = axum::body::to_bytes(axum::body::Body::new(body), MAX_RESPONSE_BYTES)
            .await
            .map_err(|e| transport(format!("reading the answer: {e}")))?;
        Ok::<_, GitHubError>(ApiResponse {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        })
    };
    match tokio::time::timeout(timeout, round_trip).await {
        Ok(r) => r,
        Err(_) => Err(GitHubError::Timeout {
            what: what.to_string(),
            secs: timeout.as_secs(),
        }),
    }
}

fn header_i64(headers: &HeaderMap, name: &str) -> Option<i64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// Map a non-2xx answer to an error, with how long to wait when GitHub said.
fn status_error(r: &ApiResponse, what: &str) -> GitHubError {
    #[derive(serde::Deserialize)]
    struct Body {
        #[serde(default)]
        message: String,
    }
    let message = serde_json::from_slice::<Body>(&r.body)
        .map(|b| b.message)
        .unwrap_or_default();
    let message: String = message.chars().take(300).collect();
    let retry_after = header_i64(&r.headers, "retry-after")
        .map(|s| Duration::from_secs(u64::try_from(s).unwrap_or(0)))
        .or_else(|| {
            (header_i64(&r.headers, "x-ratelimit-remaining") == Some(0))
                .then(|| header_i64(&r.headers, "x-ratelimit-reset"))
                .flatten()
                .map(|reset| {
                    let now = OffsetDateTime::now_utc().unix_timestamp();
                    Duration::from_secs(u64::try_from(reset - now).unwrap_or(0) + 1)
                })
        });
    let rate_limited = matches!(r.status, 403 | 429)
        && (retry_after.is_some() || message.to_ascii_lowercase().contains("rate limit"));
    GitHubError::Status {
        status: r.status,
        what: what.to_string(),
        message,
        retry_after,
        rate_limited,
    }
}
