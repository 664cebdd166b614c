//! Shared HTTP set-up.

use std::sync::Once;
use std::time::Duration;

/// rustls needs a process-wide crypto provider; lockwatch uses ring (no C toolchain needed).
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// The `User-Agent` of every request lockwatch makes.
pub fn user_agent() -> String {
    format!(
        "lockwatch/{} (+https://github.com/lockwatch/lockwatch)",
        env!("CARGO_PKG_VERSION")
    )
}

/// The client of the registry fetchers: it follows no redirect itself (a caller that
/// follows one checks the target's host first), ignores proxy settings from the
/// environment, and gives up connecting after `connect_timeout`.
pub fn registry_client(
    user_agent: &str,
    connect_timeout: Duration,
) -> reqwest::Result<reqwest::Client> {
    install_crypto_provider();
    reqwest::Client::builder()
        .user_agent(user_agent)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(connect_timeout)
        .no_proxy()
        .build()
}

/// The delay of a `Retry-After` header given in seconds (its HTTP-date form is not read).
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}
