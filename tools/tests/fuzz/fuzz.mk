# ---- fuzzing (tools/tests/fuzz/README.md) ------------------------------------------------
# libFuzzer targets, one per parser, built with Debian's clang into build/fuzz with
# ASan, UBSan and LeakSanitizer.  The project's sources are compiled again there (with
# coverage instrumentation); the in-tree build is untouched.
#   make fuzz [FUZZ_SECONDS=60] [FUZZ_TARGETS="..."]   each target for FUZZ_SECONDS
#       against its corpus (new inputs land in build/fuzz/corpus/<target>)
#   make fuzz-regress [FUZZ_SMOKE_SECONDS=10]          every corpus and regression input
#       once, then a short bounded run per target
#   make fuzz-seeds                                    regenerate the seed corpora
FUZZ_CC            ?= clang
FUZZ_SECONDS       ?= 60
FUZZ_SMOKE_SECONDS ?= 10
FUZZ_BUILD         := build/fuzz
FUZZ_SRC           := tools/tests/fuzz
FUZZ_ALL_TARGETS   := restore_plain restore_remus restore_colo backchannel libxl_stream \
                      save_msgs colo_proxy xl_config xl_savefile diskrep netcompare
FUZZ_TARGETS       ?= $(FUZZ_ALL_TARGETS)
FUZZ_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -pthread -g -O1 $(FUZZ_SAN)
FUZZ_CPPFLAGS = $(CPPFLAGS) -I$(FUZZ_SRC) -Itools/xl -DTEST_BUILD_ROOT='"$(CURDIR)"'

# The project's code, instrumented for coverage.
FUZZ_PROJ_SRCS := $(SIMXEN_SRCS) $(UTIL_SRCS) $(CTRL_SRCS) $(GUEST_SRCS) $(LIGHT_SRCS) $(DISKREP_SRCS) $(NETCOMPARE_SRCS) \
                  tools/xl/xl_config.c tools/xl/xl_savefile.c $(TEST_COMMON_SRCS)
FUZZ_PROJ_OBJS := $(FUZZ_PROJ_SRCS:%.c=$(FUZZ_BUILD)/%.o)
FUZZ_HDRS := $(wildcard tools/include/*.h xen/include/*.h tools/libs/guest/*.h \
               tools/libs/light/*.h tools/libs/diskrep/*.h tools/libs/netcompare/*.h tools/tests/common/*.h tools/xl/*.h \
               $(FUZZ_SRC)/*.h)
$(FUZZ_BUILD)/%.o: %.c config/config.mk $(PATHS_STAMP) $(FUZZ_HDRS)
	@mkdir -p $(dir $@)
	$(call Q,FUZZCC,$@)$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<
$(FUZZ_BUILD)/tools/libs/ctrl/xhv_xen.o $(FUZZ_BUILD)/tools/libs/ctrl/xhv_xen_%.o: FUZZ_CFLAGS += -std=gnu11
$(FUZZ_BUILD)/tools/libs/ctrl/xhv_xen.o $(FUZZ_BUILD)/tools/libs/ctrl/xhv_xen_%.o: FUZZ_CPPFLAGS += $(XEN_CFLAGS)
$(FUZZ_BUILD)/libproject.a: $(FUZZ_PROJ_OBJS)
	$(call Q,AR,$@)rm -f $@; $(AR) rcs $@ $^

# Harnesses: fuzz_<target>.c, except the three stream kinds of fuzz_restore.c.
$(FUZZ_BUILD)/h/restore_plain.o: FUZZ_HARNESS_DEFS := -DFUZZ_STREAM=XC_STREAM_PLAIN
$(FUZZ_BUILD)/h/restore_remus.o: FUZZ_HARNESS_DEFS := -DFUZZ_STREAM=XC_STREAM_REMUS
$(FUZZ_BUILD)/h/restore_colo.o:  FUZZ_HARNESS_DEFS := -DFUZZ_STREAM=XC_STREAM_COLO
# The replication harness checks the library's output with its wire parser.
$(FUZZ_BUILD)/h/diskrep.o: FUZZ_HARNESS_DEFS := -Itools/libs/diskrep
# The packet harness checks rewritten frames with the library's own parser.
$(FUZZ_BUILD)/h/netcompare.o: FUZZ_HARNESS_DEFS := -Itools/libs/netcompare
fuzz_harness_src = $(FUZZ_SRC)/fuzz_$(if $(filter restore_%,$(1)),restore,$(1)).c
define FUZZ_TARGET_RULES
$(FUZZ_BUILD)/h/$(1).o: $(call fuzz_harness_src,$(1)) $(FUZZ_HDRS) config/config.mk $(wildcard tools/misc/colo-proxy.c)
	@mkdir -p $$(dir $$@)
	$$(call Q,FUZZCC,$$@)$(FUZZ_CC) $$(FUZZ_CPPFLAGS) $$(FUZZ_CFLAGS) $$(FUZZ_HARNESS_DEFS) -fsanitize=fuzzer-no-link -c -o $$@ $$<
$(FUZZ_BUILD)/fuzz_$(1): $(FUZZ_BUILD)/h/$(1).o $(FUZZ_BUILD)/h/fuzz.o $(FUZZ_BUILD)/libproject.a
	$$(call Q,LD,$$@)$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $$@ $$^ $$(LDLIBS)
endef
$(foreach t,$(FUZZ_ALL_TARGETS),$(eval $(call FUZZ_TARGET_RULES,$(t))))
$(FUZZ_BUILD)/h/fuzz.o: $(FUZZ_SRC)/fuzz.c $(FUZZ_HDRS) config/config.mk
	@mkdir -p $(dir $@)
	$(call Q,FUZZCC,$@)$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -c -o $@ $<
FUZZ_BINS := $(FUZZ_ALL_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)

fuzz-build: config/config.mk
	./scripts/install-deps.sh clang libclang-rt-14-dev
	$(MAKE) --no-print-directory $(FUZZ_BINS)
fuzz: fuzz-build
	$(FUZZ_SRC)/run.sh fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)
fuzz-regress: fuzz-build
	$(FUZZ_SRC)/run.sh regress $(FUZZ_SMOKE_SECONDS) $(FUZZ_TARGETS)
fuzz-seeds: all
	$(FUZZ_SRC)/gen-seeds.sh
.PHONY: fuzz fuzz-build fuzz-regress fuzz-seeds
# The seed capture tool is an ordinary build-tree program (gen-seeds.sh).
$(FUZZ_BUILD)/fuzz-capture: $(FUZZ_SRC)/capture.c $(TEST_COMMON_OBJS) $(LIBS)
	@mkdir -p $(dir $@)
	$(call Q,CC,$@)$(CC) $(CPPFLAGS) $(CFLAGS) -DTEST_BUILD_ROOT='"$(CURDIR)"' -o $@ $< $(TEST_COMMON_OBJS) $(LIBS) $(LDLIBS) $(LDFLAGS)
