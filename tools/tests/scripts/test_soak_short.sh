#!/bin/bash
# The short soak of `make check`: 500 COLO checkpoints through xl (tools/tests/soak/soak.sh,
# whose 10,000-checkpoint run is `make soak`).  Divergences, fds and RSS are judged; the
# pause and rate windows (50 checkpoints) are printed, not judged: too short to judge
# on a loaded machine.
SOAK_RATES=report exec "$(dirname "$0")/../soak/soak.sh" 500
