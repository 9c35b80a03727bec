# Tokenizer extras (not needed by `make` or `make test`).
#
#   make perf                     also builds build/perf/tok_perf (tokenizer speed on WikiText-2)
#   make fuzz-tokenizer           build build-fuzz/fuzz_tokenizer (clang, libFuzzer + ASan + UBSan)
#                                 and fuzz for FUZZ_TIME seconds from tokenizer/fuzz/corpus; new
#                                 inputs go to build-fuzz/corpus-tokenizer, crashes to
#                                 build-fuzz/tokenizer-crash-*. SB_FUZZ_VOCAB=file.gguf adds a
#                                 real vocabulary (inputs with bit 6 of byte 0 set use it).
#   make fuzz-tokenizer-seeds     regenerate tokenizer/fuzz/corpus with the GGUF writer
#
# make test replays tokenizer/fuzz/corpus/* through the same entry point built with gcc
# (tests/test_tokenizer_fuzz_replay.c); copy a crash reproducer there once it is fixed.
FUZZ_CC   ?= clang
FUZZ_TIME ?= 120
FUZZ_BUILD ?= build-fuzz
FUZZ_TOK_SRCS := $(wildcard gguf/*.c) $(wildcard tokenizer/*.c) tokenizer/fuzz/fuzz_tokenizer.c

.PHONY: fuzz-tokenizer fuzz-tokenizer-seeds perf
fuzz: fuzz-tokenizer
perf: $(BUILD)/perf/tok_perf

$(FUZZ_BUILD)/fuzz_tokenizer: $(FUZZ_TOK_SRCS) $(wildcard gguf/*.h tokenizer/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=c11 -D_GNU_SOURCE -I. $(shell pkg-config --cflags libpcre2-8) -g -O1 -fno-omit-frame-pointer \
	  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined $(FUZZ_TOK_SRCS) \
	  $(shell pkg-config --libs libpcre2-8) -o $@

fuzz-tokenizer: $(FUZZ_BUILD)/fuzz_tokenizer
	@mkdir -p $(FUZZ_BUILD)/corpus-tokenizer
	$(FUZZ_BUILD)/fuzz_tokenizer -max_total_time=$(FUZZ_TIME) -max_len=4096 -timeout=10 \
	  -artifact_prefix=$(FUZZ_BUILD)/tokenizer- -print_final_stats=1 $(FUZZ_BUILD)/corpus-tokenizer tokenizer/fuzz/corpus

fuzz-tokenizer-seeds: tokenizer/fuzz/make_seeds.c $(LIB)
	@mkdir -p $(BUILD)/fuzz tokenizer/fuzz/corpus
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) tokenizer/fuzz/make_seeds.c $(LIB) $(LDLIBS) -o $(BUILD)/fuzz/make_seeds_tokenizer
	$(BUILD)/fuzz/make_seeds_tokenizer tokenizer/fuzz/corpus

$(BUILD)/perf/tok_perf: $(BUILD)/obj/tokenizer/perf/tok_perf.o $(LIB)
	@mkdir -p $(dir $@)
	$(say) LINK $@
	$(Q)$(CC) $(ALL_CFLAGS) $< $(LIB) $(LDLIBS) -o $@
