/*
 * fuzz-mta-sts-txt.c - libFuzzer target for the _mta-sts TXT record parser
 * (plugins/mta-sts/policy.c): the input is one record, and also, split at
 * NUL bytes, the list of records a lookup returned (discovery picks the one
 * v=STSv1 record). A found id must be 1 to 32 letters and digits.
 */
// fuzz-sources: plugins/mta-sts/policy.c
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mta-sts/policy.h"
#include "mw/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_id(const char *id)
{
    size_t n = strlen(id);

    if (n == 0 || n > MW_STS_ID_MAX ||
        strspn(id, "abcdefghijklmnopqrstuvwxyz"
                   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != n)
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int opened;
    char id[MW_STS_ID_MAX + 1];
    struct mw_buf recs[8];
    struct mw_err err;
    size_t n = 0, start = 0;

    if (!opened) {
        mw_log_open("fuzz-mta-sts-txt", 0);
        opened = 1;
    }
    if (mw_sts_txt_parse((const char *)data, size, id, &err) == 0)
        check_id(id);
    for (size_t i = 0; i <= size && n < 8; i++)
        if (i == size || data[i] == '\0') {
            mw_buf_init(&recs[n]);
            mw_buf_append(&recs[n++], data + start, i - start);
            start = i + 1;
        }
    if (mw_sts_txt_pick(recs, n, id, &err) == 0)
        check_id(id);
    for (size_t i = 0; i < n; i++)
        mw_buf_release(&recs[i]);
    return 0;
}
