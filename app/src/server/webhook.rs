//! Webhook intake: an axum extractor that checks `X-Hub-Signature-256` over the raw body
//! before anything parses it. Before the body is read at all, the signature header must be
//! well formed and `Content-Length` within the limit; the body is then read within a
//! timeout and inside the in-flight byte budget (`intake`).

use super::routes::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

/// The default body limit (see `intake::DEFAULT_MAX_BODY_BYTES` for why 2 MiB).
pub const MAX_BODY_BYTES: usize = super::intake::DEFAULT_MAX_BODY_BYTES;

/// `sha256=<hex>` of HMAC-SHA256(secret, body), as GitHub signs deliveries.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mut mac) => {
            mac.update(body);
            format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
        }
        // HMAC takes keys of any length: never reached.
        Err(_) => String::new(),
    }
}

/// Does `header` (the `X-Hub-Signature-256` value) sign `body` with one of `secrets`?
/// Exact `sha256=` prefix, hex digest, constant-time comparison.
pub fn verify(secrets: &[SecretString], body: &[u8], header: Option<&str>) -> bool {
    let Some(hex_sig) = header.and_then(|h| h.strip_prefix("sha256=")) else {
        return false;
    };
    let Ok(sig) = hex::decode(hex_sig) else {
        return false;
    };
    if sig.len() != 32 {
        return false;
    }
    let mut ok = false;
    for secret in secrets {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes()) else {
            continue;
        };
        mac.update(body);
        ok |= mac.verify_slice(&sig).is_ok();
    }
    ok
}

/// A delivery whose signature checked out.
#[derive(Debug)]
pub struct Delivery {
    /// `X-GitHub-Event`.
    pub event: String,
    /// `X-GitHub-Delivery`.
    pub id: String,
    pub body: Bytes,
}

fn header(req: &Request, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn is_token(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// A well-formed `X-Hub-Signature-256` value: `sha256=` and 64 hex digits. Checked before
/// the body is read, so an unsigned request costs no buffering.
fn well_formed_signature(h: Option<&str>) -> bool {
    h.and_then(|h| h.strip_prefix("sha256="))
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn reject(code: StatusCode, text: &'static str) -> Response {
    (code, [(header::CONNECTION, "close")], text).into_response()
}

impl FromRequest<AppState> for Delivery {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let signature = header(&req, "x-hub-signature-256");
        let event = header(&req, "x-github-event");
        let id = header(&req, "x-github-delivery");
        let intake = state.intake();
        let limits = &intake.limits;
        // Nothing of the body is read before the headers say it is signed and small enough.
        if !well_formed_signature(signature.as_deref()) {
            state.metrics().signature_failure();
            tracing::warn!(
                delivery = id.as_deref().filter(|d| is_token(d, 100)).unwrap_or("-"),
                "webhook rejected: missing or malformed X-Hub-Signature-256"
            );
            return Err(reject(
                StatusCode::UNAUTHORIZED,
                "bad or missing signature\n",
            ));
        }
        if req.headers().contains_key(header::TRANSFER_ENCODING) {
            return Err(reject(
                StatusCode::LENGTH_REQUIRED,
                "a webhook body needs a Content-Length\n",
            ));
        }
        let Some(length) = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
        else {
            return Err(reject(
                StatusCode::LENGTH_REQUIRED,
                "a webhook body needs a Content-Length\n",
            ));
        };
        let length = match usize::try_from(length) {
            Ok(n) if n <= limits.max_body_bytes => n,
            _ => {
                tracing::warn!(
                    content_length = length,
                    limit = limits.max_body_bytes,
                    "webhook rejected: body over the limit"
                );
                return Err(reject(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "webhook body over the limit\n",
                ));
            }
        };
        let Some(_reserved) = intake.reserve(length).await else {
            tracing::warn!(
                content_length = length,
                "webhook refused: the in-flight body budget is full"
            );
            return Err((
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONNECTION, "close"), (header::RETRY_AFTER, "5")],
                "busy, retry later\n",
            )
                .into_response());
        };
        let read = axum::body::to_bytes(req.into_body(), length);
        let body = match tokio::time::timeout(limits.body_timeout, read).await {
            Ok(Ok(body)) => body,
            Ok(Err(_)) => {
                return Err(reject(
                    StatusCode::BAD_REQUEST,
                    "the body did not match its Content-Length\n",
                ));
            }
            Err(_) => {
                tracing::warn!(
                    content_length = length,
                    "webhook rejected: the body did not arrive in time"
                );
                return Err(reject(
                    StatusCode::REQUEST_TIMEOUT,
                    "the body did not arrive in time\n",
                ));
            }
        };
        if !verify(state.secrets(), &body, signature.as_deref()) {
            state.metrics().signature_failure();
            tracing::warn!(
                delivery = id.as_deref().filter(|d| is_token(d, 100)).unwrap_or("-"),
                "webhook rejected: missing or bad X-Hub-Signature-256"
            );
            return Err((StatusCode::UNAUTHORIZED, "bad or missing signature\n").into_response());
        }
        let (Some(event), Some(id)) = (event, id) else {
            return Err((
                StatusCode::BAD_REQUEST,
                "X-GitHub-Event and X-GitHub-Delivery are required\n",
            )
                .into_response());
        };
        if !is_token(&event, 100) || !is_token(&id, 100) {
            return Err((StatusCode::BAD_REQUEST, "malformed delivery headers\n").into_response());
        }
        Ok(Delivery { event, id, body })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GitHub's documented test vector ("Validating webhook deliveries").
    #[test]
    fn githubs_test_vector() {
        let secret = "It's a Secret to Everybody";
        let expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(sign(secret.as_bytes(), b"Hello, World!"), expected);
        let secrets = [SecretString::from(secret)];
        assert!(verify(&secrets, b"Hello, World!", Some(expected)));
    }

    #[test]
    fn rejects_what_is_not_exactly_right() {
        let secrets = [SecretString::from("old"), SecretString::from("new")];
        let good = sign(b"new", b"body");
        assert!(verify(&secrets, b"body", Some(&good)));
        assert!(verify(&secrets, b"body", Some(&sign(b"old", b"body"))));
        assert!(!verify(&secrets, b"body", Some(&sign(b"other", b"body"))));
        assert!(!verify(&secrets, b"body!", Some(&good)));
        assert!(!verify(&secrets, b"body", None));
        assert!(!verify(
            &secrets,
            b"body",
            Some(&good.replace("sha256=", "sha1="))
        ));
        assert!(!verify(
            &secrets,
            b"body",
            Some(&good.replace("sha256=", "SHA256="))
        ));
        assert!(!verify(&secrets, b"body", Some(&good[7..])));
        assert!(!verify(&secrets, b"body", Some(&good[..good.len() - 2])));
        assert!(!verify(&secrets, b"body", Some("sha256=zz")));
    }
}
