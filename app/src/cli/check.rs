//! `lockwatch check`.

use super::output;
use super::upstream::upstream_base;
use crate::advisories::DEFAULT_ARCHIVE_URL;
use crate::engine::Verdict;
use crate::git::Repo;
use crate::pipeline::{ChangeSet, Pipeline};
use crate::report::{
    ReportContext, render_json, render_markdown, render_sarif, render_terminal, use_color,
};
use crate::setup::{crates_io_api, inputs, load_advisories, names_of, registry_gatherer};
use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Markdown,
    Json,
    Sarif,
    Terminal,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Repository mode (the default): the git work tree to review (default: the one the
    /// current directory is in).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["base_lock", "head_lock"])]
    pub repo: Option<PathBuf>,
    /// Repository mode: the base revision (default: the merge base of HEAD and
    /// origin/HEAD, else origin/main or origin/master).
    #[arg(long, value_name = "REV", conflicts_with_all = ["base_lock", "head_lock"])]
    pub base: Option<String>,
    /// Repository mode: the head revision (default: the work tree).
    #[arg(long, value_name = "REV", conflicts_with_all = ["base_lock", "head_lock"])]
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
    /// The crates.io index (or a mirror standing in for it), in Cargo's form.
    #[arg(
        long,
        value_name = "URL",
        env = "LOCKWATCH_INDEX_URL",
        default_value = "sparse+https://index.crates.io/"
    )]
    pub index_url: String,
    /// The crates.io web API, asked who published each updated crate and whether through
    /// trusted publishing (`publisher-new`, `trusted-publishing-dropped`): a URL such as
    /// https://crates.io, `auto` (crates.io's when --index-url is crates.io's own) or `off`
    /// (the default; always off with --offline). At most one request a second.
    #[arg(long, value_name = "URL", env = "LOCKWATCH_CRATES_IO_API")]
    pub crates_io_api: Option<String>,
    /// Hours a release must be old before it stops being a `fresh-release` (default: the policy's, 72).
    #[arg(long, value_name = "HOURS")]
    pub cooldown: Option<u64>,
    /// Where to fetch the advisory database archive from.
    #[arg(long, value_name = "URL", default_value = DEFAULT_ARCHIVE_URL, hide = true)]
    pub advisory_db_url: String,
}

/// Repository mode: the work tree and the base to compare it with.
struct RepoTarget {
    repo: Repo,
    /// A revision or commit.
    base: String,
    /// The base as the author names it in commands (`origin/main`, `origin/HEAD`).
    base_ref: String,
}

impl RepoTarget {
    /// `--repo` (default: the current directory's repository) and `--base` (default: the
    /// upstream merge base, said on stderr).
    fn of(args: &CheckArgs) -> anyhow::Result<RepoTarget> {
        let dir = args.repo.clone().unwrap_or_else(|| PathBuf::from("."));
        let repo = Repo::discover(&dir)?;
        if let Some(base) = &args.base {
            return Ok(RepoTarget {
                repo,
                base: base.clone(),
                base_ref: base.clone(),
            });
        }
        let found = upstream_base(&repo)?;
        output::note(&format!(
            "comparing {} with {} (the merge base of HEAD and {}); name another with --base REV",
            args.head.as_deref().unwrap_or("the work tree"),
            found.commit.chars().take(12).collect::<String>(),
            found.upstream
        ));
        Ok(RepoTarget {
            repo,
            base: found.commit,
            base_ref: found.upstream,
        })
    }
}

fn default_cache_dir() -> PathBuf {
    crate::config::cache_dir()
}

/// Run the check; returns the exit code.
pub async fn run(args: CheckArgs) -> anyhow::Result<i32> {
    let (lockfiles, repo_change) = match (&args.base_lock, &args.head_lock) {
        (Some(b), Some(h)) => (inputs::from_files(b, h)?, None),
        (None, None) => {
            let target = RepoTarget::of(&args)?;
            let change = inputs::from_repo(target.repo.dir(), &target.base, args.head.as_deref())?;
            (change.lockfiles.clone(), Some((change, target)))
        }
        _ => bail!("give --base-lock FILE and --head-lock FILE together"),
    };
    let cache_dir = args.cache_dir.clone().unwrap_or_else(default_cache_dir);
    let (advisories, notes) = load_advisories(
        args.advisory_db.as_deref(),
        &cache_dir,
        &args.advisory_db_url,
        args.offline,
        &names_of(&lockfiles),
    )
    .await?;
    let mut change = match repo_change {
        Some((rc, target)) => {
            let mut change = inputs::change_set(target.repo.dir(), rc)?;
            change.base_ref = Some(target.base_ref);
            change
        }
        None => ChangeSet {
            lockfiles,
            ..Default::default()
        },
    };
    change.notes = notes;
    if let Some(path) = &args.config {
        change.override_policy =
            Some(std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?);
    }
    let mut pipeline = Pipeline::new(advisories);
    pipeline.cooldown_override = args.cooldown;
    if args.offline {
        pipeline.no_fetch_reason = "--offline".into();
    } else {
        let (policy, _) = crate::pipeline::resolve_policy(&change);
        let api = crates_io_api(args.crates_io_api.as_deref(), &args.index_url, &cache_dir)?;
        pipeline.gatherer = Some(
            registry_gatherer(&args.index_url, &policy.registries, &cache_dir)?
                .with_crates_io_api(api),
        );
    }
    let result = pipeline.review(&change).await;
    let text = match args.format {
        Format::Markdown => {
            let policy = match (&args.config, &change.base_policy) {
                (Some(path), _) => Some(path.display().to_string()),
                (None, Some(_)) => Some(crate::policy::POLICY_PATH.to_string()),
                (None, None) => None,
            };
            render_markdown(
                &result,
                &ReportContext::default().policy_file(policy.as_deref()),
            )
        }
        Format::Json => render_json(&result),
        Format::Sarif => render_sarif(&result),
        Format::Terminal => {
            use std::io::IsTerminal;
            let color = use_color(
                std::io::stdout().is_terminal(),
                std::env::var_os("NO_COLOR").as_deref(),
            );
            render_terminal(&result, color)
        }
    };
    output::report(&text);
    Ok(match result.verdict {
        Verdict::Fail => super::EXIT_DENIED,
        _ => 0,
    })
}
