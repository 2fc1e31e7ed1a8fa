/*
 * libxl_utils.h, libxl_uuid.h and the logger convention: lookups and qualifiers, exact
 * reads and writes (EPROTO on a short file), UUIDs, and every message of the library
 * reaching the logger the caller passed to libxl_ctx_alloc (none on stderr).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest.h"
#include "libxl.h"
#include "libxl_utils.h"
#include "test.h"

/* A logger that keeps what it is given. */
struct capture {
    xentoollog_logger lg;
    char text[8192];
    size_t len;
    unsigned int messages, errors;
};

static void capture_vmessage(xentoollog_logger *lg, xentoollog_level level, int errnoval,
                             const char *context, const char *format, va_list al)
{
    struct capture *c = (struct capture *)lg;
    int n;

    c->messages++;
    if (level >= XTL_ERROR)
        c->errors++;
    n = snprintf(c->text + c->len, sizeof(c->text) - c->len, "%s|%d|%d|",
                 context ? context : "-", (int)level, errnoval);
    if (n > 0 && (size_t)n < sizeof(c->text) - c->len)
        c->len += (size_t)n;
    n = vsnprintf(c->text + c->len, sizeof(c->text) - c->len, format, al);
    if (n > 0 && (size_t)n < sizeof(c->text) - c->len - 1) {
        c->len += (size_t)n;
        c->text[c->len++] = '\n';
        c->text[c->len] = 0;
    }
}

/* Everything written to stderr while fn runs. */
static size_t stderr_bytes_during(void (*fn)(libxl_ctx *), libxl_ctx *ctx)
{
    char path[] = "/tmp/libxl-utils-err-XXXXXX";
    int fd = mkstemp(path), saved = dup(2);
    off_t n;

    unlink(path);
    fflush(stderr);
    dup2(fd, 2);
    fn(ctx);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    n = lseek(fd, 0, SEEK_END);
    close(fd);
    return n > 0 ? (size_t)n : 0;
}

static void failing_calls(libxl_ctx *ctx)
{
    char buf[16];
    int fd = test_bytes_fd("abc", 3);
    uint32_t domid;

    libxl_read_exactly(ctx, fd, buf, sizeof(buf), "short-file", "a header");
    close(fd);
    libxl_domain_pause(ctx, 4242, NULL);
    libxl_domain_destroy(ctx, 4243, NULL);
    libxl_name_to_domid(ctx, "no-such-domain", &domid);
}

int main(void)
{
    struct capture cap = { .lg = { .vmessage = capture_vmessage } };
    libxl_ctx *ctx;
    xc_interface *xch;
    libxl_uuid u, v;
    char buf[16], text[64];
    uint32_t domid = 0, g;
    int fd, rc, pipes[2];
    size_t leaked;

    test_sim_dir();
    rc = libxl_ctx_alloc(&ctx, LIBXL_VERSION, 0, &cap.lg);
    CHECK(rc == 0, "libxl_ctx_alloc with the caller's logger");
    if (rc)
        return test_done();

    /* ---- the logger ---- */
    leaked = stderr_bytes_during(failing_calls, ctx);
    CHECK(cap.errors >= 3, "the failures' errors reach the caller's logger (%u of %u messages)",
          cap.errors, cap.messages);
    CHECK(leaked == 0, "nothing of them goes to stderr (%zu bytes did)", leaked);
    CHECK(strstr(cap.text, "libxl|") && strstr(cap.text, "short-file"),
          "messages carry their context and name the file: %.200s", cap.text);
    CHECK(strstr(libxl_ctx_last_error(ctx), "4243") != NULL,
          "the last error is kept for libxl_ctx_last_error: '%s'", libxl_ctx_last_error(ctx));

    /* ---- exact reads and writes ---- */
    fd = test_bytes_fd("0123456789", 10);
    CHECK(libxl_read_exactly(ctx, fd, buf, 10, "f", NULL) == 0 && !memcmp(buf, "0123456789", 10),
          "libxl_read_exactly reads the whole buffer");
    CHECK(libxl_read_exactly(ctx, fd, buf, 1, "f", "more") == EPROTO,
          "at end of file it returns EPROTO");
    close(fd);
    fd = test_bytes_fd("", 0);
    CHECK(libxl_write_exactly(ctx, fd, "xyz", 3, "f", NULL) == 0,
          "libxl_write_exactly writes");
    CHECK(libxl_read_exactly(ctx, fd, buf, -1, "f", NULL) == EINVAL,
          "a negative size is EINVAL, not a huge read");
    close(fd);
    CHECK(libxl_write_exactly(ctx, -1, "x", 1, "bad-fd", NULL) == EBADF,
          "a bad fd returns its errno (EBADF)");
    CHECK(libxl_pipe(ctx, pipes) == 0 && write(pipes[1], "p", 1) == 1 &&
          libxl_read_exactly(ctx, pipes[0], buf, 1, "pipe", NULL) == 0 && buf[0] == 'p',
          "libxl_pipe gives a working pipe");
    close(pipes[0]);
    close(pipes[1]);

    /* ---- lookups and qualifiers ---- */
    xch = test_open();
    g = test_create_guest(xch, "utils-g", "incrementer", 256, 0, 100);
    CHECK(libxl_name_to_domid(ctx, "utils-g", &domid) == 0 && domid == g,
          "libxl_name_to_domid finds the guest (%u)", g);
    CHECK(libxl_name_to_domid(ctx, "utils-none", &domid) == ERROR_INVAL,
          "a missing name is ERROR_INVAL");
    CHECK(libxl_domain_qualifier_to_domid(ctx, "utils-g", &domid) == 0 && domid == g,
          "a qualifier that is a name is looked up");
    CHECK(libxl_domain_qualifier_to_domid(ctx, "77", &domid) == 0 && domid == 77,
          "a qualifier of digits is a domid, as upstream");
    CHECK(libxl_domain_qualifier_to_domid(ctx, "99999999999", &domid) == ERROR_INVAL,
          "a domid beyond 32 bits is refused");
    {
        char *name = libxl_domid_to_name(ctx, g), *d0 = libxl_domid_to_name(ctx, 0);

        CHECK(name && !strcmp(name, "utils-g"), "libxl_domid_to_name: '%s'", name ? name : "");
        CHECK(d0 && !strcmp(d0, "Domain-0"), "domain 0 is Domain-0");
        CHECK(libxl_domid_to_name(ctx, 4244) == NULL, "a missing domid has no name");
        free(name);
        free(d0);
    }
    {
        libxl_dominfo info;

        libxl_dominfo_init(&info);
        CHECK(info.shutdown_reason == LIBXL_SHUTDOWN_REASON_UNKNOWN &&
              info.domain_type == LIBXL_DOMAIN_TYPE_INVALID,
              "libxl_dominfo_init: reason UNKNOWN, type INVALID, as upstream");
        CHECK(libxl_domain_info(ctx, &info, g) == 0 && info.domid == g && !info.shutdown &&
              info.shutdown_reason == LIBXL_SHUTDOWN_REASON_UNKNOWN,
              "libxl_domain_info of a running guest: no shutdown reason");
        libxl_dominfo_dispose(&info);
    }

    /* ---- UUIDs ---- */
    CHECK(libxl_uuid_from_string(&u, "0123abcd-4567-89ef-ABCD-0123456789ab") == 0,
          "a UUID parses (either case)");
    snprintf(text, sizeof(text), LIBXL_UUID_FMT, LIBXL_UUID_BYTES(u));
    CHECK(!strcmp(text, "0123abcd-4567-89ef-abcd-0123456789ab"),
          "LIBXL_UUID_FMT prints it back: %s", text);
    CHECK(libxl_uuid_from_string(&v, "0123abcd-4567-89ef-ABCD-0123456789a") != 0 &&
          libxl_uuid_from_string(&v, "0123abcd+4567-89ef-ABCD-0123456789ab") != 0 &&
          libxl_uuid_from_string(&v, "0123abcd-4567-89ef-ABCD-0123456789ag") != 0 &&
          libxl_uuid_from_string(&v, "0123abcd-4567-89ef-ABCD-0123456789abc") != 0,
          "short, misplaced dash, non-hex and long strings are refused");
    libxl_uuid_copy(ctx, &v, &u);
    CHECK(!libxl_uuid_compare(&u, &v) && !libxl_uuid_is_nil(&v), "copy and compare");
    libxl_uuid_clear(&v);
    CHECK(libxl_uuid_is_nil(&v), "clear gives the nil UUID");
    libxl_uuid_generate(&v);
    CHECK(!libxl_uuid_is_nil(&v) && (v.uuid[6] >> 4) == 4 && (v.uuid[8] >> 6) == 2,
          "a generated UUID is a random (version 4) one");

    libxl_domain_destroy(ctx, g, NULL);
    libxl_ctx_free(ctx);
    xhv_close(xch);
    return test_done();
}
