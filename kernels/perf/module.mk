# Performance drivers (not tests): every kernels/perf/*.c becomes build/perf/<name>, linked with
# the library and OpenBLAS. `make perf` builds them. They print ratios against a reference
# measured in the same run; nothing here asserts a time.
PERF_SRCS := $(wildcard kernels/perf/*.c)
PERF_BINS := $(PERF_SRCS:kernels/perf/%.c=$(BUILD)/perf/%)
.PHONY: perf
perf: $(PERF_BINS)
$(BUILD)/perf/%: $(BUILD)/obj/kernels/perf/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(say) LINK $@
	$(Q)$(CC) $(ALL_CFLAGS) $< $(LIB) $(LDLIBS) -o $@
