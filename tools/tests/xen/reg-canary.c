/*
 * The dom0 register canary: a process that loads its vector registers (ymm0-15 with
 * AVX, xmm0-15 without) with a known pattern, spins on scalar instructions only, and
 * reads them back.  Nothing in between touches them, so a difference is a register
 * state that the hypervisor or the kernel restored wrong at a context switch (another
 * domain's or another process's state), not a memory fault.  Why: the dom0 faults of
 * the COLO steps (docs/real-xen.md) never hit the memory canary's pages, and they look
 * like string functions going wrong (a byte lost in a copied word; glibc's string
 * functions use these registers).
 *
 *   reg-canary [-i] [-l LOG] [-s SPIN] [-n ROUNDS]       (at nice 19)
 *
 * Each mismatch appends a line "REG-BAD reg=ymmN lane=L got=... want=... round=R" to
 * LOG (default stdout); "REG-STAT rounds=R bad=B avx=0|1" every 64 rounds and at exit.
 * ROUNDS 0 (the default) runs until killed.  With -i a register is changed on purpose
 * between load and store (the self-test: a REG-BAD for each of its lanes, every round).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NREG 16

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

/* Loads want[] into the registers, spins, stores them into got[]; inject: ymm5/xmm5
 * changes in between. */
static void round_avx(const uint64_t (*want)[4], uint64_t (*got)[4], uint64_t spin, int inject)
{
    __asm__ volatile(
        "vmovdqu 0(%0), %%ymm0\n\t"    "vmovdqu 32(%0), %%ymm1\n\t"
        "vmovdqu 64(%0), %%ymm2\n\t"   "vmovdqu 96(%0), %%ymm3\n\t"
        "vmovdqu 128(%0), %%ymm4\n\t"  "vmovdqu 160(%0), %%ymm5\n\t"
        "vmovdqu 192(%0), %%ymm6\n\t"  "vmovdqu 224(%0), %%ymm7\n\t"
        "vmovdqu 256(%0), %%ymm8\n\t"  "vmovdqu 288(%0), %%ymm9\n\t"
        "vmovdqu 320(%0), %%ymm10\n\t" "vmovdqu 352(%0), %%ymm11\n\t"
        "vmovdqu 384(%0), %%ymm12\n\t" "vmovdqu 416(%0), %%ymm13\n\t"
        "vmovdqu 448(%0), %%ymm14\n\t" "vmovdqu 480(%0), %%ymm15\n\t"
        "mov %2, %%rcx\n"
        "1:\n\t"
        "dec %%rcx\n\t"
        "jnz 1b\n\t"
        "test %3, %3\n\t"
        "jz 2f\n\t"
        "vpcmpeqd %%ymm5, %%ymm5, %%ymm5\n"
        "2:\n\t"
        "vmovdqu %%ymm0, 0(%1)\n\t"    "vmovdqu %%ymm1, 32(%1)\n\t"
        "vmovdqu %%ymm2, 64(%1)\n\t"   "vmovdqu %%ymm3, 96(%1)\n\t"
        "vmovdqu %%ymm4, 128(%1)\n\t"  "vmovdqu %%ymm5, 160(%1)\n\t"
        "vmovdqu %%ymm6, 192(%1)\n\t"  "vmovdqu %%ymm7, 224(%1)\n\t"
        "vmovdqu %%ymm8, 256(%1)\n\t"  "vmovdqu %%ymm9, 288(%1)\n\t"
        "vmovdqu %%ymm10, 320(%1)\n\t" "vmovdqu %%ymm11, 352(%1)\n\t"
        "vmovdqu %%ymm12, 384(%1)\n\t" "vmovdqu %%ymm13, 416(%1)\n\t"
        "vmovdqu %%ymm14, 448(%1)\n\t" "vmovdqu %%ymm15, 480(%1)\n\t"
        "vzeroupper\n\t"
        :
        : "r"(want), "r"(got), "r"(spin), "r"((uint64_t)inject)
        : "rcx", "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6",
          "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

static void round_sse(const uint64_t (*want)[4], uint64_t (*got)[4], uint64_t spin, int inject)
{
    __asm__ volatile(
        "movdqu 0(%0), %%xmm0\n\t"    "movdqu 32(%0), %%xmm1\n\t"
        "movdqu 64(%0), %%xmm2\n\t"   "movdqu 96(%0), %%xmm3\n\t"
        "movdqu 128(%0), %%xmm4\n\t"  "movdqu 160(%0), %%xmm5\n\t"
        "movdqu 192(%0), %%xmm6\n\t"  "movdqu 224(%0), %%xmm7\n\t"
        "movdqu 256(%0), %%xmm8\n\t"  "movdqu 288(%0), %%xmm9\n\t"
        "movdqu 320(%0), %%xmm10\n\t" "movdqu 352(%0), %%xmm11\n\t"
        "movdqu 384(%0), %%xmm12\n\t" "movdqu 416(%0), %%xmm13\n\t"
        "movdqu 448(%0), %%xmm14\n\t" "movdqu 480(%0), %%xmm15\n\t"
        "mov %2, %%rcx\n"
        "1:\n\t"
        "dec %%rcx\n\t"
        "jnz 1b\n\t"
        "test %3, %3\n\t"
        "jz 2f\n\t"
        "pcmpeqd %%xmm5, %%xmm5\n"
        "2:\n\t"
        "movdqu %%xmm0, 0(%1)\n\t"    "movdqu %%xmm1, 32(%1)\n\t"
        "movdqu %%xmm2, 64(%1)\n\t"   "movdqu %%xmm3, 96(%1)\n\t"
        "movdqu %%xmm4, 128(%1)\n\t"  "movdqu %%xmm5, 160(%1)\n\t"
        "movdqu %%xmm6, 192(%1)\n\t"  "movdqu %%xmm7, 224(%1)\n\t"
        "movdqu %%xmm8, 256(%1)\n\t"  "movdqu %%xmm9, 288(%1)\n\t"
        "movdqu %%xmm10, 320(%1)\n\t" "movdqu %%xmm11, 352(%1)\n\t"
        "movdqu %%xmm12, 384(%1)\n\t" "movdqu %%xmm13, 416(%1)\n\t"
        "movdqu %%xmm14, 448(%1)\n\t" "movdqu %%xmm15, 480(%1)\n\t"
        :
        : "r"(want), "r"(got), "r"(spin), "r"((uint64_t)inject)
        : "rcx", "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6",
          "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

static void usage(void)
{
    fprintf(stderr, "usage: reg-canary [-i] [-l LOG] [-s SPIN] [-n ROUNDS]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    uint64_t want[NREG][4], got[NREG][4], spin = 2000000, rounds = 0, bad = 0;
    bool avx = __builtin_cpu_supports("avx");
    FILE *log = stdout;
    int opt, inject = 0;

    while ((opt = getopt(argc, argv, "il:s:n:")) != -1) {
        switch (opt) {
        case 'i': inject = 1; break;
        case 'l':
            log = fopen(optarg, "a");
            if (!log) {
                perror(optarg);
                return 1;
            }
            break;
        case 's': spin = strtoull(optarg, NULL, 0); break;
        case 'n': rounds = strtoull(optarg, NULL, 0); break;
        default: usage();
        }
    }
    if (!spin)
        usage();
    setvbuf(log, NULL, _IOLBF, 0);
    /* a background watcher: the plan's own work goes first */
    if (nice(19) == -1)
        perror("nice");
    for (uint64_t r = 1; !rounds || r <= rounds; r++) {
        unsigned int lanes = avx ? 4 : 2;

        for (int i = 0; i < NREG; i++)
            for (int l = 0; l < 4; l++)
                want[i][l] = mix(((uint64_t)getpid() << 40) ^ (r << 8) ^ (uint64_t)(i * 4 + l));
        memset(got, 0, sizeof(got));
        (avx ? round_avx : round_sse)((const uint64_t (*)[4])want, got, spin, inject);
        for (int i = 0; i < NREG; i++)
            for (unsigned int l = 0; l < lanes; l++)
                if (got[i][l] != want[i][l]) {
                    bad++;
                    fprintf(log, "REG-BAD reg=%s%d lane=%u got=%#018llx want=%#018llx round=%llu "
                            "pid=%d\n", avx ? "ymm" : "xmm", i, l, (unsigned long long)got[i][l],
                            (unsigned long long)want[i][l], (unsigned long long)r, (int)getpid());
                }
        if (r % 64 == 0)
            fprintf(log, "REG-STAT rounds=%llu bad=%llu avx=%d\n", (unsigned long long)r,
                    (unsigned long long)bad, avx);
    }
    fprintf(log, "REG-STAT rounds=%llu bad=%llu avx=%d\n", (unsigned long long)rounds,
            (unsigned long long)bad, avx);
    return bad ? 1 : 0;
}
