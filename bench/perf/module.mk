# Performance drivers (not tests): every bench/perf/*.c becomes build/perf/<name>, linked with
# the library and OpenBLAS. `make perf` builds them. They print ratios against a reference
# measured in the same run; nothing here asserts a time.
PERF_SRCS := $(wildcard bench/perf/*.c)
PERF_BINS := $(PERF_SRCS:bench/perf/%.c=$(BUILD)/perf/%)
.PHONY: perf
perf: $(PERF_BINS)
$(BUILD)/perf/%: $(BUILD)/obj/bench/perf/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(say) LINK $@
	$(Q)$(CC) $(ALL_CFLAGS) $< $(LIB) $(BLAS_LIBS) $(LDLIBS) -o $@
