#!/bin/bash
# The libxl API for other toolstacks: `make install` into a staging dir, then the example
# program is compiled with pkg-config against the installed header and shared library
# (versioned soname) and run; its save file is a libxl stream verify-stream-v2 accepts.
. "$(dirname "$0")/local.inc"
if grep -q "CONFIG_SANITIZERS := 1" "$ROOT/config/config.mk"; then
    echo "ok - # SKIP sanitizer build: the example is built without sanitizers"; exit 0
fi
INST=$WORK/inst
# The configured PREFIX: another one would rebuild this tree with other compiled-in paths.
LIBDIR=$(make -C "$ROOT" -s print-LIBDIR); INCDIR=$(make -C "$ROOT" -s print-INCLUDEDIR)
PCDIR=$(make -C "$ROOT" -s print-PKGCONFIGDIR)
make -C "$ROOT" -s install DESTDIR="$INST" >"$WORK/install.out" 2>&1
check "make install DESTDIR=..." [ $? = 0 ]
installed() { [ -f "$INST$INCDIR/xenlight-colo/libxl.h" ] &&
              [ -f "$INST$PCDIR/xenlight-colo.pc" ] &&
              [ -L "$INST$LIBDIR/libxenlight-colo.so.0" ]; }
check "  ... installs the header, the pkg-config file and the library" installed
soname=$(readelf -d "$INST$LIBDIR/libxenlight-colo.so.0" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
check "the shared library's soname is versioned ($soname)" [ "$soname" = libxenlight-colo.so.0 ]
exported=$(nm -D --defined-only "$INST$LIBDIR/libxenlight-colo.so.0" | awk '$2=="T"{print $3}')
check "it exports the libxl_* API only ($(echo "$exported" | wc -l) functions)" \
    [ -z "$(echo "$exported" | grep -v '^libxl_')" ]
flags=$(PKG_CONFIG_PATH=$INST$PCDIR PKG_CONFIG_SYSROOT_DIR=$INST \
        pkg-config --cflags --libs xenlight-colo)
say "pkg-config --cflags --libs xenlight-colo: $flags"
cc -Wall -Werror -o "$WORK/libxl-example" "$ROOT/tools/examples/libxl-example.c" $flags \
    >"$WORK/cc.out" 2>&1
check "the example compiles against the installed library" [ $? = 0 ]
LD_LIBRARY_PATH=$INST$LIBDIR "$WORK/libxl-example" "$WORK/example.libxl" >"$WORK/run.out" 2>&1
rc=$?
sed 's/^/#   /' "$WORK/run.out"
check "the example creates, saves, restores and runs a guest" [ $rc = 0 ]
check "  ... linked dynamically" \
    bash -c "LD_LIBRARY_PATH=$INST$LIBDIR ldd $WORK/libxl-example | grep -q 'libxenlight-colo.so.0 => $INST'"
verify_xl libxl "$WORK/example.libxl"
check "verify-stream-v2 -f libxl accepts the libxl stream it saved" [ $? = 0 ]
exit $((FAILS > 0))
