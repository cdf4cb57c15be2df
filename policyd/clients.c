/*
 * clients.c - open connections per client address (see clients.h).
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "clients.h"
#include "mw/alloc.h"

#define MW_CLIENTS_BUCKETS 1024 /* a power of two */

struct mw_client {
    struct mw_client *next;
    size_t n;
    char host[];
};

struct mw_clients {
    struct mw_client *bucket[MW_CLIENTS_BUCKETS];
};

static size_t
mw_clients_hash(const char *host)
{
    uint32_t h = 2166136261u; /* FNV-1a */

    for (; *host != '\0'; host++) {
        h ^= (unsigned char)*host;
        h *= 16777619u;
    }
    return h & (MW_CLIENTS_BUCKETS - 1);
}

static struct mw_client **
mw_clients_find(const struct mw_clients *t, const char *host)
{
    struct mw_client *const *p = &t->bucket[mw_clients_hash(host)];

    while (*p != NULL && strcmp((*p)->host, host) != 0)
        p = &(*p)->next;
    return (struct mw_client **)p;
}

struct mw_clients *
mw_clients_new(void)
{
    return mw_calloc(1, sizeof(struct mw_clients));
}

size_t
mw_clients_add(struct mw_clients *t, const char *host)
{
    struct mw_client **p = mw_clients_find(t, host);

    if (*p == NULL) {
        size_t len = strlen(host);

        *p = mw_calloc(1, sizeof(**p) + len + 1);
        memcpy((*p)->host, host, len + 1);
    }
    return ++(*p)->n;
}

void
mw_clients_remove(struct mw_clients *t, const char *host)
{
    struct mw_client **p = mw_clients_find(t, host);
    struct mw_client *c = *p;

    if (c == NULL || --c->n > 0)
        return;
    *p = c->next;
    mw_free(&c);
}

size_t
mw_clients_count(const struct mw_clients *t, const char *host)
{
    struct mw_client *const *p = mw_clients_find(t, host);

    return *p != NULL ? (*p)->n : 0;
}

void
mw_clients_free(struct mw_clients **tp)
{
    struct mw_clients *t = *tp;

    if (t == NULL)
        return;
    for (size_t i = 0; i < MW_CLIENTS_BUCKETS; i++) {
        while (t->bucket[i] != NULL) {
            struct mw_client *c = t->bucket[i];

            t->bucket[i] = c->next;
            mw_free(&c);
        }
    }
    mw_free(tp);
}
