#!/usr/bin/env bash
# Install (once, into a cache directory) a pinned Stoplight Prism, the
# independent mock server the wrapper's spec tests upload to, then run the
# given command with its path in FILEUP_TEST_PRISM:
#
#   scripts/prism.sh go test ./wrapper
#   scripts/prism.sh scripts/minio.sh go test ./...   # composes with other wrappers
#
# Without arguments it prints the path. Prism needs Node.js and npm; when
# they are missing or the install fails, the command still runs, without
# FILEUP_TEST_PRISM (the Prism tests then skip, or fail when
# FILEUP_TEST_PRISM_REQUIRED=1, as in CI).
set -euo pipefail

PRISM_VERSION=${PRISM_VERSION:-5.16.0}
cache=${FILEUP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fileup}
dir="$cache/prism-$PRISM_VERSION"
bin="$dir/node_modules/.bin/prism"

if [ ! -x "$bin" ]; then
  if command -v npm >/dev/null 2>&1; then
    echo "prism.sh: installing @stoplight/prism-cli@$PRISM_VERSION into $dir (first run only)" >&2
    mkdir -p "$dir"
    if ! npm install --prefix "$dir" --no-audit --no-fund --loglevel=error \
      "@stoplight/prism-cli@$PRISM_VERSION" >&2; then
      echo "prism.sh: npm install failed; Prism tests will not run" >&2
    fi
  else
    echo "prism.sh: npm not found; Prism tests will not run" >&2
  fi
fi

if [ -x "$bin" ]; then
  export FILEUP_TEST_PRISM="$bin"
fi
if [ $# -eq 0 ]; then
  [ -x "$bin" ] || exit 1
  echo "$bin"
  exit 0
fi
exec "$@"
