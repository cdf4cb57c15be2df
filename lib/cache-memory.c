/*
 * cache-memory.c - the in-process tier of the cache: a bounded LRU
 * (see mw/cache-memory.h).
 *
 * Layout: each entry is one allocation holding its key, a NUL and its value.
 * It sits on a hash chain (hnext) and on the recency list (prev/next, most
 * recently used at the head). The bucket array starts small and doubles when
 * the entries outnumber the buckets, so a large memory_max_entries costs
 * nothing until the entries are really there.
 *
 * Public functions: mw_cache_memory_new, _free, _get, _set, _del, _count,
 * mw_cache_now_ms. Thread-safe (one mutex per table; critical sections are
 * short and never do I/O).
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "mw/alloc.h"
#include "mw/cache-memory.h"
#include "mw/log.h"

#define MW_LRU_MIN_BUCKETS 64

struct mw_lru_entry {
    struct mw_lru_entry *hnext;       /* next on the hash chain */
    struct mw_lru_entry *prev, *next; /* recency list */
    uint64_t hash;
    uint64_t expires_ms;
    size_t klen, vlen;
    char data[]; /* key, NUL, value, NUL */
};

struct mw_cache_memory {
    pthread_mutex_t lock;
    struct mw_lru_entry **buckets;
    size_t nbuckets; /* a power of two */
    size_t count, max;
    struct mw_lru_entry *head, *tail; /* most / least recently used */
    uint64_t seed;
};

uint64_t
mw_cache_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* FNV-1a over the key, started from a random seed and finished with a mixer. */
static uint64_t
mw_lru_hash(const struct mw_cache_memory *m, const char *key, size_t klen)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ m->seed;

    for (size_t i = 0; i < klen; i++) {
        h ^= (unsigned char)key[i];
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

struct mw_cache_memory *
mw_cache_memory_new(size_t max_entries)
{
    struct mw_cache_memory *m = mw_calloc(1, sizeof(*m));

    pthread_mutex_init(&m->lock, NULL);
    m->max = max_entries ? max_entries : 1;
    m->nbuckets = MW_LRU_MIN_BUCKETS;
    m->buckets = mw_calloc(m->nbuckets, sizeof(*m->buckets));
    if (getrandom(&m->seed, sizeof(m->seed), GRND_NONBLOCK) != sizeof(m->seed))
        m->seed = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)m;
    return m;
}

void
mw_cache_memory_free(struct mw_cache_memory **mp)
{
    struct mw_cache_memory *m = *mp;
    struct mw_lru_entry *e, *next;

    if (m == NULL)
        return;
    for (e = m->head; e != NULL; e = next) {
        next = e->next;
        mw_free(&e);
    }
    mw_free(&m->buckets);
    pthread_mutex_destroy(&m->lock);
    mw_free(mp);
}

static void
mw_lru_unlink(struct mw_cache_memory *m, struct mw_lru_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        m->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        m->tail = e->prev;
    e->prev = e->next = NULL;
}

static void
mw_lru_push_head(struct mw_cache_memory *m, struct mw_lru_entry *e)
{
    e->prev = NULL;
    e->next = m->head;
    if (m->head)
        m->head->prev = e;
    m->head = e;
    if (m->tail == NULL)
        m->tail = e;
}

/* The chain slot pointing at key's entry (or the NULL at the chain's end). */
static struct mw_lru_entry **
mw_lru_slot(struct mw_cache_memory *m, const char *key, size_t klen, uint64_t hash)
{
    struct mw_lru_entry **pp = &m->buckets[hash & (m->nbuckets - 1)];

    while (*pp != NULL) {
        struct mw_lru_entry *e = *pp;
        if (e->hash == hash && e->klen == klen && memcmp(e->data, key, klen) == 0)
            break;
        pp = &e->hnext;
    }
    return pp;
}

/* Unhook e from its chain and the recency list, and free it. */
static void
mw_lru_remove(struct mw_cache_memory *m, struct mw_lru_entry *e)
{
    struct mw_lru_entry **pp = mw_lru_slot(m, e->data, e->klen, e->hash);

    if (*pp != e)
        mw_log_panic("cache: entry missing from its hash chain");
    *pp = e->hnext;
    mw_lru_unlink(m, e);
    m->count--;
    mw_free(&e);
}

static void
mw_lru_grow(struct mw_cache_memory *m)
{
    size_t n = m->nbuckets * 2;
    struct mw_lru_entry **b = mw_calloc(n, sizeof(*b));

    for (size_t i = 0; i < m->nbuckets; i++) {
        struct mw_lru_entry *e = m->buckets[i], *next;
        for (; e != NULL; e = next) {
            next = e->hnext;
            e->hnext = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
        }
    }
    mw_free(&m->buckets);
    m->buckets = b;
    m->nbuckets = n;
}

int
mw_cache_memory_get(struct mw_cache_memory *m, const char *key, struct mw_buf *out,
                    uint64_t *ttl_ms)
{
    size_t klen = strlen(key);
    uint64_t hash = mw_lru_hash(m, key, klen);
    uint64_t now = mw_cache_now_ms();
    struct mw_lru_entry *e;
    int found = 0;

    pthread_mutex_lock(&m->lock);
    e = *mw_lru_slot(m, key, klen, hash);
    if (e != NULL && e->expires_ms <= now) {
        mw_lru_remove(m, e);
    } else if (e != NULL) {
        mw_lru_unlink(m, e);
        mw_lru_push_head(m, e);
        mw_buf_append(out, e->data + klen + 1, e->vlen);
        if (ttl_ms != NULL)
            *ttl_ms = e->expires_ms - now;
        found = 1;
    }
    pthread_mutex_unlock(&m->lock);
    return found;
}

void
mw_cache_memory_set(struct mw_cache_memory *m, const char *key, const void *val, size_t len,
                    uint64_t ttl_ms)
{
    size_t klen = strlen(key);
    uint64_t hash = mw_lru_hash(m, key, klen);
    struct mw_lru_entry *e, **pp;

    if (ttl_ms == 0) {
        mw_cache_memory_del(m, key);
        return;
    }
    if (klen > SIZE_MAX - sizeof(*e) - 2 || len > SIZE_MAX - sizeof(*e) - 2 - klen)
        mw_log_panic("cache: entry size overflow");
    e = mw_malloc(sizeof(*e) + klen + len + 2);
    e->hash = hash;
    e->expires_ms = mw_cache_now_ms() + ttl_ms;
    e->klen = klen;
    e->vlen = len;
    memcpy(e->data, key, klen + 1);
    if (len)
        memcpy(e->data + klen + 1, val, len);
    e->data[klen + 1 + len] = '\0';

    pthread_mutex_lock(&m->lock);
    pp = mw_lru_slot(m, key, klen, hash);
    if (*pp != NULL)
        mw_lru_remove(m, *pp);
    while (m->count >= m->max)
        mw_lru_remove(m, m->tail);
    if (m->count >= m->nbuckets && m->nbuckets <= SIZE_MAX / 2 / sizeof(*m->buckets))
        mw_lru_grow(m);
    pp = &m->buckets[hash & (m->nbuckets - 1)];
    e->hnext = *pp;
    *pp = e;
    mw_lru_push_head(m, e);
    m->count++;
    pthread_mutex_unlock(&m->lock);
}

void
mw_cache_memory_del(struct mw_cache_memory *m, const char *key)
{
    size_t klen = strlen(key);
    uint64_t hash = mw_lru_hash(m, key, klen);
    struct mw_lru_entry *e;

    pthread_mutex_lock(&m->lock);
    e = *mw_lru_slot(m, key, klen, hash);
    if (e != NULL)
        mw_lru_remove(m, e);
    pthread_mutex_unlock(&m->lock);
}

size_t
mw_cache_memory_count(struct mw_cache_memory *m)
{
    size_t n;

    pthread_mutex_lock(&m->lock);
    n = m->count;
    pthread_mutex_unlock(&m->lock);
    return n;
}
