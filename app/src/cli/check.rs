//! `lockwatch check`.

use super::inputs::{self, RepoChange};
use super::output;
use crate::advisories::{AdvisoryDb, DEFAULT_ARCHIVE_URL, FetchOutcome, fetch_or_cached};
use crate::engine::{AdvisorySource, Code, Finding, Level, LockfileInput, ReviewInput, Verdict, review};
use crate::git::Repo;
use crate::lockfile::crate_names;
use crate::policy::{POLICY_PATH, Policy, parse_policy};
use crate::report::{render_json, render_markdown, render_sarif, render_terminal};
use crate::typosquat::{PopularCrates, TyposquatChecker};
use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Markdown,
    Json,
    Sarif,
    Terminal,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Repository mode: the git work tree to review.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["base_lock", "head_lock"])]
    pub repo: Option<PathBuf>,
    /// Repository mode: the base revision (e.g. origin/main).
    #[arg(long, value_name = "REV", requires = "repo")]
    pub base: Option<String>,
    /// Repository mode: the head revision (default: the work tree).
    #[arg(long, value_name = "REV", requires = "repo")]
    pub head: Option<String>,
    /// File mode: the lock file before the change.
    #[arg(long, value_name = "FILE", requires = "head_lock")]
    pub base_lock: Option<PathBuf>,
    /// File mode: the lock file after the change.
    #[arg(long, value_name = "FILE", requires = "base_lock")]
    pub head_lock: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "terminal")]
    pub format: Format,
    /// A local copy of the RustSec advisory database (default: fetched into the cache).
    #[arg(long, value_name = "DIR", env = "LOCKWATCH_ADVISORY_DB")]
    pub advisory_db: Option<PathBuf>,
    /// Never touch the network; what needs it is reported as not checked.
    #[arg(long)]
    pub offline: bool,
    /// The policy file (default: `.github/lockwatch.toml` at --base in repo mode).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Cache directory (advisory database, crates).
    #[arg(long, value_name = "DIR", env = "LOCKWATCH_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Where to fetch the advisory database archive from.
    #[arg(long, value_name = "URL", default_value = DEFAULT_ARCHIVE_URL, hide = true)]
    pub advisory_db_url: String,
}

fn default_cache_dir() -> PathBuf {
    crate::config::cache_dir()
}

/// Run the check; returns the exit code.
pub async fn run(args: CheckArgs) -> anyhow::Result<i32> {
    let (lockfiles, repo_change) = match (&args.repo, &args.base_lock, &args.head_lock) {
        (Some(dir), _, _) => {
            let base = args.base.as_deref().context("--repo needs --base REV")?;
            let change = inputs::from_repo(dir, base, args.head.as_deref())?;
            (change.lockfiles.clone(), Some(change))
        }
        (None, Some(b), Some(h)) => (inputs::from_files(b, h)?, None),
        _ => bail!("give --repo DIR --base REV [--head REV], or --base-lock FILE --head-lock FILE"),
    };
    let (policy, mut policy_findings) = load_policy(&args, repo_change.as_ref())?;

    let mut notes = Vec::new();
    let names = names_of(&lockfiles);
    let cache_dir = args.cache_dir.clone().unwrap_or_else(default_cache_dir);
    let (db, unavailable) = match &args.advisory_db {
        Some(dir) => (Some(AdvisoryDb::load(dir, Some(&names))?), None),
        None => {
            let outcome = fetch_or_cached(&cache_dir, &args.advisory_db_url, Duration::from_secs(24 * 3600), args.offline, &crate::http::user_agent()).await;
            match outcome {
                FetchOutcome::Fresh(dir) => (Some(AdvisoryDb::load(&dir, Some(&names))?), None),
                FetchOutcome::Stale { path, reason } => {
                    notes.push(reason);
                    (Some(AdvisoryDb::load(&path, Some(&names))?), None)
                }
                FetchOutcome::Unavailable(reason) => (None, Some(reason)),
            }
        }
    };
    let advisories = match (&db, &unavailable) {
        (Some(db), _) => AdvisorySource::Db(db),
        (None, Some(reason)) => AdvisorySource::Unavailable(reason),
        (None, None) => AdvisorySource::Unavailable("no advisory database"),
    };
    let checker = TyposquatChecker::new(PopularCrates::embedded());
    let input = ReviewInput {
        lockfiles,
        advisories,
        typosquat: Some(&checker),
        today: crate::config::today(),
        notes,
    };
    let mut result = review(&input, &policy);
    if !policy_findings.is_empty() {
        result.findings.append(&mut policy_findings);
        result = result.finish();
    }
    let text = match args.format {
        Format::Markdown => render_markdown(&result),
        Format::Json => render_json(&result),
        Format::Sarif => render_sarif(&result),
        Format::Terminal => render_terminal(&result),
    };
    output::report(&text);
    Ok(match result.verdict {
        Verdict::Fail => super::EXIT_DENIED,
        _ => 0,
    })
}

fn names_of(lockfiles: &[LockfileInput]) -> HashSet<String> {
    lockfiles
        .iter()
        .flat_map(|l| [l.base.as_deref(), l.head.as_deref()])
        .flatten()
        .flat_map(crate_names)
        .collect()
}

/// The policy: `--config`, else the base revision's `.github/lockwatch.toml`, else defaults.
/// A broken file never stops the review: defaults apply and a finding says so.
fn load_policy(args: &CheckArgs, repo: Option<&RepoChange>) -> anyhow::Result<(Policy, Vec<Finding>)> {
    let text = match (&args.config, repo, &args.repo) {
        (Some(path), _, _) => Some(std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?),
        (None, Some(change), Some(dir)) => Repo::open(dir)?.file_at(&change.base_commit, POLICY_PATH)?,
        _ => None,
    };
    let Some(bytes) = text else {
        return Ok((Policy::default(), Vec::new()));
    };
    let parsed = std::str::from_utf8(&bytes)
        .map_err(|_| format!("{POLICY_PATH} is not UTF-8"))
        .and_then(|t| parse_policy(t).map_err(|e| e.message));
    Ok(match parsed {
        Ok(p) => (p, Vec::new()),
        Err(message) => (
            Policy::default(),
            vec![Finding::new(Code::PolicyInvalid, format!("the policy file is broken, so the defaults were used: {message}")).level(Level::Warn)],
        ),
    })
}
