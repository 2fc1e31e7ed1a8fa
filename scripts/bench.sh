#!/bin/bash
# `make bench`: speed figures with their baselines, measured in the same run.
set -e
cd "$(dirname "$0")/.."
. scripts/build-tree-env.sh
export SIMXEN_DIR=${SIMXEN_DIR:-/dev/shm/simxen-bench}
export XHV_LOGLEVEL=${XHV_LOGLEVEL:-error}
./tools/misc/colo-bench "$@"
# Checkpoint compression: the codec candidates per page, then bytes per Remus checkpoint
# with and without it.
./tools/tests/bench/codec-bench
./tools/tests/bench/compress-bench
# The pause over a shaped 1 Gbit/s link between two namespaces (root only; it says so).
[ "${1:-}" = quick ] || ./tools/tests/bench/colo-shaped-link.sh
