//! Shared HTTP set-up.

use std::sync::Once;

/// rustls needs a process-wide crypto provider; lockwatch uses ring (no C toolchain needed).
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// The `User-Agent` of every request lockwatch makes.
pub fn user_agent() -> String {
    format!(
        "lockwatch/{} (+https://github.com/lockwatch/lockwatch)",
        env!("CARGO_PKG_VERSION")
    )
}
