//! Word lists both source scanners use, the build-script scanner ([`super::capabilities`])
//! and the run-time scanner ([`super::runtime_reach`]): the credential files they look for
//! in string literals, and [`joined`] to make a scanner's list of these shared parts and its
//! own extras.
//!
//! A scanner's list keeps the order in which it tries its markers: the first marker a
//! literal contains is the one its evidence names.

/// SSH private key file names.
pub(super) const SSH_KEY_FILES: &[&str] = &["id_rsa", "id_ed25519", "id_ecdsa"];

/// Credential files of package registries, git, GnuPG, cloud and container tools.
pub(super) const TOOL_CREDENTIAL_FILES: &[&str] = &[
    ".cargo/credentials",
    ".git-credentials",
    ".npmrc",
    ".pypirc",
    ".netrc",
    ".gnupg",
    ".aws/credentials",
    ".docker/config.json",
    ".kube/config",
];

/// The words of `parts`, one part after the other, in order. `N` is their total count; a
/// wrong `N` fails the build (the constant that calls this is evaluated at compile time).
pub(super) const fn joined<const N: usize>(parts: &[&[&'static str]]) -> [&'static str; N] {
    let mut out = [""; N];
    let mut filled = 0;
    let mut part = 0;
    while part < parts.len() {
        let mut i = 0;
        while i < parts[part].len() {
            assert!(filled < N, "more words than N");
            out[filled] = parts[part][i];
            filled += 1;
            i += 1;
        }
        part += 1;
    }
    assert!(filled == N, "fewer words than N");
    out
}
