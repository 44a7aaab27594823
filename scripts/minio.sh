#!/usr/bin/env bash
# Build (once, into a cache directory) and run a local MinIO server for the
# S3 tests, then run the given command with the endpoint in its environment:
#
#   scripts/minio.sh go test ./...
#
# The command sees FILEUP_TEST_S3_ENDPOINT (host:port), FILEUP_TEST_S3_ACCESS_KEY
# and FILEUP_TEST_S3_SECRET_KEY, plus a second server for fault tests:
# FILEUP_TEST_S3_FAULT_ENDPOINT, whose current pid is in
# FILEUP_TEST_S3_FAULT_PIDFILE (it is restarted when killed). Both listen
# on 127.0.0.1 only, keep their data in temporary directories and stop
# when the command ends.
set -euo pipefail

# MinIO publishes no semver tags; this is the pseudo-version of its
# 2026-02-12 commit, pinned so every machine builds the same server.
MINIO_VERSION=${MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}
cache=${FILEUP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fileup}
bin="$cache/minio-$MINIO_VERSION/minio"

if [ ! -x "$bin" ]; then
  echo "minio.sh: building MinIO $MINIO_VERSION into $(dirname "$bin") (first run only, a few minutes)" >&2
  mkdir -p "$(dirname "$bin")"
  (cd "$(dirname "$bin")" && GOFLAGS=-mod=mod GOBIN="$(dirname "$bin")" go install "github.com/minio/minio@$MINIO_VERSION")
fi

export MINIO_ROOT_USER=fileup-test
export MINIO_ROOT_PASSWORD=fileup-test-secret
export MINIO_BROWSER=off
dirs=()
sups=()
pidfiles=()

# start_minio NAME: start a supervised MinIO on a free loopback port; sets
# port and pidfile. The supervisor restarts it if it dies, so fault tests
# can kill it (the current pid is in $pidfile).
start_minio() {
  port=""
  for _ in $(seq 1 50); do
    local p=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
  done
  [ -n "$port" ] || { echo "minio.sh: no free port found" >&2; exit 1; }
  local data
  data=$(mktemp -d "${TMPDIR:-/tmp}/fileup-minio-$1.XXXXXX")
  local log="$data.log"
  pidfile="$data.pid"
  local stopfile="$data.stop"
  (
    while [ ! -e "$stopfile" ]; do
      "$bin" server --quiet --address "127.0.0.1:$port" "$data" >>"$log" 2>&1 &
      echo $! >"$pidfile"
      wait $! || true
      sleep 0.2
    done
  ) 2>>"$log" &
  dirs+=("$data")
  sups+=("$!")
  pidfiles+=("$pidfile")
  for _ in $(seq 1 150); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/minio/health/ready" 2>/dev/null && break
    sleep 0.2
  done
  curl -fsS -o /dev/null "http://127.0.0.1:$port/minio/health/ready" || { echo "minio.sh: MinIO ($1) not ready" >&2; cat "$log" >&2; exit 1; }
  echo "minio.sh: MinIO ($1) ready on 127.0.0.1:$port" >&2
}

cleanup() {
  local i
  for i in "${!dirs[@]}"; do
    touch "${dirs[$i]}.stop"
  done
  # Kill whichever MinIO is current until each supervisor has exited.
  for _ in $(seq 1 20); do
    local alive=0
    for i in "${!dirs[@]}"; do
      kill "$(cat "${pidfiles[$i]}" 2>/dev/null)" 2>/dev/null || true
      kill -0 "${sups[$i]}" 2>/dev/null && alive=1
    done
    [ "$alive" = 0 ] && break
    sleep 0.3
  done
  for i in "${!dirs[@]}"; do
    kill "${sups[$i]}" 2>/dev/null || true
    rm -rf "${dirs[$i]}" "${dirs[$i]}".log "${dirs[$i]}".pid "${dirs[$i]}".stop
  done
}
trap cleanup EXIT INT TERM

# One server for the tests, and one that fault tests may kill while the
# other packages' tests run in parallel.
start_minio main
export FILEUP_TEST_S3_ENDPOINT="127.0.0.1:$port"
start_minio fault
export FILEUP_TEST_S3_FAULT_ENDPOINT="127.0.0.1:$port"
export FILEUP_TEST_S3_FAULT_PIDFILE="$pidfile"
export FILEUP_TEST_S3_ACCESS_KEY="$MINIO_ROOT_USER"
export FILEUP_TEST_S3_SECRET_KEY="$MINIO_ROOT_PASSWORD"
"$@"
