# Eval performance drivers (not tests): every evals/perf/*.c becomes build/perf/<name>. They print
# ratios measured in the same run; nothing here asserts a time.
EVAL_PERF_SRCS := $(wildcard evals/perf/*.c)
EVAL_PERF_BINS := $(EVAL_PERF_SRCS:evals/perf/%.c=$(BUILD)/perf/%)
.PHONY: perf
perf: $(EVAL_PERF_BINS)
$(EVAL_PERF_BINS): $(BUILD)/perf/%: $(BUILD)/obj/evals/perf/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(say) LINK $@
	$(Q)$(CC) $(ALL_CFLAGS) $< $(LIB) $(LDLIBS) -o $@
