//! Keeping a local copy of the advisory database when none is given.
//!
//! The copy lives in `<cache>/advisory-db`, is refreshed from the GitHub archive of
//! `rustsec/advisory-db` when older than `max_age`, and a stale copy is used (and said to be
//! stale) when the refresh fails. No copy at all is reported as `unreviewable`, never hidden.

use flate2::read::GzDecoder;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The archive of the advisory database's default branch.
pub const DEFAULT_ARCHIVE_URL: &str =
    "https://github.com/rustsec/advisory-db/archive/refs/heads/main.tar.gz";

const MAX_ARCHIVE_BYTES: u64 = 64 * 1024 * 1024;
const MAX_ENTRY_BYTES: u64 = 1024 * 1024;
const MAX_ENTRIES: usize = 50_000;

/// What `fetch_or_cached` found.
#[derive(Debug)]
pub enum FetchOutcome {
    /// A copy that is fresh, or was just refreshed.
    Fresh(PathBuf),
    /// An old copy, used because the refresh failed (the reason says why).
    Stale { path: PathBuf, reason: String },
    /// No usable copy.
    Unavailable(String),
}

/// Return a usable advisory database directory under `cache_dir`, refreshing it when it is
/// older than `max_age` unless `offline`.
pub async fn fetch_or_cached(
    cache_dir: &Path,
    url: &str,
    max_age: Duration,
    offline: bool,
    user_agent: &str,
) -> FetchOutcome {
    let target = cache_dir.join("advisory-db");
    let stamp = target.join(".lockwatch-fetched");
    let age = std::fs::metadata(&stamp)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok());
    let have_copy = target.join("crates").is_dir();
    if have_copy && age.is_some_and(|a| a < max_age) {
        return FetchOutcome::Fresh(target);
    }
    if offline {
        return if have_copy {
            FetchOutcome::Stale {
                path: target,
                reason: "offline: the cached advisory database was not refreshed".into(),
            }
        } else {
            FetchOutcome::Unavailable(
                "offline and no cached advisory database; pass --advisory-db DIR".into(),
            )
        };
    }
    match download(url, user_agent)
        .await
        .and_then(|bytes| install(&bytes, cache_dir, &target))
    {
        Ok(()) => FetchOutcome::Fresh(target),
        Err(reason) if have_copy => FetchOutcome::Stale {
            path: target,
            reason: format!("could not refresh the advisory database: {reason}"),
        },
        Err(reason) => {
            FetchOutcome::Unavailable(format!("could not fetch the advisory database: {reason}"))
        }
    }
}

/// Why the advisory archive could not be fetched or installed, naming the step that failed.
#[derive(Debug, thiserror::Error)]
enum ArchiveError {
    #[error("cannot build the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
    #[error("cannot download {url}: {source}")]
    Download { url: String, source: reqwest::Error },
    #[error("{url} answered {status}")]
    Status {
        url: String,
        status: reqwest::StatusCode,
    },
    #[error("archive larger than {MAX_ARCHIVE_BYTES} bytes")]
    TooLarge,
    #[error("cannot read the archive: {0}")]
    Read(#[source] std::io::Error),
    #[error("archive has too many entries")]
    TooManyEntries,
    #[error("the archive holds no advisories")]
    NoAdvisories,
    #[error("cannot {what} {}: {source}", path.display())]
    File {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A file-system step of `install` that failed.
fn file_error(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ArchiveError {
    let path = path.to_path_buf();
    move |source| ArchiveError::File { what, path, source }
}

async fn download(url: &str, user_agent: &str) -> Result<Vec<u8>, ArchiveError> {
    crate::http::install_crypto_provider();
    let client = reqwest::Client::builder()
        .user_agent(user_agent)
        .timeout(Duration::from_secs(120))
        .build()
        .map_err(ArchiveError::Client)?;
    let failed = |source| ArchiveError::Download {
        url: url.to_string(),
        source,
    };
    let mut response = client.get(url).send().await.map_err(failed)?;
    if !response.status().is_success() {
        return Err(ArchiveError::Status {
            url: url.to_string(),
            status: response.status(),
        });
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(failed)? {
        bytes.extend_from_slice(&chunk);
        if bytes.len() as u64 > MAX_ARCHIVE_BYTES {
            return Err(ArchiveError::TooLarge);
        }
    }
    Ok(bytes)
}

/// Unpack the advisory files (`crates/<name>/<id>.md`) into a fresh directory, then swap it in.
fn install(archive: &[u8], cache_dir: &Path, target: &Path) -> Result<(), ArchiveError> {
    std::fs::create_dir_all(cache_dir).map_err(file_error("create", cache_dir))?;
    let staging = tempdir_in(cache_dir)?;
    let mut tar = tar::Archive::new(GzDecoder::new(archive));
    let mut count = 0usize;
    for entry in tar.entries().map_err(ArchiveError::Read)? {
        let mut entry = entry.map_err(ArchiveError::Read)?;
        count += 1;
        if count > MAX_ENTRIES {
            return Err(ArchiveError::TooManyEntries);
        }
        if !entry.header().entry_type().is_file() || entry.size() > MAX_ENTRY_BYTES {
            continue;
        }
        let path = entry.path().map_err(ArchiveError::Read)?.into_owned();
        // `advisory-db-main/crates/<name>/<file>.md`: keep only that shape.
        let parts: Vec<String> = path
            .components()
            .map(|c| match c {
                Component::Normal(s) => s.to_string_lossy().into_owned(),
                _ => String::from(".."),
            })
            .collect();
        let safe = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
                && !s.starts_with('.')
        };
        if parts.len() != 4
            || parts[1] != "crates"
            || !parts[3].ends_with(".md")
            || !parts[2..].iter().all(|p| safe(p))
        {
            continue;
        }
        let mut text = Vec::new();
        entry.read_to_end(&mut text).map_err(ArchiveError::Read)?;
        let dir = staging.join("crates").join(&parts[2]);
        std::fs::create_dir_all(&dir).map_err(file_error("create", &dir))?;
        let file = dir.join(&parts[3]);
        std::fs::write(&file, text).map_err(file_error("write", &file))?;
    }
    if !staging.join("crates").is_dir() {
        return Err(ArchiveError::NoAdvisories);
    }
    let marker = staging.join(".lockwatch-fetched");
    std::fs::write(&marker, b"").map_err(file_error("write", &marker))?;
    let old = cache_dir.join(format!("advisory-db.old.{}", std::process::id()));
    if target.exists() {
        std::fs::rename(target, &old).map_err(file_error("move aside", target))?;
    }
    std::fs::rename(&staging, target).map_err(file_error("move into place", &staging))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

fn tempdir_in(dir: &Path) -> Result<PathBuf, ArchiveError> {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let path = dir.join(format!(
        ".advisory-db.staging.{}.{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&path).map_err(file_error("create", &path))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive(files: &[(&str, &str)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
        for (path, body) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(body.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder
                .append_data(&mut header, path, body.as_bytes())
                .expect("append");
        }
        builder.into_inner().expect("tar").finish().expect("gz")
    }

    #[test]
    fn installs_only_advisory_files() {
        let tmp = tempfile::tempdir().expect("tmp");
        let bytes = archive(&[
            ("advisory-db-main/crates/foo/RUSTSEC-2024-0001.md", "x"),
            ("advisory-db-main/README.md", "readme"),
            ("advisory-db-main/crates/foo/notes.txt", "no"),
        ]);
        let target = tmp.path().join("advisory-db");
        install(&bytes, tmp.path(), &target).expect("install");
        assert!(target.join("crates/foo/RUSTSEC-2024-0001.md").is_file());
        assert!(!target.join("README.md").exists());
        assert!(!target.join("crates/foo/notes.txt").exists());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let tmp = tempfile::tempdir().expect("tmp");
        assert!(install(b"not a tarball", tmp.path(), &tmp.path().join("db")).is_err());
    }

    #[tokio::test]
    async fn offline_without_a_copy_is_unavailable() {
        let tmp = tempfile::tempdir().expect("tmp");
        let out = fetch_or_cached(
            tmp.path(),
            "http://127.0.0.1:9/none",
            Duration::from_secs(1),
            true,
            "test",
        )
        .await;
        assert!(matches!(out, FetchOutcome::Unavailable(_)));
    }

    #[tokio::test]
    async fn failed_refresh_keeps_the_stale_copy() {
        let tmp = tempfile::tempdir().expect("tmp");
        std::fs::create_dir_all(tmp.path().join("advisory-db/crates/foo")).expect("mkdir");
        // Port 9 (discard) on loopback: refused at once, nothing leaves the machine.
        let out = fetch_or_cached(
            tmp.path(),
            "http://127.0.0.1:9/none",
            Duration::from_secs(1),
            false,
            "test",
        )
        .await;
        assert!(matches!(out, FetchOutcome::Stale { .. }), "{out:?}");
    }
}
