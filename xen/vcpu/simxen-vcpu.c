/*
 * simxen-vcpu <state-dir> <domid>: the process that runs one simulated domain's vcpu.
 * Spawned (daemonised, output to dom<N>.log) by simxen_domain_create.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simxen.h"

int main(int argc, char **argv)
{
    char *end;
    unsigned long domid;

    if (argc != 3) {
        fprintf(stderr, "usage: %s <state-dir> <domid>\n", argv[0]);
        return 2;
    }
    domid = strtoul(argv[2], &end, 10);
    if (*end || domid == 0 || domid > 0x7fef) {
        fprintf(stderr, "%s: bad domid '%s'\n", argv[0], argv[2]);
        return 2;
    }
    return simxen_vcpu_main(argv[1], (uint32_t)domid);
}
