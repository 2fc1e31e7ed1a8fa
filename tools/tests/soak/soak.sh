#!/bin/bash
# COLO soak on the simulated hypervisor, through the project's xl on one host:
# `xl -v remus -c` of a guest that dirties memory fast ("divergent", 20,000 pages/s)
# into a receiver whose host input differs (SIMXEN_HOST_INPUT), so the secondary writes
# pages of its own between checkpoints and the back channel's dirty list matters.  The
# receiver compares the pair page by page after every applied checkpoint
# (LIBXL_TEST_COLO_COMPARE; that comparison reads the live primary, so the sender sends
# every checkpoint while the primary is suspended: LIBXL_CHECKPOINT_STAGING=0).
#
#   tools/tests/soak/soak.sh [CHECKPOINTS [INTERVAL_MS]]      (default 10000, 10)
#
# Checks:
#   - CHECKPOINTS checkpoints reached, every one compared, 0 divergences;
#   - every process of the pair (xl, the save helpers, the receiver, the vcpu
#     processes), sampled after a tenth of the run, at half and at the end: open fds
#     equal, and RSS grown by at most SOAK_RSS_SLACK_KIB (default 4096) over the second
#     half (the restore helper's moves up and down by ~3 MiB as checkpoints vary); under
#     AddressSanitizer (its quarantine keeps freed memory) RSS is reported, not judged,
#     and LeakSanitizer judges leaks instead;
#   - median pause (xl's "last downtime") and checkpoint rate of the first and the last
#     window (1,000 checkpoints, or a tenth of a shorter run) within 20 % of each other
#     (SOAK_RATES=report: printed, not judged; the short soak in `make check` does
#     that, its windows being too short to judge on a loaded machine).
# Prints a summary ("soak: ...") and the per-process table; exit status 0 if all hold.
set -u
N=${1:-10000}
INTERVAL=${2:-10}
. "$(dirname "$0")/../scripts/local.inc"
SLACK=${SOAK_RSS_SLACK_KIB:-4096}
asan=0
grep -q '^CONFIG_SANITIZERS := 1' "$ROOT/config/config.mk" 2>/dev/null && asan=1

"$XL" create -q "$(guest_cfg k1 divergent 64 20000)" > "$WORK/create.out" 2>&1
check "create the soak guest" running_ok k1 || { sed 's/^/#   /' "$WORK/create.out"; exit 1; }
pvm=$("$XL" list k1 2>/dev/null | awk 'NR == 2 {print $2}')
start=$(date +%s)
LIBXL_CHECKPOINT_STAGING=0 "$XL" -v remus -c -i "$INTERVAL" -s "" k1 \
    "env SIMXEN_HOST_INPUT=7 LIBXL_TEST_COLO_COMPARE=$pvm $XL migrate-receive --colo" \
    > "$WORK/remus.out" 2>&1 &
rp=$!

# Every process of this hypervisor (its SIMXEN_DIR in the environment): pid, name, RSS
# in KiB, open fds.
sample() {
    local p e
    for p in /proc/[0-9]*; do
        e=$(tr '\0' '\n' 2>/dev/null < "$p/environ") || continue
        echo "$e" | grep -qx "SIMXEN_DIR=$SIMXEN_DIR" || continue
        printf '%s %s %s %s\n' "${p#/proc/}" "$(cat "$p/comm" 2>/dev/null)" \
            "$(awk '/^VmRSS:/ {print $2}' "$p/status" 2>/dev/null)" \
            "$(ls "$p/fd" 2>/dev/null | wc -l)"
    done
}
# Checkpoints the sender has reported (xl -v: one progress line per checkpoint).
count() {
    tr '\r' '\n' < "$WORK/remus.out" | sed -n 's/^COLO: checkpoint \([0-9]*\) .*/\1/p' | tail -n 1
}
first_sample=
mid_sample=
n=0
while kill -0 $rp 2>/dev/null; do
    n=$(count); n=${n:-0}
    if [ -z "$first_sample" ] && [ "$n" -ge $((N / 10)) ] && [ "$n" -gt 0 ]; then
        sample > "$WORK/first"; first_sample=$n
    fi
    if [ -z "$mid_sample" ] && [ "$n" -ge $((N / 2)) ] && [ "$n" -gt 0 ]; then
        sample > "$WORK/mid"; mid_sample=$n
    fi
    [ "$n" -ge "$N" ] && break
    [ $(( $(date +%s) - start )) -gt $((N / 5 + 600)) ] && break
    sleep 1
done
sample > "$WORK/last"
last_sample=$(count)
elapsed=$(( $(date +%s) - start ))
kill -TERM $rp 2>/dev/null; wait $rp 2>/dev/null

check "$N checkpoints reached (got $n in $elapsed s)" [ "$n" -ge "$N" ] ||
    tr '\r' '\n' < "$WORK/remus.out" | grep -v '^COLO: checkpoint' | tail -n 20 | sed 's/^/#   /'
compared=$(grep -c 'libxl: test: COLO checkpoint [0-9]*: 0 pages' "$WORK/remus.out")
diverged=$(grep -cE 'libxl: test: COLO checkpoint [0-9]+: [1-9][0-9]* pages' "$WORK/remus.out")
check "every checkpoint compared, 0 divergences ($compared compared, $diverged differ)" \
    eval '[ "$diverged" = 0 ] && [ "$compared" -ge "$N" ]'
grep -E 'libxl: test: COLO checkpoint [0-9]+: [1-9][0-9]* pages' "$WORK/remus.out" | head -n 3 |
    sed 's/^/#   /'

# Processes: first (after a tenth of the run), middle and last sample.  A leak grows
# on through the second half; what the allocator takes while it warms up, and gives
# back now and then, does not: RSS is judged from the middle to the last sample
# (SOAK_RSS_SLACK_KIB), fds at all three.  A process missing from a later sample is
# judged changed.
say "process table: pid name rss_kib(first mid last) fds(first mid last), at checkpoints ${first_sample:-none} ${mid_sample:-none} ${last_sample:-none}"
bad_fd=0; bad_rss=0; procs=0
if [ -n "$first_sample" ] && [ -n "$mid_sample" ]; then
    while read -r pid name rss fds; do
        set -- $(awk -v p="$pid" '$1 == p {print $3, $4}' "$WORK/mid") \
               $(awk -v p="$pid" '$1 == p {print $3, $4}' "$WORK/last")
        procs=$((procs + 1))
        say "  $pid $name $rss ${1:-gone} ${3:-gone}  $fds ${2:-gone} ${4:-gone}"
        [ $# = 4 ] && [ "$fds" = "$2" ] && [ "$2" = "$4" ] || bad_fd=$((bad_fd + 1))
        [ $# = 4 ] && [ "$3" -le $(($1 + SLACK)) ] || bad_rss=$((bad_rss + 1))
    done < "$WORK/first"
fi
check "open fds of every process flat ($procs processes, $bad_fd changed)" \
    eval '[ "$procs" -ge 3 ] && [ "$bad_fd" = 0 ]'
if [ $asan = 1 ]; then
    say "RSS under AddressSanitizer: reported above, not judged ($bad_rss grew by more than $SLACK KiB)"
else
    check "RSS of every process flat over the second half (at most +$SLACK KiB; $bad_rss grew more)" \
        eval '[ "$procs" -ge 3 ] && [ "$bad_rss" = 0 ]'
fi

# Pauses and rate: the first and the last window of checkpoints.
W=$(( N >= 10000 ? 1000 : N / 10 ))
tr '\r' '\n' < "$WORK/remus.out" |
    sed -n 's/^COLO: checkpoint \([0-9]*\) (\([0-9.]*\) s; last downtime \([0-9.]*\) ms)$/\1 \2 \3/p' \
    > "$WORK/ckpts"
read -r p1 p2 r1 r2 <<<"$(python3 - "$WORK/ckpts" "$W" "$N" <<'EOF'
import statistics, sys
rows = [tuple(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
w, n = int(sys.argv[2]), int(sys.argv[3])
rows = [r for r in rows if r[0] <= n]
if len(rows) < 2 * w or w < 2:
    print("0 0 0 0"); sys.exit()
a, b = rows[1:w + 1], rows[-w:]          # checkpoint 1 is the end of the live migration
def rate(x):
    return (len(x) - 1) / (x[-1][1] - x[0][1]) if x[-1][1] > x[0][1] else 0
print(statistics.median(r[2] for r in a), statistics.median(r[2] for r in b), rate(a), rate(b))
EOF
)"
say "pause median: first $W checkpoints $p1 ms, last $W $p2 ms; rate: $r1 /s then $r2 /s"
within() { python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); sys.exit(0 if a > 0 and b > 0 and abs(b - a) <= 0.2 * a else 1)" "$1" "$2"; }
if [ "${SOAK_RATES:-judge}" = report ]; then
    say "pause and rate: reported, not judged (SOAK_RATES=report)"
else
    check "median pause of the last $W checkpoints within 20 % of the first $W" within "$p1" "$p2"
    check "checkpoint rate of the last $W within 20 % of the first $W" within "$r1" "$r2"
fi
echo "soak: $n checkpoints in $elapsed s, $compared compared, $diverged divergences, $procs processes ($bad_fd fd changes, $bad_rss RSS growths over $SLACK KiB), pause median $p1 -> $p2 ms, rate $r1 -> $r2 /s"
[ "$FAILS" = 0 ]
