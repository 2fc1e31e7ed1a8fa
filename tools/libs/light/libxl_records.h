/*
 * libxl-layer records of a checkpointed stream, written and read
 * as libxl does (CHECKPOINT_END on the main stream, CHECKPOINT_STATE on both):
 * 8-byte header {u32 type, u32 length}, body padded to 8.
 */
#ifndef LIBXL_RECORDS_H
#define LIBXL_RECORDS_H

#include <stdint.h>

#define LIBXL_REC_CHECKPOINT_END   4
#define LIBXL_REC_CHECKPOINT_STATE 5
#define COLO_CHECKPOINT_NEW           0
#define COLO_CHECKPOINT_SVM_SUSPENDED 1
#define COLO_CHECKPOINT_SVM_READY     2
#define COLO_CHECKPOINT_SVM_RESUMED   3

int libxl_write_checkpoint_end(int fd);
int libxl_write_checkpoint_state(int fd, uint32_t id);
/* Read one record; 0 on success with type and (for CHECKPOINT_STATE) id. */
int libxl_read_record(int fd, uint32_t *type, uint32_t *id);
/* Read a CHECKPOINT_STATE record and require the given id. */
int libxl_expect_state(int fd, uint32_t id);

#endif
