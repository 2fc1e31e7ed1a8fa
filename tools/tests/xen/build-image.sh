#!/bin/bash
# Builds the real-Xen test image from Debian 12 packages, with this project's binaries
# inside.  Output in $XEN_IMAGE (default build/xen-image):
#   xen.elf     Debian's Xen 4.17 hypervisor (gunzipped multiboot ELF for qemu -kernel)
#   vmlinuz     Debian's amd64 kernel (dom0 and the guests)
#   dom0.cpio   dom0 initramfs: busybox, Debian's Xen tools and their libraries, the Xen
#               kernel modules, this project's binaries (/opt/colo/bin), the guest
#               kernel + initramfs + configs, and dom0-init.sh as /init
# Packages are fetched with `apt-get download` (cached in $XEN_DEBS, default
# build/xen-debs) and unpacked with dpkg -x: nothing is installed on the host.
set -euo pipefail
cd "$(dirname "$0")/../../.."
TOP=$PWD
HERE=$TOP/tools/tests/xen
OUT=${XEN_IMAGE:-$TOP/build/xen-image}
DEBS=${XEN_DEBS:-$TOP/build/xen-debs}
ROOT=$OUT/root
XENVER=4.17
KPKG=${KPKG:-$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')}
KVER=${KPKG#linux-image-}
# Project binaries to put into dom0 (built by `make`); "path:name" renames (our xl
# must not shadow upstream's).
BINS=${XEN_IMAGE_BINS:-tools/misc/xhv-sr tools/xl/xl:xl-colo tools/helpers/libxl-save-helper tools/tests/xen/dom0-canary
      tools/tests/xen/xen-resume-stress tools/tests/xen/reg-canary tools/tests/xen/net-client
      tools/misc/colo-vif-proxy}

PKGS="$KPKG busybox-static
  xen-hypervisor-$XENVER-amd64 xen-utils-$XENVER xen-utils-common xenstore-utils
  libxenmisc$XENVER libxenstore4 libxencall1 libxenforeignmemory1 libxengnttab1
  libxenevtchn1 libxentoollog1 libxendevicemodel1 libxenhypfs1 libxentoolcore1
  libyajl2 libext2fs2 libncurses6 libtinfo6 libc6 liblzma5 libzstd1 zlib1g
  libuuid1 libbz2-1.0 libgcc-s1 libcom-err2 libblkid1 libjson-c5 bash"

mkdir -p "$DEBS" "$OUT"
missing=""
for p in $PKGS; do ls "$DEBS/${p}"_*.deb >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
    echo "build-image: apt-get download$missing"
    ( cd "$DEBS" && apt-get -o APT::Sandbox::User=root download $missing >/dev/null ) || {
        echo "build-image: apt-get download failed (try apt-get update)" >&2; exit 1; }
fi

rm -rf "$ROOT"; mkdir -p "$ROOT"
for d in "$DEBS"/*.deb; do dpkg -x "$d" "$ROOT"; done

gunzip -c "$ROOT/boot/xen-$XENVER-amd64.gz" > "$OUT/xen.elf"
cp "$ROOT/boot/vmlinuz-$KVER" "$OUT/vmlinuz"

put() { mkdir -p "$1/$(dirname "$2")"; cp -L "$ROOT$2" "$1$2"; }
busybox_tree() {
    mkdir -p "$1"/{bin,sbin,proc,sys,dev,tmp,run,etc,root}
    cp "$ROOT/bin/busybox" "$1/bin/busybox"
    for a in $("$ROOT/bin/busybox" --list); do
        [ -e "$1/bin/$a" ] || ln -s busybox "$1/bin/$a"
    done
}
mkcpio() { ( cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc --quiet ) > "$2"; }

# ---- guest initramfs
G=$OUT/domu.tree; rm -rf "$G"; busybox_tree "$G"
install -m755 "$HERE/domu-init.sh" "$G/init"
# the network: netfront and the service the real-network steps talk to (steps/net.sh)
put "$G" "/lib/modules/$KVER/kernel/drivers/net/xen-netfront.ko"
[ -x "$TOP/tools/tests/xen/net-echo" ] && install -m755 "$TOP/tools/tests/xen/net-echo" "$G/bin/net-echo" ||
    echo "build-image: warning: tools/tests/xen/net-echo not built; the network steps will fail" >&2
mkcpio "$G" "$OUT/domu.cpio"
rm -rf "$G"

# ---- dom0 initramfs
R=$OUT/dom0.tree; rm -rf "$R"; busybox_tree "$R"
mkdir -p "$R"/{var/lib,var/log,lib64,boot,etc/xen,opt/colo/bin}
ln -s ../run "$R/var/run"
install -m755 "$HERE/dom0-init.sh" "$R/init"
mkdir -p "$R/usr/lib/xen-$XENVER" "$R/usr/bin"
cp -a "$ROOT/usr/lib/xen-$XENVER/bin" "$R/usr/lib/xen-$XENVER/"
cp -a "$ROOT/usr/lib/xen-$XENVER/boot" "$R/usr/lib/xen-$XENVER/" 2>/dev/null || true
cp -a "$ROOT"/usr/bin/xenstore* "$R/usr/bin/"
# Xen's hotplug scripts (vif-bridge, ...) are bash scripts
rm -f "$R/bin/bash"; cp "$ROOT/bin/bash" "$R/bin/bash"
cp -a "$ROOT/etc/xen/." "$R/etc/xen/"
cp "$HERE"/guests/*.cfg "$R/etc/xen/"
mkdir -p "$R/opt/colo/steps"
for f in "$HERE"/steps/*.sh; do [ -f "$f" ] && install -m644 "$f" "$R/opt/colo/steps/"; done
for b in $BINS; do
    src=${b%%:*}; name=${b#*:}; [ "$name" = "$b" ] && name=$(basename "$src")
    if [ -x "$TOP/$src" ]; then install -m755 "$TOP/$src" "$R/opt/colo/bin/$name"
    else echo "build-image: warning: $src not built; plan steps that need it will fail" >&2; fi
done

# Shared libraries of every ELF in the image, resolved against the unpacked packages.
LDSO=$ROOT/lib64/ld-linux-x86-64.so.2
LP=$ROOT/usr/lib/x86_64-linux-gnu:$ROOT/lib/x86_64-linux-gnu
for f in "$R/usr/lib/xen-$XENVER/bin"/* "$R"/usr/bin/* "$R"/opt/colo/bin/* "$R/bin/bash"; do
    [ -f "$f" ] || continue
    file -L "$f" | grep -q 'ELF.*dynamic' || continue
    "$LDSO" --library-path "$LP" --list "$f" 2>/dev/null | awk '/=> \//{print $3}'
done | sort -u | while read -r lib; do
    rel=${lib#"$ROOT"}
    if [ "$rel" = "$lib" ]; then
        echo "build-image: $lib is in no unpacked package; taking the host's" >&2
        mkdir -p "$R$(dirname "$lib")"; cp -L "$lib" "$R$lib"
    else
        put "$R" "$rel"
    fi
done
put "$R" /lib64/ld-linux-x86-64.so.2
# glibc dlopen()s libgcc_s for pthread_cancel (xl uses it); ldd does not list it.
put "$R" /lib/x86_64-linux-gnu/libgcc_s.so.1

for m in drivers/xen/xen-evtchn drivers/xen/xen-privcmd drivers/xen/xen-gntdev \
         drivers/xen/xen-gntalloc drivers/xen/xenfs/xenfs \
         drivers/virtio/virtio_ring drivers/virtio/virtio \
         drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci_modern_dev \
         drivers/virtio/virtio_pci drivers/block/virtio_blk \
         net/llc/llc net/802/stp net/bridge/bridge drivers/net/xen-netback/xen-netback drivers/net/veth; do
    put "$R" "/lib/modules/$KVER/kernel/$m.ko"
done
cp "$OUT/vmlinuz" "$R/boot/vmlinuz"
cp "$OUT/domu.cpio" "$R/boot/domu.cpio"
# Uncompressed: the kernel does not decompress it under emulation.
mkcpio "$R" "$OUT/dom0.cpio"
echo "build-image: kernel $KVER, $(du -sh "$OUT/dom0.cpio" | cut -f1) dom0 initramfs in $OUT"
