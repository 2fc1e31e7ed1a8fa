/*
 * Seed capture for the fuzz corpora (gen-seeds.sh): a Remus or COLO primary saving a
 * small running guest into a file, with libxl's records around the engine's as on the
 * wire (ckpt_primary_*).  COLO's back channel is played from a file written beforehand
 * with what a secondary sends (its states and a dirty pfn list per checkpoint), so that
 * no secondary needs to run; the main stream is the primary's own.
 *
 *   fuzz-capture remus|colo PAGES CHECKPOINTS MAIN_OUT [BACK_OUT]
 *
 * BACK_OUT (COLO): the back channel that was played, a seed for the primary's reader.
 * remus-compress|colo-compress: the primary offers checkpoint compression and the played
 * back channel accepts it (Remus: the answer alone; COLO: before its first dirty list),
 * so that the checkpoints after the answer carry COMPRESSED_PAGE_DATA.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest.h"
#include "libxl_checkpoint.h"
#include "libxl_records.h"
#include "sr_common.h"

static int write_answer(int fd)
{
    struct sr_checkpoint_compress a = { .codecs = CKPT_CODEC_XOR_RLE };

    return libxl__write_rec(fd, REC_TYPE_CHECKPOINT_COMPRESS, &a, sizeof(a));
}

static int write_back_channel(const char *path, unsigned int checkpoints, uint64_t p2m_size,
                              int colo, int compress)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    /* Pages the secondary dirtied (B): its first two and the last below the two
     * special pages; every other checkpoint only the first. */
    const uint64_t pfns[] = { 0, 1, p2m_size - 3 };

    if (fd < 0)
        return -1;
    if (!colo)
        return write_answer(fd) || lseek(fd, 0, SEEK_SET) ? -1 : fd;
    for (unsigned int n = 1; n <= checkpoints; n++) {
        if (n > 1 && (libxl__write_checkpoint_state(fd, COLO_CHECKPOINT_SVM_SUSPENDED) ||
                      (n == 2 && compress && write_answer(fd)) ||
                      libxl__write_rec(fd, REC_TYPE_CHECKPOINT_DIRTY_PFN_LIST, pfns,
                                       (uint32_t)(n % 2 ? sizeof(pfns) : 8))))
            return -1;
        if (libxl__write_checkpoint_state(fd, COLO_CHECKPOINT_SVM_READY) ||
            libxl__write_checkpoint_state(fd, COLO_CHECKPOINT_SVM_RESUMED))
            return -1;
    }
    return lseek(fd, 0, SEEK_SET) ? -1 : fd;
}

int main(int argc, char **argv)
{
    xc_interface *xch;
    uint32_t domid;
    xhv_dominfo_t info;
    unsigned int pages, checkpoints;
    int colo, compress, main_fd, back_fd = -1, rc;
    char tmp[] = "/tmp/fuzz-capture-back.XXXXXX";

    if (argc < 5 || (strncmp(argv[1], "remus", 5) && strncmp(argv[1], "colo", 4))) {
        fprintf(stderr, "usage: fuzz-capture remus|colo|remus-compress|colo-compress PAGES "
                "CHECKPOINTS MAIN_OUT [BACK_OUT]\n");
        return 2;
    }
    colo = !strncmp(argv[1], "colo", 4);
    compress = strstr(argv[1], "-compress") != NULL;
    pages = (unsigned int)strtoul(argv[2], NULL, 0);
    checkpoints = (unsigned int)strtoul(argv[3], NULL, 0);
    xch = test_open();
    domid = test_create_guest(xch, "seed", "incrementer", pages, 7, 20000);
    usleep(100000);   /* let the guest dirty some memory */
    if (xhv_domain_info(xch, domid, &info))
        return 1;
    main_fd = open(argv[4], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (main_fd < 0) {
        perror(argv[4]);
        return 1;
    }
    if (colo || compress) {
        const char *back = argc > 5 ? argv[5] : NULL;

        if (!back) {
            int t = mkstemp(tmp);

            if (t < 0)
                return 1;
            close(t);
            back = tmp;
        }
        back_fd = write_back_channel(back, checkpoints, info.p2m_size, colo, compress);
        if (back == tmp)
            unlink(tmp);
        if (back_fd < 0) {
            perror("back channel");
            return 1;
        }
    }
    struct ckpt_primary p = { .xch = xch, .domid = domid, .main_fd = main_fd,
                              .recv_fd = back_fd, .colo = colo, .interval_ms = 20,
                              .max_checkpoints = checkpoints };
    struct save_callbacks cb = { .suspend = ckpt_primary_suspend,
                                 .postcopy = ckpt_primary_postcopy,
                                 .checkpoint = ckpt_primary_checkpoint,
                                 .wait_checkpoint = colo ? ckpt_primary_wait_checkpoint : NULL,
                                 .checkpoint_compress = compress, .data = &p };

    rc = xc_domain_save(xch, main_fd, domid, XCFLAGS_LIVE, &cb,
                        colo ? XC_STREAM_COLO : XC_STREAM_REMUS, back_fd);
    if (rc || p.checkpoints != checkpoints) {
        fprintf(stderr, "fuzz-capture: save rc %d after %u checkpoints: %s\n", rc,
                p.checkpoints, p.err[0] ? p.err : strerror(errno));
        return 1;
    }
    xhv_domain_destroy(xch, domid);
    return 0;
}
