//! Issue 17.5 end to end: `lockwatch check --crates-io-api URL` asks a fake crates.io API
//! (`lockwatch_tests::fake_crates_io`, built from crates.io's own response snapshots) who
//! published each updated crate, and reports `publisher-new` and
//! `trusted-publishing-dropped`; an unreachable or hostile API is one note and changes
//! nothing else; the API is asked politely (user agent, one request a second, few requests,
//! cached) and never for what is not an update from crates.io.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

use lockwatch::registry::fake::FakeRegistry;
use lockwatch::testkit::Krate;
use lockwatch_tests::fake_crates_io::{FakeCratesIo, PublishedBy};
use lockwatch_tests::lockgen::{Pkg, lock, member};
use lockwatch_tests::registry_check::{codes_on as codes, pkg, run_check_env};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;
use time::OffsetDateTime;

fn days_ago(d: i64) -> OffsetDateTime {
    OffsetDateTime::now_utc() - time::Duration::days(d)
}

/// An update `name` `old` -> `new`, both published in the registry.
struct Update {
    name: String,
    old: (String, String),
    new: (String, String),
}

fn release(registry: &FakeRegistry, name: &str, version: &str) -> String {
    let bytes = Krate::new(name, version)
        .file("src/lib.rs", "pub fn f() {}\n")
        .build();
    registry.publish(name, version, bytes, vec![])
}

fn update(registry: &FakeRegistry, name: &str, old: &str, new: &str) -> Update {
    Update {
        name: name.into(),
        old: (old.into(), release(registry, name, old)),
        new: (new.into(), release(registry, name, new)),
    }
}

/// `lockwatch check` over these updates (and `extra_head` packages), with `args`; returns
/// the exit code and the JSON review.
fn check(
    registry: &FakeRegistry,
    scratch: &Path,
    updates: &[&Update],
    extra: (&[Pkg], &[Pkg]),
    args: &[&str],
) -> (i32, Value) {
    let empty_db = scratch.join("empty-db/crates");
    std::fs::create_dir_all(&empty_db).unwrap();
    let names: Vec<&str> = updates.iter().map(|u| u.name.as_str()).collect();
    let mut base = vec![member("app", "0.1.0").deps(&names)];
    let mut head = base.clone();
    for u in updates {
        base.push(pkg(&u.name, &u.old.0, &u.old.1, &[]));
        head.push(pkg(&u.name, &u.new.0, &u.new.1, &[]));
    }
    base.extend_from_slice(extra.0);
    head.extend_from_slice(extra.1);
    let db = scratch.join("empty-db").display().to_string();
    let mut all = vec!["--advisory-db", db.as_str()];
    all.extend_from_slice(args);
    run_check_env(
        &lock(3, &base),
        &lock(3, &head),
        registry,
        scratch,
        &all,
        &[],
    )
}

fn finding<'a>(v: &'a Value, code: &str, krate: &str) -> &'a Value {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == code && f["crate"] == krate)
        .unwrap_or_else(|| panic!("no {code} for {krate}: {v}"))
}

fn publisher_notes(v: &Value) -> Vec<String> {
    v["notes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n.as_str())
        .filter(|n| n.contains("Publisher checks"))
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_publisher_and_a_dropped_trusted_publisher_are_reported() {
    let registry = FakeRegistry::start().await;
    let api = FakeCratesIo::start().await;
    let scratch = tempfile::tempdir().unwrap();
    let url = api.url();
    let args = ["--crates-io-api", url.as_str()];

    // widget: alice published every release so far; mallory publishes 1.1.0.
    api.publish("widget", "1.0.0", days_ago(60), PublishedBy::user("alice"));
    api.publish("widget", "1.0.1", days_ago(30), PublishedBy::user("alice"));
    api.publish("widget", "1.1.0", days_ago(2), PublishedBy::user("mallory"));
    // gadget: the same account (in another case) publishes the new version.
    api.publish("gadget", "2.0.0", days_ago(90), PublishedBy::Unknown);
    api.publish("gadget", "2.0.1", days_ago(40), PublishedBy::user("Bob"));
    api.publish("gadget", "2.0.2", days_ago(3), PublishedBy::user("bob"));
    // tool: published through trusted publishing from GitHub, then with a token.
    api.publish(
        "tool",
        "0.3.0",
        days_ago(20),
        PublishedBy::github("tool-org/tool", "1234567890"),
    );
    api.publish("tool", "0.3.1", days_ago(1), PublishedBy::user("carol"));
    // steady: trusted publishing both times, from GitLab then GitHub (no finding).
    api.publish(
        "steady",
        "1.0.0",
        days_ago(20),
        PublishedBy::GitLab {
            project_path: "group/sub/steady".into(),
            job_id: "42".into(),
        },
    );
    api.publish(
        "steady",
        "1.0.1",
        days_ago(1),
        PublishedBy::github("steady-org/steady", "99"),
    );

    let widget = update(&registry, "widget", "1.0.1", "1.1.0");
    let gadget = update(&registry, "gadget", "2.0.1", "2.0.2");
    let tool = update(&registry, "tool", "0.3.0", "0.3.1");
    let steady = update(&registry, "steady", "1.0.0", "1.0.1");
    let (code, v) = check(
        &registry,
        scratch.path(),
        &[&widget, &gadget, &tool, &steady],
        (&[], &[]),
        &args,
    );

    assert_eq!(codes(&v, "widget"), ["publisher-new:warn"], "{v}");
    let f = finding(&v, "publisher-new", "widget");
    let msg = f["message"].as_str().unwrap();
    assert!(msg.contains("`mallory`"), "{msg}");
    assert!(msg.contains("none of its 2 earlier releases"), "{msg}");
    assert!(msg.contains("`alice` (2)"), "{msg}");
    assert_eq!(f["version"], "1.1.0");
    assert_eq!(f["evidence"][0]["text"], "https://crates.io/users/mallory");

    assert!(codes(&v, "gadget").is_empty(), "{v}");
    assert!(codes(&v, "steady").is_empty(), "{v}");

    // carol is new too, but tool's history has no account to compare with (only trusted
    // publishing): only the dropped trusted publisher is said.
    assert_eq!(
        codes(&v, "tool"),
        ["trusted-publishing-dropped:warn"],
        "{v}"
    );
    let f = finding(&v, "trusted-publishing-dropped", "tool");
    let msg = f["message"].as_str().unwrap();
    assert!(msg.contains("`carol`"), "{msg}");
    assert!(msg.contains("GitHub Actions in `tool-org/tool`"), "{msg}");
    assert_eq!(
        f["evidence"][0]["text"],
        "0.3.0 was published by https://github.com/tool-org/tool/actions/runs/1234567890"
    );

    // warn findings only: the check passes with a warning.
    assert_eq!(v["verdict"], "warn", "{v}");
    assert_eq!(code, 0);
    assert!(publisher_notes(&v).is_empty(), "{v}");

    // Politely: one request per crate (each history fits one page), each naming lockwatch,
    // at least a second apart.
    let requests = api.requests();
    assert_eq!(requests.len(), 4, "{requests:?}");
    for r in &requests {
        assert!(
            r.target.contains("/versions?per_page=50&sort=date"),
            "{r:?}"
        );
        let ua = r.user_agent.as_deref().unwrap_or("");
        assert!(
            ua.starts_with("lockwatch/") && ua.contains("https://"),
            "{ua}"
        );
    }
    for pair in requests.windows(2) {
        let gap = pair[1].at.duration_since(pair[0].at);
        assert!(gap >= Duration::from_millis(950), "{gap:?}");
    }

    // The same review again, same cache: no request at all (a release's publisher never
    // changes), the same findings.
    let (_, again) = check(
        &registry,
        scratch.path(),
        &[&widget, &gadget, &tool, &steady],
        (&[], &[]),
        &args,
    );
    assert_eq!(api.requests().len(), 4, "{:?}", api.requests());
    assert_eq!(again["findings"], v["findings"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_api_is_one_note_and_changes_nothing_else() {
    let registry = FakeRegistry::start().await;
    let scratch = tempfile::tempdir().unwrap();
    let a = update(&registry, "alpha", "1.0.0", "1.0.1");
    let b = update(&registry, "beta", "0.1.0", "0.2.0");
    let (off_code, off) = check(
        &registry,
        scratch.path(),
        &[&a, &b],
        (&[], &[]),
        &["--crates-io-api", "off"],
    );
    assert!(publisher_notes(&off).is_empty(), "{off}");
    // Port 9 on loopback: connection refused.
    let (code, v) = check(
        &registry,
        scratch.path(),
        &[&a, &b],
        (&[], &[]),
        &["--crates-io-api", "http://127.0.0.1:9"],
    );
    let notes = publisher_notes(&v);
    assert_eq!(notes.len(), 1, "{v}");
    assert!(notes[0].contains("did not run for 2 of 2"), "{}", notes[0]);
    assert!(notes[0].contains("could not be reached"), "{}", notes[0]);
    assert_eq!(v["findings"], off["findings"]);
    assert_eq!(v["verdict"], off["verdict"]);
    assert_eq!(code, off_code);
    let mut other: Vec<Value> = v["notes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|n| !n.as_str().unwrap().contains("Publisher checks"))
        .cloned()
        .collect();
    other.sort_by_key(|n| n.to_string());
    let mut off_notes = off["notes"].as_array().cloned().unwrap_or_default();
    off_notes.sort_by_key(|n| n.to_string());
    assert_eq!(other, off_notes);

    // A server error stops the asking too: one request, one note naming both crates.
    let api = FakeCratesIo::start().await;
    api.status("alpha", 503);
    let url = api.url();
    let (_, v) = check(
        &registry,
        scratch.path(),
        &[&a, &b],
        (&[], &[]),
        &["--crates-io-api", url.as_str()],
    );
    let notes = publisher_notes(&v);
    assert_eq!(notes.len(), 1, "{v}");
    assert!(notes[0].contains("answered 503"), "{}", notes[0]);
    assert_eq!(api.requests().len(), 1);
    assert_eq!(v["findings"], off["findings"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_answers_are_a_note_and_the_other_crates_are_still_checked() {
    let registry = FakeRegistry::start().await;
    let api = FakeCratesIo::start().await;
    let scratch = tempfile::tempdir().unwrap();
    api.raw("h-garbage", "<html>this is not {json");
    api.raw(
        "h-types",
        r#"{"versions": [{"num": "1.0.1", "published_by": {"login": ["x"]}}], "meta": {}}"#,
    );
    api.raw(
        "h-login",
        "{\"versions\": [{\"num\": \"1.0.1\", \"published_by\": {\"login\": \"x`](https://evil.example) <img src=x>\"}}], \"meta\": {}}",
    );
    api.raw(
        "h-elsewhere",
        r#"{"versions": [{"num": "1.0.1", "created_at": "2026-01-01T00:00:00Z", "published_by": {"login": "eve"}}], "meta": {"next_page": "https://evil.example/api?page=2"}}"#,
    );
    api.huge("h-huge");
    // A next_page that asks for the same page again (the new publisher is never found, so
    // the client wants the next page).
    api.publish("h-loop", "1.0.0", days_ago(10), PublishedBy::user("ann"));
    api.publish("h-loop", "1.0.1", days_ago(1), PublishedBy::user("zed"));
    api.self_pointing("h-loop");
    // A good crate after them (crates are asked in name order): still checked.
    api.publish("z-ok", "1.0.0", days_ago(10), PublishedBy::user("ann"));
    api.publish("z-ok", "1.0.1", days_ago(1), PublishedBy::user("zed"));
    let hostile: Vec<Update> = [
        "h-garbage",
        "h-types",
        "h-login",
        "h-elsewhere",
        "h-huge",
        "h-loop",
        "z-ok",
    ]
    .iter()
    .map(|n| update(&registry, n, "1.0.0", "1.0.1"))
    .collect();
    let refs: Vec<&Update> = hostile.iter().collect();
    let url = api.url();
    let (code, v) = check(
        &registry,
        scratch.path(),
        &refs,
        (&[], &[]),
        &["--crates-io-api", url.as_str()],
    );
    assert_eq!(code, 0, "{v}");
    let notes = publisher_notes(&v);
    assert_eq!(notes.len(), 1, "{v}");
    let note = &notes[0];
    assert!(note.contains("did not run for 6 of 7"), "{note}");
    assert!(
        !note.contains("evil.example") && !note.contains("<img"),
        "{note}"
    );
    assert!(note.len() < 1_000, "{note}");
    for n in &hostile[..6] {
        assert!(codes(&v, &n.name).is_empty(), "{}: {v}", n.name);
    }
    assert_eq!(codes(&v, "z-ok"), ["publisher-new:warn"], "{v}");
    // Nothing was asked of the host a next_page named, and the looping crate stopped at
    // its second request.
    assert_eq!(api.requests_for("h-loop").len(), 2);
    assert_eq!(api.requests_for("h-elsewhere").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_histories_are_paged_within_a_budget() {
    let registry = FakeRegistry::start().await;
    let api = FakeCratesIo::start().await;
    let scratch = tempfile::tempdir().unwrap();
    // 120 releases: carol published the first and the newest, dave everything between;
    // carol's earlier release is on the third page of 50.
    for i in 0..120 {
        let by = if i == 0 || i == 119 { "carol" } else { "dave" };
        api.publish(
            "many",
            &format!("1.0.{i}"),
            days_ago(300 - i),
            PublishedBy::user(by),
        );
    }
    // 250 releases by dave, then erin: erin is new among the 200 the budget reads.
    for i in 0..250 {
        let by = if i == 249 { "erin" } else { "dave" };
        api.publish(
            "huge-history",
            &format!("2.0.{i}"),
            days_ago(400 - i),
            PublishedBy::user(by),
        );
    }
    let many = update(&registry, "many", "1.0.118", "1.0.119");
    let long = update(&registry, "huge-history", "2.0.248", "2.0.249");
    let url = api.url();
    let (_, v) = check(
        &registry,
        scratch.path(),
        &[&many, &long],
        (&[], &[]),
        &["--crates-io-api", url.as_str()],
    );
    assert!(codes(&v, "many").is_empty(), "{v}");
    assert_eq!(api.requests_for("many").len(), 3);
    assert_eq!(codes(&v, "huge-history"), ["publisher-new:warn"], "{v}");
    let msg = finding(&v, "publisher-new", "huge-history")["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        msg.contains("none of the 199 earlier releases read (of 250)"),
        "{msg}"
    );
    assert_eq!(api.requests_for("huge-history").len(), 4);
    for pair in api.requests().windows(2) {
        assert!(pair[1].at.duration_since(pair[0].at) >= Duration::from_millis(950));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_is_asked_only_about_crates_io_updates_and_only_when_on() {
    let registry = FakeRegistry::start().await;
    let api = FakeCratesIo::start().await;
    let scratch = tempfile::tempdir().unwrap();
    api.publish("solo", "1.0.0", days_ago(10), PublishedBy::user("ann"));
    api.publish("solo", "1.0.1", days_ago(1), PublishedBy::user("zed"));
    let solo = update(&registry, "solo", "1.0.0", "1.0.1");
    let url = api.url();
    // A git dependency updated, a crates.io crate added: neither is asked about.
    let git = |rev: &str| Pkg {
        name: "from-git".into(),
        version: "0.1.0".into(),
        source: Some(format!("git+https://github.com/example/from-git#{rev}")),
        checksum: None,
        deps: Vec::new(),
    };
    let added = {
        let sum = release(&registry, "fresh", "1.0.0");
        pkg("fresh", "1.0.0", &sum, &[])
    };
    let (_, v) = check(
        &registry,
        scratch.path(),
        &[],
        (&[git("aaaa")], &[git("bbbb"), added]),
        &["--crates-io-api", url.as_str()],
    );
    assert!(publisher_notes(&v).is_empty(), "{v}");
    assert!(api.requests().is_empty(), "{:?}", api.requests());

    // Off by default in the CLI, off with `auto` when the index is not crates.io's, off
    // with --offline whatever the flag says.
    for args in [
        &[][..],
        &["--crates-io-api", "auto"][..],
        &["--crates-io-api", url.as_str(), "--offline"][..],
    ] {
        let (_, v) = check(&registry, scratch.path(), &[&solo], (&[], &[]), args);
        assert!(
            codes(&v, "solo")
                .iter()
                .all(|c| !c.starts_with("publisher")),
            "{v}"
        );
        assert!(publisher_notes(&v).is_empty(), "{v}");
    }
    assert!(api.requests().is_empty(), "{:?}", api.requests());

    // The environment variable turns it on like the flag.
    let db = scratch.path().join("empty-db").display().to_string();
    let base = lock(
        3,
        &[
            member("app", "0.1.0").deps(&["solo"]),
            pkg("solo", "1.0.0", &solo.old.1, &[]),
        ],
    );
    let head = lock(
        3,
        &[
            member("app", "0.1.0").deps(&["solo"]),
            pkg("solo", "1.0.1", &solo.new.1, &[]),
        ],
    );
    let (_, v) = run_check_env(
        &base,
        &head,
        &registry,
        scratch.path(),
        &["--advisory-db", &db],
        &[("LOCKWATCH_CRATES_IO_API", url.as_str())],
    );
    assert_eq!(codes(&v, "solo"), ["publisher-new:warn"], "{v}");
    assert_eq!(api.requests().len(), 1);
}
