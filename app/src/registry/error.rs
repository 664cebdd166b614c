//! Errors of the registry client.

use std::time::Duration;

/// Why fetching something from a registry failed.
///
/// Every message is a single human-readable line: they end up as
/// `unreviewable` findings shown to maintainers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The registry answered 404/410 for this resource.
    #[error("not found in the registry: {what}")]
    NotFound {
        /// What was looked for, e.g. `index file for serde` or a URL.
        what: String,
    },
    /// The downloaded bytes do not match the checksum of the lock file.
    #[error("checksum mismatch: expected sha256 {expected}, got {actual}")]
    ChecksumMismatch {
        /// The checksum we expected (from Cargo.lock).
        expected: String,
        /// The checksum of the bytes actually received.
        actual: String,
    },
    /// The response exceeded the configured size limit.
    #[error("response larger than the limit of {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// The registry answered with an HTTP error status (after retries).
    #[error("HTTP {status} from {url}")]
    Http {
        /// The HTTP status code.
        status: u16,
        /// The URL requested.
        url: String,
    },
    /// The request did not complete in time (after retries).
    #[error("timed out fetching {url}")]
    Timeout {
        /// The URL requested.
        url: String,
    },
    /// The registry kept answering 429 Too Many Requests.
    #[error("rate limited by the registry{}", match retry_after {
        Some(d) => format!(" (retry after {} s)", d.as_secs()),
        None => String::new(),
    })]
    RateLimited {
        /// The last `Retry-After` the registry asked for, if any.
        retry_after: Option<Duration>,
    },
    /// A URL pointed at a host outside the allowlist; no request was made to it.
    #[error("refusing to contact host not in the registry allowlist: {0}")]
    DisallowedHost(String),
    /// The registry is not one of the configured registries.
    #[error("registry is not configured: {0}")]
    UnknownRegistry(String),
    /// An index file could not be parsed.
    #[error("invalid registry index: {0}")]
    InvalidIndex(String),
    /// A registry `config.json` (or the client configuration) is invalid.
    #[error("invalid registry configuration: {0}")]
    InvalidConfig(String),
    /// A checksum given by the caller is not a SHA-256 hex digest.
    #[error("invalid sha256 checksum: {0:?}")]
    InvalidChecksum(String),
    /// Local I/O failed.
    #[error("I/O error: {0}")]
    Io(String),
    /// A network error (connection refused, reset, TLS, ...), after retries.
    #[error("network error: {0}")]
    Network(String),
}

impl FetchError {
    /// Whether trying again later might succeed (server errors, rate limits,
    /// timeouts, network failures), as opposed to a definite answer.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Http { status, .. } => *status >= 500 || *status == 429 || *status == 408,
            Self::Timeout { .. } | Self::RateLimited { .. } | Self::Network(_) | Self::Io(_) => {
                true
            }
            Self::NotFound { .. }
            | Self::ChecksumMismatch { .. }
            | Self::TooLarge { .. }
            | Self::DisallowedHost(_)
            | Self::UnknownRegistry(_)
            | Self::InvalidIndex(_)
            | Self::InvalidConfig(_)
            | Self::InvalidChecksum(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_line_and_transience() {
        let errs = [
            FetchError::NotFound {
                what: "index file for foo".into(),
            },
            FetchError::RateLimited {
                retry_after: Some(Duration::from_secs(3)),
            },
            FetchError::Http {
                status: 503,
                url: "https://x/".into(),
            },
            FetchError::ChecksumMismatch {
                expected: "a".into(),
                actual: "b".into(),
            },
        ];
        for e in &errs {
            assert!(!e.to_string().contains('\n'));
        }
        assert_eq!(
            errs[1].to_string(),
            "rate limited by the registry (retry after 3 s)"
        );
        assert!(!errs[0].is_transient());
        assert!(errs[1].is_transient());
        assert!(errs[2].is_transient());
        assert!(!errs[3].is_transient());
        assert!(
            !FetchError::Http {
                status: 403,
                url: String::new()
            }
            .is_transient()
        );
    }
}
