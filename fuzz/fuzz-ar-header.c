/*
 * fuzz-ar-header.c - libFuzzer target for milter/ar.c: the authserv-id of
 * an Authentication-Results header value, as a sender controls it.
 * Build and run: see fuzz/README.md.
 */
// fuzz-sources: milter/ar.c
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../milter/ar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mw_buf id;
    struct mw_err err;

    mw_buf_init(&id);
    if (mw_ar_authserv_id((const char *)data, size, &id, &err) == 0) {
        /* An id is never empty, never longer than the input, never holds a NUL. */
        if (id.len == 0 || id.len > size || strlen(id.data) != id.len)
            abort();
    }
    mw_buf_release(&id);
    return 0;
}
