//! Raw tar writing for hostile archives (`..` paths, absolute paths, links,
//! devices, duplicates, non-UTF-8 names) that `tar::Builder` refuses to make.

const BLOCK: usize = 512;

/// An uncompressed tar stream written header by header, without validation.
#[derive(Debug, Clone, Default)]
pub struct RawTar {
    buf: Vec<u8>,
}

impl RawTar {
    pub fn new() -> Self {
        Self::default()
    }

    /// A regular file with any path (no validation).
    pub fn file(&mut self, path: &str, contents: &[u8]) -> &mut Self {
        self.entry(path.as_bytes(), b'0', contents)
    }

    /// A symlink (`b'2'`) or hard link (`b'1'`) to `target`.
    pub fn link(&mut self, path: &str, type_byte: u8, target: &str) -> &mut Self {
        self.header(path.as_bytes(), type_byte, 0, target.as_bytes());
        self
    }

    /// Any entry type with raw path bytes and contents. Paths longer than
    /// 100 bytes get a GNU long-name entry.
    pub fn entry(&mut self, path: &[u8], type_byte: u8, contents: &[u8]) -> &mut Self {
        self.header(path, type_byte, contents.len() as u64, b"");
        self.data(contents);
        self
    }

    /// Appends raw bytes (data blocks are padded to 512 bytes).
    pub fn data(&mut self, contents: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(contents);
        let pad = (BLOCK - contents.len() % BLOCK) % BLOCK;
        self.buf.resize(self.buf.len() + pad, 0);
        self
    }

    /// Writes a header whose size field says `size`, without any data.
    pub fn header(&mut self, path: &[u8], type_byte: u8, size: u64, link: &[u8]) -> &mut Self {
        if path.len() > 100 {
            let mut long = path.to_vec();
            long.push(0);
            self.header(b"././@LongLink", b'L', long.len() as u64, b"");
            self.data(&long);
        }
        let mut header = tar::Header::new_gnu();
        {
            let old = header.as_old_mut();
            let n = path.len().min(old.name.len());
            old.name[..n].copy_from_slice(&path[..n]);
            let n = link.len().min(old.linkname.len());
            old.linkname[..n].copy_from_slice(&link[..n]);
        }
        header.set_mode(0o644);
        header.set_mtime(1_700_000_000);
        header.set_size(size);
        header.set_entry_type(tar::EntryType::new(type_byte));
        header.set_cksum();
        self.buf.extend_from_slice(header.as_bytes());
        self
    }

    /// The tar bytes with the end-of-archive marker.
    pub fn finish(&self) -> Vec<u8> {
        let mut out = self.buf.clone();
        out.resize(out.len() + 2 * BLOCK, 0);
        out
    }
}

/// Gzips bytes deterministically.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    super::krate::gzip_bytes(data)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn writes_paths_that_builder_refuses() {
        let mut t = RawTar::new();
        t.file("../escape", b"x").link("a", b'2', "/etc/passwd");
        let tar = t.finish();
        assert_eq!(tar.len(), 512 * 2 + 512 * 3);
        let mut archive = tar::Archive::new(tar.as_slice());
        let entries: Vec<_> = archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (e.path_bytes().into_owned(), e.header().entry_type())
            })
            .collect();
        assert_eq!(entries[0], (b"../escape".to_vec(), tar::EntryType::Regular));
        assert_eq!(entries[1], (b"a".to_vec(), tar::EntryType::Symlink));
    }
}
