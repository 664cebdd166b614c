//! GitHub's real example payloads (copied to `fixtures/github/webhooks/`), adapted to a
//! scenario and signed the way GitHub signs deliveries.

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

/// A payload file from `fixtures/github/webhooks/<event>/<file>`.
pub fn fixture(rel: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/github/webhooks")
        .join(rel);
    serde_json::from_slice(
        &std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .expect("fixture JSON")
}

/// A `pull_request` delivery from GitHub's example for `action`, moved to this PR and heads.
pub fn pull_request(
    action: &str,
    number: u64,
    base_sha: &str,
    head_sha: &str,
    draft: bool,
) -> Value {
    let file = match action {
        "synchronize" => "pull_request/synchronize.payload.json",
        "closed" => "pull_request/closed.payload.json",
        _ => "pull_request/opened.payload.json",
    };
    let mut v = fixture(file);
    v["action"] = json!(action);
    v["number"] = json!(number);
    v["pull_request"]["number"] = json!(number);
    v["pull_request"]["head"]["sha"] = json!(head_sha);
    v["pull_request"]["base"]["sha"] = json!(base_sha);
    v["pull_request"]["draft"] = json!(draft);
    v["installation"] =
        json!({"id": super::INSTALLATION, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ=="});
    if action == "synchronize" {
        v["after"] = json!(head_sha);
    }
    v
}

/// A `merge_group` `checks_requested` delivery from GitHub's example, moved to `REPO` and
/// to this merge group's head and base commits.
pub fn merge_group(base_sha: &str, head_sha: &str) -> Value {
    let mut v = fixture("merge_group/checks_requested.payload.json");
    v["merge_group"]["head_sha"] = json!(head_sha);
    v["merge_group"]["base_sha"] = json!(base_sha);
    v["merge_group"]["head_commit"]["id"] = json!(head_sha);
    let (owner, name) = super::REPO.split_once('/').expect("owner/name");
    v["repository"]["full_name"] = json!(super::REPO);
    v["repository"]["name"] = json!(name);
    v["repository"]["owner"]["login"] = json!(owner);
    v["installation"]["id"] = json!(super::INSTALLATION);
    v
}

/// `sha256=<hex HMAC-SHA256>` over exactly these bytes.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("fake GitHub");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A fresh GUID-shaped delivery id.
pub fn delivery_id() -> String {
    static N: AtomicU64 = AtomicU64::new(1);
    let n = N.fetch_add(1, Ordering::Relaxed);
    format!(
        "72d3162e-cc78-11e3-81ab-{:012x}",
        n + (std::process::id() as u64) * 1_000_000
    )
}

/// How to sign a delivery.
pub enum Sign<'a> {
    With(&'a str),
    /// No signature header at all.
    None,
    /// Only the legacy SHA-1 header (with a made-up value).
    LegacySha1Only,
}

/// POST a delivery; returns status and body.
pub async fn send(
    url: &str,
    event: &str,
    delivery: &str,
    body: &[u8],
    sign: Sign<'_>,
) -> (u16, String) {
    lockwatch::http::install_crypto_provider();
    let mut req = reqwest::Client::new()
        .post(format!("{url}/webhook"))
        .header("Content-Type", "application/json")
        .header("User-Agent", "GitHub-Hookshot/044aadd")
        .header("X-GitHub-Event", event)
        .header("X-GitHub-Delivery", delivery)
        .header("X-GitHub-Hook-ID", "292430182")
        .header("X-GitHub-Hook-Installation-Target-Type", "integration")
        .header(
            "X-GitHub-Hook-Installation-Target-ID",
            super::APP_ID.to_string(),
        );
    match sign {
        Sign::With(secret) => req = req.header("X-Hub-Signature-256", signature(secret, body)),
        Sign::None => {}
        Sign::LegacySha1Only => {
            req = req.header(
                "X-Hub-Signature",
                "sha1=7d38cdd689735b008b3c702edd92eea23791c5f6",
            )
        }
    }
    let r = req
        .body(body.to_vec())
        .send()
        .await
        .expect("deliver webhook");
    let status = r.status().as_u16();
    (status, r.text().await.unwrap_or_default())
}
