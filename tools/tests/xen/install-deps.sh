#!/bin/sh
# Debian packages the real-Xen harness needs on the host: QEMU (TCG) to boot Xen, and
# the tools build-image.sh uses (apt-get download + dpkg -x, cpio, file).  A no-op when
# they are installed; as non-root it lists what is missing and fails.
set -e
pkgs="qemu-system-x86 cpio file python3 libxen-dev"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "xen install-deps: missing Debian packages:$missing (run as root)" >&2
    exit 1
fi
echo "xen install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing
