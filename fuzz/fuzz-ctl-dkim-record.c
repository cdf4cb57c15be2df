/*
 * fuzz-ctl-dkim-record.c - libFuzzer target for the DKIM key record parser
 * of "mailwardctl check --selector" (ctl/dkim-record.c). A parsed key
 * type is 1 to 31 bytes, and p holds base64 characters only.
 */
// fuzz-sources: ctl/dkim-record.c
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../ctl/dkim-record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ck_dkim_rec r;
    struct mw_err why;

    if (ck_dkim_rec_parse((const char *)data, size, &r, &why) < 0)
        return 0;
    if (r.k[0] == '\0' || strlen(r.k) >= sizeof(r.k))
        abort();
    if (r.p != NULL &&
        strspn(r.p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") !=
            strlen(r.p))
        abort();
    ck_dkim_rec_release(&r);
    return 0;
}
