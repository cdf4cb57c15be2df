/*
 * redis-target.c - the Redis server to connect to: given, or discovered
 * through Redis Sentinel; and AUTH (see mw/redis-target.h).
 *
 * Every reply is distrusted: a sentinel's address must be an array of two
 * strings that fit an endpoint, with a numeric port; ROLE must be an array
 * whose first element is the string "master".
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "mw/redis-target.h"

#define MW_SENTINEL_SCHEME "sentinel://"

static int
mw_redis_master_name_ok(const char *s, size_t len)
{
    if (len == 0 || len > MW_REDIS_MASTER_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == '-'))
            return 0;
    return 1;
}

/* "HOST:PORT,HOST:PORT" (len bytes at s) into t->sentinels. */
static int
mw_redis_sentinels_parse(const char *spec, const char *s, size_t len, struct mw_redis_target *t,
                         struct mw_err *err)
{
    const char *end = s + len;

    while (s < end) {
        const char *comma = memchr(s, ',', (size_t)(end - s));
        size_t n = comma ? (size_t)(comma - s) : (size_t)(end - s);
        char one[300];
        struct mw_endpoint *ep;

        if (t->nsentinels == MW_REDIS_SENTINELS_MAX)
            return mw_err_set(err, "\"%s\": more than %d sentinels", spec, MW_REDIS_SENTINELS_MAX);
        if (n == 0 || n >= sizeof(one))
            return mw_err_set(err, "\"%s\": empty or overlong sentinel address", spec);
        memcpy(one, s, n);
        one[n] = '\0';
        ep = &t->sentinels[t->nsentinels];
        if (mw_endpoint_parse(one, ep, err) < 0)
            return -1;
        if (ep->is_unix || ep->host[0] == '\0')
            return mw_err_set(err, "\"%s\": a sentinel is HOST:PORT", spec);
        t->nsentinels++;
        s += n + (comma != NULL);
        if (comma != NULL && s == end)
            return mw_err_set(err, "\"%s\": empty sentinel address", spec);
    }
    return 0;
}

int
mw_redis_target_parse(const char *spec, struct mw_redis_target *t, struct mw_err *err)
{
    const char *list, *slash;

    memset(t, 0, sizeof(*t));
    if (strncmp(spec, MW_SENTINEL_SCHEME, strlen(MW_SENTINEL_SCHEME)) != 0) {
        if (mw_endpoint_parse(spec, &t->direct, err) < 0)
            return -1;
        if (!t->direct.is_unix && t->direct.host[0] == '\0')
            return mw_err_set(err, "\"%s\": a Redis server needs a host", spec);
        return 0;
    }
    t->sentinel = 1;
    list = spec + strlen(MW_SENTINEL_SCHEME);
    if ((slash = strrchr(list, '/')) == NULL ||
        !mw_redis_master_name_ok(slash + 1, strlen(slash + 1)))
        return mw_err_set(err,
                          "\"%s\": expected sentinel://HOST:PORT[,HOST:PORT...]/MASTER "
                          "(MASTER: letters, digits, '.', '_', '-')",
                          spec);
    memcpy(t->master, slash + 1, strlen(slash + 1) + 1);
    if (slash == list)
        return mw_err_set(err, "\"%s\": no sentinel address", spec);
    return mw_redis_sentinels_parse(spec, list, (size_t)(slash - list), t, err);
}

int
mw_redis_target_check(const char *spec, struct mw_err *err)
{
    struct mw_redis_target t;

    return mw_redis_target_parse(spec, &t, err);
}

static redisContext *
mw_redis_dial(const struct mw_endpoint *ep, int timeout_ms, struct mw_err *err)
{
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    redisContext *c;

    if (ep->is_unix)
        c = redisConnectUnixWithTimeout(ep->path, tv);
    else
        c = redisConnectWithTimeout(ep->host, atoi(ep->port), tv);
    if (c == NULL) {
        mw_err_set(err, "cannot allocate a connection");
        return NULL;
    }
    if (c->err || redisSetTimeout(c, tv) != REDIS_OK) {
        mw_err_set(err, "%s:%s: %s", ep->host, ep->port, c->errstr);
        redisFree(c);
        return NULL;
    }
    return c;
}

int
mw_redis_auth_send(redisContext *c, const struct mw_redis_auth *auth, struct mw_err *err)
{
    redisReply *reply;
    int rc = 0;

    if (auth == NULL || auth->password == NULL || *auth->password == '\0')
        return 0;
    if (auth->username != NULL && *auth->username != '\0')
        reply = redisCommand(c, "AUTH %s %s", auth->username, auth->password);
    else
        reply = redisCommand(c, "AUTH %s", auth->password);
    if (reply == NULL)
        return mw_err_set(err, "AUTH: %s", c->errstr);
    if (reply->type == REDIS_REPLY_ERROR)
        rc = mw_err_set(err, "AUTH refused: %.200s", reply->str);
    freeReplyObject(reply);
    return rc;
}

/* One sentinel's answer for the master's address into ep; 0 or -1 with err. */
static int
mw_redis_ask_sentinel(const struct mw_endpoint *s, const char *master, int timeout_ms,
                      struct mw_endpoint *ep, struct mw_err *err)
{
    redisContext *c = mw_redis_dial(s, timeout_ms, err);
    redisReply *r;
    int rc = -1;

    if (c == NULL)
        return -1;
    r = redisCommand(c, "SENTINEL get-master-addr-by-name %s", master);
    if (r == NULL) {
        mw_err_set(err, "sentinel %s:%s: %s", s->host, s->port, c->errstr);
    } else if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
               r->element[0]->type != REDIS_REPLY_STRING ||
               r->element[1]->type != REDIS_REPLY_STRING) {
        mw_err_set(err, "sentinel %s:%s does not know master %s", s->host, s->port, master);
    } else {
        char spec[300];
        const redisReply *h = r->element[0], *p = r->element[1];

        if (h->len == 0 || h->len > 255 || p->len > 5 || memchr(h->str, '\0', h->len) ||
            strspn(p->str, "0123456789") != p->len)
            mw_err_set(err, "sentinel %s:%s: malformed address for %s", s->host, s->port, master);
        else if (snprintf(spec, sizeof(spec), strchr(h->str, ':') ? "[%s]:%s" : "%s:%s", h->str,
                          p->str) > 0 &&
                 mw_endpoint_parse(spec, ep, err) == 0)
            rc = 0;
    }
    if (r != NULL)
        freeReplyObject(r);
    redisFree(c);
    return rc;
}

/* Connect to ep, authenticate and check that it is a master. */
static int
mw_redis_check_master(const struct mw_endpoint *ep, int timeout_ms,
                      const struct mw_redis_auth *auth, struct mw_err *err)
{
    redisContext *c = mw_redis_dial(ep, timeout_ms, err);
    redisReply *r;
    int rc = -1;

    if (c == NULL)
        return -1;
    if (mw_redis_auth_send(c, auth, err) < 0) {
        redisFree(c);
        return -1;
    }
    r = redisCommand(c, "ROLE");
    if (r == NULL)
        mw_err_set(err, "%s:%s: ROLE: %s", ep->host, ep->port, c->errstr);
    else if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
             r->element[0]->type != REDIS_REPLY_STRING)
        mw_err_set(err, "%s:%s: malformed ROLE reply", ep->host, ep->port);
    else if (strcmp(r->element[0]->str, "master") != 0)
        mw_err_set(err, "%s:%s is a %.20s, not the master (failover in progress?)", ep->host,
                   ep->port, r->element[0]->str);
    else
        rc = 0;
    if (r != NULL)
        freeReplyObject(r);
    redisFree(c);
    return rc;
}

int
mw_redis_target_resolve(const struct mw_redis_target *t, int timeout_ms,
                        const struct mw_redis_auth *auth, struct mw_endpoint *ep,
                        struct mw_err *err)
{
    if (!t->sentinel) {
        *ep = t->direct;
        return 0;
    }
    mw_err_set(err, "no sentinel configured");
    for (size_t i = 0; i < t->nsentinels; i++)
        if (mw_redis_ask_sentinel(&t->sentinels[i], t->master, timeout_ms, ep, err) == 0)
            return mw_redis_check_master(ep, timeout_ms, auth, err);
    return -1;
}
