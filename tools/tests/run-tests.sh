#!/bin/bash
# Runs every test program and prints a summary line "N passed, N failed".
# Usage: run-tests.sh [nomigration]
cd "$(dirname "$0")/../.." || exit 2
. scripts/build-tree-env.sh
mode=${1:-full}
passed=0; failed=0; failed_names=()
run() {
    local name=$1; shift
    local log=build/test-logs/$(echo "$name" | tr '/ ' '__').log
    mkdir -p build/test-logs
    local start=${EPOCHREALTIME/./}
    if timeout "${TEST_TIMEOUT:-600}" "$@" >"$log" 2>&1; then
        passed=$((passed+1)); status=PASS
    else
        failed=$((failed+1)); status=FAIL; failed_names+=("$name")
    fi
    local us=$(( ${EPOCHREALTIME/./} - start ))
    printf '%-4s %-50s %4d.%01ds\n' "$status" "$name" $((us/1000000)) $(((us/100000)%10))
    if [ "$status" = FAIL ]; then sed 's/^/    | /' "$log" | tail -40; fi
}
if [ "$mode" = nomigration ]; then
    run unit/test_nomigration ./tools/tests/unit/test_nomigration
else
    for t in tools/tests/unit/test_* tools/tests/integration/test_*; do
        [ -x "$t" ] && [ "${t%.c}" = "$t" ] || continue
        case "$t" in *test_nomigration) continue ;; esac
        run "${t#tools/tests/}" "$t"
    done
    for t in tools/tests/scripts/*.sh; do
        [ -x "$t" ] || continue
        run "${t#tools/tests/}" "$t"
    done
fi
echo
echo "tests: $passed passed, $failed failed"
for n in "${failed_names[@]}"; do echo "failed: $n"; done
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
