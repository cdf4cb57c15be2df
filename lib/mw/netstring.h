/*
 * mw/netstring.h - netstrings ("LEN:DATA,"), the framing of Postfix socketmap.
 *
 * mw_netstring_parse() is a pure function over a byte buffer that may hold a
 * partial netstring: it says OK (one complete netstring found), MORE (need
 * more bytes) or ERROR (framing is broken; err says why). A length over
 * maxlen is an error as soon as the digits show it, before any data arrives.
 */
#ifndef MW_NETSTRING_H
#define MW_NETSTRING_H

#include <stddef.h>

#include "mw/buf.h"
#include "mw/err.h"

enum mw_netstring_rc {
    MW_NETSTRING_ERROR = -1,
    MW_NETSTRING_MORE = 0,
    MW_NETSTRING_OK = 1,
};

/*
 * Look for one netstring at the start of buf[0..len). On OK, *data and *dlen are
 * the payload (inside buf) and *used the bytes to consume.
 */
enum mw_netstring_rc mw_netstring_parse(const char *buf, size_t len, size_t maxlen,
                                        const char **data, size_t *dlen, size_t *used,
                                        struct mw_err *err);
/* Append data as a netstring to out. */
void mw_netstring_append(struct mw_buf *out, const void *data, size_t len);

#endif
