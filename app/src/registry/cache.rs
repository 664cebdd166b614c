//! A content-addressed cache of `.crate` files, shared safely between processes.
//!
//! Layout: `dir/ab/cd/<sha256>.crate`. Writes go to a temporary file in the
//! same directory and are atomically renamed into place; readers verify the
//! checksum of what they read, so a torn or corrupted file is a miss (and is
//! deleted). All I/O errors are logged and treated as misses: the cache never
//! makes a fetch fail.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use super::config::is_sha256_hex;

/// Default size cap: 2 GiB.
pub const DEFAULT_CACHE_MAX_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// Temporary files older than this are left-overs of crashed writers.
const STALE_TMP_AGE: Duration = Duration::from_secs(3600);

/// A content-addressed `.crate` cache. Cheap to clone.
#[derive(Clone, Debug)]
pub struct CrateCache {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    dir: PathBuf,
    max_bytes: u64,
    hits: AtomicU64,
    misses: AtomicU64,
    evictions: AtomicU64,
    /// Estimated bytes on disk (`None` until the first scan); guards eviction.
    approx_bytes: Mutex<Option<u64>>,
}

/// Counters of a [`CrateCache`] since it was created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheStats {
    /// `get` calls that returned verified bytes.
    pub hits: u64,
    /// `get` calls that found nothing usable.
    pub misses: u64,
    /// Files deleted to stay under the size cap.
    pub evictions: u64,
}

impl CrateCache {
    /// A cache in `dir` (created on demand) with the default 2 GiB cap.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self::with_max_bytes(dir, DEFAULT_CACHE_MAX_BYTES)
    }

    /// A cache in `dir` holding at most about `max_bytes`.
    pub fn with_max_bytes(dir: impl Into<PathBuf>, max_bytes: u64) -> Self {
        Self {
            inner: Arc::new(Inner {
                dir: dir.into(),
                max_bytes,
                hits: AtomicU64::new(0),
                misses: AtomicU64::new(0),
                evictions: AtomicU64::new(0),
                approx_bytes: Mutex::new(None),
            }),
        }
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// The size cap in bytes.
    pub fn max_bytes(&self) -> u64 {
        self.inner.max_bytes
    }

    /// Hit/miss/eviction counters.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.inner.hits.load(Ordering::Relaxed),
            misses: self.inner.misses.load(Ordering::Relaxed),
            evictions: self.inner.evictions.load(Ordering::Relaxed),
        }
    }

    /// Where the file for `checksum` lives; `None` if it is not a lowercase SHA-256 hex digest.
    pub fn path_for(&self, checksum: &str) -> Option<PathBuf> {
        if !is_sha256_hex(checksum) {
            return None;
        }
        Some(
            self.inner
                .dir
                .join(&checksum[0..2])
                .join(&checksum[2..4])
                .join(format!("{checksum}.crate")),
        )
    }

    /// The cached bytes whose SHA-256 is `checksum`, verified; marks the file as recently used.
    pub fn get(&self, checksum: &str) -> Option<Vec<u8>> {
        let found = self.read_verified(checksum);
        let counter = if found.is_some() {
            &self.inner.hits
        } else {
            &self.inner.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    fn read_verified(&self, checksum: &str) -> Option<Vec<u8>> {
        let path = self.path_for(checksum)?;
        let mut file = match fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "crate cache: cannot open");
                return None;
            }
        };
        let mut bytes = Vec::new();
        if let Err(e) = file.read_to_end(&mut bytes) {
            tracing::warn!(path = %path.display(), error = %e, "crate cache: cannot read");
            return None;
        }
        if sha256_hex(&bytes) != checksum {
            tracing::warn!(path = %path.display(), "crate cache: corrupt file, deleting");
            remove_quietly(&path);
            return None;
        }
        if let Err(e) = file.set_modified(SystemTime::now()) {
            tracing::debug!(path = %path.display(), error = %e, "crate cache: cannot touch");
        }
        Some(bytes)
    }

    /// Stores `bytes` under `checksum` (ignored, with a warning, if they do not
    /// hash to it), then evicts least-recently-used files if over the cap.
    pub fn put(&self, checksum: &str, bytes: &[u8]) {
        let Some(path) = self.path_for(checksum) else {
            tracing::warn!(
                checksum,
                "crate cache: refusing a key that is not a sha256 digest"
            );
            return;
        };
        if sha256_hex(bytes) != checksum {
            tracing::warn!(
                checksum,
                "crate cache: refusing bytes that do not match their key"
            );
            return;
        }
        if fs::metadata(&path).is_ok_and(|m| m.len() == bytes.len() as u64) {
            return; // same content-address, same size: already there
        }
        if let Err(e) = write_atomically(&path, bytes) {
            tracing::warn!(path = %path.display(), error = %e, "crate cache: cannot write");
            return;
        }
        self.account(bytes.len() as u64);
    }

    fn account(&self, added: u64) {
        let mut approx = match self.inner.approx_bytes.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let known = match *approx {
            Some(n) => n + added,
            None => self.scan().iter().map(|f| f.1).sum(),
        };
        *approx = Some(known);
        if known > self.inner.max_bytes {
            *approx = Some(self.evict_now());
        }
    }

    /// Deletes least-recently-used files until the cache is under 90 % of its
    /// cap (if it is over the cap); returns the bytes remaining.
    pub fn evict(&self) -> u64 {
        let mut approx = match self.inner.approx_bytes.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let left = self.evict_now();
        *approx = Some(left);
        left
    }

    fn evict_now(&self) -> u64 {
        let mut files = self.scan();
        let mut total: u64 = files.iter().map(|f| f.1).sum();
        if total <= self.inner.max_bytes {
            return total;
        }
        let target = self.inner.max_bytes / 10 * 9;
        files.sort_by_key(|f| f.2);
        for (path, len, _) in files {
            if total <= target {
                break;
            }
            match fs::remove_file(&path) {
                Ok(()) => {
                    total -= len;
                    self.inner.evictions.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(path = %path.display(), "crate cache: evicted");
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => total -= len,
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "crate cache: cannot evict");
                }
            }
        }
        total
    }

    /// All `.crate` files with size and mtime; removes stale temporary files on the way.
    fn scan(&self) -> Vec<(PathBuf, u64, SystemTime)> {
        let mut out = Vec::new();
        for l1 in read_dir_paths(&self.inner.dir) {
            for l2 in read_dir_paths(&l1) {
                for file in read_dir_paths(&l2) {
                    let Ok(meta) = fs::metadata(&file) else {
                        continue;
                    };
                    let mtime = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
                    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
                    if name.ends_with(".crate") && meta.is_file() {
                        out.push((file, meta.len(), mtime));
                    } else if name.starts_with(".tmp-")
                        && mtime.elapsed().is_ok_and(|age| age > STALE_TMP_AGE)
                    {
                        remove_quietly(&file);
                    }
                }
            }
        }
        out
    }
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Store `value` as JSON at `path`, a keyed cache entry (an analysis, a publish history),
/// on a best-effort basis: written to a temporary file named after `key` beside it and
/// renamed into place, so readers never see half a file; a failure leaves the entry
/// missing, and it is computed again next time.
pub fn store_json(path: &Path, key: &str, value: &impl serde::Serialize) {
    let Some(dir) = path.parent() else { return };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    if let Ok(json) = serde_json::to_vec(value) {
        let tmp = dir.join(format!(".{key}.{}.tmp", std::process::id()));
        if std::fs::write(&tmp, json).is_ok() {
            let _ = std::fs::rename(&tmp, path);
        }
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("x");
    let tmp = dir.join(format!(
        ".tmp-{}-{}-{name}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        remove_quietly(&tmp);
    }
    result
}

fn read_dir_paths(dir: &Path) -> Vec<PathBuf> {
    match fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(_) => Vec::new(),
    }
}

fn remove_quietly(path: &Path) {
    if let Err(e) = fs::remove_file(path)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(path = %path.display(), error = %e, "crate cache: cannot delete");
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn put_get_and_layout() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CrateCache::new(dir.path());
        let bytes = b"hello crate".to_vec();
        let sum = sha256_hex(&bytes);
        assert_eq!(cache.get(&sum), None);
        cache.put(&sum, &bytes);
        let path = dir
            .path()
            .join(&sum[0..2])
            .join(&sum[2..4])
            .join(format!("{sum}.crate"));
        assert!(path.is_file());
        assert_eq!(cache.get(&sum), Some(bytes));
        assert_eq!(
            cache.stats(),
            CacheStats {
                hits: 1,
                misses: 1,
                evictions: 0
            }
        );
        // No temporary file left behind.
        assert_eq!(read_dir_paths(path.parent().unwrap()).len(), 1);
    }

    #[test]
    fn refuses_wrong_bytes_and_bad_keys() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CrateCache::new(dir.path());
        let sum = sha256_hex(b"a");
        cache.put(&sum, b"b");
        assert_eq!(cache.get(&sum), None);
        cache.put("../../etc/passwd", b"x");
        assert!(cache.path_for("../../etc/passwd").is_none());
        assert_eq!(cache.get("../../etc/passwd"), None);
        assert!(read_dir_paths(dir.path()).is_empty());
    }

    #[test]
    fn corrupt_file_is_a_miss_and_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CrateCache::new(dir.path());
        let sum = sha256_hex(b"good");
        cache.put(&sum, b"good");
        let path = cache.path_for(&sum).unwrap();
        fs::write(&path, b"goo").unwrap(); // truncated
        assert_eq!(cache.get(&sum), None);
        assert!(!path.exists());
        assert_eq!(cache.stats().misses, 1);
    }

    #[test]
    fn eviction_respects_the_cap_and_keeps_recently_used() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CrateCache::with_max_bytes(dir.path(), 1000);
        let blobs: Vec<Vec<u8>> = (0..6u8).map(|i| vec![i; 300]).collect();
        let sums: Vec<String> = blobs.iter().map(|b| sha256_hex(b)).collect();
        for i in 0..3 {
            cache.put(&sums[i], &blobs[i]);
            std::thread::sleep(Duration::from_millis(20));
        }
        // Touch the oldest: it becomes the most recently used.
        assert!(cache.get(&sums[0]).is_some());
        std::thread::sleep(Duration::from_millis(20));
        for i in 3..6 {
            cache.put(&sums[i], &blobs[i]);
            std::thread::sleep(Duration::from_millis(20));
            let on_disk: u64 = cache.scan().iter().map(|f| f.1).sum();
            assert!(on_disk <= 1000, "{on_disk} bytes on disk after put {i}");
        }
        let present: Vec<bool> = sums
            .iter()
            .map(|s| cache.path_for(s).unwrap().exists())
            .collect();
        // Each put from the 4th on reaches 1200 > 1000 and evicts the least
        // recently used file (1, then 2, then the touched 0) down to 900.
        assert_eq!(present, [false, false, false, true, true, true]);
        assert_eq!(cache.stats().evictions, 3);
    }

    #[test]
    fn eviction_prefers_least_recently_used() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CrateCache::with_max_bytes(dir.path(), 1000);
        let blobs: Vec<Vec<u8>> = (0..4u8).map(|i| vec![i; 300]).collect();
        let sums: Vec<String> = blobs.iter().map(|b| sha256_hex(b)).collect();
        for i in 0..3 {
            cache.put(&sums[i], &blobs[i]);
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(cache.get(&sums[0]).is_some());
        std::thread::sleep(Duration::from_millis(20));
        cache.put(&sums[3], &blobs[3]);
        let present: Vec<bool> = sums
            .iter()
            .map(|s| cache.path_for(s).unwrap().exists())
            .collect();
        assert_eq!(present, [true, false, true, true]);
    }

    #[test]
    fn concurrent_puts_of_the_same_checksum_are_safe() {
        let dir = tempfile::tempdir().unwrap();
        let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let sum = sha256_hex(&bytes);
        std::thread::scope(|s| {
            for _ in 0..8 {
                // Separate instances, as separate processes would have.
                let cache = CrateCache::new(dir.path());
                let (bytes, sum) = (&bytes, &sum);
                s.spawn(move || {
                    for _ in 0..5 {
                        cache.put(sum, bytes);
                        if let Some(p) = cache.path_for(sum) {
                            let _ = fs::remove_file(p); // force rewrites to race
                        }
                        cache.put(sum, bytes);
                        if let Some(got) = cache.get(sum) {
                            assert_eq!(&got, bytes);
                        }
                    }
                });
            }
        });
        let cache = CrateCache::new(dir.path());
        cache.put(&sum, &bytes);
        assert_eq!(cache.get(&sum).as_ref(), Some(&bytes));
        let leftovers = read_dir_paths(cache.path_for(&sum).unwrap().parent().unwrap());
        assert_eq!(leftovers.len(), 1, "{leftovers:?}");
    }
}
