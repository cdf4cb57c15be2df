/*
 * fuzz-netstring.c - libFuzzer target for the netstring codec
 * (lib/netstring.c) as mailward-policyd's socketmap server drives it: parse
 * netstrings one after another from a buffer (any bytes, bounded length)
 * until MORE or ERROR; every payload must lie inside the buffer and must
 * re-encode to exactly the bytes it was parsed from.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mw/buf.h"
#include "mw/netstring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data, *payload;
    size_t pos = 0, dlen, used;
    struct mw_err err;
    struct mw_buf re;

    mw_buf_init(&re);
    while (pos < size) {
        enum mw_netstring_rc rc =
            mw_netstring_parse(buf + pos, size - pos, 10000, &payload, &dlen, &used, &err);

        if (rc != MW_NETSTRING_OK)
            break;
        if (used == 0 || used > size - pos || payload < buf + pos ||
            payload + dlen > buf + pos + used)
            abort();
        mw_buf_reset(&re);
        mw_netstring_append(&re, payload, dlen);
        if (re.len != used || memcmp(re.data, buf + pos, used) != 0)
            abort();
        pos += used;
    }
    mw_buf_release(&re);
    return 0;
}
