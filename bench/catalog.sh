#!/usr/bin/env bash
# Benchmarks of the catalog and of the Base64 upload, all on loopback, each
# step bounded in time. Prints Markdown sections to stdout (progress goes
# to stderr):
#
#   1. Quota curve: 4 KiB upload latency with quotas on, for tenants that
#      already hold 0, $MID and $FILL files, on disk+SQLite and on
#      MinIO+PostgreSQL. The tenants share one server and are measured
#      side by side (one upload each in turn, sequentially), so machine
#      load hits them alike. Target: p50 at $FILL within 1.2x of 0.
#   2. Start-up time of `fileup serve` (until /healthz answers) with an
#      empty catalog and with the one filled in 1, alternated.
#   3. Base64: a $B64_MIB MiB file sent with `fileup upload --base64`
#      (a JSON body 4/3 its size) vs a 64 MiB one: the server's peak RSS
#      (VmHWM), wall time and server CPU s/GiB; the multipart upload of
#      the same large file for reference.
#
#   bash bench/catalog.sh            # full run (~10-15 min)
#   QUICK=1 bash bench/catalog.sh    # small run (~2 min)
#
# Sizes: FILL, MID, COUNT (uploads per tenant), STARTS (start-ups per
# side), B64_MIB, ROUNDS (Base64 rounds). MinIO and PostgreSQL come from
# scripts/minio.sh and scripts/postgres.sh, which the script runs itself
# around (unless FILEUP_TEST_S3_ENDPOINT and FILEUP_TEST_PG_DSN are already
# set); without them the MinIO+PostgreSQL backend is skipped with a
# message. Needs: go, curl; psql for PostgreSQL start-up with an empty
# catalog (skipped without).
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."

# Run inside scripts/postgres.sh and scripts/minio.sh; if MinIO cannot be
# started (the inner run never began), fall back to PostgreSQL alone.
if [ -z "${CATBENCH_INNER:-}" ] && { [ -z "${FILEUP_TEST_S3_ENDPOINT:-}" ] || [ -z "${FILEUP_TEST_PG_DSN:-}" ]; }; then
  export CATBENCH_INNER=1
  CATBENCH_MARKER=$(mktemp "${TMPDIR:-/tmp}/fileup-catbench-marker.XXXXXX")
  export CATBENCH_MARKER
  trap 'rm -f "$CATBENCH_MARKER"' EXIT
  rc=0
  scripts/postgres.sh scripts/minio.sh bash "$0" "$@" || rc=$?
  if [ "$rc" != 0 ] && [ ! -s "$CATBENCH_MARKER" ]; then
    echo "catalog.sh: MinIO or PostgreSQL could not be started: running without them" >&2
    rc=0
    scripts/postgres.sh bash "$0" "$@" || rc=$?
  fi
  exit "$rc"
fi
[ -n "${CATBENCH_MARKER:-}" ] && echo started >"$CATBENCH_MARKER"

if [ -n "${QUICK:-}" ]; then
  FILL=${FILL:-2000} MID=${MID:-200} COUNT=${COUNT:-60} STARTS=${STARTS:-3} B64_MIB=${B64_MIB:-256} ROUNDS=${ROUNDS:-1}
fi
FILL=${FILL:-20000} MID=${MID:-1000} COUNT=${COUNT:-300} STARTS=${STARTS:-5} B64_MIB=${B64_MIB:-1024} ROUNDS=${ROUNDS:-2}
SMALL_MIB=64

work=$(mktemp -d "${BENCH_DIR:-/tmp}/fileup-catbench.XXXXXX")
pids=()
dbs=()
cleanup() {
  local p d
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  for d in "${dbs[@]}"; do psql -q "$FILEUP_TEST_PG_DSN" -c "DROP DATABASE IF EXISTS $d" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

log() { echo "catalog.sh: $*" >&2; }
ms_now() { echo $(($(date +%s%N) / 1000000)); }
median() { sort -n | awk '{a[NR]=$1} END {if (NR) print (NR % 2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
hwm_mib() { awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

tok0=catbench-tenant-zero-0123456789
tokmid=catbench-tenant-mid-0123456789
tokfull=catbench-tenant-full-0123456789

# start_server NAME STORAGE DB [FLAGS...]: start `fileup serve` on a port
# the kernel picks (read from its first line of output) and wait for
# /healthz (at most 60 s); sets srv_pid, url, startup_ms and
# startup_cpu_ms (the server's CPU time until then).
start_server() {
  local name=$1 store=$2 db=$3 t0
  shift 3
  url=""
  t0=$(ms_now)
  "$work/fileup" serve --addr 127.0.0.1:0 --storage "$store" --db "$db" \
    --token "$tok0" --token "$tokmid" --token "$tokfull" --log-format json "$@" \
    >"$work/$name.out" 2>"$work/$name.log" &
  srv_pid=$!
  pids+=("$srv_pid")
  while [ "$(ms_now)" -lt $((t0 + 60000)) ]; do
    # The comma after the port: the line is complete (a read racing the
    # server's write could see only part of the port).
    if [ -z "$url" ]; then
      url=$(grep -o -m1 'http://127\.0\.0\.1:[0-9]*,' "$work/$name.out" || true)
      url=${url%,}
    fi
    if [ -n "$url" ] && curl -fs --max-time 5 -o /dev/null "$url/healthz" 2>/dev/null; then
      startup_ms=$(($(ms_now) - t0))
      startup_cpu_ms=$(($(cpu_ticks "$srv_pid") * 1000 / hz))
      return 0
    fi
    kill -0 "$srv_pid" 2>/dev/null || break
    sleep 0.01
  done
  log "server $name did not answer on ${url:-(no address yet)} (pid $srv_pid $(kill -0 "$srv_pid" 2>/dev/null && echo alive || echo exited)):"
  cat "$work/$name.out" "$work/$name.log" >&2
  exit 1
}
stop_server() { kill "$srv_pid" 2>/dev/null || true; wait "$srv_pid" 2>/dev/null || true; }

# used_files TOKEN: the tenant's live files, from evolink's quota route.
used_files() {
  curl -fsS -H "Authorization: Bearer $1" "$url/api/v1/files/quota" |
    sed -n 's/.*"used_files":\([0-9]*\).*/\1/p'
}

# fill TOKEN N: upload N tiny files for the tenant, 16 at a time (each is
# downloaded and checked by `fileup bench`); at most 20 minutes.
fill() {
  local t0
  t0=$(ms_now)
  timeout 1200 "$work/fileup" bench --base-url "$url" --token "$1" --size 16 --count "$2" --concurrency 16 >"$work/fill.out" ||
    { cat "$work/fill.out" >&2; log "filling the tenant failed"; exit 1; }
  log "$2 files uploaded in $(( ($(ms_now) - t0) / 1000 )) s"
}

echo "# Catalog and Base64 benchmarks (bench/catalog.sh)"
echo
echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
echo "- machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), $(go version | cut -d' ' -f3), load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
echo "- filesystem of the data directory: $(df -T "$work" | awk 'NR==2 {print $2}')"
echo "- command: \`bash bench/catalog.sh\` (FILL=$FILL MID=$MID COUNT=$COUNT STARTS=$STARTS B64_MIB=$B64_MIB ROUNDS=$ROUNDS)"
echo

log "building fileup and bench/quotacurve"
go build -o "$work/fileup" ./cmd/fileup
go build -o "$work/quotacurve" ./bench/quotacurve

# ---------------------------------------------------------------- backends
# Each backend is NAME|STORAGE|DB|EMPTY_STORAGE|EMPTY_DB (EMPTY_*: a second,
# empty catalog for the start-up comparison; "-" when there is none).
backends=("disk+SQLite|$work/disk|sqlite:$work/disk/fileup.db|$work/disk-empty|sqlite:$work/disk-empty/fileup.db")

# pg_db NAME: a DSN for a new database NAME in FILEUP_TEST_PG_DSN's cluster
# (dropped on exit), or the DSN itself when psql is missing.
pg_db() {
  local base=${FILEUP_TEST_PG_DSN%%\?*} query=""
  [[ $FILEUP_TEST_PG_DSN == *\?* ]] && query="?${FILEUP_TEST_PG_DSN#*\?}"
  if ! command -v psql >/dev/null 2>&1; then echo "-"; return; fi
  psql -q "$FILEUP_TEST_PG_DSN" -c "CREATE DATABASE $1" >/dev/null
  dbs+=("$1")
  echo "${base%/*}/$1$query"
}

if [ -z "${FILEUP_TEST_S3_ENDPOINT:-}" ] || [ -z "${FILEUP_TEST_PG_DSN:-}" ]; then
  log "no MinIO or no PostgreSQL (FILEUP_TEST_S3_ENDPOINT / FILEUP_TEST_PG_DSN unset): MinIO+PostgreSQL skipped"
  skipped_s3="MinIO+PostgreSQL: skipped (no MinIO or no PostgreSQL available; see scripts/minio.sh and scripts/postgres.sh)."
else
  export AWS_ACCESS_KEY_ID=$FILEUP_TEST_S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$FILEUP_TEST_S3_SECRET_KEY
  s3=$FILEUP_TEST_S3_ENDPOINT
  full_db=$(pg_db "catbench_full_$$")
  if [ "$full_db" = "-" ]; then
    full_db=$FILEUP_TEST_PG_DSN empty_db="-"
    log "no psql: PostgreSQL start-up with an empty catalog skipped"
  else
    empty_db=$(pg_db "catbench_empty_$$")
  fi
  backends+=("MinIO+PostgreSQL|s3://catbench-full-$$?endpoint=$s3&secure=false|$full_db|s3://catbench-empty-$$?endpoint=$s3&secure=false|$empty_db")
fi

# ---------------------------------------------------------------- 1. quota curve
quota_flags=(--quota-files 10000000 --quota-bytes 1000GiB)

# quota_curve NAME STORAGE DB: fill two tenants, then measure three side
# by side; prints table rows and appends the verdict to $verdicts.
quota_curve() {
  local name=$1 n0 nmid nfull p50_0 p99_0
  start_server "curve-$name" "$2" "$3" "${quota_flags[@]}"
  log "$name: filling tenants with $MID and $FILL files"
  fill "$tokmid" "$MID"
  fill "$tokfull" "$FILL"
  n0=$(used_files "$tok0") nmid=$(used_files "$tokmid") nfull=$(used_files "$tokfull")
  log "$name: measuring $COUNT uploads of 4 KiB per tenant (tenants hold $n0, $nmid, $nfull files)"
  timeout 1200 "$work/quotacurve" -url "$url" -count "$COUNT" -size 4096 \
    "$n0=$tok0" "$nmid=$tokmid" "$nfull=$tokfull" >"$work/curve.out"
  stop_server
  read -r _ _ _ p50_0 p99_0 <"$work/curve.out"
  while read -r n cnt errs p50 p99; do
    printf '| %s | %s | %s | %s | %.1f ms | %.1f ms | %.2f× | %.2f× |\n' "$name" "$n" "$cnt" "$errs" "$p50" "$p99" \
      "$(awk -v a="$p50" -v b="$p50_0" 'BEGIN {print a/b}')" "$(awk -v a="$p99" -v b="$p99_0" 'BEGIN {print a/b}')"
  done <"$work/curve.out"
  verdicts+=$(awk -v a="$(awk 'END {print $4}' "$work/curve.out")" -v b="$p50_0" -v name="$name" -v n="$nfull" \
    'BEGIN {r=a/b; printf "- %s: p50 at %d files / p50 at 0 files = %.2f× (target ≤ 1.20×): **%s**\n", name, n, r, (r <= 1.2 ? "met" : "missed")}')
  verdicts+=$'\n'
}

echo "## Quota check vs files in the tenant: 4 KiB uploads with quotas on"
echo
echo "One \`fileup serve\` per backend with \`${quota_flags[*]}\` and three tokens."
echo "Two tenants are first filled by \`fileup bench --size 16 --concurrency 16\`"
echo "($MID and $FILL files); then \`bench/quotacurve\` uploads $COUNT files of 4 KiB"
echo "for each tenant, one upload at a time, taking the tenants in turn (A, B, C, A, …),"
echo "so all three are measured side by side under the same load. \"Files\" is the"
echo "tenant's count before the measurement (\`GET /api/v1/files/quota\`); each measured"
echo "upload adds one more. Latency is the client's, request sent to answer read."
echo
echo "| backend | files in tenant | uploads | errors | p50 | p99 | p50 vs 0 files | p99 vs 0 files |"
echo "|---|---|---|---|---|---|---|---|"
verdicts=""
for b in "${backends[@]}"; do
  IFS='|' read -r name store db _ _ <<<"$b"
  quota_curve "$name" "$store" "$db"
done
echo
printf '%s' "$verdicts"
if [ -n "${skipped_s3:-}" ]; then echo "- $skipped_s3"; fi
echo

# ---------------------------------------------------------------- 2. start-up
# startups NAME STORAGE DB EMPTY_STORAGE EMPTY_DB: start-up times of the
# filled catalog and of an empty one, alternated; prints a table row and
# appends the verdict to $verdicts.
startups() {
  local name=$1 files first se=() sf=() ce=() cf=()
  if [ "$5" = "-" ]; then
    log "$name: no empty catalog to compare with: start-up skipped"
    echo "| $name | (no empty catalog: psql missing) | | | | | |"
    return
  fi
  start_server "start-$name" "$2" "$3"
  files=$(used_files "$tokfull")
  stop_server
  start_server "start-$name" "$4" "$5" # creates the empty catalog
  first=$startup_ms
  stop_server
  for _ in $(seq 1 "$STARTS"); do
    start_server "start-$name" "$4" "$5"; se+=("$startup_ms"); ce+=("$startup_cpu_ms"); stop_server
    start_server "start-$name" "$2" "$3"; sf+=("$startup_ms"); cf+=("$startup_cpu_ms"); stop_server
  done
  local me mf mce mcf
  me=$(printf '%s\n' "${se[@]}" | median) mf=$(printf '%s\n' "${sf[@]}" | median)
  mce=$(printf '%s\n' "${ce[@]}" | median) mcf=$(printf '%s\n' "${cf[@]}" | median)
  awk -v name="$name" -v first="$first" -v me="$me" -v mf="$mf" -v mce="$mce" -v mcf="$mcf" -v se="${se[*]}" -v sf="${sf[*]}" 'BEGIN {
    printf "| %s | %d ms | %.0f ms (%s) | %.0f ms (%s) | %.2f× | %.0f / %.0f ms |\n", name, first, me, se, mf, sf, mf / me, mce, mcf }'
  verdicts+=$(awk -v name="$name" -v me="$me" -v mf="$mf" -v ce="$mce" -v cf="$mcf" -v n="$files" 'BEGIN { r = mf / me; c = cf / ce
    printf "- %s, %d files in the filled tenant: filled / empty = %.2f× wall, %.2f× server CPU (target: flat, judged on CPU, ≤ 1.5×): **%s**\n",
      name, n, r, c, (c <= 1.5 ? "met" : "missed") }')
  verdicts+=$'\n'
  log "$name: start-up empty $me ms, with $files files in one tenant $mf ms"
}

echo "## Start-up time of \`fileup serve\`"
echo
echo "From launching \`fileup serve\` to the first 200 from \`/healthz\` (polled every"
echo "10 ms, so ±10 ms), with an empty catalog and with the catalog filled above"
echo "(its three tenants hold about $((FILL + MID + 3 * COUNT)) files), alternated $STARTS times; median (all runs)."
echo "The first start of the empty catalog creates it (schema migrations). Server CPU"
echo "is utime+stime when /healthz first answers (10 ms ticks); on a busy machine it is"
echo "the steadier measure, so the verdict uses it: walking $FILL files would show in it."
echo
echo "| backend | first start (creates the catalog) | empty catalog | filled catalog | filled / empty | server CPU until ready, empty / filled |"
echo "|---|---|---|---|---|---|"
verdicts=""
for b in "${backends[@]}"; do
  IFS='|' read -r name store db estore edb <<<"$b"
  startups "$name" "$store" "$db" "$estore" "$edb"
done
echo
printf '%s' "$verdicts"
if [ -n "${skipped_s3:-}" ]; then echo "- $skipped_s3"; fi
echo

# ---------------------------------------------------------------- 3. Base64
# one_upload MODE FILE: a fresh server on a fresh disk+SQLite directory,
# one upload (MODE base64 or multipart), its bytes checked against FILE;
# prints a table row.
one_upload() {
  local mode=$1 file=$2 dir="$work/b64" n c0 c1 t0 wall hwm stored flag=()
  n=$(stat -c %s "$file")
  if [ "$mode" = base64 ]; then flag=(--base64); fi
  rm -rf "$dir"
  start_server "b64" "$dir" "sqlite:$dir/fileup.db" --max-size "$((B64_MIB + SMALL_MIB))MiB"
  c0=$(cpu_ticks "$srv_pid") t0=$(ms_now)
  timeout 600 "$work/fileup" upload -q "${flag[@]}" --retries 1 --provider kie --base-url "$url" --token "$tok0" \
    --path b64 --name "$(basename "$file")" "$file" >/dev/null
  wall=$(($(ms_now) - t0)) c1=$(cpu_ticks "$srv_pid") hwm=$(hwm_mib "$srv_pid")
  stop_server
  stored=$(find "$dir" -type f -size "${n}c" -print -quit)
  { [ -n "$stored" ] && cmp -s "$stored" "$file"; } || { log "the stored file differs from $file"; exit 1; }
  rm -rf "$dir"
  local body=$n
  # shellcheck disable=SC2017 # 4 characters per started 3 bytes
  if [ "$mode" = base64 ]; then body=$(((n + 2) / 3 * 4)); fi
  awk -v mode="$mode" -v n="$n" -v body="$body" -v wall="$wall" -v cpu="$((c1 - c0))" -v hz="$hz" -v hwm="$hwm" 'BEGIN {
    gib = n / 2^30
    printf "| %s | %d MiB | %.2f GiB | %.2f s | %.0f MiB/s | %.2f s | %.2f s/GiB | %s MiB |\n",
      mode, n / 2^20, body / 2^30, wall / 1000, n / 2^20 / (wall / 1000), cpu / hz, cpu / hz / gib, hwm }'
  echo "$mode $((n >> 20)) $hwm" >>"$work/hwm.out"
}

log "Base64: writing $SMALL_MIB MiB and $B64_MIB MiB of random bytes"
head -c "$((SMALL_MIB << 20))" /dev/urandom >"$work/small.bin"
head -c "$((B64_MIB << 20))" /dev/urandom >"$work/large.bin"

echo "## Base64 upload: server memory with a large body"
echo
echo "\`fileup upload --base64\` (kie's \`POST /api/file-base64-upload\`: a JSON body whose"
echo "Base64 string the client encodes as it sends, with an exact Content-Length)"
echo "of $SMALL_MIB MiB and of $B64_MIB MiB of random bytes, and the multipart stream upload of"
echo "the $B64_MIB MiB file for reference. Each upload goes to a fresh \`fileup serve\`"
echo "(disk+SQLite, \`--max-size $((B64_MIB + SMALL_MIB))MiB\`) whose directory is removed after it"
echo "(so every write lands in the page cache alike); the stored file is compared with"
echo "the original. Server CPU is utime+stime from /proc/PID/stat around the upload;"
echo "peak RSS is the server's VmHWM. $ROUNDS round(s), sizes alternated."
echo
echo "| upload | file | body | wall | rate | server CPU | server CPU per GiB of file | server peak RSS |"
echo "|---|---|---|---|---|---|---|---|"
: >"$work/hwm.out"
for _ in $(seq 1 "$ROUNDS"); do
  log "Base64: $SMALL_MIB MiB, $B64_MIB MiB, multipart $B64_MIB MiB"
  one_upload base64 "$work/small.bin"
  one_upload base64 "$work/large.bin"
  one_upload multipart "$work/large.bin"
done
echo
awk -v small="$SMALL_MIB" -v large="$B64_MIB" '
  $1 == "base64" && $2 == small && $3 > s { s = $3 }
  $1 == "base64" && $2 == large && $3 > l { l = $3 }
  END { r = l / s
    printf "Peak server RSS, Base64 %d MiB / Base64 %d MiB (highest of the rounds): %.1f / %.1f MiB = %.2f× (target: flat, ≤ 1.25×): **%s**\n",
      large, small, l, s, r, (r <= 1.25 ? "met" : "missed") }' "$work/hwm.out"
