#!/bin/sh
# Debian packages the real-Xen harness needs on the host: QEMU (TCG) to boot Xen, and
# the tools build-image.sh uses (apt-get download + dpkg -x, cpio, file).
exec "$(dirname "$0")/../../../scripts/install-deps.sh" qemu-system-x86 cpio file python3 libxen-dev
