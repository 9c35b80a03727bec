# slmbench — one Makefile for everything.
#
#   make            build build/slmbench and the test binaries
#   make run        set up dependencies, build, run the default job (hw probe + embedded demo)
#   make test       set up dependencies, build, run every test (ends with "N passed, N failed")
#   make SAN=1 test the same under ASan + UBSan
#   make install PREFIX=/usr/local
#
# Every folder owns one module. Its *.c files go into build/libslmbench.a, except cli/ (the
# command) and tests/ (one binary per tests/test_*.c). A folder may add rules of its own in a
# module.mk fragment (per-ISA flags, shader compilation, …); they are included below.

PREFIX   ?= /usr/local
BUILD    ?= build
CC       ?= cc
PKGS     := hwloc papi libcjson vulkan libpcre2-8 openblas

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# OpenBLAS is not linked into the command or the tests: bench/blas.c loads it when a benchmark
# compares against it (its thread pool otherwise spins on our cores at start-up); the perf
# drivers link it.
PKG_LIBS   := $(shell pkg-config --libs $(filter-out openblas,$(PKGS)) 2>/dev/null)
BLAS_LIBS  := $(shell pkg-config --libs openblas 2>/dev/null)

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wformat=2 -Wpointer-arith -Wcast-align \
        -Wwrite-strings -Wmissing-prototypes -Wundef -Wvla -Wno-unused-parameter
ifeq ($(CI),true)
WARN += -Werror
endif

OPT      ?= -O2
CFLAGS   ?=
CPPFLAGS += -I. -D_GNU_SOURCE $(PKG_CFLAGS)
COMMON_CFLAGS := -std=c11 $(OPT) -g -fopenmp -fno-strict-aliasing $(WARN)
BASE_CFLAGS := $(COMMON_CFLAGS)
LDLIBS   += $(PKG_LIBS) -fopenmp -lm -lpthread -ldl

ifeq ($(SAN),1)
BUILD    := build-san
BASE_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDLIBS   += -fsanitize=address,undefined
endif

ALL_CFLAGS = $(BASE_CFLAGS) $(CFLAGS)

# `make V=1` shows the full commands.
ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-6s %s\n'
endif

GIT_DESCRIBE := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
CPPFLAGS += -DSB_GIT_DESCRIBE='"$(GIT_DESCRIBE)"' -DSB_BUILD_CFLAGS='"$(strip $(BASE_CFLAGS) $(CFLAGS))"' \
            -DSB_BUILD_CC='"$(CC)"'
# The objects that print the commit are rebuilt when it changes: a stamp file holds the last
# `git describe` and is rewritten only when that differs.
GIT_STAMP := $(BUILD)/gen/git-describe
$(shell mkdir -p $(BUILD)/gen && { [ "$$(cat $(GIT_STAMP) 2>/dev/null)" = '$(GIT_DESCRIBE)' ] || echo '$(GIT_DESCRIBE)' > $(GIT_STAMP); })

LIB_DIRS := harness kernels kernels/cpu kernels/vulkan gguf tokenizer runtime datasets evals bench reports
LIB_SRCS := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c))
CLI_SRCS := $(wildcard cli/*.c)
TEST_SRCS:= $(wildcard tests/test_*.c)
TEST_SUPPORT_SRCS := $(filter-out $(TEST_SRCS),$(wildcard tests/*.c))

LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)
TEST_SUPPORT_OBJS := $(TEST_SUPPORT_SRCS:%.c=$(BUILD)/obj/%.o)
TEST_BINS:= $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)
LIB      := $(BUILD)/libslmbench.a
BIN      := $(BUILD)/slmbench

# Per-ISA files get their flags through pattern-specific ISA_CFLAGS, e.g. in kernels/cpu/module.mk:
#   $(BUILD)/obj/kernels/cpu/%_avx512.o: ISA_CFLAGS = -mavx512f …
ISA_CFLAGS :=
# Extra objects or generated sources a module.mk adds (e.g. embedded SPIR-V).
EXTRA_LIB_OBJS :=
# Generated headers that objects must wait for.
GENERATED :=

.PHONY: all run test setup clean install fuzz bench-check check-setup cross
# Keep test objects (make would delete them as intermediates of the test binaries).
.SECONDARY:
all: $(BIN) $(TEST_BINS)

-include $(wildcard */module.mk */*/module.mk)

$(BUILD)/obj/harness/results.o $(BUILD)/obj/harness/hw.o $(BUILD)/obj/cli/cmd_version.o: $(GIT_STAMP)
$(BUILD)/obj/%.o: %.c | $(GENERATED)
	@mkdir -p $(dir $@)
	$(say) CC $<
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(ISA_CFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJS) $(EXTRA_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(say) AR $@
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN): $(CLI_OBJS) $(LIB)
	$(say) LINK $@
	$(Q)$(CC) $(ALL_CFLAGS) $(CLI_OBJS) $(LIB) $(LDLIBS) -o $@

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(TEST_SUPPORT_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(say) LINK $@
	$(Q)$(CC) $(ALL_CFLAGS) $< $(TEST_SUPPORT_OBJS) $(LIB) $(LDLIBS) -o $@

setup:
	@sh scripts/setup.sh

run: setup
	@$(MAKE) --no-print-directory all
	@sh scripts/run-default.sh $(BIN)

test:
	@sh scripts/setup.sh --tests
	@$(MAKE) --no-print-directory all
	@if command -v $(CROSS_CC) >/dev/null 2>&1; then $(MAKE) --no-print-directory cross; fi
	@sh tests/run_tests.sh $(BUILD)

# aarch64: kernels/ (which depends on nothing else of ours) and its tests, cross-compiled with
# Debian's aarch64 cross compiler; tests/run_tests.sh runs them under qemu-user. `make test`
# builds them when the cross compiler is installed (scripts/setup.sh tries to install it).
CROSS_CC   ?= aarch64-linux-gnu-gcc
XBUILD     := build-aarch64
XLIB_SRCS  := $(wildcard kernels/*.c) $(filter-out %_avx2.c %_avx512.c,$(wildcard kernels/cpu/*.c))
XLIB_OBJS  := $(XLIB_SRCS:%.c=$(XBUILD)/obj/%.o) $(XBUILD)/obj/tests/testlib.o
XTEST_BINS := $(patsubst tests/%.c,$(XBUILD)/tests/%,$(wildcard tests/test_kernels_*.c))
XISA_CFLAGS :=
$(XBUILD)/obj/kernels/cpu/%_neondot.o: XISA_CFLAGS = -march=armv8.2-a+dotprod
cross: $(XTEST_BINS)
$(XBUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(say) XCC $<
	$(Q)$(CROSS_CC) -I. -D_GNU_SOURCE $(COMMON_CFLAGS) $(XISA_CFLAGS) -MMD -MP -c $< -o $@
$(XBUILD)/tests/%: $(XBUILD)/obj/tests/%.o $(XLIB_OBJS)
	@mkdir -p $(dir $@)
	$(say) XLINK $@
	$(Q)$(CROSS_CC) $(COMMON_CFLAGS) $^ -lm -o $@

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/slmbench

clean:
	rm -rf build build-san build-fuzz build-aarch64

-include $(wildcard $(XBUILD)/obj/*/*.d $(XBUILD)/obj/*/*/*.d)
-include $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d) $(TEST_SUPPORT_OBJS:.o=.d) $(TEST_SRCS:tests/%.c=$(BUILD)/obj/tests/%.d)
