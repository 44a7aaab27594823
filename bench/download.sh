# shellcheck shell=bash disable=SC2034,SC2154 # globals shared with bench/run.sh
# Section (b) of bench/run.sh: a GET of $big from `fileup serve` (disk,
# SQLite) against Debian's nginx serving the very same file (a hard link
# to fileup's object file, so both read the same page cache) with
# sendfile on, from its own configuration on its own loopback port.
# Skipped, with a message, where nginx is not installed. Sourced by
# bench/run.sh.

# nginx_bin prints the nginx binary ($NGINX if set), or nothing.
nginx_bin() {
  if [ -n "${NGINX:-}" ]; then
    if [ -x "$NGINX" ]; then echo "$NGINX"; fi
    return 0
  fi
  command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true
}

# start_nginx ROOT: start nginx serving ROOT, on a free port (another
# one if that was taken meanwhile); sets nginx_master, nginx_pids (master
# and worker) and nginx_url.
start_nginx() {
  local port
  for _ in 1 2 3 4 5; do
    port=$(free_port)
    nginx_conf "$1" "$port" >"$work/nginx.conf"
    mkdir -p "$work/nginx"
    spawn "$(nginx_bin)" -c "$work/nginx.conf" -e "$work/nginx/error.log"
    nginx_master=$spawned_pid
    nginx_url="http://127.0.0.1:$port"
    for _ in $(seq 1 50); do
      curl -fs -o /dev/null "$nginx_url/big.bin" 2>/dev/null && break
      kill -0 "$nginx_master" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$nginx_master" 2>/dev/null; then
      wait_http "$nginx_url/big.bin" "$work/nginx/error.log"
      nginx_pids="$nginx_master $(pgrep -P "$nginx_master" | tr '\n' ' ')"
      return 0
    fi
  done
  cat "$work/nginx/error.log" >&2
  die "nginx did not start"
}

# nginx_conf ROOT PORT: an nginx configuration serving ROOT on
# 127.0.0.1:PORT with sendfile, everything it writes under $work/nginx.
nginx_conf() {
  cat <<CONF
daemon off;
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
$([ "$(id -u)" = 0 ] && echo "user root;")
events { worker_connections 64; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$2;
    root $1;
  }
}
CONF
}

# get_n URL: $dl_gets GETs of URL, on one connection.
get_n() {
  local args=() i
  for i in $(seq 1 "$dl_gets"); do args+=(-o /dev/null "$1"); done
  curl -sSf --max-time "$max_time" "${args[@]}"
}

# get_fileup ROUND / get_nginx ROUND: one round of GETs each.
get_fileup() {
  timed_cpu "$fu_pid" -- get_n "$dl_url"
  keep_round a dl_fu download fileup "$1"
}

get_nginx() {
  timed_cpu "$nginx_pids" -- get_n "$nginx_url/big.bin"
  keep_round b dl_ng download "nginx " "$1"
}

section_download() {
  if [ -z "$(nginx_bin)" ]; then
    note "section (b) skipped: nginx is not installed (apt-get install nginx)"
    echo "## (b) Download"
    echo
    echo "Skipped: nginx is not installed (\`apt-get install nginx\`)."
    echo
    return
  fi
  # Each round moves at least 2 GiB, so that a server's CPU time spans
  # enough of /proc/PID/stat's 10 ms ticks.
  dl_gets=$(((2048 + size_mib - 1) / size_mib))
  dl_bytes=$((size_b * dl_gets))
  note "section (b): ${size_mib} MiB download ($dl_gets per round), fileup vs nginx (sendfile), $rounds rounds"
  start_fileup download "$work/download"
  upload_form "$fu_url" download.bin
  dl_url=$(grep -o '"downloadUrl":"[^"]*"' "$work/answer.json" | cut -d'"' -f4)
  [ -n "$dl_url" ] || die "no downloadUrl in $(cat "$work/answer.json")"
  mkdir -p "$work/www"
  ln "$(find "$work/download/objects" -type f | head -n 1)" "$work/www/big.bin"
  chmod 755 "$work" "$work/www"
  start_nginx "$work/www"
  curl -sSf -o /dev/null "$dl_url" # both start from a warm page cache
  reset_hwm "$fu_pid" || true
  pair_rounds dl get_fileup get_nginx
  local hwm
  hwm=$(hwm_mib "$fu_pid")
  if [ "$traces" = 1 ]; then
    note "strace -c of one GET from each server"
    strace_get fileup "$fu_pid" "$dl_url"
    # shellcheck disable=SC2086
    strace_get nginx "$(pgrep -P "$nginx_master" | head -n 1)" "$nginx_url/big.bin"
  fi
  if [ "$profiles" = 1 ]; then
    note "profiling one fileup GET (perf)"
    profile download "$fu_pid" curl -sSf -o /dev/null "$dl_url"
    note "profiling one nginx GET (perf)"
    profile nginx "$(pgrep -P "$nginx_master" | head -n 1)" curl -sSf -o /dev/null "$nginx_url/big.bin"
  fi
  stop "$nginx_master"
  stop "$fu_pid"
  result dl_wall "$(med dl_wall_ratio)"
  result dl_cpu "$(ratio "$(total dl_fu_cpu)" "$(total dl_ng_cpu)")"
  report_download "$hwm"
}

report_download() {
  local fw nw fc nc
  fw=$(med dl_fu_wall) nw=$(med dl_ng_wall) fc=$(med dl_fu_cpu) nc=$(med dl_ng_cpu)
  echo "## (b) Download: ${size_mib} MiB GET, fileup vs nginx (sendfile on)"
  echo
  echo "Medians of $rounds alternating rounds of $dl_gets GET(s) each, the same file (one inode) warm in the page cache, \`curl -o /dev/null\`."
  echo
  echo "| | wall per round (s) | MiB/s | server CPU per round (s) | server CPU s/GiB | server peak RSS |"
  echo "|---|---|---|---|---|---|"
  echo "| \`fileup serve\` | $(r2 "$fw") | $(mibs "$fw" "$dl_bytes") | $(r2 "$fc") | $(r2 "$(per_gib "$fc" "$dl_bytes")") | $1 MiB |"
  echo "| nginx $("$(nginx_bin)" -v 2>&1 | sed 's/.*nginx\///') | $(r2 "$nw") | $(mibs "$nw" "$dl_bytes") | $(r2 "$nc") | $(r2 "$(per_gib "$nc" "$dl_bytes")") | |"
  echo "| **fileup / nginx** (wall: median of the rounds' ratios; CPU: total over the rounds) | **$(r2 "$(result_of dl_wall)")×** | | **$(r2 "$(result_of dl_cpu)")×** | | |"
  echo
  echo "Rounds, fileup wall: $(list dl_fu_wall); nginx wall: $(list dl_ng_wall); fileup CPU: $(list dl_fu_cpu); nginx CPU: $(list dl_ng_cpu)."
  echo
}
