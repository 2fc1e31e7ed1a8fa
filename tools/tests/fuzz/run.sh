#!/bin/bash
# Runs the fuzz targets (built by `make fuzz-build` into build/fuzz).
#   run.sh fuzz SECONDS TARGET...     each target for SECONDS against its corpus; new
#                                     inputs go to build/fuzz/corpus/<target>, the tree's
#                                     seeds and regression inputs are read only
#   run.sh regress SECONDS TARGET...  every seed and regression input once (any
#                                     failure fails the run), then SECONDS of fuzzing
#                                     per target (0: none)
# Per target: one summary line with executions, coverage (cov, ft) and time; the log is
# build/fuzz/logs/<target>.<mode>.log, a crashing input build/fuzz/artifacts/<target>/.
# Campaigns run at nice 19, one target at a time.  FUZZ_JOBS is not supported: the
# machine is shared.
set -u
cd "$(dirname "$0")/../../.." || exit 2
mode=${1:?mode}; secs=${2:?seconds}; shift 2
B=build/fuzz
T=tools/tests/fuzz
mkdir -p "$B/logs"
common=(-timeout=10 -rss_limit_mb=2048 -close_fd_mask=2 -print_final_stats=1)
failed=0
summary() {   # target log seconds
    local execs cov ft
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$2" | tail -1)
    cov=$(grep -oE 'cov: [0-9]+' "$2" | tail -1 | cut -d' ' -f2)
    ft=$(grep -oE 'ft: [0-9]+' "$2" | tail -1 | cut -d' ' -f2)
    printf '%-14s %-8s %8s execs  cov %5s  ft %6s  %4ss\n' "$1" "$4" "${execs:-?}" "${cov:-?}" \
        "${ft:-?}" "$3"
}
for t in "$@"; do
    bin=$B/fuzz_$t
    [ -x "$bin" ] || { echo "run.sh: $bin is not built (make fuzz-build)" >&2; exit 2; }
    dirs=("$T/corpus/$t")
    [ -d "$T/regressions/$t" ] && dirs+=("$T/regressions/$t")
    mkdir -p "$B/corpus/$t" "$B/artifacts/$t"
    art=(-artifact_prefix="$B/artifacts/$t/")
    if [ "$mode" = regress ]; then
        log=$B/logs/$t.regress.log
        start=$SECONDS
        if nice -n 19 "$bin" "${common[@]}" "${art[@]}" -runs=0 "${dirs[@]}" >"$log" 2>&1; then
            summary "$t" "$log" $((SECONDS - start)) inputs
        else
            echo "FAIL $t: an input of ${dirs[*]} fails (log: $log)"
            grep -E 'ERROR|SUMMARY|fuzz:|Test unit written' "$log" | head -5 | sed 's/^/    /'
            failed=1
            continue
        fi
        [ "$secs" -gt 0 ] || continue
    fi
    log=$B/logs/$t.$mode.log
    start=$SECONDS
    if nice -n 19 "$bin" "${common[@]}" "${art[@]}" -max_total_time="$secs" \
        "$B/corpus/$t" "${dirs[@]}" >"$log" 2>&1; then
        summary "$t" "$log" $((SECONDS - start)) fuzz
    else
        echo "FAIL $t: fuzzing found a failing input (log: $log; input in $B/artifacts/$t/)"
        grep -E 'ERROR|SUMMARY|fuzz:|Test unit written' "$log" | head -5 | sed 's/^/    /'
        failed=1
    fi
done
exit $failed
