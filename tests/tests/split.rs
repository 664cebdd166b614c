//! Split pull requests end to end: real git repositories, the real binary. Scenario tests for
//! `mixed-pr`, `requirement-raised` and policy-file edits, and a table of realistic pull
//! requests with the verdict a human reviewer would give.

use lockwatch_tests::lockgen::{Pkg, lock, member, reg};
use lockwatch_tests::scenario::{Scenario, findings};
use serde_json::Value;

/// The crate names a `mixed-pr` finding lists as unrelated (first word of each evidence).
fn unrelated(f: &Value) -> Vec<String> {
    let mut names: Vec<String> = f["evidence"]
        .as_array()
        .expect("report shape")
        .iter()
        .map(|e| {
            e["text"]
                .as_str()
                .expect("report shape")
                .split(' ')
                .next()
                .expect("report shape")
                .to_string()
        })
        .collect();
    names.sort();
    names
}

fn fix(f: &Value) -> Vec<String> {
    f["fix"]
        .as_array()
        .expect("report shape")
        .iter()
        .map(|l| l.as_str().expect("report shape").to_string())
        .collect()
}

// ---- building blocks -------------------------------------------------------------------

fn manifest(name: &str, version: &str, rest: &str) -> String {
    format!("[package]\nname = \"{name}\"\nversion = \"{version}\"\nedition = \"2021\"\n\n{rest}")
}

const APP_DEPS: &str = "[dependencies]\nregex = \"1.5\"\nserde = \"1\"\ntokio = \"1.38\"\nlog = \"0.4\"\natty = \"0.2\"\n";

/// The base lock of the single-crate project `app`.
fn app_pkgs() -> Vec<Pkg> {
    vec![
        member("app", "0.1.0").deps(&["regex", "serde", "tokio", "log", "atty"]),
        reg("regex", "1.5.5").deps(&["memchr", "aho-corasick"]),
        reg("aho-corasick", "1.0.0").deps(&["memchr"]),
        reg("memchr", "2.6.0"),
        reg("serde", "1.0.200"),
        reg("tokio", "1.38.0").deps(&["bytes", "mio", "pin-project-lite"]),
        reg("bytes", "1.5.0"),
        reg("mio", "0.8.11").deps(&["libc"]),
        reg("libc", "0.2.150"),
        reg("pin-project-lite", "0.2.13"),
        reg("log", "0.4.20"),
        reg("atty", "0.2.14").deps(&["hermit-abi", "libc"]),
        reg("hermit-abi", "0.1.19"),
    ]
}

fn app_base() -> Vec<(&'static str, String)> {
    vec![
        ("Cargo.toml", manifest("app", "0.1.0", APP_DEPS)),
        ("Cargo.lock", lock(3, &app_pkgs())),
        ("src/lib.rs", "pub fn f() {}\n".into()),
        ("README.md", "# app\n".into()),
        ("CHANGELOG.md", "# Changelog\n".into()),
        (".github/workflows/ci.yml", "on: push\n".into()),
    ]
}

/// Edit a package list: replace packages by name (or add them), then drop names.
fn edit(mut pkgs: Vec<Pkg>, set: Vec<Pkg>, drop: &[&str]) -> Vec<Pkg> {
    for p in set {
        match pkgs.iter_mut().find(|q| q.name == p.name) {
            Some(q) => *q = p,
            None => pkgs.push(p),
        }
    }
    pkgs.retain(|p| !drop.contains(&p.name.as_str()));
    pkgs
}

fn app_member(extra: &[&str]) -> Pkg {
    let mut deps = vec!["regex", "serde", "tokio", "log", "atty"];
    deps.extend_from_slice(extra);
    member("app", "0.1.0").deps(&deps)
}

fn code() -> (&'static str, Option<String>) {
    (
        "src/lib.rs",
        Some("pub fn f() {}\npub fn feature() {}\n".into()),
    )
}

fn app_toml(deps: &str) -> (&'static str, Option<String>) {
    ("Cargo.toml", Some(manifest("app", "0.1.0", deps)))
}

fn app_lock(pkgs: Vec<Pkg>) -> (&'static str, Option<String>) {
    ("Cargo.lock", Some(lock(3, &pkgs)))
}

/// `regex` 1.11 as `cargo update` brings it.
fn regex_1_11() -> Vec<Pkg> {
    vec![
        reg("regex", "1.11.1").deps(&["aho-corasick", "memchr", "regex-automata", "regex-syntax"]),
        reg("regex-automata", "0.4.9").deps(&["aho-corasick", "memchr", "regex-syntax"]),
        reg("regex-syntax", "0.8.5"),
    ]
}

/// A workspace: root manifest with `[workspace.dependencies]`, one member `core`.
fn ws_base() -> Vec<(&'static str, String)> {
    vec![
        (
            "Cargo.toml",
            "[workspace]\nmembers = [\"crates/*\"]\nresolver = \"2\"\n\n[workspace.dependencies]\nserde = \"1.0.200\"\ntokio = \"1.38\"\n".into(),
        ),
        (
            "crates/core/Cargo.toml",
            manifest("core", "0.1.0", "[dependencies]\nserde.workspace = true\n"),
        ),
        ("crates/core/src/lib.rs", "pub fn f() {}\n".into()),
        (
            "Cargo.lock",
            lock(3, &[member("core", "0.1.0").deps(&["serde"]), reg("serde", "1.0.200")]),
        ),
    ]
}

fn git_pkg(name: &str, version: &str, url: &str) -> Pkg {
    Pkg {
        name: name.into(),
        version: version.into(),
        source: Some(format!(
            "git+{url}#0123456789abcdef0123456789abcdef01234567"
        )),
        checksum: None,
        deps: Vec::new(),
    }
}

// ---- the table of realistic pull requests ---------------------------------------------

struct Case {
    name: &'static str,
    base: Vec<(&'static str, String)>,
    head: Vec<(&'static str, Option<String>)>,
    /// A human reviewer's verdict: the crates that belong in a separate dependency PR.
    mixed: &'static [&'static str],
    /// Requirements a human would want pointed out (raised in a feature PR).
    raised: &'static [&'static str],
}

fn cases() -> Vec<Case> {
    let csv = || {
        vec![
            reg("csv", "1.3.0").deps(&["csv-core", "itoa", "ryu", "serde"]),
            reg("csv-core", "0.1.11").deps(&["memchr"]),
            reg("itoa", "1.0.11"),
            reg("ryu", "1.0.18"),
        ]
    };
    vec![
        Case {
            name: "dependabot: serde patch bump, lock file only",
            base: app_base(),
            head: vec![app_lock(edit(app_pkgs(), vec![reg("serde", "1.0.210")], &[]))],
            mixed: &[],
            raised: &[],
        },
        Case {
            name: "dependabot: tokio 1.38 -> 1.40 with the Cargo.toml requirement",
            base: app_base(),
            head: vec![
                app_toml(&APP_DEPS.replace("tokio = \"1.38\"", "tokio = \"1.40\"")),
                app_lock(edit(
                    app_pkgs(),
                    vec![
                        reg("tokio", "1.40.0").deps(&["bytes", "mio", "pin-project-lite"]),
                        reg("mio", "1.0.2").deps(&["libc"]),
                    ],
                    &[],
                )),
            ],
            mixed: &[],
            raised: &[],
        },
        Case {
            name: "renovate: lock file maintenance (cargo update of everything)",
            base: app_base(),
            head: vec![app_lock(edit(
                app_pkgs(),
                vec![
                    reg("serde", "1.0.210"),
                    reg("log", "0.4.22"),
                    reg("memchr", "2.7.4"),
                    reg("libc", "0.2.159"),
                ],
                &[],
            ))],
            mixed: &[],
            raised: &[],
        },
        Case {
            name: "feature: add csv with its transitive crates",
            base: app_base(),
            head: vec![
                code(),
                app_toml(&format!("{APP_DEPS}csv = \"1.3\"\n")),
                app_lock(edit(app_pkgs(), [vec![app_member(&["csv"])], csv()].concat(), &[])),
            ],
            mixed: &[],
            raised: &[],
        },
        Case {
            name: "feature: add reqwest, which needs a newer bytes (shared with tokio)",
            base: app_base(),
            head: vec![
                code(),
                app_toml(&format!("{APP_DEPS}reqwest = \"0.12\"\n")),
                app_lock(edit(
                    app_pkgs(),
                    vec![
                        app_member(&["reqwest"]),
                        reg("reqwest", "0.12.8").deps(&["bytes", "http", "hyper"]),
                        reg("http", "1.1.0").deps(&["bytes"]),
                        reg("hyper", "1.4.1").deps(&["bytes", "http", "tokio"]),
                        reg("bytes", "1.7.2"),
                    ],
                    &[],
                )),
            ],
            mixed: &[],
            raised: &[],
        },
        Case {
            name: "feature: add anyhow, plus a cargo update of log and regex",
            base: app_base(),
            head: vec![
                code(),
                app_toml(&format!("{APP_DEPS}anyhow = \"1\"\n")),
                app_lock(edit(
                    app_pkgs(),
                    [
                        vec![
                            app_member(&["anyhow"]),
                            reg("anyhow", "1.0.90"),
                            reg("log", "0.4.22"),
                        ],
                        regex_1_11(),
                    ]
                    .concat(),
                    &[],
                )),
            ],
            mixed: &["log", "regex", "regex-automata", "regex-syntax"],
            raised: &[],
        },
        Case {
            name: "workspace: [workspace.dependencies] serde bump with a code change",
            base: ws_base(),
            head: vec![
                (
                    "Cargo.toml",
                    Some("[workspace]\nmembers = [\"crates/*\"]\nresolver = \"2\"\n\n[workspace.dependencies]\nserde = \"1.0.210\"\ntokio = \"1.38\"\n".into()),
                ),
                ("crates/core/src/lib.rs", Some("pub fn g() {}\n".into())),
                (
                    "Cargo.lock",
                    Some(lock(3, &[member("core", "0.1.0").deps(&["serde"]), reg("serde", "1.0.210")])),
                ),
            ],
            mixed: &[],
            raised: &["serde"],
        },
        Case {
            name: "workspace: a member adds an inherited tokio, with a cargo update of serde",
            base: ws_base(),
            head: vec![
                (
                    "crates/core/Cargo.toml",
                    Some(manifest("core", "0.1.0", "[dependencies]\nserde.workspace = true\ntokio = { workspace = true, features = [\"rt\"] }\n")),
                ),
                ("crates/core/src/lib.rs", Some("pub fn g() {}\n".into())),
                (
                    "Cargo.lock",
                    Some(lock(
                        3,
                        &[
                            member("core", "0.1.0").deps(&["serde", "tokio"]),
                            reg("serde", "1.0.210"),
                            reg("tokio", "1.38.0").deps(&["pin-project-lite"]),
                            reg("pin-project-lite", "0.2.13"),
                        ],
                    )),
                ),
            ],
            mixed: &["serde"],
            raised: &[],
        },
        Case {
            name: "feature: enable serde's derive feature",
            base: app_base(),
            head: vec![
                code(),
                app_toml(&APP_DEPS.replace(
                    "serde = \"1\"",
                    "serde = { version = \"1\", features = [\"derive\"] }",
                )),
                app_lock(edit(
                    app_pkgs(),
                    vec![
                        reg("serde", "1.0.200").deps(&["serde_derive"]),
                        reg("serde_derive", "1.0.200").deps(&["proc-macro2", "quote", "syn"]),
                        reg("proc-macro2", "1.0.86").deps(&["unicode-ident"]),
                        reg("quote", "1.0.37").deps(&["proc-macro2"]),
                        reg("syn", "2.0.79").deps(&["proc-macro2", "quote", "unicode-ident"]),
                        reg("unicode-ident", "1.0.13"),
                    ],
                    &[],
                )),
            ],
            mixed: &[],
            raised: &[],
        },
        Case {
            name: "feature flag: a new `json` feature behind an optional serde_json",
            base: app_base(),
            head: vec![
                code(),
                app_toml(&format!(
                    "{APP_DEPS}serde_json = {{ version = \"1\", optional = true }}\n\n[features]\njson = [\"dep:serde_json\"]\n"
                )),
                app_lock(edit(
                    app_pkgs(),
                    vec![
                        app_member(&["serde_json"]),
                        reg("serde_json", "1.0.128").deps(&["itoa", "memchr", "ryu", "serde"]),
                        reg("itoa", "1.0.11"),
                        reg("ryu", "1.0.18"),
                    ],
                    &[],
                )),
            ],
            mixed: &[],
            raised: &[],
        },
        Case {
            name: "cleanup: remove atty (and what only it used)",
            base: app_base(),
            head: vec![
                code(),
                app_toml(&APP_DEPS.replace("atty = \"0.2\"\n", "")),
                app_lock(edit(
                    app_pkgs(),
                    vec![member("app", "0.1.0").deps(&["regex", "serde", "tokio", "log"])],
                    &["atty", "hermit-abi"],
                )),
            ],
            mixed: &[],
            raised: &[],
        },
        Case {
            name: "cleanup: remove atty, plus a cargo update of memchr",
            base: app_base(),
            head: vec![
                code(),
                app_toml(&APP_DEPS.replace("atty = \"0.2\"\n", "")),
                app_lock(edit(
                    app_pkgs(),
                    vec![
                        member("app", "0.1.0").deps(&["regex", "serde", "tokio", "log"]),
                        reg("memchr", "2.7.4"),
                    ],
                    &["atty", "hermit-abi"],
                )),
            ],
            mixed: &["memchr"],
            raised: &[],
        },
        Case {
            name: "feature: a renamed dependency (yaml = { package = \"serde_yaml\" })",
            base: app_base(),
            head: vec![
                code(),
                app_toml(&format!(
                    "{APP_DEPS}yaml = {{ package = \"serde_yaml\", version = \"0.9\" }}\n"
                )),
                app_lock(edit(
                    app_pkgs(),
                    vec![
                        app_member(&["serde_yaml"]),
                        reg("serde_yaml", "0.9.34").deps(&["indexmap", "itoa", "ryu", "serde", "unsafe-libyaml"]),
                        reg("indexmap", "2.5.0").deps(&["equivalent", "hashbrown"]),
                        reg("equivalent", "1.0.1"),
                        reg("hashbrown", "0.14.5"),
                        reg("itoa", "1.0.11"),
                        reg("ryu", "1.0.18"),
                        reg("unsafe-libyaml", "0.2.11"),
                    ],
                    &[],
                )),
            ],
            mixed: &[],
            raised: &[],
        },
        Case {
            name: "feature: a Windows-only dependency in [target.'cfg(windows)'.dependencies]",
            base: app_base(),
            head: vec![
                code(),
                app_toml(&format!(
                    "{APP_DEPS}\n[target.'cfg(windows)'.dependencies]\nwindows-sys = \"0.52\"\n"
                )),
                app_lock(edit(
                    app_pkgs(),
                    vec![
                        app_member(&["windows-sys"]),
                        reg("windows-sys", "0.52.0").deps(&["windows-targets"]),
                        reg("windows-targets", "0.52.6"),
                    ],
                    &[],
                )),
            ],
            mixed: &[],
            raised: &[],
        },
        Case {
            name: "release: version bump, CHANGELOG and a cargo update",
            base: app_base(),
            head: vec![
                ("Cargo.toml", Some(manifest("app", "0.2.0", APP_DEPS))),
                ("CHANGELOG.md", Some("# Changelog\n## 0.2.0\n".into())),
                app_lock(edit(
                    app_pkgs(),
                    vec![
                        member("app", "0.2.0").deps(&["regex", "serde", "tokio", "log", "atty"]),
                        reg("serde", "1.0.210"),
                    ],
                    &[],
                )),
            ],
            mixed: &[],
            raised: &[],
        },
        Case {
            name: "CI: workflow edit together with a cargo update",
            base: app_base(),
            head: vec![
                (".github/workflows/ci.yml", Some("on: [push, pull_request]\n".into())),
                app_lock(edit(app_pkgs(), vec![reg("log", "0.4.22")], &[])),
            ],
            mixed: &[],
            raised: &[],
        },
        Case {
            name: "docs: README edit together with a cargo update",
            base: app_base(),
            head: vec![
                ("README.md", Some("# app\nMore docs.\n".into())),
                app_lock(edit(app_pkgs(), vec![reg("log", "0.4.22")], &[])),
            ],
            mixed: &["log"],
            raised: &[],
        },
        Case {
            name: "feature: raises regex to 1.11 for a new API",
            base: app_base(),
            head: vec![
                code(),
                app_toml(&APP_DEPS.replace("regex = \"1.5\"", "regex = \"1.11\"")),
                app_lock(edit(app_pkgs(), regex_1_11(), &[])),
            ],
            mixed: &[],
            raised: &["regex"],
        },
        Case {
            name: "fix: [patch.crates-io] log from a git fork",
            base: app_base(),
            head: vec![
                code(),
                app_toml(&format!(
                    "{APP_DEPS}\n[patch.crates-io]\nlog = {{ git = \"https://github.com/me/log\", branch = \"fix\" }}\n"
                )),
                app_lock(edit(
                    app_pkgs(),
                    vec![git_pkg("log", "0.4.20", "https://github.com/me/log?branch=fix")],
                    &[],
                )),
            ],
            mixed: &[],
            raised: &[],
        },
        Case {
            name: "feature: new [features] entry with a cargo update of tokio's mio",
            base: app_base(),
            head: vec![
                code(),
                app_toml(&format!("{APP_DEPS}\n[features]\nfast = []\n")),
                app_lock(edit(app_pkgs(), vec![reg("mio", "0.8.11").deps(&["libc"]), reg("libc", "0.2.159")], &[])),
            ],
            mixed: &["libc"],
            raised: &[],
        },
    ]
}

/// Where lockwatch disagrees with the human verdict of a case, if it does.
fn disagreement(case: &Case) -> Option<String> {
    let s = Scenario::new(&case.base);
    let v = s.head(&case.head);
    let mixed = findings(&v, "mixed-pr");
    let got_mixed: Vec<String> = mixed.iter().flat_map(|f| unrelated(f)).collect();
    let mut got_raised: Vec<String> = findings(&v, "requirement-raised")
        .iter()
        .map(|f| f["crate"].as_str().expect("report shape").to_string())
        .collect();
    got_raised.sort();
    let want_mixed: Vec<String> = case.mixed.iter().map(|s| s.to_string()).collect();
    let want_raised: Vec<String> = case.raised.iter().map(|s| s.to_string()).collect();
    (got_mixed != want_mixed || got_raised != want_raised).then(|| {
        format!(
            "{}: mixed {got_mixed:?} (want {want_mixed:?}), raised {got_raised:?} (want {want_raised:?})\n{}",
            case.name,
            serde_json::to_string_pretty(&v["findings"]).expect("report shape")
        )
    })
}

fn assert_agrees(case: Case) {
    if let Some(d) = disagreement(&case) {
        panic!("{d}");
    }
}

#[test]
fn realistic_pull_requests_agree_with_human_verdicts() {
    let mut cases = cases();
    cases.extend(dependency_bookkeeping_cases());
    let disagreements: Vec<String> = cases.iter().filter_map(disagreement).collect();
    println!(
        "agreement: {}/{}",
        cases.len() - disagreements.len(),
        cases.len()
    );
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n\n"));
    assert!(cases.len() >= 12);
}

// ---- edges that changed, other ecosystems, rust-version -------------------------------

/// `tokio = { features = ["full"] }`: tokio's own new dependencies, and mio (same version)
/// gains its optional `wasi` and `windows-sys` through `mio/os-poll`.
fn tokio_full() -> (Vec<Pkg>, (&'static str, Option<String>)) {
    let pkgs = vec![
        reg("tokio", "1.38.0").deps(&[
            "bytes",
            "mio",
            "pin-project-lite",
            "signal-hook-registry",
            "tokio-macros",
        ]),
        reg("tokio-macros", "2.3.0"),
        reg("signal-hook-registry", "1.4.2").deps(&["libc"]),
        reg("mio", "0.8.11").deps(&["libc", "wasi", "windows-sys"]),
        reg("wasi", "0.11.0+wasi-snapshot-preview1"),
        reg("windows-sys", "0.48.0").deps(&["windows-targets"]),
        reg("windows-targets", "0.48.5"),
    ];
    let toml = app_toml(&APP_DEPS.replace(
        "tokio = \"1.38\"",
        "tokio = { version = \"1.38\", features = [\"full\"] }",
    ));
    (pkgs, toml)
}

fn feature_of_a_locked_crate() -> Case {
    let (pkgs, toml) = tokio_full();
    Case {
        name: "feature: turn on tokio's `full` (mio, same version, gains wasi and windows-sys)",
        base: app_base(),
        head: vec![code(), toml, app_lock(edit(app_pkgs(), pkgs, &[]))],
        mixed: &[],
        raised: &[],
    }
}

fn feature_of_a_locked_crate_with_cargo_update() -> Case {
    let (pkgs, toml) = tokio_full();
    Case {
        name: "feature: tokio `full`, plus a cargo update of regex",
        base: app_base(),
        head: vec![
            code(),
            toml,
            app_lock(edit(app_pkgs(), [pkgs, regex_1_11()].concat(), &[])),
        ],
        mixed: &["regex", "regex-automata", "regex-syntax"],
        raised: &[],
    }
}

/// A project that reaches hyper only through reqwest (hyper's `client` features).
fn http_client_base() -> Vec<(&'static str, String)> {
    vec![
        (
            "Cargo.toml",
            manifest("app", "0.1.0", "[dependencies]\nreqwest = \"0.12\"\n"),
        ),
        (
            "Cargo.lock",
            lock(
                3,
                &[
                    member("app", "0.1.0").deps(&["reqwest"]),
                    reg("reqwest", "0.12.8").deps(&["http", "hyper"]),
                    reg("hyper", "1.4.1").deps(&["bytes", "http", "tokio"]),
                    reg("tokio", "1.40.0").deps(&["bytes", "pin-project-lite"]),
                    reg("http", "1.1.0").deps(&["bytes"]),
                    reg("bytes", "1.7.2"),
                    reg("pin-project-lite", "0.2.14"),
                ],
            ),
        ),
        ("src/lib.rs", "pub fn f() {}\n".into()),
    ]
}

fn direct_dependency_on_a_transitive_crate() -> Case {
    Case {
        name: "feature: a direct `hyper` with `server`, locked before through reqwest (tokio gains mio and socket2)",
        base: http_client_base(),
        head: vec![
            code(),
            (
                "Cargo.toml",
                Some(manifest(
                    "app",
                    "0.1.0",
                    "[dependencies]\nreqwest = \"0.12\"\nhyper = { version = \"1\", features = [\"server\", \"http1\"] }\n",
                )),
            ),
            (
                "Cargo.lock",
                Some(lock(
                    3,
                    &[
                        member("app", "0.1.0").deps(&["hyper", "reqwest"]),
                        reg("reqwest", "0.12.8").deps(&["http", "hyper"]),
                        reg("hyper", "1.4.1")
                            .deps(&["bytes", "http", "httparse", "httpdate", "tokio"]),
                        reg("httparse", "1.9.4"),
                        reg("httpdate", "1.0.3"),
                        reg("tokio", "1.40.0").deps(&[
                            "bytes",
                            "mio",
                            "pin-project-lite",
                            "socket2",
                        ]),
                        reg("mio", "1.0.2").deps(&["libc"]),
                        reg("socket2", "0.5.7").deps(&["libc"]),
                        reg("libc", "0.2.159"),
                        reg("http", "1.1.0").deps(&["bytes"]),
                        reg("bytes", "1.7.2"),
                        reg("pin-project-lite", "0.2.14"),
                    ],
                )),
            ),
        ],
        mixed: &[],
        raised: &[],
    }
}

/// The lock-file maintenance bumps of `app` (serde, log, memchr).
fn maintenance_lock() -> (&'static str, Option<String>) {
    app_lock(edit(
        app_pkgs(),
        vec![
            reg("serde", "1.0.210"),
            reg("log", "0.4.22"),
            reg("memchr", "2.7.4"),
        ],
        &[],
    ))
}

fn lock_maintenance_with_an_npm_lock() -> Case {
    Case {
        name: "renovate: lock file maintenance of Cargo.lock and the docs site's package-lock.json",
        base: [
            app_base(),
            vec![
                ("docs/package.json", "{\"devDependencies\": {\"vitepress\": \"^1.3.0\"}}\n".into()),
                ("docs/package-lock.json", "{\"lockfileVersion\": 3, \"packages\": {}}\n".into()),
            ],
        ]
        .concat(),
        head: vec![
            maintenance_lock(),
            (
                "docs/package-lock.json",
                Some("{\"lockfileVersion\": 3, \"packages\": {\"node_modules/vitepress\": {\"version\": \"1.3.4\"}}}\n".into()),
            ),
            (
                "docs/package.json",
                Some("{\"devDependencies\": {\"vitepress\": \"^1.3.4\"}}\n".into()),
            ),
            ("uv.lock", Some("version = 1\n".into())),
            (
                "pnpm-workspace.yaml",
                Some("packages: [docs]\ncatalog:\n  vitepress: ^1.3.4\n".into()),
            ),
            ("go.sum", Some("example.com/x v1.0.0 h1:abc=\n".into())),
        ],
        mixed: &[],
        raised: &[],
    }
}

fn msrv_manifest(msrv: &str) -> (&'static str, Option<String>) {
    (
        "Cargo.toml",
        Some(format!(
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\nrust-version = \"{msrv}\"\n\n{APP_DEPS}"
        )),
    )
}

/// `app`, with `rust-version = "1.70"`.
fn msrv_base() -> Vec<(&'static str, String)> {
    let mut base = app_base();
    base[0].1 = msrv_manifest("1.70").1.expect("manifest");
    base
}

fn rust_version_raise_in_a_bump() -> Case {
    Case {
        name: "dependencies: cargo update that needs a newer compiler, with the rust-version raise",
        base: msrv_base(),
        head: vec![msrv_manifest("1.74"), maintenance_lock()],
        mixed: &[],
        raised: &[],
    }
}

fn rust_version_lowered_with_a_bump() -> Case {
    Case {
        name: "dependencies: rust-version lowered, and the downgrades the MSRV-aware resolver makes",
        base: msrv_base(),
        head: vec![
            msrv_manifest("1.65"),
            app_lock(edit(app_pkgs(), vec![reg("log", "0.4.18")], &[])),
        ],
        mixed: &[],
        raised: &[],
    }
}

fn rust_version_with_code_and_a_bump() -> Case {
    Case {
        name: "work: code for an older compiler, rust-version lowered, with a cargo update",
        base: msrv_base(),
        head: vec![code(), msrv_manifest("1.65"), maintenance_lock()],
        mixed: &["log", "memchr", "serde"],
        raised: &[],
    }
}

/// A workspace whose root sets `[workspace.package]` version and rust-version.
fn ws_package_root(version: &str, msrv: &str) -> String {
    format!(
        "[workspace]\nmembers = [\"crates/*\"]\nresolver = \"2\"\n\n[workspace.package]\nversion = \"{version}\"\nrust-version = \"{msrv}\"\n\n[workspace.dependencies]\nserde = \"1.0.200\"\ntokio = \"1.38\"\n"
    )
}

fn workspace_release_with_msrv_raise() -> Case {
    let mut base = ws_base();
    base[0].1 = ws_package_root("0.1.0", "1.70");
    Case {
        name: "release: [workspace.package] version and rust-version raised, CHANGELOG, cargo update",
        base,
        head: vec![
            ("Cargo.toml", Some(ws_package_root("0.2.0", "1.74"))),
            ("CHANGELOG.md", Some("# Changelog\n## 0.2.0\n".into())),
            (
                "Cargo.lock",
                Some(lock(
                    3,
                    &[
                        member("core", "0.2.0").deps(&["serde"]),
                        reg("serde", "1.0.210"),
                    ],
                )),
            ),
        ],
        mixed: &[],
        raised: &[],
    }
}

/// A maturin project: `pyproject.toml` beside the Cargo workspace.
fn pyproject(version: &str, line_length: u32) -> String {
    format!(
        "[build-system]\nrequires = [\"maturin>=1.5,<2.0\"]\nbuild-backend = \"maturin\"\n\n[project]\nname = \"app\"\nversion = \"{version}\"\ndependencies = [\"numpy>=1.16\"]\n\n[tool.ruff]\nline-length = {line_length}\n"
    )
}

fn pyproject_release() -> Case {
    let mut base = app_base();
    base.push(("pyproject.toml", pyproject("0.1.0", 88)));
    Case {
        name: "release: pyproject.toml and Cargo.toml versions, cargo update",
        base,
        head: vec![
            ("Cargo.toml", Some(manifest("app", "0.2.0", APP_DEPS))),
            ("pyproject.toml", Some(pyproject("0.2.0", 88))),
            app_lock(edit(
                app_pkgs(),
                vec![
                    member("app", "0.2.0").deps(&["regex", "serde", "tokio", "log", "atty"]),
                    reg("serde", "1.0.210"),
                ],
                &[],
            )),
        ],
        mixed: &[],
        raised: &[],
    }
}

fn pyproject_tool_config_with_a_bump() -> Case {
    let mut base = app_base();
    base.push(("pyproject.toml", pyproject("0.1.0", 88)));
    Case {
        name: "work: [tool.ruff] setting in pyproject.toml, with a cargo update",
        base,
        head: vec![
            ("pyproject.toml", Some(pyproject("0.1.0", 100))),
            app_lock(edit(app_pkgs(), vec![reg("log", "0.4.22")], &[])),
        ],
        mixed: &["log"],
        raised: &[],
    }
}

fn snapshots_and_audits_with_a_bump() -> Case {
    Case {
        name: "renovate: cargo update with the help-output snapshots it changes, cargo-vet audits and a changeset",
        base: app_base(),
        head: vec![
            maintenance_lock(),
            (
                "tests/testsuite/help/stdout.term.svg",
                Some("<svg>new colours</svg>\n".into()),
            ),
            ("tests/snapshots/cli__help.snap", Some("---\nnew\n".into())),
            (
                "supply-chain/audits.toml",
                Some("[[audits.serde]]\nwho = \"me\"\n".into()),
            ),
            (
                "supply-chain/imports.lock",
                Some("[[unpublished]]\n".into()),
            ),
            (".changeset/brave-cats-run.md", Some("update deps\n".into())),
        ],
        mixed: &[],
        raised: &[],
    }
}

fn regenerated_bindings_with_code_and_a_bump() -> Case {
    Case {
        name: "work: a feature in code, its regenerated bindings and snapshots, with a cargo update",
        base: app_base(),
        head: vec![
            code(),
            ("napi/parser/parser.wasi.cjs", Some("// generated\n".into())),
            ("tests/snapshots/cli__help.snap", Some("---\nnew\n".into())),
            app_lock(edit(app_pkgs(), vec![reg("log", "0.4.22")], &[])),
        ],
        mixed: &["log"],
        raised: &[],
    }
}

fn dependency_bookkeeping_cases() -> Vec<Case> {
    vec![
        feature_of_a_locked_crate(),
        feature_of_a_locked_crate_with_cargo_update(),
        direct_dependency_on_a_transitive_crate(),
        lock_maintenance_with_an_npm_lock(),
        rust_version_raise_in_a_bump(),
        rust_version_lowered_with_a_bump(),
        rust_version_with_code_and_a_bump(),
        workspace_release_with_msrv_raise(),
        snapshots_and_audits_with_a_bump(),
        regenerated_bindings_with_code_and_a_bump(),
        pyproject_release(),
        pyproject_tool_config_with_a_bump(),
    ]
}

#[test]
fn a_feature_of_a_locked_crate_explains_what_it_pulls_in() {
    assert_agrees(feature_of_a_locked_crate());
}

#[test]
fn a_feature_edit_still_does_not_explain_an_unrelated_cargo_update() {
    assert_agrees(feature_of_a_locked_crate_with_cargo_update());
}

#[test]
fn a_direct_dependency_on_a_transitively_locked_crate_explains_its_new_features() {
    assert_agrees(direct_dependency_on_a_transitive_crate());
}

#[test]
fn other_ecosystems_lock_files_are_dependency_files() {
    assert_agrees(lock_maintenance_with_an_npm_lock());
}

#[test]
fn a_rust_version_raise_is_dependency_bookkeeping() {
    assert_agrees(rust_version_raise_in_a_bump());
    assert_agrees(workspace_release_with_msrv_raise());
    assert_agrees(rust_version_lowered_with_a_bump());
    assert_agrees(rust_version_with_code_and_a_bump());
}

#[test]
fn snapshots_audits_and_changelog_fragments_are_not_work() {
    assert_agrees(snapshots_and_audits_with_a_bump());
    assert_agrees(regenerated_bindings_with_code_and_a_bump());
}

#[test]
fn pyproject_is_read_like_a_manifest() {
    assert_agrees(pyproject_release());
    assert_agrees(pyproject_tool_config_with_a_bump());
}

// ---- scenarios ------------------------------------------------------------------------

fn codes(v: &Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .expect("report shape")
        .iter()
        .map(|f| f["code"].as_str().expect("report shape").to_string())
        .collect()
}

#[test]
fn dependency_only_bump_is_not_mixed() {
    let s = Scenario::new(&app_base());
    let v = s.head(&[app_lock(edit(
        app_pkgs(),
        [
            vec![reg("log", "0.4.22"), reg("memchr", "2.7.4")],
            regex_1_11(),
        ]
        .concat(),
        &[],
    ))]);
    assert!(findings(&v, "mixed-pr").is_empty(), "{v}");
    assert!(findings(&v, "requirement-raised").is_empty());
}

#[test]
fn feature_pr_adding_one_dependency_is_not_mixed() {
    let s = Scenario::new(&app_base());
    let v = s.head(&[
        code(),
        app_toml(&format!("{APP_DEPS}anyhow = \"1\"\n")),
        app_lock(edit(
            app_pkgs(),
            vec![app_member(&["anyhow"]), reg("anyhow", "1.0.90")],
            &[],
        )),
    ]);
    assert!(findings(&v, "mixed-pr").is_empty(), "{v}");
    assert_ne!(v["verdict"], "fail", "{v}");
}

#[test]
fn feature_pr_with_cargo_update_is_mixed_with_the_exact_commands() {
    let s = Scenario::new(&app_base());
    let v = s.head(&[
        code(),
        app_toml(&format!("{APP_DEPS}anyhow = \"1\"\n")),
        app_lock(edit(
            app_pkgs(),
            [
                vec![
                    app_member(&["anyhow"]),
                    reg("anyhow", "1.0.90"),
                    reg("log", "0.4.22"),
                    reg("memchr", "2.7.4"),
                    reg("aho-corasick", "1.1.3").deps(&["memchr"]),
                ],
                regex_1_11(),
            ]
            .concat(),
            &[],
        )),
    ]);
    let mixed = findings(&v, "mixed-pr");
    assert_eq!(mixed.len(), 1, "{v}");
    let f = mixed[0];
    assert_eq!(f["level"], "deny");
    assert_eq!(v["verdict"], "fail");
    assert_eq!(f["lockfile"], "Cargo.lock");
    assert_eq!(
        unrelated(f),
        vec![
            "aho-corasick",
            "log",
            "memchr",
            "regex",
            "regex-automata",
            "regex-syntax"
        ]
    );
    let msg = f["message"].as_str().expect("report shape");
    assert!(msg.contains("changes src/lib.rs"), "{msg}");
    assert!(msg.contains("regex 1.5.5 -> 1.11.1"), "{msg}");
    assert!(
        msg.contains("regex-automata 0.4.9 (added), with regex"),
        "{msg}"
    );
    assert!(
        !msg.contains("anyhow"),
        "anyhow is explained by the manifest: {msg}"
    );
    assert_eq!(
        fix(f),
        vec![
            "# 1. the dependency pull request, on a new branch from upstream:",
            "git switch -c update-dependencies upstream && cargo update -p memchr --precise 2.7.4 && cargo update -p aho-corasick --precise 1.1.3 && cargo update -p log --precise 0.4.22 && cargo update -p regex --precise 1.11.1",
            "git commit -m 'Update dependencies' -- Cargo.lock",
            "# 2. this pull request without the unrelated bumps (re-resolves only what the manifests need):",
            "git checkout upstream -- Cargo.lock && cargo update --workspace",
        ]
    );
    assert!(
        f["details"]
            .as_str()
            .expect("report shape")
            .contains("anyhow 1.0.90 (added) (by `anyhow`)")
    );
}

#[test]
fn feature_pr_that_raises_a_requirement_is_explained_and_warned() {
    let s = Scenario::new(&app_base());
    let v = s.head(&[
        code(),
        app_toml(&APP_DEPS.replace("regex = \"1.5\"", "regex = \"1.11\"")),
        app_lock(edit(app_pkgs(), regex_1_11(), &[])),
    ]);
    assert!(findings(&v, "mixed-pr").is_empty(), "{v}");
    let raised = findings(&v, "requirement-raised");
    assert_eq!(raised.len(), 1, "{v}");
    assert_eq!(raised[0]["level"], "warn");
    assert_eq!(raised[0]["crate"], "regex");
    let msg = raised[0]["message"].as_str().expect("report shape");
    assert!(
        msg.contains("\"1.5\" -> \"1.11\"") || msg.contains("1.5 -> 1.11"),
        "{msg}"
    );
    assert!(msg.contains("regex 1.5.5 -> 1.11.1"), "{msg}");
    assert!(msg.contains("regex-automata 0.4.9 (added)"), "{msg}");
}

#[test]
fn two_lock_files_only_the_nested_one_is_mixed() {
    let mut base = app_base();
    base.push((
        "tools/xtask/Cargo.toml",
        format!(
            "[workspace]\n\n{}",
            manifest("xtask", "0.1.0", "[dependencies]\nrand = \"0.8\"\nrand07 = { package = \"rand\", version = \"0.7\" }\n")
        ),
    ));
    let xtask = |new: &str| {
        lock(
            3,
            &[
                member("xtask", "0.1.0").deps(&[&format!("rand {new}"), "rand 0.7.3"]),
                reg("rand", new),
                reg("rand", "0.7.3"),
            ],
        )
    };
    base.push(("tools/xtask/Cargo.lock", xtask("0.8.4")));
    base.push(("tools/xtask/src/main.rs", "fn main() {}\n".into()));
    let s = Scenario::new(&base);
    let v = s.head(&[
        code(),
        app_toml(&format!("{APP_DEPS}anyhow = \"1\"\n")),
        app_lock(edit(
            app_pkgs(),
            vec![app_member(&["anyhow"]), reg("anyhow", "1.0.90")],
            &[],
        )),
        ("tools/xtask/Cargo.lock", Some(xtask("0.8.5"))),
    ]);
    let mixed = findings(&v, "mixed-pr");
    assert_eq!(mixed.len(), 1, "{v}");
    assert_eq!(mixed[0]["lockfile"], "tools/xtask/Cargo.lock");
    assert_eq!(unrelated(mixed[0]), vec!["rand"]);
    let fix = fix(mixed[0]);
    assert_eq!(
        fix[1],
        "git switch -c update-dependencies upstream && cargo update --manifest-path tools/xtask/Cargo.toml -p rand@0.8.4 --precise 0.8.5"
    );
    assert_eq!(
        fix[4],
        "git checkout upstream -- tools/xtask/Cargo.lock && cargo update --manifest-path tools/xtask/Cargo.toml --workspace"
    );
}

#[test]
fn changelog_and_ci_edits_keep_a_dependency_pr_a_dependency_pr() {
    let s = Scenario::new(&app_base());
    let v = s.head(&[
        ("CHANGELOG.md", Some("# Changelog\n- update log\n".into())),
        (".github/workflows/ci.yml", Some("on: [push]\n".into())),
        (
            "rust-toolchain.toml",
            Some("[toolchain]\nchannel = \"1.85\"\n".into()),
        ),
        app_lock(edit(app_pkgs(), vec![reg("log", "0.4.22")], &[])),
    ]);
    assert!(findings(&v, "mixed-pr").is_empty(), "{v}");
    // A README edit is work: the same bump is then mixed.
    let v = s.head(&[
        ("README.md", Some("# app\nnew docs\n".into())),
        app_lock(edit(app_pkgs(), vec![reg("log", "0.4.23")], &[])),
    ]);
    assert_eq!(findings(&v, "mixed-pr").len(), 1, "{v}");
}

#[test]
fn require_split_false_turns_the_rule_off() {
    let mut base = app_base();
    base.push((".github/lockwatch.toml", "require-split = false\n".into()));
    let s = Scenario::new(&base);
    let v = s.head(&[
        code(),
        app_lock(edit(app_pkgs(), vec![reg("log", "0.4.22")], &[])),
    ]);
    assert!(findings(&v, "mixed-pr").is_empty(), "{v}");
}

fn with_time(pkgs: Vec<Pkg>) -> (&'static str, Option<String>) {
    app_lock(edit(
        pkgs,
        vec![app_member(&["time"]), reg("time", "0.1.43")],
        &[],
    ))
}

fn time_vulns(v: &Value) -> Vec<&Value> {
    findings(v, "advisory-vulnerability")
        .into_iter()
        .filter(|f| f["advisory"]["id"] == "RUSTSEC-2020-0071")
        .collect()
}

#[test]
fn a_pr_cannot_ignore_its_own_advisory() {
    let s = Scenario::new(&app_base());
    let v = s.head(&[
        app_toml(&format!("{APP_DEPS}time = \"0.1\"\n")),
        with_time(app_pkgs()),
        (
            ".github/lockwatch.toml",
            Some(
                "[[ignore]]\nid = \"RUSTSEC-2020-0071\"\nreason = \"we never call localtime\"\n"
                    .into(),
            ),
        ),
    ]);
    let vulns = time_vulns(&v);
    assert_eq!(vulns.len(), 1, "{v}");
    assert_eq!(
        vulns[0]["level"], "deny",
        "the head's ignore does not apply"
    );
    assert!(vulns[0]["policy_note"].is_null());
    assert_eq!(v["verdict"], "fail");
    let changed = findings(&v, "policy-changed");
    assert_eq!(changed.len(), 1, "{v}");
    assert_eq!(changed[0]["level"], "warn");
    let msg = changed[0]["message"].as_str().expect("report shape");
    assert!(
        msg.contains("adds an ignore for RUSTSEC-2020-0071"),
        "{msg}"
    );
    assert!(msg.contains("only after merge"), "{msg}");
    assert!(
        findings(&v, "mixed-pr").is_empty(),
        "the policy file is not work"
    );
}

#[test]
fn expired_stale_and_live_ignores() {
    let mut base = app_base();
    base.push((
        ".github/lockwatch.toml",
        "[[ignore]]\nid = \"RUSTSEC-2020-0071\"\nreason = \"old excuse\"\nuntil = \"2020-01-01\"\n\n[[ignore]]\nid = \"RUSTSEC-2099-0001\"\nreason = \"long gone\"\n".into(),
    ));
    let s = Scenario::new(&base);
    let v = s.head(&[
        app_toml(&format!("{APP_DEPS}time = \"0.1\"\n")),
        with_time(app_pkgs()),
    ]);
    assert_eq!(
        time_vulns(&v)[0]["level"],
        "deny",
        "an expired ignore suppresses nothing"
    );
    let msgs: Vec<String> = findings(&v, "policy-ignore")
        .iter()
        .map(|f| f["message"].as_str().expect("report shape").to_string())
        .collect();
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert!(
        msgs.iter()
            .any(|m| m.contains("RUSTSEC-2020-0071 expired on 2020-01-01")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("RUSTSEC-2099-0001 matched nothing")),
        "{msgs:?}"
    );

    // A live ignore in the base applies, with its reason.
    let mut base = app_base();
    base.push((
        ".github/lockwatch.toml",
        "[[ignore]]\nid = \"CVE-2020-26235\"\nreason = \"no localtime calls\"\nuntil = \"2999-01-01\"\n".into(),
    ));
    let s = Scenario::new(&base);
    let v = s.head(&[
        app_toml(&format!("{APP_DEPS}time = \"0.1\"\n")),
        with_time(app_pkgs()),
    ]);
    let vuln = time_vulns(&v)[0];
    assert_eq!(vuln["level"], "allow", "{v}");
    assert!(
        vuln["policy_note"]
            .as_str()
            .expect("report shape")
            .contains("no localtime calls")
    );
    assert!(findings(&v, "policy-ignore").is_empty(), "{v}");
}

#[test]
fn a_broken_base_policy_means_defaults_and_a_finding() {
    let mut base = app_base();
    base.push((
        ".github/lockwatch.toml",
        "require-split = \"yes please\"\n".into(),
    ));
    let s = Scenario::new(&base);
    let v = s.head(&[
        code(),
        app_lock(edit(app_pkgs(), vec![reg("log", "0.4.22")], &[])),
    ]);
    let invalid = findings(&v, "policy-invalid");
    assert_eq!(invalid.len(), 1, "{v}");
    let msg = invalid[0]["message"].as_str().expect("report shape");
    assert!(
        msg.contains("defaults were used") && msg.contains("line 1"),
        "{msg}"
    );
    assert_eq!(
        findings(&v, "mixed-pr").len(),
        1,
        "defaults: require-split is on"
    );
}

#[test]
fn a_broken_head_policy_is_reported_and_the_base_still_applies() {
    let mut base = app_base();
    base.push((
        ".github/lockwatch.toml",
        "[levels]\nadvisory-vulnerability = \"warn\"\n".into(),
    ));
    let s = Scenario::new(&base);
    let v = s.head(&[
        app_toml(&format!("{APP_DEPS}time = \"0.1\"\n")),
        with_time(app_pkgs()),
        (
            ".github/lockwatch.toml",
            Some("[levels]\nadvisory-vulnerability = \"allow\"\nno-such-code = \"deny\"\n".into()),
        ),
    ]);
    let invalid = findings(&v, "policy-invalid");
    assert_eq!(invalid.len(), 1, "{v}");
    let msg = invalid[0]["message"].as_str().expect("report shape");
    assert!(
        msg.contains("in this pull request is invalid") && msg.contains("line 3"),
        "{msg}"
    );
    assert_eq!(
        time_vulns(&v)[0]["level"],
        "warn",
        "the base policy applies"
    );
    assert!(!codes(&v).contains(&"policy-changed".to_string()));
}
