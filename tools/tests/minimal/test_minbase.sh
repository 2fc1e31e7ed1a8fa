#!/bin/bash
# The README's Quick start as a new user meets it: a fresh `debootstrap --variant=minbase`
# Debian 12 with only git added (no make, no gcc), the project cloned inside it, then every
# command of the README's Quick start block run as written, in order, until one fails.
# `make check` is skipped (QEMU, ~15 min) and reported as SKIP, unless MINBASE_FULL=1.
#
# Usage: test_minbase.sh [--rev REV] [--suite]
#   --rev REV   clone REV of this repository instead of HEAD (e.g. main, to see today's flow)
#   --suite     afterwards also run tools/tests/run-tests.sh in the chroot (part of the verdict)
# Environment:
#   MINBASE_CACHE   where the debootstrap tarball and the .deb cache live
#                   (default /var/tmp/colo-minbase; kept between runs and across `make clean`)
#   MINBASE_MIRROR  Debian mirror (default: the host's from /etc/apt/sources.list*)
#   MINBASE_KEEP=1  keep the rootfs (build/minbase/root) afterwards
#   MINBASE_FULL=1  run `make check` too
# Needs root, debootstrap (installed through scripts/install-deps.sh), and network access
# to the mirror.  Exit status 0 only when every command that ran passed and the demo printed
# what it promises.
set -u
top=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$top" || exit 2

say() { printf 'minbase: %s\n' "$*"; }
die() { printf 'minbase: ERROR: %s\n' "$*" >&2; exit 2; }

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, mounts)"
command -v unshare >/dev/null || die "unshare (util-linux) not found"
# In a mount namespace of its own, with nothing propagating back: on a host whose / is a
# shared mount (systemd's default) the tmpfs on the chroot's /dev/shm would otherwise also
# cover the host's /dev/shm, and a run killed before its trap leaves no mounts behind.
if [ -z "${MINBASE_IN_NS:-}" ]; then
    MINBASE_IN_NS=1 exec unshare --mount --propagation private "$0" "$@"
fi

rev=HEAD
suite=0
while [ $# -gt 0 ]; do
    case "$1" in
        --rev) rev=${2:?--rev needs a revision}; shift 2 ;;
        --suite) suite=1; shift ;;
        *) echo "test_minbase: unknown argument '$1'" >&2; exit 2 ;;
    esac
done

[ "$(uname -s)" = Linux ] || die "needs Linux"
# The chroot runs on this kernel, and the simulated hypervisor needs 6.7 (README); on an
# older one the demo would fail for a reason that has nothing to do with the Quick start.
kmaj=$(uname -r | cut -d. -f1); kmin=$(uname -r | cut -d. -f2 | tr -cd 0-9)
if [ "$kmaj" -lt 6 ] || { [ "$kmaj" = 6 ] && [ "${kmin:-0}" -lt 7 ]; }; then
    die "kernel $(uname -r) is older than 6.7, which the simulated hypervisor needs"
fi
command -v chroot >/dev/null || die "chroot (coreutils) not found"
command -v git >/dev/null || die "git not found"
./scripts/install-deps.sh debootstrap || die "could not install debootstrap"

cache=${MINBASE_CACHE:-/var/tmp/colo-minbase}
tarball=$cache/bookworm-minbase.tgz
debs=$cache/archives
work=$top/build/minbase
root=$work/root
logs=$work/logs

host_mirror() {
    # The first Debian (not -security) archive the host's apt uses: the same network path
    # that is known to work here.
    local m
    m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
        sed -n 's|^URIs:[[:space:]]*\([^[:space:]]*/debian\)/\{0,1\}$|\1|p' | head -n1)
    [ -n "$m" ] || m=$(grep -hs '^deb[[:space:]]' /etc/apt/sources.list |
        awk '$2 ~ /\/debian\/?$/ {sub(/\/$/, "", $2); print $2; exit}')
    echo "${m:-http://deb.debian.org/debian}"
}
mirror=${MINBASE_MIRROR:-$(host_mirror)}

# ---- teardown: everything mounted or started under $root goes, even on failure ---------
chroot_pids() {
    local p r
    for p in /proc/[0-9]*; do
        r=$(readlink "$p/root" 2>/dev/null) || continue
        case "$r" in "$root"|"$root"/*) echo "${p#/proc/}" ;; esac
    done
}
mounted_under_root() { awk -v r="$root" '$2 == r || index($2, r "/") == 1 {print $2}' /proc/self/mounts; }
teardown() {
    local pids m tries
    # Daemons a package may have started inside (their services are disabled below, but
    # a postinst could still fork one) keep the mounts busy.
    for tries in 1 2 3; do
        pids=$(chroot_pids)
        [ -z "$pids" ] && break
        kill $([ "$tries" = 3 ] && echo -KILL) $pids 2>/dev/null
        sleep 1
    done
    # Not only what mnt() made: the tests inside add their own (ip netns: /run/netns and
    # one per namespace).  Last mounted first.
    for m in $(mounted_under_root | tac); do
        umount "$m" 2>/dev/null || umount -l "$m" || echo "minbase: WARNING: could not unmount $m" >&2
    done
    if [ -n "$(mounted_under_root)" ]; then
        # Never delete a tree that still has the host's /dev or /proc bound into it.
        echo "minbase: WARNING: still mounted under $root, not removing it:" >&2
        mounted_under_root >&2
        return
    fi
    if [ "${MINBASE_KEEP:-0}" != 1 ] && [ -d "$root" ]; then
        rm -rf --one-file-system "$root"
    fi
}
on_exit() {
    local rc=$?
    teardown
    exit "$rc"
}
trap on_exit EXIT
trap 'echo "minbase: interrupted" >&2; exit 130' INT TERM HUP

mnt() {   # mnt TARGET MOUNT-ARGS...
    local target=$root$1; shift
    mkdir -p "$target"
    mount "$@" "$target" || die "mount $* $target failed"
}

# Like `sh -c` run by root at a login prompt of the minimal system: no variables from here.
in_root() {
    chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        /bin/sh -c "$1"
}

secs() { echo $(( $(date +%s) - $1 )); }

t_all=$(date +%s)
commit=$(git rev-parse --verify -q "$rev^{commit}") || die "no such revision: $rev"
say "testing $rev ($(git log -1 --format='%h %s' "$commit" | cut -c1-70))"
say "kernel $(uname -r), mirror $mirror"
if [ "$rev" = HEAD ] && [ -n "$(git status --porcelain --untracked-files=no)" ]; then
    say "note: uncommitted changes are not in the clone; only the commit is tested"
fi

# ---- a fresh minimal Debian 12 ----------------------------------------------------------
mkdir -p "$cache" "$debs/partial" "$logs"
if mounted_under_root | grep -q .; then
    die "something is still mounted under $root (an earlier run?); unmount it first"
fi
rm -rf --one-file-system "$root"
if [ ! -s "$tarball" ]; then
    t=$(date +%s)
    say "downloading minbase bookworm into $tarball (once; cached afterwards)"
    nice debootstrap --variant=minbase --make-tarball="$tarball.new" bookworm "$work/mk" "$mirror" \
        >"$logs/make-tarball.log" 2>&1 || { tail -20 "$logs/make-tarball.log"; die "debootstrap --make-tarball failed"; }
    mv "$tarball.new" "$tarball"
    rm -rf --one-file-system "$work/mk"
    say "tarball made in $(secs "$t")s"
fi
t=$(date +%s)
nice debootstrap --variant=minbase --unpack-tarball="$tarball" bookworm "$root" "$mirror" \
    >"$logs/debootstrap.log" 2>&1 || { tail -20 "$logs/debootstrap.log"; die "debootstrap failed (log: $logs/debootstrap.log)"; }
say "minbase system in $root in $(secs "$t")s"

# The minimal system's / is a mount point of its own, as on a real one: `ip netns exec`
# (the two-host tests) makes / a slave mount and fails on a plain directory.
mnt "" --bind "$root"
mnt /proc -t proc proc
mnt /sys -t sysfs sysfs
mnt /dev --bind /dev
mnt /dev/pts --bind /dev/pts
mnt /dev/shm -t tmpfs -o mode=1777,nosuid,nodev tmpfs
# Downloaded .debs are kept here between runs; apt still resolves and installs everything.
mnt /var/cache/apt/archives --bind "$debs"
# No service starts inside the chroot: it shares the host's network and would keep the
# mounts busy (as in Debian's container images).
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
cp -L /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true

# What the minimal system lacks: the point of the test.  If make or gcc were already
# there, the test would prove nothing.
for c in make cc gcc pkg-config; do
    if in_root "command -v $c" >/dev/null; then
        die "$c is already in the minbase system; the test would prove nothing"
    fi
done
say "minbase has no make, cc, gcc, pkg-config (as expected)"

# ---- the new user's system: git added ---------------------------------------------------
t=$(date +%s)
in_root 'export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq git' \
    >"$logs/git.log" 2>&1 || { tail -20 "$logs/git.log"; die "apt-get install git failed in the chroot"; }
say "git installed in the chroot in $(secs "$t")s"

# The project as a repository to clone from inside (the clone is what the user gets).
git init -q --bare "$root/srv/colo.git" || die "git init failed"
git push -q "$root/srv/colo.git" "$commit:refs/heads/master" || die "git push into the chroot failed"
git -C "$root/srv/colo.git" symbolic-ref HEAD refs/heads/master
in_root 'git clone -q /srv/colo.git /root/colo' >"$logs/clone.log" 2>&1 ||
    { cat "$logs/clone.log"; die "git clone failed in the chroot"; }
say "cloned into /root/colo"

# ---- the README's Quick start, as documented in the revision under test -----------------
# The indented lines of the section's code block, comments stripped.
quickstart=$(awk '/^## /{q = ($0 ~ /^## Quick start/); next}
                  q && /^    / {sub(/^    +/, ""); sub(/(^|[ \t]+)#.*/, ""); if ($0 != "") print}' \
                 "$root/root/colo/README.md")
[ -n "$quickstart" ] || { echo "FAIL README has no commands in its Quick start section"; exit 1; }
say "README Quick start commands:"
printf '%s\n' "$quickstart" | sed 's/^/    /'

failed=0
ran=0
skipped=0
demo_ran=0
n=0
while IFS= read -r cmd; do
    n=$((n + 1))
    case "$cmd" in
        "make check"|"make check "*)
            if [ "${MINBASE_FULL:-0}" != 1 ]; then
                echo "SKIP $cmd   (QEMU, ~15 min; MINBASE_FULL=1 runs it)"
                skipped=$((skipped + 1))
                continue
            fi ;;
    esac
    log=$logs/step$n.log
    t=$(date +%s)
    in_root "cd /root/colo && $cmd" >"$log" 2>&1 </dev/null
    rc=$?
    ran=$((ran + 1))
    if [ "$rc" != 0 ]; then
        echo "FAIL $cmd   (exit $rc after $(secs "$t")s; log $log)"
        tail -15 "$log" | sed 's/^/    | /'
        failed=1
        break
    fi
    echo "PASS $cmd   ($(secs "$t")s)"
    case "$cmd" in
        *"make demo"*)
            demo_ran=1
            # What the demo promises (README): a guest COLO-protected, a failover, and a
            # secondary that runs on with its self-checks passing.
            if grep -q '^RESULT: [0-9]* checkpoints, secondary identical to primary at every one\.$' "$log" &&
               grep -q '^Secondary after failover: running .*self-checks passed [1-9][0-9]*, failed 0$' "$log"; then
                echo "PASS demo output: $(grep '^RESULT:' "$log")"
                grep -E '^(Primary stopped|Secondary after failover)' "$log" | sed 's/^/    | /'
            else
                echo "FAIL demo output lacks the RESULT / failover lines it promises (log $log)"
                tail -15 "$log" | sed 's/^/    | /'
                failed=1
                break
            fi ;;
    esac
done <<<"$quickstart"

if [ "$failed" = 0 ] && [ "$demo_ran" = 0 ]; then
    echo "FAIL the Quick start never ran make demo"
    failed=1
fi

if [ "$suite" = 1 ]; then
    if [ "$failed" = 0 ]; then
        t=$(date +%s)
        say "running tools/tests/run-tests.sh in the chroot (log $logs/suite.log)"
        in_root 'cd /root/colo && ./tools/tests/run-tests.sh' >"$logs/suite.log" 2>&1 </dev/null
        rc=$?
        grep -E '^(PASS|FAIL) ' "$logs/suite.log"
        grep -E '^(tests:|failed:)' "$logs/suite.log"
        if [ "$rc" = 0 ]; then
            echo "PASS ./tools/tests/run-tests.sh   ($(secs "$t")s)"
        else
            echo "FAIL ./tools/tests/run-tests.sh   (exit $rc after $(secs "$t")s)"
            failed=1
        fi
    else
        echo "SKIP ./tools/tests/run-tests.sh   (the Quick start failed)"
    fi
fi

if [ "$failed" = 0 ]; then
    echo "minbase: PASS ($ran Quick start command(s)$([ "$suite" = 1 ] && echo " and run-tests.sh") passed, $skipped skipped, $(secs "$t_all")s in all)"
    exit 0
fi
echo "minbase: FAIL ($(secs "$t_all")s in all)"
exit 1
