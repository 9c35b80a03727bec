# Regression gate on the quick suite against the kept baseline (see bench/baselines/README.md).
.PHONY: bench-check bench-baseline
bench-check: setup all
	$(BIN) check --baseline bench/baselines/quick.json --suite quick
bench-baseline: setup all
	$(BIN) bench --suite quick --json bench/baselines/quick.json
