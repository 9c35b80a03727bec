# GGUF reader fuzzing (clang + libFuzzer; not needed by `make` or `make test`).
#
#   make fuzz                     build build-fuzz/fuzz_gguf and fuzz for FUZZ_TIME seconds,
#                                 starting from gguf/fuzz/corpus; new inputs go to
#                                 build-fuzz/corpus-gguf, crashes to build-fuzz/gguf-crash-*
#   make fuzz-seeds               regenerate the seed files of gguf/fuzz/corpus with the writer
#
# make test replays gguf/fuzz/corpus/* through the same entry point built with gcc
# (tests/test_gguf_fuzz_replay.c); copy a crash reproducer there once it is fixed.
FUZZ_CC   ?= clang
FUZZ_TIME ?= 120
FUZZ_BUILD := build-fuzz
FUZZ_GGUF_SRCS := $(wildcard gguf/*.c) gguf/fuzz/fuzz_gguf.c

.PHONY: fuzz-gguf fuzz-seeds
fuzz: fuzz-gguf

$(FUZZ_BUILD)/fuzz_gguf: $(FUZZ_GGUF_SRCS) gguf/gguf.h gguf/fuzz/walk.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=c11 -D_GNU_SOURCE -I. -g -O1 -fno-omit-frame-pointer \
	  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined $(FUZZ_GGUF_SRCS) -o $@

fuzz-gguf: $(FUZZ_BUILD)/fuzz_gguf
	@mkdir -p $(FUZZ_BUILD)/corpus-gguf
	$(FUZZ_BUILD)/fuzz_gguf -max_total_time=$(FUZZ_TIME) -max_len=8192 -dict=gguf/fuzz/gguf.dict \
	  -artifact_prefix=$(FUZZ_BUILD)/gguf- -print_final_stats=1 $(FUZZ_BUILD)/corpus-gguf gguf/fuzz/corpus

fuzz-seeds: gguf/fuzz/make_seeds.c gguf/fuzz/sample.h $(LIB)
	@mkdir -p $(BUILD)/fuzz gguf/fuzz/corpus
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) gguf/fuzz/make_seeds.c $(LIB) $(LDLIBS) -o $(BUILD)/fuzz/make_seeds
	$(BUILD)/fuzz/make_seeds gguf/fuzz/corpus
