/*
 * cache.c - the shared cache: memory tier in front of an optional Redis
 * tier (see mw/cache.h).
 *
 * Public functions: mw_cache_open, mw_cache_close, mw_cache_get,
 * mw_cache_set, mw_cache_del, mw_cache_get_async, mw_cache_set_async,
 * mw_cache_stats.
 *
 * This file only combines the tiers (cache-memory.c, cache-redis.c) and
 * keeps the counters. A Redis hit is copied into memory with the TTL Redis
 * reports, so a fleet member that learns a value from Redis forgets it when
 * the member that stored it would have (a key without a TTL, which mailward
 * never writes, is not copied).
 *
 * Asynchronous answers that are known at once (a memory hit, Redis skipped)
 * are delivered through an activated libevent event, so the caller's
 * callback never runs inside its own call to mw_cache_get_async(). Such
 * pending answers are kept on a list so mw_cache_close() can deliver and
 * free them. The list is touched only by the event-loop thread.
 *
 * Memory: the cache copies keys and values; the caller owns what it passes
 * in and what it gets back in its struct mw_buf. Thread-safety: see
 * mw/cache.h (counters are atomic; each tier locks itself).
 */
#include "config.h"

#include <stdatomic.h>
#include <string.h>

#include <event2/event.h>

#include "mw/alloc.h"
#include "mw/cache-memory.h"
#include "mw/cache-redis.h"
#include "mw/cache.h"
#include "mw/log.h"

struct mw_cache_areq;

struct mw_cache {
    struct mw_cache_memory *mem;
    struct mw_cache_redis *redis; /* NULL with backend = memory */
    atomic_ullong hits, misses, sets;
    struct mw_cache_areq *deferred; /* answers waiting for the loop */
};

/* One asynchronous get, from mw_cache_get_async() to its callback. */
struct mw_cache_areq {
    struct mw_cache *c;
    struct event_base *base;
    struct mw_cache_areq *prev, *next; /* on c->deferred while ev is active */
    mw_cache_cb *cb;
    void *arg;
    char *key;
    struct event *ev;
    int in_call; /* still inside mw_cache_get_async(): answer later */
    int found;
    struct mw_buf val;
};

struct mw_cache *
mw_cache_open(const struct mw_config *cfg, struct mw_err *err)
{
    struct mw_cache *c = mw_calloc(1, sizeof(*c));
    const char *backend = mw_config_str(cfg, "cache", "backend");

    atomic_init(&c->hits, 0);
    atomic_init(&c->misses, 0);
    atomic_init(&c->sets, 0);
    if (strcmp(backend, "redis") == 0) {
        struct mw_err why;
        struct mw_redis_auth auth = {mw_config_str(cfg, "cache", "redis_username"),
                                     mw_config_str(cfg, "cache", "redis_password")};
        c->redis = mw_cache_redis_open(
            mw_config_str(cfg, "cache", "redis"), mw_config_str(cfg, "cache", "redis_prefix"),
            (int)mw_config_int(cfg, "cache", "redis_timeout_ms"), &auth, &why);
        if (c->redis == NULL) {
            mw_err_set(err, "%s: [cache] redis: %s", mw_config_where(cfg, "cache", "redis"),
                       why.text);
            mw_free(&c);
            return NULL;
        }
    } else if (strcmp(backend, "memory") != 0) {
        mw_err_set(err, "%s: [cache] backend: unknown backend \"%s\"",
                   mw_config_where(cfg, "cache", "backend"), backend);
        mw_free(&c);
        return NULL;
    }
    c->mem = mw_cache_memory_new((size_t)mw_config_int(cfg, "cache", "memory_max_entries"));
    return c;
}

static void
mw_cache_areq_free(struct mw_cache_areq **qp)
{
    struct mw_cache_areq *q = *qp;

    if (q->ev != NULL)
        event_free(q->ev);
    mw_buf_release(&q->val);
    mw_free(&q->key);
    mw_free(qp);
}

/* Count, call back and free. */
static void
mw_cache_areq_finish(struct mw_cache_areq *q)
{
    atomic_fetch_add(q->found ? &q->c->hits : &q->c->misses, 1);
    q->cb(q->arg, q->found, q->found ? q->val.data : NULL, q->found ? q->val.len : 0);
    mw_cache_areq_free(&q);
}

static void
mw_cache_areq_unlink(struct mw_cache_areq *q)
{
    if (q->prev)
        q->prev->next = q->next;
    else
        q->c->deferred = q->next;
    if (q->next)
        q->next->prev = q->prev;
    q->prev = q->next = NULL;
}

static void
mw_cache_on_deferred(evutil_socket_t fd, short what, void *arg)
{
    struct mw_cache_areq *q = arg;

    (void)fd;
    (void)what;
    mw_cache_areq_unlink(q);
    mw_cache_areq_finish(q);
}

/* Deliver q's answer on the next loop iteration. */
static void
mw_cache_areq_defer(struct mw_cache_areq *q)
{
    q->ev = event_new(q->base, -1, 0, mw_cache_on_deferred, q);
    if (q->ev == NULL)
        mw_log_panic("cache: cannot allocate an event");
    q->next = q->c->deferred;
    if (q->next)
        q->next->prev = q;
    q->c->deferred = q;
    event_active(q->ev, EV_TIMEOUT, 0);
}

static void
mw_cache_on_redis(void *arg, int rc, const void *val, size_t len, uint64_t ttl_ms)
{
    struct mw_cache_areq *q = arg;

    if (rc == 1) {
        q->found = 1;
        mw_buf_append(&q->val, val, len);
        if (ttl_ms > 0)
            mw_cache_memory_set(q->c->mem, q->key, val, len, ttl_ms);
    }
    if (q->in_call)
        mw_cache_areq_defer(q);
    else
        mw_cache_areq_finish(q);
}

void
mw_cache_get_async(struct mw_cache *c, struct event_base *base, const char *key, mw_cache_cb *cb,
                   void *arg)
{
    struct mw_cache_areq *q = mw_calloc(1, sizeof(*q));

    q->c = c;
    q->base = base;
    q->cb = cb;
    q->arg = arg;
    q->in_call = 1;
    mw_buf_init(&q->val);
    if (mw_cache_memory_get(c->mem, key, &q->val, NULL)) {
        q->found = 1;
        mw_cache_areq_defer(q);
    } else if (c->redis != NULL) {
        q->key = mw_strdup(key);
        mw_cache_redis_get_async(c->redis, base, key, mw_cache_on_redis, q);
    } else {
        mw_cache_areq_defer(q);
    }
    /* q is still alive: while in_call is set nothing finishes it. */
    q->in_call = 0;
}

void
mw_cache_set_async(struct mw_cache *c, struct event_base *base, const char *key, const void *val,
                   size_t len, unsigned int ttl_seconds)
{
    atomic_fetch_add(&c->sets, 1);
    mw_cache_memory_set(c->mem, key, val, len, (uint64_t)ttl_seconds * 1000u);
    if (c->redis != NULL)
        mw_cache_redis_set_async(c->redis, base, key, val, len, ttl_seconds);
}

int
mw_cache_get(struct mw_cache *c, const char *key, struct mw_buf *out)
{
    size_t start = out->len;
    uint64_t ttl_ms;

    if (mw_cache_memory_get(c->mem, key, out, NULL)) {
        atomic_fetch_add(&c->hits, 1);
        return 1;
    }
    if (c->redis != NULL && mw_cache_redis_get(c->redis, key, out, &ttl_ms) == 1) {
        if (ttl_ms > 0)
            mw_cache_memory_set(c->mem, key, out->data + start, out->len - start, ttl_ms);
        atomic_fetch_add(&c->hits, 1);
        return 1;
    }
    atomic_fetch_add(&c->misses, 1);
    return 0;
}

void
mw_cache_set(struct mw_cache *c, const char *key, const void *val, size_t len,
             unsigned int ttl_seconds)
{
    atomic_fetch_add(&c->sets, 1);
    mw_cache_memory_set(c->mem, key, val, len, (uint64_t)ttl_seconds * 1000u);
    if (c->redis != NULL)
        mw_cache_redis_set(c->redis, key, val, len, ttl_seconds);
}

void
mw_cache_del(struct mw_cache *c, const char *key)
{
    mw_cache_memory_del(c->mem, key);
    if (c->redis != NULL)
        mw_cache_redis_del(c->redis, key);
}

void
mw_cache_stats(const struct mw_cache *c, struct mw_cache_stats *out)
{
    memset(out, 0, sizeof(*out));
    out->hits = atomic_load(&c->hits);
    out->misses = atomic_load(&c->misses);
    out->sets = atomic_load(&c->sets);
    out->memory_entries = mw_cache_memory_count(c->mem);
    if (c->redis != NULL)
        mw_cache_redis_stats(c->redis, &out->redis_errors, &out->redis_outages, &out->redis_up);
}

void
mw_cache_close(struct mw_cache **cp)
{
    struct mw_cache *c = *cp;

    if (c == NULL)
        return;
    /* Pending Redis lookups are answered (as misses) while the tiers still exist. */
    mw_cache_redis_close(&c->redis);
    while (c->deferred != NULL) {
        struct mw_cache_areq *q = c->deferred;
        mw_cache_areq_unlink(q);
        mw_cache_areq_finish(q);
    }
    mw_cache_memory_free(&c->mem);
    mw_free(cp);
}
