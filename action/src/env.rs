//! The Actions environment, read once (the only place the Action reads process variables).

use secrecy::SecretString;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Everything the Action takes from its environment. Built by [`ActionEnv::from_process`]
/// in `main`, or from an explicit list of variables in tests.
#[derive(Debug, Clone, Default)]
pub struct ActionEnv {
    /// `GITHUB_EVENT_NAME`: `pull_request`, `push`, `schedule`, `workflow_dispatch`, ...
    pub event_name: String,
    /// `GITHUB_EVENT_PATH`: the webhook payload of the triggering event.
    pub event_path: Option<PathBuf>,
    /// `GITHUB_REPOSITORY`: `owner/name`.
    pub repository: String,
    /// `GITHUB_API_URL` (default `https://api.github.com`).
    pub api_url: String,
    /// `GITHUB_SERVER_URL` (default `https://github.com`), for the comment's link.
    pub server_url: String,
    /// The `github-token` input, else `GITHUB_TOKEN`. Never printed.
    pub token: Option<SecretString>,
    /// `GITHUB_STEP_SUMMARY`: the job summary file (appended to).
    pub step_summary: Option<PathBuf>,
    /// `GITHUB_OUTPUT`: the step outputs file (appended to).
    pub output: Option<PathBuf>,
    /// `GITHUB_WORKSPACE`: the checkout (default: the current directory).
    pub workspace: PathBuf,
    /// `GITHUB_SHA`: the commit the workflow runs on.
    pub sha: Option<String>,
    /// `RUNNER_TEMP`: where the advisory database and crates are cached.
    pub runner_temp: Option<PathBuf>,
    /// `LOCKWATCH_INDEX_URL`: the crates.io index or a mirror (Cargo's form).
    pub index_url: Option<String>,
    /// `INPUT_<NAME>` values by lower-case input name (`github-token`, `fail-on`, ...).
    pub inputs: BTreeMap<String, String>,
}

impl ActionEnv {
    /// From the process environment.
    pub fn from_process() -> ActionEnv {
        ActionEnv::from_vars(std::env::vars_os().map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        }))
    }

    /// From `NAME=value` pairs, as the runner sets them. Inputs arrive as `INPUT_` plus the
    /// upper-cased input name, hyphens kept (`INPUT_GITHUB-TOKEN`, `INPUT_FAIL-ON`).
    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> ActionEnv {
        let mut all = BTreeMap::new();
        let mut inputs = BTreeMap::new();
        for (k, v) in vars {
            if let Some(name) = k.strip_prefix("INPUT_") {
                let name = name.to_ascii_lowercase().replace(' ', "_");
                inputs.insert(name, v.trim().to_string());
            } else {
                all.insert(k, v);
            }
        }
        let get = |k: &str| all.get(k).filter(|v| !v.is_empty()).cloned();
        // Taken out of the input map so that nothing else can print it.
        let token = inputs
            .remove("github-token")
            .filter(|v| !v.is_empty())
            .or_else(|| get("GITHUB_TOKEN"))
            .map(SecretString::from);
        ActionEnv {
            event_name: get("GITHUB_EVENT_NAME").unwrap_or_default(),
            event_path: get("GITHUB_EVENT_PATH").map(PathBuf::from),
            repository: get("GITHUB_REPOSITORY").unwrap_or_default(),
            api_url: get("GITHUB_API_URL").unwrap_or_else(|| "https://api.github.com".into()),
            server_url: get("GITHUB_SERVER_URL").unwrap_or_else(|| "https://github.com".into()),
            token,
            step_summary: get("GITHUB_STEP_SUMMARY").map(PathBuf::from),
            output: get("GITHUB_OUTPUT").map(PathBuf::from),
            workspace: get("GITHUB_WORKSPACE").map_or_else(|| PathBuf::from("."), PathBuf::from),
            sha: get("GITHUB_SHA"),
            runner_temp: get("RUNNER_TEMP").map(PathBuf::from),
            index_url: get("LOCKWATCH_INDEX_URL"),
            inputs,
        }
    }

    /// An input's value; `None` when unset or empty.
    pub fn input(&self, name: &str) -> Option<&str> {
        self.inputs
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn vars(list: &[(&str, &str)]) -> ActionEnv {
        ActionEnv::from_vars(list.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn the_token_input_wins_over_github_token() {
        let env = vars(&[("GITHUB_TOKEN", "env"), ("INPUT_GITHUB-TOKEN", "input")]);
        assert_eq!(env.token.as_ref().map(|t| t.expose_secret()), Some("input"));
        let env = vars(&[("GITHUB_TOKEN", "env"), ("INPUT_GITHUB-TOKEN", "")]);
        assert_eq!(env.token.as_ref().map(|t| t.expose_secret()), Some("env"));
    }

    #[test]
    fn debug_never_shows_the_token() {
        let env = vars(&[("INPUT_GITHUB-TOKEN", "ghs_secretvalue")]);
        assert!(!format!("{env:?}").contains("ghs_secretvalue"));
    }

    #[test]
    fn inputs_are_read_by_lower_case_name() {
        let env = vars(&[("INPUT_FAIL-ON", " warn "), ("GITHUB_API_URL", "")]);
        assert_eq!(env.input("fail-on"), Some("warn"));
        assert_eq!(env.api_url, "https://api.github.com");
    }
}
