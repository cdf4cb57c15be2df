/*
 * netstring.c - netstring codec (see mw/netstring.h).
 *
 * Leading zeros are refused (as djb's definition requires), so every
 * payload has exactly one encoding.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>

#include "mw/netstring.h"

#define MW_NETSTRING_DIGITS 10

enum mw_netstring_rc
mw_netstring_parse(const char *buf, size_t len, size_t maxlen, const char **data, size_t *dlen,
                   size_t *used, struct mw_err *err)
{
    size_t n = 0, i;

    for (i = 0; i < len && buf[i] >= '0' && buf[i] <= '9'; i++) {
        if (i == MW_NETSTRING_DIGITS || (i == 1 && buf[0] == '0')) {
            mw_err_set(err, "netstring length malformed");
            return MW_NETSTRING_ERROR;
        }
        n = n * 10 + (size_t)(buf[i] - '0');
        if (n > maxlen) {
            mw_err_set(err, "netstring longer than %zu bytes", maxlen);
            return MW_NETSTRING_ERROR;
        }
    }
    if (i == len)
        return MW_NETSTRING_MORE;
    if (i == 0 || buf[i] != ':') {
        mw_err_set(err, "netstring does not start with LENGTH:");
        return MW_NETSTRING_ERROR;
    }
    i++;
    if (len - i < n + 1)
        return MW_NETSTRING_MORE;
    if (buf[i + n] != ',') {
        mw_err_set(err, "netstring does not end with a comma");
        return MW_NETSTRING_ERROR;
    }
    *data = buf + i;
    *dlen = n;
    *used = i + n + 1;
    return MW_NETSTRING_OK;
}

void
mw_netstring_append(struct mw_buf *out, const void *data, size_t len)
{
    mw_buf_printf(out, "%zu:", len);
    mw_buf_append(out, data, len);
    mw_buf_putc(out, ',');
}
