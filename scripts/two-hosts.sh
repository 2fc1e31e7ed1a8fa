#!/bin/bash
# Two "hosts" on this machine for trying migration, Remus and COLO by hand:
# network namespaces colo-a (10.77.0.1) and colo-b (10.77.0.2) joined by a veth pair,
# sshd (Debian's openssh-server) listening in colo-b, one simulated hypervisor per host.
#
#   sudo scripts/two-hosts.sh up          set them up (idempotent)
#   sudo scripts/two-hosts.sh a CMD...    run CMD on host A (xl is this tree's)
#   sudo scripts/two-hosts.sh b CMD...    run CMD on host B
#   sudo scripts/two-hosts.sh down        destroy their domains, remove everything
#
# On host A, `xl remus -c guest hostB` and `xl migrate guest hostB` reach B over ssh:
# the `a` command passes -s "ssh -F <config>" through XL_SSH, and B's fence script
# (it destroys the domain on host A, as a fence agent would power A off) through
# XL_FENCE, e.g.
#   sudo scripts/two-hosts.sh a xl remus -c --fence-script "$XL_FENCE" -s "$XL_SSH" guest hostB
set -e
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/build-tree-env.sh"
RUN=/run/colo-two-hosts
A=colo-a; B=colo-b; IP_A=10.77.0.1; IP_B=10.77.0.2
SIM_A=/dev/shm/colo-hostA; SIM_B=/dev/shm/colo-hostB

[ "$(id -u)" = 0 ] || { echo "two-hosts: run as root (network namespaces, sshd)" >&2; exit 1; }

up() {
    [ -x "$ROOT/tools/xl/xl" ] || make -C "$ROOT" -s
    [ -x /usr/sbin/sshd ] || "$ROOT/scripts/install-deps.sh"
    if ip netns list | grep -qw "$A" && [ -f "$RUN/sshd.pid" ] && kill -0 "$(cat "$RUN/sshd.pid")" 2>/dev/null; then
        echo "two-hosts: already up"; return 0
    fi
    mkdir -p "$RUN" /run/sshd
    ip netns add "$A" 2>/dev/null || true
    ip netns add "$B" 2>/dev/null || true
    if ! ip -n "$A" link show colo-va >/dev/null 2>&1; then
        ip link add colo-va type veth peer name colo-vb
        ip link set colo-va netns "$A"; ip link set colo-vb netns "$B"
        ip -n "$A" addr add "$IP_A/24" dev colo-va; ip -n "$B" addr add "$IP_B/24" dev colo-vb
    fi
    for ns in $A $B; do ip -n $ns link set lo up; done
    ip -n "$A" link set colo-va up; ip -n "$B" link set colo-vb up
    [ -f "$RUN/host_key" ] || ssh-keygen -q -t ed25519 -N '' -f "$RUN/host_key"
    [ -f "$RUN/client_key" ] || ssh-keygen -q -t ed25519 -N '' -f "$RUN/client_key"
    cp "$RUN/client_key.pub" "$RUN/authorized_keys"; chmod 600 "$RUN/authorized_keys"
    cat > "$RUN/sshd_config" <<EOC
ListenAddress $IP_B:22
HostKey $RUN/host_key
PidFile $RUN/sshd.pid
AuthorizedKeysFile $RUN/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
ClientAliveInterval 1
ClientAliveCountMax 3
SetEnv SIMXEN_DIR=$SIM_B $BUILD_TREE_ENV PATH=$ROOT/tools/xl:/usr/sbin:/usr/bin:/sbin:/bin
EOC
    cat > "$RUN/ssh_config" <<EOC
Host hostB
    HostName $IP_B
    User root
    IdentityFile $RUN/client_key
    IdentitiesOnly yes
    StrictHostKeyChecking no
    UserKnownHostsFile /dev/null
    BatchMode yes
    ServerAliveInterval 1
    ServerAliveCountMax 3
    LogLevel ERROR
EOC
    # Host B's fence agent for host A: the secondary takes over only once it succeeded.
    cat > "$RUN/fence-hostA" <<EOC
#!/bin/sh
ip netns exec $A env SIMXEN_DIR=$SIM_A $ROOT/tools/xl/xl destroy "\$1" >/dev/null 2>&1
! ip netns exec $A env SIMXEN_DIR=$SIM_A $ROOT/tools/xl/xl list "\$1" >/dev/null 2>&1
EOC
    chmod +x "$RUN/fence-hostA"
    ip netns exec "$B" /usr/sbin/sshd -f "$RUN/sshd_config"
    for i in $(seq 50); do
        ip netns exec "$A" ssh -F "$RUN/ssh_config" hostB true 2>/dev/null && break; sleep 0.1
    done
    echo "two-hosts: host A = netns $A ($IP_A, SIMXEN_DIR=$SIM_A); host B = netns $B ($IP_B, sshd, SIMXEN_DIR=$SIM_B)"
}

down() {
    set +e
    for d in $SIM_A $SIM_B; do
        [ -d $d ] || continue
        for id in $(SIMXEN_DIR=$d "$ROOT/tools/xl/xl" list 2>/dev/null | awk 'NR>1 {print $2}'); do
            SIMXEN_DIR=$d "$ROOT/tools/xl/xl" destroy $id
        done
        rm -rf $d
    done
    [ -f "$RUN/sshd.pid" ] && kill "$(cat "$RUN/sshd.pid")" 2>/dev/null
    ip netns del $A 2>/dev/null; ip netns del $B 2>/dev/null
    rm -rf "$RUN"
    echo "two-hosts: down"
}

on() {   # ns simdir cmd...
    local ns=$1 sim=$2; shift 2
    [ "$1" = xl ] && { shift; set -- "$ROOT/tools/xl/xl" "$@"; }
    exec ip netns exec "$ns" env SIMXEN_DIR="$sim" XL_SSH="ssh -F $RUN/ssh_config" \
        XL_FENCE="$RUN/fence-hostA" \
        PATH="$ROOT/tools/xl:$PATH" "$@"
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    a) shift; on $A $SIM_A "$@" ;;
    b) shift; on $B $SIM_B "$@" ;;
    *) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
