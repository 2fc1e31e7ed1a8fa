/* The simulated network device (xen/include/simxen-net.h) and the netsend guest: same
 * state, same packets; other host input, other packets; back pressure with a consumer,
 * drops without one; the epoch stamped on packets; the self-check. */
#include <signal.h>
#include <sys/mman.h>

#include "sim_helpers.h"
#include "simxen.h"
#include "simxen-net.h"

static uint64_t queued(struct simxen_net_ring *r)
{
    return atomic_load(&r->prod) - atomic_load(&r->cons);
}

static void test_same_and_different(xc_interface *xch)
{
    enum { N = 64, STEPS = 300 };
    uint32_t a = sim_create(xch, "net-a", "netsend", N, 0, STEPS, 0, 10, 1111, 0);
    uint32_t b = sim_create(xch, "net-b", "netsend", N, 0, STEPS, 0, 10, 2222, 0);
    uint32_t c = sim_create(xch, "net-c", "netsend", N, 0, STEPS, 0, 10, 1111, 0);
    struct simxen_net_ring *ra, *rb, *rc;
    uint64_t first_diff = UINT64_MAX, same_ac = 1, order = 1;

    CHECK(a && b && c, "three netsend guests, divergence period 10, host inputs 1111/2222/1111");
    CHECK(sim_wait_steps(xch, a, STEPS, 5000) == 0 && sim_wait_steps(xch, b, STEPS, 5000) == 0 &&
          sim_wait_steps(xch, c, STEPS, 5000) == 0, "all sent %d packets", STEPS);
    ra = simxen_net_map(NULL, a);
    rb = simxen_net_map(NULL, b);
    rc = simxen_net_map(NULL, c);
    CHECK(ra && rb && rc, "rings mapped");
    if (!ra || !rb || !rc)
        return;
    CHECK(queued(ra) == STEPS && queued(rb) == STEPS && atomic_load(&ra->dropped) == 0,
          "every packet is in the ring (%llu), none dropped", (unsigned long long)queued(ra));
    for (uint64_t i = 0; i < STEPS; i++) {
        struct simxen_net_pkt *pa = &ra->slots[i], *pb = &rb->slots[i], *pc = &rc->slots[i];

        if (pa->seq != i || pa->epoch != 0 || pa->len != 32)
            order = 0;
        if (memcmp(pa, pc, sizeof(*pa)))
            same_ac = 0;
        if (first_diff == UINT64_MAX && memcmp(pa->data, pb->data, 32))
            first_diff = i;
    }
    CHECK(order, "packets numbered 0..%d in order, epoch 0, 32 bytes", STEPS - 1);
    CHECK(same_ac, "same state and host input: the same packets");
    CHECK(first_diff != UINT64_MAX && first_diff > 0,
          "other host input: the same packets up to %llu, then different",
          (unsigned long long)first_diff);
    simxen_net_unmap(ra);
    simxen_net_unmap(rb);
    simxen_net_unmap(rc);
    xhv_domain_destroy(xch, a);
    xhv_domain_destroy(xch, b);
    xhv_domain_destroy(xch, c);
}

static void test_pressure_and_epoch(xc_interface *xch)
{
    uint32_t d = sim_create(xch, "net-d", "netsend", 64, 0, 3000, 0, 0, 0, 1);
    uint32_t e = sim_create(xch, "net-e", "netsend", 64, 0, 1500, 0, 0, 0, 0);
    struct simxen_net_ring *rd = d ? simxen_net_map(NULL, d) : NULL;
    struct simxen_net_ring *re = e ? simxen_net_map(NULL, e) : NULL;
    xhv_sim_status_t st;
    uint64_t s;

    CHECK(rd && re, "two netsend guests with rings");
    if (!rd || !re)
        return;
    CHECK(sim_wait_steps(xch, e, 1500, 5000) == 0, "without a consumer the guest keeps running");
    CHECK(queued(re) == SIMXEN_NET_SLOTS && atomic_load(&re->dropped) == 1500 - SIMXEN_NET_SLOTS,
          "a full ring drops (%llu dropped)", (unsigned long long)atomic_load(&re->dropped));

    /* a consumer (this process) attached: back pressure; epoch set while paused */
    atomic_store(&rd->consumer_pid, getpid());
    CHECK(simxen_net_set_epoch(NULL, d, 7) == 0, "epoch 7 set while the domain is paused");
    CHECK(xhv_domain_unpause(xch, d) == 0, "unpause");
    CHECK(sim_wait_steps(xch, d, SIMXEN_NET_SLOTS, 5000) == 0, "fills the ring");
    usleep(100000);
    s = sim_steps(xch, d);
    CHECK(s == SIMXEN_NET_SLOTS && atomic_load(&rd->dropped) == 0,
          "with a consumer a full ring makes the guest wait (%llu steps, none dropped)",
          (unsigned long long)s);
    CHECK(rd->slots[0].epoch == 7 && rd->slots[SIMXEN_NET_SLOTS - 1].epoch == 7,
          "packets carry the epoch");
    atomic_store(&rd->cons, 100);
    CHECK(sim_wait_steps(xch, d, SIMXEN_NET_SLOTS + 100, 5000) == 0,
          "taking 100 packets lets it send 100 more");
    CHECK(xhv_domain_suspend(xch, d, 5000) == 0 && xhv_domain_resume(xch, d, 1) == 0 &&
          sim_wait_status(xch, d, 5000, 1, &st) == 0 && st.selfchecks_passed == 1 &&
          st.selfchecks_failed == 0, "self-check passes after a resume");
    atomic_store(&rd->consumer_pid, 0);
    simxen_net_unmap(rd);
    simxen_net_unmap(re);
    xhv_domain_destroy(xch, d);
    xhv_domain_destroy(xch, e);
}

int main(void)
{
    xc_interface *xch = sim_open();

    test_same_and_different(xch);
    test_pressure_and_epoch(xch);
    xhv_close(xch);
    return test_done();
}
