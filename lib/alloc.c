/*
 * alloc.c - the one allocator (see mw/alloc.h).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mw/alloc.h"
#include "mw/log.h"

void *
mw_malloc(size_t size)
{
    void *p = malloc(size ? size : 1);

    if (p == NULL)
        mw_log_panic("out of memory allocating %zu bytes", size);
    return p;
}

void *
mw_calloc(size_t nmemb, size_t size)
{
    void *p;

    if (nmemb == 0 || size == 0)
        nmemb = size = 1;
    p = calloc(nmemb, size);
    if (p == NULL)
        mw_log_panic("out of memory allocating %zu x %zu bytes", nmemb, size);
    return p;
}

void *
mw_reallocarray(void *ptr, size_t nmemb, size_t size)
{
    void *p;

    if (size != 0 && nmemb > SIZE_MAX / size)
        mw_log_panic("allocation overflow: %zu x %zu bytes", nmemb, size);
    p = realloc(ptr, nmemb != 0 && size != 0 ? nmemb * size : 1);
    if (p == NULL)
        mw_log_panic("out of memory reallocating %zu x %zu bytes", nmemb, size);
    return p;
}

char *
mw_strdup(const char *s)
{
    return s ? mw_strndup(s, strlen(s)) : NULL;
}

char *
mw_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p;

    if (len == SIZE_MAX)
        mw_log_panic("allocation overflow in strndup");
    p = mw_malloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

void
mw_free_impl(void *p)
{
    free(p);
}

void
mw_wipe(void *p, size_t len)
{
    volatile unsigned char *v = p;

    while (len--)
        *v++ = 0;
}
