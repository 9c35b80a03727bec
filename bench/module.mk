# Regression gate on the quick suite against the kept baseline (see bench/baselines/README.md).
# BENCH_THRESHOLD: smallest slowdown that counts (5% by default; shared VMs need more, see README).
BENCH_THRESHOLD ?= 5%
.PHONY: bench-check bench-baseline
bench-check: setup all
	$(BIN) check --baseline bench/baselines/quick.json --suite quick --threshold $(BENCH_THRESHOLD)
bench-baseline: setup all
	$(BIN) bench --suite quick --rounds 3 --json bench/baselines/quick.json

# where pkg-config found OpenBLAS: bench/blas.c loads it from there first
$(BUILD)/obj/bench/blas.o: CPPFLAGS += -DSB_OPENBLAS_LIBDIR='"$(shell pkg-config --variable=libdir openblas 2>/dev/null | sed 's:/*$$::')"'
