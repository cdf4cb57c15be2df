/*
 * buf.c - the one growable byte/string buffer (see mw/buf.h).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mw/alloc.h"
#include "mw/buf.h"
#include "mw/log.h"

#define MW_BUF_MIN 64

static void
mw_buf_reserve(struct mw_buf *b, size_t extra)
{
    size_t need;

    if (extra > SIZE_MAX - b->len - 1)
        mw_log_panic("buffer size overflow");
    need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    while (b->cap < need)
        b->cap = b->cap > SIZE_MAX / 2 ? need : b->cap * 2;
    b->data = mw_reallocarray(b->data, b->cap, 1);
}

void
mw_buf_init(struct mw_buf *b)
{
    b->cap = MW_BUF_MIN;
    b->len = 0;
    b->data = mw_malloc(b->cap);
    b->data[0] = '\0';
}

void
mw_buf_release(struct mw_buf *b)
{
    mw_free(&b->data);
    b->len = b->cap = 0;
}

void
mw_buf_reset(struct mw_buf *b)
{
    b->len = 0;
    b->data[0] = '\0';
}

void
mw_buf_append(struct mw_buf *b, const void *data, size_t len)
{
    mw_buf_reserve(b, len);
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void
mw_buf_puts(struct mw_buf *b, const char *s)
{
    mw_buf_append(b, s, strlen(s));
}

void
mw_buf_putc(struct mw_buf *b, int c)
{
    char ch = (char)c;

    mw_buf_append(b, &ch, 1);
}

void
mw_buf_vprintf(struct mw_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    int n;

    va_copy(ap2, ap);
    n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        mw_log_panic("vsnprintf failed for format \"%s\"", fmt);
    if ((size_t)n >= b->cap - b->len) {
        mw_buf_reserve(b, (size_t)n);
        n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    }
    b->len += (size_t)n;
}

void
mw_buf_printf(struct mw_buf *b, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    mw_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void
mw_buf_consume(struct mw_buf *b, size_t n)
{
    if (n > b->len)
        mw_log_panic("mw_buf_consume: %zu > %zu", n, b->len);
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    b->data[b->len] = '\0';
}

char *
mw_buf_steal(struct mw_buf *b)
{
    char *p = b->data;

    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
