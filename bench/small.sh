# shellcheck shell=bash disable=SC2034,SC2154 # globals shared with bench/run.sh
# Section (e) of bench/run.sh: many uploads at once, with `fileup bench`
# (each upload downloaded and SHA-256 checked by the same client, on the
# same cores): 4 KiB uploads at 64 concurrent for $small_seconds s, on the
# disk store with the SQLite catalog and with a PostgreSQL catalog (under
# scripts/postgres.sh; skipped without it), and 64 concurrent 16 MiB
# uploads for the server's peak RSS. Sourced by bench/run.sh.

# load_run NAME FILEUP-BENCH-FLAGS... -- SERVE-FLAGS...: start a fresh
# server, run `fileup bench` against it; sets load_out (its output file)
# and load_hwm (the server's peak RSS in MiB).
load_run() {
  local name=$1 bench_args=() serve_args=()
  shift
  while [ $# -gt 0 ] && [ "$1" != -- ]; do bench_args+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  serve_args=("$@")
  start_fileup "$name" "$work/$name" "${serve_args[@]}"
  load_out=$work/$name.bench
  timeout $((max_time + 60)) "$work/fileup" bench --base-url "$fu_url" --token "$token" "${bench_args[@]}" >"$load_out" ||
    note "fileup bench ($name) reported failures: $(tr '\n' ' ' <"$load_out")"
  load_hwm=$(hwm_mib "$fu_pid")
  stop "$fu_pid"
  rm -rf "${work:?}/$name"
  note "$name: $(grep -E '^(throughput|latency)' "$load_out" | tr '\n' ' ')"
}

# load_field FILE WORD: the value after WORD on fileup bench's lines
# ("uploads/s" for the rate, "p50"/"p95"/"p99" for the latencies).
load_field() {
  case $2 in
  uploads/s) awk '/^throughput:/ {print $2}' "$1" ;;
  MiB/s) awk '/^throughput:/ {print $4}' "$1" ;;
  ok) awk '/^uploads:/ {print $2}' "$1" ;;
  errors) awk '/^uploads:/ {print $4}' "$1" ;;
  *) grep '^latency:' "$1" | grep -o "$2 [^,]*" | cut -d' ' -f2 ;;
  esac
}

# pg_dsn prints the DSN of a new, empty database on the private
# PostgreSQL of scripts/postgres.sh, or nothing without one.
pg_dsn() {
  [ -n "${FILEUP_TEST_PG_DSN:-}" ] || return 0
  local db
  db=fileup_bench_$$
  if command -v psql >/dev/null && psql -q "$FILEUP_TEST_PG_DSN" -c "CREATE DATABASE $db" >/dev/null 2>&1; then
    echo "${FILEUP_TEST_PG_DSN/\/postgres\?//$db?}"
  else
    echo "$FILEUP_TEST_PG_DSN"
  fi
}

# profile_small: perf profile of the server (disk, SQLite) during 5 s of
# the 4 KiB load, apart from the measured run; also the server's CPU per
# upload, in $work/small-cpu.txt.
profile_small() {
  note "profiling 5 s of 4 KiB uploads (perf)"
  start_fileup small-profile "$work/small-profile"
  local c0 c1
  c0=$(cpu_of "$fu_pid")
  profile small "$fu_pid" "$work/fileup" bench --base-url "$fu_url" --token "$token" --size 4KiB --concurrency 64 --duration 5s >"$work/small-profile.bench" || true
  c1=$(cpu_of "$fu_pid")
  echo "$(load_field "$work/small-profile.bench" ok) uploads, server CPU $(calc "$c1 - $c0") s: $(calc "($c1 - $c0) * 1000 / $(load_field "$work/small-profile.bench" ok)") ms per upload (with its download)" >"$work/small-cpu.txt"
  stop "$fu_pid"
  rm -rf "$work/small-profile"
}

small_row() { # LABEL FILE HWM
  echo "| $1 | $(load_field "$2" ok) | $(load_field "$2" errors) | **$(load_field "$2" uploads/s)** | $(load_field "$2" p50) / $(load_field "$2" p95) / $(load_field "$2" p99) | $3 MiB |"
}

section_small() {
  note "section (e): 4 KiB uploads at 64 concurrent, ${small_seconds} s per catalog"
  local rows=() dsn
  load_run small-sqlite --size 4KiB --concurrency 64 --duration "${small_seconds}s" --
  result small_rate "$(load_field "$load_out" uploads/s)"
  rows+=("$(small_row "disk + SQLite" "$load_out" "$load_hwm")")
  dsn=""
  [ "$pg_load" = 1 ] && dsn=$(pg_dsn)
  if [ -n "$dsn" ]; then
    load_run small-pg --size 4KiB --concurrency 64 --duration "${small_seconds}s" -- --db "$dsn"
    rows+=("$(small_row "disk + PostgreSQL" "$load_out" "$load_hwm")")
  else
    rows+=("| disk + PostgreSQL | skipped: $([ "$pg_load" = 1 ] && echo "no PostgreSQL (run under scripts/postgres.sh, as make bench does)" || echo "not in a quick run") | | | | |")
  fi
  echo "## (e) Small files: 4 KiB uploads at 64 concurrent, ${small_seconds} s"
  echo
  echo "\`fileup bench --size 4KiB --concurrency 64 --duration ${small_seconds}s\`: each upload is also downloaded and checked by the same client, on the same two cores."
  echo
  echo "| catalog | uploads | errors | uploads/s | p50 / p95 / p99 | server peak RSS |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  [ "$profiles" = 1 ] && profile_small
  [ "$big_concurrent" = 1 ] || return 0
  note "section (e): 64 concurrent 16 MiB uploads"
  load_run concurrent --size 16MiB --concurrency 64 --count 128 --
  echo "## (e) 64 concurrent 16 MiB uploads (128 uploads, disk + SQLite)"
  echo
  echo "| uploads | errors | MiB/s | p50 / p95 / p99 | server peak RSS |"
  echo "|---|---|---|---|---|"
  echo "| $(load_field "$load_out" ok) | $(load_field "$load_out" errors) | $(load_field "$load_out" MiB/s) | $(load_field "$load_out" p50) / $(load_field "$load_out" p95) / $(load_field "$load_out" p99) | **$load_hwm MiB** |"
  echo
}
