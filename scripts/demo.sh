#!/bin/bash
# The README's first command: a COLO-protected guest on the simulated hypervisor.
set -e
cd "$(dirname "$0")/.."
. scripts/build-tree-env.sh
export SIMXEN_DIR=${SIMXEN_DIR:-/dev/shm/simxen-demo}
export XHV_LOGLEVEL=${XHV_LOGLEVEL:-warn}   # debug for the engine's own account
exec ./tools/misc/colo-demo "${@:-10}"
