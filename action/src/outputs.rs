//! Step outputs in `$GITHUB_OUTPUT`: the heredoc form with a random delimiter that the value
//! (crate text) cannot contain, so it cannot end the value early and set other outputs.

use std::io::{Read, Write};
use std::path::Path;

/// `ghadelimiter_` plus 32 random hex digits (the runner's own toolkit uses this prefix).
pub fn delimiter() -> String {
    let mut bytes = [0u8; 16];
    let from_os = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .is_ok();
    if !from_os {
        use std::hash::BuildHasher;
        let state = std::collections::hash_map::RandomState::new();
        for (i, chunk) in bytes.chunks_mut(8).enumerate() {
            chunk.copy_from_slice(&state.hash_one((i, std::process::id())).to_le_bytes());
        }
    }
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("ghadelimiter_{hex}")
}

/// One output in the heredoc form: `name<<D\nvalue\nD\n`.
pub fn format_output(name: &str, value: &str, delimiter: &str) -> anyhow::Result<String> {
    if name.contains(delimiter) || value.contains(delimiter) {
        anyhow::bail!("the value of output {name} contains the delimiter");
    }
    if name.is_empty() || name.contains(['\n', '\r', '<', '=']) {
        anyhow::bail!("bad output name");
    }
    Ok(format!("{name}<<{delimiter}\n{value}\n{delimiter}\n"))
}

/// Append outputs to the `$GITHUB_OUTPUT` file, each with a fresh delimiter.
pub fn write_outputs(path: &Path, outputs: &[(&str, String)]) -> anyhow::Result<()> {
    let mut text = String::new();
    for (name, value) in outputs {
        // A random 128-bit delimiter is in the value only by forgery; draw again anyway.
        let mut tries = 0;
        let chunk = loop {
            match format_output(name, value, &delimiter()) {
                Ok(c) => break c,
                Err(e) if tries >= 3 => return Err(e),
                Err(_) => tries += 1,
            }
        };
        text.push_str(&chunk);
    }
    let mut f = open_to_append(path, "GITHUB_OUTPUT")?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

/// Open a file GitHub gives the step to append to (`GITHUB_OUTPUT`, `GITHUB_STEP_SUMMARY`,
/// named by `variable` in the error), creating it when it does not exist yet.
pub(crate) fn open_to_append(path: &Path, variable: &str) -> anyhow::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map_err(|e| anyhow::anyhow!("cannot open {variable} {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters_are_random_and_well_formed() {
        let (a, b) = (delimiter(), delimiter());
        assert_ne!(a, b);
        assert!(a.starts_with("ghadelimiter_") && a.len() == 13 + 32);
    }

    #[test]
    fn a_value_holding_the_delimiter_is_refused() {
        let d = delimiter();
        let hostile = format!("x\n{d}\nverdict=pass");
        assert!(format_output("findings", &hostile, &d).is_err());
        assert_eq!(
            format_output("verdict", "fail", "D").unwrap_or_default(),
            "verdict<<D\nfail\nD\n"
        );
    }
}
