#!/usr/bin/env bash
# Run a private PostgreSQL server for the catalog tests, then run the given
# command with its address in the environment:
#
#   scripts/postgres.sh go test ./catalog/...
#
# The command sees FILEUP_TEST_PG_DSN
# (postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable). The
# cluster lives in a temporary directory, listens on 127.0.0.1 only (its
# unix socket stays in that directory), trusts local TCP connections and
# nothing else, keeps fsync on, and is stopped and removed when the command
# ends. When the script runs as root, initdb and the server run as the
# postgres user.
#
# Without PostgreSQL server binaries the command runs without the DSN and
# the PostgreSQL tests skip (they fail instead when FILEUP_TEST_PG_REQUIRED=1,
# as in CI).
set -euo pipefail

# find_bindir prints the directory holding initdb, pg_ctl and postgres.
find_bindir() {
  local d
  if command -v pg_config >/dev/null 2>&1; then
    d=$(pg_config --bindir 2>/dev/null || true)
    if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return; fi
  fi
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return; fi
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
  fi
}

bindir=$(find_bindir)
if [ -z "$bindir" ]; then
  echo "postgres.sh: no PostgreSQL server binaries (initdb, pg_ctl) found: PostgreSQL tests skip (install them: apt-get install postgresql, brew install postgresql, ...)" >&2
  exec "$@"
fi

# as_owner runs a command as the cluster's owner: the postgres user when
# we are root (PostgreSQL refuses to run as root), else ourselves.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

port=""
for _ in $(seq 1 50); do
  p=$((20000 + RANDOM % 20000))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
[ -n "$port" ] || { echo "postgres.sh: no free port found" >&2; exit 1; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/fileup-pg.XXXXXX")
data="$dir/data"
log="$dir/server.log"
started=""
# fail MESSAGE LOG: report a failure with its log, and exit.
fail() {
  echo "postgres.sh: $1; $2:" >&2
  cat "$2" >&2 || true
  exit 1
}
cleanup() {
  if [ -n "$started" ]; then
    as_owner "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 ||
      as_owner "$bindir/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi

# --no-sync: initdb need not flush a throwaway cluster; the server itself
# keeps fsync on, as in production.
as_owner "$bindir/initdb" -D "$data" -U postgres -E UTF8 --locale=C --auth=trust --no-sync >"$dir/initdb.log" 2>&1 ||
  fail "initdb failed" "$dir/initdb.log"
# Trust TCP connections from this machine only; no other access at all.
echo "host all all 127.0.0.1/32 trust" >"$data/pg_hba.conf"

opts="-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$dir' -c max_connections=200"
started=1
as_owner "$bindir/pg_ctl" -D "$data" -l "$log" -o "$opts" -w -t 60 start >/dev/null ||
  fail "PostgreSQL did not start" "$log"
echo "postgres.sh: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') ready on 127.0.0.1:$port" >&2

export FILEUP_TEST_PG_DSN="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
"$@"
