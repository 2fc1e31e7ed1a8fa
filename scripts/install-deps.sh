#!/bin/sh
# Installs Debian 12 packages (as root; a no-op when they are already there).
# Non-root: prints what is missing and fails.
# Usage: install-deps.sh [PACKAGE...]   (default: what the build and `make check` need)
# xen-utils-4.17 provides upstream's verify-stream-v2 (the conformance check); it needs
# no running hypervisor, and its services are not started here.  build-essential, dpkg-dev,
# debhelper and fakeroot build the Debian packages (`make deb`); binutils (objcopy) and util-linux
# (unshare) are used by tools/tests/scripts/test_install.sh.
set -e
pkgs="$*"
[ -n "$pkgs" ] || pkgs="gcc make pkg-config libc6-dev zlib1g-dev libxen-dev xen-utils-4.17 python3 tar libjson-c-dev openssh-server openssh-client iproute2 perl binutils util-linux build-essential dpkg-dev debhelper fakeroot"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "install-deps: missing Debian packages:$missing (run as root, or apt-get install them)" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: apt-get not found (this installs Debian 12 packages); missing:$missing" >&2
    exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || { echo "install-deps: apt-get update failed (network, /etc/apt/sources.list*?)" >&2; exit 1; }
apt-get install -y -qq --no-install-recommends $missing ||
    { echo "install-deps: apt-get install failed for:$missing" >&2; exit 1; }
