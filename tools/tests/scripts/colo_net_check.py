#!/usr/bin/python3
"""Client and checker for the COLO network tests (docs/colo-proxy.md).

  colo_net_check.py client SOCKET OUT [SECONDS]
      Reads released packets from the output socket (reconnecting when the proxy is
      replaced), writing "<receive time> <epoch> <seq> <hex>" lines, "# reconnect"
      between connections.

  colo_net_check.py verify CLIENT_OUT PRIMARY_LOG SECONDARY_LOG DIGEST_DIR END_TIME
      Checks what the client saw against what the guests sent:
        * every packet is the primary's packet with that number, in order, none
          missing within a connection;
        * a packet of checkpoint epoch e >= 1 that the secondary did not send
          identically reached the client only after the primary took checkpoint e+1
          (the time libxl wrote DIGEST_DIR/primary-checkpoint-<e+1>), or after
          replication ended (END_TIME, or when libxl wrote DIGEST_DIR/replication-ended);
      and prints counts.  Exit status 1 on a violation.
"""
import os
import socket
import sys
import time


def client(path, out, seconds):
    deadline = time.time() + seconds
    with open(out, "w", buffering=1) as f:
        first = True
        while time.time() < deadline:
            s = socket.socket(socket.AF_UNIX)
            try:
                s.connect(path)
            except OSError:
                s.close()
                time.sleep(0.02)
                continue
            if not first:
                f.write("# reconnect\n")
            first = False
            s.settimeout(0.2)
            buf = b""
            while time.time() < deadline:
                try:
                    d = s.recv(65536)
                except socket.timeout:
                    continue
                except OSError:
                    break
                if not d:
                    break
                now = time.time()
                buf += d
                *lines, buf = buf.split(b"\n")
                for l in lines:
                    f.write("%.6f %s\n" % (now, l.decode()))
            s.close()


def read_log(path, kind):
    pkts = {}
    order = []
    if not os.path.exists(path):
        return pkts, order
    for l in open(path):
        w = l.split()
        if len(w) >= 4 and w[0] == kind:
            key = (int(w[1]), int(w[2]))
            pkts[key] = w[3]
            order.append(key)
    return pkts, order


def verify(client_out, plog, slog, digest_dir, end_time):
    prim, _ = read_log(plog, "P")
    prim_by_seq = {s: (e, h) for (e, s), h in prim.items()}
    sec, _ = read_log(slog, "S")
    cp_time = {}
    for n in os.listdir(digest_dir):
        if n.startswith("primary-checkpoint-"):
            cp_time[int(n.rsplit("-", 1)[1])] = os.stat(os.path.join(digest_dir, n)).st_mtime
    ended = os.path.join(digest_dir, "replication-ended")
    if os.path.exists(ended):   # libxl: replication over, the output passes through
        end_time = min(end_time, os.stat(ended).st_mtime)
    bad = []
    got = agreed = resolved = unprotected = epoch0 = 0
    last = None
    for l in open(client_out):
        if l.startswith("#"):
            last = None
            continue
        t, e, s, h = l.split()
        t, e, s = float(t), int(e), int(s)
        got += 1
        if s not in prim_by_seq:
            bad.append("packet %d (epoch %d) was never sent by the primary" % (s, e))
        elif prim_by_seq[s] != (e, h):
            bad.append("packet %d differs from the primary's" % s)
        if last is not None and s != last + 1:
            bad.append("packet %d follows %d: out of order or missing" % (s, last))
        last = s
        if e == 0:
            epoch0 += 1
            continue
        if sec.get((e, s)) == h:
            agreed += 1
            continue
        cp = cp_time.get(e + 1)
        if cp is not None and t > cp:
            resolved += 1
        elif t > end_time:
            unprotected += 1
        else:
            bad.append("packet %d of epoch %d released at %.6f: the secondary sent %s, and "
                       "checkpoint %d %s" % (s, e, t, "something else" if (e, s) in sec else
                                             "nothing", e + 1, "came at %.6f" % cp if cp
                                             else "never came"))
    diverged = sum(1 for (e, s), h in sec.items() if e >= 1 and prim.get((e, s), h) != h)
    print("client got %d packets: %d before COLO, %d the secondary agreed with, %d released "
          "at a later checkpoint, %d after replication ended; secondary packets that differ "
          "from the primary's: %d; primary checkpoints: %d; violations: %d"
          % (got, epoch0, agreed, resolved, unprotected, diverged, len(cp_time), len(bad)))
    for b in bad[:5]:
        print("  violation: " + b)
    return 1 if bad else 0


if __name__ == "__main__":
    if sys.argv[1] == "client":
        client(sys.argv[2], sys.argv[3], float(sys.argv[4]) if len(sys.argv) > 4 else 10)
    else:
        sys.exit(verify(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], float(sys.argv[6])))
