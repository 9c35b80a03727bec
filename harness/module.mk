# The ceiling loops are per-ISA, like the kernels: generic build, run-time choice.
$(BUILD)/obj/harness/%_avx2.o: ISA_CFLAGS = -mavx2 -mfma
$(BUILD)/obj/harness/%_avx512.o: ISA_CFLAGS = -mavx512f -mavx512bw -mavx512vl -mfma -mavx2
# The VNNI ceiling loop alone needs VNNI; it carries a target attribute, so the rest of the file
# stays runnable on AVX-512 CPUs without it.
