# Vulkan shaders: every variant of kernels/vulkan/shaders/*.comp is compiled by glslc at build time
# (its -D defines pick the weight or KV type, or the element-wise op) and embedded in the library
# as a SPIR-V array by embed.sh, so nothing is read from disk at run time.
#   variant name        shader       defines
#   mm-<type>           mm.comp      -DWT_<TYPE>     tiled matmul (m > 4)
#   mv-<type>           mv.comp      -DWT_<TYPE>     matvec (m <= 4)
#   getrows-<type>      getrows.comp -DWT_<TYPE>     embedding gather
#   fa-f32, fa-f16      fa.comp      -DKV_F32/F16    flash attention
#   fa-*-split          fa.comp      + -DSPLIT       split-K parts (flash-decoding) ...
#   fa-combine          fa_combine.comp              ... and their merge
#   add, mul, silu_mul  eltwise.comp -DOP_<OP>
#   copy-f32, copy-f16 copy.comp    -DDST_F32/F16   f32 → f32/f16 (KV cache writes)
#   rmsnorm, softmax, rope
#   NAME-sg             (mv, fa, rmsnorm, softmax) the same with -DSUBGROUP: reductions with
#                       subgroup arithmetic, picked at run time where the device has it
# (defines of one variant are joined by @ in the table below)
VK_DIR    := kernels/vulkan
VK_SHDIR  := $(VK_DIR)/shaders
VK_SPVDIR := $(BUILD)/spv
VK_GEN_C  := $(BUILD)/gen/kernels/vulkan/spirv.c
VK_GEN_O  := $(BUILD)/obj/gen/kernels/vulkan/spirv.o
VK_INCS   := $(wildcard $(VK_SHDIR)/*.glsl)
GLSLC     ?= glslc
GLSLC_FLAGS := --target-env=vulkan1.1 -O -Werror

VK_WTYPES := f32:F32 f16:F16 bf16:BF16 q8_0:Q8_0 q4_0:Q4_0 q4_K:Q4_K q5_K:Q5_K q6_K:Q6_K
# name|shader|defines
VK_VARIANTS := $(foreach t,$(VK_WTYPES),\
    mm-$(word 1,$(subst :, ,$(t)))|mm|-DWT_$(word 2,$(subst :, ,$(t))) \
    mv-$(word 1,$(subst :, ,$(t)))|mv|-DWT_$(word 2,$(subst :, ,$(t))) \
    mv-$(word 1,$(subst :, ,$(t)))-sg|mv|-DWT_$(word 2,$(subst :, ,$(t)))@-DSUBGROUP \
    getrows-$(word 1,$(subst :, ,$(t)))|getrows|-DWT_$(word 2,$(subst :, ,$(t)))) \
    fa-f32|fa|-DKV_F32 fa-f16|fa|-DKV_F16 fa-f32-sg|fa|-DKV_F32@-DSUBGROUP fa-f16-sg|fa|-DKV_F16@-DSUBGROUP \
    fa-f32-split|fa|-DKV_F32@-DSPLIT fa-f16-split|fa|-DKV_F16@-DSPLIT \
    fa-f32-split-sg|fa|-DKV_F32@-DSPLIT@-DSUBGROUP fa-f16-split-sg|fa|-DKV_F16@-DSPLIT@-DSUBGROUP \
    fa-combine|fa_combine| \
    add|eltwise|-DOP_ADD mul|eltwise|-DOP_MUL silu_mul|eltwise|-DOP_SILU_MUL \
    rmsnorm|rmsnorm| softmax|softmax| rope|rope| rmsnorm-sg|rmsnorm|-DSUBGROUP softmax-sg|softmax|-DSUBGROUP \
    copy-f32|copy|-DDST_F32 copy-f16|copy|-DDST_F16

vk_name   = $(word 1,$(subst |, ,$(1)))
vk_shader = $(word 2,$(subst |, ,$(1)))
vk_defs   = $(subst @, ,$(word 3,$(subst |, ,$(1))))

define VK_SPV_RULE
$(VK_SPVDIR)/$(call vk_name,$(1)).spv: $(VK_SHDIR)/$(call vk_shader,$(1)).comp $(VK_INCS)
	@mkdir -p $$(dir $$@)
	$(say) GLSLC $$@
	$(Q)$(GLSLC) $(GLSLC_FLAGS) $(call vk_defs,$(1)) -o $$@ $$<
endef
$(foreach v,$(VK_VARIANTS),$(eval $(call VK_SPV_RULE,$(v))))

VK_SPVS := $(foreach v,$(VK_VARIANTS),$(VK_SPVDIR)/$(call vk_name,$(v)).spv)

$(VK_GEN_C): $(VK_SPVS) $(VK_DIR)/embed.sh
	@mkdir -p $(dir $@)
	$(say) EMBED $@
	$(Q)sh $(VK_DIR)/embed.sh $@ $(foreach v,$(VK_VARIANTS),$(call vk_name,$(v))=$(VK_SPVDIR)/$(call vk_name,$(v)).spv)

$(VK_GEN_O): $(VK_GEN_C) $(VK_DIR)/vk_internal.h
	@mkdir -p $(dir $@)
	$(say) CC $<
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c $< -o $@

EXTRA_LIB_OBJS += $(VK_GEN_O)
