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
LIBDIR=$(make -C "$ROOT" -s --no-print-directory print-LIBDIR); INCDIR=$(make -C "$ROOT" -s --no-print-directory print-INCLUDEDIR)
PCDIR=$(make -C "$ROOT" -s --no-print-directory print-PKGCONFIGDIR)
make -C "$ROOT" -s install DESTDIR="$INST" >"$WORK/install.out" 2>&1
check "make install DESTDIR=..." [ $? = 0 ]
installed() { [ -f "$INST$INCDIR/xenlight-colo/libxl.h" ] &&
              [ -f "$INST$PCDIR/xenlight-colo.pc" ] &&
              [ -L "$INST$LIBDIR/libxenlight-colo.so.0" ]; }
check "  ... installs the header, the pkg-config file and the library" installed
soname=$(readelf -d "$INST$LIBDIR/libxenlight-colo.so.0" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
check "the shared library's soname is versioned ($soname)" [ "$soname" = libxenlight-colo.so.0 ]
# Exactly the functions the installed headers declare (gcc -aux-info lists every
# prototype it saw; function typedefs are not functions): nothing internal, nothing missing.
nm -D --defined-only "$INST$LIBDIR/libxenlight-colo.so.0" |
    awk '$2=="T"{sub(/@.*/,"",$3); print $3}' | sort -u >"$WORK/exported"
printf '#include <libxl.h>\n#include <libxl_utils.h>\n' >"$WORK/h.c"
cc -I"$INST$INCDIR/xenlight-colo" $(pkg-config --cflags json-c) -fsyntax-only \
    -aux-info "$WORK/aux" "$WORK/h.c"
typedefs=$(cat "$INST$INCDIR"/xenlight-colo/*.h | grep -oE 'typedef .*\blibxl_[a-z0-9_]+\(' |
           grep -oE 'libxl_[a-z0-9_]+\($' | tr -d '(')
grep "xenlight-colo/" "$WORK/aux" | grep -oE '\blibxl_[a-z0-9_]+ \(' | sed 's/ (//' |
    grep -vxF "${typedefs:-none}" | sort -u >"$WORK/declared"
same_exports() { [ -s "$WORK/declared" ] && diff "$WORK/declared" "$WORK/exported" >"$WORK/exports.diff"; }
check "it exports exactly the $(wc -l <"$WORK/declared") functions of the public headers" same_exports
sed 's/^/#   /' "$WORK/exports.diff"
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

# A COLO caller written to upstream 4.17's API: it builds against Debian's libxenlight,
# and against ours with only the pkg-config name changed, and its secondary takes over.
caller=$ROOT/tools/examples/upstream-colo-caller.c
cc -Wall -Wextra -Werror -o "$WORK/caller-upstream" "$caller" \
    $(pkg-config --cflags --libs xenlight xentoollog) >"$WORK/cc-up.out" 2>&1
check "the upstream-API COLO caller builds against Debian's libxenlight" [ $? = 0 ]
sed 's/^/#   /' "$WORK/cc-up.out"
cc -Wall -Wextra -Werror -o "$WORK/caller" "$caller" \
    $(PKG_CONFIG_PATH=$INST$PCDIR PKG_CONFIG_SYSROOT_DIR=$INST \
      pkg-config --cflags --libs xenlight-colo xentoollog) >"$WORK/cc-ours.out" 2>&1
check "  ... and against ours with only the pkg-config name changed" [ $? = 0 ]
sed 's/^/#   /' "$WORK/cc-ours.out"
"$XL" create -q "$(guest_cfg u1 incrementer 16 20000)"
LIBXL_HEARTBEAT_TIMEOUT_MS=2000 LD_LIBRARY_PATH=$INST$LIBDIR timeout 60 "$WORK/caller" u1 2 \
    >"$WORK/caller.out" 2>&1
rc=$?
sed 's/^/#   /' "$WORK/caller.out"
check "  ... it protects a guest with COLO and its secondary takes over (rc $rc)" [ $rc = 0 ]
check "  ... and the survivor runs, its self-checks passing" running_ok u1--incoming
exit $((FAILS > 0))
