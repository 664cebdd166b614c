#!/usr/bin/env bash
# Webhook intake under load, with an external load generator (wrk) so that the client's CPU
# is its own process's, and each server's CPU per delivery can be read off /proc.
#
#   bash tests/bench/webhook-intake-wrk.sh            # from the repository root
#
# Two servers, each its own process, the same tokio runtime shape (one worker per core):
#   * bare:      tests/examples/bare_webhook.rs, an axum handler that answers 202;
#   * lockwatch: the release `lockwatch serve`, SQLite job store (WAL, synchronous=FULL),
#                so every 202 means the delivery is committed to disk.
# Load: signed `pull_request` `synchronize` deliveries (GitHub's example payload, 23 KB, 200
# pull requests round robin, each request with its own X-GitHub-Delivery), from 2 wrk
# threads and 32, 128 and 256 keep-alive connections on loopback, DURATION seconds per row.
# The servers are run alternately, row by row, ROUNDS times (this machine's speed drifts).
# After each lockwatch run the script stops it and counts the deliveries in its database:
# there must be at least as many as 2xx answers.
#
# Environment: DURATION (s, default 10), ROUNDS (default 1), CONNECTIONS (default
# "32 128 256"), LOCKWATCH_BIN and BARE_BIN (default: built by the script, release),
# LOCKWATCH_LOG (default info, as in production). Needs wrk (Debian: apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-1}
CONNECTIONS=${CONNECTIONS:-"32 128 256"}
export LOCKWATCH_LOG=${LOCKWATCH_LOG:-info}
SECRET=bench-secret
BARE_PORT=18081
LW_PORT=18082

command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
if [ -z "${LOCKWATCH_BIN:-}" ]; then
    cargo build --release --quiet -p lockwatch --bin lockwatch
    LOCKWATCH_BIN=target/release/lockwatch
fi
if [ -z "${BARE_BIN:-}" ]; then
    cargo build --release --quiet -p lockwatch-tests --example bare_webhook
    BARE_BIN=target/release/examples/bare_webhook
fi

for port in $BARE_PORT $LW_PORT; do
    if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
        echo "port $port is in use: stop what listens there first" >&2
        exit 1
    fi
done

work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

python3 tests/bench/webhook-bodies.py \
    tests/fixtures/github/webhooks/pull_request/synchronize.payload.json \
    "$SECRET" 200 "$work/deliveries.lua"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
ticks_per_sec=$(getconf CLK_TCK)

wait_for() {
    for _ in $(seq 100); do
        curl -s -o /dev/null "http://127.0.0.1:$1/$2" && return 0
        sleep 0.1
    done
    echo "nothing answers on port $1" >&2
    exit 1
}

start_bare() {
    "$BARE_BIN" "127.0.0.1:$BARE_PORT" >"$work/bare.out" 2>&1 &
    bare_pid=$!
    pids+=("$bare_pid")
    sleep 0.3
}

start_lockwatch() {
    rm -rf "$work/data" && mkdir -p "$work/data"
    "$LOCKWATCH_BIN" serve --app-id 1 \
        --private-key-file tests/fixtures/TEST-ONLY-github-app-key.pem \
        --webhook-secret "$SECRET" --github-api-url http://127.0.0.1:9 \
        --listen "127.0.0.1:$LW_PORT" --data-dir "$work/data" \
        --advisory-db app/fixtures/advisory-db --no-fetch --workers 1 \
        >"$work/lockwatch.log" 2>&1 &
    lw_pid=$!
    pids+=("$lw_pid")
    wait_for "$LW_PORT" readyz
}

# run PORT PID CONNECTIONS -> "rps p50 p99 requests non2xx server_us_per_req wrk_us_per_req"
run() {
    local port=$1 pid=$2 conns=$3 c0 c1 out
    c0=$(cpu_ticks "$pid")
    out=$(/usr/bin/time -f "wrkcpu %U %S" wrk -t2 -c"$conns" -d"${DURATION}s" --latency \
        -s "$work/deliveries.lua" "http://127.0.0.1:$port/webhook" -- "r$RANDOM$RANDOM" 2>&1)
    c1=$(cpu_ticks "$pid")
    echo "$out" | awk -v c="$((c1 - c0))" -v hz="$ticks_per_sec" '
        function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
        /requests in/ { n = $1 }
        /Requests\/sec/ { rps = $2 }
        $1 == "50%" { p50 = ms($2) }
        $1 == "99%" { p99 = ms($2) }
        /Non-2xx/ { bad = $5 }
        /^wrkcpu/ { wrk = $2 + $3 }
        END { printf "%.0f %.2f %.2f %d %d %.0f %.0f\n", rps, p50, p99, n, bad + 0, c / hz * 1e6 / n, wrk * 1e6 / n }'
}

stored_deliveries() {
    python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT COUNT(*) FROM deliveries').fetchone()[0])" \
        "$work/data/lockwatch.db"
}

echo "| connections | round | bare handler: deliveries/s, p50, p99, server CPU/delivery | lockwatch: deliveries/s, p50, p99, server CPU/delivery | ratio | wrk CPU/delivery (bare, lockwatch) | 2xx / stored |"
echo "|---|---|---|---|---|---|---|"
start_bare
for round in $(seq "$ROUNDS"); do
    for c in $CONNECTIONS; do
        read -r b_rps b_p50 b_p99 _ _ b_cpu b_wrk < <(run "$BARE_PORT" "$bare_pid" "$c")
        start_lockwatch
        read -r l_rps l_p50 l_p99 l_n l_bad l_cpu l_wrk < <(run "$LW_PORT" "$lw_pid" "$c")
        kill -TERM "$lw_pid"
        wait "$lw_pid" || true
        stored=$(stored_deliveries)
        accepted=$((l_n - l_bad))
        if [ "$stored" -lt "$accepted" ]; then
            echo "LOST DELIVERIES: $accepted answered 2xx, $stored stored" >&2
            exit 1
        fi
        ratio=$(awk -v l="$l_rps" -v b="$b_rps" 'BEGIN { printf "%.0f", 100 * l / b }')
        echo "| $c | $round | ${b_rps}/s, ${b_p50} ms, ${b_p99} ms, ${b_cpu} µs | ${l_rps}/s, ${l_p50} ms, ${l_p99} ms, ${l_cpu} µs | ${ratio} % | ${b_wrk} µs, ${l_wrk} µs | ${accepted} / ${stored} |"
    done
done
