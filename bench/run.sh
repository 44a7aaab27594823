#!/usr/bin/env bash
# Side-by-side benchmarks of `fileup serve` against the plainest programs
# that do the same job on this machine, all on loopback, each bounded in
# size and time. `make bench` runs them all under scripts/postgres.sh and
# scripts/minio.sh and prints a Markdown report (BENCHMARKS.md is made
# from it); `make bench-quick` runs a short version and exits 1 when a
# ratio misses its target by more than the tolerance.
#
#   (a) ingest: `curl -F` to fileup (disk, SQLite) vs `curl -T` to bench/sink
#   (b) download: GET from fileup vs nginx (sendfile on) of the same file
#   (c) S3: `curl -F` to fileup on MinIO vs minio-go PutObject to the same MinIO
#   (d) server CPU seconds per GiB of each side of (a)-(c), wall ratios
#   (e) 4 KiB uploads at 64 concurrent (SQLite, PostgreSQL); 64 x 16 MiB
#
# Each pair runs alternately (A B, B A, ...), and each figure is the median
# of ROUNDS; every side deletes its file after each upload (see
# bench/ingest.sh). Server CPU is utime + stime from /proc/PID/stat, taken
# before and after each request.
#
# Environment (defaults of `make bench`, then of `make bench-quick`):
#   SIZE_MIB=1024|256     size of the large file
#   ROUNDS=5|3            rounds of each pair
#   SMALL_SECONDS=10|5    duration of each 4 KiB load
#   QUICK=0|1             1: short run, no profiles, no strace, no PostgreSQL
#                         or 64 x 16 MiB load, and check the targets
#   CHECK=0|1             check the targets (exit 1 on a miss)
#   TOLERANCE=1.3         a max target is met up to target x TOLERANCE, a
#                         min target down to target / TOLERANCE
#   TARGET_INGEST_WALL=1.3 TARGET_INGEST_CPU=1.3   fileup / sink
#   TARGET_DL_WALL=1.1 TARGET_DL_CPU=1.3           fileup / nginx
#   TARGET_S3_WALL=1.2                             fileup / direct PutObject
#   TARGET_SMALL_RATE=1000                         4 KiB uploads/s on SQLite
#   PROFILES=1|0 TRACES=1|0  perf profiles of fileup, strace -c of one GET
#   SECTIONS="ingest download s3 small"   the sections to run
#   NGINX=/usr/sbin/nginx  the nginx binary (default: from PATH or /usr/sbin)
#   BENCH_DIR=/tmp        where the temporary directory goes
#
# Needs: go, curl; nginx for (b), perf and strace for the profiles.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh
# shellcheck source=bench/ingest.sh
. bench/ingest.sh
# shellcheck source=bench/download.sh
. bench/download.sh
# shellcheck source=bench/s3.sh
. bench/s3.sh
# shellcheck source=bench/small.sh
. bench/small.sh

quick=${QUICK:-0}
if [ "$quick" = 1 ]; then
  size_mib=${SIZE_MIB:-256} rounds=${ROUNDS:-3} small_seconds=${SMALL_SECONDS:-5}
  check=${CHECK:-1} profiles=${PROFILES:-0} traces=${TRACES:-0} big_concurrent=0 pg_load=0
else
  size_mib=${SIZE_MIB:-1024} rounds=${ROUNDS:-5} small_seconds=${SMALL_SECONDS:-10}
  check=${CHECK:-0} profiles=${PROFILES:-1} traces=${TRACES:-1} big_concurrent=1 pg_load=1
fi
tolerance=${TOLERANCE:-1.3}
size_b=$((size_mib << 20))
max_time=$((60 + size_mib / 4)) # seconds for one request at >= 4 MiB/s
token=bench-token-0123456789

work=$(mktemp -d "${BENCH_DIR:-/tmp}/fileup-bench.XXXXXX")
trap cleanup EXIT
trap 'exit 130' INT TERM

note "building fileup, bench/sink and bench/s3put into $work"
go build -o "$work/fileup" ./cmd/fileup
go build -o "$work/sink" ./bench/sink
go build -o "$work/s3put" ./bench/s3put
big=$work/big.bin
note "writing $size_mib MiB of random bytes"
head -c "$size_b" /dev/urandom >"$big"

target ingest_wall max "${TARGET_INGEST_WALL:-1.3}" "ingest wall, fileup / sink"
target ingest_cpu max "${TARGET_INGEST_CPU:-1.3}" "ingest server CPU, fileup / sink"
target dl_wall max "${TARGET_DL_WALL:-1.1}" "download wall, fileup / nginx"
target dl_cpu max "${TARGET_DL_CPU:-1.3}" "download server CPU, fileup / nginx"
target s3_wall max "${TARGET_S3_WALL:-1.2}" "S3 ingest wall, fileup / direct PutObject"
target small_rate min "${TARGET_SMALL_RATE:-1000}" "4 KiB uploads/s at 64 concurrent, SQLite"

header() {
  echo "# fileup benchmarks"
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "- machine: $(nproc) cores ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), $(go version | cut -d' ' -f3)"
  echo "- filesystem of the data directories: $(df -T "$work" | awk 'NR==2 {print $2}'), $(fsync_ms) ms per synchronous 4 KiB write (\`dd bs=4k count=100 oflag=dsync\`)"
  echo "- fileup: $(git log -1 --format='%h %s' 2>/dev/null || echo unknown)"
  echo "- command: \`$([ "$quick" = 1 ] && echo "make bench-quick" || echo "make bench")\` (SIZE_MIB=$size_mib ROUNDS=$rounds SMALL_SECONDS=$small_seconds)"
  echo "- load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
}

# summary prints (d), every pair's CPU per GiB and ratios, then the targets.
summary() {
  echo "## (d) Summary: server CPU seconds per GiB and ratios"
  echo
  echo "| pair | fileup wall / other | fileup CPU s/GiB | other CPU s/GiB | CPU ratio |"
  echo "|---|---|---|---|---|"
  [ -n "$(result_of ingest_wall)" ] && echo "| (a) ingest vs bench/sink | $(r2 "$(result_of ingest_wall)")× | $(r2 "$(per_gib "$(med ingest_fu_cpu)" "$size_b")") | $(r2 "$(per_gib "$(med ingest_sk_cpu)" "$size_b")") | $(r2 "$(result_of ingest_cpu)")× |"
  [ -n "$(result_of dl_wall)" ] && echo "| (b) download vs nginx | $(r2 "$(result_of dl_wall)")× | $(r2 "$(per_gib "$(med dl_fu_cpu)" "$dl_bytes")") | $(r2 "$(per_gib "$(med dl_ng_cpu)" "$dl_bytes")") | $(r2 "$(result_of dl_cpu)")× |"
  [ -n "$(result_of s3_wall)" ] && echo "| (c) S3 ingest vs direct PutObject (fileup + MinIO vs client + MinIO) | $(r2 "$(result_of s3_wall)")× | $(r2 "$(per_gib "$(calc "$(med s3_fu_cpu) + $(med s3_fu_minio)")" "$size_b")") | $(r2 "$(per_gib "$(calc "$(med s3_di_cpu) + $(med s3_di_minio)")" "$size_b")") | $(r2 "$(ratio "$(calc "$(med s3_fu_cpu) + $(med s3_fu_minio)")" "$(calc "$(med s3_di_cpu) + $(med s3_di_minio)")")")× |"
  echo
  echo "- load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
}

appendix() {
  local f name
  local what
  for name in ingest sink download nginx s3 small; do
    f=$work/profile-$name.txt
    [ -s "$f" ] || continue
    case $name in
    ingest) what="\`fileup serve\`, one ${size_mib} MiB multipart upload (disk)" ;;
    sink) what="bench/sink, one raw PUT of the same file" ;;
    download) what="\`fileup serve\`, one GET" ;;
    nginx) what="the nginx worker, one GET of the same file" ;;
    s3) what="\`fileup serve\`, one multipart upload into MinIO" ;;
    small) what="\`fileup serve\` (disk, SQLite), 5 s of 4 KiB uploads at 64 concurrent; $(cat "$work/small-cpu.txt" 2>/dev/null)" ;;
    esac
    echo "### perf profile of $what"
    echo
    echo "\`perf record -F 999 -g -p PID\`, then \`perf report --no-children --sort dso\` and \`--sort dso,symbol\` (\`-g none\`, the top lines):"
    echo
    echo '```'
    cat "$f"
    echo '```'
    echo
  done
  for name in fileup nginx; do
    f=$work/strace-$name.txt
    [ -s "$f" ] || continue
    echo "### \`strace -c -f -p PID\` of $name during one GET"
    echo
    echo '```'
    cat "$f"
    echo '```'
    echo
    [ "$name" = fileup ] && ! grep -qw sendfile "$f" && note "warning: fileup's GET made no sendfile call"
  done
  return 0
}

header
for s in ${SECTIONS:-ingest download s3 small}; do
  case $s in
  ingest | download | s3 | small) "section_$s" ;;
  *) die "unknown section $s in SECTIONS (ingest, download, s3, small)" ;;
  esac
done
summary
echo "## Targets"
echo
status=0
check_targets "$([ "$check" = 1 ] && echo "$tolerance" || echo 1)" || status=$?
echo
appendix
if [ "$check" = 1 ] && [ "$status" != 0 ]; then
  note "FAIL: a target was missed (see the Targets table)"
  exit 1
fi
[ "$check" = 1 ] && note "every measured target met (tolerance $tolerance)"
exit 0
