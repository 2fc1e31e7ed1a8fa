#!/bin/sh
# /init of the test guest (busybox initramfs, console on hvc0).
# Every second: check that the 1 MiB pattern in tmpfs still has the checksum recorded
# when it was written (the memory self-check), write a new random pattern (dirtying
# 256 pages), record its checksum, print "@@CNT <n> <ok|BAD>".  A guest that survives
# save/restore/migration/failover keeps counting from where it was, with "ok".
# Every second it also writes one page of a 1 MiB scratch file, chosen by timing (the
# centisecond of the uptime and how many reads of it one clock tick takes): two copies
# of this guest started from the same memory (a COLO pair) soon write different pages,
# as real guests diverge on interrupts and I/O.  Without it a pair could dirty the same
# pages for many checkpoints, and the COLO test that drops the secondary's dirty list
# found no difference in one CI run.
export PATH=/bin
mount -t proc proc /proc
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /mem; mount -t tmpfs tmpfs /mem
read up _ < /proc/uptime
echo "@@DOMU_UP uptime=$up"
# With xip=ADDR on the command line (a guest with a vif, steps/net.sh): netfront, the
# address on eth0 (/24) and the request/response service (net-echo.c; xnettime=1: its
# answers carry the guest's clock, so two copies differ; xnetquiet=1: below).
for a in $(cat /proc/cmdline); do
    case "$a" in xip=*) XIP=${a#xip=} ;; xnettime=1) NETT=-t ;; xnetquiet=1) NETQ=1 ;; esac
done
if [ -n "$XIP" ]; then
    insmod /lib/modules/*/kernel/drivers/net/xen-netfront.ko
    n=0; while [ ! -e /sys/class/net/eth0 ] && [ $n -lt 50 ]; do n=$((n+1)); sleep 0.2; done
    ip link set lo up
    # xnetquiet=1 (two guests booted apart behind the compare proxy, steps/net.sh): no
    # TCP timestamps (theirs differ, and the survivor's would be refused by its peers)
    # and no IPv6 (its chatter comes at each guest's own time)
    if [ -n "$NETQ" ]; then
        echo 0 > /proc/sys/net/ipv4/tcp_timestamps
        echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6
        echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6
    fi
    ip addr add "$XIP/24" dev eth0 && ip link set eth0 up && echo "@@NET eth0 $XIP up" ||
        echo "@@NET eth0 $XIP FAILED"
    net-echo $NETT &
fi
dd if=/dev/zero of=/mem/scratch bs=64k count=16 2>/dev/null
i=0; bad=0
while :; do
    i=$((i+1))
    st=ok
    if [ -f /mem/sum ] && ! md5sum -c -s /mem/sum 2>/dev/null; then st=BAD; bad=$((bad+1)); fi
    dd if=/dev/urandom of=/mem/pat bs=64k count=16 2>/dev/null
    (cd / && md5sum /mem/pat > /mem/sum.new && mv /mem/sum.new /mem/sum)
    read t0 _ < /proc/uptime; t=$t0; n=0
    while [ "$t" = "$t0" ] && [ $n -lt 1000 ]; do n=$((n+1)); read t _ < /proc/uptime; done
    cs=${t#*.}
    dd if=/dev/urandom of=/mem/scratch bs=4k count=1 seek=$(( (n * 7 + 1$cs) % 256 )) \
        conv=notrunc 2>/dev/null
    echo "@@CNT $i $st bad=$bad"
    sleep 1
done
