//! From a verified delivery to a small internal `Event`.

use crate::github::{CommitSha, RepoName};
use serde::{Deserialize, Serialize};

/// What a queued review job needs (stored as JSON in the job row; never the payload).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRequest {
    /// `event.action`, e.g. `pull_request.synchronize`.
    pub trigger: String,
    pub installation_id: u64,
    /// `owner/name`.
    pub repo: String,
    /// `None`: a re-requested check on a commit with no pull request in the payload.
    pub pr_number: Option<u64>,
    pub head_sha: String,
    /// The base commit of a merge group (`merge_group.checks_requested`): the head is
    /// reviewed against it, with a check run and no comment. `None` for everything else.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merge_group_base_sha: Option<String>,
}

impl JobRequest {
    /// A re-requested check (GitHub expects a fresh check run then).
    pub fn is_rerequest(&self) -> bool {
        self.trigger.ends_with(".rerequested")
    }
}

/// The events the App subscribes to, each with the repository permission GitHub requires
/// for the subscription. `deploy/app-manifest.json` must list exactly these (a test in
/// `server::manifest` compares them).
pub const SUBSCRIBED_EVENTS: &[(&str, &str)] = &[
    ("pull_request", "pull_requests"),
    ("check_run", "checks"),
    ("check_suite", "checks"),
    ("merge_group", "merge_queues"),
];

/// Events GitHub delivers to every App without a subscription.
pub const ALWAYS_DELIVERED: &[&str] = &["ping", "installation", "installation_repositories"];

/// What a delivery asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Ping,
    Review(JobRequest),
    Installation {
        id: u64,
        account: String,
        action: String,
    },
    /// Nothing to do (the reason is for logs).
    Ignored(String),
}

/// The few fields of a payload lockwatch reads. Everything else is skipped by the parser
/// without being stored: a `pull_request` payload is 20 to 30 KB, and building a
/// `serde_json::Value` of it was most of the cost of accepting a delivery.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Payload {
    action: String,
    number: Option<u64>,
    installation: Option<Installation>,
    repository: Option<Repository>,
    pull_request: Option<PullRequest>,
    check_run: Option<Check>,
    check_suite: Option<Check>,
    merge_group: Option<MergeGroup>,
    changes: Option<Changes>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Installation {
    id: Option<u64>,
    account: Option<Account>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Account {
    login: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Repository {
    full_name: Option<String>,
}

/// `pull_request` of a `pull_request` event. Its `head.repo` and `base.repo` (a whole
/// repository each, a third of the payload) are not declared, so the parser skips them
/// without matching every key against field names.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PullRequest {
    number: Option<u64>,
    head: Option<GitRef>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct GitRef {
    sha: Option<String>,
}

/// A pull request as `check_run` and `check_suite` events list them (small objects).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CheckPullRequest {
    number: Option<u64>,
    head: Option<GitRef>,
    base: Option<BaseRef>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct BaseRef {
    repo: Option<RepoUrl>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RepoUrl {
    url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Check {
    head_sha: Option<String>,
    pull_requests: Vec<CheckPullRequest>,
}

/// `merge_group` of a `merge_group` event: the queue's temporary branch (`head_sha`) and
/// the commit of the target branch it was made on (`base_sha`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MergeGroup {
    head_sha: Option<String>,
    base_sha: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Changes {
    base: Option<serde::de::IgnoredAny>,
}

/// Why a delivery's payload could not be read (answered 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("payload is not valid JSON: {0}")]
    NotJson(String),
    #[error("{field} is missing")]
    Missing { field: &'static str },
    #[error("{field} is missing or malformed")]
    Malformed { field: &'static str },
}

/// Parse a delivery. `Err` is a malformed payload (answered 400).
pub fn parse(event: &str, body: &[u8]) -> Result<Event, PayloadError> {
    if event == "ping" {
        return Ok(Event::Ping);
    }
    let interesting =
        SUBSCRIBED_EVENTS.iter().any(|(e, _)| *e == event) || ALWAYS_DELIVERED.contains(&event);
    if !interesting {
        return Ok(Event::Ignored(format!("event {event}")));
    }
    let v: Payload =
        serde_json::from_slice(body).map_err(|e| PayloadError::NotJson(e.to_string()))?;
    let action = v.action;
    let installation = v.installation.unwrap_or_default();
    if event.starts_with("installation") {
        let id = installation.id.ok_or(PayloadError::Missing {
            field: "installation.id",
        })?;
        let account = installation
            .account
            .and_then(|a| a.login)
            .unwrap_or_default();
        return Ok(Event::Installation {
            id,
            account,
            action: format!("{event}.{action}"),
        });
    }
    let Some(installation_id) = installation.id else {
        return Ok(Event::Ignored("no installation in the payload".into()));
    };
    let repo = v
        .repository
        .and_then(|r| r.full_name)
        .as_deref()
        .and_then(RepoName::parse)
        .ok_or(PayloadError::Malformed {
            field: "repository.full_name",
        })?;
    let sha = |s: Option<&str>| -> Result<String, PayloadError> {
        s.and_then(CommitSha::parse)
            .map(|c| c.as_str().to_string())
            .ok_or(PayloadError::Malformed {
                field: "a head SHA",
            })
    };
    let trigger = format!("{event}.{action}");
    match event {
        "pull_request" => {
            let wanted = match action.as_str() {
                "opened" | "synchronize" | "reopened" | "ready_for_review" => true,
                "edited" => v.changes.is_some_and(|c| c.base.is_some()),
                _ => false,
            };
            if !wanted {
                return Ok(Event::Ignored(trigger));
            }
            let pr = v.pull_request.unwrap_or_default();
            let number = pr.number.or(v.number).ok_or(PayloadError::Missing {
                field: "pull_request.number",
            })?;
            Ok(Event::Review(JobRequest {
                trigger,
                installation_id,
                repo: repo.to_string(),
                pr_number: Some(number),
                head_sha: sha(pr.head.and_then(|h| h.sha).as_deref())?,
                merge_group_base_sha: None,
            }))
        }
        "check_run" | "check_suite" if action == "rerequested" => {
            let check = if event == "check_run" {
                v.check_run
            } else {
                v.check_suite
            }
            .unwrap_or_default();
            let head_sha = sha(check.head_sha.as_deref())?;
            let repo_url_suffix = format!("/repos/{repo}");
            // The first pull request of this repository whose head is this commit.
            let pr_number = check
                .pull_requests
                .iter()
                .find(|p| {
                    let head = p.head.as_ref().and_then(|h| h.sha.as_deref());
                    let base_repo = p
                        .base
                        .as_ref()
                        .and_then(|b| b.repo.as_ref())
                        .and_then(|r| r.url.as_deref());
                    head.is_none_or(|s| s == head_sha)
                        && base_repo.is_none_or(|u| u.ends_with(&repo_url_suffix))
                })
                .and_then(|p| p.number);
            Ok(Event::Review(JobRequest {
                trigger,
                installation_id,
                repo: repo.to_string(),
                pr_number,
                head_sha,
                merge_group_base_sha: None,
            }))
        }
        // A merge queue asks for the required checks of a merge group (`destroyed` needs
        // nothing: the check run on a discarded group's head no longer matters).
        "merge_group" if action == "checks_requested" => {
            let group = v.merge_group.unwrap_or_default();
            Ok(Event::Review(JobRequest {
                trigger,
                installation_id,
                repo: repo.to_string(),
                pr_number: None,
                head_sha: sha(group.head_sha.as_deref())?,
                merge_group_base_sha: Some(sha(group.base_sha.as_deref())?),
            }))
        }
        _ => Ok(Event::Ignored(trigger)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn pr(action: &str) -> Value {
        json!({
            "action": action,
            "number": 2,
            "pull_request": {"number": 2, "head": {"sha": "ec26c3e57ca3a959ca5aad62de7213c562f8c821"}},
            "repository": {"full_name": "Codertocat/Hello-World"},
            "installation": {"id": 1},
        })
    }

    #[test]
    fn pull_request_actions() {
        let body = serde_json::to_vec(&pr("synchronize")).expect("json");
        let Ok(Event::Review(r)) = parse("pull_request", &body) else {
            panic!("not a review")
        };
        assert_eq!(r.pr_number, Some(2));
        assert_eq!(r.repo, "Codertocat/Hello-World");
        for ignored in ["closed", "labeled", "edited"] {
            let body = serde_json::to_vec(&pr(ignored)).expect("json");
            assert!(matches!(
                parse("pull_request", &body),
                Ok(Event::Ignored(_))
            ));
        }
        let mut edited = pr("edited");
        edited["changes"] = json!({"base": {"ref": {"from": "main"}}});
        let body = serde_json::to_vec(&edited).expect("json");
        assert!(matches!(parse("pull_request", &body), Ok(Event::Review(_))));
        assert!(matches!(
            parse("issues", b"not json"),
            Ok(Event::Ignored(_))
        ));
        assert!(parse("pull_request", b"not json").is_err());
        assert_eq!(parse("ping", b"{}"), Ok(Event::Ping));
    }

    /// GitHub's example `merge_group` payload (octokit/webhooks), as the tests' fixture.
    fn merge_group_example() -> Value {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/github/webhooks/merge_group/checks_requested.payload.json"
        );
        serde_json::from_slice(&std::fs::read(path).expect("merge_group fixture")).expect("json")
    }

    #[test]
    fn a_merge_group_is_reviewed_head_against_base_without_a_pull_request() {
        let body = serde_json::to_vec(&merge_group_example()).expect("json");
        let Ok(Event::Review(r)) = parse("merge_group", &body) else {
            panic!("not a review")
        };
        assert_eq!(r.trigger, "merge_group.checks_requested");
        assert_eq!(r.repo, "octo-org/octo-repo");
        assert_eq!(r.pr_number, None);
        assert_eq!(r.head_sha, "2ffea6db159f6b6c47a24e778fb9ef40cf6b1c7d");
        assert_eq!(
            r.merge_group_base_sha.as_deref(),
            Some("380387fbc80638b734a49e1be1c4dfec1c01b33c")
        );
        // The stored job round-trips; jobs queued before this field existed still read.
        let stored = serde_json::to_string(&r).expect("json");
        assert_eq!(serde_json::from_str::<JobRequest>(&stored).ok(), Some(r));
        let old = r#"{"trigger":"pull_request.opened","installation_id":1,"repo":"a/b","pr_number":2,"head_sha":"ec26c3e57ca3a959ca5aad62de7213c562f8c821"}"#;
        let old: JobRequest = serde_json::from_str(old).expect("a job from before");
        assert_eq!(old.merge_group_base_sha, None);

        let mut destroyed = merge_group_example();
        destroyed["action"] = json!("destroyed");
        let body = serde_json::to_vec(&destroyed).expect("json");
        assert!(matches!(parse("merge_group", &body), Ok(Event::Ignored(_))));
        let mut no_base = merge_group_example();
        no_base["merge_group"]["base_sha"] = Value::Null;
        let body = serde_json::to_vec(&no_base).expect("json");
        assert!(parse("merge_group", &body).is_err());
    }

    #[test]
    fn fields_of_the_wrong_type_are_a_clear_error() {
        let mut bad = pr("synchronize");
        bad["installation"]["id"] = json!("one");
        let body = serde_json::to_vec(&bad).expect("json");
        let err = parse("pull_request", &body)
            .expect_err("a string id")
            .to_string();
        assert!(
            err.contains("installation") || err.contains("invalid type"),
            "{err}"
        );
        let mut no_head = pr("synchronize");
        no_head["pull_request"]["head"] = Value::Null;
        let body = serde_json::to_vec(&no_head).expect("json");
        assert!(parse("pull_request", &body).is_err());
    }
}
