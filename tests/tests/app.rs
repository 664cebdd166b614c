//! `lockwatch serve` end to end: real router, real queue, real GitHub client, against the
//! fake GitHub (loopback only), driven by GitHub's own example webhooks, signed. Each test
//! is a story told with the harness in `tests/src/harness/` (see docs/development.md, "How
//! to write an App test"): open a pull request, push, expect a check run and a comment.

use lockwatch_tests::fake_github::webhooks::{self, Sign, delivery_id};
use lockwatch_tests::fake_github::{FaultKind, Published, REPO};
use lockwatch_tests::harness::app::App;
use lockwatch_tests::harness::events::{Events, is_completed};
use lockwatch_tests::harness::process::{ServeProcess, free_port};
use lockwatch_tests::harness::{
    OLD_SECRET, SECRET, WAIT, file, merge_group_head_tree, package_line, postgres_or_skip, sha,
    tree,
};
use lockwatch_tests::lockgen::{lock, member, reg};
use lockwatch_tests::snapshot::assert_snapshot;
use serde_json::json;
use std::path::Path;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn advisory_pr_fails_with_annotations_then_fix_passes_then_no_dependency_change() {
    let app = App::new(&[]).await;
    // 120 other changed files: the file list takes two pages (per_page=100, Link: next).
    let head_tree = tree(Some("1.5.4"), 120);
    let mut pr = app.open_pr(2, &tree(None, 0), &head_tree).await;

    let events = app.expect_check(&pr.head, "failure").await;
    assert_eq!(events.created_check_runs(), vec![pr.head.clone()]);
    let created = events.comments_created();
    assert_eq!(created.len(), 1, "{events:#?}");
    assert_eq!(created[0].0, 2);
    let comment = app.expect_comment(2);
    assert_eq!(comment.id, created[0].1);
    assert!(
        comment.body.contains("RUSTSEC-2022-0013"),
        "{}",
        comment.body
    );
    assert_snapshot("app/advisory-pr.comment.md", &app.redact(&comment.body));
    let check = events.check();
    let line = package_line(file(&head_tree, "Cargo.lock"), "regex");
    assert!(
        check.annotations.iter().any(|a| a["path"] == "Cargo.lock"
            && a["start_line"] == line
            && a["end_line"] == line
            && a["annotation_level"] == "failure"),
        "no failure annotation on Cargo.lock:{line}: {:#?}",
        check.annotations
    );
    // The comment links the lock-file line at the head commit; the check run's title says
    // what the pull request did, its summary is the comment without the marker.
    assert!(
        comment.body.contains(&format!(
            "[Cargo.lock:{line}](https://github.com/{REPO}/blob/{}/Cargo.lock#L{line})",
            pr.head
        )),
        "{}",
        comment.body
    );
    let (title, summary) = (check.title.expect("a title"), events.summary());
    assert_eq!(
        title, "Fix before merging: 1 finding introduced (1 blocking), not everything inspected",
        "{summary}"
    );
    assert!(!summary.contains(lockwatch::report::COMMENT_MARKER));
    assert!(
        summary.starts_with("### 🔴 lockwatch: fix before merging\n"),
        "{summary}"
    );
    assert!(summary.contains("RUSTSEC-2022-0013"), "{summary}");

    // The fix: regex 1.5.5. The same comment is edited; the check passes.
    let fixed = app.commit(&tree(Some("1.5.5"), 120));
    app.fake.set_pr(2, &pr.base, &fixed, false);
    let sync = webhooks::pull_request("synchronize", 2, &pr.base, &fixed, false);
    let sync_id = delivery_id();
    assert_eq!(app.deliver_as("pull_request", &sync_id, &sync).await.0, 202);
    pr.head = fixed.clone();
    let events = app.expect_check(&fixed, "success").await;
    assert_eq!(events.created_check_runs(), vec![fixed.clone()]);
    assert!(events.comments_created().is_empty(), "{events:#?}");
    let edited = events
        .comment_edited(comment.id)
        .expect("the comment is edited");
    assert!(!edited.contains("RUSTSEC-2022-0013"), "{edited}");

    // Redelivery of the same delivery id: answered, nothing queued.
    let (status, text) = app.deliver_as("pull_request", &sync_id, &sync).await;
    assert_eq!((status, text.trim()), (200, "duplicate delivery"));
    assert_eq!(
        app.metric(
            "lockwatch_webhook_deliveries_total{event=\"pull_request\",outcome=\"duplicate\"}"
        )
        .await,
        Some(1)
    );

    // A push that drops the dependency change: quick success, the comment says so.
    let mut no_deps = tree(None, 120);
    no_deps.push(("src/lib.rs".into(), "pub fn f() {}\n".into()));
    let plain = app.push(&mut pr, &no_deps).await;
    let events = app.expect_check(&plain, "success").await;
    let edited = events
        .comment_edited(comment.id)
        .unwrap_or_else(|| panic!("{events:#?}"));
    assert!(edited.contains("does not change dependencies"), "{edited}");
    assert_eq!(
        events.check().title.as_deref(),
        Some("No dependency changes")
    );
    assert_eq!(app.fake.comments().len(), 1);
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pr_without_dependency_changes_gets_a_success_check_and_no_comment() {
    let app = App::new(&[]).await;
    let base = app.commit(&tree(Some("1.5.5"), 0));
    let mut t = tree(Some("1.5.5"), 0);
    t.push(("README.md".into(), "hello\n".into()));
    let head = app.commit(&t);
    app.fake.set_pr(5, &base, &head, true);
    app.deliver(
        "pull_request",
        &webhooks::pull_request("opened", 5, &base, &head, true),
    )
    .await;
    let events = app.next_completion().await;
    assert_eq!(events.conclusion(), "success");
    assert!(app.fake.comments().is_empty());
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_synchronize_events_in_a_burst_review_only_the_last_head() {
    burst_reviews_only_the_last_head(&[]).await;
}

/// The same on a PostgreSQL job database (several replicas' configuration).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_burst_reviews_only_the_last_head() {
    let Some(url) = postgres_or_skip().await else {
        return;
    };
    burst_reviews_only_the_last_head(&["--database-url", &url]).await;
}

async fn burst_reviews_only_the_last_head(extra: &[&str]) {
    let mut args = vec!["--coalesce-ms", "1500"];
    args.extend_from_slice(extra);
    let app = App::new(&args).await;
    let base = app.commit(&tree(None, 0));
    let mut heads = Vec::new();
    for i in 0..10 {
        let v = format!("1.5.{}", i + 4);
        heads.push(app.commit(&tree(Some(&v), 0)));
    }
    for (i, head) in heads.iter().enumerate() {
        app.fake.set_pr(3, &base, head, false);
        let action = if i == 0 { "opened" } else { "synchronize" };
        assert_eq!(
            app.deliver(
                "pull_request",
                &webhooks::pull_request(action, 3, &base, head, false)
            )
            .await
            .0,
            202
        );
    }
    let last = heads.last().expect("test step").clone();
    let events = app.next_completion().await;
    assert_eq!(
        events.created_check_runs(),
        vec![last.clone()],
        "{events:#?}"
    );
    let check = events.check();
    assert_eq!((check.head, check.conclusion.as_str()), (last, "success"));
    app.idle().await;
    // One job ran. The older heads were coalesced: superseded while queued, or (folded in
    // the same batch as a newer head) never queued at all.
    let jobs = app.jobs().await;
    assert_eq!(
        (jobs.done, jobs.queued, jobs.running, jobs.failed),
        (1, 0, 0, 0),
        "{jobs:?}"
    );
    assert_eq!(app.fake.check_runs().len(), 1);
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_failing_three_times_then_recovering_publishes_once() {
    let app = App::new(&[]).await;
    let (base, head) = app.bump_pr(4);
    // GitHub fails: three 502s, a secondary rate limit, a slow answer.
    app.fake.fail("checks/create", FaultKind::ServerError, 3);
    app.fake.fail(
        "issues/create-comment",
        FaultKind::SecondaryRateLimit {
            retry_after_secs: 1,
        },
        1,
    );
    app.fake.fail(
        "pulls/list-files",
        FaultKind::Slow(Duration::from_millis(300)),
        1,
    );
    app.open(4, &base, &head).await;
    let events = app.expect_check(&head, "failure").await;
    assert_eq!(events.created_check_runs().len(), 1);
    assert_eq!(app.fake.comments().len(), 1);
    for (series, n) in [
        ("lockwatch_github_api_calls_total{status=\"502\"}", 3),
        ("lockwatch_github_api_calls_total{status=\"403\"}", 1),
        ("lockwatch_jobs_total{outcome=\"retried\"}", 1),
    ] {
        assert_eq!(app.metric(series).await, Some(n), "{series}");
    }
    app.finish().await;
}

/// A review that runs longer than the job's lease keeps it by renewing the lease: the
/// idle second worker never takes it over, so the pull request gets one check run and one
/// comment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_review_longer_than_its_lease_is_not_taken_over() {
    let app = App::new(&["--workers", "2", "--job-lease-secs", "3"]).await;
    let (base, head) = app.bump_pr(12);
    let slow = Duration::from_millis(4500);
    app.fake.fail("pulls/list-files", FaultKind::Slow(slow), 1);
    let delivered = tokio::time::Instant::now();
    app.open(12, &base, &head).await;
    let mut events = app.next_completion().await;
    // Until the slow answer has come back and its review could have ended too.
    tokio::time::sleep_until(delivered + slow + Duration::from_secs(1)).await;
    app.idle().await;
    events.extend(app.fake.drain().await);
    // Taken over, the job would run twice: the second run reuses the check run and edits
    // the comment, but both runs complete the check and finish the job.
    assert_eq!(events.created_check_runs(), vec![head], "{events:#?}");
    assert_eq!(
        events.iter().filter(|e| is_completed(e)).count(),
        1,
        "{events:#?}"
    );
    assert_eq!(app.fake.check_runs().len(), 1);
    assert_eq!(app.fake.comments().len(), 1);
    assert_eq!(
        app.metric("lockwatch_jobs_total{outcome=\"done\"}").await,
        Some(1)
    );
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_signatures_get_401_and_nothing_is_queued() {
    let app = App::new(&[]).await;
    let payload = serde_json::to_vec(&webhooks::pull_request("opened", 9, &sha(), &sha(), false))
        .expect("test step");
    for sign in [Sign::With("wrong-secret"), Sign::None, Sign::LegacySha1Only] {
        let (status, _) =
            webhooks::send(&app.url, "pull_request", &delivery_id(), &payload, sign).await;
        assert_eq!(status, 401);
    }
    // A body changed after signing.
    let mut tampered = payload.clone();
    tampered.push(b' ');
    let sig = webhooks::signature(SECRET, &payload);
    let r = reqwest::Client::new()
        .post(format!("{}/webhook", app.url))
        .header("X-GitHub-Event", "pull_request")
        .header("X-GitHub-Delivery", delivery_id())
        .header("X-Hub-Signature-256", sig)
        .body(tampered)
        .send()
        .await
        .expect("test step");
    assert_eq!(r.status().as_u16(), 401);
    // Ping, an ignored event and an ignored action; GitHub's real payloads.
    let ping =
        serde_json::to_vec(&webhooks::fixture("ping/with-app_id.payload.json")).expect("test step");
    assert_eq!(
        webhooks::send(&app.url, "ping", &delivery_id(), &ping, Sign::With(SECRET))
            .await
            .0,
        200
    );
    assert_eq!(
        webhooks::send(
            &app.url,
            "issues",
            &delivery_id(),
            b"{}",
            Sign::With(SECRET)
        )
        .await
        .0,
        204
    );
    let closed = serde_json::to_vec(&webhooks::fixture("pull_request/closed.payload.json"))
        .expect("test step");
    assert_eq!(
        webhooks::send(
            &app.url,
            "pull_request",
            &delivery_id(),
            &closed,
            Sign::With(OLD_SECRET)
        )
        .await
        .0,
        204
    );
    let inst = serde_json::to_vec(&webhooks::fixture("installation/created.payload.json"))
        .expect("test step");
    assert_eq!(
        webhooks::send(
            &app.url,
            "installation",
            &delivery_id(),
            &inst,
            Sign::With(SECRET)
        )
        .await
        .0,
        200
    );
    assert_eq!(
        app.metric("lockwatch_webhook_signature_failures_total")
            .await,
        Some(4)
    );
    assert_eq!(app.jobs().await.queued, 0);
    assert!(app.fake.world(|w| w.log.is_empty()), "GitHub was called");
    let health = reqwest::get(format!("{}/healthz", app.url))
        .await
        .expect("test step");
    assert_eq!(health.status().as_u16(), 200);
    let ready = reqwest::get(format!("{}/readyz", app.url))
        .await
        .expect("test step");
    assert_eq!(ready.status().as_u16(), 200);
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rerequested_checks_rerun_the_review_or_say_there_is_no_pr() {
    let app = App::new(&[]).await;
    let (base, head) = app.bump_pr(2);
    app.open(2, &base, &head).await;
    app.expect_check(&head, "failure").await;

    // check_suite rerequested (GitHub's example, moved to this head): a fresh run, same comment.
    let mut suite = webhooks::fixture("check_suite/rerequested.payload.json");
    suite["installation"] = json!({"id": 1});
    suite["check_suite"]["head_sha"] = json!(head);
    suite["check_suite"]["pull_requests"][0]["head"]["sha"] = json!(head);
    assert_eq!(app.deliver("check_suite", &suite).await.0, 202);
    let again = app.expect_check(&head, "failure").await;
    assert_eq!(again.created_check_runs(), vec![head.clone()]);
    assert!(again.comments_created().is_empty());

    // check_run rerequested with no pull request in the payload (as for a fork's pull
    // request): nothing reviewed, so `failure` (not `neutral`, which passes), says why.
    let mut run = webhooks::fixture("check_run/rerequested.payload.json");
    run["repository"]["full_name"] = json!(REPO);
    run["check_run"]["head_sha"] = json!(head);
    assert_eq!(app.deliver("check_run", &run).await.0, 202);
    let none = app.reviewed().await;
    assert!(
        none.completions()
            .iter()
            .any(|(_, c, t)| c == "failure" && t.as_deref() == Some("No pull request to review")),
        "{none:#?}"
    );
    assert_eq!(app.fake.comments().len(), 1);
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merge_group_gets_a_check_run_on_its_head_against_its_base_and_no_comment() {
    let app = App::new(&[]).await;
    let base = app.commit(&tree(None, 0));
    let head_tree = merge_group_head_tree();
    assert!(
        head_tree
            .iter()
            .any(|(p, t)| p == "Cargo.lock" && t.contains("version = \"1.0.1\""))
    );
    let head = app.commit(&head_tree);
    let (status, _) = app
        .deliver("merge_group", &webhooks::merge_group(&base, &head))
        .await;
    assert_eq!(status, 202);
    let events = app.expect_check(&head, "failure").await;
    assert_eq!(events.created_check_runs(), vec![head.clone()]);
    let annotations = events.check().annotations;
    let line = package_line(file(&head_tree, "Cargo.lock"), "regex");
    assert!(
        annotations
            .iter()
            .any(|a| a["path"] == "Cargo.lock" && a["start_line"] == line),
        "{annotations:#?}"
    );
    let summary = events.summary();
    assert!(summary.contains("RUSTSEC-2022-0013"), "{summary}");
    assert!(summary.contains("Merge group"), "{summary}");
    assert!(!summary.contains("**mixed-pr**"), "{summary}");
    assert!(
        app.fake.comments().is_empty(),
        "a merge group gets no comment"
    );
    assert!(
        app.fake.world(|w| w
            .log
            .iter()
            .any(|l| l == &format!("GET /repos/{REPO}/compare/{base}...{head}"))),
        "the files came from the compare API"
    );

    // The same change as one pull request is a mixed-pr (so the rule above was skipped,
    // not blind): the pull request gets its comment, the merge group did not.
    app.fake.set_pr(8, &base, &head, false);
    app.open(8, &base, &head).await;
    app.reviewed().await;
    let pr_comment = app.expect_comment(8).body;
    assert!(pr_comment.contains("**mixed-pr**"), "{pr_comment}");

    // A merge group that changes no dependency file: a quick success, still no comment.
    let code_only = app.commit(&tree(None, 3));
    app.deliver("merge_group", &webhooks::merge_group(&base, &code_only))
        .await;
    let quick = app.reviewed().await;
    assert!(
        quick.completions().contains(&(
            code_only.clone(),
            "success".into(),
            Some("No dependency changes".into())
        )),
        "{quick:#?}"
    );
    assert_eq!(app.fake.comments().len(), 1);
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
/// Giving up is `failure`: nothing was reviewed, and GitHub counts `neutral` as passing
/// (issue 13: fail closed).
async fn giving_up_reports_failure_never_a_pass() {
    let app = App::new(&["--max-attempts", "2"]).await;
    let (base, head) = app.bump_pr(6);
    app.fake
        .fail("pulls/list-files", FaultKind::ServerError, 100);
    app.open(6, &base, &head).await;
    let events = app.expect_check(&head, "failure").await;
    let check = events.check();
    assert_eq!(check.title.as_deref(), Some("lockwatch could not finish"));
    assert!(events.summary().contains("502"), "{events:#?}");
    app.idle().await;
    assert_eq!(app.jobs().await.failed, 1);
    assert!(app.fake.comments().is_empty());
    app.fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abrupt_stop_mid_queue_then_restart_publishes_every_review_exactly_once() {
    abrupt_stop_then_restart(&[]).await;
}

/// On PostgreSQL a restarted replica does not take over running jobs at start (another
/// replica may be running them): they come back when their lease runs out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_abrupt_stop_then_restart_publishes_every_review_exactly_once() {
    let Some(url) = postgres_or_skip().await else {
        return;
    };
    abrupt_stop_then_restart(&["--database-url", &url, "--job-lease-secs", "10"]).await;
}

async fn abrupt_stop_then_restart(extra: &[&str]) {
    let mut args = vec!["--workers", "2"];
    args.extend_from_slice(extra);
    let mut app = App::new(&args).await;
    // Slow GitHub, so the stop lands mid-queue and mid-review.
    app.fake.fail(
        "pulls/get",
        FaultKind::Slow(Duration::from_millis(40)),
        1000,
    );
    let heads = app.open_many(20).await;
    app.next_completion().await;
    app.next_completion().await;
    app.server.take().expect("test step").abort();
    app.restart().await;
    app.wait_all_completed(&heads).await;
    app.idle().await;
    app.fake.drain().await;
    app.assert_published_exactly_once(&heads);
    app.fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkilled_binary_with_100_queued_reviews_finishes_all_after_restart() {
    let listen = format!("127.0.0.1:{}", free_port());
    let app = App::for_binary(&listen, &[]).await;
    let logs = tempfile::tempdir().expect("test step");
    let spawn = |n: usize| {
        ServeProcess::spawn_with_env(
            &app.fake.url,
            app.data.path(),
            &listen,
            &logs.path().join(format!("{n}.log")),
            &[],
            &[("LOCKWATCH_LOG", "warn")],
        )
    };
    let t0 = std::time::Instant::now();
    let mut child = spawn(0);
    ServeProcess::wait_ready(&app.url).await;
    eprintln!("phase healthy {:?}", t0.elapsed());
    app.fake.fail(
        "pulls/get",
        FaultKind::Slow(Duration::from_millis(20)),
        10_000,
    );
    let heads = app.open_many(100).await;
    eprintln!("phase opened {:?}", t0.elapsed());
    // Every delivery accepted, some reviews published, most still queued: SIGKILL.
    app.next_completion().await;
    child.kill();
    let done_before = app
        .fake
        .check_runs()
        .iter()
        .filter(|r| r.conclusion.is_some())
        .count();
    eprintln!(
        "phase killed {:?} with {done_before} of 100 published",
        t0.elapsed()
    );
    assert!(
        done_before < 60,
        "the kill came too late to test anything ({done_before} done)"
    );
    let mut child = spawn(1);
    ServeProcess::wait_ready(&app.url).await;
    eprintln!("phase restarted {:?}", t0.elapsed());
    app.wait_all_completed(&heads).await;
    eprintln!(
        "phase completed {:?}; pulls/get calls: {}",
        t0.elapsed(),
        app.fake.world(|w| w
            .log
            .iter()
            .filter(|l| l.starts_with("GET") && l.contains("/pulls/") && !l.ends_with("/files"))
            .count())
    );
    app.idle().await;
    child.kill();
    app.fake.drain().await;
    app.assert_published_exactly_once(&heads);
    app.fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_than_3000_changed_files_are_capped_like_github_and_the_review_says_so() {
    let app = App::new(&[]).await;
    let base = app.commit(&tree(None, 0));
    // 3,100 generated files besides the dependency change: GitHub (and the fake) lists only
    // the first 3,000, 100 per page, and the last page has no `Link: next`.
    let head = app.commit(&tree(Some("1.5.4"), 3100));
    app.fake.set_pr(7, &base, &head, false);
    app.open(7, &base, &head).await;
    // `Cargo.lock` sorts before `src/...`, so it is among the 3,000: reviewed as usual...
    let events = app.expect_check(&head, "failure").await;
    assert_eq!(app.file_list_pages(7), 30, "one request per page of 100");
    let comment = events
        .comments_created()
        .into_iter()
        .next()
        .map(|(_, id, body)| (id, body))
        .unwrap_or_else(|| panic!("no comment: {events:#?}"));
    assert!(comment.1.contains("RUSTSEC-2022-0013"), "{}", comment.1);
    // ...and the comment and the check run say the list was cut.
    let note = "at most 3,000 changed files of a pull request, and this one reached that limit: the file list was truncated by GitHub, so dependency changes in files past the first 3,000 may be missed.";
    assert!(comment.1.contains(note), "{}", comment.1);
    assert!(
        events.iter().any(|e| matches!(e, Published::CheckRunUpdated { conclusion: Some(_), summary: Some(s), .. } if s.contains(note))),
        "{events:#?}"
    );

    // A push whose only dependency change sorts past the cap (GitHub's order is not the
    // reviewer's choice): nothing among the 3,000 listed files is a lock file or manifest.
    // The root `Cargo.lock` is read at both commits anyway; it changed (regex 1.5.4 becomes
    // 1.5.5), so it is reviewed: the same comment is edited, and says how it was found.
    // Other lock files past the cap could not be seen: the check cannot pass (issue 13).
    let assets = |mut files: Vec<(String, String)>| {
        for i in 0..3100 {
            files.push((format!("Assets/a{i:04}.txt"), format!("{i}\n")));
        }
        files
    };
    let unseen = "GitHub's list of changed files stopped at 3,000 files, so lock files and manifests past it could not be seen";
    let moved = app.commit(&assets(tree(Some("1.5.5"), 0)));
    app.push_head(7, &base, &moved).await;
    let events = app.expect_check(&moved, "failure").await;
    let past_cap = "Cargo.lock is past the end of GitHub's list of changed files; lockwatch read it at both commits and reviewed its changes.";
    let edited = events
        .comment_edited(comment.0)
        .unwrap_or_else(|| panic!("the comment was not edited: {events:#?}"));
    assert!(edited.contains("regex"), "{edited}");
    assert!(!edited.contains("RUSTSEC-2022-0013"), "{edited}");
    assert!(
        edited.contains(past_cap) && edited.contains(note) && edited.contains(unseen),
        "{edited}"
    );

    // A dependency change past the cap that is not the root lock file (here the manifest
    // only; the root `Cargo.lock` is the base's): not "no dependency changes" either. It
    // was `neutral` (passing); now `failure`, saying why, in the check run and the comment.
    let mut manifest_only = tree(None, 0);
    manifest_only[0].1.push_str("\n[features]\nextra = []\n");
    let manifest_moved = app.commit(&assets(manifest_only));
    app.push_head(7, &base, &manifest_moved).await;
    let events = app.reviewed().await;
    assert!(
        events.iter().any(|e| matches!(e, Published::CheckRunUpdated { conclusion: Some(c), summary: Some(s), head_sha, .. }
            if c == "failure" && s.contains(note) && s.contains(unseen) && *head_sha == manifest_moved)),
        "{events:#?}"
    );
    assert_eq!(app.fake.comments().len(), 1);
    assert!(app.fake.comments()[0].body.contains(unseen));
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_installation_token_is_replaced_once_and_the_review_published_once() {
    let app = App::new(&[]).await;
    let (base, head) = app.bump_pr(8);
    // Mid-review (after the pull request was read and the check run opened with the cached
    // token), the token is revoked: GitHub answers 401 to it from then on.
    app.fake
        .fail("pulls/list-files", FaultKind::RevokeTokens, 1);
    app.open(8, &base, &head).await;
    let events = app.expect_check(&head, "failure").await;
    assert_eq!(events.created_check_runs(), vec![head.clone()]);
    let (minted, revoked, refused) = app
        .fake
        .world(|w| (w.tokens_minted, w.tokens_revoked, w.unauthorized));
    assert_eq!(
        (minted, revoked, refused),
        (2, 1, 1),
        "one token, revoked, one 401, one new token"
    );
    // The file list was asked for twice (401, then with the new token), in the same attempt.
    assert_eq!(app.file_list_pages(8), 2);
    assert_eq!(
        app.metric("lockwatch_github_api_calls_total{status=\"401\"}")
            .await,
        Some(1)
    );
    assert_eq!(
        app.metric("lockwatch_jobs_total{outcome=\"retried\"}")
            .await,
        Some(0)
    );
    assert_eq!(app.fake.comments().len(), 1);
    assert_eq!(app.fake.check_runs().len(), 1);

    // The next review uses the new token from the cache: no third mint.
    let head2 = app.commit(&tree(Some("1.5.4"), 1));
    app.fake.set_pr(9, &base, &head2, false);
    app.open(9, &base, &head2).await;
    let events = app.reviewed().await;
    assert_eq!(events.check().head, head2);
    assert_eq!(
        app.fake.world(|w| (w.tokens_minted, w.unauthorized)),
        (2, 1)
    );
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_rejected_again_after_the_refresh_is_not_retried_in_a_loop() {
    let app = App::new(&["--max-attempts", "1"]).await;
    let (base, head) = app.bump_pr(10);
    // Both the cached token and the fresh one are refused on the file list.
    app.fake
        .fail("pulls/list-files", FaultKind::RevokeTokens, 2);
    app.open(10, &base, &head).await;
    let events = app.reviewed().await;
    // One refresh per request, not more; the job gives up (401 is not transient) and says so
    // on the check run, with a token minted for that (its cached one was revoked too).
    assert_eq!(app.file_list_pages(10), 2);
    assert!(events.iter().any(|e| matches!(e, Published::CheckRunUpdated { conclusion: Some(c), title: Some(t), summary: Some(s), .. }
        if c == "failure" && t == "lockwatch could not finish" && s.contains("401"))), "{events:#?}");
    assert_eq!(app.fake.world(|w| w.tokens_minted), 3);
    assert!(app.fake.comments().is_empty());
    app.idle().await;
    assert_eq!(app.jobs().await.failed, 1);
    app.fake.assert_clean();
}

/// Start the real binary with `grace` seconds of shutdown grace, open PR `pr` (a bump of
/// `time`) while GitHub answers its file list after `slow`, and return once the review is
/// running: its check run is open and the file list is being read. Returns the server and
/// the head SHA.
async fn real_server_mid_review(
    app: &App,
    listen: &str,
    log: &Path,
    grace: &str,
    pr: u64,
    slow: Duration,
) -> (ServeProcess, String) {
    let server = ServeProcess::spawn(
        &app.fake.url,
        app.data.path(),
        listen,
        log,
        &["--shutdown-grace-secs", grace],
    );
    ServeProcess::wait_ready(&app.url).await;
    let (base, head) = app.bump_pr(pr);
    app.fake.fail("pulls/list-files", FaultKind::Slow(slow), 1);
    assert_eq!(app.open(pr, &base, &head).await.0, 202);
    let opened = app.fake.next(WAIT).await;
    assert!(
        matches!(&opened, Published::CheckRunCreated { head_sha, status, .. } if *head_sha == head && status == "in_progress"),
        "{opened:?}"
    );
    let deadline = tokio::time::Instant::now() + WAIT;
    while app.file_list_pages(pr) == 0 {
        assert!(tokio::time::Instant::now() < deadline, "no file list read");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    (server, head)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_review_requeues_the_job_uncounted_and_the_restart_publishes_it_once() {
    let listen = format!("127.0.0.1:{}", free_port());
    let app = App::for_binary(&listen, &[]).await;
    let logs = tempfile::tempdir().expect("test step");
    // The file list takes 20 s: far longer than the 1 s grace period.
    let (mut first, head) = real_server_mid_review(
        &app,
        &listen,
        &logs.path().join("first.log"),
        "1",
        11,
        Duration::from_secs(20),
    )
    .await;
    let t = std::time::Instant::now();
    first.sigterm();
    let status = first.exited(Duration::from_secs(15)).await;
    let took = t.elapsed();
    let log = first.log_text();
    assert!(status.success(), "exit {status:?}; log:\n{log}");
    // It waited the grace period, then gave the job back instead of waiting 20 s.
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(10),
        "stopped after {took:?}"
    );
    assert!(
        log.contains("shutting down mid-review: the job goes back to the queue"),
        "{log}"
    );
    assert!(
        app.fake.drain().await.is_empty(),
        "nothing is published by a job that was stopped"
    );
    assert!(app.fake.comments().is_empty());
    assert_eq!(app.fake.check_runs()[0].conclusion, None);

    // The restart on the same data directory runs the job as its first attempt (the stopped
    // one is not counted), on the same check run, and publishes once.
    let second = ServeProcess::spawn(
        &app.fake.url,
        app.data.path(),
        &listen,
        &logs.path().join("second.log"),
        &["--shutdown-grace-secs", "1"],
    );
    ServeProcess::wait_ready(&app.url).await;
    let events = app.next_completion().await;
    assert!(events.created_check_runs().is_empty(), "{events:#?}");
    let check = events.check();
    assert_eq!(
        (check.head.as_str(), check.conclusion.as_str()),
        (head.as_str(), "failure")
    );
    app.idle().await;
    let log = second.log_text();
    assert!(
        log.lines()
            .any(|l| l.contains("job done") && l.contains("attempt=1")),
        "{log}"
    );
    assert!(!log.contains("attempt=2"), "{log}");
    assert!(!log.contains("re-queued jobs left running"), "{log}");
    drop(second);
    app.fake.drain().await;
    app.assert_published_exactly_once(std::slice::from_ref(&head));
    app.fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_accepting_and_lets_a_running_review_finish_within_the_grace_period() {
    let listen = format!("127.0.0.1:{}", free_port());
    let app = App::for_binary(&listen, &[]).await;
    let logs = tempfile::tempdir().expect("test step");
    let (mut first, head) = real_server_mid_review(
        &app,
        &listen,
        &logs.path().join("first.log"),
        "30",
        12,
        Duration::from_secs(5),
    )
    .await;
    first.sigterm();
    // New connections are refused at once, while the review still runs.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("test step");
    while client
        .get(format!("{}/healthz", app.url))
        .send()
        .await
        .is_ok()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "still accepting connections after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(first.running(), "exited without finishing the review");
    assert!(
        app.fake.comments().is_empty(),
        "the review finished too soon to test anything"
    );
    // The review finishes and is published before the process exits.
    let status = first.exited(Duration::from_secs(25)).await;
    assert!(
        status.success(),
        "exit {status:?}; log:\n{}",
        first.log_text()
    );
    let events = Events(app.fake.drain().await);
    assert_eq!(events.conclusion(), "failure", "{events:#?}");
    assert_eq!(app.fake.comments().len(), 1);
    assert!(
        !first.log_text().contains("goes back to the queue"),
        "{}",
        first.log_text()
    );

    // A restart finds nothing to do: the job was recorded done before the exit.
    let _second = ServeProcess::spawn(
        &app.fake.url,
        app.data.path(),
        &listen,
        &logs.path().join("second.log"),
        &["--shutdown-grace-secs", "1"],
    );
    ServeProcess::wait_ready(&app.url).await;
    let jobs = app.jobs().await;
    assert_eq!(
        (jobs.done, jobs.queued, jobs.running),
        (1, 0, 0),
        "{jobs:?}"
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(app.fake.drain().await.is_empty());
    app.assert_published_exactly_once(std::slice::from_ref(&head));
    app.fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_published_after_an_earlier_review_is_found_in_the_index() {
    use lockwatch::registry::fake::FakeRegistry;
    use lockwatch::testkit::Krate;
    use lockwatch_tests::lockgen::Pkg;
    let registry = FakeRegistry::start().await;
    let publish = |v: &str| {
        let k = Krate::new("memocrate", v)
            .file("src/lib.rs", "pub fn f() {}\n")
            .build();
        registry.publish("memocrate", v, k, vec![])
    };
    let tree_with = |v: &str, sum: &str| {
        let pkgs = vec![
            Pkg {
                name: "memocrate".into(),
                version: v.into(),
                source: Some(lockwatch_tests::lockgen::CRATES_IO.into()),
                checksum: Some(sum.into()),
                deps: Vec::new(),
            },
            member("app", "0.1.0").deps(&["memocrate"]),
        ];
        vec![
            (
                "Cargo.toml".to_string(),
                "[package]\nname = \"app\"\nversion = \"0.1.0\"\n\n[dependencies]\nmemocrate = \"1\"\n".to_string(),
            ),
            ("Cargo.lock".to_string(), lock(3, &pkgs)),
        ]
    };
    let (s0, s1) = (publish("1.0.0"), publish("1.0.1"));
    let index = registry.index_url().to_string();
    let app = App::new(&["--index-url", &index]).await;
    let base = app.commit(&tree_with("1.0.0", &s0));
    let head = app.commit(&tree_with("1.0.1", &s1));
    app.fake.set_pr(13, &base, &head, false);
    app.open(13, &base, &head).await;
    let first = app.next_completion().await.summary();
    assert!(!first.contains("not in the index"), "{first}");

    // memocrate 1.0.2 is released after that review; a pull request bumps to it.
    let s2 = publish("1.0.2");
    let next = app.commit(&tree_with("1.0.2", &s2));
    app.fake.set_pr(14, &head, &next, false);
    app.open(14, &head, &next).await;
    let second = app.next_completion().await.summary();
    assert!(!second.contains("not in the index"), "{second}");
    app.fake.drain().await;
    app.fake.assert_clean();
}

/// Two `lockwatch serve` processes on one job database. Replica A is paused (SIGSTOP) in
/// the middle of a review, while it waits for GitHub's list of comments (answered after
/// 6 s), and stays paused past its 3 s lease; replica B takes the job over and publishes
/// it. A, resumed, must publish nothing: one completed check run and one comment, both
/// B's.
async fn a_paused_replica_publishes_nothing_after_the_takeover(database_url: Option<&str>) {
    let logs = tempfile::tempdir().expect("test step");
    let mut extra = vec!["--job-lease-secs", "3"];
    if let Some(url) = database_url {
        extra.extend_from_slice(&["--database-url", url]);
    }
    let (listen_a, listen_b) = (
        format!("127.0.0.1:{}", free_port()),
        format!("127.0.0.1:{}", free_port()),
    );
    let app = App::for_binary(&listen_a, &extra).await;
    // SQLite: both processes on one data directory (as in a rolling update on one volume:
    // the new process re-queues the running jobs it finds at start). PostgreSQL: a data
    // directory each, one database.
    let data_b = tempfile::tempdir().expect("test step");
    let data_b_path = match database_url {
        Some(_) => data_b.path().to_path_buf(),
        None => app.data.path().to_path_buf(),
    };
    let a = ServeProcess::spawn(
        &app.fake.url,
        app.data.path(),
        &listen_a,
        &logs.path().join("a.log"),
        &extra,
    );
    ServeProcess::wait_ready(&app.url).await;
    let (base, head) = app.bump_pr(20);
    app.fake.fail(
        "issues/list-comments",
        FaultKind::Slow(Duration::from_secs(6)),
        1,
    );
    assert_eq!(app.open(20, &base, &head).await.0, 202);
    let comments_read = format!("GET /repos/{REPO}/issues/20/comments");
    let deadline = tokio::time::Instant::now() + WAIT;
    while !app.fake.world(|w| w.log.contains(&comments_read)) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "A never reached the comment; log:\n{}",
            a.log_text()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    a.signal("STOP");
    let paused = tokio::time::Instant::now();

    let b = ServeProcess::spawn(
        &app.fake.url,
        &data_b_path,
        &listen_b,
        &logs.path().join("b.log"),
        &extra,
    );
    let mut events = app.next_completion().await;
    // The comment follows the check run's completion.
    events.extend(
        app.fake
            .until(WAIT, |e| matches!(e, Published::CommentCreated { .. }))
            .await,
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Published::CommentCreated { .. })),
        "{events:#?}"
    );
    // A's answer from GitHub is written (to its socket) 6 s after it asked; resume A after
    // that, so that it goes on exactly where the pause stopped it.
    tokio::time::sleep_until(paused + Duration::from_secs(7)).await;
    a.signal("CONT");
    // Time for A to publish, were it to: its next steps are an edit of the comment and the
    // completion of the check run, a few milliseconds each.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let after = app.fake.drain().await;
    let log_a = a.log_text();
    let log_b = b.log_text();
    assert!(
        !after.iter().any(|e| is_completed(e)
            || matches!(
                e,
                Published::CommentCreated { .. } | Published::CommentEdited { .. }
            )),
        "A published after losing its lease: {after:#?}\nA's log:\n{log_a}"
    );
    let runs = app.fake.check_runs();
    assert_eq!(runs.len(), 1, "{runs:#?}");
    assert_eq!(runs[0].conclusion.as_deref(), Some("failure"));
    assert_eq!(app.fake.comments().len(), 1);
    assert!(
        log_b
            .lines()
            .any(|l| l.contains("job done") && l.contains("attempt=2")),
        "B did not publish the job as its second attempt:\n{log_b}"
    );
    assert!(
        log_a.contains("lost the job's lease") || log_a.contains("no longer running here"),
        "A did not notice:\n{log_a}"
    );
    assert!(!log_a.contains("job done"), "{log_a}");
    app.fake.assert_clean();
    drop((a, b));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_replica_paused_past_its_lease_publishes_nothing_after_the_takeover() {
    let Some(url) = postgres_or_skip().await else {
        return;
    };
    a_paused_replica_publishes_nothing_after_the_takeover(Some(&url)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_paused_while_another_takes_its_sqlite_file_over_publishes_nothing() {
    a_paused_replica_publishes_nothing_after_the_takeover(None).await;
}

/// A review that crashes the process (here: aborts it, through the tests' fault
/// injection) is claimed again after every restart. With `--max-attempts 2`, the third
/// start gives it up at claim time, without running it again: its check run completes as
/// `failure` (nothing was reviewed) and says the review crashed and how to re-run it; the
/// server keeps running and reviews other pull requests.
async fn a_review_that_crashes_the_process_is_given_up_after_max_attempts(
    database_url: Option<&str>,
) {
    let mut extra = vec!["--max-attempts", "2", "--job-lease-secs", "3"];
    if let Some(url) = database_url {
        extra.extend_from_slice(&["--database-url", url]);
    }
    let listen = format!("127.0.0.1:{}", free_port());
    let app = App::for_binary(&listen, &extra).await;
    let logs = tempfile::tempdir().expect("test step");
    let crash = format!("{REPO}#21");
    let env = [("LOCKWATCH_FAULT_ABORT_REVIEW", crash.as_str())];
    let start = |n: usize| {
        ServeProcess::spawn_with_env(
            &app.fake.url,
            app.data.path(),
            &listen,
            &logs.path().join(format!("{n}.log")),
            &extra,
            &env,
        )
    };
    let mut server = start(0);
    ServeProcess::wait_ready(&app.url).await;
    let (base, head) = app.bump_pr(21);
    assert_eq!(app.open(21, &base, &head).await.0, 202);
    let mut crashes = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let done = app
            .fake
            .check_runs()
            .iter()
            .any(|r| r.head_sha == head && r.conclusion.is_some());
        if done {
            break;
        }
        if !server.running() {
            crashes += 1;
            assert!(
                crashes <= 4,
                "still crashing after {crashes} starts; last log:\n{}",
                server.log_text()
            );
            server = start(crashes);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "neither crashed nor finished; log:\n{}",
            server.log_text()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Attempts 1 and 2 crashed; the third claim gave the job up without running it.
    assert_eq!(crashes, 2);
    let run = app
        .fake
        .check_runs()
        .into_iter()
        .find(|r| r.head_sha == head)
        .expect("a check run");
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    let summary = run.summary.unwrap_or_default();
    assert!(
        summary.contains("crashed") && summary.contains("Re-run"),
        "{summary}"
    );
    assert!(app.fake.comments().is_empty());
    assert!(server.running(), "{}", server.log_text());
    assert_eq!(app.jobs().await.failed, 1);
    // The server still reviews: another pull request is published as usual.
    let (base, other) = app.bump_pr(22);
    assert_eq!(app.open(22, &base, &other).await.0, 202);
    app.wait_all_completed(std::slice::from_ref(&other)).await;
    app.idle().await;
    drop(server);
    app.fake.drain().await;
    app.fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_review_that_crashes_the_process_is_given_up_after_max_attempts_restarts() {
    a_review_that_crashes_the_process_is_given_up_after_max_attempts(None).await;
}

/// On PostgreSQL a crashed replica's job comes back when its lease runs out (3 s here).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_review_that_crashes_the_process_is_given_up_after_max_attempts() {
    let Some(url) = postgres_or_skip().await else {
        return;
    };
    a_review_that_crashes_the_process_is_given_up_after_max_attempts(Some(&url)).await;
}

/// A delivery whose id repeats an earlier one's but whose signed body differs is not a
/// redelivery (GitHub's redeliveries repeat the body too): the head it announces gets its
/// review. Only the same id with the same body is a duplicate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_id_seen_before_with_another_body_is_reviewed_not_dropped() {
    let app = App::new(&[]).await;
    let (base, head) = app.bump_pr(23);
    let id = delivery_id();
    let opened = webhooks::pull_request("opened", 23, &base, &head, false);
    assert_eq!(app.deliver_as("pull_request", &id, &opened).await.0, 202);
    app.expect_check(&head, "failure").await;
    let (status, text) = app.deliver_as("pull_request", &id, &opened).await;
    assert_eq!((status, text.trim()), (200, "duplicate delivery"));

    // The pull request moves on; a delivery under the same id announces the new head.
    let fixed = app.commit(&tree(Some("1.5.5"), 0));
    app.fake.set_pr(23, &base, &fixed, false);
    let sync = webhooks::pull_request("synchronize", 23, &base, &fixed, false);
    assert_eq!(app.deliver_as("pull_request", &id, &sync).await.0, 202);
    app.expect_check(&fixed, "success").await;
    app.finish().await;
}

/// A delivery for an older head that arrives late (after the push that replaced it) while
/// the real head's review runs. Arrival order made the older head "the newest", and the
/// real head's review was completed as `neutral` "superseded", a passing check on a head
/// with a `deny` finding. The newest head is GitHub's word: the real head's run carries
/// its own review (`failure`), and the comment is its review.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_delivery_for_an_older_head_does_not_supersede_the_running_review_of_the_head() {
    let app = App::new(&[]).await;
    let (base, first) = app.bump_pr(24);
    app.open(24, &base, &first).await;
    assert_eq!(app.next_completion().await.conclusion(), "failure");
    // A push: the new head's review is slow to list the files...
    let head = app.commit(&tree(Some("1.5.4"), 2));
    app.fake.fail(
        "pulls/list-files",
        FaultKind::Slow(Duration::from_secs(2)),
        1,
    );
    let pages = app.file_list_pages(24);
    app.push_head(24, &base, &head).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while app.file_list_pages(24) == pages {
        assert!(tokio::time::Instant::now() < deadline, "no file list read");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // ...and meanwhile a delivery for the first head arrives, late.
    assert_eq!(
        app.deliver(
            "pull_request",
            &webhooks::pull_request("synchronize", 24, &base, &first, false)
        )
        .await
        .0,
        202
    );
    let (conclusion, runs) = app.completed_run_on(&head).await;
    app.idle().await;
    assert_eq!((conclusion.as_str(), runs), ("failure", 1));
    let run = app
        .fake
        .check_runs()
        .into_iter()
        .find(|r| r.head_sha == head)
        .expect("run");
    assert!(
        !run.summary.unwrap_or_default().contains("Superseded"),
        "the head's run must carry its own review"
    );
    // The first head keeps its own review; the comment shows the head's.
    assert_eq!(app.last_run_on(&first), Some((Some("failure".into()), 1)));
    assert_eq!(app.fake.comments().len(), 1);
    app.fake.drain().await;
    app.finish().await;
}

/// The same late delivery while the real head's job waits in the queue (coalescing): it
/// superseded the queued job, and the older head's job, finding the pull request moved on,
/// published nothing, so the real head never got a check run. The job that finds the pull
/// request's head is another queues that head's review.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_delivery_for_an_older_head_does_not_leave_the_head_without_a_review() {
    let app = App::new(&["--coalesce-ms", "1000"]).await;
    let base = app.commit(&tree(None, 0));
    let first = app.commit(&tree(Some("1.5.4"), 1));
    let head = app.commit(&tree(Some("1.5.4"), 2));
    app.fake.set_pr(25, &base, &head, false);
    app.push_head(25, &base, &head).await;
    // The `opened` delivery of the first head, late (GitHub does not promise an order).
    app.open(25, &base, &first).await;
    let (conclusion, runs) = app.completed_run_on(&head).await;
    app.idle().await;
    assert_eq!((conclusion.as_str(), runs), ("failure", 1));
    assert_eq!(app.last_run_on(&first), None, "not the head: not reviewed");
    assert_eq!(app.fake.comments().len(), 1);
    app.fake.drain().await;
    app.finish().await;
}

/// Push `next` to pull request `pr` once GitHub has been asked for `op` of the running
/// review (answered `slow`ly), so the head moves while that answer is on its way; the
/// push's delivery is sent when `deliver` (and answered 202), or lost.
async fn push_during(
    app: &App,
    op: &str,
    slow: Duration,
    pr: u64,
    base: &str,
    next: &str,
    deliver: bool,
) {
    let count = |app: &App| {
        app.fake.world(|w| {
            w.log
                .iter()
                .filter(|l| match op {
                    "pulls/list-files" => l.ends_with(&format!("/pulls/{pr}/files")),
                    _ => l.contains("/contents/"),
                })
                .count()
        })
    };
    let before = count(app);
    app.fake.fail(op, FaultKind::Slow(slow), 1);
    let deadline = tokio::time::Instant::now() + WAIT;
    while count(app) == before {
        assert!(tokio::time::Instant::now() < deadline, "{op} never asked");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    if deliver {
        assert_eq!(app.push_head(pr, base, next).await.0, 202);
    } else {
        app.fake.set_pr(pr, base, next, false);
    }
}

/// A push while a review runs, after its inputs were read: the older commit's check run
/// carries its own review (here `failure`, with a note that it is no longer the head), the
/// comment is left to the new head, and the new head is reviewed (`success`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_after_a_reviews_inputs_were_read_leaves_the_older_commit_its_own_review() {
    let app = App::new(&[]).await;
    let (base, first) = app.bump_pr(26);
    let fixed = app.commit(&tree(Some("1.5.5"), 0));
    let (open, ()) = tokio::join!(
        app.open(26, &base, &first),
        push_during(
            &app,
            "repos/get-content",
            Duration::from_secs(2),
            26,
            &base,
            &fixed,
            true
        )
    );
    assert_eq!(open.0, 202);
    assert_eq!(
        app.completed_run_on(&fixed).await,
        ("success".to_string(), 1)
    );
    let (conclusion, runs) = app.completed_run_on(&first).await;
    app.idle().await;
    assert_eq!((conclusion.as_str(), runs), ("failure", 1));
    let old = app
        .fake
        .check_runs()
        .into_iter()
        .find(|r| r.head_sha == first)
        .and_then(|r| r.summary)
        .unwrap_or_default();
    assert!(
        old.starts_with("**This commit is no longer the head of pull request #26**")
            && old.contains("RUSTSEC-2022-0013"),
        "{old}"
    );
    assert!(
        app.fake
            .comments()
            .iter()
            .all(|c| !c.body.contains("RUSTSEC-2022-0013")),
        "the older commit's review reached the pull request's comment"
    );
    app.fake.drain().await;
    app.finish().await;
}

/// A push while the pull request's files are listed: the list may be the new head's, so
/// the older commit is not reviewed from it; its check run completes `cancelled` (not
/// passing) and says why, and the new head is reviewed, even when GitHub's delivery of the
/// push is lost: the job that found the head moved queues the head's review.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_while_the_files_are_listed_leaves_the_older_commit_unreviewed_not_passing() {
    push_while_the_files_are_listed(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_whose_delivery_is_lost_still_gets_its_head_reviewed() {
    push_while_the_files_are_listed(false).await;
}

async fn push_while_the_files_are_listed(deliver: bool) {
    let app = App::new(&[]).await;
    let (base, first) = app.bump_pr(27);
    let next = app.commit(&tree(Some("1.5.4"), 3));
    let (open, ()) = tokio::join!(
        app.open(27, &base, &first),
        push_during(
            &app,
            "pulls/list-files",
            Duration::from_secs(2),
            27,
            &base,
            &next,
            deliver
        )
    );
    assert_eq!(open.0, 202);
    assert_eq!(
        app.completed_run_on(&next).await,
        ("failure".to_string(), 1)
    );
    assert_eq!(
        app.completed_run_on(&first).await,
        ("cancelled".to_string(), 1)
    );
    app.idle().await;
    let events = app.fake.drain().await;
    assert!(
        events.iter().any(
            |e| matches!(e, Published::CheckRunUpdated { head_sha, title: Some(t), .. }
            if *head_sha == first && t == "Not reviewed: no longer the head")
        ),
        "{events:#?}"
    );
    assert_eq!(app.fake.comments().len(), 1);
    app.finish().await;
}

// Issue 13: verdicts nobody can flip (fail closed).

/// A throw-away workspace's lock file (`t/Cargo.lock`), serde at `serde`.
fn throwaway_lock(i: usize, serde: &str) -> String {
    lock(
        3,
        &[
            reg("serde", serde),
            member(&format!("t{i}"), "0.1.0").deps(&["serde"]),
        ],
    )
}

/// 13.2: 200 throw-away `NNNN/Cargo.lock` files sort before the root `Cargo.lock`; the App
/// read the first 200 and never the root one (which adds regex 1.5.4, a RUSTSEC advisory):
/// `success`. The root lock file is always reviewed, and a changed lock file that was not
/// reviewed fails the check (`unreviewable`, naming how many).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_files_past_the_cap_neither_hide_the_root_lock_nor_pass() {
    let app = App::new(&[]).await;
    let with_throwaways = |mut files: Vec<(String, String)>, serde: &str| {
        for i in 0..200 {
            files.push((format!("{i:04}/Cargo.lock"), throwaway_lock(i, serde)));
        }
        files
    };
    let base = app.commit(&with_throwaways(tree(None, 0), "1.0.0"));
    let head = app.commit(&with_throwaways(tree(Some("1.5.4"), 0), "1.0.1"));
    app.fake.set_pr(31, &base, &head, false);
    app.open(31, &base, &head).await;
    let events = app.reviewed().await;
    let summary = events.summary();
    assert_eq!(events.conclusion(), "failure", "{summary}");
    assert!(summary.contains("RUSTSEC-2022-0013"), "{summary}");
    assert!(
        summary.contains("1 changed lock file was not reviewed"),
        "{summary}"
    );

    // Only throw-away lock files, 201 of them, nothing at `deny` in the 200 read: the one
    // not read fails the check all the same.
    let many = |serde: &str| {
        let mut files = tree(None, 0);
        for i in 0..201 {
            files.push((format!("{i:04}/Cargo.lock"), throwaway_lock(i, serde)));
        }
        files
    };
    let (base, head) = (app.commit(&many("1.0.0")), app.commit(&many("1.0.1")));
    app.fake.set_pr(32, &base, &head, false);
    app.open(32, &base, &head).await;
    let events = app.reviewed().await;
    let summary = events.summary();
    assert_eq!(events.conclusion(), "failure", "{summary}");
    assert!(
        summary.contains("1 changed lock file was not reviewed: 0200/Cargo.lock."),
        "{summary}"
    );
    app.finish().await;
}

/// 13.2: a file listing cut short (pages that stop without `Link: next` before GitHub's
/// count of changed files) hid `zz/Cargo.lock`, which adds an advisory: "No dependency
/// changes", `success`. A listing shorter than the pull request's `changed_files` is
/// incomplete, and an incomplete listing cannot pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_listing_cut_short_cannot_pass() {
    let app = App::new(&[]).await;
    let base = app.commit(&tree(None, 0));
    let mut head_tree = tree(None, 120);
    let nested = lock(
        3,
        &[
            reg("regex", "1.5.4"),
            member("zz", "0.1.0").deps(&["regex"]),
        ],
    );
    head_tree.push(("zz/Cargo.lock".into(), nested));
    let head = app.commit(&head_tree);
    app.fake.set_pr(33, &base, &head, false);
    app.fake.world(|w| w.file_list_pages = Some(1));
    app.open(33, &base, &head).await;
    let events = app.reviewed().await;
    let summary = events.summary();
    assert_eq!(app.file_list_pages(33), 1);
    assert_eq!(events.conclusion(), "failure", "{summary}");
    assert!(
        summary.contains("GitHub's list of changed files stopped at 3,000 files"),
        "{summary}"
    );
    app.finish().await;
}

/// 13.3: GitHub answered 404 for the head's `Cargo.lock`, which its own list of changed
/// files names as modified: the App took it for absent and passed. The contents API is
/// asked again, then the blob the list names; a file no way returns is `unreviewable`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listed_lock_file_that_github_answers_404_for_is_not_absent() {
    let app = App::new(&[]).await;
    // The contents API keeps answering 404; the blob API has it: reviewed as usual.
    let (base, head) = app.bump_pr(34);
    app.fake.hide(&head, "Cargo.lock", false);
    app.open(34, &base, &head).await;
    let events = app.reviewed().await;
    let summary = events.summary();
    assert_eq!(events.conclusion(), "failure", "{summary}");
    assert!(summary.contains("RUSTSEC-2022-0013"), "{summary}");
    let blob_reads = app
        .fake
        .world(|w| w.log.iter().filter(|l| l.contains("/git/blobs/")).count());
    assert_eq!(blob_reads, 1);

    // Neither way returns it (head side), then the base side: `unreviewable`, failing.
    for side in ["head", "base"] {
        let pr = if side == "head" { 35 } else { 36 };
        let base = app.commit(&tree(None, 0));
        let head = app.commit(&tree(Some("1.5.5"), 0));
        app.fake.set_pr(pr, &base, &head, false);
        app.fake.hide(
            if side == "head" { &head } else { &base },
            "Cargo.lock",
            true,
        );
        app.open(pr, &base, &head).await;
        let events = app.reviewed().await;
        let summary = events.summary();
        assert_eq!(events.conclusion(), "failure", "{side}: {summary}");
        assert!(
            summary.contains(&format!(
                "Cargo.lock could not be read at the {side} commit"
            )) && summary.contains("404"),
            "{side}: {summary}"
        );
    }
    app.finish().await;
}

/// 13.4: another user's comment carrying lockwatch's marker was taken for lockwatch's; the
/// edit was refused (403), and the review with `deny` findings completed `neutral`. The
/// sticky comment is the marker comment written by the App's own bot account (`GET /app`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commenters_marker_comment_is_neither_edited_nor_a_reason_to_pass() {
    let app = App::new(&[]).await;
    // Mallory plants a comment with lockwatch's marker before the pull request is opened.
    let planted = format!(
        "{}\nlockwatch: nothing to flag",
        lockwatch::report::COMMENT_MARKER
    );
    let theirs = app.comment(37, "mallory", &planted);
    let mut pr = app
        .open_pr(37, &tree(None, 0), &tree(Some("1.5.4"), 0))
        .await;
    app.expect_check(&pr.head, "failure").await;
    let comments = app.fake.comments();
    assert_eq!(comments.len(), 2, "{comments:#?}");
    let mallorys = comments.iter().find(|c| c.id == theirs).expect("test step");
    assert_eq!(mallorys.body, planted, "someone else's comment was edited");
    let ours = app.expect_comment(37);
    assert_ne!(ours.id, theirs);
    assert!(ours.body.contains("RUSTSEC-2022-0013"), "{}", ours.body);
    assert!(app.fake.world(|w| w.log.iter().any(|l| l == "GET /app")));

    // The next push edits lockwatch's own comment, still not mallory's.
    let fixed = app.push(&mut pr, &tree(Some("1.5.5"), 0)).await;
    let events = app.expect_check(&fixed, "success").await;
    assert!(events.comment_edited(ours.id).is_some(), "{events:#?}");
    assert_eq!(app.fake.comments().len(), 2);
    assert_eq!(
        app.fake
            .comments()
            .iter()
            .find(|c| c.id == theirs)
            .expect("test step")
            .body,
        planted
    );
    app.finish().await;
}

/// 13.5: a comment GitHub would not take turned a failing review `neutral` ("could not
/// finish"). The check run is completed first, with the review's conclusion; the comment is
/// tried, and its failure is said in the check run's text and counted, nothing more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_comment_that_cannot_be_published_does_not_change_the_conclusion() {
    let app = App::new(&["--max-attempts", "2"]).await;
    let (base, head) = app.bump_pr(38);
    app.fake
        .fail("issues/create-comment", FaultKind::ServerError, 1000);
    app.open(38, &base, &head).await;
    let events = app.reviewed().await;
    let conclusions: Vec<String> = events
        .completions()
        .into_iter()
        .map(|(_, c, _)| c)
        .collect();
    assert_eq!(conclusions, ["failure"], "{events:#?}");
    assert!(
        events.iter().any(|e| matches!(e, Published::CheckRunUpdated { conclusion: None, summary: Some(s), .. }
            if s.starts_with("> **The pull-request comment could not be published**") && s.contains("RUSTSEC-2022-0013"))),
        "{events:#?}"
    );
    let runs = app.fake.check_runs();
    assert_eq!(runs.len(), 1);
    assert_eq!(
        (runs[0].status.as_str(), runs[0].conclusion.as_deref()),
        ("completed", Some("failure"))
    );
    assert!(app.fake.comments().is_empty());
    assert_eq!(
        app.metric("lockwatch_publish_failures_total{what=\"comment\"}")
            .await,
        Some(1)
    );
    app.finish().await;
}

/// 13.5: a check-run PATCH that kept failing left the run `in_progress` for good (the job
/// was given up, and giving up PATCHes too). It is retried, with backoff and without using
/// up the job's attempts, until the check run is completed with the review's conclusion,
/// and the metrics count it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_run_that_cannot_be_completed_is_retried_until_it_is() {
    let app = App::new(&["--max-attempts", "2"]).await;
    let (base, head) = app.bump_pr(39);
    // Each request is tried three times by the client: this outlasts both attempts.
    app.fake.fail("checks/update", FaultKind::ServerError, 15);
    app.open(39, &base, &head).await;
    app.expect_check(&head, "failure").await;
    let runs = app.fake.check_runs();
    assert_eq!(runs.len(), 1, "{runs:#?}");
    assert_eq!(runs[0].status, "completed");
    assert_ne!(
        app.metric("lockwatch_publish_failures_total{what=\"check_run\"}")
            .await,
        Some(0)
    );
    app.finish().await;
}

/// Issue 13.1 through the App: a comment (or another spelling of the number) in the lock
/// file's format line is TOML that Cargo accepts; it must not make the App skip the lock
/// file. And a head lock file lockwatch cannot read fails the check, it never passes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_reads_a_format_line_with_a_comment_and_fails_an_unreadable_lock() {
    let app = App::new(&[]).await;
    let base = app.commit(&tree(None, 0));
    for (pr, edit) in [
        (31, "version = 3 # reviewed"),
        (32, "version = 0x3"),
        (33, "[[package]\nname = "),
    ] {
        let mut head_tree = tree(Some("1.5.4"), 0);
        let lock = head_tree
            .iter_mut()
            .find(|(p, _)| p == "Cargo.lock")
            .unwrap();
        lock.1 = lock.1.replacen("version = 3", edit, 1);
        let head = app.commit(&head_tree);
        app.fake.set_pr(pr, &base, &head, false);
        assert_eq!(app.open(pr, &base, &head).await.0, 202);
        app.expect_check(&head, "failure").await;
        let body = app.expect_comment(pr).body;
        if pr == 33 {
            assert!(body.contains("unreviewable"), "{body}");
        } else {
            // The lock file was read: the advisory of regex 1.5.4 is found.
            assert!(body.contains("RUSTSEC-2022-0013"), "{edit}: {body}");
        }
    }
    app.fake.assert_clean();
}
