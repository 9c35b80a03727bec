#!/bin/sh
# Check every build and test dependency; install the missing Debian packages when apt-get exists.
# Quiet when everything is present. Exit 1 with the exact list when something cannot be installed.
# --tests: also try, on x86-64, the optional pieces of `make test` (the aarch64 cross compiler and
# qemu-user for the NEON kernel tests), never asking for a password; when they cannot be
# installed, those tests are skipped, and .setup-no-cross (delete it to try again) keeps later
# runs from retrying.
set -u
tests=0
[ "${1:-}" = "--tests" ] && tests=1

# pkg-config module : Debian package
PC_DEPS="hwloc:libhwloc-dev papi:libpapi-dev libcjson:libcjson-dev vulkan:libvulkan-dev libpcre2-8:libpcre2-dev openblas:libopenblas-dev"
# command : Debian package
CMD_DEPS="pkg-config:pkg-config glslc:glslc gnuplot:gnuplot-nox cc:gcc make:make git:git"
# file that must exist : Debian package (runtime pieces without a pkg-config file or command)
FILE_DEPS="/usr/share/vulkan/icd.d/lvp_icd.x86_64.json:mesa-vulkan-drivers /usr/share/vulkan/explicit_layer.d/VkLayer_khronos_validation.json:vulkan-validationlayers"

missing=""
have_cmd() { command -v "$1" >/dev/null 2>&1; }

for pair in $CMD_DEPS; do
  c=${pair%%:*}; p=${pair#*:}
  have_cmd "$c" || missing="$missing $p"
done
for pair in $PC_DEPS; do
  m=${pair%%:*}; p=${pair#*:}
  if ! have_cmd pkg-config || ! pkg-config --exists "$m" 2>/dev/null; then missing="$missing $p"; fi
done
arch=$(uname -m)
for pair in $FILE_DEPS; do
  f=${pair%%:*}; p=${pair#*:}
  case "$f" in *x86_64*) [ "$arch" = x86_64 ] || f=$(echo "$f" | sed "s/x86_64/$arch/");; esac
  [ -e "$f" ] || missing="$missing $p"
done

missing=$(echo "$missing" | tr ' ' '\n' | sort -u | tr '\n' ' ' | sed 's/^ *//; s/ *$//')

# command : Debian package, optional (only with --tests, only on x86-64)
OPT_CMD_DEPS="aarch64-linux-gnu-gcc:gcc-aarch64-linux-gnu qemu-aarch64:qemu-user"
optional=""
if [ "$tests" = 1 ] && [ "$arch" = x86_64 ] && [ ! -e .setup-no-cross ]; then
  for pair in $OPT_CMD_DEPS; do
    c=${pair%%:*}; p=${pair#*:}
    have_cmd "$c" || optional="$optional $p"
  done
  optional=$(echo "$optional" | sed 's/^ *//')
fi
[ -z "$missing" ] && [ -z "$optional" ] && exit 0

if ! have_cmd apt-get; then
  [ -z "$missing" ] && exit 0
  echo "setup: this is not a Debian/Ubuntu system; install the equivalents of these Debian packages: $missing" >&2
  exit 1
fi
if [ "$(id -u)" = 0 ]; then SUDO=""; elif have_cmd sudo; then SUDO="sudo"; else
  [ -z "$missing" ] && exit 0
  echo "setup: missing packages: $missing" >&2
  echo "setup: not root and no sudo; install them with: apt-get install $missing" >&2; exit 1
fi
# only the optional pieces missing: no password prompt for them
[ -z "$missing" ] && [ "$SUDO" = sudo ] && SUDO="sudo -n"
export DEBIAN_FRONTEND=noninteractive
echo "setup: installing with ${SUDO:+sudo }apt-get:" $missing $optional >&2
$SUDO apt-get update -qq >&2 || echo "setup: apt-get update failed; trying the install anyway" >&2
if [ -n "$missing" ]; then
  # shellcheck disable=SC2086
  if ! $SUDO apt-get install -y -qq --no-install-recommends $missing >&2; then
    echo "setup: apt-get install failed; install these packages by hand: $missing" >&2
    exit 1
  fi
  echo "setup: installed: $missing" >&2
fi
if [ -n "$optional" ]; then
  # shellcheck disable=SC2086
  if $SUDO apt-get install -y -qq --no-install-recommends $optional >&2; then
    echo "setup: installed (optional, aarch64 kernel tests): $optional" >&2
  else
    echo "setup: could not install $optional; the aarch64 kernel tests will be skipped" \
         "(rm .setup-no-cross to try again)" >&2
    : >.setup-no-cross
  fi
fi
exit 0
