//! Following a Rust module tree (`mod x;`, `#[path]`, `include!`) from a
//! root file through the files packaged in the archive.

use std::collections::{BTreeMap, HashSet, VecDeque};

use super::archive::FileRecord;
use super::capabilities::{ScanEnv, scan_file};
use super::rust_source::{on_parser_thread, parse_file};
use super::surface::Capability;
use super::{InspectError, InspectLimits};

/// The result of scanning a root file and everything it pulls in.
#[derive(Debug, Default)]
pub(crate) struct TreeScan {
    pub capabilities: Vec<Capability>,
    /// Files other than the root, in discovery order.
    pub modules: Vec<String>,
    pub notes: Vec<String>,
    /// Build-time code that could not be inspected (a module over a limit, unparsable,
    /// not UTF-8; files past the source-file budget): what and why.
    pub uninspected: Vec<String>,
}

/// Scans `root` and its modules. When `strict`, an unreadable or unparsable
/// root is an error (the build script case); otherwise it is recorded in
/// `uninspected`, like every module that could not be read. Modules are never
/// fatal here: the engine turns `uninspected` into an `unreviewable` finding. `budget` counts parsed files across calls.
pub(crate) fn scan_tree(
    env: &ScanEnv<'_>,
    files: &BTreeMap<String, FileRecord>,
    root: &str,
    strict: bool,
    budget: &mut usize,
    limits: &InspectLimits,
) -> Result<TreeScan, InspectError> {
    let mut out = TreeScan::default();
    let mut queue = VecDeque::from([(root.to_owned(), parent(root).to_owned())]);
    let mut seen: HashSet<String> = HashSet::from([root.to_owned()]);
    while let Some((path, mod_dir)) = queue.pop_front() {
        let is_root = path == root;
        let fail = |path: &str, reason: String, out: &mut TreeScan| -> Result<(), InspectError> {
            if is_root && strict {
                Err(InspectError::UnparsableRust {
                    file: path.to_owned(),
                    reason,
                })
            } else {
                out.uninspected
                    .push(format!("`{path}` was not inspected: {reason}"));
                Ok(())
            }
        };
        if *budget == 0 {
            out.uninspected.push(format!(
                "`{path}` and further Rust files were not inspected: source file limit reached"
            ));
            break;
        }
        let Some(rec) = files.get(&path) else {
            continue;
        };
        let Some(content) = &rec.content else {
            if is_root && strict {
                return Err(if rec.size > limits.max_file_bytes {
                    InspectError::FileTooLarge {
                        path,
                        size: rec.size,
                        limit: limits.max_file_bytes,
                    }
                } else {
                    // Its text was dropped past the per-crate budget of kept bytes.
                    InspectError::TooMuchKept {
                        limit: limits.max_kept_bytes,
                    }
                });
            }
            let why = if rec.size > limits.max_file_bytes {
                format!("{} bytes is over the per-file limit", rec.size)
            } else {
                format!(
                    "its text was not kept: the crate's files are over the per-crate budget of {} bytes kept for parsing",
                    limits.max_kept_bytes
                )
            };
            fail(&path, why, &mut out)?;
            continue;
        };
        let Ok(text) = std::str::from_utf8(content) else {
            fail(&path, "not valid UTF-8".to_owned(), &mut out)?;
            continue;
        };
        *budget -= 1;
        let scanned = on_parser_thread(|| {
            parse_file(text, limits.max_rust_tokens)
                .map(|file| scan_file(&file, &path, &mod_dir, env))
        })
        .and_then(|r| r);
        let scan = match scanned {
            Ok(scan) => scan,
            Err(reason) => {
                fail(&path, reason.to_string(), &mut out)?;
                continue;
            }
        };
        if !is_root {
            out.modules.push(path.clone());
        }
        out.capabilities.extend(scan.capabilities);
        out.notes.extend(scan.notes);
        out.uninspected.extend(scan.uninspected);
        for m in scan.modules {
            let found = m
                .candidates
                .iter()
                .zip(&m.mod_dirs)
                .find(|(c, _)| files.contains_key(*c));
            match found {
                Some((c, d)) => {
                    if seen.insert(c.clone()) {
                        queue.push_back((c.clone(), d.clone()));
                    }
                }
                None => out.notes.push(format!(
                    "{path}:{}: `{}` refers to {} which is not in the archive",
                    m.line,
                    m.what,
                    m.candidates.join(" or ")
                )),
            }
        }
    }
    Ok(out)
}

fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}
