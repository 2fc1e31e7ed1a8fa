# Top-level build.  Run ./configure first (make does it for you with defaults).
.DEFAULT_GOAL := all
-include config/config.mk

CC      ?= cc
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -pthread -fPIC
CPPFLAGS += -Iconfig -Itools/include -Ixen/include -Itools/libs/guest -Itools/libs/light -Itools/tests/common
JSONC_LIBS ?= -ljson-c
LDLIBS  += -pthread $(ZLIB_LIBS) $(JSONC_LIBS)
CPPFLAGS += $(JSONC_CFLAGS)
ifeq ($(CONFIG_SANITIZERS),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

# ---- installation paths ----------------------------------------------------------------
# ./configure --prefix/--libdir write PREFIX/LIBDIR into config/config.mk; `make PREFIX=...`
# overrides both.  The helpers live in a directory of their own (like Debian's
# /usr/lib/xen-4.17/bin) and xl is installed as $(XL_NAME), so that nothing collides with
# Debian's Xen packages (docs/install.md).
PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
LIBDIR     ?= $(PREFIX)/lib
LIBEXECDIR ?= $(PREFIX)/lib/xenlight-colo
INCLUDEDIR ?= $(PREFIX)/include
MANDIR     ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
XL_NAME    ?= xl-colo
# The installed locations are compiled in; the build-tree tests reach the build-tree
# binaries through the run-time overrides (scripts/build-tree-env.sh).  The remote side of
# migrate/remus runs $(XL_NAME), the name xl is installed under.
PATH_DEFS := -DSIMXEN_VCPU_DEFAULT='"$(LIBEXECDIR)/simxen-vcpu"' \
             -DLIBXL_SAVE_HELPER_DEFAULT='"$(LIBEXECDIR)/libxl-save-helper"' \
             -DCOLO_PROXY_DEFAULT='"$(LIBEXECDIR)/colo-proxy"' \
             -DXL_REMOTE_COMMAND='"$(XL_NAME)"'
CPPFLAGS += $(PATH_DEFS)
# Objects depend on this file, rewritten only when the paths change: a `make install
# PREFIX=...` after a build with another PREFIX recompiles instead of installing binaries
# that look for their helpers elsewhere.
PATHS_STAMP := config/paths.stamp
ifneq ($(file <$(PATHS_STAMP)),$(PATH_DEFS))
$(file >$(PATHS_STAMP),$(PATH_DEFS))
endif

# `make V=1` prints whole command lines; by default one short line per step.
ifeq ($(V),1)
Q =
else
Q = @printf '  %-7s %s\n' '$(1)' '$(2)';
endif

# ---- simulated hypervisor ----------------------------------------------------------------
SIMXEN_SRCS := $(wildcard xen/common/*.c xen/guest/*.c)
SIMXEN_OBJS := $(SIMXEN_SRCS:.c=.o)
# The simulated hypervisor is built from its own headers only: none of the toolstack's.
$(SIMXEN_OBJS) xen/vcpu/simxen-vcpu.o: CPPFLAGS := -Iconfig -Ixen/include $(PATH_DEFS)
xen/libsimxen.a: $(SIMXEN_OBJS)
	$(call Q,AR,$@)rm -f $@; $(AR) rcs $@ $^
xen/simxen-vcpu: xen/vcpu/simxen-vcpu.o xen/libsimxen.a
	$(call Q,LD,$@)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# ---- utility library: fd I/O, clock, bitmaps (every layer) ----------------------------
UTIL_SRCS := $(wildcard tools/libs/util/*.c)
UTIL_OBJS := $(UTIL_SRCS:.c=.o)
tools/libs/util/libxutil.a: $(UTIL_OBJS)
	$(call Q,AR,$@)rm -f $@; $(AR) rcs $@ $^

# ---- hypervisor interface (backends) -----------------------------------------------------
# The real-Xen backend (xhv_xen*.c) uses Debian's libraries when ./configure found them.
ifeq ($(CONFIG_XEN),1)
LDLIBS  += $(XEN_LIBS)
tools/libs/ctrl/xhv_xen.o tools/libs/ctrl/xhv_xen_%.o: CPPFLAGS += $(XEN_CFLAGS)
# Xen's public headers need GNU C (__align8__ is "FIXME" under __STRICT_ANSI__).
tools/libs/ctrl/xhv_xen.o tools/libs/ctrl/xhv_xen_%.o: CFLAGS += -std=gnu11
endif
CTRL_SRCS := $(wildcard tools/libs/ctrl/*.c)
CTRL_OBJS := $(CTRL_SRCS:.c=.o)
tools/libs/ctrl/libxhv.a: $(CTRL_OBJS)
	$(call Q,AR,$@)rm -f $@; $(AR) rcs $@ $^

# ---- save/restore engine -----------------------------------------------------------------
ifeq ($(CONFIG_MIGRATION),1)
GUEST_SRCS := $(filter-out tools/libs/guest/nomigration.c,$(wildcard tools/libs/guest/*.c))
else
GUEST_SRCS := tools/libs/guest/nomigration.c tools/libs/guest/sr_stream.c
endif
GUEST_OBJS := $(GUEST_SRCS:.c=.o)
tools/libs/guest/libxenguest-colo.a: $(GUEST_OBJS)
	$(call Q,AR,$@)rm -f $@; $(AR) rcs $@ $^

# ---- libxl layer (so far: the libxl records and the local COLO pair) --------------------
LIGHT_SRCS := $(wildcard tools/libs/light/*.c)
LIGHT_OBJS := $(LIGHT_SRCS:.c=.o)
tools/libs/light/libxenlight-colo.a: $(LIGHT_OBJS)
	$(call Q,AR,$@)rm -f $@; $(AR) rcs $@ $^

# ---- disk replication core (docs/disk-replication.md) -------------------------------------
DISKREP_SRCS := $(wildcard tools/libs/diskrep/*.c)
DISKREP_OBJS := $(DISKREP_SRCS:.c=.o)
tools/libs/diskrep/libdiskrep.a: $(DISKREP_OBJS)
	$(call Q,AR,$@)rm -f $@; $(AR) rcs $@ $^

# ---- COLO packet comparison core (docs/colo-proxy.md) -----------------------------------
NETCOMPARE_SRCS := $(wildcard tools/libs/netcompare/*.c)
NETCOMPARE_OBJS := $(NETCOMPARE_SRCS:.c=.o)
tools/libs/netcompare/libnetcompare.a: $(NETCOMPARE_OBJS)
	$(call Q,AR,$@)rm -f $@; $(AR) rcs $@ $^

LIBS := tools/libs/netcompare/libnetcompare.a tools/libs/diskrep/libdiskrep.a tools/libs/light/libxenlight-colo.a tools/libs/guest/libxenguest-colo.a tools/libs/ctrl/libxhv.a xen/libsimxen.a \
        tools/libs/util/libxutil.a

# ---- libxl API as a shared library, libxl-save-helper, xl ---------------------------------
LIBXL_SO_MAJOR := 0
LIBXL_SO := tools/libs/light/libxenlight-colo.so.$(LIBXL_SO_MAJOR).1
SO_OBJS := $(LIGHT_OBJS) $(GUEST_OBJS) $(CTRL_OBJS) $(SIMXEN_OBJS) $(UTIL_OBJS)
$(LIBXL_SO): $(SO_OBJS) tools/libs/light/libxl.map
	$(call Q,LD,$@)$(CC) $(LDFLAGS) -shared -Wl,-soname,libxenlight-colo.so.$(LIBXL_SO_MAJOR) \
	    -Wl,--version-script=tools/libs/light/libxl.map -o $@ $(SO_OBJS) $(LDLIBS)
tools/helpers/libxl-save-helper: tools/helpers/libxl-save-helper.o $(LIBS)
	$(call Q,LD,$@)$(CC) $(LDFLAGS) -o $@ $< $(LIBS) $(LDLIBS)
XL_SRCS := $(wildcard tools/xl/*.c)
XL_OBJS := $(XL_SRCS:.c=.o)
tools/xl/xl: $(XL_OBJS) $(LIBS)
	$(call Q,LD,$@)$(CC) $(LDFLAGS) -o $@ $(XL_OBJS) $(LIBS) $(LDLIBS)
XL_BINS := tools/helpers/libxl-save-helper tools/xl/xl $(LIBXL_SO)

# The libxl API for other toolstacks as one archive (static linking, `pkg-config --static`).
LIBXL_A := tools/libs/light/libxenlight-colo-full.a
$(LIBXL_A): $(SO_OBJS)
	$(call Q,AR,$@)rm -f $@; $(AR) rcs $@ $^
# What a caller needs beyond the library itself, from what ./configure found.
PC_REQUIRES_PRIVATE := json-c $(if $(filter 1,$(CONFIG_ZLIB)),zlib) \
    $(if $(filter 1,$(CONFIG_XEN)),xencontrol xenforeignmemory xenstore xenevtchn)
LIBXL_PC := tools/libs/light/xenlight-colo.pc
$(LIBXL_PC): tools/libs/light/xenlight-colo.pc.in config/config.mk $(PATHS_STAMP)
	$(call Q,GEN,$@)sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@REQUIRES_PRIVATE@|$(strip $(PC_REQUIRES_PRIVATE))|' \
	    $< > $@
# The build tree's xl under its installed name too: the remote side of a two-host test
# runs $(XL_NAME) from PATH.
ifneq ($(XL_NAME),xl)
tools/xl/$(XL_NAME): tools/xl/xl
	$(call Q,LN,$@)ln -sf xl $@
XL_BINS += tools/xl/$(XL_NAME)
endif
XL_BINS += $(LIBXL_A) $(LIBXL_PC)

# `make install [DESTDIR=...] [PREFIX=...]`: layout in docs/install.md.  Man pages that
# Debian's xen-utils-common also has (xl.1, xl.cfg.5) take xl's installed name.
INSTALLABLES := tools/xl/xl tools/helpers/libxl-save-helper tools/misc/colo-proxy xen/simxen-vcpu \
                tools/misc/xl-stream-inspect \
                $(LIBXL_SO) $(LIBXL_A) $(LIBXL_PC)
installables: $(INSTALLABLES)
install: $(INSTALLABLES)
	$(call Q,INSTALL,$(DESTDIR)$(PREFIX))install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBEXECDIR) \
	    $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(INCLUDEDIR)/xenlight-colo
	$(Q)install -m 755 tools/xl/xl $(DESTDIR)$(SBINDIR)/$(XL_NAME)
	$(Q)install -m 755 tools/misc/xl-stream-inspect $(DESTDIR)$(SBINDIR)/
	$(Q)install -m 755 tools/helpers/libxl-save-helper tools/misc/colo-proxy xen/simxen-vcpu \
	    $(DESTDIR)$(LIBEXECDIR)/
	$(Q)install -m 644 $(LIBXL_SO) $(DESTDIR)$(LIBDIR)/
	$(Q)ln -sf $(notdir $(LIBXL_SO)) $(DESTDIR)$(LIBDIR)/libxenlight-colo.so.$(LIBXL_SO_MAJOR)
	$(Q)ln -sf libxenlight-colo.so.$(LIBXL_SO_MAJOR) $(DESTDIR)$(LIBDIR)/libxenlight-colo.so
	$(Q)install -m 644 $(LIBXL_A) $(DESTDIR)$(LIBDIR)/libxenlight-colo.a
	$(Q)install -m 644 tools/include/libxl.h tools/include/libxl_utils.h tools/include/libxl_uuid.h \
	    $(DESTDIR)$(INCLUDEDIR)/xenlight-colo/
	$(Q)install -m 644 $(LIBXL_PC) $(DESTDIR)$(PKGCONFIGDIR)/
	$(Q)set -e; for p in docs/man/*.pod; do n=$$(basename $$p .pod); s=$${n##*.}; \
	    case $$n in xl.*) n=$(XL_NAME).$${n#xl.} ;; libxl-save-helper.*) n=libxl-save-helper-colo.$$s ;; esac; \
	    install -d $(DESTDIR)$(MANDIR)/man$$s; \
	    pod2man --section=$$s --center="COLO toolstack" --name=$$(echo $${n%.*} | tr a-z A-Z) $$p \
	        > $(DESTDIR)$(MANDIR)/man$$s/$$n; done

# ---- programs ----------------------------------------------------------------------------
MISC_SRCS := $(wildcard tools/misc/*.c)
MISC_BINS := $(MISC_SRCS:.c=)
# The stream inspector reads xl's save-file header with xl's own reader.
INSPECT_BIN := tools/misc/xl-stream-inspect
$(filter-out $(INSPECT_BIN),$(MISC_BINS)): %: %.o $(LIBS)
	$(call Q,LD,$@)$(CC) $(LDFLAGS) -o $@ $< $(LIBS) $(LDLIBS)
$(INSPECT_BIN): $(INSPECT_BIN).o tools/xl/xl_savefile.o $(LIBS)
	$(call Q,LD,$@)$(CC) $(LDFLAGS) -o $@ $(INSPECT_BIN).o tools/xl/xl_savefile.o $(LIBS) $(LDLIBS)
$(INSPECT_BIN).o: CPPFLAGS += -Itools/xl

# ---- tests -------------------------------------------------------------------------------
ifeq ($(CONFIG_MIGRATION),1)
TEST_SRCS := $(wildcard tools/tests/unit/*.c tools/tests/integration/*.c)
else
TEST_SRCS := tools/tests/unit/test_nomigration.c
endif
TEST_COMMON_SRCS := $(wildcard tools/tests/common/*.c)
TEST_COMMON_OBJS := $(TEST_COMMON_SRCS:.c=.o)
TEST_BINS := $(TEST_SRCS:.c=)
tools/tests/common/test.o: CPPFLAGS += -DTEST_BUILD_ROOT='"$(CURDIR)"'
$(TEST_BINS): %: %.o $(TEST_COMMON_OBJS) $(LIBS)
	$(call Q,LD,$@)$(CC) $(LDFLAGS) -o $@ $< $(TEST_COMMON_OBJS) $(LIBS) $(LDLIBS)

# Benches that drive the engine through the tests' helpers (scripts/bench.sh runs them).
ifeq ($(CONFIG_MIGRATION),1)
BENCH_BINS := $(patsubst %.c,%,$(wildcard tools/tests/bench/*.c))
endif
$(BENCH_BINS): %: %.o $(TEST_COMMON_OBJS) $(LIBS)
	$(call Q,LD,$@)$(CC) $(LDFLAGS) -o $@ $< $(TEST_COMMON_OBJS) $(LIBS) $(LDLIBS)

ALL := xen/simxen-vcpu $(LIBS) $(MISC_BINS) $(TEST_BINS) $(BENCH_BINS) $(XL_BINS)

# ---- real-Xen harness: the dom0 memory canary and a resume diagnostic (copied into the
# image by tools/tests/xen/build-image.sh); `make check-xen-repeat` is below
XEN_CANARY := tools/tests/xen/dom0-canary
$(XEN_CANARY): $(XEN_CANARY).o
	$(call Q,LD,$@)$(CC) $(LDFLAGS) -o $@ $<
# a diagnostic: one resume path of the real-Xen backend, repeated (steps/stress.sh)
tools/tests/xen/xen-resume-stress: tools/tests/xen/xen-resume-stress.o $(LIBS)
	$(call Q,LD,$@)$(CC) $(LDFLAGS) -o $@ $< $(LIBS) $(LDLIBS)
# the dom0 register canary (vector registers across context switches)
tools/tests/xen/reg-canary: tools/tests/xen/reg-canary.o
	$(call Q,LD,$@)$(CC) $(LDFLAGS) -o $@ $<
# the test guest's network service (static: the guest has no C library) and its client
# (built without the sanitizers: their runtimes cannot be linked statically)
tools/tests/xen/net-echo: tools/tests/xen/net-echo.c config/config.mk
	$(call Q,CC,$@)$(CC) $(filter-out -fsanitize% -fno-sanitize%,$(CFLAGS)) -static -o $@ $<
tools/tests/xen/net-client: tools/tests/xen/net-client.o
	$(call Q,LD,$@)$(CC) $(LDFLAGS) -o $@ $<
ALL += $(XEN_CANARY) tools/tests/xen/xen-resume-stress tools/tests/xen/reg-canary \
       tools/tests/xen/net-echo tools/tests/xen/net-client
all: config/config.mk $(ALL)

config/config.mk:
	./scripts/install-deps.sh
	./configure

%.o: %.c config/config.mk $(PATHS_STAMP) $(wildcard tools/include/*.h xen/include/*.h tools/libs/guest/*.h tools/libs/light/*.h tools/libs/diskrep/*.h tools/libs/netcompare/*.h tools/tests/common/*.h tools/xl/*.h)
	$(call Q,CC,$@)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# `make demo`: the README's first command.
demo: all
	./scripts/demo.sh

# `make two-host-demo`: COLO with `xl remus -c` between two network namespaces, then a
# failover (root; see README).
two-host-demo: all
	./scripts/two-hosts-demo.sh

# `make check`: the whole suite (installs its own Debian dependencies when run as root).
check: all
	./tools/tests/run-tests.sh
	$(MAKE) check-nomigration
	$(MAKE) check-asan
	$(MAKE) fuzz-regress FUZZ_SMOKE_SECONDS=0
	$(MAKE) check-deb
	$(MAKE) check-minbase
	$(MAKE) check-xen

# The no-migration variant is built from a copy of the tree so that both variants are
# checked in one run: an API change that forgets nomigration.c fails here.
check-nomigration:
	rm -rf build/nomigration && mkdir -p build/nomigration
	tar --exclude=./build --exclude=./.git -cf - . | tar -C build/nomigration -xf -
	cd build/nomigration && $(MAKE) clean >/dev/null && ./configure --disable-migration && $(MAKE) all
	cd build/nomigration && ./tools/tests/run-tests.sh nomigration

bench: all
	./scripts/bench.sh

# `make soak`: COLO for SOAK_CHECKPOINTS checkpoints (default 10000) through xl on the
# simulated hypervisor (tools/tests/soak/soak.sh); `make check` runs 500
# (tools/tests/scripts/test_soak_short.sh).
SOAK_CHECKPOINTS ?= 10000
soak: all
	./tools/tests/soak/soak.sh $(SOAK_CHECKPOINTS)

# `make check-xen`: boot Debian's Xen 4.17 under QEMU (TCG) and run the real-Xen plan
# (tools/tests/xen/; installs QEMU itself, downloads Debian packages into build/).
check-xen: all
	./tools/tests/xen/install-deps.sh
	./tools/tests/xen/build-image.sh
	./tools/tests/xen/run.sh

# `make check-xen-failover`: the failover matrices in full, a two-vcpu guest's COLO and
# the save helper killed (run.sh failover; about 40 min).
check-xen-failover: all
	./tools/tests/xen/install-deps.sh
	./tools/tests/xen/build-image.sh
	XEN_TIMEOUT=3600 ./tools/tests/xen/run.sh failover

# `make check-xen-net`: the guest with a network device through localhost migrations in
# every direction, and the negative check (run.sh net; about 5 min).
check-xen-net: all
	./tools/tests/xen/install-deps.sh
	./tools/tests/xen/build-image.sh
	./tools/tests/xen/run.sh net

# `make check-xen-repeat`: the COLO-through-xl step N times in one boot, in M boots, with
# the dom0 canary; prints the counts (XEN_REPEAT_RUNS, XEN_REPEAT_BOOTS; see the script).
check-xen-repeat: all
	./tools/tests/xen/install-deps.sh
	./tools/tests/xen/build-image.sh
	./tools/tests/xen/repeat.sh

check-asan:
	rm -rf build/asan && mkdir -p build/asan
	tar --exclude=./build --exclude=./.git -cf - . | tar -C build/asan -xf -
	cd build/asan && $(MAKE) clean >/dev/null && ./configure --enable-sanitizers && $(MAKE) all
	cd build/asan && ./tools/tests/run-tests.sh

clean:
	rm -f $(ALL) xen/vcpu/*.o xen/*/*.o tools/*/*.o tools/*/*/*.o tools/*/*/*/*.o
	rm -rf build

# `make deb`: the Debian packages (debian/), built in a copy of the tree so that this one
# stays clean; the .debs land in build/deb.  `make check-deb` installs them beside
# Debian's Xen, runs xl-colo, and removes them again (root; scripts/check-deb.sh).
DEB_DIR := build/deb
deb:
	./scripts/install-deps.sh build-essential dpkg-dev debhelper fakeroot pkg-config libjson-c-dev zlib1g-dev libxen-dev perl
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/src
	tar --exclude=./build --exclude=./.git -cf - . | tar -C $(DEB_DIR)/src -xf -
	cd $(DEB_DIR)/src && $(MAKE) -s clean && rm -f config/config.mk config/config.h config/paths.stamp
	cd $(DEB_DIR)/src && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL DEB_BUILD_OPTIONS=parallel=2 \
	    dpkg-buildpackage -us -uc -b
	@ls -1 $(DEB_DIR)/*.deb
check-deb: deb
	./scripts/check-deb.sh $(DEB_DIR)

# `make print-VAR`: a variable's value, for scripts (tools/tests/scripts/test_install.sh).
print-%:
	@echo '$($*)'

.PHONY: install installables deb check-deb two-host-demo all demo check check-nomigration check-asan check-xen check-xen-failover check-xen-net check-xen-repeat bench soak clean
.SECONDARY:

# `make check-minbase`: the README's Quick start in a fresh debootstrap'd minimal Debian 12
# with only git added (root; downloads minbase once into /var/tmp/colo-minbase, then
# about 40 s a run).
check-minbase:
	./tools/tests/minimal/test_minbase.sh
.PHONY: check-minbase

# Fuzzing: its own block (tools/tests/fuzz/fuzz.mk).
include tools/tests/fuzz/fuzz.mk
