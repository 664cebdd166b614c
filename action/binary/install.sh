#!/usr/bin/env bash
# Download lockwatch's release archive for this runner, verify its SHA-256, unpack it, and
# print the directory that holds `lockwatch-action` (and `lockwatch`; also written to
# $GITHUB_OUTPUT as `dir=...`). Used by action/binary/action.yml; nothing is run here.
#
# Environment:
#   LOCKWATCH_VERSION       the release tag, e.g. v0.1.0 (required)
#   LOCKWATCH_DOWNLOAD_URL  where releases are downloaded from
#                           (default https://github.com/lockwatch/lockwatch/releases/download;
#                           https only, or http on 127.0.0.1/localhost for tests)
#   LOCKWATCH_SHA256        the archive's expected SHA-256; when empty, the release's
#                           SHA256SUMS file is used (see docs/action.md, "Pinning")
#   RUNNER_OS, RUNNER_ARCH  set by the runner: Linux or macOS, X64 or ARM64
#   RUNNER_TEMP             where to unpack (default: a new temporary directory)
set -euo pipefail

work=""
fail() {
  echo "::error title=lockwatch could not be installed::$*" >&2
  # Nothing half-downloaded or unverified is left behind.
  if [[ -n "$work" ]]; then rm -rf "$work"; fi
  exit 1
}

version="${LOCKWATCH_VERSION:-}"
base_url="${LOCKWATCH_DOWNLOAD_URL:-https://github.com/lockwatch/lockwatch/releases/download}"
base_url="${base_url%/}"
expected="${LOCKWATCH_SHA256:-}"

[[ "$version" =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$ ]] \
  || fail "version '$version' is not a release tag like v1.2.3"
case "$base_url" in
  https://*) ;;
  http://127.0.0.1[:/]* | http://localhost[:/]*) ;;
  *) fail "download URL '$base_url' is not https" ;;
esac
if [[ -n "$expected" && ! "$expected" =~ ^[0-9a-fA-F]{64}$ ]]; then
  fail "sha256 '$expected' is not 64 hex digits"
fi

case "${RUNNER_OS:-}/${RUNNER_ARCH:-}" in
  Linux/X64) target=x86_64-unknown-linux-gnu ;;
  Linux/ARM64) target=aarch64-unknown-linux-gnu ;;
  macOS/ARM64) target=aarch64-apple-darwin ;;
  *) fail "no lockwatch release binary for ${RUNNER_OS:-?}/${RUNNER_ARCH:-?}: use the container action (lockwatch/lockwatch/action) on a Linux runner, or build it with cargo install lockwatch" ;;
esac

sha256_of() {
  if command -v sha256sum >/dev/null; then
    sha256sum "$1" | cut -d' ' -f1
  else
    shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

download() { # URL FILE
  curl --fail --silent --show-error --location --retry 3 --max-time 300 \
    --output "$2" "$1" || fail "cannot download $1"
}

name="lockwatch-${version}-${target}"
asset="${name}.tar.gz"
work="$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/lockwatch-install.XXXXXX")"
download "$base_url/$version/$asset" "$work/$asset"

source_of_expected="the sha256 input"
if [[ -z "$expected" ]]; then
  download "$base_url/$version/SHA256SUMS" "$work/SHA256SUMS"
  expected="$(awk -v f="$asset" '$2 == f || $2 == "*" f { print $1; exit }' "$work/SHA256SUMS")"
  [[ -n "$expected" ]] || fail "SHA256SUMS of $version does not list $asset"
  source_of_expected="SHA256SUMS of $version"
fi
lower() { tr '[:upper:]' '[:lower:]' <<<"$1"; }
actual="$(sha256_of "$work/$asset")"
if [[ "$(lower "$actual")" != "$(lower "$expected")" ]]; then
  fail "checksum mismatch for $asset: $source_of_expected says $expected, the download is $actual; not running it"
fi

tar -xzf "$work/$asset" --no-same-owner -C "$work"
rm -f "$work/$asset" "$work/SHA256SUMS"
dir="$work/$name"
[[ -x "$dir/lockwatch-action" ]] || fail "$asset has no executable $name/lockwatch-action"
echo "lockwatch $version ($target) verified: sha256 $actual"
if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
  echo "dir=$dir" >>"$GITHUB_OUTPUT"
fi
echo "$dir"
