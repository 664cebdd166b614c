//! Process-level settings read from the environment (the only place that reads it).

use std::path::PathBuf;

/// `$XDG_CACHE_HOME/lockwatch`, else `~/.cache/lockwatch`, else a temp dir.
pub fn cache_dir() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(x).join("lockwatch");
    }
    if let Some(home) = std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(home).join(".cache").join("lockwatch");
    }
    std::env::temp_dir().join("lockwatch")
}

/// Today's date in UTC, `YYYY-MM-DD`.
pub fn today() -> String {
    let d = time::OffsetDateTime::now_utc().date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// A secret from the named environment variable (`lockwatch replay --secret-env`).
pub fn secret_from_env(name: &str) -> Option<secrecy::SecretString> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .map(secrecy::SecretString::from)
}
