/*
 * The HVM context blob: an HVM-save-like sequence of records, each a descriptor
 * {u16 typecode, u16 instance, u32 length} followed by length bytes of body.
 *   HEADER (1):     u32 magic 0x54381286, u32 version 1, u64 changeset, u32 cpuid,
 *                   u32 gtsc_khz                                    (24 bytes)
 *   SIM CPU (0x5349 'SI'): u32 prog_id, u32 reserved(0), char prog_name[16],
 *                   u64 args[4], u64 pc, pass, prng, count, r[4], u64 host_input
 *                                                                    (160 bytes)
 *   END (0):        length 0
 * All fields little-endian (the host's order; the sim only runs on x86-64/arm64 LE).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "simxen-shared.h"

#define HDR_LEN 24
#define CPU_LEN 160

static uint8_t *put_desc(uint8_t *p, uint16_t type, uint16_t inst, uint32_t len)
{
    memcpy(p, &type, 2);
    memcpy(p + 2, &inst, 2);
    memcpy(p + 4, &len, 4);
    return p + 8;
}

static uint8_t *put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); return p + 4; }
static uint8_t *put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); return p + 8; }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

size_t sim_ctx_encode(uint8_t *buf, size_t size, const struct sim_cpu_state *cpu, uint32_t khz)
{
    size_t need = 8 + HDR_LEN + 8 + CPU_LEN + 8;
    uint8_t *p = buf;

    if (size < need)
        return 0;
    memset(buf, 0, need);
    p = put_desc(p, SIM_CTX_TYPE_HEADER, 0, HDR_LEN);
    p = put32(p, SIM_CTX_MAGIC);
    p = put32(p, SIM_CTX_VERSION);
    p = put64(p, 0);
    p = put32(p, 0);
    p = put32(p, khz);
    p = put_desc(p, SIM_CTX_TYPE_CPU, 0, CPU_LEN);
    p = put32(p, cpu->prog_id);
    p = put32(p, 0);
    memcpy(p, cpu->prog_name, 16);
    p += 16;
    for (int i = 0; i < 4; i++)
        p = put64(p, cpu->args[i]);
    p = put64(p, cpu->regs.pc);
    p = put64(p, cpu->regs.pass);
    p = put64(p, cpu->regs.prng);
    p = put64(p, cpu->regs.count);
    for (int i = 0; i < 4; i++)
        p = put64(p, cpu->regs.r[i]);
    p = put64(p, cpu->host_input);
    p += CPU_LEN - 128;             /* reserved, zero */
    p = put_desc(p, SIM_CTX_TYPE_END, 0, 0);
    return (size_t)(p - buf);
}

#define BAD(...) do { snprintf(why, whylen, __VA_ARGS__); errno = EINVAL; return -1; } while (0)

int sim_ctx_decode(const uint8_t *buf, size_t len, uint64_t npages, struct sim_cpu_state *cpu,
                   char *why, size_t whylen)
{
    size_t off = 0;
    int seen_hdr = 0, seen_cpu = 0, seen_end = 0;
    const struct sim_program *prog = NULL;

    memset(cpu, 0, sizeof(*cpu));
    if (!buf || len > SIMXEN_CTX_MAX)
        BAD("context size %zu out of range", len);
    while (off < len) {
        uint16_t type, inst;
        uint32_t rlen;
        const uint8_t *b;

        if (len - off < 8)
            BAD("truncated record descriptor at offset %zu", off);
        memcpy(&type, buf + off, 2);
        memcpy(&inst, buf + off + 2, 2);
        rlen = get32(buf + off + 4);
        off += 8;
        if (rlen > len - off)
            BAD("record type %u at offset %zu: length %u overruns the blob", type, off - 8, rlen);
        if (inst != 0)
            BAD("record type %u: instance %u (only vcpu 0 exists)", type, inst);
        b = buf + off;
        if (seen_end)
            BAD("data after the END record");
        switch (type) {
        case SIM_CTX_TYPE_HEADER:
            if (seen_hdr || off != 8)
                BAD("HEADER record must come first, once");
            if (rlen != HDR_LEN)
                BAD("HEADER length %u != %u", rlen, HDR_LEN);
            if (get32(b) != SIM_CTX_MAGIC || get32(b + 4) != SIM_CTX_VERSION)
                BAD("HEADER magic/version 0x%x/%u", get32(b), get32(b + 4));
            seen_hdr = 1;
            break;
        case SIM_CTX_TYPE_CPU:
            if (!seen_hdr || seen_cpu)
                BAD("CPU record out of order or repeated");
            if (rlen != CPU_LEN)
                BAD("CPU record length %u != %u", rlen, CPU_LEN);
            cpu->prog_id = get32(b);
            if (get32(b + 4) != 0)
                BAD("CPU record: reserved field not zero");
            memcpy(cpu->prog_name, b + 8, 16);
            for (int i = 0; i < 4; i++)
                cpu->args[i] = get64(b + 24 + 8 * i);
            cpu->regs.pc = get64(b + 56);
            cpu->regs.pass = get64(b + 64);
            cpu->regs.prng = get64(b + 72);
            cpu->regs.count = get64(b + 80);
            for (int i = 0; i < 4; i++)
                cpu->regs.r[i] = get64(b + 88 + 8 * i);
            cpu->host_input = get64(b + 120);
            for (int i = 128; i < CPU_LEN; i++)
                if (b[i])
                    BAD("CPU record: reserved bytes not zero");
            seen_cpu = 1;
            break;
        case SIM_CTX_TYPE_END:
            if (rlen != 0)
                BAD("END record with length %u", rlen);
            seen_end = 1;
            break;
        default:
            BAD("unknown record type 0x%x", type);
        }
        off += rlen;
    }
    if (!seen_hdr || !seen_cpu || !seen_end)
        BAD("missing %s record", !seen_hdr ? "HEADER" : !seen_cpu ? "CPU" : "END");
    if (memchr(cpu->prog_name, 0, sizeof(cpu->prog_name)) == NULL)
        BAD("program name not terminated");
    if (cpu->prog_id == SIM_PROG_NONE) {
        if (cpu->prog_name[0])
            BAD("program id 0 with a name");
        return 0;
    }
    prog = sim_program_by_id(cpu->prog_id);
    if (!prog || strcmp(prog->name, cpu->prog_name))
        BAD("unknown program id %u / name '%.16s'", cpu->prog_id, cpu->prog_name);
    if (sim_check_common_args(cpu->args) || prog->check_args(cpu->args, npages))
        BAD("program '%s': arguments out of range for %llu pages", prog->name,
            (unsigned long long)npages);
    if (cpu->regs.count > (1ULL << 62))
        BAD("step count out of range");
    if (prog->check_regs(&cpu->regs, cpu->args, npages))
        BAD("program '%s': registers out of range (pc %llu) for %llu pages", prog->name,
            (unsigned long long)cpu->regs.pc, (unsigned long long)npages);
    return 0;
}
