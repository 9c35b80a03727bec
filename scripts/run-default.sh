#!/bin/sh
# `make run`: the main job on what the project ships or makes itself (no downloads, no ../shared).
# Every step writes into out/ (override with SB_OUT=DIR). Steps whose command is not in this
# build are skipped with a note, so the job grows as the suite does.
set -eu
bin=${1:-build/slmbench}
out=${SB_OUT:-out}
mkdir -p "$out"
has() { "$bin" --help | grep -q "^  $1 "; }
step() { printf '\n== %s\n' "$*"; }

step "hardware probe -> $out/hw.json"
"$bin" hw --json "$out/hw.json"

if has bench; then
  step "kernel benchmarks (quick suite) -> $out/bench.json"
  "$bin" bench --suite quick --json "$out/bench.json"
fi

if has synth && has eval; then
  step "synthesized small model -> $out/smollm2-135m-q8_0.gguf"
  [ -f "$out/smollm2-135m-q8_0.gguf" ] || "$bin" synth --shape smollm2-135m --type q8_0 -o "$out/smollm2-135m-q8_0.gguf"
  step "latency and memory of the synthesized model -> $out/eval.json"
  "$bin" eval -m "$out/smollm2-135m-q8_0.gguf" --tasks none -o "$out/eval.json"
fi

if has report; then
  inputs="$out/hw.json"
  [ -f "$out/bench.json" ] && inputs="$inputs $out/bench.json"
  [ -f "$out/eval.json" ] && inputs="$inputs $out/eval.json"
  step "report -> $out/report/"
  # shellcheck disable=SC2086
  "$bin" report $inputs -o "$out/report"
fi
printf '\nDone. Results are in %s/\n' "$out"
