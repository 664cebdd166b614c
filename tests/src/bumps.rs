//! A realistic dependency update for benchmarks: crates published to a local registry at
//! 1.0.0 and 1.0.1, each with a build script that changed between the two, so every one is
//! downloaded, inspected and reported.

use crate::lockgen::{Pkg, member};
use lockwatch::registry::fake::FakeRegistry;
use lockwatch::testkit::Krate;

/// A crates.io package of the lock file.
pub fn registry_pkg(name: &str, version: &str, checksum: &str) -> Pkg {
    Pkg {
        name: name.into(),
        version: version.into(),
        source: Some("registry+https://github.com/rust-lang/crates.io-index".into()),
        checksum: Some(checksum.into()),
        deps: Vec::new(),
    }
}

/// Publish `names` at 1.0.0 and 1.0.1 (a `src/lib.rs` of `lib_fns` functions, a changed
/// `build.rs`) and return the base and head packages, each with the workspace member `app`
/// depending on all of them.
pub fn publish_build_script_bumps(
    registry: &FakeRegistry,
    names: &[String],
    lib_fns: usize,
) -> (Vec<Pkg>, Vec<Pkg>) {
    let (mut base, mut head) = (vec![], vec![]);
    let lib: String = (0..lib_fns)
        .map(|j| format!("pub fn f{j}() -> u32 {{ {j} }}\n"))
        .collect();
    for (i, name) in names.iter().enumerate() {
        let build = format!(
            "fn main() {{\n    println!(\"cargo:rerun-if-changed=build.rs\");\n    let _ = std::env::var(\"OUT_DIR\");\n    // {i}\n}}\n"
        );
        let old = Krate::new(name, "1.0.0")
            .file("src/lib.rs", &lib)
            .file("build.rs", &build)
            .build();
        let new = Krate::new(name, "1.0.1")
            .file("src/lib.rs", &lib)
            .file("build.rs", &format!("{build}// changed\n"))
            .build();
        base.push(registry_pkg(
            name,
            "1.0.0",
            &registry.publish(name, "1.0.0", old, vec![]),
        ));
        head.push(registry_pkg(
            name,
            "1.0.1",
            &registry.publish(name, "1.0.1", new, vec![]),
        ));
    }
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    base.push(member("app", "0.1.0").deps(&refs));
    head.push(member("app", "0.1.0").deps(&refs));
    (base, head)
}
