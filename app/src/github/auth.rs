//! App JWT (RS256) and the installation-token cache.

use super::{GitHubError, InstallationId};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::SecretString;
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

    pub fn forget(&self, id: InstallationId) {
        if let Ok(mut tokens) = self.tokens.lock() {
            tokens.remove(&id);
        }
    }
}
