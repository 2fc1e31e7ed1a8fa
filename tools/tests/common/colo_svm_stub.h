/*
 * libxl's COLO secondary callbacks that would run the SVM (ckpt_secondary_postcopy
 * unpauses it, ckpt_secondary_suspend waits for it to suspend), reduced to the
 * back-channel records they write: the SVM stays paused, so that its memory is what
 * the stream made it.  data is a struct ckpt_secondary.
 */
#ifndef TEST_COLO_SVM_STUB_H
#define TEST_COLO_SVM_STUB_H

int test_colo_postcopy(void *data);
int test_colo_suspend(void *data);

#endif
