//! Streaming, in-memory reading of a `.crate` archive (gzip + tar).
//!
//! Nothing is ever written to disk and nothing is unpacked: each entry is
//! validated from its header, then its bytes are streamed through sniffers
//! (magic bytes, byte histogram, UTF-8 validity) and kept in memory only when
//! the file is small enough to be parsed later.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{self, Read};

use flate2::read::GzDecoder;
use tar::EntryType;

use super::{InspectError, InspectLimits};

/// Number of leading bytes of every file kept for magic-byte sniffing
/// (large enough to reach a typical PE header at `e_lfanew`).
pub(crate) const HEAD_BYTES: usize = 4096;
const CHUNK: usize = 64 * 1024;

/// One regular file of the archive, as seen while streaming.
#[derive(Debug, Clone)]
pub(crate) struct FileRecord {
    /// Path inside the package, without the `NAME-VERSION/` prefix.
    pub path: String,
    /// Number of bytes actually read for this entry.
    pub size: u64,
    /// The first [`HEAD_BYTES`] bytes.
    pub head: Vec<u8>,
    /// The whole content, when it fits in [`InspectLimits::max_file_bytes`].
    pub content: Option<Vec<u8>>,
    /// Shannon entropy over the whole file, in bits per byte.
    pub entropy: f64,
    /// Whether the whole file is valid UTF-8.
    pub utf8: bool,
}

#[cfg(test)]
impl FileRecord {
    /// The content as text, when it was kept and is UTF-8.
    pub fn text(&self) -> Option<&str> {
        self.content
            .as_deref()
            .and_then(|c| std::str::from_utf8(c).ok())
    }
}

/// Everything the stream yielded.
#[derive(Debug, Default)]
pub(crate) struct Contents {
    pub files: BTreeMap<String, FileRecord>,
    pub total_bytes: u64,
    pub notes: Vec<String>,
    /// Some files' text was dropped because the per-crate budget of kept bytes was reached.
    pub kept_budget_reached: bool,
}

/// Reads and validates the whole archive.
pub(crate) fn read_archive(
    name: &str,
    version: &str,
    gz_tarball: impl Read,
    limits: &InspectLimits,
) -> Result<Contents, InspectError> {
    let top = format!("{name}-{version}");
    let mut limited = LimitedReader::new(GzDecoder::new(gz_tarball), limits.max_total_bytes);
    let walked = {
        let mut archive = tar::Archive::new(&mut limited);
        walk(&mut archive, &top, limits)
    };
    let contents = match walked {
        Ok(c) => c,
        Err(Failure::Inspect(e)) => return Err(e),
        Err(Failure::Io(e)) => return Err(limited.classify(&e)),
    };
    // Read what follows the tar end marker so that a truncated gzip stream or
    // a bad CRC trailer is noticed (bounded by the same byte limit).
    if let Err(e) = io::copy(&mut limited, &mut io::sink()) {
        return Err(limited.classify(&e));
    }
    Ok(contents)
}

enum Failure {
    Io(io::Error),
    Inspect(InspectError),
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::Io(e)
    }
}

impl From<InspectError> for Failure {
    fn from(e: InspectError) -> Self {
        Failure::Inspect(e)
    }
}

fn walk<R: Read>(
    archive: &mut tar::Archive<R>,
    top: &str,
    limits: &InspectLimits,
) -> Result<Contents, Failure> {
    let mut contents = Contents::default();
    let mut dirs: BTreeSet<String> = BTreeSet::new();
    let mut folded: HashMap<String, String> = HashMap::new();
    let mut count = 0usize;
    let mut kept = 0u64;
    for entry in archive.entries()? {
        let mut entry = entry?;
        count += 1;
        if count > limits.max_entries {
            return Err(InspectError::TooManyEntries {
                limit: limits.max_entries,
            }
            .into());
        }
        let kind = entry.header().entry_type();
        if kind == EntryType::XGlobalHeader {
            // A pax global header (e.g. `git archive`): metadata only.
            continue;
        }
        let raw_path = entry.path_bytes().into_owned();
        let full = std::str::from_utf8(&raw_path)
            .map_err(|_| InspectError::NonUtf8Path {
                path_lossy: String::from_utf8_lossy(&raw_path).into_owned(),
            })?
            .to_owned();
        let rel = package_relative(&full, top)?;

        match kind {
            EntryType::Regular | EntryType::Continuous => {}
            EntryType::Directory => {
                if let Some(rel) = rel {
                    if contents.files.contains_key(&rel) {
                        return Err(InspectError::DuplicatePath { path: full }.into());
                    }
                    dirs.insert(rel);
                }
                continue;
            }
            EntryType::Symlink | EntryType::Link => {
                let target = entry
                    .link_name_bytes()
                    .map(|t| String::from_utf8_lossy(&t).into_owned())
                    .unwrap_or_default();
                return Err(if kind == EntryType::Symlink {
                    InspectError::Symlink { path: full, target }
                } else {
                    InspectError::HardLink { path: full, target }
                }
                .into());
            }
            EntryType::Char | EntryType::Block | EntryType::Fifo => {
                let kind = match kind {
                    EntryType::Char => "character device",
                    EntryType::Block => "block device",
                    _ => "named pipe (FIFO)",
                };
                return Err(InspectError::SpecialFile {
                    path: full,
                    kind: kind.to_owned(),
                }
                .into());
            }
            other => {
                return Err(InspectError::UnsupportedEntry {
                    path: full,
                    entry_type: other.as_byte(),
                }
                .into());
            }
        }

        let Some(rel) = rel else {
            // A regular file named exactly like the top folder.
            return Err(InspectError::OutsideTopFolder {
                path: full,
                expected: top.to_owned(),
            }
            .into());
        };
        if contents.files.contains_key(&rel) || dirs.contains(&rel) {
            return Err(InspectError::DuplicatePath { path: full }.into());
        }
        if let Some(previous) = folded.insert(rel.to_lowercase(), rel.clone()) {
            contents.notes.push(format!(
                "`{rel}` and `{previous}` differ only by case; on case-insensitive file systems one replaces the other"
            ));
        }
        let mut record = stream_file(&mut entry, rel.clone(), limits)?;
        let len = record.content.as_ref().map_or(0, |c| c.len() as u64);
        if kept.saturating_add(len) > limits.max_kept_bytes {
            // Past the per-crate budget of kept text (`windows` ships some 150 MB of
            // generated Rust and has no build script): the file is still recorded (size,
            // leading bytes, entropy), only its text is dropped. Build-time code among such
            // files is reported as not inspected (`unreviewable`, deny), like a file over
            // the per-file limit; nothing else needs the text.
            if record.content.take().is_some() && !contents.kept_budget_reached {
                contents.kept_budget_reached = true;
                contents.notes.push(format!(
                    "the files' text past {} bytes was not kept for parsing (the per-crate budget); build-time code among them is reported as not inspected",
                    limits.max_kept_bytes
                ));
            }
        } else {
            kept += len;
        }
        contents.total_bytes = contents.total_bytes.saturating_add(record.size);
        contents.files.insert(rel, record);
    }
    Ok(contents)
}

/// Validates an entry path and strips the `NAME-VERSION/` top folder.
///
/// Returns `Ok(None)` for the top folder itself.
fn package_relative(full: &str, top: &str) -> Result<Option<String>, InspectError> {
    if full.chars().any(char::is_control) {
        return Err(InspectError::InvalidPath {
            path: full.escape_debug().to_string(),
        });
    }
    let bytes = full.as_bytes();
    let drive = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
    if full.starts_with('/') || full.starts_with('\\') || drive {
        return Err(InspectError::AbsolutePath {
            path: full.to_owned(),
        });
    }
    let mut parts = Vec::new();
    for part in full.split(['/', '\\']) {
        match part {
            ".." => {
                return Err(InspectError::PathTraversal {
                    path: full.to_owned(),
                });
            }
            "" | "." => {}
            p => parts.push(p),
        }
    }
    if parts.first() != Some(&top) {
        return Err(InspectError::OutsideTopFolder {
            path: full.to_owned(),
            expected: top.to_owned(),
        });
    }
    if parts.len() == 1 {
        return Ok(None);
    }
    Ok(Some(parts[1..].join("/")))
}

/// Streams one entry through the sniffers, keeping it whole when small.
fn stream_file(
    reader: &mut impl Read,
    path: String,
    limits: &InspectLimits,
) -> Result<FileRecord, Failure> {
    let mut head = Vec::new();
    let mut content = Some(Vec::new());
    let mut histogram = [0u64; 256];
    let mut utf8 = Utf8Stream::default();
    let mut size = 0u64;
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        let chunk = &buf[..n];
        size += n as u64;
        if head.len() < HEAD_BYTES {
            let take = (HEAD_BYTES - head.len()).min(n);
            head.extend_from_slice(&chunk[..take]);
        }
        for &b in chunk {
            histogram[usize::from(b)] += 1;
        }
        utf8.feed(chunk);
        if size > limits.max_file_bytes {
            content = None;
        } else if let Some(c) = content.as_mut() {
            c.extend_from_slice(chunk);
        }
    }
    Ok(FileRecord {
        path,
        size,
        head,
        content,
        entropy: entropy(&histogram, size),
        utf8: utf8.finish(),
    })
}

/// Shannon entropy in bits per byte.
pub(crate) fn entropy(histogram: &[u64; 256], total: u64) -> f64 {
    if total == 0 {
        return 0.0;
    }
    let total = total as f64;
    histogram
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / total;
            -p * p.log2()
        })
        .sum()
}

/// Incremental UTF-8 validation across chunk boundaries.
#[derive(Default)]
struct Utf8Stream {
    invalid: bool,
    pending: Vec<u8>,
}

impl Utf8Stream {
    fn feed(&mut self, chunk: &[u8]) {
        if self.invalid {
            return;
        }
        let joined;
        let data = if self.pending.is_empty() {
            chunk
        } else {
            joined = [self.pending.as_slice(), chunk].concat();
            &joined
        };
        match std::str::from_utf8(data) {
            Ok(_) => self.pending.clear(),
            Err(e) if e.error_len().is_none() => {
                self.pending = data[e.valid_up_to()..].to_vec();
            }
            Err(_) => self.invalid = true,
        }
    }

    fn finish(self) -> bool {
        !self.invalid && self.pending.is_empty()
    }
}

/// Counts inflated bytes and fails once more than `limit` were produced;
/// remembers whether a failure came from the gzip layer or from the limit.
struct LimitedReader<R> {
    inner: R,
    read: u64,
    limit: u64,
    exceeded: bool,
    source_error: Option<String>,
}

impl<R: Read> LimitedReader<R> {
    fn new(inner: R, limit: u64) -> Self {
        Self {
            inner,
            read: 0,
            limit,
            exceeded: false,
            source_error: None,
        }
    }

    /// Turns an I/O error seen by the tar layer into the precise reason.
    fn classify(&self, e: &io::Error) -> InspectError {
        if self.exceeded {
            InspectError::TooLarge { limit: self.limit }
        } else if let Some(reason) = &self.source_error {
            InspectError::Gzip {
                reason: reason.clone(),
            }
        } else {
            InspectError::Tar {
                reason: e.to_string(),
            }
        }
    }
}

impl<R: Read> Read for LimitedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.exceeded {
            return Err(io::Error::other("inflated size limit exceeded"));
        }
        // Allow one byte past the limit so that "exactly at the limit" passes.
        let room = self.limit.saturating_sub(self.read).saturating_add(1);
        let max = usize::try_from(room).unwrap_or(usize::MAX).min(buf.len());
        let n = match self.inner.read(&mut buf[..max]) {
            Ok(n) => n,
            Err(e) => {
                if e.kind() != io::ErrorKind::Interrupted {
                    self.source_error = Some(e.to_string());
                }
                return Err(e);
            }
        };
        self.read += n as u64;
        if self.read > self.limit {
            self.exceeded = true;
            return Err(io::Error::other("inflated size limit exceeded"));
        }
        Ok(n)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::testkit::krate::Krate;
    use crate::testkit::raw::{RawTar, gzip};

    fn read(bytes: &[u8]) -> Result<Contents, InspectError> {
        read_archive("foo", "1.0.0", bytes, &InspectLimits::default())
    }

    fn read_with(bytes: &[u8], limits: &InspectLimits) -> Result<Contents, InspectError> {
        read_archive("foo", "1.0.0", bytes, limits)
    }

    fn raw() -> RawTar {
        let mut t = RawTar::new();
        t.file("foo-1.0.0/Cargo.toml", b"[package]\nname = \"foo\"\n");
        t
    }

    #[test]
    fn reads_a_normal_crate_in_memory() {
        let bytes = Krate::new("foo", "1.0.0")
            .file("src/lib.rs", "pub fn f() {}\n")
            .build();
        let c = read(&bytes).unwrap();
        assert_eq!(
            c.files.keys().collect::<Vec<_>>(),
            ["Cargo.toml", "src/lib.rs"]
        );
        let lib = &c.files["src/lib.rs"];
        assert_eq!(lib.text(), Some("pub fn f() {}\n"));
        assert!(lib.utf8);
        assert_eq!(lib.size, 14);
        assert!(c.total_bytes > 14);
    }

    #[test]
    fn long_gnu_names_are_supported() {
        let long = format!("src/{}/mod.rs", "d".repeat(150));
        let bytes = Krate::new("foo", "1.0.0").file(&long, "").build();
        let c = read(&bytes).unwrap();
        assert!(c.files.contains_key(&long));
    }

    #[test]
    fn pax_global_header_is_ignored() {
        let mut t = raw();
        t.entry(
            b"pax_global_header",
            b'g',
            b"52 comment=0123456789abcdef0123456789abcdef01234567\n",
        );
        t.file("foo-1.0.0/src/lib.rs", b"");
        let c = read(&gzip(&t.finish())).unwrap();
        assert_eq!(c.files.len(), 2);
    }

    #[test]
    fn rejects_dot_dot() {
        let mut t = raw();
        t.file("foo-1.0.0/../../etc/cron.d/x", b"* * * * * root sh\n");
        let e = read(&gzip(&t.finish())).unwrap_err();
        assert!(
            matches!(e, InspectError::PathTraversal { ref path } if path.contains("../")),
            "{e}"
        );
    }

    #[test]
    fn rejects_backslash_dot_dot() {
        let mut t = raw();
        t.file("foo-1.0.0\\..\\..\\x", b"");
        let e = read(&gzip(&t.finish())).unwrap_err();
        assert!(matches!(e, InspectError::PathTraversal { .. }), "{e}");
    }

    #[test]
    fn rejects_absolute_path() {
        let mut t = raw();
        t.file("/etc/passwd", b"root::0:0::/:/bin/sh\n");
        let e = read(&gzip(&t.finish())).unwrap_err();
        assert_eq!(
            e,
            InspectError::AbsolutePath {
                path: "/etc/passwd".into()
            }
        );
        let mut t = raw();
        t.file("C:/Windows/x.dll", b"");
        let e = read(&gzip(&t.finish())).unwrap_err();
        assert!(matches!(e, InspectError::AbsolutePath { .. }), "{e}");
    }

    #[test]
    fn rejects_symlink() {
        let mut t = raw();
        t.link("foo-1.0.0/build.rs", b'2', "/home/user/.ssh/id_rsa");
        let e = read(&gzip(&t.finish())).unwrap_err();
        assert_eq!(
            e,
            InspectError::Symlink {
                path: "foo-1.0.0/build.rs".into(),
                target: "/home/user/.ssh/id_rsa".into()
            }
        );
    }

    #[test]
    fn rejects_hard_link() {
        let mut t = raw();
        t.link("foo-1.0.0/src/lib.rs", b'1', "foo-1.0.0/Cargo.toml");
        let e = read(&gzip(&t.finish())).unwrap_err();
        assert!(
            matches!(e, InspectError::HardLink { ref target, .. } if target == "foo-1.0.0/Cargo.toml"),
            "{e}"
        );
    }

    #[test]
    fn rejects_device_and_fifo() {
        for (ty, word) in [
            (b'3', "character device"),
            (b'4', "block device"),
            (b'6', "FIFO"),
        ] {
            let mut t = raw();
            t.entry(b"foo-1.0.0/dev", ty, b"");
            let e = read(&gzip(&t.finish())).unwrap_err();
            assert!(
                matches!(e, InspectError::SpecialFile { ref kind, .. } if kind.contains(word)),
                "{e}"
            );
        }
    }

    #[test]
    fn rejects_sparse_and_unknown_types() {
        let mut t = raw();
        t.entry(b"foo-1.0.0/x", b'Z', b"");
        let e = read(&gzip(&t.finish())).unwrap_err();
        assert_eq!(
            e,
            InspectError::UnsupportedEntry {
                path: "foo-1.0.0/x".into(),
                entry_type: b'Z'
            }
        );
    }

    #[test]
    fn rejects_duplicates() {
        let mut t = raw();
        t.file("foo-1.0.0/build.rs", b"fn main() {}");
        t.file("foo-1.0.0/./build.rs", b"fn main() { evil() }");
        let e = read(&gzip(&t.finish())).unwrap_err();
        assert_eq!(
            e,
            InspectError::DuplicatePath {
                path: "foo-1.0.0/./build.rs".into()
            }
        );
    }

    #[test]
    fn rejects_wrong_top_folder() {
        let mut t = raw();
        t.file("bar-1.0.0/src/lib.rs", b"");
        let e = read(&gzip(&t.finish())).unwrap_err();
        assert_eq!(
            e,
            InspectError::OutsideTopFolder {
                path: "bar-1.0.0/src/lib.rs".into(),
                expected: "foo-1.0.0".into()
            }
        );
    }

    #[test]
    fn rejects_non_utf8_names() {
        let mut t = raw();
        t.entry(b"foo-1.0.0/src/\xff\xfe.rs", b'0', b"");
        let e = read(&gzip(&t.finish())).unwrap_err();
        assert!(matches!(e, InspectError::NonUtf8Path { .. }), "{e}");
    }

    #[test]
    fn rejects_control_characters_in_names() {
        let mut t = raw();
        t.file("foo-1.0.0/src/a\u{1b}[2Kb.rs", b"");
        let e = read(&gzip(&t.finish())).unwrap_err();
        assert!(matches!(e, InspectError::InvalidPath { .. }), "{e}");
    }

    #[test]
    fn stops_at_the_entry_limit_quickly() {
        let mut t = raw();
        for i in 0..100_000 {
            t.file(&format!("foo-1.0.0/f/{i}"), b"x");
        }
        let gz = gzip(&t.finish());
        let start = std::time::Instant::now();
        let e = read(&gz).unwrap_err();
        assert_eq!(e, InspectError::TooManyEntries { limit: 20_000 });
        assert!(start.elapsed() < std::time::Duration::from_secs(20));
    }

    #[test]
    fn stops_a_decompression_bomb_early() {
        // 64 MiB of zeros in one entry compresses to ~64 KiB.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let mut header = tar::Header::new_gnu();
        header.set_path("foo-1.0.0/bomb").unwrap();
        header.set_size(64 << 20);
        header.set_mode(0o644);
        header.set_cksum();
        std::io::Write::write_all(&mut gz, header.as_bytes()).unwrap();
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..64 {
            std::io::Write::write_all(&mut gz, &zeros).unwrap();
        }
        let bytes = gz.finish().unwrap();
        assert!(bytes.len() < 1 << 20);
        let limits = InspectLimits {
            max_total_bytes: 8 << 20,
            ..InspectLimits::default()
        };
        let e = read_with(&bytes, &limits).unwrap_err();
        assert_eq!(e, InspectError::TooLarge { limit: 8 << 20 });
    }

    #[test]
    fn rejects_truncated_gzip() {
        let bytes = Krate::new("foo", "1.0.0")
            .file("src/lib.rs", &"pub fn f() {}\n".repeat(1000))
            .build();
        for cut in [bytes.len() - 4, bytes.len() / 2, 11] {
            let e = read(&bytes[..cut]).unwrap_err();
            assert!(matches!(e, InspectError::Gzip { .. }), "cut {cut}: {e}");
        }
    }

    #[test]
    fn rejects_not_gzip() {
        let e = read(b"PK\x03\x04 this is a zip").unwrap_err();
        assert!(matches!(e, InspectError::Gzip { .. }), "{e}");
    }

    #[test]
    fn rejects_bad_tar_checksum() {
        let mut tar = raw().finish();
        tar[148] ^= 0x01;
        let e = read(&gzip(&tar)).unwrap_err();
        assert!(matches!(e, InspectError::Tar { .. }), "{e}");
    }

    #[test]
    fn huge_file_is_streamed_not_kept() {
        let limits = InspectLimits {
            max_file_bytes: 1024,
            ..InspectLimits::default()
        };
        let mut big = b"\x7fELF".to_vec();
        big.resize(3 << 20, 0xAB);
        let bytes = Krate::new("foo", "1.0.0")
            .file_bytes("blob.bin", &big)
            .build();
        let c = read_with(&bytes, &limits).unwrap();
        let rec = &c.files["blob.bin"];
        assert_eq!(rec.size, 3 << 20);
        assert!(rec.content.is_none());
        assert_eq!(rec.head.len(), HEAD_BYTES);
        assert!(rec.head.starts_with(b"\x7fELF"));
        assert!(!rec.utf8);
    }

    #[test]
    fn utf8_validation_spans_chunks() {
        let mut s = Utf8Stream::default();
        let text = "héllo wörld €".as_bytes();
        for b in text.chunks(1) {
            s.feed(b);
        }
        assert!(s.finish());
        let mut s = Utf8Stream::default();
        s.feed(b"ok\xe2\x82");
        assert!(!s.finish());
    }

    #[test]
    fn entropy_of_uniform_and_constant_data() {
        let mut h = [0u64; 256];
        for b in h.iter_mut() {
            *b = 16;
        }
        assert!((entropy(&h, 4096) - 8.0).abs() < 1e-9);
        let mut h = [0u64; 256];
        h[0] = 4096;
        assert_eq!(entropy(&h, 4096), 0.0);
    }
}
