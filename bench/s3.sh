# shellcheck shell=bash disable=SC2034,SC2154 # globals shared with bench/run.sh
# Section (c) of bench/run.sh: a multipart upload (`curl -F`) of $big to
# `fileup serve` storing into MinIO (SQLite catalog) against bench/s3put's
# direct minio-go PutObject of the same file to the same MinIO. Symmetric:
# s3put deletes its object after each run, outside its timing, and the
# script deletes fileup's objects (`s3put -mode clear`) right after each
# upload. Needs FILEUP_TEST_S3_ENDPOINT and its keys (run under
# scripts/minio.sh, as `make bench` does); skipped with a message
# otherwise. Sourced by bench/run.sh.

s3_bucket=fileup-bench

# s3_fileup ROUND: one upload through fileup, then delete its object.
s3_fileup() {
  local w c m0 m1
  m0=$(cpu_of "$minio_pid")
  timed_cpu "$fu_pid" -- upload_form "$fu_url" "s3-$1.bin"
  w=$t_wall c=$t_cpu
  m1=$(cpu_of "$minio_pid")
  "$work/s3put" -mode clear -bucket "$s3_bucket" -prefix fu/ >/dev/null
  sample s3_fu_wall "$w"
  sample s3_fu_cpu "$c"
  sample s3_fu_minio "$(calc "$m1 - $m0")"
  a_wall=$w
  note "s3 round $1: fileup $w s wall, $c s fileup CPU, $(calc "$m1 - $m0") s MinIO CPU"
}

# s3_direct ROUND: one minio-go PutObject (s3put deletes the object).
s3_direct() {
  local out w c m
  out=$(timeout "$max_time" "$work/s3put" -mode direct -json -file "$big" -bucket "$s3_bucket" -server-pid "$minio_pid") ||
    die "s3put direct failed"
  w=$(calc "$(json_num "$out" wall_s)") c=$(calc "$(json_num "$out" cpu_s)") m=$(calc "$(json_num "$out" server_cpu_s)")
  sample s3_di_wall "$w"
  sample s3_di_cpu "$c"
  sample s3_di_minio "$m"
  sample s3_di_rss "$(json_num "$out" peak_rss_mib)"
  b_wall=$w
  note "s3 round $1: direct $w s wall, $c s client CPU, $m s MinIO CPU"
}

# json_num JSON KEY: a number field of a one-line JSON object.
json_num() { printf '%s' "$1" | grep -o "\"$2\":[-0-9.e+]*" | cut -d: -f2; }

section_s3() {
  if [ -z "${FILEUP_TEST_S3_ENDPOINT:-}" ]; then
    note "section (c) skipped: no MinIO (FILEUP_TEST_S3_ENDPOINT unset; run under scripts/minio.sh, as make bench does)"
    echo "## (c) S3 ingest"
    echo
    echo "Skipped: no MinIO (\`FILEUP_TEST_S3_ENDPOINT\` unset; run under \`scripts/minio.sh\`, as \`make bench\` does)."
    echo
    return
  fi
  minio_pid=$(pid_with_args --address "$FILEUP_TEST_S3_ENDPOINT")
  [ -n "$minio_pid" ] || die "no MinIO process with --address $FILEUP_TEST_S3_ENDPOINT"
  note "section (c): ${size_mib} MiB ingest into MinIO, fileup vs direct PutObject, $rounds rounds"
  AWS_ACCESS_KEY_ID=$FILEUP_TEST_S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$FILEUP_TEST_S3_SECRET_KEY \
    start_fileup s3 "s3://$s3_bucket?endpoint=$FILEUP_TEST_S3_ENDPOINT&secure=false&prefix=fu/" --db "sqlite:$work/s3.db"
  reset_hwm "$fu_pid" || true
  pair_rounds s3 s3_fileup s3_direct
  local hwm
  hwm=$(hwm_mib "$fu_pid")
  if [ "$profiles" = 1 ]; then
    note "profiling one fileup upload into MinIO (perf)"
    profile s3 "$fu_pid" upload_form "$fu_url" s3-profile.bin
    "$work/s3put" -mode clear -bucket "$s3_bucket" -prefix fu/ >/dev/null
  fi
  stop "$fu_pid"
  result s3_wall "$(med s3_wall_ratio)"
  report_s3 "$hwm"
}

report_s3() {
  local fw dw fc dc fm dm
  fw=$(med s3_fu_wall) dw=$(med s3_di_wall) fc=$(med s3_fu_cpu) dc=$(med s3_di_cpu) fm=$(med s3_fu_minio) dm=$(med s3_di_minio)
  echo "## (c) S3 ingest: ${size_mib} MiB into MinIO, fileup vs direct minio-go PutObject"
  echo
  echo "Medians of $rounds alternating rounds; both sides delete their object after each upload, outside the timing."
  echo "Uploader CPU is \`fileup serve\`'s for fileup, bench/s3put's own (the minio-go client) for the direct PUT."
  echo
  echo "| | wall (s) | MiB/s | uploader CPU s/GiB | MinIO CPU s/GiB | uploader peak RSS |"
  echo "|---|---|---|---|---|---|"
  echo "| \`curl -F\` to \`fileup serve\` → MinIO | $(r2 "$fw") | $(mibs "$fw" "$size_b") | $(r2 "$(per_gib "$fc" "$size_b")") | $(r2 "$(per_gib "$fm" "$size_b")") | $1 MiB |"
  echo "| bench/s3put direct \`PutObject\` | $(r2 "$dw") | $(mibs "$dw" "$size_b") | $(r2 "$(per_gib "$dc" "$size_b")") | $(r2 "$(per_gib "$dm" "$size_b")") | $(awk -v x="$(med s3_di_rss)" 'BEGIN {printf "%.1f", x}') MiB |"
  echo "| **fileup / direct** (wall: median of the rounds' ratios; CPU: of the medians) | **$(r2 "$(result_of s3_wall)")×** | | $(r2 "$(ratio "$fc" "$dc")")× | $(r2 "$(ratio "$fm" "$dm")")× | |"
  echo
  echo "Rounds, fileup wall: $(list s3_fu_wall); direct wall: $(list s3_di_wall)."
  echo
}
