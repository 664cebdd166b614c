#!/usr/bin/env bash
# Noise benchmark: lockwatch on the real pull requests of tests/corpus/, against their hand labels.
# Prints a Markdown table (how many fail, false failures by finding, split-request precision and
# recall, build-capability and typosquat findings on legitimate crates) and writes per-case JSON
# lines so two builds can be compared. See docs/benchmarks/real-prs.md.
#
#   tests/bench/real-prs.sh [--bin PATH] [--fetch] [--out FILE] [--updates FILE] [--cases ID,..]
#                           [--jobs N] [--cache-dir DIR] [--advisory-db DIR] [--from-jsonl FILE]
#
# Offline by default. `--fetch` (or LOCKWATCH_BENCH_FETCH=1) reviews with crates fetched from the
# real crates.io, as the App does; it needs the network and caches in --cache-dir
# (default ~/.cache/lockwatch-bench, or $LOCKWATCH_BENCH_CACHE).
# The binary defaults to $LOCKWATCH_BIN, else $CARGO_TARGET_DIR/release/lockwatch (target/ when unset):
#   cargo build --release -p lockwatch && tests/bench/real-prs.sh
# Compare two builds:
#   tests/bench/real-prs.sh --bin /tmp/main/lockwatch --out /tmp/main.jsonl
#   tests/bench/real-prs.sh --bin target/release/lockwatch --out /tmp/branch.jsonl
set -euo pipefail
cd "$(dirname "$0")/../.."
python3 tests/corpus/corpus.py verify >/dev/null
exec python3 tests/bench/real_prs.py "$@"
