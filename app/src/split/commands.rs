//! The commands that split a mixed pull request: a dependency pull request with the
//! unrelated bumps, and this pull request without them.

/// One unrelated bump to redo in the dependency pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bump {
    pub name: String,
    pub old: String,
    pub new: String,
    /// The base lock file holds several versions of this crate: `-p name@old` is needed.
    pub ambiguous: bool,
}

/// Quote a word for POSIX shells when it holds anything beyond a safe set (crate names and
/// revisions come from the pull request).
pub fn sh_quote(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.@/+:=^~".contains(c));
    if safe {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The directory of a lock file (`""` for the repository root).
pub fn lock_dir(lock_path: &str) -> &str {
    lock_path.rsplit_once('/').map_or("", |(d, _)| d)
}

/// `cargo update` plus `--manifest-path DIR/Cargo.toml` for a nested workspace.
fn cargo_update(lock_path: &str) -> String {
    match lock_dir(lock_path) {
        "" => "cargo update".to_string(),
        dir => format!(
            "cargo update --manifest-path {}",
            sh_quote(&format!("{dir}/Cargo.toml"))
        ),
    }
}

/// The commands, as lines of a shell snippet (comments start with `#`). `bumps` must be in
/// dependencies-first order.
pub fn split_commands(lock_path: &str, base_ref: &str, bumps: &[Bump]) -> Vec<String> {
    let base = sh_quote(base_ref);
    let lock = sh_quote(lock_path);
    let update = cargo_update(lock_path);
    let mut dep_pr = vec![format!("git switch -c update-dependencies {base}")];
    for b in bumps {
        let spec = if b.ambiguous {
            format!("{}@{}", b.name, b.old)
        } else {
            b.name.clone()
        };
        dep_pr.push(format!(
            "{update} -p {} --precise {}",
            sh_quote(&spec),
            sh_quote(&b.new)
        ));
    }
    vec![
        format!("# 1. the dependency pull request, on a new branch from {base_ref}:"),
        dep_pr.join(" && "),
        format!("git commit -m 'Update dependencies' -- {lock}"),
        "# 2. this pull request without the unrelated bumps (re-resolves only what the manifests need):".to_string(),
        format!("git checkout {base} -- {lock} && {update} --workspace"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bump(name: &str, old: &str, new: &str, ambiguous: bool) -> Bump {
        Bump {
            name: name.into(),
            old: old.into(),
            new: new.into(),
            ambiguous,
        }
    }

    #[test]
    fn root_workspace_commands() {
        let cmds = split_commands(
            "Cargo.lock",
            "origin/main",
            &[
                bump("memchr", "2.6.0", "2.7.5", false),
                bump("regex", "1.5.4", "1.11.1", false),
            ],
        );
        assert_eq!(
            cmds[1],
            "git switch -c update-dependencies origin/main && cargo update -p memchr --precise 2.7.5 && cargo update -p regex --precise 1.11.1"
        );
        assert_eq!(
            cmds[4],
            "git checkout origin/main -- Cargo.lock && cargo update --workspace"
        );
    }

    #[test]
    fn nested_workspaces_and_several_versions() {
        let cmds = split_commands(
            "tools/xtask/Cargo.lock",
            "main",
            &[bump("rand", "0.8.4", "0.8.5", true)],
        );
        assert_eq!(
            cmds[1],
            "git switch -c update-dependencies main && cargo update --manifest-path tools/xtask/Cargo.toml -p rand@0.8.4 --precise 0.8.5"
        );
        assert!(cmds[4].starts_with("git checkout main -- tools/xtask/Cargo.lock && cargo update --manifest-path tools/xtask/Cargo.toml --workspace"));
    }

    #[test]
    fn hostile_words_are_quoted() {
        assert_eq!(sh_quote("regex"), "regex");
        assert_eq!(sh_quote("a;rm -rf /"), "'a;rm -rf /'");
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
        assert_eq!(sh_quote(""), "''");
    }
}
