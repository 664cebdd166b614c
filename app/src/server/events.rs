//! From a verified delivery to a small internal `Event`.

use crate::github::{CommitSha, RepoName};
use serde::{Deserialize, Serialize};
use serde_json::Value;

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
}

impl JobRequest {
    /// A re-requested check (GitHub expects a fresh check run then).
    pub fn is_rerequest(&self) -> bool {
        self.trigger.ends_with(".rerequested")
    }
}

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

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_str()
}

fn u64_at(v: &Value, path: &[&str]) -> Option<u64> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_u64()
}

/// Parse a delivery. `Err` is a malformed payload (answered 400).
pub fn parse(event: &str, body: &[u8]) -> Result<Event, String> {
    if event == "ping" {
        return Ok(Event::Ping);
    }
    let interesting = matches!(
        event,
        "pull_request" | "check_run" | "check_suite" | "installation" | "installation_repositories"
    );
    if !interesting {
        return Ok(Event::Ignored(format!("event {event}")));
    }
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("payload is not JSON: {e}"))?;
    let action = str_at(&v, &["action"]).unwrap_or_default().to_string();
    if event.starts_with("installation") {
        let id = u64_at(&v, &["installation", "id"]).ok_or("installation.id is missing")?;
        let account = str_at(&v, &["installation", "account", "login"])
            .unwrap_or_default()
            .to_string();
        return Ok(Event::Installation {
            id,
            account,
            action: format!("{event}.{action}"),
        });
    }
    let Some(installation_id) = u64_at(&v, &["installation", "id"]) else {
        return Ok(Event::Ignored("no installation in the payload".into()));
    };
    let repo = str_at(&v, &["repository", "full_name"])
        .and_then(RepoName::parse)
        .ok_or("repository.full_name is missing or malformed")?;
    let sha = |s: Option<&str>| -> Result<String, String> {
        s.and_then(CommitSha::parse)
            .map(|c| c.as_str().to_string())
            .ok_or_else(|| "a head SHA is missing or malformed".to_string())
    };
    let trigger = format!("{event}.{action}");
    match event {
        "pull_request" => {
            let wanted = match action.as_str() {
                "opened" | "synchronize" | "reopened" | "ready_for_review" => true,
                "edited" => v.get("changes").and_then(|c| c.get("base")).is_some(),
                _ => false,
            };
            if !wanted {
                return Ok(Event::Ignored(trigger));
            }
            let number = u64_at(&v, &["pull_request", "number"])
                .or_else(|| u64_at(&v, &["number"]))
                .ok_or("pull_request.number is missing")?;
            Ok(Event::Review(JobRequest {
                trigger,
                installation_id,
                repo: repo.to_string(),
                pr_number: Some(number),
                head_sha: sha(str_at(&v, &["pull_request", "head", "sha"]))?,
            }))
        }
        "check_run" | "check_suite" if action == "rerequested" => {
            let obj = &v[event];
            let head_sha = sha(obj.get("head_sha").and_then(Value::as_str))?;
            // The first pull request of this repository whose head is this commit.
            let pr_number = obj
                .get("pull_requests")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find(|p| {
                    str_at(p, &["head", "sha"]).is_none_or(|s| s == head_sha)
                        && str_at(p, &["base", "repo", "url"])
                            .is_none_or(|u| u.ends_with(&format!("/repos/{repo}")))
                })
                .and_then(|p| u64_at(p, &["number"]));
            Ok(Event::Review(JobRequest {
                trigger,
                installation_id,
                repo: repo.to_string(),
                pr_number,
                head_sha,
            }))
        }
        _ => Ok(Event::Ignored(trigger)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
}
