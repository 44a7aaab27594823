#!/usr/bin/env bash
# Build (once, into a cache directory) and run a local MinIO server for the
# S3 tests, then run the given command with the endpoint in its environment:
#
#   scripts/minio.sh go test ./...
#
# The command sees FILEUP_TEST_S3_ENDPOINT (host:port), FILEUP_TEST_S3_ACCESS_KEY
# and FILEUP_TEST_S3_SECRET_KEY. MinIO listens on 127.0.0.1 only, keeps its
# data in a temporary directory, is restarted if it dies (fault tests kill
# the pid in FILEUP_TEST_S3_PIDFILE) and is stopped when the command ends.
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

# A free loopback port.
port=""
for _ in $(seq 1 50); do
  p=$((20000 + RANDOM % 20000))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
[ -n "$port" ] || { echo "minio.sh: no free port found" >&2; exit 1; }
data=$(mktemp -d "${TMPDIR:-/tmp}/fileup-minio.XXXXXX")
log="$data.log"
export MINIO_ROOT_USER=fileup-test
export MINIO_ROOT_PASSWORD=fileup-test-secret
export MINIO_BROWSER=off
pidfile="$data.pid"
stopfile="$data.stop"
# Supervise MinIO: fault tests kill it (FILEUP_TEST_S3_PIDFILE names the
# current process) and it comes back on the same address and data.
(
  while [ ! -e "$stopfile" ]; do
    "$bin" server --quiet --address "127.0.0.1:$port" "$data" >>"$log" 2>&1 &
    echo $! >"$pidfile"
    wait $! || true
    sleep 0.2
  done
) 2>>"$log" &
sup=$!
cleanup() {
  touch "$stopfile"
  # Kill whichever MinIO is current until the supervisor has exited.
  for _ in $(seq 1 20); do
    kill "$(cat "$pidfile" 2>/dev/null)" 2>/dev/null || true
    kill -0 "$sup" 2>/dev/null || break
    sleep 0.3
  done
  kill "$sup" 2>/dev/null || true
  rm -rf "$data" "$log" "$pidfile" "$stopfile"
}
trap cleanup EXIT INT TERM

for _ in $(seq 1 150); do
  if curl -fsS -o /dev/null "http://127.0.0.1:$port/minio/health/ready" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$sup" 2>/dev/null; then
    echo "minio.sh: MinIO exited:" >&2; cat "$log" >&2; exit 1
  fi
  sleep 0.2
done
curl -fsS -o /dev/null "http://127.0.0.1:$port/minio/health/ready" || { echo "minio.sh: MinIO not ready" >&2; cat "$log" >&2; exit 1; }
echo "minio.sh: MinIO ready on 127.0.0.1:$port" >&2

export FILEUP_TEST_S3_ENDPOINT="127.0.0.1:$port"
export FILEUP_TEST_S3_ACCESS_KEY="$MINIO_ROOT_USER"
export FILEUP_TEST_S3_SECRET_KEY="$MINIO_ROOT_PASSWORD"
export FILEUP_TEST_S3_PIDFILE="$pidfile"
"$@"
