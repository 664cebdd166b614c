#!/usr/bin/env bash
# Opt-in (needs the network): download every crates.io package of a lock file into a
# directory, for `LOCKWATCH_CRATE_CORPUS=DIR cargo bench -p lockwatch --bench inspect`.
#   tests/bench/fetch-corpus.sh LOCKFILE DIR
set -euo pipefail
lock=${1:?lock file}; dir=${2:?directory}; mkdir -p "$dir"
awk '/^\[\[package\]\]/{n="";v="";s=""} /^name = /{n=$3} /^version = /{v=$3} /^source = "registry\+https:\/\/github.com\/rust-lang\/crates.io-index"/{gsub(/"/,"",n);gsub(/"/,"",v);print n" "v}' "$lock" |
while read -r n v; do
  f="$dir/$n-$v.crate"; [ -s "$f" ] || curl -fsSL -A "lockwatch-bench" -o "$f" "https://static.crates.io/crates/$n/$n-$v.crate" || rm -f "$f"
done
ls "$dir"/*.crate | wc -l
