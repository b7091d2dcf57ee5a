#!/usr/bin/env bash
# Every test: the unit and integration tests (node's test runner through tsx), then every
# notebook executed headless. Ends with one summary line 'tests: N passed, N failed'.
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
npm run --silent test:unit 2>&1 | tee "$log"
unit_rc=${PIPESTATUS[0]}
pass=$(grep -E '^# pass [0-9]+' "$log" | awk '{s+=$3} END {print s+0}')
fail=$(grep -E '^# fail [0-9]+' "$log" | awk '{s+=$3} END {print s+0}')
nb_pass=0; nb_fail=0
if [ -f scripts/run-notebooks.sh ]; then
  bash scripts/run-notebooks.sh 2>&1 | tee "$log"
  nb_rc=${PIPESTATUS[0]}
  nb_pass=$(grep -cE '^run-notebooks: ok ' "$log" || true)
  nb_fail=$(grep -cE '^run-notebooks: FAILED' "$log" || true)
  if [ "$nb_rc" != 0 ] && [ "$nb_fail" = 0 ]; then nb_fail=1; fi
fi
rm -f "$log"
total_pass=$((pass + nb_pass)); total_fail=$((fail + nb_fail))
if [ "$unit_rc" != 0 ] && [ "$total_fail" = 0 ]; then total_fail=1; fi
echo "tests: ${total_pass} passed, ${total_fail} failed"
[ "$total_fail" = 0 ]
