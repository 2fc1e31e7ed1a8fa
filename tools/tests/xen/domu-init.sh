#!/bin/sh
# /init of the test guest (busybox initramfs, console on hvc0).
# Every second: check that the 1 MiB pattern in tmpfs still has the checksum recorded
# when it was written (the memory self-check), write a new random pattern (dirtying
# 256 pages), record its checksum, print "@@CNT <n> <ok|BAD>".  A guest that survives
# save/restore/migration/failover keeps counting from where it was, with "ok".
export PATH=/bin
mount -t proc proc /proc
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /mem; mount -t tmpfs tmpfs /mem
read up _ < /proc/uptime
echo "@@DOMU_UP uptime=$up"
i=0; bad=0
while :; do
    i=$((i+1))
    st=ok
    if [ -f /mem/sum ] && ! md5sum -c -s /mem/sum 2>/dev/null; then st=BAD; bad=$((bad+1)); fi
    dd if=/dev/urandom of=/mem/pat bs=64k count=16 2>/dev/null
    (cd / && md5sum /mem/pat > /mem/sum.new && mv /mem/sum.new /mem/sum)
    echo "@@CNT $i $st bad=$bad"
    sleep 1
done
