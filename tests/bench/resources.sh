#!/usr/bin/env bash
# Issue 14's resource benchmark: the hostile inputs replayed against the RELEASE build,
# with peak memory and time next to the budget.
#
#   bash tests/bench/resources.sh            # from the repository root
#
# Lock files: `lockwatch check --base-lock A --head-lock B --offline --advisory-db
# app/fixtures/advisory-db --format json > /dev/null`, pinned to one core (taskset -c 0),
# under /usr/bin/time -v (peak RSS = "Maximum resident set size", wall time). Budget: any
# lock file up to 16 MiB reviewed in under 10 s on one core, and memory well inside the
# serve budget below.
# Webhook intake: a fresh release `lockwatch serve` (throwaway key and secret, SQLite, no
# GitHub) per row, raw TCP clients from tests/bench/hostile.py; the server's VmHWM (peak
# RSS, /proc/PID/status) after the row, and whether /healthz answered during (for the
# connection floods) and after. Budget: the whole serve process under 512 MB RSS.
#
# Environment: LOCKWATCH_BIN (default: `cargo build --release -p lockwatch`, then
# $CARGO_TARGET_DIR/release/lockwatch or target/release/lockwatch), PORT (default 18083).
# Needs python3, /usr/bin/time (Debian: apt-get install time), taskset, curl.
set -euo pipefail
cd "$(dirname "$0")/../.."

PORT=${PORT:-18083}
SECRET=bench-secret
DB=app/fixtures/advisory-db
if [ -z "${LOCKWATCH_BIN:-}" ]; then
    cargo build --release --quiet -p lockwatch --bin lockwatch
    LOCKWATCH_BIN=${CARGO_TARGET_DIR:-target}/release/lockwatch
fi
export LOCKWATCH_INDEX_URL=sparse+http://127.0.0.1:9/
work=$(mktemp -d)
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
    if [ -n "${registry_pid:-}" ]; then kill "$registry_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
export HOME=$work XDG_CACHE_HOME=$work/cache
gen() { python3 tests/bench/hostile.py "$@"; }

gen base "$work/base.lock"
gen chain 10000 "$work/chain.lock" >/dev/null
gen longname 40000 "$work/long.lock" >/dev/null
read -r big_n big_bytes < <(gen big $((16 * 1024 * 1024 - 4096)) "$work/big.lock")

mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }

# check LABEL HEAD [ARGS...] -> a table row (ARGS default: --offline)
check() {
    local label=$1 head=$2 code=0
    shift 2
    [ $# -gt 0 ] || set -- --offline
    /usr/bin/time -v -o "$work/time" taskset -c 0 "$LOCKWATCH_BIN" check \
        --base-lock "$work/base.lock" --head-lock "$head" "$@" --advisory-db "$DB" \
        --format json >"$work/out.json" 2>"$work/err" || code=$?
    local rss wall verdict
    rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f MB", $2 / 1000 }' "$work/time")
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.2f s", s }' "$work/time")
    verdict=$(gen summary "$work/out.json" "$work/err")
    echo "| $label | $rss | $wall | exit $code, $(mib "$(stat -c %s "$work/out.json")") JSON; $verdict |"
}

echo "## lockwatch check (release, one core)"
echo
echo "| input | peak RSS | wall time (budget 10 s) | result |"
echo "|---|---|---|---|"
check "chain app -> c0 -> ... -> c9999, all new ($(mib "$(stat -c %s "$work/chain.lock")"))" "$work/chain.lock"
check "one new crate with a 40,000-character name" "$work/long.lock"
check "--head-lock /dev/zero" /dev/zero
check "$big_n new crates.io packages, $(mib "$big_bytes") (limit 16 MiB)" "$work/big.lock"

# Six new crates that inflate to 500 MB each, fetched from a local sparse registry
# (python3 -m http.server) as the App fetches from crates.io.
REG_PORT=$((PORT + 1))
read -r bombs_n bombs_bytes < <(gen bombs 6 500 "$work/registry" "http://127.0.0.1:$REG_PORT")
python3 -m http.server --bind 127.0.0.1 "$REG_PORT" --directory "$work/registry" \
    >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 50); do
    curl -s -o /dev/null "http://127.0.0.1:$REG_PORT/index/config.json" && break
    sleep 0.1
done
check "$bombs_n new crates that inflate to 500 MB each ($(mib "$bombs_bytes") downloaded), fetched" \
    "$work/registry/head.lock" --index-url "sparse+http://127.0.0.1:$REG_PORT/index/" \
    --cache-dir "$work/crate-cache"
kill "$registry_pid" 2>/dev/null || true

hwm() { awk '/VmHWM/ { printf "%.0f MB", $2 / 1024 }' "/proc/$1/status"; }
healthz() { curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/healthz" | grep -q 200 && echo yes || echo no; }

start_serve() {
    rm -rf "$work/data" && mkdir -p "$work/data"
    "$LOCKWATCH_BIN" serve --app-id 1 \
        --private-key-file tests/fixtures/TEST-ONLY-github-app-key.pem \
        --webhook-secret "$SECRET" --github-api-url http://127.0.0.1:9 \
        --listen "127.0.0.1:$PORT" --data-dir "$work/data" \
        --advisory-db "$DB" --no-fetch >"$work/serve.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 100); do
        curl -s -o /dev/null "http://127.0.0.1:$PORT/readyz" && return 0
        sleep 0.1
    done
    echo "lockwatch serve did not start:" >&2
    cat "$work/serve.log" >&2
    exit 1
}

# intake LABEL SCENARIO -> a table row
intake() {
    local label=$1 scenario=$2 base out after
    start_serve
    base=$(hwm "$server_pid")
    out=$(gen intake "127.0.0.1:$PORT" "$scenario")
    after=$(healthz)
    fds=$(ls "/proc/$server_pid/fd" | wc -l)
    local during
    during=$(echo "$out" | sed -n 's/.*healthz_during=\([^ ]*\).*/\1/p')
    echo "| $label | $base | $(hwm "$server_pid") | ${during:-n/a} | $after | $fds | $(echo "$out" | sed 's/ healthz_during=[^ ]*//') |"
    kill -TERM "$server_pid"
    wait "$server_pid" 2>/dev/null || true
    server_pid=
}

echo
echo "## lockwatch serve: webhook intake (release; budget 512 MB RSS)"
echo
echo "| attack | VmHWM at start | VmHWM after | /healthz during | /healthz after | server fds after | clients saw (30 s) |"
echo "|---|---|---|---|---|---|---|"
intake "64 concurrent unsigned 24 MB bodies" unsigned-24mb
intake "64 concurrent 2 MiB bodies, wrong signature" signed-2mb
intake "64 POSTs with Content-Length 10^12" huge-length
intake "1,000 slow partial bodies (1 byte/s)" slow-bodies
intake "1,100 half-open connections" half-open
