# Per-ISA kernel files get their own instruction-set flags; everything else stays generic x86-64
# so the shipped binary runs on any x86-64 and dispatches at run time (kernels/isa.c).
$(BUILD)/obj/kernels/cpu/%_avx2.o: ISA_CFLAGS = -mavx2 -mfma -mf16c
$(BUILD)/obj/kernels/cpu/%_avx512.o: ISA_CFLAGS = -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni -mavx512bf16 -mfma -mf16c -mavx2
