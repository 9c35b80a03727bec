# The ceiling loops are per-ISA, like the kernels: generic build, run-time choice.
$(BUILD)/obj/harness/%_avx2.o: ISA_CFLAGS = -mavx2 -mfma
$(BUILD)/obj/harness/%_avx512.o: ISA_CFLAGS = -mavx512f -mavx512bw -mavx512vl -mfma -mavx2
