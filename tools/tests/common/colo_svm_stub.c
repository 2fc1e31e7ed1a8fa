#include "colo_svm_stub.h"

#include "libxl_checkpoint.h"
#include "libxl_records.h"

int test_colo_postcopy(void *data)
{
    struct ckpt_secondary *s = data;

    if (libxl__write_checkpoint_state(s->back_fd, COLO_CHECKPOINT_SVM_READY) ||
        libxl__write_checkpoint_state(s->back_fd, COLO_CHECKPOINT_SVM_RESUMED))
        return 2;
    return 1;
}

int test_colo_suspend(void *data)
{
    struct ckpt_secondary *s = data;

    return libxl__write_checkpoint_state(s->back_fd, COLO_CHECKPOINT_SVM_SUSPENDED) ? 2 : 1;
}
