#!/bin/sh
# Run every test binary in BUILD/tests, from the repository root, and print the closing line
# "N passed, N failed, N skipped". Exit non-zero when any test failed or a binary crashed.
# SB_TEST_FILTER=substring runs only the binaries whose name contains it.
build=${1:-build}
cd "$(dirname "$0")/.." || exit 2
passed=0; failed=0; skipped=0; crashed=""
log=$(mktemp)
for t in "$build"/tests/test_*; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  case "$name" in *"${SB_TEST_FILTER:-}"*) ;; *) continue;; esac
  echo "== $name"
  "$t" >"$log" 2>&1
  rc=$?
  grep -v '^# RESULT' "$log"
  res=$(grep '^# RESULT' "$log" | tail -n 1)
  if [ -z "$res" ]; then
    echo "  $name exited with status $rc before reporting (crash?)"
    failed=$((failed + 1)); crashed="$crashed $name"
    continue
  fi
  set -- $res
  passed=$((passed + $3)); failed=$((failed + $4)); skipped=$((skipped + $5))
  if [ "$rc" -ne 0 ] && [ "$4" -eq 0 ]; then
    echo "  $name exited with status $rc"; failed=$((failed + 1)); crashed="$crashed $name"
  fi
done
rm -f "$log"
[ -n "$crashed" ] && echo "binaries that did not finish cleanly:$crashed"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
