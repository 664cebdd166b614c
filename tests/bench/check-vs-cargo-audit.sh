#!/usr/bin/env bash
# Whole-process comparison: `lockwatch check --offline --format json` in file mode on a
# 550-package lock pair with the full RustSec snapshot, next to
# `cargo audit --no-fetch --db DIR --file LOCK` on the same head lock, in the same run.
# Prints a table of median wall times over N runs and the ratio.
#
#   tests/bench/check-vs-cargo-audit.sh [RUNS]
#
# Needs ../shared/advisory-db (or LOCKWATCH_BENCH_DB). cargo-audit is taken from PATH,
# else from $AUDIT_ROOT/bin (default /tmp/audit-tools), else installed there with
# `cargo install cargo-audit --locked` (one-time, several minutes).
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-15}
DB=${LOCKWATCH_BENCH_DB:-../shared/advisory-db}
BASE=tests/bench/data/base.Cargo.lock
HEAD=tests/bench/data/head.Cargo.lock
AUDIT_ROOT=${AUDIT_ROOT:-/tmp/audit-tools}

cargo build --release -q -p lockwatch
LW=target/release/lockwatch
if command -v cargo-audit >/dev/null; then AUDIT=$(command -v cargo-audit);
elif [ -x "$AUDIT_ROOT/bin/cargo-audit" ]; then AUDIT=$AUDIT_ROOT/bin/cargo-audit;
else cargo install cargo-audit --locked --root "$AUDIT_ROOT" -q; AUDIT=$AUDIT_ROOT/bin/cargo-audit; fi

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
measure() { # command... -> median seconds
  for _ in $(seq "$RUNS"); do
    local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l
  done | median
}
# cargo-audit wants a writable home for its lock; give it a scratch one.
export CARGO_HOME_AUDIT; CARGO_HOME_AUDIT=$(mktemp -d)
lw=$(measure "$LW" check --offline --format json --advisory-db "$DB" --base-lock "$BASE" --head-lock "$HEAD")
au=$(measure env CARGO_HOME="$CARGO_HOME_AUDIT" "$AUDIT" audit --no-fetch --db "$DB" --file "$HEAD")
pkgs=$(grep -c '^name = ' "$HEAD")
printf '\n| command (%s packages, %s runs, median) | wall time |\n|---|---|\n' "$pkgs" "$RUNS"
printf '| `lockwatch check --offline --format json` (base+head) | %.1f ms |\n' "$(echo "$lw*1000" | bc -l)"
printf '| `cargo audit --no-fetch --db DIR --file LOCK` (head) | %.1f ms |\n' "$(echo "$au*1000" | bc -l)"
printf '| ratio lockwatch / cargo-audit | %.2f |\n' "$(echo "$lw/$au" | bc -l)"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -srm)"
