# shellcheck shell=bash disable=SC2034,SC2154 # globals shared with bench/run.sh
# Helpers of bench/run.sh: processes, measurements, statistics and the
# report's checks. Sourced, not run. Every process started with `spawn`
# is killed when the run exits, and $work (a mktemp directory) is removed.

# note prints a progress line on stderr (the report goes to stdout).
note() { printf 'bench: %s\n' "$*" >&2; }

# die stops the run with a message.
die() { note "error: $*"; exit 1; }

spawned=()

# spawn CMD...: start CMD in the background, remember it for the cleanup,
# and set $spawned_pid.
spawn() {
  "$@" &
  spawned_pid=$!
  spawned+=("$spawned_pid")
}

# stop PID: end a process this run started, and reap it.
stop() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

cleanup() {
  local p
  for p in "${spawned[@]}"; do
    kill "$p" 2>/dev/null || true
  done
  for p in "${spawned[@]}"; do
    wait "$p" 2>/dev/null || true
  done
  [ -n "${work:-}" ] && rm -rf "$work"
}

# free_port prints a loopback TCP port nobody listens on.
free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  die "no free port found"
}

# wait_http URL [LOG]: wait up to 10 s for URL to answer 2xx.
wait_http() {
  for _ in $(seq 1 100); do
    curl -fs -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  [ -n "${2:-}" ] && cat "$2" >&2
  die "$1 did not answer"
}

# now prints the time in seconds, to the microsecond.
now() { echo "$EPOCHREALTIME"; }

# cpu_of PID...: user + system CPU seconds of these processes (all their
# threads), from /proc/PID/stat.
cpu_of() {
  local p total=0 t
  for p in "$@"; do
    t=$(awk -v hz="$(getconf CLK_TCK)" '{sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz}' "/proc/$p/stat" 2>/dev/null) || t=0
    total=$(calc "$total + ${t:-0}")
  done
  echo "$total"
}

# hwm_mib PID: peak resident set (VmHWM) of a process, in MiB.
hwm_mib() { awk '/^VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }

# reset_hwm PID: restart a process's VmHWM from its current RSS; fails
# where the kernel refuses (then VmHWM counts from the process's start).
reset_hwm() { { echo 5 >"/proc/$1/clear_refs"; } 2>/dev/null; }

# pid_with_args ARG1 ARG2: the pid of a process whose command line has ARG1
# followed by ARG2 (a local MinIO's "--address HOST:PORT"), or nothing.
pid_with_args() {
  local d
  for d in /proc/[0-9]*; do
    if tr '\0' '\n' <"$d/cmdline" 2>/dev/null |
      awk -v a="$1" -v b="$2" 'prev == a && $0 == b {found = 1} {prev = $0} END {exit !found}'; then
      basename "$d"
      return 0
    fi
  done
}

# calc EXPR: floating-point arithmetic (awk), printed with 3 decimals.
calc() { awk "BEGIN {printf \"%.3f\", $*}"; }

# r2 NUMBER: NUMBER rounded to 2 decimals, for the report.
r2() { awk -v x="$1" 'BEGIN {printf "%.2f", x}'; }

# median: the median of the numbers on stdin, one per line.
median() {
  sort -g | awk '{v[NR] = $1} END {if (NR == 0) {print "nan"; exit} if (NR % 2) printf "%.3f", v[(NR + 1) / 2]; else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

# Per-run samples are kept in files under $work/samples, one number a
# line: sample NAME VALUE appends, samples NAME prints them all, med NAME
# their median, total NAME their sum, list NAME them on one line.
sample() { mkdir -p "$work/samples"; echo "$2" >>"$work/samples/$1"; }
samples() { cat "$work/samples/$1" 2>/dev/null; }
med() { samples "$1" | median; }
list() { samples "$1" | tr '\n' ' ' | sed 's/ $//'; }
total() { samples "$1" | awk '{t += $1} END {printf "%.3f", t}'; }

# fsync_ms: milliseconds per synchronous 4 KiB write in $work, which
# bounds how fast small uploads (each made durable) can go.
fsync_ms() {
  local t0 t1
  t0=$(now)
  dd if=/dev/zero of="$work/dsync" bs=4k count=100 oflag=dsync status=none
  t1=$(now)
  rm -f "$work/dsync"
  calc "($t1 - $t0) * 10"
}

# per_gib SECONDS BYTES: seconds per GiB.
per_gib() { calc "$1 * 1073741824 / $2"; }

# mibs SECONDS BYTES: MiB/s.
mibs() { awk -v t="$1" -v b="$2" 'BEGIN {if (t > 0) printf "%.0f", b / 1048576 / t; else print "inf"}'; }

# Results that the targets are checked against: result NAME VALUE.
result() { mkdir -p "$work/results"; echo "$2" >"$work/results/$1"; }
result_of() { cat "$work/results/$1" 2>/dev/null; }

# Each target is one line of $work/targets: name, "max" or "min", the
# target, and a description.
target() { echo "$1 $2 $3 $4" >>"$work/targets"; }

# check_targets TOLERANCE: print a Markdown table of every target against
# its result (a max target is met up to target x TOLERANCE, a min target
# down to target / TOLERANCE) and return 1 if one is missed.
check_targets() {
  local tol=$1 name kind want desc got verdict limit failed=0
  echo "| target | measured | limit (tolerance $tol) | verdict |"
  echo "|---|---|---|---|"
  while read -r name kind want desc; do
    got=$(result_of "$name")
    if [ "$kind" = max ]; then limit=$(calc "$want * $tol"); else limit=$(calc "$want / $tol"); fi
    if [ -z "$got" ]; then
      verdict="not measured (skipped)"
    elif awk -v g="$got" -v l="$limit" -v k="$kind" 'BEGIN {exit !((k == "max" && g <= l) || (k == "min" && g >= l))}'; then
      verdict="**met**"
    else
      verdict="**MISSED**"
      failed=1
      note "target missed: $desc: $got, limit $limit"
    fi
    echo "| $desc ($([ "$kind" = max ] && echo "≤" || echo "≥") $want) | ${got:-–} | $limit | $verdict |"
  done <"$work/targets"
  return "$failed"
}

# profile NAME PID SECONDS-OR-COMMAND...: run the command while perf
# records PID's stacks, and save the report's top lines in
# $work/profile-NAME.txt.
profile() {
  local name=$1 pid=$2 ppid
  shift 2
  command -v perf >/dev/null || { echo "(perf not installed)" >"$work/profile-$name.txt"; "$@"; return; }
  perf record -q -F 999 -g -p "$pid" -o "$work/perf-$name.data" 2>"$work/perf-$name.log" &
  ppid=$!
  sleep 0.3
  "$@"
  kill -INT "$ppid" 2>/dev/null || true
  wait "$ppid" 2>/dev/null || true
  {
    echo "by binary (--sort dso):"
    perf_top "$name" dso 0.5
    echo "by Go package of the profiled binary (symbols summed):"
    perf_packages "$name"
    echo "by symbol (--sort dso,symbol):"
    perf_top "$name" dso,symbol 0.7
  } >"$work/profile-$name.txt"
  rm -f "$work/perf-$name.data"
}

# perf_top NAME SORT MIN-PERCENT: the top lines of a perf report of
# $work/perf-NAME.data.
perf_top() {
  perf report -i "$work/perf-$1.data" --no-children --sort "$2" --stdio -g none --percent-limit "$3" 2>/dev/null |
    grep -v '^#' | grep -v '^$' | sed 's/[ -]*$//' | head -n 30 || true
}

# perf_packages NAME: the shares of the profiled program's own code in
# $work/perf-NAME.data summed by Go package (the symbol up to the first
# dot after its last slash), the top ten.
perf_packages() {
  perf report -i "$work/perf-$1.data" --no-children --sort dso,symbol --stdio -g none 2>/dev/null |
    awk '$3 == "[.]" && $2 !~ /^\[/ && $2 !~ /\.so/ {
      sym = $4; i = match(sym, /[^\/]*$/); rest = substr(sym, i); j = index(rest, ".")
      pkg = (j > 0) ? substr(sym, 1, i - 1) substr(rest, 1, j - 1) : sym
      sub(/%/, "", $1); share[pkg] += $1
    } END {for (p in share) printf "%8.2f%%  %s\n", share[p], p}' | sort -rn | head -n 10
}

# strace_get NAME PID URL: an `strace -c -f` of PID while curl GETs URL
# once, saved in $work/strace-NAME.txt.
strace_get() {
  local name=$1 pid=$2 url=$3 spid
  command -v strace >/dev/null || { echo "(strace not installed)" >"$work/strace-$name.txt"; return; }
  strace -c -f -p "$pid" -o "$work/strace-$name.txt" 2>/dev/null &
  spid=$!
  sleep 0.5
  curl -sf -o /dev/null "$url"
  sleep 0.2
  kill -INT "$spid" 2>/dev/null || true
  wait "$spid" 2>/dev/null || true
}

# start_fileup NAME DIR [SERVE-FLAGS...]: start `fileup serve` on a port
# the kernel picks, with its data in DIR (output in $work/NAME.out and
# .log); sets fu_pid and fu_url.
start_fileup() {
  local name=$1 dir=$2
  shift 2
  spawn "$work/fileup" serve --addr 127.0.0.1:0 --storage "$dir" --token "$token" \
    --max-size 8GiB --shutdown-timeout 2s --log-format json "$@" >"$work/$name.out" 2>"$work/$name.log"
  fu_pid=$spawned_pid
  fu_url=$(wait_url "$fu_pid" "$work/$name.out" 'serving .* on \(http://[0-9.:]*\),.*' "$work/$name.log")
  wait_http "$fu_url/healthz" "$work/$name.log"
}

# start_sink DIR: start bench/sink in -keep mode on a port the kernel
# picks; sets sink_pid and sink_url.
start_sink() {
  mkdir -p "$1"
  spawn "$work/sink" -addr 127.0.0.1:0 -dir "$1" -keep 2>"$work/sink.log"
  sink_pid=$spawned_pid
  sink_url=$(wait_url "$sink_pid" "$work/sink.log" 'listening on \(http://[0-9.:]*\)' "$work/sink.log")
  wait_http "$sink_url/healthz" "$work/sink.log"
}

# wait_url PID FILE SED-PATTERN LOG: wait up to 10 s for FILE to hold a
# line matching SED-PATTERN, whose first group (the server's URL) it
# prints; dies, showing LOG, if PID exits first.
wait_url() {
  local url
  for _ in $(seq 1 100); do
    url=$(sed -n "s|.*$3.*|\1|p" "$2" 2>/dev/null | head -n 1)
    [ -n "$url" ] && { echo "$url"; return 0; }
    kill -0 "$1" 2>/dev/null || break
    sleep 0.1
  done
  cat "$4" >&2
  die "a server did not start (pid $1)"
}

# upload_form URL NAME: a kie multipart upload of $big with curl -F, the
# answer saved in $work/answer.json.
upload_form() {
  curl -sSf --max-time "$max_time" -o "$work/answer.json" -H "Authorization: Bearer $token" \
    -F uploadPath=bench -F "fileName=$2" -F "file=@$big" "$1/api/file-stream-upload" ||
    die "upload to $1 failed: $(cat "$work/answer.json" 2>/dev/null)"
}

# timed_cpu PIDS -- CMD...: run CMD; set t_wall to its wall seconds and
# t_cpu to the CPU seconds that the processes PIDS (space-separated,
# quoted as one word) spent meanwhile.
timed_cpu() {
  local pids=$1 c0 c1 t0 t1
  shift 2
  # shellcheck disable=SC2086 # PIDS is a list
  c0=$(cpu_of $pids)
  t0=$(now)
  "$@"
  t1=$(now)
  # shellcheck disable=SC2086
  c1=$(cpu_of $pids)
  t_wall=$(calc "$t1 - $t0")
  t_cpu=$(calc "$c1 - $c0")
}

# alternate ROUND A B: run the commands A ROUND and B ROUND, A first in
# odd rounds and B first in even ones, so that neither always goes first.
# A and B set a_wall and b_wall for the round's wall ratio.
alternate() {
  if [ $(($1 % 2)) = 1 ]; then "$2" "$1"; "$3" "$1"; else "$3" "$1"; "$2" "$1"; fi
}

# pair_rounds NAME A B: $rounds rounds of A and B, alternated; each
# round's wall ratio A / B is kept as a sample of NAME_wall_ratio.
pair_rounds() {
  local i
  for i in $(seq 1 "$rounds"); do
    alternate "$i" "$2" "$3"
    sample "$1_wall_ratio" "$(ratio "$a_wall" "$b_wall")"
  done
}

# keep_round SIDE PREFIX SECTION WHO ROUND: keeps the last timed_cpu as
# one round of side a or b of a pair: samples PREFIX_wall and PREFIX_cpu,
# and a_wall or b_wall for the round's wall ratio.
keep_round() {
  sample "$2_wall" "$t_wall"
  sample "$2_cpu" "$t_cpu"
  if [ "$1" = a ]; then a_wall=$t_wall; else b_wall=$t_wall; fi
  note "$3 round $5: $4 $t_wall s wall, $t_cpu s server CPU"
}

# ratio A B: A / B (3 decimals), or 999 when B is 0 (a run too short for
# the clock's 10 ms ticks).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.3f", a / b; else print 999}'; }
