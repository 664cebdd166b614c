//! Classification of the shipped files: native sources, binaries, scripts,
//! and suspicious blobs. Works on sniffed bytes only; nothing is executed.

use std::collections::BTreeMap;

use super::archive::FileRecord;
use super::surface::{BinaryFile, BinaryKind, SuspiciousFile};

const NATIVE_EXTENSIONS: &[&str] = &["c", "cc", "cpp", "cxx", "h", "hpp", "s", "asm"];
const LARGE_FILE: u64 = 1024 * 1024;
const ENTROPY_MIN_BYTES: u64 = 4096;
const ENTROPY_THRESHOLD: f64 = 7.5;

#[derive(Debug, Default)]
pub(crate) struct Inventory {
    pub native_sources: Vec<String>,
    pub binaries: Vec<BinaryFile>,
    pub scripts: Vec<String>,
    pub suspicious_files: Vec<SuspiciousFile>,
}

pub(crate) fn classify(files: &BTreeMap<String, FileRecord>) -> Inventory {
    let mut inv = Inventory::default();
    for (path, rec) in files {
        let ext = extension(path);
        if NATIVE_EXTENSIONS.contains(&ext.as_str()) {
            inv.native_sources.push(path.clone());
        }
        if let Some(kind) = sniff_binary(path, &rec.head) {
            inv.binaries.push(BinaryFile {
                path: path.clone(),
                kind,
            });
            // Already reported as a binary: not repeated as "suspicious".
            continue;
        }
        if ext != "rs" && rec.head.starts_with(b"#!") && !rec.head.starts_with(b"#![") {
            inv.scripts.push(path.clone());
        }
        if let Some(reason) = suspicious(path, rec) {
            inv.suspicious_files.push(SuspiciousFile {
                path: path.clone(),
                reason,
            });
        }
    }
    inv
}

fn extension(path: &str) -> String {
    let name = path.rsplit('/').next().unwrap_or(path);
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => ext.to_ascii_lowercase(),
        _ => String::new(),
    }
}

fn is_source(path: &str) -> bool {
    let ext = extension(path);
    ext == "rs" || NATIVE_EXTENSIONS.contains(&ext.as_str())
}

/// High entropy means compressed or encrypted data; it is only worth
/// reporting when the file is not a recognised compressed/image format
/// (decided by magic bytes, not by the easily forged extension).
pub(crate) fn is_high_entropy(rec: &FileRecord) -> bool {
    rec.size >= ENTROPY_MIN_BYTES && rec.entropy > ENTROPY_THRESHOLD
}

fn suspicious(path: &str, rec: &FileRecord) -> Option<String> {
    if is_high_entropy(rec) && known_compressed(&rec.head).is_none() {
        return Some(format!(
            "high-entropy data ({:.2} bits/byte over {} bytes) that is not a known compressed or image format",
            rec.entropy, rec.size
        ));
    }
    if rec.size > LARGE_FILE && !is_source(path) {
        let what =
            known_compressed(&rec.head).unwrap_or(if rec.utf8 { "text" } else { "binary data" });
        return Some(format!(
            "unusually large file: {} bytes of {what}",
            rec.size
        ));
    }
    None
}

/// Formats whose content is legitimately high-entropy.
pub(crate) fn known_compressed(head: &[u8]) -> Option<&'static str> {
    const MAGICS: &[(&[u8], &str)] = &[
        (b"\x1f\x8b", "gzip"),
        (b"PK\x03\x04", "zip"),
        (b"PK\x05\x06", "zip"),
        (b"\x89PNG\r\n\x1a\n", "PNG image"),
        (b"\xff\xd8\xff", "JPEG image"),
        (b"GIF87a", "GIF image"),
        (b"GIF89a", "GIF image"),
        (b"\xfd7zXZ\x00", "xz"),
        (b"\x28\xb5\x2f\xfd", "zstd"),
        (b"BZh", "bzip2"),
        (b"7z\xbc\xaf\x27\x1c", "7-zip"),
        (b"wOFF", "WOFF font"),
        (b"wOF2", "WOFF2 font"),
        (b"%PDF-", "PDF"),
        (b"\x00\x00\x00\x0cjP  ", "JPEG 2000 image"),
        (b"OggS", "Ogg media"),
        (b"fLaC", "FLAC audio"),
        (b"ID3", "MP3 audio"),
    ];
    if let Some((_, name)) = MAGICS.iter().find(|(m, _)| head.starts_with(m)) {
        return Some(name);
    }
    if head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"WEBP" {
        return Some("WebP image");
    }
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        return Some("ISO media (MP4/AVIF/HEIC)");
    }
    None
}

/// Recognises executables and object code by their leading bytes.
pub(crate) fn sniff_binary(path: &str, head: &[u8]) -> Option<BinaryKind> {
    let ext = extension(path);
    let be32 = |at: usize| {
        head.get(at..at + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    if head.starts_with(b"\x7fELF") {
        return Some(BinaryKind::Elf);
    }
    if head.starts_with(b"\0asm") {
        return Some(BinaryKind::Wasm);
    }
    if head.starts_with(b"!<arch>\n") || head.starts_with(b"!<thin>\n") {
        return Some(if ext == "lib" {
            BinaryKind::WindowsImportLib
        } else {
            BinaryKind::ArArchive
        });
    }
    if head.starts_with(b"MZ") && head.len() >= 0x40 {
        let e_lfanew = usize::try_from(u32::from_le_bytes([
            head[0x3c], head[0x3d], head[0x3e], head[0x3f],
        ]))
        .unwrap_or(usize::MAX);
        match head.get(e_lfanew..e_lfanew.saturating_add(4)) {
            Some(sig) if sig == b"PE\0\0" => return Some(BinaryKind::Pe),
            Some(_) => {}
            // PE header beyond the sniffed bytes: cannot verify, assume PE.
            None => return Some(BinaryKind::Pe),
        }
    }
    match be32(0) {
        Some(0xfeed_face | 0xfeed_facf | 0xcefa_edfe | 0xcffa_edfe | 0xbeba_feca | 0xbfba_feca) => {
            return Some(BinaryKind::MachO);
        }
        Some(0xcafe_babe | 0xcafe_babf) => {
            // Also the Java class file magic; a fat Mach-O has a small
            // architecture count where a class file has its version.
            let fat_count = be32(4).unwrap_or(u32::MAX);
            if ext != "class" && fat_count < 0x30 {
                return Some(BinaryKind::MachO);
            }
        }
        _ => {}
    }
    if matches!(ext.as_str(), "obj" | "o") && head.len() >= 20 {
        let machine = u16::from_le_bytes([head[0], head[1]]);
        if matches!(machine, 0x8664 | 0x014c | 0xaa64 | 0x01c4) {
            return Some(BinaryKind::CoffObject);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(path: &str, head: &[u8], size: u64, entropy: f64, utf8: bool) -> FileRecord {
        FileRecord {
            path: path.into(),
            size,
            head: head.to_vec(),
            content: None,
            entropy,
            utf8,
        }
    }

    fn pe() -> Vec<u8> {
        let mut b = vec![0u8; 0x100];
        b[..2].copy_from_slice(b"MZ");
        b[0x3c] = 0x80;
        b[0x80..0x84].copy_from_slice(b"PE\0\0");
        b
    }

    #[test]
    fn magic_bytes() {
        assert_eq!(
            sniff_binary("lib/x.so", b"\x7fELF\x02\x01"),
            Some(BinaryKind::Elf)
        );
        assert_eq!(sniff_binary("x.dll", &pe()), Some(BinaryKind::Pe));
        let mut not_pe = pe();
        not_pe[0x80] = b'X';
        assert_eq!(sniff_binary("x.txt", &not_pe), None);
        assert_eq!(
            sniff_binary("x.dylib", &[0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1]),
            Some(BinaryKind::MachO)
        );
        assert_eq!(
            sniff_binary("x", &[0xfe, 0xed, 0xfa, 0xcf]),
            Some(BinaryKind::MachO)
        );
        let fat = [0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2];
        assert_eq!(sniff_binary("x", &fat), Some(BinaryKind::MachO));
        assert_eq!(sniff_binary("A.class", &fat), None);
        let class = [0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52];
        assert_eq!(sniff_binary("A", &class), None);
        assert_eq!(
            sniff_binary("libz.a", b"!<arch>\n/  "),
            Some(BinaryKind::ArArchive)
        );
        assert_eq!(
            sniff_binary("z.lib", b"!<arch>\n/  "),
            Some(BinaryKind::WindowsImportLib)
        );
        assert_eq!(
            sniff_binary("m.wasm", b"\0asm\x01\0\0\0"),
            Some(BinaryKind::Wasm)
        );
        let mut coff = vec![0u8; 20];
        coff[..2].copy_from_slice(&0x8664u16.to_le_bytes());
        assert_eq!(sniff_binary("x.obj", &coff), Some(BinaryKind::CoffObject));
        assert_eq!(sniff_binary("x.txt", &coff), None);
        assert_eq!(sniff_binary("README.md", b"# hello"), None);
    }

    #[test]
    fn classification() {
        let mut files = BTreeMap::new();
        for r in [
            rec("csrc/z.c", b"int x;", 6, 3.0, true),
            rec("include/z.H", b"", 0, 0.0, true),
            rec("asm/x.S", b"", 0, 0.0, true),
            rec("bin/tool", b"\x7fELF", 9000, 6.0, false),
            rec("gen.sh", b"#!/bin/sh\ncurl", 20, 4.0, true),
            rec("src/main.rs", b"#![allow(x)]", 20, 4.0, true),
            rec("data/blob.bin", b"\x13\x37", 8192, 7.9, false),
            rec("data/img.png", b"\x89PNG\r\n\x1a\nxxxx", 8192, 7.9, false),
            rec("data/big.json", b"{", 2 << 20, 4.0, true),
            rec("src/tables.rs", b"//", 2 << 20, 4.0, true),
        ] {
            files.insert(r.path.clone(), r);
        }
        let inv = classify(&files);
        assert_eq!(inv.native_sources, ["asm/x.S", "csrc/z.c", "include/z.H"]);
        assert_eq!(
            inv.binaries,
            [BinaryFile {
                path: "bin/tool".into(),
                kind: BinaryKind::Elf
            }]
        );
        assert_eq!(inv.scripts, ["gen.sh"]);
        let sus: Vec<_> = inv
            .suspicious_files
            .iter()
            .map(|s| s.path.as_str())
            .collect();
        assert_eq!(sus, ["data/big.json", "data/blob.bin"]);
        assert!(inv.suspicious_files[1].reason.contains("high-entropy"));
        assert!(inv.suspicious_files[0].reason.contains("large"));
    }
}
