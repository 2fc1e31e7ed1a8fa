#!/bin/bash
# `make check-deb`: installs the packages `make deb` built together with Debian's Xen
# (xen-utils-4.17), checks that no file is shared with another package, runs the installed
# xl-colo on the simulated hypervisor, then purges them: the host's package set is the same
# afterwards.  Root.  Usage: check-deb.sh DEB_DIR
set -u
DIR=${1:?usage: check-deb.sh DEB_DIR (the directory make deb wrote the .debs to)}
OURS="xenlight-colo libxenlight-colo0 libxenlight-colo-dev"
DEBIANS="xen-utils-4.17 xen-utils-common libxen-dev"
FAILS=0
ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; FAILS=$((FAILS+1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else notok "$what"; return 1; fi; }

[ "$(id -u)" = 0 ] || { echo "check-deb: run as root (it installs and removes packages)" >&2; exit 1; }
debs=()
for p in $OURS; do
    f=$(ls "$DIR/${p}_"*.deb 2>/dev/null | head -n 1)
    [ -n "$f" ] || { echo "check-deb: no ${p}_*.deb in $DIR (run make deb)" >&2; exit 1; }
    debs+=("$f")
done
for p in $OURS; do
    if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q installed; then
        echo "check-deb: $p is installed already; remove it first (this check would remove it)" >&2
        exit 1
    fi
done
for p in $DEBIANS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        { echo "check-deb: $p is not installed (scripts/install-deps.sh installs it)" >&2; exit 1; }
done
WORK=$(mktemp -d /tmp/check-deb.XXXXXX)
SIM=/dev/shm/checkdeb$$
installed_set() { dpkg-query -W -f='${Package} ${Version} ${Status}\n' | sort; }
installed_set > "$WORK/before"
purge() {
    set +e
    for id in $(SIMXEN_DIR=$SIM xl-colo list 2>/dev/null | awk 'NR>1 {print $2}'); do
        SIMXEN_DIR=$SIM xl-colo destroy "$id" >/dev/null 2>&1
    done
    dpkg -P $OURS >"$WORK/purge.out" 2>&1
}
cleanup() { purge; rm -rf "$WORK" "$SIM"; }
trap cleanup EXIT

start=$SECONDS
dpkg -i "${debs[@]}" >"$WORK/install.out" 2>&1
rc=$?
check "dpkg -i ${debs[*]##*/} beside $DEBIANS" [ $rc = 0 ] || sed 's/^/#   /' "$WORK/install.out"
check "  ... without overwriting another package's file" \
    bash -c "! grep -q 'trying to overwrite' '$WORK/install.out'"

# Every file of ours belongs to us alone (directories are shared by design).
shared=
for p in $OURS; do
    for f in $(dpkg -L "$p" 2>/dev/null); do
        [ -d "$f" ] && [ ! -L "$f" ] && continue
        owners=$(dpkg -S "$f" 2>/dev/null | sed 's/: .*//' | tr -d ' ')
        [ "$owners" = "$p" ] || shared="$shared $f($owners)"
    done
done
check "dpkg -S: each of our files has one owner, our package${shared:+ (shared:$shared)}" [ -z "$shared" ]
check "Debian's xl is still Debian's: $(dpkg -S /usr/sbin/xl 2>&1)" \
    bash -c "dpkg -S /usr/sbin/xl | grep -q '^xen-utils'"
check "Debian's libxl.h is still Debian's: $(dpkg -S /usr/include/libxl.h 2>&1)" \
    bash -c "dpkg -S /usr/include/libxl.h | grep -q '^libxen-dev'"
check "man xl-colo is ours: $(man -w xl-colo 2>&1)" [ "$(man -w xl-colo 2>/dev/null)" = /usr/share/man/man1/xl-colo.1.gz ]

# The installed programs, from their installed paths only.
run() { env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin SIMXEN_DIR=$SIM "$@"; }
run xl-colo help >"$WORK/help" 2>&1
check "xl-colo help" grep -q "migrate-receive" "$WORK/help"
printf 'name = "d1"\nmemory = 16\nvcpus = 1\nsim_program = "incrementer"\nsim_rate = 2000\n' > "$WORK/d1.cfg"
run xl-colo create -q "$WORK/d1.cfg" >"$WORK/out" 2>&1
check "xl-colo create (vcpu runner from /usr/lib/xenlight-colo)" \
    bash -c "env -i SIMXEN_DIR=$SIM /usr/sbin/xl-colo list | awk '\$1==\"d1\" {print \$5}' | grep -qx 'r-----'" ||
    sed 's/^/#   /' "$WORK/out"
run xl-colo save d1 "$WORK/d1.save" >"$WORK/out" 2>&1
check "xl-colo save (libxl-save-helper from /usr/lib/xenlight-colo)" [ $? = 0 ] || sed 's/^/#   /' "$WORK/out"
run xl-colo restore "$WORK/d1.save" >"$WORK/out" 2>&1
check "xl-colo restore" [ $? = 0 ] || sed 's/^/#   /' "$WORK/out"
run xl-colo destroy d1 >"$WORK/out" 2>&1
check "xl-colo destroy" [ $? = 0 ] || sed 's/^/#   /' "$WORK/out"
hdr=$(echo '#include <libxl.h>' | cc $(pkg-config --cflags xenlight-colo) -M -x c - 2>&1 | tr ' \\' '\n\n' | grep '/libxl\.h$')
check "<libxl.h> through pkg-config xenlight-colo is $hdr" [ "$hdr" = /usr/include/xenlight-colo/libxl.h ]

purge
check "dpkg -P $OURS" bash -c "! grep -qi 'error' '$WORK/purge.out'" || sed 's/^/#   /' "$WORK/purge.out"
installed_set > "$WORK/after"
check "the host's packages are as before" cmp -s "$WORK/before" "$WORK/after" ||
    diff "$WORK/before" "$WORK/after" | sed 's/^/#   /'
left=
for f in /usr/sbin/xl-colo /usr/lib/xenlight-colo /usr/include/xenlight-colo; do [ -e "$f" ] && left="$left $f"; done
check "none of our files is left${left:+ (left:$left)}" [ -z "$left" ]
echo "# check-deb: $((SECONDS - start)) s"
exit $((FAILS > 0))
