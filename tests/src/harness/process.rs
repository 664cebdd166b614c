//! The real `lockwatch serve` binary against the fake GitHub, its log in a file: for the
//! stories where a signal, a kill or a second process is the point.

use super::SECRET;
use crate::bin::{fixture_db, lockwatch_bin};
use crate::fake_github::{APP_ID, test_key_path};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A free loopback port (bound, then released for the binary).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    l.local_addr().expect("its address").port()
}

/// A running `lockwatch serve` process; killed when dropped.
pub struct ServeProcess {
    pub child: std::process::Child,
    log: PathBuf,
}

impl ServeProcess {
    /// Start `lockwatch serve` on `listen` with `extra` flags; `log` receives its stderr
    /// (info level, text).
    pub fn spawn(fake_url: &str, data: &Path, listen: &str, log: &Path, extra: &[&str]) -> Self {
        Self::spawn_with_env(fake_url, data, listen, log, extra, &[])
    }

    /// `spawn` with more environment variables (after the defaults, so they win).
    pub fn spawn_with_env(
        fake_url: &str,
        data: &Path,
        listen: &str,
        log: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Self {
        let stderr = std::fs::File::create(log).expect("log file");
        let child = std::process::Command::new(lockwatch_bin())
            .args([
                "serve",
                "--listen",
                listen,
                "--workers",
                "2",
                "--coalesce-ms",
                "0",
                "--retry-base-ms",
                "50",
            ])
            .args(extra)
            .env("LOCKWATCH_APP_ID", APP_ID.to_string())
            .env("LOCKWATCH_PRIVATE_KEY_FILE", test_key_path())
            .env("LOCKWATCH_WEBHOOK_SECRET", SECRET)
            .env("LOCKWATCH_GITHUB_API_URL", fake_url)
            .env("LOCKWATCH_DATA_DIR", data)
            .env("LOCKWATCH_ADVISORY_DB", fixture_db())
            .env("LOCKWATCH_NO_FETCH", "true")
            .env("LOCKWATCH_LOG", "info")
            .env("NO_COLOR", "1")
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("spawn lockwatch serve");
        ServeProcess {
            child,
            log: log.to_path_buf(),
        }
    }

    /// Wait (bounded, 60 s) until the server at `url` answers `/readyz`.
    pub async fn wait_ready(url: &str) {
        lockwatch::http::install_crypto_provider();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = reqwest::get(format!("{url}/readyz")).await
                && r.status().is_success()
            {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "server never became ready"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGTERM, as a container runtime or systemd sends it.
    pub fn sigterm(&self) {
        self.signal("TERM");
    }

    /// Send a signal (`TERM`, `STOP`, `CONT`, ...).
    pub fn signal(&self, name: &str) {
        let status = std::process::Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} failed");
    }

    /// SIGKILL, and wait for the process to be gone.
    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("the process is reaped");
    }

    pub fn running(&mut self) -> bool {
        self.child.try_wait().expect("the process status").is_none()
    }

    /// Wait (bounded) for the process to exit; its exit status.
    pub async fn exited(&mut self, within: Duration) -> std::process::ExitStatus {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("the process status") {
                return status;
            }
            if tokio::time::Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "lockwatch did not exit within {within:?}; log:\n{}",
                    self.log_text()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Its log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        if self.running() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
