/*
 * mw/cache.h - the shared cache: get/set/delete with a TTL.
 *
 * One interface over two backends ([cache] backend):
 *   memory  a bounded in-process LRU (memory_max_entries), the default;
 *   redis   the same LRU in front of a Redis server that every mailward
 *           host of a fleet shares. Reads ask memory, then Redis (and a
 *           Redis hit fills memory with the TTL Redis has left); writes go
 *           to both. Redis keys are redis_prefix + key and always carry a
 *           TTL (SET key value EX ttl).
 *
 * Nothing in the cache is needed for correctness, so the cache never fails
 * a caller: a Redis error is a miss. When Redis cannot be reached (at start
 * or later) one warning is logged, every operation is served by the memory
 * tier alone, and a reconnect is tried on the first operation after a
 * backoff (1 s, doubling to 30 s); success logs one line. Redis connects and
 * commands are bounded by redis_timeout_ms.
 *
 * Keys are C strings (callers build them, e.g. "sts:example.org"); values
 * are bytes (NULs allowed). The cache copies what it is given; values come
 * back appended to a caller's struct mw_buf or, for the asynchronous get, as
 * a pointer valid during the callback only.
 *
 * Thread-safety: the blocking calls (get, set, del, stats) may be used from
 * any number of threads at once (mailward-milter). Blocking calls share one
 * Redis connection, so they queue behind each other for at most one round
 * trip each. The asynchronous calls belong to the one thread that runs the
 * event_base they were given, and every asynchronous call on a cache must
 * use the same event_base.
 */
#ifndef MW_CACHE_H
#define MW_CACHE_H

#include <stddef.h>

#include "mw/buf.h"
#include "mw/config.h"
#include "mw/err.h"

struct event_base;
struct mw_cache;

/* Counters since mw_cache_open() (read by the metrics module). */
struct mw_cache_stats {
    unsigned long long hits;           /* gets answered from memory or Redis */
    unsigned long long misses;         /* gets with no answer (errors included) */
    unsigned long long sets;           /* calls of mw_cache_set*() */
    unsigned long long redis_errors;   /* failed Redis connects and commands */
    unsigned long long redis_outages;  /* times Redis went down (each logged once) */
    unsigned long long memory_entries; /* entries in the in-process tier now */
    int redis_up;                      /* 1 while Redis answers; 0 when down or not used */
};

/* Answer of mw_cache_get_async(): found 1 with val/len (valid during the call only), else 0. */
typedef void mw_cache_cb(void *arg, int found, const void *val, size_t len);

/*
 * Open the cache described by cfg's [cache] section. Fails only on a bad
 * configuration (e.g. an unparsable redis endpoint); an unreachable Redis is
 * not an error (it is logged once and retried later).
 */
struct mw_cache *mw_cache_open(const struct mw_config *cfg, struct mw_err *err);
/*
 * Close the cache and NULL the pointer. Asynchronous gets still pending are
 * answered (as misses, or with their memory hit) before it returns. Must not
 * be called from inside a cache callback, and must come before the
 * event_base given to the asynchronous calls is freed.
 */
void mw_cache_close(struct mw_cache **cp);

/* Blocking get: 1 = hit (value appended to out), 0 = miss or error. */
int mw_cache_get(struct mw_cache *c, const char *key, struct mw_buf *out);
/*
 * Store key for ttl_seconds. A ttl of 0 deletes the key instead, the way a
 * DNS TTL of 0 means "do not cache".
 */
void mw_cache_set(struct mw_cache *c, const char *key, const void *val, size_t len,
                  unsigned int ttl_seconds);
/* Delete key from every tier. */
void mw_cache_del(struct mw_cache *c, const char *key);

/*
 * Non-blocking get for an event loop (mailward-policyd). cb is called
 * exactly once, always from base's loop and never before this function has
 * returned: a memory hit (or a cache without a reachable Redis) is answered
 * on the next loop iteration; a Redis lookup is answered when its reply
 * comes, or as a miss after redis_timeout_ms.
 */
void mw_cache_get_async(struct mw_cache *c, struct event_base *base, const char *key,
                        mw_cache_cb *cb, void *arg);
/*
 * Non-blocking set for an event loop: memory is written at once, the Redis
 * SET is sent on base's loop without waiting for its reply (a failure marks
 * Redis down like any other). Same base rule as mw_cache_get_async().
 */
void mw_cache_set_async(struct mw_cache *c, struct event_base *base, const char *key,
                        const void *val, size_t len, unsigned int ttl_seconds);

/* Copy the counters into out. */
void mw_cache_stats(const struct mw_cache *c, struct mw_cache_stats *out);

#endif
