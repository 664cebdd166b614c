//! The GitHub Action end to end: the entry point in process (`lockwatch_action::run` with an
//! explicit environment) and as the real `lockwatch-action` binary, against the same fake
//! GitHub as the App tests (loopback only), with an event file made from GitHub's real
//! `pull_request` example payload pointed at a git repository built here. The step, its
//! event and its outputs come from the harness (`tests/src/harness/action.rs`), the App it
//! is compared with from `tests/src/harness/app.rs`.
#![allow(clippy::unwrap_used)]

use lockwatch_action::publish::CommentStatus;
use lockwatch_tests::bin::fixture_db;
use lockwatch_tests::fake_github::webhooks;
use lockwatch_tests::fake_github::{FakeGitHub, Published, REPO};
use lockwatch_tests::gitrepo::GitRepo;
use lockwatch_tests::harness::action::{
    Step, assert_no_injection, event_file, mint_token, mint_token_at, repo_with,
};
use lockwatch_tests::harness::app::App;
use lockwatch_tests::harness::{Files, WAIT, file, merge_group_head_tree, package_line, tree};
use lockwatch_tests::lockgen::{lock, member, reg};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// The App's comment on the same change: `lockwatch serve` reviews pull request `pr` from
/// `base` to `head` (the git repository's commits) on the same fake GitHub, then stops.
async fn apps_comment(
    app: &mut App,
    pr: u64,
    base: (&str, &Files),
    head: (&str, &Files),
) -> String {
    app.commit_at(base.0, base.1);
    app.commit_at(head.0, head.1);
    app.fake.set_pr(pr, base.0, head.0, false);
    assert_eq!(app.open(pr, base.0, head.0).await.0, 202);
    app.expect_check(head.0, "failure").await;
    let body = app.expect_comment(pr).body;
    app.stop().await;
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_request_in_process_posts_the_apps_comment_and_edits_it_in_place() {
    let (base_files, head_files) = (tree(None, 0), tree(Some("1.5.4"), 0));
    let (repo, base, head) = repo_with(&base_files, &head_files);
    let mut app = App::new(&[]).await;
    let app_body = apps_comment(&mut app, 7, (&base, &base_files), (&head, &head_files)).await;
    let fake = &app.fake;

    let token = mint_token(fake).await;
    let mut step = Step::new(repo.path(), &fake.url, &token, "pull_request");
    step.pull_request(2, &base, &head, false);
    let (outcome, stdout) = step.run_in_process().await;
    assert_eq!(outcome.error, None, "{stdout}");
    assert_eq!(outcome.exit_code, 1, "{stdout}");
    let review = outcome.review.clone().unwrap();
    assert_eq!(review.verdict.as_str(), "fail");

    // The same comment as the App, byte for byte, on PR 2.
    let body = outcome.body.clone().unwrap();
    assert_eq!(body, app_body);
    let ctx = lockwatch::report::ReportContext::github(
        "https://github.com",
        REPO,
        lockwatch::report::Subject::PullRequest,
    )
    .commits(Some(&base), Some(&head));
    assert_eq!(body, lockwatch::report::render_markdown(&review, &ctx));
    let Published::CommentCreated {
        issue,
        id,
        body: posted,
    } = fake.next(WAIT).await
    else {
        panic!("expected a new comment")
    };
    assert_eq!((issue, posted.as_str()), (2, app_body.as_str()));
    assert!(posted.starts_with(lockwatch::report::COMMENT_MARKER));

    // Annotation on the regex [[package]] line; summary; outputs.
    let line = package_line(file(&head_files, "Cargo.lock"), "regex");
    assert!(
        stdout.contains(&format!(
            "::error file=Cargo.lock,line={line},title=lockwatch advisory-vulnerability (regex 1.5.4)::"
        )),
        "{stdout}"
    );
    assert_no_injection(&stdout);
    assert_eq!(step.summary(), app_body);
    let outputs = step.outputs();
    assert_eq!(outputs["verdict"], "fail");
    let url = format!("https://github.com/{REPO}/pull/2#issuecomment-{id}");
    assert_eq!(outputs["comment-url"], url);
    let findings: Vec<Value> = serde_json::from_str(&outputs["findings"]).unwrap();
    assert!(
        findings
            .iter()
            .any(|f| f["advisory"]["id"] == "RUSTSEC-2022-0013")
    );

    // The fix is pushed: the same comment is edited, the step passes.
    let fix = tree(Some("1.5.5"), 0);
    repo.write("Cargo.lock", file(&fix, "Cargo.lock"));
    repo.write("Cargo.toml", file(&fix, "Cargo.toml"));
    let fixed = repo.commit("fix");
    step.pull_request(2, &base, &fixed, false);
    let (outcome, stdout) = step.run_in_process().await;
    assert_eq!(outcome.exit_code, 0, "{stdout}");
    let Published::CommentEdited { id: edited, body } = fake.next(WAIT).await else {
        panic!("expected the comment to be edited")
    };
    assert_eq!(edited, id);
    assert!(!body.contains("RUSTSEC-2022-0013"));
    assert!(matches!(
        outcome.comment,
        Some(CommentStatus::Published {
            action: "updated",
            ..
        })
    ));
    assert_eq!(fake.comments().iter().filter(|c| c.issue == 2).count(), 1);
    assert!(fake.drain().await.is_empty());
    fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_binary_publishes_the_same_comment_and_exit_code() {
    let (base_files, head_files) = (tree(None, 0), tree(Some("1.5.4"), 0));
    let (repo, base, head) = repo_with(&base_files, &head_files);
    let mut app = App::new(&[]).await;
    let app_body = apps_comment(&mut app, 9, (&base, &base_files), (&head, &head_files)).await;
    let fake = &app.fake;
    let token = mint_token(fake).await;
    let mut step = Step::new(repo.path(), &fake.url, &token, "pull_request");
    step.pull_request(3, &base, &head, false);
    let (code, stdout, stderr) = tokio::task::block_in_place(|| step.run_binary());
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(!stdout.contains(&token) && !stderr.contains(&token));
    let Published::CommentCreated { issue, body, .. } = fake.next(WAIT).await else {
        panic!("expected a comment")
    };
    assert_eq!((issue, body.as_str()), (3, app_body.as_str()));
    assert_eq!(step.summary(), app_body);
    assert_eq!(step.outputs()["verdict"], "fail");
    assert!(stdout.contains("::error file=Cargo.lock,line="), "{stdout}");
    assert_no_injection(&stdout);
    fake.assert_clean();
}

/// A proxy in front of the fake that answers writes the way GitHub answers a read-only
/// `GITHUB_TOKEN` (fork pull requests): 403 "Resource not accessible by integration".
async fn read_only_proxy(upstream: String) -> (String, tokio::task::JoinHandle<()>) {
    use axum::body::Bytes;
    use axum::http::{HeaderMap, Method, StatusCode, Uri};
    use axum::response::IntoResponse;
    let handler = move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
        let upstream = upstream.clone();
        async move {
            if method != Method::GET {
                return (
                    StatusCode::FORBIDDEN,
                    axum::Json(json!({"message": "Resource not accessible by integration", "documentation_url": "https://docs.github.com/rest/issues/comments#create-an-issue-comment", "status": "403"})),
                )
                    .into_response();
            }
            let mut req = reqwest::Client::new().request(
                reqwest::Method::GET,
                format!(
                    "{upstream}{}",
                    uri.path_and_query().map_or("", |p| p.as_str())
                ),
            );
            for (k, v) in headers.iter() {
                if k != "host" {
                    req = req.header(k.as_str(), v.as_bytes());
                }
            }
            let r = req.body(body.to_vec()).send().await.unwrap();
            let status = StatusCode::from_u16(r.status().as_u16()).unwrap();
            let link = r
                .headers()
                .get("link")
                .map(|v| v.to_str().unwrap().to_string());
            let bytes = r.bytes().await.unwrap();
            let mut resp = (status, bytes.to_vec()).into_response();
            resp.headers_mut()
                .insert("content-type", "application/json".parse().unwrap());
            if let Some(l) = link {
                resp.headers_mut().insert("link", l.parse().unwrap());
            }
            resp
        }
    };
    let app = axum::Router::new().fallback(handler);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fork_pull_request_with_a_read_only_token_still_reports_and_fails_right() {
    let fake = FakeGitHub::start().await;
    let (proxy, task) = read_only_proxy(fake.url.clone()).await;
    let (repo, base, head) = repo_with(&tree(None, 0), &tree(Some("1.5.4"), 0));
    let token = mint_token(&fake).await;
    let mut step = Step::new(repo.path(), &proxy, &token, "pull_request");
    step.pull_request(4, &base, &head, true);
    let (outcome, stdout) = step.run_in_process().await;
    assert_eq!(outcome.error, None);
    assert_eq!(outcome.exit_code, 1, "fail-on deny still fails the step");
    assert!(
        matches!(&outcome.comment, Some(CommentStatus::ReadOnly(why)) if why.contains("fork")),
        "{:?}",
        outcome.comment
    );
    assert!(
        stdout.contains("lockwatch: no comment posted: GitHub answered 403 (Resource not accessible by integration) to the comment: this pull request comes from a fork"),
        "{stdout}"
    );
    assert!(stdout.contains("::error file=Cargo.lock,line="), "{stdout}");
    assert!(!stdout.contains("::error title=lockwatch could not review"));
    assert_no_injection(&stdout);
    assert_eq!(step.summary(), outcome.body.clone().unwrap());
    let outputs = step.outputs();
    assert_eq!(outputs["verdict"], "fail");
    assert_eq!(outputs["comment-url"], "");
    assert!(fake.comments().is_empty());

    // With fail-on never, the same run passes.
    step.set("INPUT_FAIL-ON", "never");
    let (outcome, _) = step.run_in_process().await;
    assert_eq!(outcome.exit_code, 0);
    task.abort();
    assert!(fake.drain().await.is_empty());
    fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_crate_text_cannot_inject_commands_or_outputs() {
    // A crate name carrying newlines, `::` commands, `%` escapes and a forged delimiter.
    let hostile = "evil\n::set-output name=verdict::pass\n%0A::error::x\r\nverdict<<ghadelimiter_00\nghadelimiter_00";
    let toml_name = hostile
        .replace('\\', "\\\\")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
        .replace('"', "\\\"");
    let base_lock = lock(3, &[member("app", "0.1.0")]);
    let head_lock = format!(
        "{}\n[[package]]\nname = \"{toml_name}\"\nversion = \"1.0.0\"\nsource = \"registry+https://evil.example/{toml_name}\"\nchecksum = \"{}\"\n",
        base_lock.trim_end(),
        "a".repeat(64)
    );
    let (repo, base, head) = repo_with(
        &[("Cargo.lock".into(), base_lock)],
        &[("Cargo.lock".into(), head_lock)],
    );
    let mut step = Step::offline(repo.path(), "workflow_dispatch");
    step.set("INPUT_BASE", base.as_str())
        .set("INPUT_HEAD", head.as_str());
    let (outcome, stdout) = step.run_in_process().await;
    assert_eq!(outcome.error, None, "{stdout}");
    let review = outcome.review.unwrap();
    assert!(
        review
            .findings
            .iter()
            .any(|f| f.message.contains('\n')
                || f.krate.as_deref().is_some_and(|k| k.contains('\n'))),
        "the test needs hostile text in a finding: {:#?}",
        review.findings
    );
    assert_no_injection(&stdout);
    // Exactly the three outputs, whatever the findings say; the findings survive intact.
    let outputs = step.outputs();
    assert_eq!(
        outputs.keys().collect::<Vec<_>>(),
        ["comment-url", "findings", "verdict"]
    );
    assert_eq!(outputs["verdict"], review.verdict.as_str());
    let findings: Vec<Value> = serde_json::from_str(&outputs["findings"]).unwrap();
    assert_eq!(findings.len(), review.visible_findings().count());
    // The exact bytes: each output is `name<<ghadelimiter_<32 hex>` ... the same delimiter.
    let raw = step.output_bytes();
    let heads: Vec<&str> = raw
        .lines()
        .filter(|l| {
            l.split_once("<<ghadelimiter_")
                .is_some_and(|(n, _)| n.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        })
        .collect();
    assert_eq!(heads.len(), 3, "{raw}");
    for h in heads {
        let d = h.split_once("<<").unwrap().1;
        assert_eq!(d.len(), "ghadelimiter_".len() + 32);
        assert_eq!(raw.matches(d).count(), 2, "{raw}");
        assert!(!hostile.contains(d));
    }
    assert_eq!(
        raw.lines().count(),
        9,
        "three outputs of one line each: {raw}"
    );
    // The annotation, byte for byte: invisible and control characters made visible by the
    // report's shared escaping (CRLF read as LF), then data escaped (% CR LF), properties
    // also `:` and `,`.
    let data = |s: &str| {
        lockwatch::report::clean_block(s)
            .replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    };
    let prop = |s: &str| data(s).replace(':', "%3A").replace(',', "%2C");
    let finding = review
        .findings
        .iter()
        .find(|f| f.code.as_str() == "unknown-registry")
        .unwrap();
    // The lock file is read as TOML, so the escaped name is found and its line shown.
    let line = finding.line.expect("the entry's line");
    let expected = format!(
        "::warning file=Cargo.lock,line={line},title={}::{}\n",
        prop(&format!("lockwatch unknown-registry ({hostile} 1.0.0)")),
        data(&finding.message)
    );
    assert!(stdout.contains(&expected), "{stdout}\n---\n{expected}");
    // A registry the policy does not name is never fetched: also `unreviewable` (deny).
    let unreviewable = review
        .findings
        .iter()
        .find(|f| f.code.as_str() == "unreviewable" && !f.message.contains("crate name"))
        .unwrap();
    let expected = format!(
        "::error file=Cargo.lock,line={line},title={}::{}\n",
        prop(&format!("lockwatch unreviewable ({hostile} 1.0.0)")),
        data(&unreviewable.message)
    );
    assert!(stdout.contains(&expected), "{stdout}\n---\n{expected}");
    // The hostile name is also longer than any crates.io name (64 characters): that is a
    // finding of its own. Three annotations, nothing injected.
    let annotations: Vec<&str> = stdout.lines().filter(|l| l.starts_with("::")).collect();
    assert_eq!(
        annotations.len(),
        3,
        "exactly the three annotations: {stdout}"
    );
    assert!(
        annotations.iter().any(|l| l.starts_with(&format!(
            "::error file=Cargo.lock,line={line},title=lockwatch unreviewable"
        )) && l.contains("crate name")),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shallow_checkout_fetches_the_base_or_says_how_to_fix_it() {
    let (origin, base, head) = repo_with(&tree(None, 0), &tree(Some("1.5.4"), 0));
    let clones = tempfile::tempdir().unwrap();
    let clone = clones.path().join("shallow");
    let url = format!("file://{}", origin.path().display());
    let st = std::process::Command::new("git")
        .args(["clone", "-q", "--depth", "1", "--branch", "feature", &url])
        .arg(&clone)
        .status()
        .unwrap();
    assert!(st.success());
    let has = |rev: &str| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(&clone)
            .args(["cat-file", "-e", &format!("{rev}^{{commit}}")])
            .status()
            .unwrap()
            .success()
    };
    assert!(!has(&base) && has(&head));

    let mut step = Step::offline(&clone, "workflow_dispatch");
    step.set("INPUT_BASE", base.as_str())
        .set("INPUT_HEAD", head.as_str());
    let (outcome, stdout) = step.run_in_process().await;
    assert_eq!(outcome.error, None, "{stdout}");
    assert!(
        stdout.contains(&format!(
            "lockwatch: the base commit {} was not in the (shallow) checkout; fetched it with `git fetch --no-tags --depth=1 origin {base}`",
            &base[..12]
        )),
        "{stdout}"
    );
    assert_eq!(outcome.exit_code, 1);
    assert!(has(&base));

    // Without a reachable origin: a clear error naming fetch-depth, exit 2.
    let clone2 = clones.path().join("shallow2");
    let st = std::process::Command::new("git")
        .args(["clone", "-q", "--depth", "1", "--branch", "feature", &url])
        .arg(&clone2)
        .status()
        .unwrap();
    assert!(st.success());
    std::process::Command::new("git")
        .arg("-C")
        .arg(&clone2)
        .args([
            "remote",
            "set-url",
            "origin",
            "file:///nonexistent/lockwatch-origin",
        ])
        .status()
        .unwrap();
    let step = {
        let mut s = Step::offline(&clone2, "workflow_dispatch");
        s.set("INPUT_BASE", base.as_str())
            .set("INPUT_HEAD", head.as_str());
        s
    };
    let (outcome, stdout) = step.run_in_process().await;
    assert_eq!(outcome.exit_code, 2);
    let err = outcome.error.unwrap();
    assert!(
        err.contains(&format!("the base commit {base} is not in the checkout")),
        "{err}"
    );
    assert!(err.contains("fetch-depth: 0"), "{err}");
    assert!(stdout.starts_with("lockwatch: reviewing "), "{stdout}");
    assert!(
        stdout.contains("::error title=lockwatch could not review::"),
        "{stdout}"
    );
    assert_eq!(step.outputs()["verdict"], "error");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedule_scans_every_lock_file_against_advisories() {
    let repo = GitRepo::new();
    for (p, c) in tree(Some("1.5.4"), 0) {
        repo.write(&p, c);
    }
    repo.write("tools/Cargo.lock", lock(3, &[member("tool", "0.1.0")]));
    let head = repo.commit("main");
    let mut step = Step::offline(repo.path(), "schedule");
    step.set("GITHUB_SHA", head.as_str());
    let (outcome, stdout) = step.run_in_process().await;
    assert_eq!(outcome.error, None, "{stdout}");
    let review = outcome.review.unwrap();
    assert_eq!(review.summary.lockfiles, 2);
    assert!(review.findings.iter().any(|f| {
        f.advisory
            .as_ref()
            .is_some_and(|a| a.id == "RUSTSEC-2022-0013")
    }));
    assert_eq!(outcome.exit_code, 1);
    assert!(outcome.comment.is_none());
    assert!(step.summary().contains("Full scan"));
    assert_eq!(step.outputs()["comment-url"], "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_group_reviews_the_group_head_against_its_base_without_a_comment() {
    let head_tree = merge_group_head_tree();
    assert!(
        head_tree
            .iter()
            .any(|(p, t)| p == "Cargo.lock" && t.contains("version = \"1.0.1\""))
    );
    let (repo, base, head) = repo_with(&tree(None, 0), &head_tree);
    let events = tempfile::tempdir().unwrap();
    let event = events.path().join("merge_group.json");
    let mut payload = webhooks::fixture("merge_group/checks_requested.payload.json");
    payload["merge_group"]["base_sha"] = json!(base);
    payload["merge_group"]["head_sha"] = json!(head);
    std::fs::write(&event, serde_json::to_vec(&payload).unwrap()).unwrap();
    // No GitHub at all: a merge group gets no comment, so nothing may be requested.
    let mut step = Step::offline(repo.path(), "merge_group");
    step.event(&event).set("GITHUB_SHA", head.as_str());
    let (outcome, stdout) = step.run_in_process().await;
    assert_eq!(outcome.error, None, "{stdout}");
    assert!(
        stdout.contains(&format!("merge group: {}", &base[..12])),
        "{stdout}"
    );
    let review = outcome.review.unwrap();
    let codes: Vec<&str> = review.findings.iter().map(|f| f.code.as_str()).collect();
    assert!(codes.contains(&"advisory-vulnerability"), "{codes:?}");
    assert!(!codes.contains(&"mixed-pr"), "{codes:?}");
    assert_eq!(outcome.exit_code, 1);
    assert!(outcome.comment.is_none());
    assert!(step.summary().contains("Merge group"));
    let line = package_line(file(&head_tree, "Cargo.lock"), "regex");
    assert!(
        stdout.contains(&format!("::error file=Cargo.lock,line={line}")),
        "{stdout}"
    );
    assert_eq!(step.outputs()["verdict"], "fail");
    assert_eq!(step.outputs()["comment-url"], "");

    // The same two commits as one pull request: a mixed-pr, which the group is not.
    let pr_event = event_file(events.path(), 9, &base, &head, false);
    let mut pr_step = Step::offline(repo.path(), "pull_request");
    pr_step.event(&pr_event).set("INPUT_COMMENT", "never");
    let (pr_outcome, pr_stdout) = pr_step.run_in_process().await;
    assert_eq!(pr_outcome.error, None, "{pr_stdout}");
    assert!(
        pr_outcome
            .review
            .unwrap()
            .findings
            .iter()
            .any(|f| f.code.as_str() == "mixed-pr")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_passes_on_an_untouched_advisory_that_the_full_scan_fails() {
    // main already holds regex 1.5.4 (RUSTSEC-2022-0013); the change only bumps serde.
    let base_files = tree(Some("1.5.4"), 0);
    let mut head_files = base_files.clone();
    head_files[1].1 = lock(
        3,
        &[
            reg("serde", "1.0.1"),
            reg("regex", "1.5.4"),
            member("app", "0.1.0").deps(&["serde", "regex"]),
        ],
    );
    let (repo, base, head) = repo_with(&base_files, &head_files);

    let mut step = Step::offline(repo.path(), "workflow_dispatch");
    step.set("GITHUB_SHA", head.as_str());
    step.set("INPUT_BASE", base.as_str());
    let (outcome, stdout) = step.run_in_process().await;
    assert_eq!(outcome.error, None, "{stdout}");
    assert_eq!(outcome.exit_code, 0, "{stdout}");
    let v = serde_json::to_value(outcome.review.unwrap()).unwrap();
    let regex = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["crate"] == "regex")
        .expect("the advisory is reported");
    assert_eq!(regex["advisory"]["status"], "untouched");
    assert_eq!(v["summary"]["existing"], 1);
    assert!(!stdout.contains("::error file=Cargo.lock"), "{stdout}");

    // The scheduled scan of the same commit: the whole branch is the subject, so it fails.
    let mut step = Step::offline(repo.path(), "schedule");
    step.set("GITHUB_SHA", head.as_str());
    let (outcome, stdout) = step.run_in_process().await;
    assert_eq!(outcome.exit_code, 1, "{stdout}");
    let v = serde_json::to_value(outcome.review.unwrap()).unwrap();
    assert!(v["findings"].as_array().unwrap().iter().any(|f| {
        f["advisory"]["id"] == "RUSTSEC-2022-0013"
            && f["advisory"]["status"] == "introduced"
            && f["level"] == "deny"
    }));
}

// Issue 13: verdicts nobody can flip (fail closed).

/// 13.4: another user's comment with lockwatch's marker was taken for the sticky comment
/// (and its edit refused). The Action's sticky comment is the marker comment written by
/// the token's identity (`github-actions[bot]` for the workflow token, or the
/// `comment-author` input); anyone else's is left alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_actions_sticky_comment_is_its_own_not_a_commenters() {
    let fake = FakeGitHub::start().await;
    let (repo, base, head) = repo_with(&tree(None, 0), &tree(Some("1.5.4"), 0));
    let planted = format!(
        "{}\nlockwatch: nothing to flag",
        lockwatch::report::COMMENT_MARKER
    );
    let theirs = fake.comment_as(2, "mallory", &planted);
    let token = mint_token(&fake).await;
    let mut step = Step::new(repo.path(), &fake.url, &token, "pull_request");
    step.pull_request(2, &base, &head, false);
    let (outcome, stdout) = step.run_in_process().await;
    assert_eq!(outcome.exit_code, 1, "{stdout}");
    assert!(
        matches!(
            outcome.comment,
            Some(CommentStatus::Published {
                action: "created",
                ..
            })
        ),
        "{:?}",
        outcome.comment
    );
    let comments = fake.comments();
    assert_eq!(comments.len(), 2, "{comments:#?}");
    assert_eq!(
        comments.iter().find(|c| c.id == theirs).unwrap().body,
        planted
    );
    let ours = comments.iter().find(|c| c.id != theirs).unwrap().clone();
    assert_eq!(ours.author, "github-actions[bot]");

    // Run again: lockwatch's own comment is the one kept up to date.
    let (outcome, _) = step.run_in_process().await;
    assert!(
        matches!(outcome.comment, Some(CommentStatus::Published { id, .. }) if id == ours.id),
        "{:?}",
        outcome.comment
    );

    // A token of another account, named by `comment-author`: its own comment, again not
    // mallory's.
    let other = mint_token_at(&fake.url).await;
    step.set("INPUT_GITHUB-TOKEN", other.as_str()).set(
        "INPUT_COMMENT-AUTHOR",
        lockwatch_tests::fake_github::BOT_LOGIN,
    );
    let (outcome, _) = step.run_in_process().await;
    assert!(
        matches!(
            outcome.comment,
            Some(CommentStatus::Published {
                action: "created",
                ..
            })
        ),
        "{:?}",
        outcome.comment
    );
    assert_eq!(fake.comments().len(), 3);
    assert_eq!(
        fake.comments()
            .iter()
            .find(|c| c.id == theirs)
            .unwrap()
            .body,
        planted
    );
    let _ = fake.drain().await;
    fake.assert_clean();
}

/// 13.6: the `config` input's policy file was read from the checkout, the pull request's
/// head: a pull request that adds an advisory and, in the same change, an `ignore` entry
/// for it to that file passed. The file is read from the base commit; the head's version
/// is a `policy-changed` finding, never applied. A file the pull request adds is not used.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_config_input_is_read_from_the_base_commit() {
    let ignore = "[[ignore]]\nid = \"RUSTSEC-2022-0013\"\nreason = \"not reachable\"\n";
    for added in [false, true] {
        let mut base_files = tree(None, 0);
        if !added {
            base_files.push(("ci/lockwatch.toml".into(), "cooldown-hours = 72\n".into()));
        }
        let mut head_files = tree(Some("1.5.4"), 0);
        head_files.push(("ci/lockwatch.toml".into(), ignore.into()));
        let (repo, base, head) = repo_with(&base_files, &head_files);
        let mut step = Step::offline(repo.path(), "pull_request");
        step.pull_request(5, &base, &head, false)
            .set("INPUT_COMMENT", "never")
            .set("INPUT_CONFIG", "ci/lockwatch.toml");
        let (outcome, stdout) = step.run_in_process().await;
        assert_eq!(outcome.error, None, "{stdout}");
        assert_eq!(outcome.exit_code, 1, "added: {added}\n{stdout}");
        let review = outcome.review.unwrap();
        let advisory = review
            .findings
            .iter()
            .find(|f| f.code.as_str() == "advisory-vulnerability")
            .expect("the advisory finding");
        assert_eq!(advisory.level.to_string(), "deny");
        let change = review
            .findings
            .iter()
            .find(|f| f.code.as_str() == "policy-changed")
            .unwrap_or_else(|| panic!("no policy-changed finding: {:#?}", review.findings));
        assert_eq!(change.lockfile.as_deref(), Some("ci/lockwatch.toml"));
        let verb = if added { "adds" } else { "edits" };
        assert!(
            change.message.contains(&format!(
                "this pull request {verb} the config input's policy file"
            )) && change.message.contains("RUSTSEC-2022-0013"),
            "{}",
            change.message
        );
    }
}

/// 13.6: the `advisory-db` input was read from the checkout: a pull request that deletes
/// the advisory its new dependency has from the repository's copy of the database passed.
/// The database is read from the base commit; the change is said, not applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_advisory_db_input_is_read_from_the_base_commit() {
    let mut base_files = tree(None, 0);
    for entry in walk(&fixture_db()) {
        let rel = entry
            .strip_prefix(fixture_db())
            .unwrap()
            .display()
            .to_string();
        base_files.push((
            format!("vendor/advisory-db/{rel}"),
            std::fs::read_to_string(&entry).unwrap(),
        ));
    }
    let head_files: Vec<(String, String)> = tree(Some("1.5.4"), 0)
        .into_iter()
        .chain(
            base_files
                .iter()
                .filter(|(p, _)| p.starts_with("vendor/") && !p.contains("RUSTSEC-2022-0013"))
                .cloned(),
        )
        .collect();
    let (repo, base, head) = repo_with(&base_files, &head_files);
    repo.git(&[
        "rm",
        "-q",
        "vendor/advisory-db/crates/regex/RUSTSEC-2022-0013.md",
    ]);
    let head = {
        let h = repo.commit("drop the advisory");
        assert_ne!(h, head);
        h
    };
    let mut step = Step::offline(repo.path(), "pull_request");
    step.pull_request(6, &base, &head, false)
        .set("INPUT_COMMENT", "never")
        .set("INPUT_ADVISORY-DB", "vendor/advisory-db");
    let (outcome, stdout) = step.run_in_process().await;
    assert_eq!(outcome.error, None, "{stdout}");
    assert_eq!(outcome.exit_code, 1, "{stdout}");
    let review = outcome.review.unwrap();
    assert!(
        review.findings.iter().any(|f| f
            .advisory
            .as_ref()
            .is_some_and(|a| a.id == "RUSTSEC-2022-0013")),
        "{:#?}",
        review.findings
    );
    assert!(
        review
            .notes
            .iter()
            .any(|n| n.contains("changes the advisory database")),
        "{:#?}",
        review.notes
    );

    // A database the pull request adds is not used: the review stops, failing the step.
    let (repo, base, head) = repo_with(&tree(None, 0), &head_files);
    let event = event_file(step.scratch.path(), 7, &base, &head, false);
    let mut step = Step::offline(repo.path(), "pull_request");
    step.event(&event)
        .set("INPUT_COMMENT", "never")
        .set("INPUT_ADVISORY-DB", "vendor/advisory-db");
    let (outcome, _) = step.run_in_process().await;
    assert_eq!(outcome.exit_code, 2);
    assert!(
        outcome
            .error
            .as_deref()
            .is_some_and(|e| e.contains("the pull request adds it")),
        "{:?}",
        outcome.error
    );
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}
