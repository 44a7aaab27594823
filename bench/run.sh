#!/usr/bin/env bash
# Side-by-side benchmarks of fileup against the physical limits of this
# machine, all on loopback, each bounded in size and time. Run with
# `make bench`; prints a Markdown report (paste it into BENCHMARKS.md).
#
#   1. 1 GiB upload: `fileup upload` vs `curl -F` to the same server
#      (wall time and client peak RSS, best of $ROUNDS).
#   2. Server ingest of the same 1 GiB vs `dd ... conv=fsync` to the same
#      filesystem; server peak RSS; bytes on disk beyond the file. Between
#      the two, the floor of any HTTP upload here: `curl -T` of the same
#      bytes to bench/sink, which only copies the body into a file and
#      fsyncs it (no multipart, no hashing, no metadata).
#   3. 64 concurrent 16 MiB uploads: server peak RSS.
#   4. 4 KiB uploads at 64 concurrent: requests/s and p99 latency.
#
# Needs: go, curl, GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE_MIB=${SIZE_MIB:-1024}
ROUNDS=${ROUNDS:-3}
work=$(mktemp -d "${BENCH_DIR:-/tmp}/fileup-bench.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

go build -o "$work/fileup" ./cmd/fileup
go build -o "$work/sink" ./bench/sink
token=bench-token-0123456789
head -c "$((SIZE_MIB << 20))" /dev/urandom >"$work/big.bin"

start_server() { # $1 = data dir; sets srv_pid and url
  local port
  port=$((20000 + RANDOM % 20000))
  "$work/fileup" serve --addr "127.0.0.1:$port" --storage "$1" --token "$token" \
    --max-size 4GiB --log-format json >"$work/server.out" 2>"$work/server.log" &
  srv_pid=$!
  pids+=("$srv_pid")
  url="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do curl -fs "$url/healthz" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "server did not start" >&2; cat "$work/server.log" >&2; exit 1
}
stop_server() { kill "$srv_pid"; wait "$srv_pid" 2>/dev/null || true; }
hwm_mib() { awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
timed() { # prints "seconds maxrss_kib" of a command
  /usr/bin/time -f '%e %M' -o "$work/time.out" "$@" >/dev/null
  cat "$work/time.out"
}
best() { sort -n | head -1; }

echo "# fileup benchmarks"
echo
echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
echo "- machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), $(go version | cut -d' ' -f3)"
echo "- filesystem of the data directory: $(df -T "$work" | awk 'NR==2 {print $2}')"
echo "- command: \`make bench\` (SIZE_MIB=$SIZE_MIB ROUNDS=$ROUNDS)"
echo

# 1 + 2: single large upload.
start_server "$work/data"
fu_t=(); fu_m=(); cu_t=(); cu_m=()
for i in $(seq 1 "$ROUNDS"); do
  read -r t m < <(timed "$work/fileup" upload -q --provider kie --base-url "$url" --token "$token" --path bench --name "fileup-$i.bin" "$work/big.bin")
  fu_t+=("$t"); fu_m+=("$m")
  read -r t m < <(timed curl -sf -o /dev/null -H "Authorization: Bearer $token" -F uploadPath=bench -F "fileName=curl-$i.bin" -F "file=@$work/big.bin" "$url/api/file-stream-upload")
  cu_t+=("$t"); cu_m+=("$m")
done
srv_hwm=$(hwm_mib "$srv_pid")
on_disk=$(find "$work/data" -name fileup-1.bin -printf '%s')
temps=$(find "$work/data" -name '.fileup-tmp-*' | wc -l)
stop_server

fu_best=$(printf '%s\n' "${fu_t[@]}" | best); cu_best=$(printf '%s\n' "${cu_t[@]}" | best)
fu_rss=$(printf '%s\n' "${fu_m[@]}" | sort -n | tail -1); cu_rss=$(printf '%s\n' "${cu_m[@]}" | sort -n | tail -1)
ratio=$(awk -v a="$fu_best" -v b="$cu_best" 'BEGIN {printf "%.2f", a/b}')
size_b=$((SIZE_MIB << 20))

# dd of the same bytes to the same filesystem, with fsync.
dd_t=()
for i in $(seq 1 "$ROUNDS"); do
  read -r t _ < <(timed dd if="$work/big.bin" of="$work/dd.out" bs=1M conv=fsync status=none)
  dd_t+=("$t"); rm -f "$work/dd.out"
done
dd_best=$(printf '%s\n' "${dd_t[@]}" | best)
ingest_ratio=$(awk -v a="$fu_best" -v b="$dd_best" 'BEGIN {printf "%.2f", a/b}')

# The HTTP floor: a raw PUT of the same bytes into a file with fsync.
port=$((20000 + RANDOM % 20000))
mkdir -p "$work/sink.d"
"$work/sink" -addr "127.0.0.1:$port" -dir "$work/sink.d" 2>"$work/sink.log" &
sink_pid=$!
pids+=("$sink_pid")
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
sk_t=()
for i in $(seq 1 "$ROUNDS"); do
  read -r t _ < <(timed curl -sf -o /dev/null -T "$work/big.bin" "http://127.0.0.1:$port/f$i")
  sk_t+=("$t")
done
kill "$sink_pid"; wait "$sink_pid" 2>/dev/null || true
sk_best=$(printf '%s\n' "${sk_t[@]}" | best)
floor_ratio=$(awk -v a="$sk_best" -v b="$dd_best" 'BEGIN {printf "%.2f", a/b}')
over_floor=$(awk -v a="$fu_best" -v b="$sk_best" 'BEGIN {printf "%.2f", a/b}')

echo "## 1 GiB upload ($SIZE_MIB MiB, best of $ROUNDS)"
echo
echo "| | time (s) | MiB/s | client peak RSS (MiB) |"
echo "|---|---|---|---|"
echo "| \`fileup upload\` | $fu_best | $(awk -v t="$fu_best" -v s="$SIZE_MIB" 'BEGIN {printf "%.0f", s/t}') | $(awk -v k="$fu_rss" 'BEGIN {printf "%.1f", k/1024}') |"
echo "| \`curl -F\` | $cu_best | $(awk -v t="$cu_best" -v s="$SIZE_MIB" 'BEGIN {printf "%.0f", s/t}') | $(awk -v k="$cu_rss" 'BEGIN {printf "%.1f", k/1024}') |"
echo "| \`curl -T\` to bench/sink (raw PUT into a file, fsync) | $sk_best | $(awk -v t="$sk_best" -v s="$SIZE_MIB" 'BEGIN {printf "%.0f", s/t}') | |"
echo "| \`dd conv=fsync\` (same bytes, same filesystem) | $dd_best | $(awk -v t="$dd_best" -v s="$SIZE_MIB" 'BEGIN {printf "%.0f", s/t}') | |"
echo
echo "- fileup / curl time: **${ratio}×** (target ≤ 1.10×)"
echo "- upload through the server / dd with fsync: **${ingest_ratio}×** (target ≤ 1.25×)"
echo "- the HTTP floor (raw PUT to bench/sink) / dd with fsync: ${floor_ratio}×; upload through the server / that floor: ${over_floor}×"
echo "- server peak RSS over all $((ROUNDS * 2)) uploads: **${srv_hwm} MiB** (target ≤ 64 MiB)"
echo "- bytes on disk for one stored file: $on_disk for $size_b bytes of data (the difference is the metadata trailer); temporary files left: $temps"
echo

# 3: 64 concurrent 16 MiB uploads.
rm -rf "$work/data"
start_server "$work/data"
"$work/fileup" bench --base-url "$url" --token "$token" --size 16MiB --concurrency 64 --count 128 >"$work/bench3.txt"
srv_hwm=$(hwm_mib "$srv_pid")
stop_server
echo "## 64 concurrent 16 MiB uploads (128 uploads, each downloaded and checked)"
echo
echo '```'
cat "$work/bench3.txt"
echo '```'
echo
echo "- server peak RSS: **${srv_hwm} MiB** (target ≤ 256 MiB)"
echo

# 4: small files.
rm -rf "$work/data"
start_server "$work/data"
"$work/fileup" bench --base-url "$url" --token "$token" --size 4KiB --concurrency 64 --duration 10s >"$work/bench4.txt"
srv_hwm=$(hwm_mib "$srv_pid")
stop_server
echo "## 4 KiB uploads at 64 concurrent (10 s)"
echo
echo '```'
cat "$work/bench4.txt"
echo '```'
echo
echo "- server peak RSS: ${srv_hwm} MiB"
