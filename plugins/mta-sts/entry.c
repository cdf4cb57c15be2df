/*
 * entry.c - the mta-sts plugin's cache values (see entry.h): encode, and
 * decode strictly, since another host may have written the value.
 */
#include "config.h"

#include <string.h>

#include "entry.h"

#define MW_STS_ENTRY_MAGIC "mw-sts1 "

void
mw_sts_entry_encode(const struct mw_sts_entry *e, struct mw_buf *out)
{
    if (!e->has_policy) {
        mw_buf_puts(out, MW_STS_ENTRY_MAGIC "none");
        return;
    }
    mw_buf_printf(out, MW_STS_ENTRY_MAGIC "policy %lld %lld %s\n", e->fetched, e->next_check,
                  e->id);
    mw_buf_append(out, e->body, e->body_len);
}

/* A decimal time at val[*i], then one blank or (last) a newline; advances *i. */
static int
mw_sts_entry_time(const char *val, size_t len, size_t *i, char end, long long *t)
{
    size_t start = *i;

    *t = 0;
    while (*i < len && val[*i] >= '0' && val[*i] <= '9' && *i - start < 11) {
        *t = *t * 10 + (val[*i] - '0');
        (*i)++;
    }
    if (*i == start || *i >= len || val[*i] != end || *t > MW_STS_TIME_MAX)
        return -1;
    (*i)++;
    return 0;
}

int
mw_sts_entry_decode(const char *val, size_t len, struct mw_sts_entry *e, struct mw_err *err)
{
    const size_t mlen = sizeof(MW_STS_ENTRY_MAGIC) - 1;
    size_t i, start;

    memset(e, 0, sizeof(*e));
    if (len < mlen || memcmp(val, MW_STS_ENTRY_MAGIC, mlen) != 0)
        return mw_err_set(err, "not an mta-sts cache entry");
    if (len == mlen + 4 && memcmp(val + mlen, "none", 4) == 0)
        return 0;
    if (len < mlen + 7 || memcmp(val + mlen, "policy ", 7) != 0)
        return mw_err_set(err, "unknown mta-sts cache entry kind");
    i = mlen + 7;
    if (mw_sts_entry_time(val, len, &i, ' ', &e->fetched) < 0 ||
        mw_sts_entry_time(val, len, &i, ' ', &e->next_check) < 0)
        return mw_err_set(err, "bad time in mta-sts cache entry");
    start = i;
    while (i < len && i - start <= MW_STS_ID_MAX &&
           ((val[i] >= '0' && val[i] <= '9') || (val[i] >= 'a' && val[i] <= 'z') ||
            (val[i] >= 'A' && val[i] <= 'Z')))
        i++;
    if (i == start || i - start > MW_STS_ID_MAX || i >= len || val[i] != '\n')
        return mw_err_set(err, "bad id in mta-sts cache entry");
    memcpy(e->id, val + start, i - start);
    e->id[i - start] = '\0';
    e->has_policy = 1;
    e->body = val + i + 1;
    e->body_len = len - i - 1;
    return 0;
}
