/*
 * The replication protocol under hostile input: a secondary, and a primary, fed bytes
 * built here from the documented layout (docs/disk-replication.md) rather than with the
 * library's encoders.  Each bad input must fail with EPROTO (or ETIMEDOUT) and its named
 * error, and the secondary must tell the primary why in an ERROR message.
 */
#include <stdint.h>

#include "diskrep_helpers.h"
#include "xutil.h"

enum { BS = 512, DISK = 16 * 1024, MAX_IO = 4 * BS };
enum { HELLO = 1, WRITE = 2, RESYNC = 3, FLUSH = 4, CHECKPOINT = 5, ACK = 6, ERROR = 7 };
#define MAGIC 0x50524b44u

static const struct diskrep_config cfg = {
    .block_size = BS,
    .max_io = MAX_IO,
    .hidden_max_blocks = 2,
    .timeout_ms = 300,
};

/* An input under construction. */
struct wire {
    uint8_t b[8192];
    size_t n;
};

static void put(struct wire *w, uint64_t v, size_t bytes)
{
    for (size_t i = 0; i < bytes; i++)
        w->b[w->n++] = (uint8_t)(v >> (8 * i));
}

static void header(struct wire *w, uint32_t magic, uint16_t version, uint16_t type, uint32_t len,
                   uint64_t seq)
{
    put(w, magic, 4);
    put(w, version, 2);
    put(w, type, 2);
    put(w, len, 4);
    put(w, 0, 4);
    put(w, seq, 8);
}

static void hello(struct wire *w, uint64_t seq, uint64_t disk, uint32_t flags, uint32_t hidden)
{
    header(w, MAGIC, 1, HELLO, 24, seq);
    put(w, disk, 8);
    put(w, BS, 4);
    put(w, flags, 4);
    put(w, MAX_IO, 4);
    put(w, hidden, 4);
}

static void raw(struct wire *w, const char *bytes, size_t n)
{
    memcpy(w->b + w->n, bytes, n);
    w->n += n;
}

static void error_msg(struct wire *w, uint64_t seq, uint32_t code, const char *text, uint32_t len)
{
    header(w, MAGIC, 1, ERROR, 8 + len, seq);
    put(w, code, 4);
    put(w, len, 4);
    raw(w, text, len);
}

/* A WRITE/RESYNC of len bytes of 0xab (len_field is the header's payload length). */
static void io(struct wire *w, uint16_t type, uint64_t seq, uint64_t off, uint32_t len,
               uint32_t len_field)
{
    header(w, MAGIC, 1, type, len_field, seq);
    put(w, off, 8);
    put(w, len, 4);
    put(w, 0, 4);
    for (uint32_t i = 0; i < len && w->n < sizeof(w->b); i++)
        w->b[w->n++] = 0xab;
}

static uint32_t get(const uint8_t *p, size_t bytes)
{
    uint32_t v = 0;

    for (size_t i = 0; i < bytes; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

/* A fresh secondary fed w, then the end of the stream: serve's result, the named error,
 * and the code of the ERROR it sent back (-1 if none). */
static int feed_secondary(const struct wire *w, int *code, int *sent, char *msg, size_t msglen)
{
    diskrep_dev *dev = diskrep_dev_mem(DISK);
    diskrep *s = dr_test_new(DISKREP_SECONDARY, dev, &cfg);
    const char *text;
    uint8_t back[4096];
    ssize_t got, i = 0;
    int sv[2], rc, err;

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) || write(sv[0], w->b, w->n) != (ssize_t)w->n)
        exit(2);
    shutdown(sv[0], SHUT_WR);
    diskrep_start(s, sv[1], sv[1]);
    rc = diskrep_serve(s);
    err = errno;
    *code = diskrep_last_error(s, &text);
    snprintf(msg, msglen, "%s", text);
    /* Past the secondary's own HELLO and ACKs, the last message should be its ERROR. */
    shutdown(sv[1], SHUT_WR);
    got = read(sv[0], back, sizeof(back));
    *sent = -1;
    while (got > 0 && i + 24 <= got) {
        uint32_t len = get(back + i + 8, 4), type = get(back + i + 6, 2);

        if (type == ERROR && i + 32 <= got)
            *sent = (int)get(back + i + 24, 4);
        i += 24 + len;
    }
    close(sv[0]);
    close(sv[1]);
    diskrep_free(s);
    diskrep_dev_close(dev);
    errno = err;
    return rc;
}

static void expect_refused(const struct wire *w, int want, const char *what)
{
    char msg[400];
    int code, sent, rc = feed_secondary(w, &code, &sent, msg, sizeof(msg));
    int err = errno;

    CHECK(rc == -1 && (err == EPROTO || (want == DISKREP_E_TIMEOUT && err == ETIMEDOUT)) &&
          code == want && sent == want, "%s: %s (got %s, ERROR sent %s): %s", what,
          diskrep_error_name(want), diskrep_error_name(code), diskrep_error_name(sent), msg);
}

/* A HELLO (unless hello is 0), then one WRITE or RESYNC, each refused. */
static const struct io_case {
    int hello;
    uint16_t type;
    uint64_t seq, off;
    uint32_t len, len_field;
    int want;
    const char *what;
} io_cases[] = {
    { 1, WRITE, 2, 0, BS, 16 + BS + 8, DISKREP_E_TRUNCATED_PAYLOAD, "WRITE whose payload stops short" },
    { 1, WRITE, 2, 0, BS, 16 + BS - 1, DISKREP_E_BAD_LENGTH, "WRITE data length not the payload's" },
    { 1, WRITE, 2, DISK, BS, 16 + BS, DISKREP_E_OFFSET_PAST_END, "WRITE at the disk's end" },
    { 1, WRITE, 2, UINT64_MAX - 100, BS, 16 + BS, DISKREP_E_RANGE_OVERFLOW,
      "WRITE whose offset + length overflows" },
    { 1, WRITE, 2, DISK - 256, BS, 16 + BS, DISKREP_E_RANGE_PAST_END, "WRITE running past the end" },
    { 1, WRITE, 3, 0, BS, 16 + BS, DISKREP_E_SEQ_GAP, "a sequence number skipped" },
    { 0, WRITE, 1, 0, BS, 16 + BS, DISKREP_E_BAD_STATE, "WRITE before HELLO" },
    { 1, RESYNC, 2, 0, BS, 16 + BS, DISKREP_E_BAD_STATE, "RESYNC without a whole-disk copy announced" },
    { 1, WRITE, 2, 0, 3 * BS, 16 + 3 * BS, DISKREP_E_HIDDEN_FULL,
      "WRITE of 3 blocks past a hidden bound of 2" },
};

static void test_secondary_refuses(void)
{
    struct wire w;

    for (size_t i = 0; i < sizeof(io_cases) / sizeof(io_cases[0]); i++) {
        const struct io_case *c = &io_cases[i];

        w = (struct wire){ 0 };
        if (c->hello)
            hello(&w, 1, DISK, 0, 0);
        io(&w, c->type, c->seq, c->off, c->len, c->len_field);
        expect_refused(&w, c->want, c->what);
    }

    w = (struct wire){ 0 };
    hello(&w, 1, DISK, 0, 0);
    io(&w, WRITE, 2, 3 * BS, BS, 16 + BS);
    header(&w, MAGIC, 1, FLUSH, 0, 3);
    {
        char msg[400];
        int code, sent;

        CHECK(feed_secondary(&w, &code, &sent, msg, sizeof(msg)) == 0 && code == DISKREP_E_NONE &&
              sent == -1, "a well-formed HELLO, WRITE, FLUSH, then the end: accepted");
    }

    w = (struct wire){ 0 };
    hello(&w, 1, DISK, 0, 0);
    raw(&w, "\x44\x4b\x52\x50\x01\x00\x02", 7);
    expect_refused(&w, DISKREP_E_TRUNCATED_HEADER, "7 bytes of a header");

    w = (struct wire){ 0 };
    header(&w, 0x12345678, 1, HELLO, 24, 1);
    expect_refused(&w, DISKREP_E_BAD_MAGIC, "bad magic");

    w = (struct wire){ 0 };
    header(&w, MAGIC, 2, HELLO, 24, 1);
    expect_refused(&w, DISKREP_E_BAD_VERSION, "protocol version 2");

    w = (struct wire){ 0 };
    header(&w, MAGIC, 1, 99, 0, 1);
    expect_refused(&w, DISKREP_E_UNKNOWN_TYPE, "message type 99");

    w = (struct wire){ 0 };
    hello(&w, 1, DISK, 0, 0);
    w.b[12] = 1;       /* the header's reserved field */
    expect_refused(&w, DISKREP_E_RESERVED_NONZERO, "reserved header field set");

    w = (struct wire){ 0 };
    hello(&w, 1, DISK, 0, 0);
    header(&w, MAGIC, 1, WRITE, 16 + MAX_IO + 1, 2);
    expect_refused(&w, DISKREP_E_OVERSIZED_LENGTH, "WRITE payload one byte over max_io");

    w = (struct wire){ 0 };
    hello(&w, 1, DISK, 0, 0);
    header(&w, MAGIC, 1, WRITE, 0xffffffffu, 2);
    expect_refused(&w, DISKREP_E_OVERSIZED_LENGTH, "WRITE payload of 4 GiB");

    w = (struct wire){ 0 };
    header(&w, MAGIC, 1, HELLO, 23, 1);
    expect_refused(&w, DISKREP_E_BAD_LENGTH, "HELLO of 23 bytes");

    w = (struct wire){ 0 };
    hello(&w, 1, DISK, 0, 0);
    io(&w, WRITE, 2, 0, BS, 16 + BS);
    io(&w, WRITE, 2, BS, BS, 16 + BS);
    expect_refused(&w, DISKREP_E_SEQ_BACKWARDS, "a sequence number repeated");

    w = (struct wire){ 0 };
    hello(&w, 1, DISK, 0, 0);
    hello(&w, 2, DISK, 0, 0);
    expect_refused(&w, DISKREP_E_BAD_STATE, "a second HELLO");

    w = (struct wire){ 0 };
    hello(&w, 1, DISK, 0, 0);
    header(&w, MAGIC, 1, ACK, 8, 2);
    put(&w, 1, 8);
    expect_refused(&w, DISKREP_E_BAD_STATE, "an ACK sent to the secondary");

    w = (struct wire){ 0 };
    hello(&w, 1, 2 * DISK, 0, 0);
    expect_refused(&w, DISKREP_E_BAD_GEOMETRY, "HELLO for a disk of another size");

    w = (struct wire){ 0 };
    hello(&w, 1, DISK, 4, 0);
    expect_refused(&w, DISKREP_E_RESERVED_NONZERO, "HELLO with an unknown flag");

    w = (struct wire){ 0 };
    hello(&w, 1, DISK, 0, 0);
    error_msg(&w, 2, DISKREP_E_IO, "bad\n\x01", 5);
    expect_refused(&w, DISKREP_E_PEER_ERROR, "an ERROR from the primary");
}

/* The primary, given the bytes a hostile secondary answers with (all there before the
 * call, so that no thread is needed); diskrep_checkpoint's named error after a start. */
static int primary_against(const struct wire *answer, int checkpoint, const char **msg, int *err)
{
    static char keep[400];
    diskrep_dev *dev = diskrep_dev_mem(DISK);
    diskrep *p = dr_test_new(DISKREP_PRIMARY, dev, &cfg);
    const char *text;
    int sv[2], code, rc;

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) || write(sv[1], answer->b, answer->n) != (ssize_t)answer->n)
        exit(2);
    rc = diskrep_start(p, sv[0], sv[0]);
    if (rc == 0 && checkpoint)
        rc = diskrep_checkpoint(p);
    *err = rc ? errno : 0;
    code = rc ? diskrep_last_error(p, &text) : DISKREP_E_NONE;
    snprintf(keep, sizeof(keep), "%s", rc ? text : "");
    *msg = keep;
    close(sv[0]);
    close(sv[1]);
    diskrep_free(p);
    diskrep_dev_close(dev);
    return code;
}

static void test_primary_refuses(void)
{
    struct wire w;
    const char *msg;
    int code, err;

    w = (struct wire){ 0 };
    hello(&w, 1, DISK, 0, 8);
    header(&w, MAGIC, 1, ACK, 8, 2);
    put(&w, 2, 8);
    code = primary_against(&w, 1, &msg, &err);
    CHECK(code == DISKREP_E_NONE, "a well-formed answer and ACK: the checkpoint completes (%s)", msg);

    w = (struct wire){ 0 };
    hello(&w, 1, DISK, 0, 8);
    header(&w, MAGIC, 1, ACK, 8, 2);
    put(&w, 7, 8);
    code = primary_against(&w, 1, &msg, &err);
    CHECK(code == DISKREP_E_BAD_ACK && err == EPROTO, "ACK of another barrier: %s: %s",
          diskrep_error_name(code), msg);

    w = (struct wire){ 0 };
    hello(&w, 1, DISK, 0, 0);
    code = primary_against(&w, 0, &msg, &err);
    CHECK(code == DISKREP_E_BAD_GEOMETRY, "a secondary announcing no hidden room: %s: %s",
          diskrep_error_name(code), msg);

    w = (struct wire){ 0 };
    hello(&w, 1, DISK, 0, 8);
    error_msg(&w, 2, DISKREP_E_IO, "disk", 4);
    code = primary_against(&w, 1, &msg, &err);
    CHECK(code == DISKREP_E_PEER_ERROR && strstr(msg, "io-error") && strstr(msg, "disk"),
          "the secondary's ERROR reaches the caller: %s", msg);

    w = (struct wire){ 0 };
    hello(&w, 1, DISK, 0, 8);
    hello(&w, 1, DISK, 0, 8);
    code = primary_against(&w, 1, &msg, &err);
    CHECK(code == DISKREP_E_SEQ_BACKWARDS, "an answer going backwards: %s: %s",
          diskrep_error_name(code), msg);

    w = (struct wire){ 0 };
    code = primary_against(&w, 0, &msg, &err);
    CHECK(code == DISKREP_E_TIMEOUT && err == ETIMEDOUT, "a silent secondary: %s within %u ms: %s",
          diskrep_error_name(code), cfg.timeout_ms, msg);

    w = (struct wire){ 0 };
    hello(&w, 1, DISK, 0, 8);
    raw(&w, "\x44\x4b\x52\x50", 4);
    code = primary_against(&w, 1, &msg, &err);
    CHECK(code == DISKREP_E_TIMEOUT, "a secondary that stops inside a message: %s: %s",
          diskrep_error_name(code), msg);
}

/* A secondary that answers HELLO, then reads nothing: the primary's guest writes still
 * complete on its disk, forwarding gives up after the timeout instead of hanging, and
 * the checkpoint fails. */
static void test_secondary_stops_reading(void)
{
    struct diskrep_config roomy = cfg;
    diskrep_dev *dev = diskrep_dev_mem(DISK);
    struct wire w = { 0 };
    uint8_t block[MAX_IO];
    const char *msg;
    uint64_t start, ms;
    int sv[2], sndbuf = 4096, ok = 1, rc, err, code;
    diskrep *p;

    roomy.hidden_max_blocks = DISK / BS;
    p = dr_test_new(DISKREP_PRIMARY, dev, &roomy);
    hello(&w, 1, DISK, 0, DISK / BS);
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) ||
        setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) ||
        write(sv[1], w.b, w.n) != (ssize_t)w.n)
        exit(2);
    CHECK(diskrep_start(p, sv[0], sv[0]) == 0, "a primary started toward a secondary that stops reading");
    memset(block, 0x77, sizeof(block));
    start = clock_now_ms();
    /* 8 passes over the disk: far more than the socket holds. */
    for (uint64_t off = 0; off < 8 * (uint64_t)DISK; off += MAX_IO)
        ok &= diskrep_write(p, block, MAX_IO, off % DISK) == 0;
    ms = clock_now_ms() - start;
    CHECK(ok && ms < 3 * cfg.timeout_ms, "the guest's writes complete on the primary's disk in %llu ms",
          (unsigned long long)ms);
    rc = diskrep_checkpoint(p);
    err = errno;
    code = diskrep_last_error(p, &msg);
    CHECK(rc == -1 && err == ETIMEDOUT && code == DISKREP_E_PEER_CLOSED,
          "then the checkpoint fails: %s, %s: %s", diskrep_error_name(code), strerror(err), msg);
    close(sv[0]);
    close(sv[1]);
    diskrep_free(p);
    diskrep_dev_close(dev);
}

int main(void)
{
    test_secondary_refuses();
    test_primary_refuses();
    test_secondary_stops_reading();
    CHECK(!strcmp(diskrep_error_name(DISKREP_E_COUNT), "unknown") &&
          !strcmp(diskrep_error_name(-1), "unknown"), "codes outside the enum are \"unknown\"");
    return test_done();
}
