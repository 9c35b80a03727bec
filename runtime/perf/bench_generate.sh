#!/bin/sh
# Prefill and decode speed of synthesized models, as llama-bench's pp512 / tg128 measure them:
#   pp: one batch of 512 prompt tokens (time of the batch, first-token sampling excluded);
#   tg: 128 tokens decoded one at a time after BOS.
# Usage: runtime/perf/bench_generate.sh [OUTDIR] [THREADS] [SHAPE:TYPE ...]
# Each figure is the median of REPS runs (environment, default 3), as llama-bench -r does.
# Default: tinyllama-1.1b in q4_0, q8_0 and f16, llama-3.2-1b in q4_K, q8_0 and f16, and the
# stories15M / stories110M shapes in f32, 2 threads. Models are written to OUTDIR (default
# /tmp/slmbench-bench), results JSON beside them. Compare with the llama-bench figures of
# ../shared/ANCHORS.md (TinyLlama-1.1B and the stories shapes), measured on a quiet machine.
set -e
bin=${SB_BIN:-build/slmbench}
reps=${REPS:-3}
out=${1:-/tmp/slmbench-bench}
threads=${2:-2}
[ $# -ge 2 ] && shift 2 || set --
cases=${*:-"tinyllama-1.1b:q4_0 tinyllama-1.1b:q8_0 tinyllama-1.1b:f16 llama-3.2-1b:q4_K llama-3.2-1b:q8_0 llama-3.2-1b:f16 stories15m:f32 stories110m:f32"}
mkdir -p "$out"
# memory read ceiling of this machine, measured now (decode cannot beat bandwidth / weight bytes)
"$bin" hw --json "$out/hw.json" --threads "$threads" >/dev/null 2>&1 || true
read_gbs=$(sed -n 's/.*"read_gbs":[^0-9]*\([0-9.]*\).*/\1/p' "$out/hw.json" | head -n 1)
echo "threads $threads, memory read ceiling ${read_gbs:-?} GB/s (slmbench hw, measured now)"
printf '%-16s %-5s %8s %8s %8s %9s %8s %8s\n' shape type file_MB pp512 tg128 tg_GB/s rss_MB W+KV_MB
for c in $cases; do
  shape=${c%%:*}; type=${c#*:}
  f="$out/$shape-$type.gguf"
  [ -f "$f" ] || "$bin" synth --shape "$shape" --type "$type" -o "$f" 2>/dev/null
  : >"$out/pp.txt"; : >"$out/tg.txt"
  r=0
  while [ $r -lt "$reps" ]; do
    "$bin" generate -m "$f" --n-prompt 512 -n 1 --threads "$threads" --json "$out/$shape-$type.pp.json" >/dev/null 2>&1
    "$bin" generate -m "$f" --n-prompt 1 -n 129 --ignore-eos --threads "$threads" --json "$out/$shape-$type.tg.json" >/dev/null 2>&1
    sed -n 's/.*"prefill_tok_s":[^0-9]*\([0-9.]*\).*/\1/p' "$out/$shape-$type.pp.json" >>"$out/pp.txt"
    sed -n 's/.*"decode_tok_s":[^0-9]*\([0-9.]*\).*/\1/p' "$out/$shape-$type.tg.json" >>"$out/tg.txt"
    r=$((r + 1))
  done
  pp=$(sort -g "$out/pp.txt" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  tg=$(sort -g "$out/tg.txt" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  rss=$(sed -n 's/.*"peak_rss_bytes":[^0-9]*\([0-9.e+]*\).*/\1/p' "$out/$shape-$type.pp.json")
  w=$(sed -n 's/.*"weights_bytes":[^0-9]*\([0-9.e+]*\).*/\1/p' "$out/$shape-$type.pp.json")
  kv=$(sed -n 's/.*"kv_bytes":[^0-9]*\([0-9.e+]*\).*/\1/p' "$out/$shape-$type.pp.json")
  dbytes=$(sed -n 's/.*"decode_weight_bytes":[^0-9]*\([0-9.e+]*\).*/\1/p' "$out/$shape-$type.tg.json")
  gbs=$(awk -v t="$tg" -v b="$dbytes" 'BEGIN { print t * b / 1e9 }')
  mb=$(du -m "$f" | cut -f1)
  awk -v s="$shape" -v t="$type" -v mb="$mb" -v pp="$pp" -v tg="$tg" -v g="$gbs" -v rss="$rss" -v w="$w" -v kv="$kv" \
    'BEGIN { printf "%-16s %-5s %8d %8.1f %8.1f %9.1f %8.0f %8.0f\n", s, t, mb, pp, tg, g, rss / 1048576, (w + kv) / 1048576 }'
done
