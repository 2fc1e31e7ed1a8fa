# Sourced by the build-tree tests and scripts (bash): the binaries compiled into libxl and
# the simulated hypervisor are the installed ones (PREFIX, docs/install.md), so whatever
# runs from the build tree names the build tree's own through the run-time overrides.
# Values already in the environment are kept (a test may point one elsewhere).
# Sets BUILD_TREE_ENV: the same assignments as one line (for sshd's SetEnv).
_bt_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export SIMXEN_VCPU=${SIMXEN_VCPU:-$_bt_root/xen/simxen-vcpu}
export LIBXL_SAVE_HELPER=${LIBXL_SAVE_HELPER:-$_bt_root/tools/helpers/libxl-save-helper}
export COLO_PROXY=${COLO_PROXY:-$_bt_root/tools/misc/colo-proxy}
BUILD_TREE_ENV="SIMXEN_VCPU=$SIMXEN_VCPU LIBXL_SAVE_HELPER=$LIBXL_SAVE_HELPER COLO_PROXY=$COLO_PROXY"
unset _bt_root
