#!/usr/bin/env bash
# Start a throwaway PostgreSQL server on loopback for the queue tests and print its URL:
#   export LOCKWATCH_TEST_POSTGRES_URL=$(bash tests/start-postgres.sh)
# Installs Debian's postgresql package when no server is on the machine. The cluster lives
# in a temporary directory, trusts loopback connections, and is stopped with
#   pg_ctl -D "$dir/data" stop   (the directory is printed on stderr).
set -euo pipefail
# Below Linux's ephemeral range (32768-60999), so no client socket can be holding it.
port="${LOCKWATCH_PG_PORT:-25432}"
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
    echo "installing postgresql (Debian package)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2
    bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi
dir=$(mktemp -d /tmp/lockwatch-pg.XXXXXX)
run() { "$@"; }
if [ "$(id -u)" = 0 ]; then
    # PostgreSQL refuses to run as root.
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$dir"
    run() { runuser -u postgres -- "$@"; }
fi
run "$bindir/initdb" -D "$dir/data" -A trust -U postgres >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
# A port in use (another server, another run) moves on to the next one.
started=
for try in 0 1 2 3 4 5 6 7 8 9; do
    if run "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=on" start >&2; then
        started=1
        break
    fi
    port=$((port + 1))
done
[ -n "$started" ] || { cat "$dir/server.log" >&2; exit 1; }
echo "PostgreSQL running in $dir on 127.0.0.1:$port" >&2
echo "postgres://postgres@127.0.0.1:$port/postgres"
