/*
 * dns-cache.c - decoded DNS answers kept in process for their TTL (mw/dns-cache.h).
 *
 * DESIGN
 *   An array of slots, each holding at most one answer and the key it was
 *   stored under (lower-case name without the final dot, and type). The
 *   slot is the key's FNV-1a hash modulo the size; a put replaces the
 *   slot's answer. MW_DNS_CACHE_LOCKS mutexes guard the slots in stripes,
 *   so lookups of different names rarely wait for each other. Every answer
 *   leaves the cache as a deep copy owned by the caller.
 */
#include "config.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "mw/alloc.h"
#include "mw/dns-cache.h"

#define MW_DNS_CACHE_LOCKS 64

struct mw_dns_cache_slot {
    char *name; /* normalised; NULL when empty */
    int qtype;
    double expires;
    struct mw_dns_answer *a;
};

struct mw_dns_cache {
    size_t n;
    struct mw_dns_cache_slot *slot;
    pthread_mutex_t lock[MW_DNS_CACHE_LOCKS];
};

struct mw_dns_cache *
mw_dns_cache_new(size_t entries)
{
    struct mw_dns_cache *c;

    if (entries == 0)
        return NULL;
    c = mw_calloc(1, sizeof(*c));
    c->n = entries;
    c->slot = mw_calloc(entries, sizeof(*c->slot));
    for (size_t i = 0; i < MW_DNS_CACHE_LOCKS; i++)
        pthread_mutex_init(&c->lock[i], NULL);
    return c;
}

static void
mw_dns_cache_clear(struct mw_dns_cache_slot *s)
{
    mw_free(&s->name);
    mw_dns_answer_free(&s->a);
}

void
mw_dns_cache_free(struct mw_dns_cache **cp)
{
    struct mw_dns_cache *c = *cp;

    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++)
        mw_dns_cache_clear(&c->slot[i]);
    for (size_t i = 0; i < MW_DNS_CACHE_LOCKS; i++)
        pthread_mutex_destroy(&c->lock[i]);
    mw_free(&c->slot);
    mw_free(cp);
}

/* The key: name lower-cased, without its final dot, into out; 0, or -1 when too long. */
static int
mw_dns_cache_key(const char *name, char out[MW_DNS_NAME_MAX + 2])
{
    size_t len = strlen(name);

    if (len > 0 && name[len - 1] == '.')
        len--;
    if (len > MW_DNS_NAME_MAX + 1)
        return -1;
    for (size_t i = 0; i < len; i++)
        out[i] = (char)tolower((unsigned char)name[i]);
    out[len] = '\0';
    return 0;
}

static size_t
mw_dns_cache_index(const struct mw_dns_cache *c, const char *key, int qtype)
{
    uint64_t h = 1469598103934665603ULL;

    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    h = (h ^ (uint64_t)(unsigned)qtype) * 1099511628211ULL;
    return (size_t)(h % c->n);
}

struct mw_dns_answer *
mw_dns_cache_get(struct mw_dns_cache *c, const char *name, int qtype, double now)
{
    char key[MW_DNS_NAME_MAX + 2];
    struct mw_dns_cache_slot *s;
    struct mw_dns_answer *copy = NULL;
    size_t i;

    if (c == NULL || mw_dns_cache_key(name, key) < 0)
        return NULL;
    i = mw_dns_cache_index(c, key, qtype);
    s = &c->slot[i];
    pthread_mutex_lock(&c->lock[i % MW_DNS_CACHE_LOCKS]);
    if (s->a != NULL && s->qtype == qtype && strcmp(s->name, key) == 0) {
        if (now < s->expires) {
            double left = s->expires - now;

            copy = mw_dns_answer_copy(s->a);
            copy->ttl = (uint32_t)left; /* whole seconds left, rounded up */
            if ((double)copy->ttl < left)
                copy->ttl++;
        } else {
            mw_dns_cache_clear(s);
        }
    }
    pthread_mutex_unlock(&c->lock[i % MW_DNS_CACHE_LOCKS]);
    if (copy != NULL && strcmp(copy->qname, name) != 0) {
        /* Asked in another spelling: the copy names the question as asked. */
        mw_free(&copy->qname);
        copy->qname = mw_strdup(name);
    }
    return copy;
}

void
mw_dns_cache_put(struct mw_dns_cache *c, const struct mw_dns_answer *a, double now)
{
    char key[MW_DNS_NAME_MAX + 2];
    struct mw_dns_cache_slot *s;
    struct mw_dns_answer *copy;
    size_t i;

    if (c == NULL || a == NULL || a->ttl == 0 || a->dnssec == MW_DNSSEC_BOGUS ||
        (a->status != MW_DNS_OK && a->status != MW_DNS_NXDOMAIN && a->status != MW_DNS_NODATA) ||
        mw_dns_cache_key(a->qname, key) < 0)
        return;
    copy = mw_dns_answer_copy(a);
    i = mw_dns_cache_index(c, key, a->qtype);
    s = &c->slot[i];
    pthread_mutex_lock(&c->lock[i % MW_DNS_CACHE_LOCKS]);
    mw_dns_cache_clear(s);
    s->name = mw_strdup(key);
    s->qtype = a->qtype;
    s->expires = now + (double)a->ttl;
    s->a = copy;
    pthread_mutex_unlock(&c->lock[i % MW_DNS_CACHE_LOCKS]);
}
