#!/usr/bin/env bash
# The multi-replica fault scenario (tests/tests/replicas.rs,
# three_replicas_on_postgres_survive_sigkill_sigterm_and_a_database_restart) at a larger
# scale: three `lockwatch serve` replicas on one PostgreSQL server of its own, one stopped
# with SIGTERM and one killed with SIGKILL during reviews, the database stopped for 12 s
# while deliveries arrive. It prints one line:
#
#   replicas-faults: pull_requests=… deliveries_accepted=… lost=… duplicated_publications=…
#     last_delivery_to_last_publication_ms=… peak_rss_kb=r0=…,r1=…,r2=…
#
# lost (accepted deliveries missing from the job database) and duplicated_publications
# (comments or check runs beyond one per pull request and newest head) must be 0; the test
# then asserts the rest (every newest head reviewed, nothing left in progress). Peak memory
# is each replica's VmHWM, the largest of its processes (read before it is stopped).
#
#   bash tests/bench/replicas-faults.sh [PULL_REQUESTS] [PUSHES_EACH]   # default 300 7
#
# Needs the PostgreSQL server programs (tests/start-postgres.sh installs them) and
# LOCKWATCH_TEST_POSTGRES_URL (a server to create the fallback database on; the script
# starts one when it is unset). Runs the release build: debug builds measure the debugger's
# view of memory and time, not lockwatch's.
set -euo pipefail
cd "$(dirname "$0")/../.."
prs="${1:-300}"
rounds="${2:-7}"
if [ -z "${LOCKWATCH_TEST_POSTGRES_URL:-}" ]; then
    LOCKWATCH_TEST_POSTGRES_URL=$(bash tests/start-postgres.sh)
    export LOCKWATCH_TEST_POSTGRES_URL
fi
export LOCKWATCH_REQUIRE_POSTGRES=1 LOCKWATCH_REPLICAS_PRS="$prs" LOCKWATCH_REPLICAS_ROUNDS="$rounds"
log=$(mktemp /tmp/replicas-faults.XXXXXX)
status=0
cargo test --release --locked -p lockwatch-tests --test replicas \
    three_replicas_on_postgres_survive_sigkill_sigterm_and_a_database_restart \
    -- --exact --nocapture >"$log" 2>&1 || status=$?
grep -E '^(phase|replicas-faults:)' "$log" >&2 || true
grep -E '^replicas-faults:' "$log" || { echo "no result; log in $log" >&2; exit 1; }
[ "$status" = 0 ] || { echo "the scenario's assertions failed (exit $status); log in $log" >&2; exit "$status"; }
rm -f "$log"
