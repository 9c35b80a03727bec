# Per-ISA kernel files get their own instruction-set flags; everything else stays generic so the
# shipped binary runs on any CPU of its architecture and dispatches at run time (kernels/isa.c).
# A build compiles only the files of its target architecture (from $(CC) -dumpmachine).
TARGET_ARCH_NAME := $(firstword $(subst -, ,$(shell $(CC) -dumpmachine 2>/dev/null)))
ifeq ($(TARGET_ARCH_NAME),aarch64)
LIB_OBJS := $(filter-out %_avx2.o %_avx512.o,$(LIB_OBJS))
$(BUILD)/obj/kernels/cpu/%_neondot.o: ISA_CFLAGS = -march=armv8.2-a+dotprod
else
LIB_OBJS := $(filter-out %_neon.o %_neondot.o,$(LIB_OBJS))
$(BUILD)/obj/kernels/cpu/%_avx2.o: ISA_CFLAGS = -mavx2 -mfma -mf16c
$(BUILD)/obj/kernels/cpu/%_avx512.o: ISA_CFLAGS = -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni -mavx512bf16 -mfma -mf16c -mavx2
endif
