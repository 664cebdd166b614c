//! The Action's inputs (`action.yml`), validated.

use crate::env::ActionEnv;
use anyhow::bail;
use std::path::PathBuf;

/// When the run fails (exit code 1): the same rule as the App's conclusion (see
/// `lockwatch::report::publication`).
pub use lockwatch::report::publication::FailOn;

/// Who writes the sticky comment with the workflow's own `GITHUB_TOKEN`.
pub const WORKFLOW_TOKEN_LOGIN: &str = "github-actions[bot]";

/// The `comment` input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentChoice {
    /// The policy's `comment` setting (`on-findings` by default).
    Policy,
    Always,
    OnFindings,
    Never,
}

/// Validated inputs.
#[derive(Debug, Clone)]
pub struct Inputs {
    pub config: Option<PathBuf>,
    pub comment: CommentChoice,
    pub fail_on: FailOn,
    pub advisory_db: Option<PathBuf>,
    /// Relative to `GITHUB_WORKSPACE`.
    pub working_directory: PathBuf,
    pub base: Option<String>,
    pub head: Option<String>,
    pub fetch_crates: bool,
    /// `crates-io-api`: `auto` (the default), `off` or the API's URL (see
    /// `lockwatch::setup::crates_io_api`).
    pub crates_io_api: String,
    /// The login the token comments as (`comment-author`; `github-actions[bot]` for the
    /// workflow token): only a marker comment written by it is lockwatch's sticky comment.
    pub comment_author: String,
}

impl Inputs {
    pub fn from_env(env: &ActionEnv) -> anyhow::Result<Inputs> {
        let fail_on = match env.input("fail-on").unwrap_or("deny") {
            "deny" => FailOn::Deny,
            "warn" => FailOn::Warn,
            "never" => FailOn::Never,
            other => bail!("input fail-on: `{other}` is not one of deny, warn, never"),
        };
        let comment = match env.input("comment").unwrap_or("policy") {
            "policy" => CommentChoice::Policy,
            "always" => CommentChoice::Always,
            "on-findings" => CommentChoice::OnFindings,
            "never" => CommentChoice::Never,
            other => {
                bail!("input comment: `{other}` is not one of policy, always, on-findings, never")
            }
        };
        let fetch_crates = match env.input("fetch-crates").unwrap_or("true") {
            "true" => true,
            "false" => false,
            other => bail!("input fetch-crates: `{other}` is not true or false"),
        };
        let rev = |name: &str| -> anyhow::Result<Option<String>> {
            match env.input(name) {
                Some(r) if r.starts_with('-') || r.chars().any(char::is_whitespace) => {
                    bail!("input {name}: `{r}` is not a revision")
                }
                r => Ok(r.map(str::to_string)),
            }
        };
        let working_directory = PathBuf::from(env.input("working-directory").unwrap_or("."));
        if working_directory.is_absolute()
            || working_directory
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            bail!("input working-directory must be a path inside the workspace");
        }
        Ok(Inputs {
            config: env.input("config").map(PathBuf::from),
            comment,
            fail_on,
            advisory_db: env.input("advisory-db").map(PathBuf::from),
            working_directory,
            base: rev("base")?,
            head: rev("head")?,
            fetch_crates,
            crates_io_api: env.input("crates-io-api").unwrap_or("auto").to_string(),
            comment_author: env
                .input("comment-author")
                .unwrap_or(WORKFLOW_TOKEN_LOGIN)
                .to_string(),
        })
    }
}
