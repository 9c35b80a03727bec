#!/bin/sh
# Run every test binary in BUILD/tests, from the repository root, and print the closing line
# "N passed, N failed, N skipped". Exit non-zero when any test failed or a binary crashed.
# The aarch64 kernel tests (build-aarch64/tests, `make cross`) run under qemu-user when both are
# there; otherwise they count as one skip, with the reason.
# SB_TEST_FILTER=substring runs only the binaries whose name contains it.
build=${1:-build}
cd "$(dirname "$0")/.." || exit 2
passed=0; failed=0; skipped=0; crashed=""
log=$(mktemp)

# run_one NAME COMMAND...: run one test binary and add its "# RESULT" counts to the totals
run_one() {
  name=$1; shift
  case "$name" in *"${SB_TEST_FILTER:-}"*) ;; *) return;; esac
  echo "== $name"
  "$@" >"$log" 2>&1
  rc=$?
  grep -v '^# RESULT' "$log"
  res=$(grep '^# RESULT' "$log" | tail -n 1)
  if [ -z "$res" ]; then
    echo "  $name exited with status $rc before reporting (crash?)"
    failed=$((failed + 1)); crashed="$crashed $name"
    return
  fi
  set -- $res
  passed=$((passed + $3)); failed=$((failed + $4)); skipped=$((skipped + $5))
  if [ "$rc" -ne 0 ] && [ "$4" -eq 0 ]; then
    echo "  $name exited with status $rc"; failed=$((failed + 1)); crashed="$crashed $name"
  fi
}

for t in "$build"/tests/test_*; do
  [ -x "$t" ] && run_one "$(basename "$t")" "$t"
done

# aarch64 (NEON) kernels, cross-compiled: each binary under qemu-user with the cross sysroot
qemu=$(command -v qemu-aarch64 || command -v qemu-aarch64-static)
if [ -n "$qemu" ] && ls build-aarch64/tests/test_* >/dev/null 2>&1; then
  for t in build-aarch64/tests/test_*; do
    run_one "aarch64/$(basename "$t")" "$qemu" -L /usr/aarch64-linux-gnu "$t"
  done
elif [ -z "${SB_TEST_FILTER:-}" ]; then
  echo "SKIP aarch64 kernel tests: need aarch64-linux-gnu-gcc and qemu-aarch64" \
       "(Debian: gcc-aarch64-linux-gnu qemu-user; scripts/setup.sh installs them when it can)"
  skipped=$((skipped + 1))
fi
rm -f "$log"
[ -n "$crashed" ] && echo "binaries that did not finish cleanly:$crashed"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
