/*
 * A proxy between the two ends of a checkpointed stream or of the back channel, in a
 * forked process: it forwards whole records, counts them, and for fault injection in
 * tests empties dirty pfn lists or cuts the channel (both directions, as a dead peer
 * or link does) after a number of whole records or in the middle of the next one.
 * The local COLO and Remus pairs (colo_local.c, remus_local.c) put it on their
 * channels.
 */
#ifndef RECORD_PROXY_H
#define RECORD_PROXY_H

#include <stddef.h>
#include <sys/types.h>

struct record_proxy_spec {
    size_t raw_prefix;        /* bytes forwarded as they are first (the stream headers) */
    int drop_dirty_list;      /* empty every dirty pfn list */
    int cut;                  /* cut after cut_records whole records ... */
    unsigned int cut_records;
    int cut_inside;           /* ... in the middle of the next record */
};

/* Puts a proxy between *fd (this side's end) and the peer: *fd becomes the end of a new
 * socketpair whose other end the proxy forwards to the peer (to_peer) or from it.  When
 * the channel ends the proxy writes the count of whole records it forwarded to count_fd
 * (a uint32_t).  The child closes close_in_child[0..nclose) but *fd.  Returns its pid,
 * -1. */
pid_t record_proxy_start(int *fd, int to_peer, const struct record_proxy_spec *sp,
                         int count_fd, const int *close_in_child, int nclose);

/* Reads a count a proxy wrote; -1 if there is none. */
int record_proxy_count(int fd, unsigned int *n);

#endif
