# shellcheck shell=bash disable=SC2034,SC2154 # globals shared with bench/run.sh
# Section (a) of bench/run.sh: a multipart upload (`curl -F`) of $big to
# `fileup serve` (disk store, SQLite catalog) against a raw PUT
# (`curl -T`) of the same file to bench/sink, which only copies the body
# into a file and fsyncs it. Symmetric: the sink keeps its file (-keep)
# and fileup keeps its object; the script deletes both right after each
# request, outside the timing (the sink's file from its directory,
# fileup's object file from the data directory's objects/; the catalog
# row stays, which no later request reads). Sourced by bench/run.sh.

# ingest_fileup ROUND: one upload to fileup, then delete its object.
ingest_fileup() {
  timed_cpu "$fu_pid" -- upload_form "$fu_url" "ingest-$1.bin"
  find "$work/ingest/objects" -type f -delete
  keep_round a ingest_fu ingest fileup "$1"
}

# ingest_sink ROUND: one raw PUT to the sink, then delete its file.
ingest_sink() {
  timed_cpu "$sink_pid" -- curl -sSf --max-time "$max_time" -o /dev/null -T "$big" "$sink_url/put-$1"
  find "$work/sink.d" -type f -delete
  keep_round b ingest_sk ingest "sink  " "$1"
}

section_ingest() {
  note "section (a): ${size_mib} MiB multipart ingest vs raw PUT to bench/sink, $rounds rounds"
  start_fileup ingest "$work/ingest"
  start_sink "$work/sink.d"
  reset_hwm "$fu_pid" || note "cannot reset VmHWM: the peak counts from the server's start"
  pair_rounds ingest ingest_fileup ingest_sink
  local hwm
  hwm=$(hwm_mib "$fu_pid")
  if [ "$profiles" = 1 ]; then
    note "profiling one fileup upload (perf)"
    profile ingest "$fu_pid" upload_form "$fu_url" ingest-profile.bin
    find "$work/ingest/objects" -type f -delete
    note "profiling one bench/sink PUT (perf)"
    profile sink "$sink_pid" curl -sSf --max-time "$max_time" -o /dev/null -T "$big" "$sink_url/put-profile"
    find "$work/sink.d" -type f -delete
  fi
  stop "$fu_pid"
  stop "$sink_pid"
  result ingest_wall "$(med ingest_wall_ratio)"
  result ingest_cpu "$(ratio "$(total ingest_fu_cpu)" "$(total ingest_sk_cpu)")"
  report_ingest "$hwm"
}

report_ingest() {
  local fw sw fc sc
  fw=$(med ingest_fu_wall) sw=$(med ingest_sk_wall) fc=$(med ingest_fu_cpu) sc=$(med ingest_sk_cpu)
  echo "## (a) Ingest: ${size_mib} MiB multipart upload vs raw PUT to bench/sink"
  echo
  echo "Medians of $rounds alternating rounds; both sides delete their file after each request, outside the timing."
  echo
  echo "| | wall (s) | MiB/s | server CPU (s) | server CPU s/GiB | server peak RSS |"
  echo "|---|---|---|---|---|---|"
  echo "| \`curl -F\` to \`fileup serve\` (disk, SQLite) | $(r2 "$fw") | $(mibs "$fw" "$size_b") | $(r2 "$fc") | $(r2 "$(per_gib "$fc" "$size_b")") | $1 MiB |"
  echo "| \`curl -T\` to bench/sink | $(r2 "$sw") | $(mibs "$sw" "$size_b") | $(r2 "$sc") | $(r2 "$(per_gib "$sc" "$size_b")") | |"
  echo "| **fileup / sink** (wall: median of the rounds' ratios; CPU: total over the rounds) | **$(r2 "$(result_of ingest_wall)")×** | | **$(r2 "$(result_of ingest_cpu)")×** | | |"
  echo
  echo "Rounds, fileup wall: $(list ingest_fu_wall); sink wall: $(list ingest_sk_wall); fileup CPU: $(list ingest_fu_cpu); sink CPU: $(list ingest_sk_cpu)."
  echo
}
