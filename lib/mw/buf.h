/*
 * mw/buf.h - the one growable byte/string buffer.
 *
 * A struct mw_buf always holds a NUL after its data, so text can be passed
 * to C string functions; binary data may contain NULs (use len). Appending
 * never truncates: it grows or aborts (mw_alloc). Not thread-safe; a buffer
 * belongs to one thread at a time.
 */
#ifndef MW_BUF_H
#define MW_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct mw_buf {
    char *data; /* NUL-terminated; never NULL after mw_buf_init */
    size_t len; /* bytes used, not counting the NUL */
    size_t cap; /* bytes allocated */
};

/* Initialise an empty buffer (allocates a small block). */
void mw_buf_init(struct mw_buf *b);
/* Release the storage; the buffer may be re-initialised. */
void mw_buf_release(struct mw_buf *b);
/* Empty the buffer, keeping its storage. */
void mw_buf_reset(struct mw_buf *b);
/* Append len bytes. */
void mw_buf_append(struct mw_buf *b, const void *data, size_t len);
/* Append a C string. */
void mw_buf_puts(struct mw_buf *b, const char *s);
/* Append one byte. */
void mw_buf_putc(struct mw_buf *b, int c);
/* Append printf-formatted text. */
void mw_buf_printf(struct mw_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mw_buf_vprintf(struct mw_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Remove the first n bytes (n <= len). */
void mw_buf_consume(struct mw_buf *b, size_t n);
/*
 * Detach and return the data (the caller frees it with mw_free). The buffer
 * is left released: mw_buf_release() on it is a no-op, mw_buf_init() reuses it.
 */
char *mw_buf_steal(struct mw_buf *b);

#endif
