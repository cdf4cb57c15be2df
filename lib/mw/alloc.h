/*
 * mw/alloc.h - the one allocator: it never returns NULL.
 *
 * Every allocation in mailward goes through these functions. On exhaustion
 * they log and abort: a mail filter that cannot allocate cannot make a safe
 * decision, and Postfix's milter_default_action (tempfail) keeps the mail.
 * Sizes are checked for overflow before any multiplication.
 *
 * mw_free(&p) frees and sets p to NULL, so a use after free is a NULL
 * dereference instead of an exploitable bug.
 *
 * Thread-safe.
 */
#ifndef MW_ALLOC_H
#define MW_ALLOC_H

#include <stddef.h>

/* malloc that aborts on failure; size 0 is treated as 1. */
void *mw_malloc(size_t size);
/* calloc(nmemb, size) that aborts on failure or overflow. */
void *mw_calloc(size_t nmemb, size_t size);
/* realloc(ptr, nmemb * size) that aborts on failure or overflow. */
void *mw_reallocarray(void *ptr, size_t nmemb, size_t size);
/* strdup / strndup that abort on failure. mw_strdup(NULL) returns NULL. */
char *mw_strdup(const char *s);
char *mw_strndup(const char *s, size_t n);
/* Free *pp and set it to NULL. */
#define mw_free(pp)                                                                                \
    do {                                                                                           \
        mw_free_impl(*(pp));                                                                       \
        *(pp) = NULL;                                                                              \
    } while (0)
void mw_free_impl(void *p);
/* Overwrite len bytes that held a secret; not optimised away. */
void mw_wipe(void *p, size_t len);

#endif
