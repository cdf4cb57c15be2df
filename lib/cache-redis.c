/*
 * cache-redis.c - the Redis tier of the cache (see mw/cache-redis.h).
 *
 * Public functions: mw_cache_redis_open, _close, _get, _set, _del,
 * _get_async, _set_async, _stats.
 *
 * Two locks, always taken in this order: conn_lock serialises the blocking
 * connection (held across one round trip, bounded by the timeout);
 * state_lock guards the up/down state and the counters (held for a few
 * instructions, never across I/O), so the event loop never waits for a
 * milter thread's round trip.
 *
 * Why Redis is skipped entirely while down, instead of trying each time:
 * with Redis unreachable every attempt costs up to redis_timeout_ms, which
 * the MTA would feel on every message. One attempt per backoff interval
 * bounds that cost, and the in-process cache answers in the meantime.
 *
 * hiredis 0.14 has no timeouts in its async API, so each asynchronous
 * lookup arms a libevent timer; when it fires the lookup is answered as
 * "not answered" and the async connection is dropped (which makes hiredis
 * call every pending reply callback with a NULL reply). Memory handed to
 * hiredis callbacks (struct mw_redis_areq) is freed by the last callback
 * that refers to it: GET and PTTL are sent together, so two callbacks.
 *
 * Where to connect is decided at each (re)connect (mw/redis-target.h): the
 * configured server, or the master Sentinel names now. A retry after an
 * outage always starts with fresh connections, so losing the master, a
 * READONLY reply from a demoted one, or any failover is followed by asking
 * the sentinels again after the backoff. AUTH is the first command of
 * every connection when redis_password is set.
 */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libevent.h>

#include "mw/alloc.h"
#include "mw/cache-memory.h"
#include "mw/cache-redis.h"
#include "mw/log.h"
#include "mw/net.h"
#include "mw/redis-target.h"

#define MW_REDIS_BACKOFF_MIN_MS 1000
#define MW_REDIS_BACKOFF_MAX_MS 30000

struct mw_cache_redis {
    struct mw_redis_target target;
    char *username, *password; /* "" when unset */
    char *spec;                /* as configured, for log lines */
    char *prefix;
    size_t prefix_len;
    int timeout_ms;

    pthread_mutex_t conn_lock;
    redisContext *ctx; /* blocking connection, NULL when not connected */

    pthread_mutex_t state_lock;
    int up;
    uint64_t retry_at_ms;    /* while down: first moment to try again */
    unsigned int backoff_ms; /* the wait after the next failed retry */
    unsigned long long errors, outages;
    char master[300]; /* sentinel mode: the master last connected to, for log lines */

    /* Event-loop side, only touched from the thread running abase. */
    struct event_base *abase;
    redisAsyncContext *actx;
    int closing;
};

/* One asynchronous GET+PTTL, shared by its two hiredis callbacks and its timer. */
struct mw_redis_areq {
    struct mw_cache_redis *r;
    mw_cache_redis_cb *cb;
    void *arg;
    struct event *timer;
    int pending; /* hiredis callbacks still to come */
    int answered;
    int rc; /* the GET's outcome: 1 hit, 0 miss, -1 failed */
    struct mw_buf val;
};

enum mw_redis_try { MW_REDIS_SKIP, MW_REDIS_UP, MW_REDIS_RETRY };

/* May this operation use Redis now? A retry moves the next one further away. */
static enum mw_redis_try
mw_redis_may_try(struct mw_cache_redis *r)
{
    enum mw_redis_try t = MW_REDIS_SKIP;
    uint64_t now = mw_cache_now_ms();

    pthread_mutex_lock(&r->state_lock);
    if (r->up) {
        t = MW_REDIS_UP;
    } else if (now >= r->retry_at_ms) {
        t = MW_REDIS_RETRY;
        r->retry_at_ms = now + r->backoff_ms;
        r->backoff_ms *= 2;
        if (r->backoff_ms > MW_REDIS_BACKOFF_MAX_MS)
            r->backoff_ms = MW_REDIS_BACKOFF_MAX_MS;
    }
    pthread_mutex_unlock(&r->state_lock);
    return t;
}

static int
mw_redis_is_up(struct mw_cache_redis *r)
{
    int up;

    pthread_mutex_lock(&r->state_lock);
    up = r->up;
    pthread_mutex_unlock(&r->state_lock);
    return up;
}

/* A failure. The first one of an outage is logged; the rest are only counted. */
static void
mw_redis_mark_down(struct mw_cache_redis *r, const char *why)
{
    pthread_mutex_lock(&r->state_lock);
    r->errors++;
    if (r->up) {
        r->up = 0;
        r->outages++;
        r->retry_at_ms = mw_cache_now_ms() + MW_REDIS_BACKOFF_MIN_MS;
        r->backoff_ms = 2 * MW_REDIS_BACKOFF_MIN_MS;
        mw_log_warn("redis %s unreachable: %s; serving from the in-process cache", r->spec,
                    why && *why ? why : "unknown error");
    } else {
        mw_log_debug("redis %s still unreachable: %s", r->spec, why ? why : "unknown error");
    }
    pthread_mutex_unlock(&r->state_lock);
}

static void
mw_redis_mark_up(struct mw_cache_redis *r)
{
    pthread_mutex_lock(&r->state_lock);
    if (!r->up) {
        r->up = 1;
        mw_log_info("redis %s is reachable again; using it as the shared cache", r->spec);
    }
    pthread_mutex_unlock(&r->state_lock);
}

/* Is this error reply a sign that the server cannot serve us (down), or about one key? */
static int
mw_redis_reply_is_outage(const redisReply *reply)
{
    return reply->type == REDIS_REPLY_ERROR && strncmp(reply->str, "WRONGTYPE", 9) != 0;
}

/* The server to connect to now (the master, with sentinels); 0, or -1 marked down. */
static int
mw_redis_endpoint(struct mw_cache_redis *r, struct mw_endpoint *ep)
{
    struct mw_redis_auth auth = {r->username, r->password};
    struct mw_err err;
    char now[300];

    if (mw_redis_target_resolve(&r->target, r->timeout_ms, &auth, ep, &err) < 0) {
        mw_redis_mark_down(r, err.text);
        return -1;
    }
    if (!r->target.sentinel)
        return 0;
    snprintf(now, sizeof(now), "%s:%s", ep->host, ep->port);
    pthread_mutex_lock(&r->state_lock);
    if (strcmp(now, r->master) != 0) {
        mw_log_info("redis sentinel: master %s is %s", r->target.master, now);
        memcpy(r->master, now, sizeof(now));
    }
    pthread_mutex_unlock(&r->state_lock);
    return 0;
}

/* Connect the blocking context; conn_lock held. */
static int
mw_redis_connect(struct mw_cache_redis *r)
{
    struct timeval tv = {r->timeout_ms / 1000, (r->timeout_ms % 1000) * 1000};
    struct mw_redis_auth auth = {r->username, r->password};
    struct mw_endpoint ep;
    struct mw_err err;
    redisContext *ctx;

    if (mw_redis_endpoint(r, &ep) < 0)
        return -1;
    if (ep.is_unix)
        ctx = redisConnectUnixWithTimeout(ep.path, tv);
    else
        ctx = redisConnectWithTimeout(ep.host, atoi(ep.port), tv);
    if (ctx == NULL) {
        mw_redis_mark_down(r, "cannot allocate a connection");
        return -1;
    }
    if (ctx->err || redisSetTimeout(ctx, tv) != REDIS_OK) {
        mw_redis_mark_down(r, ctx->errstr);
        redisFree(ctx);
        return -1;
    }
    if (mw_redis_auth_send(ctx, &auth, &err) < 0) {
        mw_redis_mark_down(r, err.text);
        redisFree(ctx);
        return -1;
    }
    r->ctx = ctx;
    return 0;
}

/*
 * Take conn_lock and make sure the blocking connection exists, unless Redis
 * is to be skipped. Returns 0 with conn_lock held, or -1 without it.
 */
static int
mw_redis_begin(struct mw_cache_redis *r)
{
    enum mw_redis_try t = mw_redis_may_try(r);

    if (t == MW_REDIS_SKIP)
        return -1;
    pthread_mutex_lock(&r->conn_lock);
    /* A retry starts afresh: the old connection may be to a server that died. */
    if (t == MW_REDIS_RETRY && r->ctx != NULL) {
        redisFree(r->ctx);
        r->ctx = NULL;
    }
    /* Another thread may have found Redis down while this one waited. */
    if ((t == MW_REDIS_UP && !mw_redis_is_up(r)) || (r->ctx == NULL && mw_redis_connect(r) < 0)) {
        pthread_mutex_unlock(&r->conn_lock);
        return -1;
    }
    return 0;
}

/* The blocking connection failed: drop it and mark Redis down; conn_lock held. */
static void
mw_redis_conn_failed(struct mw_cache_redis *r)
{
    mw_redis_mark_down(r, r->ctx->errstr);
    redisFree(r->ctx);
    r->ctx = NULL;
}

static void
mw_redis_key(struct mw_cache_redis *r, const char *key, struct mw_buf *k)
{
    mw_buf_init(k);
    mw_buf_append(k, r->prefix, r->prefix_len);
    mw_buf_puts(k, key);
}

struct mw_cache_redis *
mw_cache_redis_open(const char *spec, const char *prefix, int timeout_ms,
                    const struct mw_redis_auth *auth, struct mw_err *err)
{
    struct mw_cache_redis *r = mw_calloc(1, sizeof(*r));

    if (mw_redis_target_parse(spec, &r->target, err) < 0) {
        mw_free(&r);
        return NULL;
    }
    r->username = mw_strdup(auth && auth->username ? auth->username : "");
    r->password = mw_strdup(auth && auth->password ? auth->password : "");
    r->spec = mw_strdup(spec);
    r->prefix = mw_strdup(prefix);
    r->prefix_len = strlen(prefix);
    r->timeout_ms = timeout_ms > 0 ? timeout_ms : 1;
    pthread_mutex_init(&r->conn_lock, NULL);
    pthread_mutex_init(&r->state_lock, NULL);
    r->up = 1;
    r->backoff_ms = MW_REDIS_BACKOFF_MIN_MS;
    /* Connect now, so an outage at start-up is reported at start-up. */
    if (mw_redis_begin(r) == 0)
        pthread_mutex_unlock(&r->conn_lock);
    return r;
}

void
mw_cache_redis_close(struct mw_cache_redis **rp)
{
    struct mw_cache_redis *r = *rp;

    if (r == NULL)
        return;
    r->closing = 1;
    if (r->actx != NULL) {
        redisAsyncContext *ac = r->actx;
        r->actx = NULL;
        redisAsyncFree(ac);
    }
    if (r->ctx != NULL)
        redisFree(r->ctx);
    pthread_mutex_destroy(&r->conn_lock);
    pthread_mutex_destroy(&r->state_lock);
    mw_free(&r->spec);
    mw_free(&r->prefix);
    mw_free(&r->username);
    mw_free(&r->password);
    mw_free(rp);
}

/* Read the GET and PTTL replies of a pipelined lookup; conn_lock held. */
static int
mw_redis_read_get(struct mw_cache_redis *r, struct mw_buf *out, uint64_t *ttl_ms)
{
    redisReply *get = NULL, *pttl = NULL;
    int rc = -1;

    if (redisGetReply(r->ctx, (void **)&get) != REDIS_OK ||
        redisGetReply(r->ctx, (void **)&pttl) != REDIS_OK) {
        mw_redis_conn_failed(r);
    } else if (get->type == REDIS_REPLY_STRING) {
        mw_buf_append(out, get->str, get->len);
        *ttl_ms =
            pttl->type == REDIS_REPLY_INTEGER && pttl->integer > 0 ? (uint64_t)pttl->integer : 0;
        rc = 1;
    } else if (get->type == REDIS_REPLY_NIL) {
        rc = 0;
    } else if (mw_redis_reply_is_outage(get)) {
        mw_redis_mark_down(r, get->str);
    } else {
        pthread_mutex_lock(&r->state_lock);
        r->errors++;
        pthread_mutex_unlock(&r->state_lock);
    }
    if (get != NULL)
        freeReplyObject(get);
    if (pttl != NULL)
        freeReplyObject(pttl);
    return rc;
}

int
mw_cache_redis_get(struct mw_cache_redis *r, const char *key, struct mw_buf *out, uint64_t *ttl_ms)
{
    struct mw_buf k;
    int rc;

    *ttl_ms = 0;
    if (mw_redis_begin(r) < 0)
        return -1;
    mw_redis_key(r, key, &k);
    if (redisAppendCommand(r->ctx, "GET %b", k.data, k.len) != REDIS_OK ||
        redisAppendCommand(r->ctx, "PTTL %b", k.data, k.len) != REDIS_OK) {
        mw_redis_conn_failed(r);
        rc = -1;
    } else {
        rc = mw_redis_read_get(r, out, ttl_ms);
    }
    if (rc >= 0)
        mw_redis_mark_up(r);
    pthread_mutex_unlock(&r->conn_lock);
    mw_buf_release(&k);
    return rc;
}

/* Run one command whose reply is only checked for failure. */
static void
mw_redis_simple(struct mw_cache_redis *r, const char *fmt, ...)
{
    redisReply *reply;
    va_list ap;

    if (mw_redis_begin(r) < 0)
        return;
    va_start(ap, fmt);
    reply = redisvCommand(r->ctx, fmt, ap);
    va_end(ap);
    if (reply == NULL) {
        mw_redis_conn_failed(r);
    } else {
        if (mw_redis_reply_is_outage(reply))
            mw_redis_mark_down(r, reply->str);
        else
            mw_redis_mark_up(r);
        freeReplyObject(reply);
    }
    pthread_mutex_unlock(&r->conn_lock);
}

void
mw_cache_redis_set(struct mw_cache_redis *r, const char *key, const void *val, size_t len,
                   unsigned int ttl_seconds)
{
    struct mw_buf k;

    mw_redis_key(r, key, &k);
    if (ttl_seconds == 0)
        mw_redis_simple(r, "DEL %b", k.data, k.len);
    else
        mw_redis_simple(r, "SET %b %b EX %u", k.data, k.len, val, len, ttl_seconds);
    mw_buf_release(&k);
}

void
mw_cache_redis_del(struct mw_cache_redis *r, const char *key)
{
    struct mw_buf k;

    mw_redis_key(r, key, &k);
    mw_redis_simple(r, "DEL %b", k.data, k.len);
    mw_buf_release(&k);
}

void
mw_cache_redis_stats(struct mw_cache_redis *r, unsigned long long *errors,
                     unsigned long long *outages, int *up)
{
    pthread_mutex_lock(&r->state_lock);
    *errors = r->errors;
    *outages = r->outages;
    *up = r->up;
    pthread_mutex_unlock(&r->state_lock);
}

/*
 * The asynchronous side.
 */

static void
mw_redis_on_connect(const redisAsyncContext *ac, int status)
{
    struct mw_cache_redis *r = ac->data;

    if (status == REDIS_OK)
        return;
    /* hiredis frees the context after this callback and fails its commands. */
    if (r->actx == ac)
        r->actx = NULL;
    if (!r->closing)
        mw_redis_mark_down(r, ac->errstr);
}

static void
mw_redis_on_disconnect(const redisAsyncContext *ac, int status)
{
    struct mw_cache_redis *r = ac->data;

    if (r->actx == ac)
        r->actx = NULL;
    if (status != REDIS_OK && !r->closing)
        mw_redis_mark_down(r, ac->errstr);
}

/* Drop the async connection; hiredis answers its pending commands with NULL. */
static void
mw_redis_async_drop(struct mw_cache_redis *r)
{
    redisAsyncContext *ac = r->actx;

    if (ac == NULL)
        return;
    r->actx = NULL;
    redisAsyncFree(ac);
}

static void
mw_redis_on_auth(redisAsyncContext *ac, void *reply_, void *privdata)
{
    struct mw_cache_redis *r = privdata;
    redisReply *reply = reply_;

    (void)ac;
    if (reply != NULL && reply->type == REDIS_REPLY_ERROR && !r->closing)
        mw_redis_mark_down(r, reply->str);
}

/* AUTH first on a new async connection (pipelined: commands after it wait their turn). */
static int
mw_redis_async_auth(struct mw_cache_redis *r, redisAsyncContext *ac)
{
    if (*r->password == '\0')
        return REDIS_OK;
    if (*r->username != '\0')
        return redisAsyncCommand(ac, mw_redis_on_auth, r, "AUTH %s %s", r->username, r->password);
    return redisAsyncCommand(ac, mw_redis_on_auth, r, "AUTH %s", r->password);
}

/* The async connection on base, made if needed; NULL if Redis is to be skipped. */
static redisAsyncContext *
mw_redis_async_ctx(struct mw_cache_redis *r, struct event_base *base)
{
    enum mw_redis_try t;
    redisAsyncContext *ac;
    struct mw_endpoint ep;

    if (r->abase == NULL)
        r->abase = base;
    else if (r->abase != base)
        mw_log_panic("cache: asynchronous calls on two event bases");
    t = mw_redis_may_try(r);
    if (t == MW_REDIS_SKIP)
        return NULL;
    /* A retry starts afresh: the old connection may be to a dead or demoted master. */
    if (t == MW_REDIS_RETRY)
        mw_redis_async_drop(r);
    if (r->actx != NULL)
        return r->actx;
    if (mw_redis_endpoint(r, &ep) < 0)
        return NULL;
    if (ep.is_unix)
        ac = redisAsyncConnectUnix(ep.path);
    else
        ac = redisAsyncConnect(ep.host, atoi(ep.port));
    if (ac == NULL || ac->err) {
        mw_redis_mark_down(r, ac ? ac->errstr : "cannot allocate a connection");
        if (ac != NULL)
            redisAsyncFree(ac);
        return NULL;
    }
    ac->data = r;
    if (redisLibeventAttach(ac, base) != REDIS_OK) {
        redisAsyncFree(ac);
        mw_redis_mark_down(r, "cannot attach to the event loop");
        return NULL;
    }
    redisAsyncSetConnectCallback(ac, mw_redis_on_connect);
    redisAsyncSetDisconnectCallback(ac, mw_redis_on_disconnect);
    r->actx = ac;
    if (mw_redis_async_auth(r, ac) != REDIS_OK) {
        mw_redis_async_drop(r);
        mw_redis_mark_down(r, "cannot send AUTH");
        return NULL;
    }
    return ac;
}

/* Give the caller its answer, once. */
static void
mw_redis_areq_answer(struct mw_redis_areq *q, int rc, uint64_t ttl_ms)
{
    if (q->answered)
        return;
    q->answered = 1;
    if (q->timer != NULL)
        event_del(q->timer);
    q->cb(q->arg, rc, q->val.data, rc == 1 ? q->val.len : 0, ttl_ms);
}

/* A hiredis callback is done with q; the last one frees it. */
static void
mw_redis_areq_release(struct mw_redis_areq *q)
{
    if (--q->pending > 0)
        return;
    if (q->timer != NULL)
        event_free(q->timer);
    mw_buf_release(&q->val);
    mw_free(&q);
}

static void
mw_redis_on_get(redisAsyncContext *ac, void *reply_, void *privdata)
{
    struct mw_redis_areq *q = privdata;
    redisReply *reply = reply_;

    (void)ac;
    if (reply == NULL) {
        q->rc = -1;
    } else if (reply->type == REDIS_REPLY_STRING) {
        mw_buf_append(&q->val, reply->str, reply->len);
        q->rc = 1;
    } else if (reply->type == REDIS_REPLY_NIL) {
        q->rc = 0;
    } else {
        q->rc = -1;
        if (mw_redis_reply_is_outage(reply))
            mw_redis_mark_down(q->r, reply->str);
    }
    /* Without a reply (connection lost) or a PTTL to wait for, this is the answer. */
    if (reply == NULL || q->pending == 1)
        mw_redis_areq_answer(q, q->rc, 0);
    mw_redis_areq_release(q);
}

static void
mw_redis_on_pttl(redisAsyncContext *ac, void *reply_, void *privdata)
{
    struct mw_redis_areq *q = privdata;
    redisReply *reply = reply_;
    uint64_t ttl_ms = 0;

    (void)ac;
    if (reply != NULL && q->rc >= 0)
        mw_redis_mark_up(q->r);
    if (reply != NULL && reply->type == REDIS_REPLY_INTEGER && reply->integer > 0)
        ttl_ms = (uint64_t)reply->integer;
    mw_redis_areq_answer(q, reply == NULL ? -1 : q->rc, ttl_ms);
    mw_redis_areq_release(q);
}

static void
mw_redis_on_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct mw_redis_areq *q = arg;
    struct mw_cache_redis *r = q->r;

    (void)fd;
    (void)what;
    /*
     * Mark down first, so a lookup the callback starts skips Redis; answer
     * before dropping the connection, because dropping it frees q.
     */
    mw_redis_mark_down(r, "timed out");
    mw_redis_areq_answer(q, -1, 0);
    mw_redis_async_drop(r);
}

void
mw_cache_redis_get_async(struct mw_cache_redis *r, struct event_base *base, const char *key,
                         mw_cache_redis_cb *cb, void *arg)
{
    struct timeval tv = {r->timeout_ms / 1000, (r->timeout_ms % 1000) * 1000};
    redisAsyncContext *ac = mw_redis_async_ctx(r, base);
    struct mw_redis_areq *q;
    struct mw_buf k;

    if (ac == NULL) {
        cb(arg, -1, NULL, 0, 0);
        return;
    }
    q = mw_calloc(1, sizeof(*q));
    q->r = r;
    q->cb = cb;
    q->arg = arg;
    mw_buf_init(&q->val);
    mw_redis_key(r, key, &k);
    if (redisAsyncCommand(ac, mw_redis_on_get, q, "GET %b", k.data, k.len) != REDIS_OK) {
        mw_buf_release(&k);
        mw_buf_release(&q->val);
        mw_free(&q);
        mw_redis_mark_down(r, "cannot send a command");
        cb(arg, -1, NULL, 0, 0);
        return;
    }
    q->pending = 1;
    if (redisAsyncCommand(ac, mw_redis_on_pttl, q, "PTTL %b", k.data, k.len) == REDIS_OK)
        q->pending++;
    else
        q->rc = -1; /* unreachable in practice: the GET went out on the same context */
    mw_buf_release(&k);
    q->timer = evtimer_new(base, mw_redis_on_timeout, q);
    if (q->timer == NULL)
        mw_log_panic("cache: cannot allocate a timer");
    evtimer_add(q->timer, &tv);
}

static void
mw_redis_on_set(redisAsyncContext *ac, void *reply_, void *privdata)
{
    struct mw_cache_redis *r = privdata;
    redisReply *reply = reply_;

    (void)ac;
    if (reply == NULL || r->closing)
        return; /* a lost connection is reported by the disconnect callback */
    if (mw_redis_reply_is_outage(reply))
        mw_redis_mark_down(r, reply->str);
    else
        mw_redis_mark_up(r);
}

void
mw_cache_redis_set_async(struct mw_cache_redis *r, struct event_base *base, const char *key,
                         const void *val, size_t len, unsigned int ttl_seconds)
{
    redisAsyncContext *ac = mw_redis_async_ctx(r, base);
    struct mw_buf k;
    int rc;

    if (ac == NULL)
        return;
    mw_redis_key(r, key, &k);
    if (ttl_seconds == 0)
        rc = redisAsyncCommand(ac, mw_redis_on_set, r, "DEL %b", k.data, k.len);
    else
        rc = redisAsyncCommand(ac, mw_redis_on_set, r, "SET %b %b EX %u", k.data, k.len, val, len,
                               ttl_seconds);
    if (rc != REDIS_OK)
        mw_redis_mark_down(r, "cannot send a command");
    mw_buf_release(&k);
}
