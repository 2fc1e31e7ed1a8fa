#!/bin/bash
# `make bench`: speed figures with their baselines, measured in the same run.
set -e
cd "$(dirname "$0")/.."
. scripts/build-tree-env.sh
export SIMXEN_DIR=${SIMXEN_DIR:-/dev/shm/simxen-bench}
export XHV_LOGLEVEL=${XHV_LOGLEVEL:-error}
exec ./tools/misc/colo-bench "$@"
