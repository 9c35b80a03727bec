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
  # Two models of real shapes with random weights (written in seconds, no download): a small
  # language model and one four times its size, compared on a quiz the project ships, with
  # latency and memory. Random weights score near chance: this shows the pipeline and the
  # speed/RAM of the shapes, not model quality.
  mkdir -p "$out/models"
  step "synthesized models -> $out/models/"
  [ -f "$out/models/smollm2-135m-q8_0.gguf" ] || "$bin" synth --shape smollm2-135m --type q8_0 -o "$out/models/smollm2-135m-q8_0.gguf"
  [ -f "$out/models/qwen2.5-0.5b-q4_K.gguf" ] || "$bin" synth --shape qwen2.5-0.5b --type q4_K -o "$out/models/qwen2.5-0.5b-q4_K.gguf"
  step "accuracy (evals/demo quiz), latency and memory -> $out/eval.json (about two minutes)"
  "$bin" eval -m "$out/models/smollm2-135m-q8_0.gguf" -m "$out/models/qwen2.5-0.5b-q4_K.gguf" \
    --tasks evals/demo/quiz.task.json --ctx 1024 -o "$out/eval.json"
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
