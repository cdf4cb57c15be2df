/*
 * mw/redis-target.h - where the Redis tier connects: one server, or the
 * master that Redis Sentinel names; and the AUTH step of every connection.
 *
 * SYNOPSIS
 *   struct mw_redis_target t;
 *   mw_redis_target_parse("sentinel://10.0.0.1:26379,10.0.0.2:26379/mymaster", &t, &err);
 *   mw_redis_target_resolve(&t, timeout_ms, &auth, &ep, &err);   (before each connect)
 *
 * DESCRIPTION
 *   [cache] redis is "HOST:PORT", "unix:/PATH", or
 *   "sentinel://HOST:PORT[,HOST:PORT...]/MASTER" (at most
 *   MW_REDIS_SENTINELS_MAX sentinels; MASTER is letters, digits, '.', '_'
 *   and '-'). For a plain server, resolving gives that server. For
 *   sentinels, it asks them in order "SENTINEL get-master-addr-by-name
 *   MASTER" until one names an address, connects to that address (AUTH if
 *   credentials are set) and checks that ROLE says "master"; a replica or an
 *   unreachable address is an error, so the caller stays "down" and asks
 *   again after its backoff: that is how a failover is followed. Sentinels
 *   are asked without credentials.
 *
 *   Resolving is a short blocking exchange (each step bounded by
 *   timeout_ms), done only when a connection is (re)made.
 *
 * THREAD-SAFETY
 *   Pure functions of their arguments; any thread.
 */
#ifndef MW_REDIS_TARGET_H
#define MW_REDIS_TARGET_H

#include <stddef.h>

#include "mw/err.h"
#include "mw/net.h"

#define MW_REDIS_SENTINELS_MAX 8
#define MW_REDIS_MASTER_MAX 127

struct redisContext;

struct mw_redis_target {
    int sentinel;              /* 1: ask sentinels[] for the master */
    struct mw_endpoint direct; /* sentinel == 0 */
    struct mw_endpoint sentinels[MW_REDIS_SENTINELS_MAX];
    size_t nsentinels;
    char master[MW_REDIS_MASTER_MAX + 1];
};

/* ACL credentials ([cache] redis_username, redis_password); "" = none. */
struct mw_redis_auth {
    const char *username;
    const char *password;
};

/* Parse [cache] redis; -1 with err if malformed. */
int mw_redis_target_parse(const char *spec, struct mw_redis_target *t, struct mw_err *err);
/* Configuration check wrapper (struct mw_cfg_key.check). */
int mw_redis_target_check(const char *spec, struct mw_err *err);

/* The server to connect to now (see above); 0, or -1 with err. */
int mw_redis_target_resolve(const struct mw_redis_target *t, int timeout_ms,
                            const struct mw_redis_auth *auth, struct mw_endpoint *ep,
                            struct mw_err *err);

/* AUTH on a fresh blocking connection (nothing if no password); 0 or -1 with err. */
int mw_redis_auth_send(struct redisContext *c, const struct mw_redis_auth *auth,
                       struct mw_err *err);

#endif
