/*
 * mw/cache-redis.h - the Redis tier of the cache, with hiredis.
 *
 * Knows nothing of the memory tier: mw/cache.h combines the two. Keys given
 * here are without the prefix; this tier adds it. Values are binary-safe.
 *
 * Up/down state: a failed connect or command marks Redis down (one warning,
 * counted as an outage); while down every call returns at once without I/O
 * (-1, "not answered") until the backoff has passed (1 s, doubling to 30 s);
 * the first call after it tries again, and a success logs one line that
 * Redis is back. Blocking calls use one connection with redis_timeout_ms for
 * connect and commands; asynchronous calls use one hiredis async connection
 * on the caller's event_base, with a timer per lookup.
 *
 * Thread-safety: blocking calls from any thread; asynchronous calls only
 * from the thread running the event_base (one base per tier).
 */
#ifndef MW_CACHE_REDIS_H
#define MW_CACHE_REDIS_H

#include <stddef.h>
#include <stdint.h>

#include "mw/buf.h"
#include "mw/err.h"
#include "mw/redis-target.h"

struct event_base;
struct mw_cache_redis;

/*
 * Answer of an asynchronous get: rc 1 = hit (val/len valid during the call,
 * ttl_ms = PTTL left, 0 if unknown), 0 = miss, -1 = not answered (down,
 * timeout, error, or the tier is being closed).
 */
typedef void mw_cache_redis_cb(void *arg, int rc, const void *val, size_t len, uint64_t ttl_ms);

/*
 * spec is "HOST:PORT", "unix:/PATH" or "sentinel://HOST:PORT[,...]/MASTER"
 * (mw/redis-target.h); auth (may be NULL) is copied. Fails only if spec
 * does not parse; an unreachable server is logged once and retried later.
 */
struct mw_cache_redis *mw_cache_redis_open(const char *spec, const char *prefix, int timeout_ms,
                                           const struct mw_redis_auth *auth, struct mw_err *err);
/* Close both connections; pending asynchronous gets are answered with -1. */
void mw_cache_redis_close(struct mw_cache_redis **rp);

/* 1 = hit (value appended to out, *ttl_ms = time left or 0), 0 = miss, -1 = not answered. */
int mw_cache_redis_get(struct mw_cache_redis *r, const char *key, struct mw_buf *out,
                       uint64_t *ttl_ms);
/* SET prefix+key val EX ttl_seconds; a ttl of 0 deletes the key instead. */
void mw_cache_redis_set(struct mw_cache_redis *r, const char *key, const void *val, size_t len,
                        unsigned int ttl_seconds);
/* DEL prefix+key. */
void mw_cache_redis_del(struct mw_cache_redis *r, const char *key);

/* Asynchronous get; cb may be called before this returns (-1 when Redis is skipped). */
void mw_cache_redis_get_async(struct mw_cache_redis *r, struct event_base *base, const char *key,
                              mw_cache_redis_cb *cb, void *arg);
/* Asynchronous SET (or DEL for ttl 0) without waiting for the reply. */
void mw_cache_redis_set_async(struct mw_cache_redis *r, struct event_base *base, const char *key,
                              const void *val, size_t len, unsigned int ttl_seconds);

/* Counters: failed operations, outages (down transitions), and whether Redis is up now. */
void mw_cache_redis_stats(struct mw_cache_redis *r, unsigned long long *errors,
                          unsigned long long *outages, int *up);

#endif
