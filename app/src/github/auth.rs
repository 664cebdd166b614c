//! App JWT (RS256) and the installation-token cache.

use super::{GitHubError, InstallationId};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Mutex;
use time::OffsetDateTime;

/// GitHub accepts an `iat` up to 60 s in the past (clock drift) and an `exp` at most 10 min
/// after `iat`.
const JWT_BACKDATE_SECS: i64 = 60;
const JWT_LIFETIME_SECS: i64 = 9 * 60;
/// A cached installation token is used until this long before it expires.
pub const TOKEN_REFRESH_MARGIN_SECS: i64 = 5 * 60;

#[derive(Serialize)]
struct Claims {
    iat: i64,
    exp: i64,
    iss: String,
}

/// The App's signing key and id.
pub struct AppKey {
    app_id: u64,
    key: EncodingKey,
}

impl AppKey {
    pub fn from_pem(app_id: u64, pem: &[u8]) -> Result<AppKey, GitHubError> {
        let key = EncodingKey::from_rsa_pem(pem).map_err(|e| {
            GitHubError::Credentials(format!("the private key is not an RSA PEM key: {e}"))
        })?;
        Ok(AppKey { app_id, key })
    }

    pub fn app_id(&self) -> u64 {
        self.app_id
    }

    /// A fresh App JWT.
    pub fn jwt(&self) -> Result<SecretString, GitHubError> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let iat = now - JWT_BACKDATE_SECS;
        let claims = Claims {
            iat,
            exp: iat + JWT_BACKDATE_SECS + JWT_LIFETIME_SECS,
            iss: self.app_id.to_string(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &self.key)
            .map(SecretString::from)
            .map_err(|e| GitHubError::Credentials(format!("cannot sign the App JWT: {e}")))
    }
}

struct CachedToken {
    token: SecretString,
    /// Use until this instant (expiry minus the margin).
    use_until: OffsetDateTime,
}

/// Installation tokens by installation.
#[derive(Default)]
pub struct TokenCache {
    tokens: Mutex<HashMap<InstallationId, CachedToken>>,
}

impl TokenCache {
    pub fn get(&self, id: InstallationId) -> Option<SecretString> {
        let tokens = self.tokens.lock().ok()?;
        let t = tokens.get(&id)?;
        (OffsetDateTime::now_utc() < t.use_until).then(|| t.token.clone())
    }

    pub fn put(&self, id: InstallationId, token: SecretString, expires_at: OffsetDateTime) {
        if let Ok(mut tokens) = self.tokens.lock() {
            tokens.insert(
                id,
                CachedToken {
                    token,
                    use_until: expires_at - time::Duration::seconds(TOKEN_REFRESH_MARGIN_SECS),
                },
            );
        }
    }

    /// Drop the cached token of `id` if it is still `rejected` (GitHub answered 401 to it).
    /// A token another request has already replaced is kept, so concurrent requests that
    /// all saw the old token rejected do not throw away each other's fresh one.
    pub fn forget(&self, id: InstallationId, rejected: &SecretString) {
        if let Ok(mut tokens) = self.tokens.lock()
            && tokens
                .get(&id)
                .is_some_and(|t| t.token.expose_secret() == rejected.expose_secret())
        {
            tokens.remove(&id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rejected_token_is_forgotten_but_a_newer_one_is_kept() {
        let cache = TokenCache::default();
        let id = InstallationId(7);
        let later = OffsetDateTime::now_utc() + time::Duration::hours(1);
        let old = SecretString::from("ghs_old");
        cache.put(id, old.clone(), later);
        cache.forget(id, &old);
        assert!(cache.get(id).is_none());

        let new = SecretString::from("ghs_new");
        cache.put(id, new, later);
        cache.forget(id, &old);
        assert_eq!(
            cache.get(id).map(|t| t.expose_secret().to_string()),
            Some("ghs_new".to_string())
        );
    }

    #[test]
    fn tokens_are_not_used_within_the_margin_of_their_expiry() {
        let cache = TokenCache::default();
        let id = InstallationId(8);
        let soon =
            OffsetDateTime::now_utc() + time::Duration::seconds(TOKEN_REFRESH_MARGIN_SECS - 10);
        cache.put(id, SecretString::from("ghs_soon"), soon);
        assert!(cache.get(id).is_none());
    }
}
