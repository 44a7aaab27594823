#!/usr/bin/env bash
# Run every fuzz target of the module (found from the test sources) for
# FUZZTIME executions or time (default 20000x), from its committed seed
# corpus under testdata/fuzz. New targets are picked up without a list to
# keep up to date.
#
#   scripts/fuzz.sh            # all targets
#   FUZZTIME=30s scripts/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-20000x}
FUZZMINIMIZE=${FUZZMINIMIZE:-2000x}
git ls-files '*_test.go' | xargs grep -H '^func Fuzz[A-Za-z0-9_]*(f \*testing.F)' |
  sed -E 's|^(.*)/[^/]*:func (Fuzz[A-Za-z0-9_]*)\(.*|\1 \2|' | sort -u |
  while read -r dir target; do
    echo "== $target ./$dir"
    "$GO" test -run '^$' -fuzz "^$target\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZMINIMIZE" "./$dir"
  done
