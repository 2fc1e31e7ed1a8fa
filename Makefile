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

# Absolute path of the vcpu runner, compiled into the simulated hypervisor (override: SIMXEN_VCPU).
SIMXEN_VCPU_PATH := $(CURDIR)/xen/simxen-vcpu
CPPFLAGS += -DSIMXEN_VCPU_DEFAULT='"$(SIMXEN_VCPU_PATH)"'
# Absolute path of libxl-save-helper, compiled into libxl (override: LIBXL_SAVE_HELPER).
CPPFLAGS += -DLIBXL_SAVE_HELPER_DEFAULT='"$(CURDIR)/tools/helpers/libxl-save-helper"'
# Absolute path of the network/COLO compare proxy, compiled into libxl (override: COLO_PROXY).
CPPFLAGS += -DCOLO_PROXY_DEFAULT='"$(CURDIR)/tools/misc/colo-proxy"'

# ---- simulated hypervisor ----------------------------------------------------------------
SIMXEN_SRCS := $(wildcard xen/common/*.c xen/guest/*.c)
SIMXEN_OBJS := $(SIMXEN_SRCS:.c=.o)
xen/libsimxen.a: $(SIMXEN_OBJS)
	rm -f $@; $(AR) rcs $@ $^
xen/simxen-vcpu: xen/vcpu/simxen-vcpu.o xen/libsimxen.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# ---- utility library: fd I/O, clock, bitmaps (every layer) ----------------------------
UTIL_SRCS := $(wildcard tools/libs/util/*.c)
UTIL_OBJS := $(UTIL_SRCS:.c=.o)
tools/libs/util/libxutil.a: $(UTIL_OBJS)
	rm -f $@; $(AR) rcs $@ $^

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
	rm -f $@; $(AR) rcs $@ $^

# ---- save/restore engine -----------------------------------------------------------------
ifeq ($(CONFIG_MIGRATION),1)
GUEST_SRCS := $(filter-out tools/libs/guest/nomigration.c,$(wildcard tools/libs/guest/*.c))
else
GUEST_SRCS := tools/libs/guest/nomigration.c tools/libs/guest/sr_stream.c
endif
GUEST_OBJS := $(GUEST_SRCS:.c=.o)
tools/libs/guest/libxenguest-colo.a: $(GUEST_OBJS)
	rm -f $@; $(AR) rcs $@ $^

# ---- libxl layer (so far: the libxl records and the local COLO pair) --------------------
LIGHT_SRCS := $(wildcard tools/libs/light/*.c)
LIGHT_OBJS := $(LIGHT_SRCS:.c=.o)
tools/libs/light/libxenlight-colo.a: $(LIGHT_OBJS)
	rm -f $@; $(AR) rcs $@ $^

LIBS := tools/libs/light/libxenlight-colo.a tools/libs/guest/libxenguest-colo.a tools/libs/ctrl/libxhv.a xen/libsimxen.a \
        tools/libs/util/libxutil.a

# ---- libxl API as a shared library, libxl-save-helper, xl (issue 3) ----------------------
PREFIX ?= /usr/local
LIBXL_SO_MAJOR := 0
LIBXL_SO := tools/libs/light/libxenlight-colo.so.$(LIBXL_SO_MAJOR).1
SO_OBJS := $(LIGHT_OBJS) $(GUEST_OBJS) $(CTRL_OBJS) $(SIMXEN_OBJS) $(UTIL_OBJS)
$(LIBXL_SO): $(SO_OBJS) tools/libs/light/libxl.map
	$(CC) $(LDFLAGS) -shared -Wl,-soname,libxenlight-colo.so.$(LIBXL_SO_MAJOR) \
	    -Wl,--version-script=tools/libs/light/libxl.map -o $@ $(SO_OBJS) $(LDLIBS)
tools/helpers/libxl-save-helper: tools/helpers/libxl-save-helper.o $(LIBS)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBS) $(LDLIBS)
XL_SRCS := $(wildcard tools/xl/*.c)
XL_OBJS := $(XL_SRCS:.c=.o)
tools/xl/xl: $(XL_OBJS) $(LIBS)
	$(CC) $(LDFLAGS) -o $@ $(XL_OBJS) $(LIBS) $(LDLIBS)
XL_BINS := tools/helpers/libxl-save-helper tools/xl/xl $(LIBXL_SO)

# `make install [DESTDIR=...] [PREFIX=...]`: the libxl API for other toolstacks.
install: all
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include/xenlight-colo \
	    $(DESTDIR)$(PREFIX)/sbin
	install -m 755 $(LIBXL_SO) $(DESTDIR)$(PREFIX)/lib/
	ln -sf $(notdir $(LIBXL_SO)) $(DESTDIR)$(PREFIX)/lib/libxenlight-colo.so.$(LIBXL_SO_MAJOR)
	ln -sf $(notdir $(LIBXL_SO)) $(DESTDIR)$(PREFIX)/lib/libxenlight-colo.so
	install -m 644 tools/include/libxl.h tools/include/libxl_utils.h tools/include/libxl_uuid.h \
	    $(DESTDIR)$(PREFIX)/include/xenlight-colo/
	install -m 755 tools/xl/xl $(DESTDIR)$(PREFIX)/sbin/xl-colo
	sed -e 's|@PREFIX@|$(PREFIX)|' tools/libs/light/xenlight-colo.pc.in \
	    > $(DESTDIR)$(PREFIX)/lib/pkgconfig/xenlight-colo.pc
	for p in docs/man/*.pod; do n=$$(basename $$p .pod); s=$${n##*.}; \
	    install -d $(DESTDIR)$(PREFIX)/share/man/man$$s; \
	    pod2man --section=$$s --center="COLO toolstack" --name=$${n%.*} $$p \
	        > $(DESTDIR)$(PREFIX)/share/man/man$$s/$$n; done

# ---- programs ----------------------------------------------------------------------------
MISC_SRCS := $(wildcard tools/misc/*.c)
MISC_BINS := $(MISC_SRCS:.c=)
$(MISC_BINS): %: %.o $(LIBS)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBS) $(LDLIBS)

# ---- tests -------------------------------------------------------------------------------
ifeq ($(CONFIG_MIGRATION),1)
TEST_SRCS := $(wildcard tools/tests/unit/*.c tools/tests/integration/*.c)
else
TEST_SRCS := tools/tests/unit/test_nomigration.c
endif
TEST_COMMON_SRCS := $(wildcard tools/tests/common/*.c)
TEST_COMMON_OBJS := $(TEST_COMMON_SRCS:.c=.o)
TEST_BINS := $(TEST_SRCS:.c=)
$(TEST_BINS): %: %.o $(TEST_COMMON_OBJS) $(LIBS)
	$(CC) $(LDFLAGS) -o $@ $< $(TEST_COMMON_OBJS) $(LIBS) $(LDLIBS)

ALL := xen/simxen-vcpu $(LIBS) $(MISC_BINS) $(TEST_BINS) $(XL_BINS)
all: config/config.mk $(ALL)

config/config.mk:
	./scripts/install-deps.sh
	./configure

%.o: %.c config/config.mk $(wildcard tools/include/*.h xen/include/*.h tools/libs/guest/*.h tools/libs/light/*.h tools/tests/common/*.h tools/xl/*.h)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

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

# `make check-xen`: boot Debian's Xen 4.17 under QEMU (TCG) and run the real-Xen plan
# (tools/tests/xen/; installs QEMU itself, downloads Debian packages into build/).
check-xen: all
	./tools/tests/xen/install-deps.sh
	./tools/tests/xen/build-image.sh
	./tools/tests/xen/run.sh

check-asan:
	rm -rf build/asan && mkdir -p build/asan
	tar --exclude=./build --exclude=./.git -cf - . | tar -C build/asan -xf -
	cd build/asan && $(MAKE) clean >/dev/null && ./configure --enable-sanitizers && $(MAKE) all
	cd build/asan && ./tools/tests/run-tests.sh

clean:
	rm -f $(ALL) xen/vcpu/*.o xen/*/*.o tools/*/*.o tools/*/*/*.o tools/*/*/*/*.o
	rm -rf build

.PHONY: install two-host-demo all demo check check-nomigration check-asan check-xen bench clean
.SECONDARY:

# `make check-minbase`: the README's Quick start in a fresh debootstrap'd minimal Debian 12
# with only git added (root; downloads minbase once into /var/tmp/colo-minbase).  Not part
# of `make check`: it fetches a whole Debian system.
check-minbase:
	./tools/tests/minimal/test_minbase.sh
.PHONY: check-minbase
